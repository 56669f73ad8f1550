"""Work kept between runs, found again by the content of its inputs.

Two kinds of work are worth keeping, because a creator repeats them with only the *other* input
changed: preparing a master image (the puppet's rig, :mod:`steadymotion.render.cache`, 3-20 s) and
tracking a reference video (MediaPipe over every frame, :mod:`steadymotion.pose.extract`, about the
clip's length again on a laptop CPU). Trying several dances on one character, checking a clip and
then animating it, or measuring drift again after a repair, each reads the earlier result back.

- **Keys**: SHA-256 over what the work depends on: the bytes of its input (the image's pixels, the
  video file's bytes), every option that changes its result, and a fingerprint of the code (the
  bytes of every module of this package plus the versions of the libraries whose models it runs).
  Any change is a miss, so a cached result is always the one the current code would compute.
- **Where**: ``$STEADYMOTION_CACHE`` (``off`` turns caching off), else
  ``$XDG_CACHE_HOME/steadymotion/prepared`` (``~/.cache/steadymotion/prepared``).
- **Bounded**: least recently used entries go once the folder holds more than
  ``$STEADYMOTION_CACHE_MB`` (default :data:`DEFAULT_MB`) megabytes.
- **Safe**: entries are written to a temporary name and renamed, so several processes may share the
  folder; a reader that cannot use an entry removes it (:func:`forget`) and computes it again; a
  folder that cannot be written only means nothing is kept.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ENV = "STEADYMOTION_CACHE"
ENV_MB = "STEADYMOTION_CACHE_MB"
DEFAULT_MB = 2048
#: Temporary files older than this were left by a killed writer and are removed.
STALE_TEMP_S = 600.0
_TEMP_PREFIX = ".tmp-"
#: Libraries whose models or algorithms shape what is cached.
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
    """SHA-256 of this package's modules and the versions of the libraries it computes with."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib}=={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib} absent".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int, inode: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (0.1 s per 100 MB), remembered in this process while the file's
    size, modification time and inode stay the same."""
    st = os.stat(path)
    return _file_digest(str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def limit_bytes() -> int:
    try:
        return int(float(os.environ.get(ENV_MB, DEFAULT_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MB * 1024 * 1024


def lookup(name: str) -> Path | None:
    """The entry ``name`` when the cache holds it (and mark it recently used), else ``None``."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / name
    if not path.is_file():
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: evicted last
    return path


def forget(name: str) -> None:
    """Remove the entry ``name`` (one that could not be read: damaged, or from an older format)."""
    folder = cache_dir()
    if folder is not None:
        with contextlib.suppress(OSError):
            (folder / name).unlink()


def store(name: str, write: Callable[[str], object]) -> str | None:
    """Keep an entry: ``write(tmp_path)`` writes it to a temporary file that is then renamed to
    ``name`` in the cache folder, and the least recently used entries go past the size limit.

    Returns ``None`` when stored (or caching is off), else why it could not be (an unwritable
    folder: the work itself is not affected).
    """
    folder = cache_dir()
    if folder is None:
        return None
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=f"-{name}.part", dir=folder)
        os.close(fd)
        write(tmp)
        os.replace(tmp, folder / name)
        tmp = None
        evict(folder, limit_bytes())
    except OSError as exc:
        return f"could not write to the cache {str(folder)!r} ({exc.strerror or exc})"
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return None


def evict(folder: Path, limit: int) -> None:
    """Remove the least recently used entries until the folder holds at most ``limit`` bytes, and
    temporary files a killed writer left behind."""
    entries = []
    now = time.time()
    for p in folder.iterdir():
        with contextlib.suppress(OSError):
            st = p.stat()
            if p.name.startswith(_TEMP_PREFIX):
                if now - st.st_mtime > STALE_TEMP_S:
                    p.unlink()
            elif p.is_file():
                entries.append((st.st_mtime, st.st_size, p))
    total = sum(e[1] for e in entries)
    for _, size, p in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        with contextlib.suppress(OSError):
            p.unlink()
            total -= size


#: What each kind of entry holds, by its name's start.
KINDS = {"tracked-": "tracked motion (one time range of a video)", "": "prepared characters (rigs)"}


def contents() -> dict[str, tuple[int, int]]:
    """``{kind: (entries, bytes)}`` of the cache folder (empty when caching is off or nothing is kept)."""
    folder = cache_dir()
    out: dict[str, tuple[int, int]] = {}
    if folder is None or not folder.is_dir():
        return out
    for p in folder.iterdir():
        if p.name.startswith(_TEMP_PREFIX) or not p.is_file():
            continue
        kind = next(label for start, label in KINDS.items() if p.name.startswith(start))
        with contextlib.suppress(OSError):
            n, size = out.get(kind, (0, 0))
            out[kind] = (n + 1, size + p.stat().st_size)
    return out


def clear() -> tuple[int, int]:
    """Remove every entry (and temporary file) of the cache folder: ``(files, bytes)`` removed.
    Entries a running process is writing appear again when it finishes; that is harmless."""
    folder = cache_dir()
    files = size = 0
    if folder is None or not folder.is_dir():
        return files, size
    for p in folder.iterdir():
        if p.is_file():
            with contextlib.suppress(OSError):
                n = p.stat().st_size
                p.unlink()
                files, size = files + 1, size + n
    return files, size
