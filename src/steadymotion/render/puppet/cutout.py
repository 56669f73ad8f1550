"""Cutting the figure into parts: which parts the image shows, how wide they are, and which pixel
belongs to which part (capsules along the bones, arms and hands refined by GrabCut colour cuts,
Rother, Kolmogorov & Blake 2004).
"""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion.morphology import dilate_disc
from steadymotion.perception.segmentation import grab_cut
from steadymotion.skeleton import ARM_EDGE_MARGIN, KP, PART, PARTS, VISIBLE, cut_by_frame

#: Limb parts are drawn in front of the torso (arms, hands) or behind it (legs) in the master image.
FRONT_OF_TORSO = ("upper_arm_l", "forearm_l", "hand_l", "upper_arm_r", "forearm_r", "hand_r", "head")

def segment_distance(px: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points ``(N, 2)`` to segment a-b, and the projection parameter (unclipped)."""
    d = b - a
    L2 = float(d @ d) or 1.0
    u = ((px - a) @ d) / L2
    closest = a + np.clip(u, 0, 1)[:, None] * d
    return np.linalg.norm(px - closest, axis=1), u


def bone_frame(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels ``(xs, ys)`` in the frame of the bone ``a`` -> ``b``: the distance along it from ``a``
    and the signed offset across it (positive to the bone's left in image coordinates)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
    q = np.stack([xs, ys], 1).astype(np.float64) - a
    return q @ d, q @ np.array([-d[1], d[0]])


def chin_height(face: np.ndarray | None, kp: np.ndarray) -> float | None:
    """The chin's height (face landmark 152) above the shoulder line along the neck -> head axis, in
    head-to-neck lengths; None without a face or a neck."""
    if face is None or not np.isfinite(face[152, :2]).all():
        return None
    neck, top = kp[KP["neck"], :2], kp[KP["head"], :2]
    L = float(np.hypot(*(top - neck)))
    if not np.isfinite(L) or L <= 1:
        return None
    return float((face[152, :2] - neck) @ (top - neck)) / L**2


def face_hull(face: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The convex hull of the 468 face-mesh landmarks, rasterised at ``shape`` (bool)."""
    hull = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(face[:468, :2].astype(np.float32)).round().astype(np.int32).reshape(-1, 2), 1)
    return hull.view(bool)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    if e1 <= e0:
        return (x >= e0).astype(np.float32)
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _in_image(p: np.ndarray, w: int, h: int, margin: float = 0.0) -> bool:
    return bool(np.isfinite(p).all() and -margin <= p[0] < w + margin and -margin <= p[1] < h + margin)


#: A half-body image's forearm that rises from below the picture turns about a virtual elbow this
#: far below its wrist, in torso lengths (neck to pelvis; a forearm is about half of it).
EDGE_FOREARM = 0.5


def edge_elbows(kp: np.ndarray, vis: np.ndarray, w: int, h: int) -> dict[str, np.ndarray]:
    """Virtual elbows for arms whose wrist and hand the image shows while the elbow lies in the
    frame's bottom band or below it (a presenter's hand raised from below the picture).

    The pose model's elbow there is a guess squeezed towards the edge (InfiniteTalk's first frame:
    elbow 39 px from the wrist), but its direction from the wrist follows the forearm; the virtual
    elbow lies along it, :data:`EDGE_FOREARM` torso lengths (or 0.65 shoulder widths, the median of
    the two) below the wrist. Returns ``{side: (x, y)}``; empty for full-body images.
    """
    cut = cut_by_frame(kp[:, :2], (w, h))
    torso = float(np.linalg.norm(kp[KP["neck"], :2] - kp[KP["pelvis"], :2]))
    sw = float(np.linalg.norm(kp[KP["shoulder_l"], :2] - kp[KP["shoulder_r"], :2]))
    length = float(np.median([EDGE_FOREARM * torso, 0.65 * sw, 0.65 * sw])) if np.isfinite(torso + sw) else 0.0
    out = {}
    for s in "lr":
        e, wr, hd = (KP[f"{n}_{s}"] for n in ("elbow", "wrist", "hand"))
        if not cut[e] or length <= 0:
            continue
        if not all(not cut[j] and vis[j] >= VISIBLE and _in_image(kp[j, :2], w, h) for j in (wr, hd)):
            continue
        d = kp[e, :2] - kp[wr, :2]
        n = float(np.hypot(*d))
        d = d / n if n > 1e-6 and d[1] > 0 else np.array([0.0, 1.0])
        elbow = kp[wr, :2] + d * length
        if elbow[1] > (1 - ARM_EDGE_MARGIN) * h:
            out[s] = elbow.astype(np.float32)
    return out


#: A wrist seen this surely (below :data:`~steadymotion.skeleton.VISIBLE`) still places its forearm
#: when the elbow is seen: a forearm running down to the picture's bottom edge with its hand cut off
#: (MediaPipe doubts the wrist of a hand it cannot see). :func:`forearm_shown` checks the pixels.
WEAK_WRIST = 0.25


def weak_forearms(kp: np.ndarray, vis: np.ndarray, w: int, h: int) -> set[str]:
    """Sides (``"l"``, ``"r"``) whose forearm is placed by a weakly seen wrist (:data:`WEAK_WRIST`
    to :data:`~steadymotion.skeleton.VISIBLE`) inside the picture, below a seen elbow."""
    cut = cut_by_frame(kp[:, :2], (w, h))
    out = set()
    for s in "lr":
        e, r = KP[f"elbow_{s}"], KP[f"wrist_{s}"]
        if (vis[e] >= VISIBLE and WEAK_WRIST <= vis[r] < VISIBLE and not cut[e] and not cut[r]
                and _in_image(kp[e, :2], w, h) and _in_image(kp[r, :2], w, h)):
            out.add(s)
    return out


def forearm_shown(kp: np.ndarray, side: str, person: np.ndarray, share: float = 0.9) -> bool:
    """Whether the person mask covers ``share`` of the line from ``side``'s elbow to its wrist (a
    weakly seen forearm is rigged only where the picture shows a limb along it)."""
    a, b = kp[KP[f"elbow_{side}"], :2], kp[KP[f"wrist_{side}"], :2]
    h, w = person.shape
    t = np.linspace(0.0, 1.0, 25)
    p = np.round(a + t[:, None] * (b - a)).astype(int)
    inside = (p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)
    return bool(inside.all() and person[p[:, 1], p[:, 0]].mean() >= share)


def present_parts(kp: np.ndarray, vis: np.ndarray, w: int, h: int, edge: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Parts the image shows: both joints seen and inside it (arms cut by the frame's edge are not,
    :func:`steadymotion.skeleton.cut_by_frame`: their pixels stay with the part above them), except
    the forearm and hand of an arm with a virtual elbow (``edge``, :func:`edge_elbows`, already
    placed in ``kp``); its upper arm, which only a guess places, stays with the torso. A forearm
    whose wrist is only weakly seen (:func:`weak_forearms`) is shown (its hand is not)."""
    vis = np.where(cut_by_frame(kp[:, :2], (w, h)), 0.0, vis)
    weak = weak_forearms(kp, vis, w, h)
    vis = vis.copy()
    for s in weak:
        vis[KP[f"wrist_{s}"]] = VISIBLE
    weak_hands = {f"hand_{s}" for s in weak}
    virtual = {KP[f"elbow_{s}"] for s in (edge or {})}
    vis[list(virtual)] = 1.0
    edge_forearms = {f"forearm_{s}" for s in (edge or {})}
    present = np.zeros(len(PARTS), bool)
    for i, spec in enumerate(PARTS):
        ok = all(vis[KP[n]] >= VISIBLE and (KP[n] in virtual or _in_image(kp[KP[n], :2], w, h)) for n in (spec.a, spec.b))
        if spec.name == "torso":
            ok = all(vis[KP[n]] >= 0.3 for n in ("shoulder_l", "shoulder_r")) and np.isfinite(kp).all()
        if spec.name == "head":
            ok = _in_image(kp[KP["head"], :2], w, h)
        if spec.name.startswith("upper_arm") and KP[spec.b] in virtual:
            ok = False
        if spec.parent is not None and not present[PART[spec.parent]] and spec.name not in edge_forearms:
            ok = False
        if spec.name in weak_hands:
            ok = False
        present[i] = ok
    return present


def radii(kp: np.ndarray, mask: np.ndarray, face: np.ndarray | None) -> np.ndarray:
    """Half-width per part, from the person mask's distance transform along each bone."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    sw = float(np.linalg.norm(kp[KP["shoulder_l"], :2] - kp[KP["shoulder_r"], :2]))
    torso = float(np.linalg.norm(kp[KP["neck"], :2] - kp[KP["pelvis"], :2]))
    unit = max(sw, 0.45 * torso, 8.0)
    h, w = mask.shape
    limits = {"upper_arm": (0.07, 0.15), "forearm": (0.06, 0.13), "hand": (0.07, 0.25),
              "thigh": (0.1, 0.3), "shin": (0.07, 0.22), "foot": (0.06, 0.2)}
    r = np.zeros(len(PARTS), np.float32)
    for i, spec in enumerate(PARTS):
        if spec.name == "torso":
            r[i] = 0.5 * unit
            continue
        if spec.name == "head":
            if face is not None and np.isfinite(face).all():
                span = face[:468, :2].max(axis=0) - face[:468, :2].min(axis=0)
                r[i] = 0.5 * float(max(span)) * 1.25
            else:
                r[i] = 0.32 * unit
            continue
        kind = spec.name.rsplit("_", 1)[0]
        lo, hi = limits[kind]
        a, b = kp[KP[spec.a], :2], kp[KP[spec.b], :2]
        samples = [a + t * (b - a) for t in (0.3, 0.5, 0.7)]
        vals = [dist[int(np.clip(p[1], 0, h - 1)), int(np.clip(p[0], 0, w - 1))] for p in samples if np.isfinite(p).all()]
        # the bone is rarely centred in the limb: a margin keeps the limb's edges on the limb
        est = 1.3 * float(np.median(vals)) if vals else lo * unit
        r[i] = float(np.clip(est, lo * unit, hi * unit))
    return r


def torso_polygon(kp: np.ndarray, radius: float, widen: float = 0.15, body: bool = False, hip_out: float = 0.5) -> np.ndarray:
    """The shoulder-hip quadrilateral, grown by ``widen``; with ``body`` its lower corners move out
    to the outside of the hips (the hip joints sit inside the pelvis, about ``hip_out`` of the
    hip-joint spacing in from the body's outline), so the quad follows the trunk's outline."""
    sl, sr, hl, hr = (kp[KP[n], :2] for n in ("shoulder_l", "shoulder_r", "hip_l", "hip_r"))
    if body:
        hl, hr = hl + hip_out * (hl - hr), hr + hip_out * (hr - hl)
        # the trunk is widest under the arms: the shoulder corners move out by ``widen`` of the
        # shoulder width, the outer hips stay where they are
        sl, sr = sl + widen * (sl - sr), sr + widen * (sr - sl)
        return np.array([sl, sr, hr, hl], np.float32)
    quad = np.array([sl, sr, hr, hl], np.float32)
    c = quad.mean(axis=0)
    return c + (quad - c) * (1 + widen)


def _labels(kp: np.ndarray, present: np.ndarray, radius: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Part index per person pixel (-1 elsewhere), by capsule distance normalised by part width.

    Parts in front of the torso in a usual standing pose (arms, hands, head) claim the pixels inside
    their own capsule first, so an arm hanging over the hip takes its own pixels, not the torso's.
    """
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    px = np.stack([xs, ys], axis=1).astype(np.float32)
    score = np.full((len(PARTS), len(px)), np.inf, np.float32)
    for i, spec in enumerate(PARTS):
        if not present[i]:
            continue
        if spec.name == "torso":
            poly = torso_polygon(kp, radius[i], widen=0.0)
            # distance to the polygon for every pixel, via a rasterised distance transform
            canvas = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(canvas, poly.round().astype(np.int32), 1)
            d = cv2.distanceTransform(1 - canvas, cv2.DIST_L2, 5)
            score[i] = d[ys, xs] / (0.6 * radius[i])
        elif spec.name == "head":
            d = np.linalg.norm(px - kp[KP["head"], :2], axis=1)
            # (past 1.6 head radii a pixel is never the head's: a far hand's fingertips would be)
            score[i] = np.where(d < 1.6 * radius[i], d / radius[i] * 0.8, np.inf)
        else:
            a, b = kp[KP[spec.a], :2], kp[KP[spec.b], :2]
            d, _ = segment_distance(px, a, b)
            score[i] = d / radius[i]

    front = np.array([PART[n] for n in FRONT_OF_TORSO if present[PART[n]]])
    claimed = score[front] < 1.0 if len(front) else np.zeros((0, len(px)), bool)
    lab = np.argmin(score, axis=0)
    if len(front):
        # among front parts, the one with the smallest score inside its own capsule wins
        fs = np.where(claimed, score[front], np.inf)
        _nearer_arm_in_front(fs, front, kp, px)
        best = np.argmin(fs, axis=0)
        has = claimed.any(axis=0)
        lab = np.where(has, front[best], lab)
    lab[~np.isfinite(score.min(axis=0))] = -1
    out = np.full((h, w), -1, np.int16)
    out[ys, xs] = lab
    return out


#: Where both arms' capsules take a pixel, the arm nearer the camera there keeps it when the two
#: bones' depths differ by this share of the shoulders' width (:func:`_nearer_arm_in_front`).
ARM_DEPTH_MARGIN = 0.25


def _nearer_arm_in_front(fs: np.ndarray, front: np.ndarray, kp: np.ndarray, px: np.ndarray) -> None:
    """Where a left-arm and a right-arm part both claim pixels (their capsules cross: a forearm laid
    across the body in front of the other arm's elbow), give them to the arm nearer the camera there
    (``fs``: the front parts' scores, ``inf`` where unclaimed; the farther arm's set to ``inf`` in place).

    The nearer bone is read from the pose's depth (MediaPipe's z, in the picture's pixels; smaller is
    nearer), interpolated along each bone at the pixel's projection on it: a z-buffer over the limbs'
    capsules. The smaller normalised distance alone gave raw_0's crossing to the arm behind (its
    elbow lay in the crossing), cutting the forearm in front in two; moved, it left its middle behind
    and its hand floated apart. Depths closer than :data:`ARM_DEPTH_MARGIN` of the shoulders' width
    (MediaPipe's z is coarse) keep the distance rule.
    """
    sides = {s: [k for k, i in enumerate(front) if PARTS[i].name.endswith(f"_{s}")] for s in "lr"}
    if not sides["l"] or not sides["r"]:
        return
    margin = _depth_margin(kp)
    if kp.shape[1] < 3 or not margin > 0:
        return
    # (a joint without a depth gives NaN there, and no pixel is handed over by it)
    best, z = {}, {}
    for s, ks in sides.items():
        sub = fs[ks]
        j = np.argmin(sub, axis=0)
        best[s] = np.isfinite(sub[j, np.arange(len(px))])
        zs = np.empty((len(ks), len(px)), np.float32)
        for r, k in enumerate(ks):
            spec = PARTS[front[k]]
            a, b = kp[KP[spec.a]], kp[KP[spec.b]]
            _, u = segment_distance(px, a[:2], b[:2])
            zs[r] = a[2] + np.clip(u, 0.0, 1.0) * (b[2] - a[2])
        z[s] = zs[j, np.arange(len(px))]
    both = best["l"] & best["r"]
    if not both.any():
        return
    for s, o in (("l", "r"), ("r", "l")):
        behind = both & (z[o] < z[s] - margin)  # the other arm is nearer: this one gives way
        if behind.any():
            fs[np.ix_(sides[s], np.flatnonzero(behind))] = np.inf


def _depth_margin(kp: np.ndarray) -> float:
    """:data:`ARM_DEPTH_MARGIN` of the shoulders' width (px): depths closer than this are not told apart."""
    return ARM_DEPTH_MARGIN * float(np.linalg.norm(kp[KP["shoulder_l"], :2] - kp[KP["shoulder_r"], :2]))


def _farther_arm_first(refined: dict[int, np.ndarray], kp: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The colour-cut arms' masks in the order they are painted into the labels: the arm farther
    from the camera first, so where the two overlap (a forearm across the body in front of the other
    arm's elbow) the nearer one's is kept (the painter's algorithm). Each arm's depth is its elbow's
    and wrist's mean (MediaPipe's z); arms within :data:`ARM_DEPTH_MARGIN` of the shoulders' width
    of each other keep the left-then-right order."""
    items = list(refined.items())
    if nearer_arm(kp) == "l":
        # the left arm is nearer: the right one's masks go first
        items.sort(key=lambda it: 0 if PARTS[it[0]].name.endswith("_r") else 1)
    return items


def nearer_arm(kp: np.ndarray) -> str | None:
    """``"l"`` or ``"r"``: the arm clearly nearer the camera (its elbow's and wrist's mean depth,
    MediaPipe's z in pixels, as :func:`steadymotion.motion.layering.draw_order` reads it, smaller by
    :data:`ARM_DEPTH_MARGIN` of the shoulders' width), else ``None``."""
    if kp.shape[1] < 3:
        return None
    depth = {s: float(np.mean([kp[KP[f"elbow_{s}"], 2], kp[KP[f"wrist_{s}"], 2]])) for s in "lr"}
    margin = _depth_margin(kp)
    if not (np.isfinite(depth["l"]) and np.isfinite(depth["r"]) and np.isfinite(margin)):
        return None
    if depth["l"] < depth["r"] - margin:
        return "l"
    if depth["r"] < depth["l"] - margin:
        return "r"
    return None


#: Half-width (in radii) of the capsule within which the colour cut may give an arm its pixels.
ARM_CAPSULE = 1.5
#: An arm the colour cut could not tell from the body on either side reaches this share of its
#: capsule's half-width on both, over at least :data:`ARM_UNCUT_SHARE` of its bone's middle; it is
#: cut back to :data:`ARM_UNCUT_KEEP` radii from the bone there.
ARM_UNCUT_REACH = 1.4 / ARM_CAPSULE
ARM_UNCUT_SHARE = 0.5
ARM_UNCUT_KEEP = 1.1
#: Length (px) of the slices across a bone in which :func:`_unseparated_sides` measures the arm.
ARM_SLICE = 4.0


def _unseparated_sides(arm: np.ndarray, person: np.ndarray, trunk: np.ndarray, a: np.ndarray, b: np.ndarray,
                       r: float) -> np.ndarray:
    """The pixels of ``arm`` to give back to the body where the colour cut found no edge on either
    side of the bone ``a -> b`` (radius ``r``): an arm lying across the trunk in a sleeve of the
    top's colour (a black sleeve over a black crop top) kept its whole capsule, half again as wide
    as the arm, and carried a slab of the top away when it moved.

    The arm is measured in slices :data:`ARM_SLICE` long across the middle 60 % of its bone; where
    in at least :data:`ARM_UNCUT_SHARE` of them the bone lies inside the ``trunk``'s quadrilateral
    (shoulders to hips: the arm crosses in front of the trunk; an arm hanging beside it in a puffy
    sleeve wider than its capsule is not cut), it reaches :data:`ARM_UNCUT_REACH` of the capsule's
    half-width on both sides and the person goes on past the capsule on both, its pixels farther
    than :data:`ARM_UNCUT_KEEP` radii from the bone go back to the body, except those within half a
    radius of the person's outline (there the arm's own edge is the silhouette: a strip of it left
    on the trunk would show).
    """
    out = np.zeros_like(arm)
    L = float(np.hypot(*(b - a)))
    ys, xs = np.nonzero(arm)
    if L < 4 * ARM_SLICE or not len(xs):
        return out
    u, v = bone_frame(xs, ys, a, b)
    h, w = person.shape
    d = (b - a) / L
    n = np.array([-d[1], d[0]])
    cap = ARM_CAPSULE * r
    both, seen = 0, 0
    for s in np.arange(0.2 * L, 0.8 * L, ARM_SLICE):
        sel = (u >= s) & (u < s + ARM_SLICE)
        if not sel.any():
            continue
        seen += 1
        if v[sel].max() < ARM_UNCUT_REACH * cap or v[sel].min() > -ARM_UNCUT_REACH * cap:
            continue
        c = a + (s + 0.5 * ARM_SLICE) * d
        ci = np.round(c).astype(int)
        if not (0 <= ci[0] < w and 0 <= ci[1] < h and trunk[ci[1], ci[0]]):
            continue
        past = [np.round(c + sign * 1.15 * cap * n).astype(int) for sign in (1, -1)]
        both += all(0 <= q[0] < w and 0 <= q[1] < h and person[q[1], q[0]] for q in past)
    if not seen or both < ARM_UNCUT_SHARE * seen:
        return out
    dist, _ = segment_distance(np.stack([xs, ys], 1).astype(np.float64), a, b)
    inside = cv2.distanceTransform(person.astype(np.uint8), cv2.DIST_L2, 5)[ys, xs]
    far = (dist > ARM_UNCUT_KEEP * r) & (inside > 0.5 * r)
    out[ys[far], xs[far]] = True
    return out


def _arm_masks(rgb: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray, person: np.ndarray,
               hands: np.ndarray | None, uncut: set[int] | None = None) -> dict[int, np.ndarray]:
    """Pixel masks of the arms and hands, cut from the torso by colour where the skeleton alone cannot.

    Hands: the hull of MediaPipe's 21 hand landmarks, grown by a quarter of the palm, when the hand
    was found. Arms: GrabCut (Rother, Kolmogorov & Blake 2004) in the arm's neighbourhood, seeded
    with the bone line as sure foreground, its capsule as probable foreground and everything
    outside the person as background; the result is split between upper arm and forearm by the
    nearer bone. A sleeve the colour of the shirt cannot be separated this way: where the arm lies
    over the body, it is cut back to a little over its radius (:func:`_unseparated_sides`), and
    its index is added to ``uncut`` when given.
    """
    h, w = person.shape
    out: dict[int, np.ndarray] = {}
    trunk = np.zeros((h, w), np.uint8)
    if present[PART["torso"]]:
        cv2.fillConvexPoly(trunk, torso_polygon(kp, radius[PART["torso"]], widen=0.0).round().astype(np.int32), 1)
    trunk = trunk.astype(bool)
    for k, side in enumerate(("l", "r")):
        names = (f"upper_arm_{side}", f"forearm_{side}", f"hand_{side}")
        idx = [PART[n] for n in names]
        if not present[idx[0]]:
            continue
        hand_mask = None
        if present[idx[2]] and hands is not None and np.isfinite(hands[k]).all():
            pts = hands[k, :, :2]
            palm = float(np.linalg.norm(pts[9] - pts[0])) or radius[idx[2]]
            hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
            c = hull.mean(axis=0)
            grown = c + (hull - c) * (1 + 0.12 * palm / max(1.0, float(np.linalg.norm(hull - c, axis=1).mean())))
            m = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(m, grown.round().astype(np.int32), 1)
            hand_mask = _cut_hand(rgb, pts, m.astype(bool) & person, person, palm)
        joints = [kp[KP[n], :2] for n in (f"shoulder_{side}", f"elbow_{side}", f"wrist_{side}")]
        r = max(radius[idx[0]], radius[idx[1]])
        pts = np.array(joints)
        x0, y0 = np.floor(pts.min(axis=0) - 3 * r).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0) + 3 * r).astype(int)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        gc = np.full((y1 - y0, x1 - x0), cv2.GC_PR_BGD, np.uint8)
        cap = np.zeros_like(gc)
        core = np.zeros_like(gc)
        off = np.array([x0, y0])
        segs = [(joints[0], joints[1], idx[0])]
        if present[idx[1]]:
            segs.append((joints[1], joints[2], idx[1]))
        for a, b, pi in segs:
            pa, pb = tuple(np.round(a - off).astype(int)), tuple(np.round(b - off).astype(int))
            cv2.line(cap, pa, pb, 1, max(2, int(2 * ARM_CAPSULE * radius[pi])))
            # the middle 70 % of the bone is surely arm (the ends overlap the shoulder and the hand)
            ca, cb = a + 0.15 * (b - a), a + 0.85 * (b - a)
            cv2.line(core, tuple(np.round(ca - off).astype(int)), tuple(np.round(cb - off).astype(int)), 1, max(1, int(0.5 * radius[pi])))
        pers = person[y0:y1, x0:x1]
        gc[(cap > 0) & pers] = cv2.GC_PR_FGD
        gc[~pers] = cv2.GC_BGD
        gc[(core > 0) & pers] = cv2.GC_FGD
        arm = cap.astype(bool) & pers
        if (gc == cv2.GC_FGD).sum() > 20 and (gc == cv2.GC_PR_BGD).sum() > 50:
            try:
                grab_cut(rgb[y0:y1, x0:x1], gc, 3)
                arm = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)) & pers & cap.astype(bool)
                # keep the pieces connected to the bone line
                n, comp = cv2.connectedComponents(arm.astype(np.uint8))
                keep = np.unique(comp[(core > 0) & arm])
                arm = np.isin(comp, keep[keep > 0])
            except cv2.error:
                pass
        for a, b, pi in segs:
            cut_back = _unseparated_sides(arm, pers, trunk[y0:y1, x0:x1], a - off, b - off, float(radius[pi]))
            if cut_back.any():
                arm &= ~cut_back
                if uncut is not None:
                    uncut.add(pi)
        # the bone's own core always belongs to the arm (hair lying over it moves with it) so an
        # arm the colour cut lost cannot leave its joint uncovered when it moves
        # (not the forearm's last sixth: a wrist resting on shorts would carry a strip of them along)
        spine = np.zeros_like(gc)
        for a, b, pi in segs:
            b = b if pi == idx[0] else a + 0.85 * (b - a)
            cv2.line(spine, tuple(np.round(a - off).astype(int)), tuple(np.round(b - off).astype(int)), 1, max(2, int(1.2 * radius[pi])))
        arm = arm | ((spine > 0) & pers)
        full = np.zeros((h, w), bool)
        full[y0:y1, x0:x1] = arm
        ys, xs = np.nonzero(full)
        px = np.stack([xs, ys], 1).astype(np.float32)
        d_up, _ = segment_distance(px, joints[0], joints[1])
        d_fo = segment_distance(px, joints[1], joints[2])[0] if present[idx[1]] else np.full(len(px), np.inf)
        up = d_up <= d_fo
        out[idx[0]] = np.zeros((h, w), bool)
        out[idx[0]][ys[up], xs[up]] = True
        if present[idx[1]]:
            out[idx[1]] = np.zeros((h, w), bool)
            out[idx[1]][ys[~up], xs[~up]] = True
        if hand_mask is not None:
            out[idx[2]] = hand_mask
            for j in idx[:2]:
                if j in out:
                    out[j] &= ~hand_mask
    return out


#: MediaPipe hand landmark chains: wrist to each finger tip, for the "surely hand" seed.
_FINGERS = ((0, 1, 2, 3, 4), (0, 5, 6, 7, 8), (0, 9, 10, 11, 12), (0, 13, 14, 15, 16), (0, 17, 18, 19, 20), (5, 9, 13, 17))


#: :func:`_cut_hand`: a pixel of the cut whose chroma (CIELAB a*, b*, 8-bit) lies this far from
#: the finger seeds' median may be cloth (anyone-3's shaded navy cuff: 35; the hand's own shade and
#: highlights: under 15; a light grey wall or a black phone: about 20).
CLOTH_OFF_SKIN = 25.0


def _unlike_skin(lab: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """Pixels of ``lab`` (CIELAB, 8-bit) whose chroma (a*, b*) lies over :data:`CLOTH_OFF_SKIN` from
    the skin's median ``skin``: cloth, not the hand's own shade or highlight."""
    return np.hypot(lab[..., 1] - skin[1], lab[..., 2] - skin[2]) > CLOTH_OFF_SKIN


def _cut_hand(rgb: np.ndarray, pts: np.ndarray, hull: np.ndarray, person: np.ndarray, palm: float) -> np.ndarray:
    """The hand's pixels inside its landmark hull, cut by colour from what it rests on.

    A hand lying on shorts or a shirt has cloth between and around its fingers inside the hull
    of its landmarks; GrabCut (Rother et al. 2004) seeded with the finger bones as sure hand,
    the hull as probable hand and everything off the person as background keeps the skin.
    """
    h, w = person.shape
    ys, xs = np.nonzero(hull)
    if len(xs) < 30:
        return hull
    m = int(max(4, 0.6 * palm))
    x0, y0 = max(0, xs.min() - m), max(0, ys.min() - m)
    x1, y1 = min(w, xs.max() + m + 1), min(h, ys.max() + m + 1)
    off = np.array([x0, y0], np.float32)
    gc = np.full((y1 - y0, x1 - x0), cv2.GC_PR_BGD, np.uint8)
    gc[hull[y0:y1, x0:x1]] = cv2.GC_PR_FGD
    gc[~person[y0:y1, x0:x1]] = cv2.GC_BGD
    seed = np.zeros(gc.shape, np.uint8)
    th = max(1, int(round(0.12 * palm)))
    for chain in _FINGERS:
        p = np.round(pts[list(chain)] - off).astype(np.int32)
        cv2.polylines(seed, [p], False, 1, th)
    seed_b = (seed > 0) & hull[y0:y1, x0:x1]
    # hull pixels unlike the seed's colour start as probable background (cloth under the hand)
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB).astype(np.float32)
    if seed_b.sum() >= 10:
        # a finger line can cross the cloth at the hand's edge: the seed keeps the skin's chroma only
        mu = np.median(lab[seed_b], axis=0)
        chroma = np.hypot(lab[..., 1] - mu[1], lab[..., 2] - mu[2])
        seed_b &= chroma < 12.0
        far = chroma > 2.0 * max(6.0, float(np.percentile(chroma[seed_b], 90)) if seed_b.any() else 6.0)
        gc[far & hull[y0:y1, x0:x1]] = cv2.GC_PR_BGD
    gc[seed_b] = cv2.GC_FGD
    if seed_b.sum() < 10 or (gc == cv2.GC_PR_BGD).sum() < 30:
        return hull
    try:
        grab_cut(rgb[y0:y1, x0:x1], gc, 3)
    except cv2.error:
        return hull
    cut = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)) & hull[y0:y1, x0:x1]
    # GrabCut's smoothness carries the cut over a patch of cloth at the hand's edge (anyone-3's
    # shaded cuff end rode on her hand as a dark wedge): pixels unlike the skin
    # (:data:`CLOTH_OFF_SKIN` from the finger seeds' median chroma) joined through such pixels to the
    # body's outside the hand's hull are the cloth running on under its edge (an object held inside
    # the hand stays)
    unlike = _unlike_skin(lab, np.median(lab[seed_b], axis=0)) & person[y0:y1, x0:x1] & ~seed_b
    _, comp_u = cv2.connectedComponents(unlike.astype(np.uint8))
    outside = np.unique(comp_u[unlike & ~hull[y0:y1, x0:x1]])
    cut &= ~np.isin(comp_u, outside[outside > 0])
    n, comp = cv2.connectedComponents(cut.astype(np.uint8))
    keep = np.unique(comp[seed_b & cut])
    cut = np.isin(comp, keep[keep > 0])
    # close pinholes between the fingers' seeds (shadows on skin), never beyond the hull
    cut = cv2.morphologyEx(cut.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(bool) & hull[y0:y1, x0:x1]
    out = np.zeros((h, w), bool)
    out[y0:y1, x0:x1] = cut
    return out


def _trunk_slivers_to_arms(labels: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray) -> None:
    """Give the arms the torso's pixels that lie outside the trunk beside them (in place).

    The colour cut stops short of an arm's shaded outer edge, and the capsule's leftovers went to
    the torso: a strip of skin or sleeve along the arm that stayed behind, torn off, when the arm
    moved. The trunk ends at the line from each shoulder to the outside of the hip (the hip joints
    sit half the hip spacing inside the outline); a torso pixel more than a tenth of the arm's width
    past that line and within 2.5 arm widths of the arm's bones is the arm's.
    """
    h, w = labels.shape
    torso = PART["torso"]
    ys, xs = np.nonzero(labels == torso)
    if not len(xs):
        return
    px = np.stack([xs, ys], 1).astype(np.float32)
    hl, hr = kp[KP["hip_l"], :2], kp[KP["hip_r"], :2]
    centre = 0.25 * (kp[KP["shoulder_l"], :2] + kp[KP["shoulder_r"], :2] + hl + hr)
    for side, hip, other in (("l", hl, hr), ("r", hr, hl)):
        up, fo = PART[f"upper_arm_{side}"], PART[f"forearm_{side}"]
        if not present[up]:
            continue
        sh = kp[KP[f"shoulder_{side}"], :2]
        outer_hip = hip + 0.5 * (hip - other)
        d = outer_hip - sh
        n = np.array([-d[1], d[0]], np.float32) / max(float(np.hypot(*d)), 1e-6)
        if float((centre - sh) @ n) > 0:
            n = -n  # the normal points away from the trunk
        past = (px - sh) @ n
        r_arm = float(radius[up])
        cand = past > 0.1 * r_arm
        if not cand.any():
            continue
        d_up, _ = segment_distance(px, sh, kp[KP[f"elbow_{side}"], :2])
        if present[fo]:
            d_fo, _ = segment_distance(px, kp[KP[f"elbow_{side}"], :2], kp[KP[f"wrist_{side}"], :2])
        else:
            d_fo = np.full(len(px), np.inf, np.float32)
        near = np.minimum(d_up, d_fo) < 2.5 * r_arm
        sel = cand & near
        labels[ys[sel], xs[sel]] = np.where(d_up[sel] <= d_fo[sel], up, fo)


#: :func:`_torso_spurs_to_arms`: the torso's pieces thinner than this share of an arm's half-width
#: (the diameter of the opening's disc) ...
SPUR_WIDTH = 0.6
#: ... whose labelled border is at least this share one arm's ...
SPUR_BORDER = 0.5
#: ... and whose median colour is the arm's (within this OpenCV 8-bit L and a*b* distance; a shade
#: darker along the arm's edge is the arm's, a white drawstring beside a dark sleeve is not) are
#: that arm's.
SPUR_COLOUR = (60.0, 15.0)


def _torso_spurs_to_arms(labels: np.ndarray, lab: np.ndarray, present: np.ndarray, radius: np.ndarray, kp: np.ndarray) -> None:
    """Thin spurs of the torso lying along an arm go to the arm (in place).

    Where a sleeve is the blouse's colour, the colour cut cannot tell them apart: anyone-1's ruffle
    hem across her upper arm and the sleeve's inner edge down from it (beside a gap of sky under
    the armpit) were the torso's, a hook of sleeve that stayed on the trunk, torn off, when the arm
    rose. The torso's mask is opened by a disc :data:`SPUR_WIDTH` arm half-widths across (erosion
    then dilation, Serra 1982); a piece the opening removes, below the armpit, within 2.5 arm
    half-widths of an arm's bones, bordered by that arm on at least :data:`SPUR_BORDER` of its
    labelled border and of the arm's colour (:data:`SPUR_COLOUR`; ``lab`` is the picture in
    OpenCV's 8-bit CIELAB), is the arm's (the upper arm's or the forearm's, whichever bone is nearer).
    """
    from scipy.ndimage import label as connected

    torso = PART["torso"]
    trunk = labels == torso
    if trunk.sum() < 100:
        return
    for side in "lr":
        up, fo = PART[f"upper_arm_{side}"], PART[f"forearm_{side}"]
        if not present[up]:
            continue
        r = float(radius[up])
        d = max(3, int(round(SPUR_WIDTH * r)) | 1)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))
        opened = cv2.morphologyEx(trunk.astype(np.uint8), cv2.MORPH_OPEN, disc).astype(bool)
        pieces, n = connected(trunk & ~opened, structure=np.ones((3, 3), bool))
        if not n:
            continue
        sh, el, wr = (kp[KP[f"{j}_{side}"], :2] for j in ("shoulder", "elbow", "wrist"))
        chain = [up] + ([fo] if present[fo] else [])
        arm = np.isin(labels, chain)
        if arm.sum() < 20:
            continue
        arm_lab = np.median(lab[arm], axis=0)
        k3 = np.ones((3, 3), np.uint8)
        for c in range(1, n + 1):
            piece = pieces == c
            if piece.sum() < 20:
                continue
            ring = cv2.dilate(piece.astype(np.uint8), k3).astype(bool) & ~piece
            nb = labels[ring]
            nb = nb[nb >= 0]
            if not len(nb) or np.isin(nb, chain).mean() < SPUR_BORDER:
                continue
            own = np.median(lab[piece], axis=0)
            if abs(own[0] - arm_lab[0]) > SPUR_COLOUR[0] or np.hypot(*(own[1:] - arm_lab[1:])) > SPUR_COLOUR[1]:
                continue
            ys, xs = np.nonzero(piece)
            if np.median(ys) < sh[1] + r:  # (at the shoulder: a hood's lining, a collar's tip)
                continue
            px = np.stack([xs, ys], 1).astype(np.float32)
            d_up, _ = segment_distance(px, sh, el)
            d_fo = segment_distance(px, el, wr)[0] if present[fo] else np.full(len(px), np.inf, np.float32)
            if np.median(np.minimum(d_up, d_fo)) > 2.5 * r:
                continue
            labels[ys, xs] = np.where(d_up <= d_fo, up, fo)
            trunk[ys, xs] = False


#: A torso piece lying between a hand (or a forearm) and the background is that part's edge when
#: no more than this share of its border is the torso's ...
EDGE_TORSO_BORDER = 0.25
#: ... the hand and the background each hold at least this share of it ...
EDGE_SIDE_BORDER = 0.3
#: ... and it is at most this many of the part's half-widths thick.
EDGE_THICKNESS = 0.15


def limb_edges_off_torso(labels: np.ndarray, lab: np.ndarray, present: np.ndarray, radius: np.ndarray) -> None:
    """Thin torso pieces along a hand's or forearm's outline go to that hand or forearm (in place).

    The colour cut stops a little inside a hand's soft outline; where the torso's capsule reached
    past the hand (a half-body presenter holding a phone up beside the shoulder, whose torso capsule
    is wide), the outline's last pixels stayed the torso's. They are a thin line of the phone's or
    hand's edge with the hand on one side and the background on the other: when the hand moves it
    stays on the torso's layer, a hook off the shoulder and a fleck floating in the air
    (InfiniteTalk's presenter, 280 px at the phone's top). The torso's mask is opened by a disc
    :data:`SPUR_WIDTH` of the part's half-widths across (Serra 1982); a piece the opening removes
    whose border is the part's and the background's (:data:`EDGE_SIDE_BORDER` each, the torso's at
    most :data:`EDGE_TORSO_BORDER`), that is no thicker than :data:`EDGE_THICKNESS` half-widths
    (its largest inscribed disc) and whose median colour (``lab``, OpenCV 8-bit CIELAB) is nearer
    the part's than the torso's is the part's. A strip of shirt showing between a hand on the hip
    and the background keeps the shirt's colour and stays the torso's.
    """
    from scipy.ndimage import distance_transform_edt
    from scipy.ndimage import label as connected

    torso = PART["torso"]
    trunk = labels == torso
    if trunk.sum() < 100:
        return
    trunk_lab = np.median(lab[trunk], axis=0)
    k3 = np.ones((3, 3), np.uint8)
    for name in ("hand_l", "hand_r", "forearm_l", "forearm_r"):
        j = PART[name]
        limb = labels == j
        if not present[j] or limb.sum() < 20:
            continue
        r = float(radius[j])
        d = max(3, int(round(SPUR_WIDTH * r)) | 1)
        # (only near the limb: the opening of the whole trunk is not needed)
        ys, xs = np.nonzero(cv2.dilate(limb.astype(np.uint8), np.ones((d + 4, d + 4), np.uint8)))
        y0, y1, x0, x1 = max(0, ys.min() - d), ys.max() + d + 1, max(0, xs.min() - d), xs.max() + d + 1
        win = trunk[y0:y1, x0:x1]
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))
        opened = cv2.morphologyEx(win.astype(np.uint8), cv2.MORPH_OPEN, disc, borderType=cv2.BORDER_REPLICATE).astype(bool)
        pieces, n = connected(win & ~opened, structure=np.ones((3, 3), bool))
        if not n:
            continue
        sub = labels[y0:y1, x0:x1]
        limb_lab = np.median(lab[limb], axis=0)
        depth = distance_transform_edt(win & ~opened)
        for c in range(1, n + 1):
            piece = pieces == c
            if piece.sum() < 10 or depth[piece].max() > EDGE_THICKNESS * r:
                continue
            ring = cv2.dilate(piece.astype(np.uint8), k3).astype(bool) & ~piece
            nb = sub[ring]
            if (nb == j).mean() < EDGE_SIDE_BORDER or (nb < 0).mean() < EDGE_SIDE_BORDER or (nb == torso).mean() > EDGE_TORSO_BORDER:
                continue
            own = np.median(lab[y0:y1, x0:x1][piece], axis=0)
            if np.linalg.norm(own - limb_lab) >= np.linalg.norm(own - trunk_lab):
                continue
            sub[piece] = j
            win[piece] = False


#: How far (in the arm's measured widths) past its pixels an arm takes back pixels of its colour.
BESIDE_REACH = 2.0
#: An arm whose colour has at least this CIELAB chroma (OpenCV's 8-bit a*b* units) is told from the
#: part it lies on by chroma in its own shadow.
MIN_ARM_CHROMA = 8.0
#: ... and only where it is darker than the arm's median by this much (OpenCV's 8-bit L, 25 = 10 L*):
#: lit skin of the arm's chroma beside it is another part's own (anyone-3's bare waist beside her arm).
SHADE_DROP = 25.0


def _of_arm_hue(lab: np.ndarray, mine: np.ndarray) -> np.ndarray:
    """Which CIELAB colours ``lab`` (8-bit, ``(..., 3)``) have the hue of a chromatic arm whose
    median colour is ``mine``: their a*b* lie within the arm's chroma of its own, and they keep at
    least half its chroma (its skin or sleeve in shade, not a grey or a colour of another hue)."""
    chroma_m = float(np.hypot(mine[1] - 128.0, mine[2] - 128.0))
    return (np.linalg.norm(lab[..., 1:] - mine[1:], axis=-1) < chroma_m) & (np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0) >= 0.5 * chroma_m)


def _reclaim_arm_edges(labels: np.ndarray, rgb: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray,
                       hands: np.ndarray | None, person: np.ndarray) -> None:
    """Give an arm back the edge pixels the colour cut lost to the body underneath (in place).

    Skin against skin (a bare arm beside a bare waist) or a fingertip past the landmarks' hull
    cannot be separated by a colour model of the whole region, and every pixel lost this way stays
    behind as a sliver or a finger-shaped remnant when the arm moves. Near the arm (within 0.9 of its
    width from the bone; within a quarter palm length of the hand's finger bones), a pixel the torso or a
    leg holds goes to the arm when its CIELAB colour is nearer the arm's median colour (from its
    inside, not its soft outline) than the colour of the part holding it right beside it (its mean
    over a window the arm's width across; the part's median in a ring around the arm where it has
    too few pixels there): a nearest-class-mean decision, denim under a hand stays denim, skin
    beside skin goes with the arm. Within 0.6 of the arm's width from its bone, a pixel within 20
    Delta E of the arm's colour is the arm's. An arm's bone can lie off its middle (a forearm
    hanging beside the shorts, its bone along its outer edge; its inner edge was left on the shorts
    as a skin strip, issue #13's anyone-3): pixels within 0.8 of the arm's width of its pixels are
    candidates too (within :data:`BESIDE_REACH` widths), taken only when clearly nearer the arm's
    colour (half the distance), joined to the arm through taken pixels (seeded region growing, Adams
    & Bischof 1994), and where the holder has nothing of the arm's colour nearby (a black sleeve
    beside a black top stays apart from it: raw_0's self-reenactment lost 0.6 dB without that).
    """
    h, w = labels.shape
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    arm_parts = {PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"}
    for k, side in enumerate(("l", "r")):
        for name in ("upper_arm", "forearm", "hand"):
            j = PART[f"{name}_{side}"]
            if not present[j] or not (labels == j).any():
                continue
            zone = np.zeros((h, w), np.uint8)
            spec = PARTS[j]
            if name == "hand" and hands is not None and np.isfinite(hands[k]).all():
                pts = hands[k, :, :2]
                palm = float(np.linalg.norm(pts[9] - pts[0])) or float(radius[j])
                for chain in _FINGERS:
                    cv2.polylines(zone, [np.round(pts[list(chain)]).astype(np.int32)], False, 1, max(1, int(0.45 * palm)))
            else:
                a, b = kp[KP[spec.a], :2], kp[KP[spec.b], :2]
                if not (np.isfinite(a).all() and np.isfinite(b).all()):
                    continue
                cv2.line(zone, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), 1, max(2, int(2 * 0.9 * radius[j])))
            bone_zone = zone.astype(bool)
            if name != "hand":
                # and beside the arm's own pixels: the bone line can lie off the arm's middle (a
                # forearm hanging beside the shorts, its bone along its outer edge); there a pixel
                # must be clearly nearer the arm's colour and joined to the arm through such pixels
                # (a hand's zone stays its fingers': beside a hand lie the shorts' hem and the thigh,
                # which it must not take): within 0.8 of its width by colour; its shaded side within
                # BESIDE_REACH widths by chroma (an arm pressed to the body measures thin on the matte:
                # anyone-3's forearm 8.6 px for a 17 px half width, and the dark strip of its skin
                # left on her shorts was wider than 0.8 of that)
                own_px = labels == j
                near_arm = dilate_disc(own_px, 2 * max(1, int(round(0.8 * radius[j]))) + 1)
                far = dilate_disc(own_px, 2 * max(1, int(round(BESIDE_REACH * radius[j]))) + 1)
            else:
                near_arm = far = np.zeros((h, w), bool)
            zone_near = (zone.astype(bool) | near_arm) & person
            zone = zone_near | (far & person)
            core = np.zeros((h, w), np.uint8)
            if name != "hand":
                cv2.line(core, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), 1, max(2, int(2 * 0.6 * radius[j])))
            core = core.astype(bool)
            cand = zone & (labels >= 0) & ~np.isin(labels, list(arm_parts | {PART["head"]}))
            if not cand.any():
                continue
            # the arm's colour from its inside (its outline's soft edge is mostly the background's)
            inner = cv2.erode((labels == j).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            mine = np.median(lab[inner if inner.sum() >= 20 else labels == j], axis=0)
            ring = cv2.dilate(zone_near.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            ring_far = cv2.dilate(zone.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            armlike = np.linalg.norm(lab - mine, axis=2) < 20.0
            # a chromatic arm (skin, a coloured sleeve) keeps its chroma in its own shadow: the dark
            # crease along an arm pressed to the shorts is the arm's by its a*b*, not by its lightness
            # (a neutral arm, black or white, has nothing but lightness to go by)
            chroma_m = float(np.hypot(mine[1] - 128.0, mine[2] - 128.0))
            if chroma_m >= MIN_ARM_CHROMA:
                d_ab = np.linalg.norm(lab[..., 1:] - mine[1:], axis=2)
                arm_hue = _of_arm_hue(lab, mine)
                shaded = arm_hue & (lab[..., 0] < mine[0] - SHADE_DROP)
                unlike = (d_ab >= chroma_m).astype(np.float32)
            else:
                shaded = arm_hue = np.zeros((h, w), bool)
                unlike = np.zeros((h, w), np.float32)
            ys, xs = np.nonzero(cand)
            holders = labels[ys, xs]
            take = np.zeros(len(ys), bool)
            for o in np.unique(holders):
                ref_px = ring & (labels == o) & ~(cand & zone_near)
                if ref_px.sum() < 20:
                    ref_px = labels == o
                theirs = np.median(lab[ref_px], axis=0)
                sel = holders == o
                c = lab[ys[sel], xs[sel]]
                # the holder's colour right beside each pixel, where it has some (the shorts next to a
                # forearm's edge, not the bare waist the ring also holds): its mean over a window
                # about the arm's width across (box filters over its pixels)
                win = max(5, int(2 * radius[j]) | 1)
                wgt = (ref_px & ring).astype(np.float32)
                cnt = cv2.boxFilter(wgt, -1, (win, win), normalize=False)
                local = np.dstack([cv2.boxFilter(lab[..., q] * wgt, -1, (win, win), normalize=False) for q in range(3)])
                n_here = cnt[ys[sel], xs[sel]]
                here = local[ys[sel], xs[sel]] / np.maximum(n_here, 1e-6)[:, None]
                theirs = np.where((n_here >= 0.1 * win * win)[:, None], here, theirs)
                dm = np.linalg.norm(c - mine, axis=1)
                # (in the arm's core, skin beside skin goes with the arm unless clearly unlike it)
                dt = np.linalg.norm(c - theirs, axis=1)
                # beside the bone's zone, only where the holder has nothing of the arm's colour nearby
                # (a black sleeve beside a black top cannot be told from it: the top stays whole)
                like = cv2.boxFilter((wgt.astype(bool) & armlike).astype(np.float32), -1, (win, win),
                                     normalize=False)[ys[sel], xs[sel]] / np.maximum(n_here, 1e-6)
                # the same by chroma alone for the arm's shaded pixels, against the holder's pixels of
                # another chroma right beside them (none there, as on a bare waist: nothing is taken)
                # (the holder's pixels around the arm less those that look like it: candidates of
                # another colour, the shorts beside the arm, are the holder's; over twice the window:
                # a shaded strip can be as wide as the window)
                wc = (ring_far & (labels == o) & ~(cand & (armlike | shaded))).astype(np.float32) * unlike
                w2 = 2 * win + 1
                nc = cv2.boxFilter(wc, -1, (w2, w2), normalize=False)[ys[sel], xs[sel]]
                their_ab = np.dstack([cv2.boxFilter(lab[..., q] * wc, -1, (w2, w2), normalize=False)
                                      for q in (1, 2)])[ys[sel], xs[sel]] / np.maximum(nc, 1e-6)[:, None]
                dmc = np.linalg.norm(c[:, 1:] - mine[1:], axis=1)
                dtc = np.linalg.norm(c[:, 1:] - their_ab, axis=1)
                by_chroma = shaded[ys[sel], xs[sel]] & (nc >= 0.1 * win * win) & (dmc < 0.5 * dtc)
                if by_chroma.any():
                    # and never the holder's own skin in shade (a bare waist under a top's hem): shaded
                    # pixels joined, through pixels of the arm's chroma, to a patch of lit pixels of the
                    # holder's beyond the arm's reach (a quarter of a square of its width at least;
                    # a lone bright pixel is noise) are the holder's
                    n_comp, comp = cv2.connectedComponents(((labels == o) & arm_hue).astype(np.uint8), connectivity=8)
                    lit_out = np.bincount(comp[(labels == o) & arm_hue & ~zone & (lab[..., 0] >= mine[0] - SHADE_DROP)],
                                          minlength=n_comp)
                    owned = np.nonzero(lit_out >= max(10.0, 0.25 * radius[j] ** 2))[0]
                    by_chroma &= ~np.isin(comp[ys[sel], xs[sel]], owned[owned > 0])
                beside_ok = (((dm < 0.5 * dt) & (n_here >= 0.1 * win * win) & zone_near[ys[sel], xs[sel]]) | by_chroma) & (like < 0.2)
                take[sel] = np.where(bone_zone[ys[sel], xs[sel]], dm < dt, beside_ok) | (core[ys[sel], xs[sel]] & (dm < 20.0))
            # what is taken beside the bone's zone must touch the arm through taken pixels (region
            # growing from the arm): a patch of its colour farther out is another part's own
            beside = take & ~bone_zone[ys, xs]
            if beside.any():
                grow = (labels == j).astype(np.uint8)
                grow[ys[take], xs[take]] = 1
                _, comp = cv2.connectedComponents(grow, connectivity=8)
                linked = np.unique(comp[labels == j])
                take &= ~beside | np.isin(comp[ys, xs], linked[linked > 0])
            labels[ys[take], xs[take]] = j


#: A garment counts as a skirt when it covers the gap between the thighs from the hips down to a
#: hem between these fractions of the thigh length (shorter is shorts; longer cannot be told from
#: trousers with the legs together, so those keep their legs).
SKIRT_HEM = (0.35, 0.8)
#: How wide (relative to the hips) a garment running past the knees must be there to be a dress.
DRESS_WIDTH = 0.9
#: How wide (relative to the hips) a garment must hang just above its hem to be a skirt.
SKIRT_FLARE = 1.05
#: Beyond this many half-widths of a thigh from its bone, the thigh's pixels beside a skirt are the hem's.
HEM_EDGE_WIDTH = 1.2
#: CIELAB distance (Delta E 1976) within which a pixel is the garment worn at the pelvis.
GARMENT_DE = 25.0
#: Lightness counts half in that distance: folds and pleats shade a garment without changing its hue.
_SHADE = np.array([0.5, 1.0, 1.0], np.float32)


def skirt_hem(rgb: np.ndarray, a: np.ndarray, kp: np.ndarray, present: np.ndarray) -> float | None:
    """Where a skirt's hem crosses the gap between the thighs, as a fraction of the thigh length
    (``None`` when the figure wears no skirt, see :data:`SKIRT_HEM`; 1.0 for a dress covering the
    thighs, see :data:`DRESS_WIDTH`).

    Walks down the midline between the two thigh bones from the hips: a skirt keeps the pelvis's
    garment colour there (a person pixel within :data:`GARMENT_DE`), shorts or trousers part into
    two legs with background or skin between them. The walk must end (background or another
    colour below the hem) for the garment to count as a skirt.
    """
    if not all(present[PART[n]] for n in ("thigh_l", "thigh_r")):
        return None
    h, w = a.shape
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hl, hr, kl, kr = (kp[KP[n], :2] for n in ("hip_l", "hip_r", "knee_l", "knee_r"))
    pel = np.round(0.5 * (hl + hr)).astype(int)
    y0, y1 = max(0, pel[1] - 3), min(h, pel[1] + 4)
    x0, x1 = max(0, pel[0] - 3), min(w, pel[0] + 4)
    if y1 <= y0 or x1 <= x0:
        return None
    garment = np.median(lab[y0:y1, x0:x1].reshape(-1, 3), axis=0)
    reach = 1.5 * float(np.linalg.norm(hl - hr))

    def span(t: float) -> int:
        """Extent of the garment's colour across the row at ``t`` (gaps of pleats' shadows allowed)."""
        m = np.round(0.5 * (hl + t * (kl - hl) + hr + t * (kr - hr))).astype(int)
        xa, xb = max(0, int(m[0] - reach)), min(w, int(m[0] + reach) + 1)
        row = (a[m[1], xa:xb] > 0.5) & (np.linalg.norm((lab[m[1], xa:xb] - garment) * _SHADE, axis=1) < GARMENT_DE)
        idx = np.flatnonzero(row)
        return int(idx[-1] - idx[0] + 1) if len(idx) else 0

    hem = 0.0
    for t in np.linspace(0.05, 1.0, 20):
        m = np.round(0.5 * (hl + t * (kl - hl) + hr + t * (kr - hr))).astype(int)
        if not (0 <= m[1] < h and 0 <= m[0] < w):
            return None
        if a[m[1], m[0]] > 0.5 and np.linalg.norm((lab[m[1], m[0]] - garment) * _SHADE) < GARMENT_DE:
            hem = float(t)
        else:
            break
    else:
        # the garment runs past the knees: a dress hangs as wide at the knees as at the hips, trousers
        # on legs held together narrow to the knees (measured 0.97 for a fitted dress, 0.81 for jeans)
        return 1.0 if span(0.9) >= DRESS_WIDTH * span(0.05) else None
    if not SKIRT_HEM[0] <= hem <= SKIRT_HEM[1]:
        return None
    # shorts on legs held together look the same down the midline; a skirt hangs free, as wide
    # at the hem as at the hips or wider, where shorts follow the thighs inwards
    return hem if span(max(0.0, hem - 0.1)) >= SKIRT_FLARE * span(0.05) else None


def skirt_to_torso(labels: np.ndarray, rgb: np.ndarray, a: np.ndarray, kp: np.ndarray, present: np.ndarray,
                   radius: np.ndarray | None = None) -> float | None:
    """Give a skirt to the trunk, so it stays one piece (in place); returns the hem (see :func:`skirt_hem`).

    Cut along the thighs, a skirt split into two trouser legs as soon as the legs parted. Its
    pixels (the pelvis's garment colour, between the hip line and a little below the hem, held by a
    thigh or by a shin's round cap above the knee) go to the torso, whose lower transform follows
    the hips; the legs swing beneath it and show below the hem. (An as-rigid-as-possible skirt bending with the knees, Igarashi et al.
    2005, is the next step.) The hem's shaded underside just below it goes too (a thigh's pixels
    within a few pixels of the skirt whose CIELAB chroma is nearer the garment's than the leg's
    own), and with ``radius`` (the parts' half-widths) the hem's soft lower edge (its colour mixed
    with the background's) where it lies beyond a thigh's width (:data:`HEM_EDGE_WIDTH`): held by
    the thigh, they rode on the leg as a red line below the hem and a sliver flying off beside it.
    """
    hem = skirt_hem(rgb, a, kp, present)
    if hem is None:
        return None
    h, w = labels.shape
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hl, hr, kl, kr = (kp[KP[n], :2] for n in ("hip_l", "hip_r", "knee_l", "knee_r"))
    pel = np.round(0.5 * (hl + hr)).astype(int)
    garment = np.median(lab[max(0, pel[1] - 3):pel[1] + 4, max(0, pel[0] - 3):pel[0] + 4].reshape(-1, 3), axis=0)
    # (the shins' round caps reach up past the knees: under a dress to the knee they took wedges
    # of its hem, which rode on the lower legs as a sawtooth)
    legs = [PART[n] for n in ("thigh_l", "thigh_r", "shin_l", "shin_r")]
    ys, xs = np.nonzero(np.isin(labels, legs))
    if not len(xs):
        return hem
    px = np.stack([xs, ys], 1).astype(np.float32)
    # position along the thigh (0 at the hip line, 1 at the knees), from the nearer thigh bone
    _, ul = segment_distance(px, hl, kl)
    _, ur = segment_distance(px, hr, kr)
    left = np.isin(labels[ys, xs], [PART["thigh_l"], PART["shin_l"]])
    u = np.where(left, ul, ur)
    reach = hem + 0.25
    colour = np.linalg.norm((lab[ys, xs] - garment) * _SHADE, axis=1) < GARMENT_DE
    sel = colour & (u <= reach)
    # and whatever of the legs lies between the garment's left and right ends on its rows
    # (pleats' shadows, a pattern): the skirt is one piece across
    if sel.any():
        lo = np.full(h, w, np.int64)
        hi = np.full(h, -1, np.int64)
        np.minimum.at(lo, ys[sel], xs[sel])
        np.maximum.at(hi, ys[sel], xs[sel])
        edge = 0.15 * float(np.linalg.norm(hl - hr))  # the soft outline, its colour mixed with the background's
        sel |= (u <= reach) & (xs >= lo[ys] - edge) & (xs <= hi[ys] + edge)
    labels[ys[sel], xs[sel]] = PART["torso"]
    k = max(2, int(round(0.004 * max(h, w))))
    near = dilate_disc(labels == PART["torso"], 2 * k + 1)
    far = ~dilate_disc(labels == PART["torso"], 6 * k + 1)
    for n, hip, knee in (("thigh_l", hl, kl), ("thigh_r", hr, kr)):
        ty, tx = np.nonzero((labels == PART[n]) & near)
        leg = (labels == PART[n]) & far & (a > 0.9)
        if not len(ty):
            continue
        # the hem's shaded underside, darker than the garment's lit colour but of its hue: nearer the
        # garment's chroma than the leg's own below it
        take = np.zeros(len(ty), bool)
        if leg.sum() >= 20:
            own = np.median(lab[leg], axis=0)
            c = lab[ty, tx, 1:]
            take = np.linalg.norm(c - garment[1:], axis=1) < np.linalg.norm(c - own[1:], axis=1)
        if radius is not None:
            d, _ = segment_distance(np.stack([tx, ty], 1).astype(np.float32), hip, knee)
            take |= d > HEM_EDGE_WIDTH * float(radius[PART[n]])
        labels[ty[take], tx[take]] = PART["torso"]
    return hem


#: How far (in the arm's measured widths) a garment lying over an arm is followed into it.
CLOTH_REACH = 2.0
#: Side of a CIELAB histogram bin (OpenCV 8-bit units) and the cube (in bins) a colour's share is
#: counted over: +-12 units, about 5 Delta E in lightness and 12 in a*b*.
CLOTH_BIN, CLOTH_NEAR = 4, 7
#: A pixel is the body's cloth when that share among the body's pixels beside the arm is at least
#: this many times its share among the arm's own outer pixels.
CLOTH_ODDS = 3.0
#: ... and never a pixel within this hue angle (degrees, CIELAB a*b*) of a chromatic arm's own colour.
CLOTH_HUE = 25.0


def _colour_share(ref: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Per colour of ``c`` (N, 3 Lab, 8-bit), the share of ``ref`` (M, 3) within a cube of
    ``CLOTH_NEAR`` bins of it: a 3D histogram density (Parzen window) of ``ref``'s colours."""
    from scipy.ndimage import uniform_filter

    n = 256 // CLOTH_BIN
    hist = np.zeros((n, n, n), np.float32)
    q = np.clip(ref.astype(np.int32) // CLOTH_BIN, 0, n - 1)
    np.add.at(hist, (q[:, 0], q[:, 1], q[:, 2]), 1.0)
    dens = uniform_filter(hist, size=CLOTH_NEAR, mode="constant") * CLOTH_NEAR ** 3
    k = np.clip(c.astype(np.int32) // CLOTH_BIN, 0, n - 1)
    return dens[k[:, 0], k[:, 1], k[:, 2]] / max(1, len(ref))


def _beyond_cloth(xs: np.ndarray, ys: np.ndarray, cloth: np.ndarray, a: np.ndarray, b: np.ndarray,
                  step: float = 4.0) -> np.ndarray:
    """Which of the pixels ``(xs, ys)`` lie past the clothes among them, across the bone ``a``-``b``.

    In slices ``step`` pixels long along the bone, the clothes' side of the arm is where they lie
    (their mean offset from the bone against the others'); a pixel that is not clothes and lies
    farther to that side than the clothes' nearest pixel in its slice is past them.
    """
    out = np.zeros(len(xs), bool)
    if float(np.hypot(*(b - a))) < 2 * step or cloth.sum() < 10 or (~cloth).sum() < 10:
        return out
    u, v = bone_frame(xs, ys, a, b)
    v = v if v[cloth].mean() > v[~cloth].mean() else -v
    k = np.floor(u / step).astype(int)
    for slot in np.unique(k[cloth]):
        here = k == slot
        near = v[here & cloth].min()
        out |= here & ~cloth & (v > near + 1.0)
    return out


def _cloth_off_arm_edges(labels: np.ndarray, rgb: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray,
                         over_arms: dict[int, np.ndarray] | None = None, skip: set[int] | None = None) -> None:
    """Give the body back its clothes that the arm's colour cut took (in place).

    The inverse of :func:`_reclaim_arm_edges`: a forearm hanging against dark shorts takes the
    shorts' shaded side with it (the shadow between them is as far from the shorts' colour as from
    the skin's, and GrabCut's boundary term pulls the cut to the strongest edge), and a top's ruffle
    lying over the upper arm goes to the arm whole when the arm's bone runs along its edge
    (anyone-3: a quarter of the ruffle rode on her raised arm and the trunk was filled with a
    blocky grey where it had been). Two decisions, each grown from the body into the arm through
    given pixels (seeded region growing, Adams & Bischof 1994):

    - within 0.35 of the arm's width of the body, a pixel far from the arm's colour (over 25 Delta
      E from the median of its inside) and at most half as far from the body's colour right beside
      it (the mean over a window the arm's width across): a nearest-class-mean decision, as there;
    - within :data:`CLOTH_REACH` widths of an upper arm (where tops, ruffles and bows hang over the
      arm; a forearm lies beside shorts, whose shade is like its own), a pixel whose colour is
      :data:`CLOTH_ODDS` times as common among the body's pixels beside the arm as among the arm's
      own outer pixels (its quarter
      farthest from the body: the skin or sleeve that surely is the arm): a likelihood ratio of
      two colour histograms (as GrabCut's colour models, Rother et al. 2004, with the roles given
      by where the pixels lie). A ruffle's lit and shaded folds are each common on the top and
      rare on the arm; a sleeve the colour of the jacket is common on both and stays the arm's; a
      pixel within :data:`CLOTH_HUE` of a chromatic arm's hue (its skin in shade beside a bare
      waist) is never given by the histograms, nor grown into from the clothes' soft edge when it
      is lighter than the clothes (the arm's shaded inner edge beside a dark top); what shows of
      the arm past the clothes is the body's too (:func:`_beyond_cloth`).

    ``over_arms``, when given, receives per upper arm the mask of the pixels given back: the
    clothes lying over it, under which the arm goes on (:func:`.rig._arm_under_cloth`). The arm
    parts in ``skip`` are left as they are.
    """
    from scipy.ndimage import distance_transform_edt

    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    back = [PART[n] for n in ("torso", "thigh_l", "thigh_r") if present[PART[n]]]
    body = np.isin(labels, back)
    if not body.any():
        return
    legs = [j for j in back if PARTS[j].name.startswith("thigh")]
    dist, (iy, ix) = distance_transform_edt(~body, return_indices=True)
    eight = np.ones((3, 3), np.uint8)
    touching = cv2.dilate(body.astype(np.uint8), eight).astype(bool)
    for name in ("upper_arm_l", "upper_arm_r", "forearm_l", "forearm_r"):
        j = PART[name]
        mine_px = labels == j
        if not present[j] or mine_px.sum() < 50 or j in (skip or ()):
            continue
        r = float(radius[j])
        edge = mine_px & (dist <= max(2.0, 0.35 * r))
        band = mine_px & (dist <= max(2.0, CLOTH_REACH * r))
        if not edge.any():
            continue
        inner = cv2.erode(mine_px.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~edge
        mine = np.median(lab[inner if inner.sum() >= 20 else mine_px], axis=0)
        win = max(5, int(2 * r) | 1)
        wgt = (body & (dist == 0)).astype(np.float32)
        cnt = cv2.boxFilter(wgt, -1, (win, win), normalize=False)
        ys, xs = np.nonzero(band)
        n_here = cnt[ys, xs]
        local = np.stack([cv2.boxFilter(lab[..., q] * wgt, -1, (win, win), normalize=False)[ys, xs] for q in range(3)], 1)
        theirs = local / np.maximum(n_here, 1e-6)[:, None]
        c = lab[ys, xs]
        dm = np.linalg.norm(c - mine, axis=1)
        dt = np.linalg.norm(c - theirs, axis=1)
        give = (n_here >= 0.1 * win * win) & (dm > 25.0) & (dt < 0.5 * dm) & edge[ys, xs]
        # but not the arm's own skin in shade beside a leg's cloth of another colour: by lightness
        # the dark crease of a forearm crossing the shorts' side is nearer the denim than the lit
        # skin, by a*b* it is the arm's (as :func:`_reclaim_arm_edges` takes it); given back, it
        # stayed on anyone-3's shorts as a brown strip once her arm rose (kept out of what is given
        # at the end only: the clothes lying over an arm still join the body through it; not
        # beside the trunk, whose bare waist in shade is as the arm's: the trunk's shaded strips
        # are settled by the other steps)
        shade = np.zeros(len(ys), bool)
        if float(np.hypot(mine[1] - 128.0, mine[2] - 128.0)) >= MIN_ARM_CHROMA and legs:
            nearer = np.linalg.norm(c[:, 1:] - mine[1:], axis=1) < 0.5 * np.linalg.norm(c[:, 1:] - theirs[:, 1:], axis=1)
            shade = give & _of_arm_hue(c, mine) & nearer & np.isin(labels[iy[ys, xs], ix[ys, xs]], legs)
        # the arm's quarter farthest from the body, and the body's pixels within reach of the arm
        outer = mine_px & (dist >= np.percentile(dist[mine_px], 75))
        ref = np.median(lab[outer], axis=0) if outer.any() else mine
        cloth = np.zeros(len(ys), bool)
        beside = np.zeros(0, bool)
        arm_hued = np.zeros(len(ys), bool)
        if name.startswith("upper_arm") and outer.sum() >= 20:
            # (one distance transform, not two dilations by discs up to 70 px across on a 1080p frame)
            d_arm = cv2.distanceTransform((~mine_px).astype(np.uint8), cv2.DIST_L2, 5)
            # (not the body's pixels right against the arm: the arm's own shade and crease lie there)
            beside = body & (d_arm <= max(1.0, CLOTH_REACH * r)) & (d_arm > max(1.0, 0.5 * r))
        if name.startswith("upper_arm") and outer.sum() >= 20 and beside.sum() >= 20:
            p_arm = _colour_share(lab[outer], c)
            p_body = _colour_share(lab[beside], c)
            cloth = (p_body >= CLOTH_ODDS * p_arm) & (p_body > 0.01)
            # never of the hue of a chromatic arm (skin, a coloured sleeve), lit or shaded: its inner
            # edge in shade beside a bare waist is the arm's, though the waist's shade is like it
            # (by hue angle, not a*b* distance as in :func:`_reclaim_arm_edges`: a pale arm's lit
            # skin is nearly grey, its shaded inner side the same hue at three times the chroma)
            chroma_ref = float(np.hypot(ref[1] - 128.0, ref[2] - 128.0))
            if chroma_ref >= MIN_ARM_CHROMA:
                hue = np.arctan2(c[:, 2] - 128.0, c[:, 1] - 128.0)
                d_hue = np.abs((hue - np.arctan2(ref[2] - 128.0, ref[1] - 128.0) + np.pi) % (2 * np.pi) - np.pi)
                chroma = np.hypot(c[:, 1] - 128.0, c[:, 2] - 128.0)
                arm_hued = (d_hue < np.radians(CLOTH_HUE)) & (chroma >= max(4.0, 0.5 * chroma_ref))
                cloth &= ~arm_hued
            give |= cloth
        if not give.any():
            continue
        # only what joins the body through given pixels (the region grown from the body's edge)
        grow = np.zeros(labels.shape, np.uint8)
        grow[ys[give], xs[give]] = 1
        _, comp = cv2.connectedComponents(grow, connectivity=8)
        linked = np.unique(comp[grow.astype(bool) & touching])
        give &= np.isin(comp[ys, xs], linked[linked > 0])
        cloth &= give
        if cloth.sum() >= 20:
            # and the clothes' soft edge against the arm (mixed pixels, common nowhere): pixels
            # next to them, nearer their colour than the arm's outer colour
            # (but not the arm's skin in shade: of the arm's hue and lighter than the clothes, the inner
            # edge of anyone-3's bare arm beside her grey top is nearer the top's colour than the arm's
            # lit outer colour by lightness, and stayed on the trunk as a tan line when the arm rose;
            # hair of the skin's hue lying against the arm is darker than the top and is still grown)
            gm = np.median(c[cloth], axis=0)
            nearer = (np.linalg.norm(c - gm, axis=1) < np.linalg.norm(c - ref, axis=1)) & ~(arm_hued & (c[:, 0] > gm[0]))
            for _ in range(2):
                g = np.zeros(labels.shape, np.uint8)
                g[ys[cloth], xs[cloth]] = 1
                cloth |= nearer & cv2.dilate(g, eight).astype(bool)[ys, xs]
            give |= cloth
            # and the arm's pixels beyond the clothes (on the body's side of them, across the arm's
            # bone): the arm lies under the clothes' near edge, what shows past them is the body's
            # (the shirt between a bow's wings, anyone-1, went with her arm and covered the bow)
            give |= _beyond_cloth(xs, ys, cloth, kp[KP[PARTS[j].a], :2], kp[KP[PARTS[j].b], :2])
        give &= ~shade | cloth
        labels[ys[give], xs[give]] = labels[iy[ys[give], xs[give]], ix[ys[give], xs[give]]]
        if over_arms is not None and cloth.any():
            # (the clothes lying over the arm, not the edge strips of the first decision)
            m = over_arms.setdefault(j, np.zeros(labels.shape, bool))
            m[ys[cloth], xs[cloth]] = True


def _islands_to_neighbours(labels: np.ndarray, present: np.ndarray, radius: np.ndarray) -> None:
    """Small pieces of a part cut off from the rest of it go to the part they border most (in place).

    The colour cut drops a hand's or arm's shaded edge, and the dropped pixels go to the nearest
    body part even when that part lies beyond the hand: a sliver of the torso on the hand's far
    side, which stays in the air when the hand moves and makes the body's outline (the closing in
    ``rig._under_arms``) reach across the whole hand. A connected piece (8-connectivity) of a part
    that is not its largest piece and smaller than an arm half-width squared goes to the part
    sharing most of its border; pieces bordering only the background stay. The head is left alone
    (a lock of hair apart from the rest of it is still the head's).
    """
    from scipy.ndimage import find_objects
    from scipy.ndimage import label as connected

    arms = [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr" if present[PART[f"{k}_{s}"]]]
    if not arms:
        return
    r = float(np.median(radius[arms]))
    max_area = r * r
    eight = np.ones((3, 3), bool)
    for i, spec in enumerate(PARTS):
        if spec.name == "head" or not present[i]:
            continue
        comp, n = connected(labels == i, structure=eight)
        if n < 2:
            continue
        sizes = np.bincount(comp.ravel())[1:]
        main = int(sizes.argmax())
        for c, sl in enumerate(find_objects(comp)):
            if c == main or sl is None or sizes[c] >= max_area:
                continue
            ys = slice(max(0, sl[0].start - 1), sl[0].stop + 1)
            xs = slice(max(0, sl[1].start - 1), sl[1].stop + 1)
            island = comp[ys, xs] == c + 1
            ring = cv2.dilate(island.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~island
            nb = labels[ys, xs][ring]
            nb = nb[(nb >= 0) & (nb != i)]
            if len(nb):
                labels[ys, xs][island] = np.bincount(nb).argmax()


def _lost_hands_to_forearms(labels: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray) -> None:
    """A hand the rig has no part for goes with its forearm (in place): a piece of the trunk cut off
    from it that borders that forearm and no other part, lies beyond the wrist and mostly outside
    the trunk's quadrilateral becomes the forearm's.

    A hand whose landmark falls past the picture's edge (raw_0's left hand, hanging from a forearm
    laid across her body to the left edge) is not a part of the rig; the capsules end at the wrist
    and the trunk, nearest beyond it, took the hand, which then stayed in the air when the arm
    moved. Too large for :func:`_islands_to_neighbours`, such a piece is told from the trunk by
    where it lies: past the wrist along the forearm (a belly below an arm across it lies beside
    the bone, inside the trunk).
    """
    from scipy.ndimage import find_objects
    from scipy.ndimage import label as connected

    t_i = PART["torso"]
    # the forearms whose hand has no part, by their index: (elbow, wrist)
    bare = {PART[f"forearm_{s}"]: (kp[KP[f"elbow_{s}"], :2], kp[KP[f"wrist_{s}"], :2]) for s in "lr"
            if present[PART[f"forearm_{s}"]] and not present[PART[f"hand_{s}"]]}
    if not present[t_i] or not bare:
        return
    comp, n = connected(labels == t_i, structure=np.ones((3, 3), bool))
    if n < 2:
        return
    main = int(np.bincount(comp.ravel())[1:].argmax())
    h, w = labels.shape
    quad = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(quad, torso_polygon(kp, radius[t_i], widen=0.0).round().astype(np.int32), 1)
    for c, sl in enumerate(find_objects(comp)):
        if c == main or sl is None:
            continue
        ys_ = slice(max(0, sl[0].start - 1), sl[0].stop + 1)
        xs_ = slice(max(0, sl[1].start - 1), sl[1].stop + 1)
        piece = comp[ys_, xs_] == c + 1
        ring = cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~piece
        nb = np.unique(labels[ys_, xs_][ring])
        nb = nb[nb >= 0]
        if len(nb) != 1 or int(nb[0]) not in bare:
            continue
        e, r = bare[int(nb[0])]
        d = r - e
        dd = float(d @ d)
        py, px = np.nonzero(piece)
        py, px = py + ys_.start, px + xs_.start
        if dd >= 1.0 and np.median(((np.stack([px, py], 1) - e) @ d) / dd) > 1.0 and quad[py, px].mean() < 0.5:
            labels[py, px] = int(nb[0])


def _necked_pieces_to_neighbours(labels: np.ndarray, present: np.ndarray, radius: np.ndarray) -> None:
    """Pieces of an arm joined to it only by a neck go to the body part they border most (in place).

    The colour cut's reach from an arm's bone takes skin beside it through the thin gap between them:
    anyone-3's shaded waist beside her right elbow was her arm's, joined to it by a line of two
    pixels across the bright gap, and rode on the moving forearm as a detached brown fleck. The arm
    chain's pixels are opened by a 3x3 square (erosion then dilation, Serra 1982): a piece the
    opening cuts off the chain's largest body, with a core of its own (not a sliver of the outline)
    and smaller than twice an arm half-width squared, goes to the body part (not an arm: crossed arms
    touch) that shares most of its border (none: it stays).

    Then the forearm alone is opened again by a square :data:`NECK_WIDE` arm half-widths across,
    for pieces that border the background too (:data:`NECK_GAP` of their border at least: they lie
    across a gap from the arm) and the body more than the arm, which go to the trunk or a thigh:
    the ruffle's dark hem and a strip of anyone-3's waist beside her right elbow were her forearm's,
    joined to it by the hem's 5-px shadow above the gap, and rode beside the arm. Not the hand (its
    fingers are thinner than their joints) nor the upper arm (the top of anyone-1's shoulder beside
    her strap went to the trunk, which laid its white into the fill across her dark corset).
    """
    arms = [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"]
    reach = float(np.median(radius[[j for j in arms if present[j]]])) if any(present[j] for j in arms) else 0.0
    wide = max(5, int(round(NECK_WIDE * reach)) | 1)
    for side in "lr":
        chain = [PART[f"{k}_{side}"] for k in ("upper_arm", "forearm", "hand") if present[PART[f"{k}_{side}"]]]
        _necked_pieces(labels, chain, arms, radius, 3, 0.0)
        _necked_pieces(labels, [PART[f"forearm_{side}"]] if present[PART[f"forearm_{side}"]] else [], arms, radius,
                       wide, NECK_GAP)


#: :func:`_necked_pieces_to_neighbours`: the wider opening's square, in arm half-widths ...
NECK_WIDE = 0.35
#: ... and the share of a piece's border it cuts off that must be background.
NECK_GAP = 0.15


def _necked_pieces(labels: np.ndarray, chain: list[int], arms: list[int], radius: np.ndarray, k: int, gap: float) -> None:
    """One pass of :func:`_necked_pieces_to_neighbours`: ``chain``'s pixels opened by a ``k`` x ``k``
    square; pieces cut off, cored and small enough, with ``gap`` of their border background at least,
    go to the body part bordering them most."""
    from scipy.ndimage import label as connected

    if not chain:
        return
    sq = np.ones((k, k), np.uint8)
    k3 = np.ones((3, 3), np.uint8)
    arm = np.isin(labels, chain)
    if arm.sum() < 100:
        return
    core = cv2.erode(arm.astype(np.uint8), sq)
    comp, n = connected(core, structure=np.ones((3, 3), bool))
    if n < 2 and k == 3:
        return
    if n < 1:
        return
    sizes = np.bincount(comp.ravel())[1:]
    main = cv2.dilate((comp == int(sizes.argmax()) + 1).astype(np.uint8), sq).astype(bool) & arm
    pieces, m = connected(arm & ~main, structure=np.ones((3, 3), bool))
    max_area = 2.0 * float(np.median(radius[chain])) ** 2
    area = np.bincount(pieces.ravel(), minlength=m + 1)
    own_core = core.astype(bool) if k == 3 else cv2.erode(arm.astype(np.uint8), k3).astype(bool)
    cored = np.bincount(pieces[own_core], minlength=m + 1) > 0
    for c in np.flatnonzero((area >= 20) & (area < max_area) & cored):
        if c == 0:
            continue
        piece = pieces == c
        ring = cv2.dilate(piece.astype(np.uint8), k3).astype(bool) & ~piece
        nb = labels[ring]
        # (the wider pass: across a gap, and bordering the body more than the arm it came off)
        if gap > 0 and ((nb < 0).mean() < gap or ((nb >= 0) & ~np.isin(nb, arms)).sum() <= np.isin(nb, arms).sum()):
            continue
        nb = nb[(nb >= 0) & ~np.isin(nb, arms)]
        if not len(nb):
            continue
        to = int(np.bincount(nb).argmax())
        # (the wider pass gives only to the trunk and the thighs: not the head beside a raised hand)
        if gap > 0 and PARTS[to].name not in ("torso", "thigh_l", "thigh_r"):
            continue
        labels[piece] = to


#: :func:`_hair_off_arms`: an arm's pixel is a hair strand by its texture when its fine-scale
#: texture (:func:`strand_texture`) is at least this share of the head's hair's median texture
#: (anyone-3: hair 32, the lock over her upper arm 18-60, her bare arms' skin 2-9) ...
HAIR_TEXTURE = 0.35
#: ... and it lies this far (px, over the picture's long side of 1000) inside the figure's outline
#: (the outline against the wall is as sharp as a strand).
HAIR_INSIDE = 4.0
#: Strands taken off the arms by their texture make a lock (its gaps filled, the arm completed
#: under it) when they cover at least this share of the picture (anyone-3: 0.5 %, sample_2: 0.4 %;
#: a few strands at raw_0's and UniAnimate's shoulders: under 0.01 %).
HAIR_LOCK = 0.001
#: Skin between strands taken off an arm this close together (px radius, over the picture's long
#: side of 1000) is the lock's too.
HAIR_GAP = 6.0


def strand_texture(rgb: np.ndarray) -> np.ndarray:
    """Fine-scale texture per pixel (float32): the mean absolute Laplacian of CIELAB lightness (after
    a 0.8-px Gaussian) over a 2-px Gaussian window. Hair is a mass of thin strands, so its lightness
    changes at every pixel; skin and smooth cloth change slowly (a texture cue for hair as in Yacoob
    & Davis 2006, "Detection and analysis of hair", where colour alone cannot tell blonde hair from
    tanned skin)."""
    light = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), (0, 0), 0.8)
    return cv2.GaussianBlur(np.abs(cv2.Laplacian(light, cv2.CV_32F, ksize=3)), (0, 0), 2.0)


#: A forearm's colour this far from the hair's in chroma (OpenCV's 8-bit CIELAB a*b*) is a sleeve of
#: another colour than the hair lying over its upper arm (lightness alone says nothing: shade).
HAIR_SLEEVE_APART = 15.0


def _hair_off_arms(labels: np.ndarray, rgb: np.ndarray, face: np.ndarray | None, a: np.ndarray,
                   over_arms: dict[int, np.ndarray] | None = None, lock: dict[str, np.ndarray] | None = None) -> bool:
    """Long hair lying over the shoulders and upper arms stays with the body, never with an arm (in place).

    Hair cut by an arm's outline travels with the arm and leaves a notch in the hairline. The
    hair's colour is the median CIELAB colour of the head's solid pixels outside the face's
    landmark hull; upper-arm and forearm pixels nearer that colour than the arm's own median
    colour (nearest class mean), and within 20 Delta E of the hair, go to the torso, the back layer,
    where they hang from the head's hair (joined to it through hair-coloured pixels): a hand's
    shaded edge by the hips is often the hair's brown too. Blonde strands over tanned skin are
    within that distance of neither: an arm's pixel inside the outline is hair too when it is
    textured like hair (:data:`HAIR_TEXTURE`, :func:`strand_texture`) and its colour is more common
    in the head's hair than among the arm's smoothest pixels (a likelihood ratio of colour
    histograms). Where such strands make a lock (:data:`HAIR_LOCK`), the skin showing between them
    goes with them (a morphological closing of the strands, within the arm), the hair taken off an
    upper arm goes into ``over_arms`` (the arm is filled under it, as under clothes lying over it),
    and ``lock``, when given, receives ``"hair"`` (the strands) and ``"gaps"`` (that skin, to be
    filled with the hair's colours), so the lock left hanging from the head is whole, not shredded.
    Hair covering most of an upper arm makes the arm's median colour the hair's: the sleeve's colour
    is then read on the forearm, when its hue differs (:data:`HAIR_SLEEVE_APART`), and such hair,
    told by colour alone, also goes into ``over_arms`` when it makes a lock.
    Returns whether a lock was taken by its strands.
    """
    if face is None or not np.isfinite(face).all():
        return False
    h, w = labels.shape
    head = labels == PART["head"]
    hull = face_hull(face, (h, w))
    hair = head & ~hull & (a > 0.9)
    if hair.sum() < 50:
        return False
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hair_c = np.median(lab[hair], axis=0)
    tex = strand_texture(rgb)
    hair_t = float(np.median(tex[hair]))
    from scipy.ndimage import distance_transform_edt

    inside = distance_transform_edt(a > 0.5) >= HAIR_INSIDE * max(h, w) / 1000.0
    taken = np.zeros((h, w), bool)
    by_strands = np.zeros((h, w), bool)
    for name in ("upper_arm_l", "upper_arm_r", "forearm_l", "forearm_r"):
        j = PART[name]
        mine = labels == j
        if mine.sum() < 50:
            continue
        ys, xs = np.nonzero(mine)
        c = lab[ys, xs]
        # (by texture on the upper arms only, where long hair lies: a forearm hangs by the waist,
        # whose shaded skin beside the elbow is not the hair's)
        strands = inside[ys, xs] & (tex[ys, xs] >= HAIR_TEXTURE * hair_t) & name.startswith("upper")
        smooth = mine & (tex < np.percentile(tex[mine], 25)) & (a > 0.95)
        if strands.any() and smooth.sum() >= 30:
            hairy = _colour_share(lab[hair], c) > _colour_share(lab[smooth], c)
            strands &= hairy
            # and the strands' soft ends and the lock's edge along the arm's outline: pixels of the
            # hair's colours joined to them (seeded region growing, Adams & Bischof 1994)
            grow = np.zeros((h, w), np.uint8)
            grow[ys[hairy], xs[hairy]] = 1
            grow &= (a >= 0.95).astype(np.uint8)  # (not the soft outline: its colours are mixed)
            _, comp = cv2.connectedComponents(grow, connectivity=8)
            seeds = np.unique(comp[ys[strands], xs[strands]])
            strands |= np.isin(comp[ys, xs], seeds[seeds > 0])
        else:
            strands[:] = False
        arm_c = np.median(lab[mine], axis=0)
        fore = labels == PART["forearm" + name[-2:]] if name.startswith("upper") else None
        if np.linalg.norm(arm_c - hair_c) < 20 and fore is not None and fore.sum() >= 50:
            # (hair lying over most of an upper arm makes its median the hair's, demo1's dark hair over
            # her blue sleeve: the sleeve's colour is read on its forearm, when of another hue: demo1's
            # sleeve is 23 from her brown hair in a*b*, anyone-1's white sleeves 3 from her silver
            # hair, only lighter)
            fore_c = np.median(lab[fore], axis=0)
            if np.linalg.norm(fore_c[1:] - hair_c[1:]) >= HAIR_SLEEVE_APART:
                arm_c = fore_c
        if np.linalg.norm(arm_c - hair_c) < 20:
            continue  # a sleeve the hair's colour: cannot be told apart (its folds are textured too)
        dh, da = np.linalg.norm(c - hair_c, axis=1), np.linalg.norm(c - arm_c, axis=1)
        sel = (dh < da) & (dh < 20)
        taken[ys[sel], xs[sel]] = True
        by_strands[ys[strands], xs[strands]] = True
    if not (taken | by_strands).any():
        return False
    # only hair that hangs from the head: arm pixels of the hair's colour joined to the head's hair
    # (through the head and hair-coloured torso pixels), not a hand's shaded edge down by the hips
    from scipy.ndimage import label as connected

    torso = labels == PART["torso"]
    near_hair = torso & (np.linalg.norm(lab - hair_c, axis=2) < 20)

    def hanging(m: np.ndarray) -> np.ndarray:
        comp, _ = connected(m | hair | near_hair, structure=np.ones((3, 3), bool))
        keep = np.unique(comp[hair])
        return m & np.isin(comp, keep[keep > 0])

    lock_px = hanging(taken | by_strands)
    if (lock_px & by_strands).sum() < HAIR_LOCK * h * w:
        # (hair told from the arm by its colour alone, or a few strands: it goes to the trunk as it is)
        taken = hanging(taken)
        if over_arms is not None and taken.sum() >= HAIR_LOCK * h * w:
            # (a lock of it over an upper arm: the arm goes on under it, filled from its own colours)
            _lying_over_upper_arms(over_arms, taken, labels)
        labels[taken] = PART["torso"]
        return False
    taken = lock_px
    arms = np.isin(labels, [PART[n] for n in ("upper_arm_l", "upper_arm_r", "forearm_l", "forearm_r")])
    r = max(2, int(round(HAIR_GAP * max(h, w) / 1000.0)))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    gaps = cv2.morphologyEx((taken & arms).astype(np.uint8), cv2.MORPH_CLOSE, k).astype(bool) & arms & ~taken & (a > 0.5)
    # (and the arm's specks left among the strands, cut off from the rest of the arm)
    for name in ("upper_arm_l", "upper_arm_r", "forearm_l", "forearm_r"):
        rest = (labels == PART[name]) & ~taken & ~gaps
        if not (taken & (labels == PART[name])).any() or not rest.any():
            continue
        n, comp = cv2.connectedComponents(rest.astype(np.uint8), connectivity=8)
        sizes = np.bincount(comp.ravel())[1:]
        for c in range(1, n):
            if c == int(sizes.argmax()) + 1:
                continue
            piece = comp == c
            ring = cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~piece
            # (among the strands: not the arm's edge strip along its outline, beside the background)
            if (ring & (taken | gaps)).sum() >= 0.5 * ring.sum():
                gaps |= piece
    if lock is not None:
        lock["hair"], lock["gaps"] = taken & arms, gaps
    taken |= gaps
    if over_arms is not None:
        _lying_over_upper_arms(over_arms, taken, labels)
    labels[taken] = PART["torso"]
    return True


def _lying_over_upper_arms(over_arms: dict[int, np.ndarray], taken: np.ndarray, labels: np.ndarray) -> None:
    """Add the pixels of ``taken`` that ``labels`` gives an upper arm to what lies over that arm."""
    for name in ("upper_arm_l", "upper_arm_r"):
        j = PART[name]
        mine = taken & (labels == j)
        if mine.any():
            over_arms[j] = over_arms.get(j, np.zeros(labels.shape, bool)) | mine


def _shirt_off_head(labels: np.ndarray, rgb: np.ndarray, face: np.ndarray | None, a: np.ndarray, kp: np.ndarray) -> None:
    """The shirt's shoulders beside the neck stay with the body, never with the head (in place).

    The head claims what lies within reach of it, the shirt's shoulders by the neck included; they
    then move with the head and open a notch in the collar, with the background seen through it,
    whenever the head turns. Below the chin (face landmark 152, along the neck -> head direction)
    and above the shoulder line, head pixels nearer in CIELAB to the trunk's colour (median of its
    solid pixels below the shoulder line) than to the neck's skin (the head's pixels there on the
    neck's line) and to the hair (the head's solid pixels outside the face's landmark hull) go to
    the torso (nearest class mean); when the trunk is within 15 Delta E of the skin or the hair
    nothing is moved (hair on the shoulders stays with the head).
    """
    if face is None or not np.isfinite(face).all() or not np.isfinite(kp).all():
        return
    h, w = labels.shape
    head = labels == PART["head"]
    torso = labels == PART["torso"]
    neck, top = kp[KP["neck"], :2], kp[KP["head"], :2]
    axis = top - neck
    L = float(np.hypot(*axis))
    if L < 4 or not head.any() or not torso.any():
        return
    u_dir = axis / L
    yy, xx = np.mgrid[0:h, 0:w]
    along = (xx - neck[0]) * u_dir[0] + (yy - neck[1]) * u_dir[1]
    across = np.abs((xx - neck[0]) * u_dir[1] - (yy - neck[1]) * u_dir[0])
    chin = chin_height(face, kp) * L
    if chin <= 0:
        return
    band = head & (along > 0) & (along < chin) & (a > 0.5)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hull = face_hull(face, (h, w))
    hair = head & ~hull & (a > 0.9) & (along >= chin)
    neck_w = 0.15 * float(np.linalg.norm(kp[KP["shoulder_l"], :2] - kp[KP["shoulder_r"], :2]))
    skin = band & (across < neck_w)
    trunk = torso & (along < 0) & (a > 0.9)
    if skin.sum() < 30 or trunk.sum() < 100:
        return
    trunk_c, skin_c = np.median(lab[trunk], axis=0), np.median(lab[skin], axis=0)
    others = [skin_c] + ([np.median(lab[hair], axis=0)] if hair.sum() >= 50 else [])
    if min(np.linalg.norm(trunk_c - o) for o in others) < 15:
        return
    ys, xs = np.nonzero(band)
    c = lab[ys, xs]
    dt = np.linalg.norm(c - trunk_c, axis=1)
    sel = np.all([dt < np.linalg.norm(c - o, axis=1) for o in others], axis=0)
    labels[ys[sel], xs[sel]] = PART["torso"]


#: How far below the shoulder line (in head-to-neck lengths) hair that moves with the head may hang;
#: hair reaching further down is long hair, which stays with the body.
HAIR_BELOW_SHOULDERS = 0.35
#: How much nearer (OpenCV 8-bit CIELAB units) to the hair's colour than to the shirt's and the
#: skin's a pixel must be to count as hair there.
HAIR_MARGIN = 20.0


def _hair_to_head(labels: np.ndarray, rgb: np.ndarray, face: np.ndarray | None, a: np.ndarray, kp: np.ndarray) -> None:
    """Hair hanging from the head down to the shoulders moves with the head (in place).

    The head claims a disc about its centre; the ends of a bob or of shoulder-length hair lie below
    it, over the shirt's shoulders, and stay with the torso: when the head tilts the hair is cut
    across at the disc's edge, and the trunk's fill under the head (up to the hull of the trunk's
    pixels, which the hair's ends raise to the chin) shows as a patch of shirt beside the hair.
    The hair's colour is the median CIELAB colour of the head's solid pixels outside the face's
    landmark hull and above the chin; a pixel is the hair's when it is nearer that colour than the
    shirt's (below the shoulders) and the face's skin by :data:`HAIR_MARGIN` (nearest class mean).
    Torso pixels of the hair joined through such pixels to hair hanging beside the face at the
    chin go to the head, unless what they join reaches more than :data:`HAIR_BELOW_SHOULDERS` of
    the neck's length below the shoulder line: long hair stays with the body, the back layer, as
    before. Short hair ends above the chin, so the shaded side of a neck (the hair's colour on
    some) joins nothing.
    """
    from scipy.ndimage import label as connected

    if face is None or not np.isfinite(face).all() or not np.isfinite(kp).all():
        return
    h, w = labels.shape
    head, torso = labels == PART["head"], labels == PART["torso"]
    neck, top = kp[KP["neck"], :2], kp[KP["head"], :2]
    L = float(np.hypot(*(top - neck)))
    if L < 4 or not head.any() or not torso.any():
        return
    u = (top - neck) / L
    hull = face_hull(face, (h, w))
    yy, xx = np.mgrid[0:h, 0:w]
    along = ((xx - neck[0]) * u[0] + (yy - neck[1]) * u[1]) / L  # 0 on the shoulder line, 1 at the head
    # (the hair is what the head holds outside the face above the chin: below it is the neck, whose
    # shaded side is often the hair's colour)
    chin = chin_height(face, kp)
    hair = head & ~hull & (a > 0.9) & (along >= chin)
    trunk = torso & (a > 0.9) & (along < -0.2) & (along > -0.8)  # the shirt just below the shoulders
    if hair.sum() < 50 or trunk.sum() < 100:
        return
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hair_c, trunk_c = np.median(lab[hair], axis=0), np.median(lab[trunk], axis=0)
    if np.linalg.norm(hair_c - trunk_c) < 2 * HAIR_MARGIN:
        return  # hair near the shirt's colour: cannot be told apart
    skin = head & hull & (a > 0.9)
    others = [trunk_c] + ([np.median(lab[skin], axis=0)] if skin.sum() >= 50 else [])
    dh = np.linalg.norm(lab - hair_c, axis=2)
    # hair-coloured pixels (of any part: long hair hangs over the arms too): nearer the hair's colour
    # than the shirt's and the face's skin by HAIR_MARGIN (nearest class mean, with no bound: the ends
    # of the hair are often in shade, near black, far from its median; the margin keeps a black
    # shirt's lit folds by the collar, nearer dark hair than the shirt's median, off it)
    like = (labels >= 0) & ~hull & (a > 0.5)
    for o in others:
        like &= dh + HAIR_MARGIN < np.linalg.norm(lab - o, axis=2)
    # hair that hangs beside the face down to the chin (short hair ends higher up: what joins it
    # there is the neck's shaded side)
    hanging = like & head & (along >= chin) & (along <= chin + 0.25)
    if hanging.sum() < 0.01 * L * L:
        return
    comp, _ = connected(like, structure=np.ones((3, 3), bool))
    moved = np.zeros((h, w), bool)
    for c in np.unique(comp[hanging]):
        piece = comp == c
        if along[piece].min() >= -HAIR_BELOW_SHOULDERS:
            moved |= piece & torso
    if not moved.any():
        return
    # and the strands' shaded and lit streaks between them (a closing over a few pixels, Serra 1982)
    k = max(3, int(0.006 * max(h, w)) | 1)
    closed = cv2.morphologyEx((moved | head).astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    moved |= closed.astype(bool) & torso & (along >= along[moved].min())
    # and the hair's soft fringe over the background beside them
    near = cv2.dilate(moved.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    moved |= near & torso & (a <= 0.5)
    labels[moved] = PART["head"]


#: A forearm's sleeve bulging past its capsule: the trunk's pixels of the forearm's colour (Delta E
#: in OpenCV's 8-bit CIELAB under this) joined to it along at least :data:`BULGE_TOUCH` of its width,
#: all within :data:`BULGE_REACH` of its widths from its bone, ringed by other colours.
BULGE_LIKE = 30.0
BULGE_TOUCH = 1.0
BULGE_REACH = 3.0


def _sleeve_bulges_to_forearms(labels: np.ndarray, lab: np.ndarray, kp: np.ndarray, present: np.ndarray,
                               radius: np.ndarray) -> None:
    """Give a forearm the bulge of its sleeve the trunk holds (in place).

    The arm's colour cut works inside a capsule sized on the forearm's width: a puffy sleeve lying
    across the body (anyone-1's, over her corset and skirt, its elbow placed high by the pose) bulges
    a forearm's width past it, and that bulge stayed on the trunk as a white triangle when the arm
    moved, and was copied into the fill under the arm. A piece of the trunk in the forearm's colour
    (:data:`BULGE_LIKE`) that the forearm borders along :data:`BULGE_TOUCH` of its width at least,
    lying wholly within :data:`BULGE_REACH` widths of its bone (so bounded by other colours: a shirt
    of the sleeve's colour runs on past that reach and stays whole), is the sleeve's. Upper arms are
    left alone: beside them lies the chest, often of the sleeve's own cloth. ``lab``: the picture in
    OpenCV's 8-bit CIELAB, lightly blurred.
    """
    k3 = np.ones((3, 3), np.uint8)
    for side in "lr":
        j = PART[f"forearm_{side}"]
        own = labels == j
        if not present[j] or own.sum() < 50:
            continue
        torso = labels == PART["torso"]  # (what the other forearm took is not the trunk's any more)
        inner = cv2.erode(own.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        mine = np.median(lab[inner if inner.sum() >= 20 else own], axis=0)
        cand = torso & (np.linalg.norm(lab - mine, axis=2) < BULGE_LIKE)
        n, comp = cv2.connectedComponents(cand.astype(np.uint8), connectivity=8)
        touch = cv2.dilate(own.astype(np.uint8), k3).astype(bool) & cand
        counts = np.bincount(comp[touch], minlength=n)
        r = float(radius[j])
        a, b = kp[KP[f"elbow_{side}"], :2], kp[KP[f"wrist_{side}"], :2]
        for c in np.flatnonzero(counts >= BULGE_TOUCH * r):
            if c == 0:
                continue
            ys, xs = np.nonzero(comp == c)
            d, _ = segment_distance(np.stack([xs, ys], 1).astype(np.float64), a, b)
            if d.max() <= BULGE_REACH * r:
                labels[ys, xs] = j


def _close_arm_holes(labels: np.ndarray, present: np.ndarray) -> None:
    """Pixels of the body enclosed by an arm (a cuff's stripes like the shirt's, a shadow inside the
    sleeve) are the arm's (in place): left to the body, they stay behind as specks when it moves."""
    from scipy.ndimage import binary_fill_holes, distance_transform_edt

    for side in "lr":
        chain = [PART[f"{k}_{side}"] for k in ("upper_arm", "forearm", "hand") if present[PART[f"{k}_{side}"]]]
        if not chain:
            continue
        arm = np.isin(labels, chain)
        holes = binary_fill_holes(arm) & ~arm & (labels >= 0)
        if not holes.any():
            continue
        _, (iy, ix) = distance_transform_edt(~arm, return_indices=True)
        labels[holes] = labels[iy[holes], ix[holes]]


#: The dark cloth showing between a hand's fingers: pixels this much darker than the hand's skin
#: (OpenCV's 8-bit CIELAB L) and within :data:`GAP_LIKE_BODY` of the body's colour beside the hand,
#: in pieces no wider than :data:`GAP_WIDTH` of the hand's size (its area's square root; a phone held
#: in the hand is wider and stays).
GAP_DARKER = 100.0
GAP_LIKE_BODY = 30.0
GAP_WIDTH = 0.08


def _finger_gaps_to_body(labels: np.ndarray, rgb: np.ndarray, present: np.ndarray) -> None:
    """Give the body back the dark cloth showing between a hand's fingers (in place).

    anyone-1's hands are clasped over her navy skirt: the slivers of skirt between the fingers were
    the hands' (the hand's cut closes pinholes, and a finger's gap is a pinhole at that scale), and
    they travelled with the fingers as black blots when the hands moved apart. Thin pieces of the
    hand (:data:`GAP_WIDTH`) far darker than its skin (:data:`GAP_DARKER`) and of the colour of the
    body right beside the hand (:data:`GAP_LIKE_BODY`) go to the body part around them: the fill under
    the hand is that garment, and the moving hand shows what lies behind it between its fingers.
    """
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (3, 3), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    arm_ids = [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"]
    body = (labels >= 0) & ~np.isin(labels, arm_ids + [PART["head"]])
    if not body.any():
        return
    from scipy.ndimage import distance_transform_edt

    for side in "lr":
        j = PART[f"hand_{side}"]
        hand = labels == j
        if not present[j] or hand.sum() < 100:
            continue
        size = float(np.sqrt(hand.sum()))
        ring = dilate_disc(hand, 2 * max(3, int(round(0.3 * size))) + 1) & body
        if ring.sum() < 20:
            continue
        skin_l = float(np.median(lab[hand][:, 0]))
        body_c = np.median(lab[ring], axis=0)
        dark = hand & (lab[..., 0] < skin_l - GAP_DARKER) & (np.linalg.norm(lab - body_c, axis=2) < GAP_LIKE_BODY)
        if not dark.any():
            continue
        n, comp = cv2.connectedComponents(dark.astype(np.uint8), connectivity=8)
        width = cv2.distanceTransform(dark.astype(np.uint8), cv2.DIST_L2, 3)
        widest = np.zeros(n, np.float32)
        np.maximum.at(widest, comp[dark], width[dark])
        thin = np.flatnonzero(widest <= GAP_WIDTH * size)
        gaps = dark & np.isin(comp, thin[thin > 0])
        if not gaps.any():
            continue
        _, (iy, ix) = distance_transform_edt(~body, return_indices=True)
        labels[gaps] = labels[iy[gaps], ix[gaps]]


def part_labels(rgb, pose, a, kp, present, radius, over_arms: dict[int, np.ndarray] | None = None,
                lock: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Part index per pixel (-1 off the person): capsules, then the colour-cut arms and hands.

    ``over_arms``, when given, receives per upper arm the clothes found lying over it
    (:func:`_cloth_off_arm_edges`); ``lock`` the hair taken off the arms (:func:`_hair_off_arms`)."""
    labels = _labels(kp, present, radius, a > 0.15)
    hands = pose.hands[0] if pose.hands_present[0].any() else None
    if hands is not None:
        hands = np.where(pose.hands_present[0][:, None, None], hands, np.nan)
    uncut: set[int] = set()
    refined = _arm_masks(rgb, kp, present, radius, a > 0.15, hands, uncut)
    from scipy.ndimage import distance_transform_edt

    arm_ids = list(refined)
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (5, 5), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    body = (labels >= 0) & ~np.isin(labels, arm_ids)
    # the nearest part that is not an arm, for pixels the colour cut takes off an arm
    dist_body, (by, bx) = distance_transform_edt(~body, return_indices=True)
    reach = float(np.median(radius[arm_ids])) if arm_ids else 0.0
    k = 2 * max(2, int(0.004 * max(a.shape))) + 1
    for j, m in _farther_arm_first(refined, kp):
        # GrabCut stops a little inside a soft edge: the capsule's pixels next to the cut stay the arm's
        # (only along the silhouette: inside the figure the cut's edge is the arm's edge)
        m = m | (cv2.dilate(m.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & (labels == j) & (a < 0.95))
        # the refined arm takes its pixels; pixels the capsule gave it but the colour cut did not go
        # to the body part they lie beside (the shorts under a wrist, the shirt beside an elbow);
        # far from any (a fingertip the cut missed, out in the air) they stay with the arm
        dropped = (labels == j) & ~m & (dist_body < reach)
        # ... and so do those in colours unlike the arm's (chroma :data:`CLOTH_OFF_SKIN` from its
        # median): cloth beside a hand the colour cut left out (anyone-3's shaded cuff end)
        inner = cv2.erode(m.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        if inner.sum() >= 20:
            dropped |= (labels == j) & ~m & _unlike_skin(lab, np.median(lab[inner], axis=0))
        solid = dropped & (a >= 0.95)
        labels[solid] = labels[by[solid], bx[solid]]
        # the silhouette's soft edge (alpha < 1 only there): handed to the nearest part below, which
        # beside the body is the arm itself, so no strip of arm stays behind on the torso
        labels[dropped & (a < 0.95)] = -1
        labels[m] = j
    _trunk_slivers_to_arms(labels, kp, present, radius)
    skirt_to_torso(labels, rgb, a, kp, present, radius)
    _reclaim_arm_edges(labels, rgb, kp, present, radius, hands, a > 0.15)
    # (not on an arm the colour cut could not tell from the body: its colours say nothing there)
    _cloth_off_arm_edges(labels, rgb, kp, present, radius, over_arms, skip=uncut)
    _islands_to_neighbours(labels, present, radius)
    _lost_hands_to_forearms(labels, kp, present, radius)
    _necked_pieces_to_neighbours(labels, present, radius)
    if _hair_off_arms(labels, rgb, pose.face[0] if pose.face_present[0] else None, a, over_arms, lock):
        # (what a lock of hair taken off an arm by its strands leaves of the arm in pieces, the
        # chest's skin beside the lock, is cleared up as before)
        _islands_to_neighbours(labels, present, radius)
        _necked_pieces_to_neighbours(labels, present, radius)
    _shirt_off_head(labels, rgb, pose.face[0] if pose.face_present[0] else None, a, kp)
    _hair_to_head(labels, rgb, pose.face[0] if pose.face_present[0] else None, a, kp)
    _sleeve_bulges_to_forearms(labels, lab, kp, present, radius)
    _torso_spurs_to_arms(labels, lab, present, radius, kp)
    _close_arm_holes(labels, present)
    _finger_gaps_to_body(labels, rgb, present)
    # the soft edge of the silhouette goes to the nearest part, so no part keeps another's fringe
    from scipy.ndimage import distance_transform_edt

    fringe = (a > 0.005) & (labels < 0)
    if fringe.any() and (labels >= 0).any():
        _, (iy, ix) = distance_transform_edt(labels < 0, return_indices=True)
        labels[fringe] = labels[iy[fringe], ix[fringe]]
    return labels


