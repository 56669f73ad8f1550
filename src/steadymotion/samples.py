"""Built-in sample inputs, made by the package itself (nothing downloaded, nothing shipped twice).

The character is scikit-image's ``astronaut`` test image (NASA portrait of Eileen Collins, public
domain), which the scikit-image wheel bundles. :func:`make_sample_clip` turns it into a short
video with a real person in it: a slow sway with a hand-held camera drift and zoom, enough for
pose extraction and the drift meter to have something real to measure.
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
    (:func:`steadymotion.render.puppet.build_rig`), its arms are swung by sines (upper arms up to
    80 deg, forearms 50 deg, out of phase) and its torso leans 6 deg, and the puppet is rendered.
    A real person is in every frame (the photo's pixels), so pose extraction finds one.
    """
    from steadymotion.motion.kinematics import RestShape, fit_base, forward
    from steadymotion.render.puppet import Pose2D, PuppetRenderer, build_rig, rest_order
    from steadymotion.skeleton import LIMB

    img = cv2.resize(sample_image(), (size, size), interpolation=cv2.INTER_CUBIC)
    rig = build_rig(img, source="sample image")
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
