"""The repair report: one self-contained HTML page — scores before and after, what was repaired where,
the events before and after, and frames side by side (before | after). Written atomically."""

from __future__ import annotations

import html
from pathlib import Path

from steadymotion.drift.report import SEVERITY_COLORS, _img, plot_pngs, verdict

KIND_WORDS = {"flicker": "deflicker", "color": "colour re-anchoring", "jitter": "stabilisation", "joins": "segment joins"}


def _events(report) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr class='{e.severity}'><td>{esc(e.kind)}</td><td>{e.severity}</td><td class='num'>{e.start_s:.2f}</td>"
        f"<td class='num'>{e.end_s:.2f}</td><td>{esc(e.detail)}</td></tr>" for e in report.events[:60])
    return (f"<table><tr><th>kind</th><th>severity</th><th>start s</th><th>end s</th><th>what</th></tr>{rows}</table>"
            if rows else "<p>None.</p>")


def render_repair_html(result) -> str:
    esc = html.escape
    before, after = result.before, result.after
    kinds = [k for k in before.scores if k != "overall"] + ["overall"]

    def cell(s):
        return "n/a" if s is None else f"{s:.0f}"

    rows = ""
    for k in kinds:
        b = before.scores.get(k)
        a = after.scores.get(k) if after is not None else None
        diff = "" if a is None or b is None else f"{a - b:+.0f}"
        rows += f"<tr><td>{esc(k)}</td><td class='num'>{cell(b)}</td><td class='num'>{cell(a) if after is not None else '—'}</td><td class='num'>{diff}</td></tr>"
    done = []
    for kind in result.kinds:
        info = result.repairs.get(kind)
        if not info:
            done.append(f"<li><b>{KIND_WORDS[kind]}</b>: nothing found to repair</li>")
            continue
        spans = ", ".join(f"{a:.2f}–{b:.2f} s" for a, b in info["spans"][:12])
        extra = []
        if "max_gain_pct" in info:
            extra.append(f"largest gain correction {info['max_gain_pct']:.1f} %")
        if "max_shift_px" in info:
            extra.append(f"largest shift {info['max_shift_px']:.1f} px")
        if "regions" in info:
            extra.append("a*b* shift (ΔE*ab, largest) " + ", ".join(f"{r} {v:.1f}" for r, v in info["regions"].items()))
        if "exposure_dl_max" in info:
            extra.append(f"exposure up to {info['exposure_dl_max']:.1f} L*")
        if "joins" in info:
            extra.append("; ".join(info["joins"][:8]))
        done.append(f"<li><b>{KIND_WORDS[kind]}</b> at {spans}" + (f" — {esc('; '.join(extra))}" if extra else "") + "</li>")
    pairs = "".join(
        f"<figure><img src='{_img(jpg)}'><figcaption>{esc(KIND_WORDS.get(kind, kind))} · {t:.2f} s · before | after</figcaption></figure>"
        for t, kind, jpg in result.pairs)
    timings = ", ".join(f"{k.replace('_', ' ')} {v:.1f} s" for k, v in result.timings.items())
    plots = ""
    if after is not None:
        pb, pa = dict(plot_pngs(before)), dict(plot_pngs(after))
        for k in result.kinds:
            if k in pb and k in pa:
                plots += (f"<h3>{esc(k)}</h3><div class='pair'><div><p class='meta'>before</p><img class='plot' src='data:image/png;base64,"
                          f"{_b64(pb[k])}'></div><div><p class='meta'>after</p><img class='plot' src='data:image/png;base64,{_b64(pa[k])}'></div></div>")
    name = Path(str(before.video.get("path", "video"))).name
    return f"""<!doctype html><html><head><meta charset='utf-8'><title>Repair report — {esc(name)}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}}
h1{{font-size:1.4em}} table{{border-collapse:collapse;margin:.5em 0}} td,th{{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}}
.num{{text-align:right;font-variant-numeric:tabular-nums}} .meta{{color:#666}} figure{{margin:.6em 0}} figure img{{max-width:100%;border-radius:4px}}
tr.minor td:first-child{{border-left:5px solid {SEVERITY_COLORS['minor']}}} tr.major td:first-child{{border-left:5px solid {SEVERITY_COLORS['major']}}}
tr.severe td:first-child{{border-left:5px solid {SEVERITY_COLORS['severe']}}} .pair{{display:flex;gap:8px}} .pair img{{max-width:100%}} .pair div{{flex:1}}
.verdict{{background:#f5f7fa;padding:.8em;border-radius:8px;line-height:1.45}}
</style></head><body>
<h1>Repair report: {esc(name)} → {esc(result.output.name)}</h1>
<p class='meta'>{result.size[0]}×{result.size[1]}, {result.fps:.3f} fps, {result.frames} frames · repairs asked for: {esc(', '.join(result.kinds))}
{' · nothing needed repair: the output is the input' if result.copied else ''} · {esc(timings)}</p>
<h2>Scores (100 = no drift)</h2><table><tr><th>kind</th><th>before</th><th>after</th><th>change</th></tr>{rows}</table>
<h2>What was repaired</h2><ul>{''.join(done)}</ul>
<h2>Before | after</h2>{pairs or '<p>No frame was changed.</p>'}
<h2>Events before</h2><p class='verdict'>{esc(verdict(before))}</p>{_events(before)}
<h2>Events after</h2>{f"<p class='verdict'>{esc(verdict(after))}</p>" + _events(after) if after is not None else '<p>Not measured.</p>'}
{'<h2>Series of the repaired kinds</h2>' + plots if plots else ''}
</body></html>"""


def _b64(png: bytes) -> str:
    import base64

    return base64.b64encode(png).decode()


def write_repair_html(result, path: str | Path) -> Path:
    from steadymotion.io.atomic import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(render_repair_html(result), encoding="utf-8")
    return Path(path)
