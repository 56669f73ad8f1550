"""Shared fixtures: the real media in ../shared/media and small clips the tests make themselves."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from steadymotion.io.video import VideoWriter

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"


def tiny_video(path: Path, side: int = 2, frames: int = 20) -> Path:
    """A ``side`` x ``side`` H.264 clip of grey frames getting lighter (10 fps): for size limits."""
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width = s.height = side
        s.pix_fmt = "yuv444p"
        for i in range(frames):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((side, side, 3), 10 * i, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def media_path(name: str) -> Path:
    """Path of a file in ../shared/media, or skip the test with the reason."""
    p = MEDIA / name
    if not p.is_file():
        pytest.skip(f"needs ../shared/media/{name} (the shared test media is not present here)")
    return p


def first_frame(name: str) -> np.ndarray:
    """RGB of a shared image, or of a shared clip's first frame (skips without ../shared/media)."""
    from steadymotion.io.image import read_image
    from steadymotion.io.video import VideoReader

    path = media_path(name)
    if path.suffix == ".mp4":
        with VideoReader(path) as r:
            for f in r:
                return f.image
    return read_image(path).rgb


_POSES: dict = {}


def cached_pose(name: str, **kwargs):
    """``extract_pose`` of a shared clip, once per test session (MediaPipe over a clip takes seconds)."""
    from steadymotion.pose.extract import extract_pose

    key = (name, tuple(sorted(kwargs.items())))
    if key not in _POSES:
        _POSES[key] = extract_pose(media_path(name), **kwargs)
    return _POSES[key]


def cached_rig(rgb: np.ndarray, alpha: np.ndarray | None = None):
    """The puppet rig of an image, built once per test session (in the session's rig cache, shared
    with the pipelines and child processes the tests run): for tests that use a rig, not test rigging."""
    from steadymotion.render.cache import prepare_cached
    from steadymotion.render.puppet.backend import PuppetBackend

    return prepare_cached(PuppetBackend(), rgb, alpha, note=False)


@pytest.fixture
def media():
    return media_path


def pattern_frame(i: int, w: int = 96, h: int = 64) -> np.ndarray:
    """A smooth gradient with a bright square moving one step per frame: easy to verify after H.264."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (x * 255 // max(w - 1, 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // max(h - 1, 1)).astype(np.uint8)
    img[..., 2] = 90
    s = max(4, min(w, h) // 5)
    x0 = (4 * i) % max(w - s, 1)
    img[h // 3 : h // 3 + s, x0 : x0 + s] = 255
    return img


def write_pattern_clip(path: Path, n: int = 30, fps=Fraction(30), w: int = 96, h: int = 64, **kwargs) -> Path:
    with VideoWriter(path, fps, **kwargs) as writer:
        for i in range(n):
            writer.write(pattern_frame(i, w, h))
    return path


def truncated_copy(src: Path, folder: Path, seconds: float, keep: float) -> Path:
    """Re-encode the first ``seconds`` of ``src`` (faststart MP4), then keep only ``keep`` of its bytes,
    as an interrupted download would."""
    from steadymotion.io.video import VideoReader

    copy = folder / "copy.mp4"
    with VideoReader(src, end_s=seconds) as r, VideoWriter(copy, r.fps) as w:
        for f in r:
            w.write(f.image)
    data = copy.read_bytes()
    cut = folder / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * keep)])
    return cut


def damaged_copy(src: Path, dest: Path, start: float, end: float) -> Path:
    """``src`` with the bytes between ``start`` and ``end`` (shares of its length) overwritten by
    noise, as a bad disk sector or a broken transfer would leave it."""
    data = bytearray(src.read_bytes())
    a, b = int(start * len(data)), int(end * len(data))
    data[a:b] = np.random.default_rng(0).integers(0, 256, b - a, dtype=np.uint8).tobytes()
    dest.write_bytes(bytes(data))
    return dest


@pytest.fixture
def pattern_clip(tmp_path) -> Path:
    return write_pattern_clip(tmp_path / "pattern.mp4")


def synthetic_motion(n: int = 60, fps: int = 30, w: int = 640, h: int = 480, seed: int = 0):
    """A PoseSequence of a figure waving its right arm, all parts present, small noise."""
    from steadymotion.skeleton import N_FACE
    from steadymotion.types import PoseSequence

    rng = np.random.default_rng(seed)
    t = np.arange(n) / fps
    body = np.zeros((n, 33, 4), np.float32)
    base = rng.uniform([200, 100], [440, 400], size=(33, 2))
    body[:, :, :2] = base
    body[:, 11, :2], body[:, 12, :2] = (350, 200), (290, 200)  # shoulders (subject left on image right)
    body[:, 23, :2], body[:, 24, :2] = (340, 320), (300, 320)  # hips
    body[:, 15, :2], body[:, 16, :2] = (380, 300), (260, 300)  # wrists
    body[:, 16, 0] += 40 * np.sin(2 * np.pi * t)  # the right wrist waves
    body[:, :, 3] = 0.9
    hands = np.zeros((n, 2, 21, 3), np.float32)
    hands[:, 0, :, :2] = body[:, 15, None, :2] + rng.normal(0, 8, (21, 2))
    hands[:, 1, :, :2] = body[:, 16, None, :2] + rng.normal(0, 8, (21, 2))
    hands[:, :, 0, :2] = body[:, [15, 16], :2]
    face = np.zeros((n, N_FACE, 3), np.float32)
    face[:, :, :2] = np.array([320, 140]) + rng.normal(0, 15, (N_FACE, 2))
    return PoseSequence(
        body=body, hands=hands, face=face,
        body_present=np.ones(n, bool), hands_present=np.ones((n, 2), bool), face_present=np.ones(n, bool),
        times=t, fps=Fraction(fps), size=(w, h), source="synthetic",
    )


@pytest.fixture(autouse=True, scope="session")
def _session_cache(tmp_path_factory):
    """One cache for the whole session, never the user's own (:mod:`steadymotion.cache`): the suite
    animates the same few images many times (rigging one takes seconds; tests of rigging itself
    call ``build_rig`` directly) and tracks the same shared clips in many tests and processes
    (tracking one takes about its length again)."""
    import os

    from steadymotion.cache import ENV

    old = os.environ.get(ENV)
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n: one cache for all the session's workers
        base = base.parent
    folder = base / "prepared-cache"
    folder.mkdir(exist_ok=True)
    os.environ[ENV] = str(folder)
    yield
    if old is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = old


#: The slowest modules, started first: under ``pytest -n`` (``--dist loadfile --no-loadscope-reorder``,
#: as ``make test`` runs it) one worker takes the web UI's tests while the other shares the rest,
#: instead of the web tests running alone at the end.
_FIRST = ("test_web.py", "test_repair.py", "test_drift.py", "test_animate.py", "test_puppet_quality.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(_FIRST)))  # stable: file order otherwise kept
