"""Built-in sample inputs, made by the package itself (nothing downloaded, nothing shipped twice).

The first impression (``make demo``, the web UI's sample button) is a full-body character doing a
full-body capture: :func:`sample_character` draws a stylised figure (hair, face, shirt, trousers,
shoes on a soft gradient) that MediaPipe's pose model finds and the puppet rigs, and
:func:`sample_motion` is a jumping-jacks capture from Meta's AnimatedDrawings (MIT; a CMU motion
capture; notice in ``data/NOTICE-AnimatedDrawings.txt``). :func:`make_capture_clip` renders the
character performing it, for inputs that take a video.

The portrait sample is scikit-image's ``astronaut`` test image (NASA portrait of Eileen Collins,
public domain), which the scikit-image wheel bundles. :func:`make_sample_clip` turns it into a
short video with a real person in it: a slow sway with a hand-held camera drift and zoom, enough
for pose extraction and the drift meter to have something real to measure.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from steadymotion.io.video import VideoWriter


def sample_image() -> np.ndarray:
    """The built-in character image, ``(512, 512, 3) uint8`` RGB."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def sample_motion() -> Path:
    """The bundled full-body capture: AnimatedDrawings' ``jumping_jacks.bvh`` (MIT; 4.2 s, CMU naming)."""
    from importlib.resources import files

    return Path(str(files("steadymotion") / "data" / "jumping_jacks.bvh"))


def _fill_part(canvas: np.ndarray, mask: np.ndarray, colour, dark: float = 0.35, light: float = 0.18) -> None:
    """Paint ``mask`` with ``colour``, shaded darker toward its edges (distance transform), outlined
    inside its edge in a darker tone of its own colour (an outline straddling the edge, or a black
    one the rig's colour models give to the torso, leaves a trace where the part was)."""
    m = (mask > 0).astype(np.uint8)
    if not m.any():
        return
    d = cv2.distanceTransform(m, cv2.DIST_L2, 5)
    k = np.clip(d / max(6.0, float(np.percentile(d[m > 0], 90))), 0, 1)
    shade = (1 - dark) + dark * np.sqrt(k) + light * k ** 2
    rgb = np.clip(np.asarray(colour, np.float32)[None, None, :] * shade[..., None], 0, 255)
    edge = (m > 0) & (d < 2.5)
    rgb[edge] *= 0.6  # a darker line of the part's own colour: a black one would read as another part's
    canvas[m > 0] = rgb[m > 0]


def _capsule(shape: tuple[int, int], a, b, ra: float, rb: float | None = None) -> np.ndarray:
    """A mask of the rounded, tapered limb from ``a`` (radius ``ra``) to ``b`` (radius ``rb``)."""
    rb = ra if rb is None else rb
    m = np.zeros(shape, np.uint8)
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    n = np.array([-d[1], d[0]]) / max(float(np.linalg.norm(d)), 1e-6)
    cv2.fillConvexPoly(m, np.array([a + n * ra, b + n * rb, b - n * rb, a - n * ra]).round().astype(np.int32), 255, cv2.LINE_AA)
    for c, r in ((a, ra), (b, rb)):
        cv2.circle(m, (int(round(c[0])), int(round(c[1]))), int(r), 255, -1, cv2.LINE_AA)
    return m


def _ellipse(shape, centre, axes, angle: float = 0, start: int = 0, end: int = 360) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.ellipse(m, (int(centre[0]), int(centre[1])), axes, angle, start, end, 255, -1, cv2.LINE_AA)
    return m


def sample_character(side: int = 960) -> np.ndarray:
    """The built-in full-body character, drawn by the package: ``(960, 960, 3) uint8`` RGB.

    A stylised person about 720 px tall standing in a relaxed A-pose (arms clear of the body, so
    the rig separates them), facing the camera, on a sky-to-floor gradient with room around them
    for arms raised overhead and spread wide: brown hair, a face with eyes, brows, nose and mouth
    (MediaPipe's pose detector starts from the face), a red raglan tee with charcoal sleeves, skin
    forearms and hands, blue trousers and dark shoes. Drawn at 960x960; other sides are a resize.
    """
    N, W, H = 960, 600, 800  # the picture, and the figure's own box inside it
    ox, oy = (N - W) // 2, 110
    y = np.mgrid[0:N, 0:N][0].astype(np.float32)
    t = (y / N)[..., None]
    # a smooth sky-to-floor gradient, no edges: where a moved part uncovers it the plate is filled in
    # seamlessly (a drawn floor line or shadow under the feet would show pale patches there)
    big = np.array([198, 220, 236], np.float32) * (1 - t) + np.array([226, 218, 200], np.float32) * t
    big = big.astype(np.uint8)
    img = np.ascontiguousarray(big[oy:oy + H, ox:ox + W])
    S = (H, W)
    cx = W / 2
    skin, hair, shirt, trousers, shoes = (238, 194, 160), (92, 58, 38), (222, 72, 60), (52, 78, 140), (40, 40, 46)
    sleeves = (62, 66, 82)  # a raglan tee: sleeves of another colour than the body keep their edges with the arm
    sh_y, hip_y, knee_y, ankle_y = 178, 405, 572, 722
    for s in (-1, 1):  # legs and shoes
        knee = (cx + s * 50, knee_y)
        _fill_part(img, _capsule(S, (cx + s * 40, hip_y), knee, 34, 27) | _capsule(S, knee, (cx + s * 56, ankle_y), 27, 21), trousers)
        _fill_part(img, _ellipse(S, (cx + s * 66, ankle_y + 18), (34, 16)), shoes, light=0.5)
    arms = []
    for s in (-1, 1):  # arms: skin forearm and hand, sleeve over the upper arm (drawn over the torso)
        shoulder, elbow, wrist = (cx + s * 76, sh_y + 10), (cx + s * 128, 296), (cx + s * 172, 394)
        _fill_part(img, _capsule(S, elbow, wrist, 17, 14), skin)
        _fill_part(img, _ellipse(S, (cx + s * 182, 421), (17, 25), -s * 22), skin)
        arms.append(_capsule(S, shoulder, elbow, 27, 21))
    _fill_part(img, _capsule(S, (cx, 130), (cx, 178), 22), skin)  # neck
    torso = np.zeros(S, np.uint8)
    cv2.fillPoly(torso, [np.array([(cx - 70, sh_y - 6), (cx + 70, sh_y - 6), (cx + 78, sh_y + 26), (cx + 66, 300),
                                   (cx + 70, hip_y + 8), (cx - 70, hip_y + 8), (cx - 66, 300), (cx - 78, sh_y + 26)], np.int32)],
                 255, cv2.LINE_AA)
    _fill_part(img, torso | _ellipse(S, (cx, sh_y + 6), (76, 24), 0, 180, 360), shirt)
    for sleeve in arms:
        _fill_part(img, sleeve, sleeves)
    cv2.ellipse(img, (int(cx), sh_y - 8), (26, 14), 0, 0, 180, skin, -1, cv2.LINE_AA)  # neckline
    cv2.line(img, (int(cx - 70), hip_y - 4), (int(cx + 70), hip_y - 4), (60, 40, 30), 8, cv2.LINE_AA)  # belt
    _fill_part(img, _ellipse(S, (cx, 92), (60, 66)), hair)  # hair behind the head
    for s in (-1, 1):
        _fill_part(img, _ellipse(S, (cx + s * 47, 98), (9, 15)), skin)  # ears
    _fill_part(img, _ellipse(S, (cx, 96), (46, 56)), skin, dark=0.2)  # face
    _fill_part(img, _ellipse(S, (cx, 70), (52, 36), 0, 180, 360) | _ellipse(S, (cx + 12, 62), (46, 20), -12, 0, 180), hair)
    for s in (-1, 1):  # eyes and brows
        ex = int(cx + s * 18)
        cv2.ellipse(img, (ex, 94), (10, 7), 0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA)
        cv2.circle(img, (ex, 94), 5, (70, 50, 35), -1, cv2.LINE_AA)
        cv2.circle(img, (ex, 94), 2, (15, 12, 10), -1, cv2.LINE_AA)
        cv2.ellipse(img, (ex, 94), (10, 7), 0, 180, 360, (40, 30, 25), 2, cv2.LINE_AA)
        cv2.line(img, (ex - 10, 80), (ex + 9, 78 if s < 0 else 80), (70, 45, 30), 3, cv2.LINE_AA)
    cv2.polylines(img, [np.array([(cx, 98), (cx - 4, 114), (cx + 4, 115)], np.int32)], False, (190, 140, 110), 2, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx), 126), (14, 6), 0, 0, 180, (170, 70, 70), 3, cv2.LINE_AA)  # smile
    big[oy:oy + H, ox:ox + W] = img
    if side != N:
        big = cv2.resize(big, (side, side), interpolation=cv2.INTER_AREA if side < N else cv2.INTER_CUBIC)
    return big


def make_capture_clip(path: str | Path, seconds: float | None = None, progress=None, size: int = 640) -> Path:
    """Write a ``size`` x ``size`` MP4 of :func:`sample_character` performing :func:`sample_motion`
    (the whole capture, or its first ``seconds``): a full-body motion *video* for inputs that take
    one (the web UI's). A motion reference needs no more pixels than its pose tracker reads (256 px
    BlazePose crops): 640 renders and encodes in half the time of the character's own 960."""
    from steadymotion.io.image import Image
    from steadymotion.pipelines.animate import animate

    image = Image(rgb=sample_character(), alpha=None, path=None)
    return animate(sample_motion(), path, image=image, max_seconds=seconds, progress=progress, size=(size, size)).output


def make_sample_clip(path: str | Path, seconds: float = 4.0, fps: int = 25, size: int = 640) -> Path:
    """Write a ``size`` x ``size`` MP4 of the astronaut swaying, ``seconds`` long, to ``path``.

    The frame at time t is the image rotated by ``6 deg * sin(2 pi t / 2 s)`` about a point below
    the frame centre (a sway from the hips), zoomed by up to 8 % and shifted sideways, like a
    hand-held shot of a person moving.
    """
    img = sample_image()
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_CUBIC)
    n = max(1, int(round(seconds * fps)))
    pivot = (size * 0.5, size * 0.95)
    with VideoWriter(path, Fraction(fps)) as writer:
        for i in range(n):
            t = i / fps
            angle = 6.0 * np.sin(2 * np.pi * t / 2.0)
            zoom = 1.0 + 0.08 * (0.5 - 0.5 * np.cos(2 * np.pi * t / seconds))
            m = cv2.getRotationMatrix2D(pivot, angle, zoom)
            m[0, 2] += 0.03 * size * np.sin(2 * np.pi * t / 3.0)
            frame = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
            writer.write(frame)
    return Path(path)


def make_dance_clip(path: str | Path, seconds: float = 4.0, fps: int = 25, size: int = 640) -> Path:
    """Write a clip of the astronaut puppet waving both arms and swaying, ``seconds`` long.

    The motion is made by the package itself: the sample image is rigged
    (:func:`steadymotion.render.puppet.build_rig`, kept in :mod:`steadymotion.render.cache`), its arms are swung by sines (upper arms up to
    80 deg, forearms 50 deg, out of phase) and its torso leans 6 deg, and the puppet is rendered.
    A real person is in every frame (the photo's pixels), so pose extraction finds one.
    """
    from steadymotion.motion.kinematics import RestShape, fit_base, forward
    from steadymotion.render import get_backend
    from steadymotion.render.cache import prepare_cached
    from steadymotion.render.puppet import Pose2D, PuppetRenderer, rest_order
    from steadymotion.skeleton import LIMB

    img = cv2.resize(sample_image(), (size, size), interpolation=cv2.INTER_CUBIC)
    rig = prepare_cached(get_backend("puppet"), img, source="sample image")
    base = fit_base(rig.size, (size, size))
    rest_kp = rig.rest[:, :2] @ base[:, :2].T + base[:, 2]
    rest = RestShape.from_keypoints(rest_kp, float(base[0, 0]))
    n = max(1, int(round(seconds * fps)))
    t = np.arange(n) / fps
    p = rest.params.take(np.zeros(n, int))
    ramp = np.clip(t / 0.5, 0, 1)
    wave = np.sin(2 * np.pi * t / 2.0) * ramp
    p.limb_rel = p.limb_rel.copy()
    p.limb_rel[:, LIMB["upper_arm_l"]] -= np.radians(80) * np.maximum(wave, 0)
    p.limb_rel[:, LIMB["upper_arm_r"]] += np.radians(80) * np.maximum(-wave, 0)
    p.limb_rel[:, LIMB["forearm_l"]] -= np.radians(50) * np.maximum(wave, 0)
    p.limb_rel[:, LIMB["forearm_r"]] += np.radians(50) * np.maximum(-wave, 0)
    p.torso_angle = p.torso_angle + np.radians(6) * np.sin(2 * np.pi * t / 4.0) * ramp
    kp = forward(p, rest)
    renderer = PuppetRenderer(rig, (size, size), base)
    order = rest_order(rig)
    with VideoWriter(path, Fraction(fps)) as writer:
        for i in range(n):
            writer.write(renderer.render(Pose2D(kp[i], float(base[0, 0]), order, np.eye(2, 3))))
    return Path(path)


def contact_sheet(video: str | Path, path: str | Path, frames: int = 8, height: int = 320) -> Path:
    """Save ``frames`` evenly spaced frames of ``video`` side by side as one PNG (to look at a result)."""
    from steadymotion.io.image import write_image
    from steadymotion.io.video import VideoReader, probe_video

    total = probe_video(video).frame_count or 0
    want = set(np.linspace(0, max(total - 1, 0), frames).round().astype(int).tolist())
    tiles = []
    with VideoReader(video) as reader:
        for frame in reader:
            if frame.index in want:
                im = frame.image
                tiles.append(cv2.resize(im, (max(1, int(round(im.shape[1] * height / im.shape[0]))), height), interpolation=cv2.INTER_AREA))
    if not tiles:
        from steadymotion.errors import NoFramesError

        raise NoFramesError(f"{video}: no frames to put on a contact sheet")
    return write_image(path, np.hstack(tiles))
