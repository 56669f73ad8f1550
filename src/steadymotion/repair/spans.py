"""Where and how strongly each repair acts: time spans from the drift meter's events, as weights
that ramp in and out smoothly (a correction never switches on from one frame to the next)."""

from __future__ import annotations

import numpy as np

#: Seconds added before and after an event (the meter's onsets are good to about ±0.5 s).
MARGIN_S = 0.5
#: Seconds over which a repair fades in before a span and out after it (raised cosine).
RAMP_S = 0.5


def event_spans(report, kind: str, series: str | None = None) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of the report's events of ``kind`` (and ``series``, when given)."""
    return [(e.start_s, e.end_s) for e in report.events if e.kind == kind and (series is None or e.series == series)]


def span_weights(t: np.ndarray, spans, margin_s: float = MARGIN_S, ramp_s: float = RAMP_S) -> np.ndarray:
    """Weight in [0, 1] of a repair at times ``t`` (T,): 1 inside each span grown by ``margin_s``,
    falling to 0 over ``ramp_s`` outside it along a raised cosine (smooth: no frame-to-frame pop)."""
    t = np.asarray(t, np.float64)
    w = np.zeros(len(t))
    for a, b in spans:
        a, b = a - margin_s, b + margin_s
        d = np.maximum(a - t, t - b)  # distance outside the span (<= 0 inside)
        x = np.clip(d / max(ramp_s, 1e-9), 0.0, 1.0)
        w = np.maximum(w, np.where(d <= 0, 1.0, 0.5 * (1 + np.cos(np.pi * x))))
    return w


def spans_of(weight: np.ndarray, t: np.ndarray) -> list[tuple[float, float]]:
    """The time ranges where ``weight`` > 0 (for reports)."""
    on = np.asarray(weight) > 1e-6
    out = []
    i = 0
    while i < len(on):
        if on[i]:
            j = i
            while j + 1 < len(on) and on[j + 1]:
                j += 1
            out.append((float(t[i]), float(t[j])))
            i = j + 1
        else:
            i += 1
    return out
