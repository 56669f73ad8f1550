"""Feet on the ground: contacts found in the reference, held in the plan by two-bone IK.

Footskate clean-up after Kovar, Schreiner & Gleicher 2002 ("Footskate cleanup for motion capture
editing"): planted feet keep the spot where they landed, the root moves the least amount that lets
both legs reach, and each leg reaches by analytic two-bone inverse kinematics.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

from steadymotion.motion.kinematics import full_length
from steadymotion.skeleton import KP, VISIBLE


def find_contacts(ref_kp: np.ndarray, vis: np.ndarray, torso: np.ndarray, ok: np.ndarray, fps: float) -> np.ndarray:
    """Planted feet ``(T, 2)`` in the reference: ankle slow (< 0.35 torso/s) and near the lowest foot."""
    T = len(ref_kp)
    unit = full_length(torso, ok)
    out = np.zeros((T, 2), bool)
    ank = np.stack([ref_kp[:, KP["ankle_l"], :2], ref_kp[:, KP["ankle_r"], :2]], axis=1)
    seen = np.stack([np.minimum(vis[:, KP["ankle_l"]], vis[:, KP["toe_l"]]), np.minimum(vis[:, KP["ankle_r"]], vis[:, KP["toe_r"]])], axis=1) >= VISIBLE
    if T < 3:
        return out
    ank = uniform_filter1d(ank, size=3, axis=0, mode="nearest")
    speed = np.linalg.norm(np.gradient(ank, axis=0), axis=2) * fps / unit
    ground = np.max(ank[..., 1], axis=1)
    win = max(3, int(fps))
    ground = maximum_filter1d(ground, size=win, mode="nearest")
    low = ank[..., 1] >= ground[:, None] - 0.08 * unit
    out = seen & (speed < 0.35) & low & ok[:, None]
    for k in range(2):
        out[:, k] = median_filter(out[:, k].astype(np.uint8), size=3, mode="nearest").astype(bool)
    return out


#: How much a leg's two bones may foreshorten together (share of their length) before its knee
#: bends in the image plane, and how much they may lengthen before the ankle falls short.
DEPTH_GIVE = (0.12, 0.03)


def two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray,
                give: tuple[float, float] = DEPTH_GIVE) -> tuple[np.ndarray, np.ndarray]:
    """Knee and ankle that put the ankle on ``target``, the leg bending in depth before it bends sideways.

    A knee that bends towards the camera foreshortens the thigh and the shin alike: in the picture the
    leg keeps its shape and shortens. So the hip-to-ankle distance changes first by scaling the whole
    leg about the hip (both bones by the same factor, at most ``give`` = (shorter, longer) shares of
    their length: Kovar, Schreiner & Gleicher 2002 likewise let limb lengths change a little rather
    than pop the knee); what is left is taken by analytic two-bone inverse kinematics in the image
    plane (law of cosines), the knee bending to the side it is on. A nearly straight leg made 1 %
    shorter by a planar bend alone throws its knee out sideways by a seventh of its length (50 px on
    a standing dancer); in depth it stays straight. An unreachable target is approached along the
    line from the hip (the leg straightens rather than stretches further).
    """
    if float(np.linalg.norm(target - ankle)) < 1e-3:
        return knee, ankle  # already there (a straight leg is not bent by the clip below)
    d_old = float(np.linalg.norm(ankle - hip))
    d_vec = target - hip
    d = float(np.linalg.norm(d_vec))
    if d_old < 1e-6 or d < 1e-6:
        return knee, ankle
    # the depth bend: the leg scaled about the hip (within the give) and turned onto the target's line
    r = float(np.clip(d / d_old, 1.0 - give[0], 1.0 + give[1]))
    a0 = np.arctan2(*(ankle - hip)[::-1])
    a1 = np.arctan2(*d_vec[::-1])
    c, s = r * np.cos(a1 - a0), r * np.sin(a1 - a0)
    M = np.array([[c, -s], [s, c]])
    knee, ankle = hip + M @ (knee - hip), hip + M @ (ankle - hip)
    if float(np.linalg.norm(target - ankle)) < 1e-6:
        return knee, ankle
    # the rest in the image plane
    l1 = float(np.linalg.norm(knee - hip))
    l2 = float(np.linalg.norm(ankle - knee))
    if l1 < 1e-6 or l2 < 1e-6:
        return knee, ankle
    d_c = float(np.clip(d, abs(l1 - l2) + 1e-6, l1 + l2 - 1e-6))
    u = d_vec / d
    cos_a = (l1 * l1 + d_c * d_c - l2 * l2) / (2 * l1 * d_c)
    a = float(np.arccos(np.clip(cos_a, -1.0, 1.0)))
    # the side the knee is on now (sign of the cross product hip->ankle x hip->knee)
    v, w = ankle - hip, knee - hip
    side = 1.0 if (v[0] * w[1] - v[1] * w[0]) >= 0 else -1.0
    c, s = np.cos(side * a), np.sin(side * a)
    new_knee = hip + l1 * np.array([c * u[0] - s * u[1], s * u[0] + c * u[1]])
    new_ankle = hip + d_c * u
    return new_knee, new_ankle


def nearest_in_discs(p: np.ndarray, discs: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """The point nearest ``p`` inside every disc ``(centre, radius)`` (at most two discs).

    Disjoint discs give the middle of the gap between them (the least-violating compromise).
    """
    inside = lambda q: all(np.linalg.norm(q - c) <= r + 1e-6 for c, r in discs)  # noqa: E731
    if inside(p):
        return p
    for c, r in discs:
        d = p - c
        n = float(np.linalg.norm(d))
        q = c + d / max(n, 1e-9) * r
        if n > r and inside(q):
            return q
    if len(discs) < 2:
        c, r = discs[0]
        d = p - c
        return c + d / max(float(np.linalg.norm(d)), 1e-9) * r
    (c1, r1), (c2, r2) = discs[:2]
    dv = c2 - c1
    d = float(np.linalg.norm(dv))
    if d < 1e-9:
        return c1 + (p - c1) / max(float(np.linalg.norm(p - c1)), 1e-9) * min(r1, r2)
    u = dv / d
    if d >= r1 + r2:
        return c1 + u * (r1 + (d - r1 - r2) / 2)
    if d <= abs(r1 - r2):  # one disc inside the other: the smaller one binds
        c, r = (c1, r1) if r1 < r2 else (c2, r2)
        return c + (p - c) / max(float(np.linalg.norm(p - c)), 1e-9) * r
    a = (r1 * r1 - r2 * r2 + d * d) / (2 * d)
    h = float(np.sqrt(max(r1 * r1 - a * a, 0.0)))
    m = c1 + a * u
    perp = np.array([-u[1], u[0]])
    cands = [m + h * perp, m - h * perp]
    return min(cands, key=lambda q: float(np.linalg.norm(q - p)))


def hold_planted_feet(kp: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Planted feet stay where they landed (footskate clean-up, Kovar, Schreiner & Gleicher 2002).

    Each foot that touches down keeps the spot where it landed for the whole contact. The body
    (root) shifts by the offset that holds the lower planted foot, adjusted by the least amount
    that lets every planted leg reach its spot (the root-position step of Kovar et al.); the legs
    then reach their spots by two-bone inverse kinematics (:func:`two_bone_ik`), each toe kept
    where it pointed at landing (the whole foot planted). Between contacts the offset relaxes back
    toward the reference path.
    """
    T = len(kp)
    offset = np.zeros(2)
    legs = (("hip_l", "knee_l", "ankle_l", "toe_l"), ("hip_r", "knee_r", "ankle_r", "toe_r"))
    holds: list[np.ndarray | None] = [None, None]
    toes: list[np.ndarray | None] = [None, None]
    out = kp.copy()
    for i in range(T):
        c = contact[i]
        for k in range(2):
            if not c[k]:
                holds[k] = toes[k] = None
            elif holds[k] is None:
                # lands where the current offset puts it, the toe pointing where it points then
                holds[k] = kp[i, KP[legs[k][2]]] + offset
                toes[k] = kp[i, KP[legs[k][3]]] - kp[i, KP[legs[k][2]]]
        if c.any():
            planted = [k for k in range(2) if c[k]]
            low = max(planted, key=lambda k: holds[k][1])
            want = holds[low] - kp[i, KP[legs[low][2]]]
            discs = []
            for k in planted:
                h, kn, a, _ = (KP[n] for n in legs[k])
                # (a leg already straight reaches as far as it is: its pose is kept as it is)
                reach = max(0.999 * (np.linalg.norm(kp[i, kn] - kp[i, h]) + np.linalg.norm(kp[i, a] - kp[i, kn])),
                            float(np.linalg.norm(kp[i, a] - kp[i, h])))
                discs.append((holds[k] - kp[i, h], float(reach)))
            offset = nearest_in_discs(want, discs)
        else:
            offset = offset * 0.9  # drift back toward the reference path while no foot is down
        out[i] = kp[i] + offset
        for k in range(2):
            if c[k]:
                h, kn, a, toe = (KP[n] for n in legs[k])
                knee, ankle = two_bone_ik(out[i, h], out[i, kn], out[i, a], holds[k])
                # (the whole foot stays planted: a toe turning with the reference's jittering toe
                # landmark slid the shoe about its heel)
                out[i, toe] = ankle + toes[k]
                out[i, kn], out[i, a] = knee, ankle
    return out


