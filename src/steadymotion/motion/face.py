"""Facial expression retargeting: the reference face's motion relative to its neutral frame, carried
onto the character's face landmarks.

The body plan moves the head as a whole; the face inside it was a rigid cut-out, so a presenter's
mouth never moved and a blink never showed. Here each frame of the reference's MediaPipe face mesh
(468 landmarks with depth) is aligned to the reference's neutral face by the least-squares 3D
similarity (Umeyama 1991) of its stable landmarks (eye corners, nose bridge, forehead, temples,
upper cheeks), which takes out the head's motion, its turn in depth included, and what is left (the
mouth opening, the lids, the brows, the jaw dropping) is the expression. It is carried into the
character's face by the similarity between the two neutral faces and added to the character's own
landmarks: relative motion, as LivePortrait's "relative" driving mode (Guo et al. 2024) and the
first-order motion model (Siarohin et al. 2019) use it, so the character keeps its own face shape.
The motion is taken relative to the reference frame whose expression is most like the image's
(mouth and eyes as open), not blindly its first: a presenter who starts mid-word would otherwise
open a closed-mouthed character's mouth only by the excess and press its lips shut the rest.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

#: MediaPipe face-mesh landmarks that an expression barely moves: eye corners, nose bridge,
#: forehead, temples and upper cheeks.
STABLE = (33, 133, 362, 263, 168, 6, 197, 195, 10, 151, 9, 127, 356, 234, 454, 116, 345, 50, 280)
#: The inner lip contour, a closed polygon (upper lip left to right, then the lower lip back).
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
#: The outer lip contour, a closed polygon.
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
#: The face's outline (MediaPipe's FACEMESH_FACE_OVAL, in order round the face).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
#: The landmarks an expression moves (MediaPipe's FACEMESH_LIPS, eyes and eyebrows, and the jaw's
#: outline below the mouth's corners). The others follow them by nearness (:data:`REACH`): what the
#: affine alignment leaves of the head's turn in depth (the nose's and the cheeks' parallax) is not
#: expression, and warping it creased the nose's side.
EXPRESSIVE = (
    0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267, 269, 270, 291,
    308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415,  # lips
    249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466,  # left eye
    7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246,  # right eye
    276, 282, 283, 285, 293, 295, 296, 300, 334, 336, 46, 52, 53, 55, 63, 65, 66, 70, 105, 107,  # brows
    58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288,  # jaw
)
#: A landmark that is not :data:`EXPRESSIVE` moves by the offset it measured times
#: exp(-(d / (REACH * eyes' distance))^2), d its distance from the nearest expressive one.
REACH = 0.2
#: Landmarks of the mesh that move (the iris's ten are left out: a blink throws them about).
MESH = 468
#: Zero-phase smoothing of the offsets over time (Gaussian sigma, frames): the mesh's jitter of a
#: pixel or so, not a syllable's motion (4-6 frames a cycle at 25 fps).
SMOOTH_SIGMA = 0.75
#: Degrees of the head's turn from the neutral face over which the expression fades out.
TURN_FADE = (30.0, 45.0)
#: No landmark moves farther than this share of the eyes' distance (a mesh thrown off by a hand
#: over the face).
MAX_OFFSET = 0.6


def _affine_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares affine ``(3, 2)`` with ``[src, 1] @ A ~ dst``."""
    X = np.c_[src, np.ones(len(src))]
    A, *_ = np.linalg.lstsq(X, dst, rcond=None)
    return A


def eye_distance(face: np.ndarray) -> float:
    """Distance between the outer eye corners (landmarks 33 and 263), pixels."""
    return float(np.hypot(*(face[263, :2] - face[33, :2])))


def openness(face: np.ndarray) -> np.ndarray:
    """How far the mouth and each eye are open, over the eyes' distance: ``(..., 3)`` for faces
    ``(..., >=468, 2)`` (inner lips 13-14, lids 159-145 and 386-374)."""
    f = np.asarray(face, np.float64)[..., :2]
    iod = np.maximum(np.linalg.norm(f[..., 263, :] - f[..., 33, :], axis=-1), 1e-6)
    pairs = ((13, 14), (159, 145), (386, 374))
    return np.stack([np.linalg.norm(f[..., b, :] - f[..., a, :], axis=-1) / iod for a, b in pairs], axis=-1)


def neutral_frame(rest_face: np.ndarray, ref_face: np.ndarray, ok: np.ndarray) -> int:
    """The reference frame whose expression is most like the image's: the least L1 distance of
    :func:`openness` (mouth and eyes), the earliest among equals. Motion relative to it keeps the
    image's own expression where the reference shows that one: a reference that starts talking with
    its mouth open would otherwise press a closed-mouthed character's lips into each other whenever
    its own closed."""
    idx = np.flatnonzero(ok)
    d = np.abs(openness(ref_face[idx]) - openness(rest_face)[None]).sum(axis=1)
    return int(idx[np.argmin(d + 1e-9 * np.arange(len(idx)))])


def _umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity ``dst ~ s R src + t`` of point sets ``(N, d)``, without reflection
    (Umeyama 1991): ``(s, R, t)``."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    U, S, Vt = np.linalg.svd(b.T @ a)
    D = np.eye(src.shape[1])
    D[-1, -1] = np.sign(np.linalg.det(U @ Vt)) or 1.0
    R = U @ D @ Vt
    scale = float((S * np.diag(D)).sum() / max((a * a).sum(), 1e-9))
    return scale, R, md - scale * R @ ms


def expression_offsets(rest_face: np.ndarray, ref_face: np.ndarray, present: np.ndarray) -> np.ndarray | None:
    """Per frame, where each of the character's face landmarks moves with the reference's expression.

    Parameters
    ----------
    rest_face : ndarray, (>=468, 2)
        The character's face landmarks in its image (pixels).
    ref_face : ndarray, (T, >=468, 2|3)
        The reference's face landmarks per frame (pixels, depth scaled like x; NaN where no face was
        found). With depth, each frame is aligned to the neutral face by the 3D similarity of its
        stable landmarks, which takes out the head's turn in depth as well (a face turned 30 degrees
        shows its far cheek and jaw narrowed, which a 2D alignment leaves as "expression"), and the
        expression fades out between :data:`TURN_FADE` degrees of turn from the neutral face (a
        mesh seen from the side guesses its far half); without depth, by the 2D affine map.
    present : ndarray, (T,) bool
        Frames whose face was found.

    Returns
    -------
    ndarray, (T, 468, 2) float32, or None
        Offsets in the character image's pixels, added to ``rest_face[:468]``; zero on the
        reference's face whose expression is most like the image's (:func:`neutral_frame`; the
        first frame, in a self-reenactment), carried linearly across frames without a face and held
        before the first and after the last. None when the reference shows no face or either face
        is degenerate.
    """
    rest = np.asarray(rest_face, np.float64)[:MESH, :2]
    full = np.asarray(ref_face, np.float64)[:, :MESH]
    ref = full[..., :2]
    ok = np.asarray(present, bool) & np.isfinite(ref).all(axis=(1, 2))
    if not ok.any() or not np.isfinite(rest).all():
        return None
    depth = full.shape[2] >= 3 and bool(np.isfinite(full[ok]).all())
    T = len(ref)
    st = list(STABLE)
    first = neutral_frame(rest, ref, ok)
    ref0 = ref[first]
    iod_ref, iod = eye_distance(ref0), eye_distance(rest)
    if iod_ref < 4.0 or iod < 4.0:
        return None
    s_rc, R_rc, _ = _umeyama(ref0[st], rest[st])
    M = s_rc * R_rc  # the reference's neutral face -> the character's, linear part
    off = np.zeros((T, MESH, 2), np.float64)
    for t in np.flatnonzero(ok):
        if depth:
            s, R, tr = _umeyama(full[t][st], full[first][st])
            aligned = (s * full[t] @ R.T + tr)[:, :2]
            turn = np.degrees(np.arccos(np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)))
            keep = 1.0 - np.clip((turn - TURN_FADE[0]) / (TURN_FADE[1] - TURN_FADE[0]), 0.0, 1.0)
        else:
            A = _affine_fit(ref[t][st], ref0[st])
            aligned = np.c_[ref[t], np.ones(MESH)] @ A
            keep = 1.0
        off[t] = keep * (aligned - ref0) @ M.T
    # frames without a face: carried linearly between their neighbours, held at the ends
    idx = np.flatnonzero(ok)
    if len(idx) < T:
        flat = off.reshape(T, -1)
        for j in range(flat.shape[1]):
            flat[:, j] = np.interp(np.arange(T), idx, flat[idx, j])
    if T > 2:
        off = gaussian_filter1d(off, SMOOTH_SIGMA, axis=0, mode="nearest")
    d = np.full(MESH, np.inf)
    for j in EXPRESSIVE:
        d = np.minimum(d, np.linalg.norm(rest - rest[j], axis=1))
    off *= np.exp(-(d / (REACH * iod)) ** 2)[None, :, None]
    n = np.linalg.norm(off, axis=2, keepdims=True)
    cap = MAX_OFFSET * iod
    off = np.where(n > cap, off * (cap / np.maximum(n, 1e-9)), off)
    return off.astype(np.float32)
