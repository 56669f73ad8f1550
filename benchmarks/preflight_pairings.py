"""Run `check_inputs` on image + motion pairings from ../shared/media and print the findings (by hand).

Usage: python benchmarks/preflight_pairings.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

from steadymotion.preflight import check_inputs

PAIRS = [
    ("mooreanimateanyone__anyone-3.png", "unianimate__source_video.mp4"),
    ("infinitetalk__human.png", "unianimate__source_video.mp4"),
    ("mimicmotion__demo1.jpg", "musepose__UBC_fashion_test_91BjuE6irxS.mp4"),
    ("mooreanimateanyone__anyone-11.png", "mimicmotion__raw_0.mp4"),
    ("liveportrait__s42.jpg", "liveportrait__d13.mp4"),
    ("mooreanimateanyone__anyone-3.png", "openpose__video.avi"),
    ("mimicmotion__sample_2.png", "musepose__dance.mp4"),
    ("mooreanimateanyone__anyone-1.png", "infinitetalk__videos_2.mp4"),
    ("liveportrait__s7.jpg", "liveportrait__d6.mp4"),
    ("mimicmotion__demo1.jpg", "longlive__no-cache-man_web.mp4"),
]


def main() -> None:
    for image, motion in PAIRS:
        t0 = time.perf_counter()
        report = check_inputs(MEDIA / image, MEDIA / motion)
        dt = time.perf_counter() - t0
        print(f"\n## {image} + {motion}  ({dt:.1f} s, ok={report.ok})")
        for f in report.findings:
            ranges = " ".join(f"[{a:.1f}-{b:.1f}]" for a, b in f.time_ranges[:4])
            print(f"- {f.severity.value:5s} {f.code}: {f.message} {ranges}")
        if not report.findings:
            print("- (no findings)")


if __name__ == "__main__":
    main()
