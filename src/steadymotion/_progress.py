"""Rich progress bars for the CLI: one helper so every command looks and behaves the same."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

#: C0 and C1 control characters but tab and newline: text from the user (a prompt, a file name)
#: can carry terminal escape sequences that recolour, move or clear the terminal when echoed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with its control characters written as escapes (``\\x1b``), for the terminal to show, not obey."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


class _Console(Console):
    """A Rich console that never passes control characters through (every string it prints, table
    cells included, goes through :meth:`render_str`)."""

    def render_str(self, text: str, **kwargs):
        return super().render_str(printable(text), **kwargs)


console = _Console(stderr=True)


@contextlib.contextmanager
def progress_bar(description: str, unit: str = "frames", quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """Yield an ``update(done, total)`` callback driving a bar (a no-op when ``quiet``)."""
    if quiet:
        yield lambda done, total: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TextColumn("[cyan]{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=None, rate="")

        def update(done: int, total: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:5.1f}/s" if elapsed > 0.5 else ""
            bar.update(task, completed=done, total=max(total, done), rate=rate)

        try:
            yield update
        except BaseException:
            bar.update(task, visible=False)  # an error is one line, not a half-filled bar above it
            raise


class StagedProgress:
    """One bar per stage, shown one after another: ``update(stage, done, total)``."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._stage: str | None = None
        self._ctx = None
        self._update = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self.close()
            self._stage = stage
            self._ctx = progress_bar(stage, quiet=self.quiet)
            self._update = self._ctx.__enter__()
        self._update(done, total)

    def close(self, exc: BaseException | None = None) -> None:
        if self._ctx is not None:
            ctx, self._ctx = self._ctx, None
            if exc is None:
                ctx.__exit__(None, None, None)
            else:
                ctx.__exit__(type(exc), exc, exc.__traceback__)

    def __enter__(self) -> StagedProgress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)
