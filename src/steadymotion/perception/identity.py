"""Who the subject is, and what colour they are: face descriptors and region colours.

Face descriptors are dlib's 128-d ResNet embeddings (King 2017, ``dlib_face_recognition_resnet_model_v1``
from ``face_recognition_models``), aligned with dlib's 5-point shape predictor inside the face box
that MediaPipe's face mesh gives. Two faces of one person are < 0.6 apart (dlib's LFW threshold).

Region colours are medians in CIELAB of small patches placed from the landmarks (irises, cheeks,
hair above the forehead, the torso), compared with CIEDE2000 (Sharma, Wu & Dalal 2005) as
implemented by scikit-image.
"""

from __future__ import annotations

import numpy as np

from steadymotion.errors import MissingDependencyError

#: Face-mesh points of the two outer eye corners and the nose tip (yaw estimate).
_R_EYE_OUT, _L_EYE_OUT, _NOSE_TIP = 33, 263, 1
#: Beyond this |yaw| proxy the face is too side-on for a reliable descriptor (skipped, not drift).
MAX_YAW = 0.35


class FaceIdentity:
    """128-d face descriptors (dlib) for faces located by MediaPipe landmarks."""

    def __init__(self) -> None:
        try:
            import dlib
            import face_recognition_models as frm
        except ImportError as exc:
            raise MissingDependencyError(
                "identity needs dlib and its models: pip install dlib-bin==20.0.1.post1 face_recognition_models==0.3.0 'setuptools<81'"
            ) from exc
        self._dlib = dlib
        self._shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self._net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def descriptor(self, rgb: np.ndarray, face: np.ndarray) -> np.ndarray | None:
        """Descriptor of the face whose mesh ``face (478, 3)`` (pixels of ``rgb``) is given.

        ``None`` when the face is too small (< 40 px) or too side-on (see :func:`face_yaw`).
        """
        pts = face[:468, :2]
        if not np.isfinite(pts).all() or abs(face_yaw(face)) > MAX_YAW:
            return None
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        if min(x1 - x0, y1 - y0) < 40:
            return None
        h, w = rgb.shape[:2]
        rect = self._dlib.rectangle(int(max(0, x0)), int(max(0, y0)), int(min(w - 1, x1)), int(min(h - 1, y1)))
        shape = self._shape(rgb, rect)
        return np.asarray(self._net.compute_face_descriptor(np.ascontiguousarray(rgb), shape, 0), np.float32)


def face_yaw(face: np.ndarray) -> float:
    """Signed yaw proxy: nose tip offset from the eye-corner midpoint, in eye-corner distances (0 = frontal)."""
    right, left, nose = face[_R_EYE_OUT, :2], face[_L_EYE_OUT, :2], face[_NOSE_TIP, :2]
    span = float(np.linalg.norm(left - right))
    if span < 1e-6:
        return 0.0
    axis = (left - right) / span
    return float(np.dot(nose - (left + right) / 2, axis) / span)


# --- colours ---------------------------------------------------------------------------------------
REGIONS = ("iris", "skin", "hair", "clothing")


def _disc(shape: tuple[int, int], cx: float, cy: float, r: float, r_in: float = 0.0) -> np.ndarray:
    """Pixel indices (rows, cols) of a disc (minus an inner disc) clipped to the image."""
    h, w = shape
    x0, x1 = int(max(0, np.floor(cx - r))), int(min(w, np.ceil(cx + r + 1)))
    y0, y1 = int(max(0, np.floor(cy - r))), int(min(h, np.ceil(cy + r + 1)))
    if x1 <= x0 or y1 <= y0:
        return np.zeros((2, 0), int)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d2 = (xx - cx) ** 2 + (yy - cy) ** 2
    keep = (d2 <= r * r) & (d2 >= r_in * r_in)
    return np.stack([yy[keep], xx[keep]])


def _polygon(shape: tuple[int, int], pts: np.ndarray) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return np.stack(np.nonzero(mask))


def region_pixels(rgb: np.ndarray, body: np.ndarray | None, face: np.ndarray | None) -> dict[str, np.ndarray]:
    """RGB pixels ``(n, 3)`` of each colour region that is visible in this frame.

    - ``iris``: both irises (iris landmarks), the pupil (inner 45 % of the radius) excluded, only
      when the iris is at least 3 px in radius; the darkest 15 % and brightest 20 % of its pixels
      (lashes, pupil edge, sclera, glints) are dropped.
    - ``skin``: two cheek discs (face mesh 50 and 280), radius 8 % of the face width.
    - ``hair``: a small disc just above the top of the forehead (mesh 10), near-frontal faces only.
    - ``clothing``: the chest, 0.25-0.6 shoulder widths below the shoulder line (inner 60 %), when
      it lies wholly inside the frame.
    """
    out: dict[str, np.ndarray] = {}
    shape = rgb.shape[:2]
    if face is not None and np.isfinite(face).all():
        fw = float(np.linalg.norm(face[234, :2] - face[454, :2]))
        fh = float(np.linalg.norm(face[10, :2] - face[152, :2]))
        iris = []
        for c, ring in ((468, (469, 470, 471, 472)), (473, (474, 475, 476, 477))):
            r = float(np.mean(np.linalg.norm(face[list(ring), :2] - face[c, :2], axis=1)))
            if r >= 3.0:
                iris.append(_disc(shape, face[c, 0], face[c, 1], r * 0.9, r * 0.45))
        if iris:
            idx = np.concatenate(iris, axis=1)
            px = rgb[idx[0], idx[1]]
            lum = px.astype(np.float32).mean(axis=1)
            lo, hi = np.percentile(lum, [15, 80]) if len(lum) else (0, 0)
            px = px[(lum >= lo) & (lum <= hi)]  # drop lashes/pupil edge (dark) and sclera/glints (bright)
            if len(px) >= 6:
                out["iris"] = px
        if fw > 10:
            cheeks = np.concatenate([_disc(shape, face[k, 0], face[k, 1], 0.08 * fw) for k in (50, 280)], axis=1)
            if cheeks.shape[1] >= 6:
                out["skin"] = rgb[cheeks[0], cheeks[1]]
            if abs(face_yaw(face)) <= MAX_YAW:  # side-on, the patch would leave the head
                up = face[10, :2] - face[152, :2]
                up = up / (np.linalg.norm(up) + 1e-6)
                centre = face[10, :2] + up * 0.10 * fh
                hair = _disc(shape, centre[0], centre[1], 0.06 * fw)
                if hair.shape[1] >= 6:
                    out["hair"] = rgb[hair[0], hair[1]]
    if body is not None and np.isfinite(body[[11, 12], :2]).all() and (body[[11, 12], 3] > 0.5).all():
        # the chest, from the shoulders alone (hips are often out of frame): 0.25-0.6 shoulder widths
        # below the shoulder line, the inner 60 % of its width
        ls, rs = body[11, :2], body[12, :2]
        across = ls - rs
        sw = float(np.linalg.norm(across))
        down = np.array([-across[1], across[0]]) / max(sw, 1e-6)
        if down[1] < 0:
            down = -down
        mid = (ls + rs) / 2
        half = 0.3 * across
        quad = np.array([mid - half + 0.25 * sw * down, mid + half + 0.25 * sw * down,
                         mid + half + 0.6 * sw * down, mid - half + 0.6 * sw * down])
        inside = (quad[:, 0] >= 0).all() and (quad[:, 0] < shape[1]).all() and (quad[:, 1] >= 0).all() and (quad[:, 1] < shape[0]).all()
        torso = _polygon(shape, quad) if inside and sw > 8 else np.zeros((2, 0), int)
        if torso.shape[1] >= 20:
            out["clothing"] = rgb[torso[0], torso[1]]
    return out


def median_lab(pixels: np.ndarray) -> np.ndarray:
    """Median CIELAB (D65) colour of ``(n, 3)`` uint8 RGB pixels."""
    from skimage.color import rgb2lab

    lab = rgb2lab(pixels.reshape(-1, 1, 3).astype(np.float64) / 255.0).reshape(-1, 3)
    return np.median(lab, axis=0)


def delta_e(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 colour difference (scikit-image)."""
    from skimage.color import deltaE_ciede2000

    return float(deltaE_ciede2000(np.asarray(lab1, np.float64), np.asarray(lab2, np.float64)))


def identity_signature(rgb: np.ndarray, pose) -> dict:
    """What identifies the subject of one image: the face descriptor (dlib, 128-d, ``None`` without a
    frontal face) and the CIELAB colours of iris, skin, hair and clothing where visible.

    The one place a signature is computed: the character store keeps it with a master image, and
    the drift meter measures a reference image with it.

    Returns
    -------
    dict
        ``{"face_descriptor": list of 128 float | None, "colors_lab": {region: [L, a, b]}}``.
    """
    out: dict = {"face_descriptor": None, "colors_lab": {}}
    face = pose.face[0] if pose.face_present[0] else None
    body = pose.body[0] if pose.body_present[0] else None
    if face is not None:
        d = FaceIdentity().descriptor(rgb, face)
        if d is not None:
            out["face_descriptor"] = [round(float(x), 6) for x in d]
    for region, px in region_pixels(rgb, body, face).items():
        if len(px):
            out["colors_lab"][region] = [round(float(x), 2) for x in median_lab(px)]
    return out
