"""Meshes and skinning weights of the puppet's parts (Triangle quality meshes, Shewchuk 1996;
blend weights across each joint)."""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion.render.puppet.cutout import segment_distance, smoothstep
from steadymotion.skeleton import KP, PART, PARTS, PartSpec

#: Extra transform index: the torso is skinned with an upper (shoulders) and a lower (hips) transform;
#: the torso's own index is the upper one, this is the lower one (thighs hang from it).
TORSO_LOWER = len(PARTS)


def hull_mesh(region: np.ndarray, pad: int, max_area: float) -> tuple[np.ndarray, np.ndarray]:
    """Triangulate the (padded) convex hull of ``region`` with Shewchuk's Triangle (quality mesh)."""
    import triangle

    ys, xs = np.nonzero(region)
    pts = np.stack([xs, ys], axis=1).astype(np.float32)
    hull = cv2.convexHull(pts).reshape(-1, 2)
    c = hull.mean(axis=0)
    v = hull - c
    n = np.linalg.norm(v, axis=1, keepdims=True)
    hull = hull + v / np.maximum(n, 1e-6) * pad
    peri = cv2.arcLength(hull.astype(np.float32), True)
    hull = cv2.approxPolyDP(hull.astype(np.float32), max(1.0, 0.01 * peri), True).reshape(-1, 2)
    segs = np.stack([np.arange(len(hull)), (np.arange(len(hull)) + 1) % len(hull)], axis=1)
    tri = triangle.triangulate({"vertices": hull.astype(np.float64), "segments": segs}, f"pq28a{max_area:.1f}Q")
    return tri["vertices"].astype(np.float32), tri["triangles"].astype(np.int32)


def torso_axis_param(points: np.ndarray, kp: np.ndarray) -> np.ndarray:
    """Position along the torso: 0 at the hip line, 1 at the shoulder line (unclipped)."""
    _, u = segment_distance(points, kp[KP["pelvis"], :2], kp[KP["neck"], :2])
    return u


def skin_weights(spec: PartSpec, verts: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear-blend-skinning weights (Magnenat-Thalmann et al. 1988) for one part's vertices.

    Near each joint a vertex blends its own transform with the neighbour's across the joint, with
    the same smoothstep of the signed distance past the joint on both sides, so the two meshes
    bend together instead of opening a gap. Rigid parts (head, hands, feet) take no blend on their
    own side of the joint, so they are never bent; the torso is skinned in :mod:`.puppet`.
    """
    V = len(verts)
    own = PART[spec.name]
    bones = np.full((V, 3), own, np.int16)
    weights = np.zeros((V, 3), np.float32)
    weights[:, 0] = 1.0
    if spec.name == "head":
        return bones, weights
    if spec.name == "torso":
        v = torso_axis_param(verts, kp)
        bones[:, 1] = TORSO_LOWER
        weights[:, 0] = smoothstep(0.15, 0.85, v)
        weights[:, 1] = 1 - weights[:, 0]
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


