"""Self-reenactment table: every real full- and half-body clip in ../shared/media, first frame driven
by the clip itself, scored against the real frames beside the frozen-first-frame baseline.

Run by hand: ``.venv/bin/python benchmarks/bench_reenact.py [--keep DIR]``. Prints one row per clip:
grey SSIM and PSNR over the region where the person moves (ours vs frozen), the median limb
direction error on frames where a limb moved, and the output's lag behind the reference in frames.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

from steadymotion.pipelines.reenact import self_reenactment  # noqa: E402

CLIPS = ["unianimate__source_video.mp4", "musepose__dance.mp4", "infinitetalk__videos_2.mp4",
         "mimicmotion__raw_0.mp4", "musepose__UBC_fashion_test_91BjuE6irxS.mp4"]


def main() -> None:
    keep = Path(sys.argv[sys.argv.index("--keep") + 1]) if "--keep" in sys.argv else None
    only = [a for a in sys.argv[1:] if a.endswith(".mp4")]
    print("| clip | frames | SSIM ours / frozen | PSNR dB ours / frozen | limb error deg (median of bones) | lag fr | s |")
    print("|---|---|---|---|---|---|---|")
    for name in only or CLIPS:
        path = MEDIA / name
        if not path.exists():
            print(f"| {name} | missing (needs ../shared/media) |")
            continue
        out = keep / f"reenact__{path.stem}.mp4" if keep else None
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        s = self_reenactment(path, output=out)
        dt = time.perf_counter() - t
        limbs = ", ".join(f"{k} {v:.0f}" for k, v in sorted(s.limb_error_deg.items()))
        med = sorted(s.limb_error_deg.values())
        mid = med[len(med) // 2] if med else float("nan")
        print(f"| {name} | {s.frames} | {s.ssim:.3f} / {s.frozen_ssim:.3f} | {s.psnr:.1f} / {s.frozen_psnr:.1f} | "
              f"{mid:.0f} ({limbs}) | {s.lag_frames:+.0f} | {dt:.0f} |", flush=True)


if __name__ == "__main__":
    main()
