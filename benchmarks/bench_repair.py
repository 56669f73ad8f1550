"""Repair benchmark (run by hand, issue #15): speed against clip duration at 720p, PSNR gain per
injected kind, and what repair does to untouched real camera clips.

1. speed: ``repair_video`` on 720p clips (wall and CPU time, per stage, as a ratio to the clip's
   duration; the drift meter's two passes — before and after — are part of it, as in the CLI).
2. gains: each kind of drift injected (:mod:`steadymotion.drift.inject`, onset 3 s, 6-s clips at
   640 px) and repaired; PSNR against the clean clip over the pixels the injection changed, injected
   vs repaired, and whether the meter still finds that kind afterwards.
3. clean: every real camera clip of ../shared/media (first 6 s, 640 px): events found, whether the
   output is the input, PSNR output vs input, events after.

Usage: python benchmarks/bench_repair.py [--speed] [--gains] [--clean] [--cache DIR]   (default: all three)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA

ONSET_S, CUT_S, MAX_SIDE = 3.0, 6.0, 640
SPEED = [("720p 24 fps, 10 s (SkyReels, first 10 s)", "longlive__skyreel-lady_web.mp4", 10.0),
         ("720p 24 fps, 10 s (LongLive no-cache man)", "longlive__no-cache-man_web.mp4", None)]
#: kind -> (clip, strength, what --only gets, pixels changed by more than this (sum of channels) count)
GAINS = {
    "flicker": ("liveportrait__d13.mp4", 8.0, "flicker", 12),
    "jitter": ("liveportrait__d13.mp4", 1.0, "jitter", 12),
    "joins": ("liveportrait__d13.mp4", 8.0, "joins", 12),
    "garment_color": ("liveportrait__d13.mp4", 15.0, "color", 12),
    "eye_color": ("liveportrait__d6.mp4", 25.0, "color", 30),
    "flicker@unianimate": ("unianimate__source_video.mp4", 8.0, "flicker", 12),
    "jitter@raw_0": ("mimicmotion__raw_0.mp4", 1.0, "jitter", 12),
    "garment_color@unianimate": ("unianimate__source_video.mp4", 15.0, "color", 12),
}
CLEAN = ["musepose__UBC_fashion_test_91BjuE6irxS.mp4", "unianimate__source_video.mp4", "musepose__dance.mp4",
         "mimicmotion__raw_0.mp4", "infinitetalk__videos_2.mp4", "liveportrait__d13.mp4", "liveportrait__d6.mp4",
         "openpose__video.avi"]


def cpu_s() -> float:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def psnr(a, b, onset: float = 0.0, changed_from=None, thr: float = 12.0) -> float:
    """PSNR (dB) of ``b`` against ``a`` from ``onset`` on; only over pixels where ``changed_from``
    differs from ``a`` by more than ``thr`` (summed over channels) when given."""
    from steadymotion.io.video import VideoReader

    se = n = 0.0
    readers = [VideoReader(p) for p in (a, b) + ((changed_from,) if changed_from is not None else ())]
    try:
        for frames in zip(*readers, strict=True):
            if frames[0].t < onset - 1e-6:
                continue
            x, y = frames[0].image.astype(np.float32), frames[1].image.astype(np.float32)
            m = np.ones(x.shape[:2], bool) if changed_from is None else np.abs(frames[2].image.astype(np.float32) - x).sum(axis=2) > thr
            se += float(((y - x)[m] ** 2).sum())
            n += 3.0 * m.sum()
    finally:
        for r in readers:
            r.close()
    return float("inf") if se == 0 else 10 * np.log10(255**2 * n / se)


def _cut(src: Path, dst: Path, end_s: float | None, max_side: int | None) -> Path:
    from steadymotion.drift.inject import inject

    if not dst.exists():
        inject(src, dst, "flicker", 0.0, 1e9, end_s=end_s, max_side=max_side)
    return dst


def speed(cache: Path) -> None:
    from steadymotion.pipelines import repair_video

    print("## speed: repair_video (meter before + tracking + repair + meter after) vs the clip's duration", flush=True)
    for label, name, end in SPEED:
        if not (MEDIA / name).exists():
            print(f"{label}: missing")
            continue
        clip = _cut(MEDIA / name, cache / f"speed_{Path(name).stem}.mp4", end, None)
        flick = cache / f"speed_{Path(name).stem}_flicker.mp4"
        if not flick.exists():
            from steadymotion.drift.inject import inject

            inject(clip, flick, "flicker", 8.0, 3.0, seed=1)
        for what, path in (("as generated", clip), ("+ flicker 8 % from 3 s", flick)):
            c0, t0 = cpu_s(), time.perf_counter()
            res = repair_video(path, cache / "speed_out.mp4")
            wall, cpu = time.perf_counter() - t0, cpu_s() - c0
            dur = res.frames / res.fps
            stages = ", ".join(f"{k} {v:.1f} s ({v / dur:.2f}x)" for k, v in res.timings.items())
            print(f"{label} {what}: {res.frames} frames {res.size[0]}x{res.size[1]}: wall {wall:.1f} s = {wall / dur:.2f}x, "
                  f"CPU {cpu:.1f} s = {cpu / dur:.2f}x (load {os.getloadavg()[0]:.1f}); {stages}; repaired {sorted(res.repairs)}; "
                  f"scores {res.before.scores['overall']:.0f} -> {res.after.scores['overall']:.0f}", flush=True)
            new = sorted({(e.series, e.severity) for e in res.after.events} - {(e.series, e.severity) for e in res.before.events})
            if new:
                print(f"    events after repair not found before: {new}", flush=True)


def gains(cache: Path) -> None:
    from steadymotion.drift.inject import inject
    from steadymotion.pipelines import repair_video
    from steadymotion.pose.extract import extract_pose

    print(f"\n## PSNR gain per injected kind (onset {ONSET_S} s, {CUT_S:g}-s clips at {MAX_SIDE} px; PSNR vs the clean clip over the changed pixels)", flush=True)
    print(f"{'kind':26s} {'strength':>8s} {'injected':>9s} {'repaired':>9s} {'gain':>7s}  meter before -> after")
    poses: dict = {}
    for label, (name, strength, only, thr) in GAINS.items():
        kind = label.split("@")[0]
        if not (MEDIA / name).exists():
            print(f"{label}: missing")
            continue
        base = _cut(MEDIA / name, cache / f"{Path(name).stem}_base.mp4", CUT_S, MAX_SIDE)
        inj = cache / f"{Path(name).stem}_{kind}_{strength:g}.mp4"
        if not inj.exists():
            pose = None
            if kind in ("garment_color", "eye_color"):
                pose = poses.setdefault(name, extract_pose(base, smooth=False))
            inject(base, inj, kind, strength, ONSET_S, seed=1, pose=pose)
        res = repair_video(inj, cache / "gain_out.mp4", only=only)
        a = psnr(base, inj, ONSET_S, inj, thr)
        b = psnr(base, res.output, ONSET_S, inj, thr)
        want = {"flicker": "flicker", "jitter": "jitter", "joins": None}.get(kind, "color")

        def found(rep):
            return sorted({e.series for e in rep.events if want is not None and e.kind == want}) or "-"

        print(f"{label:26s} {strength:8g} {a:8.2f}  {b:8.2f}  {b - a:+6.2f}  {found(res.before)} -> {found(res.after)}", flush=True)


def clean(cache: Path) -> None:
    from steadymotion.pipelines import repair_video

    print(f"\n## untouched real camera clips (first {CUT_S:g} s at {MAX_SIDE} px)", flush=True)
    for name in CLEAN:
        if not (MEDIA / name).exists():
            print(f"{name}: missing")
            continue
        base = _cut(MEDIA / name, cache / f"{Path(name).stem}_base.mp4", CUT_S, MAX_SIDE)
        res = repair_video(base, cache / "clean_out.mp4")
        p = psnr(base, res.output)
        new = [e.to_dict()["detail"] for e in res.after.events if not any(b.series == e.series for b in res.before.events)]
        print(f"{name:45s} events before {len(res.before.events)} ({', '.join(sorted({e.series for e in res.before.events})) or '-'}); "
              f"{'copied' if res.copied else 'repaired ' + ','.join(sorted(res.repairs))}; PSNR to input {p:.1f} dB; "
              f"events after {len(res.after.events)}; new: {new or 'none'}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--gains", action="store_true")
    ap.add_argument("--clean", action="store_true")
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args()
    everything = not (args.speed or args.gains or args.clean)
    cache = args.cache or Path(tempfile.mkdtemp(prefix="bench_repair_"))
    cache.mkdir(parents=True, exist_ok=True)
    if args.speed or everything:
        speed(cache)
    if args.gains or everything:
        gains(cache)
    if args.clean or everything:
        clean(cache)


if __name__ == "__main__":
    main()
