"""Binary morphology by discs of any size through exact Euclidean distance transforms.

OpenCV's dilation by an elliptic kernel costs time in proportion to the kernel's size (0.2-2.6 s on
a 1080p picture for discs an arm's width across; 4 ms per frame for a face-sized band at 512 px,
which the drift meter pays on every frame). A disc is what lies within its radius, so a distance
transform (Felzenszwalb & Huttenlocher 2012, OpenCV's ``DIST_MASK_PRECISE``) gives the same mask,
but for the disc's rim pixels, in a time that does not depend on the disc.
"""

from __future__ import annotations

import cv2
import numpy as np


def close_disc(mask: np.ndarray, d: int) -> np.ndarray:
    """Morphological closing (Serra 1982) of a boolean ``mask`` by a disc ``d`` px across.

    Through two exact Euclidean distance transforms (Felzenszwalb & Huttenlocher 2012, OpenCV's
    ``DIST_MASK_PRECISE``): the dilation is what lies within the radius of the mask, the erosion of
    that what lies farther than the radius from everything outside it; past the picture's edge
    counts as inside, as in OpenCV's own closing. Same result as ``cv2.morphologyEx`` with an
    elliptic kernel but for the disc's rim pixels (0.1 % of a figure differ), in a fixed ~50 ms on
    a 1080p picture where the kernel's cost grows with its size (2.6 s for a 211-px disc).
    """
    m = np.asarray(mask, bool)
    if not m.any():
        return m.copy()
    grown = dilate_disc(m, d)
    return cv2.distanceTransform(grown.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > (d - 1) / 2.0


def dilate_disc(mask: np.ndarray, d: int) -> np.ndarray:
    """Dilation of a boolean ``mask`` by a disc ``d`` px across: what lies within its radius of the
    mask, by an exact Euclidean distance transform (see :func:`close_disc`)."""
    m = np.asarray(mask, bool)
    if not m.any():
        return m.copy()
    return cv2.distanceTransform((~m).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= (d - 1) / 2.0
