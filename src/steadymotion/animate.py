"""The ``animate`` pipeline: character image (or stored character) + motion video -> MP4.

Composes the layers below and holds no algorithm of its own: rig (:mod:`steadymotion.render.rig`,
or the character store), motion (:mod:`steadymotion.pose`), camera
(:mod:`steadymotion.camera`, :mod:`steadymotion.motion.directives`), plan
(:mod:`steadymotion.motion.plan`), puppet rendering (:mod:`steadymotion.render.puppet`) streamed
frame by frame into :class:`~steadymotion.io.video.VideoWriter`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from steadymotion.errors import InvalidOptionError, NotAnImageError, SteadyMotionError
from steadymotion.io.atomic import check_writable
from steadymotion.motion.directives import CameraDirectives, parse_camera
from steadymotion.motion.plan import ORIENTATIONS, MotionPlan, plan_motion
from steadymotion.render.puppet import Pose2D, PuppetRenderer
from steadymotion.render.rig import Rig
from steadymotion.types import PoseSequence

#: Default output: the image's own size, its long side brought within these bounds (even numbers).
MAX_SIDE, MIN_SIDE = 1280, 512

Stage = Callable[[str, int, int], None]


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
    rig: Rig | None = field(default=None, repr=False)

    @property
    def render_fps(self) -> float:
        return self.frames / max(self.timings.get("render", 0.0), 1e-9)


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
    if not text:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise InvalidOptionError(f"--size {text!r}: write it as WIDTHxHEIGHT, e.g. 720x1280") from None
    return w, h


def parse_background(spec: str | None, size: tuple[int, int]):
    """``None`` (the image's own, inpainted), a colour (``#rrggbb``, ``r,g,b`` or a name) or an image."""
    if spec is None:
        return None
    from matplotlib import colors

    s = spec.strip()
    if "," in s and all(p.strip().isdigit() for p in s.split(",")) and len(s.split(",")) == 3:
        return np.array([int(p) for p in s.split(",")], np.float32) / 255
    if not Path(s).exists() and colors.is_color_like(s):
        return np.array(colors.to_rgb(s), np.float32)
    from steadymotion.io.image import read_image

    try:
        img = read_image(s).rgb
    except (NotAnImageError, FileNotFoundError) as exc:
        raise NotAnImageError(f"--background {spec!r}: not a colour (#rrggbb, r,g,b or a name) nor a readable image ({exc})") from None
    w, h = size
    ih, iw = img.shape[:2]
    k = max(w / iw, h / ih)
    big = cv2.resize(img, (max(w, int(round(iw * k))), max(h, int(round(ih * k)))), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


def load_character(image=None, character: str | None = None, store=None) -> tuple[Rig, str]:
    """The rig to animate: a stored character's (no recomputation) or one built from ``image``."""
    from steadymotion.render.rig import build_rig

    if character:
        from steadymotion.characters import CharacterStore

        st = store if store is not None and not isinstance(store, (str, Path)) else CharacterStore(store)
        ch = st.get(character)
        try:
            return ch.load_rig(), f"character {character!r}"
        except SteadyMotionError:
            rig = build_rig(ch.load_image(), source=f"character {character!r}")
            st.update_rig(character, rig)
            return rig, f"character {character!r} (rig rebuilt)"
    if image is None:
        raise InvalidOptionError("give a character image (--image) or a stored character (--character)")
    from steadymotion.io.image import Image, read_image

    img = image if isinstance(image, Image) else read_image(image)
    return build_rig(img.rgb, alpha=img.alpha, source=str(img.path or "image")), str(img.path or "image")


def _person_boxes(seq: PoseSequence) -> np.ndarray:
    b = seq.body[..., :2]
    with np.errstate(invalid="ignore"):
        boxes = np.concatenate([np.nanmin(b, axis=1), np.nanmax(b, axis=1)], axis=1)
    boxes[~seq.body_present] = np.nan
    return boxes


def animate(
    motion: str | Path,
    output: str | Path,
    *,
    image=None,
    character: str | None = None,
    store=None,
    orientation: str = "video",
    prompt: str | None = None,
    end_image=None,
    background: str | None = None,
    size: tuple[int, int] | None = None,
    sound: bool = True,
    max_seconds: float | None = None,
    follow_camera: bool = True,
    motion_pose: PoseSequence | None = None,
    progress: Stage | None = None,
) -> AnimateResult:
    """Make ``output``: the character performing the motion of the ``motion`` video.

    Parameters
    ----------
    motion : path
        Reference video (one person).
    output : path
        The MP4 to write (written to a temporary name and renamed when complete).
    image, character, store
        The character: an image path / :class:`~steadymotion.io.image.Image`, or the name of a
        stored character (``store``: a :class:`~steadymotion.characters.CharacterStore` or its folder).
    orientation : {"video", "image"}
        See :func:`steadymotion.motion.plan.plan_motion`.
    prompt : str, optional
        Camera directives are read from it (:func:`steadymotion.motion.directives.parse_camera`).
    end_image : path, optional
        The clip ends in this image's pose.
    background : str, optional
        A colour or an image path replacing the image's own (inpainted) background.
    size : (w, h), optional
        Output size; default from the image aspect (:func:`output_size`).
    sound : bool
        Keep the reference's audio.
    max_seconds : float, optional
        Use only the first seconds of the reference.
    follow_camera : bool
        In ``video`` orientation, move the background with the reference's camera.
    motion_pose : PoseSequence, optional
        The reference's landmarks when already extracted (skips extraction).
    progress : callable(stage, done, total), optional
    """
    if orientation not in ORIENTATIONS:
        raise InvalidOptionError(f"--orientation must be one of {', '.join(ORIENTATIONS)}, got {orientation!r}")
    out = check_writable(output)
    timings: dict[str, float] = {}
    stage = progress or (lambda s, d, t: None)
    t0 = time.perf_counter()
    rig, source = load_character(image, character, store)
    timings["rig"] = time.perf_counter() - t0

    from steadymotion.io.video import VideoWriter, probe_video
    from steadymotion.pose.extract import extract_pose, pose_from_image

    info = probe_video(motion)
    if max_seconds is not None and max_seconds <= 0:
        raise InvalidOptionError(f"--max-seconds must be positive, got {max_seconds}")
    t0 = time.perf_counter()
    if motion_pose is None:
        # a preview of a long reference tracks only what it shows
        motion_pose = extract_pose(motion, progress=lambda d, t: stage("extracting motion", d, t), until_s=max_seconds)
    seq = motion_pose
    if max_seconds is not None:
        n = int(np.searchsorted(seq.times - seq.times[0], max_seconds - 1e-9, side="left"))
        seq = seq[: max(1, n)]
    if not seq.body_present.any():
        from steadymotion.errors import NoPersonError

        raise NoPersonError(f"{motion}: no person in the motion video; use a clip with one clearly visible person")
    timings["motion"] = time.perf_counter() - t0

    directives = parse_camera(prompt)
    track = None
    t0 = time.perf_counter()
    if orientation == "video" and follow_camera:
        track = _track(motion, seq, stage)
    timings["camera"] = time.perf_counter() - t0

    out_size = output_size(rig.size, size)
    end_pose = end_size = None
    if end_image is not None:
        from steadymotion.io.image import read_image

        end = read_image(end_image)
        end_pose = pose_from_image(end.rgb)
        end_size = (end.rgb.shape[1], end.rgb.shape[0])
    plan = plan_motion(rig, seq, size=out_size, orientation=orientation, directives=directives, camera_track=track,
                       end_pose=end_pose, end_size=end_size)
    bg = parse_background(background, out_size)
    renderer = PuppetRenderer(rig, out_size, plan.base, background=bg)

    t0 = time.perf_counter()
    n = len(plan)
    with VideoWriter(out, seq.fps, audio_from=motion if (sound and info.has_audio) else None) as writer:
        for i in range(n):
            frame = renderer.render(Pose2D(plan.keypoints[i], float(plan.scale[i]), tuple(int(x) for x in plan.order[i]), plan.camera[i]))
            writer.write(frame)
            if i % 5 == 0 or i == n - 1:
                stage("rendering", i + 1, n)
    timings["render"] = time.perf_counter() - t0

    notes = list(rig.notes) + list(plan.notes)
    if prompt and not directives.understood:
        notes.append("no camera directive in the prompt (the puppet backend reads only camera directives from it)")
    return AnimateResult(output=out, frames=n, fps=float(seq.fps), size=out_size, duration_s=n / float(seq.fps),
                         timings=timings, directives=directives, notes=notes, plan=plan, rig=rig)


def _track(motion, seq: PoseSequence, stage: Stage) -> np.ndarray:
    from steadymotion.camera import track_camera

    return track_camera(motion, _person_boxes(seq), progress=lambda d, t: stage("tracking the camera", d, t),
                        frames=len(seq))[: len(seq)]
