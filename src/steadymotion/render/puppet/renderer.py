"""Drawing the puppet: deform a :class:`~steadymotion.render.puppet.rig.Rig` to target keypoints.

Per frame: one 2D affine transform per part from the target keypoints (limbs stretch only along
their bone; the head, hands and feet stay rigid, the neck blends the head's transform with the
trunk's), linear blend skinning of each part's mesh, then each
triangle's inverse affine map rasterised into an index image and resolved with one ``cv2.remap``
per part (backward mapping, so no holes), composited back to front with premultiplied alpha (the
arms' pieces hidden under clothes right before the trunk).
Every pixel of the character is sampled from the master image, so identity cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from steadymotion.render.puppet.cutout import nearer_arm
from steadymotion.render.puppet.mesh import TORSO_LOWER
from steadymotion.render.puppet.rig import Rig
from steadymotion.skeleton import KP, PART, PARTS


@dataclass
class Pose2D:
    """What the renderer needs for one output frame.

    Attributes
    ----------
    keypoints : ndarray, (K, 2) float32
        Target puppet keypoints in output pixels (camera already applied).
    scale : float
        Output pixels per master-image pixel across the body (limb thickness, head and hand size).
    order : sequence of int
        Part indices, drawn first to last (back to front).
    camera : ndarray, (2, 3) float32
        The camera as an affine map of output pixels (applied to the background).
    face : ndarray, (468 or 478, 2|3) float32, optional
        The face's landmarks with the frame's expression, turn in depth and (with the irises, the
        last ten) gaze, in master-image pixels (before the head's motion; ``MotionPlan.face``): the
        face is warped to them and its eyes drawn looking where they say (:class:`.face.FaceWarp`).
    head_roll : float
        How much more the head turns in the picture's plane than its bone, radians
        (``MotionPlan.head_roll``).
    """

    keypoints: np.ndarray
    scale: float
    order: tuple[int, ...]
    camera: np.ndarray
    face: np.ndarray | None = None
    head_roll: float = 0.0


def _rot(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]], np.float64)


def _angle(v: np.ndarray) -> float:
    return float(np.arctan2(v[1], v[0]))


def part_transforms(rest: np.ndarray, target: np.ndarray, scale: float, head_roll: float = 0.0) -> np.ndarray:
    """Affine transforms ``(P + 1, 2, 3)`` taking each part from the rest pose to the target.

    Limbs: rotation + stretch along the bone (``|a'b'| / |ab|``) + ``scale`` across it. Rigid
    parts: rotation + uniform ``scale`` about the proximal joint (the head: about its own joint, so
    the bone's length moves it, turned ``head_roll`` radians more than its bone); a hand the target
    draws shorter than that (turned in depth) is squashed along its bone to that length. Torso: the upper transform maps
    both shoulders and the pelvis exactly, the lower one both hips and the neck (index
    :data:`TORSO_LOWER`).
    """
    T = np.zeros((len(PARTS) + 1, 2, 3), np.float64)
    r = rest[:, :2].astype(np.float64)
    t = target[:, :2].astype(np.float64)
    for i, spec in enumerate(PARTS):
        if spec.name == "torso":
            up = [KP["shoulder_l"], KP["shoulder_r"], KP["pelvis"]]
            lo = [KP["hip_l"], KP["hip_r"], KP["neck"]]
            T[i] = _affine3(r[up], t[up], scale)
            T[TORSO_LOWER] = _affine3(r[lo], t[lo], scale)
            continue
        a, b = KP[spec.a], KP[spec.b]
        va, vb = r[b] - r[a], t[b] - t[a]
        la, lb = float(np.hypot(*va)), float(np.hypot(*vb))
        th0, th1 = _angle(va), _angle(vb)
        # a hand turned in depth is squashed along its bone as a limb stretches
        # (``motion.plan._hand_foreshortening``)
        squashed = spec.name.startswith("hand") and lb < 0.999 * scale * la
        if (spec.rigid and not squashed) or la < 1e-6 or lb < 1e-6:
            A = scale * _rot(th1 - th0 + (head_roll if spec.name == "head" else 0.0))
        else:
            A = _rot(th1) @ np.diag([lb / la, scale]) @ _rot(-th0)
        T[i, :, :2] = A
        # the head goes where its joint (the ears' midpoint) is, nearer the neck or farther from it
        # with the reference's nod and lean; the neck's blend takes up the difference
        anchor = b if spec.name == "head" else a
        T[i, :, 2] = t[anchor] - A @ r[anchor]
    return T


def _affine3(src: np.ndarray, dst: np.ndarray, scale: float) -> np.ndarray:
    """Exact affine through three correspondences; a similarity when they are (nearly) collinear."""
    d = np.cross(src[1] - src[0], src[2] - src[0])
    e = np.cross(dst[1] - dst[0], dst[2] - dst[0])
    if abs(d) > 1e-3 * (np.linalg.norm(src[1] - src[0]) * np.linalg.norm(src[2] - src[0]) + 1e-9) and abs(e) > 1e-6:
        return cv2.getAffineTransform(src.astype(np.float32), dst.astype(np.float32)).astype(np.float64)
    va, vb = src[1] - src[0], dst[1] - dst[0]
    A = scale * _rot(_angle(vb) - _angle(va))
    out = np.zeros((2, 3))
    out[:, :2] = A
    out[:, 2] = dst[0] - A @ src[0]
    return out


class PuppetRenderer:
    """Draws a rig at an output size; one instance per output video.

    Parameters
    ----------
    rig : Rig
    size : (width, height)
        Output frame size.
    base : ndarray, (2, 3)
        Master-image pixels -> output pixels at rest (the framing of frame 0 before any camera).
    background : ndarray (H, W, 3) uint8 or (3,) uint8, optional
        Replacement background (an image already fitted to ``size``, or one colour). Default: the
        rig's inpainted background.
    """

    def __init__(self, rig: Rig, size: tuple[int, int], base: np.ndarray, background=None) -> None:
        self.rig = rig
        self.size = (int(size[0]), int(size[1]))
        self.base = np.asarray(base, np.float64)
        w, h = self.size
        if background is None:
            self._bg_src = rig.background
            self._bg_base = self.base
        elif np.ndim(background) == 1:
            self._bg_src = None
            self._bg_color = np.asarray(background, np.float32).reshape(1, 1, 3)
        else:
            self._bg_src = np.asarray(background)
            self._bg_base = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
        self._bg_cache: tuple[bytes, np.ndarray] | None = None
        self.last_coverage: np.ndarray | None = None
        self._rest_master = np.asarray(rig.rest[:, :2], np.float64)
        self._cells: tuple[np.ndarray, np.ndarray] | None = None
        self._face = None
        head = rig.part("head")
        if rig.face is not None and head is not None:
            from steadymotion.render.puppet.face import FaceWarp

            warp = FaceWarp(head.texture, head.box, rig.face, rig.image)
            self._face = warp if warp.usable else None

    # -- background -----------------------------------------------------------------------------
    def _background(self, camera: np.ndarray) -> np.ndarray:
        w, h = self.size
        if self._bg_src is None:
            return np.broadcast_to(np.round(self._bg_color * 255).astype(np.uint8), (h, w, 3)).copy()
        # a camera that moved less than 1/20 px (tracking noise of a tripod shot) reuses the last warp
        key = np.concatenate([np.round(camera[:, :2].ravel(), 4), np.round(camera[:, 2] * 20)]).tobytes()
        if self._bg_cache is not None and self._bg_cache[0] == key:
            return self._bg_cache[1].copy()
        M = _compose(camera, self._bg_base)
        bg = cv2.warpAffine(self._bg_src, M.astype(np.float32), (w, h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT101)
        self._bg_cache = (key, bg)
        return bg.copy()

    # -- one frame ------------------------------------------------------------------------------
    def render(self, pose: Pose2D, coverage: bool = False, background: np.ndarray | None = None) -> np.ndarray:
        """The frame for ``pose`` as ``(H, W, 3) uint8`` RGB (``self.last_coverage`` when asked), drawn
        over ``background`` (``(H, W, 3) uint8`` at the output size) when given, else over the
        renderer's own background moved by ``pose.camera``."""
        w, h = self.size
        if background is not None:
            if background.shape != (h, w, 3):
                raise ValueError(f"background frame is {background.shape}, the output is {(h, w, 3)}")
            out = np.array(background, np.uint8, copy=True)
        else:
            out = self._background(pose.camera)
        cov = np.zeros((h, w), np.float32) if coverage else None
        rest_out = _apply(self.base, self.rig.rest[:, :2])
        # part transforms in output space: (target) o (rest in output)^-1 is built on output rest
        T = part_transforms(np.c_[rest_out, self.rig.rest[:, 2:]], pose.keypoints, pose.scale / self._base_scale,
                            pose.head_roll)
        # master -> output = T o base
        for T_i in range(len(T)):
            T[T_i] = _compose(T[T_i], self.base)
        by_index = {PART[p.name]: p for p in self.rig.parts}
        target = np.asarray(pose.keypoints, np.float64)[:, :2]
        for idx in pose.order:
            part = by_index.get(idx)
            if part is None:
                continue
            if idx == PART["torso"]:
                # the arms' pieces under the clothes lying over them: behind the trunk, which covers
                # them at rest; an arm moved away is whole
                for piece in getattr(self.rig, "under", ()):
                    self._draw(piece, T, target, out, cov)
            texture = None
            if idx == PART["head"] and self._face is not None and pose.face is not None:
                texture = self._face.apply(pose.face)
            self._draw(part, T, target, out, cov, texture)
        self.last_coverage = cov
        return out

    def _grid(self, hh: int, hw: int) -> tuple[np.ndarray, np.ndarray]:
        """Output-pixel centres of the half-resolution cells ``(hh, hw, 2)``: x in both channels, then y."""
        if self._cells is None or self._cells[0].shape[0] < hh or self._cells[0].shape[1] < hw:
            H, W = max(hh, self.size[1] // 2 + 2), max(hw, self.size[0] // 2 + 2)
            gy, gx = np.mgrid[0:H, 0:W].astype(np.float32) * 2 + 0.5
            self._cells = (np.repeat(gx[..., None], 2, axis=2), np.repeat(gy[..., None], 2, axis=2))
        return self._cells[0][:hh, :hw], self._cells[1][:hh, :hw]

    @property
    def _base_scale(self) -> float:
        return float(np.sqrt(abs(np.linalg.det(self.base[:, :2]))))

    def _draw(self, part, T: np.ndarray, target: np.ndarray, out: np.ndarray, cov: np.ndarray | None,
              texture: np.ndarray | None = None) -> None:
        w, h = self.size
        v = part.vertices.astype(np.float64)
        dv = _skin_vertices(part, T, v, target, self._rest_master)
        x0, y0 = np.floor(dv.min(axis=0)).astype(int) - 2 * MESH_REACH
        x1, y1 = np.ceil(dv.max(axis=0)).astype(int) + 1 + 2 * MESH_REACH
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            return
        tri = part.triangles
        src = v[tri] - np.array(part.box, np.float64)  # rest corners in texture pixels
        dst = dv[tri] - np.array([x0, y0], np.float64)
        inv, ok = _triangle_maps(dst, src)
        # a triangle turned over (the neck's blend folds the hair beside it when the head tilts far)
        # would draw its texture mirrored, as specks along the fold: the sheets on either side of
        # the fold cover its place without it
        ok &= _signed_area(src) * _signed_area(dst) > 0
        bw, bh = x1 - x0, y1 - y0
        # The backward map is piecewise affine, so it is built on a half-resolution grid and
        # upsampled bilinearly (exact inside triangles and across shared edges): 4x less work.
        hw, hh = (bw + 1) // 2, (bh + 1) // 2
        small = len(tri) < 256  # triangle ids fit 8 bits: looked up with cv2.LUT
        ids = np.zeros((hh, hw), np.uint8 if small else np.uint16)  # 0 = outside, k + 1 = triangle k
        shift = 4
        pts = np.round((dst * 0.5 - 0.25) * (1 << shift)).astype(np.int32)
        for k in np.flatnonzero(ok):
            cv2.fillConvexPoly(ids, pts[k], int(k) + 1, lineType=cv2.LINE_8, shift=shift)
        # the neighbouring triangle's map carries on for MESH_REACH cells outside the mesh: the
        # upsampling stays clean, and the texture's soft outline where the mesh (its outline
        # simplified) cuts inside it is drawn whole, not cut in the half-resolution cells' steps
        grown = cv2.dilate(ids, _CROSS3, iterations=MESH_REACH)
        ids = np.where(ids > 0, ids, grown)
        # per cell: (x, y)_src = A[id] (x, y)_dst + t[id], both coordinates at once in two channels
        table = np.concatenate([np.array([[[0, 0, -1e4], [0, 0, -1e4]]]), inv], axis=0).astype(np.float32)
        gx, gy = self._grid(hh, hw)
        if small:
            ids2 = cv2.merge([ids, ids])
            lut = np.zeros((256, 3, 2), np.float32)
            lut[: len(table)] = table.transpose(0, 2, 1)
            coef = [cv2.LUT(ids2, np.ascontiguousarray(lut[:, j]).reshape(256, 1, 2)) for j in range(3)]
        else:
            coef = [table.transpose(0, 2, 1)[:, j][ids] for j in range(3)]
        maps = coef[0] * gx + coef[1] * gy
        maps += coef[2]
        maps = cv2.resize(maps, (hw * 2, hh * 2), interpolation=cv2.INTER_LINEAR)[:bh, :bw]
        tex = cv2.remap(part.texture if texture is None else texture, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        # premultiplied "over" in 8 bits: out = out * (1 - a) + colour
        a = tex[..., 3]
        keep = cv2.cvtColor(255 - a, cv2.COLOR_GRAY2RGB)
        region = out[y0:y1, x0:x1]
        cv2.multiply(region, keep, dst=region, scale=1 / 255)
        cv2.add(region, cv2.cvtColor(tex, cv2.COLOR_RGBA2RGB), dst=region)
        if cov is not None:
            cc = cov[y0:y1, x0:x1]
            cc += (1 - cc) * (a.astype(np.float32) / 255)


#: Bends (radians) over which blending across a joint fades out: full blend below 60 degrees,
#: none past 110 (the fold would pull the blended skin into a spike; the round caps take over).
BLEND_FADE = (np.radians(60.0), np.radians(110.0))


_CROSS3 = np.ones((3, 3), np.uint8)
#: Half-resolution cells the mesh's maps reach past its outline (2 px each).
MESH_REACH = 3


def _skin_vertices(part, T: np.ndarray, v: np.ndarray, target: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Deformed vertex positions: blend skinning with the blend taken in polar form about each joint.

    Plain linear blend skinning averages the positions two bones give a vertex; when a joint folds
    sharply (an elbow bent past ~120 degrees) that average falls inside the fold and the skin
    collapses into a gap ("candy-wrapper" loss of volume). Here a vertex weighted between its own
    bone and a neighbour across joint ``J`` gets the angle about ``J`` and the distance from ``J``
    interpolated instead (spherical blend skinning about the joint centre, Kavan & Zara 2005, in
    2D), which keeps the skin's distance from the joint through any bend. Past a sharp bend the
    blend fades out (:data:`BLEND_FADE`) and the parts meet as overlapping round caps cut around
    each joint in the rig, which cover the joint at any angle. The torso's two transforms differ
    little and are blended linearly, and so is the neck's blend of the head and the trunk (both
    parts' vertices take it from one field, :func:`.mesh.head_share_map`, so their seam holds).
    """
    spec = PARTS[PART[part.name]]
    w = part.weights.astype(np.float64)
    M = T[part.bones]  # (V, 3, 2, 3): each vertex's own, proximal and distal transforms
    pos = np.einsum("vkij,vj->vki", M[..., :2], v) + M[..., 2]  # (V, 3, 2)
    if spec.name in ("torso", "head") or spec.parent is None:
        # (the neck's blend of the head and the trunk is linear on both sides of their seam)
        return np.einsum("vk,vki->vi", w, pos)
    out = pos[:, 0]
    joints = (KP[spec.a], KP[spec.b])
    # the rest direction of the part's bone, for the bend between it and each neighbour
    d = rest[KP[spec.b]] - rest[KP[spec.a]]
    d = d / max(float(np.hypot(*d)), 1e-9)
    dirs = M[..., :2] @ d  # (V, 3, 2)
    own_dir = dirs[:, 0]
    for k in (1, 2):
        nb_dir = dirs[:, k]
        bend = np.abs(np.arctan2(own_dir[:, 0] * nb_dir[:, 1] - own_dir[:, 1] * nb_dir[:, 0],
                                 (own_dir * nb_dir).sum(axis=1)))
        # past a sharp bend the parts stop blending and meet as overlapping rigid round caps
        wk = w[:, k] * np.clip((BLEND_FADE[1] - bend) / (BLEND_FADE[1] - BLEND_FADE[0]), 0.0, 1.0)
        sel = wk > 1e-6
        if not sel.any():
            continue
        J = target[joints[k - 1]]
        u = out[sel] - J
        q = pos[sel, k] - J
        ru, rq = np.hypot(u[:, 0], u[:, 1]), np.hypot(q[:, 0], q[:, 1])
        au, aq = np.arctan2(u[:, 1], u[:, 0]), np.arctan2(q[:, 1], q[:, 0])
        dA = (aq - au + np.pi) % (2 * np.pi) - np.pi
        ang = au + wk[sel] * dA
        rad = ru + wk[sel] * (rq - ru)
        out = out.copy()
        out[sel] = J + rad[:, None] * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    return out


def _triangle_maps(dst: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-triangle affine maps ``(F, 2, 3)`` taking ``dst`` corners to ``src`` corners."""
    D = np.stack([dst[:, 1] - dst[:, 0], dst[:, 2] - dst[:, 0]], axis=2)  # (F, 2, 2) columns = edges
    S = np.stack([src[:, 1] - src[:, 0], src[:, 2] - src[:, 0]], axis=2)
    det = D[:, 0, 0] * D[:, 1, 1] - D[:, 0, 1] * D[:, 1, 0]
    ok = np.abs(det) > 1e-6
    Dinv = np.zeros_like(D)
    safe = np.where(ok, det, 1.0)
    Dinv[:, 0, 0] = D[:, 1, 1] / safe
    Dinv[:, 0, 1] = -D[:, 0, 1] / safe
    Dinv[:, 1, 0] = -D[:, 1, 0] / safe
    Dinv[:, 1, 1] = D[:, 0, 0] / safe
    A = S @ Dinv
    t = src[:, 0] - np.einsum("fij,fj->fi", A, dst[:, 0])
    return np.concatenate([A, t[:, :, None]], axis=2), ok


def _signed_area(tri: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle ``(F, 3, 2)``."""
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    return e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a o b`` for 2x3 affine maps."""
    A = np.vstack([a, [0, 0, 1]])
    B = np.vstack([b, [0, 0, 1]])
    return (A @ B)[:2]


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ np.asarray(m)[:, :2].T + np.asarray(m)[:, 2]


def rest_order(rig: Rig) -> tuple[int, ...]:
    """Draw order of the master image: legs, torso, head, arms (each arm upper to hand; the arm
    nearer the camera last, :func:`.cutout.nearer_arm`, as the rig was cut)."""
    arms = ["l", "r"] if nearer_arm(np.asarray(rig.rest)) != "l" else ["r", "l"]
    names = ["thigh_l", "shin_l", "foot_l", "thigh_r", "shin_r", "foot_r", "torso", "head"]
    names += [f"{k}_{s}" for s in arms for k in ("upper_arm", "forearm", "hand")]
    return tuple(PART[n] for n in names)
