"""The results folder's readable side, rebuilt from the ledger's rows: ``summary.csv`` (one line per
input) and ``index.html`` (worst first, a thumbnail and a link to each input's report), both written
then renamed. Also the small findings page of a ``check`` input."""

from __future__ import annotations

import csv
import html
import io
import time
from pathlib import Path

from steadymotion.drift.series import KINDS
from steadymotion.io.atomic import atomic_output

SUMMARY = "summary.csv"
INDEX = "index.html"
_DRIFT_KINDS = ("analyze", "animate")


def sort_key(row: dict):
    """Worst first: errors (nothing could be measured), then the lowest overall drift score, or for
    ``check`` the most error, then warning findings; inputs whose score is not measurable last."""
    if row["status"] != "ok":
        return (0, 0.0, row["input"])
    s = row.get("scores") or {}
    if row["kind"] == "check":
        return (1, -(1000 * s.get("errors", 0) + s.get("warnings", 0)), row["input"])
    overall = s.get("overall")
    return (1 if overall is not None else 2, overall if overall is not None else 0.0, row["input"])


def _columns(kind: str) -> list[str]:
    if kind == "check":
        return ["input", "image", "status", "error", "ok", "errors", "warnings", "info", "codes", "report", "seconds",
                "source", "key"]
    return ["input", "status", "error", "overall", *KINDS, "worst", "events", "report", "video", "seconds", "source", "key"]


def _csv_row(row: dict) -> dict:
    s, d, o = row.get("scores") or {}, row.get("details") or {}, row.get("outputs") or {}
    out = {"input": row["input"], "status": row["status"], "error": row.get("error", ""), "report": o.get("report", ""),
           "seconds": row.get("seconds", ""), "source": row.get("source", ""), "key": row["key"]}
    if row["kind"] == "check":
        out.update(image=row.get("inputs", {}).get("image", ""), ok=d.get("ok", ""), errors=s.get("errors", ""),
                   warnings=s.get("warnings", ""), info=s.get("info", ""), codes=" ".join(d.get("codes", [])))
    else:
        out.update({k: "" if s.get(k) is None else s[k] for k in ("overall", *KINDS)})
        out.update(worst=d.get("worst") or "", events=d.get("events", ""), video=o.get("video", ""))
    return out


def write_summary_csv(out: Path, rows: list[dict], kind: str) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_columns(kind), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(_csv_row(row))
    with atomic_output(out / SUMMARY) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
    return out / SUMMARY


def _tone(score) -> str:
    return "na" if score is None else ("good" if score >= 85 else ("fair" if score >= 60 else "bad"))


def _cell(score, extra: str = "") -> str:
    return f"<td class='num {_tone(score)} {extra}'>{'n/a' if score is None else f'{score:.0f}'}</td>"


def _link(path: str | None, text: str) -> str:
    return f"<a href='{html.escape(path)}'>{text}</a>" if path else text


def _row_html(rank: int, row: dict, kind: str) -> str:
    esc = html.escape
    o, s, d = row.get("outputs") or {}, row.get("scores") or {}, row.get("details") or {}
    thumb = f"<img src='{esc(o['thumb'])}' alt='frame'>" if o.get("thumb") else "<div class='nothumb'>no frame</div>"
    name = Path(row["input"]).name
    if kind in ("check", "animate") and row.get("inputs", {}).get("image"):
        name = f"{Path(row['inputs']['image']).name} + {name}"
    title = f"<b>{_link(o.get('report'), esc(name))}</b><div class='meta'>{esc(row['input'])}</div>"
    if row.get("source") and row["source"] != row["input"]:
        title += f"<div class='meta'>from {esc(row['source'])}</div>"
    for w in row.get("warnings", []):
        title += f"<div class='meta warn'>warning: {esc(w)}</div>"
    if row["status"] != "ok":
        width = 4 if kind == "check" else len(KINDS) + 1
        return (f"<tr class='error'><td class='num'>{rank}</td><td>{thumb}</td><td>{title}</td>"
                f"<td colspan='{width}' class='err'>error: {esc(row.get('error', ''))}</td></tr>")
    if kind == "check":
        verdict = ("<span class='bad'>stop</span>" if s.get("errors") else
                   ("<span class='fair'>warnings</span>" if s.get("warnings") else "<span class='good'>ok</span>"))
        return (f"<tr><td class='num'>{rank}</td><td>{_link(o.get('report'), thumb)}</td><td>{title}</td><td>{verdict}</td>"
                f"<td class='num'>{s.get('errors', 0)}</td><td class='num'>{s.get('warnings', 0)}</td>"
                f"<td>{esc(', '.join(d.get('codes', [])))}</td></tr>")
    scores = "".join(_cell(s.get(k)) for k in KINDS)
    n = d.get('events', 0)
    worst = f"{n} event{'' if n == 1 else 's'}" + (f", worst {esc(d['worst'])}" if d.get("worst") else "")
    extra = f" · {_link(o.get('video'), 'video')}" if o.get("video") else ""
    return (f"<tr><td class='num'>{rank}</td><td>{_link(o.get('report'), thumb)}</td><td>{title}"
            f"<div class='meta'>{worst}{extra}</div></td>{_cell(s.get('overall'), 'overall')}{scores}</tr>")


def render_index(rows: list[dict], kind: str) -> str:
    esc = html.escape
    rows = sorted(rows, key=sort_key)
    n_err = sum(r["status"] != "ok" for r in rows)
    if kind == "check":
        head = ("<th>#</th><th>frame</th><th>image + motion</th><th>verdict</th><th class='num'>errors</th>"
                "<th class='num'>warnings</th><th>findings</th>")
    else:
        what = "image + motion" if kind == "animate" else "input"
        head = f"<th>#</th><th>frame</th><th>{what}</th><th class='num'>overall</th>" + "".join(f"<th class='num'>{esc(k)}</th>" for k in KINDS)
    body = "".join(_row_html(i, r, kind) for i, r in enumerate(rows, start=1))
    scored = [r["scores"]["overall"] for r in rows if r["status"] == "ok" and (r.get("scores") or {}).get("overall") is not None]
    mean = f" · mean overall score {sum(scored) / len(scored):.0f}" if scored else ""
    note = ("Preflight findings per image + motion pair: errors stop a generation, warnings say what will look wrong."
            if kind == "check" else "Drift scores 0–100, 100 = no drift; n/a = not measurable in that video.")
    return f"""<!doctype html><html><head><meta charset='utf-8'><title>steadymotion batch {esc(kind)}: {len(rows)} inputs</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;color:#222;padding:0 1em;max-width:1500px}}
h1{{font-size:1.4em}} .meta{{color:#666;font-size:.85em}} table{{border-collapse:collapse}}
td,th{{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:middle}} th{{position:sticky;top:0;background:#fff}}
.num{{text-align:right;font-variant-numeric:tabular-nums}} img{{height:80px;border-radius:3px;display:block}}
.nothumb{{width:80px;height:80px;background:#f3f3f3;color:#999;font-size:.75em;display:flex;align-items:center;justify-content:center}}
.good{{color:#219653}} .fair{{color:#f2994a;font-weight:600}} .bad{{color:#eb5757;font-weight:700}} .na{{color:#aaa}}
tr.error{{background:#fff5f5}} .err{{color:#c0392b}} .warn{{color:#b9770e}} th.num{{text-align:right}}
td.overall{{font-size:1.15em}}
</style></head><body>
<h1>steadymotion batch {esc(kind)}</h1>
<p>{len(rows)} inputs · {len(rows) - n_err} {'checked' if kind == 'check' else 'measured'} · <span class='{'bad' if n_err else 'good'}'>{n_err} error{'' if n_err == 1 else 's'}</span>{mean}
 · worst first · <a href='{SUMMARY}'>summary.csv</a> · <a href='results.jsonl'>results.jsonl</a></p>
<p class='meta'>{note} Updated {time.strftime('%Y-%m-%d %H:%M:%S')}.</p>
<table><tr>{head}</tr>{body}</table>
</body></html>"""


def write_dashboard(out: Path, rows: list[dict], kind: str) -> dict:
    """Write ``summary.csv`` and ``index.html`` for ``rows`` (any order) into ``out``."""
    rows = sorted(rows, key=sort_key)
    summary = write_summary_csv(out, rows, kind)
    with atomic_output(out / INDEX) as tmp:
        tmp.write_text(render_index(rows, kind), encoding="utf-8")
    return {"summary": summary, "index": out / INDEX}


def write_findings_html(report: dict, path: Path) -> Path:
    """A one-page view of a preflight report (``CheckReport.to_dict()``)."""
    esc = html.escape
    colour = {"error": "bad", "warn": "fair", "info": "na"}
    items = "".join(
        f"<tr><td class='{colour[f['severity']]}'>{esc(f['severity'])}</td><td><b>{esc(f['code'])}</b></td>"
        f"<td>{esc(f['message'])}</td><td>{esc(f['fix'])}</td></tr>" for f in report["findings"])
    page = f"""<!doctype html><html><head><meta charset='utf-8'><title>Preflight — {esc(Path(report['motion']).name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}
td,th{{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}} table{{border-collapse:collapse}}
.bad{{color:#eb5757;font-weight:700}} .fair{{color:#f2994a}} .na{{color:#888}}</style></head><body>
<h1>Preflight: {esc(Path(report['image']).name)} + {esc(Path(report['motion']).name)}</h1>
<p>orientation {esc(report['orientation'])} · {'<span class=bad>stop: an error was found</span>' if not report['ok'] else 'no error'}</p>
<table><tr><th>severity</th><th>code</th><th>what was found</th><th>fix</th></tr>{items or '<tr><td colspan=4>nothing to report</td></tr>'}</table>
</body></html>"""
    with atomic_output(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
