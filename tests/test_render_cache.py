"""The cache of prepared characters: a rig is built once per image and code version, read back after."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from steadymotion.render import cache
from steadymotion.render.cache import ENV, ENV_MB, cache_key, prepare_cached


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


def test_any_changed_pixel_alpha_or_code_is_another_key(monkeypatch):
    rgb = _image(0)
    other = rgb.copy()
    other[39, 29, 2] ^= 1
    keys = {cache_key("puppet", rgb, None), cache_key("puppet", other, None), cache_key("tiny", rgb, None),
            cache_key("puppet", rgb, np.ones((40, 30), np.float32)), cache_key("puppet", rgb.reshape(30, 40, 3), None)}
    assert len(keys) == 5
    assert cache_key("puppet", rgb, None) == cache_key("puppet", rgb.copy(), None)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another version of the code")
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
    assert any("could not cache" in n and ENV in n for n in got.notes)


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
