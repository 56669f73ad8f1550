"""The web UI's tabs: each builds its components and wires its handlers to the jobs (:mod:`.jobs`).

Handlers validate uploads with the library's readers in a quick first event that writes only the
status line, then queue the heavy job in a cancellable child process. No logic of its own.
"""

from __future__ import annotations

import time

# at module level, not only inside the tab builders: the handlers' ``request: gr.Request`` annotations
# are strings here (postponed evaluation), and Gradio resolves them in this module's namespace to
# know which parameter gets the request; unresolved, every user had the same session and one
# user's Cancel stopped another's job
import gradio as gr

from steadymotion.errors import SteadyMotionError
from steadymotion.web.state import WebApp, _error

MODE_CHOICES = [("animate: the character performs in its own image's scene", "animate"),
                ("replace: the character takes the reference person's place in the video", "replace")]
ORIENTATION_CHOICES = [("follow the video (position, scale, facing, camera)", "video"),
                       ("keep the image's position, scale and facing", "image")]
FINDING_HEADERS = ["severity", "code", "what was found", "fix"]
FINDING_WIDTHS = ["8%", "17%", "45%", "30%"]
EVENT_HEADERS = ["kind", "severity", "start (s)", "end (s)", "what drifted"]
EVENT_WIDTHS = ["10%", "9%", "8%", "8%", "65%"]
#: The status line while a job waits for a CPU slot.
QUEUED = "Inputs look fine: **queued** (a job starts when a CPU slot is free; the bars show its stages)."


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


def _cancel_handler(app: WebApp):
    def cancel(request: gr.Request):
        return "**Cancelled.**" if app.cancel(_session(request)) else "Nothing is running."

    return cancel


def animate_tab(app: WebApp, slots: dict):
    """Animate: image or stored character + motion video -> video, preflight findings, drift of the result.

    Returns the stored-character dropdown (the Characters tab refreshes its choices).
    """
    with gr.Tab("Animate", id="animate"):
        a_spec = gr.State()  # inside the tab: a State directly under gr.Tabs would count as a tab
        with gr.Row():
            with gr.Column():
                a_image = gr.Image(label="Character image (one person, head to hips at least)", type="filepath",
                                   sources=["upload"], height=300, elem_id="a_image")
                a_character = gr.Dropdown(label="…or a stored character", choices=[], value=None,
                                          allow_custom_value=False, elem_id="a_character")
                a_motion = gr.Video(label="Motion reference video", sources=["upload"], height=300, elem_id="a_motion")
                a_capture = gr.File(label="…or a motion capture (.bvh: Mixamo, Rokoko, CMU, Meta)", file_types=[".bvh"],
                                    type="filepath", height=60, elem_id="a_capture")
            with gr.Column():
                a_mode = gr.Radio(MODE_CHOICES, value="animate", label="Mode", elem_id="a_mode")
                a_orientation = gr.Radio(ORIENTATION_CHOICES, value="video", label="Orientation")
                a_prompt = gr.Textbox(label="Prompt (camera directives are read from it)", lines=2,
                                      placeholder="e.g. fixed lens, slow zoom in on her face", elem_id="a_prompt")
                with gr.Accordion("More options", open=False):
                    a_end = gr.Image(label="End image (the clip ends in this pose)", type="filepath", sources=["upload"], height=200)
                    a_bg_color = gr.Textbox(label="Background colour (#rrggbb or a name; empty keeps the image's)", value="",
                                            elem_id="a_bg_color")
                    a_bg_image = gr.Image(label="…or a background image", type="filepath", sources=["upload"], height=160)
                    a_bg_video = gr.Video(label="…or a background video (it moves; looped when shorter)", sources=["upload"],
                                          height=160, elem_id="a_bg_video")
                    a_max = gr.Number(label="Use only the first seconds of the reference (0 = all)", value=0, minimum=0,
                                      elem_id="a_max")
                    a_sound = gr.Checkbox(label="Keep the reference's sound", value=True)
                    a_expr = gr.Checkbox(label="Carry the reference's facial expressions (mouth, eyes, brows), gaze and head turns", value=True,
                                         elem_id="a_expr")
                    a_preflight = gr.Checkbox(label="Check the inputs first (preflight)", value=True)
                    a_stop = gr.Checkbox(label="Stop when the check finds an error", value=True)
                    a_measure = gr.Checkbox(label="Measure the result's drift", value=True)
                with gr.Row():
                    a_run = gr.Button("Animate", variant="primary", elem_id="a_run")
                    a_cancel = gr.Button("Cancel", variant="stop", elem_id="a_cancel")
                a_sample = gr.Button("No files at hand? Load the built-in sample (a full-body character and jumping jacks)",
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



    def prepare_animate(image, character, motion, capture, mode, orientation, prompt, end_image, bg_color, bg_image, bg_video,
                        max_s, sound, expressions, preflight, stop, measure, request: gr.Request):
        if character and image:
            raise _error("give a character image or a stored character, not both (clear one of them)")
        if motion and capture:
            raise _error("give a motion video or a motion capture, not both (clear one of them)")
        if not character:
            image = app.image(image, "character image")
        motion = app.capture(capture, "motion capture") if capture else app.video(motion, "motion video")
        end_image = app.image(end_image, "end image", required=False)
        bg_image = app.image(bg_image, "background image", required=False)
        bg_video = app.video(bg_video, "background video") if bg_video else None
        if sum(bool(x) for x in (bg_color and bg_color.strip(), bg_image, bg_video)) > 1:
            raise _error("give one background: a colour, an image or a video")
        if mode == "replace" and (bg_image or bg_video or (bg_color or "").strip() or end_image):
            raise _error("replace mode keeps the reference video's own scene and ending: clear the background and end image")
        background = bg_image or bg_video or ((bg_color or "").strip() or None)
        if background and not bg_image and not bg_video:
            from steadymotion.pipelines import parse_background

            try:
                parse_background(background)
            except SteadyMotionError as exc:
                raise _error(str(exc)) from None
        spec = dict(image=image, character=character or None, store=str(app.store) if app.store else None,
                    motion=motion, mode=mode, orientation=orientation, prompt=prompt or None, end_image=end_image,
                    background=background, sound=bool(sound), max_seconds=float(max_s) if max_s else None,
                    expressions=bool(expressions), preflight=bool(preflight), stop_on_error=bool(stop), measure=bool(measure))
        app.pending(_session(request))
        return spec, QUEUED

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
        [a_image, a_character, a_motion, a_capture, a_mode, a_orientation, a_prompt, a_end, a_bg_color, a_bg_image, a_bg_video,
         a_max, a_sound, a_expr, a_preflight, a_stop, a_measure],
        [a_spec, a_status], concurrency_limit=None).success(
        run_animate, [a_spec], [a_video, a_status, a_findings, a_scores_md, a_scores, a_files], **slots)

    def load_sample(request: gr.Request, progress=gr.Progress()):
        res = app.run("sample", dict(out_dir=str(app.samples_dir)), _session(request), progress)
        return (res["image"], None, res["motion"], None, "",
                "Sample loaded: a full-body character the package draws and it doing jumping jacks (a motion capture from "
                "Meta's AnimatedDrawings, MIT). Press **Animate**.")

    a_sample.click(load_sample, None, [a_image, a_character, a_motion, a_capture, a_prompt, a_status], **slots)
    a_cancel.click(_cancel_handler(app), None, a_status, cancels=[a_evt])
    return a_character


def analyze_tab(app: WebApp, slots: dict) -> None:
    """Analyze: the drift of any video, with scores, events, their frames, plots and the report files."""
    with gr.Tab("Analyze", id="analyze"):
        z_spec = gr.State()  # inside the tab: a State directly under gr.Tabs would count as a tab
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



    def prepare_analyze(video, reference, motion, request: gr.Request):
        spec = dict(video=app.video(video, "video"), reference=app.image(reference, "reference image", required=False),
                    motion=app.video(motion, "motion video", required=False))
        app.pending(_session(request))
        return spec, QUEUED

    def run_analyze(spec, request: gr.Request, progress=gr.Progress()):
        spec = dict(spec, out_dir=str(app.new_job_dir()))
        res = app.run("analyze", spec, _session(request), progress)
        status = f"**Measured** {len(res['events'])} event(s)." + "".join(f"\n\nWarning: {w}" for w in res.get("warnings", []))
        return (status, _scores_markdown(res, "Drift"), res["scores"], [res["html"], res["json"]], res["events"],
                res["thumbs"], res["plots"])

    z_evt = z_run.click(prepare_analyze, [z_video, z_ref, z_motion], [z_spec, z_status], concurrency_limit=None).success(
        run_analyze, [z_spec], [z_status, z_verdict, z_scores, z_files, z_events, z_thumbs, z_plots], **slots)

    z_cancel.click(_cancel_handler(app), None, z_status, cancels=[z_evt])


REPAIR_CHOICES = [("flicker (deflicker)", "flicker"), ("colour (re-anchor to the reference)", "color"),
                  ("jitter (stabilise)", "jitter"), ("segment joins", "joins")]


def repair_tab(app: WebApp, slots: dict) -> None:
    """Repair: undo the drift the meter finds in any video; scores before/after, before|after frames,
    the repaired video and the report files."""
    with gr.Tab("Repair", id="repair"):
        r_spec = gr.State()  # inside the tab: a State directly under gr.Tabs would count as a tab
        with gr.Row():
            r_video = gr.Video(label="A drifting video (ours or another generator's)", sources=["upload"], height=300,
                               elem_id="r_video")
            with gr.Column():
                r_ref = gr.Image(label="Reference image of the subject (optional; default: the opening frames)",
                                 type="filepath", sources=["upload"], height=200)
                r_kinds = gr.CheckboxGroup(REPAIR_CHOICES, value=[v for _, v in REPAIR_CHOICES], label="Repair",
                                           elem_id="r_kinds")
                with gr.Row():
                    r_run = gr.Button("Repair", variant="primary", elem_id="r_run")
                    r_cancel = gr.Button("Cancel", variant="stop", elem_id="r_cancel")
        r_status = gr.Markdown(elem_id="r_status")
        with gr.Row():
            r_out = gr.Video(label="Repaired video", interactive=False, height=300, elem_id="r_out")
            with gr.Column():
                r_scores = gr.Dataframe(headers=["kind", "before", "after"], label="Scores (100 = no drift)",
                                        interactive=False, elem_id="r_scores")
                r_files = gr.File(label="Report (HTML, JSON)", file_count="multiple", interactive=False, elem_id="r_files")
        r_done = gr.Markdown(elem_id="r_done")
        r_pairs = gr.Gallery(label="Before | after", columns=1, height=420, preview=False, object_fit="contain",
                             elem_id="r_pairs")

    def prepare_repair(video, reference, kinds, request: gr.Request):
        if not kinds:
            raise _error("tick at least one kind of repair")
        spec = dict(video=app.video(video, "video"), reference=app.image(reference, "reference image", required=False),
                    only=list(kinds))
        app.pending(_session(request))
        return spec, QUEUED

    def run_repair(spec, request: gr.Request, progress=gr.Progress()):
        spec = dict(spec, out_dir=str(app.new_job_dir()))
        res = app.run("repair", spec, _session(request), progress)
        before, after = res["overall"]
        status = ("**Nothing needed repair**: the video is unchanged." if res["copied"] else
                  f"**Repaired.** Overall drift score {before:.0f} → {after:.0f}." if before is not None and after is not None
                  else "**Repaired.**") + "".join(f"\n\nWarning: {w}" for w in res.get("warnings", []))
        return status, res["video"], res["scores"], [res["html"], res["json"]], res["repairs"], res["pairs"]

    r_evt = r_run.click(prepare_repair, [r_video, r_ref, r_kinds], [r_spec, r_status], concurrency_limit=None).success(
        run_repair, [r_spec], [r_status, r_out, r_scores, r_files, r_done, r_pairs], **slots)
    r_cancel.click(_cancel_handler(app), None, r_status, cancels=[r_evt])


def check_tab(app: WebApp, slots: dict) -> None:
    """Check & prompt: preflight findings for an image + motion, and the prompt linter."""
    with gr.Tab("Check & prompt", id="check"):
        c_spec = gr.State()  # inside the tab: a State directly under gr.Tabs would count as a tab
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



    def prepare_check(image, motion, orientation, request: gr.Request):
        spec = dict(image=app.image(image, "character image"), motion=app.video(motion, "motion video"),
                    orientation=orientation)
        app.pending(_session(request))
        return spec, QUEUED

    def run_check(spec, request: gr.Request, progress=gr.Progress()):
        res = app.run("check", spec, _session(request), progress)
        verdict = "**Ready**: no errors." if res["ok"] else "**Fix the errors below** before generating."
        return verdict, res["findings"] or [["ok", "-", "nothing to report", ""]]

    c_evt = c_run.click(prepare_check, [c_image, c_motion, c_orientation], [c_spec, c_status], concurrency_limit=None).success(
        run_check, [c_spec], [c_status, c_findings], **slots)

    c_cancel.click(_cancel_handler(app), None, c_status, cancels=[c_evt])

    def do_lint(text, target):
        from steadymotion.prompt import lint_prompt

        if not (text or "").strip():
            raise _error("prompt: please type a prompt to check")
        rep = lint_prompt(text, target)
        rows = [[f.severity.value, f.code, f.message, f.fix] for f in rep.findings] or [["ok", "-", "nothing to report", ""]]
        return rows, rep.suggested_prompt, rep.negative_prompt

    p_run.click(do_lint, [p_text, p_target], [p_findings, p_suggested, p_negative])



def characters_tab(app: WebApp, slots: dict, a_character):
    """Characters: the character memory (thumbnails, details, add, remove, the picked character's rig
    preview); keeps ``a_character``'s choices current.

    Returns the function that lists the characters, for the page's load event, and its outputs.
    """
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
                k_pick = gr.Dropdown(label="Character (its rig preview shows below)", choices=[], value=None, elem_id="k_pick")
                k_remove = gr.Button("Remove", variant="stop", elem_id="k_remove")
        k_status = gr.Markdown(elem_id="k_status")
        gr.Markdown("**Rig preview** — left: each part in its own colour (what is one colour moves as one piece), "
                    "the bones and joints; right: the background the character uncovers when it moves, with what was "
                    "made up hatched (blue: background behind the person; yellow: body behind the arms and head).")
        k_preview = gr.Image(label="Rig preview", show_label=False, type="filepath", interactive=False, height=760,
                             buttons=["download", "fullscreen"], elem_id="k_preview")


    def characters_view(select: str | None = None):
        try:
            chars = app.characters()
        except SteadyMotionError as exc:
            return "", [], gr.update(choices=[]), gr.update(choices=[]), f"**Error:** {exc}"
        gallery = _thumb_grid([(app.thumbnail(c), c.name) for c in chars])
        rows = [[c.name, f"{c.size[0]}x{c.size[1]}", c.to_dict()["created"], c.notes,
                 "yes" if c.identity.get("face_descriptor") else "no"] for c in chars]
        names = [c.name for c in chars]
        select = select if select in names else None
        return gallery, rows, gr.update(choices=names, value=select), gr.update(choices=names, value=None), ""

    char_outputs = [k_gallery, k_table, k_pick, a_character, k_status]


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

    # the lists refresh only after a success, so a refused name never leaves them covered by an error;
    # the new character is picked, which shows its rig preview
    k_add.click(do_add, [k_name, k_image, k_notes], k_status, **slots).success(
        lambda msg, name: (*characters_view((name or "").strip())[:-1], msg), [k_status, k_name], char_outputs)

    def show_preview(name):
        from steadymotion.characters import CharacterStore

        if not name:
            return None
        try:
            return app.rig_preview(CharacterStore(app.store).get(name))
        except SteadyMotionError as exc:
            raise _error(str(exc)) from None

    k_pick.change(show_preview, [k_pick], k_preview)

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
    return characters_view, char_outputs
