"""The ``animate`` pipeline: character image (or stored character) + motion video -> MP4, checked and measured.

:func:`make_video` is the one place where "preflight, then render, then measure" is written; the
CLI (``animate``, ``demo``), the web UI and the Python API all call it. :func:`animate` is its
render step alone. Neither holds an algorithm: the character comes from a render backend
(:mod:`steadymotion.render`) or the character store, the motion from :mod:`steadymotion.pose`, the
camera from :mod:`steadymotion.perception.camera` and :mod:`steadymotion.motion.directives`, the plan
from :mod:`steadymotion.motion.plan`; frames stream from the backend into
:class:`~steadymotion.io.encoder.BackgroundVideoWriter`, which encodes in its own process while the
next frame renders.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from steadymotion._native import cv2_threads
from steadymotion.characters import CharacterStore
from steadymotion.errors import InvalidOptionError, NoPersonError, NotAnImageError, SteadyMotionError
from steadymotion.io.atomic import check_writable
from steadymotion.io.image import Image, read_image
from steadymotion.io.encoder import BackgroundVideoWriter
from steadymotion.io.video import VIDEO_INPUT_EXTENSIONS, check_video_output, probe_video
from steadymotion.motion.directives import CameraDirectives, parse_camera
from steadymotion.motion.plan import MotionPlan, plan_motion, replace_base
from steadymotion.perception.camera import body_boxes, track_camera
from steadymotion.pose.extract import extract_pose, pose_from_image
from steadymotion.prompt import prompt_too_long
from steadymotion.render import DEFAULT_BACKEND, PreparedCharacter, Scene, get_backend
from steadymotion.render.cache import prepare_cached
from steadymotion.render.backdrop import BackgroundClip, CleanPlate, ReplaceScene, SceneLight, fit_background
from steadymotion.types import PoseSequence
from steadymotion.vocab import Mode, Orientation

#: Default output: the image's own size, its long side brought within these bounds (even numbers).
MAX_SIDE, MIN_SIDE = 1280, 512

Stage = Callable[[str, int, int], None]


# --- options, validated before any work ------------------------------------------------------------
def output_size(image_size: tuple[int, int], size: tuple[int, int] | None = None) -> tuple[int, int]:
    """``size`` rounded to even numbers, or the image's size with its long side within [512, 1280]."""
    if size is not None:
        w, h = size
        if w < 16 or h < 16 or w > 7680 or h > 7680:
            raise InvalidOptionError(f"--size {w}x{h}: each side must be between 16 and 7680 pixels")
        return int(w) // 2 * 2, int(h) // 2 * 2
    w, h = image_size
    s = min(1.0, MAX_SIDE / max(w, h))
    s = max(s, MIN_SIDE / max(w, h)) if max(w, h) < MIN_SIDE else s
    return max(2, int(round(w * s)) // 2 * 2), max(2, int(round(h * s)) // 2 * 2)


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"720x1280"`` -> ``(720, 1280)``; checked against the limits of :func:`output_size`."""
    if not text:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise InvalidOptionError(f"--size {text!r}: write it as WIDTHxHEIGHT, e.g. 720x1280") from None
    output_size((1, 1), (w, h))  # the limits, now rather than after the work
    return w, h


def parse_background(spec: str | None) -> np.ndarray | BackgroundClip | None:
    """``None`` (the image's own, inpainted), a colour (``#rrggbb``, ``r,g,b`` or a name) as ``(3,)``
    float32 in [0, 1], an image (``(H, W, 3) uint8``, fitted to the output by :func:`fit_background`),
    or a video (a :class:`~steadymotion.render.backdrop.BackgroundClip`: a moving background)."""
    if spec is None or not str(spec).strip():
        return None
    if Path(str(spec).strip()).suffix.lower() in VIDEO_INPUT_EXTENSIONS:
        try:
            return BackgroundClip(str(spec).strip())
        except SteadyMotionError as exc:
            raise type(exc)(f"--background {spec!r}: {exc}") from None
    from matplotlib import colors

    s = str(spec).strip()
    parts = s.split(",")
    if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
        rgb = [int(p) for p in parts]
        if max(rgb) > 255:
            raise InvalidOptionError(f"--background {spec!r}: each of r,g,b must be 0-255")
        return np.array(rgb, np.float32) / 255
    if not Path(s).exists() and colors.is_color_like(s):
        return np.array(colors.to_rgb(s), np.float32)
    try:
        return read_image(s).rgb
    except (NotAnImageError, FileNotFoundError) as exc:
        raise NotAnImageError(f"--background {spec!r}: not a colour (#rrggbb, r,g,b or a name) nor a readable image ({exc})") from None


def check_max_seconds(max_seconds: float | None) -> float | None:
    if max_seconds is None:
        return None
    if not (isinstance(max_seconds, (int, float)) and math.isfinite(max_seconds) and max_seconds > 0):
        raise InvalidOptionError(f"--max-seconds must be a positive number of seconds, got {max_seconds}")
    return float(max_seconds)


def check_prompt(prompt: str | None) -> str | None:
    """The prompt, refused past the one prompt limit (the ``TOO_LONG`` finding of :mod:`steadymotion.prompt`)."""
    too_long = prompt_too_long(prompt)
    if too_long is not None:
        raise InvalidOptionError(f"{too_long.message}; {too_long.fix}")
    return prompt


# --- the character -----------------------------------------------------------------------------------
@dataclass
class CharacterSource:
    """Who is animated: a prepared character, its master image and how to name it."""

    prepared: PreparedCharacter
    master: np.ndarray  # (H, W, 3) uint8: the reference for identity (the stored master when stored)
    label: str


def load_character(image=None, character: str | None = None, store=None, backend: str = DEFAULT_BACKEND) -> CharacterSource:
    """The character to animate: a stored character's (its rig reused) or one prepared from ``image``."""
    if character:
        st = store if isinstance(store, CharacterStore) else CharacterStore(store)
        ch = st.get(character)
        label = f"character {character!r}"
        try:
            prepared = ch.load_rig()
        except SteadyMotionError:
            prepared = prepare_cached(get_backend(backend), ch.load_image(), source=label, note=False)
            st.update_rig(character, prepared)
            label += " (rig rebuilt)"
        return CharacterSource(prepared, prepared.image, label)
    if image is None:
        raise InvalidOptionError("give a character image (--image) or a stored character (--character)")
    img = image if isinstance(image, Image) else read_image(image)
    label = str(img.path or "image")
    return CharacterSource(prepare_cached(get_backend(backend), img.rgb, img.alpha, source=label), img.rgb, label)


# --- animate (render only) -----------------------------------------------------------------------------
@dataclass
class AnimateResult:
    """What ``animate`` made and how it went (``timings`` in seconds per stage)."""

    output: Path
    frames: int
    fps: float
    size: tuple[int, int]
    duration_s: float
    timings: dict[str, float]
    directives: CameraDirectives
    notes: list[str] = field(default_factory=list)
    plan: MotionPlan | None = field(default=None, repr=False)
    rig: PreparedCharacter | None = field(default=None, repr=False)
    master: np.ndarray | None = field(default=None, repr=False)
    character: str = ""
    motion_pose: PoseSequence | None = field(default=None, repr=False)

    @property
    def render_fps(self) -> float:
        return self.frames / max(self.timings.get("render", 0.0), 1e-9)


def animate(
    motion: str | Path,
    output: str | Path,
    *,
    image=None,
    character: str | None = None,
    store=None,
    orientation: Orientation | str = Orientation.VIDEO,
    prompt: str | None = None,
    end_image=None,
    background: str | np.ndarray | None = None,
    size: tuple[int, int] | None = None,
    sound: bool = True,
    max_seconds: float | None = None,
    follow_camera: bool = True,
    motion_pose: PoseSequence | None = None,
    backend: str = DEFAULT_BACKEND,
    progress: Stage | None = None,
    mode: Mode | str = Mode.ANIMATE,
    fps: float | None = None,
    skeleton_map=None,
    expressions: bool = True,
) -> AnimateResult:
    """Make ``output``: the character performing the motion of the ``motion`` video.

    Parameters
    ----------
    motion : path
        Reference video (one person), or a BVH motion capture (``.bvh``: read by
        :func:`steadymotion.motion.bvh.read_motion_bvh`; no sound, no camera).
    output : path
        The MP4 to write (written to a temporary name and renamed when complete).
    image, character, store
        The character: an image path / :class:`~steadymotion.io.image.Image`, or the name of a
        stored character (``store``: a :class:`~steadymotion.characters.CharacterStore` or its folder).
    orientation : Orientation or {"video", "image"}
        See :func:`steadymotion.motion.plan.plan_motion`.
    prompt : str, optional
        Camera directives are read from it (:func:`steadymotion.motion.directives.parse_camera`).
    end_image : path, optional
        The clip ends in this image's pose.
    background : str or ndarray, optional
        A colour, an image path or a video path (or :func:`parse_background`'s result) replacing the
        image's own background (animate mode only; a video moves, looped when shorter).
    size : (w, h), optional
        Output size; default from the image aspect (:func:`output_size`). Replace mode keeps the
        reference's size.
    sound : bool
        Keep the reference's audio.
    max_seconds : float, optional
        Use only the first seconds of the reference.
    follow_camera : bool
        In ``video`` orientation, move the background with the reference's camera.
    motion_pose : PoseSequence, optional
        The reference's landmarks when already extracted (skips extraction).
    backend : str
        The render backend (:data:`steadymotion.render.BACKENDS`).
    progress : callable(stage, done, total), optional
    mode : Mode or {"animate", "replace"}
        ``animate``: the character performs in its own image's scene (or ``background``).
        ``replace``: the character takes the reference person's place in the reference video (its
        scene, light, camera, size, frame rate, frame count and audio); the reference person is
        removed (:class:`~steadymotion.render.backdrop.CleanPlate`) and the character's light matched
        to the scene (:class:`~steadymotion.render.backdrop.SceneLight`). ``orientation="video"``
        gives the character the reference person's size, ``"image"`` its own.
    fps : float, optional
        Frame rate a BVH capture is resampled to (default :data:`steadymotion.motion.bvh.DEFAULT_FPS`).
    skeleton_map : path or dict, optional
        A BVH capture's role -> joint names (:func:`steadymotion.motion.bvh.load_skeleton_map`).
    expressions : bool
        Carry the reference face's expressions (mouth, lids, brows), its gaze (where its irises sit
        in its eyes) and its head's turn in depth onto the character's face (:mod:`steadymotion.motion.face`): the reference's face mesh is
        tracked beside its body (6-50 % more tracking time), which also turns the head in the
        picture's plane as the face turns (not only as the line from the neck to the ears). Off: the
        face moves only with the head, as a rigid cut-out in the picture's plane.
    """
    # every option is checked before any work
    orientation = Orientation.parse(orientation)
    mode = Mode.parse(mode)
    out = check_video_output(output, inputs=[motion, image, end_image, background])
    max_seconds = check_max_seconds(max_seconds)
    directives = parse_camera(check_prompt(prompt))
    if size is not None:
        output_size((1, 1), size)
    bg = background if isinstance(background, (np.ndarray, BackgroundClip)) or background is None else parse_background(background)
    from steadymotion.motion.bvh import DEFAULT_FPS, is_bvh, read_motion_bvh

    capture = is_bvh(motion)
    if capture and mode is Mode.REPLACE:
        raise InvalidOptionError("replace mode needs a reference video (a person in a scene to replace); a BVH capture has "
                                 "neither: use --mode animate")
    if capture:
        if motion_pose is None:
            motion_pose = read_motion_bvh(motion, fps=fps or DEFAULT_FPS, skeleton_map=skeleton_map)
        info = None
    else:
        info = probe_video(motion)
    if mode is Mode.REPLACE:
        if bg is not None:
            raise InvalidOptionError("--background works in animate mode; replace mode keeps the reference video's own scene")
        if size is not None and tuple(size) != tuple(info.size):
            raise InvalidOptionError(f"--size: replace mode keeps the reference's size ({info.size[0]}x{info.size[1]}); "
                                     "leave --size out")
        if end_image is not None:
            raise InvalidOptionError("--end-image works in animate mode; in replace mode the reference person's own "
                                     "last pose ends the clip")
    get_backend(backend)
    end = read_image(end_image) if end_image is not None else None
    if character is None and image is not None and not isinstance(image, Image):
        # a bad image file is told first and at once, whatever the motion holds (its tracking may be
        # read back from the cache in milliseconds, or take minutes)
        image = read_image(image)

    timings: dict[str, float] = {}
    notes: list[str] = []
    stage = progress or (lambda s, d, t: None)
    # the encoder process starts now: its imports and the output's set-up overlap the tracking; it
    # encodes each frame while this process renders the next (an error anywhere removes the output)
    writer = BackgroundVideoWriter(out, motion_pose.fps if motion_pose is not None else info.fps, prestart=True,
                                   audio_from=motion if (sound and info is not None and info.has_audio) else None,
                                   threads=1)  # one x264 thread: the renderer works beside it
    with writer:
        def prepare() -> CharacterSource:
            from steadymotion.preflight.check import image_people, multiple_people

            t = time.perf_counter()
            try:
                source = load_character(image, character, store, backend)
                several = multiple_people(image_people(source.master))  # what `check` says of the image
                if several is not None:
                    notes.append(f"{several.message} — {several.fix}")
                return source
            finally:
                timings["rig"] = time.perf_counter() - t

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=1) as pool:
            # the character is prepared (rigged) while the pose workers track the motion
            source_f: Future = pool.submit(prepare)
            def tracking(done: int, total: int) -> None:
                if source_f.done() and source_f.exception() is not None:
                    raise source_f.exception()  # a bad image stops the tracking at once
                stage("extracting motion", done, total)

            if motion_pose is None:
                # the renderer uses the 33 body landmarks only: BlazePose alone, not Holistic (~2x faster);
                # a preview of a long reference tracks only what it shows
                # the camera is tracked on the same decoded frames, in the same workers
                # (and the face mesh beside it, for the expressions)
                motion_pose = extract_pose(motion, progress=tracking, until_s=max_seconds,
                                           parts="body+face" if expressions else "body",
                                           camera=(orientation is Orientation.VIDEO and follow_camera) or mode is Mode.REPLACE)
            timings["motion"] = time.perf_counter() - t0
            source: CharacterSource = source_f.result()
        timings["motion+rig"] = time.perf_counter() - t0
        seq = motion_pose
        if max_seconds is not None:
            n = int(np.searchsorted(seq.times - seq.times[0], max_seconds - 1e-9, side="left"))
            seq = seq[: max(1, n)]
        if not seq.body_present.any():
            raise NoPersonError(f"{motion}: no person in the motion video; use a clip with one clearly visible person")

        t0 = time.perf_counter()
        track = None
        if mode is Mode.REPLACE:
            if seq.meta.get("camera_path") is None or len(seq.meta["camera_path"]) < len(seq):
                seq.meta["camera_path"] = track_camera(motion, body_boxes(seq.body, seq.body_present),
                                                       progress=lambda d, t: stage("tracking the camera", d, t), frames=len(seq))
        elif orientation is Orientation.VIDEO and follow_camera and not capture:  # a capture has no camera
            track = seq.meta.get("camera_path")
            if track is None or len(track) < len(seq):  # landmarks given by the caller: a separate camera pass
                track = track_camera(motion, body_boxes(seq.body, seq.body_present), progress=lambda d, t: stage("tracking the camera", d, t),
                                     frames=len(seq))
            track = track[: len(seq)]
        timings["camera"] = time.perf_counter() - t0

        prepared = source.prepared
        end_pose = pose_from_image(end.rgb) if end is not None else None
        end_size = (end.rgb.shape[1], end.rgb.shape[0]) if end is not None else None
        if mode is Mode.REPLACE:
            # the reference's own frames, size and camera: the character stands where its person stood
            out_size = info.size
            if directives.understood:
                notes.append("replace mode keeps the reference video's own camera: the prompt's camera directives are not applied")
            plan = plan_motion(prepared.rest_pose, seq, size=out_size, orientation=orientation,
                               base=replace_base(prepared.rest_pose, seq, out_size, orientation), start_blend_s=0.0)
            plate = CleanPlate(motion, seq, progress=lambda d, t: stage("removing the reference person", d, t))
            backdrop = ReplaceScene(plate, SceneLight(source.master))
            scene = Scene(out_size, frames=backdrop, adjust=backdrop)
            if plate.never_seen > 0.02:
                notes.append(f"{plate.never_seen:.0%} of what the reference person hid is never seen in the video: "
                             "filled by inpainting")
        else:
            out_size = output_size(prepared.size, size)
            plan = plan_motion(prepared.rest_pose, seq, size=out_size, orientation=orientation, directives=directives,
                               camera_track=track, end_pose=end_pose, end_size=end_size)
            if isinstance(bg, BackgroundClip):
                scene = Scene(out_size, frames=bg.fitted(out_size, len(plan)))
            else:
                scene = Scene(out_size, fit_background(bg, out_size))

        if not expressions:
            plan.face = plan.head_roll = None
        t_render = time.perf_counter()
        n = len(plan)
        # the encoder process works beside this one: one OpenCV thread here wastes less of the CPU
        with cv2_threads(1):
            for i, frame in enumerate(get_backend(backend).render(prepared, plan, scene)):
                writer.write(frame)
                if i % 5 == 0 or i == n - 1:
                    stage("rendering", i + 1, n)

    timings["render"] = time.perf_counter() - t_render
    if mode is Mode.REPLACE and plate.occluded_frames:
        notes.append(f"something in front of the reference person's legs (furniture, a railing) was kept in front of "
                     f"the character on {plate.occluded_frames} frames")

    notes += list(prepared.notes) + list(plan.notes)
    if prompt and not directives.understood:
        notes.append("no camera directive in the prompt (the puppet backend reads only camera directives from it)")
    return AnimateResult(output=out, frames=n, fps=float(seq.fps), size=out_size, duration_s=n / float(seq.fps),
                         timings=timings, directives=directives, notes=notes, plan=plan, rig=prepared,
                         master=source.master, character=source.label, motion_pose=seq)


# --- make_video: preflight, animate, measure -------------------------------------------------------------
class PreflightFailed(SteadyMotionError, ValueError):
    """Preflight found an error in the inputs and ``stop_on_error`` was set; ``.report`` has the findings."""

    def __init__(self, report) -> None:
        self.report = report
        errors = report.errors()
        super().__init__("preflight found a problem: " + "; ".join(f"{f.message} ({f.fix})" for f in errors))


@dataclass
class MakeResult:
    """What :func:`make_video` did: the animation, and the preflight and drift reports when asked."""

    animation: AnimateResult
    check: object | None = None  # CheckReport
    drift: object | None = None  # DriftReport
    report_files: list[Path] = field(default_factory=list)

    @property
    def output(self) -> Path:
        return self.animation.output


def make_video(
    motion: str | Path,
    output: str | Path,
    *,
    image=None,
    character: str | None = None,
    store=None,
    orientation: Orientation | str = Orientation.VIDEO,
    prompt: str | None = None,
    preflight: bool = False,
    stop_on_error: bool = True,
    measure: bool = False,
    report: str | Path | None = None,
    progress: Stage | None = None,
    **options,
) -> MakeResult:
    """Check the inputs, animate, and measure the result's drift: the pipeline every interface uses.

    Parameters
    ----------
    motion, output, image, character, store, orientation, prompt
        As :func:`animate`.
    preflight : bool
        Run :func:`steadymotion.preflight.check_inputs` first (its motion tracking is reused by the
        render). Needs an image (a stored character's master image is used when a character is given).
    stop_on_error : bool
        Raise :class:`PreflightFailed` when preflight finds an error, before rendering.
    measure : bool
        Measure the result's drift (:func:`steadymotion.drift.analyze_video`) against the character's
        master image — the stored master when a stored character is used — and the driving motion.
    report : path, optional
        Write the drift report as HTML here and as JSON beside it (implies ``measure``).
    **options
        Passed to :func:`animate` (``end_image``, ``background``, ``size``, ``sound``, ``max_seconds``,
        ``follow_camera``, ``backend``).
    """
    from steadymotion.drift import analyze_video
    from steadymotion.preflight import check_inputs

    orientation = Orientation.parse(orientation)
    inputs = [motion, image, options.get("end_image"), options.get("background")]
    check_video_output(output, inputs=inputs)
    if report is not None:
        check_writable(report, inputs=inputs + [output])
        check_writable(Path(report).with_suffix(".json"), inputs=inputs + [output])
        measure = True
    max_seconds = check_max_seconds(options.get("max_seconds"))
    check_prompt(prompt)
    if options.get("background") is not None and not isinstance(options["background"], np.ndarray):
        options["background"] = parse_background(options["background"])
    if (image is None) == (not character):
        raise InvalidOptionError("give exactly one of an image (--image) or a stored character (--character)")

    checked = None
    if preflight:
        check_image = image
        if check_image is None:
            ch = (store if isinstance(store, CharacterStore) else CharacterStore(store)).get(character)
            check_image = ch.store.object_path(ch.image)
        checked = check_inputs(check_image, motion, orientation=orientation, prompt=prompt or None,
                               progress=progress, until_s=max_seconds, skeleton_map=options.get("skeleton_map"))
        if not checked.ok and stop_on_error:
            raise PreflightFailed(checked)
        # a capture is read again at the asked frame rate (cheap); a video's tracking is reused
        if options.get("motion_pose") is None and checked.motion_pose is not None and "bvh" not in checked.motion_pose.meta:
            options["motion_pose"] = checked.motion_pose
    result = animate(motion, output, image=image, character=character, store=store, orientation=orientation,
                     prompt=prompt, progress=progress, **options)
    made = MakeResult(animation=result, check=checked)
    if measure:
        drift = analyze_video(result.output, reference=result.master, reference_name=result.character,
                              motion=result.motion_pose, progress=progress)
        made.drift = drift
        if report is not None:
            made.report_files = [drift.write_html(report), drift.write_json(Path(report).with_suffix(".json"))]
    return made
