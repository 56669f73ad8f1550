"""Clean-up of raw landmark tracks: hand-swap repair, short-gap filling, zero-lag (or One Euro) smoothing.

Each step is optional, pure (returns a new :class:`~steadymotion.types.PoseSequence`) and works on
timestamps, so variable-frame-rate clips are handled correctly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from steadymotion.skeleton import BODY
from steadymotion.types import PoseSequence

#: Longest dropout that is filled by interpolation (seconds); longer ones stay missing.
MAX_GAP_S = 0.2


@dataclass(frozen=True)
class OneEuroParams:
    """One Euro filter settings (Casiez, Roussel & Vogel, CHI 2012).

    Positions are first divided by the part's typical size (torso height for the body, palm
    length for hands, inter-ocular width x 3 for the face), so the parameters do not depend on
    resolution or on how large the person is in the frame.

    ``min_cutoff`` (Hz) sets smoothing at rest (lower = smoother, more lag at slow speeds);
    ``beta`` raises the cut-off with speed (higher = less lag on fast moves); ``d_cutoff`` (Hz)
    filters the speed estimate.
    """

    min_cutoff: float = 1.0
    beta: float = 1.5
    d_cutoff: float = 1.0


# Tuned on limbs swinging at 0.5-2 Hz with 0.6 torso-heights amplitude and 1.2 % detector noise
# (tests/test_clean.py): jitter (RMS jerk) drops to 26-62 % with at most 1-2 frames of lag at
# 30 fps. A larger beta lags less on paper but modulates the cut-off within each swing and
# *adds* jerk on fast moves (1.4x at 2 Hz with beta=1.5). Hands are measured in palm lengths,
# which makes their speeds ~3x larger, hence the smaller beta.
BODY_FILTER = OneEuroParams(min_cutoff=2.0, beta=0.3)
HAND_FILTER = OneEuroParams(min_cutoff=2.0, beta=0.1)
FACE_FILTER = OneEuroParams(min_cutoff=1.5, beta=0.3)


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def one_euro(x: np.ndarray, t: np.ndarray, params: OneEuroParams, scale: float = 1.0) -> np.ndarray:
    """One Euro filter along axis 0 of ``x`` (T, ...), restarting after NaN gaps.

    Implements Casiez, Roussel & Vogel, "1€ Filter: A Simple Speed-based Low-pass Filter for Noisy
    Input in Interactive Systems", CHI 2012: an exponential smoother whose cut-off frequency is
    ``min_cutoff + beta * |dx/dt|``, with the derivative itself low-pass filtered at ``d_cutoff``.

    Parameters
    ----------
    x : ndarray, (T, ...) float
        Signal; NaN rows (any NaN in a sample) are gaps that reset the filter.
    t : ndarray, (T,) float
        Timestamps in seconds.
    params : OneEuroParams
    scale : float
        Units of ``x`` per unit of the parameters (e.g. the torso height in pixels).

    Returns
    -------
    ndarray, same shape as ``x``, float32
    """
    x = np.asarray(x, np.float32)
    flat = x.reshape(len(x), -1)  # a view: no copy of the (possibly long) input
    out = np.full(flat.shape, np.nan, np.float32)
    inv = np.float32(1.0 / scale)
    prev = dprev = None
    t_prev = None
    for i in range(len(x)):
        xi = flat[i] * inv
        ok = np.isfinite(xi)
        if not ok.any():
            prev = dprev = None
            continue
        if prev is None:
            prev, dprev, t_prev = xi, np.zeros_like(xi), t[i]
            out[i] = xi
            continue
        dt = max(float(t[i] - t_prev), 1e-6)
        dx = (xi - prev) / dt
        a_d = _alpha(params.d_cutoff, dt)
        dhat = np.where(np.isfinite(dx), a_d * dx + (1 - a_d) * dprev, 0.0).astype(np.float32)
        a = _alpha(params.min_cutoff + params.beta * np.abs(dhat), dt)
        xhat = np.where(ok, a * xi + (1 - a) * prev, np.nan).astype(np.float32)
        # a landmark that re-appears starts from its raw value
        restart = ok & ~np.isfinite(prev)
        xhat[restart] = xi[restart]
        dhat[restart] = 0.0
        out[i] = xhat
        prev, dprev, t_prev = np.where(ok, xhat, prev), dhat, t[i]
    out *= np.float32(scale)
    return out.reshape(x.shape)


#: Savitzky-Golay window (seconds) and polynomial order of the offline smoother. Measured on limbs
#: swinging at 0.5-3 Hz with 1.2 % detector noise (tests/test_clean.py, /tmp experiments in the
#: #13 note): at 24-30 fps it keeps 98-99 % of a 2-Hz swing's peak with no delay (One Euro: 79-82 %
#: and 1-2 frames late), cuts the frame-to-frame jerk of the error to 15-22 % (One Euro 62-99 %),
#: and leaves 0.6-0.7 % noise at rest (One Euro 0.5-0.6 %).
SG_WINDOW_S = 0.25
SG_ORDER = 3


def zero_phase_smooth(x: np.ndarray, t: np.ndarray, window_s: float = SG_WINDOW_S, order: int = SG_ORDER) -> np.ndarray:
    """Non-causal smoothing of tracks: a Savitzky-Golay filter (Savitzky & Golay 1964) per NaN-free run.

    A whole clip is known before anything is rendered, so the filter need not be causal: a local
    cubic fitted over a window centred on each frame has no delay and keeps the peaks of fast
    swings (a raised arm reaches its height), where a causal smoother trails by a frame or two and
    cuts the peaks. The window is ``window_s`` at the clip's median frame rate (at least
    ``order + 2`` samples, odd); runs between NaN gaps are filtered separately, runs too short for a
    window are left as they are. Samples are treated as evenly spaced (true of constant-rate video;
    a variable-rate clip is smoothed in frame steps).
    """
    from steadymotion.filters import savgol_filter  # scipy.signal's, without its ~0.4-s import

    x = np.asarray(x, np.float32)
    flat = x.reshape(len(x), -1)
    out = flat.copy()
    if len(x) < 3:
        return out.reshape(x.shape)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 1 / 30
    win = max(order + 2, int(round(window_s / max(dt, 1e-6))))
    win += 1 - win % 2
    ok = np.isfinite(flat)
    # each column's NaN-free runs (columns of one landmark share their gaps, so group by pattern)
    patterns: dict[bytes, list[int]] = {}
    for j in range(flat.shape[1]):
        patterns.setdefault(np.packbits(ok[:, j]).tobytes(), []).append(j)
    for cols in patterns.values():
        good = ok[:, cols[0]]
        edges = np.flatnonzero(np.diff(np.r_[0, good.astype(np.int8), 0]))
        for s0, s1 in zip(edges[::2], edges[1::2]):
            n = s1 - s0
            w = min(win, n if n % 2 else n - 1)
            if w < order + 2:
                continue
            out[s0:s1, cols] = savgol_filter(flat[s0:s1, cols], w, order)
    return out.reshape(x.shape)


def _part_scale(points: np.ndarray, a: int | tuple, b: int | tuple) -> float:
    """Median distance between two landmarks (or landmark midpoints) over the present frames."""

    def pick(i):
        return points[:, list(i), :2].mean(axis=1) if isinstance(i, tuple) else points[:, i, :2]

    d = np.linalg.norm(pick(a) - pick(b), axis=-1)
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.median(d)) if d.size else 1.0


def smooth_pose(seq: PoseSequence, body: OneEuroParams = BODY_FILTER, hands: OneEuroParams = HAND_FILTER,
                face: OneEuroParams = FACE_FILTER, *, causal: bool = False) -> PoseSequence:
    """Return ``seq`` with One Euro filtering applied to every part (x, y, z; not visibility).

    Offline clips are smoothed without delay (:func:`zero_phase_smooth`); ``causal=True`` gives
    the streaming One Euro filter, which trails fast moves by a frame or two.
    """
    out = seq.copy()
    if not causal:
        t = seq.times
        out.body[..., :3] = zero_phase_smooth(seq.body[..., :3], t)
        for k in range(2):
            out.hands[:, k] = zero_phase_smooth(seq.hands[:, k], t)
        out.face = zero_phase_smooth(seq.face, t)
        if seq.world is not None:
            out.world = zero_phase_smooth(seq.world, t)
        return out
    t = seq.times
    shoulders, hips = (BODY["left_shoulder"], BODY["right_shoulder"]), (BODY["left_hip"], BODY["right_hip"])
    torso = _part_scale(seq.body, shoulders, hips)
    out.body[..., :3] = one_euro(seq.body[..., :3], t, body, torso)
    for k in range(2):
        palm = _part_scale(seq.hands[:, k], 0, 9)  # wrist to middle-finger base
        out.hands[:, k] = one_euro(seq.hands[:, k], t, hands, palm)
    eyes = _part_scale(seq.face, 33, 263) * 3.0  # outer eye corners, ~ face width
    out.face = one_euro(seq.face, t, face, eyes)
    return out


def _fill_track(values: np.ndarray, present: np.ndarray, t: np.ndarray, max_gap_s: float):
    """Linearly interpolate (in time) runs of missing frames bounded by detections on both sides."""
    filled = np.zeros_like(present)
    idx = np.flatnonzero(present)
    if idx.size < 2:
        return values, present, filled
    values, present = values.copy(), present.copy()
    gaps = np.flatnonzero(np.diff(idx) > 1)
    for g in gaps:
        a, b = idx[g], idx[g + 1]
        # the dropout lasts from the first missing frame to the last one
        if t[b - 1] - t[a + 1] > max_gap_s - 1e-9:
            continue
        w = ((t[a + 1 : b] - t[a]) / (t[b] - t[a])).reshape((-1,) + (1,) * (values.ndim - 1))
        values[a + 1 : b] = (1 - w) * values[a] + w * values[b]
        present[a + 1 : b] = True
        filled[a + 1 : b] = True
    return values, present, filled


def fill_pose_gaps(seq: PoseSequence, max_gap_s: float = MAX_GAP_S) -> PoseSequence:
    """Fill dropouts of at most ``max_gap_s`` seconds by linear interpolation between detections.

    Filled frames are marked in ``body_filled`` / ``hands_filled`` / ``face_filled``. Gaps at the
    start or end of the clip, or longer than ``max_gap_s``, stay missing (NaN).
    """
    out = seq.copy()
    t = seq.times
    out.body, out.body_present, f = _fill_track(seq.body, seq.body_present, t, max_gap_s)
    out.body_filled = seq.body_filled | f
    if seq.world is not None:
        out.world = _fill_track(seq.world, seq.body_present, t, max_gap_s)[0]
    for k in range(2):
        v, p, f = _fill_track(seq.hands[:, k], seq.hands_present[:, k], t, max_gap_s)
        out.hands[:, k], out.hands_present[:, k] = v, p
        out.hands_filled[:, k] = seq.hands_filled[:, k] | f
    out.face, out.face_present, f = _fill_track(seq.face, seq.face_present, t, max_gap_s)
    out.face_filled = seq.face_filled | f
    return out


def repair_hand_swaps(seq: PoseSequence, margin: float = 0.5) -> PoseSequence:
    """Put each detected hand on the side whose body wrist it belongs to.

    Holistic occasionally labels the left hand as the right one (crossed arms, hands near each
    other, a mirrored pose). For every frame with a body, the assignment of detected hands to the
    body's left/right wrists that minimises total wrist-to-hand-root distance is chosen; a hand
    only moves when the alternative is clearly better (its cost is less than ``margin`` times the
    current one). Frames without a body are left as they are.

    Returns a new sequence; the number of frames changed is in ``meta["hand_swaps_repaired"]``.
    """
    out = seq.copy()
    lw, rw = BODY["left_wrist"], BODY["right_wrist"]
    changed = 0
    for i in np.flatnonzero(seq.body_present):
        wrists = seq.body[i, [lw, rw], :2]
        if not np.isfinite(wrists).all():
            continue
        pres = seq.hands_present[i]
        roots = seq.hands[i, :, 0, :2]
        if pres.all():
            keep = np.linalg.norm(roots[0] - wrists[0]) + np.linalg.norm(roots[1] - wrists[1])
            swap = np.linalg.norm(roots[0] - wrists[1]) + np.linalg.norm(roots[1] - wrists[0])
            do = swap < margin * keep
        elif pres.any():
            k = int(np.flatnonzero(pres)[0])
            do = np.linalg.norm(roots[k] - wrists[1 - k]) < margin * np.linalg.norm(roots[k] - wrists[k])
        else:
            continue
        if do:
            out.hands[i] = seq.hands[i, ::-1]
            out.hands_present[i] = seq.hands_present[i, ::-1]
            out.hands_filled[i] = seq.hands_filled[i, ::-1]
            changed += 1
    out.meta["hand_swaps_repaired"] = changed
    return out


def clean_sequence(seq: PoseSequence, *, smooth: bool = True, fill_gaps: bool = True, repair_hands: bool = True) -> PoseSequence:
    """Apply the clean-up steps in their proper order: repair swaps, fill gaps, then smooth."""
    if repair_hands:
        seq = repair_hand_swaps(seq)
    if fill_gaps:
        seq = fill_pose_gaps(seq)
    if smooth:
        seq = smooth_pose(seq)
    seq.meta.update({"smoothed": smooth, "gaps_filled": fill_gaps, "hands_repaired": repair_hands})
    return seq
