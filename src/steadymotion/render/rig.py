"""Rigging one character image as a layered 2D puppet: parts, textures, meshes and skinning weights.

:func:`build_rig` finds the person (MediaPipe Holistic + selfie segmentation, or the image's own
alpha channel), cuts the figure into body parts along the skeleton, fills what moving parts will
reveal (the background behind the person, the torso behind an arm) and triangulates each part.
Everything heavy happens here, once per character; :mod:`.puppet` only deforms and draws.

Coordinates are pixels of the master image, ``(x, y)``, origin top-left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from steadymotion.errors import InvalidPoseDataError, NoPersonError
from steadymotion.skeleton import BODY

#: Bump when the stored rig layout changes; older stored rigs are rebuilt from their master image.
RIG_VERSION = 2

# --- the puppet's keypoints (derived from MediaPipe's 33 body landmarks) ---------------------------
#: Keypoint name -> MediaPipe body index, or a pair whose midpoint is taken.
KEYPOINTS: dict[str, int | tuple[int, int]] = {
    "neck": (BODY["left_shoulder"], BODY["right_shoulder"]),
    "pelvis": (BODY["left_hip"], BODY["right_hip"]),
    "shoulder_l": BODY["left_shoulder"], "shoulder_r": BODY["right_shoulder"],
    "hip_l": BODY["left_hip"], "hip_r": BODY["right_hip"],
    "elbow_l": BODY["left_elbow"], "wrist_l": BODY["left_wrist"], "hand_l": (BODY["left_index"], BODY["left_pinky"]),
    "elbow_r": BODY["right_elbow"], "wrist_r": BODY["right_wrist"], "hand_r": (BODY["right_index"], BODY["right_pinky"]),
    "knee_l": BODY["left_knee"], "ankle_l": BODY["left_ankle"], "toe_l": BODY["left_foot_index"],
    "knee_r": BODY["right_knee"], "ankle_r": BODY["right_ankle"], "toe_r": BODY["right_foot_index"],
    "head": (BODY["left_ear"], BODY["right_ear"]),
}
KP_NAMES: tuple[str, ...] = tuple(KEYPOINTS)
KP = {n: i for i, n in enumerate(KP_NAMES)}


@dataclass(frozen=True)
class PartSpec:
    """One body part: the bone it follows (keypoints ``a`` -> ``b``) and its place in the tree."""

    name: str
    a: str
    b: str
    parent: str | None
    rigid: bool = False  # head, hands, feet: never stretched, so faces and hands are never distorted


#: The parts, parents before children. The torso is driven by four keypoints (shoulders, hips).
PARTS: tuple[PartSpec, ...] = (
    PartSpec("torso", "pelvis", "neck", None),
    PartSpec("head", "neck", "head", "torso", rigid=True),
    PartSpec("upper_arm_l", "shoulder_l", "elbow_l", "torso"),
    PartSpec("forearm_l", "elbow_l", "wrist_l", "upper_arm_l"),
    PartSpec("hand_l", "wrist_l", "hand_l", "forearm_l", rigid=True),
    PartSpec("upper_arm_r", "shoulder_r", "elbow_r", "torso"),
    PartSpec("forearm_r", "elbow_r", "wrist_r", "upper_arm_r"),
    PartSpec("hand_r", "wrist_r", "hand_r", "forearm_r", rigid=True),
    PartSpec("thigh_l", "hip_l", "knee_l", "torso"),
    PartSpec("shin_l", "knee_l", "ankle_l", "thigh_l"),
    PartSpec("foot_l", "ankle_l", "toe_l", "shin_l", rigid=True),
    PartSpec("thigh_r", "hip_r", "knee_r", "torso"),
    PartSpec("shin_r", "knee_r", "ankle_r", "thigh_r"),
    PartSpec("foot_r", "ankle_r", "toe_r", "shin_r", rigid=True),
)
PART = {p.name: i for i, p in enumerate(PARTS)}
#: Extra transform index: the torso is skinned with an upper (shoulders) and a lower (hips) transform;
#: the torso's own index is the upper one, this is the lower one (thighs hang from it).
TORSO_LOWER = len(PARTS)
#: Limb parts are drawn in front of the torso (arms, hands) or behind it (legs) in the master image.
FRONT_OF_TORSO = ("upper_arm_l", "forearm_l", "hand_l", "upper_arm_r", "forearm_r", "hand_r", "head")

#: A landmark needs at least this MediaPipe visibility (and to lie in the image) to carry a part.
MIN_VISIBILITY = 0.5


def keypoints_from_body(body: np.ndarray) -> np.ndarray:
    """Puppet keypoints from MediaPipe landmarks: ``(..., 33, >=3) -> (..., K, 3)`` as x, y, z."""
    out = np.empty(body.shape[:-2] + (len(KP_NAMES), 3), np.float32)
    for k, src in enumerate(KEYPOINTS.values()):
        if isinstance(src, tuple):
            out[..., k, :] = (body[..., src[0], :3] + body[..., src[1], :3]) / 2
        else:
            out[..., k, :] = body[..., src, :3]
    return out


def keypoint_visibility(body: np.ndarray) -> np.ndarray:
    """Visibility of each puppet keypoint, ``(..., K)`` (the lower of a pair's two landmarks)."""
    out = np.empty(body.shape[:-2] + (len(KP_NAMES),), np.float32)
    for k, src in enumerate(KEYPOINTS.values()):
        idx = src if isinstance(src, tuple) else (src,)
        out[..., k] = np.min(np.stack([body[..., i, 3] for i in idx]), axis=0)
    return out


# --- the rig ---------------------------------------------------------------------------------------
@dataclass
class Part:
    """One layered part of the puppet.

    Attributes
    ----------
    name : str
    texture : ndarray, (h, w, 4) uint8
        Premultiplied RGBA covering ``box``; alpha is the part's share of the figure.
    box : tuple of int
        ``(x0, y0)`` of the texture in master-image pixels.
    vertices : ndarray, (V, 2) float32
        Rest mesh in master-image pixels (a triangulation of the part's convex region).
    triangles : ndarray, (F, 3) int32
    bones : ndarray, (V, 3) int16
        Up to three part indices whose transforms skin each vertex (own, parent, child).
    weights : ndarray, (V, 3) float32
        Linear-blend-skinning weights (rows sum to 1).
    """

    name: str
    texture: np.ndarray
    box: tuple[int, int]
    vertices: np.ndarray
    triangles: np.ndarray
    bones: np.ndarray
    weights: np.ndarray


@dataclass
class Rig:
    """A character image rigged as a layered puppet (see the module docstring).

    Attributes
    ----------
    image : ndarray, (H, W, 3) uint8
        The master image: every rendered pixel of the character comes from here.
    alpha : ndarray, (H, W) float32
        Soft person mask in [0, 1].
    background : ndarray, (H, W, 3) uint8
        The master image with the person removed and the hole inpainted.
    rest : ndarray, (K, 3) float32
        Rest keypoints (x, y, z) in :data:`KP_NAMES` order.
    present : ndarray, (P,) bool
        Parts the image shows (a portrait has no legs; missing parts stay with their parent).
    radius : ndarray, (P,) float32
        Half-width of each part, pixels.
    parts : list of Part
        The present parts, in :data:`PARTS` order.
    """

    image: np.ndarray
    alpha: np.ndarray
    background: np.ndarray
    rest: np.ndarray
    present: np.ndarray
    radius: np.ndarray
    parts: list[Part]
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    def part(self, name: str) -> Part | None:
        for p in self.parts:
            if p.name == name:
                return p
        return None

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the rig to one ``.npz`` (uncompressed textures are large; zip-compressed)."""
        arrays: dict[str, np.ndarray] = {
            "image": self.image, "alpha": self.alpha.astype(np.float16), "background": self.background,
            "rest": self.rest, "present": self.present, "radius": self.radius,
        }
        meta = {"version": RIG_VERSION, "notes": self.notes, "parts": []}
        for i, p in enumerate(self.parts):
            meta["parts"].append({"name": p.name, "box": list(p.box)})
            arrays[f"p{i}_texture"] = p.texture
            for key in ("vertices", "triangles", "bones", "weights"):
                arrays[f"p{i}_{key}"] = getattr(p, key)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        path = Path(path)
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Rig:
        try:
            z = np.load(path, allow_pickle=False)
            meta = json.loads(bytes(z["meta"]).decode())
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidPoseDataError(f"{path}: not a steadymotion rig ({exc}); rebuild it from the master image") from None
        if meta.get("version") != RIG_VERSION:
            raise InvalidPoseDataError(f"{path}: rig version {meta.get('version')} != {RIG_VERSION}; rebuild it")
        parts = []
        for i, pm in enumerate(meta["parts"]):
            parts.append(Part(
                name=pm["name"], texture=z[f"p{i}_texture"], box=tuple(pm["box"]),
                vertices=z[f"p{i}_vertices"], triangles=z[f"p{i}_triangles"], bones=z[f"p{i}_bones"],
                weights=z[f"p{i}_weights"],
            ))
        return cls(image=z["image"], alpha=z["alpha"].astype(np.float32), background=z["background"],
                   rest=z["rest"], present=z["present"], radius=z["radius"], parts=parts, notes=meta["notes"])


# --- building ----------------------------------------------------------------------------------------
def person_alpha(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """Soft person mask ``(H, W) float32`` in [0, 1].

    The image's own alpha channel when it has a meaningful one (a cut-out character); otherwise
    MediaPipe selfie segmentation (general model) refined to the image's edges with a guided
    filter (He, Sun & Tang 2010, "Guided Image Filtering").
    """
    if alpha is not None and (alpha < 0.5).mean() > 0.02:
        return alpha.astype(np.float32)
    import mediapipe as mp

    from steadymotion._native import quiet_native_stderr

    with quiet_native_stderr(), mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        m = seg.process(np.ascontiguousarray(rgb)).segmentation_mask
    if m is None:
        return np.zeros(rgb.shape[:2], np.float32)
    m = np.clip(m.astype(np.float32), 0, 1)
    if m.shape != rgb.shape[:2]:
        m = cv2.resize(m, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    r = max(2, int(0.006 * max(rgb.shape[:2])))
    refined = cv2.ximgproc.guidedFilter(rgb, m, r, 1e-3)
    return np.clip(refined, 0, 1).astype(np.float32)


def inpaint_multiscale(rgb: np.ndarray, hole: np.ndarray, scale: float = 0.25) -> np.ndarray:
    """Fill ``hole`` (bool) by Telea's fast marching inpainting (Telea 2004) run at ``scale``.

    At a quarter of the size the fill is smooth instead of streaky and takes milliseconds; the
    result is upsampled into the hole only, and the seam is feathered over a few pixels.
    """
    h, w = rgb.shape[:2]
    if not hole.any():
        return rgb.copy()
    sw, sh = max(8, int(w * scale)), max(8, int(h * scale))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    hs = cv2.resize(hole.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) > 0
    hs = cv2.dilate(hs.astype(np.uint8), np.ones((3, 3), np.uint8))
    if hs.all():
        fill = np.full_like(small, np.median(rgb.reshape(-1, 3), axis=0).astype(np.uint8))
    else:
        fill = cv2.inpaint(small, hs, 3, cv2.INPAINT_TELEA)
    up = cv2.resize(fill, (w, h), interpolation=cv2.INTER_CUBIC)
    k = max(3, int(0.004 * max(h, w)) | 1)
    soft = cv2.GaussianBlur(hole.astype(np.float32), (k, k), 0)[..., None]
    soft = np.maximum(soft, hole[..., None].astype(np.float32))
    return (up * soft + rgb * (1 - soft)).round().clip(0, 255).astype(np.uint8)


def _segment_distance(px: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of points ``(N, 2)`` to segment a-b, and the projection parameter (unclipped)."""
    d = b - a
    L2 = float(d @ d) or 1.0
    u = ((px - a) @ d) / L2
    closest = a + np.clip(u, 0, 1)[:, None] * d
    return np.linalg.norm(px - closest, axis=1), u


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    if e1 <= e0:
        return (x >= e0).astype(np.float32)
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _in_image(p: np.ndarray, w: int, h: int, margin: float = 0.0) -> bool:
    return bool(np.isfinite(p).all() and -margin <= p[0] < w + margin and -margin <= p[1] < h + margin)


def _present_parts(kp: np.ndarray, vis: np.ndarray, w: int, h: int) -> np.ndarray:
    present = np.zeros(len(PARTS), bool)
    for i, spec in enumerate(PARTS):
        ok = all(vis[KP[n]] >= MIN_VISIBILITY and _in_image(kp[KP[n], :2], w, h) for n in (spec.a, spec.b))
        if spec.name == "torso":
            ok = all(vis[KP[n]] >= 0.3 for n in ("shoulder_l", "shoulder_r")) and np.isfinite(kp).all()
        if spec.name == "head":
            ok = _in_image(kp[KP["head"], :2], w, h)
        if spec.parent is not None and not present[PART[spec.parent]]:
            ok = False
        present[i] = ok
    return present


def _radii(kp: np.ndarray, mask: np.ndarray, face: np.ndarray | None) -> np.ndarray:
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


def _torso_polygon(kp: np.ndarray, radius: float, widen: float = 0.15, body: bool = False) -> np.ndarray:
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
            poly = _torso_polygon(kp, radius[i], widen=0.0)
            # distance to the polygon for every pixel, via a rasterised distance transform
            canvas = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(canvas, poly.round().astype(np.int32), 1)
            d = cv2.distanceTransform(1 - canvas, cv2.DIST_L2, 5)
            score[i] = d[ys, xs] / (0.6 * radius[i])
        elif spec.name == "head":
            d = np.linalg.norm(px - kp[KP["head"], :2], axis=1)
            score[i] = d / radius[i] * 0.8
        else:
            d, _ = _segment_distance(px, kp[KP[spec.a], :2], kp[KP[spec.b], :2])
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
        d_up, _ = _segment_distance(px, joints[0], joints[1])
        d_fo = _segment_distance(px, joints[1], joints[2])[0] if present[idx[1]] else np.full(len(px), np.inf)
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
    # the soft edge of the silhouette goes to the nearest part, so no part keeps another's fringe
    from scipy.ndimage import distance_transform_edt

    fringe = (a > 0.005) & (labels < 0)
    if fringe.any() and (labels >= 0).any():
        _, (iy, ix) = distance_transform_edt(labels < 0, return_indices=True)
        labels[fringe] = labels[iy[fringe], ix[fringe]]
    return labels


def _hull_mesh(region: np.ndarray, pad: int, max_area: float) -> tuple[np.ndarray, np.ndarray]:
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
    _, u = _segment_distance(points, kp[KP["pelvis"], :2], kp[KP["neck"], :2])
    return u


def _skin(spec: PartSpec, verts: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        weights[:, 0] = _smoothstep(0.15, 0.85, v)
        weights[:, 1] = 1 - weights[:, 0]
        return bones, weights
    a, b = kp[KP[spec.a], :2], kp[KP[spec.b], :2]
    L = float(np.linalg.norm(b - a)) or 1.0
    _, u = _segment_distance(verts, a, b)
    parent = PART[spec.parent]
    if spec.parent == "torso" and spec.name.startswith("thigh"):
        parent = TORSO_LOWER
    # proximal joint: the parent's transform on the negative side (s = distance past the joint)
    if spec.parent == "torso":
        d = 0.8 * radius[own]
        w_own = _smoothstep(-d, d, u * L)
    else:
        d = 0.4 * (radius[own] + radius[PART[spec.parent]])
        w_own = _smoothstep(-d, 0.0 if spec.rigid else d, u * L)
    weights[:, 0], bones[:, 1], weights[:, 1] = w_own, parent, 1 - w_own
    # distal joint: the child's transform on the positive side, with the child's own blend
    child = next((i for i, c in enumerate(PARTS) if c.parent == spec.name and present[i]), None)
    if child is not None:
        d = 0.4 * (radius[own] + radius[child])
        w_child = _smoothstep(-d, 0.0 if PARTS[child].rigid else d, (u - 1) * L)
        bones[:, 2], weights[:, 2] = child, w_child
        weights[:, 0] = np.clip(weights[:, 0] - w_child, 0, 1)
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-6)
    return bones, weights


def build_rig(rgb: np.ndarray, pose=None, alpha: np.ndarray | None = None, *, source: str = "image") -> Rig:
    """Rig a character image as a layered puppet.

    Parameters
    ----------
    rgb : ndarray, (H, W, 3) uint8
        The master image.
    pose : PoseSequence, optional
        Its landmarks (1 frame); detected with :func:`steadymotion.pose.extract.pose_from_image`
        when not given.
    alpha : ndarray, (H, W), optional
        The image's own transparency, used as the person mask when it cuts the figure out.

    Raises
    ------
    NoPersonError
        No body was found, or the body's shoulders or head are not in the image.

    Notes
    -----
    Parts are cut by capsule distance to the bones (normalised by each part's width measured on the
    mask's distance transform); parts behind others in the master image (the torso behind the
    arms) get the hidden pixels inpainted from their own pixels; each part's mesh is a Triangle
    quality triangulation (Shewchuk 1996) of its padded convex hull, drawn with the part's texture
    alpha, so the silhouette comes from the image, not from the mesh.
    """
    from steadymotion.pose.extract import pose_from_image

    h, w = rgb.shape[:2]
    if pose is None:
        pose = pose_from_image(rgb)
    if not pose.body_present[0]:
        raise NoPersonError(f"{source}: no person found; use an image with one clearly visible person (head and shoulders at least)")
    body = pose.body[0]
    kp = keypoints_from_body(body)
    vis = keypoint_visibility(body)
    present = _present_parts(kp, vis, w, h)
    if not present[PART["torso"]] or not present[PART["head"]]:
        raise NoPersonError(f"{source}: the person's head and shoulders must be in the image to rig it; use a wider shot")
    face = pose.face[0] if pose.face_present[0] else None
    a = person_alpha(rgb, alpha)
    # segmentation is unsure on thin limbs (alpha 0.5-0.8 across a whole arm): a puppet part is
    # opaque inside and soft only along its silhouette, or it turns see-through when it moves
    e = max(3, int(0.005 * max(h, w)) | 1)
    interior = cv2.erode((a > 0.5).astype(np.uint8), np.ones((e, e), np.uint8)).astype(bool)
    a = np.where(interior, 1.0, a).astype(np.float32)
    mask = a > 0.5
    if mask.sum() < 0.002 * h * w:
        raise NoPersonError(f"{source}: the person is too small to rig (segmentation found {int(mask.sum())} px); use a closer shot")
    radius = _radii(kp, mask, face)
    labels = part_labels(rgb, pose, a, kp, present, radius)
    notes = []
    missing = [p.name for i, p in enumerate(PARTS) if not present[i]]
    if missing:
        notes.append("not in the image (kept still with their parent part): " + ", ".join(missing))

    # background: the person removed
    grow = max(3, int(0.012 * max(h, w)))
    hole = cv2.dilate((a > 0.05).astype(np.uint8), np.ones((grow, grow), np.uint8)).astype(bool)
    background = inpaint_multiscale(rgb, hole)

    # stable unit for mesh density
    torso_len = float(np.linalg.norm(kp[KP["neck"], :2] - kp[KP["pelvis"], :2]))
    parts: list[Part] = []
    front_set = {PART[n] for n in FRONT_OF_TORSO}
    rgbf = rgb.astype(np.float32) / 255
    for i, spec in enumerate(PARTS):
        if not present[i]:
            continue
        own = labels == i  # pixels of missing parts went to the nearest present part already
        region = own.copy()
        children = [c for c in PARTS if c.parent == spec.name and present[PART[c.name]]]

        def cap(joint: str, parts: list[int]) -> np.ndarray:
            """The person's pixels of ``parts`` within 1.1 part widths of ``joint``."""
            disc = np.zeros((h, w), np.uint8)
            j = kp[KP[joint], :2]
            cv2.circle(disc, (int(round(j[0])), int(round(j[1]))), int(round(radius[i] * 1.1)), 1, -1)
            return disc.astype(bool) & (a > 0.15) & np.isin(labels, parts)

        if spec.parent is not None and spec.name != "head":
            # a cap around the proximal joint, so the joint never opens when the part turns; only
            # the joint's own pixels (never the shorts under a hand or the shirt beside an elbow)
            # (the hip joints sit inside the pelvis: a thigh's cap would carry a disc of the torso's
            # clothes; the torso's lower transform covers the hip instead)
            parent_px = [] if spec.name.startswith("thigh") else [PART[spec.parent]]
            region |= cap(spec.a, [i] + parent_px + [PART[c.name] for c in children])
        if children and not children[0].rigid:
            # and a round end at the bending joint (elbow, knee): past a sharp bend the renderer
            # stops blending and the two round ends, turning about the joint, keep it covered
            region |= cap(spec.b, [i, PART[children[0].name]])
        if spec.name == "head":
            # the neck down to the shoulder line travels with the head
            neck = np.zeros((h, w), np.uint8)
            n0, hd = kp[KP["neck"], :2], kp[KP["head"], :2]
            cv2.line(neck, tuple(np.round(n0).astype(int)), tuple(np.round(hd).astype(int)), 1, int(max(2, radius[i] * 0.9)))
            region |= neck.astype(bool) & (a > 0.15) & ((labels == PART["torso"]) | (labels == i))
        hidden = np.zeros((h, w), bool)
        if i not in front_set:
            # what parts drawn in front hide of this one is filled from this part's own pixels
            if spec.name == "torso":
                zone = np.zeros((h, w), np.uint8)
                cv2.fillConvexPoly(zone, _torso_polygon(kp, radius[i], widen=0.15, body=True).round().astype(np.int32), 1)
                zone = zone.astype(bool)
            else:
                ys, xs = np.nonzero(a > 0.15)
                d, _ = _segment_distance(np.stack([xs, ys], 1).astype(np.float32), kp[KP[spec.a], :2], kp[KP[spec.b], :2])
                zone = np.zeros((h, w), bool)
                zone[ys[d < radius[i]], xs[d < radius[i]]] = True
            for j in front_set:
                if present[j]:
                    hidden |= zone & (labels == j)
            hidden &= a > 0.15
            region |= hidden
        if not region.any():
            present[i] = False
            continue
        # overlap internal seams by a few pixels so no background shows between parts
        seam = max(2, int(0.003 * max(h, w)))
        grown = cv2.dilate(region.astype(np.uint8), np.ones((2 * seam + 1, 2 * seam + 1), np.uint8)).astype(bool)
        grown = region | (grown & (a > 0.5))  # overlap inside the figure only, never into a fringe
        if i in front_set and spec.name != "head":
            # an arm overlaps its own chain fully, anything else by one pixel: the torso behind it
            # is inpainted, and a wide seam into the shorts would carry cloth along with the arm
            chain = [i] + ([PART[spec.parent]] if spec.parent and spec.parent != "torso" else [])
            chain += [PART[c.name] for c in children]
            thin = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & (a > 0.5)
            grown = region | (grown & np.isin(labels, chain)) | thin
        ys, xs = np.nonzero(grown)
        pad = seam + 3
        x0, y0 = max(0, xs.min() - pad), max(0, ys.min() - pad)
        x1, y1 = min(w, xs.max() + pad + 1), min(h, ys.max() + pad + 1)
        color = rgbf[y0:y1, x0:x1].copy()
        hid = hidden[y0:y1, x0:x1]
        if hid.any():
            # the part's pixels right next to what hides it often carry the front part's colour
            # (a blurred edge, a few mislabelled pixels): the fill takes its colours from farther in
            band = max(3, int(0.008 * max(h, w)))
            near = cv2.dilate(hid.astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(bool)
            # and from solid pixels only (the soft silhouette's colour is mostly the background's)
            known = own[y0:y1, x0:x1] & ~near & (a[y0:y1, x0:x1] > 0.9)
            if spec.name == "torso":
                # the torso's colours come from inside its outline (shoulders to the outer hips):
                # slivers of an arm's edge left on the torso beside the body would smear skin in
                trunk = np.zeros((h, w), np.uint8)
                cv2.fillConvexPoly(trunk, _torso_polygon(kp, radius[i], widen=0.0, body=True).round().astype(np.int32), 1)
                inner = known & trunk[y0:y1, x0:x1].astype(bool)
                if inner.sum() > 100:
                    known = inner
            if not known.any():
                known = own[y0:y1, x0:x1] & ~hid
            fill_mask = (~known).astype(np.uint8)
            if known.any():
                filled = cv2.inpaint((color * 255).astype(np.uint8), fill_mask, 5, cv2.INPAINT_TELEA).astype(np.float32) / 255
                color[hid] = filled[hid]
        pa = a[y0:y1, x0:x1] * grown[y0:y1, x0:x1]
        pa = np.where(region[y0:y1, x0:x1], a[y0:y1, x0:x1], pa)
        # where this part is hidden behind a front part, it is solid (the inpainted torso is opaque)
        pa = np.where(hid, 1.0, pa).astype(np.float32)
        tex = (np.dstack([color * pa[..., None], pa]) * 255).round().clip(0, 255).astype(np.uint8)
        max_area = max(60.0, (torso_len * 0.12) ** 2)
        verts, tris = _hull_mesh(grown[y0:y1, x0:x1] | (pa > 0.02), pad=2, max_area=max_area)
        verts += np.array([x0, y0], np.float32)
        bones, weights = _skin(spec, verts, kp, present, radius)
        parts.append(Part(spec.name, tex, (int(x0), int(y0)), verts, tris, bones, weights))
    # drop skin references to parts that did not make it
    kept = {PART[p.name] for p in parts} | {TORSO_LOWER}
    for p in parts:
        bad = ~np.isin(p.bones, list(kept))
        if bad.any():
            p.weights[bad] = 0
            p.bones[bad] = PART[p.name]
            p.weights /= np.maximum(p.weights.sum(axis=1, keepdims=True), 1e-6)
    return Rig(image=np.ascontiguousarray(rgb), alpha=a, background=background, rest=kp, present=present,
               radius=radius, parts=parts, notes=notes)
