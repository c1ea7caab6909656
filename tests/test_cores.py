"""Second-thread sharing (:mod:`parkgeo._cores`): the same result, bit for bit, whether a step
ran in one thread or two, and errors reach the caller."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from parkgeo import _cores
from parkgeo._cores import Later, one_thread, run_both
from parkgeo.datasets import sample_path
from parkgeo.io import read_enterprises
from parkgeo.join import assign_parks
from parkgeo.metrics import park_metrics


@pytest.fixture
def free_core(monkeypatch):
    """A two-core machine, and every table large enough to share."""
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(_cores, "PARALLEL_ROWS", 0)


def test_later_runs_in_a_second_thread_and_hands_back_errors(free_core):
    seen = []

    def work(x: int) -> int:
        seen.append(threading.current_thread().name)
        return x * 2

    assert Later(work, 21, rows=10).result() == 42
    assert seen == ["parkgeo-later"]

    def fails() -> None:
        raise ValueError("bad cell")

    later = Later(fails, rows=10)
    with pytest.raises(ValueError, match="bad cell"):
        later.result()
    with one_thread():
        assert Later(work, 1, rows=10).result() == 2
    assert seen[-1] == threading.main_thread().name


def test_run_both_keeps_order_and_stays_in_one_thread_on_one_core(free_core, monkeypatch):
    names: list[str] = []

    def work(x: int) -> int:
        names.append(threading.current_thread().name)
        return x + 1

    assert run_both(work, [1, 2], rows=10) == [2, 3]
    assert all(n.startswith("parkgeo") for n in names)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
    names.clear()
    assert run_both(work, [1, 2], rows=10) == [2, 3]
    assert names == [threading.main_thread().name] * 2


def test_the_library_path_gives_the_same_bytes_in_one_thread_or_two(free_core, tmp_path):
    """read_enterprises (ids checked in a second thread), assign_parks (parks in two runs)
    and park_metrics (two halves summed at once) against the same calls in one thread, on the
    sample with repeated keys, a missing id and a full-width id added."""
    from parkgeo.datasets import load_tianjin

    sample = load_tianjin()
    raw = pd.read_parquet(sample_path("tianjin_enterprises.parquet"))
    extra = raw.iloc[[0, 1, 2]].copy()  # repeats of three enterprise-years
    missing = raw.iloc[[3]].assign(enterprise_id=None)
    wide = raw.iloc[[4]].assign(
        enterprise_id=raw.iloc[4]["enterprise_id"].translate(
            {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
        )
    )  # the same firm and year, its id in full-width letters
    path = tmp_path / "messy.parquet"
    pd.concat([raw, extra, missing, wide], ignore_index=True).to_parquet(path)

    def library() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        loaded = read_enterprises(path)
        assigned = assign_parks(loaded.data, sample.parks).assigned
        return loaded.rejects, assigned, park_metrics(assigned, sample.parks)

    shared = library()
    with one_thread():
        alone = library()
    for got, want in zip(shared, alone, strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    reasons = shared[0]["reason"].value_counts().to_dict()
    assert reasons == {"duplicate_enterprise_year": 4, "missing_enterprise_id": 1}
    assert len(shared[1]) + len(shared[0]) == len(raw) + 5


def _thread_of_later(queue) -> None:  # type: ignore[no-untyped-def]
    from parkgeo import _cores as cores

    cores.PARALLEL_ROWS = 0
    cores.single_from_now()  # what a --jobs worker process does when it starts
    name = Later(lambda: threading.current_thread().name, rows=10).result()
    queue.put(name)


def test_a_worker_process_starts_no_thread_of_its_own():
    """Worker processes (--jobs) already fill the cores: their steps stay in one thread."""
    import multiprocessing

    # spawn: forking a process that has threads is deprecated from Python 3.12
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_thread_of_later, args=(queue,))
    child.start()
    name = queue.get(timeout=60)
    child.join(30)
    assert name == "MainThread"
