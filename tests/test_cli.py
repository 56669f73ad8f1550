"""The `steadymotion` CLI: real runs, summaries, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.io.video import VideoReader
from tests.conftest import media_path, tiny_video, truncated_copy, write_pattern_clip

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
    assert names == ["animated.mp4", "animated_sheet.png", "character.png", "drift.html", "drift.json", "motion.bvh",
                     "motion.npz", "openpose", "pose.mp4"]
    with np.load(tmp_path / "demo" / "motion.npz") as z:
        assert z["body_present"].all() and len(z["times"]) == 125  # the jumping-jacks capture, 4.2 s at 30 fps
    # a first impression without excuses: preflight has nothing to warn about in our own sample
    assert "preflight warn" not in result.output and "preflight error" not in result.output


def test_tiny_inputs_get_a_clear_answer_not_an_abort(tmp_path):
    import subprocess
    import sys

    from steadymotion.io.image import write_image
    from steadymotion.samples import sample_image

    # given a 16x16 image and a 2x2 video (smaller than the HOG people detector's 64x128 window,
    # which corrupted the heap: the process aborted with SIGABRT)
    tiny_img = write_image(tmp_path / "tiny.png", np.full((16, 16, 3), 128, np.uint8))
    tiny_vid = tiny_video(tmp_path / "tiny.mp4")
    normal_img = write_image(tmp_path / "astronaut.png", sample_image())
    normal_vid = tiny_video(tmp_path / "grey.mp4", side=160, frames=30)
    cli = [sys.executable, "-m", "steadymotion.cli"]
    for args in (["check", "--image", tiny_img, "--motion", normal_vid], ["check", "--image", normal_img, "--motion", tiny_vid]):
        # when checked (in its own process: an abort would take pytest down)
        r = subprocess.run(cli + [str(a) for a in args], capture_output=True, text=True, timeout=300)
        # then preflight answers: the inputs fail (no person), exit 2, no crash
        assert r.returncode == 2, (args, r.returncode, r.stderr[-500:])
        assert "NO_PERSON" in r.stdout + r.stderr
    # and the drift meter refuses a 2x2 video with one line instead of an OpenCV traceback
    result = run("analyze", tiny_vid)
    assert result.exit_code == 2 and len(error_lines(result)) == 1 and "at least 32 px" in result.output


def test_an_output_never_overwrites_an_input(tmp_path):
    from steadymotion.io.image import write_image
    from steadymotion.samples import sample_image

    # given a clip and an image the user owns
    clip = tiny_video(tmp_path / "clip.mp4", side=160, frames=10)
    image = write_image(tmp_path / "me.png", sample_image())
    before = {p: p.read_bytes() for p in (clip, image)}
    # when an output path names one of the command's inputs
    for args in (["animate", "--image", image, "--motion", clip, "-o", clip],
                 ["animate", "--image", image, "--motion", clip, "-o", tmp_path / "out.mp4", "--report", clip],
                 ["analyze", clip, "--json", clip],
                 ["analyze", clip, "--json", tmp_path / "r.json", "--html", tmp_path / "r.json"],
                 ["pose", clip, "-o", tmp_path / "m.npz", "--render", clip],
                 ["check", "--image", image, "--motion", clip, "--json", image]):
        result = run(*args)
        # then it stops before any work with one line, and the inputs are untouched
        assert result.exit_code == 2, (args, result.output)
        assert len(error_lines(result)) == 1 and ("input of this command" in result.output or "same file" in result.output), result.output
    assert all(p.read_bytes() == b for p, b in before.items())
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "m.npz").exists()


def test_outputs_get_the_users_file_mode_not_the_temp_files(tmp_path):
    import os
    import stat
    import subprocess
    import sys

    # given a user whose umask is 022 (files 0644), in a fresh process
    clip = tiny_video(tmp_path / "clip.mp4", side=160, frames=10)
    code = ("import os; os.umask(0o022); from steadymotion.io.image import write_image; import numpy as np; "
            f"write_image({str(tmp_path / 'a.png')!r}, np.zeros((8, 8, 3), np.uint8)); "
            "from steadymotion.io.video import VideoWriter, VideoReader; "
            f"w = VideoWriter({str(tmp_path / 'b.mp4')!r}, fps=10); "
            f"[w.write(f.image) for f in VideoReader({str(clip)!r})]; w.close()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    # then the outputs are 0644 like any file they create, not the temporary file's 0600
    for name in ("a.png", "b.mp4"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644, name


def test_openpose_json_onto_a_file_fails_before_tracking(tmp_path):
    # given an existing file where the OpenPose folder should go
    clip = tiny_video(tmp_path / "clip.mp4", side=160, frames=10)
    (tmp_path / "taken.txt").write_text("mine")
    # when pose is asked to write the folder there
    result = run("pose", clip, "-o", tmp_path / "m.npz", "--openpose-json", tmp_path / "taken.txt")
    # then it stops at once with one line, and no motion file is left behind (it was, after tracking)
    assert result.exit_code == 2 and len(error_lines(result)) == 1 and "not a folder" in result.output
    assert not (tmp_path / "m.npz").exists() and (tmp_path / "taken.txt").read_text() == "mine"
