"""The web server's state: what it accepts (:class:`Limits`), where files go, running jobs, and the
checks every upload passes before any work (:class:`WebApp`)."""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from steadymotion.errors import SteadyMotionError
from steadymotion.io.video import VIDEO_INPUT_EXTENSIONS
from steadymotion.web.jobs import JobCancelled, JobError, kill, run_job

IMAGE_TYPES = [".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"]
VIDEO_TYPES = list(VIDEO_INPUT_EXTENSIONS)
CAPTURE_TYPES = [".bvh"]


@dataclass(frozen=True)
class Limits:
    """What the web UI accepts (the CLI has no such limits)."""

    max_upload_mb: int = 500
    max_video_s: float = 300.0
    #: Jobs running at once: one per two cores (each job already uses every core for pose tracking).
    job_slots: int = max(1, (os.cpu_count() or 2) // 2)


class WebApp:
    """State shared by the handlers: where jobs write, the character store, running jobs."""

    def __init__(self, share_dir: Path, store: Path | None = None, limits: Limits = Limits()) -> None:
        self.share_dir = Path(share_dir).expanduser().resolve()
        self.jobs_dir = self.share_dir / "jobs"
        self.thumbs_dir = self.share_dir / "characters"
        self.samples_dir = self.share_dir / "samples"
        for d in (self.jobs_dir, self.thumbs_dir, self.samples_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.store = Path(store).expanduser() if store else None
        self.limits = limits
        self._running: dict[str, object] = {}  # session -> its job's process, once started
        self._active: set[str] = set()  # sessions inside run() (queued jobs are Gradio's to drop)
        self._pending: set[str] = set()  # sessions whose Run was accepted: queued, starting or running
        self._cancelled: set[str] = set()  # cancelled before their process was registered
        self._lock = threading.Lock()

    # -- jobs -------------------------------------------------------------------------------------
    def new_job_dir(self) -> Path:
        d = self.jobs_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:10]}"
        d.mkdir(parents=True)
        return d

    def pending(self, session: str) -> None:
        """A Run of ``session`` was accepted (called by each tab's checks, before the job is queued).

        A Cancel from now on applies to this job, even one that arrives after Gradio has taken it
        off the queue but before :meth:`run` has started it (Gradio cannot stop a function that
        has begun; under load that gap lasts seconds). An older Cancel does not.
        """
        with self._lock:
            self._cancelled.discard(session)
            self._pending.add(session)

    def run(self, name: str, spec: dict, session: str, progress):
        """Run a job for ``session``, driving the Gradio progress bar; returns its result dict."""
        def started(proc) -> None:
            with self._lock:
                self._running[session] = proc
                cancelled = session in self._cancelled
            if cancelled:  # Cancel came while the process was starting
                kill(proc)

        with self._lock:
            self._active.add(session)
            cancelled = session in self._cancelled
        try:
            if cancelled:  # Cancel came while the job was on its way from the queue
                raise JobCancelled("cancelled before it started")
            for msg in run_job(name, spec, on_start=started):
                if msg[0] == "progress":
                    _, stage, done, total = msg
                    progress((done, max(total, done, 1)), desc=stage)
                else:
                    result = msg[1]
                    if result.get("warnings"):
                        result["warnings"] = [self._hide_paths(w, spec) for w in result["warnings"]]
                    return result
        except JobCancelled:
            raise _error("cancelled: the job was stopped before it finished") from None
        except JobError as exc:
            raise _error(self._hide_paths(str(exc), spec)) from None
        finally:
            with self._lock:
                self._running.pop(session, None)
                self._active.discard(session)
                self._pending.discard(session)
                self._cancelled.discard(session)
        raise _error("the job ended without a result")

    def cancel(self, session: str) -> bool:
        """Kill the session's job; one between its start and its process's start dies as it appears."""
        with self._lock:
            proc = self._running.pop(session, None)
            active = session in self._active or session in self._pending
            if active:
                self._cancelled.add(session)
        if proc is not None:
            kill(proc)
        return proc is not None or active

    def _hide_paths(self, message: str, spec: dict) -> str:
        return hide_paths(message, [self.share_dir, *(v for v in spec.values() if isinstance(v, (str, os.PathLike)) and os.path.isabs(str(v)))])

    # -- validation (before any work starts) ---------------------------------------------------
    def _upload(self, path, what: str, kind: str, types: list[str], read, required: bool):
        """Check an upload's presence, type and size, then open it with the library's ``read``."""
        if not path:
            if required:
                raise _error(f"{what}: please upload {kind}")
            return None
        _check_type(path, types, what)
        _check_size(path, self.limits.max_upload_mb, what)
        try:
            return read(path)
        except SteadyMotionError as exc:
            raise _error(f"{what}: {_strip_path(exc, path)}") from None

    def image(self, path, what: str, required: bool = True) -> str | None:
        from steadymotion.io.image import read_image

        return str(path) if self._upload(path, what, "an image", IMAGE_TYPES, read_image, required) is not None else None

    def video(self, path, what: str, required: bool = True) -> str | None:
        from steadymotion.io.video import probe_video

        info = self._upload(path, what, "a video", VIDEO_TYPES, probe_video, required)
        if info is None:
            return None
        dur = info.duration_s or 0.0
        if dur > self.limits.max_video_s:
            raise _error(f"{what} is {dur:.0f} s long; the web UI takes videos up to {self.limits.max_video_s:.0f} s "
                         "(trim it, or use the command line, which has no limit)")
        return str(path)

    def capture(self, path, what: str, required: bool = True) -> str | None:
        """A BVH motion capture: read (naming found, projected) before the job is queued."""
        from steadymotion.motion.bvh import read_motion_bvh

        seq = self._upload(path, what, "a BVH motion capture", CAPTURE_TYPES, read_motion_bvh, required)
        if seq is None:
            return None
        if seq.duration_s > self.limits.max_video_s:
            raise _error(f"{what} is {seq.duration_s:.0f} s long; the web UI takes motions up to {self.limits.max_video_s:.0f} s "
                         "(trim it, or use the command line, which has no limit)")
        return str(path)

    # -- characters ------------------------------------------------------------------------------
    def characters(self):
        from steadymotion.characters import CharacterStore

        return CharacterStore(self.store).list()

    def character_names(self) -> list[str]:
        try:
            return [c.name for c in self.characters()]
        except SteadyMotionError:
            return []

    def thumbnail(self, ch) -> str:
        """A small JPEG of a character's master image, in the share folder (served from there)."""
        import cv2

        out = self.thumbs_dir / f"{ch.image[:16]}.jpg"
        if not out.exists():
            rgb = ch.load_image()
            h, w = rgb.shape[:2]
            k = 256 / max(h, w)
            small = cv2.resize(rgb, (max(1, int(w * k)), max(1, int(h * k))), interpolation=cv2.INTER_AREA)
            tmp = out.with_suffix(".tmp.jpg")
            cv2.imwrite(str(tmp), cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
            os.replace(tmp, out)
        return str(out)


    def rig_preview(self, ch) -> str:
        """The rig preview PNG of a stored character (:mod:`steadymotion.render.puppet.preview`), in the
        share folder, drawn once per rig (named by the rig's hash)."""
        from steadymotion.render.puppet.preview import write_rig_preview

        out = self.thumbs_dir / f"rig-{ch.rig[:16]}.png"
        if not out.exists():
            try:
                rig = ch.load_rig()
            except SteadyMotionError:
                raise _error(f"the stored rig of {ch.name!r} is from an older version of steadymotion: it is rebuilt the "
                             "first time you animate it (or add the character again); its preview shows after that") from None
            write_rig_preview(rig, out)
        return str(out)


def _error(message: str):
    import gradio as gr

    return gr.Error(message, duration=None, print_exception=False)


def _check_type(path, allowed: list[str], what: str) -> None:
    ext = Path(str(path)).suffix.lower()
    if ext not in allowed:
        raise _error(f"{what}: {ext or 'no extension'} files are not accepted; use one of {', '.join(allowed)}")


def _check_size(path, max_mb: int, what: str) -> None:
    size = Path(str(path)).stat().st_size
    if size == 0:
        raise _error(f"{what}: the file is empty; upload it again")
    if size > max_mb * 1024 * 1024:
        raise _error(f"{what} is {size / 2**20:.0f} MB; the web UI takes files up to {max_mb} MB")


def _strip_path(exc: Exception, path) -> str:
    """The library's message about an upload, naming it by its file name only."""
    return hide_paths(str(exc), [path])


def hide_paths(message: str, paths) -> str:
    """``message`` with every server-side path in or under ``paths`` (uploads, the job's folder,
    the share folder) shortened to its file name: the page shows the names of the user's files,
    never the server's folders."""
    import re

    roots = {os.path.abspath(str(p)) for p in paths if p and isinstance(p, (str, os.PathLike))}
    roots |= {os.path.dirname(r) for r in roots if os.path.splitext(r)[1]}  # an upload's own folder
    roots = {r for r in roots if r not in ("", os.sep)}
    if not roots:
        return message
    # longest first, each followed by the rest of its path up to a quote, a space or punctuation
    pattern = "|".join(re.escape(r) + r"(?:/[^\s'\",;:()]*)?(?![\w-]|\.\w)" for r in sorted(roots, key=len, reverse=True))
    return re.sub(pattern, lambda m: os.path.basename(m.group(0).rstrip("/.")) or m.group(0), message)


def clean_share_dir(share_dir: Path, older_than_s: float = 7 * 24 * 3600) -> int:
    """Delete job folders older than ``older_than_s``; returns how many went."""
    n = 0
    now = time.time()
    for d in (Path(share_dir) / "jobs").glob("*"):
        if d.is_dir() and now - d.stat().st_mtime > older_than_s:
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n
