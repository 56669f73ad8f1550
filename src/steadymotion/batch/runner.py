"""A batch from start to end: expand the inputs, skip what the ledger already holds, run the rest on
an engine, write each row down the moment it arrives, and keep the dashboard up to date."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from steadymotion.batch.dashboard import write_dashboard
from steadymotion.batch.engines import check_engine, default_workers, make_engine
from steadymotion.batch.inputs import expand_inputs
from steadymotion.batch.jobs import run_item
from steadymotion.batch.ledger import Ledger
from steadymotion.errors import OutputError

#: The dashboard is rewritten at most this often while a batch runs (and always at its end).
DASHBOARD_EVERY_S = 10.0


@dataclass
class BatchSummary:
    """What a batch did. ``rows`` are the rows of this batch's inputs (new or from earlier runs), in input order."""

    kind: str
    out: Path
    rows: list[dict]
    skipped: int  # done by an earlier run
    seconds: float
    engine: str
    workers: int
    files: dict = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return sum(r["status"] == "ok" for r in self.rows)

    @property
    def errors(self) -> list[dict]:
        return [r for r in self.rows if r["status"] != "ok"]

    @property
    def processed(self) -> int:
        return len(self.rows) - self.skipped


def is_done(row: dict | None, out: Path, retry_errors: bool = False) -> bool:
    """True when ``row`` (the latest for an input) means the input needs no more work: it succeeded and
    its files are all still there, or it failed and errors are not being retried."""
    if row is None:
        return False
    if row.get("status") == "ok":
        return all((out / p).is_file() for p in row.get("outputs", {}).values())
    return not retry_errors


def run_batch(
    kind: str,
    inputs: list,
    out: str | Path,
    *,
    engine="local",
    ray_address: str | None = None,
    workers: int | None = None,
    defaults: dict | None = None,
    retry_errors: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> BatchSummary:
    """Run ``kind`` (analyze, check or animate) over ``inputs`` into the results folder ``out``.

    Parameters
    ----------
    kind : {"analyze", "check", "animate"}
    inputs : list of paths
        Files, folders and CSV manifests (:func:`~steadymotion.batch.inputs.expand_inputs`).
    out : path
        The results folder: ``results.jsonl``, ``summary.csv``, ``index.html`` and one folder per input.
    engine : "local", "ray", or an engine object
        An engine object (e.g. a :class:`~steadymotion.batch.engines.RayEngine` kept for several
        batches) is used and left open; a named one is made for this batch and closed after it.
    ray_address, workers
        See :func:`~steadymotion.batch.engines.make_engine`.
    defaults : dict, optional
        Files and options for every input (``image``, ``orientation``, ...).
    retry_errors : bool
        Run inputs whose last row is an error again (by default a rerun skips them too).
    progress : callable(done, total), optional
    on_row : callable(row), optional
        Called with each new row once it is on disk.

    Returns
    -------
    BatchSummary
    """
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {str(out)!r} is a file; give a folder for the results")
    items = expand_inputs(kind, inputs, defaults)  # bad defaults or manifests fail here, before any work
    own_engine = isinstance(engine, str)
    if own_engine:
        check_engine(engine, ray_address=ray_address, workers=workers)
    eng = None if own_engine else engine  # made when there is work: starting Ray takes seconds
    try:
        with Ledger(out) as ledger:
            other = {r.get("kind") for r in ledger.rows} - {kind}
            if other:
                raise OutputError(f"{str(out)!r} holds the results of batch {other.pop()}; give batch {kind} its own --out folder")
            latest = ledger.latest()
            todo = [it for it in items if not is_done(latest.get(it.key), out, retry_errors)]
            skipped = len(items) - len(todo)
            done = skipped
            last_dashboard = time.monotonic()
            if progress:
                progress(done, len(items))

            def record(row: dict) -> None:
                nonlocal done, last_dashboard
                ledger.append(row)
                done += 1
                if on_row:
                    on_row(row)
                if progress:
                    progress(done, len(items))
                if time.monotonic() - last_dashboard > DASHBOARD_EVERY_S:
                    write_dashboard(out, list(ledger.latest().values()), kind)
                    last_dashboard = time.monotonic()

            try:
                for item in todo:
                    if item.problem is not None:  # nothing to run: its error row now
                        record(run_item(item, str(out.absolute())))
                work = [it for it in todo if it.problem is None]
                if work:
                    eng = eng or make_engine(engine, ray_address=ray_address, workers=workers)
                    for row in eng.run(work, str(out.absolute())):
                        record(row)
            finally:
                files = write_dashboard(out, list(ledger.latest().values()), kind)
            latest = ledger.latest()
    finally:
        if own_engine and eng is not None:
            eng.close()
    rows = [latest[it.key] for it in items if it.key in latest]
    return BatchSummary(kind=kind, out=out, rows=rows, skipped=skipped, seconds=time.perf_counter() - started,
                        engine=eng.name if eng else engine, workers=eng.workers if eng else workers or default_workers(),
                        files={"results": ledger.path, **files})
