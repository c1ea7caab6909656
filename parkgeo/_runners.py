"""Who runs the per-part step: this process (one thread or several), worker processes of this
machine, or Dask.

A runner maps :func:`parkgeo._chunk.run_part` over tasks and yields the results **in task
order** (the first failing part in file order raises, as in one pass). The context (plan,
parks, options) is sent to each worker once. Only partial sums (kilobytes), ledger rows and
hashed keys (24 bytes per kept row) come back. Dask is imported only when asked for.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Protocol

from parkgeo._chunk import Context, PartResult, Task, run_part
from parkgeo._cores import single_from_now, two_cores
from parkgeo._errors import InputFormatError, ParkgeoError

__all__ = ["SPLIT", "Runner", "auto_threads", "runner_for", "split_for"]

log = logging.getLogger("parkgeo")

SPLIT_ROWS = 200_000
"""From this many rows (or 16 MiB of CSV), a run in this process cuts each part in
:data:`SPLIT` slices, and ``threads=None`` runs them in two threads on a machine of two
cores or more, loaded or not. Reading, hashing, the point-in-polygon tests and most array work release
the GIL: at 1.2 million rows the per-part step took 0.48-0.51 s in two threads against
0.71-0.88 s in one (docs/scale.md)."""

SPLIT = 2
"""Slices per part of a large input run in this process. Fixed, never taken from the
machine: the slices decide the order of the additions, so the same input gives the same
bytes whatever the threads, cores or load."""

# Starting two workers took 0.02 s with fork, 0.7 s with a forkserver preloading the modules
# and 1.5 s with spawn (each imports pandas, geopandas, shapely and pyarrow). fork is safe
# here: the parent is idle when the workers start (no read in flight), Arrow and OpenBLAS
# reset their thread pools in a forked child, and the executor starts its own thread only
# after forking. Python 3.12+ deprecates fork in a process with threads (Arrow's idle pool
# counts), so there the forkserver is used.
_START_METHOD = (
    "fork" if sys.platform.startswith("linux") and sys.version_info < (3, 12) else "forkserver"
)
_PRELOAD = ["parkgeo._chunk", "parkgeo.join", "parkgeo.metrics", "parkgeo._validate"]
_WORKER: dict[str, Context] = {}


class Runner(Protocol):
    """Runs the per-part step over tasks, yielding results in task order."""

    name: str

    def map(self, tasks: Iterable[Task]) -> Iterator[PartResult]: ...

    def close(self) -> None: ...


class SerialRunner:
    """Each part in this process, one after the other."""

    name = "serial"

    def __init__(self, context: Context) -> None:
        self._context = context

    def map(self, tasks: Iterable[Task]) -> Iterator[PartResult]:
        for task in tasks:
            yield run_part(self._context, task)

    def close(self) -> None:
        pass


class ThreadRunner:
    """Parts in ``threads`` threads of this process: no start-up, nothing pickled; the parts
    are read (and sliced) here while the threads work on the previous ones."""

    name = "thread"

    def __init__(self, context: Context, threads: int) -> None:
        self._context = context
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="parkgeo")

    def map(self, tasks: Iterable[Task]) -> Iterator[PartResult]:
        futures = (self._pool.submit(run_part, self._context, task) for task in tasks)
        return _in_order(futures, self._threads)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _in_order(futures: Iterable[Any], ahead: int) -> Iterator[PartResult]:
    """Results of ``futures`` in order, with at most ``ahead`` + 1 submitted and not yet
    taken: a part that carries its cells is sent only when a worker is about to be free."""
    window: deque[Any] = deque()
    try:
        for future in futures:
            window.append(future)
            if len(window) > ahead:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for future in window:
            future.cancel()


def _init_worker(context: Context) -> None:
    _WORKER["context"] = context
    single_from_now()


def _worker_task(task: Task) -> PartResult:
    return run_part(_WORKER["context"], task)


class ProcessRunner:
    """Parts in ``jobs`` worker processes of this machine; a part that carries its cells
    (CSV) is read here and sent, at most ``jobs`` + 1 at a time (memory stays bounded)."""

    name = "process"

    def __init__(self, context: Context, jobs: int) -> None:
        ctx = multiprocessing.get_context(_START_METHOD)
        if _START_METHOD == "forkserver":
            ctx.set_forkserver_preload(_PRELOAD)
        self._jobs = jobs
        self._pool = ProcessPoolExecutor(
            max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(context,)
        )

    def map(self, tasks: Iterable[Task]) -> Iterator[PartResult]:
        return _in_order((self._pool.submit(_worker_task, task) for task in tasks), self._jobs)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _dask_task(context: Context, task: Task) -> PartResult:
    try:
        return run_part(context, task)
    except InputFormatError as exc:
        if task.part.frame is None and "not a readable Parquet file" in str(exc):
            raise InputFormatError(
                f"{exc}; on worker {os.uname().nodename}: the files must be on storage every "
                "worker sees at the same path"
            ) from None
        raise


class DaskRunner:
    """Parts as tasks on a Dask cluster (the ``parkgeo[distributed]`` extra): a Parquet part
    is read by its worker, other parts are read here and sent."""

    name = "dask"

    def __init__(self, context: Context, scheduler: Any, workers: int | None) -> None:
        self._client, self._owned = _client(scheduler, workers)
        self._context = self._client.scatter(context, broadcast=True, hash=False)
        self._window = max(2, 2 * len(self._client.scheduler_info().get("workers", {})))

    def map(self, tasks: Iterable[Task]) -> Iterator[PartResult]:
        submit = self._client.submit
        futures = (submit(_dask_task, self._context, task, pure=False) for task in tasks)
        return _in_order(futures, self._window)

    def close(self) -> None:
        for thing in self._owned:
            thing.close()


def _client(scheduler: Any, workers: int | None) -> tuple[Any, list[Any]]:
    """A distributed Client, and what to close afterwards (what this call created)."""
    try:
        import distributed
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ParkgeoError(
            "the Dask backend needs the distributed extra: pip install 'parkgeo[distributed]'"
        ) from exc
    client_class: Any = distributed.Client  # untyped library
    if scheduler is not None and not isinstance(scheduler, str):
        return scheduler, []  # an existing Client
    if scheduler:
        try:
            client = client_class(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ParkgeoError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address "
                "(tcp://host:8786) and that the scheduler is running"
            ) from None
        return client, [client]
    quiet = _DaskLogs()  # before the cluster starts: its start-up lines are INFO
    n_workers = workers if workers is not None else max(1, os.cpu_count() or 1)
    # Loopback only; the dashboard on a free port (a fixed one clashes with any other cluster).
    cluster_class: Any = distributed.LocalCluster
    cluster = cluster_class(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.WARNING,
    )
    client = client_class(cluster)
    log.info("Dask: %d local workers, dashboard %s", n_workers, client.dashboard_link)
    return client, [client, cluster, quiet]


class _DaskLogs:
    """Dask's own loggers at WARNING while a local cluster lives (closed last, after the
    cluster: its shutdown lines are INFO too).

    Dask sets ``distributed`` to INFO when imported, and its records propagate to the root
    handler the CLI installs, so without this ``--workers N -q`` printed some twenty lines
    of scheduler and worker chatter. ``LocalCluster(silence_logs=...)`` only quiets Dask's
    own handler, and restores it before the shutdown lines.
    """

    NAMES = ("distributed", "bokeh", "tornado")

    def __init__(self) -> None:
        self._old: dict[str, int] = {}
        for name in self.NAMES:
            logger = logging.getLogger(name)
            self._old[name] = logger.level
            if logger.getEffectiveLevel() < logging.WARNING:
                logger.setLevel(logging.WARNING)

    def close(self) -> None:
        for name, level in self._old.items():
            logging.getLogger(name).setLevel(level)


def split_for(total_rows: int | None, kind: str, size_bytes: int) -> int:
    """Slices per part (:data:`SPLIT` for a large input, else 1): a property of the input,
    so that the result does not depend on the machine."""
    large = (total_rows or 0) >= SPLIT_ROWS or (kind == "csv" and size_bytes >= 16 << 20)
    return SPLIT if large else 1


def auto_threads(split: int) -> int:
    """Threads when none were asked for: 2 for parts cut in slices on a machine of two cores
    or more, else 1."""
    if split < 2:
        return 1
    return 2 if two_cores("one thread (pass --threads N to choose)") else 1


def runner_for(
    context: Context,
    executor: str,
    *,
    jobs: int,
    threads: int = 1,
    scheduler: Any = None,
    workers: int | None = None,
) -> Runner:
    """The runner of ``executor`` ("serial", "process" or "dask"); a run in this process
    uses ``threads`` threads."""
    if executor == "dask":
        return DaskRunner(context, scheduler, workers)
    if executor == "process" and jobs > 1:
        return ProcessRunner(context, jobs)
    if threads > 1:
        return ThreadRunner(context, threads)
    return SerialRunner(context)
