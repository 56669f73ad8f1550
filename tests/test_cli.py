"""The `steadymotion` CLI: real runs, summaries, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.io.video import VideoReader
from tests.conftest import media_path, truncated_copy, write_pattern_clip

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize("command", [[], ["pose"], ["demo"], ["sample-clip"]])
def test_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("steadymotion ")


def test_pose_end_to_end_on_real_footage(tmp_path):
    clip = media_path("mimicmotion__raw_0.mp4")
    out, js, render = tmp_path / "motion.npz", tmp_path / "openpose", tmp_path / "pose.mp4"
    result = run("pose", clip, "-o", out, "--openpose-json", js, "--render", render)
    assert result.exit_code == 0, result.output
    for word in ("frames", "155 at 15.000 fps", "body", "hands", "face"):
        assert word in result.output
    with np.load(out) as z:
        assert z["body"].shape == (155, 33, 4) and z["face"].shape == (155, 478, 3)
        assert z["size"].tolist() == [604, 604]
    files = sorted(js.iterdir())
    assert len(files) == 155 and files[0].name == "mimicmotion__raw_0_000000000000_keypoints.json"
    assert len(json.loads(files[50].read_text())["people"]) == 1
    with VideoReader(render) as r:
        assert sum(1 for _ in r) == 155 and r.info.size == (604, 604)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motion.npz", "openpose", "pose.mp4"]  # no temp files


def _no_outputs(folder: Path) -> bool:
    return not any(p.suffix in (".npz", ".mp4", ".part") for p in folder.iterdir() if p.name != "input.mp4")


def test_missing_video(tmp_path):
    result = run("pose", tmp_path / "absent.mp4", "-o", tmp_path / "m.npz")
    assert result.exit_code == 2
    assert len(error_lines(result)) == 1 and "not found" in result.output
    assert not (tmp_path / "m.npz").exists()


def test_corrupt_video(tmp_path):
    bad = tmp_path / "input.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 500)
    result = run("pose", bad, "-o", tmp_path / "m.npz")
    assert result.exit_code == 2 and len(error_lines(result)) == 1 and "not a video" in result.output
    assert _no_outputs(tmp_path)


def test_video_without_a_person(tmp_path):
    clip = write_pattern_clip(tmp_path / "input.mp4", n=15, w=320, h=240)
    result = run("pose", clip, "-o", tmp_path / "m.npz", "--render", tmp_path / "p.mp4", "--workers", "1")
    assert result.exit_code == 2
    assert "no person" in result.output and error_lines(result)[-1].startswith("error:")
    assert _no_outputs(tmp_path)


@pytest.mark.parametrize("target,message", [("missing/m.npz", "does not exist"), ("m.json", "must end in .npz")])
def test_unusable_output_is_refused_before_work(tmp_path, pattern_clip, target, message):
    result = run("pose", pattern_clip, "-o", tmp_path / target)
    assert result.exit_code == 2 and message in result.output and len(error_lines(result)) == 1


def test_truncated_video_warns_and_still_works(tmp_path):
    cut = truncated_copy(media_path("mimicmotion__raw_0.mp4"), tmp_path, seconds=4.0, keep=0.6)
    result = run("pose", cut, "-o", tmp_path / "m.npz", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "truncated" in result.output
    assert (tmp_path / "m.npz").exists()


def test_sample_clip_and_demo(tmp_path):
    result = run("demo", "--out", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == ["animated.mp4", "animated_sheet.png", "character.png", "drift.html", "drift.json", "motion.mp4",
                     "motion.npz", "openpose", "pose.mp4"]
    with np.load(tmp_path / "demo" / "motion.npz") as z:
        assert z["body_present"].mean() > 0.9 and z["face_present"].mean() > 0.9
