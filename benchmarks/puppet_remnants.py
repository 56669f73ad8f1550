"""Limb remnants in the puppet's renders (run by hand): issue #13's pairings animated by the current
renderer and measured by the drift meter's limb-remnant measure, beside the motion clip itself.

The measure (``structure.ghost_limbs``, :mod:`steadymotion.drift.structure`) gives the same verdict
at every tracking rate on the shared clips (``benchmarks/ghost_sampling.py``): remnants on both
first-generation puppet renders, none on the real dancers. Here it scores what the renderer makes
now, so a change to the rig or the renderer can be judged on numbers as well as by eye: the largest
smoothed share of an arm's opening pixels still showing where the arm was (%; minor from 12, major
from 22), the seconds covered by remnant events, and the other structure events (background warp
or melt, objects) of the render. The real motion clip's own values are printed beside it (a real
clip is clean: what the render adds is the renderer's). Renders are kept with ``--keep DIR``.

Usage: python benchmarks/puppet_remnants.py [--keep DIR] [--seconds 8]
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA

#: (image, motion): issue #13's pairings; an image of None is the motion clip's first frame.
PAIRINGS = [
    ("mooreanimateanyone__anyone-3.png", "mimicmotion__raw_0.mp4"),
    ("mooreanimateanyone__anyone-11.png", "unianimate__source_video.mp4"),
    (None, "unianimate__source_video.mp4"),
    (None, "musepose__dance.mp4"),
    (None, "infinitetalk__videos_2.mp4"),
]


@functools.lru_cache(maxsize=None)  # a motion clip used by two pairings is measured once
def _remnants(path: Path) -> tuple[float, float, tuple[str, ...]]:
    import numpy as np

    from steadymotion.drift import analyze_video

    report = analyze_video(path)
    s = next(x for x in report.series if x.name == "structure.ghost_limbs")
    top = float(np.nanmax(s.values)) if np.isfinite(s.values).any() else float("nan")
    ghosts = [e for e in report.events if e.series == "structure.ghost_limbs"]
    others = [f"{e.series.split('.')[-1]} {e.severity} {e.start_s:.1f}-{e.end_s:.1f}" for e in report.events
              if e.kind == "structure" and e not in ghosts]
    return top, sum(e.end_s - e.start_s for e in ghosts), tuple(others)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", default=None, help="folder to keep the renders in")
    ap.add_argument("--seconds", type=float, default=8.0, help="seconds of each motion clip to animate (default 8)")
    args = ap.parse_args()

    import cv2

    from steadymotion.io.video import VideoReader
    from steadymotion.pipelines.animate import animate

    out_dir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="steadymotion-remnants-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    print("| image | motion | remnant max % (render / motion clip) | remnant events s | other structure events of the render |")
    print("|---|---|---|---|---|")
    for image, motion in PAIRINGS:
        mpath = MEDIA / motion
        if not mpath.exists() or (image and not (MEDIA / image).exists()):
            print(f"| {image} | {motion} | missing (needs ../shared/media) | | |")
            continue
        if image is None:  # the clip's first frame as the character (self-reenactment)
            with VideoReader(mpath) as r:
                first = next(iter(r)).image
            img_path = out_dir / f"{mpath.stem}__frame0.png"
            cv2.imwrite(str(img_path), cv2.cvtColor(first, cv2.COLOR_RGB2BGR))
        else:
            img_path = MEDIA / image
        out = out_dir / f"{Path(img_path).stem}__{mpath.stem}.mp4"
        animate(mpath, out, image=img_path, max_seconds=args.seconds, sound=False)
        top, covered, others = _remnants(out)
        real_top, _, _ = _remnants(mpath)
        print(f"| {image or 'first frame'} | {motion} | {top:.1f} / {real_top:.1f} | {covered:.1f} | {', '.join(others) or 'none'} |",
              flush=True)


if __name__ == "__main__":
    main()
