"""Whether this process may use a second core, and a two-way split of work between
threads whose result does not depend on whether it ran in one thread or two.

Used by the per-part runner (:mod:`parkgeo._runners`) and by the steps an analyst calls one by
one on a large table (the join's point-in-polygon pass, the partial sums), so that the
library path uses the machine as the command does.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Generic, TypeVar

__all__ = [
    "PARALLEL_ROWS",
    "Later",
    "flag_in_thread",
    "one_thread",
    "run_both",
    "single_from_now",
    "two_cores",
]

log = logging.getLogger("parkgeo")

PARALLEL_ROWS = 200_000
"""Rows from which a step called on its own shares its work between two threads."""

_T = TypeVar("_T")
_R = TypeVar("_R")


def two_cores(otherwise: str | None = None) -> bool:
    """True on a machine of two cores or more (``otherwise`` is logged, INFO, when not).

    The load does not matter for threads: with both cores busy with other work, two threads
    took 9.8-9.9 s for 12 million rows against 13.2-13.4 s for one (they get a larger share
    of the machine), and 7.6-7.9 s against 8.9-9.0 s with one core busy (docs/scale.md)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        if otherwise:
            log.info("one core: %s", otherwise)
        return False
    return True


_LOCAL = threading.local()


@contextmanager
def flag_in_thread(local: threading.local, name: str) -> Iterator[None]:
    """``local.<name>`` is True within this block, in this thread only (restored after)."""
    before = getattr(local, name, False)
    setattr(local, name, True)
    try:
        yield
    finally:
        setattr(local, name, before)


def single_from_now() -> None:
    """This thread's steps never start a second thread (a worker process of ``--jobs``: the
    processes already fill the cores)."""
    _LOCAL.single = True


def one_thread() -> AbstractContextManager[None]:
    """Within this block, this thread's steps do not start a second thread (``--threads 1``,
    or a machine of one core)."""
    return flag_in_thread(_LOCAL, "single")


def _may_share(rows: int) -> bool:
    # PARALLEL_ROWS read at call time: the tests lower it to run every shared step
    return (
        rows >= PARALLEL_ROWS
        and not getattr(_LOCAL, "single", False)
        and threading.current_thread() is threading.main_thread()
        and two_cores()
    )


class Later(Generic[_R]):
    """``func(*args)``, computed in a second thread while the caller goes on when ``rows``
    reaches :data:`PARALLEL_ROWS`, the caller is the main thread and the machine has two
    cores or more; else at once. :meth:`result` gives the value (or raises what ``func`` raised)."""

    def __init__(self, func: Callable[..., _R], *args: Any, rows: int) -> None:
        self._value: list[_R] = []
        self._error: list[BaseException] = []
        self._thread: threading.Thread | None = None
        if _may_share(rows):
            self._thread = threading.Thread(
                target=self._run, args=(func, args), name="parkgeo-later", daemon=True
            )
            self._thread.start()
        else:
            self._value.append(func(*args))

    def _run(self, func: Callable[..., _R], args: tuple[Any, ...]) -> None:
        try:
            self._value.append(func(*args))
        except BaseException as exc:  # handed to the caller of result()
            self._error.append(exc)

    def result(self) -> _R:
        if self._thread is not None:
            self._thread.join()
        if self._error:
            raise self._error[0]
        return self._value[0]


def run_both(func: Callable[[_T], _R], halves: Sequence[_T], *, rows: int) -> list[_R]:
    """``[func(h) for h in halves]`` (two halves of a table, or a few columns), in two threads
    when ``rows`` reaches :data:`PARALLEL_ROWS`, the caller is the main thread (a part already
    running in a worker thread does not nest) and the machine has two cores or more. The
    results are in order either way."""
    if len(halves) < 2 or not _may_share(rows):
        return [func(h) for h in halves]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="parkgeo") as pool:
        return list(pool.map(func, halves))
