"""The measurements behind the drift meter: one pose pass and one frame pass over the video.

Pose pass (worker processes): MediaPipe Holistic on every ``stride``-th frame (about 6 per second)
— skeleton, hands, physics, body jitter, fidelity — plus, on those same decoded frames, the
subject's appearance: region colours and once-a-second face descriptors
(:func:`steadymotion.pose.extract.extract_pose_and_appearance`). Frame pass (this process, at the
same time): every frame at a small working size for optical flow (DIS, Kroeger et al. 2016) —
flicker, background structure, camera shake, exposure, cuts, thumbnails — and, four times a second,
objects appearing or vanishing in the background (:mod:`steadymotion.drift.objects`, fed with the
frame-to-frame background homographies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.ndimage import uniform_filter1d

from steadymotion.drift.objects import BackgroundObjects
from steadymotion.drift.series import Series
from steadymotion.io.video import VideoReader
from steadymotion.perception.body import facing, torso_length, visible
from steadymotion.perception.identity import REGIONS, chromatic_delta_e, identity_signature
from steadymotion.perception.scene import CUT_SCORE, histogram_change, hsv_histogram
from steadymotion.perception.segmentation import PersonSegmenter
from steadymotion.skeleton import BODY, LONG_BONES
from steadymotion.types import PoseSequence

#: Long side of the frames used for optical flow (pixels).
FLOW_SIDE = 256
#: Thumbnails kept for the report (per second, height in pixels).
THUMB_RATE, THUMB_H = 4.0, 144
#: The opening of the clip that stands in for the reference when none is given (share, min seconds).
OPENING_SHARE, OPENING_MIN_S = 0.15, 1.0


@dataclass
class Reference:
    """What the subject should look like: a face descriptor and region colours (CIELAB)."""

    descriptor: np.ndarray | None = None
    colors: dict[str, np.ndarray] = field(default_factory=dict)
    thumb: bytes | None = None  # JPEG
    source: str = "opening frames"


@dataclass
class PixelPass:
    series: list[Series]
    thumbs: list[tuple[float, bytes]]  # (time, JPEG)
    cuts: list[float]
    #: Frame times and the camera's path (where the background moved, fractions of the frame
    #: diagonal, cumulative; NaN steps count as still), for compensating image motion.
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    camera_path: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    #: The repairs' per-frame light and motion (:class:`steadymotion.repair.track.Track`), when asked for.
    track: object | None = None


class CutFeed:
    """The hard cuts as the frame pass finds them, for a measure that follows it in another thread
    (the limb remnants, :func:`steadymotion.drift.structure.ghost_limb_series`, once the skeleton is
    known while the frame pass is still reading): :meth:`until` waits until the frame pass has read
    past a time, so every cut up to that time is known."""

    def __init__(self) -> None:
        import threading

        self._cond = threading.Condition()
        self._t = -np.inf
        self._cuts: list[float] = []
        self._done = self._failed = False

    def reached(self, t: float, cuts: list[float]) -> None:
        """The frame pass has read every frame up to ``t``; ``cuts`` are the cuts found so far."""
        with self._cond:
            self._t = t
            if len(cuts) != len(self._cuts):
                self._cuts = list(cuts)
            self._cond.notify_all()

    def close(self, failed: bool = False) -> None:
        """The frame pass ended (``failed``: with an error; :meth:`until` then raises)."""
        with self._cond:
            self._done, self._failed = True, failed
            self._cond.notify_all()

    @property
    def done(self) -> bool:
        """Whether the frame pass has ended."""
        return self._done

    def until(self, t: float) -> list[float]:
        """Every cut found up to a time after ``t`` (sorted), once the frame pass has got there."""
        with self._cond:
            self._cond.wait_for(lambda: self._done or self._t > t + 1e-6)
            if self._failed:
                raise RuntimeError("the frame pass stopped")
            return list(self._cuts)


def frame_pass(video, progress: Callable[[int, int], None] | None = None, track: bool = False,
               feed: CutFeed | None = None) -> PixelPass:
    """Stream every frame once: flicker, background structure (warp, melt, objects appearing or
    vanishing), camera shake, exposure, cuts, thumbnails.

    Needs no skeleton (the person is masked by selfie segmentation), so it runs while the pose
    workers track the subject. With ``track=True`` it also measures what the repairs need of every
    frame (:func:`steadymotion.repair.track.track_video`'s :class:`~steadymotion.repair.track.Track`,
    the same numbers) from the same flow, masks and cuts, instead of a second pass over the video.
    ``feed`` is told how far the pass has read and the cuts it found (:class:`CutFeed`), and
    closed when it ends.
    """
    if track:
        from steadymotion.repair.track import assemble, channel_gain, frame_colour
    tr_gain, tr_step, tr_lab, tr_chroma = [], [], [], []
    t_list, gain, warp, wobble, cam = [], [], [], [], []
    light, chroma = [], []
    melt_t, melt = [], []
    thumbs: list[tuple[float, bytes]] = []
    cuts: list[float] = []
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    fine = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # a few times a second: sub-pixel accuracy
    segmenter = PersonSegmenter("landscape")
    seg_mask = None
    next_seg = next_thumb = next_melt = 0.0
    prev_grey = prev_hist = prev_small = None
    keys: list[tuple[float, np.ndarray, np.ndarray]] = []  # (t, grey, person) at each background-warp sample
    failed = True
    try:
        with VideoReader(video, max_side=FLOW_SIDE) as reader:  # scaled while decoding: no full-size copy
            w, h = reader.output_size
            objects = BackgroundObjects((w, h))
            diag = float(np.hypot(w, h))
            px_scale = reader.info.width / w  # working pixels -> source pixels (the Track's steps)
            total = reader.info.frame_count or 0
            for frame in reader:
                rgb = small = frame.image
                grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
                lab_small = cv2.cvtColor(small[::2, ::2], cv2.COLOR_RGB2LAB).astype(np.float32)
                light.append(float(lab_small[..., 0].mean() * 100 / 255))
                chroma.append(float(np.hypot(lab_small[..., 1] - 128, lab_small[..., 2] - 128).mean()))
                hist = hsv_histogram(small)
                cut = prev_grey is not None and histogram_change(prev_hist, hist) > CUT_SCORE
                if cut:
                    cuts.append(frame.t)
                    keys.clear()  # nothing before a cut is a baseline for what follows
                    objects.cut()
                if feed is not None:
                    feed.reached(frame.t, cuts)
                refresh = frame.t >= next_seg or seg_mask is None
                if refresh:
                    seg_mask = segmenter.mask(small, threshold=0.3, grow=0.04)  # hair and clothes included, unlike a landmark hull
                    next_seg = frame.t + 1.0 / SEG_RATE
                g = f = wv = np.nan
                step = np.array([np.nan, np.nan])
                H = None
                rgb_gain, step_px = np.full(3, np.nan), np.full(2, np.nan)
                if prev_grey is not None and not cut:
                    if track:
                        g, f, wv, step, H, (rgb_gain, step_px) = _flow_measures(dis, prev_grey, grey, seg_mask, diag,
                                                                                 colour=(prev_small, small, channel_gain))
                    else:
                        g, f, wv, step, H = _flow_measures(dis, prev_grey, grey, seg_mask, diag)
                objects.step(H)
                if refresh and objects.due(frame.t):  # a few times a second, with a fresh person mask
                    objects.sample(frame.t, small, seg_mask)
                if track:
                    lab_mean, chroma_mean = frame_colour(small)
                    tr_gain.append(rgb_gain)
                    tr_step.append(step_px * px_scale)
                    tr_lab.append(lab_mean)
                    tr_chroma.append(chroma_mean)
                if refresh and frame.t >= next_melt:
                    # background warp over a long baseline: this frame against the one MELT_BASELINE_S before
                    next_melt = frame.t + 1.0 / MELT_RATE - 0.5 / SEG_RATE
                    while len(keys) > 1 and keys[1][0] <= frame.t - MELT_BASELINE_S + 1e-6:
                        keys.pop(0)
                    if keys and frame.t - keys[0][0] >= 0.75 * MELT_BASELINE_S:
                        melt_t.append(frame.t)
                        melt.append(_background_residual(fine, keys[0][1], grey, keys[0][2] | seg_mask, diag))
                    keys.append((frame.t, grey, seg_mask))
                t_list.append(frame.t)
                gain.append(g)
                warp.append(f)
                wobble.append(wv)
                cam.append(step)
                if frame.t >= next_thumb or cut:  # and the first frame after a cut
                    tw = int(round(w * THUMB_H / h))
                    thumbs.append((frame.t, jpeg(cv2.resize(rgb, (tw, THUMB_H), interpolation=cv2.INTER_AREA))))
                    next_thumb = frame.t + 1.0 / THUMB_RATE
                prev_grey, prev_hist, prev_small = grey, hist, small
                if progress is not None and frame.index % 10 == 0:
                    progress(frame.index + 1, max(total, frame.index + 1))
            if track:
                frames = assemble(t_list, tr_gain, tr_step, tr_lab, tr_chroma, [c in cuts for c in t_list],
                                  (reader.info.width, reader.info.height), float(reader.fps))
        failed = False
    finally:
        segmenter.close()
        if feed is not None and failed:
            feed.close(failed=True)
    try:
        if progress is not None and t_list:
            progress(len(t_list), len(t_list))
    finally:  # after this pass's last progress report: what follows it reports its own stage
        if feed is not None:
            feed.close()
    t = np.array(t_list)
    mt = np.array(melt_t)
    series = [
        Series("flicker.brightness", t, _pulsing(t, np.array(gain))),
        Series("flicker.warp_error", t, np.array(warp)),
        Series("structure.background_warp", t, _running_median(t, 100 * np.array(wobble), 0.5)),
        Series("structure.background_melt", mt, _running_median(mt, 100 * np.array(melt), 0.75) if len(mt) else np.zeros(0)),
        objects.series(),
        Series("jitter.camera", t, _shake(t, np.array(cam).reshape(-1, 2))),
        Series("color.exposure", t, _from_opening(t, np.array(light))),
        Series("color.saturation", t, _from_opening(t, np.array(chroma))),
    ]
    steps = np.array(cam, float).reshape(-1, 2)
    path = np.cumsum(np.where(np.isfinite(steps), steps, 0.0), axis=0)
    return PixelPass(series=series, thumbs=thumbs, cuts=cuts, t=t, camera_path=path, track=frames if track else None)


#: Person segmentation (MediaPipe selfie segmentation) is refreshed this many times per second.
SEG_RATE = 8.0
#: Background warp is measured between frames this many seconds apart (a slow melt adds up over it),
#: this many times per second.
MELT_BASELINE_S, MELT_RATE = 2.0, 8.0
#: Least share of the frame that must be textured background for camera motion to be measured, and
#: for its non-rigid residual to be (a residual needs more evidence than a translation).
MIN_BACKGROUND, MIN_BACKGROUND_WARP = 0.02, 0.05
#: Flicker band: brightness changes faster than this (Hz) count as pulsing, slower ones as exposure.
FLICKER_HIGHPASS_HZ = 1.0


_GRIDS: dict = {}


def _grid(w: int, h: int):
    if (w, h) not in _GRIDS:
        _GRIDS[(w, h)] = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return _GRIDS[(w, h)]


def _consistent_flow(dis, prev: np.ndarray, cur: np.ndarray):
    """Backward flow (current -> previous), its sampling grid and the pixels whose forward and
    backward flow agree (Sundaram et al. 2010's consistency check: occlusions fail it)."""
    fwd = dis.calc(prev, cur, None)
    bwd = dis.calc(cur, prev, None)
    h, w = cur.shape
    gx, gy = _grid(w, h)
    mx, my = gx + bwd[..., 0], gy + bwd[..., 1]
    fwd_at = cv2.remap(fwd, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # squared lengths summed channel by channel: the same numbers as np.sum(..., axis=-1), whose
    # reduction over a 2-long last axis costs ~20x more (2 ms a frame pair at the working size)
    d = fwd_at + bwd
    d *= d
    err = d[..., 0] + d[..., 1]
    f2, b2 = fwd_at * fwd_at, bwd * bwd
    mag = (f2[..., 0] + f2[..., 1]) + (b2[..., 0] + b2[..., 1])
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    valid = (err < 0.01 * mag + 0.5) & inside
    return bwd, mx, my, valid


def _background_homography(bwd: np.ndarray, cur: np.ndarray, bg: np.ndarray):
    """RANSAC homography (previous -> current) fitted to the flow of textured background pixels.

    Returns ``(H, src, dst)`` or ``None`` when too little textured background is visible: on flat
    walls flow is guesswork (the aperture problem), not evidence.
    """
    gmag = cv2.magnitude(cv2.Sobel(cur, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(cur, cv2.CV_32F, 0, 1, ksize=3))
    bg = bg & (gmag > 40)
    ys, xs = np.nonzero(bg[::4, ::4])
    if len(xs) < max(30, MIN_BACKGROUND * bg[::4, ::4].size):
        return None
    ys, xs = ys * 4, xs * 4
    src = np.stack([xs + bwd[ys, xs, 0], ys + bwd[ys, xs, 1]], axis=1).astype(np.float32)
    dst = np.stack([xs, ys], axis=1).astype(np.float32)
    H, _ = cv2.findHomography(src, dst, cv2.RANSAC, 1.0)
    return None if H is None else (H, src, dst)


def _flow_measures(dis, prev: np.ndarray, cur: np.ndarray, person: np.ndarray, diag: float, colour=None):
    """Brightness gain, warping error, background non-rigid warp, camera step and background
    homography (previous -> current, or None) between two consecutive frames.

    Backward flow warps the previous frame onto the current one; forward-backward consistency
    (Sundaram et al. 2010) masks occlusions, as in Lai et al. 2018's warping error. The gain is the
    log ratio of the mean grey level of the current frame to the motion-compensated previous one
    (unsaturated pixels only), so motion does not read as a change of brightness. The background
    warp is the 75th percentile of what the background homography leaves unexplained (a wobble from
    one frame to the next; a slow melt is measured over a longer baseline, :func:`_background_residual`).

    ``colour = (prev_rgb, cur_rgb, channel_gain)`` adds a sixth result from the same flow: the
    per-channel gain ``channel_gain`` gives and the camera step in working pixels (the repairs' track).
    """
    bwd, mx, my, valid = _consistent_flow(dis, prev, cur)
    extra = (np.full(3, np.nan), np.full(2, np.nan))
    if valid.mean() < 0.2:
        return (np.nan, np.nan, np.nan, np.array([np.nan, np.nan]), None) + ((extra,) if colour is not None else ())
    if colour is not None:
        extra = (colour[2](colour[0], colour[1], mx, my, valid), extra[1])
    warped = cv2.remap(prev, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    curf = cur.astype(np.float32)
    diff = curf - warped
    warp_error = float(np.abs(diff[valid]).mean())
    unsat = valid & (warped < 250) & (curf < 250) & (warped > 5)
    gain = float(np.log((curf[unsat].mean() + 1.0) / (warped[unsat].mean() + 1.0))) if unsat.sum() > 50 else np.nan
    step = np.array([np.nan, np.nan])
    bg_resid = np.nan
    H = None
    fit = _background_homography(bwd, cur, valid & ~person)
    if fit is not None:
        H, src, dst = fit
        h, w = cur.shape
        # the camera's step where the background is (its centroid): extrapolating the homography to
        # the frame centre, often under the person, amplifies its noise when little background shows
        centre = src.mean(axis=0)[None, None].astype(np.float32)
        moved = cv2.perspectiveTransform(centre, H)[0, 0] - centre[0, 0]
        step = moved / diag
        extra = (extra[0], moved.astype(np.float64))
        if len(src) >= MIN_BACKGROUND_WARP * ((h + 3) // 4) * ((w + 3) // 4):
            pred = cv2.perspectiveTransform(src[None], H)[0]
            bg_resid = float(np.percentile(np.linalg.norm(pred - dst, axis=1), 75)) / diag
    return (gain, warp_error, bg_resid, step, H) + ((extra,) if colour is not None else ())


def _background_residual(dis, old: np.ndarray, cur: np.ndarray, person: np.ndarray, diag: float) -> float:
    """Non-rigid background displacement between two frames a baseline apart (share of the diagonal).

    The flow of textured background outside the person (in either frame) is fitted with a RANSAC
    affine map (Fischler & Bolles 1981) — the camera's motion over the baseline — and the 75th percentile of what
    it leaves unexplained is the warping (the median: pedestrians or a waving curtain move a part
    of the background, a melt moves all of it). Over a long baseline a slow, smooth melt adds up to
    a displacement that frame-to-frame flow would bury in its noise; ``dis`` should be an accurate
    preset (DIS "medium"): the fast ones smooth away about half of a 1-2 px displacement.
    """
    bwd, _, _, valid = _consistent_flow(dis, old, cur)
    fit = _background_homography(bwd, cur, valid & ~person)
    if fit is None:
        return np.nan
    _, src, dst = fit
    # over a couple of seconds a handheld or panning camera's view changes by little more than an
    # affine map, and the fewer degrees of freedom absorb less of a smooth melt than a homography
    A, _ = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if A is None:
        return np.nan
    pred = src @ A[:, :2].T + A[:, 2]
    return float(np.median(np.linalg.norm(pred - dst, axis=1))) / diag


def _pulsing(t: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Amplitude (%) of brightness pulsing: the motion-compensated log-gain steps summed into a
    brightness path, high-passed at FLICKER_HIGHPASS_HZ (zero-phase Butterworth, order 2) so slow
    exposure changes drop out, then sqrt(2 x its 0.5-s running median square) (the amplitude of a sine)."""
    from steadymotion.filters import butter2, sosfiltfilt  # scipy.signal's numbers without its import

    if len(t) < 8:
        return np.full(len(t), np.nan)
    fps = 1.0 / max(float(np.median(np.diff(t))), 1e-6)
    ok = np.isfinite(steps)
    path = np.cumsum(np.where(ok, steps, 0.0))
    cutoff = min(FLICKER_HIGHPASS_HZ / (fps / 2), 0.9)
    band = sosfiltfilt(butter2(cutoff, "highpass"), path, padlen=min(len(path) - 1, 3 * int(fps)))
    # a sine of amplitude A has median(sin^2) = A^2 / 2 over its period; the median (not the mean)
    # ignores the short ringing one lone brightness step (a flash, a soft cut) leaves after filtering
    out = 100 * np.sqrt(2 * np.maximum(_running_median(t, band**2, 0.5), 0.0))
    out[~np.isfinite(_running_mean(t, np.where(ok, 1.0, np.nan), 0.5))] = np.nan
    return out


def _shake(t: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Frame-to-frame jumps of the camera path (% of diagonal), smooth camera work excluded.

    A hand-held camera moves smoothly: its path has little energy near the frame rate. Generation
    jitter jumps frame to frame, so it lives in the path's second difference
    ``p[t+1] - 2 p[t] + p[t-1]`` (the difference of consecutive steps; a discrete Laplacian, whose
    gain is 4 at the Nyquist frequency and falls as f^2 below it, so smooth shake barely passes).
    For independent per-frame offsets of size ``d`` in random directions its median length is
    2.22 d; the series is the 0.5-s running median of that length / 2.22 (robust to a lone flow
    failure), i.e. the jitter in the path's own units.
    """
    d2 = np.full(len(t), np.nan)
    if len(t) >= 3:
        d2[1:-1] = np.linalg.norm(steps[2:] - steps[1:-1], axis=1)
    return 100 * _running_median(t, d2, 0.5) / JITTER_MEDIAN


#: Median length of the second difference of independent unit offsets in random directions.
JITTER_MEDIAN = 2.22


def _opening(t: np.ndarray) -> np.ndarray:
    span = max(OPENING_MIN_S, OPENING_SHARE * (t[-1] - t[0] if len(t) else 0))
    return t <= t[0] + span if len(t) else np.zeros(0, bool)


def _from_opening(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``|v - median(v over the opening)|``."""
    base = np.nanmedian(v[_opening(t)]) if len(v) else 0.0
    return np.abs(v - base)


# --- pose-derived series -----------------------------------------------------------------------------
#: The limbs whose length and direction are followed.
LIMBS = tuple(LONG_BONES.values())


#: Horizontal foot speed (torso lengths per second) above which a low foot is taken as stepping.
SWING_SPEED = 3.0


#: The sampling interval (s) the body-jerk limits are calibrated at: the jerk is scaled to it.
JERK_DT = 1 / 8


def pose_series(seq: PoseSequence, camera: PixelPass | None = None) -> list[Series]:
    """Skeleton, hands, physics and body-jitter series from the sampled skeleton.

    ``camera`` (the frame pass) removes the camera's motion from foot sliding: a planted foot moves
    in the image with the ground when a hand-held camera pans.
    """
    t = seq.times
    vis = visible(seq.body, seq.size) & seq.body_present[:, None]
    torso = torso_length(seq)
    torso_med = float(np.nanmedian(torso)) if np.isfinite(torso).any() else np.nan
    out = []

    # limb stretch: each limb against its own long (95th-percentile) length; foreshortening only shortens
    ratios = []
    for a, b in LIMBS:
        length = np.linalg.norm(seq.body[:, a, :2] - seq.body[:, b, :2], axis=1)
        length[~(vis[:, a] & vis[:, b])] = np.nan
        if np.isfinite(length).sum() >= 5:
            ratios.append(length / np.nanpercentile(length, 95))
    stretch = _nanmax(ratios, len(seq))
    out.append(Series("skeleton.limb_stretch", t, stretch))

    # body jitter: third difference of visible joints, in torso lengths, scaled to the 1/8-s sampling its
    # limits were calibrated at: on real footage the third difference grew about in proportion to the
    # sampling interval (0.20 at 8 a second, 0.27 at 6), between the cube of smooth motion and the
    # constant of frame-to-frame noise
    pts = seq.body[:, :25, :2] / torso_med if np.isfinite(torso_med) else np.full((len(seq), 25, 2), np.nan)
    dt = float(np.median(np.diff(t))) if len(t) >= 2 else JERK_DT
    jerk = np.full(len(seq), np.nan)
    if len(seq) >= 4:
        d3 = np.linalg.norm(np.diff(pts, n=3, axis=0), axis=-1)  # (T-3, 25)
        ok = vis[3:, :25] & vis[:-3, :25]
        d3[~ok] = np.nan
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                jerk[2:-1] = np.nanmedian(d3, axis=1) * (JERK_DT / dt if dt > 0 else 1.0)
    out.append(Series("jitter.body", t, _running_mean(t, jerk, 0.5)))

    # hands: share of visible wrists without a resolved hand (1-s running mean)
    wrists = vis[:, [BODY["left_wrist"], BODY["right_wrist"]]]
    missing = np.where(wrists.sum(axis=1) > 0, (wrists & ~seq.hands_present).sum(axis=1) / np.maximum(wrists.sum(axis=1), 1), np.nan)
    out.append(Series("hands.missing", t, _running_mean(t, missing, 1.0)))

    # physics: a planted foot (near its lowest point, barely moving vertically) should not slide
    skate = np.full(len(seq), np.nan)
    cam_x = cam_y = np.zeros(len(seq))
    if camera is not None and len(camera.t) >= 2:  # the ground's image motion, in source pixels
        diag = float(np.hypot(*seq.size))
        cam_x = np.interp(t, camera.t, camera.camera_path[:, 0]) * diag
        cam_y = np.interp(t, camera.t, camera.camera_path[:, 1]) * diag
    if len(seq) >= 3 and np.isfinite(torso_med):
        for ankle, toe in ((27, 31), (28, 32)):
            y = seq.body[:, toe, 1]
            x = seq.body[:, toe, 0]
            ok = vis[:, ankle] & vis[:, toe]
            if ok.sum() < 5:
                continue
            ground = np.nanpercentile(np.where(ok, y, np.nan), 90)
            vy = np.abs(np.gradient(y - cam_y, t)) / torso_med
            vx = np.abs(np.gradient(x - cam_x, t)) / torso_med
            # near the ground, barely moving vertically, and not swinging: a foot faster than SWING_SPEED
            # is stepping (a dancer's shuffle at 8 samples/s looks low and level), not sliding
            planted = ok & (y >= ground - 0.08 * torso_med) & (vy < 0.5) & (vx < SWING_SPEED)
            skate = np.fmax(skate, np.where(planted, vx, np.nan))
    out.append(Series("physics.foot_skate", t, _running_mean(t, skate, 0.3)))
    return out


def fidelity_series(seq: PoseSequence, ref: PoseSequence) -> Series:
    """Mean limb-direction difference (degrees) to the driving motion, frame times aligned by time.

    Directions are compared per limb (upper arms, forearms, thighs, shins), which removes position
    and scale; the driving clip is matched by relative time when the two lengths differ.
    """
    t = seq.times
    rel = (t - t[0]) / max(t[-1] - t[0], 1e-6)
    rt = (ref.times - ref.times[0]) / max(ref.times[-1] - ref.times[0], 1e-6)
    k = np.clip(np.searchsorted(rt, rel), 0, len(rt) - 1)
    vis_a = visible(seq.body, seq.size) & seq.body_present[:, None]
    vis_b = visible(ref.body, ref.size) & ref.body_present[:, None]
    errs = []
    for a, b in LIMBS:
        va = seq.body[:, b, :2] - seq.body[:, a, :2]
        vb = ref.body[k, b, :2] - ref.body[k, a, :2]
        ang = np.degrees(np.abs(np.angle(np.exp(1j * (np.arctan2(va[:, 1], va[:, 0]) - np.arctan2(vb[:, 1], vb[:, 0]))))))
        ok = vis_a[:, a] & vis_a[:, b] & vis_b[k, a] & vis_b[k, b]
        errs.append(np.where(ok, ang, np.nan))
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return Series("fidelity.angle_error", t, np.nanmean(np.array(errs), axis=0))


#: Floor of a clip's same-person descriptor variation (dlib distance): two frames of one still face
#: are ~0.1 apart, so a clip that hardly moves in its opening is not held to less than this.
DESCRIPTOR_FLOOR = 0.15


def color_identity_series(app, reference: Reference, seq: PoseSequence | None = None) -> list[Series]:
    """Colour difference per region, face-descriptor distance and the calibrated identity change.

    ``app`` is the :class:`~steadymotion.pose.extract.Appearance` measured with the pose pass;
    without a reference image, the opening of the clip is the reference. Frames where the subject
    shows their back (``seq``) are gaps: the garment's back may differ from its front.

    - ``color.<region>``: :func:`~steadymotion.perception.identity.chromatic_delta_e` (CIEDE2000
      with lightness matched: shading is not drift) of the region's colour to the reference; for
      two-colour regions (a jacket over a shirt) the palette colour nearest the reference counts,
      so an arm uncovering the shirt is not a colour change.
    - ``identity.face_distance``: dlib descriptor distance to the reference (absolute).
    - ``identity.person_change``: that distance divided by this clip's own same-person variation,
      the median leave-one-out distance of the opening's descriptors to their centre (at least
      :data:`DESCRIPTOR_FLOOR`): a score relative to the clip's own noise (a z-score-like ratio,
      as in score normalisation for speaker and face verification, Auckenthaler et al. 2000),
      so a face that merely grimaces or a generator's slow wobble stays low while another person,
      even a similar one at 0.55, stands out.
    """
    out = []
    t = app.times
    back = np.zeros(len(t), bool)
    if seq is not None and len(seq) == len(t) and seq.body_present.any():
        back = facing(seq).back
    second = getattr(app, "colors2", None)
    for r, name in enumerate(REGIONS):
        labs = app.colors[:, r]
        ok = np.isfinite(labs).all(axis=1) & ~back
        if ok.sum() < 3:
            continue
        ref = reference.colors.get(name)
        if ref is None:
            opening = ok & _opening(t)
            ref = np.median(labs[opening if opening.any() else ok][:12], axis=0)
        de = np.full(len(t), np.nan)
        de[ok] = chromatic_delta_e(labs[ok], ref)
        if second is not None:
            alt = ok & np.isfinite(second[:, r]).all(axis=1)
            if alt.any():
                de[alt] = np.minimum(de[alt], chromatic_delta_e(second[alt, r], ref))
        out.append(Series(f"color.{name}", t[ok], _running_median(t[ok], de[ok], 1.0)))
    ok = np.isfinite(app.descriptors).all(axis=1)
    if ok.sum() >= 2:
        desc, td = app.descriptors[ok], t[ok]
        opening = _opening(td)
        first = desc[opening if opening.any() else slice(0, 1)][:8]
        ref = reference.descriptor
        if ref is None:
            ref = np.median(first, axis=0)
        dist = _running_median(td, np.linalg.norm(desc - ref, axis=1), 1.0)
        out.append(Series("identity.face_distance", td, dist))
        out.append(Series("identity.person_change", td, dist / same_person_spread(first)))
    return out


def same_person_spread(desc: np.ndarray) -> float:
    """A clip's own same-person descriptor variation: the median distance of each opening descriptor
    to the median of the others (leave-one-out), at least :data:`DESCRIPTOR_FLOOR`."""
    if len(desc) < 3:
        return DESCRIPTOR_FLOOR
    loo = [np.linalg.norm(desc[i] - np.median(np.delete(desc, i, axis=0), axis=0)) for i in range(len(desc))]
    return max(DESCRIPTOR_FLOOR, float(np.median(loo)))


def reference_from_image(rgb: np.ndarray, pose: PoseSequence, source: str) -> Reference:
    """Descriptor and region colours of the subject in a reference image (its identity signature)."""
    sig = identity_signature(rgb, pose)
    ref = Reference(source=source)
    if sig["face_descriptor"] is not None:
        ref.descriptor = np.asarray(sig["face_descriptor"], np.float32)
    ref.colors = {k: np.asarray(v, np.float64) for k, v in sig["colors_lab"].items()}
    ref.thumb = jpeg(cv2.resize(rgb, (int(round(rgb.shape[1] * THUMB_H / rgb.shape[0])), THUMB_H), interpolation=cv2.INTER_AREA))
    return ref


# --- helpers -------------------------------------------------------------------------------------------
def jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """JPEG bytes of an RGB image: thumbnails are kept compressed so memory stays small on long clips."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else b""
def _nanmax(arrays: list[np.ndarray], n: int) -> np.ndarray:
    if not arrays:
        return np.full(n, np.nan)
    a = np.array(arrays)
    out = np.full(n, np.nan)
    ok = np.isfinite(a).any(axis=0)
    out[ok] = np.nanmax(a[:, ok], axis=0)
    return out


def _window(t: np.ndarray, seconds: float) -> int:
    if len(t) < 2:
        return 1
    return max(1, int(round(seconds / max(float(np.median(np.diff(t))), 1e-6))))


def _running_mean(t: np.ndarray, v: np.ndarray, seconds: float) -> np.ndarray:
    """Centred running mean ignoring NaN; NaN where the whole window is NaN."""
    win = _window(t, seconds)
    ok = np.isfinite(v)
    num = uniform_filter1d(np.where(ok, v, 0.0), win, mode="nearest")
    den = uniform_filter1d(ok.astype(float), win, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-9, num / den, np.nan)


def _running_median(t: np.ndarray, v: np.ndarray, seconds: float, min_share: float = 0.0, q: float = 0.5) -> np.ndarray:
    """Centred running median (robust to single bad samples), or another quantile ``q`` of the window.

    With ``min_share`` > 0 a value is kept only where the sample itself was measured and at least
    that share of its window (and two samples) was: one measurable frame among gaps is not evidence
    of a lasting change.
    """
    win = _window(t, seconds)
    if win <= 1 and not min_share:
        return v
    half = win // 2
    out = np.full(len(v), np.nan)
    for i in range(len(v)):
        seg = v[max(0, i - half) : i + half + 1]
        good = seg[np.isfinite(seg)]
        if min_share and not (np.isfinite(v[i]) and good.size >= max(2, min_share * seg.size)):
            continue
        if good.size:
            out[i] = np.median(good) if q == 0.5 else np.quantile(good, q)
    return out
