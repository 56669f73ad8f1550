"""Body measures read from landmarks: what is visible, framing, torso length, facing, limb speed.

Shared by preflight (what a reference needs of a character) and the drift meter (how a generated
body behaves). All take MediaPipe bodies ``(..., 33, 4)`` or a :class:`~steadymotion.types.PoseSequence`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from steadymotion.skeleton import BODY, LONG_BONES, VISIBLE
from steadymotion.types import PoseSequence

#: A landmark counts as in the frame with this margin (fraction of the frame size).
FRAME_MARGIN = 0.01

FRAMINGS = ("portrait", "half-body", "full-body")  # ordered by how much of the body they show


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


def limb_angular_speed(seq: PoseSequence) -> np.ndarray:
    """Fastest limb rotation per frame in degrees per second (NaN where no limb is seen).

    The 2D direction of each limb (upper arms, forearms, thighs, shins) is unwrapped over time and
    differentiated with the real timestamps; both joints must be visible.
    """
    vis = visible(seq.body, seq.size)
    speeds = []
    for a, b in LONG_BONES.values():
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
    neck = (b[:, BODY["left_shoulder"], :2] + b[:, BODY["right_shoulder"], :2]) / 2
    pelvis = (b[:, BODY["left_hip"], :2] + b[:, BODY["right_hip"], :2]) / 2
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


