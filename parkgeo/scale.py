"""Density figures of an enterprise file of any size, in memory, in batches or on Dask.

The density figures are ratios of sums, so they can be built from **partial sums per (park,
year)** that add up. Every function here runs the one pipeline of :mod:`parkgeo._driver`:
plan the file, clean, join and reduce each part, combine the partial sums (with the
repeated enterprise-year keys across parts found once), finish. The backends differ only in
the size of the parts and in who runs the per-part step:

* ``"memory"``: the whole file as one part, in this process (fastest while it fits);
* ``"batched"``: parts of ``batch_rows`` rows, in this process or in ``jobs`` worker
  processes; memory is bounded by the part size plus 24 bytes per kept row;
* ``"dask"``: parts of ``partition_rows`` rows as tasks on a Dask cluster (the optional
  ``parkgeo[distributed]`` extra; Parquet parts are read by the workers, so the files must be
  on storage every worker sees).

Rows are numbered globally (``source_row`` = 0-based data row of the whole file), so the
reject ledger is the one :func:`parkgeo.io.read_enterprises` returns, row for row, and the
log lines, the ``attrs`` and the encoding are those of the whole-file path. Counts are exact;
sums agree with the in-memory sums to floating-point summation error (relative 1e-12 or so).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._chunk import clean, merge_conversions, read_attrs, report_cleaning
from parkgeo._dedupe import SeenKeys, key_hashes
from parkgeo._driver import BatchedResult, join_summary, run_density
from parkgeo._errors import ParkgeoError
from parkgeo._options import (
    UNUSED_BY_DENSITY,
    JoinOptions,
    ReadOptions,
    ReportOptions,
    RunOptions,
    whole_number,
)
from parkgeo._readers import part_frame, partitions_of, parts, plan_source

__all__ = [
    "BACKENDS",
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_PARTITION_ROWS",
    "Batch",
    "BatchedResult",
    "iter_enterprise_batches",
    "join_summary",
    "park_metrics_batched",
    "park_metrics_dask",
    "park_metrics_file",
    "partitions_of",
]

log = logging.getLogger("parkgeo")

DEFAULT_BATCH_ROWS = 2_000_000
"""Rows per batch: about 1.3 GB of peak memory at 500 parks with two threads (1.1 GB with one;
measured on 12 million rows), and no slower than one pass over the whole file (smaller arrays
stay in cache)."""

DEFAULT_PARTITION_ROWS = 2_000_000
"""Rows per Dask task: ~1 GB of worker memory at peak; large enough that scheduling is cheap."""

BACKENDS = ("memory", "batched", "dask")
"""Values of ``backend=`` in :func:`park_metrics_file`."""


def park_metrics_file(
    path: str | Path,
    parks: Any,
    *,
    backend: str = "memory",
    batch_rows: int | None = DEFAULT_BATCH_ROWS,
    scheduler: Any = None,
    workers: int | None = None,
    partition_rows: int | None = None,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
    strict: bool = False,
    accept_years: Any = None,
    near_m: float | None = None,
    overlap: str = "smallest",
    priority: str | None = None,
    years: Iterable[int] | None = None,
    baseline_year: int | None = None,
    target_year: int | None = None,
    targets: Any = None,
    min_enterprises: int | None = None,
    per_mu: bool = False,
    industry_mix: bool = True,
    progress: bool | None = None,
    jobs: int | None = None,
    threads: int | None = None,
) -> BatchedResult:
    """Density figures of an enterprise file, in memory, in batches or on a Dask cluster.

    One entry point over the three backends, which give the same result (counts, the
    reject ledger, log lines and ``attrs`` exactly, sums to floating-point summation error).

    Parameters
    ----------
    path : str or path-like
        The enterprise file: any format :func:`parkgeo.io.read_enterprises` reads (a
        directory or glob of Parquet files too).
    parks : geopandas.GeoDataFrame
        The parks.
    backend : {"memory", "batched", "dask"}
        ``"memory"``: read the whole file (fastest while it fits in memory). ``"batched"``:
        ``batch_rows`` rows at a time, memory bounded by the batch. ``"dask"``: partitions on
        a Dask cluster.
    batch_rows : int or None
        Rows per batch (``"batched"``; default :data:`DEFAULT_BATCH_ROWS`; ``None``: one
        batch).
    scheduler, workers, partition_rows
        Dask options (see :func:`park_metrics_dask`).
    columns, coord_system, encoding, strict, accept_years
        How to read (see :func:`parkgeo.io.read_enterprises`; ``accept_years`` is its
        ``years``). ``encoding`` does not apply to Parquet.
    near_m, overlap, priority
        How to join (see :func:`parkgeo.join.assign_parks`).
    years, baseline_year, target_year, targets, min_enterprises, per_mu, industry_mix
        What to report (see :func:`parkgeo.metrics.park_metrics`).
    progress : bool, optional
        Show progress (batched and Dask; default: when the ``parkgeo`` logger emits INFO).
    jobs : int, optional
        Worker processes of the ``"batched"`` backend (see :func:`park_metrics_batched`;
        default by the input's size).
    threads : int, optional
        Threads of this process working on the parts (``"memory"`` and ``"batched"`` without
        worker processes); from 200,000 rows (16 MiB of CSV) each part is cut into two
        slices, whatever the threads. Default 2 on a machine of two cores or more, else 1.
        The result does not depend on it.

    Returns
    -------
    BatchedResult

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin, sample_path
    >>> sample = load_tianjin()
    >>> path = sample_path("tianjin_enterprises.parquet")
    >>> whole = park_metrics_file(path, sample.parks, years=[2015])
    >>> batched = park_metrics_file(path, sample.parks, backend="batched", batch_rows=10_000,
    ...                             years=[2015], progress=False)
    >>> whole.table["n_enterprises"].equals(batched.table["n_enterprises"])
    True
    """
    if backend not in BACKENDS:
        raise ParkgeoError(f"backend={backend!r} is unknown; choose one of {', '.join(BACKENDS)}")
    if backend == "dask":
        rows = whole_number("partition_rows", partition_rows)
        run = RunOptions(
            rows=rows if rows is not None else DEFAULT_PARTITION_ROWS,
            executor="dask",
            scheduler=scheduler,
            workers=whole_number("workers", workers),
            progress=progress,
        )
    elif backend == "batched":
        run = RunOptions(
            rows=whole_number("batch_rows", batch_rows),
            executor="process",
            jobs=whole_number("jobs", jobs),
            threads=whole_number("threads", threads),
            progress=progress,
        )
    else:
        run = RunOptions(
            rows=None,
            executor="serial",
            threads=whole_number("threads", threads),
            progress=bool(progress),
        )
    # every option is built and checked here, once, before a byte is read
    report = ReportOptions.build(
        years=years,
        baseline_year=baseline_year,
        target_year=target_year,
        targets=targets,
        min_enterprises=min_enterprises,
        per_mu=per_mu,
        industry_mix=industry_mix,
    )
    read = ReadOptions.build(
        columns=columns,
        coord_system=coord_system,
        encoding=encoding,
        strict=strict,
        accept_years=accept_years,
        skip=UNUSED_BY_DENSITY if industry_mix else (*UNUSED_BY_DENSITY, "industry"),
    )
    join = JoinOptions.build(parks, near_m=near_m, overlap=overlap, priority=priority)
    return run_density(path, parks, read, join, report, run)


def park_metrics_batched(
    path: str | Path,
    parks: Any,
    *,
    batch_rows: int | None = DEFAULT_BATCH_ROWS,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
    strict: bool = False,
    accept_years: Any = None,
    near_m: float | None = None,
    overlap: str = "smallest",
    priority: str | None = None,
    years: Iterable[int] | None = None,
    baseline_year: int | None = None,
    target_year: int | None = None,
    targets: Any = None,
    min_enterprises: int | None = None,
    per_mu: bool = False,
    industry_mix: bool = True,
    progress: bool | None = None,
    jobs: int | None = None,
    threads: int | None = None,
) -> BatchedResult:
    """Density figures of an enterprise file of any size, read in batches of ``batch_rows``.

    :func:`park_metrics_file` with ``backend="batched"``: the same result as reading the file
    with :func:`parkgeo.io.read_enterprises`, joining it with
    :func:`parkgeo.join.assign_parks` and calling :func:`parkgeo.metrics.park_metrics`, with
    memory bounded by the batch size (plus 24 bytes per kept row for the duplicate check).

    ``jobs``: worker processes; each cleans, joins and reduces its own batches (a Parquet
    batch is whole row groups read by the worker; a batch of another format is read here and
    sent) and sends back partial sums, hashed keys and ledger rows; the result is the same
    up to the last digits of the ratios. Default 1: without worker processes, each batch of
    a large input is shared by ``threads`` threads (default by the input's size and the
    load, see :func:`park_metrics_file`), faster and lighter than two workers. The other parameters are those of
    :func:`park_metrics_file`.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin, sample_path
    >>> sample = load_tianjin()
    >>> result = park_metrics_batched(sample_path("tianjin_enterprises.parquet"), sample.parks,
    ...                               batch_rows=20_000, years=[2015], progress=False)
    >>> city = result.table.set_index("park_id").loc["ALL"]
    >>> round(float(city["profit_change"]), 3), result.n_batches
    (0.45, 3)
    """
    options = dict(locals())
    return park_metrics_file(
        options.pop("path"), options.pop("parks"), backend="batched", **options
    )


def park_metrics_dask(
    path: str | Path,
    parks: Any,
    *,
    scheduler: Any = None,
    workers: int | None = None,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    strict: bool = False,
    accept_years: Any = None,
    near_m: float | None = None,
    overlap: str = "smallest",
    priority: str | None = None,
    years: Iterable[int] | None = None,
    baseline_year: int | None = None,
    target_year: int | None = None,
    targets: Any = None,
    min_enterprises: int | None = None,
    per_mu: bool = False,
    industry_mix: bool = True,
    progress: bool | None = None,
) -> BatchedResult:
    """Density figures of an enterprise file computed on a Dask cluster.

    :func:`park_metrics_file` with ``backend="dask"``: one task per part of
    ``partition_rows`` rows (whole Parquet row groups, read by the worker: the files must be
    on storage every worker sees at the same path; a part of a CSV or another format is read
    here and sent). The parks and options are scattered to every worker once; only partial
    sums, ledger rows and hashed keys come back.

    ``scheduler``: the address of a running scheduler (``"tcp://10.0.0.5:8786"``) or a
    ``distributed.Client``; by default a ``LocalCluster`` of ``workers`` single-threaded
    processes (default one per CPU) is started and closed. The other parameters are those
    of :func:`park_metrics_file`.

    Examples
    --------
    >>> from distributed import Client
    >>> from parkgeo.datasets import load_tianjin, sample_path
    >>> sample = load_tianjin()
    >>> with Client(processes=False, n_workers=1, threads_per_worker=2,
    ...             dashboard_address=":0") as client:
    ...     result = park_metrics_dask(sample_path("tianjin_enterprises.parquet"),
    ...                                sample.parks, scheduler=client, years=[2015],
    ...                                partition_rows=20_000, progress=False)
    >>> round(float(result.table.set_index("park_id").loc["ALL", "profit_change"]), 3)
    0.45
    """
    options = dict(locals())
    return park_metrics_file(options.pop("path"), options.pop("parks"), backend="dask", **options)


# --------------------------------------------------------------------------------------------
# cleaned batches, handed out as they are read
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One batch of validated enterprise rows (WGS-84), with its share of the reject ledger."""

    data: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    first_row: int


def iter_enterprise_batches(
    path: str | Path,
    *,
    batch_rows: int | None = DEFAULT_BATCH_ROWS,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
    strict: bool = False,
    accept_years: Any = None,
    skip_columns: Sequence[str] = (),
    progress: bool | None = None,
) -> Iterator[Batch]:
    """Read, validate and convert an enterprise table batch by batch.

    Each batch is what :func:`parkgeo.io.read_enterprises` would return for those rows of the
    whole file: kept rows indexed by the global ``source_row``, and the ledger of the rejected
    ones (duplicates of an enterprise-year kept in an earlier batch included, found with
    :class:`parkgeo._dedupe.SeenKeys` as the batches go). The conversions and points outside
    China are logged once, after the last batch.

    Parameters
    ----------
    path : str or path-like
        Any format :func:`parkgeo.io.read_enterprises` reads; also a directory of Parquet
        files or a glob pattern (``"data/part-*.parquet"``).
    batch_rows : int or None
        Rows per batch (about: Parquet batches are whole row groups unless a row group is
        larger); ``None`` reads the whole file as one batch (no duplicate hashing then).
    columns, coord_system, encoding, strict, accept_years
        As for :func:`parkgeo.io.read_enterprises` (``accept_years`` is its ``years``).
    skip_columns : sequence of str
        Optional canonical columns not to read (e.g. ``("name",)``: firm names are a third
        of a file's bytes and density does not use them); they come out as NA.
    progress : bool, optional
        Show progress (default: when the ``parkgeo`` logger emits INFO).

    Yields
    ------
    Batch

    Examples
    --------
    >>> from parkgeo.datasets import sample_path
    >>> batches = list(iter_enterprise_batches(sample_path("tianjin_enterprises.parquet"),
    ...                                        batch_rows=20_000, progress=False))
    >>> [b.first_row for b in batches[:3]], sum(b.n_read for b in batches)
    ([0, 20000, 40000], 48000)
    """
    from parkgeo._progress import Progress

    rows = whole_number("batch_rows", batch_rows)
    read = ReadOptions.build(
        columns=columns,
        coord_system=coord_system,
        encoding=encoding,
        strict=strict,
        accept_years=accept_years,
        skip=skip_columns,
    )
    plan = plan_source(path, read.columns, read.encoding, read.skip)
    seen = SeenKeys()
    found: list[dict[str, dict[str, Any]]] = []
    outside = 0
    with Progress("read and validate", total=plan.total_rows, enabled=progress) as bar:
        for part in parts(plan, rows):
            raw = part_frame(plan, part)
            cleaned = clean(raw, plan, read)
            # The first batch has nothing to look up, the last nothing to leave for later:
            # a file read in one batch is never hashed.
            if not (part.index == 0 and part.last):
                h1, h2 = key_hashes(cleaned.kept["enterprise_id"], cleaned.kept["year"].to_numpy())
                earlier = seen.lookup(h1, h2)
                if (earlier >= 0).any():
                    rows_again = cleaned.kept.index.to_numpy(dtype=np.int64)[earlier >= 0]
                    cleaned = clean(raw, plan, read, repeats=(rows_again, earlier[earlier >= 0]))
                    h1, h2 = key_hashes(
                        cleaned.kept["enterprise_id"], cleaned.kept["year"].to_numpy()
                    )
                if not part.last:
                    seen.add(h1, h2, cleaned.kept.index.to_numpy(dtype=np.int64))
            del raw
            found.append(cleaned.conversions)
            outside += cleaned.outside_china
            kept = cleaned.kept
            converted = read.coord_system in ("gcj02", "bd09")
            outside_here = cleaned.outside_china if converted else None
            kept.attrs.update(
                read_attrs(plan, read.coord_system, cleaned.conversions, outside_here)
            )
            n_read = len(kept) + len(cleaned.ledger)
            bar.update(n_read)
            yield Batch(data=kept, rejects=cleaned.ledger, n_read=n_read, first_row=part.first_row)
    report_cleaning(plan, merge_conversions(found), outside, read.coord_system)
    log.debug("duplicate check held %d keys in %.0f MB", len(seen), seen.nbytes / 1e6)
