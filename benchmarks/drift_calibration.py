"""Run the drift meter over clips in ../shared/media and print per-series levels and events (by hand).

For threshold calibration: real camera clips must stay below every series' `minor` threshold.
Usage: python benchmarks/drift_calibration.py [CLIP ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

import numpy as np

from steadymotion.drift import analyze_video

REAL = ["liveportrait__d6.mp4", "liveportrait__d13.mp4", "mimicmotion__raw_0.mp4", "infinitetalk__videos_2.mp4", "openpose__video.avi",
        "musepose__UBC_fashion_test_91BjuE6irxS.mp4", "unianimate__source_video.mp4", "musepose__dance.mp4"]


def main() -> None:
    names = sys.argv[1:] or REAL
    for name in names:
        t0 = time.perf_counter()
        r = analyze_video(MEDIA / name)
        dt = time.perf_counter() - t0
        print(f"\n## {name}: overall {r.scores['overall']}  ({dt:.1f} s for {r.video['duration_s']:.1f} s of video, "
              f"{dt / max(r.video['duration_s'], 1e-6):.2f}x real time)", flush=True)
        print("   scores: " + ", ".join(f"{k} {v}" for k, v in r.scores.items() if v is not None and k != "overall"))
        for s in r.series:
            v = s.values[np.isfinite(s.values)]
            if v.size:
                print(f"   {s.name:28s} p50 {np.percentile(v, 50):8.3f}  p95 {np.percentile(v, 95):8.3f}  max {v.max():8.3f}  (minor {s.spec.minor:g})")
        for e in r.events:
            print(f"   EVENT {e.kind:9s} {e.severity:6s} {e.start_s:6.2f}-{e.end_s:6.2f}  {e.detail}")


if __name__ == "__main__":
    main()
