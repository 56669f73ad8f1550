"""OpenPose interchange: per-frame JSON and DWPose/OpenPose-style pose renderings.

The JSON is the layout OpenPose itself writes with ``--write_json`` (BODY_25 + 2x21 hand + 70 face
keypoints as flat ``[x, y, c, ...]`` lists, one ``<name>_<frame:012d>_keypoints.json`` per frame),
so ControlNet, Wan-Animate, MimicMotion and ComfyUI tooling read it unchanged. The format's own
convention for an undetected point is ``0, 0, 0``; that convention lives only in this file, NaN
is used everywhere else.

The renderer draws the COCO-18 body, hands and face exactly as ControlNet's OpenPose annotator
and DWPose (Yang et al., ICCVW 2023) draw their conditioning images: coloured ellipse limbs at 60 %
brightness and joint dots, rainbow hand edges with blue joints, white face dots, on black.
"""

from __future__ import annotations

import colorsys
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from steadymotion.io.atomic import atomic_directory
from steadymotion.io.video import VideoWriter
from steadymotion.skeleton import (
    BODY25_FROM_MEDIAPIPE,
    COCO18_FROM_MEDIAPIPE,
    FACE68_FROM_MEDIAPIPE,
    FACE70_FROM_MEDIAPIPE,
    HAND_BONES,
    map_points,
)
from steadymotion.types import PoseSequence

OPENPOSE_JSON_VERSION = 1.3
#: DWPose / ControlNet draw a body keypoint only above this confidence.
BODY_DRAW_THRESHOLD = 0.3

# ControlNet / DWPose body colours (RGB), one per COCO-18 keypoint, and limbs as 1-based pairs.
BODY_COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
BODY_LIMBS = (
    (2, 3), (2, 6), (3, 4), (4, 5), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11), (2, 12), (12, 13),
    (13, 14), (2, 1), (1, 15), (15, 17), (1, 16), (16, 18),
)
HAND_EDGE_COLORS = tuple(
    tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(i / len(HAND_BONES), 1.0, 1.0)) for i in range(len(HAND_BONES))
)


# --- JSON ------------------------------------------------------------------------------------------
def _flat(points: np.ndarray, conf: np.ndarray) -> list[float]:
    """(J, 2) xy + (J,) confidence -> OpenPose flat list, undetected points as 0, 0, 0."""
    ok = np.isfinite(points).all(axis=1) & np.isfinite(conf) & (conf > 0)
    out = np.zeros((len(points), 3), np.float64)
    out[ok, :2] = points[ok]
    out[ok, 2] = conf[ok]
    return [round(float(v), 3) for v in out.ravel()]


def openpose_frame(seq: PoseSequence, i: int) -> dict:
    """The OpenPose ``--write_json`` document for frame ``i`` (one person, or none)."""
    people = []
    if seq.body_present[i] or seq.face_present[i] or seq.hands_present[i].any():
        body25 = map_points(seq.body[i], BODY25_FROM_MEDIAPIPE)
        vis = body25[:, 3]
        # a midpoint (neck, mid-hip) is only as certain as its less certain end
        for k, src in enumerate(BODY25_FROM_MEDIAPIPE):
            if isinstance(src, tuple):
                vis[k] = min(seq.body[i, src[0], 3], seq.body[i, src[1], 3])
        face = map_points(seq.face[i], FACE70_FROM_MEDIAPIPE)
        face_c = np.full(len(face), 1.0 if seq.face_present[i] else 0.0)
        hands = [seq.hands[i, k, :, :2] for k in range(2)]
        hand_c = [np.full(21, 1.0 if seq.hands_present[i, k] else 0.0) for k in range(2)]
        people.append(
            {
                "person_id": [-1],
                "pose_keypoints_2d": _flat(body25[:, :2], vis),
                "face_keypoints_2d": _flat(face[:, :2], face_c),
                "hand_left_keypoints_2d": _flat(hands[0], hand_c[0]),
                "hand_right_keypoints_2d": _flat(hands[1], hand_c[1]),
                "pose_keypoints_3d": [],
                "face_keypoints_3d": [],
                "hand_left_keypoints_3d": [],
                "hand_right_keypoints_3d": [],
            }
        )
    return {"version": OPENPOSE_JSON_VERSION, "people": people}


def write_openpose_json(seq: PoseSequence, folder: str | Path, name: str = "frame", progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``<name>_<frame:012d>_keypoints.json`` for every frame into ``folder`` (atomically).

    ``folder`` may exist if it is empty or holds only such files from an earlier run.
    """
    with atomic_directory(folder, owned_glob="*_keypoints.json") as tmp:
        for i in range(len(seq)):
            with open(tmp / f"{name}_{i:012d}_keypoints.json", "w") as fh:
                json.dump(openpose_frame(seq, i), fh, separators=(",", ":"))
            if progress is not None:
                progress(i + 1, len(seq))
    return Path(folder)


# --- drawing ---------------------------------------------------------------------------------------
def _inside(p: np.ndarray, w: int, h: int) -> bool:
    return bool(np.isfinite(p).all() and 0 <= p[0] < w and 0 <= p[1] < h)


def draw_body(canvas: np.ndarray, body: np.ndarray, stickwidth: int = 4, threshold: float = BODY_DRAW_THRESHOLD) -> np.ndarray:
    """Draw a MediaPipe body (33, 4) as the COCO-18 OpenPose skeleton; returns the canvas."""
    h, w = canvas.shape[:2]
    coco = map_points(body, COCO18_FROM_MEDIAPIPE)
    for k, src in enumerate(COCO18_FROM_MEDIAPIPE):
        if isinstance(src, tuple):
            coco[k, 3] = min(body[src[0], 3], body[src[1], 3])
    ok = [bool(np.isfinite(coco[k, 3]) and coco[k, 3] >= threshold and _inside(coco[k, :2], w, h)) for k in range(18)]
    for i, (a, b) in enumerate(BODY_LIMBS):
        a, b = a - 1, b - 1
        if not (ok[a] and ok[b]):
            continue
        (x1, y1), (x2, y2) = coco[a, :2], coco[b, :2]
        length = math.hypot(x1 - x2, y1 - y2)
        angle = math.degrees(math.atan2(y1 - y2, x1 - x2))
        poly = cv2.ellipse2Poly((int((x1 + x2) / 2), int((y1 + y2) / 2)), (int(length / 2), stickwidth), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, poly, BODY_COLORS[i])
    canvas[:] = (canvas * 0.6).astype(np.uint8)
    for k in range(18):
        if ok[k]:
            cv2.circle(canvas, (int(coco[k, 0]), int(coco[k, 1])), stickwidth, BODY_COLORS[k], thickness=-1)
    return canvas


def draw_hand(canvas: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """Draw one hand (21, 2+) with rainbow edges and blue joints (ControlNet/DWPose style)."""
    h, w = canvas.shape[:2]
    ok = [_inside(hand[k, :2], w, h) for k in range(len(hand))]
    for e, (a, b) in enumerate(HAND_BONES):
        if ok[a] and ok[b]:
            cv2.line(canvas, (int(hand[a, 0]), int(hand[a, 1])), (int(hand[b, 0]), int(hand[b, 1])), HAND_EDGE_COLORS[e], thickness=2)
    for k in range(len(hand)):
        if ok[k]:
            cv2.circle(canvas, (int(hand[k, 0]), int(hand[k, 1])), 4, (0, 0, 255), thickness=-1)
    return canvas


def draw_face(canvas: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Draw the 68 OpenPose face points from a MediaPipe mesh (478, 2+) as white dots."""
    h, w = canvas.shape[:2]
    for k in FACE68_FROM_MEDIAPIPE:
        if _inside(face[k, :2], w, h):
            cv2.circle(canvas, (int(face[k, 0]), int(face[k, 1])), 3, (255, 255, 255), thickness=-1)
    return canvas


def draw_pose(seq: PoseSequence, i: int, canvas: np.ndarray | None = None, *, body: bool = True, hands: bool = True, face: bool = True) -> np.ndarray:
    """Render frame ``i`` of ``seq`` DWPose-style onto ``canvas`` (default: black, source size)."""
    if canvas is None:
        canvas = np.zeros((seq.size[1], seq.size[0], 3), np.uint8)
    if body and seq.body_present[i]:
        draw_body(canvas, seq.body[i])
    if hands:
        for k in range(2):
            if seq.hands_present[i, k]:
                draw_hand(canvas, seq.hands[i, k])
    if face and seq.face_present[i]:
        draw_face(canvas, seq.face[i])
    return canvas


def iter_pose_frames(seq: PoseSequence, **kwargs) -> Iterator[np.ndarray]:
    """Yield the rendered pose image of every frame."""
    for i in range(len(seq)):
        yield draw_pose(seq, i, **kwargs)


def render_pose_video(seq: PoseSequence, path: str | Path, *, progress: Callable[[int, int], None] | None = None, **kwargs) -> Path:
    """Write the DWPose-style pose video of ``seq`` (same size and fps as the source) to ``path``."""
    with VideoWriter(path, seq.fps) as writer:
        for i, img in enumerate(iter_pose_frames(seq, **kwargs)):
            writer.write(img)
            if progress is not None:
                progress(i + 1, len(seq))
    return Path(path)
