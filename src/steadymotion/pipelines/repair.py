"""The repair pipeline: measure drift, undo what was found, measure again.

:func:`repair_video` is what ``steadymotion repair``, the web UI's Repair tab and the Python API
call: the drift meter (:func:`steadymotion.drift.analyze_video`), whose frame pass also measures
what the repairs need of every frame (:mod:`steadymotion.repair.track`: no second pass), the
corrections (:mod:`steadymotion.repair.plan`) applied while streaming the video into the output
(audio, frame count, rate and size kept; written to a temporary file and renamed), then the meter
again on the result. Where the repairs only recoloured frames (flicker, colour; no stabilising or
join shift moved any), the second measurement takes the subject's skeleton from the first instead
of tracking it again: recolouring changes no pose. The colours, identity and every frame-level
measure are still measured on the output's own frames (its report says so in its notes). A frame
that was moved is tracked again: the first skeleton is smoothed over time, so moving it by the
stabilising shifts would not give the moved content's positions.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from steadymotion.errors import OutputError

#: x264 quality of a repaired video (visually lossless and then some: the frames a repair leaves
#: alone come through at ~50 dB PSNR).
REPAIR_CRF = 12
#: x264 speed of a repaired video: "superfast" with veryfast's macroblock tree (and its 10-frame
#: lookahead) back: half veryfast's encoding time at 720p (7.1-7.3 against 12.8-13.6 ms a frame),
#: files 21-24 % larger (plain superfast: 2.4x) and 0.15-0.4 dB PSNR below veryfast's (43.2-42.6 dB
#: against the input).
REPAIR_PRESET, REPAIR_X264 = "superfast", "mbtree=1:rc-lookahead=10"
#: Side-by-side before/after frames kept for the report (height in pixels, how many at most).
PAIR_H, MAX_PAIRS = 240, 8


@dataclass
class RepairResult:
    """What :func:`repair_video` did.

    Attributes
    ----------
    output : Path
    before, after : DriftReport
        The drift meter on the input and (unless ``measure_after=False``) on the output.
    kinds : tuple of str
        The kinds that were asked for.
    repairs : dict
        Per kind repaired: its spans and the largest correction (:meth:`RepairPlan.summary`).
    copied : bool
        Nothing needed repair: the output is the input's bytes (or, for another container, its frames re-encoded).
    frames, fps, size
    timings : dict
        Seconds per stage (``measure``, ``track`` (planning; the tracking is part of ``measure``),
        ``repair``, ``measure_after``).
    pairs : list of (t, kind, JPEG bytes)
        Before | after frames side by side, where repairs act.
    report_files : list of Path
    """

    output: Path
    before: object
    after: object | None
    kinds: tuple
    repairs: dict
    copied: bool
    frames: int
    fps: float
    size: tuple[int, int]
    timings: dict = field(default_factory=dict)
    pairs: list = field(default_factory=list, repr=False)
    report_files: list = field(default_factory=list)

    def to_dict(self) -> dict:
        b, a = self.before.scores, (self.after.scores if self.after is not None else None)
        return {"version": 1, "input": self.before.video.get("path"), "output": str(self.output), "kinds": list(self.kinds),
                "copied": self.copied, "frames": self.frames, "fps": self.fps, "size": list(self.size),
                "repairs": self.repairs, "scores_before": b, "scores_after": a,
                "events_before": [e.to_dict() for e in self.before.events],
                "events_after": None if self.after is None else [e.to_dict() for e in self.after.events],
                "timings_s": {k: round(v, 2) for k, v in self.timings.items()}}


def repair_video(
    video: str | Path,
    output: str | Path,
    *,
    reference=None,
    only=None,
    report: str | Path | None = None,
    measure_after: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> RepairResult:
    """Repair the drift the meter finds in ``video`` and write ``output`` (H.264 MP4, audio kept).

    Parameters
    ----------
    video : path
    output : path
        ``.mp4`` (``.m4v``, ``.mov``, ``.mkv``); written to a temporary file and renamed: never half-written.
    reference : path or ndarray (H, W, 3) uint8, optional
        How the subject should look (colours are pulled back to it); default: the clip's opening.
    only : str or list of str, optional
        Repair only these of ``flicker, color, jitter, joins`` (default: all).
    report : path, optional
        Write the before/after report here as HTML, with its JSON beside it (implies measuring the output).
    measure_after : bool
        Run the drift meter on the result (``after``); needed for the report.
    progress : callable(stage, done, total), optional

    Returns
    -------
    RepairResult

    Examples
    --------
    >>> res = repair_video("generated.mp4", "fixed.mp4", only="flicker,color", report="repair.html")  # doctest: +SKIP
    >>> res.before.scores["color"], res.after.scores["color"]  # doctest: +SKIP
    """
    from steadymotion.drift import analyze_video
    from steadymotion.io.atomic import check_writable
    from steadymotion.io.image import read_image
    from steadymotion.io.video import check_video_output, probe_video
    from steadymotion.repair.plan import parse_kinds, plan_repairs
    from steadymotion.repair.track import track_video

    kinds = parse_kinds(only)
    inputs = [video] if reference is None or isinstance(reference, np.ndarray) else [video, reference]
    output = check_video_output(output, inputs=inputs)
    if report is not None:
        report = check_writable(report, inputs=inputs + [output])
        if Path(report).suffix.lower() not in (".html", ".htm"):
            raise OutputError(f"the report {str(report)!r} must be an .html file (its JSON is written beside it)")
        check_writable(Path(report).with_suffix(".json"), inputs=inputs + [output])
        measure_after = True
    probe_video(video)  # a missing, corrupt or empty video fails here, before any work
    if reference is not None and not isinstance(reference, np.ndarray):
        read_image(reference)

    def stage(name: str):
        return (lambda done, total: progress(name, done, total)) if progress else None

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    colour = "color" in kinds
    # the meter's frame pass also measures what the repairs need of every frame (one pass, not two)
    before = analyze_video(video, reference=reference, progress=progress, pose=colour, keep_track=True)
    timings["measure"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    track = before.track if before.track is not None else track_video(video, progress=stage("tracking light and motion"))
    plan = plan_repairs(before, track, kinds)
    timings["track"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    same_bytes = False
    if plan.empty():
        frames, fps, size, same_bytes = _pass_through(video, output, stage("copying (nothing to repair)"))
        pairs: list = []
    else:
        frames, fps, size, pairs = _apply(video, output, plan, before, stage("repairing"))
    timings["repair"] = time.perf_counter() - t0
    after = None
    if measure_after and same_bytes:
        # the output is the input, byte for byte: measuring it again would find the same
        after = replace(before, video={**before.video, "path": str(output)})
    elif measure_after:
        t0 = time.perf_counter()
        # recolouring changes no pose: where no frame was moved, the output's skeleton is the input's
        # (not tracked again); colours, identity and every frame-level measure are measured on the
        # output's own frames (said in its notes). Moved frames are tracked again: the input's
        # skeleton is smoothed over time, and shifting it by the stabilisation's frame-to-frame
        # corrections would add jitter that the moved frames do not have.
        moved = bool(np.any(np.abs(plan.shift) >= 0.05))
        reuse = before.tracking if colour and not moved else None
        after = analyze_video(output, reference=reference, progress=progress, pose=colour, reuse=reuse)
        after.video["path"] = str(output)
        timings["measure_after"] = time.perf_counter() - t0
    result = RepairResult(output=Path(output), before=before, after=after, kinds=kinds, repairs=plan.summary(),
                          copied=plan.empty(), frames=frames, fps=fps, size=size, timings=timings, pairs=pairs)
    if report is not None:
        from steadymotion.io.atomic import atomic_output
        from steadymotion.repair.report import write_repair_html

        js = Path(report).with_suffix(".json")
        with atomic_output(js) as tmp:
            tmp.write_text(json.dumps(result.to_dict(), indent=1) + "\n")
        result.report_files = [write_repair_html(result, report), js]
    return result


def _pass_through(video, output: Path, progress) -> tuple[int, float, tuple[int, int], bool]:
    """Nothing to repair: the output is the input. The same bytes when the input already is an H.264/HEVC
    MP4/MOV (and the output's name asks for one); otherwise its frames re-encoded at :data:`REPAIR_CRF`
    with its audio. Returns frames, fps, size and whether the bytes are the input's."""
    import av

    from steadymotion.io.atomic import atomic_output
    from steadymotion.io.video import VideoReader, VideoWriter, probe_video

    info = probe_video(video)
    with av.open(str(video)) as c:
        fmt = c.format.name
    if "mp4" in fmt.split(",") and output.suffix.lower() in (".mp4", ".m4v", ".mov") and info.codec in ("h264", "hevc"):
        with atomic_output(output) as tmp:
            shutil.copyfile(video, tmp)
        if progress is not None:
            progress(1, 1)
        return info.frame_count or 0, float(info.fps), info.size, True
    n = 0
    with VideoReader(video) as reader, VideoWriter(output, reader.fps, audio_from=video, crf=REPAIR_CRF,
                                                   preset=REPAIR_PRESET, x264_params=REPAIR_X264) as writer:
        total = reader.info.frame_count or 0
        for frame in reader:
            writer.write(frame.image)
            n += 1
            if progress is not None and n % 10 == 0:
                progress(n, max(total, n))
        size = reader.output_size
        fps = float(reader.fps)
    return n, fps, size, False


def _apply(video, output: Path, plan, before, progress):
    """Stream ``video`` through the plan into ``output``; keep a few before/after pairs for the report."""
    from steadymotion.drift.meter import FLOW_SIDE, jpeg
    from steadymotion.io.encoder import ThreadedVideoWriter
    from steadymotion.io.video import VideoReader, read_ahead
    from steadymotion.perception.segmentation import PersonSegmenter
    from steadymotion.repair.colour import shrink
    from steadymotion.repair.plan import repair_frame

    moments = _pair_times(plan)
    tracking = getattr(before, "tracking", None)
    seq = tracking.seq if tracking is not None else None
    segmenter = PersonSegmenter("landscape") if plan.regions else None
    pairs = []
    n = 0
    previous = None
    try:
        # the encoder works in a thread: it encodes each frame (PyAV lets go of the GIL) while this
        # thread repairs the next (mostly in OpenCV and NumPy, which let go of it too), and the
        # frames are decoded in another, ahead of their use
        options = {"audio_from": video, "crf": REPAIR_CRF, "preset": REPAIR_PRESET, "x264_params": REPAIR_X264}
        with (VideoReader(video) as reader, ThreadedVideoWriter(output, reader.fps, **options) as writer,
              read_ahead(reader) as frames):
            w, h = reader.output_size
            s = FLOW_SIDE / max(w, h)
            small = (max(1, round(w * s)), max(1, round(h * s)))

            def person_prob(img):
                return segmenter.probability(shrink(img, small))

            total = reader.info.frame_count or 0
            for frame in frames:
                img = frame.image
                i = frame.index
                if plan.touches(i):
                    fill = previous if i > 0 and i < len(plan.t) and not _cut_between(plan, i) else None
                    out = repair_frame(plan, img, i, frame.t, fill, seq, person_prob)
                else:
                    out = img
                writer.write(out)
                previous = out
                if moments and frame.t >= moments[0][0] - 1e-6:
                    _, kind = moments.pop(0)
                    pairs.append((frame.t, kind, jpeg(_side_by_side(img, out))))
                n += 1
                if progress is not None and n % 10 == 0:
                    progress(n, max(total, n))
            fps = float(reader.fps)
    finally:
        if segmenter is not None:
            segmenter.close()
    return n, fps, (w, h), pairs


def _cut_between(plan, i: int) -> bool:
    return plan.cuts is not None and i < len(plan.cuts) and bool(plan.cuts[i])


def _pair_times(plan) -> list[tuple[float, str]]:
    """When to keep a before/after pair: the middle of each repaired span (joins: just after the join)."""
    out = []
    for kind, spans in plan.spans.items():
        if kind == "joins":
            out += [(j.t + 0.05, "joins") for j in plan.joins[:3]]
            continue
        for a, b in spans[:3]:
            out.append(((a + b) / 2, kind))
    return sorted(out)[:MAX_PAIRS]


def _side_by_side(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    import cv2

    h, w = before.shape[:2]
    tw = max(1, round(w * PAIR_H / h))
    a = cv2.resize(before, (tw, PAIR_H), interpolation=cv2.INTER_AREA)
    b = cv2.resize(after, (tw, PAIR_H), interpolation=cv2.INTER_AREA)
    gap = np.full((PAIR_H, 6, 3), 255, np.uint8)
    return np.hstack([a, gap, b])
