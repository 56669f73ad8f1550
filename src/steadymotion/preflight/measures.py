"""Measurements only preflight makes: time ranges of findings and one streaming scene pass.

Body measures (framing, facing, limb speed) live in :mod:`steadymotion.perception.body`, people
counting, segmentation and cut scores in :mod:`steadymotion.perception`: the drift meter uses
them too. The scene pass streams the reference video once at a small working size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from steadymotion.io.video import VideoReader
from steadymotion.perception.camera import background_motion
from steadymotion.perception.people import PeopleCounter
from steadymotion.perception.scene import histogram_change, hsv_histogram
from steadymotion.perception.segmentation import PersonSegmenter


def runs(mask: np.ndarray, times: np.ndarray, min_s: float = 0.0, join_s: float = 0.0) -> list[list[float]]:
    """Time ranges ``[start_s, end_s]`` where ``mask`` holds, at least ``min_s`` long; ranges closer
    than ``join_s`` are merged. ``end_s`` is the time of the frame after the run."""
    if len(mask) == 0:
        return []
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    out: list[list[float]] = []
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    for a, b in zip(edges[::2], edges[1::2]):
        start, end = float(times[a]), float(times[b - 1]) + dt
        if out and start - out[-1][1] <= join_s:
            out[-1][1] = end
        else:
            out.append([start, end])
    return [r for r in out if r[1] - r[0] >= min_s - 1e-9]


# --- scene (one streaming pass over the reference video) ------------------------------------------
#: Working size of the scene pass (long side, pixels): cheap, and clutter/camera/cuts need no more.
SCENE_SIDE = 360
#: Person masks, clutter and people counts are taken on this many frames per second.
SAMPLE_FPS = 2.0


@dataclass
class SceneStats:
    """What one pass over the reference video measured.

    Attributes
    ----------
    times : ndarray, (N,)
        Frame times.
    camera_shift : ndarray, (N,)
        Background motion between consecutive frames (fraction of the frame diagonal), after
        excluding the person; NaN where it could not be estimated.
    camera_scale : ndarray, (N,)
        Zoom between consecutive frames (log scale factor).
    cut_score : ndarray, (N,)
        Colour-histogram change between consecutive frames (Bhattacharyya distance, 0..1).
    sample_times : ndarray, (S,)
    clutter : ndarray, (S,)
        Edge density of the background (share of background pixels on a Canny edge).
    people : ndarray, (S,) int
        Confident, separate people found by the HOG person detector (Dalal & Triggs 2005).
    faces : ndarray, (S,) int
        Faces found by MediaPipe face detection (full range).
    """

    times: np.ndarray
    camera_shift: np.ndarray
    camera_scale: np.ndarray
    cut_score: np.ndarray
    sample_times: np.ndarray
    clutter: np.ndarray
    people: np.ndarray
    faces: np.ndarray
    size: tuple[int, int] = (0, 0)
    extra: dict = field(default_factory=dict)


def scene_pass(video, progress: Callable[[int, int], None] | None = None, until_s: float | None = None) -> SceneStats:
    """Stream the video once at :data:`SCENE_SIDE` px and measure camera motion, cuts, clutter, people.

    Camera motion: Shi-Tomasi corners outside the (dilated) person mask tracked with pyramidal
    Lucas-Kanade (Bouguet 2000) into the next frame, fitted with a RANSAC similarity transform
    (``cv2.estimateAffinePartial2D``). Cuts: Bhattacharyya distance between HSV colour histograms
    of consecutive frames. Clutter: Canny edge density outside the person mask. ``until_s`` stops
    at that time.
    """
    times, shifts, scales, cuts = [], [], [], []
    s_times, clutter, people, faces = [], [], [], []
    segmenter = PersonSegmenter("landscape")
    counter = PeopleCounter()
    prev_gray = prev_hist = None
    mask = None
    next_sample = 0.0
    try:
        with VideoReader(video, max_side=SCENE_SIDE, end_s=until_s) as reader:
            total = reader.info.frame_count or 0
            if until_s is not None:
                total = min(total, int(np.ceil(until_s * float(reader.info.fps)))) if total else total
            w, h = reader.output_size
            diag = float(np.hypot(w, h))
            for frame in reader:
                rgb = frame.image
                gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
                hist = hsv_histogram(rgb)
                if frame.t >= next_sample or mask is None:
                    mask = segmenter.mask(rgb)
                    bg = ~cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
                    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 80, 160) > 0
                    clutter.append(float(edges[bg].mean()) if bg.any() else 0.0)
                    p, f = counter.count(rgb)
                    people.append(p)
                    faces.append(f)
                    s_times.append(frame.t)
                    next_sample = frame.t + 1.0 / SAMPLE_FPS
                shift, scale, cut = np.nan, np.nan, 0.0
                if prev_gray is not None:
                    cut = histogram_change(prev_hist, hist)
                    shift, scale = _camera_step(prev_gray, gray, bg)
                    shift = shift / diag if np.isfinite(shift) else shift
                times.append(frame.t)
                shifts.append(shift)
                scales.append(scale)
                cuts.append(cut)
                prev_gray, prev_hist = gray, hist
                if progress is not None and frame.index % 10 == 0:
                    progress(frame.index + 1, max(total, frame.index + 1))
    finally:
        segmenter.close()
        counter.close()
    return SceneStats(
        times=np.array(times), camera_shift=np.array(shifts), camera_scale=np.array(scales), cut_score=np.array(cuts),
        sample_times=np.array(s_times), clutter=np.array(clutter), people=np.array(people, int), faces=np.array(faces, int),
        size=(w, h),
    )


def _camera_step(prev: np.ndarray, cur: np.ndarray, bg: np.ndarray) -> tuple[float, float]:
    """Background translation (pixels) and log-zoom between two grey frames; NaN when untrackable."""
    m = background_motion(prev, cur, bg)
    if m is None:
        return np.nan, np.nan
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    h, w = prev.shape
    centre = np.array([w / 2.0, h / 2.0, 1.0])
    moved = m @ centre - centre[:2]  # how far the frame centre travels: pan/tilt, not zoom
    return float(np.hypot(*moved)), float(np.log(max(scale, 1e-6)))
