"""Landmark layouts: the MediaPipe topology we store, and the OpenPose layouts we export.

Coordinates everywhere in steadymotion are image pixels ``(x, y)``, origin top-left, with
joints 0-based. "Left" and "right" are the *subject's* left and right (MediaPipe's and
OpenPose's convention), not the viewer's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: MediaPipe Pose (BlazePose GHUM 3D) landmark names, index = position.
BODY_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
BODY = {name: i for i, name in enumerate(BODY_NAMES)}
N_BODY = 33
N_HAND = 21
N_FACE = 478  # 468 face-mesh points + 2 x 5 iris points (refined mesh)
HAND_SIDES = ("left", "right")

#: MediaPipe face-mesh iris centres (subject's right eye: 468..472, left eye: 473..477).
RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER = 468, 473
RIGHT_IRIS = (468, 469, 470, 471, 472)
LEFT_IRIS = (473, 474, 475, 476, 477)

#: Bones of the MediaPipe body used for limb lengths and drawing (subject left/right).
BODY_BONES: tuple[tuple[int, int], ...] = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28), (27, 29), (29, 31), (27, 31), (28, 30), (30, 32), (28, 32),
)

#: MediaPipe Hands topology (wrist 0; thumb 1-4; index 5-8; middle 9-12; ring 13-16; pinky 17-20).
HAND_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11),
    (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20),
)

# --- OpenPose layouts -----------------------------------------------------------------------------
# Each entry is a MediaPipe body index, a pair (midpoint of two), or None (MediaPipe has no such
# point; exported with confidence 0, as OpenPose does for an undetected part).

#: OpenPose BODY_25 from MediaPipe: Nose, Neck, RShoulder, RElbow, RWrist, LShoulder, LElbow,
#: LWrist, MidHip, RHip, RKnee, RAnkle, LHip, LKnee, LAnkle, REye, LEye, REar, LEar, LBigToe,
#: LSmallToe, LHeel, RBigToe, RSmallToe, RHeel.
BODY25_FROM_MEDIAPIPE: tuple[int | tuple[int, int] | None, ...] = (
    0, (11, 12), 12, 14, 16, 11, 13, 15, (23, 24), 24, 26, 28, 23, 25, 27, 5, 2, 8, 7,
    31, None, 29, 32, None, 30,
)

#: OpenPose/COCO-18 (the layout ControlNet/DWPose draw): Nose, Neck, RShoulder, RElbow, RWrist,
#: LShoulder, LElbow, LWrist, RHip, RKnee, RAnkle, LHip, LKnee, LAnkle, REye, LEye, REar, LEar.
COCO18_FROM_MEDIAPIPE: tuple[int | tuple[int, int], ...] = (
    0, (11, 12), 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7,
)

#: iBUG 300-W 68-point face layout (OpenPose face 0-67) from the MediaPipe face mesh — the
#: correspondence used by LatentSync and others. OpenPose's points 68/69 are the right/left pupils,
#: taken from the iris centres.
FACE68_FROM_MEDIAPIPE: tuple[int, ...] = (
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,  # jaw 0-16
    71, 63, 105, 66, 107,  # right brow 17-21
    336, 296, 334, 293, 301,  # left brow 22-26
    168, 197, 5, 4,  # nose bridge 27-30
    75, 97, 2, 326, 305,  # nose base 31-35
    33, 160, 158, 133, 153, 144,  # right eye 36-41
    362, 385, 387, 263, 373, 380,  # left eye 42-47
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips 48-59
    78, 82, 13, 312, 308, 317, 14, 87,  # inner lips 60-67
)
FACE70_FROM_MEDIAPIPE: tuple[int, ...] = FACE68_FROM_MEDIAPIPE + (RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER)


def map_points(points: np.ndarray, layout: tuple) -> np.ndarray:
    """Gather ``points[..., J, C]`` into another layout; pairs become midpoints, ``None`` NaN.

    Parameters
    ----------
    points : ndarray, (..., J, C)
    layout : tuple of int, (int, int) or None

    Returns
    -------
    ndarray, (..., len(layout), C) float32
    """
    out = np.full(points.shape[:-2] + (len(layout), points.shape[-1]), np.nan, dtype=np.float32)
    for k, src in enumerate(layout):
        if src is None:
            continue
        if isinstance(src, tuple):
            out[..., k, :] = 0.5 * (points[..., src[0], :] + points[..., src[1], :])
        else:
            out[..., k, :] = points[..., src, :]
    return out


# --- the character's joints and parts (one table for retargeting, rendering, preflight and drift) ---
#: A landmark counts as seen when MediaPipe's visibility is at least this (MediaPipe's own cut-off).
#: The one visibility cut-off: retargeting, rigging, preflight and the drift meter all use it.
VISIBLE = 0.5

#: Character keypoint name -> MediaPipe body index, or a pair whose midpoint is taken.
KEYPOINTS: dict[str, int | tuple[int, int]] = {
    "neck": (BODY["left_shoulder"], BODY["right_shoulder"]),
    "pelvis": (BODY["left_hip"], BODY["right_hip"]),
    "shoulder_l": BODY["left_shoulder"], "shoulder_r": BODY["right_shoulder"],
    "hip_l": BODY["left_hip"], "hip_r": BODY["right_hip"],
    "elbow_l": BODY["left_elbow"], "wrist_l": BODY["left_wrist"], "hand_l": (BODY["left_index"], BODY["left_pinky"]),
    "elbow_r": BODY["right_elbow"], "wrist_r": BODY["right_wrist"], "hand_r": (BODY["right_index"], BODY["right_pinky"]),
    "knee_l": BODY["left_knee"], "ankle_l": BODY["left_ankle"], "toe_l": BODY["left_foot_index"],
    "knee_r": BODY["right_knee"], "ankle_r": BODY["right_ankle"], "toe_r": BODY["right_foot_index"],
    "head": (BODY["left_ear"], BODY["right_ear"]),
}
KP_NAMES: tuple[str, ...] = tuple(KEYPOINTS)
KP = {n: i for i, n in enumerate(KP_NAMES)}


@dataclass(frozen=True)
class PartSpec:
    """One body part: the bone it follows (keypoints ``a`` -> ``b``) and its place in the tree.

    ``label`` is the part in the user's words ("left forearm"); ``rigid`` parts (head, hands,
    feet) are never stretched, so faces and hands are never distorted.
    """

    name: str
    a: str
    b: str
    parent: str | None
    rigid: bool = False

    @property
    def label(self) -> str:
        base, _, side = self.name.rpartition("_")
        if side in ("l", "r"):
            return f"{'left' if side == 'l' else 'right'} {base.replace('_', ' ')}"
        return self.name.replace("_", " ")

    @property
    def landmarks(self) -> tuple[int | tuple[int, int], int | tuple[int, int]]:
        """The MediaPipe landmarks (or pairs) at the bone's two ends."""
        return KEYPOINTS[self.a], KEYPOINTS[self.b]


#: The parts, parents before children. The torso is driven by four keypoints (shoulders, hips).
PARTS: tuple[PartSpec, ...] = (
    PartSpec("torso", "pelvis", "neck", None),
    PartSpec("head", "neck", "head", "torso", rigid=True),
    PartSpec("upper_arm_l", "shoulder_l", "elbow_l", "torso"),
    PartSpec("forearm_l", "elbow_l", "wrist_l", "upper_arm_l"),
    PartSpec("hand_l", "wrist_l", "hand_l", "forearm_l", rigid=True),
    PartSpec("upper_arm_r", "shoulder_r", "elbow_r", "torso"),
    PartSpec("forearm_r", "elbow_r", "wrist_r", "upper_arm_r"),
    PartSpec("hand_r", "wrist_r", "hand_r", "forearm_r", rigid=True),
    PartSpec("thigh_l", "hip_l", "knee_l", "torso"),
    PartSpec("shin_l", "knee_l", "ankle_l", "thigh_l"),
    PartSpec("foot_l", "ankle_l", "toe_l", "shin_l", rigid=True),
    PartSpec("thigh_r", "hip_r", "knee_r", "torso"),
    PartSpec("shin_r", "knee_r", "ankle_r", "thigh_r"),
    PartSpec("foot_r", "ankle_r", "toe_r", "shin_r", rigid=True),
)
PART = {p.name: i for i, p in enumerate(PARTS)}

#: The limbs (every part hanging from the torso except the head), in the order kinematics uses.
LIMBS: tuple[PartSpec, ...] = tuple(p for p in PARTS if p.name not in ("torso", "head"))
LIMB = {p.name: i for i, p in enumerate(LIMBS)}
#: The long bones whose direction a viewer follows (upper arms, forearms, thighs, shins), as
#: ``label -> (proximal, distal)`` MediaPipe indices: limb speed in preflight, limb stretch and
#: motion fidelity in the drift meter.
LONG_BONES: dict[str, tuple[int, int]] = {
    p.label: p.landmarks for p in LIMBS if not p.rigid  # type: ignore[misc]
}

#: Body regions a motion can "need", by the MediaPipe landmarks that show them.
REGIONS: dict[str, tuple[int, ...]] = {
    "head": (BODY["nose"], BODY["left_eye"], BODY["right_eye"]),
    "left arm": (BODY["left_shoulder"], BODY["left_elbow"], BODY["left_wrist"]),
    "right arm": (BODY["right_shoulder"], BODY["right_elbow"], BODY["right_wrist"]),
    "left leg": (BODY["left_hip"], BODY["left_knee"], BODY["left_ankle"]),
    "right leg": (BODY["right_hip"], BODY["right_knee"], BODY["right_ankle"]),
}


def mirrored(name: str) -> str:
    """The same part or keypoint on the other side (``forearm_l`` <-> ``forearm_r``)."""
    if name.endswith("_l"):
        return name[:-2] + "_r"
    if name.endswith("_r"):
        return name[:-2] + "_l"
    return name


def keypoints_from_body(body: np.ndarray) -> np.ndarray:
    """Character keypoints from MediaPipe landmarks: ``(..., 33, >=3) -> (..., K, 3)`` as x, y, z."""
    return map_points(body[..., :3], tuple(KEYPOINTS.values()))


def keypoint_visibility(body: np.ndarray) -> np.ndarray:
    """Visibility of each character keypoint, ``(..., K)`` (the lower of a pair's two landmarks)."""
    out = np.empty(body.shape[:-2] + (len(KP_NAMES),), np.float32)
    for k, src in enumerate(KEYPOINTS.values()):
        idx = src if isinstance(src, tuple) else (src,)
        out[..., k] = np.min(np.stack([body[..., i, 3] for i in idx]), axis=0)
    return out


#: Arm joints in this bottom band of the frame (fraction of its height) are cut by its edge: the
#: pose model places a joint below the picture just inside it, so a half-body presenter's elbow
#: under the frame reads as a horizontal forearm. Those joints are treated as unseen. (Only the
#: bottom: hands raised to the top or out to the sides are real, and a dance's best moments.)
ARM_EDGE_MARGIN = 0.06
_ARM_JOINTS = tuple(KP[n] for n in ("elbow_l", "elbow_r", "wrist_l", "wrist_r", "hand_l", "hand_r"))


def cut_by_frame(keypoints: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(..., K)`` bool: arm keypoints in the frame's bottom band or below it (:data:`ARM_EDGE_MARGIN`)."""
    h = size[1]
    out = ~(keypoints[..., 1] <= (1 - ARM_EDGE_MARGIN) * h)
    mask = np.zeros(keypoints.shape[-2], bool)
    mask[list(_ARM_JOINTS)] = True
    return out & mask


def scaled_landmarks(points: np.ndarray, factor: float) -> np.ndarray:
    """A copy of landmarks ``(..., >=2)`` with x and y scaled to another frame size (as float64);
    other channels (visibility, depth) untouched."""
    out = np.array(points, np.float64, copy=True)
    out[..., :2] *= factor
    return out
