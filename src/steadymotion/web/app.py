"""The web UI: a Gradio Blocks app over the same library functions as the CLI.

Tabs: Animate (image or stored character + motion video -> video, preflight findings, drift of the
result), Analyze (drift of any video: scores, plots with event spans, events with their frames,
JSON + HTML report), Check & prompt (preflight findings; prompt lint), Characters (the character
memory). The UI holds no logic of its own: inputs are validated with the library's readers, heavy
work runs as cancellable child processes (:mod:`.jobs`) behind one queue sized to the CPU, and
every error reaches the page as one readable line (``gr.Error``), never a stack trace.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from steadymotion.errors import InvalidOptionError, SteadyMotionError
from steadymotion.web.jobs import JobCancelled, JobError, kill, run_job

log = logging.getLogger("steadymotion.web")

ORIENTATION_CHOICES = [("follow the video (position, scale, facing, camera)", "video"),
                       ("keep the image's position, scale and facing", "image")]
FINDING_HEADERS = ["severity", "code", "what was found", "fix"]
FINDING_WIDTHS = ["8%", "17%", "45%", "30%"]
EVENT_HEADERS = ["kind", "severity", "start (s)", "end (s)", "what drifted"]
EVENT_WIDTHS = ["10%", "9%", "8%", "8%", "65%"]
IMAGE_TYPES = [".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"]
VIDEO_TYPES = [".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"]


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
        self._cancelled: set[str] = set()  # cancelled before their process was registered
        self._lock = threading.Lock()

    # -- jobs -------------------------------------------------------------------------------------
    def new_job_dir(self) -> Path:
        d = self.jobs_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:10]}"
        d.mkdir(parents=True)
        return d

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
        try:
            for msg in run_job(name, spec, on_start=started):
                if msg[0] == "progress":
                    _, stage, done, total = msg
                    progress((done, max(total, done, 1)), desc=stage)
                else:
                    return msg[1]
        except JobCancelled:
            raise _error("cancelled: the job was stopped before it finished") from None
        except JobError as exc:
            raise _error(str(exc)) from None
        finally:
            with self._lock:
                self._running.pop(session, None)
                self._active.discard(session)
                self._cancelled.discard(session)
        raise _error("the job ended without a result")

    def cancel(self, session: str) -> bool:
        """Kill the session's job; one between its start and its process's start dies as it appears."""
        with self._lock:
            proc = self._running.pop(session, None)
            active = session in self._active
            if active:
                self._cancelled.add(session)
        if proc is not None:
            kill(proc)
        return proc is not None or active

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
    """The library's message without the server-side temporary path of the upload."""
    msg = str(exc)
    for p in {str(path), repr(str(path)), str(Path(str(path)).name)}:
        msg = msg.replace(p, "the upload")
    return msg


def _session(request) -> str:
    return getattr(request, "session_hash", None) or "anonymous"


def _scores_markdown(drift: dict | None, title: str = "Drift of the result") -> str:
    if not drift:
        return ""
    overall = drift.get("overall")
    head = f"### {title}: **{overall:.0f}** / 100\n\n" if overall is not None else ""
    return head + drift["verdict"]


def _thumb_grid(items: list[tuple[str, str]]) -> str:
    """Character thumbnails as an HTML grid (files from the app's own thumbnail folder)."""
    import html

    if not items:
        return "<p style='color:#888'>No characters stored yet: add one below.</p>"
    cells = "".join(
        f"<figure style='margin:0;text-align:center'><img src='/gradio_api/file={html.escape(path)}' alt='{html.escape(name)}' "
        f"style='height:160px;max-width:160px;object-fit:contain;border-radius:6px;background:#f3f4f6'>"
        f"<figcaption style='font-size:.9em;margin-top:4px'>{html.escape(name)}</figcaption></figure>"
        for path, name in items)
    return f"<div style='display:flex;flex-wrap:wrap;gap:14px'>{cells}</div>"


# -- the Blocks app -----------------------------------------------------------------------------------

def build_app(app: WebApp):
    """The Gradio Blocks of the web UI (not launched)."""
    import gradio as gr

    slots = dict(concurrency_limit=app.limits.job_slots, concurrency_id="cpu")

    with gr.Blocks(title="steadymotion") as demo:
        gr.Markdown("# steadymotion\nDrift-free character animation on a CPU, and a drift meter for any video. "
                    "Files stay on this machine; one job runs at a time per CPU budget and others wait in line.")
        with gr.Tabs():
            # ---------------------------------------------------------------- Animate
            with gr.Tab("Animate", id="animate"):
                with gr.Row():
                    with gr.Column():
                        a_image = gr.Image(label="Character image (one person, head to hips at least)", type="filepath",
                                           sources=["upload"], height=300, elem_id="a_image")
                        a_character = gr.Dropdown(label="…or a stored character", choices=[], value=None,
                                                  allow_custom_value=False, elem_id="a_character")
                        a_motion = gr.Video(label="Motion reference video", sources=["upload"], height=300, elem_id="a_motion")
                    with gr.Column():
                        a_orientation = gr.Radio(ORIENTATION_CHOICES, value="video", label="Orientation")
                        a_prompt = gr.Textbox(label="Prompt (camera directives are read from it)", lines=2,
                                              placeholder="e.g. fixed lens, slow zoom in on her face", elem_id="a_prompt")
                        with gr.Accordion("More options", open=False):
                            a_end = gr.Image(label="End image (the clip ends in this pose)", type="filepath", sources=["upload"], height=200)
                            a_bg_color = gr.Textbox(label="Background colour (#rrggbb or a name; empty keeps the image's)", value="")
                            a_bg_image = gr.Image(label="…or a background image", type="filepath", sources=["upload"], height=160)
                            a_max = gr.Number(label="Use only the first seconds of the reference (0 = all)", value=0, minimum=0,
                                              elem_id="a_max")
                            a_sound = gr.Checkbox(label="Keep the reference's sound", value=True)
                            a_preflight = gr.Checkbox(label="Check the inputs first (preflight)", value=True)
                            a_stop = gr.Checkbox(label="Stop when the check finds an error", value=True)
                            a_measure = gr.Checkbox(label="Measure the result's drift", value=True)
                        with gr.Row():
                            a_run = gr.Button("Animate", variant="primary", elem_id="a_run")
                            a_cancel = gr.Button("Cancel", variant="stop", elem_id="a_cancel")
                        a_sample = gr.Button("No files at hand? Load the built-in sample (an astronaut and a dance)",
                                             size="sm", elem_id="a_sample")
                a_status = gr.Markdown(elem_id="a_status")
                with gr.Row():
                    a_video = gr.Video(label="Result", interactive=False, height=420, elem_id="a_video")
                    with gr.Column():
                        a_scores_md = gr.Markdown(elem_id="a_scores_md")
                        a_scores = gr.Dataframe(headers=["kind", "score"], label="Drift scores (100 = no drift)",
                                                interactive=False, elem_id="a_scores")
                a_findings = gr.Dataframe(headers=FINDING_HEADERS, label="Preflight findings", interactive=False, wrap=True,
                                          column_widths=FINDING_WIDTHS, elem_id="a_findings")
                a_files = gr.File(label="Downloads (video, drift report)", file_count="multiple", interactive=False)

            # ---------------------------------------------------------------- Analyze
            with gr.Tab("Analyze", id="analyze"):
                with gr.Row():
                    z_video = gr.Video(label="Any video to measure (ours or another generator's)", sources=["upload"], height=300,
                                       elem_id="z_video")
                    with gr.Column():
                        z_ref = gr.Image(label="Reference image of the subject (optional; default: the opening frames)",
                                         type="filepath", sources=["upload"], height=200)
                        z_motion = gr.Video(label="Driving motion video (optional; adds motion fidelity)", sources=["upload"], height=200)
                        with gr.Row():
                            z_run = gr.Button("Analyze", variant="primary", elem_id="z_run")
                            z_cancel = gr.Button("Cancel", variant="stop", elem_id="z_cancel")
                z_status = gr.Markdown(elem_id="z_status")
                z_verdict = gr.Markdown(elem_id="z_verdict")
                with gr.Row():
                    z_scores = gr.Dataframe(headers=["kind", "score"], label="Scores (100 = no drift)", interactive=False,
                                            elem_id="z_scores")
                    z_files = gr.File(label="Report (HTML, JSON)", file_count="multiple", interactive=False, elem_id="z_files")
                z_events = gr.Dataframe(headers=EVENT_HEADERS, label="Events", interactive=False, wrap=True,
                                        column_widths=EVENT_WIDTHS, elem_id="z_events")
                z_thumbs = gr.Gallery(label="Where events start", columns=6, height=220, preview=False, object_fit="contain",
                                      elem_id="z_thumbs")
                z_plots = gr.Image(label="Series over time (shaded: events, yellow minor, orange major, red severe; "
                                         "dashed: the minor threshold)", type="filepath", interactive=False, elem_id="z_plots")

            # ---------------------------------------------------------------- Check & prompt
            with gr.Tab("Check & prompt", id="check"):
                gr.Markdown("### Preflight: check an image and a motion video before generating")
                with gr.Row():
                    c_image = gr.Image(label="Character image", type="filepath", sources=["upload"], height=240, elem_id="c_image")
                    c_motion = gr.Video(label="Motion reference video", sources=["upload"], height=240, elem_id="c_motion")
                    with gr.Column():
                        c_orientation = gr.Radio(ORIENTATION_CHOICES, value="video", label="Orientation")
                        with gr.Row():
                            c_run = gr.Button("Check", variant="primary", elem_id="c_run")
                            c_cancel = gr.Button("Cancel", variant="stop", elem_id="c_cancel")
                c_status = gr.Markdown(elem_id="c_status")
                c_findings = gr.Dataframe(headers=FINDING_HEADERS, label="Findings", interactive=False, wrap=True,
                                          column_widths=FINDING_WIDTHS, elem_id="c_findings")
                gr.Markdown("### Prompt lint")
                with gr.Row():
                    p_text = gr.Textbox(label="Prompt", lines=3, elem_id="p_text",
                                        placeholder="a woman dances in a studio, static camera")
                    with gr.Column():
                        p_target = gr.Radio([("motion control (motion from a video)", "motion-control"),
                                             ("text to video", "text-to-video")], value="motion-control", label="For")
                        p_run = gr.Button("Lint the prompt", elem_id="p_run")
                p_findings = gr.Dataframe(headers=FINDING_HEADERS, label="Prompt findings", interactive=False, wrap=True,
                                          column_widths=FINDING_WIDTHS, elem_id="p_findings")
                p_suggested = gr.Textbox(label="Suggested prompt", interactive=False, elem_id="p_suggested")
                p_negative = gr.Textbox(label="Negative prompt", interactive=False, elem_id="p_negative")

            # ---------------------------------------------------------------- Characters
            with gr.Tab("Characters", id="characters"):
                gr.Markdown("The character memory: a master image with its rig and identity, reused by Animate "
                            "(pick it under *…or a stored character*) so the character never has to be rigged again.")
                k_gallery = gr.HTML(elem_id="k_gallery")
                k_table = gr.Dataframe(headers=["name", "size", "created", "notes", "face"], interactive=False,
                                       label="Details", elem_id="k_table")
                with gr.Row():
                    with gr.Column():
                        k_name = gr.Textbox(label="Name (letters, digits, - _ .)", elem_id="k_name")
                        k_image = gr.Image(label="Master image", type="filepath", sources=["upload"], height=220, elem_id="k_image")
                        k_notes = gr.Textbox(label="Notes", elem_id="k_notes")
                        k_add = gr.Button("Add character", variant="primary", elem_id="k_add")
                    with gr.Column():
                        k_pick = gr.Dropdown(label="Character to remove", choices=[], value=None, elem_id="k_pick")
                        k_remove = gr.Button("Remove", variant="stop", elem_id="k_remove")
                k_status = gr.Markdown(elem_id="k_status")

        # ================================================================== handlers
        def characters_view():
            try:
                chars = app.characters()
            except SteadyMotionError as exc:
                return "", [], gr.update(choices=[]), gr.update(choices=[]), f"**Error:** {exc}"
            gallery = _thumb_grid([(app.thumbnail(c), c.name) for c in chars])
            rows = [[c.name, f"{c.size[0]}x{c.size[1]}", c.to_dict()["created"], c.notes,
                     "yes" if c.identity.get("face_descriptor") else "no"] for c in chars]
            names = [c.name for c in chars]
            return gallery, rows, gr.update(choices=names, value=None), gr.update(choices=names, value=None), ""

        char_outputs = [k_gallery, k_table, k_pick, a_character, k_status]

        # Each heavy action is two events: a quick validation that writes only the status line (so a
        # bad upload is one message, not an error badge on every output), then the queued job.
        a_spec, z_spec, c_spec = gr.State(), gr.State(), gr.State()
        queued = "Inputs look fine: **queued** (a job starts when a CPU slot is free; the bars show its stages)."

        def prepare_animate(image, character, motion, orientation, prompt, end_image, bg_color, bg_image, max_s, sound,
                            preflight, stop, measure):
            if character and image:
                raise _error("give a character image or a stored character, not both (clear one of them)")
            if not character:
                image = app.image(image, "character image")
            motion = app.video(motion, "motion video")
            end_image = app.image(end_image, "end image", required=False)
            bg_image = app.image(bg_image, "background image", required=False)
            if bg_color and bg_image:
                raise _error("give a background colour or a background image, not both")
            background = bg_image or ((bg_color or "").strip() or None)
            if background and not bg_image:
                from steadymotion.pipelines import parse_background

                try:
                    parse_background(background)
                except SteadyMotionError as exc:
                    raise _error(str(exc)) from None
            spec = dict(image=image, character=character or None, store=str(app.store) if app.store else None,
                        motion=motion, orientation=orientation, prompt=prompt or None, end_image=end_image,
                        background=background, sound=bool(sound), max_seconds=float(max_s) if max_s else None,
                        preflight=bool(preflight), stop_on_error=bool(stop), measure=bool(measure))
            return spec, queued

        def run_animate(spec, request: gr.Request, progress=gr.Progress()):
            spec = dict(spec, out_dir=str(app.new_job_dir()))
            started = time.perf_counter()
            res = app.run("animate", spec, _session(request), progress)
            took = time.perf_counter() - started
            drift = res.get("drift")
            lines = [f"**Done** in {took:.0f} s: {res['size'][0]}x{res['size'][1]}, {res['frames']} frames at "
                     f"{res['fps']:g} fps ({res['duration_s']:.1f} s); render {res['render_fps']:.0f} fps."]
            if res.get("camera"):
                lines.append("Camera: " + "; ".join(res["camera"]) + ".")
            if res.get("ignored"):
                lines.append("Ignored prompt words: " + ", ".join(f"“{w}”" for w in res["ignored"]) + ".")
            lines += [f"Note: {n}." for n in res.get("notes", [])]
            lines += [f"Warning: {w}" for w in res.get("warnings", [])]
            files = [res["video"]] + ([drift["html"], drift["json"]] if drift else [])
            findings = res["preflight"] or ([["ok", "-", "nothing to report", ""]] if spec.get("preflight") else [])
            return (res["video"], "\n\n".join(lines), findings, _scores_markdown(drift),
                    drift["scores"] if drift else [], files)

        a_evt = a_run.click(
            prepare_animate,
            [a_image, a_character, a_motion, a_orientation, a_prompt, a_end, a_bg_color, a_bg_image, a_max, a_sound,
             a_preflight, a_stop, a_measure],
            [a_spec, a_status], concurrency_limit=None).success(
            run_animate, [a_spec], [a_video, a_status, a_findings, a_scores_md, a_scores, a_files], **slots)

        def prepare_analyze(video, reference, motion):
            spec = dict(video=app.video(video, "video"), reference=app.image(reference, "reference image", required=False),
                        motion=app.video(motion, "motion video", required=False))
            return spec, queued

        def run_analyze(spec, request: gr.Request, progress=gr.Progress()):
            spec = dict(spec, out_dir=str(app.new_job_dir()))
            res = app.run("analyze", spec, _session(request), progress)
            status = f"**Measured** {len(res['events'])} event(s)." + "".join(f"\n\nWarning: {w}" for w in res.get("warnings", []))
            return (status, _scores_markdown(res, "Drift"), res["scores"], [res["html"], res["json"]], res["events"],
                    res["thumbs"], res["plots"])

        z_evt = z_run.click(prepare_analyze, [z_video, z_ref, z_motion], [z_spec, z_status], concurrency_limit=None).success(
            run_analyze, [z_spec], [z_status, z_verdict, z_scores, z_files, z_events, z_thumbs, z_plots], **slots)

        def prepare_check(image, motion, orientation):
            return dict(image=app.image(image, "character image"), motion=app.video(motion, "motion video"),
                        orientation=orientation), queued

        def run_check(spec, request: gr.Request, progress=gr.Progress()):
            res = app.run("check", spec, _session(request), progress)
            verdict = "**Ready**: no errors." if res["ok"] else "**Fix the errors below** before generating."
            return verdict, res["findings"] or [["ok", "-", "nothing to report", ""]]

        c_evt = c_run.click(prepare_check, [c_image, c_motion, c_orientation], [c_spec, c_status], concurrency_limit=None).success(
            run_check, [c_spec], [c_status, c_findings], **slots)

        def do_lint(text, target):
            from steadymotion.prompt import lint_prompt

            if not (text or "").strip():
                raise _error("prompt: please type a prompt to check")
            rep = lint_prompt(text, target)
            rows = [[f.severity.value, f.code, f.message, f.fix] for f in rep.findings] or [["ok", "-", "nothing to report", ""]]
            return rows, rep.suggested_prompt, rep.negative_prompt

        p_run.click(do_lint, [p_text, p_target], [p_findings, p_suggested, p_negative])

        def cancel(request: gr.Request):
            return "**Cancelled.**" if app.cancel(_session(request)) else "Nothing is running."

        a_cancel.click(cancel, None, a_status, cancels=[a_evt])

        def load_sample(request: gr.Request, progress=gr.Progress()):
            res = app.run("sample", dict(out_dir=str(app.samples_dir)), _session(request), progress)
            return (res["image"], None, res["motion"], "zoom in on her face",
                    "Sample loaded: scikit-image's astronaut portrait and a dance the package renders itself. Press **Animate**.")

        a_sample.click(load_sample, None, [a_image, a_character, a_motion, a_prompt, a_status], **slots)
        z_cancel.click(cancel, None, z_status, cancels=[z_evt])
        c_cancel.click(cancel, None, c_status, cancels=[c_evt])

        def do_add(name, image, notes, request: gr.Request, progress=gr.Progress()):
            from steadymotion.characters import check_name

            try:
                check_name((name or "").strip())
            except SteadyMotionError as exc:
                raise _error(str(exc)) from None
            image = app.image(image, "master image")
            app.run("character_add", dict(name=name.strip(), image=image, notes=notes,
                                          store=str(app.store) if app.store else None), _session(request), progress)
            return f"Added **{name.strip()}**."

        # the lists refresh only after a success, so a refused name never leaves them covered by an error
        k_add.click(do_add, [k_name, k_image, k_notes], k_status, **slots).success(
            lambda msg: (*characters_view()[:-1], msg), k_status, char_outputs)

        def do_remove(name):
            from steadymotion.characters import CharacterStore

            if not name:
                raise _error("pick a character to remove")
            try:
                CharacterStore(app.store).remove(name)
            except SteadyMotionError as exc:
                raise _error(str(exc)) from None
            return f"Removed **{name}**."

        k_remove.click(do_remove, [k_pick], k_status).success(lambda msg: (*characters_view()[:-1], msg), k_status, char_outputs)
        demo.load(characters_view, None, char_outputs)
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, share_dir: str | Path | None = None, store: str | Path | None = None,
           limits: Limits = Limits(), block: bool = True):
    """Start the web UI; returns the launched Blocks (``block=False`` returns at once)."""
    if share_dir is None:
        share_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "steadymotion" / "web"
    share = Path(share_dir).expanduser().resolve()
    try:
        share.mkdir(parents=True, exist_ok=True)
        probe = share / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InvalidOptionError(f"cannot write to the share folder {str(share)!r} ({exc.strerror}); pass --share-dir DIR") from None
    # uploads and Gradio's cache live in the share folder too, so nothing leaves it
    os.environ["GRADIO_TEMP_DIR"] = str(share / "cache")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gradio as gr

    webapp = WebApp(share, store=store, limits=limits)
    gone = clean_share_dir(share)
    if gone:
        log.info("removed %d job folders older than a week from %s", gone, share)
    demo = build_app(webapp)
    demo.queue(max_size=32, default_concurrency_limit=limits.job_slots)
    demo.launch(server_name=host, server_port=port, allowed_paths=[str(webapp.jobs_dir), str(webapp.thumbs_dir), str(webapp.samples_dir)],
                max_file_size=f"{limits.max_upload_mb}mb", show_error=True, quiet=True, prevent_thread_lock=not block,
                theme=gr.themes.Soft(), footer_links=[], ssr_mode=False)
    demo.steadymotion_share = share
    return demo


def clean_share_dir(share_dir: Path, older_than_s: float = 7 * 24 * 3600) -> int:
    """Delete job folders older than ``older_than_s``; returns how many went."""
    n = 0
    now = time.time()
    for d in (Path(share_dir) / "jobs").glob("*"):
        if d.is_dir() and now - d.stat().st_mtime > older_than_s:
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n
