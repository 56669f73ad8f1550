"""The face's expressions on the puppet: the head's texture warped by its face landmarks.

The head moves as one rigid cut-out; inside it, the face is redrawn each frame by a piecewise-affine
warp: the face mesh's 468 landmarks and a fixed ring round the face, Delaunay-triangulated, each
triangle mapped by the affine map its corners give (piecewise linear mapping functions, Goshtasby
1986, the warp of active appearance models, Cootes, Edwards & Taylor 2001). The ring stays put, so the
warp is continuous with the rest of the head, its outline and its hair. A face turned in depth
(landmarks with depth) is drawn far triangles first (the painter's algorithm), so the nose covers
the cheek behind it, and triangles turned away from the viewer are left out. Where a closed mouth opens,
its inner-lip polygon shows the mouth's inside, which the image does not have: upper teeth under
the upper lip in the middle (a warm off-white as light as the eyes' whites), the lips' darkest colour
below them and in the corners, darker towards the middle.
"""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion.motion.face import FACE_OVAL, INNER_LIPS, MESH, OUTER_LIPS, eye_distance
from steadymotion.render.puppet.renderer import _signed_area, _triangle_maps

#: The fixed ring round the face, as a scale of the face's outline about its centre.
RING = 1.3
#: The image's mouth counts as closed when its lips part by less than this share of the eyes'
#: distance; only then is an opening drawn as the mouth's inside (an open mouth's own inside, teeth
#: and all, is stretched by the warp instead).
CLOSED_MOUTH = 0.08
#: Triangles whose corners all moved less than this (pixels) are not resampled.
STILL = 0.5
#: An opening shows its inside fully from this share of the eyes' distance (fading in from none).
OPEN_FULL = 0.06


#: The eyes' contours (MediaPipe face mesh), for the whites' colour.
EYES = ((33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
        (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382))
#: The upper inner lip, corner to corner.
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
#: Of an open mouth's height below the upper lip, the upper teeth show over this much (fading out
#: over the second value).
TEETH = (0.4, 0.65)
#: The mouth's inside: the lips' darkest quarter times this, darker towards the middle by
#: :data:`INSIDE_DEPTH`; teeth show in openings of at least :data:`TEETH_FROM` master-image pixels
#: (fully from twice that: a small face's mouth reads as a dark slit, not a striped one).
INSIDE_SHADE = 0.7
INSIDE_DEPTH = 0.35
TEETH_FROM = 3.0
#: ... and across the mouth out to this share of its half-width from the middle (fading out over
#: the second value: the corners show the mouth's dark inside).
TEETH_SIDE = (0.5, 0.85)
#: Teeth are at least this much lighter than the face's skin (luminance).
TEETH_OVER_SKIN = 1.45


def _teeth_colour(image: np.ndarray, face: np.ndarray) -> np.ndarray:
    """The colour drawn for the upper teeth of a mouth opened from a closed one: a warm off-white as
    light as the eyes' whites (their lightest third inside the eyes' contours) and at least
    :data:`TEETH_OVER_SKIN` times the face skin's luminance (a face in shade has shaded eyes too),
    in the mouth's shade (0.9)."""
    lum_w = np.array([0.299, 0.587, 0.114], np.float32)
    mask = np.zeros(image.shape[:2], np.uint8)
    for eye in EYES:
        cv2.fillPoly(mask, [np.round(face[list(eye)]).astype(np.int32)], 1)
    px = image[mask > 0].astype(np.float32)
    skin = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(skin, [np.round(face[list(FACE_OVAL)]).astype(np.int32)], 1)
    skin_l = float(np.median(image[skin > 0].astype(np.float32) @ lum_w)) if (skin > 0).any() else 180.0
    white_l = 0.0
    if len(px) >= 10:
        lum = px @ lum_w
        white_l = float(np.median(lum[lum >= np.percentile(lum, 67)]))
    tone = np.array([1.0, 0.96, 0.88], np.float32)
    return tone / float(tone @ lum_w) * min(max(white_l, TEETH_OVER_SKIN * skin_l), 230.0) * 0.9


class FaceWarp:
    """Redraws a rig's head texture with the face landmarks moved; one per renderer.

    Parameters
    ----------
    texture : ndarray, (h, w, 4) uint8
        The head part's premultiplied RGBA texture.
    box : (x0, y0)
        The texture's top-left corner in master-image pixels.
    face : ndarray, (468+, 2)
        The image's face landmarks in master-image pixels.
    image : ndarray, (H, W, 3) uint8
        The master image (the lips' colour for the mouth's inside).
    """

    def __init__(self, texture: np.ndarray, box: tuple[int, int], face: np.ndarray, image: np.ndarray) -> None:
        from scipy.spatial import Delaunay

        self.texture = texture
        self.box = np.asarray(box, np.float64)
        rest = np.asarray(face, np.float64)[:MESH, :2]
        self.rest = rest
        full = np.asarray(face, np.float64)[:MESH]
        self.depth = full[:, 2] if full.shape[1] > 2 else np.zeros(MESH)
        oval = rest[list(FACE_OVAL)]
        c = oval.mean(axis=0)
        self.ring = c + (oval - c) * RING
        self.src = np.vstack([rest, self.ring]) - self.box
        self.tri = Delaunay(self.src).simplices.astype(np.int32)
        h, w = texture.shape[:2]
        x0, y0 = np.floor(self.ring.min(axis=0) - self.box).astype(int)
        x1, y1 = np.ceil(self.ring.max(axis=0) - self.box).astype(int) + 1
        self.region = (max(0, x0), max(0, y0), min(w, x1), min(h, y1))
        self.iod = eye_distance(rest)
        # the face's down direction (forehead to chin): openings are measured along it, signed
        down = rest[152] - rest[10]
        self.down = down / max(float(np.hypot(*down)), 1e-6)
        self.rest_open = float((rest[14] - rest[13]) @ self.down)
        # the mouth's inside: the lips' darkest quarter, darker still
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(rest[list(OUTER_LIPS)]).astype(np.int32)], 1)
        lips = image[mask > 0].astype(np.float32)
        if len(lips) >= 8:
            lum = lips @ np.array([0.299, 0.587, 0.114], np.float32)
            dark = lips[lum <= np.percentile(lum, 25)]
            self.inside = np.median(dark, axis=0) * INSIDE_SHADE
        else:
            self.inside = np.array([40.0, 20.0, 20.0], np.float32)
        self.teeth = _teeth_colour(image, rest)

    @property
    def usable(self) -> bool:
        x0, y0, x1, y1 = self.region
        return x1 - x0 >= 8 and y1 - y0 >= 8 and self.iod >= 4.0

    def apply(self, face: np.ndarray) -> np.ndarray:
        """The head texture with the face's landmarks at ``face`` ((468+, 2|3), master-image pixels;
        depth scaled like x orders the triangles)."""
        x0, y0, x1, y1 = self.region
        face = np.asarray(face, np.float64)[:MESH]
        dst = np.vstack([face[:, :2], self.ring]) - self.box
        if np.abs(dst - self.src).max() < 0.05:
            return self.texture
        off = np.array([x0, y0], np.float64)
        S, D = self.src[self.tri], dst[self.tri] - off
        keep = (_signed_area(S) * _signed_area(D)) > 1e-6
        # triangles that barely moved keep the texture's own pixels (an identity map at whole pixels
        # copies them exactly; a resampling of its own would blur the eyes' and lips' detail)
        moved = np.abs(dst - self.src).max(axis=1)[self.tri].max(axis=1) >= STILL
        keep &= moved
        if not keep.any():
            return self.texture
        # only the box of the triangles that moved is redrawn (a talking mouth: a tenth of the face)
        corners = np.concatenate([D[keep], S[keep] - off]).reshape(-1, 2)
        bx0, by0 = np.maximum(np.floor(corners.min(axis=0)).astype(int) - 1, 0)
        bx1, by1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 2, [x1 - x0, y1 - y0])
        if bx1 <= bx0 or by1 <= by0:
            return self.texture
        D = D - np.array([bx0, by0], np.float64)
        bw, bh = bx1 - bx0, by1 - by0
        ids = np.zeros((bh, bw), np.int32)
        shift = 4
        pts = np.round(D * (1 << shift)).astype(np.int32)
        z = np.r_[face[:, 2] if face.shape[1] > 2 else self.depth, self.depth[list(FACE_OVAL)]][self.tri].mean(axis=1)
        drawn = np.flatnonzero(keep)
        for k in drawn[np.argsort(-z[drawn], kind="stable")]:
            cv2.fillConvexPoly(ids, pts[k], int(k) + 1, lineType=cv2.LINE_8, shift=shift)
        # per triangle, the affine map from its place in the box to the texture
        maps, _ = _triangle_maps(D, S)
        A, t = maps[:, :, :2].astype(np.float32), maps[:, :, 2].astype(np.float32)
        gy, gx = np.mgrid[0:bh, 0:bw].astype(np.float32)
        k = ids - 1
        on = k >= 0
        kk = np.where(on, k, 0)
        ox, oy = np.float32(x0 + bx0), np.float32(y0 + by0)
        mx = np.where(on, A[kk, 0, 0] * gx + A[kk, 0, 1] * gy + t[kk, 0], gx + ox)
        my = np.where(on, A[kk, 1, 0] * gx + A[kk, 1, 1] * gy + t[kk, 1], gy + oy)
        out = self.texture.copy()
        out[y0 + by0:y0 + by1, x0 + bx0:x0 + bx1] = cv2.remap(self.texture, mx, my, cv2.INTER_LINEAR,
                                                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        self._mouth(out, dst)
        return out

    def _mouth(self, out: np.ndarray, dst: np.ndarray) -> None:
        """Where a closed mouth opens, its inside shows in the inner-lip polygon."""
        if self.rest_open >= CLOSED_MOUTH * self.iod:
            return
        opening = float((dst[14] - dst[13]) @ self.down) - max(self.rest_open, 0.0)
        if opening <= 0.01 * self.iod:
            return
        h, w = out.shape[:2]
        poly = dst[list(INNER_LIPS)]
        x0, y0 = np.maximum(np.floor(poly.min(axis=0)).astype(int) - 2, 0)
        x1, y1 = np.minimum(np.ceil(poly.max(axis=0)).astype(int) + 3, [w, h])
        if x1 <= x0 or y1 <= y0:
            return
        m = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
        if not m.any():
            return
        # the upper teeth under the upper lip, the dark inside below them, darker towards the middle
        # and the corners (the distance from the lips, over the opening's half-height)
        inner = cv2.distanceTransform((m > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
        depth = np.clip(inner / max(0.5 * opening, 1.0), 0.0, 1.0)
        across = np.array([-self.down[1], self.down[0]])
        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        u = gx * across[0] + gy * across[1]
        v = gx * self.down[0] + gy * self.down[1]
        up = dst[list(UPPER_INNER)]
        ua, va = up @ across, up @ self.down
        o = np.argsort(ua)
        below = (v - np.interp(u, ua[o], va[o])) / max(opening, 1.0)
        # (right under the upper lip, and in the middle: the mouth's corners stay dark)
        c0, c1 = float(dst[78] @ across), float(dst[308] @ across)
        side = np.abs(u - 0.5 * (c0 + c1)) / max(0.5 * abs(c1 - c0), 1.0)
        teeth = (1.0 - np.clip((below - TEETH[0]) / (TEETH[1] - TEETH[0]), 0.0, 1.0))
        teeth *= 1.0 - np.clip((side - TEETH_SIDE[0]) / (TEETH_SIDE[1] - TEETH_SIDE[0]), 0.0, 1.0)
        teeth *= float(np.clip(opening / TEETH_FROM - 1.0, 0.0, 1.0))
        dark = self.inside[None, None, :] * (1.0 - INSIDE_DEPTH * depth[..., None])
        colour = teeth[..., None] * self.teeth[None, None, :] * (0.75 + 0.25 * depth[..., None]) + (1 - teeth[..., None]) * dark
        wgt = (m * 0.9 * min(1.0, opening / (OPEN_FULL * self.iod)))[..., None]
        region = out[y0:y1, x0:x1].astype(np.float32)
        a = region[..., 3:4] / 255.0
        region[..., :3] = region[..., :3] * (1 - wgt) + colour * a * wgt
        out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
