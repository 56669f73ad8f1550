"""From series to events and scores.

Each series is segmented with PELT change-point detection (Killick, Fearnhead & Eckley 2012, as
implemented by ``ruptures``; linear in the series' length, see :func:`segments`) under an L2 cost, with a BIC-like penalty scaled by the series' own
noise level; a segment whose level departs from "no drift" by at least the series' ``minor``
threshold, for at least ``min_event_s``, becomes an event whose severity follows the thresholds.
Cuts come straight from the pixel pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from steadymotion.drift.series import KINDS, SEVERITIES, Series

SEVERITY_WEIGHT = {"minor": 8.0, "major": 25.0, "severe": 50.0}


@dataclass
class DriftEvent:
    """``{kind, start_s, end_s, severity, score, detail}``: what drifted, when, how badly.

    ``score`` is how far past the ``minor`` threshold the segment went (1.0 = at the threshold).
    ``peak_s`` is when the series departed most; ``box`` (normalised ``x0, y0, x1, y1``, or None)
    is where in the frame, for series that know it (structural defects).
    """

    kind: str
    start_s: float
    end_s: float
    severity: str
    score: float
    detail: str
    series: str = ""
    peak_s: float | None = None
    box: list[float] | None = None
    crop: bytes | None = field(default=None, repr=False)  # JPEG close-up for the HTML report

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("crop")
        d["start_s"], d["end_s"], d["score"] = round(self.start_s, 2), round(self.end_s, 2), round(self.score, 3)
        d["peak_s"] = round(self.start_s if self.peak_s is None else self.peak_s, 2)
        d["box"] = None if self.box is None else [round(float(x), 4) for x in self.box]
        return d


def _fill(v: np.ndarray) -> np.ndarray:
    ok = np.isfinite(v)
    if ok.all():
        return v.astype(float)
    idx = np.arange(len(v))
    return np.interp(idx, idx[ok], v[ok])


#: Longest stretch of a series segmented in one exact PELT pass (about 2.5 min at 25 fps); longer
#: series are segmented window by window, which keeps the cost linear in their length.
WINDOW = 4096
#: Change points this close to a window's far end are left to the next window, which sees both sides.
MARGIN = 512


def _pelt(x: np.ndarray, pen: float, min_size: int) -> list[int]:
    """Exact penalised L2 segmentation of ``x`` (breakpoints, the last one ``len(x)``).

    ruptures' kernel change-point detection with a linear kernel minimises the same L2 cost as
    ``Pelt(model="l2")`` under the same penalty, in compiled code (Celisse et al. 2018; Arlot,
    Celisse & Harchaoui 2019): the same segmentation, thousands of times faster. Its compiled
    routine is called directly (:func:`_kernel_pelt`), as ``KernelCPD(kernel="linear",
    min_size=min_size).fit(x).predict(pen=pen)`` calls it.
    """
    pelt = _kernel_pelt()
    if pelt is None:  # pragma: no cover - a ruptures whose layout differs
        import ruptures as rpt

        return rpt.KernelCPD(kernel="linear", min_size=min_size).fit(x.reshape(-1, 1)).predict(pen=pen)
    if len(x) < 2 * min_size:  # KernelCPD's sanity check
        raise ValueError(f"{len(x)} samples cannot hold two segments of at least {min_size}")
    path = pelt(np.ascontiguousarray(x, dtype=np.double).reshape(-1, 1), float(pen), int(min_size))
    bkps, end = [], len(x)
    while end > 0:
        bkps.append(int(end))
        end = path[end]
    return bkps[::-1]


_KERNEL_PELT: list = []


def _kernel_pelt():
    """ruptures' compiled linear-kernel PELT (``ekcpd_pelt_L2``, what ``KernelCPD(kernel="linear")``
    runs for a penalty), loaded from its extension module without ``import ruptures``: the package's
    ``__init__`` imports every detector and, with them, scipy.stats, scipy.signal and scipy.optimize
    (~0.5 s of CPU, at the end of every analysis, when the other core is idle). None where the
    installed ruptures is laid out differently (the caller then imports the package)."""
    if not _KERNEL_PELT:
        fn = None
        try:
            import importlib.machinery
            import importlib.util
            import sys
            from pathlib import Path

            name = "ruptures.detection._detection.ekcpd"
            mod = sys.modules.get(name)
            spec = importlib.util.find_spec("ruptures") if mod is None else None
            if spec is not None and spec.submodule_search_locations:
                folder = Path(next(iter(spec.submodule_search_locations))) / "detection" / "_detection"
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    if (folder / f"ekcpd{suffix}").is_file():
                        loader = importlib.machinery.ExtensionFileLoader(name, str(folder / f"ekcpd{suffix}"))
                        mod = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
                        loader.exec_module(mod)
                        break
            fn = getattr(mod, "ekcpd_pelt_L2", None)
        except (ImportError, OSError):  # pragma: no cover
            fn = None
        _KERNEL_PELT.append(fn)
    return _KERNEL_PELT[0]


def _l2(x: np.ndarray) -> float:
    return float(((x - x.mean()) ** 2).sum())


def segments(values: np.ndarray, min_size: int = 3) -> list[tuple[int, int]]:
    """Change-point segments ``[(start, end), ...]`` (end exclusive) of a 1-D signal.

    PELT (Killick, Fearnhead & Eckley 2012) under an L2 cost, with a BIC-like penalty scaled by
    the series' robust noise level (MAD of the first difference).

    Notes
    -----
    PELT's cost grows with the square of the length when a series has few change points, so a
    series longer than :data:`WINDOW` is solved window by window: each window is segmented
    exactly, its change points up to :data:`MARGIN` samples before its end are kept, and the next
    window starts at the last one kept; the optimal segmentation after a change point does not
    depend on what lies before it, so this is exact unless a window's end moved a change point
    more than ``MARGIN`` samples away. A window without any change point is cut at
    ``WINDOW - MARGIN``, and such cuts are removed again afterwards whenever that lowers the
    penalised cost. The penalty and noise level are those of the whole series.
    """
    n = len(values)
    if n < 2 * min_size:
        return [(0, n)]
    x = _fill(values)
    x = x - np.median(x)  # the L2 cost is shift-invariant; centring keeps its running sums exact
    noise = np.median(np.abs(np.diff(x))) / (0.6745 * np.sqrt(2)) if n > 2 else 0.0
    sigma2 = max(noise**2, 1e-4 * (np.var(x) + 1e-12), 1e-12)
    pen = 3.0 * sigma2 * np.log(n)
    bkps: list[int] = []
    forced: set[int] = set()
    start = 0
    while n - start > WINDOW:
        local = [start + b for b in _pelt(x[start:start + WINDOW], pen, min_size)[:-1] if b <= WINDOW - MARGIN]
        if not local:
            local = [start + WINDOW - MARGIN]
            forced.add(local[0])
        bkps += local
        start = local[-1]
    bkps += [start + b for b in _pelt(x[start:], pen, min_size)]
    for b in sorted(forced):
        i = bkps.index(b)
        a, c = (bkps[i - 1] if i else 0), bkps[i + 1]
        if _l2(x[a:c]) <= _l2(x[a:b]) + _l2(x[b:c]) + pen:
            bkps.pop(i)
    starts = [0] + bkps[:-1]
    return list(zip(starts, bkps))


def series_events(s: Series) -> list[DriftEvent]:
    """Events of one series (see the module docstring)."""
    spec = s.spec
    v = s.values.astype(float)
    ok = np.isfinite(v)
    if ok.sum() < 3:
        return []
    t = s.t
    base = 0.0
    if spec.baseline == "start":
        opening = t <= t[0] + max(1.0, 0.15 * (t[-1] - t[0]))
        base = float(np.nanmedian(v[opening])) if np.isfinite(v[opening]).any() else 0.0
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    # 1) level of each change-point segment; 2) neighbouring segments past the minor threshold are
    # joined into one run (PELT may cut one drift into pieces); 3) the run's severity follows its
    # median departure, and only runs lasting min_event_s count
    runs: list[list] = []  # [start_s, end_s, [departures], [weights], first sample, end sample]
    for a, b in segments(v, min_size=max(2, int(round(min(spec.min_event_s, 0.5) / max(dt, 1e-6))))):
        seg = v[a:b][np.isfinite(v[a:b])]
        if seg.size < max(2, 0.5 * (b - a)):
            continue  # mostly a gap: not measurable there, which is not drift
        level = float(np.median(seg))
        departure = abs(level - base) if spec.baseline == "start" else level
        if spec.severity(departure) is None:
            continue
        start, end = float(t[a]), float(t[b - 1]) + dt
        if runs and start - runs[-1][1] <= 2 * dt + 1e-6:
            runs[-1][1] = end
            runs[-1][2].append(departure)
            runs[-1][3].append(b - a)
            runs[-1][5] = b
        else:
            runs.append([start, end, [departure], [b - a], a, b])
    ref_words = "the opening" if spec.baseline == "start" else "reference"
    events = []
    for start, end, deps, weights, a, b in runs:
        if end - start < spec.min_event_s - 1e-9:
            continue
        order = np.argsort(deps)
        cum = np.cumsum(np.array(weights)[order])
        typical = float(np.array(deps)[order][np.searchsorted(cum, cum[-1] / 2)])  # duration-weighted median
        sev = spec.severity(typical) or "minor"
        start = _onset(s, a, base)
        peak, box = _peak(s, a, b, base)
        crop = None
        if s.crops:  # the close-up nearest the peak, within the run
            inside = [i for i in s.crops if a <= i < b]
            if inside and peak is not None:
                crop = s.crops[min(inside, key=lambda i: abs(s.t[i] - peak))]
        events.append(DriftEvent(spec.kind, start, end, sev, max(deps) / spec.minor,
                                 f"{spec.what} {typical:.2f} {spec.unit} vs {ref_words} (peak {max(deps):.2f}; minor from {spec.minor:g})",
                                 s.name, peak_s=peak, box=box, crop=crop))
    return events


#: Onset refinement: step back over samples already past this share of the minor threshold, at most
#: this many seconds.
ONSET_SHARE, ONSET_BACK_S = 0.6, 0.5


def _onset(s: Series, a: int, base: float) -> float:
    """Where a change began: from the run's first sample, step back over the samples already past
    60 % of the minor threshold (at most :data:`ONSET_BACK_S`). A drift that creeps in (a colour turning
    over half a second, a melt growing) starts where it begins to rise, not where its running median
    crosses the threshold — the two-threshold (hysteresis) onset of a Schmitt trigger."""
    spec, v, t = s.spec, s.values, s.t
    k = a
    while k > 0 and t[a] - t[k - 1] <= ONSET_BACK_S + 1e-9 and np.isfinite(v[k - 1]):
        dep = abs(float(v[k - 1]) - base) if spec.baseline == "start" else float(v[k - 1])
        if dep < ONSET_SHARE * spec.minor:
            break
        k -= 1
    return float(t[k])


def _peak(s: Series, a: int, b: int, base: float) -> tuple[float | None, list[float] | None]:
    """Time of the largest departure in samples ``a:b``, and the series' box there (or the nearest
    sample in the run that has one)."""
    dep = np.abs(s.values[a:b].astype(float) - base)
    if not np.isfinite(dep).any():
        return None, None
    k = a + int(np.nanargmax(dep))
    box = None
    if s.boxes is not None:
        have = np.nonzero(np.isfinite(s.boxes[a:b]).all(axis=1))[0] + a
        if have.size:
            j = int(have[np.argmin(np.abs(have - k))])
            box = [float(x) for x in s.boxes[j]]
            k = j if box is not None else k
    return float(s.t[k]), box


def cut_events(cuts: list[float]) -> list[DriftEvent]:
    return [DriftEvent("cut", t, t, "major", 1.0, f"hard cut at {t:.2f} s (the scene changes between two frames)", "cut") for t in cuts]


def kind_scores(events: list[DriftEvent], duration_s: float, measured: set[str]) -> dict[str, float | None]:
    """Score per kind, 0-100 (100 = no drift); ``None`` for kinds that could not be measured.

    Each event takes ``weight(severity) x (0.4 + 0.6 x share of the clip it covers)`` points off
    its kind (minor 8, major 25, severe 50), so one brief minor event costs ~3 points and a severe
    drift over the whole clip costs 50. The overall score is the mean of the measured kinds pulled
    halfway towards the worst one, so a single collapsed kind cannot hide behind good ones.
    """
    scores: dict[str, float | None] = {}
    for kind in KINDS:
        if kind not in measured and kind != "cut":
            scores[kind] = None
            continue
        penalty = 0.0
        for e in events:
            if e.kind == kind:
                share = min(1.0, max(e.end_s - e.start_s, 0.0) / max(duration_s, 1e-6))
                penalty += SEVERITY_WEIGHT[e.severity] * (0.4 + 0.6 * share)
        scores[kind] = round(max(0.0, 100.0 - penalty), 1)
    vals = [v for v in scores.values() if v is not None]
    scores["overall"] = round(0.5 * (float(np.mean(vals)) + min(vals)), 1) if vals else 100.0
    return scores


def worst_severity(events: list[DriftEvent]) -> str | None:
    ranks = [SEVERITIES.index(e.severity) for e in events]
    return SEVERITIES[max(ranks)] if ranks else None
