"""Landmark layouts: the MediaPipe topology we store, and the OpenPose layouts we export.

Coordinates everywhere in steadymotion are image pixels ``(x, y)``, origin top-left, with
joints 0-based. "Left" and "right" are the *subject's* left and right (MediaPipe's and
OpenPose's convention), not the viewer's.
"""

from __future__ import annotations

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
