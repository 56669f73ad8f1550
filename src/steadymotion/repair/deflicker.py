"""Deflicker: brightness and colour pulsing taken out, slow (intended) lighting changes kept.

The idea of blind video temporal consistency (Bonneel et al. 2015) and of Lai et al. 2018's
flow-warped temporal loss, without learned weights and reduced to what generators get wrong most:
a global gain per colour channel. Each frame's gain against its motion-compensated predecessor
(:mod:`.track`) is summed into a brightness path per channel; its low-frequency part (below the drift
meter's flicker band, :data:`~steadymotion.drift.meter.FLICKER_HIGHPASS_HZ`, zero-phase Butterworth)
is the intended lighting, and the rest is divided out. Motion does not read as a change of light,
because the gains compare each frame with its predecessor warped onto it.

References
----------
Bonneel, Tompkin, Sunkavalli, Sun, Paris & Pfister, "Blind video temporal consistency", SIGGRAPH Asia 2015.
Lai, Huang, Wang, Shechtman, Yumer & Yang, "Learning blind video temporal consistency", ECCV 2018.
"""

from __future__ import annotations

import numpy as np

from steadymotion.drift.meter import FLICKER_HIGHPASS_HZ


def lowpass(x: np.ndarray, fps: float, cutoff_hz: float = FLICKER_HIGHPASS_HZ) -> np.ndarray:
    """Zero-phase order-2 Butterworth low-pass of ``x`` (T, ...) along time (the mean for short runs)."""
    from steadymotion.filters import butter2, sosfiltfilt  # scipy.signal's numbers without its import

    x = np.asarray(x, np.float64)
    if len(x) < 8:
        return np.broadcast_to(x.mean(axis=0), x.shape).copy() if len(x) else x.copy()
    sos = butter2(min(cutoff_hz / (fps / 2), 0.9), "lowpass")
    # even (mirror) padding: an odd extension would pin the ends to their own values, flicker and all
    return sosfiltfilt(sos, x, padtype="even", padlen=min(len(x) - 1, 3 * int(fps)))


def brightness_path(track, seg: slice) -> np.ndarray:
    """Cumulative log gain per channel (T_seg, 3) over one segment: unmeasured steps count as no change."""
    g = track.gain[seg].copy()
    g[0] = 0.0  # the first frame of a segment is its own origin
    return np.cumsum(np.where(np.isfinite(g), g, 0.0), axis=0)


def flicker_gains(track, weight: np.ndarray) -> np.ndarray:
    """Log gain per frame and channel (T, 3) that takes out pulsing faster than the flicker band,
    scaled by ``weight`` (T,) (0 outside the spans to repair)."""
    out = np.zeros((len(track), 3))
    for seg in track.segments():
        path = brightness_path(track, seg)
        out[seg] = lowpass(path, track.fps) - path
    return out * np.asarray(weight)[:, None]


#: Darkening channels map linearly up to this level of the output and bend to keep 255 at 255 above it.
KNEE = 0.8


def gain_curve(log_gain: float) -> np.ndarray:
    """The 256-entry curve of one channel multiplied by ``exp(log_gain)``, with a highlight knee when
    it darkens.

    A frame a flicker brightened lost its highlights to clipping (255 stands for anything brighter).
    Scaling it down linearly turns that white into flat grey, and a channel that clipped alone (the
    green of sunlit leaves) into a hue shift: the frame looks hazy and tinted beside its neighbours.
    So a darkening channel follows ``v * g`` up to ``KNEE * 255 * g`` and from there a cubic Hermite
    segment (value and slope continuous, monotone) to 255 at 255: mid-tones, which carry the measured
    gain, are corrected exactly and clipped white stays white (the soft shoulder of film-style tone
    curves, e.g. Reinhard et al. 2002's, fitted to this gain). Brightening is linear; what passes
    255 clips, as it does in the frames around it.
    """
    g = float(np.exp(log_gain))
    v = np.arange(256, dtype=np.float64)
    out = v * g
    if g < 1.0:
        k = KNEE * 255.0  # input level where the shoulder starts
        y0, y1, d = k * g, 255.0, 255.0 - k
        m0, m1 = g, 1.0  # end slopes: positive and under 3x the segment's mean slope (5 - 4g), so monotone (Fritsch & Carlson 1980)
        t = (v - k) / d
        hi = v > k
        tt = t[hi]
        h00, h10, h01, h11 = 2 * tt**3 - 3 * tt**2 + 1, tt**3 - 2 * tt**2 + tt, -2 * tt**3 + 3 * tt**2, tt**3 - tt**2
        out[hi] = h00 * y0 + h10 * d * m0 + h01 * y1 + h11 * d * m1
    return out


def apply_gains(img: np.ndarray, log_gain: np.ndarray) -> np.ndarray:
    """``img`` (H, W, 3) uint8 with each channel multiplied by ``exp(log_gain[c])`` (a lookup table;
    darkening keeps clipped highlights, :func:`gain_curve`)."""
    if not np.any(np.abs(log_gain) > 1e-5):
        return img
    import cv2

    v = np.stack([gain_curve(lg) for lg in np.asarray(log_gain, np.float64)], axis=1)
    lut = np.clip(np.round(v), 0, 255).astype(np.uint8).reshape(1, 256, 3)
    return cv2.LUT(img, lut)
