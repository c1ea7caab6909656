"""The one driver of the enterprise pipeline, for every backend and executor.

1. **plan** the source once (:func:`parkgeo._readers.plan_source`: format, encoding, columns,
   units; the same plan :func:`parkgeo.io.read_enterprises` reads as one part);
2. run the **per-part step** (:func:`parkgeo._chunk.run_part`: clean, join, reduce) on each
   part, here, in worker processes or on Dask (:mod:`parkgeo._runners`);
3. **combine**: add the partial sums, find the enterprise-year keys repeated across parts
   once (:mod:`parkgeo._dedupe`) and redo the rare parts holding one, so the reject ledger
   is the whole-file one, row for row;
4. **finish** (:func:`parkgeo.metrics.finish`), saying once what the whole-file path says
   (conversions, points outside China, "nothing matched").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._chunk import (
    Context,
    PartResult,
    Task,
    merge_conversions,
    read_attrs,
    report_cleaning,
)
from parkgeo._cores import one_thread
from parkgeo._dedupe import Repeats, repeats_by_part
from parkgeo._errors import InputFormatError, ParkgeoError
from parkgeo._options import (
    JoinOptions,
    ReadOptions,
    ReportOptions,
    RunOptions,
)
from parkgeo._partials import Partials, finish
from parkgeo._readers import Plan, parts, plan_source
from parkgeo._runners import auto_threads, runner_for, split_for
from parkgeo.join import coord_system_check

__all__ = ["BatchedResult", "join_summary", "run_density"]

log = logging.getLogger("parkgeo")

_KEPT_PARTIALS_BYTES = 256 << 20


@dataclass(frozen=True)
class BatchedResult:
    """Outcome of :func:`park_metrics_file` (any backend).

    Attributes
    ----------
    table : pandas.DataFrame
        The density table, as :func:`parkgeo.metrics.park_metrics` returns it.
    rejects : pandas.DataFrame
        The reject ledger of the whole input, as :func:`parkgeo.io.read_enterprises` returns.
    summary : pandas.DataFrame
        The join's match summary, as :func:`parkgeo.join.assign_parks` returns it.
    n_read : int
        Data rows read; ``n_read == summary["n"].sum() + len(rejects)``.
    n_batches : int
        Parts (batches or Dask partitions) processed.
    encoding : str or None
        Text encoding of a CSV input, ``None`` for binary formats.
    attrs : dict
        How the file was read: the ``attrs`` :func:`parkgeo.io.read_enterprises` gives its
        kept table (source, encoding, coord_system, columns, scales, conversions ...).
    threads : int
        Threads of this process that shared the parts (1 for worker processes and Dask).
    """

    table: pd.DataFrame
    rejects: pd.DataFrame
    summary: pd.DataFrame
    n_read: int
    n_batches: int
    encoding: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    threads: int = 1


def join_summary(partials: Partials) -> pd.DataFrame:
    """The match summary of :func:`parkgeo.join.assign_parks` from partial sums."""
    from parkgeo.join import MATCH_KINDS

    counts = partials.match_counts
    summary = pd.DataFrame(
        {
            "match": pd.Series(MATCH_KINDS, dtype="str"),
            "n": counts.sum(axis=1).astype(np.int64) if counts.size else np.zeros(5, np.int64),
        }
    )
    for j, year in enumerate(partials.years):
        summary[str(int(year))] = counts[:, j].astype(np.int64)
    result: pd.DataFrame = summary
    return result


# --------------------------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------------------------


def run_density(
    path: str | Path,
    parks: Any,
    read: ReadOptions,
    join: JoinOptions,
    report: ReportOptions,
    run: RunOptions,
) -> BatchedResult:
    """Plan, run the per-part step, combine (with the repeated-key second pass), finish."""
    from parkgeo._columns import DENSITY_NEEDS
    from parkgeo._progress import Progress

    plan = plan_source(
        path, read.columns, read.encoding, read.skip, needs=DENSITY_NEEDS, strict=read.strict
    )
    # worker processes only when asked for: two threads were faster and lighter at 12
    # million Parquet rows (6.3 s, 1.3 GB against 6.9 s, 1.7 GB; docs/scale.md)
    jobs = run.jobs if run.jobs is not None else 1
    # A run in this process cuts large parts in slices (fixed by the input, so the bytes do
    # not depend on the machine) that threads share; worker processes take whole parts.
    split = threads = 1
    if run.executor == "serial" or (run.executor == "process" and jobs <= 1):
        split = split_for(plan.total_rows, plan.kind, _size_bytes(plan))
        threads = run.threads if run.threads is not None else auto_threads(split)
    context = Context(plan.portable(), parks, read, join, report.industry_mix)
    runner = runner_for(
        context,
        run.executor,
        jobs=jobs,
        threads=threads,
        scheduler=run.scheduler,
        workers=run.workers,
    )
    results: list[PartResult] = []
    kept_partials: dict[int, Partials] = {}
    kept_bytes = 0
    total = Partials.empty(len(parks), has_industry=report.industry_mix)
    # --threads 1: the steps of a part start no thread of their own either (on one core
    # they never do)
    with one_thread() if run.threads == 1 else nullcontext():
        try:
            with Progress("density", total=plan.total_rows, enabled=run.progress) as bar:
                for result in runner.map(_first_pass(plan, run.rows, read.strict, split)):
                    total = total.merge(result.partial)
                    size = _partials_bytes(result.partial)
                    if kept_bytes + size <= _KEPT_PARTIALS_BYTES:
                        kept_partials[result.index] = result.partial
                        kept_bytes += size
                    result.partial = Partials.empty(len(parks), has_industry=report.industry_mix)
                    results.append(result)
                    bar.update(result.n_read)
            hashed = [r for r in results if r.keys is not None]
            keys = [r.keys for r in hashed if r.keys is not None]
            redo = repeats_by_part(keys, [r.first_row for r in hashed])
            if redo:
                redo = {hashed[i].index: repeats for i, repeats in redo.items()}
                log.debug("redoing %d part(s) that hold repeated enterprise-year keys", len(redo))
                missing = [i for i in redo if i not in kept_partials]
                for before in runner.map(_tasks(plan, run.rows, missing, None, read.strict, split)):
                    kept_partials[before.index] = before.partial
                for after in runner.map(_tasks(plan, run.rows, list(redo), redo, True, split)):
                    total = total.minus(kept_partials[after.index]).merge(after.partial)
                    results[after.index] = after
        finally:
            runner.close()
    return replace(_combined(plan, parks, read, report, total, results), threads=threads)


def _size_bytes(plan: Plan) -> int:
    try:
        return plan.path.stat().st_size if plan.path.is_file() else 0
    except OSError:
        return 0


def _first_pass(plan: Plan, rows: int | None, strict: bool, split: int) -> Iterator[Task]:
    # Repeated keys are found over the whole file at the end (:mod:`parkgeo._dedupe`): the
    # first pass skips the validator's own check, except for a file read as one part (no
    # hashing then) and under ``strict``, so that the first part with a problem of any kind
    # raises, as in one pass.
    for part in parts(plan, rows, split=split):
        single = part.index == 0 and part.last
        yield Task(part, check_duplicates=strict or single, hash_keys=not single)


def _tasks(
    plan: Plan,
    rows: int | None,
    indices: Sequence[int],
    repeats: Mapping[int, Repeats] | None,
    check: bool,
    split: int,
) -> Iterator[Task]:
    for part in parts(plan, rows, only=set(indices), split=split):
        if repeats is None:
            yield Task(part, check_duplicates=check, hash_keys=False)
        else:
            yield Task(part, repeats=repeats[part.index], hash_keys=False)


def _partials_bytes(partial: Partials) -> int:
    arrays = [*partial.sums.values(), partial.division_counts, partial.match_counts]
    return sum(int(a.nbytes) for a in arrays)


def _combined(
    plan: Plan,
    parks: Any,
    read: ReadOptions,
    report: ReportOptions,
    total: Partials,
    results: Sequence[PartResult],
) -> BatchedResult:
    """Say once what the whole-file path says, and build the result."""
    from parkgeo._precision import round_to_data
    from parkgeo._validate import empty_ledger

    n_read = sum(r.n_read for r in results)
    if n_read == 0:
        raise _no_rows(plan)
    conversions = merge_conversions([r.conversions for r in results])
    outside = sum(r.outside_china for r in results)
    report_cleaning(plan, conversions, outside, read.coord_system)
    ledgers = [r.ledger for r in results if len(r.ledger)]
    rejects = (
        pd.concat(ledgers, ignore_index=True)
        .sort_values("source_row", kind="stable")
        .reset_index(drop=True)
        if ledgers
        else empty_ledger()
    )
    rejects.attrs.update({"source": plan.source, "n_read": n_read})
    if total.n_rows == 0:
        raise ParkgeoError(
            f"{plan.source}: no enterprise rows were kept ({n_read} read, {len(rejects)} "
            "rejected); there is nothing to measure. Look at the reject ledger (--rejects PATH)"
        )
    summary = join_summary(total)
    samples = [r.locations for r in results if r.locations is not None and len(r.locations)]
    if samples:
        # the whole file's location sample is in the union of the parts' samples: the
        # GCJ-02/BD-09 evidence (and its warning) is the whole-file join's, said once
        xy = np.concatenate(samples)
        summary.attrs["coord_system"] = coord_system_check(xy[:, 0], xy[:, 1], parks)
    matched = int(summary.loc[~summary["match"].isin(["unmatched"]), "n"].sum())
    if matched == 0:
        from parkgeo.join import warn_nothing_matched

        boxes = [r.bounds for r in results if r.bounds is not None]
        bounds = (
            (
                min(b[0] for b in boxes),
                max(b[1] for b in boxes),
                min(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            if boxes
            else None
        )
        warn_nothing_matched(total.n_rows, bounds, parks.to_crs("EPSG:4326").geometry.values)
    # sums of measures to the decimals of the data: no float noise of adding in the output
    table = round_to_data(finish(total, parks, **report.kwargs()), conversions.get("precision", {}))
    has_outside = outside if read.coord_system in ("gcj02", "bd09") else None
    return BatchedResult(
        table=table,
        rejects=rejects,
        summary=summary,
        n_read=n_read,
        n_batches=len(results),
        encoding=plan.encoding,
        attrs=read_attrs(plan, read.coord_system, conversions, has_outside),
    )


def _no_rows(plan: Plan) -> InputFormatError:
    return InputFormatError(
        f"{plan.source}: no data rows (0 read): the file has a header "
        f"({', '.join(plan.match.columns)}) but nothing under it; check that it is the right "
        "file (or the right sheet)"
    )
