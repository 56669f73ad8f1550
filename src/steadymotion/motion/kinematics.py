"""2D kinematics of the character skeleton: pose parameters, forward kinematics, blending.

A pose is a :class:`Params` (root, torso angle and length, shoulder and hip widths, head and limb
directions relative to their parents, limb lengths), per frame. :func:`measure` reads it from
keypoints, :func:`forward` builds keypoints from it, :func:`blend` interpolates two poses. The
skeleton itself (keypoints, parts, limbs) is :mod:`steadymotion.skeleton`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from steadymotion.skeleton import KP, LIMB, LIMBS


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


ANGLES = ("torso_angle", "head_rel", "limb_rel")


def _ang(v: np.ndarray) -> np.ndarray:
    return np.arctan2(v[..., 1], v[..., 0])


def wrap(a: np.ndarray) -> np.ndarray:
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
    for i, limb in enumerate(LIMBS):
        v = kp[:, KP[limb.b]] - kp[:, KP[limb.a]]
        limb_abs[:, i] = _ang(v)
        limb_len[:, i] = np.linalg.norm(v, axis=1)
    limb_rel = np.zeros_like(limb_abs)
    for i, limb in enumerate(LIMBS):
        limb_rel[:, i] = limb_abs[:, i] - (theta if limb.parent == "torso" else limb_abs[:, LIMB[limb.parent]])
    head = kp[:, KP["head"]] - neck
    return Params(
        root=pelvis, scale=np.broadcast_to(np.asarray(scale, np.float64), (T,)).copy(),
        torso_angle=theta, torso_len=np.linalg.norm(axis, axis=1),
        sh_width=np.einsum("ti,ti->t", kp[:, KP["shoulder_l"]] - kp[:, KP["shoulder_r"]], c),
        hip_width=np.einsum("ti,ti->t", kp[:, KP["hip_l"]] - kp[:, KP["hip_r"]], c),
        head_rel=wrap(_ang(head) - theta), head_len=np.linalg.norm(head, axis=1),
        limb_rel=wrap(limb_rel), limb_len=limb_len,
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
    for i, limb in enumerate(LIMBS):
        absang[:, i] = (th if limb.parent == "torso" else absang[:, LIMB[limb.parent]]) + p.limb_rel[:, i]
        d = np.stack([np.cos(absang[:, i]), np.sin(absang[:, i])], axis=-1)
        kp[:, KP[limb.b]] = kp[:, KP[limb.a]] + d * p.limb_len[:, i:i + 1]
    hd = th + p.head_rel
    kp[:, KP["head"]] = kp[:, KP["neck"]] + np.stack([np.cos(hd), np.sin(hd)], axis=-1) * p.head_len[:, None]
    return kp


def blend(a: Params, b: Params, w: np.ndarray) -> Params:
    """Per-frame interpolation from ``a`` (w = 0) to ``b`` (w = 1); angles along the shorter arc."""
    out = {}
    for f in fields(Params):
        x, y = getattr(a, f.name), getattr(b, f.name)
        ww = w.reshape((-1,) + (1,) * (np.ndim(y) - 1))
        if f.name in ANGLES:
            out[f.name] = x + wrap(y - x) * ww
        else:
            out[f.name] = x + (y - x) * ww
    return Params(**out)


def repeat(p: Params, n: int) -> Params:
    return Params(**{f.name: np.repeat(getattr(p, f.name)[:1], n, axis=0) for f in fields(Params)})


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def fit_base(image_size: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    """Master-image -> output mapping: scale to cover the output, centred (crops the longer side)."""
    iw, ih = image_size
    ow, oh = out_size
    s = max(ow / iw, oh / ih)
    return np.array([[s, 0, (ow - s * iw) / 2], [0, s, (oh - s * ih) / 2]], np.float64)


def fill_missing(arr: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Hold the nearest valid frame over frames without a body."""
    idx = np.flatnonzero(ok)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(arr))), 0, len(idx) - 1)]
    prev = idx[np.clip(np.searchsorted(idx, np.arange(len(arr)), side="right") - 1, 0, len(idx) - 1)]
    pick = np.where(np.abs(np.arange(len(arr)) - prev) <= np.abs(nearest - np.arange(len(arr))), prev, nearest)
    return arr[pick]


def full_length(v: np.ndarray, ok: np.ndarray | None = None, q: float = 90.0) -> float:
    """A bone's full (unforeshortened) length: the ``q``-th percentile (90th) of its visible lengths."""
    x = v if ok is None else v[ok]
    x = x[np.isfinite(x)]
    return float(np.percentile(x, q)) if x.size else 1.0


def arms_out(kp: np.ndarray, degrees: float) -> np.ndarray:
    """Keypoints ``(K, >=2)`` with both arms held straight out from the shoulders, ``degrees`` above
    the horizontal (each bone keeping its 2D length): the pose the rig checks and the preflight
    calibration raise a figure's arms to. The subject's left arm goes to the image's right."""
    out = np.asarray(kp, np.float64)[:, :2].copy()
    a = np.radians(degrees)
    for k, sign in (("l", 1.0), ("r", -1.0)):
        chain = [out[KP[f"{j}_{k}"]].copy() for j in ("shoulder", "elbow", "wrist", "hand")]
        d = np.array([sign * np.cos(a), -np.sin(a)])
        reach = 0.0
        for j, joint in enumerate(("elbow", "wrist", "hand"), start=1):
            reach += float(np.linalg.norm(chain[j] - chain[j - 1]))
            out[KP[f"{joint}_{k}"]] = chain[0] + reach * d
    return out
