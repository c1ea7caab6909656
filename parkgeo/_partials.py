"""Partial sums of enterprise rows per (park, year) that add up, and the table from them.

:class:`Partials` of parts of a file merge into the partials of the whole file;
:func:`finish` turns them into the density table (:func:`parkgeo.metrics.park_metrics` is
``finish(partials_of(...))``: one implementation for every backend).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError
from parkgeo._figures import (
    ALL,
    ALL_PARKS,
    MEASURES,
    TOP_INDUSTRIES,
    Grouping,
    changes,
    figures,
    group_sums,
    measure_arrays,
    park_codes,
    park_id_series,
    park_table,
    safe_ratio,
    suppress,
    years_to_report,
)
from parkgeo._outputs import finite_figures
from parkgeo._targets import resolve_targets

__all__ = ["Partials", "check_min_enterprises", "finish", "partials_of"]


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

    def minus(self, other: Partials) -> Partials:
        """These partials without the rows of ``other`` (which must be among them)."""
        negated = Partials(
            n_parks=other.n_parks,
            years=other.years,
            sums={key: -values for key, values in other.sums.items()},
            divisions=other.divisions,
            division_counts=-other.division_counts,
            match_counts=-other.match_counts,
            has_industry=other.has_industry,
        )
        return self.merge(negated)

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
    park_ids = park_id_series(parks).to_numpy(dtype=object)
    n_parks = len(park_ids)
    has_industry = "industry" in assigned.columns
    if len(assigned) == 0:
        return Partials.empty(n_parks, has_industry=has_industry)
    park_code, years, year_code = park_codes(assigned, park_ids)
    n_years = len(years)
    key = np.where(park_code >= 0, park_code, n_parks).astype(np.int64) * n_years + year_code
    n_groups = (n_parks + 1) * n_years
    frame = measure_arrays(assigned)
    sums = group_sums(frame, Grouping(key, n_parks, n_years))

    divisions = np.empty(0, dtype=object)
    division_counts = np.zeros((n_parks + 1, n_years, 0), dtype=np.int64)
    n_strategic = np.zeros(n_groups)
    va_strategic = np.zeros(n_groups)
    if has_industry:
        strategic, division, divisions = industry_codes_of(assigned["industry"])
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


def industry_codes_of(
    industry: pd.Series,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.object_]]:
    """Per row: strategic or not, and the index of its division in sorted division codes."""
    from parkgeo._cells import canonical_codes
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
        # A validated code is canonical (letter + digits): its division is its first three
        # characters; only other codes go through the normaliser again.
        canonical = canonical_codes()
        division_fresh = pd.Series(
            [c[:3] if c in canonical and len(c) >= 3 else None for c in fresh], dtype=object
        )
        others = [i for i, c in enumerate(fresh) if c not in canonical]
        if others:
            rolled = rollup(pd.Series([fresh[i] for i in others], dtype=object), level="division")
            division_fresh.iloc[others] = np.asarray(rolled, dtype=object)
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
    plan = resolve_targets(targets, baseline_year, target_year)
    check_min_enterprises(min_enterprises)
    park_ids, names, area_ha = park_table(parks)
    n_parks = len(park_ids)
    if partials.n_parks != n_parks:
        raise ParkgeoError(
            f"the partial sums are over {partials.n_parks} parks but {n_parks} parks were given; "
            "finish with the parks the enterprises were joined to"
        )
    year_values = partials.years
    if len(year_values) == 0:
        raise ParkgeoError("no enterprise rows: there is nothing to measure")
    report_years = years_to_report(years, year_values)
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

    table = figures(sums, ids, label, row_year, area, is_all=row_park == n_parks + 1, per_mu=per_mu)
    suppressed = suppress(table, sums, min_enterprises)
    table = changes(table, suppressed, plan, row_park)
    if industry_mix:
        table = _industry_mix_from_partials(table, partials, sums, n_parks)
    keep = np.isin(row_year, report_years)
    # overflowing sums become NaN with a warning, never inf
    result: pd.DataFrame = finite_figures(table.loc[keep].reset_index(drop=True), what="density")
    return result


def check_min_enterprises(min_enterprises: int | None) -> None:
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
    n_rows = len(table)
    if not partials.has_industry:
        table["strategic_share"] = np.nan
        table["strategic_value_added_share"] = np.nan
        table["top_industries"] = pd.array([pd.NA] * n_rows, dtype="str")
        return table
    table["strategic_share"] = safe_ratio(sums["n_strategic"], sums["n"])
    va_share = safe_ratio(sums["va_strategic"], sums["sum_value_added"])
    va_share[sums["n_present_value_added"] == 0] = np.nan
    table["strategic_value_added_share"] = va_share
    counts = partials.division_counts
    n_div = counts.shape[-1]
    if n_div == 0:  # an industry column with no usable code: reshape(-1, 0) is ambiguous
        table["top_industries"] = pd.array([pd.NA] * n_rows, dtype="str")
        return table
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
    n_rows = matrix.shape[0]
    if len(labels) == 0:
        result: pd.Series = pd.Series(pd.array([pd.NA] * n_rows, dtype="str"))
        return result
    top = np.argsort(-matrix, axis=1, kind="stable")[:, :TOP_INDUSTRIES]
    out = np.full(n_rows, "", dtype=object)
    for row in range(n_rows):
        out[row] = "; ".join(
            f"{labels[j]} ({matrix[row, j]})" for j in top[row] if matrix[row, j] > 0
        )
    text = pd.Series(out, dtype="str")
    shown: pd.Series = text.where(text != "", pd.NA)
    return shown
