"""The motion plan: per output frame, where the character's joints go, how it is layered, and the camera.

:func:`plan_motion` retargets a reference :class:`~steadymotion.types.PoseSequence` onto a
character's :class:`~steadymotion.types.RestPose` by joint-angle transfer (each bone keeps the
character's own length, scaled by the reference's foreshortening), in one of two orientation
modes, with keyframes at both ends, feet pinned during the reference's ground contacts
(:mod:`.feet`), a draw order (:mod:`.layering`) and the camera from the reference or from prompt
directives (:mod:`.directives`). The plan knows nothing of how it will be rendered. It is small (a
few floats per joint per frame) and computed whole; frames are rendered from it one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter1d, median_filter, uniform_filter1d

from steadymotion.errors import NoPersonError
from steadymotion.motion.directives import CameraDirectives, camera_path
from steadymotion.motion.feet import find_contacts, hold_planted_feet
from steadymotion.motion.kinematics import (
    Params, RestShape, blend, fill_missing, fit_base, forward, full_length, measure, repeat, smoothstep, wrap,
)
from steadymotion.motion.layering import draw_order
from steadymotion.skeleton import ARM_EDGE_MARGIN, KP, LIMB, LIMBS, PART, VISIBLE, cut_by_frame, keypoint_visibility, keypoints_from_body, mirrored
from steadymotion.types import PoseSequence, RestPose
from steadymotion.vocab import Orientation

#: Seconds over which the first frame (the image itself) blends into the reference motion.
START_BLEND_S = 0.6
#: Seconds over which the clip blends into the end image's pose.
END_BLEND_S = 1.0

_RIGID = np.array([limb.rigid for limb in LIMBS])
#: Left <-> right limb permutation (a reference seen from behind drives the mirrored limbs).
_SWAP = np.array([LIMB[mirrored(limb.name)] for limb in LIMBS])


@dataclass
class MotionPlan:
    """Per output frame: target keypoints, body scale, draw order and background camera.

    Attributes
    ----------
    keypoints : ndarray, (T, K, 2) float32
        Target puppet keypoints in output pixels (camera applied).
    scale : ndarray, (T,)
        Output pixels per master-image pixel across the body.
    order : ndarray, (T, P) int8
        Part indices back to front.
    camera : ndarray, (T, 2, 3)
        Affine applied to the background (output pixels of the rest framing -> output pixels).
    times : ndarray, (T,)
    fps : Fraction
    size : (width, height)
    base : ndarray, (2, 3)
        Master-image pixels -> output pixels of the rest framing.
    back_facing, contact : ndarray, (T,) bool and (T, 2) bool
        Frames where the reference shows its back (mirrored, see notes); feet pinned (left, right).
    face : ndarray, (T, 478, 3) float32, optional
        The character's face landmarks (MediaPipe's refined mesh, its irises last; 468 where the image's
        face has no irises) with the reference's expression, gaze and its head's turn in depth,
        in master-image pixels (before the head's own motion in the picture's plane; depth scaled
        like x, the nearer the smaller): :func:`steadymotion.motion.face.turn_faces`. None when the
        image or the reference shows no face.
    head_roll : ndarray, (T,) float32, optional
        How much more the head turns in the picture's plane than its bone (radians): the reference
        face's own roll (:func:`_head_roll`). None when the reference shows no face.
    """

    keypoints: np.ndarray
    scale: np.ndarray
    order: np.ndarray
    camera: np.ndarray
    times: np.ndarray
    fps: Fraction
    size: tuple[int, int]
    base: np.ndarray
    back_facing: np.ndarray
    contact: np.ndarray
    notes: list[str] = field(default_factory=list)
    face: np.ndarray | None = None
    head_roll: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.keypoints)


def plan_motion(
    rest: RestPose,
    motion: PoseSequence,
    *,
    size: tuple[int, int],
    orientation: Orientation | str = Orientation.VIDEO,
    directives: CameraDirectives | None = None,
    camera_track: np.ndarray | None = None,
    end_pose: PoseSequence | None = None,
    end_size: tuple[int, int] | None = None,
    pin_feet: bool = True,
    base: np.ndarray | None = None,
    start_blend_s: float = START_BLEND_S,
) -> MotionPlan:
    """Retarget ``motion`` onto the character at ``rest`` for an output of ``size``.

    Parameters
    ----------
    rest : RestPose
        The character's joints in its image and the parts the image shows (``Rig.rest_pose`` for
        the puppet backend).
    orientation : Orientation or {"video", "image"}
        ``video``: position, scale, body rotation (and, with ``camera_track``, the camera) follow the
        reference. ``image``: the character keeps the image's position, scale and facing; only the
        articulation (and the torso's lean) moves.
    directives : CameraDirectives
        From the prompt; a static directive removes the reference camera's motion from the person.
    camera_track : ndarray, (T, 2, 3), optional
        The reference's camera path (:func:`steadymotion.perception.camera.track_camera`).
    end_pose : PoseSequence, optional
        Landmarks of an end image (1 frame, its pixels; ``end_size`` its size): the clip blends into
        that pose over the last :data:`END_BLEND_S` seconds.
    pin_feet : bool
        Hold planted feet (:func:`steadymotion.motion.feet.hold_planted_feet`).
    base : ndarray, (2, 3), optional
        Where the character stands at rest: master-image pixels -> output pixels. Default: the image
        fitted to the output (:func:`~steadymotion.motion.kinematics.fit_base`); replace mode puts
        it on the reference person (:func:`replace_base`).
    start_blend_s : float
        Seconds over which the image's own pose blends into the reference motion (0: the
        reference's pose from the first frame, as replace mode needs).

    Notes
    -----
    Joint-angle retargeting as in motion retargeting for articulated figures (Gleicher 1998,
    "Retargetting motion to new characters"), reduced to 2D: every bone keeps the reference's
    direction relative to its parent and the character's own full length (its image length over
    the image's foreshortening, :class:`Foreshortening`) times the reference's foreshortening
    (scale-free length / its 90th-percentile). Foot contacts are found where a
    reference ankle is slow and near the lowest foot, and the root is shifted so the planted foot
    stays put (Kovar, Schreiner & Gleicher 2002, "Footskate cleanup").
    """
    orientation = Orientation.parse(orientation)
    directives = directives or CameraDirectives()
    T = len(motion)
    ok = motion.body_present.copy()
    if not ok.any():
        raise NoPersonError("the motion video shows no person; use a clip with one clearly visible person")
    base = fit_base(rest.size, size) if base is None else np.asarray(base, np.float64)
    s0 = float(np.sqrt(abs(np.linalg.det(base[:, :2]))))
    rest_shape = RestShape.from_keypoints(rest.keypoints[:, :2] @ base[:, :2].T + base[:, 2], s0)
    fps = float(motion.fps)
    t = motion.times - motion.times[0]
    notes: list[str] = []

    r = _read_reference(motion, ok, notes, follow_size=orientation is Orientation.VIDEO)
    ref_kp, vis, ref, back, lvis = r.kp, r.vis, r.params, r.back, r.lvis
    retargeted, fs = _retarget(rest_shape.params, ref, lvis, ok, motion, orientation, back, notes, r.rel, _shown(rest))
    _follow_edge_wrists(retargeted, rest_shape, r, ok, motion.size[1], _edge_sides(rest), fps)
    start_w = smoothstep(t / start_blend_s) if start_blend_s > 0 else np.ones(T)
    params = blend(repeat(rest_shape.params, T), retargeted, start_w)
    end_w = None
    if end_pose is not None:
        end_w = _end_weights(t)
        params = blend(params, repeat(_end_params(end_pose, end_size or rest.size, size, rest_shape.params, s0), T), end_w)
    kp = forward(params, rest_shape)

    contact = np.zeros((T, 2), bool)
    if pin_feet and rest.has("foot_l") and rest.has("foot_r"):
        contact = find_contacts(ref_kp, vis, ref.torso_len, ok, fps)
        # a foot the reference keeps planted from its first frame stays on the image's spot through
        # the blend into the reference's pose (it slid 5-10 px on musepose's self-reenactment, the
        # caption lying over the shoe sliding with it); one that lands during the blend is held from
        # the end of the blend, as the blended pose has not reached the reference's there
        blend_end = max(1, int(np.searchsorted(t, start_blend_s)))
        for k in range(2):
            held = bool(contact[0, k]) and start_blend_s > 0
            first = (int(np.argmin(contact[:, k])) or len(contact)) if held else 0  # the first contact's end
            contact[first:blend_end, k] = False
        if end_w is not None:
            # the last second walks into the end image's stance: its feet are placed by the keyframe
            contact[end_w > 0] = False
        kp = hold_planted_feet(kp, contact)

    # the face's own motion blends in from the image as the body does and out into an end image
    face_w = start_w * (1.0 if end_w is None else 1.0 - end_w)
    kp, cam_bg, scale_out = _camera(kp, params.scale, ref, rest_shape.params, orientation, directives, camera_track,
                                    size, notes, fs.root_gain(rest_shape.params.torso_len[0]))
    order = draw_order(ref_kp[..., 2].copy(), back, ok, ref.torso_len)
    return MotionPlan(
        keypoints=kp.astype(np.float32), scale=scale_out, order=order, camera=cam_bg,
        times=motion.times.copy(), fps=motion.fps, size=(int(size[0]), int(size[1])), base=base,
        back_facing=back, contact=contact, notes=notes,
        face=_expressions(rest, motion, back, face_w),
        head_roll=_head_roll(motion, ref, ok & ~back, face_w),
    )


def _face_from_first(motion: PoseSequence, ok: np.ndarray) -> tuple[np.ndarray, list]:
    """The frames (within ``ok``) where the reference shows a whole face mesh and, for each, the 2D
    similarity ``(s, R, t)`` of its stable landmarks from the first of them (Umeyama 1991): the
    face's motion from its first frame, which the head's roll (:func:`_head_roll`) and its joint
    (:func:`_head_on_face`) are driven by."""
    from steadymotion.motion.face import MESH, STABLE, umeyama

    F = np.asarray(motion.face, np.float64)[:, :MESH, :2]
    idx = np.flatnonzero(motion.face_present & ok & np.isfinite(F).all(axis=(1, 2)))
    st = list(STABLE)
    return idx, [umeyama(F[idx[0]][st], F[t][st]) for t in idx]


#: The most the head turns in the picture's plane beyond its bone (radians), and the zero-phase
#: smoothing of that turn over time (Gaussian sigma, frames).
HEAD_ROLL_MAX = np.radians(30.0)
HEAD_ROLL_SIGMA = 1.0


def _head_roll(motion: PoseSequence, ref: Params, ok: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """Per frame, how much more the head turns in the picture's plane than its bone (radians): the
    reference face's own turn there, the 2D similarity (Umeyama 1991) of its stable landmarks from
    the first frame with a face, less the turn of the line from the neck to the ears' midpoint
    (which the head bone follows). A dancer tilting her head rolls her face 45 degrees while that
    line turns 20 (musepose: 14 degrees apart at the median); a head leaning without rolling moves
    the line alone. Zero on the first frame with a face (a self-reenactment's face turns as the real
    one from its first frame), carried across frames without a face, smoothed with zero phase,
    held to :data:`HEAD_ROLL_MAX` and scaled by ``weight`` (the blends from the image and into an
    end image). None when the reference shows no face."""
    if motion.face is None:
        return None
    idx, fits = _face_from_first(motion, ok)
    if len(idx) < 2:
        return None
    bone = ref.torso_angle + ref.head_rel
    d = np.zeros(len(motion))
    for t, (_, R, _) in zip(idx, fits):
        d[t] = np.arctan2(R[1, 0], R[0, 0]) - (bone[t] - bone[idx[0]])
    d = wrap(d)
    d = np.interp(np.arange(len(d)), idx, d[idx])
    if len(d) > 2:
        d = gaussian_filter1d(d, HEAD_ROLL_SIGMA, mode="nearest")
    return (np.clip(d, -HEAD_ROLL_MAX, HEAD_ROLL_MAX) * np.asarray(weight, np.float64)).astype(np.float32)


def _expressions(rest: RestPose, motion: PoseSequence, back: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """The character's face landmarks per frame with the reference's expression
    (:func:`steadymotion.motion.face.expression_offsets`), gaze
    (:func:`~steadymotion.motion.face.gaze_offsets`) and its head's turn in depth
    (:func:`~steadymotion.motion.face.head_turns`), scaled by ``weight`` (the blends from the
    image's own face and into an end image's); frames that show the reference's back show no
    expression and carry the turn across them."""
    from steadymotion.motion.face import expression_offsets, gaze_offsets, head_turns, turn_faces

    if rest.face is None:
        return None
    seen = motion.face_present & ~back
    off = expression_offsets(rest.face, motion.face, seen)
    if off is None:
        return None
    turns = head_turns(rest.face, motion.face, seen)
    return turn_faces(rest.face, off, turns, weight, gaze_offsets(rest.face, motion.face, seen, turns))


def replace_base(rest: RestPose, motion: PoseSequence, size: tuple[int, int],
                 orientation: Orientation | str = Orientation.VIDEO) -> np.ndarray:
    """Master-image pixels -> reference-frame pixels that put the character on the reference person.

    The character's rest pelvis lands on the reference's pelvis in its first frame with a body;
    ``video`` orientation gives it the reference person's size (rest torso length = the reference's
    unforeshortened torso length, :func:`~steadymotion.motion.kinematics.full_length`), ``image``
    keeps the size the character has in its own image fitted to the frame (``size``).
    """
    orientation = Orientation.parse(orientation)
    ok = motion.body_present
    if not ok.any():
        raise NoPersonError("the motion video shows no person; use a clip with one clearly visible person")
    r = _read_reference(motion, ok, [])
    ref = r.params
    rk = rest.keypoints[:, :2].astype(np.float64)
    rest_torso = float(np.linalg.norm(rk[KP["neck"]] - rk[KP["pelvis"]]))
    if orientation is Orientation.VIDEO:
        # the character's full torso (its image's over the image's foreshortening) at the
        # reference's full torso, as the plan will draw it
        fs = _foreshortening(measure(rk[None]), ref, r.lvis, ok, r.rel, r.back, _shown(rest))
        s = fs.full_torso * fs.image["torso"] / max(rest_torso, 1e-6)
    else:
        s = float(fit_base(rest.size, size)[0, 0])
    at = ref.root[int(np.flatnonzero(ok)[0])]
    return np.array([[s, 0.0, at[0] - s * rk[KP["pelvis"], 0]], [0.0, s, at[1] - s * rk[KP["pelvis"], 1]]])


@dataclass
class _Reference:
    """The reference motion read for retargeting (see :func:`_read_reference`)."""

    kp: np.ndarray  # (T, K, 3) keypoints, gaps filled
    vis: np.ndarray  # (T, K) visibility; 0 where absent or cut by the frame's edge
    seen: np.ndarray  # (T, K) visibility; 0 where absent (the frame's edge band kept)
    params: Params  # measured pose; hidden hips held (:func:`_hold_hidden_hips`)
    back: np.ndarray  # (T,) frames showing the back (limbs swapped, :func:`_back_facing`)
    lvis: np.ndarray  # (T, len(LIMBS)) limb visibility
    rel: np.ndarray  # (T,) size against the first frame (:func:`_size_ratio`)


def _read_reference(motion: PoseSequence, ok: np.ndarray, notes: list[str], follow_size: bool = True) -> _Reference:
    """Keypoints, visibility, pose parameters, back-facing frames and size of the reference
    (``follow_size=False``: held at 1, for image orientation and motion captures)."""
    body = fill_missing(motion.body, ok)
    kp = keypoints_from_body(body)
    kp[:, KP["head"], :2] = _head_on_face(kp[:, KP["head"], :2], motion, ok)
    vis = keypoint_visibility(body)
    vis[~ok] = 0.0
    seen = vis.copy()
    # arms at the reference frame's edge are cut by it: their direction there is a guess
    vis[cut_by_frame(kp[..., :2], motion.size)] = 0.0
    ref = measure(kp)
    back, lvis = _back_facing(ref, vis, ok, float(motion.fps), notes)
    hips_seen = vis[:, KP["pelvis"]] >= VISIBLE
    # a motion capture is drawn at one scale (no camera distance to follow): its shoulders widening
    # as the clavicles lift must not read as the person coming nearer
    follow_size = follow_size and "bvh" not in motion.meta
    rel = _size_ratio(ref, ok, motion, hips_seen) if follow_size else np.ones(len(ref))
    _hold_hidden_hips(ref, kp[:, KP["neck"], :2], hips_seen, ok, rel)
    return _Reference(kp, vis, seen, ref, back, lvis, rel)


#: Where the reference's head joint is put between the ears' midpoint (0) and that point carried by
#: the face mesh (1); seconds over which the face's share fades in and out where the face is lost.
HEAD_ON_FACE = 0.5
HEAD_ON_FACE_FADE_S = 0.25


def _head_on_face(head: np.ndarray, motion: PoseSequence, ok: np.ndarray) -> np.ndarray:
    """The reference's head joint, ``(T, 2)``: half-way (:data:`HEAD_ON_FACE`) from the ears'
    midpoint the pose model gives to that point carried by the face mesh.

    The head is drawn as one rigid cut-out anchored at this joint (its turn in depth moves only the
    face inside it, :func:`steadymotion.motion.face.turn_faces`). Its two estimates disagree: the
    pose model's ears are coarse (a talking presenter's wander by several pixels with his face
    still), while the face mesh's 468 landmarks place the face to a pixel but move with the face
    across the skull when the head turns, not with the hair and outline. Self-reenactment scores
    the choice: the ears alone put musepose's face 17 px off the real one at the median (face mesh
    re-detected in the render against the real frame's, eyes 95 px apart), the face alone took
    that to 5 px across (11 up or down) and left her hair and skull behind (InfiniteTalk's SSIM 0.819 -> 0.816); half-way
    scored best on both (InfiniteTalk 0.824, musepose level at 0.883 with PSNR 20.3 -> 20.4; 0.3
    and 0.7 between).

    The carried point is the first frame with a face's ears' midpoint taken to each frame by the 2D
    similarity of the face's stable landmarks from that frame (Umeyama 1991): relative motion from
    the first frame, as the head's roll and nod are driven (:func:`_head_roll`,
    :func:`steadymotion.motion.face.head_turns`), so a reference that starts in the image's pose
    starts with the image's head. (The clip's median place of the ears on the face instead moved
    that first head 3 degrees off the image's, which the roll, taken from the first frame, then
    carried through the clip.) Frames without a face keep the ears' midpoint; the face's share fades
    in and out over :data:`HEAD_ON_FACE_FADE_S` at each gap.
    """
    head = np.asarray(head, np.float64)
    if motion.face is None:
        return head
    idx, fits = _face_from_first(motion, ok & np.isfinite(head).all(axis=1))
    if len(idx) < 2:
        return head
    seen = np.zeros(len(head), bool)
    seen[idx] = True
    carried = head.copy()
    for t, (sc, R, tr) in zip(idx, fits):
        carried[t] = sc * R @ head[idx[0]] + tr
    # the face's share: full inside a run of frames with a face, fading to none at its ends
    # (frames from the nearest frame without one)
    ramp = max(1.0, float(motion.fps) * HEAD_ON_FACE_FADE_S)
    inside = distance_transform_edt(seen) if not seen.all() else np.full(len(seen), np.inf)
    w = HEAD_ON_FACE * np.clip(inside / ramp, 0.0, 1.0)
    return head + (carried - head) * w[:, None]


def _back_facing(ref: Params, vis: np.ndarray, ok: np.ndarray, fps: float, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Frames where the reference shows its back; there its limbs drive the mirrored ones (in place).

    Returns the back-facing mask and the per-limb visibility ``(T, len(LIMBS))`` (swapped likewise).
    """
    full_sh = full_length(np.abs(ref.sh_width), ok)
    back = ok & (ref.sh_width < -0.05 * full_sh)
    back = median_filter(back.astype(np.uint8), size=5, mode="nearest").astype(bool)
    lvis = np.stack([np.minimum(vis[:, KP[limb.a]], vis[:, KP[limb.b]]) for limb in LIMBS], axis=1)
    if back.any():
        ref.limb_rel[back] = ref.limb_rel[back][:, _SWAP]
        ref.limb_len[back] = ref.limb_len[back][:, _SWAP]
        lvis[back] = lvis[back][:, _SWAP]
        notes.append(f"the reference shows its back for {back.sum() / fps:.1f} s: a 2D puppet has only the image's front, "
                     "so the character stays facing the camera and mirrors those moves")
    return back, lvis


#: A reference frame whose pose is within this many degrees of the image's (mean over the bones
#: compared) shows the image's foreshortening; beyond twice it the image's lengths count as full.
MATCH_DEG = 8.0


@dataclass
class Foreshortening:
    """How foreshortened each measured length is, in the reference (per frame) and in the image.

    A 2D length is ``camera scale x full length x foreshortening``. The reference's camera scale
    is its size ratio (:func:`_size_ratio`); its full lengths are the 90th percentile of the
    scale-free lengths (:func:`~steadymotion.motion.kinematics.full_length`). The image is one
    frame: its foreshortening is read from the reference frames whose pose matches it
    (:func:`_image_foreshortening`), and is 1 (the image shows full lengths) when none does.
    """

    ref: dict[str, np.ndarray]  # quantity -> (T,) foreshortening of the reference
    image: dict[str, float]  # quantity -> foreshortening of the character's image
    full_torso: float  # the reference's unforeshortened torso length (its first frame's scale)

    def ratio(self, name: str, lo: float, hi: float) -> np.ndarray:
        """Per frame: the character's image length -> the length to draw (before camera scale)."""
        return np.clip(self.ref[name], lo, hi) / self.image[name]

    def root_gain(self, image_torso: float) -> float:
        """Character pixels per reference pixel of movement (unforeshortened torso to torso)."""
        return image_torso / max(self.image["torso"] * self.full_torso, 1e-6)


def _pose_distance(ref: Params, p0: Params, limbs: list[int], lvis: np.ndarray) -> np.ndarray:
    """Per reference frame: mean absolute difference (degrees) of the torso's direction and the
    listed limbs' relative directions to the image's pose; inf where one of those limbs is unseen."""
    d = [np.abs(wrap(ref.torso_angle - p0.torso_angle[0]))]
    seen = np.ones(len(ref), bool)
    for i in limbs:
        d.append(np.abs(wrap(ref.limb_rel[:, i] - p0.limb_rel[0, i])))
        seen &= lvis[:, i] >= VISIBLE
    return np.where(seen, np.degrees(np.mean(d, axis=0)), np.inf)


def _image_foreshortening(ref_f: np.ndarray, dist: np.ndarray, ok: np.ndarray,
                          whole: np.ndarray | None = None) -> float:
    """The image's foreshortening of one length: the reference's in the frames posed most like it.

    Frames within 2 degrees of the best match give a median; with ``whole`` (the whole pose's
    distance) only those of them within 2 degrees of their best whole-pose match: a standing leg
    keeps its direction in most frames of a dance while its 2D length changes with the knees' bend
    towards the camera, so the frames where everything else matches too say more. A best match beyond
    :data:`MATCH_DEG` fades the estimate to 1 (no frame of the reference shows the image's pose,
    so nothing says how foreshortened the image is), reached at twice that distance. So does a
    match whose frames disagree (interquartile range of their foreshortening above 0.04, none
    left at 0.12): a bone turning towards the camera keeps its 2D direction (a standing shin), so
    its direction says nothing of its length.
    """
    d = np.where(ok & np.isfinite(ref_f), dist, np.inf)
    best = float(d.min()) if len(d) else np.inf
    if not np.isfinite(best) or best >= 2 * MATCH_DEG:
        return 1.0
    sel = d <= best + 2.0
    if whole is not None:
        w_near = np.where(sel, whole, np.inf)
        if np.isfinite(w_near).any():
            sel &= w_near <= w_near.min() + 2.0
    near = ref_f[sel]
    q25, f, q75 = np.percentile(near, [25, 50, 75])
    w = float(np.clip((2 * MATCH_DEG - best) / MATCH_DEG, 0.0, 1.0))
    w *= float(np.clip(1.0 - (q75 - q25 - 0.04) / 0.08, 0.0, 1.0))
    return float(np.clip(w * f + (1 - w), 0.7, 1.1))


def _image_head(f_ref: np.ndarray, matched: float, whole: np.ndarray, use: np.ndarray) -> float:
    """The image's foreshortening of the head's bone (neck to the ears' midpoint): the reference's
    in its first frame where that frame shows the image's pose, ``matched`` (the frames posed like
    it, :func:`_image_foreshortening`) where it does not, faded between over the same distances.

    The bone's 2D length follows the neck's posture (a shrug, a slouch, the chin dropped), which the
    limbs' directions matched do not show: a presenter's frames posed like his image had it 4 %
    shorter than his image, so his head was drawn 14 px high all through his own clip. Where the
    reference starts in the image's pose its first frame is taken to show the image's neck, and the
    head's length moves by the reference's change from it: relative motion transfer (Siarohin et al.
    2019, "First Order Motion Model for Image Animation"), as the face's nod is driven
    (:func:`steadymotion.motion.face.head_turns`)."""
    idx = np.flatnonzero(use & np.isfinite(f_ref))
    if not len(idx) or not np.isfinite(whole[idx[0]]):
        return matched
    w = float(np.clip((2 * MATCH_DEG - whole[idx[0]]) / MATCH_DEG, 0.0, 1.0))
    return float(np.clip(w * f_ref[idx[0]] + (1 - w) * matched, 0.7, 1.1))


def _foreshortening(p0: Params, ref: Params, lvis: np.ndarray, ok: np.ndarray, rel: np.ndarray,
                    back: np.ndarray, shown: set[str]) -> Foreshortening:
    """Foreshortening of the torso, shoulder and hip widths and every stretchable limb, in the
    reference and in the image (see :class:`Foreshortening`); ``shown`` names the lengths the
    image really shows (a limb cut by its edge, or hips below it, are guesses: taken as full)."""
    use = ok & ~back
    lengths = {"torso": ref.torso_len, "sh": np.abs(ref.sh_width), "hip": np.abs(ref.hip_width), "head": ref.head_len}
    seen_of = {"torso": ok, "sh": ok, "hip": ok, "head": ok}
    stretch = [i for i in range(len(LIMBS)) if not _RIGID[i]]
    chains = {}
    for i in stretch + [LIMB["hand_l"], LIMB["hand_r"]]:
        seen = lvis[:, i] >= VISIBLE
        lengths[LIMBS[i].name] = ref.limb_len[:, i]
        seen_of[LIMBS[i].name] = seen if seen.any() else None
        parent = LIMBS[i].parent
        chains[LIMBS[i].name] = [i] if parent == "torso" else [LIMB[parent], i]
    f_ref, f_img = {}, {}
    whole = _pose_distance(ref, p0, stretch, lvis)
    if not np.isfinite(whole[use]).any():  # a half-body reference: the trunk matches on the arms
        whole = _pose_distance(ref, p0, [i for i in stretch if (lvis[use, i] >= VISIBLE).mean() > 0.5], lvis)
    full_torso = 1.0
    for name, v in lengths.items():
        n = v / rel
        # (a hand is seen foreshortened most of the time: its full length is its longest, not a usual one)
        full = full_length(n, seen_of[name], HAND_FULL_Q if name.startswith("hand") else 90.0)
        if name == "torso":
            full_torso = full
        f_ref[name] = n / max(full, 1e-6)
        if name not in shown:
            f_img[name] = 1.0
            continue
        dist = _pose_distance(ref, p0, chains[name], lvis) if name in chains else whole
        f_img[name] = _image_foreshortening(f_ref[name], dist, use, whole)
        if name == "head":
            f_img[name] = _image_head(f_ref[name], f_img[name], whole, use)
    return Foreshortening(f_ref, f_img, full_torso)


def _shown(rest: RestPose) -> set[str]:
    """The lengths whose foreshortening in the image is read from the reference: its present limbs
    (a chain only when its upper bone is present too), the head's bone (the image always shows the
    head) and, with the hips inside the picture, the torso and hip width. Never the shoulders' width: it follows the trunk's turn, which the limb
    directions matched do not show (read anyway, it made two self-reenactments worse)."""
    shown = {"head"}
    if rest.keypoints[KP["pelvis"], 1] <= 0.97 * rest.size[1]:
        shown |= {"torso", "hip"}
    for limb in LIMBS:
        parent = limb.parent if limb.parent != "torso" else limb.name
        if rest.present[PART[limb.name]] and rest.present[PART[parent]]:
            shown.add(limb.name)
    return shown


#: Wrists and hands of the reference nearer the frame's bottom than this share of its height are
#: guesses (inside the bottom band the pose model still places them well; only elbows it squeezes).
EDGE_WRIST = 0.99
#: The most a hand turns against its forearm in the picture, radians.
WRIST_MAX = np.radians(90.0)


def _edge_sides(rest: RestPose) -> list[str]:
    """Arms the image shows from below the picture: a forearm rigged about a virtual elbow in the
    frame's bottom band or below it, without its upper arm
    (:func:`steadymotion.render.puppet.cutout.edge_elbows`)."""
    h = rest.size[1]
    return [s for s in "lr" if rest.present[PART[f"forearm_{s}"]] and not rest.present[PART[f"upper_arm_{s}"]]
            and rest.keypoints[KP[f"elbow_{s}"], 1] > (1 - ARM_EDGE_MARGIN) * h]


def _gap_filled(values: np.ndarray, good: np.ndarray) -> np.ndarray:
    """``values`` (T, ...) linearly interpolated across the frames where ``good`` is False (held at the ends)."""
    idx = np.flatnonzero(good)
    t = np.arange(len(values))
    flat = values.reshape(len(values), -1)
    out = np.stack([np.interp(t, idx, flat[idx, j]) for j in range(flat.shape[1])], axis=1)
    return out.reshape(values.shape)


def _follow_edge_wrists(p: Params, rest_shape: RestShape, r: _Reference, ok: np.ndarray, ref_h: int,
                        sides: list[str], fps: float) -> None:
    """Drive arms raised from below the picture by where the reference's wrist and hand are (in place).

    Their elbows are below both pictures, so the elbow angles the rest of the plan transfers are
    never seen; the wrist and hand are (BlazePose places them well inside the frame's bottom band,
    where it only guesses elbows). The wrist goes where the reference's is relative to its shoulder,
    scaled by the torso lengths and turned with the torso, and the forearm is aimed at it from its
    virtual elbow and foreshortened to reach it (between half and 1.2 its length; inverse
    kinematics of one bone, the upper arm held: the reduced case of the
    analytic limb solution of Tolani, Goswami & Badler 2000); the hand takes the reference's
    direction where it is at least half its usual length (a hand pointing at the camera has none),
    bent at most :data:`WRIST_MAX` against the forearm, and it is drawn as foreshortened as the
    reference's (:func:`_hand_foreshortening`; its full length the longest the reference shows
    it, as the image is taken to show it: a presenter laying his phone flat). Frames
    where the reference does not show them are interpolated between those that do.
    """
    if not sides:
        return
    T = len(p)
    kp = forward(p, rest_shape)
    dth = wrap(p.torso_angle - r.params.torso_angle)
    c, s_ = np.cos(dth), np.sin(dth)
    k = p.torso_len / np.maximum(r.params.torso_len, 1e-6)
    usable = ok & ~r.back
    for side in sides:
        w_i, h_i, s_i, e_i = (KP[f"{n}_{side}"] for n in ("wrist", "hand", "shoulder", "elbow"))
        wr, hd, sh = r.kp[:, w_i, :2], r.kp[:, h_i, :2], r.kp[:, s_i, :2]
        good = usable & (r.seen[:, w_i] >= VISIBLE) & (wr[:, 1] <= EDGE_WRIST * ref_h)
        if good.sum() < max(2, 0.2 * T):
            continue
        off = _gap_filled(wr - sh, good)
        off = np.stack([c * off[:, 0] - s_ * off[:, 1], s_ * off[:, 0] + c * off[:, 1]], axis=1) * k[:, None]
        target = kp[:, s_i] + off
        elbow = kp[:, e_i]
        upper = np.arctan2(*(elbow - kp[:, s_i]).T[::-1])
        fore = np.arctan2(*(target - elbow).T[::-1])
        p.limb_rel[:, LIMB[f"forearm_{side}"]] = wrap(fore - upper)
        # and reaches it (a forearm turned towards the camera is shorter in the picture)
        full = p.limb_len[:, LIMB[f"forearm_{side}"]]
        p.limb_len[:, LIMB[f"forearm_{side}"]] = np.clip(np.hypot(*(target - elbow).T), 0.5 * full, 1.2 * full)
        hv = hd - wr
        hl = np.hypot(*hv.T)
        hgood = good & (r.seen[:, h_i] >= VISIBLE) & (hd[:, 1] <= EDGE_WRIST * ref_h)
        if hgood.sum() >= max(2, 0.2 * T):
            n = hl / r.rel
            f = _gap_filled(n, hgood) / full_length(n, hgood, HAND_FULL_Q)
            p.limb_len[:, LIMB[f"hand_{side}"]] = rest_shape.params.limb_len[0, LIMB[f"hand_{side}"]] * r.rel * _hand_foreshortening(f, fps)
        if hgood.sum() >= 2:
            hgood &= hl >= 0.5 * np.percentile(hl[hgood], 90)
        if hgood.sum() >= max(2, 0.2 * T):
            ang = np.unwrap(np.arctan2(hv[:, 1], hv[:, 0])[hgood])
            full = np.zeros(T)
            full[hgood] = ang
            hand = _gap_filled(full, hgood) + dth
            # a wrist bends less than a right angle either way (and a foreshortened hand's 2D
            # direction can read as one pointing back along the forearm)
            p.limb_rel[:, LIMB[f"hand_{side}"]] = np.clip(wrap(hand - fore), -WRIST_MAX, WRIST_MAX)


def _hold_hidden_hips(ref: Params, neck: np.ndarray, hips_seen: np.ndarray, ok: np.ndarray, rel: np.ndarray) -> None:
    """Where the reference's hips are out of sight, put its pelvis one steady torso length below the
    neck (along the torso's direction) instead of where the pose model guessed it (in place).

    A half-body presenter's guessed hips wander by ~10 % of the torso from frame to frame; taken as
    they come they stretch the character's torso and shake the whole body (the root is the pelvis).
    """
    hidden = ok & ~hips_seen
    if not hidden.any():
        return
    seen = ok & hips_seen
    n = ref.torso_len / rel
    length = float(np.median(n[seen] if seen.sum() >= 5 else n[ok])) * rel[hidden]
    u = np.stack([np.cos(ref.torso_angle[hidden]), np.sin(ref.torso_angle[hidden])], axis=-1)
    ref.torso_len[hidden] = length
    ref.root[hidden] = neck[hidden] - u * length[:, None]


def _retarget(p0: Params, ref: Params, lvis: np.ndarray, ok: np.ndarray, motion: PoseSequence,
              orientation: Orientation, back: np.ndarray, notes: list[str], rel: np.ndarray,
              shown: set[str]) -> tuple[Params, Foreshortening]:
    """The character's lengths with the reference's angles and foreshortening (Gleicher 1998, in 2D).

    Each length is the character's full length (its image length over the image's own
    foreshortening, :func:`_foreshortening`) times the reference's foreshortening and camera scale,
    so a character whose image matches a reference frame takes exactly that frame's shape there.
    """
    T = len(ref)
    fs = _foreshortening(p0, ref, lvis, ok, rel, back, shown)
    ratio_torso = fs.ratio("torso", 0.5, 1.1)
    ratio_sh = fs.ratio("sh", 0.25, 1.1)
    ratio_hip = fs.ratio("hip", 0.25, 1.1)
    limb_ratio = np.ones((T, len(LIMBS)))
    for i in range(len(LIMBS)):
        if not _RIGID[i]:
            limb_ratio[:, i] = fs.ratio(LIMBS[i].name, 0.3, 1.1)
    for side in "lr":
        limb_ratio[:, LIMB[f"hand_{side}"]] = _hand_foreshortening(fs.ratio(f"hand_{side}", 0.0, 1.1), float(motion.fps))
    # limbs the reference does not show keep the character's rest pose (a half-body dance moves no
    # legs; a reference cropped at the waist leaves the legs where the image had them)
    w_vis = uniform_filter1d((lvis >= VISIBLE).astype(np.float64), size=max(1, int(round(float(motion.fps) * 0.3))), axis=0, mode="nearest")
    limb_rel = p0.limb_rel + wrap(ref.limb_rel - p0.limb_rel) * w_vis
    limb_ratio = 1.0 + (limb_ratio - 1.0) * w_vis
    if orientation is Orientation.VIDEO:
        torso_angle = ref.torso_angle
        root = p0.root + (ref.root - ref.root[0]) * fs.root_gain(p0.torso_len[0])
    else:
        med = float(np.angle(np.mean(np.exp(1j * ref.torso_angle[ok]))))
        torso_angle = p0.torso_angle + wrap(ref.torso_angle - med)
        root = np.repeat(p0.root, T, axis=0)
    if not (lvis[:, [LIMB["thigh_l"], LIMB["thigh_r"]]] >= VISIBLE).any():
        notes.append("the reference never shows the legs: the character's legs keep the image's pose")
    return Params(
        root=root, scale=p0.scale[0] * rel, torso_angle=torso_angle, torso_len=p0.torso_len * rel * ratio_torso,
        sh_width=p0.sh_width * rel * ratio_sh, hip_width=p0.hip_width * rel * ratio_hip,
        head_rel=ref.head_rel, head_len=p0.head_len * rel * fs.ratio("head", 0.5, 1.1),
        limb_rel=limb_rel, limb_len=p0.limb_len * rel[:, None] * limb_ratio,
    ), fs


#: Hands: the percentile of a hand's 2D lengths taken as its full length; the least share of it a
#: hand is drawn at; seconds of the median and the Gaussian (sigma) that steady its foreshortening.
HAND_FULL_Q = 98.0
HAND_MIN = 0.3
HAND_MEDIAN_S, HAND_SIGMA_S = 0.3, 0.06


def _hand_foreshortening(ratio: np.ndarray, fps: float) -> np.ndarray:
    """Per frame, the share of its image length a hand is drawn at: the reference hand's
    foreshortening against the image's (``Foreshortening.ratio``), steadied over time (running
    median, then Gaussian: zero phase), never longer than the image's hand and never under
    :data:`HAND_MIN`.

    A hand is drawn as a rigid cut-out turned with its bone. Turned towards the camera or away from
    it the reference's hand shortens in the picture (a presenter laying his phone flat: its 2D
    length falls to a third); the cut-out is then squashed along its bone, which is how a flat
    thing tilted in depth projects under weak perspective (an affine image of the plane: Hartley &
    Zisserman 2004, section 6.3). The wrist-to-knuckles length BlazePose gives is noisy on small
    hands, hence the filtering; a hand is never drawn longer than the image shows it.
    """
    r = np.asarray(ratio, np.float64)
    if len(r) > 2:
        r = median_filter(r, size=max(3, int(round(fps * HAND_MEDIAN_S)) | 1), mode="nearest")
        r = gaussian_filter1d(r, max(0.5, fps * HAND_SIGMA_S), mode="nearest")
    return np.clip(r, HAND_MIN, 1.0)


def _end_weights(t: np.ndarray) -> np.ndarray:
    """Blend weight of the end keyframe per frame: 0 until the last :data:`END_BLEND_S`, then up to 1."""
    return smoothstep((t - (t[-1] - END_BLEND_S)) / END_BLEND_S) if t[-1] > 0 else np.ones(len(t))


def _end_params(end_pose: PoseSequence, end_size: tuple[int, int], size: tuple[int, int], p0: Params, s0: float) -> Params:
    """The end image's pose with the character's own limb lengths (the end image is the same character)."""
    if not end_pose.body_present[0]:
        raise NoPersonError("end image: no person found; use an image of the character in the final pose")
    eb = fit_base(end_size, size)
    es = float(np.sqrt(abs(np.linalg.det(eb[:, :2]))))
    ekp = keypoints_from_body(end_pose.body)[0, :, :2] @ eb[:, :2].T + eb[:, 2]
    ep = measure(ekp[None], es)
    ep.limb_len = p0.limb_len * (ep.torso_len / p0.torso_len)[:, None]
    ep.head_len = p0.head_len * ep.torso_len / p0.torso_len
    ep.scale = s0 * ep.torso_len / p0.torso_len
    return ep


def _camera(kp: np.ndarray, scale: np.ndarray, ref: Params, p0: Params, orientation: Orientation,
            directives: CameraDirectives, camera_track: np.ndarray | None, size: tuple[int, int],
            notes: list[str], kref: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The background's camera per frame, and the keypoints and body scale with the camera applied."""
    T = len(kp)
    kp = kp.copy()
    cam_bg = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (T, 1, 1))
    if camera_track is not None and orientation is Orientation.VIDEO and len(camera_track) >= 1:
        track = camera_track[np.clip(np.arange(T), 0, len(camera_track) - 1)]
        # reference-pixel camera -> output pixels (the scale/shift between them cancels in the conjugate)
        conj = np.array([[kref, 0, 0], [0, kref, 0], [0, 0, 1]])
        R0 = ref.root[0]
        # about the reference's pelvis at t=0, mapped onto the character's rest pelvis
        Tm = np.array([[1, 0, -R0[0]], [0, 1, -R0[1]], [0, 0, 1]])
        To = np.array([[1, 0, p0.root[0, 0]], [0, 1, p0.root[0, 1]], [0, 0, 1]])
        pre = To @ conj @ Tm
        post = np.linalg.inv(pre)
        for i in range(T):
            cam_bg[i] = (pre @ np.vstack([track[i], [0, 0, 1]]) @ post)[:2]
        if directives.static:
            # a locked-off camera: take the reference camera's motion out of the person's path
            for i in range(T):
                inv = np.linalg.inv(np.vstack([cam_bg[i], [0, 0, 1]]))[:2]
                kp[i] = kp[i] @ inv[:, :2].T + inv[:, 2]
            cam_bg[:] = np.array([[1.0, 0, 0], [0, 1.0, 0]])
            notes.append("static camera: the reference's camera motion was taken out of the character's path")
    scale_out = np.array(scale, np.float64, copy=True)
    if directives.moves:
        cams = camera_path(directives, T, size, _camera_targets(kp))
        for i in range(T):
            M = cams[i]
            kp[i] = kp[i] @ M[:, :2].T + M[:, 2]
            cam_bg[i] = (np.vstack([M, [0, 0, 1]]) @ np.vstack([cam_bg[i], [0, 0, 1]]))[:2]
            scale_out[i] *= float(np.sqrt(abs(np.linalg.det(M[:, :2]))))
    return kp, cam_bg, scale_out


def _size_ratio(ref: Params, ok: np.ndarray, motion: PoseSequence, hips_seen: np.ndarray | None = None) -> np.ndarray:
    """How much bigger the reference person is than at the first frame (camera distance), smoothed.

    The size is the torso's length (or 0.6 shoulder widths when more); where the hips are out of
    sight (a half-body shot: the pose model guesses them below the picture, and its guess wanders
    by 10 %) it is the shoulder width alone, in the torso's units where the clip shows both.
    """
    size = np.maximum(ref.torso_len, 0.6 * np.abs(ref.sh_width) + 0.0)
    if hips_seen is not None and not hips_seen[ok].all():
        sh = np.maximum(np.abs(ref.sh_width), 1e-6)
        both = ok & hips_seen
        k = float(np.median(size[both] / sh[both])) if both.sum() >= 5 else 1.0
        size = np.where(hips_seen, size, k * sh)
    win = max(3, int(round(float(motion.fps) * 1.0)) | 1)
    sm = median_filter(size, size=win, mode="nearest")
    sm = uniform_filter1d(sm, size=win, mode="nearest")
    first = sm[np.flatnonzero(ok)[0]]
    return np.clip(sm / max(first, 1e-6), 0.5, 2.0)


def _camera_targets(kp: np.ndarray) -> dict[str, np.ndarray]:
    head = kp[:, KP["head"]]
    neck = kp[:, KP["neck"]]
    return {
        "face": head, "eyes": head * 0.8 + neck * 0.2 + (head - neck) * 0.1,
        "hands": (kp[:, KP["hand_l"]] + kp[:, KP["hand_r"]]) / 2,
        "body": (head + (kp[:, KP["ankle_l"]] + kp[:, KP["ankle_r"]]) / 2) / 2,
        "feet": (kp[:, KP["ankle_l"]] + kp[:, KP["ankle_r"]]) / 2,
    }


