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
