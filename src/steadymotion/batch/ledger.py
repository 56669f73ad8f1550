"""The results folder's ledger, ``results.jsonl``: one JSON line per finished input, appended and
flushed to disk (``fsync``) before the next one is counted, so killing a batch at any moment loses
no finished result, and a rerun skips what is there.

Only the batch's own process writes it, one whole line per ``write``, and a lock file keeps a second
batch out of the same folder. A line cut short by a crash (no newline at its end) is dropped when the
ledger is opened again; that input is simply done again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from steadymotion.batch.inputs import RESULTS_FILE as RESULTS
from steadymotion.errors import OutputError

LOCK = ".batch.lock"


class Ledger:
    """``results.jsonl`` in ``folder``, opened for appending (use as a context manager).

    ``rows`` holds every row read or written, in order; :meth:`latest` the last one per key.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / RESULTS
        self.rows: list[dict] = []
        self._fd: int | None = None
        self._lock: int | None = None

    def __enter__(self) -> Ledger:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write results into {str(self.folder)!r} ({exc.strerror or exc}); "
                              "choose another --out folder") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            self._lock = None
            raise OutputError(f"another batch is writing into {str(self.folder)!r}; wait for it or choose another "
                              "--out folder") from None
        new = not self.path.exists()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        data = os.pread(self._fd, os.fstat(self._fd).st_size, 0) if not new else b""
        whole = data[: data.rfind(b"\n") + 1]
        if len(whole) != len(data):  # the last line was cut short by a crash: drop it
            os.ftruncate(self._fd, len(whole))
            os.fsync(self._fd)
        for n, line in enumerate(whole.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise OutputError(f"{self.path} line {n} is not JSON: that file is not a batch's results; "
                                  "choose another --out folder") from None
            self.rows.append(row)
        if new:
            _fsync_dir(self.folder)

    def append(self, row: dict) -> None:
        """Write ``row`` as one line and make it durable before returning."""
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)
        self.rows.append(row)

    def latest(self) -> dict[str, dict]:
        """The last row written for each key (a retried input's newer row replaces its older one)."""
        return {row["key"]: row for row in self.rows if "key" in row}

    def close(self) -> None:
        for fd in (self._fd, self._lock):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fd = self._lock = None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
