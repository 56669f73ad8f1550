"""The puppet's rig: one character image as layered 2D parts with textures, meshes and skinning.

:func:`build_rig` finds the person (MediaPipe Holistic + selfie segmentation, or the image's own
alpha channel; :mod:`steadymotion.perception`), cuts the figure into body parts along the skeleton
(:mod:`.cutout`), fills what moving parts will reveal (the background behind the person, the torso
behind an arm; :mod:`.fill`) and triangulates and skins each part (:mod:`.mesh`). Everything heavy
happens here, once per character; :mod:`.renderer` only deforms and draws.

Coordinates are pixels of the master image, ``(x, y)``, origin top-left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from steadymotion.errors import InvalidPoseDataError, NoPersonError
from steadymotion.morphology import close_disc, dilate_disc
from steadymotion.perception.segmentation import person_alpha
from steadymotion.render.puppet.cutout import (FRONT_OF_TORSO, bone_frame, chin_height, edge_elbows, face_hull, forearm_shown,
                                               limb_edges_off_torso, nearer_arm, part_labels, present_parts, radii, segment_distance,
                                               torso_polygon, weak_forearms)
from steadymotion.render.puppet.fill import (SHADOW_REACH, continue_lines, exemplar_fill, fill_by_garment, fill_plain, hem_line, inpaint_multiscale,
                                             lift_cast_shadow, refine_patches, settle_fill, two_garments)
from steadymotion.render.puppet.mesh import TORSO_LOWER, chin_or_default, head_share_map, hull_mesh, skin_weights
from steadymotion.skeleton import KP, PART, PARTS, keypoint_visibility, keypoints_from_body
from steadymotion.types import RestPose

#: Bump when the stored rig layout or what its parts hold changes; older stored rigs are rebuilt from
#: their master image (4: parts cut by the bottom edge continue below it; 5: hands raised from below
#: the picture are rigged with their forearm, about a virtual elbow; 6: the shirt's shoulders by the
#: neck are the torso's, which is filled under the head; 7: the parts of a hand the matte lost come
#: back by a GrabCut about the hand; 8: what the arms hide of the trunk and legs is filled with patches
#: of the same garment, Criminisi 2004; 9: hair hanging to the shoulders moves with the head; 10: a
#: limb's background pixels are taken out further in and beside the picture's edge; 11: a forearm's
#: wrist end over the shorts is filled, hems under a hand keep their slant, thighs carry a strip of
#: the trunk at the hip; 12: the hair's dark edge and shadow on the shirt are filled with the shirt;
#: 13: the background plate is filled with patches of the surroundings, not FSR alone; 14: the
#: patch fills under the arms are voted over, no barcodes; 15: the silhouette's soft band carries the
#: figure's colour unmixed from the plate, not the old background's; 16: the head and the trunk are
#: skinned with one blend across the neck; 17: clothes lying over an upper arm stay with the trunk and
#: the arm goes on under them, filled from its own colours; 18: what an arm across the trunk hides
#: is filled garment by garment, a sleeve across a top of its colour is cut back to the arm, and a
#: forearm running off the bottom edge under a weakly seen wrist is a part; 19: the trunk keeps the
#: shoulders' tops under the arms' roots too; 20: a hem under a hand is laid out along its line, each
#: side patched from its own garment, and cloth at a hand's edge stays with the body; 21: a lock of
#: long hair over a bare upper arm, told by its strands' texture, stays with the trunk, whole, and
#: the arm goes on under it; 22: thin flat frame lines along the picture's edges are mended first,
#: pockets of background the figure encloses are cut out of it, a forearm's sleeve bulging past its
#: capsule is the forearm's, the trunk under an arm is laid out from its skirt and past thin lines,
#: hair over most of a sleeve of another hue stays with the trunk, and the dark cloth between a hand's
#: fingers is the body's; 23: a forearm across a corset hides the corset, not the blouse met far up
#: beside the arm, and buttons are neither a garment of their own nor copied into fills; 24: the
#: background plate continues horizontal bands, a wall or a hedge, through the figure's hole; 25: thin
#: spurs of the trunk along an arm, a sleeve of the blouse's colour, are the arm's; 26: the arm's
#: pixels past a gap of background beside the trunk are left out of the trunk's texture; 27: thighs
#: go on up under a skirt in their own colours; 28: a held phone's outline against the wall is the
#: hand's, not a thin line of the trunk; 29: the background's fill meets the tone around it, and
#: straight lines seen on both sides of the figure, a tiled floor's joints, go on through it; 30: the
#: gap between the shins is opened at full size where the background shows through it; 31: a limb's
#: lit skin along its outline is its own, not wall the matte spilled onto; 32: under a wrist at the
#: hip, the body below the hips' line is the thigh's, and the fills of two parts under one hand overlap;
#: 33: a piece of the waist joined to an elbow across a gap by a shadow is the trunk's; 34: an arm's
#: or leg's pixels the colour of the background the picture shows right beside them are background;
#: 35: and so are the trunk's; 36: but not its own colours, those of a held object included; 37: the
#: shadow a hand casts on a leg beside it is relit; 38: the dark crease of a forearm crossing the
#: shorts' side stays the arm's, by its hue; 39: the shade of hair or clothes lying over an arm is
#: relit on it, and its piece under them is its strip mirrored; 40: a leg's fill of a textured cloth
#: takes its grain, and its tone meets the trunk's pixels beside it too; 41: the patch votes over a
#: fill match what lies beside it (a hand) as the nearest filled or known pixel; 42: where the arms
#: cross, the one nearer the camera keeps the crossing, and the one behind is filled under it; 43: the
#: trunk's own pixels beside an arm across it are filled with the trunk under it; 44: a hand whose
#: landmark lies past the picture's edge goes with its forearm, not the trunk; 45: the shins' caps
#: above the knees under a skirt or dress are its hem's; 46: a held object's bevel its cut left
#: outside is the hand's; 47: the face's share of the head fades over a width that grows with the
#: distance from the neck joint; 48: a bare arm's inner edge in shade beside a darker top is not
#: grown into the top's soft edge; 49: the rig keeps the image's face landmarks, which the renderer
#: warps the face by; 50: with their depth, which turns the face in depth; 51: the plate's margin past
#: the matte keeps the image's pixels where they hold no figure colour, the figure's fringe there is
#: its parts', and each part's mesh holds its whole hull; 52: an arm's edge the trunk's capsule took,
#: apart from the trunk, is the arm's).
RIG_VERSION = 52

#: The trunk's own pixels beside an arm across it are filled with the trunk under the arm where the
#: fill differs from them by at most this (CIELAB, 8-bit units): a soft edge or a shade, not another
#: garment the fill's layout put there.
EDGE_REFILL_DE = 40.0
#: The strip of the trunk's pixels a thigh carries along its top edge near the hip (share of the
#: thigh's width): closes the wedge a leg swung out by up to about 20 degrees opens at the outer hip.
HIP_UNDERLAP = 0.35
#: A bob's ends lie on the shoulders: hair the head holds below this share of the neck's length above
#: the shoulder line (UniAnimate's reaches 0.15). Hair that ends higher (beside the jaw: 0.27 and up
#: on the shared images) and long hair (the trunk's) leave no shadow the head's turn uncovers.
BOB_ENDS = 0.2
#: Vertex spacing of the head's and the trunk's meshes where the neck blends them (share of the
#: chin's height above the shoulder line): about five triangles across the blend.
NECK_GRID = 0.2


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
        Rest keypoints (x, y, z) in :data:`steadymotion.skeleton.KP_NAMES` order.
    present : ndarray, (P,) bool
        Parts the image shows (a portrait has no legs; missing parts stay with their parent).
    radius : ndarray, (P,) float32
        Half-width of each part, pixels.
    parts : list of Part
        The present parts, in :data:`steadymotion.skeleton.PARTS` order.
    labels : ndarray, (H, W) int16
        Part index (:data:`steadymotion.skeleton.PARTS`) owning each person pixel, -1 off the person.
    filled : ndarray, (H, W) uint8
        Where colours were synthesised: 1 = the background plate behind the person, 2 = a part's
        pixels hidden behind a part in front of it (the torso behind an arm), 0 = image pixels.
    under : list of Part
        Pieces of arms hidden under the clothes lying over them (a ruffle over the upper arm),
        their colours filled from the arm's: drawn with the arm's transform right before the
        torso, so the clothes cover them at rest and a moving arm is whole.
    face : ndarray, (478, 3) float32, optional
        The face mesh's landmarks in the master image (MediaPipe's order; depth scaled like x), when
        it shows a face: what the renderer warps the face by to show the reference's expressions and
        the head's turn in depth.
    """

    image: np.ndarray
    alpha: np.ndarray
    background: np.ndarray
    rest: np.ndarray
    present: np.ndarray
    radius: np.ndarray
    parts: list[Part]
    labels: np.ndarray | None = None
    filled: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    under: list[Part] = field(default_factory=list)
    face: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    @property
    def rest_pose(self) -> RestPose:
        """The character's joints and the parts its image shows: what motion planning needs."""
        return RestPose(self.rest, self.present, self.size, self.face)

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
        if self.labels is not None:
            arrays["labels"] = self.labels
        if self.filled is not None:
            arrays["filled"] = self.filled
        if self.face is not None:
            arrays["face"] = self.face
        meta = {"version": RIG_VERSION, "notes": self.notes, "parts": [], "under": []}
        for group, prefix in (("parts", "p"), ("under", "u")):
            for i, p in enumerate(getattr(self, group)):
                meta[group].append({"name": p.name, "box": list(p.box)})
                arrays[f"{prefix}{i}_texture"] = p.texture
                for key in ("vertices", "triangles", "bones", "weights"):
                    arrays[f"{prefix}{i}_{key}"] = getattr(p, key)
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
        groups: dict[str, list[Part]] = {}
        for group, prefix in (("parts", "p"), ("under", "u")):
            groups[group] = [Part(
                name=pm["name"], texture=z[f"{prefix}{i}_texture"], box=tuple(pm["box"]),
                vertices=z[f"{prefix}{i}_vertices"], triangles=z[f"{prefix}{i}_triangles"],
                bones=z[f"{prefix}{i}_bones"], weights=z[f"{prefix}{i}_weights"],
            ) for i, pm in enumerate(meta.get(group, []))]
        return cls(image=z["image"], alpha=z["alpha"].astype(np.float32), background=z["background"],
                   rest=z["rest"], present=z["present"], radius=z["radius"], parts=groups["parts"], notes=meta["notes"],
                   labels=z["labels"] if "labels" in z else None, filled=z["filled"] if "filled" in z else None,
                   under=groups["under"], face=z["face"] if "face" in z else None)


def _under_arms(labels: np.ndarray, present: np.ndarray, a: np.ndarray, radius: np.ndarray, kp: np.ndarray,
                skirt: bool = False) -> np.ndarray:
    """Which back part (torso, legs) lies under each arm or hand pixel that covers the body (-1 elsewhere).

    An arm or hand pixel that the trunk and legs enclose (a hand resting on the shorts, a forearm
    across the belly) covers them: the body's mask closed by a disc three arm half-widths across
    (a morphological closing, Serra 1982) spans it. It is given to the nearest back part, which
    fills it from its own pixels, so a moving hand never uncovers a hand-shaped hole. Arm pixels
    with body on one side only (an arm hanging beside the waist, or held away over a flared skirt)
    cover background, which the plate fills; giving them to the body would leave an arm-shaped ghost.
    Below the hips' line (trousers, shorts: not a ``skirt``) what the nearest pixel gave the torso
    goes to the nearest thigh: the trunk is filled from inside its quad, and under a wrist at the
    hip it filled the shorts' waistband from the jacket above, a brown smear on anyone-11's hip.
    """
    from scipy.ndimage import distance_transform_edt

    h, w = labels.shape
    out = np.full((h, w), -1, np.int16)
    back = [PART[n] for n in ("torso", "thigh_l", "thigh_r", "shin_l", "shin_r") if present[PART[n]]]
    arms = [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr" if present[PART[f"{k}_{s}"]]]
    body = np.isin(labels, back) & (a > 0.5)
    if not body.any() or not arms:
        return out
    r = float(np.median([radius[j] for j in arms]))
    d = max(3, int(3 * r) | 1)
    closed = close_disc(body, d)
    # a hand is filled only where it lies inside the body's outline continued under it (a narrower
    # closing): a hand hanging over the side of the shorts otherwise leaves a hand-shaped patch of
    # shorts sticking out of them
    dh = max(3, int(3.5 * r) | 1)
    closed_h = close_disc(body, dh)
    # an arm along the side of the trunk hides the trunk's outline: the trunk is taken to end at the
    # line from the shoulder joint to the outside of the hip (filling the arm's whole width would
    # leave a trunk-coloured arm behind when it lifts); hands enclosed by the body are filled whole
    trunk = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(trunk, torso_polygon(kp, float(radius[PART["torso"]]), widen=0.0, body=True, hip_out=0.3).round().astype(np.int32), 1)
    hands = np.isin(labels, [PART[f"hand_{s}"] for s in "lr"])
    cover = (np.isin(labels, arms) & closed & trunk.astype(bool) & ~hands) | (hands & closed_h)
    cover |= _outline_under_hands(labels, body, arms, kp, r, trunk.astype(bool))
    if not cover.any():
        return out
    _, (iy, ix) = distance_transform_edt(~body, return_indices=True)
    out[cover] = labels[iy[cover], ix[cover]]
    hl, hr = kp[KP["hip_l"], :2], kp[KP["hip_r"], :2]
    legs = np.isin(labels, [PART[f"thigh_{s}"] for s in "lr"]) & (a > 0.5)
    if not skirt and legs.any() and np.isfinite(hl).all() and np.isfinite(hr).all() and np.hypot(*(hl - hr)) >= 1:
        # (the side of the hips' line away from the neck)
        neck = kp[KP["neck"], :2]
        up = (hr[0] - hl[0]) * (neck[1] - hl[1]) - (hr[1] - hl[1]) * (neck[0] - hl[0])
        ty, tx = np.nonzero(cover & (out == PART["torso"]))
        below = ((hr[0] - hl[0]) * (ty - hl[1]) - (hr[1] - hl[1]) * (tx - hl[0])) * up < 0
        ty, tx = ty[below], tx[below]
        if len(ty):
            dist, (ly, lx) = distance_transform_edt(~legs, return_indices=True)
            near = dist[ty, tx] <= 3 * r
            ty, tx = ty[near], tx[near]
            out[ty, tx] = labels[ly[ty, tx], lx[ty, tx]]
    return out


def _arm_behind_arm(labels: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray,
                    a: np.ndarray) -> dict[int, np.ndarray]:
    """Per upper arm and forearm of the arm farther from the camera (:func:`.cutout.nearer_arm`),
    the pixels of the nearer arm lying over its bone (within its radius of it): where a forearm
    crosses the other arm (raw_0's left forearm across her right elbow) the arm behind is hidden,
    and unfilled it moved off with a gap cut through it, its pieces apart."""
    out: dict[int, np.ndarray] = {}
    near = nearer_arm(kp)
    if near is None:
        return out
    far = "r" if near == "l" else "l"
    cover = np.isin(labels, [PART[f"{k}_{near}"] for k in ("upper_arm", "forearm", "hand")]) & (a > 0.5)
    if not cover.any():
        return out
    ys, xs = np.nonzero(cover)
    px = np.stack([xs, ys], axis=1).astype(np.float32)
    for k in ("upper_arm", "forearm"):
        j = PART[f"{k}_{far}"]
        spec = PARTS[j]
        if not present[j]:
            continue
        d, _ = segment_distance(px, kp[KP[spec.a], :2], kp[KP[spec.b], :2])
        sel = d <= radius[j]
        if sel.any():
            m = np.zeros(labels.shape, bool)
            m[ys[sel], xs[sel]] = True
            out[j] = m
    return out


def _past_a_gap(cover: np.ndarray, figure: np.ndarray, kp: np.ndarray) -> np.ndarray:
    """The ``cover`` pixels with background between them and the trunk's axis along their row.

    Where the background shows between the body and an arm on a row (anyone-1's gap of sky under
    her armpit), the body's outline on that row is seen, and the arm beyond it hides none of the
    body: the trunk's fill there floated beside the gap as a strip when the arm rose. A gap counts
    from two background pixels on (not a speck of the matte).
    """
    out = np.zeros(cover.shape, bool)
    neck, pel = kp[KP["neck"], :2], kp[KP["pelvis"], :2]
    if not (np.isfinite(neck).all() and np.isfinite(pel).all()) or abs(pel[1] - neck[1]) < 1:
        return out
    w = cover.shape[1]
    for y in np.flatnonzero(cover.any(axis=1)):
        t = (y - neck[1]) / (pel[1] - neck[1])
        xc = int(np.clip(round(neck[0] + t * (pel[0] - neck[0])), 0, w - 1))
        bg = ~figure[y]
        row = np.zeros(w, bool)
        row[xc:] = np.cumsum(bg[xc:]) >= 2  # background counted outward from the axis, each way
        row[:xc + 1] |= np.cumsum(bg[:xc + 1][::-1])[::-1] >= 2
        out[y] = row & cover[y]
    return out


def _outline_under_hands(labels: np.ndarray, body: np.ndarray, arms: list[int], kp: np.ndarray, r: float,
                         trunk: np.ndarray | None = None) -> np.ndarray:
    """The hand pixels that cover the body where a hand hangs over the side of the body (shorts, hips).

    The forearm's pixels below the trunk's quad (``trunk``: the wrist's end, lying over the shorts'
    side next to the hand) count as the hand's: the trunk is filled only inside its quad, and they
    would otherwise stay a forearm-shaped slit in both the trunk and the thigh, a pale diagonal line
    through the shorts once the arm has moved.

    The body's side is hidden under the hand; it is continued under it by linear interpolation,
    row by row, between the outline's nearest rows above and below where it shows (the side next
    to the background, not next to an arm). Hand pixels on the body's side of that line cover the
    body. A closing of the body's mask cannot do this: the notch the hand leaves is often taller
    than it is deep, and the disc enters it. Only for a body standing upright (hips to knees
    within 35 degrees of vertical), where the rows cross the side.
    """
    h, w = labels.shape
    out = np.zeros((h, w), bool)
    pel = kp[KP["pelvis"], :2]
    knees = [kp[KP[f"knee_{s}"], :2] for s in "lr" if np.isfinite(kp[KP[f"knee_{s}"], :2]).all()]
    if not knees or not np.isfinite(pel).all():
        return out
    axis = np.mean(knees, axis=0) - pel
    if np.hypot(*axis) < 1 or abs(np.degrees(np.arctan2(axis[0], axis[1]))) > 35:
        return out
    arm = np.isin(labels, arms)
    m = max(2, int(round(0.15 * r)))  # the edge counts as shown when no arm lies this close outside it
    for s in "lr":
        hand = labels == PART[f"hand_{s}"]
        if trunk is not None and hand.any():
            hand |= (labels == PART[f"forearm_{s}"]) & ~trunk & (np.arange(h)[:, None] > pel[1])
        ys, xs = np.nonzero(hand)
        if len(ys) < 20:
            continue
        y0, y1 = ys.min(), ys.max()
        x0, x1 = max(0, xs.min() - int(3 * r)), min(w, xs.max() + int(3 * r) + 1)
        # the body lies towards the pelvis from the hand: its side is its first pixel from the hand's side
        right = float(np.mean(xs)) < pel[0]
        span = int(y1 - y0 + 1)
        rows = np.arange(max(0, y0 - span), min(h, y1 + span + 1))
        edge = np.full(len(rows), np.nan)
        shown = np.zeros(len(rows), bool)
        for k, y in enumerate(rows):
            bx = np.flatnonzero(body[y, x0:x1])
            if not len(bx):
                continue
            e = x0 + (bx[0] if right else bx[-1])
            edge[k] = e
            outside = arm[y, max(0, e - m):e] if right else arm[y, e + 1:e + 1 + m]
            shown[k] = not hand[y].any() and not outside.any()
        if not shown.any():
            continue
        under = np.interp(np.arange(y0, y1 + 1), rows[shown], edge[shown])
        xx = np.arange(w)[None, :]
        side = xx >= under[:, None] if right else xx <= under[:, None]
        out[y0:y1 + 1] |= side & hand[y0:y1 + 1]
    return out


def _hair_shadow(rgb: np.ndarray, labels: np.ndarray, under_head: np.ndarray, face: np.ndarray | None, part: int,
                 kp: np.ndarray, head_r: float) -> np.ndarray:
    """The trunk's pixels darkened by the hair lying on it: its soft edge and its shadow on the shirt.

    Where hair ends on the shoulders (the head's pixels over the trunk, of a colour far from the
    face's skin), the trunk's own pixels within 0.6 % of the picture's side of it that are darker
    than the shirt further out (by 12 OpenCV L units) belong to the hair: they stay on the shirt as a
    dark curve where the hair was once the head turns. They are filled as the trunk under the head
    is. Not on the neck (within 0.45 head widths of its line: the chin's shadow on the neck, a
    collar's fold), which moves with the head or stays with the shirt as it is; and only below
    hair the head holds down to its shoulder line (:func:`cutout._hair_to_head` gives a bob's ends
    to the head; long hair stays with the trunk, and its strands past the head's pixels are hair).
    """
    h, w = labels.shape
    out = np.zeros((h, w), bool)
    if face is None or not np.isfinite(face[:468, :2]).all() or not under_head.any():
        return out
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    hull = face_hull(face, (h, w))
    if hull.sum() < 50:
        return out
    b = max(2, int(round(0.006 * max(h, w))))
    own = labels == part
    ring = dilate_disc(under_head, 6 * b + 1) & own & ~dilate_disc(under_head, 2 * b + 1)
    if ring.sum() < 20:
        return out
    shirt = np.median(lab[ring], axis=0)
    skin = np.median(lab[hull], axis=0)
    # (the head's pixels over the trunk that are neither skin nor the shirt: a collar the head's
    # reach took is the shirt's colour and casts nothing)
    hair = under_head & (np.linalg.norm(lab - skin, axis=2) > 25) & (np.linalg.norm(lab - shirt, axis=2) > 20)
    # (only below hair the head holds down to the shoulders, a bob's ends: long hair stays with the
    # trunk, and its strands just past the head's pixels are hair, not its shadow)
    neck, top = kp[KP["neck"], :2], kp[KP["head"], :2]
    hy, hx = np.nonzero(hair)
    _, along = segment_distance(np.stack([hx, hy], axis=1).astype(np.float32), neck, top)
    if (along < BOB_ENDS).sum() < 20:
        return out
    near = dilate_disc(hair, 2 * b + 1) & own & ~under_head
    ny, nx = np.nonzero(near)
    d, _ = segment_distance(np.stack([nx, ny], axis=1).astype(np.float32), neck, top)
    near[ny[d < 0.45 * head_r], nx[d < 0.45 * head_r]] = False
    dark = near & (lab[..., 0] < shirt[0] - 12)
    return dilate_disc(dark, 3) & near


def _own_colour_at_seams(color: np.ndarray, pa: np.ndarray, region: np.ndarray, grown: np.ndarray,
                         behind: np.ndarray) -> None:
    """Give a front part (arm, hand) its own colour where it meets the parts behind it, in place.

    The pixels along a hand lying on the shorts mix the two colours (the photo's anti-aliasing,
    a shadow in the crease), and the part's one-pixel overlap into its neighbours is the
    neighbour's own colour: when the hand moves onto the light background they outline it in the
    shorts' navy. Their colour is taken from the nearest pixel of the part's own inside (the
    foreground colour extrapolated outward, as matting does for an edge's unknown foreground
    colour: Levin et al. 2008's reconstruction, here by nearest neighbour), and the overlap is kept
    at half its opacity, so the edge stays soft where the hand moves away. (The silhouette against
    the background keeps its colours: the matte's soft band is wider than the true edge, and
    skin-coloured it would blur the hand's outline over the wall.)
    """
    from scipy.ndimage import distance_transform_edt

    if not behind.any():
        return
    d = distance_transform_edt(~behind)
    inside = region & (d > 2.5) & (pa > 0.9)
    ring = grown & ~region & behind
    edge = (region & (d <= 2.5)) | ring
    if not inside.any() or not edge.any():
        return
    _, (iy, ix) = distance_transform_edt(~inside, return_indices=True)
    color[edge] = color[iy[edge], ix[edge]]
    pa[ring] *= 0.5


def _mix_share(I: np.ndarray, F: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How much of ``F`` each pixel ``I`` shows over ``B`` (rows of colours, 0-1): the projection
    of ``I - B`` on ``F - B``, clipped to 0-1 (the alpha of a pixel whose foreground and background
    colours are known, Smith & Blinn 1996 "Blue screen matting"), the distance of ``I`` from that
    line, and ``|F - B|`` squared (``(share, off, contrast2)``)."""
    d = F - B
    n2 = (d * d).sum(axis=1)
    est = np.clip(((I - B) * d).sum(axis=1) / np.maximum(n2, 1e-6), 0.0, 1.0)
    off = np.linalg.norm(I - B - est[:, None] * d, axis=1)
    return est, off, n2


#: Below this matte value a silhouette pixel takes the colour of the figure's nearest solid pixel
#: instead of its colour unmixed from the plate (the division would magnify the noise).
UNMIX_MIN_ALPHA = 0.15
#: How far inside the matte's solid edge (share of the picture's long side) pixels still mix in the
#: background and are unmixed too.
UNMIX_EDGE = 0.0015
#: Figure and background colours closer than this (0-1 RGB, Euclidean) leave the matte's alpha as it is.
UNMIX_MIN_CONTRAST = 0.12


def _unmix_silhouette(color: np.ndarray, pa: np.ndarray, a: np.ndarray, plate: np.ndarray, where: np.ndarray,
                      solid: np.ndarray, edge_px: int) -> None:
    """The figure's own colour and coverage in the soft band of its silhouette, unmixed from the
    background (``color`` and ``pa`` in place).

    A silhouette pixel of the image mixes the figure and what lies behind it, ``I = a F + (1 - a) B``
    (the compositing equation, Porter & Duff 1984). The part drew ``I`` itself with the matte's
    alpha: at rest over the plate that is ``a I + (1 - a) B``, not ``I``, and moved over anything
    else it carried the old background along its outline (a cyan rim of sky round musepose's arm
    and hair over a dark ground). The matte's soft band is also wider than the true edge (pure sky
    pixels at alpha 0.5). Here the figure's colour ``F`` is its nearest ``solid`` pixel's and the
    background's the plate's, and alpha is the share of ``F - B`` that ``I - B`` shows (its
    projection: the alpha of a pixel with its foreground and background colours known, Smith &
    Blinn 1996 "Blue screen matting"; Chuang et al. 2001 solve the same equation with both
    estimated); ``F`` is then unmixed, ``(I - (1 - alpha) B) / alpha``, clipped to valid colours (its
    nearest solid pixel's under :data:`UNMIX_MIN_ALPHA`). Where figure and background are alike
    (``F - B`` under :data:`UNMIX_MIN_CONTRAST`) alpha says nothing, and a pixel off the line from
    ``B`` to ``F`` by over half their distance is not their mix (a shaded edge, a strand of another
    colour): both keep the matte's alpha and their colour.
    ``color`` (float 0-1), ``pa`` (the part's alpha), ``a`` (the matte) over the part's crop,
    ``plate`` uint8, ``where`` the part's drawn pixels; those with ``a`` under 0.98 change, and the
    ``solid`` ones within ``edge_px`` of them (the figure's colour is read further in than that).
    """
    from scipy.ndimage import distance_transform_edt

    soft = where & (a < 0.98)
    if not soft.any() or not solid.any():
        return
    # (the matte's solid edge is a blur's width wide too: its outer pixels still mix in the
    # background, and the figure's colour is read further in)
    k = 2 * edge_px + 1
    deep = cv2.erode(solid.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    if not deep.any():
        deep = solid
    band = where & ~deep & ((a < 0.98) | cv2.dilate(soft.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool))
    B = plate.astype(np.float32)[band] / 255
    _, (iy, ix) = distance_transform_edt(~deep, return_indices=True)
    F = color[iy[band], ix[band]]
    I = color[band]
    est, off, n2 = _mix_share(I, F, B)
    use = (n2 > UNMIX_MIN_CONTRAST ** 2) & (off < 0.5 * np.sqrt(n2))
    alpha = np.where(use, est, a[band])
    ah = np.maximum(alpha, UNMIX_MIN_ALPHA)[:, None]
    un = np.clip((I - (1.0 - ah) * B) / ah, 0.0, 1.0)
    color[band] = np.where(~use[:, None], I, np.where((alpha >= UNMIX_MIN_ALPHA)[:, None], un, F))
    # the part's alpha follows: its share of the figure times the figure's new coverage
    share = pa[band] / np.maximum(a[band], 1e-6)
    pa[band] = np.clip(share * alpha, 0.0, 1.0)


def _limb_end_discs(kp: np.ndarray, present: np.ndarray, part: str, joint_a: str, joint_b: str, at: float, reach: float,
                    min_len: float, shape: tuple[int, int]):
    """For each side's ``part`` (hand, foot): its joints ``a``, ``b``, a disc centred ``at`` of the way from
    ``a`` to ``b`` with radius ``reach`` x ``|ab|``, and the disc's box clipped to the picture; parts
    shorter than ``min_len`` px or whose box is under 8 px are skipped."""
    h, w = shape
    for side in "lr":
        if not present[PART[f"{part}_{side}"]]:
            continue
        a, b = kp[KP[f"{joint_a}_{side}"], :2], kp[KP[f"{joint_b}_{side}"], :2]
        L = float(np.linalg.norm(b - a))
        if not np.isfinite(L) or L < min_len:
            continue
        c, R = a + at * (b - a), reach * L
        x0, y0 = int(max(0, c[0] - R)), int(max(0, c[1] - R))
        x1, y1 = int(min(w, c[0] + R + 1)), int(min(h, c[1] + R + 1))
        if x1 - x0 >= 8 and y1 - y0 >= 8:
            yield a, b, c, R, (x0, y0, x1, y1)


#: :func:`_open_leg_gap`: between the shins, pixels further than this many shin half-widths from both
#: shin bones ...
LEG_GAP_CORE = 0.35
#: ... whose colour is nearer the background's beside the legs than the legs' own (CIELAB, nearest of
#: this many colour clusters each) are background.
LEG_GAP_CLUSTERS = 4


def _colour_centres(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` k-means centres (Lloyd 1982; k-means++ seeding, repeatable) of colours ``x`` ``(N, 3)``,
    read on at most ~4000 of them, and the share of those each centre holds."""
    k = min(k, len(x))
    sample = np.ascontiguousarray(x[:: max(1, len(x) // 4000)], dtype=np.float32)
    cv2.setRNGSeed(0)
    _, idx, centres = cv2.kmeans(sample, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5), 2,
                                 cv2.KMEANS_PP_CENTERS)
    return centres, np.bincount(idx.ravel(), minlength=k) / len(sample)


def _open_leg_gap(rgb: np.ndarray, a: np.ndarray, kp: np.ndarray, present: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """The matte with the gap between the shins opened where the background shows through it.

    The figure is cut at 512 px (:data:`~steadymotion.perception.segmentation.MATTE_WORK_SIDE`),
    where a gap of 5-15 px between a dancer's shins is a pixel or two: the cut closed it, and each
    shin's texture carried a strip of the yellow floor and the hedge along its inside, which showed
    as soon as the legs parted (musepose's dancer, from her knees to her ankles). Here, at full
    size, inside the quadrilateral between the two shin bones and further than
    :data:`LEG_GAP_CORE` shin half-widths from both, a pixel whose colour is nearer the background's
    around the legs than the legs' own (each the nearest of :data:`LEG_GAP_CLUSTERS` k-means colour
    centres, Lloyd 1982, in CIELAB) is background, in runs of a quarter of a shin's width squared at least.
    """
    sl, sr = PART["shin_l"], PART["shin_r"]
    if not (present[sl] and present[sr]):
        return a
    kl, al_, kr, ar = (kp[KP[j], :2] for j in ("knee_l", "ankle_l", "knee_r", "ankle_r"))
    if not all(np.isfinite(p).all() for p in (kl, al_, kr, ar)):
        return a

    def cross(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    # (crossed shins have no gap between them)
    if cross(kl, al_, kr) * cross(kl, al_, ar) < 0 and cross(kr, ar, kl) * cross(kr, ar, al_) < 0:
        return a
    h, w = a.shape
    quad = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(quad, np.round(np.array([kl, al_, ar, kr])).astype(np.int32), 1)
    r = float(min(radius[sl], radius[sr]))
    pts = np.stack(np.nonzero(quad & (a > 0.5)), 1)[:, ::-1].astype(np.float32)
    if len(pts) < 20 or r < 2:
        return a
    d = np.minimum(segment_distance(pts, kl, al_)[0], segment_distance(pts, kr, ar)[0])
    cand = pts[d > LEG_GAP_CORE * r].astype(int)
    if len(cand) < 10:
        return a
    # the colours: the legs' (near their bones) and the background's (off the figure, around the legs)
    x0, x1 = int(max(0, min(kl[0], al_[0], kr[0], ar[0]) - 3 * r)), int(min(w, max(kl[0], al_[0], kr[0], ar[0]) + 3 * r + 1))
    y0, y1 = int(max(0, min(kl[1], kr[1]) - r)), int(min(h, max(al_[1], ar[1]) + r + 1))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return a
    lab = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    grid = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32)
    near_bone = (np.minimum(segment_distance(grid, kl, al_)[0], segment_distance(grid, kr, ar)[0]) < 0.4 * r).reshape(lab.shape[:2])
    skin = lab[near_bone & (a[y0:y1, x0:x1] > 0.95)]
    back = lab[a[y0:y1, x0:x1] < 0.02]
    if len(skin) < 50 or len(back) < 50:
        return a

    cs, cb = _colour_centres(skin, LEG_GAP_CLUSTERS)[0], _colour_centres(back, LEG_GAP_CLUSTERS)[0]
    c = cv2.cvtColor(np.ascontiguousarray(rgb[cand[:, 1], cand[:, 0]][None]), cv2.COLOR_RGB2LAB).astype(np.float32)[0]
    ds = np.linalg.norm(c[:, None] - cs[None], axis=-1).min(axis=1)
    db = np.linalg.norm(c[:, None] - cb[None], axis=-1).min(axis=1)
    gap = np.zeros((h, w), np.uint8)
    sel = cand[db < ds]
    gap[sel[:, 1], sel[:, 0]] = 1
    gap = cv2.morphologyEx(gap, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    # (a gap is a run of background, not a speck of the floor's colour on the skin)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(gap, connectivity=8)
    gap = np.isin(comp, 1 + np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= (0.5 * r) ** 2))
    if not gap.any():
        return a
    out = a.copy()
    out[gap] = 0.0
    # (a soft edge of a pixel, as the matte's own outline has)
    soft = cv2.GaussianBlur(gap.astype(np.float32), (3, 3), 0)
    return np.minimum(out, 1.0 - soft).astype(np.float32)


def _recover_feet(rgb: np.ndarray, a: np.ndarray, kp: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Put back into the figure the shoes the matte lost (white shoes on a light floor are below the
    selfie model's 256-px grid and the whole-figure cut's colour models); left in the background
    plate, they stay behind as ghost shoes when a foot moves.

    Around each foot (a disc of 1.3 ankle-to-toe lengths), a full-resolution GrabCut (Rother et al.
    2004) seeded with the foot's bone as sure figure, the matte as probable figure and the disc's
    outside as background; what it adds that touches the figure joins it. On a plain floor the shoe
    is then keyed against the floor continued under it (:func:`_shoe_by_difference`).

    Returns the matte and the pixels around the feet where the floor is plain (the background plate
    is filled there too: the shoe's faint fringe must not stay in it).
    """
    from scipy.ndimage import label

    from steadymotion.perception.segmentation import grab_cut

    out = a.copy()
    plain = np.zeros(a.shape, bool)
    for an, to, c, R, (x0, y0, x1, y1) in _limb_end_discs(kp, present, "foot", "ankle", "toe", 0.5, 1.3, 4.0, a.shape):
        L = float(np.linalg.norm(to - an))
        gc = np.full((y1 - y0, x1 - x0), cv2.GC_PR_BGD, np.uint8)
        fig = a[y0:y1, x0:x1] > 0.5
        gc[fig] = cv2.GC_PR_FGD
        yy, xx = np.mgrid[y0:y1, x0:x1]
        gc[(xx - c[0]) ** 2 + (yy - c[1]) ** 2 > R * R] = cv2.GC_BGD
        bone = np.zeros(gc.shape, np.uint8)
        off = np.array([x0, y0], np.float32)
        cv2.line(bone, tuple(np.round(an - off).astype(int)), tuple(np.round(to - off).astype(int)), 1, max(2, int(0.15 * L)))
        gc[bone > 0] = cv2.GC_FGD
        if (gc == cv2.GC_BGD).sum() < 20:
            continue
        try:
            grab_cut(rgb[y0:y1, x0:x1], gc, 5)
        except cv2.error:
            continue
        add = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)) & ~fig
        comp, _ = label(add | fig)
        keep = np.unique(comp[fig])
        add &= np.isin(comp, keep[keep > 0])
        out[y0:y1, x0:x1][add] = 1.0
        zone = _shoe_by_difference(rgb, out, an, to, c, R, (x0, y0, x1, y1))
        if zone is not None:
            plain[y0:y1, x0:x1] |= zone
    return out, plain


#: Median local standard deviation of lightness (CIELAB L, 5-px windows) under which a floor is plain.
PLAIN_FLOOR_SD = 1.5


def _shoe_by_difference(rgb: np.ndarray, a: np.ndarray, ankle: np.ndarray, toe: np.ndarray, c: np.ndarray, R: float,
                        box: tuple[int, int, int, int]) -> np.ndarray | None:
    """Difference matting of a shoe against the floor continued under it (in place on ``a``).

    A white shoe on a light, plain floor defeats colour models (GrabCut's too: the sole and the
    canvas are the floor's greys), and what the matte misses stays in the background plate as a
    ghost shoe. Where the floor around the foot is plain, the floor under the foot is predicted by
    inpainting it from a ring around the foot (Telea 2004), and every pixel near the foot that
    differs from that prediction is the shoe's (or its shadow's), with alpha rising from 3 to 10
    Delta E (difference keying against a clean plate, as in Smith & Blinn 1996). Cluttered floors
    (median local lightness deviation over :data:`PLAIN_FLOOR_SD`) are left to the matte. Returns
    the foot's zone in ``box`` where the floor was plain, else None.
    """
    from scipy.ndimage import label
    from skimage.color import deltaE_cie76, rgb2lab

    x0, y0, x1, y1 = box
    L = float(np.linalg.norm(toe - ankle))
    win = rgb[y0:y1, x0:x1]
    off = np.array([x0, y0], np.float32)
    # the foot's reach: the ankle-to-toe bone thickened, below the ankle's top (not the shin)
    zone = np.zeros(win.shape[:2], np.uint8)
    cv2.line(zone, tuple(np.round(ankle - off).astype(int)), tuple(np.round(toe - off).astype(int)), 1, max(3, int(1.0 * L)))
    yy, xx = np.mgrid[y0:y1, x0:x1]
    zone = zone.astype(bool) & ((xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= R * R) & (yy >= ankle[1] - 0.15 * L)
    fig = a[y0:y1, x0:x1] > 0.5
    k = max(3, int(0.25 * L) | 1)
    ring = cv2.dilate((zone | fig).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
    ring &= ~zone & ~(a[y0:y1, x0:x1] > 0.02)
    if ring.sum() < 30 or not zone.any():
        return None
    lab = rgb2lab(win)
    # plain: little local texture (a lighting gradient across the floor is plain too)
    light = lab[..., 0].astype(np.float32)
    m1 = cv2.blur(light, (5, 5))
    local_sd = np.sqrt(np.maximum(cv2.blur(light * light, (5, 5)) - m1 * m1, 0))
    if float(np.median(local_sd[ring])) > PLAIN_FLOOR_SD:
        return None  # a patterned or cluttered floor: the prediction would not hold
    floor = cv2.inpaint(win, (~ring).astype(np.uint8), 5, cv2.INPAINT_TELEA)
    d = deltaE_cie76(lab, rgb2lab(floor))
    alpha = np.clip((d - 3.0) / 7.0, 0.0, 1.0) * zone
    comp, _ = label((alpha > 0.5) | fig)
    keep = np.unique(comp[fig])
    alpha *= np.isin(comp, keep[keep > 0])
    a[y0:y1, x0:x1] = np.maximum(a[y0:y1, x0:x1], alpha.astype(a.dtype))
    return zone


def _raised_hands(rgb: np.ndarray, a: np.ndarray, kp: np.ndarray, sides, hands: dict[str, np.ndarray]
                  ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, bool]]]:
    """The pixels of hands raised into the picture from below, with what they hold (a phone, a
    microphone), so that all of it moves with the hand instead of staying behind.

    Only ``sides`` are looked at (:func:`~steadymotion.render.puppet.cutout.edge_elbows`): a
    full-body figure's hand beside a chair would take the chair along. Around each hand (a disc of
    3.5 wrist-to-knuckles lengths):

    - *the object*: the person segmenter leaves it out where it is the background's colour (a grey
      phone before a grey wall: half of it). A GrabCut (Rother et al. 2004) initialised as its
      authors' rectangle (everything inside probable figure, the outside background, the hand sure
      figure) takes what differs from the wall around; an opening (a disc of 0.12 hand lengths) of
      what it adds drops the thin rims along the silhouette's soft edge, and blobs under half a hand
      length square (the hand's halo) are dropped. The object is what it adds that touches the
      figure, with the figure's pixels nearer in CIELAB to it than to the rest of the figure and to
      the hand's skin (the half of the phone in front of the shirt) connected to it, what that
      encloses or nearly (a closing of 0.3 hand lengths: the lenses), and a rim of 0.06 hand
      lengths (a phone's bevel); it joins the matte with an outline soft over two rim widths;
    - *the skin*: figure pixels nearer the hand's colour than the rest of the figure's, connected to
      the hand (its shadowed edge, which the part cut gives the body), for the hand beyond the
      wrist and for the forearm below it; and the palm's polygon and each finger's bones a finger
      wide, from MediaPipe's landmarks ``hands[side]`` where it found them.

    Returns the matte and, per side, the pixels for the hand, those for the forearm, where the hand
    ends (a third of its length below the wrist: beyond is forearm, which continues below the
    picture), whether landmarks drew the hand, and the object's bevel (:func:`_object_bevel`).
    """
    from scipy.ndimage import binary_fill_holes, label

    from steadymotion.perception.segmentation import grab_cut
    from steadymotion.render.puppet.cutout import _FINGERS

    out, raised = a.copy(), {}
    present = np.zeros(len(PARTS), bool)
    for s in sides:
        present[PART[f"hand_{s}"]] = True
    fig_all = a > 0.5
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32) if sides else None

    def disc_kernel(size: float) -> np.ndarray:
        k = max(3, int(size) | 1)
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))

    for wr, hd, c, R, (x0, y0, x1, y1) in _limb_end_discs(kp, present, "hand", "wrist", "hand", 1.0, 3.5, 4.0, a.shape):
        side = "l" if np.allclose(wr, kp[KP["wrist_l"], :2]) else "r"
        L = float(np.linalg.norm(hd - wr))
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d2 = (xx - c[0]) ** 2 + (yy - c[1]) ** 2
        disc, core = d2 <= R * R, d2 <= (0.5 * L) ** 2
        fig = fig_all[y0:y1, x0:x1]
        L_ = lab[y0:y1, x0:x1]
        body = fig_all.copy()
        body[y0:y1, x0:x1] &= ~disc
        body_c = np.median(lab[body], axis=0) if body.any() else np.full(3, 1e3, np.float32)
        skin_c = np.median(L_[core & fig], axis=0) if (core & fig).any() else np.full(3, 1e3, np.float32)
        skin = fig & disc & (np.linalg.norm(L_ - skin_c, axis=-1) < np.linalg.norm(L_ - body_c, axis=-1))
        o = np.zeros(fig.shape, bool)
        bevel_px = np.zeros(fig.shape, bool)
        gc = np.where(disc | fig, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
        gc[core & fig] = cv2.GC_FGD
        add = np.zeros(fig.shape, bool)
        if (gc == cv2.GC_BGD).sum() >= 50:
            try:
                grab_cut(rgb[y0:y1, x0:x1], gc, 5)
                fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
                add = cv2.morphologyEx((fg & ~fig & disc).astype(np.uint8), cv2.MORPH_OPEN, disc_kernel(0.12 * L)).astype(bool)
            except cv2.error:
                pass
        comp, _ = label(add | fig)
        keep = np.unique(comp[fig])
        add &= np.isin(comp, keep[keep > 0])
        comp, n = label(add)
        add &= np.bincount(comp.ravel(), minlength=n + 1)[comp] >= (0.5 * L) ** 2
        if add.any():
            d_obj = np.linalg.norm(L_ - np.median(L_[add], axis=0), axis=-1)
            near = fig & disc & (d_obj < np.linalg.norm(L_ - body_c, axis=-1)) & (d_obj < np.linalg.norm(L_ - skin_c, axis=-1))
            # (not thin lines: the shirt's soft outline against the wall is the phone's grey too)
            near = cv2.morphologyEx(near.astype(np.uint8), cv2.MORPH_OPEN, disc_kernel(0.12 * L)).astype(bool)
            # connected to what the cut added, also across the fingers holding it
            reach = cv2.dilate(add.astype(np.uint8), disc_kernel(0.12 * L)).astype(bool)
            comp, _ = label(near | reach | skin)
            keep = np.unique(comp[add])
            o = np.isin(comp, keep[keep > 0]) & (near | add)
            o = binary_fill_holes(o | (cv2.morphologyEx(o.astype(np.uint8), cv2.MORPH_CLOSE, disc_kernel(0.3 * L)).astype(bool) & fig))
            rim = max(3, int(0.06 * L) | 1)
            o = cv2.dilate(o.astype(np.uint8), disc_kernel(rim)).astype(bool) & disc
            bevel_px = _object_bevel(L_, o, fig, disc, L)
            o |= bevel_px
            inside = cv2.distanceTransform((o | fig).astype(np.uint8), cv2.DIST_L2, 5)
            out[y0:y1, x0:x1][o] = np.maximum(out[y0:y1, x0:x1][o], np.clip(inside[o] / (2.0 * rim), 0.0, 1.0))
        comp, _ = label(skin | core | o)
        keep = np.unique(comp[core | o])
        skin &= np.isin(comp, keep[keep > 0]) & ~o
        t = (hd - wr) / max(L, 1e-6)
        beyond = (xx - wr[0]) * t[0] + (yy - wr[1]) * t[1] >= 0
        hand = np.zeros(a.shape, bool)
        hand[y0:y1, x0:x1] = o | (skin & beyond)
        pts = hands.get(side)
        if pts is not None:
            drawn = np.zeros(a.shape, np.uint8)
            q = np.round(pts).astype(np.int32)
            cv2.fillPoly(drawn, [q[[0, 1, 5, 9, 13, 17]]], 1)
            for chain in _FINGERS[:5]:
                cv2.polylines(drawn, [q[list(chain)]], False, 1, max(2, int(0.22 * L)))
            hand |= drawn.astype(bool) & fig_all
        fore = np.zeros(a.shape, bool)
        fore[y0:y1, x0:x1] = skin & ~beyond
        # nothing of the hand lies a third of its length below the wrist (that is forearm, which
        # continues below the picture; a hand part reaching the edge would end there in a cut)
        gy, gx = np.mgrid[0:a.shape[0], 0:a.shape[1]]
        below = (gx - wr[0]) * t[0] + (gy - wr[1]) * t[1] < -L / 3
        below[y0:y1, x0:x1] &= ~o
        bevel = np.zeros(a.shape, bool)
        bevel[y0:y1, x0:x1] = bevel_px
        raised[side] = (hand, fore, below, pts is not None, bevel)
    return out, raised


#: :func:`_object_bevel`: how far past a held object's cut the bevel along its outline is looked for
#: (hand lengths) ...
BEVEL_REACH = 0.2
#: ... and how far (CIELAB, 8-bit units) its pixels lie from the wall's colour there at least.
BEVEL_DE = 12.0


def _object_bevel(lab: np.ndarray, obj: np.ndarray, fig: np.ndarray, disc: np.ndarray, L: float) -> np.ndarray:
    """The bevel of a held object that its cut left outside (the dark metal rim and the highlight of
    a phone's edge against a grey wall: thin, so the opening that drops the matte's halo drops it
    too, and GrabCut's colour models give its dark line to the wall's shade).

    Pixels within :data:`BEVEL_REACH` hand lengths outside ``obj`` (all arrays are the hand's disc's
    box) whose colour is unlike the wall's there (over :data:`BEVEL_DE` from its local mean, a
    normalized convolution of the wall's pixels a reach and more away from the figure: Knutsson &
    Westin 1993) and nearer the object's nearest pixel than the wall, in pieces touching the object,
    with what lies between them and the object (a closing).
    Left outside, the matte's soft edge ran through that line, the plate's seam kept its half, and a
    dark sliver of the phone's edge hung in the air where the phone had been.
    """
    from scipy.ndimage import distance_transform_edt, label

    from steadymotion.render.puppet.fill import normalized_blur

    reach = max(2, int(round(BEVEL_REACH * L)))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    near = cv2.dilate(obj.astype(np.uint8), k).astype(bool) & disc & ~fig & ~obj
    if not near.any() or not obj.any():
        return np.zeros_like(obj)
    # (the wall: the disc's pixels a reach and more from the object and the figure, square-wise)
    wall = disc & ~cv2.dilate((obj | fig).astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).astype(bool)
    if wall.sum() < 50:
        return np.zeros_like(obj)
    wall_c, wgt = normalized_blur(lab, wall, 2.0 * reach)
    _, (iy, ix) = distance_transform_edt(~obj, return_indices=True)
    d_wall = np.linalg.norm(lab - wall_c, axis=-1)
    d_obj = np.linalg.norm(lab - lab[iy, ix], axis=-1)
    bevel = near & (wgt > 1e-4) & (d_wall > BEVEL_DE) & (d_obj < d_wall)
    comp, _ = label(bevel | obj, structure=np.ones((3, 3), bool))
    keep = np.unique(comp[obj])
    bevel &= np.isin(comp, keep[keep > 0])
    if not bevel.any():
        return bevel
    # with the pixels between it and the cut (the bevel's highlight, as light as the wall), and only
    # there: the closing elsewhere would take the wall in the object's own concave corners
    half = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach | 1, reach | 1))
    closed = cv2.morphologyEx((bevel | obj).astype(np.uint8), cv2.MORPH_CLOSE, half).astype(bool)
    return closed & near & cv2.dilate(bevel.astype(np.uint8), half).astype(bool)


def _label_raised_hands(labels: np.ndarray, raised: dict, a: np.ndarray) -> None:
    """Give :func:`_raised_hands`' pixels to their parts (in place): the hand with its object and
    what they enclose (a phone's lenses, the shirt between the fingers; a hole left to the torso
    would stay behind when it moves) and nothing more of its capsule where landmarks drew the hand,
    minus threads under 7 px wide (the sleeve's soft outline touching the object is not the hand's;
    the object's own bevel, :func:`_object_bevel`, is)."""
    from scipy.ndimage import binary_fill_holes

    for s, (hand_px, fore_px, below, drawn, bevel) in raised.items():
        hand = PART[f"hand_{s}"]
        if drawn:
            # the hand's capsule reaches past it (the veil it holds, the shirt beside it): where
            # the landmarks draw the hand, the capsule's other pixels are the body's
            labels[(labels == hand) & ~cv2.dilate(hand_px.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)] = PART["torso"]
        labels[fore_px & (labels == PART["torso"])] = PART[f"forearm_{s}"]
        labels[(binary_fill_holes(hand_px | (labels == hand)) & (a > 0.5)) | hand_px] = hand
        labels[below & (labels == hand)] = PART[f"forearm_{s}"]
        mine = labels == hand
        thread = mine & ~cv2.morphologyEx(mine.astype(np.uint8), cv2.MORPH_OPEN, np.ones((7, 7), np.uint8)).astype(bool)
        labels[thread & ~bevel] = PART["torso"]


#: How far below the picture a figure cut by its bottom edge is continued, as a share of the
#: image height (a half-body presenter leaning back or rising must not show where the image ends).
EDGE_EXTENSION = 0.12


def _past_bottom_edge(tex: np.ndarray, shape: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Continue a part the image's bottom edge cuts (its texture touches the last row solidly)
    below the picture: the last row repeated for :data:`EDGE_EXTENSION` of the height, so a body
    that rises in the frame still reaches the frame's edge instead of ending in a straight cut.

    Parts merely ending near the edge (a foot above it, a soft fringe) are left as they are.
    """
    solid = tex[-1, :, 3] > 128
    if solid.sum() < max(4, 0.01 * tex.shape[1]):
        return tex, shape
    extra = max(2, int(round(EDGE_EXTENSION * h)))
    row = np.where(solid[:, None], tex[-1], 0).astype(np.uint8)
    tex = np.concatenate([tex, np.repeat(row[None], extra, axis=0)], axis=0)
    shape = np.concatenate([shape, np.repeat(solid[None], extra, axis=0)], axis=0)
    return tex, shape


#: Picture-edge lines of one flat colour (spread across the line, 0-255) unlike the picture next to
#: them (mean difference) are a frame the image was saved with, not the scene (anyone-1's bottom row
#: is light grey under a navy skirt: spread 1, difference 173); at most this many lines per side.
BORDER_LINE_SD = 6.0
BORDER_LINE_STEP = 40.0
BORDER_LINES = 3


def mend_border_lines(rgb: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Replace thin flat lines along the picture's edges (a 1-3 px frame of another colour left by
    padding or resizing) by the first line inside them that belongs to the picture.

    A figure cut by the bottom edge is continued below the picture from its last row
    (:func:`_past_bottom_edge`), and the background plate is drawn to the frame's edges: a light
    line there becomes a light block under a rising skirt and a line that travels with the camera.
    A line counts as a frame when its colour is flat across it (mean per-channel standard deviation
    under :data:`BORDER_LINE_SD`) and differs from the picture beside it (mean absolute difference
    over :data:`BORDER_LINE_STEP`) while that picture line is not flat; a plain wall or floor running
    to the edge (no step) is left alone. Returns the mended copy (or ``rgb`` itself) and the number of
    lines replaced per side.
    """
    out, mended = rgb, {}
    sides = {"top": lambda a: a, "bottom": lambda a: a[::-1], "left": lambda a: a.swapaxes(0, 1),
             "right": lambda a: a.swapaxes(0, 1)[::-1]}
    for side, view in sides.items():
        if view(rgb).shape[0] <= 2 * BORDER_LINES:
            continue
        lines = view(rgb)[:BORDER_LINES + 1].astype(np.float32)  # (only the lines at the edge)
        flat = [float(lines[k].std(axis=0).mean()) < BORDER_LINE_SD for k in range(BORDER_LINES + 1)]
        n = next((k for k in range(BORDER_LINES + 1) if not flat[k]), BORDER_LINES + 1)
        if n == 0 or n > BORDER_LINES or float(np.abs(lines[n - 1] - lines[n]).mean()) < BORDER_LINE_STEP:
            continue
        if out is rgb:
            out = rgb.copy()
        target = view(out)  # a view: writing it writes ``out``
        target[:n] = target[n]
        mended[side] = n
    return out, mended


#: How far inside the silhouette (share of the image's larger side) a limb's pixels are checked
#: against the background plate.
EDGE_CHECK = 0.006


#: :func:`_background_off_limb_edges`: a limb's colours are its median and up to this many k-means
#: centres of its inside (CIELAB), those holding :data:`LIMB_COLOUR_SHARE` of it at least and at least
#: :data:`LIMB_COLOUR_OFF_PLATE` (8-bit CIELAB units) from the plate's median colour along its outline.
LIMB_COLOURS = 4
LIMB_COLOUR_SHARE = 0.1
LIMB_COLOUR_OFF_PLATE = 10.0


def _limb_colours(lab: np.ndarray, plate: np.ndarray | None) -> np.ndarray:
    """The main colours ``(k, 3)`` of a limb's inside ``lab`` ``(N, 3)``: its median and the k-means
    centres (Lloyd 1982) that hold :data:`LIMB_COLOUR_SHARE` of it and are not the colour of the
    ``plate`` behind its outline (all of them with no ``plate``: the trunk's, whose held objects
    may be the background's colour, the astronaut's black helmet before a black backdrop).

    The median alone is not a limb: the lit inside of a bare thigh against a pale grey wall is
    further from the skin's median than from the plate behind it, and was cut out of the thigh in
    dots along its inside (anyone-3), which showed the plate through the leg in every frame. A
    centre the plate's own colour is left out: a pale arm's inside holds a few near-white pixels
    of the sky it spilled onto, and counting them as the arm's kept the sky's fringe on it.
    """
    med = np.median(lab, axis=0)[None]
    if min(LIMB_COLOURS, len(lab)) < 2:
        return med
    centres, share = _colour_centres(lab, LIMB_COLOURS)
    far = np.linalg.norm(centres - plate, axis=1) >= LIMB_COLOUR_OFF_PLATE if plate is not None else True
    return np.concatenate([med, centres[(share >= LIMB_COLOUR_SHARE) & far]])


def _background_off_limb_edges(rgb: np.ndarray, a: np.ndarray, labels: np.ndarray, background: np.ndarray) -> None:
    """Take out of an arm's, leg's or the trunk's silhouette (in place, alpha to 0) the pixels that
    are the background: along its outline, a pixel nearer the background's colour there than the
    part's own colours (CIELAB, the nearest of its :func:`_limb_colours`) by half, and within 15
    Delta E of it, is sky or wall the person matte spilled onto (pale arms against a pale sky;
    musepose's arms carried a white and cyan fringe of it wherever they moved). A pixel unlike
    both is kept. Such pixels further in (up to 1.5 ``EDGE_CHECK`` widths) go too when joined to
    the outline's through others (seeded region growing: a patch of cloud held between a hand's
    thumb and the picture's edge, which counts as outline).

    The background's colour there is the plate's (the background completed under the whole
    figure, the best guess of what lay behind each pixel) or, for arms and legs, the colour of the
    nearest pixel the picture shows as background, whichever is nearer; for the trunk only the
    latter. The plate's fill is smooth and takes the tone around the hole, so a sliver of lit wall
    between an elbow and the waist is 25 levels brighter than it: the matte's share of the sliver
    rode on anyone-3's bent elbow as a white fleck, and musepose's trunk kept a patch of sky
    under her raised arm. Not a hand's pixels by the second colour: what a hand holds may be the
    wall's colour (a grey phone before a grey wall); nor the trunk's by the plate's, which under the
    trunk is filled across a hole as wide as the body (its least sure guess).
    """
    from scipy.ndimage import label as connected

    from steadymotion.skeleton import PART

    h, w = a.shape
    # (past the picture's edge is outside too: a hand cut by the edge holds the sky beside it there)
    p = 1
    outside = cv2.copyMakeBorder((a < 0.5).astype(np.uint8), p, p, p, p, cv2.BORDER_CONSTANT, value=1)
    k = 2 * max(2, int(EDGE_CHECK * max(h, w))) + 1
    band = cv2.dilate(outside, np.ones((3 * k, 3 * k), np.uint8))[p:-p, p:-p].astype(bool) & (a > 0.02)
    parts = [PART[f"{n}_{s}"] for n in ("upper_arm", "forearm", "hand", "thigh", "shin") for s in "lr"] + [PART["torso"]]
    band &= np.isin(labels, parts)
    if not band.any():
        return
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    bg = cv2.cvtColor(background, cv2.COLOR_RGB2LAB).astype(np.float32)
    # and the background the picture shows nearest each pixel
    from scipy.ndimage import distance_transform_edt

    _, (oy, ox) = distance_transform_edt(a >= 0.1, return_indices=True)
    seen = lab[oy, ox]
    inner = cv2.erode((a >= 0.5).astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    off = np.zeros((h, w), bool)
    for j in parts:
        mine = band & (labels == j)
        core = inner & (labels == j)
        if not mine.any() or core.sum() < 50:
            continue
        d_bg = np.linalg.norm(lab[mine] - seen[mine], axis=1)
        plate = None
        if PARTS[j].name != "torso":
            d_plate = np.linalg.norm(lab[mine] - bg[mine], axis=1)
            d_bg = d_plate if PARTS[j].name.startswith("hand") else np.minimum(d_bg, d_plate)
            plate = np.median(bg[mine], axis=0)
        d_me = np.linalg.norm(lab[mine][:, None] - _limb_colours(lab[core], plate)[None], axis=2).min(axis=1)
        ys, xs = np.nonzero(mine)
        sel = (d_bg < 0.5 * d_me) & (d_bg < 15.0)
        off[ys[sel], xs[sel]] = True
    # within k/2 of the outline, or joined to it through such pixels (a patch of sky held in a hand,
    # up to 1.5 k in: seeded region growing)
    edge = cv2.dilate(outside, np.ones((k, k), np.uint8))[p:-p, p:-p].astype(bool)
    comp, _ = connected(off, structure=np.ones((3, 3), bool))
    seeds = np.unique(comp[off & edge])
    off &= np.isin(comp, seeds[seeds > 0])
    keep = np.where(off, 0.0, 1.0).astype(np.float32)
    # (the new outline softened over a pixel, as the matte's own is)
    soft = cv2.GaussianBlur(keep, (3, 3), 0)
    a[:] = np.where(band, a * np.minimum(keep, soft), a)


#: :func:`_soft_arm_edges`: how far (pixels) from an arm's solid pixels its edge reaches, and how
#: much nearer they must be than the trunk's core.
SOFT_EDGE_REACH = 3.0
SOFT_EDGE_MARGIN = 3.0


def _soft_arm_edges(labels: np.ndarray, a: np.ndarray) -> None:
    """An arm's outline the trunk's label took, apart from the trunk, goes to the arm (``labels``
    in place).

    Parts are cut by capsule distance, so along an arm hanging beside the body with a gap between
    them, the arm's inner edge (its soft pixels and a pixel or two of its shaded solid rim) fell
    inside the trunk's capsule: a line of the sleeve's edge, apart from the trunk's own pixels,
    drawn by the trunk. When the arm rose it stayed beside the waist as a dotted dark line
    (UniAnimate's dancer). :func:`~.cutout.limb_edges_off_torso` hands such pieces to the arm by
    colour, and a sleeve's shaded edge is nearer the colour of dark trousers on the trunk. Here a
    trunk pixel on the figure's outline (within two pixels of its matte's half) within
    :data:`SOFT_EDGE_REACH` of an arm's solid pixels and farther by
    :data:`SOFT_EDGE_MARGIN` from the trunk's core (its solid pixels, eroded by two) is the arm's:
    an edge belongs to the solid figure it fades from (as a matte's edge colour is extrapolated
    from its nearest foreground, Levin et al. 2008), and the trunk's own edge lies at its core.
    """
    from scipy.ndimage import distance_transform_edt

    from steadymotion.skeleton import PART

    torso = PART["torso"]
    arms = [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"]
    trunk = (labels == torso) & (a > 0.02)
    arm_solid = np.isin(labels, arms) & (a >= 0.98)
    if not trunk.any() or not arm_solid.any():
        return
    core = cv2.erode(((labels == torso) & (a >= 0.98)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if not core.any():
        return
    d_arm, (iy, ix) = distance_transform_edt(~arm_solid, return_indices=True)
    d_core = distance_transform_edt(~core)
    # (on the figure's outline only: a sliver of the trunk inside a hand is not an edge)
    outline = cv2.dilate((a < 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    move = trunk & outline & (d_arm <= SOFT_EDGE_REACH) & (d_core > d_arm + SOFT_EDGE_MARGIN)
    labels[move] = labels[iy, ix][move]


#: :func:`_unmix_margin`: a margin pixel whose estimated share of the figure (its projection on the
#: line from the background's colour to the figure's, :func:`_mix_share`) is under this is not the
#: figure's fringe.
MARGIN_MIN_ALPHA = 0.02
#: A margin pixel this near (0-1 RGB, Euclidean) the fill or the background the picture shows next
#: to it is the background's.
MARGIN_NEAR = 0.04


@dataclass
class _Fringe:
    """The figure's fringe past its matte (:func:`_unmix_margin`): per pixel its coverage, colour
    and the part it belongs to (the part of its nearest solid pixel)."""

    alpha: np.ndarray  # (H, W) float32, 0 off the fringe
    colour: np.ndarray  # (H, W, 3) float32 0-1
    owner: np.ndarray  # (H, W) int


def _unmix_margin(rgb: np.ndarray, a: np.ndarray, labels: np.ndarray, background: np.ndarray,
                  margin: np.ndarray) -> tuple[_Fringe, np.ndarray]:
    """The plate's safety margin past the matte split into background and the figure's fringe
    (``background`` in place); returns the fringe and the margin pixels that are background.

    The plate is filled over the figure and a margin past its matte (the segmentation's edge may
    miss a fringe of hair or a blurred hand). The fill there is a guess of what lay behind: beside
    musepose's shins it put the white sky over the green of a bush, and at rest the figure, whose
    texture ended with its matte, stood in a white seam where the image is green. Each margin pixel
    is read with the compositing equation ``I = a F + (1 - a) B`` (Porter & Duff 1984): ``F`` is
    the colour of the figure's nearest solid pixel, ``B`` the fill or the nearest pixel the picture
    shows past the margin, whichever lies nearer the line from ``B`` to ``F``, and ``a`` the
    projection of ``I - B`` on ``F - B`` (Smith & Blinn 1996, as :func:`_unmix_silhouette` does
    inside the matte).

    - On that line (within half of ``|F - B|``) with ``a`` at least :data:`MARGIN_MIN_ALPHA`, the
      pixel is the figure's fringe: the plate there takes ``B`` and the part it joins draws ``F``
      at ``a`` (so at rest the two make the image again, and the moving part keeps a soft edge of
      its own colour, never the old background's).
    - Within :data:`MARGIN_NEAR` of the fill or of the background beside it, it is the
      background, and the plate takes the image's own pixel.
    - Anything else keeps the fill: a figure the fill's colour (``|F - B|`` under
      :data:`UNMIX_MIN_CONTRAST`: its fringe is not told from the background), or a pixel of
      neither's colour (the video's chroma fringe along an edge: kept, it left the outline in the
      plate).
    """
    from scipy.ndimage import distance_transform_edt

    h, w = a.shape
    fringe = _Fringe(np.zeros((h, w), np.float32), np.zeros((h, w, 3), np.float32), np.full((h, w), -1))
    solid = cv2.erode((a >= 0.98).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if not margin.any() or not solid.any():
        return fringe, np.zeros_like(margin)
    ys, xs = np.nonzero(margin)
    _, (fy, fx) = distance_transform_edt(~solid, return_indices=True)
    _, (oy, ox) = distance_transform_edt(margin | (a > 0.02), return_indices=True)
    rgbf = rgb.astype(np.float32) / 255
    I = rgbf[ys, xs]
    F = rgbf[fy[ys, xs], fx[ys, xs]]
    fill = background[ys, xs].astype(np.float32) / 255
    best = np.full(len(ys), np.inf)
    alpha = np.zeros(len(ys), np.float32)
    B = fill.copy()
    near = np.full(len(ys), np.inf)
    for cand in (fill, rgbf[oy[ys, xs], ox[ys, xs]]):
        near = np.minimum(near, np.linalg.norm(I - cand, axis=1))
        est, off, n2 = _mix_share(I, F, cand)
        mix = (n2 > UNMIX_MIN_CONTRAST ** 2) & (off < 0.5 * np.sqrt(n2)) & (est >= MARGIN_MIN_ALPHA) & (off < best)
        best = np.where(mix, off, best)
        alpha = np.where(mix, est, alpha)
        B = np.where(mix[:, None], cand, B)
    # (a figure the fill's colour: its fringe is not told from the background, which stays filled)
    alike = ((F - fill) ** 2).sum(axis=1) <= UNMIX_MIN_CONTRAST ** 2
    alpha[alike] = 0.0
    B[alike] = fill[alike]
    mixed = alpha > 0
    # (a pixel neither the fringe nor the background's colour, a chroma fringe of the video's
    # subsampling along an edge, stays filled: the image's would leave the outline in the plate)
    bg = ~mixed & ~alike & (near < MARGIN_NEAR)
    plate = np.where(bg[:, None], I, B)
    background[ys, xs] = (plate * 255 + 0.5).clip(0, 255).astype(np.uint8)
    fringe.alpha[ys, xs] = alpha
    fringe.colour[ys, xs] = F
    fringe.owner[ys, xs] = labels[fy[ys, xs], fx[ys, xs]]
    back = np.zeros_like(margin)
    back[ys[bg], xs[bg]] = True
    return fringe, back


#: Length (pixels) of the slices across an arm in which its width and colour are measured.
UNDER_SLICE = 4.0
#: An upper arm is at most this many times as wide as its forearm.
UNDER_FOREARM = 1.2
#: CIELAB distance (8-bit units) from the arm's outer colour within which its pixels are its own
#: skin or sleeve (not hair or a shadow lying on it), for the colour next to a hidden piece.
UNDER_LIKE = 30.0
#: Pixels inside an arm's outer edge from which its strip is mirrored under the clothes (the edge's
#: soft pixels hold the ground behind it).
UNDER_MARGIN = 2.0
#: OpenCV L levels below an arm slice's median within which its own pixels are lit (the mirror's
#: axis is their inner edge).
UNDER_SHADE = 8.0
#: Reach (share of the image's longer side) of the shade the hair or clothes lying over an arm cast
#: on its edge beside them (:func:`.fill.lift_cast_shadow`): a few pixels, an arm's strip beside
#: them being narrow.
ARM_SHADE_REACH = 0.005
#: Interquartile range of lightness (OpenCV L levels) within which an arm is plain (anyone-3's bare
#: arms 6 and 9; demo1's folded blue sleeve 18, anyone-11's red one 21).
UNDER_PLAIN = 12.0


def _plain_arm(lab: np.ndarray, labels: np.ndarray, a: np.ndarray, j: int) -> bool:
    """Whether arm part ``j`` is plain (bare skin, a smooth sleeve): the interquartile range of the
    lightness of its solid pixels of its own colour (within :data:`UNDER_LIKE` of their median,
    CIELAB) is at most :data:`UNDER_PLAIN` levels. Its strip mirrors into the piece under the
    clothes over it; a sleeve's folds (demo1's: 18 levels) mirrored into swirls."""
    m = (labels == j) & (a > 0.9)
    if m.sum() < 50:
        return False
    px = lab[m]
    own = px[np.linalg.norm(px - np.median(px, axis=0), axis=1) < UNDER_LIKE, 0]
    if len(own) < 50:
        return False
    q1, q3 = np.percentile(own, [25, 75])
    return bool(q3 - q1 <= UNDER_PLAIN)


def _slice_widths(mask: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """Widths of ``mask`` across the bone ``p0``-``p1`` in slices :data:`UNDER_SLICE` long (the
    slices holding at least three of its pixels)."""
    L = float(np.hypot(*(np.asarray(p1, np.float64) - p0)))
    if L < UNDER_SLICE:
        return np.zeros(0)
    ys, xs = np.nonzero(mask)
    u, v = bone_frame(xs, ys, p0, p1)
    k = np.floor(u / UNDER_SLICE).astype(int)
    out = []
    for b in range(int(L // UNDER_SLICE)):
        sel = k == b
        if sel.sum() >= 3:
            out.append(float(v[sel].max() - v[sel].min()))
    return np.array(out)


def _arm_under_cloth(rgbf: np.ndarray, a: np.ndarray, labels: np.ndarray, j: int, over: np.ndarray,
                     kp: np.ndarray, mirror: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """Where arm ``j`` goes on under the clothes lying over it, and its colours there (0-1 RGB, one
    row per pixel of the mask in ``np.nonzero`` order).

    ``over`` holds the clothes taken off the arm (:func:`.cutout._cloth_off_arm_edges`): they stay
    with the trunk, and the arm under them was never seen. The arm is measured in slices across its
    bone (:data:`UNDER_SLICE` long): its outer edge (the side away from the clothes) in each, and its
    width where no clothes lie over it (the median over those slices, at most :data:`UNDER_FOREARM`
    times its forearm's). Under the clothes it goes on from its outer edge to that width. Its colours
    there: the arm's visible strip mirrored across the seam (reflection padding across the strip's
    inner edge, smoothed along the arm), read from the arm's pixels of its own colour, within
    :data:`UNDER_LIKE` of its outer half's (the hair or shadow on it inpainted from them, Telea 2004),
    so a hidden piece is the arm's skin or sleeve with its grain, lit as the arm is at that height and
    across it. A strip too thin to mirror (under :data:`UNDER_MARGIN` twice), or not ``mirror``ed (a
    sleeve's folds, :func:`_plain_arm`), gives its outer half's median per slice instead, smoothed
    along the arm, next to the arm's visible pixels fading from theirs. Returns ``(mask, colours)``
    in image coordinates, or ``None`` when nothing of the arm is hidden or it cannot be measured
    (fewer than three slices free of clothes).
    """
    from scipy.ndimage import median_filter

    spec = PARTS[j]
    mine = labels == j
    cloth = over & ~mine & (labels >= 0)
    if mine.sum() < 50 or cloth.sum() < 10:
        return None
    p0, p1 = kp[KP[spec.a], :2].astype(np.float64), kp[KP[spec.b], :2].astype(np.float64)
    L = float(np.hypot(*(p1 - p0)))
    if L < 4 * UNDER_SLICE:
        return None
    ay, ax = np.nonzero(mine)
    cy, cx = np.nonzero(cloth)
    au, av = bone_frame(ax, ay, p0, p1)
    cu, cv = bone_frame(cx, cy, p0, p1)
    side = 1.0 if cv.mean() > av.mean() else -1.0  # the clothes' side of the arm
    av, cv = av * side, cv * side
    nb = int(L // UNDER_SLICE)
    a_bin = np.floor(au / UNDER_SLICE).astype(int)
    c_bin = np.floor(cu / UNDER_SLICE).astype(int)
    outer = np.full(nb, np.nan)
    inner = np.full(nb, np.nan)
    free = np.zeros(nb, bool)
    ok_a = (a_bin >= 0) & (a_bin < nb)
    for k in range(nb):
        sel = ok_a & (a_bin == k)
        if sel.sum() < 3:
            continue
        outer[k], inner[k] = av[sel].min(), av[sel].max()
        free[k] = not np.any((c_bin == k) & (cv > inner[k] - 2))
    if not np.isfinite(outer).any():
        return None
    width = float(np.median((inner - outer)[free])) if free.sum() >= 3 else np.inf
    # (at the shoulder the arm's pixels take in the shoulder's cap and hair lying on it: no wider
    # than its forearm allows, an upper arm being about a fifth wider; a lock of hair over the
    # whole upper arm leaves no slice free: the forearm's width alone)
    child = [c for c in PARTS if c.parent == spec.name]
    if child and (labels == PART[child[0].name]).sum() >= 50:
        cw = _slice_widths(labels == PART[child[0].name], kp[KP[child[0].a], :2], kp[KP[child[0].b], :2])
        if len(cw) >= 3:
            width = min(width, UNDER_FOREARM * float(np.median(cw)))
    if not np.isfinite(width):
        return None
    good = np.isfinite(outer)
    idx = np.arange(nb)
    outer = median_filter(np.interp(idx, idx[good], outer[good]), size=5, mode="nearest")
    # the hidden piece: clothes between the arm's outer edge and its width, between its joints
    in_arm = (c_bin >= 0) & (c_bin < nb)
    # (the edge interpolated between the slices' middles: no steps along the piece's inner side)
    edge_at = np.interp(cu / UNDER_SLICE - 0.5, idx, outer)
    # (inside the figure: clothes on its soft outline lie over no arm)
    hid_sel = in_arm & (cv <= edge_at + width) & (a[cy, cx] > 0.9)
    if hid_sel.sum() < 10:
        return None
    hidden = np.zeros(labels.shape, bool)
    hidden[cy[hid_sel], cx[hid_sel]] = True
    # (and the pinholes between it and the arm: a lone pixel of the clothes' edge left out, or a
    # speck of the figure the step taking the clothes off the arm did not take)
    from scipy.ndimage import binary_fill_holes

    hidden |= binary_fill_holes(hidden | mine) & ~mine & (labels >= 0) & (a > 0.9)
    # only pieces touching the arm
    _, comp = cv2.connectedComponents(hidden.astype(np.uint8), connectivity=8)
    touch = np.unique(comp[cv2.dilate(mine.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & hidden])
    hidden = np.isin(comp, touch[touch > 0])
    if hidden.sum() < 10:
        return None
    # colours: the median of the arm's solid outer half per slice, smoothed along the arm
    solid = (a[ay, ax] > 0.9) & ok_a & (av <= outer[np.clip(a_bin, 0, nb - 1)] + 0.5 * width)
    prof = np.full((nb, 3), np.nan)
    for k in range(nb):
        sel = solid & (a_bin == k)
        if sel.sum() >= 2:
            prof[k] = np.median(rgbf[ay[sel], ax[sel]], axis=0)
    have = np.isfinite(prof[:, 0])
    if not have.any():
        return None
    prof = np.stack([np.interp(idx, idx[have], prof[have, q]) for q in range(3)], 1)
    prof = median_filter(prof, size=(5, 1), mode="nearest")
    hy, hx = np.nonzero(hidden)
    hu = bone_frame(hx, hy, p0, p1)[0] / UNDER_SLICE - 0.5
    fill = np.stack([np.interp(hu, idx, prof[:, q]) for q in range(3)], 1).astype(np.float32)
    # the piece is the arm's visible strip mirrored across the seam where it goes under the clothes
    # (the strip's inner edge per slice, smoothed along the arm), read from the arm's pixels of its
    # own colour (the hair or shadow on it inpainted from them; Telea 2004): its tone and grain go on
    # without a step, lit as a limb is, brighter towards its middle and shaded again at the far side
    # (a flat profile stepped 6 levels from anyone-3's arm beside it). Past the strip's width mirrored,
    # it keeps the colour just inside the arm's outer edge; an arm too thin to mirror keeps the profile.
    ys, xs = np.nonzero(hidden | mine)
    h, w = labels.shape
    x0, y0 = max(0, xs.min() - 6), max(0, ys.min() - 6)
    x1, y1 = min(w, xs.max() + 7), min(h, ys.max() + 7)
    crop = (rgbf[y0:y1, x0:x1] * 255).round().astype(np.uint8)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    ref = np.median(lab[ay[solid] - y0, ax[solid] - x0], axis=0) if solid.sum() >= 10 else None
    if ref is not None:
        own = mine[y0:y1, x0:x1] & (a[y0:y1, x0:x1] > 0.9) & (np.linalg.norm(lab - ref, axis=2) < UNDER_LIKE)
        if own.sum() >= 20:
            near = cv2.inpaint(crop, (~own).astype(np.uint8), 5, cv2.INPAINT_TELEA).astype(np.float32) / 255
            src = _mirror_source(lab[..., 0], own, ay - y0, ax - x0, av, a_bin, ok_a, inner, outer, hu,
                                 bone_frame(hx, hy, p0, p1)[1] * side) if mirror else None
            if src is not None:
                d = (p1 - p0) / L
                n = np.array([-d[1], d[0]]) * side
                along = (hu + 0.5) * UNDER_SLICE
                mx = (p0[0] + along * d[0] + src * n[0] - x0).astype(np.float32)
                my = (p0[1] + along * d[1] + src * n[1] - y0).astype(np.float32)
                fill = cv2.remap(near, mx[:, None], my[:, None], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[:, 0]
            else:
                # next to the arm's visible pixels the piece takes their colour, fading to the
                # profile deeper in (so no seam shows where the arm goes under the clothes)
                dist = cv2.distanceTransform((~own).astype(np.uint8), cv2.DIST_L2, 5)
                t = np.clip(dist[hy - y0, hx - x0] / max(2.0, 0.5 * width), 0.0, 1.0)[:, None]
                fill = near[hy - y0, hx - x0] * (1 - t) + fill * t
    return hidden, fill


def _mirror_source(light: np.ndarray, own: np.ndarray, ay: np.ndarray, ax: np.ndarray, av: np.ndarray, a_bin: np.ndarray,
                   ok_a: np.ndarray, inner: np.ndarray, outer: np.ndarray, hu: np.ndarray, hv: np.ndarray) -> np.ndarray | None:
    """Where each hidden pixel of an arm reads its colour, mirrored across the arm's strip: its offset
    across the bone (``hv``, the clothes' side positive) reflected about the inner edge of the strip's
    lit pixels of its own colour in each slice (within :data:`UNDER_SLICE`-long slices ``a_bin`` of
    the arm's pixels ``(ay, ax)`` at offsets ``av``; their lightness ``light`` within
    :data:`UNDER_SHADE` of the slice's median; not the shade the clothes or hair cast on the arm
    beside them, which mirrored would line the seam twice), smoothed along the arm, and kept
    :data:`UNDER_MARGIN` inside its outer edge (whose soft pixels hold the ground behind). ``hu`` is
    each hidden pixel's slice coordinate. ``None`` where the strip is too thin to mirror."""
    from scipy.ndimage import median_filter

    nb = len(outer)
    idx = np.arange(nb)
    lit_l = light[ay, ax]
    is_own = own[ay, ax] & ok_a
    axis = np.full(nb, np.nan)
    for k in range(nb):
        sel = is_own & (a_bin == k)
        if sel.sum() >= 3:
            axis[k] = av[sel & (lit_l >= np.median(lit_l[sel]) - UNDER_SHADE)].max()
    seam = axis if np.isfinite(axis).sum() >= 3 else inner
    ok = np.isfinite(seam)
    if ok.sum() < 1:
        return None
    seam = median_filter(np.interp(idx, idx[ok], seam[ok]), size=5, mode="nearest")
    seam_at, out_at = np.interp(hu, idx, seam), np.interp(hu, idx, outer)
    if np.median(seam_at - out_at) < 2 * UNDER_MARGIN:
        return None
    return np.maximum(2 * seam_at - hv, out_at + UNDER_MARGIN)


def _own_alpha(alpha: np.ndarray | None) -> bool:
    """Whether the image's alpha channel cuts the figure out (then it is the matte, as drawn)."""
    if alpha is None:
        return False
    a = alpha.astype(np.float32) / (255.0 if alpha.dtype == np.uint8 or float(alpha.max()) > 1.0 else 1.0)
    return bool((a < 0.5).mean() > 0.02)


def _recover_fingers(rgb: np.ndarray, a: np.ndarray, kp: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Put back into the figure the parts of a hand the matte lost (thin fingertips, which the colour
    cut's smoothness drops; a hand blurred by motion against a curtain of a similar colour); left
    out, they stay in the background plate and float where the hand was.

    Around each hand (a disc of twice the wrist-to-knuckles length) a GrabCut (Rother, Kolmogorov &
    Blake 2004: Gaussian-mixture colour models of figure and background, and a graph cut) decides:
    the hand's axis from the wrist to half a hand past the knuckles is surely hand, the figure in
    the disc probably figure, the rest of the disc probably background, outside it background. A
    background of several colours (a grey and a yellow curtain, a sofa) is modelled as such, so a
    strip of the grey curtain beside the hand is not taken for skin because it is nearer skin than
    the yellow. What joins must touch the hand's axis; a cut that would add more than two hands'
    area is dropped (a leak into a background of the skin's colour).
    """
    from scipy.ndimage import label

    out = a.copy()
    fig = a > 0.5
    for wr, hd, c, R, (x0, y0, x1, y1) in _limb_end_discs(kp, present, "hand", "wrist", "hand", 1.0, 2.0, 2.0, a.shape):
        L = float(np.linalg.norm(hd - wr))
        if L < 4:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        disc = (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= R * R
        f = fig[y0:y1, x0:x1]
        if not (disc & ~f).any() or (disc & f).sum() < 10:
            continue
        u = (hd - wr) / L
        axis = np.zeros(disc.shape, np.uint8)
        p0, p1 = wr - (x0, y0), hd + 0.3 * L * u - (x0, y0)
        cv2.line(axis, (int(round(p0[0])), int(round(p0[1]))), (int(round(p1[0])), int(round(p1[1]))), 1,
                 max(2, int(round(0.15 * L))))
        m = np.full(disc.shape, cv2.GC_BGD, np.uint8)
        m[disc] = cv2.GC_PR_BGD
        m[disc & f] = cv2.GC_PR_FGD
        m[axis > 0] = cv2.GC_FGD
        if (m == cv2.GC_BGD).sum() < 20 and (m == cv2.GC_PR_BGD).sum() < 20:
            continue
        try:
            cv2.grabCut(np.ascontiguousarray(rgb[y0:y1, x0:x1]), m, None, np.zeros((1, 65)), np.zeros((1, 65)), 4,
                        cv2.GC_INIT_WITH_MASK)
        except cv2.error:  # a colour model without samples: nothing to tell apart
            continue
        hand = ((m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD)) & disc
        comp, _ = label(hand | f)
        keep = np.unique(comp[axis > 0])
        add = hand & np.isin(comp, keep[keep > 0]) & ~f
        if add.sum() > 2.0 * L * L:
            continue
        out[y0:y1, x0:x1][add] = 1.0
    return out


def _skeleton_seeds(kp: np.ndarray, present: np.ndarray, pose, shape: tuple[int, int], edge=()) -> np.ndarray:
    """Pixels surely on the person: thin lines along the present bones (middle 80 %) and the
    finger bones of the hands MediaPipe found, to anchor the figure matte's colour cut (not the
    bones to a virtual elbow below the picture, ``edge``: where they run is a guess)."""
    h, w = shape
    seeds = np.zeros((h, w), np.uint8)
    torso = float(np.linalg.norm(kp[KP["neck"], :2] - kp[KP["pelvis"], :2]))
    th = max(1, int(round(0.02 * torso)))
    guessed = {f"{k}_{s}" for s in edge for k in ("upper_arm", "forearm")}
    for i, spec in enumerate(PARTS):
        if not present[i] or spec.name == "head" or spec.name in guessed:
            continue
        a, b = kp[KP[spec.a], :2], kp[KP[spec.b], :2]
        if spec.name == "torso":
            a, b = kp[KP["neck"], :2], kp[KP["pelvis"], :2]
        p, q = a + 0.1 * (b - a), a + 0.9 * (b - a)
        cv2.line(seeds, tuple(np.round(p).astype(int)), tuple(np.round(q).astype(int)), 1, th)
    if pose.hands_present[0].any():
        from steadymotion.render.puppet.cutout import _FINGERS

        for k in range(2):
            if not pose.hands_present[0][k]:
                continue
            pts = pose.hands[0][k][:, :2]
            if not np.isfinite(pts).all():
                continue
            for chain in _FINGERS[:5]:
                cv2.polylines(seeds, [np.round(pts[list(chain)]).astype(np.int32)], False, 1, max(1, th // 2))
    return seeds.astype(bool)


def _shoulder_tops(kp: np.ndarray, present: np.ndarray, radius: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The shoulders' tops between the neck and each shoulder joint, within 1.5 upper-arm radii of
    the joint: the trunk's, though the arm's round end claims them.

    Turning about the joint, that end took them along, and a raised arm opened a bite of background
    between its root and the collar. The trunk keeps them too (drawn behind the arm, in their own
    colours: the sleeve or the bare shoulder), so the shoulder's hump stays. Nothing past the joint
    (a knob of the trunk would stick out under the raised arm), and nothing under an arm lying
    across the trunk (its elbow inside the shoulder-hip quad): its root covers the neckline's edge,
    and kept or filled, the neck's skin ran over the shoulder of raw_0's black top in stripes.
    """
    h, w = shape
    out = np.zeros((h, w), bool)
    n = kp[KP["neck"], :2].astype(np.float64)
    quad = torso_polygon(kp, 0.0, widen=0.0, body=True).reshape(-1, 1, 2)
    for k in ("l", "r"):
        j = PART[f"upper_arm_{k}"]
        if not present[j]:
            continue
        elbow = tuple(float(v) for v in kp[KP[f"elbow_{k}"], :2])
        if cv2.pointPolygonTest(quad, elbow, True) > 0.5 * float(radius[j]):
            continue
        s = kp[KP[f"shoulder_{k}"], :2].astype(np.float64)
        reach = 1.5 * float(radius[j])
        x0, x1 = int(max(0, np.floor(s[0] - reach))), int(min(w, np.ceil(s[0] + reach) + 1))
        y0, y1 = int(max(0, np.floor(s[1] - reach))), int(min(h, np.ceil(s[1] + reach) + 1))
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        span = float(np.linalg.norm(s - n))
        u = (s - n) / max(span, 1e-6)
        t = (xx - n[0]) * u[0] + (yy - n[1]) * u[1]
        near = (xx - s[0]) ** 2 + (yy - s[1]) ** 2 <= reach ** 2
        out[y0:y1, x0:x1] |= near & (t >= 0) & (t <= span)
    return out


#: How far up under a skirt a thigh goes on (share of the thigh's length above its visible top).
SKIRT_UNDERLAP = 0.25


def _thigh_under_skirt(labels: np.ndarray, own: np.ndarray, kp: np.ndarray, spec, r: float, a: np.ndarray) -> np.ndarray:
    """The skirt's pixels over a thigh's upper end, which the thigh goes on under (filled from its own).

    A skirt is the trunk's (:func:`~steadymotion.render.puppet.cutout.skirt_to_torso`) and the legs
    are drawn behind it, so the thigh's texture began at the hem: its seam overlap carried a strip of
    the hem's red, and as soon as the leg moved a little against the hips that strip showed below the
    hem, torn off it by a line of the background plate (musepose's dancer, standing). The thigh goes on
    up under the skirt in its own colours, within its width and :data:`SKIRT_UNDERLAP` of its length
    above its visible top, as the leg does: covered at rest, it shows skin where the hem lifts.
    """
    hip, knee = kp[KP[spec.a], :2].astype(np.float64), kp[KP[spec.b], :2].astype(np.float64)
    oy, ox = np.nonzero(own & (a > 0.5))
    ys, xs = np.nonzero((labels == PART["torso"]) & (a > 0.5))
    out = np.zeros(labels.shape, bool)
    L = float(np.hypot(*(knee - hip)))
    # (a dress to the knees shows no thigh to continue: a fifth of its length at its width at least)
    if len(oy) < max(20.0, 0.2 * L * 2 * r) or not len(ys) or L < 1:
        return out
    _, u_own = segment_distance(np.stack([ox, oy], 1).astype(np.float64), hip, knee)
    top = float(np.percentile(u_own, 2))
    d, u = segment_distance(np.stack([xs, ys], 1).astype(np.float64), hip, knee)
    sel = (d <= r) & (u >= max(0.0, top - SKIRT_UNDERLAP)) & (u <= top + 0.1)
    out[ys[sel], xs[sel]] = True
    return out


def _skin_up_under_skirt(color: np.ndarray, under: np.ndarray, solid: np.ndarray, skirt: np.ndarray, band: int) -> None:
    """Colour a thigh's piece under a skirt (``under``) from the leg's own solid pixels, in place.

    Each column takes the mean colour of the leg's first few solid pixels at least ``band`` px
    below the skirt in that column and ``band / 2`` inside its sides (the rows at the hem carry its
    shadow and its red, the sides the background's light); columns the leg does not reach take the
    nearest such column's. The leg's shading runs along it, so the piece continues the leg's lit and
    shaded bands upwards (a foreground colour extrapolated as matting does, Levin et al. 2008, here
    along the leg). The garment-aware fills of hidden cloth would lay the hem's own colours up the
    thigh."""
    inner = cv2.erode(solid.astype(np.uint8), np.ones((1, band), np.uint8)).astype(bool)
    deep = inner & ~dilate_disc(skirt, 2 * band + 1)
    cols = np.flatnonzero(under.any(axis=0))
    if not deep.any() or not len(cols):
        return
    have, value = [], []
    for x in range(deep.shape[1]):
        ys = np.flatnonzero(deep[:, x])
        if len(ys) >= 3:
            have.append(x)
            value.append(color[ys[:8], x].mean(axis=0))
    if not have:
        return
    value = np.array(value)
    per_col = np.stack([np.interp(cols, have, value[:, c]) for c in range(color.shape[2])], axis=1)
    for k, x in enumerate(cols):
        color[under[:, x], x] = per_col[k]


def _trunk_runs_below_hips(labels: np.ndarray, kp: np.ndarray, a: np.ndarray) -> bool:
    """Whether the trunk part goes on below the hips (a skirt, a dress, or legs out of the picture):
    it owns most of the figure's pixels in a band from 0.15 to 0.35 of the trunk's length below the
    hips' line, between the hips (trousers' legs are the thighs' there)."""
    hl, hr = kp[KP["hip_l"], :2], kp[KP["hip_r"], :2]
    down = kp[KP["pelvis"], :2] - kp[KP["neck"], :2]
    quad = np.array([hr + 0.15 * down, hl + 0.15 * down, hl + 0.35 * down, hr + 0.35 * down])
    if not np.isfinite(quad).all():
        return False
    band = np.zeros(labels.shape, np.uint8)
    cv2.fillConvexPoly(band, quad.round().astype(np.int32), 1)
    fig = band.astype(bool) & (a > 0.5)
    return bool(fig.sum() >= 20 and (labels[fig] == PART["torso"]).mean() > 0.5)


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
    from scipy.ndimage import label as connected_components

    from steadymotion.pose.extract import pose_from_image  # perception: imported on use (MediaPipe is heavy)

    h, w = rgb.shape[:2]
    rgb, _ = mend_border_lines(rgb)
    if pose is None:
        pose = pose_from_image(rgb)
    if not pose.body_present[0]:
        raise NoPersonError(f"{source}: no person found; use an image with one clearly visible person (head and shoulders at least)")
    body = pose.body[0]
    kp = keypoints_from_body(body)
    vis = keypoint_visibility(body)
    # a half-body image's hand raised from below the picture turns about an elbow below it
    edge = edge_elbows(kp, vis, w, h)
    for s, elbow in edge.items():
        kp[KP[f"elbow_{s}"], :2] = elbow
    present = present_parts(kp, vis, w, h, edge)
    if not present[PART["torso"]] or not present[PART["head"]]:
        raise NoPersonError(f"{source}: the person's head and shoulders must be in the image to rig it; use a wider shot")
    face = pose.face[0] if pose.face_present[0] else None
    a = person_alpha(rgb, alpha, seeds=_skeleton_seeds(kp, present, pose, (h, w), edge))
    if not _own_alpha(alpha):
        a, plain_floor = _recover_feet(rgb, _recover_fingers(rgb, a, kp, present), kp, present)
        found = {s: pose.hands[0][k, :, :2] for k, s in enumerate("lr")
                 if pose.hands_present[0][k] and np.isfinite(pose.hands[0][k, :, :2]).all()}
        a, raised = _raised_hands(rgb, a, kp, [s for s in edge if present[PART[f"hand_{s}"]]], found)
    else:
        raised, plain_floor = {}, np.zeros((h, w), bool)
    # segmentation is unsure on thin limbs (alpha 0.5-0.8 across a whole arm): a puppet part is
    # opaque inside and soft only along its silhouette, or it turns see-through when it moves
    e = max(3, int(0.005 * max(h, w)) | 1)
    interior = cv2.erode((a > 0.5).astype(np.uint8), np.ones((e, e), np.uint8)).astype(bool)
    a = np.where(interior, 1.0, a).astype(np.float32)
    mask = a > 0.5
    if mask.sum() < 0.002 * h * w:
        raise NoPersonError(f"{source}: the person is too small to rig (segmentation found {int(mask.sum())} px); use a closer shot")
    # a forearm placed by a weakly seen wrist is rigged only where a limb shows along it
    for s in weak_forearms(kp, vis, w, h):
        if present[PART[f"forearm_{s}"]] and not forearm_shown(kp, s, mask):
            present[PART[f"forearm_{s}"]] = False
    radius = radii(kp, mask, face)
    if not _own_alpha(alpha):
        a = _open_leg_gap(rgb, a, kp, present, radius)
    over_arms: dict[int, np.ndarray] = {}
    lock: dict[str, np.ndarray] = {}
    labels = part_labels(rgb, pose, a, kp, present, radius, over_arms, lock)
    over_any = np.zeros((h, w), bool)
    for m in over_arms.values():
        over_any |= m & (labels >= 0) & ~np.isin(labels, [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"])
    _label_raised_hands(labels, raised, a)
    # (after the raised hands' threads went to the torso: the phone's edge among them is the hand's)
    limb_edges_off_torso(labels, cv2.cvtColor(cv2.GaussianBlur(rgb, (5, 5), 0), cv2.COLOR_RGB2LAB).astype(np.float32), present, radius)
    _soft_arm_edges(labels, a)
    skirt = _trunk_runs_below_hips(labels, kp, a)
    notes = []
    missing = [p.name for i, p in enumerate(PARTS) if not present[i]]
    if missing:
        notes.append("not in the image (kept still with their parent part): " + ", ".join(missing))

    # background: the person removed
    # (the figure matte is solid and its soft band narrow, so a thin margin past it holds no figure
    # colour; outside the hole the plate is the image itself, so a still figure renders the image)
    grow = max(3, int(0.008 * max(h, w)) | 1)
    hole = cv2.dilate((a > 0.02).astype(np.uint8), np.ones((grow, grow), np.uint8)).astype(bool)
    # past each hand, a fingers' length more: fingertips smeared by motion fade into the background
    # (too faint for the matte or the hand's GrabCut) and would stay in the plate as a pale smudge
    past = np.zeros((h, w), np.uint8)
    for wr, hd, _c, _r, _box in _limb_end_discs(kp, present, "hand", "wrist", "hand", 1.0, 1.0, 4.0, (h, w)):
        L = float(np.linalg.norm(hd - wr))
        tip = hd + 0.8 * (hd - wr)
        cv2.line(past, (int(round(hd[0])), int(round(hd[1]))), (int(round(tip[0])), int(round(tip[1]))), 1,
                 max(3, int(round(0.9 * L))))
    hole |= past.astype(bool)
    # and around the feet on a plain floor, where the shoes' faint fringe escaped the matte
    hole |= plain_floor
    # (patches of the surroundings over FSR's layout: FSR alone ran the sky above a dancer's head
    # down in a plume and a bush beside her legs into a green streak)
    background = inpaint_multiscale(rgb, hole, method="patches")
    # (the fill is made at a quarter of the size: it is brought to the tone around it, and a tiled
    # floor's joints are drawn on through it)
    settle_fill(background, rgb, hole)
    continue_lines(background, rgb, hole, a > 0.02)
    synth = hole.astype(np.uint8)
    if not _own_alpha(alpha):
        _background_off_limb_edges(rgb, a, labels, background)
        # (the margin past the matte: the fingertips' and the shoes' fringe zones stay filled)
        fringe, given = _unmix_margin(rgb, a, labels, background, hole & (a <= 0.02) & ~past.astype(bool) & ~plain_floor)
        synth[given] = 0
    else:
        fringe = None

    under_arms = _under_arms(labels, present, a, radius, kp, skirt)
    behind_arm = _arm_behind_arm(labels, kp, present, radius, a)
    # the chin's height above the shoulder line (in head-to-neck lengths): where the neck's blend of
    # the head's and the trunk's transforms ends (:func:`.mesh.head_share`)
    chin = chin_height(face, kp)
    chin_px = chin_or_default(chin) * float(np.hypot(*(kp[KP["head"], :2] - kp[KP["neck"], :2])))
    arm_ids = [PART[f"{k}_{s}"] for k in ("upper_arm", "forearm", "hand") for s in "lr"]
    head_field = head_share_map((h, w), kp, chin, np.isin(labels, arm_ids),
                                max(float(radius[PART["upper_arm_l"]]), float(radius[PART["upper_arm_r"]])), face)
    # the head's and the trunk's meshes take small triangles where that field changes, and a grid
    # step past it (so no large triangle straddles the change's edge)
    step = max(3, int(round(NECK_GRID * chin_px)))
    blend_zone = cv2.dilate(((head_field > 0) & (head_field < 1)).astype(np.uint8), np.ones((2 * step + 1, 2 * step + 1), np.uint8)).astype(bool)
    # stable unit for mesh density
    torso_len = float(np.linalg.norm(kp[KP["neck"], :2] - kp[KP["pelvis"], :2]))
    parts: list[Part] = []
    relit: dict[int, tuple] = {}  # an arm's colours with the shade of what lies over it relit
    plain: set[int] = set()  # the arms with clothes over them whose strip mirrors under them
    if over_arms:
        lab8 = cv2.cvtColor(rgb[..., :3], cv2.COLOR_RGB2LAB).astype(np.float32)
        plain = {j for j in over_arms if _plain_arm(lab8, labels, a, j)}
    front_set = {PART[n] for n in FRONT_OF_TORSO}
    rgbf = rgb.astype(np.float32) / 255
    if lock and lock["gaps"].any():
        # the skin between the strands of a lock taken off an arm takes the lock's colours (patches
        # of its strands), so the lock left hanging from the head is whole
        ys, xs = np.nonzero(lock["gaps"] | lock["hair"])
        pad = 8
        y0, y1, x0, x1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1), max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
        filled, got = exemplar_fill(rgb[y0:y1, x0:x1], lock["gaps"][y0:y1, x0:x1], lock["hair"][y0:y1, x0:x1], side=max(h, w))
        rgbf = rgbf.copy()
        sub = rgbf[y0:y1, x0:x1]
        sub[got] = filled[got].astype(np.float32) / 255
        synth[y0:y1, x0:x1][got] = 2
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
            if spec.name.startswith("thigh"):
                # but a thigh carries a narrow strip of the trunk's pixels along its top edge near
                # the hip, drawn behind the trunk: when the leg swings out, the top's outer corner
                # turns down and away from the trunk's edge, and the strip (the shorts' own cloth)
                # closes the wedge that opened there instead of the background showing through it
                # (near the hip only: a skirt's hem, far below the hips, is never carried)
                strip = dilate_disc(own, 2 * max(2, int(round(HIP_UNDERLAP * radius[i]))) + 1)
                hip_zone = np.zeros((h, w), np.uint8)
                j = kp[KP[spec.a], :2]
                cv2.circle(hip_zone, (int(round(j[0])), int(round(j[1]))), int(round(1.3 * radius[i])), 1, -1)
                region |= strip & hip_zone.astype(bool) & (labels == PART["torso"]) & (a > 0.5)
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
        if spec.name == "torso":
            # the shoulders' tops the arms' round ends claim are the trunk's too, in their own
            # colours (the arm drawn in front covers them until it rises)
            # (beside the head they are filled like the rest the arms hide: the hair's soft edge and
            # its shadow on a sleeve would stay there)
            arms = np.isin(labels, [PART["upper_arm_l"], PART["upper_arm_r"]])
            by_head = dilate_disc(labels == PART["head"], 2 * max(3, int(0.01 * max(h, w))) + 1)
            tops = _shoulder_tops(kp, present, radius, (h, w)) & arms & (a > 0.5)
            region |= tops & ~by_head
        hidden = np.zeros((h, w), bool)
        trim = np.zeros((h, w), bool)
        if i not in front_set:
            # what parts drawn in front hide of this one is filled from this part's own pixels
            if spec.name == "torso":
                zone = np.zeros((h, w), np.uint8)
                # (the waist under a hanging arm is narrower than the hips: the zone ends a little
                # inside the outer hip line, or the arm's place would fill as a strip of the trunk)
                cv2.fillConvexPoly(zone, torso_polygon(kp, radius[i], widen=0.0, body=True, hip_out=0.3).round().astype(np.int32), 1)
                zone = zone.astype(bool) | (tops & by_head)
            else:
                # a leg is filled only under what the body encloses (``under_arms``): its capsule
                # reaches past the thigh's outline, and a hand hanging beside it would leave a
                # hand-shaped patch of shorts sticking out of them
                zone = np.zeros((h, w), bool)
            for j in front_set:
                if present[j]:
                    hidden |= zone & (labels == j)
            if spec.name == "torso":
                own_px = np.argwhere((labels == i) & (a > 0.9))[:, ::-1].astype(np.int32)
                trunk_hull = np.zeros((h, w), np.uint8)
                if len(own_px) >= 3:
                    cv2.fillConvexPoly(trunk_hull, cv2.convexHull(own_px), 1)
                trunk_hull = trunk_hull.astype(bool)
                # the neck hides the collar behind it: the trunk is filled under the head to the
                # convex hull of its own pixels (the shoulders' line), or the background shows
                # through the collar when the head turns
                hidden |= trunk_hull & (labels == PART["head"])
                hidden |= _hair_shadow(rgb, labels, trunk_hull & (labels == PART["head"]), face, i, kp, radius[PART["head"]])
                # a hand raised from below before the trunk's side hides its outline: the trunk is
                # filled to that hull there too (its side continued under the hand), and under the
                # hand's soft edge, or the hand's outline stays on the shirt
                k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
                for side in raised:
                    arm = np.isin(labels, [PART[f"hand_{side}"], PART[f"forearm_{side}"]])
                    edge_px = cv2.dilate(arm.astype(np.uint8), k3).astype(bool) & (labels == i) & ~arm
                    hidden |= trunk_hull & (arm | edge_px)
            under = under_arms == i
            if under.any():
                # and the part's own pixels right beside what hides it: the hand's soft edge and its
                # shadow, which would stay on the shorts as the hand's outline when the hand moves
                k = 2 * max(2, int(0.005 * max(h, w))) + 1
                # (not the clothes lying over an arm: they are in front of it and keep their colours)
                near = cv2.dilate(under.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
                hidden |= under | (near & own & ~over_any)
                # and a seam's width into what another back part fills under the same hand (the
                # torso above the thigh under a wrist at the hip): the two fills overlap like the
                # parts' own pixels do, or the wall showed through a slit between them once the
                # hips turned (anyone-11's shorts under his left wrist)
                hidden |= near & (under_arms >= 0) & (under_arms != i)
            hidden &= a > 0.15
            region |= hidden
            if spec.name == "torso":
                # the arm's pixels past a gap of background beside the trunk hide none of it: filled
                # as before (the fill's layout reads the whole band), then left out of the texture
                armpit = max(kp[KP["shoulder_l"], 1], kp[KP["shoulder_r"], 1]) + max(radius[PART["upper_arm_l"]], radius[PART["upper_arm_r"]])
                trim = _past_a_gap(hidden, (labels >= 0) & (a > 0.5), kp)
                trim[: int(np.clip(np.ceil(armpit), 0, h))] = False
                # (closed up and down: a row or two between gap rows is no piece of trunk, and
                # would float as a line)
                kv = 2 * max(3, int(0.01 * max(h, w))) + 1
                trim = cv2.morphologyEx(trim.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((kv, 1), np.uint8)).astype(bool) & hidden
            synth[hidden & ~trim] = 2
        if i in behind_arm:
            # the farther arm's pixels the nearer one hides where the two cross: filled from its own
            # pixels below, so it moves off whole (drawn behind the nearer arm, it is hidden at rest)
            hidden = behind_arm[i] & ~region
            region |= hidden
            synth[hidden] = 2
        under_skirt = None
        if skirt and spec.name.startswith("thigh"):
            under_skirt = _thigh_under_skirt(labels, own, kp, spec, float(radius[i]), a) & ~region
            region |= under_skirt
        if i in front_set and spec.name != "head":
            # an arm's joint caps never take in the clothes lying over it: drawn in front, the arm
            # would cover them at rest (a bow's wing by the shoulder went white)
            region &= ~over_any
        if not region.any():
            present[i] = False
            continue
        # overlap internal seams by a few pixels so no background shows between parts
        seam = max(2, int(0.003 * max(h, w)))
        grown = cv2.dilate(region.astype(np.uint8), np.ones((2 * seam + 1, 2 * seam + 1), np.uint8)).astype(bool)
        grown = region | (grown & (a > 0.5))  # overlap inside the figure only, never into a fringe
        if i not in front_set:
            # a part behind the arms never reaches into them: the arm drawn over it covers the seam,
            # and when the arm moves, the seam's strip of skin or sleeve would stay on the shorts
            grown &= region | ~np.isin(labels, [PART[n] for n in FRONT_OF_TORSO if n != "head"])
        if i in front_set and spec.name != "head":
            # an arm overlaps its own chain fully, anything else by one pixel: the torso behind it
            # is inpainted, and a wide seam into the shorts would carry cloth along with the arm
            chain = [i] + ([PART[spec.parent]] if spec.parent and spec.parent != "torso" else [])
            chain += [PART[c.name] for c in children]
            thin = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & (a > 0.5)
            grown = region | (grown & np.isin(labels, chain)) | (thin & ~over_any)
        if spec.name == "torso" and raised:
            # nor does the trunk's seam reach into a raised hand (its skin would outline the trunk)
            grown &= region | ~np.isin(labels, [PART[f"{k}_{s}"] for s in raised for k in ("hand", "forearm")])
        if spec.name == "torso":
            # nor into the head's hair past the trunk's fill under it: a strip of hair along the
            # shoulders' top would stay there as a dark line when the head moves
            grown &= region | (labels != PART["head"])
        ys, xs = np.nonzero(grown)
        pad = seam + 3
        x0, y0 = max(0, xs.min() - pad), max(0, ys.min() - pad)
        x1, y1 = min(w, xs.max() + pad + 1), min(h, ys.max() + pad + 1)
        color = rgbf[y0:y1, x0:x1].copy()
        hid = hidden[y0:y1, x0:x1]
        if spec.name.startswith(("thigh", "shin")) and (under_arms[y0:y1, x0:x1] == i).any():
            # the shadow a hand resting on a leg casts beside it is relit first: it would stay as
            # the hand's dark outline around the filled place, and the fill would take its tone
            # (not the trunk's: beside a hanging arm its shading is the body turning away, its
            # folds went flat)
            lift_cast_shadow(color, hid, own[y0:y1, x0:x1] & (a[y0:y1, x0:x1] > 0.9),
                             max(2, int(round(SHADOW_REACH * max(h, w)))))
        if i in plain:
            # and the shade the hair or clothes lying over a plain arm cast on its edge beside them: the
            # arm carried it away as a dark line along its side once it rose out from under them, and
            # its piece under them, mirrored from its strip, doubled it
            cover = over_arms[i][y0:y1, x0:x1] & (labels[y0:y1, x0:x1] != i) & (labels[y0:y1, x0:x1] >= 0)
            arm_own = (labels[y0:y1, x0:x1] == i) & (a[y0:y1, x0:x1] > 0.9)
            if lift_cast_shadow(color, cover, arm_own, max(2, int(round(ARM_SHADE_REACH * max(h, w))))).any():
                relit[i] = (x0, y0, arm_own, color.copy())
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
                quad = torso_polygon(kp, radius[i], widen=0.0, body=True)
                cv2.fillConvexPoly(trunk, quad.round().astype(np.int32), 1)
                # and below the hips a skirt's or a dress's (the trunk's own pixels there): the skirt
                # under hands clasped at its waistband is filled with the skirt, not the top above
                # (the hips' line continued down a trunk's length, flaring by half the hips' width;
                # not a pair of trousers' top, which the thighs own below the hips' line)
                if skirt:
                    down = kp[KP["pelvis"], :2] - kp[KP["neck"], :2]
                    hr, hl = quad[2], quad[3]
                    flare = 0.5 * (hr - hl)
                    cv2.fillConvexPoly(trunk, np.array([hr, hl, hl + down - flare, hr + down + flare]).round().astype(np.int32), 1)
                inner = known & trunk[y0:y1, x0:x1].astype(bool)
                if inner.sum() > 100:
                    known = inner
            if not known.any():
                known = own[y0:y1, x0:x1] & ~hid
            fill_mask = (~known).astype(np.uint8)
            if known.any() and spec.name in ("torso", "thigh_l", "thigh_r", "shin_l", "shin_r"):
                off = np.array([x0, y0], np.float64)
                ends = ("neck", "pelvis") if spec.name == "torso" else (spec.a, spec.b)
                # the garment's own texture, patch by patch, bridging the band left out next to the
                # front part (an arm beside the trunk, a hand on a thigh's side); what an arm across
                # the trunk hides (a band across its axis, below the neck) and what no patch reaches
                # is filled garment by garment: which garment lies where is read across the body
                # first, then each is patched from its own pixels (patches copied from anywhere
                # across a whole band of the trunk break its garments' edges into blocks; a hand
                # over a thigh's axis is still patched: mirrored, its fill spans the hem and the
                # thigh as a pale hand-shaped patch)
                c8 = (color * 255).astype(np.uint8)
                axis = (kp[KP[ends[0]], :2] - off, kp[KP[ends[1]], :2] - off)
                across = np.zeros_like(hid)
                if spec.name == "torso":
                    line = np.zeros(hid.shape, np.uint8)
                    p0, p1 = axis[0] + 0.25 * (axis[1] - axis[0]), axis[1]
                    cv2.line(line, tuple(np.round(p0).astype(int)), tuple(np.round(p1).astype(int)), 1, 3)
                    comp, _ = connected_components(hid, structure=np.ones((3, 3), bool))
                    across = np.isin(comp, np.unique(comp[line.astype(bool) & hid]))
                beside = hid & ~across
                garments = None if spec.name == "torso" else two_garments(c8, hid, known)
                reached = np.zeros_like(hid)
                filled = c8
                take = hid
                if beside.any():
                    ring = cv2.dilate(beside.astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(bool)
                    target = beside | (ring & own[y0:y1, x0:x1] & ~known & ~across)
                    # a leg's hem under a hand is continued as a line at its own slant (not level
                    # across the leg), garment by garment: the shorts' patches above it, the bare
                    # thigh below (patched at the same height instead, the cuff's dark edge and the
                    # shadow between the legs were copied down over the thigh as a tab of denim)
                    # (read from all its solid pixels: the band next to the hand holds the hem's ends)
                    solid = own[y0:y1, x0:x1] & ~hid & (a[y0:y1, x0:x1] > 0.9)
                    # (a hem seen on too few lines beside the hand: the garments are laid out by
                    # walking across the leg from each hidden pixel instead)
                    if garments is not None:
                        hem = hem_line(c8, target, solid, axis, garments)
                        filled = fill_by_garment(c8, target, known, *axis, side=max(h, w), hem=hem, centres=garments)
                        reached = target.copy()
                        # (all of it is taken: the band beside the hand holds its shadow and soft edge)
                        take = hid | target
                    else:
                        filled, reached = exemplar_fill(c8, target, known, axis=axis, side=max(h, w))
                        # then voted over (Wexler 2007): the patches' seams and repeats go (a cuff's
                        # edge stacked into a barcode at anyone-3's thigh, the jacket's folds into
                        # vertical streaks at anyone-11's sides)
                        filled = refine_patches(filled, target & reached, known)
                rest = hid & ~reached
                edge = np.zeros_like(hid)
                if across.any():
                    # and the trunk's own pixels right beside an arm across it, left out of what the
                    # fill reads (the arm's soft edge and the shade along it): filled with it, or they
                    # stayed along the fill's edge as a pale line across raw_0's belly
                    edge = cv2.dilate(across.astype(np.uint8), np.ones((2 * band + 1, 2 * band + 1), np.uint8)).astype(bool)
                    edge &= own[y0:y1, x0:x1] & ~known & ~hid
                    rest |= edge
                if rest.any():
                    filled = fill_by_garment(filled, rest, known | (reached & hid), *axis, side=max(h, w))
                if edge.any():
                    # (only where the fill is that pixel's garment: where the garments' layout puts
                    # another there, anyone-1's dark corset beside her white cuff, the pixel stays)
                    de = np.linalg.norm(cv2.cvtColor(filled, cv2.COLOR_RGB2LAB).astype(np.float32)
                                        - cv2.cvtColor(c8, cv2.COLOR_RGB2LAB).astype(np.float32), axis=-1)
                    edge &= de <= EDGE_REFILL_DE
                    take = take | edge
                    synth[y0:y1, x0:x1][edge] = 2
                if spec.name != "torso":
                    # a leg's fill takes the tone of the leg's own pixels around it (of each garment
                    # it spans; bare skin filled smooth)
                    # (and of the trunk's beside it: the shorts' top above a hand at the hip is the
                    # trunk's, and a fill lit like the thigh's front stepped from it at the hips' line)
                    trunk_px = (labels[y0:y1, x0:x1] == PART["torso"]) & (a[y0:y1, x0:x1] > 0.9) & ~hidden[y0:y1, x0:x1]
                    fill_plain(filled, take, known, garments, reach=2 * band, border=trunk_px)
                filled = filled.astype(np.float32) / 255
                color[take] = filled[take]
            elif known.any():
                filled = cv2.inpaint((color * 255).astype(np.uint8), fill_mask, 5, cv2.INPAINT_TELEA).astype(np.float32) / 255
                color[hid] = filled[hid]
        if under_skirt is not None and under_skirt.any():
            _skin_up_under_skirt(color, under_skirt[y0:y1, x0:x1], own[y0:y1, x0:x1] & (a[y0:y1, x0:x1] > 0.95),
                                 labels[y0:y1, x0:x1] == PART["torso"], max(3, int(0.008 * max(h, w))))
        pa = a[y0:y1, x0:x1] * grown[y0:y1, x0:x1]
        pa = np.where(region[y0:y1, x0:x1], a[y0:y1, x0:x1], pa)
        if i in front_set and spec.name != "head":
            _own_colour_at_seams(color, pa, region[y0:y1, x0:x1], grown[y0:y1, x0:x1],
                                 np.isin(labels[y0:y1, x0:x1], [j for j in range(len(PARTS)) if j not in front_set]))
        elif skirt and spec.name.startswith("thigh"):
            # (and a thigh's seam into the skirt it goes on under: the skirt's colour there would show
            # as a line beside the leg where it swings out from under the skirt)
            _own_colour_at_seams(color, pa, region[y0:y1, x0:x1], grown[y0:y1, x0:x1],
                                 (labels[y0:y1, x0:x1] == PART["torso"]) & ~region[y0:y1, x0:x1])
        # where this part is hidden behind a front part, it is solid (the inpainted torso is opaque)
        pa = np.where(hid, 1.0, pa).astype(np.float32)
        pa[trim[y0:y1, x0:x1]] = 0.0
        if not _own_alpha(alpha):
            # (an image with its own transparency holds the figure's colours already: never mixed)
            _unmix_silhouette(color, pa, a[y0:y1, x0:x1], background[y0:y1, x0:x1], (pa > 0.02) & ~hid,
                              region[y0:y1, x0:x1] & (a[y0:y1, x0:x1] >= 0.98), max(1, int(round(UNMIX_EDGE * max(h, w)))))
        if fringe is not None:
            # and its fringe past the matte, at the coverage unmixed from the plate there
            fr = np.where(fringe.owner[y0:y1, x0:x1] == i, fringe.alpha[y0:y1, x0:x1], 0.0)
            add = fr > pa
            color[add] = fringe.colour[y0:y1, x0:x1][add]
            pa = np.where(add, fr, pa).astype(np.float32)
        tex = (np.dstack([color * pa[..., None], pa]) * 255).round().clip(0, 255).astype(np.uint8)
        shape = grown[y0:y1, x0:x1] | (pa > 0.02)
        if y1 == h and not (spec.rigid and spec.name != "head"):
            # (not a hand or foot: a shoe's sole on the edge would trail streaks below a lifted foot)
            tex, shape = _past_bottom_edge(tex, shape, h)
        max_area = max(60.0, (torso_len * 0.12) ** 2)
        dense, spacing = None, 0.0
        if spec.name in ("head", "torso"):
            # small triangles where the neck blends the head's transform with the trunk's
            crop = blend_zone[y0:y0 + shape.shape[0], x0:x0 + shape.shape[1]]
            dense = np.zeros(shape.shape, bool)
            dense[:crop.shape[0], :crop.shape[1]] = crop
            # (over the part and a little past its outline: none in the empty corners of its hull)
            dense &= cv2.dilate(shape.astype(np.uint8), np.ones((4 * step + 1, 4 * step + 1), np.uint8)).astype(bool)
            spacing = float(step)
        verts, tris = hull_mesh(shape, pad=2, max_area=max_area, dense=dense, spacing=spacing, origin=(x0, y0))
        verts += np.array([x0, y0], np.float32)
        bones, weights = skin_weights(spec, verts, kp, present, radius, head_field)
        parts.append(Part(spec.name, tex, (int(x0), int(y0)), verts, tris, bones, weights))
    # the arms' pieces under the clothes lying over them (drawn behind the trunk)
    under: list[Part] = []
    built = {p.name for p in parts}
    for j, over in sorted(over_arms.items()):
        if PARTS[j].name not in built:
            continue
        src = rgbf
        if j in relit:
            # (mirrored from the arm as it is drawn: its shade beside the clothes relit)
            rx, ry, m, c = relit[j]
            src = rgbf.copy()
            src[ry:ry + m.shape[0], rx:rx + m.shape[1]][m] = c[m]
        got = _arm_under_cloth(src, a, labels, j, over, kp, mirror=j in plain)
        if got is None:
            continue
        hid, fill = got
        # overlapping the arm's own pixels by the seam's width (drawn behind them): no gap opens
        seam = max(2, int(0.003 * max(h, w)))
        region = hid | (dilate_disc(hid, 2 * seam + 1) & (labels == j))
        ys, xs = np.nonzero(region)
        x0, y0 = max(0, xs.min() - 3), max(0, ys.min() - 3)
        x1, y1 = min(w, xs.max() + 4), min(h, ys.max() + 4)
        shape = region[y0:y1, x0:x1]
        # (a soft edge one pixel wide where the piece ends inside the clothes)
        pa = np.maximum(cv2.blur(shape.astype(np.float32), (3, 3)), cv2.erode(shape.astype(np.uint8), np.ones((3, 3), np.uint8)))
        pa = np.where(shape, pa, 0.0).astype(np.float32)
        colours = rgbf[y0:y1, x0:x1].copy()
        hy, hx = np.nonzero(hid)
        colours[hy - y0, hx - x0] = fill
        tex = (np.dstack([colours * pa[..., None], pa]) * 255).round().clip(0, 255).astype(np.uint8)
        verts, tris = hull_mesh(shape, pad=2, max_area=max(60.0, (torso_len * 0.12) ** 2))
        verts += np.array([x0, y0], np.float32)
        bones, weights = skin_weights(PARTS[j], verts, kp, present, radius, head_field)
        under.append(Part(PARTS[j].name, tex, (int(x0), int(y0)), verts, tris, bones, weights))
    # drop skin references to parts that did not make it
    kept = {PART[p.name] for p in parts} | {TORSO_LOWER}
    for p in parts + under:
        bad = ~np.isin(p.bones, list(kept))
        if bad.any():
            p.weights[bad] = 0
            p.bones[bad] = PART[p.name]
            p.weights /= np.maximum(p.weights.sum(axis=1, keepdims=True), 1e-6)
    return Rig(image=np.ascontiguousarray(rgb), alpha=a, background=background, rest=kp, present=present,
               radius=radius, parts=parts, notes=notes, labels=labels.astype(np.int16), filled=synth, under=under,
               face=None if face is None or not np.isfinite(face[:, :3]).all() else np.ascontiguousarray(face[:, :3], np.float32))
