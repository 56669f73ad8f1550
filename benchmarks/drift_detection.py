"""Drift-meter sensitivity (run by hand): inject each kind of drift at several strengths into
several real clips and print detection rate and onset error against strength, then the events the
meter reports on every untouched real camera clip (false alarms). Issue #14's floors.

A drift counts as detected when the report holds an event of the right kind (and series, where
one is meant: :data:`steadymotion.drift.inject.EXPECTED`), minor or worse, starting within
±0.5 s of the onset. Clips are cut to their first 6 s (onset at 3 s), downscaled to 640 px and
cached in a temporary folder, so the benchmark can run in parts.

Usage: python benchmarks/drift_detection.py [--kinds flicker,jitter] [--clips d13,raw_0] [--quick]
                                             [--no-false-alarms] [--only-false-alarms] [--cache DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MEDIA

import numpy as np

ONSET_S, CUT_S, MAX_SIDE, WINDOW_S = 3.0, 6.0, 640, 0.5

#: Real camera clips (section 1 of ../shared/media/MANIFEST.md), by short name.
REAL = {
    "ubc": "musepose__UBC_fashion_test_91BjuE6irxS.mp4",
    "unianimate": "unianimate__source_video.mp4",
    "dance": "musepose__dance.mp4",
    "raw_0": "mimicmotion__raw_0.mp4",
    "infinitetalk": "infinitetalk__videos_2.mp4",
    "d13": "liveportrait__d13.mp4",
    "d6": "liveportrait__d6.mp4",
    "openpose": "openpose__video.avi",
}
#: Per kind: the clips it is injected into and the strengths (plus recipe options) tried.
PLAN = {
    "garment_color": (["d13", "raw_0", "unianimate"], [(5, {}), (10, {}), (15, {}), (20, {})]),
    "eye_color": (["d13", "d6"], [(10, {}), (20, {}), (30, {})]),
    "background_warp": (["d13", "unianimate", "infinitetalk"], [(0.75, {}), (1.5, {}), (3.0, {})]),
    "jitter": (["d13", "raw_0", "openpose"], [(0.5, {}), (1.0, {}), (2.0, {})]),
    "flicker": (["d13", "unianimate", "raw_0"], [(4, {"freq_hz": 4.0}), (8, {"freq_hz": 2.0}), (8, {"freq_hz": 4.0}),
                                                 (8, {"freq_hz": 10.0}), (16, {"freq_hz": 4.0})]),
    # area (% of frame) of a real background patch appearing (or vanishing) at the onset, fading over 0.3 s
    # (not openpose: 4.1 s long, it has less than the 1 s after the onset that the measure compares)
    "background_object": (["d13", "unianimate", "infinitetalk", "raw_0"],
                          [(0.5, {}), (1, {}), (2, {}), (4, {}), (1, {"appear": False}), (2, {"appear": False}),
                           (4, {"appear": False})]),
}


def _label(strength: float, opts: dict) -> str:
    return (f"{strength:g}" + (f"@{opts['freq_hz']:g}Hz" if "freq_hz" in opts else "")
            + ("" if opts.get("appear", True) else " vanish"))


def _base(cache: Path, clip: str) -> Path:
    """The clip cut to CUT_S and downscaled to MAX_SIDE (an injection of strength 0 is a plain copy)."""
    from steadymotion.drift.inject import inject

    out = cache / f"{clip}__base.mp4"
    if not out.exists():
        inject(MEDIA / REAL[clip], out, "flicker", 0.0, ONSET_S, end_s=CUT_S, max_side=MAX_SIDE)
    return out


_POSES: dict = {}


def _injected(cache: Path, clip: str, kind: str, strength: float, opts: dict, seed: int) -> Path:
    from steadymotion.drift.inject import inject
    from steadymotion.pose.extract import extract_pose

    out = cache / f"{clip}__{kind}__{_label(strength, opts).replace(' ', '-')}__s{seed}.mp4"
    if out.exists():
        return out
    base = _base(cache, clip)
    pose = None
    if kind in ("garment_color", "eye_color"):
        if clip not in _POSES:
            _POSES[clip] = extract_pose(base)
        pose = _POSES[clip]
    inj = inject(base, out, kind, strength, ONSET_S, seed=seed, pose=pose, **opts)
    if inj.boxes is not None:  # where the drift is, per frame, for the box check
        np.save(out.with_suffix(".boxes.npy"), np.column_stack([inj.times, inj.boxes]))
    return out


def _box_hit(path: Path, e) -> str:
    """' box ok' / ' box off' when the recipe knows where it put the drift: the event's box
    overlaps the injected one (at the event's peak time), else ''."""
    f = path.with_suffix(".boxes.npy")
    if not f.exists() or e.box is None:
        return ""
    tb = np.load(f)
    # where the object is (or, vanishing, was) around the event: any frame within 1 s of its peak
    near = tb[np.abs(tb[:, 0] - (e.peak_s if e.peak_s is not None else e.start_s)) <= 1.0, 1:]
    near = near[np.isfinite(near).all(axis=1)]
    x0, y0, x1, y1 = e.box
    hit = any(min(x1, b[2]) > max(x0, b[0]) and min(y1, b[3]) > max(y0, b[1]) for b in near)
    return " box ok" if hit else " box off"


def _matches(e, kind: str) -> bool:
    from steadymotion.drift.inject import EXPECTED

    want_kind, want_series = EXPECTED[kind]
    return e.kind == want_kind and (want_series is None or e.series == want_series)


def sensitivity(cache: Path, kinds: list[str], clips: list[str] | None, quick: bool, seed: int) -> None:
    from steadymotion.drift import SEVERITIES, analyze_video

    for kind in kinds:
        kclips, strengths = PLAN[kind]
        kclips = [c for c in kclips if clips is None or c in clips] or (clips or kclips)[:1]
        if quick:
            kclips, strengths = kclips[:1], strengths[len(strengths) // 2: len(strengths) // 2 + 1]
        print(f"\n## {kind}: detected = a {kind} event, >= minor, starting within ±{WINDOW_S} s of the onset ({ONSET_S} s)", flush=True)
        print(f"{'strength':>10s} " + " ".join(f"{c:>22s}" for c in kclips) + f" {'rate':>6s} {'|onset err|':>11s}")
        for strength, opts in strengths:
            cells, hits, errs = [], 0, []
            for clip in kclips:
                path = _injected(cache, clip, kind, strength, opts, seed)
                t0 = time.perf_counter()
                report = analyze_video(path)
                took = time.perf_counter() - t0
                found = [e for e in report.events if _matches(e, kind)]
                near = [e for e in found if abs(e.start_s - ONSET_S) <= WINDOW_S]
                if near:
                    hits += 1
                    err = min((e.start_s - ONSET_S for e in near), key=abs)
                    worst = max(near, key=lambda e: SEVERITIES.index(e.severity)).severity
                    errs.append(err)
                    cells.append(f"yes {err:+.2f}s {worst[:5]}" + _box_hit(path, min(near, key=lambda e: abs(e.start_s - ONSET_S))))
                elif found:
                    cells.append(f"late {min(e.start_s for e in found) - ONSET_S:+.2f}s")
                else:
                    cells.append("no")
                early = [e for e in report.events if e.end_s < ONSET_S - WINDOW_S and e.kind != "cut"]
                if early:
                    cells[-1] += f" +{len(early)}fa"
                print(f"   ({clip} {kind} {_label(strength, opts)}: {took:.0f} s; events: "
                      + "; ".join(f"{e.series or e.kind} {e.severity} {e.start_s:.2f}-{e.end_s:.2f}" for e in report.events) + ")", flush=True)
            mean_err = sum(abs(x) for x in errs) / len(errs) if errs else float("nan")
            print(f"{_label(strength, opts):>10s} " + " ".join(f"{c:>22s}" for c in cells) + f" {hits}/{len(kclips):<4d} {mean_err:11.2f}", flush=True)


def false_alarms(clips: list[str] | None, quick: bool) -> None:
    from steadymotion.drift import analyze_video
    from steadymotion.io.video import VideoReader, VideoWriter

    print("\n## false alarms: every event on the untouched real camera clips" + (" (first 8 s)" if quick else ""), flush=True)
    print(f"{'clip':14s} {'dur':>5s} {'time':>6s} {'minor':>5s} {'major+':>6s}  events")
    tmp = Path(tempfile.mkdtemp(prefix="drift-fa-"))
    for short, name in REAL.items():
        if clips is not None and short not in clips:
            continue
        path = MEDIA / name
        if quick:
            cut = tmp / f"{short}.mp4"
            with VideoReader(path, end_s=8.0) as r, VideoWriter(cut, r.fps) as w:
                for f in r:
                    w.write(f.image)
            path = cut
        t0 = time.perf_counter()
        report = analyze_video(path)
        took = time.perf_counter() - t0
        minor = [e for e in report.events if e.severity == "minor"]
        worse = [e for e in report.events if e.severity != "minor"]
        print(f"{short:14s} {report.video['duration_s']:5.1f} {took:6.1f} {len(minor):5d} {len(worse):6d}  "
              + "; ".join(f"{e.series or e.kind} {e.severity} {e.start_s:.2f}-{e.end_s:.2f} ({e.detail})" for e in report.events), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default=",".join(PLAN), help="comma-separated: " + ", ".join(PLAN))
    ap.add_argument("--clips", default=None, help="comma-separated short names: " + ", ".join(REAL))
    ap.add_argument("--quick", action="store_true", help="one clip and the middle strength per kind; false alarms on the first 8 s")
    ap.add_argument("--no-false-alarms", action="store_true")
    ap.add_argument("--only-false-alarms", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "steadymotion-drift-detection"))
    a = ap.parse_args()
    kinds = [k for k in a.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in PLAN]
    if unknown:
        ap.error(f"unknown kinds: {', '.join(unknown)}")
    clips = a.clips.split(",") if a.clips else None
    if not MEDIA.exists():
        print(f"needs the real clips in {MEDIA}")
        return
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    if not a.only_false_alarms:
        sensitivity(cache, kinds, clips, a.quick, a.seed)
    if not a.no_false_alarms:
        false_alarms(clips, a.quick)


if __name__ == "__main__":
    main()
