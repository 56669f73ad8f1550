"""Camera motion measured from the background: what the camera did between frames of a video.

Shi-Tomasi corners (Shi & Tomasi 1994) outside the person, tracked with pyramidal Lucas-Kanade
(Bouguet 2000) and fitted with a RANSAC similarity transform (``cv2.estimateAffinePartial2D``).
Used by preflight (is the camera moving?) and by ``animate`` (follow the reference's camera).
"""

from __future__ import annotations

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


def track_camera(video, person_boxes: np.ndarray | None = None,
                 progress: Callable[[int, int], None] | None = None, frames: int | None = None) -> np.ndarray:
    """Camera path of a video: ``(T, 2, 3)`` maps from frame-0 pixels to frame-t pixels (source size).

    ``person_boxes (T, 4)`` (x0, y0, x1, y1 in source pixels, NaN when unknown) are kept out of
    the feature mask so a dancer's motion is not taken for the camera's. Untrackable steps
    (blank walls, cuts) count as no motion. ``frames`` stops after that many frames.
    """
    from steadymotion.io.video import VideoReader

    path: list[np.ndarray] = []
    acc = np.eye(3)
    prev = None
    with VideoReader(video, max_side=TRACK_SIDE) as reader:
        w, h = reader.output_size
        sw, sh = reader.info.size
        k = w / sw
        total = reader.info.frame_count or 0
        if frames is not None:
            total = min(total, frames) if total else frames
        for frame in reader:
            if frames is not None and frame.index >= frames:
                break
            gray = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
            bg = np.ones((h, w), bool)
            i = frame.index
            if person_boxes is not None and i < len(person_boxes) and np.isfinite(person_boxes[i]).all():
                x0, y0, x1, y1 = person_boxes[i] * k
                pad = 0.15 * max(x1 - x0, y1 - y0)
                bg[max(0, int(y0 - pad)):int(y1 + pad) + 1, max(0, int(x0 - pad)):int(x1 + pad) + 1] = False
            if prev is not None:
                m = background_motion(prev, gray, bg)
                if m is not None:
                    acc = np.vstack([m, [0, 0, 1]]) @ acc
            # back to source pixels: S^-1 acc S
            S = np.diag([k, k, 1.0])
            path.append((np.linalg.inv(S) @ acc @ S)[:2].copy())
            prev = gray
            if progress is not None and i % 10 == 0:
                progress(i + 1, max(total, i + 1))
    if progress is not None and path:
        progress(len(path), len(path))
    return np.array(path, np.float64)
