"""Drift-meter benchmark (run by hand): analyse time against clip duration and decode-only speed.

Targets (issue #3): a 10-s 720p clip analysed in at most real time on a 2-core machine; memory flat
with clip length (the 60-s clips well under 2 GB). Each clip runs in a fresh process.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_clips  # noqa: E402

CLIPS = [
    ("720p 24 fps, 10 s", "longlive__no-cache-man_web.mp4"),
    ("720p 24 fps, 60 s", "longlive__skyreel-lady_web.mp4"),
    ("720x1280 30 fps, 12 s", "liveportrait__d13.mp4"),
]


def measure(path: str) -> dict:
    from steadymotion.drift import analyze_video
    from steadymotion.io.video import VideoReader

    t0 = time.perf_counter()
    with VideoReader(path) as r:
        n = sum(1 for _ in r)
    decode_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = analyze_video(path)
    took = time.perf_counter() - t0
    return {"frames": n, "duration_s": report.video["duration_s"], "decode_fps": n / decode_s, "analyze_fps": n / took,
            "seconds": took, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "overall": report.scores["overall"]}


def main() -> None:
    rows = run_clips(__file__, CLIPS, measure)
    print(f"{'clip':44s} {'frames':>6s} {'decode fps':>10s} {'analyze fps':>11s} {'time/dur':>8s} {'RSS MiB':>8s} {'worker':>7s} {'overall':>7s}")
    for label, name, m in rows:
        print(f"{label + ' ' + name[:22]:44s} {m['frames']:6d} {m['decode_fps']:10.1f} {m['analyze_fps']:11.1f} "
              f"{m['seconds'] / m['duration_s']:8.2f} {m['rss_mib']:8.0f} {m['worker_rss_mib']:7.0f} {m['overall']:7.1f}", flush=True)


if __name__ == "__main__":
    main()
