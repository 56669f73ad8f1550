"""Heavy work for the web UI, run in a child process that can be cancelled.

The web server never runs MediaPipe, the renderer or the drift meter itself: each job is one
``spawn``-ed process (in its own process group, so the pose workers it starts die with it) that
reports progress and its result through a queue. The job functions call the same library
functions as the CLI and return plain dicts (paths and tables), never the heavy objects.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from steadymotion.errors import SteadyMotionError, distinct_warnings, error_message

Progress = Callable[[str, int, int], None]


class JobError(Exception):
    """A job failed; ``str(exc)`` is the one-line message to show the user."""


class JobCancelled(Exception):
    """The job was cancelled (its process group was killed)."""


# -- the jobs (run in the child) -------------------------------------------------------------------

def findings_rows(findings) -> list[list[str]]:
    """Findings as table rows: severity, code, what was found, fix."""
    return [[f.severity.value, f.code, f.message, f.fix] for f in findings]


def drift_summary(report, out_dir: Path, stem: str) -> dict:
    """What the UI shows of a drift report: scores, events, plots (PNG), thumbnails, JSON + HTML."""
    from steadymotion.drift.report import plot_pngs

    out_dir.mkdir(parents=True, exist_ok=True)
    html = report.write_html(out_dir / f"{stem}_drift.html")
    js = report.write_json(out_dir / f"{stem}_drift.json")
    pngs = plot_pngs(report)
    plots = str(_stack_pngs([png for _, png in pngs], out_dir / f"{stem}_series.png")) if pngs else None
    events = []
    thumbs = []
    for k, e in enumerate(sorted(report.events, key=lambda e: e.start_s)):
        events.append([e.kind, e.severity, round(e.start_s, 2), round(e.end_s, 2), e.detail])
        jpeg = report.thumb_at(e.start_s)
        if jpeg is not None and k < 24:
            p = out_dir / f"{stem}_event{k:02d}.jpg"
            p.write_bytes(jpeg)
            thumbs.append((str(p), f"{e.kind} · {e.severity} · {e.start_s:.2f} s"))
    scores = [[k, "n/a" if v is None else f"{float(v):.0f}"] for k, v in report.scores.items()]
    verdict = report.verdict()
    if report.reference not in ("opening frames", ""):
        # the server-side path of an upload means nothing to the person reading the page
        verdict = verdict.replace(str(report.reference), Path(str(report.reference)).name)
    return {"scores": scores, "overall": report.scores.get("overall"), "verdict": verdict,
            "events": events, "plots": plots, "thumbs": thumbs, "html": str(html), "json": str(js)}


def _stack_pngs(pngs: list[bytes], path: Path) -> Path:
    """The per-kind plots one under another in one PNG (one picture to scroll, not a carousel)."""
    import cv2
    import numpy as np

    ims = [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR) for b in pngs]
    w = max(im.shape[1] for im in ims)
    rows = [cv2.copyMakeBorder(im, 0, 12, 0, w - im.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)) for im in ims]
    tmp = path.with_suffix(".tmp.png")
    top = np.full((48, w, 3), 255, np.uint8)  # room for the component's label over the picture
    cv2.imwrite(str(tmp), np.vstack([top] + rows))
    os.replace(tmp, path)
    return path


def animate_job(spec: dict, progress: Progress) -> dict:
    """Preflight, animate, then measure the result's drift (each optional per ``spec``): :func:`make_video`."""
    from steadymotion.pipelines import PreflightFailed, make_video

    out_dir = Path(spec["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        made = make_video(spec["motion"], out_dir / "animated.mp4", image=spec.get("image"), character=spec.get("character"),
                          store=spec.get("store"), orientation=spec["orientation"], prompt=spec.get("prompt") or None,
                          preflight=spec.get("preflight", True), stop_on_error=spec.get("stop_on_error", True),
                          measure=spec.get("measure", True), end_image=spec.get("end_image"),
                          background=spec.get("background") or None, sound=spec.get("sound", True),
                          max_seconds=spec.get("max_seconds"), mode=spec.get("mode", "animate"),
                          expressions=spec.get("expressions", True), progress=progress)
    except PreflightFailed as exc:
        raise JobError(f"{exc} — fix the inputs, or untick 'stop when the check finds an error'") from None
    res = made.animation
    result: dict = {"preflight": findings_rows(made.check.findings) if made.check else [],
                    "preflight_ok": made.check.ok if made.check else True}
    result.update(video=str(res.output), size=list(res.size), frames=res.frames, fps=float(res.fps),
                  duration_s=res.duration_s, notes=list(res.notes), render_fps=res.render_fps,
                  camera=[d.describe() for d in res.directives.understood], ignored=list(res.directives.ignored))
    if made.drift is not None:
        result["drift"] = drift_summary(made.drift, out_dir, "animated")
    return result


def analyze_job(spec: dict, progress: Progress) -> dict:
    from steadymotion.drift import analyze_video

    report = analyze_video(spec["video"], reference=spec.get("reference"), motion=spec.get("motion"), progress=progress)
    return drift_summary(report, Path(spec["out_dir"]), Path(spec["video"]).stem[:40] or "video")


def repair_job(spec: dict, progress: Progress) -> dict:
    """Measure, repair, measure again (:func:`steadymotion.pipelines.repair_video`); the repaired video,
    scores before/after, what was repaired, before|after frames and the report files."""
    from steadymotion.pipelines import repair_video
    from steadymotion.repair.report import KIND_WORDS

    out_dir = Path(spec["out_dir"])
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(spec["video"]).stem[:40] or "video"
    res = repair_video(spec["video"], out_dir / f"{stem}_repaired.mp4", reference=spec.get("reference"),
                       only=spec.get("only") or None, report=out_dir / f"{stem}_repair.html", progress=progress)
    after = res.after.scores if res.after is not None else {}
    scores = [[k, "n/a" if v is None else f"{float(v):.0f}", "n/a" if after.get(k) is None else f"{float(after[k]):.0f}"]
              for k, v in res.before.scores.items()]
    done = []
    for kind in res.kinds:
        info = res.repairs.get(kind)
        spans = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in info["spans"][:6]) if info else "nothing found to repair"
        done.append(f"- **{KIND_WORDS[kind]}**: {spans}")
    pairs = []
    for k, (t, kind, jpg) in enumerate(res.pairs):
        p = out_dir / f"{stem}_pair{k:02d}.jpg"
        p.write_bytes(jpg)
        pairs.append((str(p), f"{KIND_WORDS.get(kind, kind)} · {t:.2f} s · before | after"))
    return {"video": str(res.output), "scores": scores, "repairs": "\n".join(done), "copied": res.copied,
            "pairs": pairs, "html": str(res.report_files[0]), "json": str(res.report_files[1]),
            "overall": [res.before.scores.get("overall"), after.get("overall")]}


def check_job(spec: dict, progress: Progress) -> dict:
    from steadymotion.preflight import check_inputs

    report = check_inputs(spec["image"], spec["motion"], orientation=spec["orientation"],
                          prompt=spec.get("prompt") or None, progress=progress)
    return {"findings": findings_rows(report.findings), "ok": report.ok}


def character_add_job(spec: dict, progress: Progress) -> dict:
    from steadymotion.characters import CharacterStore

    progress("rigging the character", 0, 1)
    ch = CharacterStore(spec.get("store")).add(spec["name"], spec["image"], notes=spec.get("notes") or "")
    progress("rigging the character", 1, 1)
    return {"name": ch.name}


def sample_job(spec: dict, progress: Progress) -> dict:
    """The built-in sample inputs, made once: the full-body character the package draws and a video of
    it doing the bundled jumping-jacks capture (the page's motion input takes a video)."""
    from steadymotion.io.image import write_image
    from steadymotion.samples import make_capture_clip, sample_character

    out = Path(spec["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    image, motion = out / "character.png", out / "jumping_jacks.mp4"
    progress("making the sample inputs", 0, 1)
    if not image.exists():
        write_image(image, sample_character())
    if not motion.exists():
        make_capture_clip(motion, progress=lambda stage, done, total: progress(f"making the sample motion: {stage}", done, total))
    progress("making the sample inputs", 1, 1)
    return {"image": str(image), "motion": str(motion)}


JOBS: dict[str, Callable[[dict, Progress], dict]] = {"animate": animate_job, "analyze": analyze_job, "repair": repair_job,
                                                     "check": check_job,
                                                     "character_add": character_add_job, "sample": sample_job}


# -- the child process ------------------------------------------------------------------------------

def _orphan_watch(parent: int) -> None:
    """End this job and its workers when the server that started it is gone (no orphans)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os.killpg(0, signal.SIGKILL)


def _child(name: str, spec: dict, q, server: int) -> None:
    import threading

    os.setsid()  # own process group: cancelling kills the pose workers too
    # ``server`` is the pid that started this job, passed in: a server killed while this process was
    # still starting (imports take seconds under load) has already handed it to another parent, so
    # reading os.getppid() here would watch the wrong process and leave an orphan
    threading.Thread(target=_orphan_watch, args=(server,), daemon=True).start()
    last = [0.0, ""]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != last[1] or now - last[0] > 0.25 or done >= total:
            last[0], last[1] = now, stage
            q.put(("progress", stage, int(done), int(total)))

    try:
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = JOBS[name](spec, progress)
        out["warnings"] = distinct_warnings(w.message for w in caught if issubclass(w.category, UserWarning))
        q.put(("done", out))
    except (SteadyMotionError, JobError) as exc:
        q.put(("error", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - out of memory, or a bug: say so, without a trace
        if not isinstance(exc, MemoryError):
            traceback.print_exc()
        q.put(("error", error_message(exc)))


def run_job(name: str, spec: dict, *, on_start: Callable[[mp.Process], None] | None = None,
            poll_s: float = 0.2) -> Iterator[tuple]:
    """Run job ``name`` in a child process; yield ``("progress", stage, done, total)`` while it
    works and finally ``("done", result)``. Raises :class:`JobError` with the job's message when it
    fails, :class:`JobCancelled` when its process was killed. Closing the generator early (a
    cancelled request) kills the job's whole process group.
    """
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, spec, q, os.getpid()), daemon=True)
    proc.start()
    if on_start is not None:
        on_start(proc)
    finished = False
    try:
        while True:
            try:
                msg = q.get(timeout=poll_s)
            except queue.Empty:
                if not proc.is_alive():
                    # drain a last message that raced the exit
                    try:
                        msg = q.get(timeout=0.5)
                    except queue.Empty:
                        code = proc.exitcode
                        if code is not None and code < 0:
                            raise JobCancelled(f"the job was stopped (signal {-code})") from None
                        raise JobError(f"the job ended without a result (exit code {code}); see the server log") from None
                else:
                    continue
            if msg[0] == "progress":
                yield msg
            elif msg[0] == "done":
                finished = True
                yield msg
                return
            else:
                finished = True
                raise JobError(msg[1])
    finally:
        if not finished:
            kill(proc)
        proc.join(timeout=5)


def kill(proc: mp.Process) -> None:
    """Kill a job's process and every process it started (its process group)."""
    if proc.pid is None or not proc.is_alive():
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # not yet a group leader (killed before its setsid): the process alone is enough
    proc.kill()
