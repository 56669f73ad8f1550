"""Batch throughput: `batch analyze` over a handful of short real clips, on the local engine with 1
and 2 workers and on a one-machine Ray cluster (2 CPUs), in clips per minute; checks that every
engine gives the same scores, and prints where the Ray cluster listened.

    .venv/bin/python benchmarks/bench_batch.py [--keep DIR]

The clips are 2-s cuts of ../shared/media downscaled to 360 px (made once into DIR). Each engine
writes its own results folder there; open DIR/<engine>/index.html for the dashboard.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA  # noqa: E402

CLIPS = [  # (name, start_s, end_s)
    ("mimicmotion__raw_0.mp4", 0.0, 2.0),
    ("mimicmotion__ours_0.mp4", 0.0, 2.0),
    ("longlive__no-cache-man_web.mp4", 4.5, 6.5),
    ("longlive__recache-man_web.mp4", 4.5, 6.5),
    ("musepose__UBC_fashion_test_91BjuE6irxS.mp4", 0.0, 2.0),
    ("liveportrait__d13.mp4", 0.0, 2.0),
]


def make_clips(folder: Path) -> list[Path]:
    from steadymotion.io.video import VideoReader, VideoWriter

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, a, b in CLIPS:
        dst = folder / f"{Path(name).stem}_{a:g}-{b:g}s.mp4"
        if not dst.exists():
            with VideoReader(MEDIA / name, start_s=a, end_s=b, max_side=360) as r, VideoWriter(dst, r.fps) as w:
                for f in r:
                    w.write(f.image)
        out.append(dst)
    return out


def ray_listening(engine) -> list[str]:
    """``name ip:port`` of every listening socket of the driver and the cluster's processes."""
    import psutil

    me = psutil.Process()
    procs = {p.pid: p for p in [me, *me.children(recursive=True)]}
    seen = []
    for p in procs.values():
        try:
            seen += [f"{p.name()} {c.laddr.ip}:{c.laddr.port}" for c in p.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        except psutil.NoSuchProcess:
            continue
    return sorted(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the clips and results here")
    args = parser.parse_args()
    missing = [n for n, _, _ in CLIPS if not (MEDIA / n).exists()]
    if missing:
        raise SystemExit(f"needs ../shared/media ({missing[0]} is missing)")
    from steadymotion.batch import RayEngine, run_batch

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    clips = make_clips(root / "clips")
    results = {}
    for label, engine, workers in (("local, 1 worker", "local", 1), ("local, 2 workers", "local", 2), ("ray, 2 CPUs", "ray", 2)):
        out = root / label.split(",")[0] / str(workers)
        if out.exists():
            import shutil

            shutil.rmtree(out)
        started = time.perf_counter()
        if engine == "ray":
            eng = RayEngine(workers=workers)
            startup = time.perf_counter() - started
            try:
                summary = run_batch("analyze", clips, out, engine=eng)
                listening = ray_listening(eng)
            finally:
                eng.close()
        else:
            startup = 0.0
            summary = run_batch("analyze", clips, out, engine=engine, workers=workers)
        total = time.perf_counter() - started
        results[label] = summary
        print(f"{label:18s} {len(clips)} clips in {summary.seconds:5.1f} s = {60 * len(clips) / summary.seconds:5.1f} clips/min"
              + (f" (+ {startup:.1f} s to start the cluster: {60 * len(clips) / total:.1f} clips/min with it)" if startup else ""))
    base = {r["key"]: r.get("scores") for r in results["local, 1 worker"].rows}
    same = all({r["key"]: r.get("scores") for r in s.rows} == base for s in results.values())
    overall = ", ".join(f"{s['overall']:.0f}" for s in base.values() if s)
    print(f"same scores on every engine: {same}  (overall: {overall})")
    print("Ray cluster listening sockets:\n  " + "\n  ".join(listening))
    print(json.dumps({k: {"clips": len(s.rows), "seconds": round(s.seconds, 1)} for k, s in results.items()}))
    print(f"dashboards: {root}/*/*/index.html")


if __name__ == "__main__":
    main()
