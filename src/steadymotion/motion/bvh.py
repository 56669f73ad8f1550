"""Motion capture in and out: a BVH capture as a :class:`~steadymotion.types.PoseSequence`, and a
tracked :class:`~steadymotion.types.PoseSequence` as a BVH capture.

BVH -> motion (:func:`pose_from_bvh`): the capture is resampled to the output frame rate (joint
rotations slerped), posed by forward kinematics (:mod:`steadymotion.io.bvh`), its joints named by
one of the common skeleton namings (:data:`NAMINGS`, or a user's ``--skeleton-map``) and projected
onto the image plane per limb group as Meta's AnimatedDrawings does (Smith et al., "A Method for
Animating Children's Drawings of the Human Figure", ACM TOG 2023; its
``animated_drawings/model/retargeter.py`` and ``examples/config/retarget/fair1_ppf.yaml``, MIT):
every frame is turned about the vertical so the body faces the camera; the trunk is projected on
the frontal plane; each limb group (arms, legs) on the frontal or the sagittal plane, whichever is
nearer the plane that best fits the group's joints over the whole capture (PCA); the root's path
is the sum of its per-frame steps along the body's sideways and up axes. The result is an
ordinary pose sequence in pixels (33 MediaPipe body landmarks), so retargeting, every export and
the drift meter work on it unchanged.

Motion -> BVH (:func:`bvh_from_pose`): a standard humanoid hierarchy (Hips root with six
channels; Spine, Spine1, Neck, Head; shoulders, arms, forearms, hands; up-legs, legs, feet, toes)
in a T-pose rest with the subject's median bone lengths, and per-frame rotations solved from the
tracked 3D landmarks (MediaPipe's world landmarks, :func:`body_points_3d`): the hips and chest get a full frame (sideways axis from the hip or shoulder
line, up axis from the spine), the head a frame from the ears, and every limb bone the smallest
rotation (swing) taking its parent-carried rest direction onto the observed bone direction. Euler
angles are written in ZXY order; frame time is ``1 / fps``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from steadymotion.errors import InputNotFoundError, InvalidOptionError, NoPersonError
from steadymotion.io.bvh import Bvh, BvhJoint, InvalidBvhError
from steadymotion.skeleton import BODY, N_BODY
from steadymotion.types import PoseSequence

#: Frame rate a capture is resampled to when none is asked for.
DEFAULT_FPS = 30
#: Long side of the pixel frame a capture is drawn into (the reference's "video size").
FRAME_SIDE = 1280
#: Empty border around the whole capture, as a fraction of that frame.
FRAME_MARGIN = 0.08
#: Projection of a limb group: AnimatedDrawings' methods.
PROJECTIONS = ("pca", "frontal", "sagittal")

SIDES = ("left", "right")
#: The joints a capture must name (``--skeleton-map`` keys), subject's left and right.
REQUIRED_ROLES = ("hips", "neck", "head") + tuple(
    f"{s}_{j}" for s in SIDES for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
#: Joints used when present (otherwise derived: the hand from the forearm, the toe from the ankle's child).
OPTIONAL_ROLES = tuple(f"{s}_{j}" for s in SIDES for j in ("hand", "toe"))
ROLES = REQUIRED_ROLES + OPTIONAL_ROLES


def _sided(left: dict[str, tuple[str, ...]], right_of) -> dict[str, tuple[str, ...]]:
    out = dict(left)
    for role, names in left.items():
        if role.startswith("left_"):
            out["right_" + role[5:]] = tuple(right_of(n) for n in names)
    return out


#: Skeleton namings: role -> candidate joint names (compared without case and without a
#: ``namespace:`` prefix such as ``mixamorig:``), subject's left. The first naming whose required
#: roles are all found is used.
NAMINGS: dict[str, dict[str, tuple[str, ...]]] = {
    # Meta's capture skeleton (AnimatedDrawings fair1: dab, wave_hello), Mixamo, Rokoko (jesse_dance):
    # *Shoulder is the clavicle, *Arm the upper arm
    "Mixamo / Rokoko / Meta": _sided({
        "hips": ("Hips",), "neck": ("Neck", "Neck1"), "head": ("Head",),
        "left_shoulder": ("LeftArm",), "left_elbow": ("LeftForeArm",), "left_wrist": ("LeftHand",),
        "left_hand": ("LeftHandMiddle1", "LeftHandEnd", "LeftHandIndex1"),
        "left_hip": ("LeftUpLeg",), "left_knee": ("LeftLeg",), "left_ankle": ("LeftFoot",),
        "left_toe": ("LeftToeBase", "LeftToe", "LeftToe_End"),
    }, lambda n: n.replace("Left", "Right")),
    # CMU captures as converted by cgspeed / AnimatedDrawings cmu1 (jumping_jacks): *Shoulder is the upper arm
    "CMU": _sided({
        "hips": ("Hips",), "neck": ("Neck", "LowerNeck"), "head": ("Head",),
        "left_shoulder": ("LeftShoulder", "LeftArm"), "left_elbow": ("LeftElbow", "LeftForeArm"),
        "left_wrist": ("LeftWrist", "LeftHand"), "left_hand": ("lhand", "LeftFingers", "LFingers"),
        "left_hip": ("LeftHip", "LeftUpLeg"), "left_knee": ("LeftKnee",), "left_ankle": ("LeftAnkle",),
        "left_toe": ("LeftToe", "LeftToeBase"),
    }, lambda n: n.replace("Left", "Right").replace("lhand", "rhand").replace("LFingers", "RFingers")),
    # CMU in the Daz/Poser naming (hip, abdomen, chest, lShldr, lForeArm, lThigh, lShin ...)
    "CMU (Daz)": _sided({
        "hips": ("hip", "hips"), "neck": ("neck",), "head": ("head",),
        "left_shoulder": ("lShldr",), "left_elbow": ("lForeArm",), "left_wrist": ("lHand",),
        "left_hip": ("lThigh",), "left_knee": ("lShin",), "left_ankle": ("lFoot",), "left_toe": ("lToe",),
    }, lambda n: "r" + n[1:]),
}


def _key(name: str) -> str:
    return name.rsplit(":", 1)[-1].lower()


def load_skeleton_map(path: str | Path) -> dict[str, str]:
    """Read a ``--skeleton-map`` JSON file: ``{"role": "JointName", ...}`` with roles from :data:`ROLES`."""
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"skeleton map {str(p)!r} not found")
    try:
        data = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidOptionError(f"--skeleton-map {p.name}: not valid JSON ({exc}); write it as "
                                 '{"left_shoulder": "L_UpperArm", ...}') from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise InvalidOptionError(f"--skeleton-map {p.name}: must be one JSON object of role -> joint name")
    unknown = sorted(set(data) - set(ROLES))
    if unknown:
        raise InvalidOptionError(f"--skeleton-map {p.name}: unknown roles {', '.join(unknown)}; use {', '.join(ROLES)}")
    return dict(data)


@dataclass
class Naming:
    """How a capture's joints were named: the naming's name and role -> joint index."""

    name: str
    index: dict[str, int]


def resolve_naming(names: list[str], skeleton_map: dict[str, str] | None = None) -> Naming:
    """Find each role's joint among ``names`` (a capture's joint names).

    A ``skeleton_map`` (role -> joint name) wins over the built-in namings; roles it leaves out are
    taken from the first built-in naming that names them all, or from the best one.
    """
    by_key: dict[str, int] = {}
    for i, n in enumerate(names):
        by_key.setdefault(_key(n), i)
    user: dict[str, int] = {}
    for role, joint in (skeleton_map or {}).items():
        if _key(joint) not in by_key:
            raise InvalidBvhError(f"--skeleton-map names {joint!r} for {role}, but the capture has no such joint "
                                  f"(its joints: {', '.join(names[:40])})")
        user[role] = by_key[_key(joint)]
    best: tuple[int, str, dict[str, int]] | None = None
    for naming, table in NAMINGS.items():
        found: dict[str, int] = {}  # the first candidate found wins
        for role, cands in table.items():
            for c in cands:
                if _key(c) in by_key:
                    found[role] = by_key[_key(c)]
                    break
        found.update(user)
        score = sum(r in found for r in REQUIRED_ROLES)
        if best is None or score > best[0]:
            best = (score, naming, found)
        if score == len(REQUIRED_ROLES):
            break
    score, naming, found = best  # type: ignore[misc]
    missing = [r for r in REQUIRED_ROLES if r not in found]
    if missing:
        raise InvalidBvhError(
            f"cannot tell which joint is which: no {', '.join(missing)} among the capture's joints "
            f"({', '.join(names[:40])}); known namings: {', '.join(NAMINGS)}. Give a --skeleton-map JSON file, e.g. "
            + json.dumps({r: names[found[r]] if r in found else "JointName" for r in REQUIRED_ROLES[:4]}))
    return Naming("custom" if skeleton_map else naming, found)


# --- BVH -> PoseSequence -----------------------------------------------------------------------------
def resample(bvh: Bvh, fps: float) -> tuple[np.ndarray, np.ndarray, list[Rotation]]:
    """The capture at ``fps``: output times, local translations ``(T, J, 3)`` and rotations.

    ``T = round(duration * fps)`` frames at ``k / fps``, so the duration stays the capture's
    (frames x frame time); rotations are slerped between the capture's frames, translations
    interpolated linearly.
    """
    n = max(1, int(round(bvh.duration_s * fps)))
    times = np.arange(n) / fps
    key_t = np.arange(bvh.n_frames) * bvh.frame_time
    at = np.clip(times, 0.0, key_t[-1])
    trans, rots = bvh.local()
    if bvh.n_frames == 1:
        return times, np.repeat(trans, n, axis=0), [Rotation.concatenate([r] * n) if n > 1 else r for r in rots]
    trans_t = np.empty((n,) + trans.shape[1:])
    for j in range(trans.shape[1]):
        for c in range(3):
            trans_t[:, j, c] = np.interp(at, key_t, trans[:, j, c])
    return times, trans_t, [Slerp(key_t, r)(at) for r in rots]


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-12, n, 1.0)


def _child_point(bvh: Bvh, pos: np.ndarray, ends: np.ndarray, j: int) -> np.ndarray | None:
    """Where joint ``j``'s bone ends: its first child, else its end site (None when neither)."""
    for c, joint in enumerate(bvh.joints):
        if joint.parent == j:
            return pos[:, c]
    return ends[:, j] if bvh.joints[j].end_site is not None else None


def pose_from_bvh(
    bvh: Bvh,
    *,
    fps: float = DEFAULT_FPS,
    skeleton_map: dict[str, str] | None = None,
    arms: str = "pca",
    legs: str = "pca",
    side: int = FRAME_SIDE,
    face_camera: bool = True,
) -> PoseSequence:
    """A BVH capture as a pose sequence: 33 MediaPipe body landmarks per frame in pixels.

    Parameters
    ----------
    bvh : Bvh
        From :func:`steadymotion.io.bvh.read_bvh`.
    fps : float
        Output frame rate; the capture is resampled (:func:`resample`), its duration kept.
    skeleton_map : dict, optional
        Role -> joint name for skeletons none of :data:`NAMINGS` fits (:func:`load_skeleton_map`).
    arms, legs : {"pca", "frontal", "sagittal"}
        The projection plane of each limb group (AnimatedDrawings' ``bvh_projection_bodypart_groups``
        methods): ``pca`` picks frontal or sagittal, whichever is nearer the plane that best fits
        the group's joints. A sagittal limb's forward reach is drawn outward (to its own side), so a
        front-facing character reaches out where the capture reaches forward.
    side : int
        Long side of the pixel frame the capture is drawn into (its extent fills it, less a margin).
    face_camera : bool
        Turn every frame to face the camera, as AnimatedDrawings does (a 2D character has only its
        front). ``False`` keeps the capture's own turning, seen by a camera facing the first frame's
        body (a capture made from a video then reproduces that video's view).

    Returns
    -------
    PoseSequence
        Body present on every frame (visibility 1; hands and face absent); ``z`` is the depth
        toward the camera (smaller nearer) in pixels; ``meta["bvh"]`` records the naming, up axis
        and the projection chosen per group.
    """
    for name, method in (("arms", arms), ("legs", legs)):
        if method not in PROJECTIONS:
            raise InvalidOptionError(f"{name} projection {method!r}: use one of {', '.join(PROJECTIONS)}")
    if not (np.isfinite(fps) and 1 <= fps <= 240):
        raise InvalidOptionError(f"fps {fps}: use a frame rate between 1 and 240")
    naming = resolve_naming(bvh.names, skeleton_map)
    idx = naming.index
    times, trans, rots = resample(bvh, fps)
    pos, ends, world = bvh.forward_kinematics(trans, rots)
    T = len(times)

    P: dict[str, np.ndarray] = {r: pos[:, idx[r]] for r in REQUIRED_ROLES}
    for s in SIDES:
        wrist, elbow = P[f"{s}_wrist"], P[f"{s}_elbow"]
        hand = pos[:, idx[f"{s}_hand"]] if f"{s}_hand" in idx else _child_point(bvh, pos, ends, idx[f"{s}_wrist"])
        if hand is None or np.nanmax(np.linalg.norm(hand - wrist, axis=-1)) < 1e-9:
            hand = wrist + 0.35 * (wrist - elbow)
        P[f"{s}_hand"] = hand
        ankle = P[f"{s}_ankle"]
        toe = pos[:, idx[f"{s}_toe"]] if f"{s}_toe" in idx else _child_point(bvh, pos, ends, idx[f"{s}_ankle"])
        if toe is None:
            toe = ankle + 0.25 * (ankle - P[f"{s}_knee"])
        P[f"{s}_toe"] = toe
    head_top = _child_point(bvh, pos, ends, idx["head"])
    if head_top is None or np.linalg.norm(head_top - P["head"], axis=-1).max() < 1e-9:
        head_top = P["head"] + (P["head"] - P["neck"])

    # the capture's up axis: the dominant axis of hips -> head (Y up and Z up both occur)
    up_vec = np.nanmean(P["head"] - P["hips"], axis=0)
    axis = int(np.argmax(np.abs(up_vec)))
    up = np.zeros(3)
    up[axis] = np.sign(up_vec[axis]) or 1.0

    # per frame, the body's sideways axis (subject's left) in the horizontal plane, and forward
    across = (P["left_shoulder"] - P["right_shoulder"]) + (P["left_hip"] - P["right_hip"])
    across = across - (across @ up)[:, None] * up
    lat = _unit(across)
    bad = np.linalg.norm(across, axis=-1) < 1e-9
    if bad.all():
        raise InvalidBvhError("the capture's left and right joints coincide; check the --skeleton-map")
    if bad.any():
        good = np.flatnonzero(~bad)
        lat[bad] = lat[good[np.clip(np.searchsorted(good, np.flatnonzero(bad)), 0, len(good) - 1)]]
    if not face_camera:
        lat = np.repeat(lat[:1], T, axis=0)
    fwd = np.cross(lat, up)

    root = P["hips"]

    def frame(v: np.ndarray) -> np.ndarray:
        """World vectors (T, 3) -> body frame (T, 3): sideways (subject's left), up, toward the camera."""
        return np.stack([np.einsum("tc,tc->t", v, lat), v @ up, np.einsum("tc,tc->t", v, fwd)], axis=-1)

    # head landmarks: the head joint's own frame carried from the rest pose
    rest_pos, rest_ends = bvh.rest_positions()
    r = {k: rest_pos[v] for k, v in idx.items()}
    rest_lat = (r["left_shoulder"] - r["right_shoulder"]) + (r["left_hip"] - r["right_hip"])
    rest_up = r["head"] - r["hips"]
    head_len = np.linalg.norm(head_top - P["head"], axis=-1)[:, None]
    centre = P["head"] + 0.5 * (head_top - P["head"])
    if np.linalg.norm(rest_lat) > 1e-9 and np.linalg.norm(rest_up) > 1e-9:
        rl = _unit(rest_lat - (rest_lat @ _unit(rest_up)) * _unit(rest_up))
        rf = np.cross(rl, _unit(rest_up))
        h_lat, h_fwd = world[idx["head"]].apply(np.tile(rl, (T, 1))), world[idx["head"]].apply(np.tile(rf, (T, 1)))
    else:
        h_lat, h_fwd = lat, fwd
    h_up = _unit(head_top - P["head"])
    face = {
        "left_ear": centre + 0.45 * head_len * h_lat, "right_ear": centre - 0.45 * head_len * h_lat,
        "nose": centre + 0.55 * head_len * h_fwd - 0.1 * head_len * h_up,
    }
    for s, sign in (("left", 1), ("right", -1)):
        eye = centre + 0.45 * head_len * h_fwd + 0.1 * head_len * h_up
        face[f"{s}_eye"] = eye + sign * 0.18 * head_len * h_lat
        face[f"{s}_eye_inner"] = eye + sign * 0.1 * head_len * h_lat
        face[f"{s}_eye_outer"] = eye + sign * 0.26 * head_len * h_lat
        face[f"mouth_{s}"] = centre + 0.45 * head_len * h_fwd - 0.35 * head_len * h_up + sign * 0.12 * head_len * h_lat

    # trunk: frontal projection of points relative to the root
    trunk = {name: frame(p - root) for name, p in face.items()}
    for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        trunk[name] = frame(P[name] - root)

    # limb groups: frontal or sagittal (AnimatedDrawings' PCA choice between the two)
    chains = {
        "arms": [("left_shoulder", "left_elbow", "left_wrist", "left_hand"),
                 ("right_shoulder", "right_elbow", "right_wrist", "right_hand")],
        "legs": [("left_hip", "left_knee", "left_ankle", "left_toe"),
                 ("right_hip", "right_knee", "right_ankle", "right_toe")],
    }
    chosen: dict[str, str] = {}
    pts2: dict[str, np.ndarray] = {k: v[:, :2] for k, v in trunk.items()}
    depth: dict[str, np.ndarray] = {k: v[:, 2] for k, v in trunk.items()}
    for group, method in (("arms", arms), ("legs", legs)):
        local = {j: frame(P[j] - root) for chain in chains[group] for j in chain}
        if method == "pca":
            # AnimatedDrawings: the normal of the plane that best fits the group's joints over the
            # whole capture (their least-variance direction, PCA) decides, whichever of the
            # forward (frontal plane) or sideways (sagittal plane) axis it is nearer
            X = np.concatenate(list(local.values()))
            normal = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)[2][-1]
            method = "frontal" if abs(normal[2]) >= abs(normal[0]) else "sagittal"
        chosen[group] = method
        for chain in chains[group]:
            sign = 1.0 if chain[0].startswith("left") else -1.0
            for a, b in zip(chain[:-1], chain[1:]):
                d = local[b] - local[a]
                step = d[:, :2] if method == "frontal" else np.stack([sign * d[:, 2], d[:, 1]], axis=-1)
                pts2[b] = pts2[a] + step
                depth[b] = depth[a] + (d[:, 2] if method == "frontal" else -sign * d[:, 0])
    for s in SIDES:  # heel behind and below the ankle; fingers at the hand point, thumb half-way
        foot = pts2[f"{s}_toe"] - pts2[f"{s}_ankle"]
        pts2[f"{s}_heel"] = pts2[f"{s}_ankle"] - 0.2 * foot + np.array([0.0, -1.0]) * 0.25 * np.linalg.norm(foot, axis=-1, keepdims=True)
        depth[f"{s}_heel"] = depth[f"{s}_ankle"]
        pts2[f"{s}_foot_index"], depth[f"{s}_foot_index"] = pts2.pop(f"{s}_toe"), depth.pop(f"{s}_toe")
        hand, hd = pts2.pop(f"{s}_hand"), depth.pop(f"{s}_hand")
        for f in ("index", "pinky"):
            pts2[f"{s}_{f}"], depth[f"{s}_{f}"] = hand, hd
        pts2[f"{s}_thumb"] = 0.5 * (hand + pts2[f"{s}_wrist"])
        depth[f"{s}_thumb"] = 0.5 * (hd + depth[f"{s}_wrist"])

    # the root's path: its steps along the body's sideways and up axes, summed (AnimatedDrawings)
    step = np.diff(root, axis=0)
    path = np.zeros((T, 2))
    path[1:, 0] = np.cumsum(np.einsum("tc,tc->t", step, lat[1:]))
    path[:, 1] = root @ up - (root[0] @ up)
    xy = np.full((T, N_BODY, 2), np.nan)
    z = np.full((T, N_BODY), np.nan)
    for name, v in pts2.items():
        xy[:, BODY[name]] = v + path
        z[:, BODY[name]] = depth[name]
    # into pixels: y down, the capture's whole extent inside the frame
    lo, hi = xy.min(axis=(0, 1)), xy.max(axis=(0, 1))
    extent = np.maximum(hi - lo, 1e-9)
    k = side * (1 - 2 * FRAME_MARGIN) / float(extent.max())
    w_px, h_px = (int(round((e * k) / (1 - 2 * FRAME_MARGIN))) // 2 * 2 for e in extent)
    w_px, h_px = max(w_px, side // 4), max(h_px, side // 4)
    body = np.empty((T, N_BODY, 4), np.float32)
    body[..., 0] = (xy[..., 0] - (lo[0] + hi[0]) / 2) * k + w_px / 2
    body[..., 1] = ((lo[1] + hi[1]) / 2 - xy[..., 1]) * k + h_px / 2
    body[..., 2] = -z * k
    body[..., 3] = 1.0
    seq = PoseSequence.empty(T, Fraction(fps).limit_denominator(1001), (w_px, h_px), times=times)
    seq.body[:] = body
    seq.body_present[:] = True
    seq.source = bvh.source
    seq.meta.update(bvh={"naming": naming.name, "up": "XYZ"[axis] if up[axis] > 0 else "-" + "XYZ"[axis],
                         "projection": {"trunk": "frontal", **chosen}, "frames": bvh.n_frames,
                         "frame_time": bvh.frame_time})
    return seq


def read_motion_bvh(path: str | Path, *, fps: float = DEFAULT_FPS, skeleton_map: str | Path | dict | None = None,
                    **options) -> PoseSequence:
    """:func:`steadymotion.io.bvh.read_bvh` then :func:`pose_from_bvh`; ``skeleton_map`` may be a JSON path."""
    from steadymotion.io.bvh import read_bvh

    if skeleton_map is not None and not isinstance(skeleton_map, dict):
        skeleton_map = load_skeleton_map(skeleton_map)
    bvh = read_bvh(path)
    try:
        return pose_from_bvh(bvh, fps=fps, skeleton_map=skeleton_map, **options)
    except InvalidBvhError as exc:
        raise InvalidBvhError(f"{Path(path).name}: {exc}") from None


def is_bvh(path) -> bool:
    """Whether ``path`` names a BVH file (by its extension)."""
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() == ".bvh"


# --- PoseSequence -> BVH -----------------------------------------------------------------------------
#: The written hierarchy: name, parent, rest direction of the bone to its child (unit, T-pose facing +Z, Y up).
HUMANOID: tuple[tuple[str, str | None], ...] = (
    ("Hips", None), ("Spine", "Hips"), ("Spine1", "Spine"), ("Neck", "Spine1"), ("Head", "Neck"),
    ("LeftShoulder", "Spine1"), ("LeftArm", "LeftShoulder"), ("LeftForeArm", "LeftArm"), ("LeftHand", "LeftForeArm"),
    ("RightShoulder", "Spine1"), ("RightArm", "RightShoulder"), ("RightForeArm", "RightArm"), ("RightHand", "RightForeArm"),
    ("LeftUpLeg", "Hips"), ("LeftLeg", "LeftUpLeg"), ("LeftFoot", "LeftLeg"), ("LeftToeBase", "LeftFoot"),
    ("RightUpLeg", "Hips"), ("RightLeg", "RightUpLeg"), ("RightFoot", "RightLeg"), ("RightToeBase", "RightFoot"),
)
#: Without world landmarks, the torso (hip centre to shoulder centre) is taken to be this long.
TORSO_CM = 50.0
_ROT_CHANNELS = ("Zrotation", "Xrotation", "Yrotation")


def _swing(a: np.ndarray, b: np.ndarray) -> Rotation:
    """Per frame, the smallest rotation taking unit vectors ``a`` onto ``b`` (both ``(T, 3)``)."""
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1)
    c = np.einsum("tc,tc->t", a, b)
    angle = np.arctan2(s, c)
    # antiparallel: any perpendicular axis
    perp = np.cross(a, np.array([1.0, 0.0, 0.0]))
    perp = np.where(np.linalg.norm(perp, axis=-1, keepdims=True) < 1e-6, np.cross(a, np.array([0.0, 1.0, 0.0])), perp)
    axis = np.where((s < 1e-9)[:, None], perp, axis)
    return Rotation.from_rotvec(_unit(axis) * angle[:, None])


def _frame_rot(x: np.ndarray, y: np.ndarray) -> Rotation:
    """Rotation whose columns are sideways ``x`` and up ``y`` (made orthogonal) and ``x cross y``."""
    y = _unit(y)
    x = _unit(x - np.einsum("tc,tc->t", x, y)[:, None] * y)
    z = np.cross(x, y)
    return Rotation.from_matrix(np.stack([x, y, z], axis=-1))


def body_points_3d(seq: PoseSequence) -> tuple[np.ndarray, np.ndarray, str]:
    """Tracked 3D body landmarks ``(T, 33, 3)`` and the pelvis path ``(T, 3)``, in centimetres,
    Y up, Z toward the camera, subject's left at +X when facing it; frames without a body hold
    the nearest tracked one. Also says which landmarks were used.

    MediaPipe's world landmarks (metres, origin between the hips) when the sequence has them;
    otherwise the image landmarks (``x, y`` pixels, ``z`` depth in the same scale), scaled so the
    median torso is :data:`TORSO_CM` long. Either way ``y`` and ``z`` are flipped (MediaPipe's
    axes are the image's). The pelvis path is the image pelvis's motion relative to the first
    frame, at the same centimetres per pixel as the torso.
    """
    ok = seq.body_present & np.isfinite(seq.body[:, :, :3]).all(axis=(1, 2))
    use_world = seq.world is not None
    if use_world:
        ok &= np.isfinite(seq.world).all(axis=(1, 2))
    if not ok.any():
        raise NoPersonError("no frame of the motion holds a whole body; BVH needs the body tracked")
    idx = np.flatnonzero(ok)
    pick = idx[np.clip(np.searchsorted(idx, np.arange(len(seq))), 0, len(idx) - 1)]
    flip = np.array([1.0, -1.0, -1.0])
    img = seq.body[pick, :, :3].astype(np.float64) * flip

    def torso(b: np.ndarray) -> float:
        return max(float(np.median(np.linalg.norm(0.5 * (b[:, 11] + b[:, 12]) - 0.5 * (b[:, 23] + b[:, 24]), axis=-1))), 1e-9)

    if use_world:
        pts = seq.world[pick].astype(np.float64) * flip * 100.0
    else:
        pts = img * (TORSO_CM / torso(img))
    cm_per_px = torso(pts) / torso(img)
    pelvis = 0.5 * (img[:, 23] + img[:, 24])
    path = (pelvis - pelvis[0]) * cm_per_px
    path[:, 2] = 0.0  # depth of the person in the scene is not observed
    return pts, path, "world" if use_world else "image"


def bvh_from_pose(seq: PoseSequence) -> tuple[Bvh, dict[str, float]]:
    """A BVH capture of a tracked pose sequence (see the module notes), and its fit.

    Returns
    -------
    bvh : Bvh
        Hierarchy :data:`HUMANOID`, Hips with six channels, every joint ``Zrotation Xrotation
        Yrotation``; frame time ``1 / seq.fps``.
    fit : dict
        ``median_deg`` / ``p95_deg`` / ``max_deg``: angle between each written limb, spine and neck
        bone (forward kinematics of the result) and the tracked bone, over all frames;
        ``landmarks``: ``"world"`` or ``"image"`` (see :func:`body_points_3d`).
    """
    B, path, landmarks = body_points_3d(seq)
    T = len(B)
    g = {name: B[:, i] for name, i in BODY.items()}
    pelvis = 0.5 * (g["left_hip"] + g["right_hip"])
    neck = 0.5 * (g["left_shoulder"] + g["right_shoulder"])
    head = 0.5 * (g["left_ear"] + g["right_ear"])
    hand = {s: 0.5 * (g[f"{s}_index"] + g[f"{s}_pinky"]) for s in SIDES}

    def med(a, b) -> float:
        return float(np.median(np.linalg.norm(a - b, axis=-1)))

    torso = med(neck, pelvis)
    L = {
        "sh": med(g["left_shoulder"], g["right_shoulder"]) / 2, "hip": med(g["left_hip"], g["right_hip"]) / 2,
        "head": med(head, neck),
    }
    for s in SIDES:
        L[f"{s}_upper"] = med(g[f"{s}_elbow"], g[f"{s}_shoulder"])
        L[f"{s}_fore"] = med(g[f"{s}_wrist"], g[f"{s}_elbow"])
        L[f"{s}_hand"] = med(hand[s], g[f"{s}_wrist"])
        L[f"{s}_thigh"] = med(g[f"{s}_knee"], g[f"{s}_hip"])
        L[f"{s}_shin"] = med(g[f"{s}_ankle"], g[f"{s}_knee"])
        L[f"{s}_foot"] = med(g[f"{s}_foot_index"], g[f"{s}_ankle"])
    X, Y, Z = np.eye(3)
    offsets = {
        "Hips": np.zeros(3), "Spine": Y * 0.1 * torso, "Spine1": Y * 0.45 * torso, "Neck": Y * 0.45 * torso,
        "Head": Y * L["head"],
    }
    ends = {"Head": Y * L["head"] * 0.6}
    # rest bone directions (to the child) used by the swing solve, and the observed bones
    rest_dir: dict[str, np.ndarray] = {}
    observed: dict[str, np.ndarray] = {}
    for s, sx in (("left", 1.0), ("right", -1.0)):
        S = s.capitalize()
        offsets.update({
            f"{S}Shoulder": Y * 0.45 * torso, f"{S}Arm": X * sx * L["sh"], f"{S}ForeArm": X * sx * L[f"{s}_upper"],
            f"{S}Hand": X * sx * L[f"{s}_fore"], f"{S}UpLeg": X * sx * L["hip"], f"{S}Leg": -Y * L[f"{s}_thigh"],
            f"{S}Foot": -Y * L[f"{s}_shin"], f"{S}ToeBase": Z * L[f"{s}_foot"],
        })
        ends[f"{S}Hand"] = X * sx * L[f"{s}_hand"]
        ends[f"{S}ToeBase"] = Z * 0.3 * L[f"{s}_foot"]
        for joint, (a, b), d in (
            (f"{S}Arm", (g[f"{s}_shoulder"], g[f"{s}_elbow"]), X * sx), (f"{S}ForeArm", (g[f"{s}_elbow"], g[f"{s}_wrist"]), X * sx),
            (f"{S}Hand", (g[f"{s}_wrist"], hand[s]), X * sx), (f"{S}UpLeg", (g[f"{s}_hip"], g[f"{s}_knee"]), -Y),
            (f"{S}Leg", (g[f"{s}_knee"], g[f"{s}_ankle"]), -Y), (f"{S}Foot", (g[f"{s}_ankle"], g[f"{s}_foot_index"]), Z),
        ):
            rest_dir[joint] = d
            observed[joint] = _unit(b - a)

    world: dict[str, Rotation] = {}
    world["Hips"] = _frame_rot(g["left_hip"] - g["right_hip"], neck - pelvis)
    chest = _frame_rot(g["left_shoulder"] - g["right_shoulder"], neck - pelvis)
    half = Rotation.from_rotvec(0.5 * (world["Hips"].inv() * chest).as_rotvec())
    world["Spine"] = world["Hips"] * half
    world["Spine1"] = world["Spine"] * half
    world["Neck"] = _frame_rot(g["left_ear"] - g["right_ear"], head - neck)
    world["Head"] = world["Neck"]
    for s in SIDES:
        S = s.capitalize()
        world[f"{S}Shoulder"] = world["Spine1"]
        for joint in (f"{S}Arm", f"{S}ForeArm", f"{S}Hand", f"{S}UpLeg", f"{S}Leg", f"{S}Foot"):
            parent = dict(HUMANOID)[joint]
            carried = world[parent].apply(np.tile(rest_dir[joint], (T, 1)))
            world[joint] = _swing(carried, observed[joint]) * world[parent]
        world[f"{S}ToeBase"] = world[f"{S}Foot"]

    joints: list[BvhJoint] = []
    index: dict[str, int] = {}
    columns = []
    for name, parent in HUMANOID:
        index[name] = len(joints)
        chans = (("Xposition", "Yposition", "Zposition") if parent is None else ()) + _ROT_CHANNELS
        joints.append(BvhJoint(name, -1 if parent is None else index[parent], offsets[name], chans, ends.get(name)))
        local = world[name] if parent is None else world[parent].inv() * world[name]
        eul = local.as_euler("ZXY", degrees=True)
        if parent is None:
            # the root's path: the pelvis, relative to the first frame, standing on its legs
            legs = (L["left_thigh"] + L["left_shin"] + L["right_thigh"] + L["right_shin"]) / 2
            columns.append(path + Y * legs)
        columns.append(eul)
    motion = np.concatenate(columns, axis=1)
    bvh = Bvh(joints=joints, motion=motion, frame_time=1.0 / float(seq.fps), source=seq.source)

    # the fit: forward kinematics of what is written against the tracked bones
    pos, end_pos, _ = bvh.forward_kinematics()
    errs = []
    pairs = [("Spine1", "Neck", neck - pelvis), ("Neck", "Head", head - neck)]
    for s in SIDES:
        S = s.capitalize()
        pairs += [(f"{S}Arm", f"{S}ForeArm", observed[f"{S}Arm"]), (f"{S}ForeArm", f"{S}Hand", observed[f"{S}ForeArm"]),
                  (f"{S}UpLeg", f"{S}Leg", observed[f"{S}UpLeg"]), (f"{S}Leg", f"{S}Foot", observed[f"{S}Leg"]),
                  (f"{S}Foot", f"{S}ToeBase", observed[f"{S}Foot"])]
    for a, b, want in pairs:
        got = pos[:, index[b]] - (pos[:, index["Hips"]] if a == "Spine1" else pos[:, index[a]])
        cos = np.einsum("tc,tc->t", _unit(got), _unit(want))
        errs.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    e = np.concatenate(errs)
    fit = {"median_deg": float(np.median(e)), "p95_deg": float(np.percentile(e, 95)), "max_deg": float(e.max()),
           "landmarks": landmarks}
    return bvh, fit
