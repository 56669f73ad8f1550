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

The head's turn in depth (:func:`head_turns`), which the body's 2D head bone cannot show (it turns
the head only in the picture's plane, about the neck), turns the character's face mesh in 3D about
the ears' axis and projects it back: the nose and the mouth slide towards the turn and the far cheek
narrows, while the head's outline and hair stay where the bone puts them. The rotation is the 3D
similarity of the stable landmarks, the image's face to the reference's in each frame (the pose of
a face mesh, as in Face2Face's reenactment by a face model, Thies et al. 2016), less its twist in
the picture's plane; its nod is counted from the reference's first frame, and it is held to
:data:`MAX_TURN` (less towards a three-quarter face's hidden cheek): a picture has no far cheek to
show.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

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
#: The head's turn in depth is carried up to this many degrees about the face's horizontal axis (a
#: nod) and its vertical axis (a turn aside), within the ellipse they span, its direction kept: more
#: would have to show what the picture does not (the far cheek, the top of the head, under the chin);
#: a face nodding 30 degrees had its eyes and mouth pressed down against its chin.
MAX_TURN = (12.0, 25.0)
#: A face turned aside by its own angle a in the image turns towards the cheek it hides by
#: MAX_TURN's turn aside less this many times a at most.
HIDDEN_SIDE = 1.5
#: The turn fades out towards the face's outline over this share of the eyes' distance.
OUTLINE_FADE = 0.3
#: Frames turned at a time (:func:`turn_faces`).
TURN_CHUNK = 256
#: The face turns about the midpoint of these landmarks (its outline at the ears' height).
PIVOT = (234, 454)
#: No landmark moves farther than this share of the eyes' distance (a mesh thrown off by a hand
#: over the face).
MAX_OFFSET = 0.6
#: The eyes' contours (MediaPipe face mesh, lid margins in order round each eye): the picture's left
#: eye (the person's right, corners 33 and 133) first.
EYES = ((33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
        (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382))
#: Per eye (in :data:`EYES`' order): its corners (the picture's left one first), its lids' middles
#: (upper, lower), its iris's centre and the iris's ring (the refined face mesh's 478 landmarks).
EYE_CORNERS = ((33, 133), (362, 263))
EYE_LIDS = ((159, 145), (386, 374))
IRISES = ((468, (469, 470, 471, 472)), (473, (474, 475, 476, 477)))
#: The refined mesh's landmark count: the 468 and the irises' ten.
MESH_IRISES = 478
#: An eye counts as shut (its iris not read; the gaze carried across) while its lids part by less
#: than this share of their median parting over the clip (a blink throws the iris's landmarks about).
GAZE_SHUT = 0.55
#: The gaze over time: a running median over this many frames (a blink's first and last frames,
#: the lids half shut, throw the iris's landmarks by a fifth of the eye's width; a saccade is a
#: step, which a median keeps), then zero-phase Gaussian smoothing (sigma, frames: the landmarks
#: jitter by 2-3 % of the eye's width; a saccade takes 1-2 frames).
GAZE_MEDIAN, GAZE_SIGMA = 5, 1.0
#: The iris moves from its place in the image by at most these shares of the eye's width along the
#: eye and across it (an ellipse): more would slide it under a corner or a lid.
MAX_GAZE = (0.22, 0.12)
#: The eyeball's radius in shares of the eye's width (corner to corner): about 12 mm against 30 mm
#: (the adult eye's axial length, Bekerman et al. 2014; the palpebral fissure's width).
EYEBALL_RADIUS = 0.4


def affine_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
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


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
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
    s_rc, R_rc, _ = umeyama(ref0[st], rest[st])
    M = s_rc * R_rc  # the reference's neutral face -> the character's, linear part
    off = np.zeros((T, MESH, 2), np.float64)
    for t in np.flatnonzero(ok):
        if depth:
            s, R, tr = umeyama(full[t][st], full[first][st])
            aligned = (s * full[t] @ R.T + tr)[:, :2]
            turn = np.degrees(np.arccos(np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)))
            keep = 1.0 - np.clip((turn - TURN_FADE[0]) / (TURN_FADE[1] - TURN_FADE[0]), 0.0, 1.0)
        else:
            A = affine_fit(ref[t][st], ref0[st])
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


def _eye_frames(face: np.ndarray) -> np.ndarray:
    """Per eye (:data:`EYE_CORNERS`), its frame in the picture, ``(..., 2, 3, 2)``: the corners'
    midpoint, the unit vector from the picture's left corner to its right one and the unit vector
    across it (pointing down the picture for an upright face)."""
    f = np.asarray(face, np.float64)[..., :2]
    out = []
    for a, b in EYE_CORNERS:
        p, q = f[..., a, :], f[..., b, :]
        ax = (q - p) / np.maximum(np.linalg.norm(q - p, axis=-1, keepdims=True), 1e-9)
        out.append(np.stack([(p + q) / 2, ax, np.stack([-ax[..., 1], ax[..., 0]], axis=-1)], axis=-2))
    return np.stack(out, axis=-3)


def gaze_offsets(rest_face: np.ndarray, ref_face: np.ndarray, present: np.ndarray,
                 shown_turns: np.ndarray | None = None) -> np.ndarray | None:
    """Per frame, how far each of the character's irises moves within its eye with the reference's
    gaze: ``(T, 2, 2)`` float32, the picture's left eye first, in the character image's pixels.

    The reference's face in each frame is aligned to its neutral one (:func:`neutral_frame`, the
    expressions' own) by the 3D similarity of the stable landmarks (Umeyama 1991), which takes the
    head's turn out of it; what is left of each iris centre's place relative to its eye's corners,
    along the eye and across it in shares of the eye's width, is where the eye looks in the head
    (the iris-to-eye-corner gaze feature of appearance-free gaze estimation, e.g. Hansen & Ji 2010's
    survey; MediaPipe's iris model, Ablavatski et al. 2020, gives the centre). Each eye is read on
    its own (a face crossing its eyes turns them towards each other), relative to the neutral
    frame, as the expressions are, and carried into the character's eye along its own corners'
    axis, scaled by its width. While an eye is shut (:data:`GAZE_SHUT`) its iris is not read and the
    gaze is carried across; it is filtered with zero phase (:data:`GAZE_MEDIAN`) and held to
    :data:`MAX_GAZE`.

    With ``shown_turns`` ((T, 2), the character's head's turn in depth as it is drawn,
    :func:`head_turns`), the eyes turn on by as much as the drawn head turns less than the
    reference's from its neutral face (an eyeball of :data:`EYEBALL_RADIUS` turned by the
    difference): a dancer who turns her head 45 degrees while looking at the camera turns her
    eyes back in her head by as much, and a character whose head is held to 25 degrees looks at the
    camera with its eyes turned back by 25, not sideways (the eyes turning against the head's turn
    as the vestibulo-ocular reflex turns them, so the gaze holds in the picture's frame). None when
    either face lacks the irises (468 landmarks only) or the reference shows no face.
    """
    rest = np.asarray(rest_face, np.float64)
    full = np.asarray(ref_face, np.float64)
    if rest.shape[0] < MESH_IRISES or full.shape[1] < MESH_IRISES or not np.isfinite(rest[:MESH_IRISES, :2]).all():
        return None
    full = full[:, :MESH_IRISES]
    ok = np.asarray(present, bool) & np.isfinite(full[..., :2]).all(axis=(1, 2))
    if not ok.any() or eye_distance(rest) < 4.0:
        return None
    depth = full.shape[2] >= 3 and bool(np.isfinite(full[ok]).all())
    T = len(full)
    st = list(STABLE)
    neutral = neutral_frame(rest[:MESH, :2], full[:, :MESH, :2], ok)
    base = full[neutral]
    dims = 3 if depth else 2
    frame0 = _eye_frames(base)
    width0 = np.array([np.linalg.norm(base[b, :2] - base[a, :2]) for a, b in EYE_CORNERS])
    if width0.min() < 2.0:
        return None
    g = np.full((T, 2, 2), np.nan)
    turned = np.zeros((T, 2))  # the reference's head's turn in depth from its neutral face
    for t in np.flatnonzero(ok):
        s, R, tr = umeyama(full[t][st, :dims], base[st, :dims])
        if depth and shown_turns is not None:
            turned[t] = _swing(R.T)
        aligned = (s * full[t][:, :dims] @ R.T + tr)[:, :2]
        mid = _eye_frames(aligned)[:, 0]
        for e, (c, _) in enumerate(IRISES):
            d = aligned[c] - mid[e]
            g[t, e] = (d @ frame0[e, 1], d @ frame0[e, 2])
    g /= width0[None, :, None]
    # an eye shut (a blink, a squint) hides its iris: carried across from the frames around it
    parting = np.stack([np.linalg.norm(full[:, lo, :2] - full[:, up, :2], axis=-1) for up, lo in EYE_LIDS], axis=1)
    parting /= np.maximum(np.linalg.norm(full[:, 263, :2] - full[:, 33, :2], axis=-1), 1e-9)[:, None]
    for e in range(2):
        seen = ok & np.isfinite(g[:, e, 0])
        if not seen.any():
            return None
        seen &= parting[:, e] >= GAZE_SHUT * np.median(parting[ok, e])
        if not seen.any():
            return None
        idx = np.flatnonzero(seen)
        for j in range(2):
            g[:, e, j] = np.interp(np.arange(T), idx, g[idx, e, j])
    if T > 2:
        g = median_filter(g, size=(min(GAZE_MEDIAN, T), 1, 1), mode="nearest")
        g = gaussian_filter1d(g, GAZE_SIGMA, axis=0, mode="nearest")
    g -= g[neutral][None]
    fr = _eye_frames(rest)
    if shown_turns is not None and depth:
        idx = np.flatnonzero(ok)
        for j in range(2):
            turned[:, j] = np.interp(np.arange(T), idx, turned[idx, j])
        if T > 2:
            turned = gaussian_filter1d(turned, SMOOTH_SIGMA, axis=0, mode="nearest")
        # what the drawn head does not turn, the eyes turn: a point on the eyeball's front moves by
        # radius * (-v1, v0) under a small swing v (turn_faces' rotation), in eyes' widths
        miss = turned - np.asarray(shown_turns, np.float64)
        more = EYEBALL_RADIUS * np.stack([-miss[:, 1], miss[:, 0]], axis=1)
        g += np.stack([np.stack([more @ fr[e, 1], more @ fr[e, 2]], axis=1) for e in range(2)], axis=1)
    r = np.linalg.norm(g / np.asarray(MAX_GAZE), axis=2, keepdims=True)
    g = np.where(r > 1.0, g / np.maximum(r, 1e-12), g)
    # into the character's eyes: along and across each of its own eyes, times its width
    width = np.array([np.linalg.norm(rest[b, :2] - rest[a, :2]) for a, b in EYE_CORNERS])
    off = (g[..., 0:1] * fr[None, :, 1] + g[..., 1:2] * fr[None, :, 2]) * width[None, :, None]
    return off.astype(np.float32)


def _swing(R: np.ndarray) -> np.ndarray:
    """The part of rotation ``R`` that turns the face in depth, in the face's own frame: with ``R =
    T S`` (``S`` first, ``T`` a twist about the view axis, the turn in the picture's plane, which
    the head bone gives), the 2-vector ``theta * axis`` of ``S`` (its axis lies in the picture's
    plane; swing-twist decomposition). ``S`` is the least rotation that takes the view axis to where
    ``R``'s inverse takes it, inverted."""
    m = R[2, :]  # R^T e_z
    k = np.array([m[1], -m[0]])  # -(e_z x m)
    sin = float(np.hypot(*k))
    if sin < 1e-9:
        return np.zeros(2)
    return k / sin * float(np.arctan2(sin, m[2]))


def _rotation(v: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` of swing vectors ``(..., 2)`` (:func:`_swing`), Rodrigues'
    formula."""
    v = np.asarray(v, np.float64)
    theta = np.linalg.norm(v, axis=-1)
    k = np.where(theta[..., None] > 1e-12, v / np.maximum(theta, 1e-12)[..., None], 0.0)
    K = np.zeros(v.shape[:-1] + (3, 3))
    K[..., 0, 2], K[..., 1, 2] = k[..., 1], -k[..., 0]
    K[..., 2, 0], K[..., 2, 1] = -k[..., 1], k[..., 0]
    s, c = np.sin(theta)[..., None, None], np.cos(theta)[..., None, None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


def head_turns(rest_face: np.ndarray, ref_face: np.ndarray, present: np.ndarray) -> np.ndarray | None:
    """Per frame, the head's turn in depth to give the character: swing vectors ``(T, 2)`` (radians
    times the axis in the picture's plane, in the face's own frame; :func:`turn_faces` applies them).

    The turn aside (about the face's vertical axis) is the reference's facing in each frame, taken
    absolutely: the 3D similarity (Umeyama 1991) of the stable landmarks, the image's face onto the
    reference's, so a frontal character faces the camera where the reference does, whatever the
    reference's first frame showed (a dancer who starts with her face turned 25 degrees). The nod
    (about its horizontal axis) is the reference's from its first frame with a face (the same
    similarity's, less the first frame's), as LivePortrait's relative driving takes the driving
    video's motion from its first frame (Guo et al. 2024): taken absolutely, two people's different face shapes (brow, chin) tipped one face up
    by 10 degrees. A self-reenactment's first frame turns neither way. The twist in the picture's
    plane is left out (the head bone turns the head there), the turn is held to :data:`MAX_TURN`
    and, for a face the image shows turned aside, towards the cheek it hides to less
    (:data:`HIDDEN_SIDE`, :func:`facing`); it is carried linearly across frames without a face and
    smoothed with zero phase as the expressions are. None without depth in either face or without
    a face in the reference.
    """
    rest = np.asarray(rest_face, np.float64)[:MESH]
    full = np.asarray(ref_face, np.float64)[:, :MESH]
    if rest.shape[1] < 3 or full.shape[2] < 3 or not np.isfinite(rest).all():
        return None
    ok = np.asarray(present, bool) & np.isfinite(full).all(axis=(1, 2))
    if not ok.any() or eye_distance(rest) < 4.0:
        return None
    st = list(STABLE)
    T = len(full)
    v = np.zeros((T, 2))
    idx = np.flatnonzero(ok)
    for t in idx:
        v[t] = _swing(umeyama(rest[st], full[t][st])[1])
    v[idx, 0] -= v[idx[0], 0]  # the nod from the first frame's
    for j in range(2):
        v[:, j] = np.interp(np.arange(T), idx, v[idx, j])
    if T > 2:
        v = gaussian_filter1d(v, SMOOTH_SIGMA, axis=0, mode="nearest")
    cap = np.radians(MAX_TURN)
    r = np.linalg.norm(v / cap, axis=1, keepdims=True)
    v = np.where(r > 1.0, v / np.maximum(r, 1e-12), v)
    # a face the image shows turned (a three-quarter view) turns towards the cheek it hides by
    # MAX_TURN less 1.5 times its own turn at most: that cheek, foreshortened to a sliver between the
    # nose and the outline (which stays), would be stretched over the face
    own = facing(rest)
    towards = v[:, 1] * np.sign(own) > 0
    room = max(cap[1] - HIDDEN_SIDE * abs(own), 0.0)
    v[:, 1] = np.where(towards, np.clip(v[:, 1], -room, room), v[:, 1])
    return v


def facing(face: np.ndarray) -> float:
    """The face's turn about its vertical axis from facing the camera (radians; positive when its
    left side, landmark 454's, is farther from the camera than its right): the depth across the
    face's outline, eyes and upper cheeks (pairs 234-454, 33-263, 127-356), as an angle."""
    f = np.asarray(face, np.float64)
    d = sum(f[b] - f[a] for a, b in ((234, 454), (33, 263), (127, 356)))
    return float(np.arctan2(d[2], d[0]))


def turn_faces(rest_face: np.ndarray, offsets: np.ndarray | None, turns: np.ndarray | None,
               weight: np.ndarray, gaze: np.ndarray | None = None) -> np.ndarray:
    """The character's face landmarks per frame, ``(T, 468, 3)``, or ``(T, 478, 3)`` with the irises
    when ``rest_face`` has them (x, y in the image's pixels, depth scaled like x): the image's own
    (``rest_face``, (468+, 3)) moved by the expression ``offsets`` ((T, 468, 2),
    :func:`expression_offsets`; an iris moves with its eye's contour, and within it by ``gaze``,
    (T, 2, 2), :func:`gaze_offsets`) and turned in depth by ``turns`` ((T, 2), :func:`head_turns`)
    about :data:`PIVOT`'s midpoint, projected orthographically, all scaled by ``weight`` ((T,), 0:
    the image's face, 1: the reference's motion in full)."""
    rest = np.asarray(rest_face, np.float64)
    irises = rest.shape[0] >= MESH_IRISES and bool(np.isfinite(rest[:MESH_IRISES]).all())
    rest = rest[:MESH_IRISES if irises else MESH]
    if rest.shape[1] < 3:
        rest = np.c_[rest[:, :2], np.zeros(len(rest))]
    w = np.asarray(weight, np.float64)
    out = np.empty((len(w), len(rest), 3), np.float32)
    if turns is not None:
        pivot = rest[list(PIVOT)].mean(axis=0)
        # the outline stays where the head bone puts it (the picture has no side of the head to show
        # beyond it, and an outline moved in bares the background behind the cheek): the turn fades
        # out towards it
        fade = _outline_fade(rest[:, :2])[None, :, None]
    for a in range(0, len(w), TURN_CHUNK):  # a few hundred frames at a time: memory stays flat
        wa = w[a:a + TURN_CHUNK]
        faces = np.repeat(rest[None], len(wa), axis=0)
        if offsets is not None:
            off = np.asarray(offsets[a:a + TURN_CHUNK], np.float64)
            if irises:
                # each iris (centre and ring) moves with its eye's contour, and within it by the gaze
                eye = np.stack([off[:, list(c)].mean(axis=1) for c in EYES], axis=1)
                if gaze is not None:
                    eye = eye + np.asarray(gaze[a:a + TURN_CHUNK], np.float64)
                off = np.concatenate([off, np.repeat(eye, 5, axis=1)], axis=1)
            faces[..., :2] += off * wa[:, None, None]
        if turns is not None:
            R = _rotation(np.asarray(turns[a:a + TURN_CHUNK], np.float64) * wa[:, None])
            turned = pivot + np.einsum("tij,tnj->tni", R, faces - pivot)
            faces[..., :2] += (turned[..., :2] - faces[..., :2]) * fade
            faces[..., 2] = turned[..., 2]
        out[a:a + TURN_CHUNK] = faces
    return out


def _outline_fade(face: np.ndarray) -> np.ndarray:
    """Per landmark, how much of the head's turn it shows: 0 on the face's outline, rising smoothly
    to 1 at :data:`OUTLINE_FADE` eyes' distances inside it."""
    oval = np.round(face[list(FACE_OVAL)] * 8).astype(np.int32).reshape(-1, 1, 2)
    d = np.array([cv2.pointPolygonTest(oval, (float(x) * 8, float(y) * 8), True) / 8 for x, y in face])
    u = np.clip(d / (OUTLINE_FADE * eye_distance(face)), 0.0, 1.0)
    return u * u * (3 - 2 * u)
