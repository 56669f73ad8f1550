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


# --- the character image as the puppet will cut it --------------------------------------------------
#: The image is measured with its long side at most this (pixels): the findings concern shapes a
#: body size across, and a 4K photo would only cost time.
FIGURE_SIDE = 1024
#: MediaPipe face-mesh silhouette (the face oval), forehead (10) round to the chin (152).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
#: Background between arm and body counts as a gap from this many body units (and 2 px) across.
ARM_GAP_MIN = 0.015
#: An arm's point counts as lying across the trunk this deep inside its outline (body units).
ACROSS_DEPTH = 0.15
#: Hair sample: the person's pixels round the face outline, this many face heights wide, down to
#: this many face heights below the face's top (the sides of the face, not the neck).
HAIR_BAND = (0.12, 0.9)
#: A pixel is hair-coloured within this Mahalanobis distance of the hair sample's colour.
HAIR_COLOUR_DIST = 3.0
#: Half-width of a thigh at mid-thigh, body units, for the two-thigh width a skirt is compared with
#: (bare legs, shorts and jeans on ../shared/media measure 1.16-1.24 x this model).
THIGH_HALF_WIDTH = 0.16

#: The subject's sides: name, keypoint suffix, MediaPipe hand index, body landmarks of the wrist,
#: pinky, index and thumb.
_SIDES = (("left", "l", 0, (15, 17, 19, 21)), ("right", "r", 1, (16, 18, 20, 22)))


@dataclass
class FigureStats:
    """How the puppet renderer will cut a character image: arms, hands, hair and skirt.

    Lengths are in body units (:attr:`unit`), never pixels. Per-side dictionaries are keyed
    ``"left"``/``"right"`` (the subject's sides) and hold only the sides the image shows.

    Attributes
    ----------
    unit : float
        Body size in image pixels: the larger of the shoulder width and 0.45 x the torso length
        (the renderer's own unit for part widths).
    arm_contact : dict
        Share of the arm (from a fifth of the way down the upper arm to near the wrist) with no
        background between it and the body, 0..1.
    arm_across : dict
        Share of the arm (the same stretch) lying inside the trunk's outline, away from its edge: an
        arm held across the body, hiding the trunk behind it, 0..1.
    hand_in_body : dict
        Share of the hand inside the zones the renderer fills in when a part in front of them moves
        away (the trunk's outline, the thigh capsules), 0..1.
    hand_enclosed : dict
        Share of a ring round the hand, on the hand's side away from the body's midline and off the
        forearm, that is the person: clothing beyond a hand lying on the body, background beside a
        hand hanging next to it, 0..1.
    hair_on_arm : dict
        Share of the upper arm's capsule covered by hair hanging down from the head, 0..1.
    hair_distinct : bool or None
        Whether the hair's colour stands apart from the clothes (None: no hair sample round the face).
    skirt_ratio : float or None
        Width of the figure across both thighs half-way down them (arms left out) over the width of
        two thighs there (None without hips and knees in the image).
    skirt_gap : bool or None
        Background shows between the thighs there.
    legs_rigged : bool
        The thighs are parts of the puppet (hips and knees seen), so the legs move on their own.
    """

    unit: float = 0.0
    arm_contact: dict = field(default_factory=dict)
    arm_across: dict = field(default_factory=dict)
    hand_in_body: dict = field(default_factory=dict)
    hand_enclosed: dict = field(default_factory=dict)
    hair_on_arm: dict = field(default_factory=dict)
    hair_distinct: bool | None = None
    skirt_ratio: float | None = None
    skirt_gap: bool | None = None
    legs_rigged: bool = False

    def to_dict(self) -> dict:
        return dict(vars(self))


def figure_stats(rgb: np.ndarray, pose, alpha: np.ndarray | None = None) -> FigureStats:
    """Measure what makes a character image hard for the puppet renderer to animate.

    Parameters
    ----------
    rgb : ndarray, (H, W, 3) uint8
        The character image.
    pose : PoseSequence
        Its landmarks (:func:`steadymotion.pose.extract.pose_from_image`); frame 0 must hold a body.
    alpha : ndarray, (H, W) float in [0, 1], optional
        The image's own transparency; the person mask is
        :func:`steadymotion.perception.segmentation.person_alpha`, as the renderer's.

    Notes
    -----
    The parts are the renderer's (:mod:`steadymotion.render.puppet.cutout`): the limbs the image
    shows, their widths from the mask's distance transform, the trunk's outline from the shoulders
    to the outer hips. The renderer cuts an arm from the torso with GrabCut (Rother, Kolmogorov &
    Blake 2004): where background shows between them the silhouette separates them; where they
    touch only colour can, and what a moving arm or hand uncovers is inpainted (Telea 2004). Hair
    colour is told from skin and clothes with a quadratic discriminant over three CIELAB Gaussians
    (hair round the face, skin inside it, clothes on the trunk), and only hair connected to the
    head counts.
    """
    from steadymotion.perception.segmentation import person_alpha
    from steadymotion.render.puppet.cutout import present_parts, radii
    from steadymotion.skeleton import keypoint_visibility, keypoints_from_body

    h0, w0 = rgb.shape[:2]
    s = min(1.0, FIGURE_SIDE / max(h0, w0))
    if s < 1.0:
        size = (int(round(w0 * s)), int(round(h0 * s)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if alpha is not None:
            alpha = cv2.resize(alpha.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    mask = person_alpha(rgb, alpha) > 0.5
    body = pose.body[0].copy()
    body[:, :2] *= s
    kp = keypoints_from_body(body)
    vis = keypoint_visibility(body)
    h, w = mask.shape
    present = present_parts(kp, vis, w, h)
    face = pose.face[0, :, :2] * s if pose.face_present[0] else None
    hands = [pose.hands[0, k, :, :2] * s if pose.hands_present[0, k] else None for k in (0, 1)]
    fig = _Figure(rgb, mask, body, kp, present, radii(kp, mask, face), face, hands)
    out = FigureStats(unit=round(fig.unit / s, 1))
    out.arm_contact = fig.arm_contact()
    out.arm_across = fig.arm_across()
    out.hand_in_body, out.hand_enclosed = fig.hands_on_body()
    out.hair_on_arm, out.hair_distinct = fig.hair_on_arms()
    out.skirt_ratio, out.skirt_gap = fig.skirt(vis)
    out.legs_rigged = bool(present[list(_part_index("thigh_l", "thigh_r"))].any())
    return out


def _part_index(*names: str) -> tuple[int, ...]:
    from steadymotion.skeleton import PART

    return tuple(PART[n] for n in names)


def _raster(shape: tuple[int, int], poly: np.ndarray) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1)
    return m.astype(bool)


def _capsule(shape: tuple[int, int], a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.line(m, tuple(int(v) for v in np.round(a)), tuple(int(v) for v in np.round(b)), 1, max(1, int(round(2 * radius))))
    return m.astype(bool)


def _line_samples(mask: np.ndarray, p: np.ndarray, n: np.ndarray, start: float, stop: float) -> tuple[np.ndarray, np.ndarray]:
    """``mask`` along ``p + t n`` for ``t`` in ``[start, stop)`` px, one sample per pixel (False off
    the image), and the ``t`` values."""
    h, w = mask.shape
    t = np.arange(start, stop, 1.0)
    q = np.round(p[None] + t[:, None] * n[None]).astype(int)
    inside = (q[:, 0] >= 0) & (q[:, 0] < w) & (q[:, 1] >= 0) & (q[:, 1] < h)
    on = np.zeros(len(t), bool)
    on[inside] = mask[q[inside, 1], q[inside, 0]]
    return on, t


def _gap_along(mask: np.ndarray, p: np.ndarray, n: np.ndarray, back: float, length: float, min_gap: float) -> bool:
    """Whether the line from ``p - back n`` to ``p + length n`` (``n`` a unit vector) crosses at
    least ``min_gap`` px of background in a row after it has met the person (background before the
    first person pixel lies outside the limb; pixels off the image count as background)."""
    on, _ = _line_samples(mask, p, n, -back, length)
    if not on.any():
        return True
    off = ~on[int(np.argmax(on)):]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], off.astype(np.int8), [0]])))
    return bool(len(edges)) and int((edges[1::2] - edges[::2]).max()) >= min_gap


def _gaussian(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean, inverse covariance and log-determinant of colours ``(N, 3)`` from the 80 % nearest their
    median (a few pixels of another colour at a region's edge do not widen it)."""
    mu = np.median(x, axis=0)
    d = np.linalg.norm(x - mu, axis=1)
    core = x[d <= np.percentile(d, 80)]
    cov = np.cov(core.T) + np.diag([4.0, 1.0, 1.0])  # sensor noise; never singular
    return core.mean(axis=0), np.linalg.inv(cov), float(np.linalg.slogdet(cov)[1])


class _Figure:
    """One character image at working size, with the renderer's view of it (parts, widths, trunk)."""

    def __init__(self, rgb, mask, body, kp, present, radius, face, hands) -> None:
        from steadymotion.render.puppet.cutout import torso_polygon
        from steadymotion.skeleton import KP, PART

        self.rgb, self.mask, self.body, self.kp, self.present, self.radius = rgb, mask, body, kp, present, radius
        self.face, self.hands = face, hands
        self.P = {n: kp[KP[n], :2] for n in KP}
        self.R = {n: radius[i] for n, i in PART.items()}
        self.has = {n: bool(present[i]) for n, i in PART.items()}
        sw = float(np.linalg.norm(self.P["shoulder_l"] - self.P["shoulder_r"]))
        tl = float(np.linalg.norm(self.P["neck"] - self.P["pelvis"]))
        self.unit = max(sw, 0.45 * tl, 8.0)
        self.shape = mask.shape
        # the trunk's outline (shoulders to the outer hips), and the wider zone the renderer fills
        # from the torso's own pixels when an arm or hand in front of it moves away
        self.trunk_poly = torso_polygon(kp, 0.0, widen=0.0, body=True)
        self.trunk = _raster(self.shape, self.trunk_poly)
        self.fill_zone = _raster(self.shape, torso_polygon(kp, 0.0, widen=0.15, body=True))
        for k in ("l", "r"):  # the thighs' capsules are filled the same way behind a hand
            a, b = self.P[f"hip_{k}"], self.P[f"knee_{k}"]
            if np.isfinite(a).all() and np.isfinite(b).all():
                self.fill_zone |= _capsule(self.shape, a, b, self.R[f"thigh_{k}"])

    def arm_contact(self) -> dict:
        """Per arm, the share of sample points along it where no background lies between the arm
        and the body: walking from just outside the bone towards the trunk's centre for half a
        body unit, no run of background pixels follows the arm's own."""
        out = {}
        centre = self.trunk_poly.mean(axis=0)
        min_gap = max(2.0, ARM_GAP_MIN * self.unit)
        for side, k, _, _ in _SIDES:
            if not self.has[f"upper_arm_{k}"]:
                continue
            sh, el, wr = self.P[f"shoulder_{k}"], self.P[f"elbow_{k}"], self.P[f"wrist_{k}"]
            # every arm meets the body at the armpit: from a fifth of the way down the upper arm,
            # to near the wrist (the hand is HANDS_OVER_CLOTHING's business)
            samples = [(sh, el, t) for t in np.linspace(0.2, 1.0, 9)]
            if self.has[f"forearm_{k}"]:
                samples += [(el, wr, t) for t in np.linspace(0.1, 0.9, 9)]
            touching = []
            for a, b, t in samples:
                p = a + t * (b - a)
                d = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
                n = np.array([-d[1], d[0]])
                if n @ (centre - p) < 0:
                    n = -n
                # start a little outside the bone: MediaPipe's arm line often runs along the arm's
                # inner edge, and a start on the body would miss the gap beside it
                touching.append(not _gap_along(self.mask, p, n, 0.2 * self.unit, 0.5 * self.unit, min_gap))
            out[side] = round(float(np.mean(touching)), 3)
        return out

    def arm_across(self) -> dict:
        """Per arm, the share of sample points along it (a fifth of the way down the upper arm to
        near the wrist) lying inside the trunk's outline by more than :data:`ACROSS_DEPTH` body
        units: an arm in front of the trunk, not beside it."""
        out = {}
        poly = self.trunk_poly.reshape(-1, 1, 2).astype(np.float32)
        for side, k, _, _ in _SIDES:
            if not self.has[f"upper_arm_{k}"]:
                continue
            sh, el, wr = self.P[f"shoulder_{k}"], self.P[f"elbow_{k}"], self.P[f"wrist_{k}"]
            pts = [sh + t * (el - sh) for t in np.linspace(0.2, 1.0, 17)]
            if self.has[f"forearm_{k}"]:
                pts += [el + t * (wr - el) for t in np.linspace(0.1, 0.9, 17)]
            inside = [cv2.pointPolygonTest(poly, (float(p[0]), float(p[1])), True) > ACROSS_DEPTH * self.unit for p in pts]
            out[side] = round(float(np.mean(inside)), 3)
        return out

    def hands_on_body(self) -> tuple[dict, dict]:
        """Per hand: the share of its pixels in the renderer's fill zone, and the share of the ring
        round it, on its outer side, that is the person (see :class:`FigureStats`)."""
        in_body, enclosed = {}, {}
        axis = self.P["pelvis"] - self.P["neck"]
        across = np.array([-axis[1], axis[0]]) / max(float(np.linalg.norm(axis)), 1e-6)
        for side, k, hi, lm in _SIDES:
            if not self.has[f"forearm_{k}"]:
                continue
            if self.hands[hi] is not None:
                pts = self.hands[hi]
                palm = float(np.linalg.norm(pts[9] - pts[0]))
            else:  # the body model's wrist, pinky, index and thumb
                pts = self.body[list(lm), :2]
                palm = max(0.1 * self.unit, 1.2 * float(np.linalg.norm(pts[2] - pts[0])))
            if not np.isfinite(pts).all() or palm < 1:
                continue
            h, w = self.shape
            if (pts[:, 0] < 0).any() or (pts[:, 1] < 0).any() or (pts[:, 0] >= w).any() or (pts[:, 1] >= h).any():
                continue  # the picture's edge cuts the hand off (raw_0's right hand): it rests on nothing
            hull = np.zeros(self.shape, np.uint8)
            cv2.fillConvexPoly(hull, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
            g = max(1, int(round(0.2 * palm)))
            hand = cv2.dilate(hull, np.ones((2 * g + 1, 2 * g + 1), np.uint8)).astype(bool)
            r = max(2, int(round(0.6 * palm)))
            ring = cv2.dilate(hand.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))).astype(bool)
            ring &= ~hand & ~_capsule(self.shape, self.P[f"elbow_{k}"], self.P[f"wrist_{k}"], 1.5 * self.R[f"forearm_{k}"])
            own = hand & self.mask
            if ring.sum() < 20 or own.sum() < 20:
                continue
            ys, xs = np.nonzero(ring)
            offset = (np.stack([xs, ys], 1) - self.P["neck"]) @ across
            c = float((pts.mean(axis=0) - self.P["neck"]) @ across)
            outer = (offset - c) * (1.0 if c >= 0 else -1.0) > 0
            in_body[side] = round(float(self.fill_zone[own].mean()), 3)
            enclosed[side] = round(float(self.mask[ys[outer], xs[outer]].mean()) if outer.any() else 0.0, 3)
        return in_body, enclosed

    def _head_outline(self) -> np.ndarray | None:
        """The face's outline ``(N, 2)``: the face mesh's oval, else an ellipse from eyes and ears."""
        if self.face is not None and np.isfinite(self.face[list(FACE_OVAL)]).all():
            return self.face[list(FACE_OVAL)].astype(np.float32)
        pts = self.body[[0, 2, 5, 7, 8], :2]
        ear = float(np.linalg.norm(pts[3] - pts[4])) if np.isfinite(pts).all() else 0.0
        if ear < 4:
            return None
        c = pts[0] + np.array([0.0, 0.1 * ear])
        t = np.linspace(0, 2 * np.pi, 36, endpoint=False)
        return (c + np.stack([0.45 * ear * np.cos(t), 0.65 * ear * np.sin(t)], 1)).astype(np.float32)

    def hair_on_arms(self) -> tuple[dict, bool | None]:
        """Per upper arm, the share of its capsule covered by hair connected to the head; and
        whether the hair's colour can be told from the clothes (None: nothing to sample)."""
        from steadymotion.skeleton import KP

        h, w = self.shape
        oval = self._head_outline()
        if oval is None:
            return {}, None
        top, fh = float(oval[:, 1].min()), float(np.ptp(oval[:, 1]))
        face_m = _raster(self.shape, oval)
        wide, down = HAIR_BAND
        k = max(3, int(round(2 * wide * fh)) | 1)
        rows = np.arange(h)[:, None]
        band = cv2.dilate(face_m.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
        band &= ~cv2.dilate(face_m.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        band &= self.mask & (rows < top + down * fh)
        skin = cv2.erode(face_m.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & self.mask
        shoulders = float(max(self.kp[KP["shoulder_l"], 1], self.kp[KP["shoulder_r"], 1]))
        clothes = self.trunk & self.mask & (rows > shoulders + 0.3 * self.unit)
        if band.sum() < 30:
            return {}, None
        lab = cv2.cvtColor(self.rgb, cv2.COLOR_RGB2LAB).astype(np.float32).reshape(-1, 3)
        scores, hair_d2 = [], None
        for region in (band, skin, clothes):  # hair first
            if region.sum() < 30:
                continue
            mu, icov, logdet = _gaussian(lab[region.ravel()])
            diff = lab - mu
            d2 = np.einsum("ij,jk,ik->i", diff, icov, diff).reshape(h, w)
            scores.append(-0.5 * (d2 + logdet))
            hair_d2 = d2 if hair_d2 is None else hair_d2
        near = hair_d2 < HAIR_COLOUR_DIST**2
        # clothes of the hair's own colour: no telling hair on a sleeve from the sleeve
        distinct = bool(clothes.sum() < 30 or near[clothes].mean() < 0.5)
        if not distinct:
            return {}, False
        like = self.mask & near & (np.argmax(np.stack(scores), axis=0) == 0) & ~face_m
        o = max(1, int(round(0.01 * self.unit)))
        like = cv2.morphologyEx(like.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2 * o + 1, 2 * o + 1), np.uint8))
        _, comp = cv2.connectedComponents(like)
        keep = np.unique(comp[band & (like > 0)])
        hair = np.isin(comp, keep[keep > 0])
        out = {}
        for side, k_, _, _ in _SIDES:
            if not self.has[f"upper_arm_{k_}"]:
                continue
            cap = _capsule(self.shape, self.P[f"shoulder_{k_}"], self.P[f"elbow_{k_}"], self.R[f"upper_arm_{k_}"]) & self.mask
            if cap.sum() >= 20:
                out[side] = round(float(hair[cap].mean()), 3)
        return out, True

    def skirt(self, vis: np.ndarray) -> tuple[float | None, bool | None]:
        """Width of the figure across both thighs half-way down them over two thighs' width, and
        whether background shows between the thighs there (None, None without hips and knees)."""
        from steadymotion.skeleton import KP, VISIBLE

        h, w = self.shape
        if min(vis[KP["hip_l"]], vis[KP["hip_r"]]) < VISIBLE:
            return None, None
        mids = [self.P[f"hip_{k}"] + 0.5 * (self.P[f"knee_{k}"] - self.P[f"hip_{k}"]) for k in ("l", "r")]
        if not all(np.isfinite(m).all() and 0 <= m[0] < w and 0 <= m[1] < h for m in mids):
            return None, None
        legs = self.mask.copy()
        for k in ("l", "r"):  # hands and forearms hanging beside the thighs are not a skirt
            for a, b, part in (("elbow", "wrist", "forearm"), ("wrist", "hand", "hand")):
                if self.has[f"{part}_{k}"]:
                    legs &= ~_capsule(self.shape, self.P[f"{a}_{k}"], self.P[f"{b}_{k}"], 1.3 * self.R[f"{part}_{k}"])
        d = mids[0] - mids[1]  # towards the subject's left
        span = float(np.linalg.norm(d))
        if span < 1:
            return None, None
        c = 0.5 * (mids[0] + mids[1])
        on, t = _line_samples(legs, c, d / span, -1.5 * self.unit, 1.5 * self.unit)
        i_l, i_r = int(np.argmin(np.abs(t - span / 2))), int(np.argmin(np.abs(t + span / 2)))
        if not (on[i_l] and on[i_r]):
            return None, None
        hi, lo = i_l, i_r  # the person's pixels from each thigh's middle outwards
        while hi + 1 < len(t) and on[hi + 1]:
            hi += 1
        while lo > 0 and on[lo - 1]:
            lo -= 1
        width = float(t[hi] - t[lo]) + 1.0
        return round(width / (span + 2 * THIGH_HALF_WIDTH * self.unit), 3), not bool(on[min(i_l, i_r) : max(i_l, i_r) + 1].all())
