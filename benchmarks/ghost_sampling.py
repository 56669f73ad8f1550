"""Limb-remnant measure against the tracking rate (run by hand): does ``structure.ghost_limbs`` give
the same verdict whichever frames it samples?

The measure takes its templates from the first usable frame of each shot, so which frame that is
(the tracking rate, where the samples fall) decides what it compares with for the rest of the
shot. On the puppet renders it must find the remnants at every rate; on the real clips and on
LongLive's no-cache clip (no remnant: after its cut at 5.08 s an open denim shirt shows its side
panels when the arms spread) it must stay quiet at every rate. Issue #14 found the no-cache clip
flipping between clean and a false major/severe event with the sampling (5 wrong verdicts of 32; 0
since the measure changed, see the README's `steadymotion analyze` speed section); this prints that
table for any change to the measure, so a change is judged on every sampling, not the one the drift
meter happens to use.

Each sampling is tracked twice: by one pose worker (as the drift meter tracks) and by two (each
re-detects the person at its chunk's start: a different, equally valid skeleton). Each line: clip,
tracked frames per second, workers, per opening the template sizes (pixels per arm at the
working scale), samples measured, the largest smoothed share (%), and the events.

Usage: python benchmarks/ghost_sampling.py [--rates 6,8,12] [--clips no-cache,uni-puppet,...] [--cache DIR]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA

#: Short name -> (file, hard cuts in seconds (MANIFEST.md), expected: "remnant" or "clean").
CLIPS = {
    "no-cache": ("longlive__no-cache-man_web.mp4", [5.08], "clean"),
    "uni-puppet": ("puppet-v1__unianimate-self-reenactment.mp4", [], "remnant"),
    "anyone3-puppet": ("puppet-v1__anyone-3__raw_0.mp4", [], "remnant"),
    "unianimate": ("unianimate__source_video.mp4", [], "clean"),
    "raw_0": ("mimicmotion__raw_0.mp4", [], "clean"),
    "dance": ("musepose__dance.mp4", [], "clean"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="6,8,12", help="tracked frames per second, comma-separated")
    ap.add_argument("--clips", default=",".join(CLIPS), help="comma-separated: " + ", ".join(CLIPS))
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "steadymotion-ghost-sampling"),
                    help="folder for the tracked skeletons (kept between runs: only the measure reruns)")
    args = ap.parse_args()

    import numpy as np

    from steadymotion.drift import structure
    from steadymotion.drift.events import series_events
    from steadymotion.io.video import probe_video
    from steadymotion.perception.body import facing
    from steadymotion.pose.extract import extract_pose

    sizes: list[list[int]] = []
    make = structure._arm_templates

    def logged(*a):
        out = make(*a)
        sizes.append([len(t.xy) for t in out])
        return out

    structure._arm_templates = logged
    wrong = 0
    for short in args.clips.split(","):
        name, cuts, expected = CLIPS[short]
        path = MEDIA / name
        if not path.exists():
            print(f"{short}: {name} missing (needs ../shared/media)")
            continue
        fps = float(probe_video(path).fps)
        for stride in sorted({max(1, round(fps / float(r))) for r in args.rates.split(",")}, reverse=True):
            for workers in (1, 2):
                cached = Path(args.cache) / f"{path.stem}.{stride}.w{workers}.pkl"
                if not cached.exists():
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    cached.write_bytes(pickle.dumps(extract_pose(path, stride=stride, workers=workers)))
                seq = pickle.loads(cached.read_bytes())
                sizes.clear()
                s = structure.ghost_limb_series(path, seq, back=facing(seq).back, cuts=cuts)
                events = series_events(s)
                ok = bool(events) == (expected == "remnant")
                wrong += not ok
                top = f"{np.nanmax(s.values):5.1f}" if np.isfinite(s.values).any() else "    -"
                ev = ", ".join(f"{e.start_s:.2f}-{e.end_s:.2f} s {e.severity}" for e in events) or "none"
                print(f"{short:15s} {fps / stride:5.1f}/s {workers}w  openings {[x for x in sizes if x]}  "
                      f"measured {int(np.isfinite(s.values).sum()):3d}  max {top}  events: {ev}  "
                      f"[{'ok' if ok else 'WRONG'}: expected {expected}]", flush=True)
    print(f"{wrong} wrong verdict(s)")


if __name__ == "__main__":
    main()
