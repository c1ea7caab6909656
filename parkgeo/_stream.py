"""Enterprise tables larger than memory: batched reading, validation, join and aggregation.

The density figures are ratios of sums, so they can be built from **partial sums per (park,
year)** that add up: each batch of rows is read, validated, joined and reduced to a
:class:`Partials` (a few arrays of shape ``(n_parks + 1, n_years)``), partials are added
(:meth:`Partials.merge`), and :func:`finish` turns the total into the same table
:func:`parkgeo.metrics.park_metrics` returns. Memory is bounded by the batch size plus the
global duplicate check (below), whatever the file size. The Dask backend
(:mod:`parkgeo.distributed`) uses the same three steps with one partition per task.

Identical to the in-memory path
-------------------------------
* Rows are numbered globally (``source_row`` = 0-based data row of the whole file), so the
  reject ledger is the one :func:`parkgeo.io.read_enterprises` returns, row for row.
* Duplicate enterprise-years across batches: the validator finds duplicates within a batch;
  across batches a global set of the kept ``(enterprise_id, year)`` keys remembers the source
  row of each first occurrence. A batch row whose key was seen is validated again together
  with a copy of its first occurrence placed in front, so the validator itself writes the
  ledger entry (same reason and message, naming the kept row). The set stores two
  independent 64-bit tabulation hashes of the key and the source row: **24 bytes per kept
  row** (290 MB for 12 million rows), exact up to a 2**-128 chance per pair of keys (about
  1e-24 for 12 million rows).
* Counts are exact; sums of money and energy are added batch by batch in float64, so they
  agree with the in-memory sums to floating-point summation error (relative 1e-12 or so).

The batch readers reuse :mod:`parkgeo.io`'s internals (header and delimiter detection,
encoding detection, column mapping, GeoParquet points), so a file is understood the same way
as by :func:`parkgeo.io.read_enterprises`. CSV encodings are detected on the first 4 MiB; a
file whose first non-UTF-8 byte comes later needs ``encoding=``.
"""

from __future__ import annotations

import codecs
import glob as _glob
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import InputFormatError, ParkgeoError

__all__ = [
    "BACKENDS",
    "DEFAULT_BATCH_ROWS",
    "BatchedResult",
    "Partials",
    "Partition",
    "finish",
    "iter_enterprise_batches",
    "park_metrics_batched",
    "park_metrics_file",
    "partials_of",
    "partitions_of",
]

log = logging.getLogger("parkgeo")

DEFAULT_BATCH_ROWS = 1_000_000
"""Rows per batch: ~0.5 GB of peak memory per million rows (raw text, parsed, joined)."""

_SNIFF_BYTES = 4 * 1024 * 1024
# Density does not read firm names: they are a third of the bytes of a typical file.
_UNUSED_BY_DENSITY = ("name",)
_WHOLE_FILE = 1 << 62
_CSV_BLOCK_BYTES = 16 << 20


# --------------------------------------------------------------------------------------------
# partial sums per (park, year)
# --------------------------------------------------------------------------------------------


@dataclass
class Partials:
    """Additive sums of enterprise rows per (park, year); merge them, then :func:`finish`.

    Attributes
    ----------
    n_parks : int
        Number of parks; row ``n_parks`` of every array holds the rows outside every park.
    years : numpy.ndarray
        Sorted distinct years (int64).
    sums : dict of str to numpy.ndarray
        ``(n_parks + 1, n_years)`` float64 arrays: ``n`` (rows), ``n_present_<m>`` and
        ``sum_<m>`` for each measure, the pairwise-complete sums of the two ratios
        (``pair_energy``, ``pair_va_energy``, ``pair_va_emp``, ``pair_emp``) and the industry
        mix sums ``n_strategic`` and ``va_strategic``.
    divisions : numpy.ndarray
        Sorted GB/T 4754 division codes seen (object array of str).
    division_counts : numpy.ndarray
        ``(n_parks + 1, n_years, n_divisions)`` int64 row counts.
    match_counts : numpy.ndarray
        ``(5, n_years)`` int64 rows per join outcome (:data:`parkgeo.join.MATCH_KINDS`).
    has_industry : bool
        Whether the rows had an ``industry`` column (else the industry mix is NaN).
    """

    n_parks: int
    years: NDArray[np.int64]
    sums: dict[str, NDArray[np.float64]]
    divisions: NDArray[np.object_]
    division_counts: NDArray[np.int64]
    match_counts: NDArray[np.int64]
    has_industry: bool = True

    @classmethod
    def empty(cls, n_parks: int, *, has_industry: bool = True) -> Partials:
        """Partials of no rows."""
        from parkgeo.join import MATCH_KINDS

        return cls(
            n_parks=n_parks,
            years=np.empty(0, dtype=np.int64),
            sums={key: np.zeros((n_parks + 1, 0)) for key in _sum_keys()},
            divisions=np.empty(0, dtype=object),
            division_counts=np.zeros((n_parks + 1, 0, 0), dtype=np.int64),
            match_counts=np.zeros((len(MATCH_KINDS), 0), dtype=np.int64),
            has_industry=has_industry,
        )

    @property
    def n_rows(self) -> int:
        """Enterprise rows summed."""
        return int(self.sums["n"].sum()) if self.sums["n"].size else 0

    def merge(self, other: Partials) -> Partials:
        """The partials of both sets of rows (neither input is modified)."""
        if other.n_parks != self.n_parks:
            raise ParkgeoError(
                f"cannot merge partial sums over {self.n_parks} and {other.n_parks} parks"
            )
        years = np.union1d(self.years, other.years).astype(np.int64)
        divisions = np.array(
            sorted(set(self.divisions.tolist()) | set(other.divisions.tolist())), dtype=object
        )
        sums = {
            key: _aligned(self.sums[key], self.years, years)
            + _aligned(other.sums[key], other.years, years)
            for key in self.sums
        }
        counts = _aligned_divisions(self, years, divisions) + _aligned_divisions(
            other, years, divisions
        )
        matches = _aligned(self.match_counts, self.years, years) + _aligned(
            other.match_counts, other.years, years
        )
        return Partials(
            n_parks=self.n_parks,
            years=years,
            sums=sums,
            divisions=divisions,
            division_counts=counts,
            match_counts=matches,
            has_industry=self.has_industry and other.has_industry,
        )


def _sum_keys() -> tuple[str, ...]:
    from parkgeo.metrics import MEASURES

    keys = ["n"]
    for name in MEASURES:
        keys += [f"n_present_{name}", f"sum_{name}"]
    return (
        *keys,
        "pair_energy",
        "pair_va_energy",
        "pair_va_emp",
        "pair_emp",
        "n_strategic",
        "va_strategic",
    )


def _aligned(values: NDArray[Any], years: NDArray[np.int64], to: NDArray[np.int64]) -> NDArray[Any]:
    """``values`` (..., len(years)) placed in the columns of ``to`` (zeros elsewhere)."""
    if len(years) == len(to) and np.array_equal(years, to):
        return values
    out = np.zeros((*values.shape[:-1], len(to)), dtype=values.dtype)
    out[..., np.searchsorted(to, years)] = values
    return out


def _aligned_divisions(
    part: Partials, years: NDArray[np.int64], divisions: NDArray[np.object_]
) -> NDArray[np.int64]:
    out = np.zeros((part.n_parks + 1, len(years), len(divisions)), dtype=np.int64)
    if part.division_counts.size:
        yi = np.searchsorted(years, part.years)
        di = np.searchsorted(divisions.astype(str), part.divisions.astype(str))
        out[:, yi[:, None], di[None, :]] = part.division_counts
    return out


def partials_of(assigned: pd.DataFrame, parks: Any) -> Partials:
    """Partial sums of joined enterprise rows (the output of :func:`parkgeo.join.assign_parks`).

    Parameters
    ----------
    assigned : pandas.DataFrame
        Enterprises with ``park_id``, ``year``, the measures and optionally ``industry`` and
        ``match``.
    parks : geopandas.GeoDataFrame
        The parks they were joined to.

    Returns
    -------
    Partials

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> sample = load_tianjin()
    >>> assigned = assign_parks(sample.enterprises, sample.parks, nearest=False).assigned
    >>> half = len(assigned) // 2
    >>> total = partials_of(assigned.iloc[:half], sample.parks).merge(
    ...     partials_of(assigned.iloc[half:], sample.parks))
    >>> total.n_rows == len(assigned)
    True
    """
    from parkgeo.metrics import _codes, _group_sums, _Grouping, _measure_arrays, _park_table

    park_ids, _, _ = _park_table(parks)
    n_parks = len(park_ids)
    has_industry = "industry" in assigned.columns
    if len(assigned) == 0:
        return Partials.empty(n_parks, has_industry=has_industry)
    park_code, years, year_code = _codes(assigned, park_ids)
    n_years = len(years)
    key = np.where(park_code >= 0, park_code, n_parks).astype(np.int64) * n_years + year_code
    n_groups = (n_parks + 1) * n_years
    frame = _measure_arrays(assigned)
    sums = _group_sums(frame, _Grouping(key, n_parks, n_years))

    divisions = np.empty(0, dtype=object)
    division_counts = np.zeros((n_parks + 1, n_years, 0), dtype=np.int64)
    n_strategic = np.zeros(n_groups)
    va_strategic = np.zeros(n_groups)
    if has_industry:
        strategic, division, divisions = _industry_codes(assigned["industry"])
        va = frame["value_added"]
        n_strategic = np.bincount(key, weights=strategic, minlength=n_groups).astype(np.float64)
        va_strategic = np.bincount(
            key, weights=np.where(strategic & ~np.isnan(va), va, 0.0), minlength=n_groups
        ).astype(np.float64)
        n_div = len(divisions)
        ok = division >= 0
        division_counts = (
            np.bincount(key[ok] * n_div + division[ok], minlength=n_groups * n_div)
            .astype(np.int64)
            .reshape(n_parks + 1, n_years, n_div)
        )
    sums["n_strategic"] = n_strategic
    sums["va_strategic"] = va_strategic
    shaped = {
        k: np.asarray(v, dtype=np.float64).reshape(n_parks + 1, n_years) for k, v in sums.items()
    }
    return Partials(
        n_parks=n_parks,
        years=years.astype(np.int64),
        sums=shaped,
        divisions=divisions,
        division_counts=division_counts,
        match_counts=_match_counts(assigned, year_code, n_years),
        has_industry=has_industry,
    )


_INDUSTRY_CACHE: dict[str, tuple[bool, str | None]] = {}


def _industry_codes(
    industry: pd.Series,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.object_]]:
    """Per row: strategic or not, and the index of its division in sorted division codes."""
    from parkgeo.industry import rollup, strategic_category

    # Classify each distinct code once: millions of rows carry a few hundred codes.
    codes, uniques = pd.factorize(industry, use_na_sentinel=True)
    unique_codes = pd.Series(np.asarray(uniques, dtype=object))
    if len(unique_codes) == 0:
        return (
            np.zeros(len(industry), dtype=bool),
            np.full(len(industry), -1, dtype=np.int64),
            np.empty(0, dtype=object),
        )
    # Batches repeat the same few hundred codes: classify each code once per process.
    fresh = [c for c in unique_codes.tolist() if c not in _INDUSTRY_CACHE]
    if fresh:
        fresh_codes = pd.Series(fresh, dtype=object)
        strategic_fresh = strategic_category(fresh_codes).notna().to_numpy()
        division_fresh = pd.Series(rollup(fresh_codes, level="division"), dtype=object)
        for code, is_strategic, div in zip(
            fresh, strategic_fresh, division_fresh.tolist(), strict=True
        ):
            _INDUSTRY_CACHE[code] = (bool(is_strategic), None if pd.isna(div) else str(div))
    known = [_INDUSTRY_CACHE[c] for c in unique_codes.tolist()]
    is_strategic_u = np.array([k[0] for k in known], dtype=bool)
    division_u = pd.Series([k[1] for k in known], dtype="str")
    present = division_u.notna().to_numpy()
    divisions = np.array(sorted(set(division_u[present].tolist())), dtype=object)
    division_index_u = np.full(len(division_u), -1, dtype=np.int64)
    division_index_u[present] = np.searchsorted(
        divisions.astype(str), division_u[present].to_numpy(dtype=str)
    )
    strategic = np.r_[is_strategic_u, False][codes]
    division = np.r_[division_index_u, -1][codes]
    return strategic.astype(bool), division, divisions


def _match_counts(
    assigned: pd.DataFrame, year_code: NDArray[np.int64], n_years: int
) -> NDArray[np.int64]:
    from parkgeo.join import MATCH_KINDS

    n_kinds = len(MATCH_KINDS)
    if "match" not in assigned.columns:
        return np.zeros((n_kinds, n_years), dtype=np.int64)
    match = assigned["match"]
    if isinstance(match.dtype, pd.CategoricalDtype) and list(match.cat.categories) == list(
        MATCH_KINDS
    ):
        kind = match.cat.codes.to_numpy().astype(np.int64)
    else:
        kind = pd.Categorical(match.astype(object), categories=list(MATCH_KINDS)).codes.astype(
            np.int64
        )
    ok = kind >= 0
    counts = np.bincount(kind[ok] * n_years + year_code[ok], minlength=n_kinds * n_years)
    return counts.astype(np.int64).reshape(n_kinds, n_years)


def finish(
    partials: Partials,
    parks: Any,
    *,
    years: Iterable[int] | None = None,
    baseline_year: int | None = None,
    target_year: int | None = None,
    targets: Any = None,
    min_enterprises: int | None = None,
    per_mu: bool = False,
    industry_mix: bool = True,
) -> pd.DataFrame:
    """The density table of :func:`parkgeo.metrics.park_metrics` from partial sums.

    Parameters are those of :func:`parkgeo.metrics.park_metrics` (``assigned`` replaced by
    ``partials``).

    Returns
    -------
    pandas.DataFrame
        Same rows, columns and dtypes as :func:`parkgeo.metrics.park_metrics`.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> sample = load_tianjin()
    >>> assigned = assign_parks(sample.enterprises, sample.parks, nearest=False).assigned
    >>> table = finish(partials_of(assigned, sample.parks), sample.parks, years=[2015])
    >>> round(float(table.set_index("park_id").loc["ALL", "profit_change"]), 3)
    0.45
    """
    from parkgeo.metrics import (
        ALL,
        ALL_PARKS,
        _changes,
        _figures,
        _park_table,
        _plan,
        _report_years,
        _suppress,
    )

    plan = _plan(targets, baseline_year, target_year)
    _check_min_enterprises(min_enterprises)
    park_ids, names, area_ha = _park_table(parks)
    n_parks = len(park_ids)
    if partials.n_parks != n_parks:
        raise ParkgeoError(
            f"the partial sums are over {partials.n_parks} parks but {n_parks} parks were given; "
            "finish with the parks the enterprises were joined to"
        )
    year_values = partials.years
    if len(year_values) == 0:
        raise ParkgeoError("no enterprise rows: there is nothing to measure")
    report_years = _report_years(years, year_values)
    n_years = len(year_values)

    def rows(values: NDArray[np.float64]) -> NDArray[np.float64]:
        in_parks = values[:n_parks]
        return np.concatenate([in_parks.ravel(), in_parks.sum(axis=0), values.sum(axis=0)])

    sums = {key: rows(values) for key, values in partials.sums.items()}
    row_park = np.r_[
        np.repeat(np.arange(n_parks), n_years), [n_parks] * n_years, [n_parks + 1] * n_years
    ]
    row_year = np.r_[np.tile(year_values, n_parks + 2)]
    ids = np.r_[park_ids, [ALL_PARKS, ALL]][row_park]
    label = np.r_[names, ["all parks", "all enterprises"]][row_park]
    area = np.r_[area_ha, [area_ha.sum(), area_ha.sum()]][row_park]

    table = _figures(
        sums, ids, label, row_year, area, is_all=row_park == n_parks + 1, per_mu=per_mu
    )
    suppressed = _suppress(table, sums, min_enterprises)
    table = _changes(table, suppressed, plan, row_park)
    if industry_mix:
        table = _industry_mix_from_partials(table, partials, sums, n_parks)
    keep = np.isin(row_year, report_years)
    return table.loc[keep].reset_index(drop=True)


def _check_min_enterprises(min_enterprises: int | None) -> None:
    if min_enterprises is not None and (
        isinstance(min_enterprises, bool)
        or not isinstance(min_enterprises, int)
        or min_enterprises < 1
    ):
        raise ParkgeoError(f"min_enterprises must be a whole number >= 1, got {min_enterprises!r}")


def _industry_mix_from_partials(
    table: pd.DataFrame,
    partials: Partials,
    sums: Mapping[str, NDArray[np.float64]],
    n_parks: int,
) -> pd.DataFrame:
    from parkgeo.metrics import _safe_ratio

    n_rows = len(table)
    if not partials.has_industry:
        table["strategic_share"] = np.nan
        table["strategic_value_added_share"] = np.nan
        table["top_industries"] = pd.array([pd.NA] * n_rows, dtype="str")
        return table
    table["strategic_share"] = _safe_ratio(sums["n_strategic"], sums["n"])
    va_share = _safe_ratio(sums["va_strategic"], sums["sum_value_added"])
    va_share[sums["n_present_value_added"] == 0] = np.nan
    table["strategic_value_added_share"] = va_share
    counts = partials.division_counts
    n_div = counts.shape[-1]
    matrix = np.concatenate(
        [
            counts[:n_parks].reshape(-1, n_div),
            counts[:n_parks].sum(axis=0),
            counts.sum(axis=0),
        ]
    )
    table["top_industries"] = _top_industries(matrix, partials.divisions)
    return table


def _top_industries(matrix: NDArray[np.int64], labels: NDArray[np.object_]) -> pd.Series:
    """The three most common divisions of each row, "C27 (12); ...": most firms first, ties by
    code (``labels`` are sorted), as :mod:`parkgeo.metrics` writes them."""
    from parkgeo.metrics import _TOP_INDUSTRIES

    n_rows = matrix.shape[0]
    if len(labels) == 0:
        return pd.Series(pd.array([pd.NA] * n_rows, dtype="str"))
    top = np.argsort(-matrix, axis=1, kind="stable")[:, :_TOP_INDUSTRIES]
    out = np.full(n_rows, "", dtype=object)
    for row in range(n_rows):
        out[row] = "; ".join(
            f"{labels[j]} ({matrix[row, j]})" for j in top[row] if matrix[row, j] > 0
        )
    result = pd.Series(out, dtype="str")
    return result.where(result != "", pd.NA)


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
    return summary


# --------------------------------------------------------------------------------------------
# reading in batches
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """How a file is read: kind, columns, and what the in-memory reader would do."""

    kind: str  # "csv" or "parquet"
    source: str
    match: Any  # parkgeo._columns.ColumnMatch
    wanted: list[str]
    scales: dict[str, float]
    encoding: str | None = None
    total_rows: int | None = None
    files: tuple[str, ...] = ()
    geometry_column: str | None = None
    geometry_meta: dict[str, Any] = field(default_factory=dict)
    csv_options: tuple[Any, ...] = ()


def parquet_files(path: str | Path) -> list[str]:
    """The Parquet files of a file, a directory (recursively, sorted) or a glob pattern."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(_glob.glob(text, recursive=True))
    else:
        p = Path(text)
        if p.is_dir():
            files = sorted(
                str(f) for f in p.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))
            )
        elif p.exists():
            files = [text]
        else:
            raise InputFormatError(f"{text}: no such file or directory")
    if not files:
        raise InputFormatError(f"{text}: no Parquet files match")
    return files


def _scales(match: Any, source: str) -> dict[str, float]:
    from parkgeo._columns import MEASURES, header_scale

    scales = {
        c: header_scale(c, h)
        for c, h in match.columns.items()
        if c in MEASURES and header_scale(c, h) != 1.0
    }
    if scales:
        log.info(
            "%s: scaling %s to parkgeo's units because of the units in the headers",
            source,
            ", ".join(f"{c} x{s:g}" for c, s in scales.items()),
        )
    return scales


@dataclass(frozen=True)
class Partition:
    """Consecutive row groups of one Parquet file, and the global number of their first row."""

    file: str
    row_groups: tuple[int, ...]
    first_row: int
    n_rows: int


def partitions_of(files: Sequence[str], *, partition_rows: int) -> list[Partition]:
    """Cut Parquet files into partitions of whole row groups, about ``partition_rows`` each.

    Examples
    --------
    >>> from parkgeo.datasets import sample_path
    >>> parts = partitions_of([str(sample_path("tianjin_enterprises.parquet"))],
    ...                       partition_rows=10)
    >>> sum(p.n_rows for p in parts) == parts[-1].first_row + parts[-1].n_rows
    True
    """
    import pyarrow.parquet as pq

    out: list[Partition] = []
    offset = 0
    for name in files:
        meta = pq.ParquetFile(name).metadata
        groups: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if groups and rows + n > partition_rows:
                out.append(Partition(name, tuple(groups), offset, rows))
                offset += rows
                groups, rows = [], 0
            groups.append(g)
            rows += n
        if groups:
            out.append(Partition(name, tuple(groups), offset, rows))
            offset += rows
    return out


def _skipping(match: Any, skip: Sequence[str]) -> Any:
    """``match`` without the optional columns in ``skip`` (never a required one)."""
    from dataclasses import replace

    from parkgeo._columns import ENTERPRISE_REQUIRED

    drop = [c for c in skip if c in match.columns and c not in ENTERPRISE_REQUIRED]
    if not drop:
        return match
    return replace(match, columns={c: h for c, h in match.columns.items() if c not in drop})


def _plan_parquet(path: str | Path, mapping: Mapping[str, str], skip: Sequence[str] = ()) -> _Plan:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from parkgeo._columns import ENTERPRISE_REQUIRED, match_columns
    from parkgeo.io import _geo_metadata

    files = parquet_files(path)
    source = str(path)
    try:
        schema = pq.read_schema(files[0])
        total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFormatError(f"{source}: not a readable Parquet file ({exc})") from None
    geo = _geo_metadata(schema)
    headers = [n for n in schema.names if not n.startswith("__index_level_")]
    geom_col = geo.get("primary_column") if geo else None
    probe = match_columns(headers, kind="enterprises", mapping=mapping, source=source, check=False)
    use_geometry = bool(geom_col) and ("lon" not in probe.columns or "lat" not in probe.columns)
    required = tuple(c for c in ENTERPRISE_REQUIRED if not (use_geometry and c in ("lon", "lat")))
    match = match_columns(
        [h for h in headers if h != geom_col],
        kind="enterprises",
        mapping=dict(mapping),
        source=source,
        required=required,
    )
    match = _skipping(match, skip)
    wanted = list(dict.fromkeys(match.columns.values()))
    meta: dict[str, Any] = {}
    if use_geometry:
        wanted.append(str(geom_col))
        meta = dict((geo or {}).get("columns", {}).get(geom_col, {}))
    return _Plan(
        kind="parquet",
        source=source,
        match=match,
        wanted=wanted,
        scales=_scales(match, source),
        total_rows=int(total),
        files=tuple(files),
        geometry_column=str(geom_col) if use_geometry else None,
        geometry_meta=meta,
    )


def _parquet_frame(table: Any, plan: _Plan) -> pd.DataFrame:
    """Raw cells under canonical names from an Arrow table, as ``io`` reads a Parquet file."""
    from parkgeo.io import (
        _canonical_of,
        _decode_dictionaries,
        _points_from_arrow,
        _string_mapper,
        _to_lonlat_degrees,
    )

    renamed = table.rename_columns([_canonical_of(plan.match, h) for h in table.column_names])
    del table
    geometry = None
    if plan.geometry_column is not None:
        geometry = renamed.column(plan.geometry_column)
        renamed = renamed.drop_columns([plan.geometry_column])
    # Release each Arrow column as it is converted: the batch is not held twice.
    frame = _decode_dictionaries(
        renamed.to_pandas(types_mapper=_string_mapper, split_blocks=True, self_destruct=True)
    )
    del renamed
    if geometry is not None:
        meta = plan.geometry_meta
        lon, lat = _points_from_arrow(geometry, meta.get("encoding", "WKB"), plan.source)
        lon, lat = _to_lonlat_degrees(lon, lat, meta.get("crs", "OGC:CRS84"), plan.source)
        frame["lon"] = lon
        frame["lat"] = lat
    return frame


def _plan_csv(
    path: Path, mapping: Mapping[str, str], encoding: str | None, skip: Sequence[str] = ()
) -> _Plan:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from parkgeo._columns import match_columns
    from parkgeo.io import (
        _DELIMITER_NAMES,
        _codec_name,
        _detect_encoding,
        _find_header,
        _open_binary,
        _split_line,
    )

    source = str(path)
    with _open_binary(path) as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputFormatError(f"{source}: the file is empty")
    if encoding is not None:
        codec = _codec_name(encoding)
        label = encoding
    elif head.startswith(codecs.BOM_UTF8):
        codec, label = "utf-8-sig", "utf-8-sig"
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            codec, label = "utf-8", "utf-8"
        except UnicodeDecodeError:
            # Detect on whole lines: the sniffed block may end inside a character.
            cut = head[: head.rfind(b"\n") + 1] or head
            codec, _ = _detect_encoding(path, cut)
            label = codec
            log.info("%s: not UTF-8; read as %s", source, codec)
    text = head.decode(codec, errors="ignore").lstrip("\ufeff")
    lines = text.splitlines()
    if len(head) == _SNIFF_BYTES and lines:
        lines = lines[:-1]  # possibly cut short
    if not lines or not any(line.strip() for line in lines):
        raise InputFormatError(f"{source}: the file has no header line")
    header_row, delimiter, _ = _find_header(lines, dict(mapping), source)
    fields = _split_line(lines[header_row], delimiter)
    match = match_columns(fields, kind="enterprises", mapping=dict(mapping), source=source)
    if len(fields) < 2:
        raise InputFormatError(
            f"{source}: found a single column {fields[0]!r} with every delimiter tried "
            f"({', '.join(_DELIMITER_NAMES.values())}); save the file as CSV"
        )
    match = _skipping(match, skip)
    wanted = list(dict.fromkeys(match.columns.values()))
    duplicated = [h for h in wanted if fields.count(h) > 1]
    if duplicated:
        from parkgeo._errors import SchemaError

        raise SchemaError(
            f"{source}: header {duplicated[0]!r} appears more than once; rename one of them"
        )
    arrow_encoding = "utf8" if codec in ("utf-8", "utf-8-sig") else codec
    read_options = pacsv.ReadOptions(
        skip_rows=header_row, block_size=_CSV_BLOCK_BYTES, encoding=arrow_encoding
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        include_columns=wanted,
        column_types={h: pa.string() for h in wanted},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    if delimiter != ",":
        log.info("%s: read with %s delimiter", source, _DELIMITER_NAMES[delimiter])
    return _Plan(
        kind="csv",
        source=source,
        match=match,
        wanted=wanted,
        scales=_scales(match, source),
        encoding=label,
        csv_options=(read_options, parse_options, convert_options, delimiter),
    )


def _plan_for(
    path: str | Path, mapping: Mapping[str, str], encoding: str | None, skip: Sequence[str] = ()
) -> _Plan:
    from parkgeo.io import _kind_of

    text = str(path)
    if any(ch in text for ch in "*?["):
        return _plan_parquet(text, mapping, skip)
    p = Path(text)
    if not p.exists():
        raise InputFormatError(f"{p}: no such file or directory")
    if p.is_file() and p.stat().st_size == 0:
        raise InputFormatError(f"{p}: the file is empty")
    kind = _kind_of(p)
    if kind == "parquet":
        return _plan_parquet(p, mapping, skip)
    if kind == "csv":
        return _plan_csv(p, mapping, encoding, skip)
    raise InputFormatError(
        f"{p}: reading in batches supports CSV and Parquet; this is {kind}. Convert it "
        "(e.g. save the sheet as CSV), or read it whole without --batch-rows"
    )


def _arrow_batches(plan: _Plan, batch_rows: int) -> Iterator[list[Any]]:
    """Arrow tables of about ``batch_rows`` rows each, in file order, each in a one-item list
    the caller empties, so that this generator holds no reference while the batch is used."""
    import pyarrow as pa

    if plan.kind == "parquet":
        import pyarrow.parquet as pq

        # Whole row groups read by a reader opened for the batch alone: a long-lived reader
        # keeps about a batch of decoded buffers alive besides the batch in use.
        for part in partitions_of(plan.files, partition_rows=batch_rows):
            try:
                if part.n_rows > batch_rows:  # one row group larger than a batch
                    batches = pq.ParquetFile(part.file).iter_batches(
                        batch_size=batch_rows, row_groups=list(part.row_groups), columns=plan.wanted
                    )
                    for batch in batches:
                        box = [pa.Table.from_batches([batch])]
                        del batch
                        yield box
                    continue
                box = [
                    pq.ParquetFile(part.file).read_row_groups(
                        list(part.row_groups), columns=plan.wanted
                    )
                ]
            except (pa.ArrowInvalid, OSError) as exc:
                raise InputFormatError(
                    f"{part.file}: not a readable Parquet file ({exc})"
                ) from None
            yield box
        return

    import pyarrow.csv as pacsv

    from parkgeo.io import _DELIMITER_NAMES, _open_binary

    read_options, parse_options, convert_options, delimiter = plan.csv_options
    path = Path(plan.source)
    compressed = path.suffix.lower() in (".gz", ".bz2", ".xz")
    stream: Any = (
        pa.input_stream(str(path), compression="detect") if compressed else _open_binary(path)
    )
    pending: list[Any] = []
    n_pending = 0
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
        for batch in reader:
            pending.append(batch)
            n_pending += batch.num_rows
            while n_pending >= batch_rows:
                table = pa.Table.from_batches(pending)
                yield [table.slice(0, batch_rows)]
                rest = table.slice(batch_rows)
                pending = rest.to_batches()
                n_pending = rest.num_rows
        if n_pending:
            yield [pa.Table.from_batches(pending, schema=reader.schema)]
    except pa.ArrowInvalid as exc:
        message = str(exc).strip()
        if "UTF8" in message or "utf8" in message.lower():
            raise InputFormatError(
                f"{plan.source}: text that is not valid {plan.encoding} after the first "
                f"{_SNIFF_BYTES >> 20} MiB ({message}); pass the file's encoding "
                "(encoding=..., --encoding GB18030) or re-save it as UTF-8"
            ) from None
        raise InputFormatError(
            f"{plan.source}: malformed CSV ({message}); each row must have as many fields as "
            f"the header (detected delimiter: {_DELIMITER_NAMES[delimiter]}); quote fields "
            "that contain the delimiter"
        ) from None
    finally:
        stream.close()


def _raw_batches(plan: _Plan, batch_rows: int) -> Iterator[list[pd.DataFrame]]:
    """Raw cells under canonical names, indexed by the global 0-based data row (each frame
    in a one-item list for the caller to empty, see :func:`_arrow_batches`)."""
    from parkgeo.io import _canonical_of, _string_mapper

    offset = 0
    for box in _arrow_batches(plan, batch_rows):
        if plan.kind == "parquet":
            frame = _parquet_frame(box.pop(), plan)
        else:
            table = box.pop()
            renamed = table.rename_columns(
                [_canonical_of(plan.match, h) for h in table.column_names]
            )
            del table
            frame = renamed.to_pandas(types_mapper=_string_mapper)
            del renamed
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        box = [frame]
        del frame
        yield box


# --------------------------------------------------------------------------------------------
# duplicates across batches
# --------------------------------------------------------------------------------------------

_HASH_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344)


def key_hashes(ids: pd.Series, years: NDArray[np.int64]) -> tuple[NDArray[np.uint64], ...]:
    """Two independent 64-bit hashes of each (enterprise_id, year) key.

    The UTF-8 bytes of an id are laid out in 8-byte words (zero padded; the length is hashed
    too, so padding cannot collide with NUL bytes) and chained through the splitmix64
    finaliser from two different seeds: vectorised, about 0.1 s per million keys. Different
    keys collide by chance only (2**-128 per pair for the two hashes together).
    """
    import pyarrow as pa

    arr = pa.array(ids.astype("str"), type=pa.large_string())
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    buffer = arr.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    n_words = max(1, -(-int(lengths.max()) // 8)) if n else 1
    body = data[int(offsets[0]) : int(offsets[-1])] if n else data[:0]
    padded = np.zeros((n, n_words * 8), dtype=np.uint8)
    row_start = np.arange(n, dtype=np.int64) * (n_words * 8)
    # Byte j of row i goes to padded[i, j]: its flat position minus the string's start offset.
    shift = np.repeat(row_start - (offsets[:-1] - offsets[0]), lengths)
    padded.ravel()[np.arange(len(body), dtype=np.int64) + shift] = body
    words = padded.view("<u8")
    tail = lengths.astype(np.uint64) | (years.astype(np.uint64) << np.uint64(32))
    out = []
    for seed in _HASH_SEEDS:
        with np.errstate(over="ignore"):
            h = _mix64(tail + np.uint64(seed))
            for k in range(n_words):
                h = _mix64(h ^ (words[:, k] + np.uint64(seed)))
        out.append(h)
    return tuple(out)


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser: a bijection that spreads every input bit."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _merge_sorted(
    a: tuple[NDArray[Any], ...], b: tuple[NDArray[Any], ...]
) -> tuple[NDArray[Any], ...]:
    """Merge two runs sorted by their first array, in linear time."""
    at = np.searchsorted(a[0], b[0], side="right") + np.arange(len(b[0]))
    from_a = np.ones(len(a[0]) + len(b[0]), dtype=bool)
    from_a[at] = False
    merged = []
    for x, y in zip(a, b, strict=True):
        out = np.empty(len(x) + len(y), dtype=x.dtype)
        out[at] = y
        out[from_a] = x
        merged.append(out)
    return tuple(merged)


class SeenKeys:
    """The (enterprise_id, year) keys kept so far, with the source row of each.

    Runs sorted by the first hash, merged like a binary counter (linear merges), so adding N
    keys costs O(N log B) for B batches and a lookup one binary search per run (at most
    log2(B) + 1 runs). 24 bytes per key.
    """

    def __init__(self) -> None:
        self._runs: list[tuple[NDArray[Any], ...]] = []

    def __len__(self) -> int:
        return sum(len(run[0]) for run in self._runs)

    @property
    def nbytes(self) -> int:
        """Memory held by the keys."""
        return sum(sum(a.nbytes for a in run) for run in self._runs)

    def lookup(self, h1: NDArray[np.uint64], h2: NDArray[np.uint64]) -> NDArray[np.int64]:
        """Source row of each key's first occurrence, -1 for keys not seen."""
        found = np.full(len(h1), -1, dtype=np.int64)
        if not self._runs or len(h1) == 0:
            return found
        # Queries in sorted order walk each run's memory forwards.
        order = np.argsort(h1)
        q1, q2 = h1[order], h2[order]
        for r1, r2, rows in self._runs:
            left = np.searchsorted(r1, q1, side="left")
            inside = left < len(r1)
            at = np.minimum(left, len(r1) - 1)
            same_first = inside & (r1[at] == q1)
            hit = same_first & (r2[at] == q2)
            found[order[hit]] = rows[at[hit]]
            # Equal first hashes of different keys (chance 2**-64 per pair): scan the run.
            for i in np.flatnonzero(same_first & ~hit):
                j = left[i]
                while j < len(r1) and r1[j] == q1[i]:
                    if r2[j] == q2[i]:
                        found[order[i]] = rows[j]
                        break
                    j += 1
        return found

    def add(self, h1: NDArray[np.uint64], h2: NDArray[np.uint64], rows: NDArray[np.int64]) -> None:
        """Remember new keys (not already present)."""
        if len(h1) == 0:
            return
        order = np.argsort(h1, kind="stable")
        self._runs.append((h1[order], h2[order], np.asarray(rows, dtype=np.int64)[order]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            b = self._runs.pop()
            a = self._runs.pop()
            self._runs.append(_merge_sorted(a, b))


def validate_batch(
    raw: pd.DataFrame,
    *,
    source: str,
    strict: bool,
    accept_years: Any,
    scales: Mapping[str, float],
    first_rows: NDArray[np.int64] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a batch of raw rows; rows whose key occurred in an earlier batch are ledgered.

    ``first_rows`` (optional, one per raw row, -1 for none) gives, for rows known to repeat a
    key kept earlier, the source row of that first occurrence. Such rows are validated again
    behind a copy of that first occurrence, so the validator writes their ledger entries as it
    would have in one pass over the whole file; the copies are then dropped.
    """
    from parkgeo._validate import validate_enterprises

    if first_rows is None or not (first_rows >= 0).any():
        return validate_enterprises(
            raw, source=source, strict=strict, years=accept_years, scales=dict(scales)
        )
    repeat = np.flatnonzero(first_rows >= 0)
    firsts = raw.iloc[repeat].copy()
    firsts.index = pd.Index(first_rows[repeat], dtype=np.int64)
    combined = pd.concat([firsts, raw])
    kept, ledger = validate_enterprises(
        combined, source=source, strict=strict, years=accept_years, scales=dict(scales)
    )
    return kept.loc[~kept.index.isin(firsts.index)], ledger


# --------------------------------------------------------------------------------------------
# the batched pipeline
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
    ones (duplicates of an enterprise-year kept in an earlier batch included).

    Parameters
    ----------
    path : str or path-like
        CSV (optionally compressed) or Parquet/GeoParquet: a file, a directory of Parquet files
        or a glob pattern (``"data/part-*.parquet"``).
    batch_rows : int or None
        Rows per batch (about: Parquet batches are whole row groups unless a row group is
        larger); ``None`` reads the whole file as one batch (no duplicate hashing then).
    columns, coord_system, encoding, strict
        As for :func:`parkgeo.io.read_enterprises`.
    accept_years : (int, int) or range, optional
        Accepted years (``years=`` of :func:`parkgeo.io.read_enterprises`).
    skip_columns : sequence of str
        Optional canonical columns not to read (e.g. ``("name",)``: firm names are a third
        of a file's bytes and density does not use them); they come out as NA.
    progress : bool, optional
        Show progress (default: when the ``parkgeo`` logger emits INFO).

    Yields
    ------
    Batch

    Raises
    ------
    InputFormatError, SchemaError, DataValidationError
        As :func:`parkgeo.io.read_enterprises`.

    Examples
    --------
    >>> from parkgeo.datasets import sample_path
    >>> batches = list(iter_enterprise_batches(sample_path("tianjin_enterprises.parquet"),
    ...                                        batch_rows=20_000, progress=False))
    >>> [b.first_row for b in batches[:3]], sum(b.n_read for b in batches)
    ([0, 20000, 40000], 48000)
    """
    from parkgeo import coords
    from parkgeo._progress import Progress

    if batch_rows is None:
        batch_rows = _WHOLE_FILE
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise ParkgeoError(f"batch_rows must be a whole number >= 1, got {batch_rows!r}")
    system = coords.normalize_coord_system(coord_system)
    plan = _plan_for(path, dict(columns or {}), encoding, skip_columns)
    seen = SeenKeys()
    with Progress("read and validate", total=plan.total_rows, enabled=progress) as bar:
        for box, is_first, is_last in _marked(_raw_batches(plan, batch_rows), plan.total_rows):
            raw = box.pop()
            first_row = int(raw.index[0]) if len(raw) else 0
            kept, ledger = validate_batch(
                raw,
                source=plan.source,
                strict=strict,
                accept_years=accept_years,
                scales=plan.scales,
            )
            # The first batch has nothing to look up, the last nothing to leave for later:
            # a file read in one batch is never hashed.
            if not (is_first and is_last):
                h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
                earlier = seen.lookup(h1, h2)
                if (earlier >= 0).any():
                    first_rows = np.full(len(raw), -1, dtype=np.int64)
                    position = raw.index.get_indexer(kept.index[earlier >= 0])
                    first_rows[position] = earlier[earlier >= 0]
                    kept, ledger = validate_batch(
                        raw,
                        source=plan.source,
                        strict=strict,
                        accept_years=accept_years,
                        scales=plan.scales,
                        first_rows=first_rows,
                    )
                    h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
                if not is_last:
                    seen.add(h1, h2, kept.index.to_numpy(dtype=np.int64))
            del raw
            if system in ("gcj02", "bd09") and len(kept):
                lon, lat = coords.convert_coords(
                    kept["lon"].to_numpy(), kept["lat"].to_numpy(), system, "wgs84"
                )
                kept = kept.assign(lon=lon, lat=lat)
            kept.attrs.update(
                {"source": plan.source, "encoding": plan.encoding, "coord_system": system}
            )
            kept.attrs["crs"] = "EPSG:4326"
            n_read = len(kept) + len(ledger)
            bar.update(n_read)
            yield Batch(data=kept, rejects=ledger, n_read=n_read, first_row=first_row)
    log.debug("duplicate check held %d keys in %.0f MB", len(seen), seen.nbytes / 1e6)


def _marked(
    batches: Iterator[list[pd.DataFrame]], total_rows: int | None
) -> Iterator[tuple[list[pd.DataFrame], bool, bool]]:
    """(boxed batch, is_first, is_last); the last is known from the row count, else by
    looking one batch ahead."""
    is_first = True
    if total_rows is not None:
        for box in batches:
            end = int(box[0].index[-1]) + 1 if len(box[0]) else 0
            yield box, is_first, end >= total_rows
            is_first = False
        return
    current = next(batches, None)
    while current is not None:
        following = next(batches, None)
        yield current, is_first, following is None
        is_first = False
        current = following


@dataclass(frozen=True)
class BatchedResult:
    """Outcome of :func:`park_metrics_batched` (and of the Dask backend).

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
        Batches (or Dask partitions) processed.
    encoding : str or None
        Text encoding of a CSV input, ``None`` for binary formats.
    """

    table: pd.DataFrame
    rejects: pd.DataFrame
    summary: pd.DataFrame
    n_read: int
    n_batches: int
    encoding: str | None = None


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
) -> BatchedResult:
    """Density figures of an enterprise file of any size, read in batches of ``batch_rows``.

    The same result as reading the file with :func:`parkgeo.io.read_enterprises`, joining it
    with :func:`parkgeo.join.assign_parks` and calling :func:`parkgeo.metrics.park_metrics`
    (counts and the ledger exactly, sums to floating-point summation error), with memory
    bounded by the batch size (plus 24 bytes per kept row for the duplicate check).

    Parameters
    ----------
    path : str or path-like
        CSV or Parquet file, directory of Parquet files, or glob pattern.
    parks : geopandas.GeoDataFrame
        Parks (as :func:`parkgeo.io.read_parks` returns them).
    batch_rows : int or None
        Rows per batch (default one million: about 0.5 GB of working memory); ``None``: the
        whole file in one batch (the fastest while it fits in memory).
    columns, coord_system, encoding, strict, accept_years
        How to read the file (see :func:`iter_enterprise_batches`).
    near_m, overlap, priority
        How to join (see :func:`parkgeo.join.assign_parks`).
    years, baseline_year, target_year, targets, min_enterprises, per_mu, industry_mix
        What to report (see :func:`parkgeo.metrics.park_metrics`).
    progress : bool, optional
        Show progress (default: when the ``parkgeo`` logger emits INFO).

    Returns
    -------
    BatchedResult

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
    from parkgeo.join import assign_parks
    from parkgeo.metrics import _plan

    # Check the reporting options before reading gigabytes.
    _plan(targets, baseline_year, target_year)
    _check_min_enterprises(min_enterprises)
    n_parks = len(parks)
    total = Partials.empty(n_parks)
    ledgers: list[pd.DataFrame] = []
    n_read = 0
    n_batches = 0
    encoding_used = None
    for batch in iter_enterprise_batches(
        path,
        batch_rows=batch_rows,
        columns=columns,
        coord_system=coord_system,
        encoding=encoding,
        strict=strict,
        accept_years=accept_years,
        skip_columns=_UNUSED_BY_DENSITY if industry_mix else (*_UNUSED_BY_DENSITY, "industry"),
        progress=progress,
    ):
        n_batches += 1
        n_read += batch.n_read
        encoding_used = batch.data.attrs.get("encoding")
        if len(batch.rejects):
            ledgers.append(batch.rejects)
        if len(batch.data):
            assigned = _quiet_join(
                assign_parks,
                batch.data,
                parks,
                near_m=near_m,
                overlap=overlap,
                priority=priority,
            )
            total = total.merge(partials_of(assigned, parks))
    return _result(
        total,
        parks,
        ledgers,
        n_read,
        n_batches,
        encoding=encoding_used,
        source=str(path),
        years=years,
        baseline_year=baseline_year,
        target_year=target_year,
        targets=targets,
        min_enterprises=min_enterprises,
        per_mu=per_mu,
        industry_mix=industry_mix,
    )


def _quiet_join(assign: Any, data: pd.DataFrame, parks: Any, **options: Any) -> pd.DataFrame:
    """assign_parks on one batch, its per-call INFO line kept out of the progress display."""
    level = log.level
    log.setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    try:
        result = assign(data, parks, nearest=options.get("near_m") is not None, **options)
    finally:
        log.setLevel(level)
    return result.assigned


def _result(
    total: Partials,
    parks: Any,
    ledgers: Sequence[pd.DataFrame],
    n_read: int,
    n_batches: int,
    *,
    source: str,
    encoding: str | None = None,
    **report: Any,
) -> BatchedResult:
    from parkgeo._validate import empty_ledger

    rejects = (
        pd.concat(list(ledgers), ignore_index=True)
        .sort_values("source_row", kind="stable")
        .reset_index(drop=True)
        if ledgers
        else empty_ledger()
    )
    rejects.attrs.update({"source": source, "n_read": n_read})
    if total.n_rows == 0:
        raise ParkgeoError(
            f"{source}: no enterprise rows were kept ({n_read} read, {len(rejects)} rejected); "
            "there is nothing to measure. Look at the reject ledger (--rejects PATH)"
        )
    table = finish(total, parks, **report)
    return BatchedResult(
        table=table,
        rejects=rejects,
        summary=join_summary(total),
        n_read=n_read,
        n_batches=n_batches,
        encoding=encoding,
    )


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
) -> BatchedResult:
    """Density figures of an enterprise file, in memory, in batches or on a Dask cluster.

    One entry point over the three paths, which give the same table (counts and the reject
    ledger exactly, sums to floating-point summation error).

    Parameters
    ----------
    path : str or path-like
        The enterprise file (``"memory"``: any format :func:`parkgeo.io.read_enterprises`
        reads; ``"batched"``: CSV or Parquet; ``"dask"``: Parquet file, directory or glob).
    parks : geopandas.GeoDataFrame
        The parks.
    backend : {"memory", "batched", "dask"}
        ``"memory"``: read the whole file (fastest while it fits in memory). ``"batched"``:
        ``batch_rows`` rows at a time, memory bounded by the batch. ``"dask"``: partitions on
        a Dask cluster (:func:`parkgeo.distributed.park_metrics_dask`).
    batch_rows : int or None
        Rows per batch (``"batched"``; default :data:`DEFAULT_BATCH_ROWS`; ``None``: one
        batch).
    scheduler, workers, partition_rows
        Dask options (see :func:`parkgeo.distributed.park_metrics_dask`).
    columns, coord_system, encoding, strict, accept_years
        How to read (see :func:`parkgeo.io.read_enterprises`; ``accept_years`` is its
        ``years``). ``encoding`` does not apply to Parquet.
    near_m, overlap, priority
        How to join (see :func:`parkgeo.join.assign_parks`).
    years, baseline_year, target_year, targets, min_enterprises, per_mu, industry_mix
        What to report (see :func:`parkgeo.metrics.park_metrics`).
    progress : bool, optional
        Show progress (batched and Dask; default: when the ``parkgeo`` logger emits INFO).

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
    read: dict[str, Any] = {"columns": columns, "coord_system": coord_system, "strict": strict}
    join: dict[str, Any] = {"near_m": near_m, "overlap": overlap, "priority": priority}
    report: dict[str, Any] = {
        "years": years,
        "baseline_year": baseline_year,
        "target_year": target_year,
        "targets": targets,
        "min_enterprises": min_enterprises,
        "per_mu": per_mu,
        "industry_mix": industry_mix,
    }
    if backend == "batched":
        return park_metrics_batched(
            path,
            parks,
            batch_rows=batch_rows,
            encoding=encoding,
            accept_years=accept_years,
            progress=progress,
            **read,
            **join,
            **report,
        )
    if backend == "dask":
        from parkgeo.distributed import DEFAULT_PARTITION_ROWS, park_metrics_dask

        return park_metrics_dask(  # type: ignore[no-any-return]
            path,
            parks,
            scheduler=scheduler,
            workers=workers,
            partition_rows=partition_rows if partition_rows is not None else DEFAULT_PARTITION_ROWS,
            accept_years=accept_years,
            progress=progress,
            **read,
            **join,
            **report,
        )
    from parkgeo.io import read_enterprises
    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    loaded = read_enterprises(path, encoding=encoding, years=accept_years, **read)
    joined = assign_parks(loaded.data, parks, nearest=near_m is not None, **join)
    table = park_metrics(joined.assigned, parks, **report)
    return BatchedResult(
        table=table,
        rejects=loaded.rejects,
        summary=joined.summary,
        n_read=loaded.n_read,
        n_batches=1,
    )
