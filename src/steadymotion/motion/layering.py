"""Layering: which parts are drawn in front of which, per frame, from the reference's depth."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from steadymotion.skeleton import KP, PART, PARTS


_LEGS = [[PART[f"thigh_{s}"], PART[f"shin_{s}"], PART[f"foot_{s}"]] for s in ("l", "r")]
_ARMS = [[PART[f"upper_arm_{s}"], PART[f"forearm_{s}"], PART[f"hand_{s}"]] for s in ("l", "r")]


def draw_order(z: np.ndarray, back: np.ndarray, ok: np.ndarray, torso_len: np.ndarray) -> np.ndarray:
    """Back-to-front part order per frame from the reference's depth (MediaPipe z, smaller = nearer).

    Legs behind the torso, the farther leg first; an arm goes behind the torso only when it is
    clearly behind it (by a quarter of the torso length; z is in pixels like x), held for a few
    frames, else in front of the head and torso, the farther arm first.
    """
    T = len(z)
    zs = uniform_filter1d(z, size=5, axis=0, mode="nearest")
    torso_z = zs[:, [KP["shoulder_l"], KP["shoulder_r"], KP["hip_l"], KP["hip_r"]]].mean(axis=1)
    arm_z = np.stack([zs[:, [KP["elbow_l"], KP["wrist_l"]]].mean(axis=1), zs[:, [KP["elbow_r"], KP["wrist_r"]]].mean(axis=1)], axis=1)
    leg_z = np.stack([zs[:, [KP["knee_l"], KP["ankle_l"]]].mean(axis=1), zs[:, [KP["knee_r"], KP["ankle_r"]]].mean(axis=1)], axis=1)
    if back.any():
        arm_z[back] = arm_z[back][:, ::-1]
        leg_z[back] = leg_z[back][:, ::-1]
    behind = arm_z - torso_z[:, None] > 0.25 * torso_len[:, None]
    behind = median_filter(behind.astype(np.uint8), size=(7, 1), mode="nearest").astype(bool)
    behind[~ok] = False
    order = np.zeros((T, len(PARTS)), np.int8)
    for i in range(T):
        seq: list[int] = []
        legs = sorted(range(2), key=lambda s: -leg_z[i, s])
        for s in legs:
            seq += _LEGS[s]
        arms = sorted(range(2), key=lambda s: -arm_z[i, s])
        for s in arms:
            if behind[i, s]:
                seq += _ARMS[s]
        seq += [PART["torso"], PART["head"]]
        for s in arms:
            if not behind[i, s]:
                seq += _ARMS[s]
        order[i] = seq
    return order
