"""Who the subject is, and what colour they are: face descriptors and region colours.

Face descriptors are dlib's 128-d ResNet embeddings (King 2017, ``dlib_face_recognition_resnet_model_v1``
from ``face_recognition_models``, run by :mod:`.face_resnet`), aligned with dlib's 5-point shape predictor inside the face box
that MediaPipe's face mesh gives. Two faces of one person are < 0.6 apart (dlib's LFW threshold).

Region colours are medians in CIELAB of *segmented* regions (:func:`region_pixels`): the irises
clipped to the eye opening, the facial skin inside the face-mesh outline, the hair and the garment
cut from the person mask (MediaPipe selfie segmentation) around the head and inside the torso,
each cleaned of skin/hair-coloured pixels and reduced to its dominant colour. Colours are compared
with CIEDE2000 (Sharma, Wu & Dalal 2005) as implemented by scikit-image. The face shape
(:func:`face_shape`) is a vector of expression-stable mesh proportions.
"""

from __future__ import annotations

import numpy as np

from steadymotion.errors import MissingDependencyError
from steadymotion.perception.face_resnet import CHIP_PADDING, CHIP_SIZE
from steadymotion.skeleton import scaled_landmarks

#: Face-mesh points of the two outer eye corners and the nose tip (yaw estimate).
_R_EYE_OUT, _L_EYE_OUT, _NOSE_TIP = 33, 263, 1
#: Beyond this |yaw| proxy the face is too side-on for a reliable descriptor (skipped, not drift).
MAX_YAW = 0.35


class FaceIdentity:
    """128-d face descriptors (dlib) for faces located by MediaPipe landmarks."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise MissingDependencyError(
                "identity needs dlib and its models: pip install dlib-bin==20.0.1.post1 face_recognition_models==0.3.0 'setuptools<81'"
            ) from exc
        from steadymotion.perception.face_resnet import face_resnet

        models = _model_folder()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        # dlib's network, run with NumPy's BLAS: the same descriptors at a third of dlib-bin's time
        self._net = face_resnet(models / "dlib_face_recognition_resnet_model_v1.dat")

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
        rgb = np.ascontiguousarray(rgb)
        chip = self._dlib.get_face_chip(rgb, self._shape(rgb, rect), CHIP_SIZE, CHIP_PADDING)
        return self._net.descriptor(chip)


def _model_folder():
    """``face_recognition_models``' folder of model files, found without importing the package: its
    ``__init__`` imports ``pkg_resources`` (about 0.4 s of CPU in every pose worker) only to build
    these paths."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "identity needs dlib and its models: pip install dlib-bin==20.0.1.post1 face_recognition_models==0.3.0 'setuptools<81'")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def face_yaw(face: np.ndarray) -> float:
    """Signed yaw proxy: nose tip offset from the eye-corner midpoint, in eye-corner distances (0 = frontal)."""
    right, left, nose = face[_R_EYE_OUT, :2], face[_L_EYE_OUT, :2], face[_NOSE_TIP, :2]
    span = float(np.linalg.norm(left - right))
    if span < 1e-6:
        return 0.0
    axis = (left - right) / span
    return float(np.dot(nose - (left + right) / 2, axis) / span)


# --- face shape -----------------------------------------------------------------------------------
#: Face-mesh point pairs whose 3-D distances, divided by the outer inter-ocular distance (33-263),
#: describe the bony shape of a face and barely change with expression (eyes, nose, cheekbones,
#: forehead; no mouth or chin point): inner canthi, each eye's width, nose length (sellion 168 to
#: tip 1) and alar width (129-358), face width at the cheekbones (234-454), jaw width (172-397),
#: nose tip to the eye, forehead (10) to sellion. Anthropometric ratios of this kind are the classic
#: facial-proportion measures (Farkas 1994, *Anthropometry of the Head and Face*).
SHAPE_PAIRS: tuple[tuple[int, int], ...] = (
    (133, 362), (33, 133), (362, 263), (168, 1), (129, 358), (234, 454), (172, 397), (1, 33), (1, 263), (10, 168),
)


def face_shape(face: np.ndarray) -> np.ndarray:
    """Log ratios ``(len(SHAPE_PAIRS),)`` of 3-D face-mesh distances to the inter-ocular distance.

    The mesh's third coordinate (depth, scaled like x) makes the distances nearly independent of
    head yaw and pitch, unlike image-plane ratios; NaN when the mesh is missing.
    """
    p = np.asarray(face, np.float64)[:, :3]
    iod = float(np.linalg.norm(p[33] - p[263]))
    if not np.isfinite(iod) or iod < 1e-6:
        return np.full(len(SHAPE_PAIRS), np.nan)
    a, b = np.array(SHAPE_PAIRS).T
    return np.log(np.linalg.norm(p[a] - p[b], axis=1) / iod)


# --- colours ---------------------------------------------------------------------------------------
REGIONS = ("iris", "skin", "hair", "clothing")

#: Face-mesh outline (ordered), and the point sets of the parts that are not skin (MediaPipe's
#: ``FACEMESH_FACE_OVAL``, ``_EYE``, ``_EYEBROW`` and ``_LIPS`` connections).
FACE_OVAL = (176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 10, 338, 297, 332, 284, 251,
             389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148)
RIGHT_EYE = (7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246)
LEFT_EYE = (249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466)
RIGHT_BROW = (46, 52, 53, 55, 63, 65, 66, 70, 105, 107)
LEFT_BROW = (276, 282, 283, 285, 293, 295, 296, 300, 334, 336)
LIPS = (0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267, 269, 270, 291,
        308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415)
#: Long side (pixels) of the working copy on which hair and clothing are segmented.
APPEARANCE_SIDE = 320
#: Face width (pixels) at which skin is segmented (a larger face is reduced first).
SKIN_FACE_W = 96
#: A pixel within this CIELAB (ΔE*ab) distance of the skin colour is skin (a hand on the chest, a neckline,
#: a bald crown), within :data:`HAIR_TOLERANCE` of the hair colour it is hair (long hair over the chest).
SKIN_TOLERANCE, HAIR_TOLERANCE = 15.0, 10.0
#: Smallest iris radius (pixels of the decoded frame) whose colour is measured.
MIN_IRIS_R = 3.0
#: Pixels per region measured at most (evenly thinned).
MAX_PIXELS = 1500


def to_lab(pixels: np.ndarray) -> np.ndarray:
    """CIELAB (D65, L* 0-100) of ``(..., 3)`` uint8 sRGB pixels, as ``(n, 3)`` float32 (OpenCV)."""
    import cv2

    px = np.asarray(pixels, np.uint8).reshape(-1, 1, 3)
    return cv2.cvtColor(px.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)


def _far_from(lab: np.ndarray, ref: np.ndarray, tol: float) -> np.ndarray:
    """Pixels farther than ``tol`` from ``ref`` in CIELAB (Euclidean ΔE*ab: a cheap mask, not a measure)."""
    return np.sum((lab - np.asarray(ref, np.float32)) ** 2, axis=1) > tol * tol


def _thin(px: np.ndarray, n: int = MAX_PIXELS) -> np.ndarray:
    """At most ``n`` of the pixels, evenly spaced (a region's median needs no more)."""
    return px[:: int(np.ceil(len(px) / n))] if len(px) > n else px


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


def _poly_mask(shape: tuple[int, int], pts: np.ndarray, hull: bool = False) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, np.uint8)
    p = np.round(pts[:, :2]).astype(np.int32)
    if hull:
        cv2.fillConvexPoly(mask, cv2.convexHull(p), 1)
    else:
        cv2.fillPoly(mask, [p], 1)
    return mask.astype(bool)


def _disc_mask(shape: tuple[int, int], cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def _colour_core(lab: np.ndarray, spread: float = 2.5) -> np.ndarray:
    """Pixels of the region's dominant colour: within ``spread`` robust standard deviations (MAD) of
    the median on every channel, so shadows, specular spots, lashes or a print do not move it."""
    med = np.median(lab, axis=0)
    mad = 1.4826 * np.median(np.abs(lab - med), axis=0) + np.array([2.0, 1.0, 1.0])
    return (np.abs(lab - med) <= spread * mad).all(axis=1)


def _face_crop(rgb: np.ndarray, face: np.ndarray, margin: float):
    """A crop of ``rgb`` around the face mesh (``margin`` x the face size on each side), reduced so
    the face is at most :data:`SKIN_FACE_W` wide; returns (crop, face points in crop pixels)."""
    import cv2

    pts = face[:, :2]
    lo, hi = pts[:468].min(axis=0), pts[:468].max(axis=0)
    size = float(max(hi - lo))
    h, w = rgb.shape[:2]
    x0, y0 = (max(0, int(np.floor(v - margin * size))) for v in lo)
    x1, y1 = int(min(w, np.ceil(hi[0] + margin * size))), int(min(h, np.ceil(hi[1] + margin * size)))
    crop = rgb[y0:y1, x0:x1]
    local = face.copy()
    local[:, 0] -= x0
    local[:, 1] -= y0
    s = min(1.0, SKIN_FACE_W / max(float(hi[0] - lo[0]), 1.0))
    if s < 1.0 and crop.size:
        crop = cv2.resize(crop, (max(1, int(round(crop.shape[1] * s))), max(1, int(round(crop.shape[0] * s)))), interpolation=cv2.INTER_AREA)
        local[:, :2] *= s
    return crop, local


def iris_pixels(rgb: np.ndarray, face: np.ndarray) -> np.ndarray | None:
    """Pixels of both irises: the iris disc (iris landmarks) inside the eye opening (the eyelid
    contour of the mesh, so lids and lashes are cut away), pupil (inner 40 % of the radius)
    excluded; then the darkest 10 % (lash shadow, pupil rim) and brightest 15 % (glints) dropped."""
    parts = []
    for centre, ring, eye in ((468, (469, 470, 471, 472), RIGHT_EYE), (473, (474, 475, 476, 477), LEFT_EYE)):
        c = face[centre, :2]
        r = float(np.mean(np.linalg.norm(face[list(ring), :2] - c, axis=1)))
        if r < MIN_IRIS_R:
            continue
        x0, y0 = int(max(0, np.floor(c[0] - r - 1))), int(max(0, np.floor(c[1] - r - 1)))
        x1, y1 = int(min(rgb.shape[1], np.ceil(c[0] + r + 2))), int(min(rgb.shape[0], np.ceil(c[1] + r + 2)))
        if x1 <= x0 or y1 <= y0:
            continue
        shape = (y1 - y0, x1 - x0)
        lid = face[list(eye), :2] - (x0, y0)
        cx, cy = c[0] - x0, c[1] - y0
        keep = _disc_mask(shape, cx, cy, 0.95 * r) & ~_disc_mask(shape, cx, cy, 0.4 * r) & _poly_mask(shape, lid, hull=True)
        parts.append(rgb[y0:y1, x0:x1][keep])
    if not parts:
        return None
    px = np.concatenate(parts)
    lum = px.astype(np.float32).mean(axis=1)
    if len(px) < 8:
        return None
    lo, hi = np.percentile(lum, [10, 85])
    px = px[(lum >= lo) & (lum <= hi)]
    return px if len(px) >= 6 else None


def _skin_pixels(rgb: np.ndarray, face: np.ndarray) -> np.ndarray | None:
    """Facial skin: inside the face outline (mesh oval), eyes, brows and lips cut out (their mesh
    hulls, grown by 4 % of the face width), then the dominant colour kept (:func:`_colour_core`: a
    fringe, beard, glasses frame or shadow drops out). At :data:`SKIN_FACE_W` px face width."""
    import cv2

    crop, f = _face_crop(rgb, face, 0.05)
    if min(crop.shape[:2]) < 8:
        return None
    shape = crop.shape[:2]
    skin = _poly_mask(shape, f[list(FACE_OVAL)])
    parts = np.zeros(shape, np.uint8)
    for idx in (RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS):
        parts |= _poly_mask(shape, f[list(idx)], hull=True).astype(np.uint8)
    fw = float(np.linalg.norm(f[234, :2] - f[454, :2]))
    k = max(3, int(round(0.08 * fw)) | 1)
    parts = cv2.dilate(parts, np.ones((k, k), np.uint8)).astype(bool)
    px = _thin(crop[skin & ~parts])
    if len(px) < 20:
        return None
    return px[_colour_core(to_lab(px))]


def _work_copy(rgb: np.ndarray, person: np.ndarray | None):
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, APPEARANCE_SIDE / max(h, w))
    size = (max(1, int(round(w * s))), max(1, int(round(h * s))))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if s < 1.0 else rgb
    if person is None:
        fg = np.ones(small.shape[:2], bool)
    elif hasattr(person, "probability"):
        fg = person.probability(small) > 0.5
    else:
        fg = cv2.resize(person.astype(np.float32), size, interpolation=cv2.INTER_LINEAR) > 0.5
    return small, fg, s


def _hair_pixels(small: np.ndarray, fg: np.ndarray, face: np.ndarray, skin_lab: np.ndarray | None) -> np.ndarray | None:
    """Hair: the person (segmentation mask) in a band around the face outline (out to 35 % of the
    face height beyond it), above the eye line, without skin-coloured pixels (forehead, ears, a
    bald crown) — the hair as segmented, not a patch above the forehead; all of it (see the end)."""
    from steadymotion.morphology import dilate_disc

    fh = float(np.linalg.norm(face[10, :2] - face[152, :2]))
    if fh < 6:
        return None
    lo = np.maximum(np.floor(face[:468, :2].min(axis=0) - 0.5 * fh).astype(int), 0)
    hi = np.minimum(np.ceil(face[:468, :2].max(axis=0) + 0.5 * fh).astype(int), (small.shape[1], small.shape[0]))
    if (hi - lo < 3).any():
        return None
    small, fg = small[lo[1]:hi[1], lo[0]:hi[0]], fg[lo[1]:hi[1], lo[0]:hi[0]]
    face = face.copy()
    face[:, :2] -= lo
    shape = small.shape[:2]
    oval = _poly_mask(shape, face[list(FACE_OVAL)])
    k_out = max(3, int(round(0.7 * fh)) | 1)
    k_in = max(3, int(round(0.08 * fh)) | 1)
    # (distance-transform discs: two elliptic dilations took 11 ms a frame here)
    band = dilate_disc(oval, k_out) & ~dilate_disc(oval, k_in)
    up = (face[10, :2] - face[152, :2]) / fh
    eyes = (face[33, :2] + face[263, :2]) / 2
    ys, xs = np.nonzero(band & fg)
    above = (xs - eyes[0]) * up[0] + (ys - eyes[1]) * up[1] > 0.05 * fh
    ys, xs = ys[above], xs[above]
    if len(ys) < 8:
        return None
    px = _thin(small[ys, xs])
    if skin_lab is not None:
        px = px[_far_from(to_lab(px), skin_lab, SKIN_TOLERANCE)]
    if len(px) < max(8, 0.15 * min(len(ys), MAX_PIXELS)):
        return None
    # no dominant-colour core here: hair beside a veil, a hood or a hat is two colours of about equal
    # share, and the median-based core jumps from one to the other when their shares cross; the
    # two-colour palette (:func:`palette_lab`) keeps both and the meter takes the one nearest the reference
    return px


def _clothing_pixels(small: np.ndarray, fg: np.ndarray, body: np.ndarray, face: np.ndarray | None,
                     skin_lab: np.ndarray | None, hair_lab: np.ndarray | None) -> np.ndarray | None:
    """The garment on the torso: the person (segmentation mask) inside the torso quadrilateral from
    the shoulders to the hips (or one shoulder width down when the hips are not seen), its inner
    80 % across and below the neckline, without the head and without skin- or hair-coloured pixels
    (hands on the chest, a neckline, long hair over the shoulders)."""
    if not (np.isfinite(body[[11, 12], :2]).all() and (body[[11, 12], 3] > 0.5).all()):
        return None
    shape = small.shape[:2]
    ls, rs = body[11, :2], body[12, :2]
    across = ls - rs
    sw = float(np.linalg.norm(across))
    if sw < 6:
        return None
    down = np.array([-across[1], across[0]]) / sw
    if down[1] < 0:
        down = -down
    mid = (ls + rs) / 2
    top_l, top_r = mid + 0.4 * across + 0.15 * sw * down, mid - 0.4 * across + 0.15 * sw * down
    if np.isfinite(body[[23, 24], :2]).all() and (body[[23, 24], 3] > 0.5).all():
        lh, rh = body[23, :2], body[24, :2]
        hmid, hacross = (lh + rh) / 2, lh - rh
        bot_l, bot_r = hmid + 0.4 * hacross, hmid - 0.4 * hacross
    else:
        bot_l, bot_r = top_l + 0.9 * sw * down, top_r + 0.9 * sw * down
    quad = np.array([top_l, top_r, bot_r, bot_l])
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(quad.max(axis=0)).astype(int) + 1, (shape[1], shape[0]))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    box = (y1 - y0, x1 - x0)
    torso = _poly_mask(box, quad - (x0, y0), hull=True)
    area = float(_poly_area(quad))
    region = torso & fg[y0:y1, x0:x1]
    if face is not None and np.isfinite(face[:468, :2]).all():
        region &= ~_poly_mask(box, face[list(FACE_OVAL), :2] - (x0, y0))
    px = _thin(small[y0:y1, x0:x1][region])
    if region.sum() < max(20, 0.25 * area):
        return None
    lab = to_lab(px)
    keep = np.ones(len(px), bool)
    if skin_lab is not None:
        keep &= _far_from(lab, skin_lab, SKIN_TOLERANCE)
    if hair_lab is not None:
        keep &= _far_from(lab, hair_lab, HAIR_TOLERANCE)
    if keep.sum() < max(20, 0.25 * len(px)):
        return None
    return px[keep]


def _poly_area(p: np.ndarray) -> float:
    """Shoelace area of a polygon."""
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def region_pixels(rgb: np.ndarray, body: np.ndarray | None, face: np.ndarray | None,
                  person: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """RGB pixels ``(n, 3)`` of each colour region that is visible in this frame, *segmented*:

    - ``iris``: the iris discs clipped to the eye opening (:func:`iris_pixels`), at full size;
    - ``skin``: the face inside its mesh outline, eyes/brows/lips removed, dominant colour
      (:func:`_skin_pixels`);
    - ``hair``: the person around and above the face outline, skin colours removed (:func:`_hair_pixels`);
    - ``clothing``: the person inside the torso, skin and hair colours removed (:func:`_clothing_pixels`).

    Hair and clothing are cut from a copy at :data:`APPEARANCE_SIDE` px using ``person``, a person
    probability map of any size, or a :class:`~steadymotion.perception.segmentation.PersonSegmenter`
    run on that copy (MediaPipe selfie segmentation, Bazarevsky & Grishchenko 2021); without it the landmark
    shapes alone bound them. Landmarks are in pixels of ``rgb``. A region's colour is then robust
    to its small parts: :func:`_colour_core` keeps its dominant colour cluster.
    """
    out: dict[str, np.ndarray] = {}
    face_ok = face is not None and np.isfinite(face[:, :2]).all()
    skin_lab = hair_lab = None
    if face_ok:
        iris = iris_pixels(rgb, face)
        if iris is not None:
            out["iris"] = iris
        skin = _skin_pixels(rgb, face)
        if skin is not None and len(skin) >= 6:
            out["skin"] = skin
            skin_lab = np.median(to_lab(skin), axis=0)
    body_ok = body is not None and np.isfinite(body[[11, 12], :2]).all()
    if not (face_ok or body_ok):
        return out
    small, fg, s = _work_copy(rgb, person)
    if face_ok and abs(face_yaw(face)) <= 2 * MAX_YAW:
        hair = _hair_pixels(small, fg, scaled_landmarks(face, s), skin_lab)
        if hair is not None and len(hair) >= 6:
            out["hair"] = hair
            lab = to_lab(hair)  # what the clothing leaves out: the hair's dominant colour, not a veil beside it
            hair_lab = np.median(lab[_colour_core(lab)], axis=0)
    if body_ok:
        clothing = _clothing_pixels(small, fg, scaled_landmarks(body, s), scaled_landmarks(face, s) if face_ok else None, skin_lab, hair_lab)
        if clothing is not None and len(clothing) >= 12:
            out["clothing"] = clothing
    return out


#: Regions whose colour is a palette of up to two colours (a jacket over a shirt, stripes, highlights).
PALETTE_REGIONS = ("hair", "clothing")
#: A palette's second colour counts when it covers at least this share of the region.
MIN_SHARE = 0.25


def palette_lab(pixels: np.ndarray, k: int = 2) -> np.ndarray:
    """Up to ``k`` colours of a region, largest first, as ``(k, 3)`` CIELAB (NaN rows for colours
    covering less than :data:`MIN_SHARE`): k-means in CIELAB (Lloyd 1982, ``cv2.kmeans`` with
    k-means++ seeding, Arthur & Vassilvitskii 2007), each colour the median of its cluster."""
    import cv2

    lab = to_lab(pixels)
    out = np.full((k, 3), np.nan)
    if len(lab) < 2 * k:
        out[0] = np.median(lab, axis=0)
        return out
    cv2.setRNGSeed(0x5EED)
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, _ = cv2.kmeans(lab.astype(np.float32), k, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    shares = np.bincount(labels, minlength=k) / len(labels)
    for j, c in enumerate(np.argsort(-shares)):
        if j == 0 or shares[c] >= MIN_SHARE:
            out[j] = np.median(lab[labels == c], axis=0)
    return out


def region_colors(rgb: np.ndarray, body: np.ndarray | None, face: np.ndarray | None, person=None) -> np.ndarray:
    """``(len(REGIONS), 2, 3)`` CIELAB: each region's colour (iris, skin: the median; hair, clothing:
    the two-colour palette of :func:`palette_lab`), NaN where not seen or without a second colour."""
    out = np.full((len(REGIONS), 2, 3), np.nan)
    for region, px in region_pixels(rgb, body, face, person).items():
        r = REGIONS.index(region)
        if region in PALETTE_REGIONS:
            out[r] = palette_lab(px)
        else:
            out[r, 0] = median_lab(px)
    return out


def lightness_matched(lab: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``lab`` with its luminance scaled to ``ref``'s (CIE XYZ scaled by Y_ref / Y): the same surface
    under more or less light (shading, a turn towards the lamp, exposure) maps back onto itself,
    a change of hue or chroma stays. Colour constancy by intensity normalisation, the achromatic
    case of a von Kries transform (von Kries 1902; Finlayson, Schiele & Crowley 1998)."""
    from skimage.color import lab2xyz, xyz2lab

    lab = np.asarray(lab, np.float64).reshape(-1, 1, 3)
    ref = np.asarray(ref, np.float64).reshape(-1, 1, 3)
    xyz, xyz_ref = lab2xyz(lab), lab2xyz(np.broadcast_to(ref, lab.shape).copy())
    scale = xyz_ref[..., 1:2] / np.maximum(xyz[..., 1:2], 1e-6)
    return xyz2lab(np.clip(xyz * scale, 0, None)).reshape(-1, 3)


#: Lightness changes up to this many stops (factors of 2 in luminance) are taken for shading; beyond
#: it each further stop counts :data:`STOP_DE` ΔE00 (a navy suit turning into a light denim shirt).
SHADING_STOPS, STOP_DE = 2.0, 10.0


def chromatic_delta_e(lab: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """How far a region's colour moved, lighting aside: CIEDE2000 (Sharma, Wu & Dalal 2005) between
    ``lab`` ``(n, 3)`` and ``ref`` after matching lightness (:func:`lightness_matched`), combined (in
    quadrature) with :data:`STOP_DE` per stop of luminance change beyond :data:`SHADING_STOPS`."""
    from skimage.color import deltaE_ciede2000, lab2xyz

    lab = np.asarray(lab, np.float64).reshape(-1, 3)
    ref3 = np.ascontiguousarray(np.broadcast_to(np.asarray(ref, np.float64), lab.shape))
    chroma = deltaE_ciede2000(lightness_matched(lab, ref3), ref3)
    y = lab2xyz(lab.reshape(-1, 1, 3))[:, 0, 1]
    y_ref = lab2xyz(ref3.reshape(-1, 1, 3))[:, 0, 1]
    stops = np.abs(np.log2(np.maximum(y, 1e-4) / np.maximum(y_ref, 1e-4)))
    return np.hypot(chroma, STOP_DE * np.maximum(0.0, stops - SHADING_STOPS))


def median_lab(pixels: np.ndarray) -> np.ndarray:
    """Median CIELAB (D65) colour of ``(n, 3)`` uint8 RGB pixels."""
    return np.median(to_lab(pixels), axis=0).astype(np.float64)


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
    from steadymotion.perception.segmentation import PersonSegmenter

    with PersonSegmenter("general") as seg:
        colors = region_colors(rgb, body, face, seg)
    for r, region in enumerate(REGIONS):
        if np.isfinite(colors[r, 0]).all():
            out["colors_lab"][region] = [round(float(x), 2) for x in colors[r, 0]]
    return out
