"""`steadymotion batch` on the local engine: inputs and manifests, the ledger, a broken file, a rerun
that skips what is done, a batch killed with SIGKILL and resumed, the dashboard, check and animate."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.batch import Ledger, expand_inputs
from steadymotion.batch.dashboard import render_index, sort_key
from steadymotion.cli import app
from steadymotion.errors import InvalidOptionError, OutputError
from steadymotion.io.image import write_image
from steadymotion.samples import make_sample_clip, sample_image

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def rows_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Short built-in clips of the astronaut swaying (a person in every frame), each of its own
    length so no two have the same contents, and a file that is no video at all."""
    folder = tmp_path_factory.mktemp("clips")
    made = {f"sway{i}": make_sample_clip(folder / f"sway{i}.mp4", seconds=1.0 + 0.2 * i, size=256) for i in range(4)}
    (folder / "broken.mp4").write_text("this is not a video\n")
    made["broken"] = folder / "broken.mp4"
    made["image"] = write_image(folder / "astronaut.png", sample_image())
    return made


# --- inputs and the ledger (no pipeline runs) ------------------------------------------------------
def test_inputs_folders_manifests_and_resume_keys(tmp_path, clips):
    # given: a folder with two videos, a hidden folder and a text file, and a manifest beside it
    folder = tmp_path / "in"
    (folder / ".cache").mkdir(parents=True)
    (folder / "a.mp4").write_bytes(clips["sway0"].read_bytes())
    (folder / "b.MOV").write_bytes(clips["sway1"].read_bytes())
    (folder / ".cache" / "c.mp4").write_bytes(clips["sway2"].read_bytes())
    (folder / "notes.txt").write_text("not a video")
    (folder / "qa" / "a-0123").mkdir(parents=True)  # an earlier batch's results inside the input folder
    (folder / "qa" / "results.jsonl").write_text("")
    (folder / "qa" / "a-0123" / "animated.mp4").write_bytes(clips["sway3"].read_bytes())
    (tmp_path / "copy.mp4").write_bytes(clips["sway0"].read_bytes())
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("Motion,image,orientation,prompt\n"
                        "in/a.mp4,,image,\n"
                        "in/a.mp4,,video,fixed lens\n"
                        "missing.mp4,,,\n"
                        "in/b.MOV,,sideways,\n")
    # when
    items = expand_inputs("analyze", [folder, tmp_path / "copy.mp4"])
    checks = expand_inputs("check", [manifest], {"image": clips["image"], "orientation": "video"})
    # then: the videos of the folder by name, not its hidden files; a copy is the same input
    assert [Path(i.input).name for i in items] == ["a.mp4", "b.MOV"]
    assert items[0].key == expand_inputs("analyze", [tmp_path / "copy.mp4"])[0].key
    (tmp_path / "copy.mp4").write_bytes(clips["sway3"].read_bytes())  # same name, other contents: new work
    assert items[0].key != expand_inputs("analyze", [tmp_path / "copy.mp4"])[0].key
    assert [i.source for i in checks] == ["jobs.csv:2", "jobs.csv:3", "jobs.csv:4", "jobs.csv:5"]
    assert checks[0].files["motion"] == str(folder / "a.mp4")  # relative to the manifest
    assert checks[0].options == {"orientation": "image", "prompt": None}
    assert checks[1].options == {"orientation": "video", "prompt": "fixed lens"}
    assert len({c.key for c in checks}) == 4  # other options, other work
    assert checks[2].problem == f"input not found: {tmp_path / 'missing.mp4'}"
    assert "sideways" in checks[3].problem and checks[0].problem is None
    # the defaults spelled out are the same work as the defaults left out
    assert expand_inputs("check", [folder / "a.mp4"], {"image": clips["image"]})[0].key == \
        expand_inputs("check", [folder / "a.mp4"], {"image": clips["image"], "orientation": "video", "prompt": ""})[0].key


@pytest.mark.parametrize("kind, inputs, defaults, message", [
    ("analyze", ["jobs.csv"], {}, "unknown column 'colour' for batch analyze"),
    ("check", ["a.mp4"], {}, "needs --image IMAGE"),
    ("check", ["a.mp4"], {"image": "x.png", "orientation": "upside"}, "upside"),
    ("animate", ["a.mp4"], {"image": "x.png", "size": "big"}, "--size 'big'"),
    ("analyze", ["empty"], {}, "holds no videos"),
])
def test_bad_batch_options_fail_before_any_work(tmp_path, kind, inputs, defaults, message):
    (tmp_path / "jobs.csv").write_text("video,colour\na.mp4,red\n")
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        expand_inputs(kind, [tmp_path / p for p in inputs], defaults)


def test_ledger_drops_a_line_cut_by_a_crash_and_keeps_a_second_batch_out(tmp_path):
    with Ledger(tmp_path) as ledger:
        ledger.append({"key": "a", "status": "ok"})
        ledger.append({"key": "b", "status": "error", "error": "bad"})
        with pytest.raises(OutputError, match="another batch is writing"):
            Ledger(tmp_path).open()
    with open(tmp_path / "results.jsonl", "ab") as f:  # a crash in the middle of a line
        f.write(b'{"key": "c", "sta')
    with Ledger(tmp_path) as ledger:
        assert [r["key"] for r in ledger.rows] == ["a", "b"]
        ledger.append({"key": "a", "status": "ok", "again": True})
        assert ledger.latest()["a"]["again"] and len(ledger.latest()) == 2
    assert (tmp_path / "results.jsonl").read_text().count("\n") == 3
    assert all(json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines())


def test_dashboard_order_is_worst_first():
    def row(name, status="ok", overall=None, **extra):
        return {"input": f"/v/{name}.mp4", "kind": "analyze", "key": name, "status": status,
                "scores": {"overall": overall}, **extra}

    rows = [row("fine", overall=97.0), row("unmeasurable"), row("drifty", overall=41.5),
            row("broken", status="error", error="not a video"), row("middling", overall=80.0)]
    assert [r["key"] for r in sorted(rows, key=sort_key)] == ["broken", "drifty", "middling", "fine", "unmeasurable"]
    page = render_index(rows, "analyze")
    assert [page.index(f"{n}.mp4") for n in ("broken", "drifty", "middling", "fine", "unmeasurable")] == \
        sorted(page.index(f"{n}.mp4") for n in ("broken", "drifty", "middling", "fine", "unmeasurable"))
    assert "error: not a video" in page


# --- whole batches ---------------------------------------------------------------------------------
def test_batch_analyze_broken_file_rerun_and_dashboard(tmp_path, clips):
    out = tmp_path / "results"
    inputs = [clips["sway0"], clips["broken"], clips["sway1"]]
    # when: a batch with a broken file among good ones
    first = run("batch", "analyze", *inputs, "--out", out, "--workers", "2")
    # then: the batch went on; the broken file is an error row with the CLI's own one-line message
    assert first.exit_code == 2, first.output
    rows = {Path(r["input"]).name: r for r in rows_of(out)}
    assert sorted(rows) == ["broken.mp4", "sway0.mp4", "sway1.mp4"]
    single = run("analyze", clips["broken"])
    assert single.exit_code == 2
    assert " ".join(single.output.split()) == f"error: {rows['broken.mp4']['error']}"
    assert rows["broken.mp4"]["status"] == "error" and "outputs" not in rows["broken.mp4"]
    for name in ("sway0.mp4", "sway1.mp4"):
        row = rows[name]
        assert row["status"] == "ok" and set(row["outputs"]) == {"report", "json", "thumb"}
        report = json.loads((out / row["outputs"]["json"]).read_text())
        assert report["scores"] == row["scores"] and report["video"]["path"] == row["input"]
        thumb = out / row["outputs"]["thumb"]
        assert thumb.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        import cv2

        assert cv2.imread(str(thumb)).shape[0] == 160
    # the dashboard: every row, worst first, thumbnails and report links that resolve
    with open(out / "summary.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [Path(r["input"]).name for r in table][0] == "broken.mp4" and len(table) == 3
    assert table[0]["error"] == rows["broken.mp4"]["error"] and table[1]["overall"] != ""
    page = (out / "index.html").read_text()
    links = re.findall(r"(?:src|href)='([^']+)'", page)
    assert {f"{r['outputs']['thumb']}" for r in rows.values() if "outputs" in r} <= set(links)
    assert all((out / link).is_file() for link in links)
    assert page.index("broken.mp4") < min(page.index("sway0.mp4"), page.index("sway1.mp4"))
    assert not list(out.rglob(".*.part*"))
    # when: the same batch again, then with one clip changed
    ledger_before = (out / "results.jsonl").read_bytes()
    again = run("batch", "analyze", *inputs, "--out", out)
    assert again.exit_code == 2 and (out / "results.jsonl").read_bytes() == ledger_before  # nothing redone


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_kill_9_loses_no_result_and_repeats_none(tmp_path, clips):
    import psutil

    out = tmp_path / "results"
    inputs = [str(clips[f"sway{i}"]) for i in range(3)]
    cmd = [sys.executable, "-m", "steadymotion.cli", "batch", "analyze", *inputs, "--out", str(out), "-q", "--workers"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([*cmd, "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # when: SIGKILL as soon as the first result is on disk
    deadline = time.time() + 90
    while not _lines(out / "results.jsonl") and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    workers = psutil.Process(proc.pid).children()  # the pool's processes (their pose helpers write elsewhere)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _lines(out / "results.jsonl")
    assert 1 <= len(before) < 3, f"the batch should have been killed part-way: {proc.stderr.read().decode()[-800:]}"
    first = json.loads(before[0])
    report = out / first["outputs"]["json"]
    stamp = (report.stat().st_mtime_ns, report.read_bytes())
    # the pool's workers die with the batch (nothing keeps writing behind a rerun's back)
    assert workers
    gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, [p.cmdline()[:3] for p in alive]
    # when: the batch is run again
    rerun = subprocess.run([*cmd, "2"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    # then: every input exactly once, the rows written before the kill untouched, nothing redone
    after = _lines(out / "results.jsonl")
    assert after[: len(before)] == before
    rows = [json.loads(line) for line in after]
    assert sorted(r["input"] for r in rows) == sorted(inputs) and all(r["status"] == "ok" for r in rows)
    assert (report.stat().st_mtime_ns, report.read_bytes()) == stamp
    assert not list(out.rglob(".*.part*"))
    for r in rows:
        assert json.loads((out / r["outputs"]["json"]).read_text())["scores"] == r["scores"]


def test_batch_check_and_animate_from_manifests(tmp_path, clips):
    # given: a manifest of two pairs, one of them with an image that is not there
    manifest = tmp_path / "jobs.csv"
    manifest.write_text(f"image,motion,max_seconds,size\n{clips['image']},{clips['sway0']},0.6,192x192\n"
                        f"nobody.png,{clips['sway1']},,\n")
    # when
    checked = run("batch", "check", manifest, "--out", tmp_path / "check", "--workers", "1")
    animated = run("batch", "animate", manifest, "--out", tmp_path / "animate", "--workers", "1", "--no-sound")
    # then: the good pair is checked and animated, the other is one error row in each
    for out, result in ((tmp_path / "check", checked), (tmp_path / "animate", animated)):
        assert result.exit_code == 2, result.output
        rows = rows_of(out)
        assert [r["status"] for r in rows] == ["error", "ok"]  # the broken row first: it needs no work
        assert rows[0]["error"] == f"input not found: {tmp_path / 'nobody.png'}" and rows[0]["source"] == "jobs.csv:3"
        assert all((out / p).is_file() for p in rows[1]["outputs"].values())
    check_row = rows_of(tmp_path / "check")[1]
    findings = json.loads((tmp_path / "check" / check_row["outputs"]["json"]).read_text())
    assert check_row["details"]["codes"] == [f["code"] for f in findings["findings"]]
    assert check_row["scores"]["errors"] == sum(f["severity"] == "error" for f in findings["findings"])
    anim = rows_of(tmp_path / "animate")[1]
    assert anim["options"]["size"] == "192x192" and anim["options"]["max_seconds"] == 0.6 and anim["options"]["sound"] is False
    from steadymotion.io.video import probe_video

    info = probe_video(tmp_path / "animate" / anim["outputs"]["video"])
    assert info.size == (192, 192) and info.duration_s == pytest.approx(0.6, abs=0.1)
    assert 0 <= anim["scores"]["overall"] <= 100 and anim["details"]["frames"] == info.frame_count
    # a results folder belongs to one kind of batch
    mixed = run("batch", "analyze", clips["sway0"], "--out", tmp_path / "check")
    assert mixed.exit_code == 2 and "holds the results of batch check" in " ".join(mixed.output.split())
    assert np.isfinite(anim["seconds"])


@pytest.mark.parametrize("args, message", [
    (["batch", "analyze", "--help"], "Usage"),
    (["batch", "analyze", "{clip}", "--out", "{out}", "--engine", "spark"], "error: --engine 'spark': one of local, ray"),
    (["batch", "check", "{clip}", "--out", "{out}"], "error: batch check of videos needs --image IMAGE"),
    (["batch", "animate", "{clip}", "--out", "{out}", "--image", "{clip}", "--max-seconds", "-1"],
     "error: --max-seconds must be a positive number of seconds, got -1.0"),
])
def test_batch_cli_refuses_bad_options_before_any_work(tmp_path, clips, args, message):
    result = run(*(a.format(clip=clips["sway0"], out=tmp_path / "out") for a in args))
    assert message in " ".join(result.output.split())
    assert result.exit_code == (0 if message == "Usage" else 2) and not (tmp_path / "out").exists()
