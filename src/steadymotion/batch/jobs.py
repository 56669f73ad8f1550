"""One input of a batch, start to end: :func:`run_item` calls the single-item pipeline its kind
names (the same the CLI's ``analyze``, ``check`` and ``animate`` call), writes the item's files into
its own folder (each written then renamed) and returns the row for the ledger. Every engine runs
this one function, so a file scores the same on a process pool as on Ray.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

from steadymotion.batch.inputs import BatchItem
from steadymotion.errors import SteadyMotionWarning, distinct_warnings, error_message
from steadymotion.io.atomic import atomic_output

#: Height of the thumbnail written for each input (pixels).
THUMB_HEIGHT = 160


def base_row(item: BatchItem) -> dict:
    """The fields every row of ``item`` has, whatever became of it."""
    return {"input": item.input, "kind": item.kind, "key": item.key, "source": item.source,
            "inputs": dict(item.files), "options": dict(item.options)}


def run_item(item: BatchItem, out_dir: str) -> dict:
    """Process ``item`` into ``out_dir/<item.folder_name>/`` and return its ledger row.

    Never raises for a bad input: a :class:`~steadymotion.errors.SteadyMotionError` (or anything
    else) becomes ``status: "error"`` with the one-line message the CLI would print.
    """
    started = time.perf_counter()
    row = base_row(item)
    if item.problem is not None:  # found while reading the inputs: nothing to run
        row.update(status="error", error=item.problem)
    else:
        row.update(_process(item, Path(out_dir)))
    row["seconds"] = round(time.perf_counter() - started, 2)
    row["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return row


def _process(item: BatchItem, out: Path) -> dict:
    folder = out / item.folder_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(".*.part*"):  # a run killed while writing left its temporary files
            with contextlib.suppress(OSError):
                stale.unlink()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SteadyMotionWarning)
            outputs, scores, details = KIND_RUNNERS[item.kind](item, folder)
    except Exception as exc:  # noqa: BLE001 - one broken input is one error row, never the end of the batch
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when the input left nothing in it
        return {"status": "error", "error": error_message(exc)}
    return {"status": "ok", "outputs": {name: str(Path(item.folder_name) / p.name) for name, p in outputs.items()},
            "scores": scores, "details": details,
            "warnings": distinct_warnings(w.message for w in caught if issubclass(w.category, SteadyMotionWarning))}


def _fit(rgb):
    """``rgb`` scaled to the thumbnail height."""
    import cv2

    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, round(w * THUMB_HEIGHT / h)), THUMB_HEIGHT), interpolation=cv2.INTER_AREA)


def _write_thumb(path: Path, rgb) -> Path:
    from steadymotion.drift.meter import jpeg

    with atomic_output(path) as tmp:
        tmp.write_bytes(jpeg(_fit(rgb)))
    return path


def _drift_thumb(report, path: Path) -> Path | None:
    """The frame where the worst event peaks (the middle of the clip when nothing drifted)."""
    import cv2
    import numpy as np

    from steadymotion.drift.series import SEVERITIES

    events = sorted(report.events, key=lambda e: (SEVERITIES.index(e.severity), e.score))
    t = (events[-1].peak_s if events[-1].peak_s is not None else events[-1].start_s) if events else \
        0.5 * float(report.video.get("duration_s") or 0.0)
    data = report.thumb_at(t)
    if not data:
        return None
    return _write_thumb(path, cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1])


def _drift_summary(report) -> tuple[dict, dict]:
    return dict(report.scores), {"worst": report.worst(), "events": len(report.events), "verdict": report.verdict(),
                                 "notes": list(report.notes)}


def _analyze(item: BatchItem, folder: Path):
    from steadymotion.drift import analyze_video

    report = analyze_video(item.files["video"], reference=item.files.get("reference"), motion=item.files.get("motion"))
    outputs = {"report": report.write_html(folder / "report.html"), "json": report.write_json(folder / "report.json")}
    thumb = _drift_thumb(report, folder / "thumb.jpg")
    if thumb is not None:
        outputs["thumb"] = thumb
    scores, details = _drift_summary(report)
    return outputs, scores, details


def _check(item: BatchItem, folder: Path):
    import json

    import numpy as np
    from steadymotion.batch.dashboard import write_findings_html

    from steadymotion.io.image import read_image
    from steadymotion.io.video import VideoReader
    from steadymotion.preflight import check_inputs

    report = check_inputs(item.files["image"], item.files["motion"], orientation=item.options["orientation"],
                          prompt=item.options["prompt"])
    data = report.to_dict()
    outputs = {"report": write_findings_html(data, folder / "report.html"), "json": folder / "findings.json"}
    with atomic_output(outputs["json"]) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
    parts = [_fit(read_image(item.files["image"]).rgb)]  # the character beside the motion's first frame
    with VideoReader(item.files["motion"], max_side=640) as video:
        first = next(iter(video), None)
    if first is not None:
        parts.append(_fit(first.image))
    outputs["thumb"] = _write_thumb(folder / "thumb.jpg", np.hstack(parts))
    counts = {level: sum(f.severity.value == level for f in report.findings) for level in ("error", "warn", "info")}
    scores = {"errors": counts["error"], "warnings": counts["warn"], "info": counts["info"]}
    return outputs, scores, {"ok": report.ok, "codes": [f.code for f in report.findings]}


def _animate(item: BatchItem, folder: Path):
    from steadymotion.pipelines import make_video, parse_size

    o = item.options
    made = make_video(item.files["motion"], folder / "animated.mp4", image=item.files["image"],
                      orientation=o["orientation"], prompt=o["prompt"], end_image=item.files.get("end_image"),
                      background=item.files.get("background") or o["background"], size=parse_size(o["size"]),
                      sound=o["sound"], max_seconds=o["max_seconds"], follow_camera=not o["static_background"],
                      report=folder / "report.html")
    outputs = {"video": made.output, "report": made.report_files[0], "json": made.report_files[1]}
    thumb = _drift_thumb(made.drift, folder / "thumb.jpg")
    if thumb is not None:
        outputs["thumb"] = thumb
    scores, details = _drift_summary(made.drift)
    a = made.animation
    details.update(frames=a.frames, fps=a.fps, size=list(a.size), notes=details["notes"] + list(a.notes))
    return outputs, scores, details


KIND_RUNNERS = {"analyze": _analyze, "check": _check, "animate": _animate}
