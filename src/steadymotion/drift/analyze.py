"""Analysing one video for drift.

:func:`analyze_video` runs one sampled pose pass and one pixel pass (see :mod:`.meter`), turns the
measurements into named series (:mod:`.series`), finds events with change-point detection and
scores each drift family (:mod:`.events`), and returns a :class:`DriftReport` that writes the
documented JSON and a readable HTML page (:mod:`.report`).
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from steadymotion._native import cv2_threads
from steadymotion.drift.events import DriftEvent, cut_events, kind_scores, series_events, worst_severity
from steadymotion.drift.meter import (
    CutFeed,
    Reference,
    color_identity_series,
    fidelity_series,
    frame_pass,
    pose_series,
    reference_from_image,
)
from steadymotion.drift.series import SEVERITIES, Series
from steadymotion.errors import InvalidOptionError, NoPersonError, TruncatedVideoWarning, distinct_warnings
from steadymotion.io.video import probe_video
from steadymotion.types import PoseSequence

REPORT_VERSION = 1
#: Smallest frame side the drift meter measures (DIS optical flow needs >= 12 px at its working size).
MIN_SIDE = 32
#: Pose is tracked on about this many frames per second (every ``stride``-th frame). 6 rather than 8
#: (issue #14's speed): the measures that read the skeleton give the same verdicts at 5-16 a second
#: (limb remnants: ``benchmarks/ghost_sampling.py``; colour, identity and jitter:
#: ``benchmarks/drift_detection.py``), with the body jerk scaled to 1/8 s (:func:`.meter.pose_series`).
POSE_RATE = 6.0
#: The share of the clip compared at each end for accumulation (FramePack's Δdrift).
ACCUMULATION_SHARE = 0.15


@dataclass
class Tracking:
    """The drift meter's inputs kept with its report: the skeleton tracked on every ``stride``-th
    frame (``seq``), the subject's appearance on those frames (``app``: region colours, CIELAB) and
    the reference it was compared with (``reference``: region colours, descriptor)."""

    seq: PoseSequence
    app: object
    reference: Reference
    #: The hard cuts (seconds) the frame pass found (the shots the limb-remnant templates follow).
    cuts: list | None = None


@dataclass
class DriftReport:
    """Everything the drift meter found. ``to_dict()`` is the documented JSON (version 1)."""

    video: dict
    scores: dict
    series: list[Series]
    events: list[DriftEvent]
    accumulation: dict
    reference: str = "opening frames"
    notes: list[str] = field(default_factory=list)
    damaged: bool = False  # frames were lost to a damaged or truncated file (said in ``notes``)
    thumbs: list = field(default_factory=list, repr=False)
    reference_thumb: bytes | None = field(default=None, repr=False)  # JPEG
    #: What the measures were made from, for tools that act on them (``steadymotion repair``):
    #: the sampled skeleton, the subject's appearance and the reference (not in the JSON).
    tracking: Tracking | None = field(default=None, repr=False)
    #: Every frame's light and motion as the repairs use them (:class:`steadymotion.repair.track.Track`),
    #: measured by the frame pass when ``analyze_video(..., keep_track=True)`` (not in the JSON).
    track: object | None = field(default=None, repr=False)

    def worst(self) -> str | None:
        return worst_severity(self.events)

    def fails(self, level: str) -> bool:
        """True when an event at ``level`` (minor|major|severe) or worse was found."""
        worst = self.worst()
        return worst is not None and SEVERITIES.index(worst) >= SEVERITIES.index(level)

    def to_dict(self) -> dict:
        return {
            "version": REPORT_VERSION,
            "video": self.video,
            "reference": self.reference,
            "scores": self.scores,
            "series": {s.name: s.to_dict() for s in self.series},
            "events": [e.to_dict() for e in self.events],
            "accumulation": self.accumulation,
            "notes": self.notes,
        }

    def verdict(self) -> str:
        from steadymotion.drift.report import verdict

        return verdict(self)

    def write_json(self, path: str | Path) -> Path:
        import json

        from steadymotion.io.atomic import atomic_output

        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return Path(path)

    def thumb_at(self, t: float) -> bytes | None:
        """JPEG of the first kept frame at or after ``t`` seconds (None when none was kept)."""
        from steadymotion.drift.report import thumb_at

        return thumb_at(self, t)

    def write_html(self, path: str | Path) -> Path:
        from steadymotion.drift.report import write_html

        return write_html(self, path)


def accumulation(series: list[Series]) -> dict:
    """Start-vs-end change of every series (mean of the last 15 % minus the first 15 %) and its
    linear trend per 10 s (least squares), as in FramePack's Δdrift (Zhang & Agrawala 2025)."""
    out = {}
    for s in series:
        ok = np.isfinite(s.values)
        if ok.sum() < 4:
            continue
        t, v = s.t[ok], s.values[ok]
        span = t[-1] - t[0]
        head = v[t <= t[0] + ACCUMULATION_SHARE * span]
        tail = v[t >= t[-1] - ACCUMULATION_SHARE * span]
        slope = float(np.polyfit(t, v, 1)[0]) if span > 0 else 0.0
        out[s.name] = {"delta": round(float(tail.mean() - head.mean()), 4), "per_10s": round(10 * slope, 4), "unit": s.spec.unit}
    return out


def _ghost_limbs(video, seq: PoseSequence, cuts, progress) -> Series:
    from steadymotion.drift.structure import ghost_limb_series
    from steadymotion.perception.body import facing

    return ghost_limb_series(video, seq, back=facing(seq).back, cuts=cuts, progress=progress)


def _ghost_limbs_behind(video, tracking, feed: CutFeed, progress) -> Series | None:
    """The limb remnants, started as soon as the pose pass (the future ``tracking``) ends, while the
    frame pass may still be reading: the remnants' second read of the video then overlaps the frame
    pass's end instead of following it on one core. The shots' cuts come from ``feed`` as the frame
    pass finds them (the same cuts, the same numbers); progress is shown once the frame pass is done
    (one stage after the other). None when nobody was tracked."""
    try:
        seq, _ = tracking.result()
    except NoPersonError:
        return None
    if not seq.body_present.any():
        return None

    def report(done: int, total: int) -> None:
        if progress is not None and feed.done:
            progress(done, total)

    return _ghost_limbs(video, seq, feed, report)


#: How much lower the frame pass runs than the pose worker beside it (nice steps): the worker is
#: usually the longer path, but a 30-fps clip's frame pass can be (bench_drift, 3 clips: +4 was best
#: of 0, 4 and 10).
NICE = 4


def _yielding(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on this (pool) thread at a lower CPU priority (:data:`NICE`; Linux: nice
    is per thread, and the threads it starts inherit it), so the pose worker beside it, usually the
    longer path, gets the cores first."""
    import os
    import sys

    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICE))
        except OSError:
            pass
    return fn(*args, **kwargs)


def analyze_video(
    video: str | Path,
    *,
    reference=None,
    motion: str | Path | PoseSequence | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    reference_name: str | None = None,
    pose: bool = True,
    keep_track: bool = False,
    reuse: Tracking | None = None,
) -> DriftReport:
    """Measure drift in ``video``.

    Parameters
    ----------
    video : path
    reference : path or ndarray (H, W, 3) uint8, optional
        Image of the subject as they should look (identity, colours): a file, or the pixels of one
        (a stored character's master image); default: the video's opening.
    motion : path or PoseSequence, optional
        The driving video, or its landmarks when already tracked; adds the ``fidelity`` series
        (limb-direction error against it).
    progress : callable(stage, done, total), optional
    reference_name : str, optional
        How the report names the reference (default: its path, or "reference image").
    pose : bool
        Track the subject (identity, region colours, skeleton, hands, physics, limb remnants).
        ``False`` runs the frame pass alone: flicker, background structure, camera jitter,
        exposure, saturation and cuts (several times faster; the report says so in its notes).
    keep_track : bool
        Also keep what the repairs need of every frame (``report.track``, the
        :class:`~steadymotion.repair.track.Track` of :func:`~steadymotion.repair.track.track_video`),
        measured on the frames the frame pass reads anyway.
    reuse : Tracking, optional
        The subject as an earlier measurement of the same frames, recoloured since but not moved,
        tracked them (``steadymotion repair`` passes the input's when its repairs moved no frame):
        the skeleton and the reference are taken from it instead of tracked again, and the
        appearance (region colours, face descriptors) is measured again on this video's frames at
        its landmarks (:func:`steadymotion.pose.extract.measure_appearance`); with its ``cuts``, the
        limb remnants are looked for on its skeleton while that is measured. Said in the notes.

    Returns
    -------
    DriftReport
    """
    from steadymotion.io.image import read_image
    from steadymotion.pose.extract import (
        Appearance,
        default_workers,
        extract_pose,
        extract_pose_and_appearance,
        measure_appearance,
        pose_from_image,
    )

    info = probe_video(video)
    if min(info.size) < MIN_SIDE:
        raise InvalidOptionError(f"{video}: the video is {info.size[0]}x{info.size[1]} px; the drift meter needs at least "
                                 f"{MIN_SIDE} px on each side (its optical flow and face models cannot work smaller)")
    notes: list[str] = []

    def stage(name: str):
        return (lambda done, total: progress(name, done, total)) if progress else None

    stride = max(1, int(round(float(info.fps) / POSE_RATE)))
    ref = Reference()
    if reuse is not None:
        ref = reuse.reference
    elif reference is not None:
        rgb = np.asarray(reference) if isinstance(reference, np.ndarray) else read_image(reference).rgb
        name = reference_name or ("reference image" if isinstance(reference, np.ndarray) else str(reference))
        ref = reference_from_image(rgb, pose_from_image(rgb), name)
        if ref.descriptor is None:
            notes.append("no usable face in the reference image: identity is compared with the opening frames")
    # the pose workers (other processes) track the subject while this process reads every frame
    total = info.frame_count or max(1, int(round((info.duration_s or 0) * float(info.fps))))
    done = {"pose": 0, "frames": 0}
    lock = threading.Lock()

    def bump(part: str):
        def update(n: int, part_total: int) -> None:
            with lock:
                done[part] = n if n < part_total else total  # a finished part counts in full
                if progress is not None:
                    progress("tracking and measuring", done["pose"] + done["frames"], 2 * total)
        return update

    # a damaged video is measured on the frames that decode, and the report says so: both passes
    # notice the damage (TruncatedVideoWarning), and it becomes one note (too much lost is an error)
    ghost = ghost_job = feed = None
    with warnings.catch_warnings(record=True) as caught, ThreadPoolExecutor(max_workers=3) as pool:
        warnings.simplefilter("always", TruncatedVideoWarning)
        if pose and reuse is not None:
            app0 = reuse.app
            tracking = None  # nobody was found before: nobody to measure again
            if app0.body is not None and app0.sampled is not None and reuse.seq.body_present.any():
                def again():  # the earlier skeleton; the appearance measured again on these frames
                    return reuse.seq, measure_appearance(video, app0.times, app0.body, app0.face, app0.sampled,
                                                         stride=stride, progress=bump("pose"))

                tracking = pool.submit(again)
                if reuse.cuts is not None:  # the skeleton is known: look for limb remnants while the worker measures
                    ghost = _ghost_limbs(video, reuse.seq, reuse.cuts, stage("looking for limb remnants"))
                notes.append("the skeleton was not tracked again: it is the one measured on these frames before they were "
                             "recoloured (no frame was moved); colours, identity and the frame measures were measured again")
        else:
            # one pose worker per core but the one this process takes streaming every frame: a worker
            # measures the appearance on a second thread beside Holistic, and on 2 cores a second
            # worker costs ~1 s of CPU (start-up, re-detection) without finishing sooner
            # (benchmarks/bench_drift.py, BENCH_WORKERS=1 and 2: 0.57/0.46/0.48x against 0.55/0.48/0.56x)
            tracking = pool.submit(extract_pose_and_appearance, video, stride=stride, workers=max(1, default_workers() - 1),
                                   progress=bump("pose")) if pose else None
            if tracking is not None:  # the limb remnants follow the pose pass, alongside the frame pass
                feed = CutFeed()
                ghost_job = pool.submit(_ghost_limbs_behind, video, tracking, feed, stage("looking for limb remnants"))
        if tracking is None:
            done["pose"] = total
        # beside the pose worker, the cores are busy: OpenCV's parallel loops over small working
        # frames would only add overhead (the frame pass: 2.5 s of CPU on one thread, 2.8 s on two)
        with cv2_threads(1) if tracking is not None else contextlib.nullcontext():
            if tracking is not None:  # on a pool thread, at a lower priority (see _yielding)
                stop, shown = threading.Event(), bump("frames")

                def frames_progress(done: int, total: int) -> None:
                    if stop.is_set():  # the caller was interrupted (Ctrl-C): end the pass here
                        raise KeyboardInterrupt
                    shown(done, total)

                job = pool.submit(_yielding, frame_pass, video, progress=frames_progress, track=keep_track, feed=feed)
                try:
                    pp = job.result()
                except BaseException:
                    stop.set()
                    raise
            else:
                pp = frame_pass(video, progress=bump("frames"), track=keep_track, feed=feed)
        try:
            if tracking is None:
                raise NoPersonError("pose not tracked")
            seq, app = tracking.result()
            if ghost_job is not None:
                ghost = ghost_job.result()
        except NoPersonError:
            notes.append("no person found: only the frame-level measures (flicker, structure, camera, exposure, cuts) apply"
                         if pose else "the subject was not tracked (frame-level measures only: flicker, structure, camera, exposure, cuts)")
            seq = PoseSequence.empty(1, info.fps, info.size)
            app = Appearance(times=np.zeros(0), colors=np.zeros((0, 4, 3)), descriptors=np.zeros((0, 128)))
    damage = distinct_warnings(w.message for w in caught if issubclass(w.category, TruncatedVideoWarning))
    for w in caught:  # anything else goes on as it came
        if not issubclass(w.category, TruncatedVideoWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    notes[:0] = damage
    series = list(pp.series)
    if seq.body_present.any():
        series += pose_series(seq, camera=pp)
        series.append(ghost if ghost is not None else _ghost_limbs(video, seq, pp.cuts, stage("looking for limb remnants")))
    series += color_identity_series(app, ref, seq)
    if isinstance(motion, PoseSequence):
        series.append(fidelity_series(seq, motion))
    elif motion is not None:
        driving = extract_pose(motion, stride=max(1, int(round(float(probe_video(motion).fps) / POSE_RATE))), progress=stage("tracking the driving motion"))
        series.append(fidelity_series(seq, driving))
    events = [e for s in series for e in series_events(s)] + cut_events(pp.cuts)
    events.sort(key=lambda e: (e.start_s, -SEVERITIES.index(e.severity)))
    duration = info.duration_s or (float(pp.series[0].t[-1]) if len(pp.series[0].t) else 0.0)
    for e in events:  # a series sampled once a second must not report past the end of the clip
        e.end_s = min(e.end_s, duration)
    measured = {s.spec.kind for s in series if np.isfinite(s.values).sum() >= 3}
    if pose and not any(s.name == "identity.face_distance" for s in series):
        notes.append("no face was measurable (none found, too small or side-on): identity not scored")
    return DriftReport(
        video={"path": str(video), "fps": float(info.fps), "frames": len(pp.series[0].t), "duration_s": round(duration, 3),
               "width": info.width, "height": info.height},
        scores=kind_scores(events, duration, measured),
        series=series,
        events=events,
        accumulation=accumulation(series),
        reference=ref.source if reference is not None else "opening frames",
        notes=notes,
        damaged=bool(damage),
        thumbs=pp.thumbs,
        reference_thumb=ref.thumb if ref.thumb is not None else (pp.thumbs[0][1] if pp.thumbs else None),
        tracking=Tracking(seq, app, ref, cuts=list(pp.cuts)),
        track=pp.track,
    )
