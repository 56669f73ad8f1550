"""Pose-extraction benchmark (run by hand: `make bench` or `python benchmarks/bench_pose.py`).

For real clips from ../shared/media it prints decode-only speed, extraction speed, their ratio,
real-time factor, and peak memory (the parent process and the largest worker), each measured in
a fresh process. Targets (issue #2): extraction >= 20 fps on a 720p clip on a 2-core machine,
decode not the bottleneck, memory flat with clip length.
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
    t0 = time.perf_counter()
    seq = extract_pose(path)
    extract_s = time.perf_counter() - t0
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "frames": n, "duration_s": duration, "decode_fps": n / decode_s, "extract_fps": len(seq) / extract_s,
        "extract_s": extract_s, "rss_mib": kib / 1024, "worker_rss_mib": child_kib / 1024,
    }


def main() -> None:
    rows = run_clips(__file__, CLIPS, measure)
    print(f"{'clip':40s} {'frames':>6s} {'decode fps':>10s} {'extract fps':>11s} {'ratio':>6s} {'x realtime':>10s} {'RSS MiB':>8s} {'worker MiB':>10s}")
    for label, name, m in rows:
        print(f"{label + ' ' + name[:28]:40s} {m['frames']:6d} {m['decode_fps']:10.1f} {m['extract_fps']:11.1f} "
              f"{m['extract_fps'] / m['decode_fps']:6.2f} {m['duration_s'] / m['extract_s']:10.2f} {m['rss_mib']:8.0f} {m['worker_rss_mib']:10.0f}", flush=True)


if __name__ == "__main__":
    main()
