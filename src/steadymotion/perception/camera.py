"""Camera motion measured from the background: what the camera did between frames of a video.

Shi-Tomasi corners (Shi & Tomasi 1994) outside the person, tracked with pyramidal Lucas-Kanade
(Bouguet 2000) and fitted with a RANSAC similarity transform (``cv2.estimateAffinePartial2D``).
Used by preflight (is the camera moving?) and by ``animate`` (follow the reference's camera).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import cv2
import numpy as np

#: Working size (long side, pixels) of :func:`track_camera`.
TRACK_SIDE = 360


def background_motion(prev: np.ndarray, cur: np.ndarray, bg: np.ndarray | None = None) -> np.ndarray | None:
    """Similarity ``(2, 3)`` taking ``prev`` background points to ``cur`` (grey frames), or None."""
    mask = None if bg is None else bg.astype(np.uint8) * 255
    pts = cv2.goodFeaturesToTrack(prev, maxCorners=200, qualityLevel=0.01, minDistance=8, mask=mask)
    if pts is None or len(pts) < 12:
        return None
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(21, 21), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < 10:
        return None
    m, inliers = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if m is None or inliers is None or inliers.sum() < 8:
        return None
    return m


def person_mask(size: tuple[int, int], box: np.ndarray | None) -> np.ndarray:
    """Background mask ``(h, w)`` of a frame of ``size = (w, h)``: all but ``box`` (x0, y0, x1, y1 in
    that frame's pixels) grown by 15 % of its long side; everything when the box is unknown."""
    w, h = size
    bg = np.ones((h, w), bool)
    if box is not None and np.isfinite(box).all():
        x0, y0, x1, y1 = box
        pad = 0.15 * max(x1 - x0, y1 - y0)
        bg[max(0, int(y0 - pad)):int(y1 + pad) + 1, max(0, int(x0 - pad)):int(x1 + pad) + 1] = False
    return bg


def body_boxes(body: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """``(..., 4)`` boxes ``(x0, y0, x1, y1)`` around MediaPipe bodies ``(..., 33, >=2)``; NaN where
    there is no body (``present`` False, or no finite landmark)."""
    b = np.asarray(body)[..., :2]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bodies give NaN boxes
        boxes = np.concatenate([np.nanmin(b, axis=-2), np.nanmax(b, axis=-2)], axis=-1)
    if present is not None:
        boxes[~np.asarray(present, bool)] = np.nan
    return boxes


class CameraSteps:
    """Camera motion frame by frame, fed one frame at a time (see :func:`track_camera`).

    :meth:`step` takes a frame (any size; it is brought to :data:`TRACK_SIDE`) and the person's box
    in that frame's pixels, and returns the similarity from the previous frame to this one in
    :data:`TRACK_SIDE` pixels (``None`` for the first frame or an untrackable step). The pose
    workers run one on the frames they already decode, so animate needs no separate camera pass.
    """

    def __init__(self, source_size: tuple[int, int]) -> None:
        from steadymotion.io.video import _fit_size

        self.size = _fit_size(*source_size, TRACK_SIDE)  # what VideoReader(max_side=TRACK_SIDE) delivers
        self.k = self.size[0] / source_size[0]  # tracking pixels per source pixel
        self._prev: np.ndarray | None = None

    def grey(self, rgb: np.ndarray) -> np.ndarray:
        small = rgb if (rgb.shape[1], rgb.shape[0]) == self.size else cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)

    def step(self, rgb: np.ndarray, box_source_px: np.ndarray | None = None) -> np.ndarray | None:
        grey = self.grey(rgb)
        m = None
        if self._prev is not None:
            box = None if box_source_px is None else np.asarray(box_source_px, np.float64) * self.k
            m = background_motion(self._prev, grey, person_mask(self.size, box))
        self._prev = grey
        return m

    def prime(self, rgb: np.ndarray) -> None:
        """Take ``rgb`` as the previous frame (the frame before a chunk starts)."""
        self._prev = self.grey(rgb)


def camera_path(steps: np.ndarray, k: float) -> np.ndarray:
    """Steps ``(T, 2, 3)`` in tracking pixels (NaN = no motion) -> path ``(T, 2, 3)`` in source pixels:
    frame-0 pixels to frame-t pixels."""
    S, Sinv = np.diag([k, k, 1.0]), np.diag([1 / k, 1 / k, 1.0])
    acc = np.eye(3)
    out = np.empty((len(steps), 2, 3), np.float64)
    for i, m in enumerate(steps):
        if np.isfinite(m).all():
            acc = np.vstack([m, [0, 0, 1]]) @ acc
        out[i] = (Sinv @ acc @ S)[:2]
    return out


def track_camera(video, person_boxes: np.ndarray | None = None,
                 progress: Callable[[int, int], None] | None = None, frames: int | None = None) -> np.ndarray:
    """Camera path of a video: ``(T, 2, 3)`` maps from frame-0 pixels to frame-t pixels (source size).

    ``person_boxes (T, 4)`` (x0, y0, x1, y1 in source pixels, NaN when unknown) are kept out of
    the feature mask so a dancer's motion is not taken for the camera's. Untrackable steps
    (blank walls, cuts) count as no motion. ``frames`` stops after that many frames.
    """
    from steadymotion.io.video import VideoReader

    steps: list[np.ndarray] = []
    with VideoReader(video, max_side=TRACK_SIDE) as reader:
        tracker = CameraSteps(reader.info.size)
        total = reader.info.frame_count or 0
        if frames is not None:
            total = min(total, frames) if total else frames
        for frame in reader:
            i = frame.index
            if frames is not None and i >= frames:
                break
            box = person_boxes[i] if person_boxes is not None and i < len(person_boxes) else None
            m = tracker.step(frame.image, box)
            steps.append(np.full((2, 3), np.nan) if m is None else m)
            if progress is not None and i % 10 == 0:
                progress(i + 1, max(total, i + 1))
    if progress is not None and steps:
        progress(len(steps), len(steps))
    return camera_path(np.array(steps).reshape(-1, 2, 3), tracker.k)
