"""Detection rates of `extract_pose` on every video in ../shared/media (run by hand).

Prints, per clip: frames, fps, body / hands / face coverage, hand swaps fixed, longest body gap,
and extraction speed. Usage: python benchmarks/detection_rates.py [--json OUT.json]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

import numpy as np

from steadymotion.errors import NoPersonError
from steadymotion.pose.extract import extract_pose



def longest_gap_s(present: np.ndarray, times: np.ndarray) -> float:
    best, start = 0.0, None
    for i, p in enumerate(present):
        if not p and start is None:
            start = i
        if (p or i == len(present) - 1) and start is not None:
            end = i if p else i + 1
            best = max(best, float(times[min(end, len(times) - 1)] - times[start]))
            start = None
    return best


def main() -> None:
    rows = []
    videos = sorted(p for p in MEDIA.iterdir() if p.suffix in (".mp4", ".avi"))
    for v in videos:
        t0 = time.perf_counter()
        try:
            seq = extract_pose(v)
        except NoPersonError:
            rows.append({"clip": v.name, "error": "no person"})
            print(f"{v.name:62s} no person found")
            continue
        dt = time.perf_counter() - t0
        cov = seq.coverage()
        row = {
            "clip": v.name, "frames": len(seq), "fps": float(seq.fps), "size": list(seq.size),
            **{k: round(100 * x, 1) for k, x in cov.items()},
            "hand_swaps": seq.meta.get("hand_swaps_repaired", 0),
            "longest_body_gap_s": round(longest_gap_s(seq.body_present, seq.times), 2),
            "seconds": round(dt, 1), "fps_extract": round(len(seq) / dt, 1),
        }
        rows.append(row)
        print(f"{v.name:62s} {len(seq):5d} fr  body {row['body']:5.1f}%  hands {row['hands']:5.1f}% "
              f"(L {row['left_hand']:5.1f} R {row['right_hand']:5.1f})  face {row['face']:5.1f}%  "
              f"gap {row['longest_body_gap_s']:.2f}s  swaps {row['hand_swaps']:3d}  {row['fps_extract']:5.1f} fps", flush=True)
    if "--json" in sys.argv:
        Path(sys.argv[sys.argv.index("--json") + 1]).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
