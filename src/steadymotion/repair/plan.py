"""What to repair, where and by how much: the drift meter's events and the tracked frames turned
into per-frame corrections (:class:`RepairPlan`), and those corrections applied to one frame.

Only what was found is touched: flicker, colour and jitter only inside (ramped) spans of the
meter's events of that kind (colour only up to the first cut: after it comes another shot), joins only where :func:`~.joins.find_joins` sees a step far above the
clip's own noise. Everywhere else a frame goes through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from steadymotion.errors import InvalidOptionError
from steadymotion.repair.colour import (
    REGION_SERIES, FrameCorrection, RegionCorrection, frame_correction, recolour, region_corrections, region_keys,
)
from steadymotion.repair.deflicker import apply_gains, flicker_gains
from steadymotion.repair.joins import Join, find_joins, join_offsets
from steadymotion.repair.spans import event_spans, span_weights, spans_of
from steadymotion.repair.stabilise import jitter_shifts, shift_frame

#: What ``steadymotion repair`` can undo (``--only`` takes a comma-separated subset).
REPAIR_KINDS = ("flicker", "color", "jitter", "joins")


def parse_kinds(only) -> tuple[str, ...]:
    """``"flicker,color"`` (or a list) -> the kinds to repair, validated; ``None`` -> all."""
    if only is None:
        return REPAIR_KINDS
    items = [k.strip().lower() for k in (only.split(",") if isinstance(only, str) else only)]
    items = ["color" if k == "colour" else k for k in items if k]
    bad = [k for k in items if k not in REPAIR_KINDS]
    if bad or not items:
        raise InvalidOptionError(f"--only takes a comma-separated list of {', '.join(REPAIR_KINDS)}; got {only!r}")
    return tuple(k for k in REPAIR_KINDS if k in items)


@dataclass
class RepairPlan:
    """Per-frame corrections of a video of ``T`` frames (zeros where nothing is done).

    Attributes
    ----------
    t : ndarray (T,)
    gain : ndarray (T, 3)
        Log gain per RGB channel (deflicker + joins).
    shift : ndarray (T, 2)
        Pixels each frame is moved (stabilisation + joins).
    regions : list of RegionCorrection
    frame : FrameCorrection or None
        Whole-frame exposure / saturation.
    joins : list of Join
    spans : dict
        kind -> ``[(start_s, end_s), ...]`` where that repair acts (ramps included).
    """

    t: np.ndarray
    gain: np.ndarray
    shift: np.ndarray
    regions: list[RegionCorrection] = field(default_factory=list)
    frame: FrameCorrection | None = None
    joins: list[Join] = field(default_factory=list)
    spans: dict = field(default_factory=dict)
    cuts: np.ndarray | None = None  # (T,) bool: a cut before the frame (nothing is carried across it)
    #: region -> (T, 3) CIELAB: every measured region's current colour (the colour keys compete)
    keys: dict = field(default_factory=dict)
    #: (T,) bool: frames moved onto a smoothed path, whose uncovered border the previous repaired
    #: frame fills (a lasting shift, such as a join's, reflects the image's own edge instead)
    steady: np.ndarray | None = None

    def empty(self) -> bool:
        return not any(self.spans.values())

    def summary(self) -> dict:
        """Per kind: the spans and the largest correction (in words-friendly units)."""
        out = {}
        for kind, spans in self.spans.items():
            if not spans:
                continue
            d = {"spans": [[round(a, 2), round(b, 2)] for a, b in spans]}
            if kind == "flicker" or kind == "joins":
                d["max_gain_pct"] = round(float(100 * (np.exp(np.abs(self.gain).max()) - 1)), 2)
            if kind in ("jitter", "joins"):
                d["max_shift_px"] = round(float(np.linalg.norm(self.shift, axis=1).max()), 2)
            if kind == "color":
                d["regions"] = {c.region: round(float(np.linalg.norm(c.shift, axis=1).max()), 2) for c in self.regions}
                if self.frame is not None:
                    d["exposure_dl_max"] = round(float(np.abs(self.frame.dl).max()), 2)
            if kind == "joins":
                d["joins"] = [j.describe() for j in self.joins]
            out[kind] = d
        return out

    def touches(self, i: int) -> bool:
        if i >= len(self.t):
            return False
        return (bool(np.any(np.abs(self.gain[i]) > 1e-5)) or bool(np.any(np.abs(self.shift[i]) >= 0.05))
                or any(c.active()[i] for c in self.regions) or (self.frame is not None and bool(self.frame.active()[i])))


def plan_repairs(report, track, kinds=REPAIR_KINDS) -> RepairPlan:
    """The corrections for a video: ``report`` its :class:`~steadymotion.drift.DriftReport` (with
    ``tracking`` for colour), ``track`` its :class:`~.track.Track`, ``kinds`` what to repair."""
    t = track.t
    n = len(t)
    gain = np.zeros((n, 3))
    shift = np.zeros((n, 2))
    spans: dict[str, list] = {k: [] for k in kinds}
    plan = RepairPlan(t=t, gain=gain, shift=shift, spans=spans, cuts=track.cut)
    if "flicker" in kinds:
        w = span_weights(t, event_spans(report, "flicker"))
        gain += flicker_gains(track, w)
        spans["flicker"] = spans_of(w, t)
    if "jitter" in kinds:
        w = span_weights(t, event_spans(report, "jitter", "jitter.camera"))
        shift += jitter_shifts(track, w)
        spans["jitter"] = spans_of(w, t)
        plan.steady = w > 0
    if "joins" in kinds:
        plan.joins = find_joins(track)
        if plan.joins:
            g, s = join_offsets(track, plan.joins)
            gain += g
            shift += s
            spans["joins"] = spans_of(np.abs(g).sum(axis=1) + np.abs(s).sum(axis=1), t)
    if "color" in kinds:
        # the reference (the opening, or an image of the subject) holds only up to the first cut:
        # after it comes another shot, whose colours are not drift
        same_shot = (t < t[track.cut][0]).astype(float) if track.cut.any() else np.ones(n)
        weights = {}
        tracking = getattr(report, "tracking", None)
        if tracking is not None and len(tracking.app.times):
            for region, series in REGION_SERIES.items():
                ev = event_spans(report, "color", series)
                if ev:
                    weights[region] = span_weights(t, ev) * same_shot
            plan.regions = region_corrections(tracking, t, weights)
            plan.keys = region_keys(tracking, t) if plan.regions else {}
        we = span_weights(t, event_spans(report, "color", "color.exposure")) * same_shot
        ws = span_weights(t, event_spans(report, "color", "color.saturation")) * same_shot
        if we.any() or ws.any():
            plan.frame = frame_correction(track, we, ws)
            if not plan.frame.active().any():
                plan.frame = None
        on = np.zeros(n, bool)
        for c in plan.regions:
            on |= c.active()
        if plan.frame is not None:
            on |= plan.frame.active()
        spans["color"] = spans_of(on.astype(float), t)
    return plan


def repair_frame(plan: RepairPlan, img: np.ndarray, i: int, t: float, previous: np.ndarray | None, seq=None,
                 person_prob=None) -> np.ndarray:
    """Frame ``i`` repaired: colour re-anchored, gains divided out, moved onto the steady path (its
    uncovered border from ``previous``, the last repaired frame, when given and the frame is being
    stabilised; else the image's own edge reflected)."""
    if i >= len(plan.t):
        return img
    out = img
    if plan.regions or plan.frame is not None:
        out = recolour(out, i, t, plan.regions, plan.frame, seq, person_prob, plan.keys)
    out = apply_gains(out, plan.gain[i])
    steady = plan.steady is not None and bool(plan.steady[i])
    return shift_frame(out, plan.shift[i], previous if steady else None)
