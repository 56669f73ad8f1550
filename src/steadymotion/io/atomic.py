"""Write-then-rename, so no command ever leaves a half-written output behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from steadymotion.errors import OutputError


def check_writable(path: str | os.PathLike, inputs=()) -> Path:
    """Fail early, before any work, when ``path`` cannot be created.

    Returns the path as :class:`~pathlib.Path`. Raises :class:`OutputError` with the fix when the
    parent folder is missing, is not a folder, or is not writable, when ``path`` is a folder, or
    when it is one of the command's ``inputs`` (writing there would destroy the input).
    """
    p = Path(path)
    for src in inputs:
        if src is None or isinstance(src, (bytes, bytearray)) or not isinstance(src, (str, os.PathLike)):
            continue
        q = Path(src)
        same = q.exists() and p.exists() and os.path.samefile(p, q)
        if same or p.resolve() == q.resolve():
            raise OutputError(f"output {str(p)!r} is also an input of this command; writing it would destroy the input: "
                              "choose another output path")
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputError(f"output {str(p)!r} is a folder; give a file name such as {str(p / 'out')!r}")
    if not parent.exists():
        raise OutputError(f"output folder {str(parent)!r} does not exist; create it first (mkdir -p {parent})")
    if not parent.is_dir():
        raise OutputError(f"output folder {str(parent)!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {str(parent)!r} (permission denied); choose another output path")
    return p


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once (reading it means setting it; at import no other thread writes files yet).
UMASK = _umask()


def publish_mode(path: str | os.PathLike, directory: bool = False) -> None:
    """Give a temporary output the mode a plainly created file (or folder) would have: 0666 (0777)
    less the umask. Temporary files are created private (0600 / 0700); without this every output
    kept that mode after the rename, whatever the user's umask."""
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if directory else 0o666) & ~UMASK)


class CloseOrAbort:
    """Context manager for writers with ``close()`` and ``abort()``: the block ending normally
    finishes the output, an exception in it throws the output away (nothing half-written left)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class PendingFile:
    """A temporary file beside ``final`` that becomes ``final`` on :meth:`commit`.

    The temporary file lives in the same folder (same file system, so :func:`os.replace` is
    atomic) and keeps the extension (muxers pick the format from it).
    """

    def __init__(self, final: str | os.PathLike, suffix: str | None = None) -> None:
        self.final = check_writable(final)
        suffix = self.final.suffix if suffix is None else suffix
        fd, name = tempfile.mkstemp(prefix=f".{self.final.stem}.", suffix=f".part{suffix}", dir=self.final.parent)
        os.close(fd)
        self.tmp = Path(name)

    def commit(self) -> Path:
        # mkstemp makes the file 0600; the output gets the mode any new file of the user's gets
        publish_mode(self.tmp)
        os.replace(self.tmp, self.final)
        return self.final

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.tmp.unlink()


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    pending = PendingFile(path, suffix)
    try:
        yield pending.tmp
        pending.commit()
    except BaseException:
        pending.discard()
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, owned_glob: str = "*") -> Iterator[Path]:
    """Like :func:`atomic_output` for a folder of files (e.g. one OpenPose JSON per frame).

    Files are written into a hidden temporary folder beside ``path`` which replaces ``path`` at the
    end. An existing ``path`` is replaced only when it is empty or every entry in it matches
    ``owned_glob`` (files an earlier run wrote); anything else is refused, so user data is never
    deleted.
    """
    final = Path(path)
    if final.exists():
        if not final.is_dir():
            raise OutputError(f"{str(final)!r} exists and is not a folder; choose a folder path")
        foreign = [e.name for e in final.iterdir() if not e.match(owned_glob)]
        if foreign:
            raise OutputError(
                f"folder {str(final)!r} already holds other files (e.g. {foreign[0]!r}); "
                "choose an empty or new folder"
            )
    check_writable(final.parent / f".{final.name}.probe")  # parent exists and is writable
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent))
    try:
        yield tmp
        publish_mode(tmp, directory=True)
        for f in tmp.rglob("*"):
            publish_mode(f, directory=f.is_dir())
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
            os.rmdir(old)
            os.replace(final, old)
            os.replace(tmp, final)
            _rmtree(old)
        else:
            os.replace(tmp, final)
    except BaseException:
        _rmtree(tmp)
        raise


def _rmtree(p: Path) -> None:
    import shutil

    shutil.rmtree(p, ignore_errors=True)
