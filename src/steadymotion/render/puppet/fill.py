"""Filling what moving parts reveal: the background behind the person (and, in :mod:`.rig`, a
part's hidden pixels behind the parts drawn in front of it).
"""

from __future__ import annotations

import cv2
import numpy as np


def inpaint_multiscale(rgb: np.ndarray, hole: np.ndarray, scale: float = 0.25) -> np.ndarray:
    """Fill ``hole`` (bool) by Telea's fast marching inpainting (Telea 2004) run at ``scale``.

    At a quarter of the size the fill is smooth instead of streaky and takes milliseconds; the
    result is upsampled into the hole only, and the seam is feathered over a few pixels.
    """
    h, w = rgb.shape[:2]
    if not hole.any():
        return rgb.copy()
    sw, sh = max(8, int(w * scale)), max(8, int(h * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    hs = cv2.resize(hole.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) > 0
    hs = cv2.dilate(hs.astype(np.uint8), np.ones((3, 3), np.uint8))
    if hs.all():
        fill = np.full_like(small, np.median(rgb.reshape(-1, 3), axis=0).astype(np.uint8))
    else:
        fill = cv2.inpaint(small, hs, 3, cv2.INPAINT_TELEA)
    up = cv2.resize(fill, (w, h), interpolation=cv2.INTER_CUBIC)
    k = max(3, int(0.004 * max(h, w)) | 1)
    soft = cv2.GaussianBlur(hole.astype(np.float32), (k, k), 0)[..., None]
    soft = np.maximum(soft, hole[..., None].astype(np.float32))
    return (up * soft + rgb * (1 - soft)).round().clip(0, 255).astype(np.uint8)


