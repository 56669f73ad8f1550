"""Segment joins: where chunks generated one after another were joined, the light, the colour or the
framing steps from one frame to the next. Found here (the drift meter has no series for them) and
blended across.

A join is a lone step: on one frame the motion-compensated gain of a colour channel, or the
camera's step (:mod:`.track`), departs from the average of its two neighbours by far more than the
clip's own frame-to-frame noise (:data:`NOISE_K` robust standard deviations, and at least
:data:`MIN_GAIN` / :data:`MIN_SHIFT`), while the neighbours agree with each other (the clip goes on
as before, on a new level: not a pan starting, not jitter). Each step is then taken out: the
frames after the join are brought back onto the level of the frames before it (gain per channel,
and translation), so the chunks continue one another as one take — a correction of offsets, not a
cross-fade of pixels, so nothing ghosts. Only lone steps are touched: everything before the first
join, and every clip without one, passes unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A join's step must exceed this many robust standard deviations (1.4826 x MAD) of the clip's own ...
NOISE_K = 8.0
#: ... and at least this log gain (about 3 % of brightness in one channel) or this share of the diagonal.
MIN_GAIN, MIN_SHIFT = 0.03, 0.004
#: The two neighbours of a join differ by less than this share of the step.
CALM = 0.35
#: Largest framing correction (share of the diagonal) the joins may add up to.
MAX_SHIFT = 0.03


@dataclass
class Join:
    """A step at frame ``index`` (time ``t``): ``gain`` (3,) log gain per RGB channel, ``shift`` (2,)
    pixels (zeros where that part did not step)."""

    index: int
    t: float
    gain: np.ndarray
    shift: np.ndarray

    def describe(self) -> str:
        parts = []
        if np.any(self.gain):
            parts.append(f"light/colour step {100 * (np.exp(np.abs(self.gain).max()) - 1):.1f} %")
        if np.any(self.shift):
            parts.append(f"framing step {np.hypot(*self.shift):.1f} px")
        return f"join at {self.t:.2f} s: " + ", ".join(parts)


def _lone_steps(x: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Excess ``x[k] - (x[k-1] + x[k+1]) / 2`` (T, C) and whether each frame is a lone step (T,)."""
    n = len(x)
    excess = np.zeros_like(x)
    lone = np.zeros(n, bool)
    if n < 5:
        return excess, lone
    mid = x[1:-1] - 0.5 * (x[:-2] + x[2:])
    excess[1:-1] = np.where(np.isfinite(mid), mid, 0.0)
    ok = np.isfinite(mid).all(axis=1)
    if ok.sum() < 5:
        return excess, lone
    mag = np.linalg.norm(excess[1:-1], axis=1)
    noise = 1.4826 * np.median(np.abs(mag[ok] - np.median(mag[ok]))) + np.median(mag[ok])
    thr = max(NOISE_K * noise, floor)
    calm = np.linalg.norm(x[2:] - x[:-2], axis=1) < CALM * mag
    lone[1:-1] = ok & (mag > thr) & calm
    return excess, lone


def find_joins(track) -> list[Join]:
    """The joins in a tracked video (:class:`~.track.Track`), in time order."""
    diag = float(np.hypot(*track.size))
    found: dict[int, Join] = {}
    for seg in track.segments():
        g, s = track.gain[seg], track.step[seg]
        g_ex, g_lone = _lone_steps(g, MIN_GAIN)
        s_ex, s_lone = _lone_steps(s, MIN_SHIFT * diag)
        for k in np.flatnonzero(g_lone | s_lone):
            i = seg.start + int(k)
            found[i] = Join(i, float(track.t[i]), g_ex[k] if g_lone[k] else np.zeros(3), s_ex[k] if s_lone[k] else np.zeros(2))
    return [found[i] for i in sorted(found)]


def join_offsets(track, joins: list[Join]) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the log gains (T, 3) and shifts (T, 2) that take each join's step out: the frames
    after a join are brought back onto the level before it, up to the next cut (steps add up), so
    the chunks continue one another. A framing correction is capped at :data:`MAX_SHIFT` of the
    diagonal (a larger one would uncover too wide a border)."""
    t = track.t
    gain = np.zeros((len(t), 3))
    shift = np.zeros((len(t), 2))
    ends = {i: seg.stop for seg in track.segments() for i in range(seg.start, seg.stop)}
    for j in joins:
        stop = ends[j.index]
        gain[j.index:stop] -= j.gain
        shift[j.index:stop] -= j.shift
    cap = MAX_SHIFT * float(np.hypot(*track.size))
    norm = np.linalg.norm(shift, axis=1, keepdims=True)
    shift *= np.minimum(1.0, cap / np.maximum(norm, 1e-9))
    return gain, shift
