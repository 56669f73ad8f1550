"""Prepared characters kept between runs, found again by the image's content.

Preparing a master image (the puppet's rig: segmentation, part labels, texture-synthesis fills)
takes 3-20 s on a laptop CPU. Animating the same image again, with another reference clip, prompt
or camera, is the common case (a creator tries several dances on one character), so the prepared
character is stored once and read back in a fraction of a second.

- **Key**: SHA-256 over the backend's name, a fingerprint of the code that prepares it (the bytes
  of every module of this package plus the versions of the libraries whose models it runs) and the
  image's shape and pixels (and its own alpha). Any change to the code or the image is a miss, so
  a cached character is always the one the current code would build.
- **Where**: ``$STEADYMOTION_CACHE`` (``off`` turns caching off), else
  ``$XDG_CACHE_HOME/steadymotion/prepared`` (``~/.cache/steadymotion/prepared``).
- **Bounded**: least recently used entries go once the folder holds more than
  ``$STEADYMOTION_CACHE_MB`` (default :data:`DEFAULT_MB`) megabytes.
- **Safe**: entries are written to a temporary name and renamed, so several processes may share the
  folder; an entry that cannot be read is removed and rebuilt; a folder that cannot be written
  only means nothing is cached (said once in the character's notes).

Only backends that can ``save`` and ``load`` what they prepare are cached.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from steadymotion.errors import SteadyMotionError

ENV = "STEADYMOTION_CACHE"
ENV_MB = "STEADYMOTION_CACHE_MB"
DEFAULT_MB = 2048
SUFFIX = ".prepared"
#: Temporary files older than this were left by a killed writer and are removed.
STALE_TEMP_S = 600.0
#: Libraries whose models or algorithms shape a prepared character.
_LIBRARIES = ("mediapipe", "opencv-contrib-python", "numpy", "scipy", "scikit-image", "triangle")


def cache_dir() -> Path | None:
    """The cache folder, or ``None`` when ``$STEADYMOTION_CACHE`` is ``off`` (or ``0``, ``none``)."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in ("off", "0", "none", "false", "no"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "steadymotion" / "prepared"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of this package's modules and the versions of the libraries it prepares with."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib}=={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib} absent".encode())
    return h.hexdigest()


def cache_key(backend: str, rgb: np.ndarray, alpha: np.ndarray | None) -> str:
    h = hashlib.sha256()
    h.update(f"{backend}\0{code_fingerprint()}\0{rgb.shape}\0{rgb.dtype}".encode())
    h.update(np.ascontiguousarray(rgb).data)
    if alpha is not None:
        h.update(f"\0alpha{alpha.shape}{alpha.dtype}".encode())
        h.update(np.ascontiguousarray(alpha).data)
    return h.hexdigest()


def _limit_bytes() -> int:
    try:
        return int(float(os.environ.get(ENV_MB, DEFAULT_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MB * 1024 * 1024


def _evict(folder: Path, limit: int) -> None:
    """Remove the least recently used entries until the folder holds at most ``limit`` bytes."""
    entries = []
    for p in folder.glob(f"*{SUFFIX}"):
        with contextlib.suppress(OSError):
            st = p.stat()
            entries.append((st.st_mtime, st.st_size, p))
    now = time.time()
    for p in folder.glob(f".tmp-*{SUFFIX}.part"):  # left by a killed writer
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime > STALE_TEMP_S:
                p.unlink()
    total = sum(e[1] for e in entries)
    for _, size, p in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        with contextlib.suppress(OSError):
            p.unlink()
            total -= size


def prepare_cached(backend, rgb: np.ndarray, alpha: np.ndarray | None = None, *, source: str = "image",
                   note: bool = True):
    """``backend.prepare(rgb, alpha, source=source)``, read from the cache when it was prepared before.

    With ``note`` the returned character's ``notes`` say when it came from the cache or could not
    be cached (leave it off for a character that is stored for good). Errors of ``prepare`` itself
    (no person in the image, …) are raised as they are and never cached.
    """
    folder = cache_dir()
    if folder is None or not (hasattr(backend, "save") and hasattr(backend, "load")):
        return backend.prepare(rgb, alpha, source=source)
    path = folder / f"{backend.name}-{cache_key(backend.name, rgb, alpha)}{SUFFIX}"
    if path.is_file():
        try:
            character = backend.load(path)
        except (SteadyMotionError, OSError, ValueError, KeyError, EOFError):
            with contextlib.suppress(OSError):
                path.unlink()  # damaged or from an older format: rebuilt below
        else:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: evicted last
            if note:
                character.notes = [*character.notes, f"prepared character read from the cache ({folder}); "
                                                      f"set {ENV}=off to rebuild it every time"]
            return character
    character = backend.prepare(rgb, alpha, source=source)
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX + ".part", dir=folder)
        os.close(fd)
        backend.save(character, tmp)
        os.replace(tmp, path)
        tmp = None
        _evict(folder, _limit_bytes())
    except OSError as exc:
        if note:
            character.notes = [*character.notes, f"could not cache the prepared character in {str(folder)!r} "
                                                  f"({exc.strerror or exc}); set {ENV} to a writable folder, or to off"]
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return character
