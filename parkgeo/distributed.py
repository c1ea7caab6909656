"""Density figures on a Dask cluster (the optional ``parkgeo[distributed]`` extra).

:func:`park_metrics_dask` runs the pipeline of :func:`parkgeo._stream.park_metrics_batched`
with one Dask task per partition of the enterprise Parquet files:

1. the parks (small: a few thousand polygons at most) are scattered to every worker once;
2. each task reads its row groups (column projection, straight from the file on the worker:
   the files must be on storage every worker sees), validates them with the global row
   numbers, joins them to the parks and reduces them to partial sums per (park, year), which
   are tree-reduced on the cluster; only those sums (kilobytes), the task's share of the
   reject ledger and the hashed (enterprise_id, year) keys travel;
3. the keys are checked for duplicates *across* partitions in hash buckets on the cluster; the
   rare partitions holding such a duplicate are recomputed with the first occurrence named,
   so the ledger is the single-machine one, row for row;
4. the same :func:`parkgeo._stream.finish` step as the single-machine paths builds the table.

Results equal the in-memory path: counts and the ledger exactly, sums to floating-point
summation error. See ``docs/scale.md`` for when a cluster pays off.
"""

from __future__ import annotations

import logging
import math
import operator
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import InputFormatError, ParkgeoError
from parkgeo._stream import Partition, partitions_of

__all__ = ["DEFAULT_PARTITION_ROWS", "Partition", "park_metrics_dask", "partitions_of"]

log = logging.getLogger("parkgeo")

DEFAULT_PARTITION_ROWS = 2_000_000
"""Rows per task: ~1 GB of worker memory at peak; large enough that scheduling is cheap."""

_KEYS_PER_BUCKET = 4_000_000
_TREE_FAN_IN = 8


# --------------------------------------------------------------------------------------------
# tasks (run on the workers)
# --------------------------------------------------------------------------------------------


def _partition_task(
    plan: Any,
    part: Partition,
    parks: Any,
    options: Mapping[str, Any],
    n_buckets: int,
    repeats: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> tuple[
    Any, pd.DataFrame, list[tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]]]
]:
    import pyarrow.parquet as pq

    from parkgeo import coords
    from parkgeo._stream import (
        _parquet_frame,
        _quiet_join,
        key_hashes,
        partials_of,
        validate_batch,
    )
    from parkgeo.join import assign_parks

    try:
        table = pq.ParquetFile(part.file).read_row_groups(
            list(part.row_groups), columns=plan.wanted
        )
    except OSError as exc:
        raise InputFormatError(
            f"{part.file}: cannot read it on worker {os.uname().nodename} ({exc}); the files "
            "must be on storage every worker sees at the same path"
        ) from None
    raw = _parquet_frame(table, plan)
    raw.index = pd.RangeIndex(part.first_row, part.first_row + len(raw))
    first_rows = None
    if repeats is not None:
        rows, firsts = repeats
        first_rows = np.full(len(raw), -1, dtype=np.int64)
        first_rows[rows - part.first_row] = firsts
    kept, ledger = validate_batch(
        raw,
        source=plan.source,
        strict=options["strict"],
        accept_years=options["accept_years"],
        scales=plan.scales,
        first_rows=first_rows,
    )
    system = options["coord_system"]
    if system in ("gcj02", "bd09") and len(kept):
        lon, lat = coords.convert_coords(
            kept["lon"].to_numpy(), kept["lat"].to_numpy(), system, "wgs84"
        )
        kept = kept.assign(lon=lon, lat=lat)
    if len(kept):
        assigned = _quiet_join(assign_parks, kept, parks, **options["join"])
    else:
        assigned = kept.assign(park_id=pd.Series(dtype="str"), match=pd.Series(dtype="str"))
    partial = partials_of(assigned, parks)
    h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
    rows = kept.index.to_numpy(dtype=np.int64)
    bucket = (h1 % np.uint64(n_buckets)).astype(np.int64)
    buckets = [(h1[bucket == b], h2[bucket == b], rows[bucket == b]) for b in range(n_buckets)]
    return partial, ledger, buckets


def _merge_all(*parts: Any) -> Any:
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    return total


def _bucket(
    result: tuple[Any, Any, list[Any]], b: int
) -> tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]]:
    return result[2][b]  # type: ignore[no-any-return]


def _repeats(
    *buckets: tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows whose key was kept in another partition at an earlier row, and that row."""
    from parkgeo._stream import repeated_keys

    return repeated_keys(buckets)


# --------------------------------------------------------------------------------------------
# the client side
# --------------------------------------------------------------------------------------------


def _client(scheduler: Any, workers: int | None) -> tuple[Any, list[Any]]:
    """A distributed Client, and what to close afterwards (what this call created)."""
    try:
        from distributed import Client, LocalCluster
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ParkgeoError(
            "the Dask backend needs the distributed extra: pip install 'parkgeo[distributed]'"
        ) from exc
    if scheduler is not None and not isinstance(scheduler, str):
        return scheduler, []  # an existing Client
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ParkgeoError(f"workers must be a whole number >= 1, got {workers!r}")
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ParkgeoError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address "
                "(tcp://host:8786) and that the scheduler is running"
            ) from None
        return client, [client]
    n_workers = workers if workers is not None else max(1, os.cpu_count() or 1)
    # Loopback only; the dashboard on a free port (a fixed one clashes with any other cluster).
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.WARNING,
    )
    client = Client(cluster)
    log.info("Dask: %d local workers, dashboard %s", n_workers, client.dashboard_link)
    return client, [client, cluster]


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
) -> Any:
    """Density figures of Parquet enterprise files computed on a Dask cluster.

    Parameters
    ----------
    path : str or path-like
        A Parquet/GeoParquet file, a directory of them, or a glob pattern
        (``"s3://"`` and other remote URLs are not supported: mount the storage).
    parks : geopandas.GeoDataFrame
        Parks (as :func:`parkgeo.io.read_parks` returns them); broadcast to every worker.
    scheduler : str or distributed.Client, optional
        Address of a running scheduler (``"tcp://10.0.0.5:8786"``) or a Client. By default a
        ``LocalCluster`` of ``workers`` single-threaded processes is started and closed.
    workers : int, optional
        Workers of the local cluster (default: one per CPU).
    partition_rows : int
        Rows per task, in whole Parquet row groups (default two million).
    columns, coord_system, strict, accept_years
        How to read (see :func:`parkgeo._stream.iter_enterprise_batches`).
    near_m, overlap, priority
        How to join (see :func:`parkgeo.join.assign_parks`).
    years, baseline_year, target_year, targets, min_enterprises, per_mu, industry_mix
        What to report (see :func:`parkgeo.metrics.park_metrics`).
    progress : bool, optional
        Show progress per finished partition (default: when the ``parkgeo`` logger emits INFO).

    Returns
    -------
    parkgeo._stream.BatchedResult
        ``table``, ``rejects``, ``summary``, ``n_read``, ``n_batches`` (partitions).

    Raises
    ------
    InputFormatError
        For input that is not Parquet, or files a worker cannot read.
    ParkgeoError
        If the scheduler cannot be reached, and as the single-machine path.

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
    from parkgeo import coords
    from parkgeo._progress import Progress
    from parkgeo._stream import (
        _UNUSED_BY_DENSITY,
        Partials,
        _check_min_enterprises,
        _plan_parquet,
        _result,
    )
    from parkgeo.join import _check_options, _check_parks
    from parkgeo.metrics import _plan

    if (
        isinstance(partition_rows, bool)
        or not isinstance(partition_rows, int)
        or partition_rows < 1
    ):
        raise ParkgeoError(f"partition_rows must be a whole number >= 1, got {partition_rows!r}")
    _plan(targets, baseline_year, target_year)
    _check_min_enterprises(min_enterprises)
    _check_options(near_m=near_m, overlap=overlap, boundary_tol_m=0.01)
    _check_parks(parks)
    files = _parquet_inputs(path)
    skip = _UNUSED_BY_DENSITY if industry_mix else (*_UNUSED_BY_DENSITY, "industry")
    plan = _plan_parquet(path, dict(columns or {}), skip)
    parts = partitions_of(files, partition_rows=partition_rows)
    n_read = sum(p.n_rows for p in parts)
    options = {
        "strict": strict,
        "accept_years": accept_years,
        "coord_system": coords.normalize_coord_system(coord_system),
        "join": {"near_m": near_m, "overlap": overlap, "priority": priority},
    }
    n_buckets = max(1, math.ceil(n_read / _KEYS_PER_BUCKET))

    client, owned = _client(scheduler, workers)
    try:
        from distributed import as_completed

        parks_f = client.scatter(parks, broadcast=True, hash=False)
        tasks = [
            client.submit(_partition_task, plan, part, parks_f, options, n_buckets, pure=False)
            for part in parts
        ]
        repeat_fs = [
            client.submit(_repeats, *[client.submit(_bucket, t, b) for t in tasks])
            for b in range(n_buckets)
        ]
        with Progress("read, validate and join", total=n_read, enabled=progress) as bar:
            rows_of = {t.key: p.n_rows for t, p in zip(tasks, parts, strict=True)}
            for done in as_completed(tasks):
                bar.update(rows_of[done.key])
        repeat_rows, repeat_firsts = _gather_repeats(client, repeat_fs)
        if len(repeat_rows):
            log.info(
                "%d enterprise-year rows repeat a row of another partition; recomputing the "
                "partitions that hold them",
                len(repeat_rows),
            )
            starts = np.array([p.first_row for p in parts], dtype=np.int64)
            owner = np.searchsorted(starts, repeat_rows, side="right") - 1
            for i in np.unique(owner):
                mine = owner == i
                tasks[i] = client.submit(
                    _partition_task,
                    plan,
                    parts[i],
                    parks_f,
                    options,
                    n_buckets,
                    (repeat_rows[mine], repeat_firsts[mine]),
                    pure=False,
                )
        partial_fs = [client.submit(operator.getitem, t, 0) for t in tasks]
        total_f = _tree_reduce(client, partial_fs)
        ledgers = client.gather([client.submit(operator.getitem, t, 1) for t in tasks])
        total = total_f.result() if total_f is not None else Partials.empty(len(parks))
    finally:
        for thing in owned:
            thing.close()
    return _result(
        total,
        parks,
        [ledger for ledger in ledgers if len(ledger)],
        n_read,
        len(parts),
        source=str(path),
        years=years,
        baseline_year=baseline_year,
        target_year=target_year,
        targets=targets,
        min_enterprises=min_enterprises,
        per_mu=per_mu,
        industry_mix=industry_mix,
    )


def _parquet_inputs(path: str | Path) -> list[str]:
    from parkgeo._stream import parquet_files
    from parkgeo.io import _kind_of

    files = parquet_files(path)
    not_parquet = [f for f in files if _kind_of(Path(f)) != "parquet"]
    if not_parquet:
        raise InputFormatError(
            f"{not_parquet[0]}: the Dask backend reads Parquet files (a file, a directory or a "
            "glob of them); convert CSV once (e.g. pyarrow.csv -> pyarrow.parquet) or use "
            "the single-machine batched path (--batch-rows)"
        )
    return files


def _gather_repeats(
    client: Any, futures: Sequence[Any]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    pairs = client.gather(list(futures))
    rows = np.concatenate([p[0] for p in pairs]) if pairs else np.empty(0, np.int64)
    firsts = np.concatenate([p[1] for p in pairs]) if pairs else np.empty(0, np.int64)
    order = np.argsort(rows, kind="stable")
    return rows[order], firsts[order]


def _tree_reduce(client: Any, futures: list[Any]) -> Any:
    """Merge partial sums on the cluster, ``_TREE_FAN_IN`` at a time."""
    level = list(futures)
    if not level:
        return None
    while len(level) > 1:
        level = [
            client.submit(_merge_all, *level[i : i + _TREE_FAN_IN])
            for i in range(0, len(level), _TREE_FAN_IN)
        ]
    return level[0]
