"""Analyse time against clip length (run by hand): is the drift meter linear in the clip's length?

Issue #12 item 11: a 4-min clip took 7x a 1-min one and a 10-min clip did not finish in 10 minutes,
because change-point detection (:func:`steadymotion.drift.events.segments`) grew with the square of
the series' length. This builds 10-s, 1-min and 10-min clips from the real 60-s SkyReels clip
(``longlive__skyreel-lady_web.mp4``, downscaled to ``SIDE`` px; the 10-min one is that minute
looped ten times) in a temporary folder, analyses each in a fresh process, and prints the analyse
time per second of clip (flat = linear) and the time spent in change-point detection.

    python benchmarks/bench_analyze_length.py            # 10 s, 1 min and 10 min
    python benchmarks/bench_analyze_length.py 10 60      # only the lengths given (seconds)
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA, run_clips  # noqa: E402

SOURCE = "longlive__skyreel-lady_web.mp4"
#: Long side of the clips built (the source is 1248x720): keeps building the 10-min clip short.
SIDE = 320
LENGTHS_S = (10, 60, 600)


def build(folder: Path, seconds: float) -> Path:
    """``seconds`` of the source, downscaled, looped as often as needed (one decode of the source)."""
    from steadymotion.io.video import VideoReader, VideoWriter

    out = folder / f"skyreel_{int(seconds)}s.mp4"
    with VideoReader(MEDIA / SOURCE, max_side=SIDE, end_s=min(seconds, 60.0)) as r:
        frames = [f.image for f in r]
        fps = r.fps
    need = int(round(seconds * float(fps)))
    with VideoWriter(out, fps) as w:
        for i in range(need):
            w.write(frames[i % len(frames)])
    return out


def measure(path: str) -> dict:
    from steadymotion.drift import events
    from steadymotion.drift import analyze_video

    spent = {"segments_s": 0.0, "series": 0, "longest": 0}
    segments = events.segments

    def timed(values, min_size=3):
        t = time.perf_counter()
        try:
            return segments(values, min_size)
        finally:
            spent["segments_s"] += time.perf_counter() - t
            spent["series"] += 1
            spent["longest"] = max(spent["longest"], len(values))

    events.segments = timed
    t0 = time.perf_counter()
    report = analyze_video(path)
    took = time.perf_counter() - t0
    return {"duration_s": report.video["duration_s"], "frames": report.video["frames"], "seconds": took, **spent,
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        list(run_clips(__file__, [], measure))  # the child: measure and exit
    lengths = [float(a) for a in sys.argv[1:]] or LENGTHS_S
    if not (MEDIA / SOURCE).exists():
        print(f"needs ../shared/media/{SOURCE}")
        return
    with tempfile.TemporaryDirectory(prefix="bench-length-") as d:
        clips = []
        for s in lengths:
            t = time.perf_counter()
            clips.append((f"{s:g} s", str(build(Path(d), s))))
            print(f"built the {s:g}-s clip in {time.perf_counter() - t:.0f} s", flush=True)
        print(f"{'clip':8s} {'frames':>7s} {'analyse s':>10s} {'s per clip-s':>12s} {'change points s':>15s} "
              f"{'series':>6s} {'longest':>7s} {'RSS MiB':>8s} {'worker':>7s}")
        for label, _, m in run_clips(__file__, clips, measure):
            print(f"{label:8s} {m['frames']:7d} {m['seconds']:10.1f} {m['seconds'] / m['duration_s']:12.3f} "
                  f"{m['segments_s']:15.2f} {m['series']:6d} {m['longest']:7d} {m['rss_mib']:8.0f} {m['worker_rss_mib']:7.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
