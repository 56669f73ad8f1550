"""Where a batch's inputs are processed: a process pool on this machine (:class:`LocalEngine`, the
default) or tasks on a Ray cluster (:class:`RayEngine`). Both run :func:`~steadymotion.batch.jobs.run_item`
and yield its rows as they finish; the caller writes them down.
"""

from __future__ import annotations

import contextlib
import ipaddress
import multiprocessing as mp
import os
import shutil
import signal
import socket
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from steadymotion.batch.inputs import BatchItem
from steadymotion.batch.jobs import base_row, run_item
from steadymotion.errors import InvalidOptionError, MissingDependencyError, SteadyMotionError, error_message

ENGINES = ("local", "ray")
#: Object store of a Ray cluster started for one batch: rows are small, nothing large travels.
RAY_OBJECT_STORE_BYTES = 200 * 1024 * 1024
#: Tasks kept queued per worker (more would only sit in Ray's queue when the batch is stopped).
QUEUED_PER_WORKER = 2


def default_workers() -> int:
    """One worker per CPU core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _die_with_parent() -> None:
    """Pool worker set-up: on Linux, be killed when the batch process dies (``kill -9`` included),
    so an abandoned worker never writes into the results folder behind a rerun's back."""
    with contextlib.suppress(Exception):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent was already gone
            os._exit(1)


def _crashed_row(item: BatchItem, detail: str) -> dict:
    row = base_row(item)
    row.update(status="error", error=f"the worker processing this input died ({detail}); it may be out of memory, "
                                    "or the file crashes a decoder")
    return row


class LocalEngine:
    """A pool of ``workers`` processes on this machine (default: one per core).

    A worker that dies (killed for memory, a crash in native code) breaks the pool; the inputs it
    took down with it are run again, each in a pool of its own, so only the input that kills its
    worker becomes an error row.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def run(self, items: Iterable[BatchItem], out_dir: str) -> Iterator[dict]:
        items = list(items)
        hit: list[BatchItem] = []
        yield from self._pool(items, out_dir, self.workers, hit)
        for item in hit:  # alone now: a crash names its input
            again: list[BatchItem] = []
            yield from self._pool([item], out_dir, 1, again)
            if again:
                yield _crashed_row(item, "the process pool broke twice on it")

    @staticmethod
    def _pool(items: list[BatchItem], out_dir: str, workers: int, broken: list[BatchItem]) -> Iterator[dict]:
        if not items:
            return
        ctx = mp.get_context("spawn")  # no fork of a process with threads (the progress bar's, Ray's)
        with ProcessPoolExecutor(max_workers=min(workers, len(items)), mp_context=ctx, initializer=_die_with_parent) as pool:
            running = {pool.submit(run_item, item, out_dir): item for item in items}
            try:
                while running:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        item = running.pop(future)
                        try:
                            row = future.result()
                        except BrokenProcessPool:
                            broken.append(item)
                            continue
                        except KeyboardInterrupt:  # the worker was interrupted: not a result
                            continue
                        yield row
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def close(self) -> None:
        pass


def _import_ray():
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("the ray engine needs Ray: pip install 'steadymotion[ray]'") from None
    return ray


class RayEngine:
    """Tasks on a Ray cluster: the one at ``address`` (``ray start --head`` prints it; the inputs and
    the results folder must be at the same paths on every node, and steadymotion installed there),
    or, without an address, a cluster started for this batch on this machine, bound to 127.0.0.1
    only, with ``workers`` CPUs, and shut down by :meth:`close`.
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self._temp_dir: str | None = None
        if address is None:
            self._temp_dir = tempfile.mkdtemp(prefix="sm-ray-")
            try:
                start_local_ray(workers or default_workers(), self._temp_dir)
            except BaseException:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                raise
        else:
            if _loopback(address.rpartition(":")[0]):
                _single_machine_mode()  # else Ray swaps 127.0.0.1 for this machine's outward address
            ray = _import_ray()
            if ray.is_initialized():
                raise InvalidOptionError("Ray is already initialised in this process; pass the engine that started it")
            try:
                ray.init(address=address, log_to_driver=False, logging_level="warning")
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise InvalidOptionError(f"cannot reach the Ray cluster at {address!r}: {error_message(exc)}") from None
        ray = _import_ray()
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        # a cluster of our own has `workers` CPUs, so Ray runs that many and the rest wait queued;
        # on someone else's cluster, --workers is how many of its CPUs this batch takes at once
        self._in_flight = workers if address is not None and workers else QUEUED_PER_WORKER * self.workers
        self._task = ray.remote(num_cpus=1, max_retries=1)(run_item)

    def run(self, items: Iterable[BatchItem], out_dir: str) -> Iterator[dict]:
        ray = _import_ray()
        queue = deque(items)
        running: dict = {}
        try:
            while queue or running:
                while queue and len(running) < self._in_flight:
                    item = queue.popleft()
                    running[self._task.remote(item, out_dir)] = item
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    item = running.pop(ref)
                    try:
                        yield ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the task's worker died, or the node
                        yield _crashed_row(item, f"Ray: {type(exc).__name__}")
        finally:
            for ref in running:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)

    def close(self) -> None:
        ray = _import_ray()
        with contextlib.suppress(Exception):
            ray.shutdown()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None


def _single_machine_mode() -> None:
    """Ray's single-machine mode: 127.0.0.1 stays 127.0.0.1 (for this process and the cluster's)."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    _import_ray()
    from ray._private import ray_constants  # read once at import: set it too if Ray was imported earlier

    ray_constants.ENABLE_RAY_CLUSTER = False


def start_local_ray(num_cpus: int, temp_dir: str) -> None:
    """Start a one-machine Ray cluster that listens on 127.0.0.1 only, and connect to it.

    Ray resolves "127.0.0.1" to the machine's outward address unless it runs in its single-machine
    mode (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, the mode it uses on Windows and macOS); in that
    mode every server of the cluster (GCS, raylet, object manager, workers, agents) binds to the
    node address, 127.0.0.1. The setting goes into the environment the cluster's processes
    inherit. Usage statistics stay off; logs go to ``temp_dir``.
    """
    _single_machine_mode()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray = _import_ray()
    if ray.is_initialized():
        raise InvalidOptionError("Ray is already initialised in this process; pass the engine that started it")
    try:
        ray.init(address="local", num_cpus=num_cpus, object_store_memory=RAY_OBJECT_STORE_BYTES, include_dashboard=False,
                 _node_ip_address="127.0.0.1", _temp_dir=temp_dir, log_to_driver=False, logging_level="warning",
                 namespace="steadymotion-batch")
    except Exception as exc:  # noqa: BLE001 - Ray's own failures (ports, shared memory) as one line
        raise SteadyMotionError(" ".join(f"could not start a local Ray cluster ({type(exc).__name__}: {exc}); "
                                         "try --engine local".split())) from None
    node_ip = ray.util.get_node_ip_address()
    if node_ip != "127.0.0.1":
        ray.shutdown()
        raise SteadyMotionError(f"the local Ray cluster came up on {node_ip}, not 127.0.0.1; refusing to run on it")


def check_engine(engine: str, *, ray_address: str | None = None, workers: int | None = None) -> None:
    """Refuse an unknown engine or options that do not go with it (before any work)."""
    if engine not in ENGINES:
        raise InvalidOptionError(f"--engine {engine!r}: one of {', '.join(ENGINES)}")
    if ray_address is not None and engine != "ray":
        raise InvalidOptionError("--ray-address needs --engine ray")
    if workers is not None and workers < 1:
        raise InvalidOptionError(f"--workers must be at least 1, got {workers}")
    if engine == "ray":
        _import_ray()
        if ray_address is not None:
            _probe(ray_address)


def _probe(address: str) -> None:
    """Fail at once when nothing listens at ``HOST:PORT`` (Ray itself would retry for minutes)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise InvalidOptionError(f"--ray-address {address!r}: write it as HOST:PORT (what `ray start --head` prints)")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise InvalidOptionError(f"cannot reach the Ray cluster at {address!r} ({exc.strerror or exc}); start one with "
                                 "`ray start --head`, or leave out --ray-address for a cluster on this machine") from None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def make_engine(engine: str, *, ray_address: str | None = None, workers: int | None = None):
    """The engine named ``engine`` ("local" or "ray"); a Ray cluster is reached or started here."""
    check_engine(engine, ray_address=ray_address, workers=workers)
    if engine == "local":
        return LocalEngine(workers)
    return RayEngine(ray_address, workers)
