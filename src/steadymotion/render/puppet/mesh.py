"""Meshes and skinning weights of the puppet's parts (Triangle quality meshes, Shewchuk 1996;
blend weights across each joint and, shared by the head and the trunk, across the neck)."""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion.render.puppet.cutout import segment_distance, smoothstep
from steadymotion.skeleton import KP, PART, PARTS, PartSpec

#: Extra transform index: the torso is skinned with an upper (shoulders) and a lower (hips) transform;
#: the torso's own index is the upper one, this is the lower one (thighs hang from it).
TORSO_LOWER = len(PARTS)


#: Douglas-Peucker's tolerance simplifying a part's hull, a share of its perimeter (the simplified
#: outline is then moved out to hold the whole hull: :func:`_contain`).
HULL_TOLERANCE = 0.004


def hull_mesh(region: np.ndarray, pad: int, max_area: float, dense: np.ndarray | None = None,
              spacing: float = 0.0, origin: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """Triangulate the (padded) convex hull of ``region`` with Shewchuk's Triangle (quality mesh).

    Where ``dense`` (a mask of the region's size) is set, vertices are added on a grid ``spacing``
    pixels apart: a skin whose blend weights change over a short distance (the neck) is drawn by
    small triangles there, which follow the blend closely (the deformation is affine inside each).
    The grid is laid in the picture's coordinates (``origin``: the region's top-left corner in it),
    so two parts meshed over the same place share its vertices and deform alike there.
    """
    import triangle

    ys, xs = np.nonzero(region)
    pts = np.stack([xs, ys], axis=1).astype(np.float32)
    hull = cv2.convexHull(pts).reshape(-1, 2)
    c = hull.mean(axis=0)
    v = hull - c
    n = np.linalg.norm(v, axis=1, keepdims=True)
    hull = hull + v / np.maximum(n, 1e-6) * pad
    peri = cv2.arcLength(hull.astype(np.float32), True)
    full = hull.astype(np.float32)
    hull = cv2.approxPolyDP(full, max(1.0, HULL_TOLERANCE * peri), True).reshape(-1, 2)
    hull = _contain(hull, full)
    segs = np.stack([np.arange(len(hull)), (np.arange(len(hull)) + 1) % len(hull)], axis=1)
    verts = hull.astype(np.float64)
    if dense is not None and spacing >= 2 and dense.any():
        step = int(round(spacing))
        ox, oy = (-int(origin[0])) % step, (-int(origin[1])) % step
        gy, gx = np.mgrid[oy : region.shape[0] : step, ox : region.shape[1] : step]
        on = dense[gy, gx]
        grid = np.stack([gx[on], gy[on]], axis=1).astype(np.float64)
        poly = hull.astype(np.float32).reshape(-1, 1, 2)
        # (strictly inside, clear of the boundary's segments: Triangle needs no vertex on a segment)
        inside = np.array([cv2.pointPolygonTest(poly, (float(x), float(y)), True) > 1.0 for x, y in grid], bool)
        verts = np.vstack([verts, grid[inside]]) if inside.any() else verts
    tri = triangle.triangulate({"vertices": verts, "segments": segs}, f"pq28a{max_area:.1f}Q")
    return tri["vertices"].astype(np.float32), tri["triangles"].astype(np.int32)


def _contain(poly: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The convex polygon ``poly`` (a simplification of the hull of ``points``) moved out by the
    most any of ``points`` lies outside it, each edge parallel to itself (a mitred offset), so it
    holds them all: Douglas-Peucker's simplification (``cv2.approxPolyDP``) cuts across a curved
    hull by up to its tolerance (:data:`HULL_TOLERANCE`; a percent of the perimeter took 10 px
    off a head's crown)."""
    cont = poly.astype(np.float32).reshape(-1, 1, 2)
    out = max(-cv2.pointPolygonTest(cont, (float(x), float(y)), True) for x, y in points)
    if out <= 0 or len(poly) < 3:
        return poly
    p = poly.astype(np.float64)
    e = np.roll(p, -1, axis=0) - p
    n = np.stack([e[:, 1], -e[:, 0]], axis=1) / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)
    if np.mean(np.sum(n * (p - p.mean(axis=0)), axis=1)) < 0:  # outward
        n = -n
    prev = np.roll(n, 1, axis=0)  # the edge ending at each vertex
    k = 1.0 + np.sum(prev * n, axis=1)
    return (p + (out + 0.5) * (prev + n) / np.maximum(k, 0.2)[:, None]).astype(poly.dtype)


def torso_axis_param(points: np.ndarray, kp: np.ndarray) -> np.ndarray:
    """Position along the torso: 0 at the hip line, 1 at the shoulder line (unclipped)."""
    _, u = segment_distance(points, kp[KP["pelvis"], :2], kp[KP["neck"], :2])
    return u


#: Beyond this distance from the neck's axis (shoulder widths) the neck's blend starts higher up
#: (:data:`NECK_RISE`): the shoulders' tops, where the upper arms blend with the trunk alone, take none.
NECK_SIDE = 0.25
#: How fast (head-to-neck lengths per shoulder width past :data:`NECK_SIDE`) the neck's blend rises
#: away from the axis; from the shoulders out (half a shoulder width from the axis) it rises no further.
NECK_RISE = 2.0
#: Where no face was found, the chin's height above the shoulder line, in head-to-neck lengths.
CHIN_DEFAULT = 0.4
#: Near an arm (in upper-arm half-widths from its pixels below the chin) the head's share is none,
#: fading in by the outer value: an arm blends with the trunk's transform alone, so the trunk must
#: not bend where it meets one (anyone-11's hood: a crack along the upper arm's edge).
ARM_CLEAR = (0.5, 2.0)
#: The face's share of the head fades out past its hull over at least this share of each pixel's
#: distance from the neck joint: where the head turns by an angle t about the neck, the head's and
#: the trunk's transforms there lie 2 sin(t/2) of that distance apart, and a blend that changes
#: faster than 1 over that gap folds the mesh over itself (smoothstep's steepest slope is 1.5 over
#: its width: 0.65 keeps the neck's skin unfolded up to a 25-degree tilt).
FACE_FADE = 0.65


def chin_or_default(chin: float | None) -> float:
    """The chin's height above the shoulder line (head-to-neck lengths), or the default."""
    return chin if chin is not None and np.isfinite(chin) and chin > 0.1 else CHIN_DEFAULT


def _neck_coords(points: np.ndarray, kp: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Height above the shoulder line (head-to-neck lengths) and distance from the neck's axis
    (shoulder widths) of ``points``; ``(None, None)`` when the keypoints give no neck."""
    neck, top = kp[KP["neck"], :2].astype(np.float64), kp[KP["head"], :2].astype(np.float64)
    L = float(np.hypot(*(top - neck)))
    sw = float(np.linalg.norm(kp[KP["shoulder_l"], :2] - kp[KP["shoulder_r"], :2]))
    if not np.isfinite(L) or not np.isfinite(sw) or L < 1e-6 or sw < 1e-6:
        return None, None
    u = (top - neck) / L
    d = np.asarray(points, np.float64)[:, :2] - neck
    return (d @ u) / L, np.abs(d[:, 0] * u[1] - d[:, 1] * u[0]) / sw


def head_share(points: np.ndarray, kp: np.ndarray, chin: float | None = None) -> np.ndarray:
    """The share of the head's transform in the skin of ``points`` (x, y), by place alone.

    0 on the shoulder line, 1 from the chin up (the face stays rigid), rising smoothly between, and
    starting higher up away from the neck's axis (past :data:`NECK_SIDE` shoulder widths, by
    :data:`NECK_RISE`), so the shoulders' tops stay with the trunk. ``chin``: the chin's height
    above the shoulder line along the neck -> head axis, in head-to-neck lengths (face landmark 152;
    :data:`CHIN_DEFAULT` when unknown).
    """
    along, across = _neck_coords(points, kp)
    if along is None:
        return np.zeros(len(points), np.float32)
    return smoothstep(0.0, chin_or_default(chin), along - NECK_RISE * np.clip(across - NECK_SIDE, 0.0, 0.5 - NECK_SIDE))


def head_share_map(shape: tuple[int, int], kp: np.ndarray, chin: float | None, arms: np.ndarray | None,
                   arm_width: float, face: np.ndarray | None = None) -> np.ndarray:
    """:func:`head_share` at every pixel, with none near the arms (``arms``: their pixels; see
    :data:`ARM_CLEAR`) and all of it on the face (``face``: its landmarks; the hull of the 468
    grown by a tenth of the chin's height, fading out over a third of it past that): the one blend
    field the head's and the trunk's meshes are both skinned with.

    The head and the trunk were two rigid layers meeting at the neck: when the head turned or the
    neck grew longer, hair lying across their seam (long hair on the shoulders) was cut in two and
    the trunk's fill under the head showed between the pieces as a blade of skin. Skinned with one
    field on both sides of their seam (linear blend skinning, Magnenat-Thalmann et al. 1988; one
    weight field shared across a seam keeps the meshes together, as in Jacobson et al. 2011's
    bounded biharmonic weights), the neck and the hair across it bend instead. Arm pixels above the
    chin (a hand at the face) do not count: the face stays rigid.
    """
    from scipy.ndimage import distance_transform_edt

    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    share = head_share(np.stack([xs.ravel(), ys.ravel()], axis=1), kp, chin).reshape(h, w)
    top_at = chin_or_default(chin)
    L = float(np.hypot(*(kp[KP["head"], :2] - kp[KP["neck"], :2])))
    if arms is not None and arm_width > 0 and share.any() and L > 1e-6:
        neck, u = kp[KP["neck"], :2], (kp[KP["head"], :2] - kp[KP["neck"], :2]) / L
        low = arms & (((xs - neck[0]) * u[0] + (ys - neck[1]) * u[1]) / L < top_at)
        if low.any():
            share *= smoothstep(ARM_CLEAR[0] * arm_width, ARM_CLEAR[1] * arm_width, distance_transform_edt(~low))
    if face is not None and np.isfinite(face[:468, :2]).all():
        from steadymotion.render.puppet.cutout import face_hull

        # (a step at the hull's edge would make the two meshes disagree along the jaw; a fade over a
        # fixed width folded a portrait's neck beside the jaw when the head tilted 12 degrees: the
        # skin there dropped out, a torn jaw line; :data:`FACE_FADE`)
        k = 2 * max(1, int(round(0.1 * top_at * L))) + 1
        core = cv2.dilate(face_hull(face, shape).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        neck = kp[KP["neck"], :2]
        width = np.maximum(max(2.0, top_at * L / 3), FACE_FADE * np.hypot(xs - neck[0], ys - neck[1]))
        share = np.maximum(share, 1.0 - smoothstep(0.0, 1.0, distance_transform_edt(core == 0) / width))
    return share.astype(np.float32)


def sample_map(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``field`` at ``points`` (x, y), bilinear, clamped to the picture."""
    h, w = field.shape
    x = np.clip(np.asarray(points, np.float64)[:, 0], 0, w - 1)
    y = np.clip(np.asarray(points, np.float64)[:, 1], 0, h - 1)
    x0, y0 = np.minimum(np.floor(x).astype(int), w - 2).clip(0), np.minimum(np.floor(y).astype(int), h - 2).clip(0)
    fx, fy = x - x0, y - y0
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    top = field[y0, x0] * (1 - fx) + field[y0, x1] * fx
    bot = field[y1, x0] * (1 - fx) + field[y1, x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def skin_weights(spec: PartSpec, verts: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray,
                 head: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Linear-blend-skinning weights (Magnenat-Thalmann et al. 1988) for one part's vertices.

    Near each joint a vertex blends its own transform with the neighbour's across the joint, with
    the same smoothstep of the signed distance past the joint on both sides, so the two meshes
    bend together instead of opening a gap. Rigid parts (hands, feet) take no blend on their own
    side of the joint, so they are never bent. The torso blends its upper (shoulders) and lower
    (hips) transforms along its axis; the head and the torso both blend the head's transform with
    the trunk's by one field across the neck (``head``: :func:`head_share_map`'s; none without it),
    so neither the neck nor hair lying across it opens.
    """
    V = len(verts)
    own = PART[spec.name]
    bones = np.full((V, 3), own, np.int16)
    weights = np.zeros((V, 3), np.float32)
    weights[:, 0] = 1.0
    if spec.name in ("head", "torso"):
        up = smoothstep(0.15, 0.85, torso_axis_param(verts, kp))  # the trunk's upper share
        hs = sample_map(head, verts) if head is not None and present[PART["head"]] else np.zeros(V, np.float32)
        bones[:, :] = (own, PART["torso"], TORSO_LOWER) if spec.name == "head" else (own, TORSO_LOWER, PART["head"])
        if spec.name == "head":
            weights[:, 0], weights[:, 1], weights[:, 2] = hs, (1 - hs) * up, (1 - hs) * (1 - up)
        else:
            weights[:, 0], weights[:, 1], weights[:, 2] = (1 - hs) * up, (1 - hs) * (1 - up), hs
        return bones, weights
    a, b = kp[KP[spec.a], :2], kp[KP[spec.b], :2]
    L = float(np.linalg.norm(b - a)) or 1.0
    _, u = segment_distance(verts, a, b)
    parent = PART[spec.parent]
    if spec.parent == "torso" and spec.name.startswith("thigh"):
        parent = TORSO_LOWER
    # proximal joint: the parent's transform on the negative side (s = distance past the joint)
    if spec.parent == "torso":
        d = 0.8 * radius[own]
        w_own = smoothstep(-d, d, u * L)
    else:
        d = 0.4 * (radius[own] + radius[PART[spec.parent]])
        w_own = smoothstep(-d, 0.0 if spec.rigid else d, u * L)
    weights[:, 0], bones[:, 1], weights[:, 1] = w_own, parent, 1 - w_own
    # distal joint: the child's transform on the positive side, with the child's own blend
    child = next((i for i, c in enumerate(PARTS) if c.parent == spec.name and present[i]), None)
    if child is not None:
        d = 0.4 * (radius[own] + radius[child])
        w_child = smoothstep(-d, 0.0 if PARTS[child].rigid else d, (u - 1) * L)
        bones[:, 2], weights[:, 2] = child, w_child
        weights[:, 0] = np.clip(weights[:, 0] - w_child, 0, 1)
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-6)
    return bones, weights


