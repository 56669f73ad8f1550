"""Moving backdrops: what a character is drawn over when it is not a still image.

Backend-neutral (any renderer draws onto these frames through :attr:`steadymotion.render.base.Scene.frames`):

- :class:`BackgroundClip` — a background video (animate mode's ``--background VIDEO``), scaled to
  cover the output and centre-cropped, looped when shorter than the motion.

Replace mode (the character takes the reference person's place in the reference video):

- :class:`CleanPlate` — the reference person removed from every frame. The person is the selfie
  segmentation (MediaPipe, Bazarevsky et al. 2020) united with capsules along the tracked
  skeleton's bones (fast hands and feet the segmenter blurs away), grown by a margin so no
  outline stays. What the person hid is taken from other frames where that spot was visible —
  the nearest earlier frame, else the first later one — after aligning the frames by the tracked
  camera path (a background plate gathered over time, the video-inpainting idea of Granados et
  al. 2012, "Background inpainting for videos with dynamic objects and a free-moving camera",
  without their optimisation); what no frame ever shows is filled by Telea's fast-marching
  inpainting at a quarter scale (:func:`steadymotion.render.puppet.fill.inpaint_multiscale`). Two
  streaming passes over the video (the first gathers the first sight of every spot), so memory
  does not grow with the clip.
- :class:`SceneLight` — the drawn character's white balance and exposure brought part of the way
  to the reference frame's, per frame: grey-world estimates (Buchsbaum 1980) of the scene's
  illuminant in the reference frame and in the character's own image, a von Kries diagonal
  adaptation (von Kries 1902) between them in linear RGB at half strength, smoothed over time so
  the light never pops, applied only where the character is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from steadymotion.skeleton import KP, keypoints_from_body
from steadymotion.types import PoseSequence

#: How far the person's mask is grown (fraction of the person's torso length, at least 4 px): the
#: segmenter's edge is soft and a hair's width of the old outline would stay.
GROW = 0.08
#: Width of the bone capsules added to the segmenter's mask, as a fraction of the torso length.
BONE_WIDTH = 0.3
#: Probability above which a pixel is the person in the segmenter's mask.
PERSON_P = 0.3
#: A leg joint the tracker places with a visibility below this is hidden (by the frame, or by
#: something in front of it) ...
OCCLUDED_VIS = 0.5
#: ... and along its bone (this fraction of the torso length wide), pixels the segmenter gives a
#: person probability below this are what hides it: an occluder, kept in front of the character.
OCCLUDER_P = 0.1
OCCLUDER_WIDTH = 0.6
#: Share of such a bone's capsule that must show no person for it to be hidden behind something.
OCCLUDED_SHARE = 0.8


def fit_background(background: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    """A background image scaled to cover ``size`` and centre-cropped; colours and ``None`` pass through."""
    if background is None or background.ndim == 1:
        return background
    w, h = size
    ih, iw = background.shape[:2]
    k = max(w / iw, h / ih)
    big = cv2.resize(background, (max(w, int(round(iw * k))), max(h, int(round(ih * k)))),
                     interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])


class BackgroundClip:
    """Frames of a background video fitted to ``size`` (cover and centre-crop), ``frames`` of them,
    the clip looped when shorter (iterate once per render)."""

    def __init__(self, path: str | Path, size: tuple[int, int] | None = None, frames: int | None = None) -> None:
        from steadymotion.io.video import probe_video

        self.path = Path(path)
        self.info = probe_video(self.path)  # a bad file fails here, before any work
        self.size = size
        self.frames = frames

    def fitted(self, size: tuple[int, int], frames: int) -> BackgroundClip:
        return BackgroundClip(self.path, size, frames)

    def __iter__(self) -> Iterator[np.ndarray]:
        from steadymotion.io.video import VideoReader
        if self.size is None or self.frames is None:
            raise ValueError("BackgroundClip: call fitted(size, frames) before iterating")
        n = 0
        while n < self.frames:
            got = 0
            with VideoReader(self.path, max_side=2 * max(self.size)) as reader:
                for frame in reader:
                    yield fit_background(frame.image, self.size)
                    n += 1
                    got += 1
                    if n >= self.frames:
                        return
            if not got:
                raise ValueError(f"{self.path}: no frame could be decoded")


def _affine3(m: np.ndarray) -> np.ndarray:
    return np.vstack([np.asarray(m, np.float64), [0.0, 0.0, 1.0]])


class CleanPlate:
    """Frames of ``video`` with its person removed (iterate once; each frame ``(H, W, 3) uint8``).

    Parameters
    ----------
    video : path
    seq : PoseSequence
        The video's landmarks (body at least, source pixels); ``seq.meta["camera_path"]`` (frame-0
        pixels -> frame-t pixels) when the camera was tracked, else a still camera is assumed.
    progress : callable(done, total), optional
        Called during the first pass (the second is paced by whoever reads the frames).
    """

    def __init__(self, video: str | Path, seq: PoseSequence, progress: Callable[[int, int], None] | None = None) -> None:
        from steadymotion.io.video import probe_video

        self.video = video
        self.seq = seq
        info = probe_video(video)
        self.size = info.size
        w, h = self.size
        path = seq.meta.get("camera_path")
        T = len(seq)
        eye = np.array([[1.0, 0, 0], [0, 1.0, 0]])
        self.path = np.asarray(path, np.float64)[:T] if path is not None and len(path) >= T else np.tile(eye, (T, 1, 1))
        # the world is frame 0's view with a margin for what a panning camera shows later
        moved = np.abs(self.path - eye).max(axis=(1, 2)) * max(w, h) > 0.5 if T else np.zeros(0, bool)
        self.still = not moved.any()
        self.margin = 0 if self.still else int(0.25 * max(w, h))
        self.world = (w + 2 * self.margin, h + 2 * self.margin)
        self.last_occluder: np.ndarray | None = None  # of the frame last made: what stands in front of the person
        self.last_rgb: np.ndarray | None = None
        self.occluded_frames = 0
        self._first = self._gather(progress)

    # -- the person ---------------------------------------------------------------------------
    #: Long side (pixels) the person's mask is made at; it is upsampled to the frame.
    MASK_SIDE = 640

    def person_mask(self, rgb: np.ndarray, i: int, segmenter) -> np.ndarray:
        """The fill weight of frame ``i``: ``(H, W) float32``, 1 over the person grown by :data:`GROW`,
        easing to 0 over a few pixels outside, 0 elsewhere."""
        h, w = rgb.shape[:2]
        s = min(1.0, self.MASK_SIDE / max(w, h))
        sw, sh = int(round(w * s)), int(round(h * s))
        small = rgb if s >= 1.0 else cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        prob = segmenter.probability(small)
        core = prob > PERSON_P
        occluder = None
        torso = 0.0
        if i < len(self.seq) and self.seq.body_present[i]:
            body = self.seq.body[i]
            kp = keypoints_from_body(body[None])[0]
            torso = float(np.linalg.norm(kp[KP["neck"], :2] - kp[KP["pelvis"], :2])) * s
            vis = body[:, 3] if body.shape[1] > 3 else np.ones(len(body))
            # legs the tracker places but cannot see, where the segmenter sees no person: something
            # stands in front of them (a table, a railing); it must stay in front of the character
            hidden = np.zeros((sh, sw), np.uint8)
            for a, b in _LEG_BONES:
                ends = body[[a, b], :2]
                inside = np.isfinite(ends).all() and (ends >= 0.02 * np.array([w, h])).all() and (ends <= 0.98 * np.array([w, h])).all()
                if min(vis[a], vis[b]) < OCCLUDED_VIS and inside:  # placed in the picture, yet not seen
                    bone = np.zeros((sh, sw), np.uint8)
                    cv2.line(bone, tuple(np.round(body[a, :2] * s).astype(int)), tuple(np.round(body[b, :2] * s).astype(int)), 1,
                             max(2, int(OCCLUDER_WIDTH * torso)))
                    # and not merely blurred or turned away: the segmenter sees no person along most of it
                    if (prob[bone > 0] < OCCLUDER_P).mean() > OCCLUDED_SHARE:
                        hidden |= bone
            occ = hidden.astype(bool) & (prob < OCCLUDER_P)
            if occ.sum() > 0.002 * sw * sh:
                occluder = occ if s >= 1.0 else cv2.resize(occ.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
            else:
                occ[:] = False
            # every bone the tracker places, seen or not (a foot below a table the segmenter cut off
            # from the body), except across what stands in front of it
            bones = np.zeros((sh, sw), np.uint8)
            th = max(2, int(BONE_WIDTH * torso))
            for a, b in _BONES:
                if np.isfinite(body[[a, b], :2]).all():
                    cv2.line(bones, tuple(np.round(body[a, :2] * s).astype(int)), tuple(np.round(body[b, :2] * s).astype(int)), 1, th)
            core |= bones.astype(bool) & ~occ
        self.last_occluder = occluder
        g = max(3, int(GROW * torso)) | 1
        grown = cv2.dilate(core.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (g, g))).astype(np.float32)
        soft = np.maximum(cv2.blur(grown, (g // 2 | 1, g // 2 | 1)), grown)
        return soft if s >= 1.0 else cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)

    # -- frames <-> world -----------------------------------------------------------------------
    def _to_world(self, i: int) -> np.ndarray:
        """Frame-i pixels -> world pixels (2x3)."""
        off = np.array([[1.0, 0, self.margin], [0, 1.0, self.margin], [0, 0, 1.0]])
        return (off @ np.linalg.inv(_affine3(self.path[min(i, len(self.path) - 1)])))[:2]

    def _warp(self, img: np.ndarray, M: np.ndarray, size: tuple[int, int], interp=cv2.INTER_LINEAR) -> np.ndarray:
        return cv2.warpAffine(img, M.astype(np.float32), size, flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _frames(self):
        from steadymotion.io.video import VideoReader

        return VideoReader(self.video)

    def _gather(self, progress) -> np.ndarray:
        """First pass: each world pixel's first sight without the person (what no frame shows of the
        pixels the person ever hid is inpainted; :attr:`never_seen` is its share)."""
        from steadymotion.perception.segmentation import PersonSegmenter

        W, H = self.world
        first = np.zeros((H, W, 3), np.uint8)
        seen = np.zeros((H, W), bool)
        needed = np.zeros((H, W), bool)
        total = len(self.seq)
        with PersonSegmenter("landscape") as seg, self._frames() as reader:
            for i, frame in enumerate(reader):
                if i >= total:
                    break
                soft = self.person_mask(frame.image, i, seg)
                free = soft <= 0.0
                if self.still:
                    img, ok, hid = frame.image, free, soft > 0
                else:
                    M = self._to_world(i)
                    img = self._warp(frame.image, M, self.world)
                    ok = self._warp(free.astype(np.uint8), M, self.world, cv2.INTER_NEAREST).astype(bool)
                    hid = self._warp((soft > 0).astype(np.uint8), M, self.world, cv2.INTER_NEAREST).astype(bool)
                new = ok & ~seen
                np.copyto(first, img, where=new[..., None])
                seen |= new
                needed |= hid
                if progress is not None and (i % 10 == 0 or i == total - 1):
                    progress(i + 1, total)
        hole = needed & ~seen
        if hole.any() and seen.any():
            from scipy.ndimage import distance_transform_edt

            from steadymotion.render.puppet.fill import inpaint_multiscale

            # the hole starts as its nearest seen colour (the fill's feathered seam blends into it)
            _, (iy, ix) = distance_transform_edt(~seen, return_indices=True)
            first[hole] = first[iy[hole], ix[hole]]
            first = inpaint_multiscale(first, hole)
        self.never_seen = float(hole.sum()) / max(1, int(needed.sum()))
        return first

    # -- second pass: the frames ----------------------------------------------------------------
    def __iter__(self) -> Iterator[np.ndarray]:
        from steadymotion.perception.segmentation import PersonSegmenter

        plate = self._first.copy()  # last sight of each spot so far (first sight until then)
        w, h = self.size
        total = len(self.seq)
        with PersonSegmenter("landscape") as seg, self._frames() as reader:
            for i, frame in enumerate(reader):
                if i >= total:
                    break
                rgb = frame.image
                soft = self.person_mask(rgb, i, seg)
                self.last_rgb = rgb
                free = soft <= 0.0
                if self.still:
                    np.copyto(plate, rgb, where=free[..., None])
                    here = plate
                else:
                    M = self._to_world(i)
                    img = self._warp(rgb, M, self.world)
                    ok = self._warp(free.astype(np.uint8), M, self.world, cv2.INTER_NEAREST).astype(bool)
                    np.copyto(plate, img, where=ok[..., None])
                    back = cv2.invertAffineTransform(M.astype(np.float64))
                    here = cv2.warpAffine(plate, back.astype(np.float32), (w, h), flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_REPLICATE)
                out = rgb.copy()
                x, y, bw, bh = cv2.boundingRect((~free).astype(np.uint8))
                if bw and bh:
                    wgt = soft[y:y + bh, x:x + bw]
                    out[y:y + bh, x:x + bw] = cv2.blendLinear(here[y:y + bh, x:x + bw], rgb[y:y + bh, x:x + bw], wgt, 1.0 - wgt)
                yield out


# MediaPipe-33 leg bones (hips to toes): what most often disappears behind furniture
_LEG_BONES = ((23, 25), (25, 27), (27, 29), (27, 31), (24, 26), (26, 28), (28, 30), (28, 32))

# MediaPipe-33 bones whose capsules join the person mask (arms, hands, legs, feet, trunk, head)
_BONES = ((11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22),
          (11, 23), (12, 24), (23, 24), (23, 25), (25, 27), (27, 29), (27, 31), (29, 31), (24, 26), (26, 28), (28, 30),
          (28, 32), (30, 32), (0, 11), (0, 12), (7, 8))


def _linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB 8-bit -> linear RGB (IEC 61966-2-1)."""
    c = rgb.astype(np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _grey_world(rgb: np.ndarray) -> np.ndarray:
    """Mean linear RGB of an image (its grey-world illuminant estimate, Buchsbaum 1980), on a small copy."""
    small = cv2.resize(rgb, (64, max(1, int(64 * rgb.shape[0] / rgb.shape[1]))), interpolation=cv2.INTER_AREA)
    return _linear(small).reshape(-1, 3).mean(axis=0) + 1e-4


class SceneLight:
    """Per-frame adjustment of the drawn character to the scene's light (``Scene.adjust``).

    ``character_rgb`` is the character's master image; each call gets the frame the backend drew
    (character over the clean plate) and the character's coverage; the reference frame's own
    grey-world estimate must be given first with :meth:`observe` (the plate's frame source does it).
    """

    #: Share of the way from the character's light to the scene's (1 = all the way).
    STRENGTH = 0.5
    #: Per-frame smoothing of the scene's estimate (exponential, weight of the new frame).
    SMOOTH = 0.15
    #: Gains are kept within this range.
    LIMIT = (0.7, 1.4)

    def __init__(self, character_rgb: np.ndarray) -> None:
        self.own = _grey_world(character_rgb)
        self.scene: np.ndarray | None = None

    def observe(self, reference_rgb: np.ndarray) -> None:
        g = _grey_world(reference_rgb)
        self.scene = g if self.scene is None else (1 - self.SMOOTH) * self.scene + self.SMOOTH * g

    def gains(self) -> np.ndarray:
        """Linear-RGB gains ``(3,)``: white balance (chromaticity) and exposure (mean level), partial."""
        if self.scene is None:
            return np.ones(3, np.float32)
        full = self.scene / self.own
        g = np.exp(self.STRENGTH * np.log(full))
        return np.clip(g, *self.LIMIT).astype(np.float32)

    def __call__(self, frame: np.ndarray, coverage: np.ndarray | None) -> np.ndarray:
        if coverage is None or not coverage.any():
            return frame
        g = self.gains()
        if np.allclose(g, 1.0, atol=0.01):
            return frame
        x, y, bw, bh = cv2.boundingRect((coverage > 0).astype(np.uint8))
        region = frame[y:y + bh, x:x + bw]
        # the gain in linear light, as one 8-bit table per channel
        lin = _linear(np.arange(256, dtype=np.uint8))[:, None] * g[None, :]
        srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(np.clip(lin, 0.0031308, None), 1 / 2.4) - 0.055)
        lut = np.clip(srgb * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
        adj = cv2.LUT(region, lut)
        c = np.ascontiguousarray(coverage[y:y + bh, x:x + bw], np.float32)
        out = frame.copy()
        out[y:y + bh, x:x + bw] = cv2.blendLinear(adj, region, c, 1.0 - c)
        return out


class ReplaceScene:
    """Replace mode's scene: the frames to draw on (:class:`CleanPlate`) and, called with each drawn
    frame (``Scene.adjust``), the character's light matched (:class:`SceneLight`) and what stood in
    front of the reference person put back in front of the character (occlusion, as far as the
    segmentation tells: see :data:`OCCLUDED_VIS`)."""

    def __init__(self, plate: CleanPlate, light: SceneLight | None) -> None:
        self.plate = plate
        self.light = light

    def __iter__(self) -> Iterator[np.ndarray]:
        for clean in self.plate:
            if self.light is not None:
                self.light.observe(clean)
            yield clean

    def __call__(self, frame: np.ndarray, coverage: np.ndarray | None) -> np.ndarray:
        out = self.light(frame, coverage) if self.light is not None else frame
        occ = self.plate.last_occluder
        if occ is not None and coverage is not None:
            front = occ & (coverage > 0)
            if front.any():
                out = out.copy() if out is frame else out
                out[front] = self.plate.last_rgb[front]
                self.plate.occluded_frames += 1
        return out
