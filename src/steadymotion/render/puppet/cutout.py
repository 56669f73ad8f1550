"""Cutting the figure into parts: which parts the image shows, how wide they are, and which pixel
belongs to which part (capsules along the bones, arms and hands refined by GrabCut colour cuts,
Rother, Kolmogorov & Blake 2004).
"""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion.skeleton import KP, PART, PARTS, VISIBLE

#: Limb parts are drawn in front of the torso (arms, hands) or behind it (legs) in the master image.
FRONT_OF_TORSO = ("upper_arm_l", "forearm_l", "hand_l", "upper_arm_r", "forearm_r", "hand_r", "head")

def segment_distance(px: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points ``(N, 2)`` to segment a-b, and the projection parameter (unclipped)."""
    d = b - a
    L2 = float(d @ d) or 1.0
    u = ((px - a) @ d) / L2
    closest = a + np.clip(u, 0, 1)[:, None] * d
    return np.linalg.norm(px - closest, axis=1), u


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    if e1 <= e0:
        return (x >= e0).astype(np.float32)
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _in_image(p: np.ndarray, w: int, h: int, margin: float = 0.0) -> bool:
    return bool(np.isfinite(p).all() and -margin <= p[0] < w + margin and -margin <= p[1] < h + margin)


def present_parts(kp: np.ndarray, vis: np.ndarray, w: int, h: int) -> np.ndarray:
    present = np.zeros(len(PARTS), bool)
    for i, spec in enumerate(PARTS):
        ok = all(vis[KP[n]] >= VISIBLE and _in_image(kp[KP[n], :2], w, h) for n in (spec.a, spec.b))
        if spec.name == "torso":
            ok = all(vis[KP[n]] >= 0.3 for n in ("shoulder_l", "shoulder_r")) and np.isfinite(kp).all()
        if spec.name == "head":
            ok = _in_image(kp[KP["head"], :2], w, h)
        if spec.parent is not None and not present[PART[spec.parent]]:
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


def torso_polygon(kp: np.ndarray, radius: float, widen: float = 0.15, body: bool = False) -> np.ndarray:
    """The shoulder-hip quadrilateral, grown by ``widen``; with ``body`` its lower corners move out
    to the outside of the hips (the hip joints sit inside the pelvis, about half the hip-joint
    spacing in from the body's outline), so the quad follows the trunk's outline."""
    sl, sr, hl, hr = (kp[KP[n], :2] for n in ("shoulder_l", "shoulder_r", "hip_l", "hip_r"))
    if body:
        hl, hr = hl + 0.5 * (hl - hr), hr + 0.5 * (hr - hl)
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
            score[i] = d / radius[i] * 0.8
        else:
            d, _ = segment_distance(px, kp[KP[spec.a], :2], kp[KP[spec.b], :2])
            score[i] = d / radius[i]
    front = np.array([PART[n] for n in FRONT_OF_TORSO if present[PART[n]]])
    claimed = score[front] < 1.0 if len(front) else np.zeros((0, len(px)), bool)
    lab = np.argmin(score, axis=0)
    if len(front):
        # among front parts, the one with the smallest score inside its own capsule wins
        fs = np.where(claimed, score[front], np.inf)
        best = np.argmin(fs, axis=0)
        has = claimed.any(axis=0)
        lab = np.where(has, front[best], lab)
    lab[~np.isfinite(score.min(axis=0))] = -1
    out = np.full((h, w), -1, np.int16)
    out[ys, xs] = lab
    return out


def _arm_masks(rgb: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray, person: np.ndarray,
               hands: np.ndarray | None) -> dict[int, np.ndarray]:
    """Pixel masks of the arms and hands, cut from the torso by colour where the skeleton alone cannot.

    Hands: the hull of MediaPipe's 21 hand landmarks, grown by a quarter of the palm, when the hand
    was found. Arms: GrabCut (Rother, Kolmogorov & Blake 2004) in the arm's neighbourhood, seeded
    with the bone line as sure foreground, its capsule as probable foreground and everything
    outside the person as background; the result is split between upper arm and forearm by the
    nearer bone. A sleeve the colour of the shirt cannot be separated this way; the capsule is kept.
    """
    h, w = person.shape
    out: dict[int, np.ndarray] = {}
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
            cv2.line(cap, pa, pb, 1, max(2, int(2 * 1.5 * radius[pi])))
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
                bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
                cv2.grabCut(np.ascontiguousarray(rgb[y0:y1, x0:x1]), gc, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
                arm = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)) & pers & cap.astype(bool)
                # keep the pieces connected to the bone line
                n, comp = cv2.connectedComponents(arm.astype(np.uint8))
                keep = np.unique(comp[(core > 0) & arm])
                arm = np.isin(comp, keep[keep > 0])
            except cv2.error:
                pass
        # the bone's own core always belongs to the arm (hair lying over it moves with it) so an
        # arm the colour cut lost cannot leave its joint uncovered when it moves
        spine = np.zeros_like(gc)
        for a, b, pi in segs:
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
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        cv2.grabCut(np.ascontiguousarray(rgb[y0:y1, x0:x1]), gc, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return hull
    cut = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)) & hull[y0:y1, x0:x1]
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


def _reclaim_arm_edges(labels: np.ndarray, rgb: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray,
                       hands: np.ndarray | None, person: np.ndarray) -> None:
    """Give an arm back the edge pixels the colour cut lost to the body underneath (in place).

    Skin against skin (a bare arm beside a bare waist) or a fingertip past the landmarks' hull
    cannot be separated by a colour model of the whole region, and every pixel lost this way stays
    behind as a sliver or a finger-shaped remnant when the arm moves. Near the arm (within 0.9 of its
    width from the bone; within a quarter palm length of the hand's finger bones), a pixel the torso or a
    leg holds goes to the arm when its CIELAB colour is nearer the arm's median colour than the
    median colour of the part holding it, measured in a ring around the arm (a nearest-class-mean
    decision: denim under a hand stays denim, skin beside skin goes with the arm).
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
            zone = zone.astype(bool) & person
            cand = zone & (labels >= 0) & ~np.isin(labels, list(arm_parts | {PART["head"]}))
            if not cand.any():
                continue
            mine = np.median(lab[labels == j], axis=0)
            ring = cv2.dilate(zone.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
            ys, xs = np.nonzero(cand)
            holders = labels[ys, xs]
            take = np.zeros(len(ys), bool)
            for o in np.unique(holders):
                ref_px = ring & (labels == o) & ~cand
                if ref_px.sum() < 20:
                    ref_px = labels == o
                theirs = np.median(lab[ref_px], axis=0)
                sel = holders == o
                c = lab[ys[sel], xs[sel]]
                take[sel] = np.linalg.norm(c - mine, axis=1) < np.linalg.norm(c - theirs, axis=1)
            labels[ys[take], xs[take]] = j


def part_labels(rgb, pose, a, kp, present, radius) -> np.ndarray:
    """Part index per pixel (-1 off the person): capsules, then the colour-cut arms and hands."""
    labels = _labels(kp, present, radius, a > 0.15)
    hands = pose.hands[0] if pose.hands_present[0].any() else None
    if hands is not None:
        hands = np.where(pose.hands_present[0][:, None, None], hands, np.nan)
    refined = _arm_masks(rgb, kp, present, radius, a > 0.15, hands)
    k = 2 * max(2, int(0.004 * max(a.shape))) + 1
    for j, m in refined.items():
        # GrabCut stops a little inside a soft edge: the capsule's pixels next to the cut stay the arm's
        # (only along the silhouette: inside the figure the cut's edge is the arm's edge)
        m = m | (cv2.dilate(m.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & (labels == j) & (a < 0.95))
        # the refined arm takes its pixels; pixels the capsule gave it but the colour cut did not
        # go to the torso (they are the torso's or the hair's)
        dropped = (labels == j) & ~m
        labels[dropped & (a >= 0.95)] = PART["torso"]
        # the silhouette's soft edge (alpha < 1 only there): handed to the nearest part below, which
        # beside the body is the arm itself, so no strip of arm stays behind on the torso
        labels[dropped & (a < 0.95)] = -1
        labels[m] = j
    _trunk_slivers_to_arms(labels, kp, present, radius)
    _reclaim_arm_edges(labels, rgb, kp, present, radius, hands, a > 0.15)
    # the soft edge of the silhouette goes to the nearest part, so no part keeps another's fringe
    from scipy.ndimage import distance_transform_edt

    fringe = (a > 0.005) & (labels < 0)
    if fringe.any() and (labels >= 0).any():
        _, (iy, ix) = distance_transform_edt(labels < 0, return_indices=True)
        labels[fringe] = labels[iy[fringe], ix[fringe]]
    return labels


