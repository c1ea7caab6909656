"""The per-part step of the enterprise pipeline: clean a part, then reduce it to partial sums.

:func:`clean` is what :func:`parkgeo.io.read_enterprises` does to the rows of a file
(validation with the reject ledger, units, GCJ-02/BD-09 to WGS-84); :func:`run_part` cleans
one part of a file, joins it to the parks and reduces it to :class:`parkgeo.metrics.Partials`.
Both are silent: what they would say about their rows (conversions, points outside China,
bounds for the "nothing matched" warning) comes back as data and is said once for the whole
file by :func:`report_cleaning` and the driver (:mod:`parkgeo.scale`), whoever ran the parts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._coordcheck import sample_locations
from parkgeo._cores import flag_in_thread, run_both
from parkgeo._dedupe import Keys, Repeats, key_hashes
from parkgeo._options import JoinOptions, ReadOptions
from parkgeo._partials import Partials, partials_of
from parkgeo._readers import Part, Plan, part_frame
from parkgeo.join import assign_parks, lonlat_bounds

__all__ = ["Cleaned", "Context", "PartResult", "clean", "read_attrs", "report_cleaning", "run_part"]

log = logging.getLogger("parkgeo")


@dataclass(frozen=True)
class Cleaned:
    """Kept rows (WGS-84, indexed by source row), their ledger, and what cleaning found."""

    kept: pd.DataFrame
    ledger: pd.DataFrame
    conversions: dict[str, dict[str, Any]]
    outside_china: int


def clean(
    raw: pd.DataFrame,
    plan: Plan,
    read: ReadOptions,
    *,
    repeats: Repeats | None = None,
    check_duplicates: bool = True,
) -> Cleaned:
    """Validate raw rows and convert their coordinates to WGS-84, silently.

    ``repeats``: (source rows, first rows) of rows known to repeat an (enterprise_id, year)
    key kept in an earlier part, with the source row of that first occurrence: such rows are
    validated behind a copy of it, so the validator writes their ledger entries as in one
    pass over the whole file. ``check_duplicates=False`` keeps repeated keys (the driver finds
    them over the whole file at once, :mod:`parkgeo._dedupe`).
    """
    from parkgeo import coords
    from parkgeo._validate import validate_enterprises

    options: dict[str, Any] = {
        "source": plan.source,
        "strict": read.strict,
        "years": read.accept_years,
        "scales": dict(plan.scales),
        "quiet": True,
    }
    if repeats is not None and len(repeats[0]):
        rows, first_rows = repeats
        firsts = raw.iloc[raw.index.get_indexer(pd.Index(rows))].copy()
        firsts.index = pd.Index(first_rows, dtype=np.int64)
        kept, ledger = validate_enterprises(
            pd.concat([firsts, raw]), stand_ins=len(firsts), **options
        )
        kept = kept.loc[~kept.index.isin(firsts.index)]
    else:
        kept, ledger = validate_enterprises(raw, check_duplicates=check_duplicates, **options)
    conversions = dict(kept.attrs.get("conversions", {}))
    precision = _precision(kept)
    if precision:
        # rides with the conversions, merged over parts (max) like them: the decimals of the
        # data, to which the density sums are rounded
        conversions[PRECISION] = precision
    outside = 0
    system = read.coord_system
    if system in ("gcj02", "bd09") and len(kept):
        lon_in, lat_in = kept["lon"].to_numpy(), kept["lat"].to_numpy()
        # GCJ-02/BD-09 exist only inside China: points outside pass through unconverted
        outside = int((~coords.in_china(lon_in, lat_in)).sum())
        lon, lat = coords.convert_coords(lon_in, lat_in, system, "wgs84")
        kept = kept.assign(lon=lon, lat=lat)
    kept.attrs.clear()
    return Cleaned(kept, ledger, conversions, outside)


PRECISION = "precision"


def _precision(kept: pd.DataFrame) -> dict[str, int]:
    """Decimals each measure's kept values need (:func:`parkgeo._cells.decimals_of`)."""
    from parkgeo._columns import MEASURES
    from parkgeo._precision import decimals_of

    columns = [c for c in MEASURES if c in kept.columns and len(kept)]
    found = run_both(
        lambda c: decimals_of(kept[c].to_numpy(dtype=np.float64)), columns, rows=len(kept)
    )
    return {c: k for c, k in zip(columns, found, strict=True) if k is not None}


def merge_conversions(
    found: Sequence[Mapping[str, Mapping[str, Any]]],
) -> dict[str, dict[str, Any]]:
    """The conversions of consecutive parts as one file's: counts added, first three
    examples; the precision of each measure is the largest of the parts'."""
    from parkgeo._columns import ENTERPRISE_COLUMNS, MEASURES

    out: dict[str, dict[str, Any]] = {}
    precisions = [f[PRECISION] for f in found if PRECISION in f]
    extra = sorted({k for f in found for k in f} - {*ENTERPRISE_COLUMNS, PRECISION})
    if precisions:
        out[PRECISION] = {
            c: max(p[c] for p in precisions if c in p)
            for c in MEASURES
            if any(c in p for p in precisions)
        }
    for col in (*ENTERPRISE_COLUMNS, *extra):
        parts = [f[col] for f in found if col in f]
        if parts:
            examples = [e for p in parts for e in p["examples"]][:3]
            out[col] = {"n": sum(int(p["n"]) for p in parts), "examples": examples}
    return out


def report_cleaning(
    plan: Plan, conversions: Mapping[str, Mapping[str, Any]], outside_china: int, system: str
) -> None:
    """Log what reading and cleaning a whole file found, once (as the whole-file reader
    always has): the columns found and not, then the conversions."""
    from parkgeo._conversions import log_conversions
    from parkgeo._readers import log_columns

    log_columns(plan)
    log_conversions({k: v for k, v in conversions.items() if k != PRECISION}, plan.source)
    if outside_china:
        log.warning(
            "%s: %d point(s) lie outside China, where %s is not defined; they were left "
            "unconverted (check those rows: a geocoder returning them is suspicious)",
            plan.source,
            outside_china,
            system.upper(),
        )


def read_attrs(
    plan: Plan,
    system: str,
    conversions: Mapping[str, Mapping[str, Any]],
    outside_china: int | None,
) -> dict[str, Any]:
    """How a file was read, as ``attrs`` of the kept table (see ``read_enterprises``)."""
    attrs: dict[str, Any] = {
        "source": plan.source,
        "encoding": plan.encoding,
        "coord_system": system,
        "crs": "EPSG:4326",
        **plan.details,
    }
    if conversions.get(PRECISION):
        attrs["precision"] = dict(conversions[PRECISION])
    shown = {k: dict(v) for k, v in conversions.items() if k != PRECISION}
    if shown:
        attrs["conversions"] = shown
    if plan.scales:
        attrs["scales"] = dict(plan.scales)
    if outside_china is not None:
        attrs["outside_china"] = outside_china
    return attrs


# --------------------------------------------------------------------------------------------
# the per-part step of a density run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every part of a run needs: the plan, the parks and the options (sent once)."""

    plan: Plan
    parks: Any
    read: ReadOptions
    join: JoinOptions
    industry_mix: bool


@dataclass
class PartResult:
    """What one part sends back: partial sums, its ledger, hashed keys and findings."""

    index: int
    first_row: int
    n_read: int
    partial: Partials
    ledger: pd.DataFrame
    keys: Keys | None
    conversions: dict[str, dict[str, Any]] = field(default_factory=dict)
    outside_china: int = 0
    bounds: tuple[float, float, float, float] | None = None
    locations: Any = None  # the part's sample for the GCJ-02 evidence, judged once by the driver


@dataclass(frozen=True)
class Task:
    """One run of the per-part step: the part, and how to treat repeated keys."""

    part: Part
    repeats: Repeats | None = None
    check_duplicates: bool = True
    hash_keys: bool = True


def run_part(context: Context, task: Task) -> PartResult:
    """Clean, join and reduce one part (in this process, a worker process or on Dask)."""
    part = task.part
    raw = part_frame(context.plan, part)
    cleaned = clean(
        raw,
        context.plan,
        context.read,
        repeats=task.repeats,
        check_duplicates=task.check_duplicates,
    )
    n_read = len(raw)
    del raw
    kept = cleaned.kept
    parks = context.parks
    keys = None
    if task.hash_keys:
        h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
        keys = (h1, h2, kept.index.to_numpy(dtype=np.int64))
    bounds = None
    if len(kept):
        with _quiet():
            assigned = _join(kept, parks, context.join)
        partial = partials_of(assigned, parks)
        bounds = lonlat_bounds(kept["lon"].to_numpy(), kept["lat"].to_numpy())
    else:
        partial = Partials.empty(len(parks), has_industry=context.industry_mix)
    return PartResult(
        index=part.index,
        first_row=part.first_row,
        n_read=n_read,
        partial=partial,
        ledger=cleaned.ledger,
        keys=keys,
        conversions=cleaned.conversions,
        outside_china=cleaned.outside_china,
        bounds=bounds,
        locations=sample_locations(kept["lon"].to_numpy(float), kept["lat"].to_numpy(float)),
    )


def _join(kept: pd.DataFrame, parks: Any, join: JoinOptions) -> pd.DataFrame:
    return assign_parks(kept, parks, check_coord_system=False, **join.kwargs()).assigned


_SILENT = threading.local()


class _PartsAreSilent(logging.Filter):
    """Drops what a thread running a part says below ERROR (the "nothing matched" of one
    part is judged over all parts); a filter, not the logger's level, because parts run in
    several threads at once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or not getattr(_SILENT, "on", False)


log.addFilter(_PartsAreSilent())


def _quiet() -> AbstractContextManager[None]:
    """The join of one part is silent (in this thread only)."""
    return flag_in_thread(_SILENT, "on")
