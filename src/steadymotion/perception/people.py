"""Counting people in a picture: HOG pedestrians (Dalal & Triggs 2005, OpenCV's default people
detector) and MediaPipe full-range face detection (BlazeFace, Bazarevsky et al. 2019)."""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion._native import quiet_native_stderr

#: HOG detections below this SVM margin are ignored; 1.0 separated the second dancer and the
#: pedestrians of the OpenPose street clip (margins 1.1-3.4) from the false detections on
#: single-person clips (0.3-0.99) in ../shared/media.
HOG_MIN_WEIGHT = 1.0
#: The HOG people detector's window (width, height), pixels.
HOG_WINDOW = (64, 128)


class PeopleCounter:
    """Counts people in an RGB image: HOG pedestrians (OpenCV) and MediaPipe full-range faces."""

    def __init__(self) -> None:
        from steadymotion._native import import_mediapipe

        mp = import_mediapipe()

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
        boxes = []
        # OpenCV's HOG corrupts the heap (the process aborts) on images smaller than its 64x128 window;
        # nothing that small can hold a pedestrian it would find anyway
        if small.shape[0] >= HOG_WINDOW[1] and small.shape[1] >= HOG_WINDOW[0]:
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


