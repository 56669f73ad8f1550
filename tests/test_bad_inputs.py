"""Issue #12's corpus of broken and hostile inputs, made from ../shared/media in tmp_path.

Every case is one command as a user would type it. A refusal is exit code 2, one line that names
the problem (and the fix), no traceback, no output file and no temporary file left behind; where
work can go on (a lightly damaged video), it goes on and says what was lost, once. Refusals that
must come before any work are checked by making the work itself fail loudly if it starts.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from steadymotion.cli import app
from steadymotion.errors import TruncatedVideoWarning
from steadymotion.io.video import VideoReader, VideoWriter
from tests.conftest import damaged_copy, media_path, tiny_video, truncated_copy

runner = CliRunner()
IMAGE = "mooreanimateanyone__anyone-3.png"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def refused(result, *words: str) -> str:
    """Assert a clean refusal: exit 2, one line starting with ``error:`` that holds ``words``."""
    out = result.output
    lines = [line for line in out.splitlines() if line.strip()]
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (result.exit_code, out, result.exception)
    assert "Traceback" not in out and len(lines) == 1 and lines[0].startswith("error:"), out
    for w in words:
        assert w in out, (w, out)
    return out


def files(folder: Path) -> set[str]:
    """Every name in ``folder``, hidden temporary files included."""
    return {p.name for p in folder.iterdir()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """The broken inputs, all made from the real LivePortrait d13 clip and a MooreAnimateAnyone image."""
    from steadymotion.io.image import write_image

    d = tmp_path_factory.mktemp("corpus")
    clip = d / "clip.mp4"  # 1.5 s (45 frames), 320 px: small enough to track in seconds
    with VideoReader(media_path("liveportrait__d13.mp4"), end_s=1.5, max_side=320) as r, VideoWriter(clip, r.fps) as w:
        for f in r:
            w.write(f.image)
    empty = d / "empty.mp4"
    empty.write_bytes(b"")
    text = d / "notes.mp4"
    text.write_text("this is a text file with a video's name\n")
    return {
        "clip": clip,
        # three quarters of the frames overwritten (the decoder then also returns frames out of order)
        "wrecked": damaged_copy(clip, d / "wrecked.mp4", 0.35, 0.85),
        "scratched": damaged_copy(clip, d / "scratched.mp4", 0.50, 0.53),  # a few frames lost
        "truncated": truncated_copy(media_path("mimicmotion__raw_0.mp4"), d, seconds=2.0, keep=0.6),
        "empty": empty,
        "text": text,
        "tiny_video": tiny_video(d / "tiny.mp4"),
        "tiny_image": write_image(d / "tiny.png", np.full((16, 16, 3), 128, np.uint8)),
        "image": media_path(IMAGE),
    }


@pytest.fixture
def no_work(monkeypatch):
    """Make tracking and rigging fail loudly: a refusal that needs them came too late."""
    import importlib

    animate_mod = importlib.import_module("steadymotion.pipelines.animate")  # (the package re-exports a function of that name)

    def started(*args, **kwargs):
        raise AssertionError("the work started before the bad option was refused")

    monkeypatch.setattr(animate_mod, "extract_pose", started)
    monkeypatch.setattr(animate_mod, "load_character", started)


# -- item 1-2: tiny frames -------------------------------------------------------------------------
def test_tiny_image_and_video_are_answered_not_aborted(corpus):
    # in its own process: the old heap corruption aborted the interpreter (SIGABRT)
    r = subprocess.run([sys.executable, "-m", "steadymotion.cli", "check", "--image", str(corpus["tiny_image"]),
                        "--motion", str(corpus["tiny_video"]), "-q"], check=False, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, (r.returncode, r.stderr[-800:])
    assert "NO_PERSON" in r.stdout + r.stderr and "Traceback" not in r.stderr


def test_analyze_refuses_a_2x2_video(corpus):
    refused(run("analyze", corpus["tiny_video"]), "2x2 px", "at least 32 px")


# -- item 3: damaged videos ------------------------------------------------------------------------
def test_the_reader_never_goes_back_in_time(corpus, monkeypatch):
    # given a decoder that hands back frames out of time order and twice (as on a damaged file)
    with av.open(str(corpus["clip"])) as c:
        decoded = list(c.decode(video=0))
    order = list(range(10)) + [30, 31, 12, 13, 32, 32, 33] + list(range(34, 45))

    def shuffled(self, seek_pts):
        self._stop_reason = None
        return iter([decoded[i] for i in order])

    monkeypatch.setattr(VideoReader, "_decoded", shuffled)
    # when it is read
    with pytest.warns(TruncatedVideoWarning) as caught, VideoReader(corpus["clip"]) as reader:
        times = [f.t for f in reader]
    # then the times only go forward: the stray frames are dropped and counted, and the warning
    # names the loss, its share and the fix
    assert np.all(np.diff(times) > 0) and len(times) == 10 + 2 + 2 + 11
    assert reader.truncation.out_of_order == 3 and reader.truncation.lost == 45 - len(times)
    text = str(caught[0].message)
    assert "20 of 45 frames (44 %)" in text and "3 frames out of time order" in text and "ffmpeg" in text


@pytest.mark.parametrize("command", ["pose", "analyze", "animate"])
def test_a_wrecked_video_is_refused_with_the_damage_and_the_fix(corpus, tmp_path, command):
    wrecked = corpus["wrecked"]
    args = {"pose": ["pose", wrecked, "-o", tmp_path / "m.npz", "--render", tmp_path / "p.mp4"],
            "analyze": ["analyze", wrecked, "--json", tmp_path / "r.json"],
            "animate": ["animate", "-i", corpus["image"], "-m", wrecked, "-o", tmp_path / "a.mp4", "-q", "--size", "160x240"]}[command]
    out = refused(run(*args), "too damaged", "frames (", "%) are lost to damaged data", "ffmpeg -i wrecked.mp4")
    assert "strictly increasing" not in out
    assert files(tmp_path) == set()


def test_a_scratched_video_is_measured_with_one_note(corpus, tmp_path):
    # the decoder still delivers most frames, strictly in time order
    with pytest.warns(TruncatedVideoWarning, match=r"\d+ of 45 frames \(\d+ %\) are lost"), VideoReader(corpus["scratched"]) as r:
        times = [f.t for f in r]
    assert 40 <= len(times) < 45 and np.all(np.diff(times) > 0)
    import json

    result = run("analyze", corpus["scratched"], "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    notes = json.loads((tmp_path / "r.json").read_text())["notes"]
    damage = [n for n in notes if "lost to damaged data" in n]
    assert len(damage) == 1 and "re-export" in damage[0]
    flat = " ".join(result.output.split())
    assert "Damaged video: only the frames that decoded were measured" in flat and not flat.startswith("No drift")


def test_a_truncated_video_warns_once(corpus):
    # check reads the video twice (its scene pass, then the pose workers): one warning, not two
    result = run("check", "--image", corpus["image"], "--motion", corpus["truncated"], "-q")
    assert result.exit_code in (0, 2) and isinstance(result.exception, SystemExit | None), result.output
    assert result.output.count("warning:") == 1 and "decoding stopped at" in result.output


@pytest.mark.parametrize("name,words", [("empty", ["empty (0 bytes)"]), ("text", ["not a video"])])
@pytest.mark.parametrize("command", ["pose", "analyze"])
def test_files_that_are_not_videos(corpus, tmp_path, name, words, command):
    args = ["pose", corpus[name], "-o", tmp_path / "m.npz"] if command == "pose" else ["analyze", corpus[name]]
    refused(run(*args), *words)
    assert files(tmp_path) == set()


# -- items 4-6, 9, 10: options refused before any work ----------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_max_seconds_must_be_a_positive_number(corpus, tmp_path, no_work, value):
    refused(run("animate", "-i", corpus["image"], "-m", corpus["clip"], "-o", tmp_path / "a.mp4", "--max-seconds", value),
            "--max-seconds", "positive number")
    assert files(tmp_path) == set()


@pytest.mark.parametrize("name,words", [("a.txt", ["'.txt' is not a video container"]), ("a", ["no extension"]),
                                        ("a.png", ["'.png' is not a video container"])])
def test_the_output_must_be_a_video_file(corpus, tmp_path, no_work, name, words):
    refused(run("animate", "-i", corpus["image"], "-m", corpus["clip"], "-o", tmp_path / name), *words, ".mp4")
    refused(run("pose", corpus["clip"], "-o", tmp_path / "m.npz", "--render", tmp_path / name), *words)
    assert files(tmp_path) == set()  # no hidden .part file either


def test_an_output_never_overwrites_an_input(corpus, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(corpus["clip"].read_bytes())
    before = clip.read_bytes()
    for args in (["animate", "-i", corpus["image"], "-m", clip, "-o", clip],
                 ["analyze", clip, "--json", clip],
                 ["pose", clip, "-o", tmp_path / "m.npz", "--render", clip]):
        refused(run(*args), "input of this command")
    assert clip.read_bytes() == before and files(tmp_path) == {"clip.mp4"}


def test_unwritable_output_folders(corpus, tmp_path, no_work):
    (tmp_path / "file.txt").write_text("x")
    refused(run("animate", "-i", corpus["image"], "-m", corpus["clip"], "-o", tmp_path / "missing" / "a.mp4"), "does not exist")
    refused(run("animate", "-i", corpus["image"], "-m", corpus["clip"], "-o", tmp_path / "file.txt" / "a.mp4"), "not a folder")
    refused(run("analyze", corpus["clip"], "--json", tmp_path / "missing" / "r.json"), "does not exist")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        refused(run("animate", "-i", corpus["image"], "-m", corpus["clip"], "-o", locked / "a.mp4"), "permission denied")
    assert files(tmp_path) <= {"file.txt", "locked"}


def test_outputs_get_the_users_file_mode(tmp_path):
    from steadymotion.io.atomic import UMASK

    result = run("sample-clip", tmp_path / "s.mp4", "--seconds", "0.5")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "s.mp4").stat().st_mode) == 0o666 & ~UMASK


def test_openpose_json_onto_a_file(corpus, tmp_path):
    (tmp_path / "taken.txt").write_text("mine")
    refused(run("pose", corpus["clip"], "-o", tmp_path / "m.npz", "--openpose-json", tmp_path / "taken.txt"), "not a folder")
    assert files(tmp_path) == {"taken.txt"} and (tmp_path / "taken.txt").read_text() == "mine"


@pytest.mark.parametrize("option,value,words", [("--size", "640", ["--size '640'", "WIDTHxHEIGHT"]),
                                                ("--size", "0x0", ["--size"]),
                                                ("--background", "no-such-colour", ["--background"]),
                                                ("--background", "300,0,0", ["0-255"])])
def test_bad_size_or_background_fails_before_any_work(corpus, tmp_path, no_work, option, value, words):
    refused(run("animate", "-i", corpus["image"], "-m", corpus["clip"], "-o", tmp_path / "a.mp4", option, value), *words)
    assert files(tmp_path) == set()


def test_one_prompt_limit_everywhere(corpus, tmp_path, no_work):
    from steadymotion.prompt import MAX_PROMPT_CHARS

    huge = "zoom in, " * (100_000 // 9)
    # animate refuses what prompt and check call TOO_LONG, with the same words, before any work
    out = refused(run("animate", "-i", corpus["image"], "-m", corpus["clip"], "-o", tmp_path / "a.mp4", "-p", huge), f"{MAX_PROMPT_CHARS:,}")
    lint = run("prompt", huge)
    assert "TOO_LONG" in lint.output and f"accept at most {MAX_PROMPT_CHARS:,}" in " ".join(out.split())
    assert files(tmp_path) == set()


def test_a_repeated_directive_is_one_request():
    from steadymotion.motion.directives import ZOOM, camera_path, parse_camera

    directives = parse_camera("zoom in, " * 200 + "Zoom in, pan left, pan left, 85mm, dolly zoom, dolly zoom")
    assert [d.words for d in directives.understood] == ["zoom in", "pan left", "85mm"]
    assert directives.ignored == list(dict.fromkeys(directives.ignored))
    # applied once: the zoom ends at ZOOM, not ZOOM ** 201
    path = camera_path(parse_camera("zoom in, zoom in, zoom in"), 10, (200, 200), {"body": np.full((10, 2), 100.0)})
    assert np.isclose(np.sqrt(abs(np.linalg.det(path[-1][:2, :2]))), ZOOM, rtol=1e-3)


# -- item 11: change points linear in length --------------------------------------------------------
def test_change_points_are_exact_and_linear_in_length(monkeypatch):
    from steadymotion.drift import events

    # given a long series (12,000 samples: 8 min at 24 fps) with steps every 1,500 samples
    rng = np.random.default_rng(1)
    n = 12_000
    x = rng.normal(0, 1, n) + 3.0 * ((np.arange(n) // 1500) % 2)
    calls = []
    pelt = events._pelt
    monkeypatch.setattr(events, "_pelt", lambda v, pen, m: calls.append(len(v)) or pelt(v, pen, m))
    # when it is segmented
    t = time.perf_counter()
    got = events.segments(x, min_size=12)
    took = time.perf_counter() - t
    # then it was solved in windows of bounded length (the cost grows linearly with n) ...
    assert max(calls) <= events.WINDOW and len(calls) <= 2 * n / (events.WINDOW - events.MARGIN) + 1
    # ... with the same change points as one exact solve over the whole series, which are the steps
    monkeypatch.setattr(events, "WINDOW", n + 1)
    assert events.segments(x, min_size=12) == got
    found, steps = np.array([b for _, b in got][:-1]), np.arange(1500, n, 1500)
    assert len(found) == len(steps) and np.abs(found - steps).max() <= 3, found
    assert took < 10, f"{took:.1f} s"


# -- item 12: the rest -------------------------------------------------------------------------------
def test_terminal_escapes_in_a_prompt_are_shown_not_obeyed():
    result = run("prompt", "\x1b[2J\x1b[31mshe waves, zoom in on her face\x07")
    assert result.exit_code in (0, 2) and "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b[2J" in result.output


def test_animate_notes_a_second_person_like_check(tmp_path):
    import cv2

    from steadymotion.io.image import read_image, write_image

    # given an image of two people side by side (two MooreAnimateAnyone characters)
    a, b = read_image(media_path(IMAGE)).rgb, read_image(media_path("mooreanimateanyone__anyone-11.png")).rgb
    h = 480
    pair = np.hstack([cv2.resize(im, (int(im.shape[1] * h / im.shape[0]), h), interpolation=cv2.INTER_AREA) for im in (a, b)])
    image = write_image(tmp_path / "pair.png", pair)
    motion = tmp_path / "motion.mp4"
    with VideoReader(media_path("mimicmotion__raw_0.mp4"), end_s=0.7, max_side=320) as r, VideoWriter(motion, r.fps) as w:
        for f in r:
            w.write(f.image)
    # when it is animated
    result = run("animate", "-i", image, "-m", motion, "-o", tmp_path / "a.mp4", "-q", "--size", "160x128", "--no-sound")
    # then animate says what check says: several people, the largest one is animated, crop the image
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "the image shows several people" in flat and "crop the image" in flat


def test_a_killed_writer_leaves_no_temp_folder_behind(tmp_path):
    from steadymotion.characters import STALE_TEMP_S, TEMP_PREFIX, CharacterStore

    store = CharacterStore(tmp_path / "store")
    # given what `character add` killed with -9 left (its temporary folder and a half-written object)
    old = time.time() - STALE_TEMP_S - 60
    stale_dir = store.root / f"{TEMP_PREFIX}abc"
    stale_dir.mkdir()
    (stale_dir / "master.png").write_bytes(b"half")
    (store.objects / "ab").mkdir()
    stale_obj = store.objects / "ab" / f"{TEMP_PREFIX}xyz"
    stale_obj.write_bytes(b"half")
    live = store.root / f"{TEMP_PREFIX}live"  # a writer at work right now
    live.mkdir()
    for p in (stale_dir / "master.png", stale_dir, stale_obj):
        os.utime(p, (old, old))
    # when the store is next opened
    CharacterStore(store.root)
    # then the stale ones are gone and the live one is left alone
    assert not stale_dir.exists() and not stale_obj.exists() and live.exists()


def test_web_errors_name_the_file_not_the_server_path(tmp_path):
    from steadymotion.web.state import _strip_path, hide_paths

    upload = tmp_path / "gradio" / "3f9a" / "holiday.mp4"
    msg = f"{upload}: the video is 2x2 px; video {str(upload)!r} cannot be used"
    shown = hide_paths(msg, [upload])
    assert str(tmp_path) not in shown and shown.startswith("holiday.mp4: ") and "'holiday.mp4'" in shown
    job = tmp_path / "share" / "jobs" / "1234" / "out.mp4"
    assert hide_paths(f"cannot write {str(job)!r} (disk full)", [tmp_path / "share"]) == "cannot write 'out.mp4' (disk full)"
    assert str(tmp_path) not in _strip_path(ValueError(f"{str(upload)!r} is not a video"), upload)


def test_a_cancel_that_comes_as_the_job_leaves_the_queue_stops_it(tmp_path, monkeypatch):
    """Gradio cannot stop a handler that has begun: a Cancel between the queue handing the job over
    and the job's process starting must still stop it, and a Cancel from before the Run must not."""
    import gradio as gr

    from steadymotion.web import state
    from steadymotion.web.state import WebApp

    started = []
    monkeypatch.setattr(state, "run_job", lambda *a, **k: started.append(a) or iter([("done", {})]))
    app = WebApp(tmp_path / "share")
    # given a Run accepted (queued), then cancelled before run() registered it
    app.pending("alice")
    assert app.cancel("alice")
    # when the queue hands it over, it does not start
    with pytest.raises(gr.Error, match="cancelled"):
        app.run("analyze", {}, "alice", lambda *a, **k: None)
    assert not started
    # a Cancel with nothing pending says so, and does not stop the next Run
    assert not app.cancel("alice")
    app.pending("alice")
    assert app.run("analyze", {}, "alice", lambda *a, **k: None) == {} and len(started) == 1
    # another session's Cancel is its own
    app.pending("bob")
    app.cancel("carol")
    assert app.run("analyze", {}, "bob", lambda *a, **k: None) == {} and len(started) == 2
