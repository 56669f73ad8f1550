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

The eyes are drawn as eyeballs behind the lids (:class:`Eyeball`): inside each eye's opening, the
white of the eye (the image's own, what the iris hid filled from it) moves rigidly with the eye's
corners, and the iris (its parts the lids hid completed by symmetry) sits where the plan's gaze puts
it; the lids close over them in a blink instead of squeezing the iris flat.
"""

from __future__ import annotations

import cv2
import numpy as np

from steadymotion.motion.face import (EYE_CORNERS, EYES, FACE_OVAL, INNER_LIPS, IRISES, MESH, MESH_IRISES, OUTER_LIPS,
                                      affine_fit, eye_distance)
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


#: An eye narrower than this (master-image pixels) or with an iris of a smaller radius keeps its
#: iris where the mesh's warp puts it (its gaze would not show).
EYE_MIN_WIDTH, IRIS_MIN_RADIUS = 10.0, 1.5
#: A pixel of the iris's disc is the iris's when it is farther from the white than these shares
#: of the way to the iris's body in lightness and in colour (at a half of the Lab distance, a blue
#: iris's light outer ring was left on the white and stayed behind as a ring when the iris moved;
#: a white's own tint varies across it by a third of a blue iris's colour).
IRIS_FROM_WHITE = (0.35, 0.6)
#: The iris's radius in the picture is at most this many times the face mesh's.
IRIS_GROWTH = 1.5
#: An eye's box reaches this share of its width beyond its contour and its iris (where the iris
#: is filled in from the white round it).
EYEBALL_MARGIN = 0.35
#: The lids' margins (their lashes, the waterline) reach this many pixels inside the mesh's eye
#: contour: the eyeball shows inside them.
LID_MARGIN = 1
#: An eye whose iris the plan moves within it by less than this many pixels (its gaze) is drawn as
#: the warp draws it; by more, as an eyeball (faded in between: the eyeball invents what the lids
#: hide, which an eye looking ahead need not show).
GAZE_IN = 0.5
#: The iris's rim within this share of the eye's width of the lids' margins (at least a pixel
#: beyond :data:`LID_MARGIN`) is taken for the lids' (their lines and shade lie on it; a drawn lid
#: line rode on a moved iris) and drawn, as the parts the lids hide, from the iris's own pixels
#: round it (a Gaussian weighting :data:`IRIS_FILL` of its radius wide, sigma), else as its ring
#: about the centre is; faded into the image's own pixels over :data:`RIM_FEATHER` of the eye's
#: width (a pixel at least; a small eye's iris, a dozen pixels high, kept its own pixels only in
#: the middle and lost its pupil's edge and its glint).
IRIS_RIM, IRIS_FILL, RIM_FEATHER = 0.04, 0.15, 0.03
#: The white under the iris is filled from the white beside it by a Gaussian weighting this share
#: of the eye's width wide (sigma), its lighter pixels counted most (the darkest fifth at
#: :data:`LIGHT_FLOOR`: the corners' pink and the lashes' shade tinted the fill brown).
WHITE_FILL, LIGHT_FLOOR = 0.12, 0.3
#: The white the eyeball's texture invents is shaded towards the lids as the image's white is
#: (its luminance beside the lids over its luminance away from them, held to this range: an eye
#: showing little white has little to read it from, and the lids always shade it), over this share
#: of the eye's width from them.
LID_SHADE, LID_SHADE_REACH = (0.55, 0.8), 0.1
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

        self.eyes: list[Eyeball] = []
        full = np.asarray(face, np.float64)
        if full.shape[0] >= MESH_IRISES and np.isfinite(full[:MESH_IRISES, :2]).all():
            for e in range(len(EYES)):
                eye = Eyeball(texture, full[:MESH_IRISES, :2] - self.box, e)
                if eye.usable:
                    self.eyes.append(eye)
        # the head's texture with each eye's white filled in under its iris (what the warp draws
        # behind a moved iris), and where it was filled
        self.plated, self.made = texture, None
        if self.eyes:
            self.plated, self.made = texture.copy(), np.zeros(texture.shape[:2], np.float32)
            for eye in self.eyes:
                ex0, ey0 = eye.origin.astype(int)
                eh, ew = eye.plate_made.shape
                fill = eye.plate_made > 0
                self.plated[ey0:ey0 + eh, ex0:ex0 + ew][fill] = eye.plate[fill]
                self.made[ey0:ey0 + eh, ex0:ex0 + ew] = np.maximum(self.made[ey0:ey0 + eh, ex0:ex0 + ew], eye.plate_made)
                eye.plate = None

    @property
    def usable(self) -> bool:
        x0, y0, x1, y1 = self.region
        return x1 - x0 >= 8 and y1 - y0 >= 8 and self.iod >= 4.0

    def apply(self, face: np.ndarray) -> np.ndarray:
        """The head texture with the face's landmarks at ``face`` ((468+, 2|3), master-image pixels;
        depth scaled like x orders the triangles; with the irises, (478, 2|3), the eyes are drawn as
        eyeballs looking where they put them)."""
        full = np.asarray(face, np.float64)
        eyes = self.eyes if full.shape[0] >= MESH_IRISES else []
        eye_dst = full[:MESH_IRISES, :2] - self.box if eyes else None
        eyes = [e for e in eyes if e.moved(eye_dst)]
        out, maps = self._warp(full[:MESH])
        if eyes:
            out = out.copy() if out is self.texture else out
            for e in eyes:
                e.draw(out, eye_dst, self.plated, self.made, lambda x0, y0, gx, gy: self._sampled(x0, y0, gx, gy, maps))
        return out

    @staticmethod
    def _sampled(x0: int, y0: int, gx: np.ndarray, gy: np.ndarray, maps) -> tuple[np.ndarray, np.ndarray]:
        """Where the warp samples the texture for each pixel of a box of the texture (its corner
        ``x0, y0`` and its pixels' own coordinates ``gx, gy``, float32): ``maps`` from :meth:`_warp`
        (its box's origin and maps), the pixel itself outside it."""
        gx, gy = gx.copy(), gy.copy()
        if maps is not None:
            y1, x1 = y0 + gx.shape[0], x0 + gx.shape[1]
            ox, oy, mx, my = maps
            ax0, ay0 = max(x0, ox), max(y0, oy)
            ax1, ay1 = min(x1, ox + mx.shape[1]), min(y1, oy + mx.shape[0])
            if ax1 > ax0 and ay1 > ay0:
                gx[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] = mx[ay0 - oy:ay1 - oy, ax0 - ox:ax1 - ox]
                gy[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] = my[ay0 - oy:ay1 - oy, ax0 - ox:ax1 - ox]
        return gx, gy

    def _warp(self, face: np.ndarray) -> tuple[np.ndarray, tuple | None]:
        """The head texture with the mesh's triangles warped to ``face`` ((468, 2|3)) and the mouth's
        inside drawn (the texture itself where nothing moved), and the warp's maps: the texture's
        pixel each pixel of a box samples, ``(x0, y0, map_x, map_y)``, or None."""
        x0, y0, x1, y1 = self.region
        dst = np.vstack([face[:, :2], self.ring]) - self.box
        if np.abs(dst - self.src).max() < 0.05:
            return self.texture, None
        off = np.array([x0, y0], np.float64)
        S, D = self.src[self.tri], dst[self.tri] - off
        keep = (_signed_area(S) * _signed_area(D)) > 1e-6
        # triangles that barely moved keep the texture's own pixels (an identity map at whole pixels
        # copies them exactly; a resampling of its own would blur the eyes' and lips' detail)
        moved = np.abs(dst - self.src).max(axis=1)[self.tri].max(axis=1) >= STILL
        keep &= moved
        if not keep.any():
            return self.texture, None
        # only the box of the triangles that moved is redrawn (a talking mouth: a tenth of the face)
        corners = np.concatenate([D[keep], S[keep] - off]).reshape(-1, 2)
        bx0, by0 = np.maximum(np.floor(corners.min(axis=0)).astype(int) - 1, 0)
        bx1, by1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 2, [x1 - x0, y1 - y0])
        if bx1 <= bx0 or by1 <= by0:
            return self.texture, None
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
        return out, (int(x0 + bx0), int(y0 + by0), mx, my)

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


def _disc(shape: tuple[int, int], c: np.ndarray) -> np.ndarray:
    """Each pixel's distance from point ``c`` over an array of ``shape``."""
    gy, gx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    return np.hypot(gx - np.float32(c[0]), gy - np.float32(c[1]))


def _opening(poly: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The eye's opening over an array of ``shape`` (polygon ``poly``, (n, 2), the array's pixels):
    where its eyeball shows (anti-aliased, less :data:`LID_MARGIN` pixels all round, a grey
    erosion: the lids' margins and lashes are the warp's) and each pixel's distance inside it."""
    m = np.zeros(shape, np.float32)
    cv2.fillPoly(m, [np.round(poly * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    k = 2 * LID_MARGIN + 1
    inside = cv2.distanceTransform((m >= 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    return cv2.erode(m, np.ones((k, k), np.uint8)), inside


def _fill_smooth(rgb: np.ndarray, weight: np.ndarray, sigma: float, far: np.ndarray, prior: float = 0.05) -> np.ndarray:
    """``rgb`` with every pixel replaced by the Gaussian-weighted mean of the pixels round it that
    ``weight`` (0-1) counts, drawn towards the colour ``far`` (one, or one per pixel) where they are
    few (normalised convolution with a prior, Knutsson & Westin 1993): a smooth fill that meets the
    counted pixels' colours beside them and is ``far`` away from them (the white under an iris, the
    iris under the lids)."""
    k = weight.astype(np.float32)
    wgt = cv2.GaussianBlur(k, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    acc = cv2.GaussianBlur(rgb.astype(np.float32) * k[..., None], (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    out = (acc + prior * np.asarray(far, np.float32)) / (wgt + prior)[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


class Eyeball:
    """One eye of a :class:`FaceWarp`'s head texture, drawn as an eyeball behind its lids.

    From the image: the *iris*, the pixels of its disc not near the white's colour (its middle
    always), with the parts the lids hide and its rim beside them drawn from
    its own pixels round them (:meth:`_iris_texture`); the *plate*, the eye's box with the white
    filled in under the iris from the white beside it (normalised convolution, its lighter pixels
    counted most). Each frame where the plan moves the iris within the eye (its gaze), inside the
    eye's opening (its contour's polygon where the warp puts it, a pixel inside the lids' margins)
    the white is the face mesh's own warp of the texture with the plate in it (so it meets the lids
    as the image's eye does), what was filled shaded towards the lids as the image's white is, and
    the iris sits where the eye's motion (its contour's affine fit) takes it and the gaze moves it
    on, stretched with the opening: the eye layers of a 2D avatar's rig, an eye-region redirection
    (DeepWarp, Ganin et al. 2016) by layers instead of a learnt flow. An eye that does not look
    aside is left as the warp draws it.
    """

    def __init__(self, texture: np.ndarray, face: np.ndarray, eye: int) -> None:
        self.contour = list(EYES[eye])
        self.corners = list(EYE_CORNERS[eye])
        self.centre, ring = IRISES[eye][0], list(IRISES[eye][1])
        self.watched = self.corners + self.contour + [self.centre]
        self.rest = face[self.watched].copy()  # the corners, the contour, the iris centre last
        p, q = face[self.corners[0]], face[self.corners[1]]
        width = float(np.hypot(*(q - p)))
        c = face[self.centre]
        r = float(np.mean(np.linalg.norm(face[ring] - c, axis=1)))
        self.r = r
        self.usable = False
        poly = face[self.contour]
        if (width < EYE_MIN_WIDTH or r < IRIS_MIN_RADIUS
                or cv2.pointPolygonTest(poly.astype(np.float32).reshape(-1, 1, 2), (float(c[0]), float(c[1])), False) <= 0):
            return
        h, w = texture.shape[:2]
        m = EYEBALL_MARGIN * width + r
        x0, y0 = np.maximum(np.floor(np.minimum(poly.min(axis=0), c - r) - m).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(np.maximum(poly.max(axis=0), c + r) + m).astype(int) + 1, [w, h])
        if x1 - x0 < 4 or y1 - y0 < 4:
            return
        self.origin = np.array([x0, y0], np.float64)
        crop = texture[y0:y1, x0:x1]
        shape = crop.shape[:2]
        shown, depth = _opening(poly - self.origin, shape)
        kept = shown > 0
        inner = cv2.erode(kept.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        dist = _disc(shape, c - self.origin)
        found = self._iris_pixels(crop, inner, dist, r)
        if found is None:
            return
        iris, r = found
        self.r = r
        white = inner & ~(cv2.dilate(iris.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        if white.sum() < 6:
            return  # no white of the eye to show the iris moving over
        lum = crop[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        done = self._iris_texture(crop, lum, iris, depth, dist, r, width)
        if done is None:
            return
        self.iris, self.alpha, self.iris_made = done
        # the white filled in under the iris (inside the lids' margins: the warp draws the lids,
        # lashes and margins where the lids go, so nothing beyond them shows), its lighter pixels
        # counted most
        self.plate = crop.copy()
        under = iris & (depth > 0)
        lo, hi = np.percentile(lum[white], [20, 80])
        light = np.clip((lum - lo) / max(hi - lo, 1.0), LIGHT_FLOOR, 1.0) * (kept & ~iris)
        tone = np.median(crop[white & (lum >= np.median(lum[white]))][:, :3], axis=0)
        self.plate[under, :3] = _fill_smooth(crop[..., :3], light, WHITE_FILL * width, tone)[under]
        self.plate[under, 3] = 255
        self.plate_made = under.astype(np.float32)
        # how much darker the image's white is beside the lids (the near third of its pixels
        # against the far third, by their depth inside the opening)
        d = depth[white]
        near, far = d <= np.percentile(d, 33), d >= np.percentile(d, 67)
        ratio = float(np.median(lum[white][near])) / max(float(np.median(lum[white][far])), 1.0)
        self.shade = float(np.clip(ratio, *LID_SHADE))
        self.width = width
        self.usable = True

    @staticmethod
    def _iris_texture(crop: np.ndarray, lum: np.ndarray, iris: np.ndarray, depth: np.ndarray, dist: np.ndarray,
                      r: float, width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The iris drawn over the white: its texture (the eye's box, RGBA), its opacity and which
        of its pixels are invented (0-1). The parts of its disc the lids hide, and its rim beside
        them (the lids' lines and shade lie on it there, which stay with the lids:
        :data:`IRIS_RIM`), are drawn from the iris's own pixels well inside the lids round them,
        else as their ring about the centre is (the median of its pixels, less the glints: an
        iris's pattern is radial; reflections across its diameters copied its highlights over it),
        faded into the image's own pixels inside the rim. None without enough iris to read."""
        rim = max(LID_MARGIN + 1.0, IRIS_RIM * width)
        seen = (depth >= rim) & (dist <= r) & iris
        if seen.sum() < 4:
            return None
        dull = seen & (lum <= np.percentile(lum[seen], 85))
        ring_of = np.floor(dist).astype(int)
        rings = np.arange(int(np.ceil(r + 1.5)))
        colour = np.full((len(rings), 3), np.nan, np.float32)
        for k in rings:
            sel = dull & (ring_of == k)
            if sel.sum() >= 2:
                colour[k] = np.median(crop[sel][:, :3].astype(np.float32), axis=0)
        have = np.flatnonzero(np.isfinite(colour[:, 0]))
        if not len(have):
            return None
        colour = colour[have[np.abs(have[None, :] - rings[:, None]).argmin(axis=1)]]
        ringed = _fill_smooth(crop[..., :3], dull, max(1.0, IRIS_FILL * r), colour[np.minimum(ring_of, len(rings) - 1)])
        feather = max(1.0, RIM_FEATHER * width)
        ys, xs = np.nonzero((depth < rim + feather) & (dist <= r + 0.5))
        own = np.clip((depth[ys, xs] - rim) / feather, 0.0, 1.0)
        tex = crop.copy()
        tex[ys, xs, :3] = np.clip(own[:, None] * crop[ys, xs, :3] + (1.0 - own[:, None]) * ringed[ys, xs] + 0.5,
                                  0, 255).astype(np.uint8)
        tex[ys, xs, 3] = 255
        alpha = (iris & (depth >= rim)).astype(np.float32)
        alpha[ys, xs] = np.maximum(alpha[ys, xs], np.where(depth[ys, xs] < rim, 1.0, iris[ys, xs]))
        made = np.zeros(crop.shape[:2], np.float32)
        made[ys, xs] = 1.0 - own
        return tex, alpha, made

    @staticmethod
    def _iris_pixels(crop: np.ndarray, inner: np.ndarray, dist: np.ndarray,
                     r: float) -> tuple[np.ndarray, float] | None:
        """The iris's pixels in the eye's box and its radius in the picture.

        A pixel looks like the iris where it is farther from the white (CIELAB, the median of the
        opening beyond the disc) than :data:`IRIS_FROM_WHITE` of the way to the iris's body (its
        median between half and nine tenths of the radius) in lightness or in colour (an a*b*
        distance; a blue iris's light rim is as light as the white, a brown iris as grey as a
        shaded white). Its radius is the mesh's, grown to where the iris ends along the row through its
        centre on its nearer side (the iris model assumes a human iris's size; a cartoon's is
        larger, and the outer ring it left on the white stayed behind as a ring when the iris
        moved), at most :data:`IRIS_GROWTH` times. Its pixels: those looking like it within the
        disc (and a pixel and a half beyond) joined to its middle, all of its middle (a glint in the
        pupil stays in it), what they enclose, grown by a pixel. None where the white and the iris
        cannot be told apart (less than 12 units between them) or either is too small to read."""
        lab = cv2.cvtColor(np.ascontiguousarray(crop[..., :3]), cv2.COLOR_RGB2LAB).astype(np.float32)
        middle = dist <= 0.7 * r
        body = inner & (dist > 0.5 * r) & (dist <= 0.9 * r)
        white = inner & (dist > r + 1.5)
        if (inner & middle).sum() < 4 or white.sum() < 6:
            return None
        if body.sum() < 4:
            body = inner & middle
        lw, li = np.median(lab[white], axis=0), np.median(lab[body], axis=0)
        if float(np.linalg.norm(li - lw)) < 12.0:
            return None
        # how far along the way from the white to the iris each pixel is, in lightness or in colour
        # (whichever tells them apart: a colour too close to the white's is left out)
        dl, dab = abs(float(li[0] - lw[0])), float(np.linalg.norm(li[1:] - lw[1:]))
        looks = np.zeros(dist.shape, bool)
        if dl >= 8.0:  # (on the iris's side of the white: a white lighter than its median is white)
            looks |= (lab[..., 0] - lw[0]) * np.sign(li[0] - lw[0]) > IRIS_FROM_WHITE[0] * dl
        if dab >= 8.0:
            looks |= np.linalg.norm(lab[..., 1:] - lw[1:], axis=-1) > IRIS_FROM_WHITE[1] * dab
        # the radius: along the row through the centre, each side's first pixel beyond the mesh's
        # radius that no longer looks like the iris (inside the opening); the nearer side's (the
        # farther one's took a cartoon's tinted white for the iris's)
        cy, cx = np.unravel_index(np.argmin(dist), dist.shape)
        radius = r
        ends = []
        for step in (-1, 1):
            x = cx + step * int(np.ceil(r))
            while 0 <= x < dist.shape[1] and inner[cy, x] and looks[cy, x] and abs(x - cx) < IRIS_GROWTH * r:
                x += step
            if 0 <= x < dist.shape[1] and inner[cy, x]:
                ends.append(abs(x - cx) - 0.5)
        if ends:
            radius = max(r, min(ends))
        iris = (looks & (dist <= radius + 1.5)) | middle
        # only what joins the middle (a lash's shadow beside the disc is not the iris)
        n, ids_map = cv2.connectedComponents(iris.astype(np.uint8), connectivity=8)
        ids = np.unique(ids_map[middle & iris])
        iris = np.isin(ids_map, ids[ids > 0])
        # with what it encloses (its highlights: left on the white, they stayed behind as it moved)
        filled = np.zeros(iris.shape, np.uint8)
        cv2.fillConvexPoly(filled, cv2.convexHull(np.argwhere(iris)[:, ::-1].astype(np.int32)), 1)
        iris |= (filled > 0) & (dist <= radius + 1.5)
        # and a pixel round it: the limbus's soft edge goes with the iris, not left on the white
        return cv2.dilate(iris.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0, radius

    def moved(self, face: np.ndarray) -> bool:
        """Whether the eye's corners, contour or iris moved from the image's (``face``: (478, 2),
        the texture's pixels)."""
        return bool(np.abs(face[self.watched] - self.rest).max() >= 0.05)

    def draw(self, out: np.ndarray, face: np.ndarray, plated: np.ndarray, made: np.ndarray, sampled) -> None:
        """Draws the eyeball into ``out`` (the warped head texture, premultiplied RGBA) inside the
        eye's opening where ``face`` ((478, 2), the texture's pixels) puts it: the white from
        ``plated`` (the texture with the eyes' whites filled; ``made`` marks the filled pixels)
        through the face's warp (``sampled(x0, y0, gx, gy)``: the texture's pixels the warp samples
        for a box's pixels),
        the iris over it."""
        h, w = out.shape[:2]
        # the iris is drawn by the eye's affine motion (its contour's least-squares fit) about the
        # plan's iris centre: stretched as its opening is, as the warp stretched the image's eye (a
        # rigid eyeball behind lids opening wider showed what the image hides: the lids' lines and
        # shade on the iris, its highlights cut)
        rest_poly = self.rest[len(self.corners):-1]
        A = affine_fit(rest_poly, face[self.contour])
        M = A[:2].T
        det = float(np.linalg.det(M))
        if abs(det) < 1e-6:
            return
        k = float(np.sqrt(abs(det)))
        poly = face[self.contour]
        # the iris where the eye's motion takes it, moved on by as much as the plan moves it beyond
        # the eye's contour (its gaze): the plan moves it with the contour's mean, which the warp's
        # stretch of an eye opening unevenly does not follow (the iris slid off its place under the
        # lids, baring a crescent of white, with no gaze)
        gaze = face[self.centre] - (self.rest[-1] + (poly - rest_poly).mean(axis=0))
        # an eye that does not look aside keeps the warp's own (the iris stretched with the lids,
        # their lines and shade on it where they lie); the eyeball comes in over the gaze's first
        # pixel
        show = float(np.clip(np.hypot(*gaze) / GAZE_IN, 0.0, 1.0))
        if show <= 0.0:
            return
        c2 = np.r_[self.rest[-1], 1.0] @ A + gaze
        reach = k * (self.r + 1.5)
        x0, y0 = np.maximum(np.floor(np.minimum(poly.min(axis=0), c2 - reach) - 1).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(np.maximum(poly.max(axis=0), c2 + reach)).astype(int) + 2, [w, h])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        m, depth = _opening(poly - [x0, y0], (y1 - y0, x1 - x0))
        if not m.any():
            return
        m = m[..., None]
        # the white: the warp's own, of the texture with the white filled in where the iris was
        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        sx, sy = sampled(x0, y0, gx, gy)
        white = cv2.remap(plated, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        filled = cv2.remap(made, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        iris = ((np.stack([gx, gy], axis=-1).astype(np.float64) - c2) @ np.linalg.inv(M).T + self.rest[-1] - self.origin).astype(np.float32)
        disc = cv2.remap(self.iris, iris[..., 0], iris[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        a = cv2.remap(self.alpha, iris[..., 0], iris[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                      borderValue=0)
        ball = a[..., None] * disc.astype(np.float32) + (1.0 - a[..., None]) * white
        # what was invented is shaded towards the lids, as the image's white is
        invented = a * cv2.remap(self.iris_made, iris[..., 0], iris[..., 1], cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE) + (1.0 - a) * filled
        if invented.any():
            near = np.exp(-depth / max(1.0, LID_SHADE_REACH * self.width * k))
            ball[..., :3] *= (1.0 - invented * (1.0 - self.shade) * near)[..., None]
        region = (show * m) * ball + (1.0 - show * m) * out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
