"""Colour re-anchoring: garment, hair, skin and eyes (and the whole frame's exposure and
saturation) pulled back to the reference, region by region, gradually.

Where the drift meter found a colour event, the region's colour on the tracked frames (the meter's
own segmented measure, :func:`steadymotion.perception.identity.region_pixels`, kept in the report's
:class:`~steadymotion.drift.analyze.Tracking`) is compared with the reference colour (the reference
image's, or the clip's opening, exactly as the meter compares them). The difference in a*b* — at
the region's current lightness: shading is not drift — is smoothed over a second, ramped in and out
with the event, and added to the region's pixels: a mean shift in CIELAB, the first-order form of
Reinhard et al. 2001's colour transfer, applied per region rather than to the whole frame.

The region's pixels on each frame: the subject's landmarks (interpolated between the meter's
tracked frames) and the person mask (MediaPipe selfie segmentation) bound where the region can be;
a soft colour key around the region's current colour picks its pixels inside that, so a garment's
print or the skin next to it are left alone.

References
----------
Reinhard, Ashikhmin, Gooch & Shirley, "Color transfer between images", IEEE CG&A 2001.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from steadymotion.drift.meter import _opening, _running_median
from steadymotion.perception.identity import FACE_OVAL, LEFT_EYE, REGIONS, RIGHT_EYE, lightness_matched

#: The drift meter's series per region.
REGION_SERIES = {r: f"color.{r}" for r in REGIONS}
#: Width (ΔE*ab in a*b*) of the colour key around the region's current colour, and in L*; wider for
#: the irises, whose support (the iris disc in the eye opening) is already tight.
KEY_AB, KEY_L = 12.0, 35.0
KEY_AB_REGION = {"iris": 25.0}
#: A correction below this (ΔE*ab) is not applied: the meter's own noise.
MIN_SHIFT = 1.5
#: Largest a*b* correction (ΔE*ab) per region: a larger departure of a garment, hair or skin is more
#: likely a region measured on the wrong pixels (a veil taken for hair) than a colour to undo in
#: full; irises (small, saturated when they drift: 25 ΔE00 is about 55 ΔE*ab) get more room.
MAX_SHIFT = {"iris": 70.0, "other": 35.0}


@dataclass
class RegionCorrection:
    """A colour correction of one region, per frame of the video.

    Attributes
    ----------
    region : str
        One of :data:`~steadymotion.perception.identity.REGIONS`.
    shift : ndarray (T, 2)
        a*b* added to the region's pixels (weight included; 0 where nothing is done).
    key : ndarray (T, 3)
        The region's current CIELAB colour (the colour key's centre).
    """

    region: str
    shift: np.ndarray
    key: np.ndarray

    def __post_init__(self) -> None:
        self._on = np.linalg.norm(self.shift, axis=1) >= 0.25 * MIN_SHIFT

    def active(self) -> np.ndarray:
        """(T,) bool: frames this correction changes."""
        return self._on


@dataclass
class FrameCorrection:
    """Whole-frame exposure and saturation pulled back to the opening: ``dl`` (T,) L* added,
    ``chroma`` (T,) factor on a*b* (1 = none)."""

    dl: np.ndarray
    chroma: np.ndarray

    def __post_init__(self) -> None:
        self._on = (np.abs(self.dl) > 0.2) | (np.abs(self.chroma - 1) > 0.005)

    def active(self) -> np.ndarray:
        """(T,) bool: frames this correction changes."""
        return self._on


def region_keys(tracking, t: np.ndarray) -> dict[str, np.ndarray]:
    """Each measured region's current CIELAB colour (T, 3) at the video's frame times ``t`` (its
    main palette colour, interpolated between the tracked frames): the centres of the colour keys."""
    app = tracking.app
    out = {}
    for r, region in enumerate(REGIONS):
        cur = np.asarray(app.colors[:, r], np.float64)
        ok = np.isfinite(cur).all(axis=1)
        if ok.sum() >= 3:
            out[region] = np.stack([np.interp(t, app.times[ok], cur[ok, k]) for k in range(3)], axis=1)
    return out


def region_corrections(tracking, t: np.ndarray, weights: dict[str, np.ndarray]) -> list[RegionCorrection]:
    """One :class:`RegionCorrection` per region with a non-zero weight (T,) in ``weights``.

    ``tracking`` is the drift report's :class:`~steadymotion.drift.analyze.Tracking`; ``t`` the
    video's frame times. The shift is the reference's a*b* at the region's current lightness minus
    the region's current a*b*, on the tracked frames, 1-s running median, interpolated to every frame.
    """
    app, ref = tracking.app, tracking.reference
    out = []
    for region, w in weights.items():
        if not np.any(w > 0):
            continue
        r = REGIONS.index(region)
        cur = np.asarray(app.colors[:, r], np.float64)
        second = getattr(app, "colors2", None)
        ok = np.isfinite(cur).all(axis=1)
        if ok.sum() < 3:
            continue
        target = ref.colors.get(region)
        if target is None:  # the clip's opening, as the meter takes it
            opening = ok & _opening(app.times)
            target = np.median(cur[opening if opening.any() else ok][:12], axis=0)
        target = np.asarray(target, np.float64)
        if second is not None:  # of a two-colour palette, the colour nearest the reference (as the meter)
            alt = np.asarray(second[:, r], np.float64)
            use = ok & np.isfinite(alt).all(axis=1)
            nearer = use & (np.linalg.norm(alt[:, 1:] - target[1:], axis=1) < np.linalg.norm(cur[:, 1:] - target[1:], axis=1))
            cur = np.where(nearer[:, None], alt, cur)
        ts, cs = app.times[ok], cur[ok]
        # the target at the region's current lightness: chroma scales with it (shading is not drift)
        matched = lightness_matched(cs, target)
        scale = np.linalg.norm(cs[:, 1:], axis=1) / np.maximum(np.linalg.norm(matched[:, 1:], axis=1), 1e-3)
        scale = np.clip(scale, 0.5, 2.0)
        delta = target[None, 1:] * scale[:, None] - cs[:, 1:]
        delta = np.stack([_running_median(ts, delta[:, k], 1.0) for k in range(2)], axis=1)
        good = np.isfinite(delta).all(axis=1)
        if good.sum() < 2:
            continue
        shift = np.stack([np.interp(t, ts[good], delta[good, k]) for k in range(2)], axis=1)
        key = np.stack([np.interp(t, ts, cs[:, k]) for k in range(3)], axis=1)
        mag = np.linalg.norm(shift, axis=1)
        shift[mag < MIN_SHIFT] = 0.0
        cap = MAX_SHIFT.get(region, MAX_SHIFT["other"])  # beyond it the measure, not the colour, failed
        shift *= np.minimum(1.0, cap / np.maximum(mag, 1e-9))[:, None]
        corr = RegionCorrection(region, shift * np.asarray(w)[:, None], key)
        if corr.active().any():
            out.append(corr)
    return out


def frame_correction(track, weight_exposure: np.ndarray, weight_saturation: np.ndarray) -> FrameCorrection:
    """Exposure (mean L*) and saturation (mean C*) of each frame brought back to the opening's
    levels (the drift meter's ``color.exposure`` / ``color.saturation`` baseline), smoothed over 1 s."""
    t = track.t
    opening = _opening(t)
    light = _running_median(t, track.lab[:, 0], 1.0)
    chroma = _running_median(t, track.chroma, 1.0)
    dl = (np.nanmedian(track.lab[opening, 0]) - light) if len(t) else np.zeros(0)
    ratio = np.nanmedian(track.chroma[opening]) / np.maximum(chroma, 1e-3) if len(t) else np.zeros(0)
    dl = np.nan_to_num(dl) * weight_exposure
    ratio = np.exp(np.log(np.clip(np.nan_to_num(ratio, nan=1.0), 0.5, 2.0)) * weight_saturation)
    return FrameCorrection(dl=dl, chroma=ratio)


# --- applying them to a frame -------------------------------------------------------------------------
#: Seconds over which the nearest tracked landmarks stand in where the tracker lost the subject
#: (a region's mask must not vanish for a frame: the correction would pop).
HOLD_S = 1.0


def landmarks_at(seq, t: float) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Body (33, 4) and face (478, 3) landmarks at time ``t``: linear between the tracked frames on
    either side when both have them, else the nearest tracked frame that has them within
    :data:`HOLD_S`."""
    if seq is None or not len(seq):
        return None, None
    times = seq.times
    j = int(np.searchsorted(times, t))
    i0, i1 = max(0, j - 1), min(len(times) - 1, j)
    span = max(times[i1] - times[i0], 1e-9)
    a = 0.0 if i1 == i0 else float(np.clip((t - times[i0]) / span, 0, 1))

    def pick(data, present):
        if present[i0] and present[i1]:
            return (1 - a) * data[i0] + a * data[i1]
        near = np.flatnonzero(present & (np.abs(times - t) <= HOLD_S))
        if not len(near):
            return None
        return data[near[np.argmin(np.abs(times[near] - t))]]

    return pick(seq.body, seq.body_present), pick(seq.face, seq.face_present)


def _chin_depth(shape, face: np.ndarray) -> np.ndarray:
    """Signed distance of every pixel below the chin along the face's own down direction (brow to
    chin), in face heights (negative above the chin)."""
    h, w = shape
    fh = max(float(np.linalg.norm(face[152, :2] - face[10, :2])), 1.0)
    down = (face[152, :2] - face[10, :2]) / fh
    yy, xx = np.ogrid[0:h, 0:w]
    return (((xx - face[152, 0]) * down[0]).astype(np.float32) + ((yy - face[152, 1]) * down[1]).astype(np.float32)) / fh


def _support(region: str, shape, body, face, person: np.ndarray) -> np.ndarray | None:
    """Where ``region`` can be (float32 0-1, full frame): irises in the eye openings; facial skin in
    the face outline and the rest of the person's skin; hair on the person around the head, down to
    the chin (the measure's own hair region: around and above the face); clothing on the person below the chin (or the shoulders' line)."""
    h, w = shape
    face_ok = face is not None and np.isfinite(face[:, :2]).all()
    if region == "iris":
        if not face_ok:
            return None
        m = np.zeros((h, w), np.uint8)
        for centre, ring, eye in ((468, (469, 470, 471, 472), RIGHT_EYE), (473, (474, 475, 476, 477), LEFT_EYE)):
            c = face[centre, :2]
            r = float(np.mean(np.linalg.norm(face[list(ring), :2] - c, axis=1)))
            disc = np.zeros((h, w), np.uint8)
            cv2.circle(disc, (int(round(c[0])), int(round(c[1]))), max(1, int(round(1.2 * r))), 1, -1)
            lid = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(lid, cv2.convexHull(np.round(face[list(eye), :2]).astype(np.int32)), 1)
            m |= disc & cv2.dilate(lid, np.ones((3, 3), np.uint8))
        return cv2.GaussianBlur(m.astype(np.float32), (3, 3), 0) if m.any() else None
    if region == "skin":
        if not face_ok:
            return person
        oval = np.zeros((h, w), np.uint8)
        cv2.fillPoly(oval, [np.round(face[list(FACE_OVAL), :2]).astype(np.int32)], 1)
        return np.maximum(person, oval.astype(np.float32))
    if region == "hair":
        if not face_ok:
            return None
        fh = float(np.linalg.norm(face[10, :2] - face[152, :2]))
        c = face[:468, :2].mean(axis=0)
        near = np.zeros((h, w), np.float32)
        cx, cy, rad, sigma = int(round(c[0])), int(round(c[1])), int(round(1.6 * fh)), 0.1 * fh + 1
        cv2.circle(near, (cx, cy), rad, 1.0, -1)
        # blurred only around the disc (its kernel reaches 4 sigma; beyond that everything is 0):
        # the same as blurring the whole frame
        m = rad + int(np.ceil(4 * sigma)) + 2
        y0, y1, x0, x1 = max(0, cy - m), min(h, cy + m + 1), max(0, cx - m), min(w, cx + m + 1)
        if y0 < y1 and x0 < x1:
            near[y0:y1, x0:x1] = cv2.GaussianBlur(near[y0:y1, x0:x1], (0, 0), sigma)
        return person * near * (1.0 - np.clip(_chin_depth(shape, face) / 0.2, 0.0, 1.0))
    # clothing
    if face_ok:
        return person * np.clip((_chin_depth(shape, face) + 0.1) / 0.2, 0.0, 1.0)
    if body is not None and np.isfinite(body[[11, 12], :2]).all():
        sw = max(float(np.linalg.norm(body[11, :2] - body[12, :2])), 1.0)
        top = float(min(body[11, 1], body[12, 1])) - 0.15 * sw
        rows = np.clip((np.arange(h, dtype=np.float32) - top) / (0.2 * sw), 0.0, 1.0)
        return person * rows[:, None]
    return person


def _bbox(mask: np.ndarray, pad: int = 2):
    ys, xs = np.nonzero(mask > 0.02)
    if not len(ys):
        return None
    h, w = mask.shape
    return max(0, ys.min() - pad), min(h, ys.max() + pad + 1), max(0, xs.min() - pad), min(w, xs.max() + pad + 1)


#: Long side (pixels) at which the regions' masks and keys are worked out (the shift field they
#: make is smooth and is brought to full size; irises are keyed at full size).
WORK_SIDE = 512


def shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``img`` brought down to ``size`` (w, h): averaged over whole k x k blocks to the smallest
    size not below it (OpenCV's fast integer-factor INTER_AREA; the image's last k - 1 rows and
    columns at most are left out), the rest bilinear. Nearly INTER_AREA's result (0.4 levels apart
    on average at 1248x720 -> 512x295) at an eighth of its cost at a non-integer ratio."""
    h, w = img.shape[:2]
    k = min(w // size[0], h // size[1])
    if k >= 2:
        img = cv2.resize(img[:h - h % k, :w - w % k], (w // k, h // k), interpolation=cv2.INTER_AREA)
    if img.shape[1] == size[0] and img.shape[0] == size[1]:
        return img
    return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)


def _scaled(points: np.ndarray | None, s: float) -> np.ndarray | None:
    if points is None:
        return None
    out = points.copy()
    out[:, :2] *= s
    return out


def _key_weight(lab: np.ndarray, key: np.ndarray, key_ab: float) -> np.ndarray:
    # in float32, as ``lab`` (Python floats do not widen NumPy's arithmetic; float64 scalars would)
    l0, a0, b0 = (float(v) for v in key)
    d = ((lab[..., 1] - a0) ** 2 + (lab[..., 2] - b0) ** 2) * (-0.5 / key_ab**2)
    d -= (lab[..., 0] - l0) ** 2 * (0.5 / KEY_L**2)
    return np.exp(d, out=d)


def _weights(region: str, lab: np.ndarray, i: int, sups: dict[str, np.ndarray], keys: dict[str, np.ndarray],
             keyed: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """How much of region ``region``'s shift each pixel takes: where the region can be (its support
    in ``sups``) x how close its colour is to the region's key x the share of that among all regions
    that can be there (their supports x their keys): a pixel on the head nearer the hair's colour than
    the skin's takes the hair's correction, not the skin's — soft assignment, as a Gaussian mixture's
    responsibilities. ``keyed`` keeps each region's support x key across the calls of one frame."""
    keyed = {} if keyed is None else keyed

    def support_x_key(r: str) -> np.ndarray:
        if r not in keyed:
            keyed[r] = sups[r] * _key_weight(lab, keys[r][i], KEY_AB_REGION.get(r, KEY_AB))
        return keyed[r]

    own = support_x_key(region)
    total = own + np.float32(1e-3)
    for other in sups:
        if other != region and np.isfinite(keys[other][i]).all():
            total += support_x_key(other)
    return own * (own / total)


def recolour(img: np.ndarray, i: int, t: float, corrections: list[RegionCorrection], frame: FrameCorrection | None,
             seq, person_prob, keys: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Frame ``i`` (time ``t``) with its colour corrections applied (``img`` is not modified).

    ``person_prob(image)`` gives the person's probability map of an image (it is given the frame brought
    down to :data:`WORK_SIDE` on its long side; the map may come back at any size); ``keys`` the
    measured regions' colours (:func:`region_keys`; default: the corrected regions' own).
    """
    todo = [c for c in corrections if c.active()[i]]
    whole = frame is not None and frame.active()[i]
    if not todo and not whole:
        return img
    keys = dict(keys or {})
    for c in todo:
        keys.setdefault(c.region, c.key)
    h, w = img.shape[:2]
    out = img
    if todo:
        body, face = landmarks_at(seq, t)
        broad = [c for c in todo if c.region != "iris"]
        if broad:  # garment, hair, skin: masks and keys at WORK_SIDE, the shift field brought to full size
            sc = min(1.0, WORK_SIDE / max(h, w))
            sw, sh = max(1, round(w * sc)), max(1, round(h * sc))
            small = shrink(img, (sw, sh)) if sc < 1 else img
            lab = cv2.cvtColor(np.multiply(small, np.float32(1 / 255), dtype=np.float32), cv2.COLOR_RGB2Lab)
            # the person mask from the small frame (it works at a smaller size still)
            person = cv2.resize(person_prob(small).astype(np.float32), (sw, sh), interpolation=cv2.INTER_LINEAR)
            field = np.zeros((sh, sw, 3), np.float32)  # L*a*b* added (L* stays 0)
            sups = {}
            for region in keys:  # every measured region competes for its pixels, corrected or not
                if region != "iris":
                    sup = _support(region, (sh, sw), _scaled(body, sc), _scaled(face, sc), person)
                    if sup is not None:
                        sups[region] = sup
            keyed: dict[str, np.ndarray] = {}
            for c in broad:
                if c.region in sups:
                    wgt = _weights(c.region, lab, i, sups, keys, keyed)
                    for k in (1, 2):
                        field[..., k] += wgt * np.float32(c.shift[i, k - 1])
            if sc < 1:  # bilinear at the full-size pixel centres
                field = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
            out = _shift_ab(out, field, (0, 0))
        for c in todo:
            if c.region != "iris":
                continue
            sup = _support("iris", (h, w), body, face, None)
            box = None if sup is None else _bbox(sup)
            if box is None:
                continue
            y0, y1, x0, x1 = box
            lab = cv2.cvtColor(out[y0:y1, x0:x1].astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
            wgt = _weights("iris", lab, i, {"iris": sup[y0:y1, x0:x1]}, keys)
            field = np.zeros(wgt.shape + (3,), np.float32)
            field[..., 1:] = wgt[..., None] * c.shift[i].astype(np.float32)
            out = _shift_ab(out, field, (y0, x0))
    if whole:
        lab = cv2.cvtColor(out.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        _frame_lab(lab, frame, i)
        out = np.clip(np.round(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255), 0, 255).astype(np.uint8)
    return out


#: Rows of a band of :func:`_shift_ab`: each band converts only the columns it touches (a person's
#: outline leaves ~45 % of its bounding box untouched: the background beside the head and arms).
BAND = 32


def _shift_ab(img: np.ndarray, field: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    """``img`` with ``field`` (h, w, 3; L* 0) added to L*a*b* of the pixels under it (top-left corner
    at ``at`` = (y, x)); pixels whose a*b* shift is below 0.05 keep their exact values."""
    # touched: |a*| or |b*| above 0.05 (L* is 0), as 255 (one pass of OpenCV's, not NumPy's several)
    touched = cv2.bitwise_not(cv2.inRange(field, (-1.0, -0.05, -0.05), (1.0, 0.05, 0.05)))
    x, y, bw, bh = cv2.boundingRect(touched)
    if bw == 0 or bh == 0:
        return img
    out = img.copy()
    scale = np.float32(1 / 255)
    for top in range(y, y + bh, BAND):  # the pixels are independent: band by band, only what each touches
        rows = slice(top, min(y + bh, top + BAND))
        bx, by, bbw, bbh = cv2.boundingRect(touched[rows, x:x + bw])
        if bbw == 0:
            continue
        fy, fx = top + by, x + bx
        y0, x0 = at[0] + fy, at[1] + fx
        rgb = np.multiply(img[y0:y0 + bbh, x0:x0 + bbw], scale, dtype=np.float32)
        patch = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
        cv2.add(patch, field[fy:fy + bbh, fx:fx + bbw], dst=patch)
        rgb = cv2.convertScaleAbs(cv2.cvtColor(patch, cv2.COLOR_Lab2RGB), alpha=255.0)  # rounds and saturates
        cv2.copyTo(rgb, touched[fy:fy + bbh, fx:fx + bbw], out[y0:y0 + bbh, x0:x0 + bbw])  # writes into the view
    return out


def _frame_lab(lab: np.ndarray, frame: FrameCorrection, i: int) -> None:
    lab[..., 0] = np.clip(lab[..., 0] + frame.dl[i], 0, 100)
    lab[..., 1:] *= frame.chroma[i]
