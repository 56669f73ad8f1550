"""The human-readable drift report: a verdict, scores, plots with event spans, event thumbnails.

One self-contained HTML file (plots and thumbnails inlined as PNG data), written atomically.
Plots use matplotlib's Agg backend.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from steadymotion.drift.series import KINDS

SEVERITY_COLORS = {"minor": "#f2c94c", "major": "#f2994a", "severe": "#eb5757"}


def verdict(report) -> str:
    """One paragraph saying how the video holds together."""
    overall = report.scores.get("overall", 100.0)
    n = len(report.events)
    by_sev = {s: sum(1 for e in report.events if e.severity == s) for s in ("severe", "major", "minor")}
    if n == 0:
        head = f"No drift found: every measured aspect stays within the limits calibrated on real camera footage (overall {overall:.0f}/100)."
    else:
        worst_kinds = sorted({e.kind for e in report.events if e.severity == report.worst()})
        head = (f"Overall {overall:.0f}/100. {n} drift event{'s' if n != 1 else ''} "
                f"({by_sev['severe']} severe, {by_sev['major']} major, {by_sev['minor']} minor); "
                f"the worst concern {', '.join(worst_kinds)}.")
        first = min(report.events, key=lambda e: e.start_s)
        head += f" The first starts at {first.start_s:.1f} s: {first.detail}."
    grow = [k for k, v in report.accumulation.items() if abs(v["delta"]) > 0 and _grows(k, v)]
    if grow:
        head += " Growing over the clip (error accumulation): " + ", ".join(grow[:4]) + "."
    scored = [k for k in KINDS if report.scores.get(k) is not None]
    head += f" Measured: {', '.join(scored)}; reference: {report.reference}."
    if report.notes:
        head += " Note: " + "; ".join(report.notes) + "."
    if getattr(report, "damaged", False):
        head = "Damaged video: only the frames that decoded were measured (see the note). " + head
    return head


def _grows(name: str, acc: dict) -> bool:
    from steadymotion.drift.series import SPECS

    spec = SPECS.get(name)
    return spec is not None and acc["delta"] >= spec.minor * 0.5 and acc["per_10s"] > 0


def _png_bytes(fig) -> bytes:
    # fixed margins (in inches, so they hold for any number of rows) instead of bbox_inches="tight",
    # which draws every figure twice: a report's plots take 0.9 s instead of 1.5 s
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.1, right=0.97, top=1 - 0.3 / h, bottom=0.45 / h, hspace=0.12)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _png(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _img(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def plot_pngs(report) -> list[tuple[str, bytes]]:
    """One PNG per drift kind: its series over time, events shaded by severity, the minor threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    duration = report.video.get("duration_s") or 1.0
    for kind in KINDS:
        series = [s for s in report.series if s.spec.kind == kind and np.isfinite(s.values).any()]
        events = [e for e in report.events if e.kind == kind]
        if not series and not events:
            continue
        fig, axes = plt.subplots(max(1, len(series)), 1, figsize=(9, 1.7 * max(1, len(series))), sharex=True, squeeze=False)
        for ax, s in zip(axes[:, 0], series or [None]):
            for e in events:
                if s is None or e.series == s.name or e.kind == "cut":
                    ax.axvspan(e.start_s, max(e.end_s, e.start_s + duration / 300), color=SEVERITY_COLORS[e.severity], alpha=0.45, lw=0)
            if s is not None:
                ax.plot(s.t, s.values, lw=1.2, color="#2d5f8b")
                spec = s.spec
                if spec.baseline == "zero":
                    ax.axhline(spec.minor, color="#999", lw=0.8, ls="--")
                ax.set_ylabel(f"{s.name.split('.', 1)[1]}\n[{spec.unit}]", fontsize=8)
            ax.set_xlim(0, duration)
            ax.tick_params(labelsize=8)
        axes[-1, 0].set_xlabel("time (s)", fontsize=8)
        score = report.scores.get(kind)
        axes[0, 0].set_title(f"{kind}  —  score {'n/a' if score is None else f'{score:.0f}'}", fontsize=10, loc="left")
        out.append((kind, _png_bytes(fig)))
        plt.close(fig)
    return out


def thumb_at(report, t: float) -> bytes | None:
    """The first kept frame at or after ``t`` (so a frame after a cut shows the new scene)."""
    if not report.thumbs:
        return None
    times = np.array([x[0] for x in report.thumbs])
    k = int(np.searchsorted(times, t - 1e-3))
    return report.thumbs[min(k, len(times) - 1)][1]


def boxed(jpeg: bytes, box) -> bytes:
    """The thumbnail with the event's box (normalised x0, y0, x1, y1) drawn on it in red."""
    import cv2

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        return jpeg
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(round(v * s)) for v, s in zip(box, (w, h, w, h)))
    pad = max(2, int(0.02 * max(w, h)))
    cv2.rectangle(img, (max(0, x0 - pad), max(0, y0 - pad)), (min(w - 1, x1 + pad), min(h - 1, y1 + pad)), (40, 40, 235), 2)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return buf.tobytes() if ok else jpeg


def render_html(report) -> str:
    esc = html.escape
    v = report.video
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td class='num'>{'n/a' if s is None else f'{s:.0f}'}</td></tr>"
        for k, s in report.scores.items() if k != "overall"
    )
    ref_img = f"<img src='{_img(report.reference_thumb)}'>" if report.reference_thumb is not None else ""
    events_html = []
    for e in report.events[:60]:
        if e.box is not None and e.peak_s is not None:  # where: the frame of the peak, the place boxed
            thumb = thumb_at(report, e.peak_s)
            thumb = boxed(thumb, e.box) if thumb is not None else None
        else:
            thumb = thumb_at(report, e.start_s)
        pic = f"<img src='{_img(thumb)}'>" if thumb is not None else ""
        if e.crop:
            pic += f"<img class='zoom' src='{_img(e.crop)}' title='close-up of the boxed place'>"
        events_html.append(
            f"<div class='event {e.severity}'><div class='pics'>{ref_img}{pic}</div>"
            f"<div><b>{esc(e.kind)}</b> · <span class='sev'>{e.severity}</span> · {e.start_s:.2f}–{e.end_s:.2f} s"
            f"{f' (boxed: {e.peak_s:.2f} s)' if e.box is not None and e.peak_s is not None else ''}<br>"
            f"{esc(e.detail)}</div></div>")
    plots = "".join(f"<h3>{esc(k)}</h3><img class='plot' src='{_png(png)}'>" for k, png in plot_pngs(report))
    acc = "".join(
        f"<tr><td>{esc(k)}</td><td class='num'>{a['delta']:+.3f}</td><td class='num'>{a['per_10s']:+.3f}</td><td>{esc(a['unit'])}</td></tr>"
        for k, a in report.accumulation.items())
    overall = report.scores.get("overall", 100)
    tone = "good" if overall >= 85 else ("fair" if overall >= 60 else "bad")
    return f"""<!doctype html><html><head><meta charset='utf-8'><title>Drift report — {esc(Path(v['path']).name)}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;color:#222;padding:0 1em}}
h1{{font-size:1.4em}} .verdict{{font-size:1.05em;line-height:1.5;background:#f5f7fa;padding:1em;border-radius:8px}}
.score{{font-size:2.6em;font-weight:700}} .good{{color:#219653}} .fair{{color:#f2994a}} .bad{{color:#eb5757}}
table{{border-collapse:collapse;margin:.5em 0}} td,th{{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}} .num{{text-align:right;font-variant-numeric:tabular-nums}}
.event{{display:flex;gap:1em;align-items:center;margin:.4em 0;padding:.4em;border-left:6px solid #ccc;background:#fafafa}}
.event.minor{{border-color:{SEVERITY_COLORS['minor']}}} .event.major{{border-color:{SEVERITY_COLORS['major']}}} .event.severe{{border-color:{SEVERITY_COLORS['severe']}}}
.pics{{display:flex;gap:4px;flex-shrink:0}} .event img{{height:96px;border-radius:3px}} .event img.zoom{{height:160px}} .plot{{max-width:100%}} .meta{{color:#666}}
</style></head><body>
<h1>Drift report: {esc(Path(v['path']).name)}</h1>
<p class='meta'>{v['width']}×{v['height']}, {v['fps']:.3f} fps, {v['frames']} frames, {v['duration_s']:.2f} s · reference: {esc(report.reference)}</p>
<p><span class='score {tone}'>{overall:.0f}</span> / 100 overall</p>
<p class='verdict'>{esc(report.verdict())}</p>
<h2>Scores</h2><table><tr><th>kind</th><th>score</th></tr>{rows}</table>
<h2>Events</h2>{''.join(events_html) or '<p>None.</p>'}
{'<p class=meta>(first 60 shown; all are in the JSON)</p>' if len(report.events) > 60 else ''}
<h2>Series over time</h2><p class='meta'>Shaded: events (yellow minor, orange major, red severe). Dashed: the minor threshold.</p>{plots}
<h2>Accumulation</h2><p class='meta'>Last 15 % minus first 15 % of the clip, and the linear trend per 10 s.</p>
<table><tr><th>series</th><th>Δ start→end</th><th>per 10 s</th><th>unit</th></tr>{acc}</table>
</body></html>"""


def write_html(report, path: str | Path) -> Path:
    from steadymotion.io.atomic import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(render_html(report), encoding="utf-8")
    return Path(path)
