"""Stabilisation of generation jitter only: the camera path is kept, its frame-to-frame jumps removed.

The camera path is the background's image motion summed over frames (:mod:`.track`). The intended
path is that path smoothed (a running median over three frames, then a Gaussian of
:data:`SMOOTH_S`), in the spirit of path smoothing for video stabilisation (Grundmann, Kwatra & Essa
2011, "Auto-directed video stabilization with robust L1 optimal camera paths"; Liu et al. 2013,
"Bundled camera paths") reduced to translation: pans, tilts and hand-held sway are slower than the
smoothing and stay; jumps from one frame to the next go. Each frame is moved onto the smoothed path;
the strip this uncovers at the border is filled from the previous repaired frame (already on the
same path) instead of cropping the video, a minimal form of motion-compensated mosaicking
(Matsushita et al. 2006, "Full-frame video stabilization").
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

#: Standard deviation (seconds) of the Gaussian that makes the intended path.
SMOOTH_S = 0.2
#: A segment whose camera steps are unmeasured on more than this share of frames is left alone.
MAX_UNKNOWN = 0.3


def camera_path(track, seg: slice) -> np.ndarray | None:
    """Cumulative background position (T_seg, 2) in full-frame pixels; unmeasured steps take the
    neighbours' motion (interpolated). ``None`` when too few steps were measured."""
    s = track.step[seg].copy()
    s[0] = 0.0
    ok = np.isfinite(s).all(axis=1)
    if ok.mean() < 1 - MAX_UNKNOWN or ok.sum() < 3:
        return None
    idx = np.arange(len(s))
    for k in range(2):
        s[~ok, k] = np.interp(idx[~ok], idx[ok], s[ok, k])
    return np.cumsum(s, axis=0)


def smooth_path(path: np.ndarray, fps: float) -> np.ndarray:
    """The intended camera path: a 3-frame running median (a lone jump) then a Gaussian of SMOOTH_S."""
    p = median_filter(path, size=(3, 1), mode="nearest") if len(path) >= 3 else path
    return gaussian_filter1d(p, sigma=max(1.0, SMOOTH_S * fps), axis=0, mode="nearest")


def jitter_shifts(track, weight: np.ndarray) -> np.ndarray:
    """Shift per frame (T, 2) in pixels that puts it on the smoothed camera path, scaled by ``weight``."""
    out = np.zeros((len(track), 2))
    for seg in track.segments():
        path = camera_path(track, seg)
        if path is not None:
            out[seg] = smooth_path(path, track.fps) - path
    return out * np.asarray(weight)[:, None]


def shift_frame(img: np.ndarray, shift, fill: np.ndarray | None) -> np.ndarray:
    """``img`` moved by ``shift`` (dx, dy) pixels (bilinear); the uncovered border comes from ``fill``
    (the previous repaired frame) when given, else the image's own edge reflected."""
    dx, dy = float(shift[0]), float(shift[1])
    if abs(dx) < 0.05 and abs(dy) < 0.05:
        return img
    h, w = img.shape[:2]
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    if fill is None:
        return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    inside = cv2.warpAffine(np.full((h, w), 255, np.uint8), m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    edge = inside < 255
    if edge.any():
        a = (inside[edge].astype(np.float32) / 255.0)[:, None]
        out[edge] = np.clip(out[edge] + (1 - a) * fill[edge], 0, 255).astype(np.uint8)
    return out
