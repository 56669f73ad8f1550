"""Calibration data for preflight thresholds (run by hand).

Prints, for every video in ../shared/media, the scene measures behind CLUTTERED_BACKGROUND,
CAMERA_MOVES, CUT and MULTIPLE_PEOPLE: median background edge density, camera speed (p90, max;
fraction of the diagonal per second), total zoom, the largest histogram jump, and the share of
sampled frames with two or more people/faces.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

import numpy as np

from steadymotion.preflight.measures import scene_pass



def main() -> None:
    names = sys.argv[1:] or sorted(p.name for p in MEDIA.iterdir() if p.suffix in (".mp4", ".avi"))
    print(f"{'clip':58s} {'clutter':>7s} {'cam p90':>7s} {'cam max':>7s} {'zoom':>6s} {'cut max':>7s} {'multi':>5s} {'fps':>5s}")
    for name in names:
        t0 = time.perf_counter()
        s = scene_pass(MEDIA / name)
        dt = time.perf_counter() - t0
        fps = 1.0 / np.median(np.diff(s.times))
        speed = np.nan_to_num(s.camera_shift) * fps
        multi = ((s.people >= 2) | (s.faces >= 2)).mean()
        print(f"{name:58s} {np.median(s.clutter):7.4f} {np.percentile(speed, 90):7.4f} {speed.max():7.4f} "
              f"{np.nansum(s.camera_scale):6.3f} {s.cut_score.max():7.3f} {multi:5.2f} {len(s.times) / dt:5.0f}", flush=True)


if __name__ == "__main__":
    main()
