"""What the repairs need to know of every frame: one streaming pass at a small working size.

Per frame, against the previous one: the motion-compensated gain of each colour channel (the
previous frame warped onto the current one by DIS optical flow, occlusions masked by forward-backward
consistency, as the drift meter's flicker measure does, Lai et al. 2018), the camera's step (the
background homography's motion where the background is, as the drift meter's camera path), the
frame's mean CIELAB colour, and cuts. Memory stays flat: only the previous small frame is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from steadymotion.drift.meter import FLOW_SIDE, SEG_RATE, _background_homography, _consistent_flow
from steadymotion.io.video import VideoReader
from steadymotion.perception.scene import CUT_SCORE, histogram_change, hsv_histogram
from steadymotion.perception.segmentation import PersonSegmenter


@dataclass
class Track:
    """Per-frame measurements of a video (``T`` frames).

    Attributes
    ----------
    t : ndarray (T,) float64
        Frame times (seconds).
    gain : ndarray (T, 3) float64
        Log gain of each RGB channel against the motion-compensated previous frame (NaN: not
        measurable, and on the first frame and after cuts).
    step : ndarray (T, 2) float64
        Image motion of the background since the previous frame, in pixels of the full frame
        (NaN where too little textured background shows).
    lab : ndarray (T, 3) float64
        Mean CIELAB (L* 0-100) of the frame.
    chroma : ndarray (T,) float64
        Mean CIELAB chroma C* of the frame (as the drift meter's ``color.saturation``).
    cut : ndarray (T,) bool
        A cut before this frame.
    size : (width, height)
        Full frame size.
    fps : float
    """

    t: np.ndarray
    gain: np.ndarray
    step: np.ndarray
    lab: np.ndarray
    chroma: np.ndarray
    cut: np.ndarray
    size: tuple[int, int]
    fps: float

    def __post_init__(self) -> None:
        n = len(self.t)
        for name, shape in (("gain", (n, 3)), ("step", (n, 2)), ("lab", (n, 3)), ("chroma", (n,)), ("cut", (n,))):
            if getattr(self, name).shape != shape:
                raise ValueError(f"Track.{name} must have shape {shape}, got {getattr(self, name).shape}")

    def __len__(self) -> int:
        return len(self.t)

    def segments(self) -> list[slice]:
        """Frame ranges between cuts (each repaired on its own: nothing carries across a cut)."""
        starts = [0] + [int(i) for i in np.flatnonzero(self.cut) if i > 0] + [len(self)]
        return [slice(a, b) for a, b in zip(starts[:-1], starts[1:]) if b > a]


def track_video(video, progress: Callable[[int, int], None] | None = None, end_s: float | None = None) -> Track:
    """Stream ``video`` once at :data:`~steadymotion.drift.meter.FLOW_SIDE` px and measure every frame (:class:`Track`).

    The drift meter's frame pass measures the same on the frames it reads anyway when asked
    (``analyze_video(..., keep_track=True)``, as ``steadymotion repair`` does): same flow, masks and numbers.
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    segmenter = PersonSegmenter("landscape")
    t, gains, steps, labs, chromas, cuts = [], [], [], [], [], []
    prev = prev_grey = prev_hist = person = None
    next_seg = 0.0
    try:
        with VideoReader(video, max_side=FLOW_SIDE, end_s=end_s) as reader:
            w, h = reader.output_size
            full_w = reader.info.width
            scale = full_w / w
            total = reader.info.frame_count or 0
            for frame in reader:
                small = frame.image
                grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
                hist = hsv_histogram(small)
                cut = prev_grey is not None and histogram_change(prev_hist, hist) > CUT_SCORE
                if person is None or frame.t >= next_seg:
                    person = segmenter.mask(small, threshold=0.3, grow=0.04)
                    next_seg = frame.t + 1.0 / SEG_RATE
                gain = np.full(3, np.nan)
                step = np.full(2, np.nan)
                if prev_grey is not None and not cut:
                    gain, step = _frame_step(dis, prev, prev_grey, small, grey, person)
                t.append(frame.t)
                gains.append(gain)
                steps.append(step * scale)
                lab_mean, chroma = frame_colour(small)
                labs.append(lab_mean)
                chromas.append(chroma)
                cuts.append(cut)
                prev, prev_grey, prev_hist = small, grey, hist
                if progress is not None and frame.index % 10 == 0:
                    progress(frame.index + 1, max(total, frame.index + 1))
            size = (reader.info.width, reader.info.height)
            fps = float(reader.fps)
    finally:
        segmenter.close()
    if progress is not None and t:
        progress(len(t), len(t))
    return assemble(t, gains, steps, labs, chromas, cuts, size, fps)


def frame_colour(small: np.ndarray) -> tuple[np.ndarray, float]:
    """Mean 8-bit CIELAB and mean chroma of a small frame (every other pixel), as :class:`Track` keeps them."""
    lab8 = cv2.cvtColor(small[::2, ::2], cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    return lab8.mean(axis=0), float(np.hypot(lab8[:, 1] - 128, lab8[:, 2] - 128).mean())


def assemble(t, gains, steps, labs, chromas, cuts, size: tuple[int, int], fps: float) -> Track:
    """A :class:`Track` from per-frame lists (``labs`` in OpenCV's 8-bit CIELAB, :func:`frame_colour`)."""
    lab = np.array(labs, np.float64).reshape(-1, 3)
    if len(lab):  # OpenCV's 8-bit CIELAB: L* x 255/100, a*, b* + 128
        lab[:, 0] *= 100 / 255
        lab[:, 1:] -= 128
    return Track(t=np.array(t, np.float64), gain=np.array(gains, np.float64).reshape(-1, 3),
                 step=np.array(steps, np.float64).reshape(-1, 2), lab=lab, chroma=np.array(chromas, np.float64), cut=np.array(cuts, bool), size=size, fps=fps)


def _frame_step(dis, prev: np.ndarray, prev_grey: np.ndarray, cur: np.ndarray, grey: np.ndarray, person: np.ndarray):
    """Per-channel log gain against the motion-compensated previous frame, and the background's step.

    The gain of channel ``c`` is ``log(mean(cur_c) / mean(warped_prev_c))`` over pixels whose flow is
    consistent both ways and that are neither dark nor saturated in any channel (the drift meter's
    brightness measure, per channel). The step is the background homography's motion at the
    background's centroid (:func:`~steadymotion.drift.meter._background_homography`).
    """
    bwd, mx, my, valid = _consistent_flow(dis, prev_grey, grey)
    gain = np.full(3, np.nan)
    step = np.full(2, np.nan)
    if valid.mean() < 0.2:
        return gain, step
    gain = channel_gain(prev, cur, mx, my, valid)
    fit = _background_homography(bwd, grey, valid & ~person)
    if fit is not None:
        H, src, _ = fit
        centre = src.mean(axis=0)[None, None].astype(np.float32)
        step = (cv2.perspectiveTransform(centre, H)[0, 0] - centre[0, 0]).astype(np.float64)
    return gain, step


def channel_gain(prev: np.ndarray, cur: np.ndarray, mx: np.ndarray, my: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Log gain of each RGB channel of ``cur`` against ``prev`` warped onto it by the backward flow
    sampling grid ``(mx, my)``, over ``valid`` pixels neither dark (<= 5) nor saturated (>= 250) in
    any channel of either frame (NaN when fewer than 50 such pixels)."""
    warped = cv2.remap(prev, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ok = valid & _unclipped(warped) & _unclipped(cur)
    if ok.sum() <= 50:
        return np.full(3, np.nan)
    a = cur[ok].astype(np.float64).mean(axis=0)
    b = warped[ok].astype(np.float64).mean(axis=0)
    return np.log((a + 1.0) / (b + 1.0))


def _unclipped(rgb: np.ndarray) -> np.ndarray:
    """Pixels whose every channel is in 6..249 (channel by channel: a reduction over the 3-long last
    axis, ``rgb.min(axis=2)``, costs several times more)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    lo = np.minimum(np.minimum(r, g), b)
    hi = np.maximum(np.maximum(r, g), b)
    return (lo > 5) & (hi < 250)
