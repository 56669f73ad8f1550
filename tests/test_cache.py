"""The cache of work kept between runs: a rig is built once per image and code version, a video's
motion tracked once per file, options and code version; both are read back after."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from steadymotion import cache
from steadymotion.cache import ENV, ENV_MB
from steadymotion.render import cache as rig_cache
from steadymotion.render.cache import cache_key, prepare_cached


class _Tiny:
    """A backend whose character is its image's mean: the cache's bookkeeping without rigging."""

    name = "tiny"

    def __init__(self, pad_bytes: int = 0):
        self.prepared = 0
        self.pad = pad_bytes

    def prepare(self, rgb, alpha=None, *, source="image"):
        self.prepared += 1
        return _Char(float(rgb.mean()))

    def save(self, character, path):
        Path(path).write_bytes(repr(character.value).encode() + b"\n" + b"\0" * self.pad)

    def load(self, path):
        return _Char(float(Path(path).read_bytes().split(b"\n")[0]))


class _Char:
    def __init__(self, value):
        self.value, self.notes = value, []


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (40, 30, 3), dtype=np.uint8)


def test_the_puppet_rig_comes_back_from_the_cache_identical(tmp_path, monkeypatch):
    from steadymotion.render.puppet import backend as puppet_backend
    from steadymotion.render.puppet.backend import PuppetBackend
    from steadymotion.samples import sample_image

    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    real, built = puppet_backend.build_rig, []
    monkeypatch.setattr(puppet_backend, "build_rig", lambda *a, **k: built.append(1) or real(*a, **k))
    rgb = sample_image()
    first = prepare_cached(PuppetBackend(), rgb)
    assert len(built) == 1 and len(list((tmp_path / "cache").glob("puppet-*.prepared"))) == 1
    second = prepare_cached(PuppetBackend(), rgb)
    assert len(built) == 1, "the second prepare must read the cache, not rig again"
    for name in ("image", "background", "labels", "filled", "rest", "present", "radius"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    assert np.abs(first.alpha - second.alpha).max() < 1e-3  # stored as float16
    assert [p.name for p in first.parts] == [p.name for p in second.parts]
    for a, b in zip(first.parts, second.parts, strict=True):
        assert np.array_equal(a.texture, b.texture) and np.array_equal(a.vertices, b.vertices)
        assert np.array_equal(a.weights, b.weights)
    assert any("from the cache" in n for n in second.notes)
    assert not any("from the cache" in n for n in first.notes)
    # a damaged entry (a disk full half-way, a copy cut short) is rigged again, not an error
    (entry,) = (tmp_path / "cache").glob("puppet-*.prepared")
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    third = prepare_cached(PuppetBackend(), rgb)
    assert len(built) == 2 and np.array_equal(third.labels, first.labels)


def test_any_changed_pixel_alpha_or_code_is_another_key(monkeypatch):
    rgb = _image(0)
    other = rgb.copy()
    other[39, 29, 2] ^= 1
    keys = {cache_key("puppet", rgb, None), cache_key("puppet", other, None), cache_key("tiny", rgb, None),
            cache_key("puppet", rgb, np.ones((40, 30), np.float32)), cache_key("puppet", rgb.reshape(30, 40, 3), None)}
    assert len(keys) == 5
    assert cache_key("puppet", rgb, None) == cache_key("puppet", rgb.copy(), None)
    monkeypatch.setattr(rig_cache, "code_fingerprint", lambda: "another version of the code")
    assert cache_key("puppet", rgb, None) not in keys


def test_a_damaged_entry_is_rebuilt_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path))
    b = _Tiny()
    rgb = _image(1)
    prepare_cached(b, rgb)
    (entry,) = tmp_path.glob("tiny-*.prepared")
    entry.write_bytes(b"not a number")
    again = prepare_cached(b, rgb)
    assert b.prepared == 2 and again.value == pytest.approx(rgb.mean())
    assert prepare_cached(b, rgb).value == pytest.approx(rgb.mean()) and b.prepared == 2


def test_an_unwritable_cache_still_prepares_and_says_why(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv(ENV, str(tmp_path / "a-file" / "cache"))
    got = prepare_cached(_Tiny(), _image(2))
    assert got.value == pytest.approx(_image(2).mean())
    assert any("could not write to the cache" in n and ENV in n for n in got.notes)


def test_off_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "off")
    b = _Tiny()
    prepare_cached(b, _image(3))
    prepare_cached(b, _image(3))
    assert b.prepared == 2


def test_least_recently_used_entries_go_over_the_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path))
    monkeypatch.setenv(ENV_MB, "2.5")
    b = _Tiny(pad_bytes=1024 * 1024)
    a_img, b_img, c_img = _image(10), _image(11), _image(12)
    prepare_cached(b, a_img)
    time.sleep(0.02)
    prepare_cached(b, b_img)
    time.sleep(0.02)
    prepare_cached(b, a_img)  # a hit: a is now the most recently used
    time.sleep(0.02)
    prepare_cached(b, c_img)  # three entries of 1 MiB do not fit in 2.5: b goes
    assert b.prepared == 3 and len(list(tmp_path.glob("*.prepared"))) == 2
    prepare_cached(b, a_img)
    prepare_cached(b, c_img)
    assert b.prepared == 3
    prepare_cached(b, b_img)
    assert b.prepared == 4


def test_a_stale_temporary_file_of_a_killed_writer_is_removed(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path))
    stale, fresh = tmp_path / ".tmp-old.prepared.part", tmp_path / ".tmp-new.prepared.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 2 * cache.STALE_TEMP_S
    os.utime(stale, (old, old))
    prepare_cached(_Tiny(), _image(4))
    assert not stale.exists() and fresh.exists()


def _tracked(clip, **kw):
    """``extract_pose`` of ``clip``, and how many tracking workers it started."""
    import subprocess

    from steadymotion.pose import extract

    started = []
    real = subprocess.Popen

    def popen(cmd, *a, **k):
        if "steadymotion.pose._chunk" in cmd:
            started.append(cmd)
        return real(cmd, *a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(subprocess, "Popen", popen)
        seq = extract.extract_pose(clip, **kw)
    return seq, len(started)


def test_a_video_tracked_before_is_read_back_not_tracked_again(tmp_path, monkeypatch):
    from steadymotion.io.video import VideoReader, VideoWriter
    from tests.conftest import media_path

    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    clip = tmp_path / "dance.mp4"
    with VideoReader(media_path("mimicmotion__raw_0.mp4"), end_s=6.2, max_side=320) as r, VideoWriter(clip, r.fps) as w:
        for f in r:
            w.write(f.image)
    # given a real dance tracked once, in two chunks (of at least MIN_CHUNK_S)
    progress = []
    first, n1 = _tracked(clip, workers=2, progress=lambda d, t: progress.append((d, t)))
    assert n1 == 2 and first.meta["chunks"] == 2
    assert len(list((tmp_path / "cache").glob("tracked-*.npz"))) == 2
    # when it is tracked again, then no worker starts and the motion is the same, to the bit
    got = []
    again, n2 = _tracked(clip, workers=2, progress=lambda d, t: got.append((d, t)))
    assert n2 == 0
    for name in ("body", "hands", "face", "times", "body_present", "hands_present", "face_present", "world"):
        assert np.array_equal(getattr(first, name), getattr(again, name), equal_nan=True), name
    assert got[-1] == progress[-1]  # the progress bar still ends full
    # what runs after tracking (smoothing) is not part of the key: a raw read is a hit too
    raw, n3 = _tracked(clip, workers=2, smooth=False)
    assert n3 == 0 and not np.array_equal(raw.body, first.body, equal_nan=True)
    # other tracking options, another range, or other bytes are tracked again
    assert _tracked(clip, workers=2, parts="body")[1] == 2
    assert _tracked(clip, workers=2, until_s=4.0)[1] == 1
    copy = tmp_path / "copy.mp4"
    data = bytearray(clip.read_bytes())
    data[-1] ^= 0xFF  # one byte of the last packet's payload changed
    copy.write_bytes(bytes(data))
    assert _tracked(copy, workers=2)[1] == 2


def test_a_damaged_tracking_entry_is_tracked_again(tmp_path, monkeypatch):
    from tests.conftest import media_path

    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    clip = media_path("liveportrait__d13.mp4")
    first, _ = _tracked(clip, workers=1, until_s=1.0)
    (entry,) = (tmp_path / "cache").glob("tracked-*.npz")
    entry.write_bytes(b"PK\x03\x04 not a zip any more")
    again, n = _tracked(clip, workers=1, until_s=1.0)
    assert n == 1 and np.array_equal(first.face, again.face, equal_nan=True)
    assert np.load(entry)["times"].shape == first.times.shape  # written again, whole


def test_cli_shows_and_clears_the_cache(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from steadymotion.cli import app

    monkeypatch.setenv(ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    b = _Tiny(pad_bytes=300_000)
    prepare_cached(b, _image(20))
    prepare_cached(b, _image(21))
    (tmp_path / "cache" / "tracked-abc.npz").write_bytes(b"\0" * 500_000)
    shown = CliRunner().invoke(app, ["cache"])
    assert shown.exit_code == 0, shown.output
    assert str(tmp_path / "cache") in shown.output.replace("\n", "")
    rows = {line.split("│")[1].strip(): line for line in shown.output.splitlines() if line.count("│") >= 3}
    assert any("rigs" in k and " 2 " in v and "0.6" in v for k, v in rows.items()), shown.output
    assert any("tracked motion" in k and " 1 " in v and "0.5" in v for k, v in rows.items()), shown.output
    cleared = CliRunner().invoke(app, ["cache", "--clear"])
    assert cleared.exit_code == 0 and "removed 3 files" in cleared.output, cleared.output
    assert not any((tmp_path / "cache").iterdir())
    prepare_cached(b, _image(20))
    assert b.prepared == 3  # rigged again after the clear
    monkeypatch.setenv(ENV, "off")
    off = CliRunner().invoke(app, ["cache", "--clear"])
    assert off.exit_code == 0 and "caching is off" in off.output
