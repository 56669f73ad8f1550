"""Measurements preflight findings are made of: framing, facing, limb speed, spin, hands, scene.

Pose-based measures work on a :class:`~steadymotion.types.PoseSequence` (or one body of 33
landmarks); scene measures stream the reference video once at a small working size. Every
threshold is a named constant here, with the reason it has that value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import uniform_filter1d

from steadymotion._native import quiet_native_stderr
from steadymotion.camera import background_motion
from steadymotion.types import PoseSequence

#: A landmark counts as seen when MediaPipe's visibility is at least this (its own default cut-off).
VISIBLE = 0.5
#: ...and when it lies inside the frame, with this margin (fraction of the frame size).
FRAME_MARGIN = 0.01

FRAMINGS = ("portrait", "half-body", "full-body")  # ordered by how much of the body they show

#: Limbs whose angular speed is watched (MediaPipe indices, proximal -> distal joint).
LIMBS = {
    "left upper arm": (11, 13), "right upper arm": (12, 14), "left forearm": (13, 15), "right forearm": (14, 16),
    "left thigh": (23, 25), "right thigh": (24, 26), "left shin": (25, 27), "right shin": (26, 28),
}

#: Body parts a motion can "need", by the landmarks that show them.
PARTS = {
    "head": (0, 2, 5),
    "left arm": (11, 13, 15),
    "right arm": (12, 14, 16),
    "left leg": (23, 25, 27),
    "right leg": (24, 26, 28),
}


def visible(body: np.ndarray, size: tuple[int, int], threshold: float = VISIBLE) -> np.ndarray:
    """Which landmarks of ``body (..., 33, 4)`` are visible and inside a ``size = (w, h)`` frame."""
    w, h = size
    mx, my = FRAME_MARGIN * w, FRAME_MARGIN * h
    x, y, v = body[..., 0], body[..., 1], body[..., 3]
    with np.errstate(invalid="ignore"):
        return (v >= threshold) & (x >= -mx) & (x <= w + mx) & (y >= -my) & (y <= h + my)


def framing_level(body: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Framing of each body ``(..., 33, 4)``: 0 portrait, 1 half-body, 2 full-body, -1 no shoulders.

    Full-body: an ankle and a knee are in view. Half-body: a hip is in view (waist or knees up).
    Portrait: the shoulders but no hip (head and shoulders).
    """
    vis = visible(body, size)
    shoulders = vis[..., 11] | vis[..., 12]
    hips = vis[..., 23] | vis[..., 24]
    legs = (vis[..., 25] | vis[..., 26]) & (vis[..., 27] | vis[..., 28])
    level = np.where(shoulders | hips, 0, -1)
    level = np.where(hips, 1, level)
    level = np.where(hips & legs, 2, level)
    return level


def needed_framing(seq: PoseSequence, share: float = 0.25) -> int:
    """The widest framing the motion shows in at least ``share`` of its frames with a body.

    A dance that shows the feet in a quarter of its frames needs a full-body character: those
    frames would otherwise move legs the image does not have.
    """
    levels = framing_level(seq.body[seq.body_present], seq.size)
    if levels.size == 0:
        return -1
    for lvl in (2, 1, 0):
        if (levels >= lvl).mean() >= share:
            return lvl
    return -1


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


def limb_angular_speed(seq: PoseSequence) -> np.ndarray:
    """Fastest limb rotation per frame in degrees per second (NaN where no limb is seen).

    The 2D direction of each limb (upper arms, forearms, thighs, shins) is unwrapped over time and
    differentiated with the real timestamps; both joints must be visible.
    """
    vis = visible(seq.body, seq.size)
    speeds = []
    for a, b in LIMBS.values():
        v = seq.body[:, b, :2] - seq.body[:, a, :2]
        ok = vis[:, a] & vis[:, b] & seq.body_present
        ang = np.full(len(seq), np.nan)
        if ok.sum() >= 3:
            idx = np.flatnonzero(ok)
            ang[idx] = np.degrees(np.unwrap(np.arctan2(v[idx, 1], v[idx, 0])))
            speed = np.full(len(seq), np.nan)
            speed[idx[1:]] = np.abs(np.diff(ang[idx]) / np.diff(seq.times[idx]))
            # only between consecutive frames: a gap is not a fast move
            speed[idx[1:][np.diff(idx) > 1]] = np.nan
            speeds.append(speed)
    if not speeds:
        return np.full(len(seq), np.nan)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmax(np.array(speeds), axis=0)


@dataclass
class Facing:
    """How the body faces the camera, per frame.

    Attributes
    ----------
    turn_deg : ndarray, (T,)
        0 = facing the camera, 90 = side on, 180 = back to the camera (NaN without a body).
        From the signed shoulder width relative to the torso (the subject's left shoulder is on the
        image right when facing the camera), as a fraction of its frontal value.
    back : ndarray, (T,) bool
        The back is shown: the shoulders are crossed over (left shoulder on the image left).
    """

    turn_deg: np.ndarray
    back: np.ndarray


def torso_length(seq: PoseSequence) -> np.ndarray:
    """Shoulder-midpoint to hip-midpoint distance per frame, pixels (NaN without a body)."""
    b = seq.body
    neck = (b[:, 11, :2] + b[:, 12, :2]) / 2
    pelvis = (b[:, 23, :2] + b[:, 24, :2]) / 2
    return np.linalg.norm(neck - pelvis, axis=1)


def facing(seq: PoseSequence) -> Facing:
    b = seq.body
    torso = torso_length(seq)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (b[:, 11, 0] - b[:, 12, 0]) / torso
    finite = r[np.isfinite(r)]
    r0 = float(np.percentile(finite, 95)) if finite.size else 1.0
    r0 = max(r0, 0.3)  # a clip that never shows a frontal view still has a sane reference
    with np.errstate(invalid="ignore"):
        turn = np.degrees(np.arccos(np.clip(r / r0, -1.0, 1.0)))
        back = seq.body_present & np.isfinite(r) & (r < -0.05 * r0)
    return Facing(turn_deg=turn, back=back)


def turn_rate(seq: PoseSequence, turn_deg: np.ndarray) -> np.ndarray:
    """Speed of turning about the vertical axis, degrees per second (smoothed over 5 frames)."""
    filled = turn_deg.copy()
    if np.isnan(filled).all():
        return np.zeros(len(seq))
    idx = np.flatnonzero(np.isfinite(filled))
    filled = np.interp(np.arange(len(filled)), idx, filled[idx])
    smooth = uniform_filter1d(filled, 5, mode="nearest")
    if len(seq) < 2:
        return np.zeros(len(seq))
    return np.abs(np.gradient(smooth, seq.times))


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


#: HOG detections below this SVM margin are ignored; 1.0 separated the second dancer and the
#: pedestrians of the OpenPose street clip (margins 1.1-3.4) from the false detections on
#: single-person clips (0.3-0.99) in ../shared/media.
HOG_MIN_WEIGHT = 1.0


class PeopleCounter:
    """Counts people in an RGB image: HOG pedestrians (OpenCV) and MediaPipe full-range faces."""

    def __init__(self) -> None:
        import mediapipe as mp

        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        with quiet_native_stderr():
            self._faces = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.6)
            self._faces.process(np.zeros((64, 64, 3), np.uint8))  # the graph logs its set-up on first use

    def close(self) -> None:
        self._faces.close()

    def count(self, rgb: np.ndarray) -> tuple[int, int]:
        """``(people, faces)`` found in ``rgb`` (any size; searched at 480 px)."""
        h, w = rgb.shape[:2]
        s = 480.0 / max(h, w)
        small = cv2.resize(rgb, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else rgb
        rects, weights = self._hog.detectMultiScale(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), winStride=(8, 8), padding=(8, 8), scale=1.05)
        boxes = [tuple(r) for r, wgt in zip(rects, np.ravel(weights)) if wgt >= HOG_MIN_WEIGHT]
        people = len(_nms(boxes, 0.3))
        r = self._faces.process(rgb)
        faces = len(r.detections or [])
        return people, faces


def _nms(boxes: list[tuple[int, int, int, int]], iou: float) -> list[tuple[int, int, int, int]]:
    kept: list[tuple[int, int, int, int]] = []
    for b in sorted(boxes, key=lambda b: -b[2] * b[3]):
        if all(_iou(b, k) < iou and not _inside_box(b, k) for k in kept):
            kept.append(b)
    return kept


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


def _inside_box(small, big) -> bool:
    sx, sy, sw, sh = small
    bx, by, bw, bh = big
    return sx >= bx - 4 and sy >= by - 4 and sx + sw <= bx + bw + 4 and sy + sh <= by + bh + 4


def person_mask(segmenter, rgb: np.ndarray) -> np.ndarray:
    """Boolean person mask from MediaPipe selfie segmentation (landscape model)."""
    r = segmenter.process(rgb)
    if r.segmentation_mask is None:
        return np.zeros(rgb.shape[:2], bool)
    return r.segmentation_mask > 0.5


def scene_pass(video, progress: Callable[[int, int], None] | None = None, until_s: float | None = None) -> SceneStats:
    """Stream the video once at :data:`SCENE_SIDE` px and measure camera motion, cuts, clutter, people.

    Camera motion: Shi-Tomasi corners outside the (dilated) person mask tracked with pyramidal
    Lucas-Kanade (Bouguet 2000) into the next frame, fitted with a RANSAC similarity transform
    (``cv2.estimateAffinePartial2D``). Cuts: Bhattacharyya distance between HSV colour histograms
    of consecutive frames. Clutter: Canny edge density outside the person mask. ``until_s`` stops
    at that time.
    """
    import mediapipe as mp

    from steadymotion.io.video import VideoReader

    times, shifts, scales, cuts = [], [], [], []
    s_times, clutter, people, faces = [], [], [], []
    with quiet_native_stderr():
        segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
        segmenter.process(np.zeros((64, 64, 3), np.uint8))  # the graph logs its set-up on first use
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
                    mask = person_mask(segmenter, rgb)
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
                    cut = float(cv2.compareHist(prev_hist, hist, cv2.HISTCMP_BHATTACHARYYA))
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


def hsv_histogram(rgb: np.ndarray) -> np.ndarray:
    """Normalised 32x16 hue-saturation histogram, compared between frames to find cuts."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [32, 16], [0, 180, 0, 256])
    cv2.normalize(hist, hist, 1.0, 0.0, cv2.NORM_L1)
    return hist


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
