"""Synthetic drift injected into real footage: the drift meter's ground truth.

Each recipe streams a real clip, leaves every frame before ``onset_s`` untouched, and from the
onset on adds one kind of drift with a strength in the units the drift meter's sensitivity floors
use (issue #14):

=================  =========================================================================================
kind               strength
=================  =========================================================================================
``garment_color``  CIEDE2000 ΔE00 (Sharma, Wu & Dalal 2005) between the garment's median colour before and
                   after the edit, ramped in over ``ramp_s`` (0.5 s) and then held. The garment is the person
                   mask (MediaPipe selfie segmentation) inside the torso/legs region of the tracked skeleton,
                   face and skin-coloured pixels excluded; its a*b* are shifted in CIELAB along one hue
                   direction, the shift found per frame by bisection so the *measured* ΔE00 of the median
                   colour of the written pixels hits the target.
``eye_color``      ΔE00 of the irises' median colour, measured on exactly the pixels the drift meter reads
                   (:func:`steadymotion.perception.identity.region_pixels`); iris from the face mesh's iris
                   landmarks 468-477, clipped to the eyelid contour; ramped in over ``ramp_s`` (0.5 s).
``background_warp``  peak displacement (% of the frame diagonal) of a smooth, low-frequency displacement field
                   (a few long-wavelength sinusoids) applied outside the person; its amplitude grows linearly
                   from 0 at the onset to the strength at ``onset_s + ramp_s`` (1 s) and is then held: a
                   slow, smooth melt.
``jitter``         per-frame random translation of the whole frame, ``strength`` % of the diagonal in a random
                   direction, drawn anew every frame (on top of whatever camera motion the clip has).
``flicker``        brightness gain ``1 + strength/100 * sin(2 pi F t + phase)`` with ``F = freq_hz`` (4 Hz).
``background_object``  area (% of the frame) of an object that appears in (or, with ``appear=False``, vanishes
                   from) the static background at the onset, fading over ``ramp_s`` (0.3 s). The object is real:
                   an elliptical cut (feathered edge) of the clip's own first frame, taken from a background place
                   that looks most unlike where it is put (a background place away from the person and the frame
                   edges). It follows the camera (background homography chained frame to frame from
                   Lucas-Kanade tracks outside the person mask, independent of the drift meter's own flow) and
                   passes behind the person (selfie segmentation). ``Injection.boxes`` holds where it is.
``joins``          segments joined end to end: from the onset the clip is cut into chunks of ``chunk_s`` (2 s),
                   and each chunk gets its own constant offset, so the light, the colour and the framing step
                   at every boundary: a gain of ``strength`` % (random sign) on all channels, each channel
                   another ±30 % of that (a tint), and a translation of ``strength / 10`` % of the diagonal in
                   a random direction. (The drift meter has no series for joins; ``steadymotion repair`` finds
                   them itself.)
=================  =========================================================================================

Everything random (hue direction, field phases, offsets, flicker phase) comes from ``seed``, so a
recipe is reproducible. Clips can be cut (``end_s``) and downscaled (``max_side``) while injecting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

KINDS = ("garment_color", "eye_color", "background_warp", "jitter", "flicker", "joins", "background_object")
#: The drift-meter kind (and series, where one series is meant) each recipe should be found as.
EXPECTED = {
    "garment_color": ("color", "color.clothing"),
    "eye_color": ("color", "color.iris"),
    "background_warp": ("structure", None),
    "jitter": ("jitter", "jitter.camera"),
    "flicker": ("flicker", None),
    "background_object": ("structure", "structure.background_objects"),
}
#: Default ramp-in time per kind (seconds from the onset until the full strength).
RAMP_S = {"garment_color": 0.5, "eye_color": 0.5, "background_warp": 1.0, "jitter": 0.0, "flicker": 0.0, "joins": 0.0,
          "background_object": 0.3}

# face-mesh eyelid contours (MediaPipe face mesh): the iris disc is clipped to the open eye
_LEFT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
_RIGHT_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
# face oval (for excluding the face from the garment)
_FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
              149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]


@dataclass
class Injection:
    """What was written: the recipe and, per frame, the strength actually reached (NaN where the
    region was not found in that frame, e.g. no face for ``eye_color``)."""

    path: Path
    kind: str
    strength: float
    onset_s: float
    seed: int
    fps: float
    size: tuple[int, int]
    times: np.ndarray = field(repr=False)
    achieved: np.ndarray = field(repr=False)
    unit: str = ""
    #: Where the drift is, per frame (normalised x0, y0, x1, y1; NaN where none), for recipes that know it.
    boxes: np.ndarray | None = field(default=None, repr=False)

    def achieved_after(self, t0: float) -> float:
        """Median strength reached from ``t0`` on (NaN when never measurable)."""
        v = self.achieved[(self.times >= t0) & np.isfinite(self.achieved)]
        return float(np.median(v)) if v.size else float("nan")


UNITS = {"garment_color": "ΔE00", "eye_color": "ΔE00", "background_warp": "% of diagonal",
         "jitter": "% of diagonal", "flicker": "% gain", "joins": "% gain step",
         "background_object": "% of frame"}


def inject(src, dst, kind: str, strength: float, onset_s: float, seed: int = 0, end_s: float | None = None,
           *, max_side: int | None = None, ramp_s: float | None = None, freq_hz: float = 4.0, pose=None,
           hue_deg: float | None = None, chunk_s: float = 2.0, appear: bool = True) -> Injection:
    """Write ``dst``: ``src`` (cut to ``end_s``, downscaled to ``max_side``) with one kind of drift from ``onset_s``.

    Parameters
    ----------
    src, dst : path
        Real clip in; H.264 MP4 out (written to a temporary file and renamed: atomic).
    kind : {"garment_color", "eye_color", "background_warp", "jitter", "flicker", "joins"}
    strength : float
        In the kind's unit (see the module docstring and :data:`UNITS`).
    onset_s : float
        Frames before this time are written unchanged.
    seed : int
        Everything random in the recipe.
    end_s, max_side : optional
        Cut and downscale the clip while writing.
    ramp_s : float, optional
        Seconds to reach full strength (default per kind, :data:`RAMP_S`).
    freq_hz : float
        Flicker frequency.
    pose : PoseSequence, optional
        Landmarks of ``src`` on every frame (source pixels), when already tracked; otherwise
        ``garment_color`` and ``eye_color`` track the clip first (MediaPipe Holistic).
    hue_deg : float, optional
        a*b* direction of the colour shift (degrees; default drawn from ``seed``).
    chunk_s : float
        Length of the joined chunks (``joins``).
    appear : bool
        ``background_object``: the object appears at the onset (True) or is there from the start
        and vanishes at the onset (False).

    Returns
    -------
    Injection
    """
    from steadymotion.io.video import VideoReader, VideoWriter, probe_video

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if strength < 0:
        raise ValueError(f"strength must be >= 0, got {strength}")
    rng = np.random.default_rng(seed)
    ramp = RAMP_S[kind] if ramp_s is None else float(ramp_s)
    info = probe_video(src)
    if kind in ("garment_color", "eye_color") and pose is None:
        from steadymotion.pose.extract import extract_pose

        pose = extract_pose(src, until_s=end_s, require_person=True, workers=1)
    hue = np.radians(hue_deg if hue_deg is not None else rng.uniform(0, 360))
    times, achieved, boxes = [], [], []
    segmenter = None
    state: dict = {}
    try:
        if kind in ("garment_color", "background_warp", "background_object"):
            from steadymotion.perception.segmentation import PersonSegmenter

            segmenter = PersonSegmenter("landscape")
        with VideoReader(src, end_s=end_s, max_side=max_side) as reader, VideoWriter(dst, reader.fps) as writer:
            w, h = reader.output_size
            scale = w / info.size[0]
            diag = float(np.hypot(w, h))
            fps = float(reader.fps)
            if kind == "flicker":
                state["phase"] = rng.uniform(0, 2 * np.pi)
            if kind == "background_warp":
                state["field"] = _smooth_field(w, h, rng)
            for frame in reader:
                img, t = frame.image, frame.t
                level = 0.0 if t < onset_s - 1e-6 else (1.0 if ramp <= 0 else min(1.0, (t - onset_s) / ramp + 1.0 / max(fps * ramp, 1)))
                got = 0.0
                if level > 0 and kind != "background_object":
                    if kind == "flicker":
                        gain = strength / 100 * np.sin(2 * np.pi * freq_hz * (t - onset_s) + state["phase"])
                        img = np.clip(img.astype(np.float32) * (1 + gain), 0, 255).astype(np.uint8)
                        got = abs(100 * gain)
                    elif kind == "joins":
                        k = int((t - onset_s + 1e-6) // chunk_s)
                        while len(state.setdefault("chunks", [])) <= k:  # each chunk's offsets, drawn in order
                            sign = rng.choice([-1.0, 1.0])
                            tint = 1 + 0.3 * rng.uniform(-1, 1, 3)
                            ang = rng.uniform(0, 2 * np.pi)
                            state["chunks"].append((1 + sign * strength / 100 * tint, strength / 1000 * diag * np.array([np.cos(ang), np.sin(ang)])))
                        gain, move = state["chunks"][k]
                        m = np.float32([[1, 0, move[0]], [0, 1, move[1]]])
                        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
                        img = np.clip(img.astype(np.float32) * gain.astype(np.float32), 0, 255).astype(np.uint8)
                        got = strength
                    elif kind == "jitter":
                        ang = rng.uniform(0, 2 * np.pi)
                        d = strength / 100 * diag
                        m = np.float32([[1, 0, d * np.cos(ang)], [0, 1, d * np.sin(ang)]])
                        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
                        got = strength
                    elif kind == "background_warp":
                        img, got = _melt(img, state["field"], level * strength / 100 * diag, segmenter)
                        got = 100 * got / diag
                    else:
                        i = _pose_index(pose, t)
                        lm = _scaled_landmarks(pose, i, scale) if i is not None else None
                        if kind == "eye_color":
                            img, got = _recolour_iris(img, lm, level * strength, hue)
                        else:
                            img, got = _recolour_garment(img, lm, level * strength, hue, segmenter, state)
                if kind == "background_object":
                    opacity = level if appear else 1.0 - level
                    img, got, box = _place_object(img, state, strength, opacity, segmenter, rng)
                    boxes.append(box)
                times.append(t)
                achieved.append(got)
                writer.write(img)
    finally:
        if segmenter is not None:
            segmenter.close()
    return Injection(Path(dst), kind, float(strength), float(onset_s), seed, fps, (w, h), np.array(times), np.array(achieved),
                     UNITS[kind], boxes=np.array(boxes, float).reshape(-1, 4) if boxes else None)


# --- landmarks -------------------------------------------------------------------------------------
def _pose_index(pose, t: float) -> int | None:
    if pose is None or not len(pose):
        return None
    i = int(np.argmin(np.abs(pose.times - t)))
    return i if abs(pose.times[i] - t) < 0.6 / max(float(pose.fps), 1.0) + 1e-3 else None


def _scaled_landmarks(pose, i: int, scale: float) -> dict:
    body = pose.body[i].copy() if pose.body_present[i] else None
    face = pose.face[i].copy() if pose.face_present[i] else None
    if body is not None:
        body[:, :2] *= scale
    if face is not None:
        face[:, :2] *= scale
    return {"body": body, "face": face}


# --- colour ----------------------------------------------------------------------------------------
def _shift_ab(rgb: np.ndarray, weight: np.ndarray, shift: float, hue: float) -> np.ndarray:
    """Shift a*b* of ``rgb`` pixels (N, 3 uint8) by ``shift * weight`` along the hue direction (CIELAB, D65)."""
    lab = cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    lab[:, 1] += shift * weight * np.cos(hue)
    lab[:, 2] += shift * weight * np.sin(hue)
    out = cv2.cvtColor(lab.reshape(-1, 1, 3), cv2.COLOR_LAB2RGB).reshape(-1, 3)
    return np.clip(np.round(out * 255), 0, 255).astype(np.uint8)


def _hit_target(pixels: np.ndarray, weight: np.ndarray, target: float, hue: float, measure=None) -> tuple[float, float]:
    """The a*b* shift whose written pixels' median colour is ``target`` ΔE00 from the original's
    (bisection; ΔE00 grows monotonically with the shift until the gamut clips). Returns (shift, ΔE00)."""
    from steadymotion.perception.identity import delta_e, median_lab

    if target <= 0 or len(pixels) == 0:
        return 0.0, 0.0
    measure = measure or (lambda px: median_lab(px))
    ref = measure(pixels)

    def de(s: float) -> float:
        return delta_e(measure(_shift_ab(pixels, weight, s, hue)), ref)

    lo, hi = 0.0, 2.0 * target
    while de(hi) < target and hi < 160:
        lo, hi = hi, hi * 2
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        if de(mid) < target:
            lo = mid
        else:
            hi = mid
    return hi, de(hi)


def _recolour_iris(img: np.ndarray, lm: dict | None, target: float, hue: float) -> tuple[np.ndarray, float]:
    from steadymotion.perception.identity import iris_pixels, median_lab

    face = None if lm is None else lm["face"]
    if face is None or not np.isfinite(face[:, :2]).all():
        return img, np.nan
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for c, ring, lid in ((468, [469, 470, 471, 472], _LEFT_EYE), (473, [474, 475, 476, 477], _RIGHT_EYE)):
        r = float(np.mean(np.linalg.norm(face[ring, :2] - face[c, :2], axis=1)))
        disc = np.zeros((h, w), np.uint8)
        cv2.circle(disc, (round(face[c, 0]), round(face[c, 1])), max(1, round(r)), 1, -1)
        eye = np.zeros((h, w), np.uint8)
        cv2.fillPoly(eye, [np.round(face[lid, :2]).astype(np.int32)], 1)
        mask |= disc & cv2.dilate(eye, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(mask)
    if len(ys) < 6:
        return img, np.nan

    def measure(px: np.ndarray) -> np.ndarray:
        canvas = img.copy()
        canvas[ys, xs] = px
        sel = iris_pixels(canvas, face)  # the meter's iris pixels (what region_pixels gives as "iris")
        return median_lab(sel) if sel is not None else median_lab(px)

    pixels = img[ys, xs]
    weight = np.ones(len(ys), np.float32)
    shift, got = _hit_target(pixels, weight, target, hue, measure)
    out = img.copy()
    out[ys, xs] = _shift_ab(pixels, weight, shift, hue)
    return out, got


def _garment_mask(img: np.ndarray, lm: dict | None, segmenter, state: dict) -> np.ndarray | None:
    """Clothing of the torso and legs: person mask inside the skeleton's torso/leg region, minus the
    face and skin-coloured pixels (skin colour from the cheeks)."""
    if lm is None or lm["body"] is None:
        return None
    body = lm["body"]
    h, w = img.shape[:2]
    vis = body[:, 3] > 0.5
    if not (vis[11] and vis[12]):
        return None
    ls, rs = body[11, :2], body[12, :2]
    sw = float(np.linalg.norm(ls - rs))
    if sw < 8:
        return None
    region = np.zeros((h, w), np.uint8)
    if vis[23] and vis[24]:
        torso = np.array([ls, rs, body[24, :2], body[23, :2]])
    else:  # hips out of frame: the torso runs down to 1.6 shoulder widths below the shoulders
        down = np.array([0.0, 1.6 * sw])
        torso = np.array([ls, rs, rs + down, ls + down])
    centre = torso.mean(axis=0)
    torso = centre + 1.15 * (torso - centre)  # clothes are wider than the joints
    cv2.fillPoly(region, [np.round(torso).astype(np.int32)], 1)
    thick = max(3, round(0.45 * sw))
    for a, b in ((23, 25), (25, 27), (24, 26), (26, 28)):
        if vis[a] and vis[b]:
            cv2.line(region, tuple(int(v) for v in np.round(body[a, :2])), tuple(int(v) for v in np.round(body[b, :2])), 1, thick)
    person = segmenter.mask(img, threshold=0.5)
    mask = region.astype(bool) & person
    face = lm["face"]
    if face is not None and np.isfinite(face[:, :2]).all():
        oval = np.zeros((h, w), np.uint8)
        cv2.fillPoly(oval, [np.round(face[_FACE_OVAL, :2]).astype(np.int32)], 1)
        mask &= ~cv2.dilate(oval, np.ones((9, 9), np.uint8)).astype(bool)
        from steadymotion.perception.identity import _disc

        fw = float(np.linalg.norm(face[234, :2] - face[454, :2]))
        cheeks = np.concatenate([_disc((h, w), face[k, 0], face[k, 1], 0.08 * fw) for k in (50, 280)], axis=1)
        if cheeks.shape[1] >= 6:
            state["skin"] = np.median(cv2.cvtColor(img[cheeks[0], cheeks[1]].reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32), axis=0)
    if "skin" in state:  # bare arms, neck, midriff: pixels close to the face's skin colour
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
        d = np.linalg.norm(lab[..., 1:] - state["skin"][1:], axis=-1) + 0.3 * np.abs(lab[..., 0] - state["skin"][0])
        mask &= d > 14
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    return mask if mask.sum() >= 50 else None


def _recolour_garment(img, lm, target: float, hue: float, segmenter, state: dict) -> tuple[np.ndarray, float]:
    mask = _garment_mask(img, lm, segmenter, state)
    if mask is None:
        return img, np.nan
    soft = cv2.GaussianBlur(mask.astype(np.float32), (5, 5), 0)  # no hard seam at the garment's edge
    ys, xs = np.nonzero(soft > 0.01)
    pixels, weight = img[ys, xs], soft[ys, xs]
    core = weight > 0.99
    # calibrate on (a sample of) the garment proper, then write the feathered region
    rng = np.random.default_rng(0)
    pick = np.flatnonzero(core)
    if len(pick) > 4000:
        pick = rng.choice(pick, 4000, replace=False)
    shift, got = _hit_target(pixels[pick], weight[pick], target, hue)
    out = img.copy()
    out[ys, xs] = _shift_ab(pixels, weight, shift, hue)
    return out, got


# --- geometry --------------------------------------------------------------------------------------
def _smooth_field(w: int, h: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A smooth displacement field of unit peak magnitude: three long-wavelength sinusoids per axis
    (wavelengths 0.35-0.8 of the frame's long side, random orientations and phases)."""
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    side = float(max(w, h))
    fx = np.zeros((h, w), np.float32)
    fy = np.zeros((h, w), np.float32)
    for f in (fx, fy):
        for _ in range(3):
            lam = rng.uniform(0.35, 0.8) * side
            th = rng.uniform(0, np.pi)
            ph = rng.uniform(0, 2 * np.pi)
            f += np.sin(2 * np.pi * (gx * np.cos(th) + gy * np.sin(th)) / lam + ph).astype(np.float32)
    peak = float(np.sqrt(fx**2 + fy**2).max())
    return fx / peak, fy / peak


def _melt(img: np.ndarray, fld, amplitude_px: float, segmenter) -> tuple[np.ndarray, float]:
    h, w = img.shape[:2]
    fx, fy = fld
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    person = segmenter.probability(img)
    keep = cv2.GaussianBlur((person > 0.3).astype(np.uint8) * 255, (0, 0), 0.01 * max(w, h) + 1)
    keep = cv2.dilate(keep, np.ones((max(3, int(0.03 * max(w, h))),) * 2, np.uint8)).astype(np.float32) / 255
    bg = 1.0 - keep
    dx, dy = amplitude_px * fx * bg, amplitude_px * fy * bg
    out = cv2.remap(img, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out, float(np.sqrt(dx**2 + dy**2).max())


# --- objects ---------------------------------------------------------------------------------------
def _camera_step(prev: np.ndarray, cur: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Background homography previous -> current from Lucas-Kanade tracks of corners outside the
    person (Shi & Tomasi 1994; Bouguet's pyramidal LK; RANSAC); identity when too few."""
    bg = (~cv2.dilate(person.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)).astype(np.uint8) * 255
    pts = cv2.goodFeaturesToTrack(prev, 400, 0.01, 8, mask=bg)
    if pts is None or len(pts) < 12:
        return np.eye(3)
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(21, 21), maxLevel=3)
    ok = st.ravel() == 1
    if ok.sum() < 12:
        return np.eye(3)
    H, _ = cv2.findHomography(pts[ok], nxt[ok], cv2.RANSAC, 2.0)
    return np.eye(3) if H is None else H


def _choose_object(img: np.ndarray, person: np.ndarray, area_share: float, rng: np.random.Generator):
    """Where the object goes and what it looks like: a place in the background away from the
    person (and the frame's edges), and the background cut, elsewhere in the frame, that looks most
    unlike that place (mean absolute grey difference)."""
    h, w = img.shape[:2]
    side = int(round(np.sqrt(area_share * w * h / (np.pi * 0.45**2))))  # a disc of that area
    side = max(6, min(side, min(w, h) // 2))
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    near = cv2.dilate(person.astype(np.uint8), np.ones((max(3, w // 12),) * 2, np.uint8)).astype(bool)
    cands = []
    step = max(4, side // 3)
    for y in range(int(0.1 * h), int(0.9 * h) - side, step):
        for x in range(int(0.1 * w), int(0.9 * w) - side, step):
            if not near[y:y + side, x:x + side].any():
                cands.append((x, y))
    if not cands:  # a person filling the frame: any place off them
        cands = [(x, y) for y in range(0, h - side, step) for x in range(0, w - side, step)
                 if not person[y:y + side, x:x + side].any()] or [(0, 0)]
    dst = cands[int(rng.integers(len(cands)))]
    d = grey[dst[1]:dst[1] + side, dst[0]:dst[0] + side]
    srcs = [(x, y) for y in range(0, h - side, step) for x in range(0, w - side, step)
            if not person[y:y + side, x:x + side].any() and (abs(x - dst[0]) >= side or abs(y - dst[1]) >= side)]
    if not srcs:
        srcs = [(x, y) for y in range(0, h - side, step) for x in range(0, w - side, step)]
    diff = [float(np.abs(grey[y:y + side, x:x + side] - d).mean()) for x, y in srcs]
    sx, sy = srcs[int(np.argmax(diff))]
    patch = img[sy:sy + side, sx:sx + side].copy()
    alpha = np.zeros((side, side), np.float32)
    cv2.ellipse(alpha, (side // 2, side // 2), (int(side * 0.45), int(side * 0.45)), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.06 * side))
    return dst, patch, alpha


def _place_object(img: np.ndarray, state: dict, strength: float, opacity: float, segmenter, rng):
    """Composite the recipe's object (chosen on the first frame) into ``img`` where the camera has
    carried it, behind the person, at ``opacity``. Returns (image, visible area % of frame, box)."""
    h, w = img.shape[:2]
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    person = segmenter.probability(img)
    if "object" not in state:
        state["object"] = _choose_object(img, person > 0.3, strength / 100, rng)
        state["camera"] = np.eye(3)
    else:
        state["camera"] = _camera_step(state["prev"], grey, person > 0.3) @ state["camera"]
    state["prev"] = grey
    (x, y), patch, alpha = state["object"]
    if opacity <= 0 or strength <= 0:
        return img, 0.0, np.full(4, np.nan)
    T = state["camera"] @ np.array([[1.0, 0, x], [0, 1.0, y], [0, 0, 1]])
    a = cv2.warpPerspective(alpha, T, (w, h), flags=cv2.INTER_LINEAR) * opacity * (1.0 - np.clip(person, 0, 1))
    p = cv2.warpPerspective(patch, T, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)
    out = img.astype(np.float32) * (1 - a[..., None]) + p * a[..., None]
    ys, xs = np.nonzero(a > 0.5 * opacity)
    box = np.array([xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h]) if len(xs) else np.full(4, np.nan)
    return np.clip(np.round(out), 0, 255).astype(np.uint8), 100.0 * float(a.sum()) / (w * h), box
