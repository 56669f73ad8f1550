"""The motion plan: per output frame, where the character's joints go, how it is layered, and the camera.

:func:`plan_motion` retargets a reference :class:`~steadymotion.types.PoseSequence` onto a rig by
joint-angle transfer (each bone keeps the character's own length, scaled by the reference's
foreshortening), in one of two orientation modes, with keyframes at both ends, feet pinned during
the reference's ground contacts, and the camera from the reference or from prompt directives.
The plan is small (a few floats per joint per frame) and is computed whole; frames are rendered
from it one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from fractions import Fraction

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from steadymotion.errors import NoPersonError
from steadymotion.motion.directives import CameraDirectives, camera_path
from steadymotion.render.rig import KP, PART, PARTS, Rig, keypoint_visibility, keypoints_from_body
from steadymotion.types import PoseSequence

ORIENTATIONS = ("video", "image")
#: Seconds over which the first frame (the image itself) blends into the reference motion.
START_BLEND_S = 0.6
#: Seconds over which the clip blends into the end image's pose.
END_BLEND_S = 1.0
#: A reference joint needs this MediaPipe visibility to drive the character's limb.
VISIBLE = 0.5

#: Limb bones in parameter order: (part, proximal keypoint, distal keypoint, parent limb or None=torso).
LIMBS: tuple[tuple[str, str, str, str | None], ...] = (
    ("upper_arm_l", "shoulder_l", "elbow_l", None), ("forearm_l", "elbow_l", "wrist_l", "upper_arm_l"),
    ("hand_l", "wrist_l", "hand_l", "forearm_l"),
    ("upper_arm_r", "shoulder_r", "elbow_r", None), ("forearm_r", "elbow_r", "wrist_r", "upper_arm_r"),
    ("hand_r", "wrist_r", "hand_r", "forearm_r"),
    ("thigh_l", "hip_l", "knee_l", None), ("shin_l", "knee_l", "ankle_l", "thigh_l"), ("foot_l", "ankle_l", "toe_l", "shin_l"),
    ("thigh_r", "hip_r", "knee_r", None), ("shin_r", "knee_r", "ankle_r", "thigh_r"), ("foot_r", "ankle_r", "toe_r", "shin_r"),
)
LIMB = {name: i for i, (name, *_rest) in enumerate(LIMBS)}
_RIGID = np.array([PARTS[PART[n]].rigid for n, *_ in LIMBS])
#: Left <-> right limb permutation (a reference seen from behind drives the mirrored limbs).
_SWAP = np.array([LIMB[n.replace("_l", "_X").replace("_r", "_l").replace("_X", "_r")] for n, *_ in LIMBS])


@dataclass
class Params:
    """Pose parameters per frame (leading axis T), in output pixels and radians."""

    root: np.ndarray  # (T, 2) pelvis
    scale: np.ndarray  # (T,) output px per master-image px
    torso_angle: np.ndarray  # (T,) direction pelvis -> neck
    torso_len: np.ndarray  # (T,)
    sh_width: np.ndarray  # (T,) signed: > 0 when the subject's left shoulder is on the image right
    hip_width: np.ndarray  # (T,)
    head_rel: np.ndarray  # (T,) neck -> head direction relative to the torso
    head_len: np.ndarray  # (T,)
    limb_rel: np.ndarray  # (T, 12) bone direction relative to its parent bone
    limb_len: np.ndarray  # (T, 12)

    def __len__(self) -> int:
        return len(self.root)

    def take(self, idx) -> Params:
        return Params(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


_ANGLES = ("torso_angle", "head_rel", "limb_rel")


def _ang(v: np.ndarray) -> np.ndarray:
    return np.arctan2(v[..., 1], v[..., 0])


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _across(theta: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(theta + np.pi / 2), np.sin(theta + np.pi / 2)], axis=-1)


def measure(kp: np.ndarray, scale: np.ndarray | float = 1.0) -> Params:
    """Pose parameters of keypoints ``(T, K, 2)``."""
    kp = kp[..., :2].astype(np.float64)
    T = len(kp)
    pelvis, neck = kp[:, KP["pelvis"]], kp[:, KP["neck"]]
    axis = neck - pelvis
    theta = _ang(axis)
    c = _across(theta)
    limb_abs = np.zeros((T, len(LIMBS)))
    limb_len = np.zeros((T, len(LIMBS)))
    for i, (_, a, b, _p) in enumerate(LIMBS):
        v = kp[:, KP[b]] - kp[:, KP[a]]
        limb_abs[:, i] = _ang(v)
        limb_len[:, i] = np.linalg.norm(v, axis=1)
    limb_rel = np.zeros_like(limb_abs)
    for i, (_, _a, _b, parent) in enumerate(LIMBS):
        limb_rel[:, i] = limb_abs[:, i] - (theta if parent is None else limb_abs[:, LIMB[parent]])
    head = kp[:, KP["head"]] - neck
    return Params(
        root=pelvis, scale=np.broadcast_to(np.asarray(scale, np.float64), (T,)).copy(),
        torso_angle=theta, torso_len=np.linalg.norm(axis, axis=1),
        sh_width=np.einsum("ti,ti->t", kp[:, KP["shoulder_l"]] - kp[:, KP["shoulder_r"]], c),
        hip_width=np.einsum("ti,ti->t", kp[:, KP["hip_l"]] - kp[:, KP["hip_r"]], c),
        head_rel=_wrap(_ang(head) - theta), head_len=np.linalg.norm(head, axis=1),
        limb_rel=_wrap(limb_rel), limb_len=limb_len,
    )


@dataclass
class RestShape:
    """The character's rest geometry in output pixels (what :func:`forward` builds bodies from)."""

    params: Params  # one frame
    shoulder_off: np.ndarray  # (2, 2) shoulders l/r relative to the neck, in (along, across) units
    hip_off: np.ndarray  # (2, 2) hips l/r relative to the pelvis

    @classmethod
    def from_keypoints(cls, kp: np.ndarray, scale: float) -> RestShape:
        p = measure(kp[None, :, :2], scale)
        th = p.torso_angle[0]
        u = np.array([np.cos(th), np.sin(th)])
        c = _across(np.array(th))
        neck, pelvis = kp[KP["neck"], :2], kp[KP["pelvis"], :2]
        sh = np.array([[np.dot(kp[KP[n], :2] - neck, u), np.dot(kp[KP[n], :2] - neck, c)] for n in ("shoulder_l", "shoulder_r")])
        hp = np.array([[np.dot(kp[KP[n], :2] - pelvis, u), np.dot(kp[KP[n], :2] - pelvis, c)] for n in ("hip_l", "hip_r")])
        return cls(p, sh, hp)


def forward(p: Params, rest: RestShape) -> np.ndarray:
    """Keypoints ``(T, K, 2)`` of parameters ``p`` (forward kinematics in 2D)."""
    T = len(p)
    kp = np.zeros((T, len(KP), 2))
    th = p.torso_angle
    u = np.stack([np.cos(th), np.sin(th)], axis=-1)
    c = _across(th)
    rel = (p.scale / rest.params.scale[0])[:, None]
    kp[:, KP["pelvis"]] = p.root
    kp[:, KP["neck"]] = p.root + u * p.torso_len[:, None]
    sw = p.sh_width / (rest.params.sh_width[0] or 1.0)
    hw = p.hip_width / (rest.params.hip_width[0] or 1.0)
    for k, n in enumerate(("shoulder_l", "shoulder_r")):
        a, b = rest.shoulder_off[k]
        kp[:, KP[n]] = kp[:, KP["neck"]] + u * (a * rel) + c * (b * sw)[:, None]
    for k, n in enumerate(("hip_l", "hip_r")):
        a, b = rest.hip_off[k]
        kp[:, KP[n]] = kp[:, KP["pelvis"]] + u * (a * rel) + c * (b * hw)[:, None]
    absang = np.zeros((T, len(LIMBS)))
    for i, (_, a, b, parent) in enumerate(LIMBS):
        absang[:, i] = (th if parent is None else absang[:, LIMB[parent]]) + p.limb_rel[:, i]
        d = np.stack([np.cos(absang[:, i]), np.sin(absang[:, i])], axis=-1)
        kp[:, KP[b]] = kp[:, KP[a]] + d * p.limb_len[:, i:i + 1]
    hd = th + p.head_rel
    kp[:, KP["head"]] = kp[:, KP["neck"]] + np.stack([np.cos(hd), np.sin(hd)], axis=-1) * p.head_len[:, None]
    return kp


def blend(a: Params, b: Params, w: np.ndarray) -> Params:
    """Per-frame interpolation from ``a`` (w = 0) to ``b`` (w = 1); angles along the shorter arc."""
    out = {}
    for f in fields(Params):
        x, y = getattr(a, f.name), getattr(b, f.name)
        ww = w.reshape((-1,) + (1,) * (np.ndim(y) - 1))
        if f.name in _ANGLES:
            out[f.name] = x + _wrap(y - x) * ww
        else:
            out[f.name] = x + (y - x) * ww
    return Params(**out)


def _repeat(p: Params, n: int) -> Params:
    return Params(**{f.name: np.repeat(getattr(p, f.name)[:1], n, axis=0) for f in fields(Params)})


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


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

    def __len__(self) -> int:
        return len(self.keypoints)


def fit_base(image_size: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    """Master-image -> output mapping: scale to cover the output, centred (crops the longer side)."""
    iw, ih = image_size
    ow, oh = out_size
    s = max(ow / iw, oh / ih)
    return np.array([[s, 0, (ow - s * iw) / 2], [0, s, (oh - s * ih) / 2]], np.float64)


def _fill_missing(arr: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Hold the nearest valid frame over frames without a body."""
    idx = np.flatnonzero(ok)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(arr))), 0, len(idx) - 1)]
    prev = idx[np.clip(np.searchsorted(idx, np.arange(len(arr)), side="right") - 1, 0, len(idx) - 1)]
    pick = np.where(np.abs(np.arange(len(arr)) - prev) <= np.abs(nearest - np.arange(len(arr))), prev, nearest)
    return arr[pick]


def _full(v: np.ndarray, ok: np.ndarray | None = None) -> float:
    """A bone's full (unforeshortened) length: the 90th percentile of its visible lengths."""
    x = v if ok is None else v[ok]
    x = x[np.isfinite(x)]
    return float(np.percentile(x, 90)) if x.size else 1.0


def plan_motion(
    rig: Rig,
    motion: PoseSequence,
    *,
    size: tuple[int, int],
    orientation: str = "video",
    directives: CameraDirectives | None = None,
    camera_track: np.ndarray | None = None,
    end_pose: PoseSequence | None = None,
    end_size: tuple[int, int] | None = None,
    pin_feet: bool = True,
) -> MotionPlan:
    """Retarget ``motion`` onto ``rig`` for an output of ``size``.

    Parameters
    ----------
    orientation : {"video", "image"}
        ``video``: position, scale, body rotation (and, with ``camera_track``, the camera) follow the
        reference. ``image``: the character keeps the image's position, scale and facing; only the
        articulation (and the torso's lean) moves.
    directives : CameraDirectives
        From the prompt; a static directive removes the reference camera's motion from the person.
    camera_track : ndarray, (T, 2, 3), optional
        The reference's camera path (:func:`steadymotion.camera.track_camera`).
    end_pose : PoseSequence, optional
        Landmarks of an end image (1 frame, its pixels; ``end_size`` its size): the clip blends into
        that pose over the last :data:`END_BLEND_S` seconds.

    Notes
    -----
    Joint-angle retargeting as in motion retargeting for articulated figures (Gleicher 1998,
    "Retargetting motion to new characters"), reduced to 2D: every bone keeps the reference's
    direction relative to its parent and the character's own length times the reference's
    foreshortening (length / its 90th-percentile length). Foot contacts are found where a
    reference ankle is slow and near the lowest foot, and the root is shifted so the planted foot
    stays put (Kovar, Schreiner & Gleicher 2002, "Footskate cleanup").
    """
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, got {orientation!r}")
    directives = directives or CameraDirectives()
    T = len(motion)
    ok = motion.body_present.copy()
    if not ok.any():
        raise NoPersonError("the motion video shows no person; use a clip with one clearly visible person")
    notes: list[str] = []
    body = _fill_missing(motion.body, ok)
    ref_kp = keypoints_from_body(body)  # (T, K, 3)
    vis = keypoint_visibility(body)
    vis[~ok] = 0.0
    base = fit_base(rig.size, size)
    s0 = float(np.sqrt(abs(np.linalg.det(base[:, :2]))))
    rest_out = rig.rest[:, :2] @ base[:, :2].T + base[:, 2]
    rest = RestShape.from_keypoints(rest_out, s0)
    ref = measure(ref_kp)

    # -- the reference seen from behind drives the mirrored limbs -----------------------------
    full_sh = _full(np.abs(ref.sh_width), ok)
    back = ok & (ref.sh_width < -0.05 * full_sh)
    back = median_filter(back.astype(np.uint8), size=5, mode="nearest").astype(bool)
    lvis = np.stack([np.minimum(vis[:, KP[a]], vis[:, KP[b]]) for _, a, b, _p in LIMBS], axis=1)
    z = ref_kp[..., 2].copy()
    if back.any():
        ref.limb_rel[back] = ref.limb_rel[back][:, _SWAP]
        ref.limb_len[back] = ref.limb_len[back][:, _SWAP]
        lvis[back] = lvis[back][:, _SWAP]
        secs = float(back.sum() / float(motion.fps))
        notes.append(f"the reference shows its back for {secs:.1f} s: a 2D puppet has only the image's front, "
                     "so the character stays facing the camera and mirrors those moves")

    # -- retarget: the character's lengths, the reference's angles and foreshortening -------------
    rel = (np.ones(T) if orientation == "image" else _size_ratio(ref, ok, motion))
    scale = s0 * rel
    p0 = rest.params
    ratio_torso = np.clip(ref.torso_len / _full(ref.torso_len, ok), 0.5, 1.1)
    ratio_sh = np.clip(np.abs(ref.sh_width) / full_sh, 0.25, 1.1)
    ratio_hip = np.clip(np.abs(ref.hip_width) / _full(np.abs(ref.hip_width), ok), 0.25, 1.1)
    limb_ratio = np.ones((T, len(LIMBS)))
    for i in range(len(LIMBS)):
        if not _RIGID[i]:
            seen = lvis[:, i] >= VISIBLE
            limb_ratio[:, i] = np.clip(ref.limb_len[:, i] / _full(ref.limb_len[:, i], seen if seen.any() else None), 0.3, 1.1)
    # limbs the reference does not show keep the character's rest pose (a half-body dance moves no legs)
    w_vis = uniform_filter1d((lvis >= VISIBLE).astype(np.float64), size=max(1, int(round(float(motion.fps) * 0.3))), axis=0, mode="nearest")
    limb_rel = p0.limb_rel + _wrap(ref.limb_rel - p0.limb_rel) * w_vis
    limb_ratio = 1.0 + (limb_ratio - 1.0) * w_vis
    if orientation == "video":
        torso_angle = ref.torso_angle
        k = p0.torso_len[0] / _full(ref.torso_len, ok)
        root = p0.root + (ref.root - ref.root[0]) * k
    else:
        med = float(np.angle(np.mean(np.exp(1j * ref.torso_angle[ok]))))
        torso_angle = p0.torso_angle + _wrap(ref.torso_angle - med)
        root = np.repeat(p0.root, T, axis=0)
    retargeted = Params(
        root=root, scale=scale, torso_angle=torso_angle, torso_len=p0.torso_len * rel * ratio_torso,
        sh_width=p0.sh_width * rel * ratio_sh, hip_width=p0.hip_width * rel * ratio_hip,
        head_rel=ref.head_rel, head_len=p0.head_len * rel,
        limb_rel=limb_rel, limb_len=p0.limb_len * rel[:, None] * limb_ratio,
    )
    # unseen legs: a reference cropped at the waist leaves the legs where the image had them
    for side in ("l", "r"):
        for n in (f"thigh_{side}", f"shin_{side}", f"foot_{side}"):
            i = LIMB[n]
            retargeted.limb_rel[:, i] = p0.limb_rel[0, i] + _wrap(ref.limb_rel[:, i] - p0.limb_rel[0, i]) * w_vis[:, i]
    if not (lvis[:, [LIMB["thigh_l"], LIMB["thigh_r"]]] >= VISIBLE).any():
        notes.append("the reference never shows the legs: the character's legs keep the image's pose")

    # -- keyframes: the first frame is the image, the end blends into the end image ---------------
    t = motion.times - motion.times[0]
    params = blend(_repeat(p0, T), retargeted, _smoothstep(t / START_BLEND_S))
    if end_pose is not None:
        if not end_pose.body_present[0]:
            raise NoPersonError("end image: no person found; use an image of the character in the final pose")
        eb = fit_base(end_size or rig.size, size)
        es = float(np.sqrt(abs(np.linalg.det(eb[:, :2]))))
        ekp = keypoints_from_body(end_pose.body)[0, :, :2] @ eb[:, :2].T + eb[:, 2]
        ep = measure(ekp[None], es)
        # the end pose with the character's own limb lengths (the end image is the same character)
        ep.limb_len = p0.limb_len * (ep.torso_len / p0.torso_len)[:, None]
        ep.head_len = p0.head_len * ep.torso_len / p0.torso_len
        ep.scale = s0 * ep.torso_len / p0.torso_len
        end_w = _smoothstep((t - (t[-1] - END_BLEND_S)) / END_BLEND_S) if t[-1] > 0 else np.ones(T)
        params = blend(params, _repeat(ep, T), end_w)

    kp = forward(params, rest)

    # -- feet: pinned while the reference foot is planted --------------------------------------
    contact = np.zeros((T, 2), bool)
    if pin_feet and rig.present[PART["foot_l"]] and rig.present[PART["foot_r"]]:
        contact = _contacts(ref_kp, vis, ref.torso_len, ok, motion)
        contact[: max(1, int(np.searchsorted(t, START_BLEND_S)))] = False
        if end_pose is not None:
            # the last second walks into the end image's stance: its feet are placed by the keyframe
            contact[end_w > 0] = False
        kp = _pin_feet(kp, contact)

    # -- camera --------------------------------------------------------------------------------
    cam_bg = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (T, 1, 1))
    if camera_track is not None and orientation == "video" and len(camera_track) >= 1:
        track = camera_track[np.clip(np.arange(T), 0, len(camera_track) - 1)]
        # reference-pixel camera -> output pixels (the scale/shift between them cancels in the conjugate)
        kref = p0.torso_len[0] / _full(ref.torso_len, ok)
        conj = np.array([[kref, 0, 0], [0, kref, 0], [0, 0, 1]])
        R0 = ref.root[0]
        for i in range(T):
            M = np.vstack([track[i], [0, 0, 1]])
            # about the reference's pelvis at t=0, mapped onto the character's rest pelvis
            Tm = np.array([[1, 0, -R0[0]], [0, 1, -R0[1]], [0, 0, 1]])
            To = np.array([[1, 0, p0.root[0, 0]], [0, 1, p0.root[0, 1]], [0, 0, 1]])
            full = To @ conj @ Tm @ M @ np.linalg.inv(Tm) @ np.linalg.inv(conj) @ np.linalg.inv(To)
            cam_bg[i] = full[:2]
        if directives.static:
            # a locked-off camera: take the reference camera's motion out of the person's path
            for i in range(T):
                inv = np.linalg.inv(np.vstack([cam_bg[i], [0, 0, 1]]))[:2]
                kp[i] = kp[i] @ inv[:, :2].T + inv[:, 2]
            cam_bg[:] = np.array([[1.0, 0, 0], [0, 1.0, 0]])
            notes.append("static camera: the reference's camera motion was taken out of the character's path")
    scale_out = params.scale.copy()
    if directives.moves:
        targets = _camera_targets(kp)
        cams = camera_path(directives, T, size, targets)
        for i in range(T):
            M = cams[i]
            kp[i] = kp[i] @ M[:, :2].T + M[:, 2]
            cam_bg[i] = (np.vstack([M, [0, 0, 1]]) @ np.vstack([cam_bg[i], [0, 0, 1]]))[:2]
            scale_out[i] *= float(np.sqrt(abs(np.linalg.det(M[:, :2]))))

    order = _draw_order(z, back, ok, ref.torso_len)
    return MotionPlan(
        keypoints=kp.astype(np.float32), scale=scale_out, order=order, camera=cam_bg,
        times=motion.times.copy(), fps=motion.fps, size=(int(size[0]), int(size[1])), base=base,
        back_facing=back, contact=contact, notes=notes,
    )


def _size_ratio(ref: Params, ok: np.ndarray, motion: PoseSequence) -> np.ndarray:
    """How much bigger the reference person is than at the first frame (camera distance), smoothed."""
    size = np.maximum(ref.torso_len, 0.6 * np.abs(ref.sh_width) + 0.0)
    win = max(3, int(round(float(motion.fps) * 1.0)) | 1)
    sm = median_filter(size, size=win, mode="nearest")
    sm = uniform_filter1d(sm, size=win, mode="nearest")
    first = sm[np.flatnonzero(ok)[0]]
    return np.clip(sm / max(first, 1e-6), 0.5, 2.0)


def _contacts(ref_kp: np.ndarray, vis: np.ndarray, torso: np.ndarray, ok: np.ndarray, motion: PoseSequence) -> np.ndarray:
    """Planted feet ``(T, 2)`` in the reference: ankle slow (< 0.35 torso/s) and near the lowest foot."""
    fps = float(motion.fps)
    T = len(ref_kp)
    unit = _full(torso, ok)
    out = np.zeros((T, 2), bool)
    ank = np.stack([ref_kp[:, KP["ankle_l"], :2], ref_kp[:, KP["ankle_r"], :2]], axis=1)
    seen = np.stack([np.minimum(vis[:, KP["ankle_l"]], vis[:, KP["toe_l"]]), np.minimum(vis[:, KP["ankle_r"]], vis[:, KP["toe_r"]])], axis=1) >= VISIBLE
    if T < 3:
        return out
    ank = uniform_filter1d(ank, size=3, axis=0, mode="nearest")
    speed = np.linalg.norm(np.gradient(ank, axis=0), axis=2) * fps / unit
    ground = np.max(ank[..., 1], axis=1)
    win = max(3, int(fps))
    from scipy.ndimage import maximum_filter1d

    ground = maximum_filter1d(ground, size=win, mode="nearest")
    low = ank[..., 1] >= ground[:, None] - 0.08 * unit
    out = seen & (speed < 0.35) & low & ok[:, None]
    for k in range(2):
        out[:, k] = median_filter(out[:, k].astype(np.uint8), size=3, mode="nearest").astype(bool)
    return out


def _two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knee and ankle that put the ankle on ``target`` with the thigh and shin lengths kept.

    Analytic two-bone inverse kinematics in the image plane (law of cosines); the knee bends to
    the same side as in the given pose, and an unreachable target is approached along the line
    from the hip (the leg straightens rather than stretches).
    """
    l1 = float(np.linalg.norm(knee - hip))
    l2 = float(np.linalg.norm(ankle - knee))
    d_vec = target - hip
    d = float(np.linalg.norm(d_vec))
    if l1 < 1e-6 or l2 < 1e-6 or d < 1e-6:
        return knee, ankle
    d_c = float(np.clip(d, abs(l1 - l2) + 1e-6, l1 + l2 - 1e-6))
    u = d_vec / d
    cos_a = (l1 * l1 + d_c * d_c - l2 * l2) / (2 * l1 * d_c)
    a = float(np.arccos(np.clip(cos_a, -1.0, 1.0)))
    # the side the knee is on now (sign of the cross product hip->ankle x hip->knee)
    v, w = ankle - hip, knee - hip
    side = 1.0 if (v[0] * w[1] - v[1] * w[0]) >= 0 else -1.0
    c, s = np.cos(side * a), np.sin(side * a)
    new_knee = hip + l1 * np.array([c * u[0] - s * u[1], s * u[0] + c * u[1]])
    new_ankle = hip + d_c * u
    return new_knee, new_ankle


def _nearest_in_discs(p: np.ndarray, discs: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """The point nearest ``p`` inside every disc ``(centre, radius)`` (at most two discs).

    Disjoint discs give the middle of the gap between them (the least-violating compromise).
    """
    inside = lambda q: all(np.linalg.norm(q - c) <= r + 1e-6 for c, r in discs)  # noqa: E731
    if inside(p):
        return p
    for c, r in discs:
        d = p - c
        n = float(np.linalg.norm(d))
        q = c + d / max(n, 1e-9) * r
        if n > r and inside(q):
            return q
    if len(discs) < 2:
        c, r = discs[0]
        d = p - c
        return c + d / max(float(np.linalg.norm(d)), 1e-9) * r
    (c1, r1), (c2, r2) = discs[:2]
    dv = c2 - c1
    d = float(np.linalg.norm(dv))
    if d < 1e-9:
        return c1 + (p - c1) / max(float(np.linalg.norm(p - c1)), 1e-9) * min(r1, r2)
    u = dv / d
    if d >= r1 + r2:
        return c1 + u * (r1 + (d - r1 - r2) / 2)
    if d <= abs(r1 - r2):  # one disc inside the other: the smaller one binds
        c, r = (c1, r1) if r1 < r2 else (c2, r2)
        return c + (p - c) / max(float(np.linalg.norm(p - c)), 1e-9) * r
    a = (r1 * r1 - r2 * r2 + d * d) / (2 * d)
    h = float(np.sqrt(max(r1 * r1 - a * a, 0.0)))
    m = c1 + a * u
    perp = np.array([-u[1], u[0]])
    cands = [m + h * perp, m - h * perp]
    return min(cands, key=lambda q: float(np.linalg.norm(q - p)))


def _pin_feet(kp: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Planted feet stay where they landed (footskate clean-up, Kovar, Schreiner & Gleicher 2002).

    Each foot that touches down keeps the spot where it landed for the whole contact. The body
    (root) shifts by the offset that holds the lower planted foot, adjusted by the least amount
    that lets every planted leg reach its spot (the root-position step of Kovar et al.); the legs
    then reach their spots by two-bone inverse kinematics (:func:`_two_bone_ik`), toes carried
    with the ankles. Between contacts the offset relaxes back toward the reference path.
    """
    T = len(kp)
    offset = np.zeros(2)
    legs = (("hip_l", "knee_l", "ankle_l", "toe_l"), ("hip_r", "knee_r", "ankle_r", "toe_r"))
    holds: list[np.ndarray | None] = [None, None]
    out = kp.copy()
    for i in range(T):
        c = contact[i]
        for k in range(2):
            if not c[k]:
                holds[k] = None
            elif holds[k] is None:
                # lands where the current offset puts it
                holds[k] = kp[i, KP[legs[k][2]]] + offset
        if c.any():
            planted = [k for k in range(2) if c[k]]
            low = max(planted, key=lambda k: holds[k][1])
            want = holds[low] - kp[i, KP[legs[low][2]]]
            discs = []
            for k in planted:
                h, kn, a, _ = (KP[n] for n in legs[k])
                reach = 0.999 * (np.linalg.norm(kp[i, kn] - kp[i, h]) + np.linalg.norm(kp[i, a] - kp[i, kn]))
                discs.append((holds[k] - kp[i, h], float(reach)))
            offset = _nearest_in_discs(want, discs)
        else:
            offset = offset * 0.9  # drift back toward the reference path while no foot is down
        out[i] = kp[i] + offset
        for k in range(2):
            if c[k]:
                h, kn, a, toe = (KP[n] for n in legs[k])
                knee, ankle = _two_bone_ik(out[i, h], out[i, kn], out[i, a], holds[k])
                out[i, toe] += ankle - out[i, a]
                out[i, kn], out[i, a] = knee, ankle
    return out


def _camera_targets(kp: np.ndarray) -> dict[str, np.ndarray]:
    head = kp[:, KP["head"]]
    neck = kp[:, KP["neck"]]
    return {
        "face": head, "eyes": head * 0.8 + neck * 0.2 + (head - neck) * 0.1,
        "hands": (kp[:, KP["hand_l"]] + kp[:, KP["hand_r"]]) / 2,
        "body": (head + (kp[:, KP["ankle_l"]] + kp[:, KP["ankle_r"]]) / 2) / 2,
        "feet": (kp[:, KP["ankle_l"]] + kp[:, KP["ankle_r"]]) / 2,
    }


_LEGS = [[PART[f"thigh_{s}"], PART[f"shin_{s}"], PART[f"foot_{s}"]] for s in ("l", "r")]
_ARMS = [[PART[f"upper_arm_{s}"], PART[f"forearm_{s}"], PART[f"hand_{s}"]] for s in ("l", "r")]


def _draw_order(z: np.ndarray, back: np.ndarray, ok: np.ndarray, torso_len: np.ndarray) -> np.ndarray:
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
