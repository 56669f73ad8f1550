"""Pose-extraction benchmark (run by hand: `make bench` or `python benchmarks/bench_pose.py`).

For real clips from ../shared/media it prints decode-only speed, then for Holistic (``parts="all"``)
and body-only BlazePose (``parts="body"``, what animate needs) the extraction speed, its ratio to
decode-only speed, the real-time factor; then body-only's speed-up over Holistic, and peak memory
(the parent process and the largest worker), each clip measured in a fresh process. Targets
(issue #2): extraction >= 20 fps on a 720p clip on a 2-core machine, decode not the bottleneck,
memory flat with clip length; animate wants body-only well under real time (x realtime > 1).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_clips  # noqa: E402

CLIPS = [
    ("720p, 10 s", "longlive__no-cache-man_web.mp4"),
    ("692x1108, 9 s", "unianimate__source_video.mp4"),
    ("1080p, 33 s", "infinitetalk__videos_2.mp4"),
    ("720p, 60 s", "longlive__longlive-balllet_web.mp4"),
]


def measure(path: str) -> dict:
    from steadymotion.io.video import VideoReader
    from steadymotion.pose.extract import DEFAULT_WORK_SIDE, extract_pose

    t0 = time.perf_counter()
    with VideoReader(path, max_side=DEFAULT_WORK_SIDE) as r:
        n = sum(1 for _ in r)
        duration = r.info.duration_s
    decode_s = time.perf_counter() - t0
    out = {"frames": n, "duration_s": duration, "decode_fps": n / decode_s}
    for parts in ("all", "body"):
        t0 = time.perf_counter()
        seq = extract_pose(path, parts=parts)
        extract_s = time.perf_counter() - t0
        out[f"{parts}_fps"], out[f"{parts}_s"] = len(seq) / extract_s, extract_s
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["worker_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest worker (Holistic's)
    return out


def main() -> None:
    rows = run_clips(__file__, CLIPS, measure)
    print(f"{'':40s} {'':6s} {'':>10s} | {'Holistic (all)':^29s} | {'body only':^29s} |")
    print(f"{'clip':40s} {'frames':>6s} {'decode fps':>10s} | {'fps':>7s} {'/decode':>8s} {'x realtime':>10s} | "
          f"{'fps':>7s} {'/decode':>8s} {'x realtime':>10s} | {'speed-up':>8s} {'RSS MiB':>8s} {'worker MiB':>10s}")
    for label, name, m in rows:
        cols = "".join(f"{m[p + '_fps']:7.1f} {m[p + '_fps'] / m['decode_fps']:8.2f} {m['duration_s'] / m[p + '_s']:10.2f} | "
                       for p in ("all", "body"))
        print(f"{label + ' ' + name[:28]:40s} {m['frames']:6d} {m['decode_fps']:10.1f} | {cols}"
              f"{m['all_s'] / m['body_s']:8.2f} {m['rss_mib']:8.0f} {m['worker_rss_mib']:10.0f}", flush=True)


if __name__ == "__main__":
    main()
