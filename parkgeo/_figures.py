"""The density table's figures from sums per (park, year): ratios, suppression, change and
progress against the plan. Shared by :func:`parkgeo.metrics.park_metrics` and
:func:`parkgeo._partials.finish` (which is the same computation from partial sums)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._targets import TRACKED, Targets

log = logging.getLogger("parkgeo")

ALL = "ALL"
"""``park_id`` of the city-wide rows: every enterprise row, in a park or not."""
ALL_PARKS = "ALL_PARKS"
"""``park_id`` of the rows summing every park: only enterprises assigned to a park."""

MEASURES: tuple[str, ...] = ("tax", "energy_tce", "value_added", "profit", "employees")
MONEY_COLUMNS: tuple[str, ...] = (
    "tax",
    "tax_per_ha",
    "tax_per_mu",
    "value_added",
    "energy_per_value_added",
    "profit",
    "labour_productivity",
)
"""Figures blanked by ``min_enterprises``: money and what reveals it (with energy or employees
published, energy per value added and labour productivity would give value added back)."""
STATUSES: tuple[str, ...] = (
    "met",
    "on track",
    "behind",
    "baseline",
    "before baseline",
    "no baseline",
    "no data",
    "no target",
    "suppressed",
    "not applicable",
)
MU_PER_HA = 15.0
TOP_INDUSTRIES = 3
_PROGRESS_EPS = 1e-9


def park_id_series(parks: Any) -> pd.Series:
    """The parks' ids as text, checked (no geometry work: partial sums need only ids)."""
    if not hasattr(parks, "geometry") or "park_id" not in getattr(parks, "columns", ()):
        raise SchemaError(
            "parks must be a GeoDataFrame with a 'park_id' column; load them with "
            "parkgeo.io.read_parks"
        )
    ids = parks["park_id"].astype(str)
    if ids.duplicated().any():
        raise SchemaError(
            f"park_id values repeat: {ids[ids.duplicated()].unique()[:10].tolist()}; ids must be unique"
        )
    result: pd.Series = ids
    return result


def park_table(parks: Any) -> tuple[NDArray[Any], NDArray[Any], NDArray[np.float64]]:
    from parkgeo.coords import geodesic_area_ha

    ids = park_id_series(parks)
    if "name" in parks.columns:
        names = parks["name"].astype(object).where(parks["name"].notna(), ids).astype(str)
    else:
        names = ids
    area_ha = geodesic_area_ha(parks.geometry)
    return ids.to_numpy(dtype=object), names.to_numpy(dtype=object), np.asarray(area_ha, float)


def park_codes(
    assigned: pd.DataFrame, park_ids: NDArray[Any]
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]]:
    missing = [c for c in ("park_id", "year") if c not in assigned.columns]
    if missing:
        raise SchemaError(
            f"assigned enterprises lack {', '.join(missing)}; run parkgeo.join.assign_parks "
            "first (it adds park_id) on enterprises with a year column"
        )
    ids = assigned["park_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype) and list(ids.cat.categories) == list(park_ids):
        park_code = ids.cat.codes.to_numpy().astype(np.int32)
    else:
        present = ids.notna().to_numpy()
        park_code = np.full(len(ids), -1, dtype=np.int32)
        park_code[present] = pd.Index(park_ids).get_indexer(ids[present].astype(str))
        unknown = present & (park_code < 0)
        if unknown.any():
            examples = pd.unique(ids[unknown].astype(str))[:5].tolist()
            raise SchemaError(
                f"assigned enterprises name parks that are not in the parks layer: {examples}; "
                "compute the metrics against the same parks the enterprises were joined to"
            )
    year = pd.to_numeric(assigned["year"], errors="coerce")
    if year.isna().any():
        row = assigned.index[year.isna().to_numpy()][0]
        raise SchemaError(f"row {row!r} has no valid year; every enterprise row needs a year")
    year_arr = year.to_numpy(dtype=np.int64)
    if len(year_arr) == 0:
        raise ParkgeoError("no enterprise rows: there is nothing to measure")
    # Years span a few values: a lookup table beats sorting millions of rows.
    first = int(year_arr.min())
    offset = year_arr - first
    seen = np.flatnonzero(np.bincount(offset))
    lookup = np.full(int(offset.max()) + 1, -1, dtype=np.int64)
    lookup[seen] = np.arange(len(seen))
    return park_code, seen + first, lookup[offset]


def years_to_report(
    years: Iterable[int] | None, year_values: NDArray[np.int64]
) -> NDArray[np.int64]:
    if years is None:
        return year_values
    wanted = np.array(sorted({int(y) for y in years}), dtype=np.int64)
    absent = [int(y) for y in wanted if y not in year_values]
    if absent:
        raise ParkgeoError(
            f"no enterprise rows for year(s) {absent}; the data has "
            f"{', '.join(str(int(y)) for y in year_values)}"
        )
    return wanted


def measure_arrays(assigned: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
    out: dict[str, NDArray[np.float64]] = {}
    for name in MEASURES:
        if name in assigned.columns:
            try:
                out[name] = assigned[name].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"column {name!r} is not numeric; load the enterprises with "
                    "parkgeo.io.read_enterprises, which validates measures"
                ) from None
        else:
            out[name] = np.full(len(assigned), np.nan)
    return out


# --------------------------------------------------------------------------------------------
# sums and figures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """Rows keyed by (park slot, year); park slot ``n_parks`` holds rows in no park."""

    key: NDArray[np.int64]
    n_parks: int
    n_years: int

    @property
    def n_groups(self) -> int:
        return (self.n_parks + 1) * self.n_years

    def total(self, weights: NDArray[Any] | None = None) -> NDArray[np.float64]:
        """Per-group sums of ``weights`` (counts when None)."""
        return np.bincount(self.key, weights=weights, minlength=self.n_groups).astype(np.float64)

    def expand(self, values: NDArray[Any]) -> NDArray[Any]:
        """Per-group values -> table rows: each park's years, then ALL_PARKS, then ALL.

        ``values`` has one entry (or one row, for 2-D input) per group.
        """
        shaped = values.reshape(self.n_parks + 1, self.n_years, *values.shape[1:])
        parks = shaped[: self.n_parks]
        return np.concatenate(
            [
                parks.reshape(self.n_parks * self.n_years, *values.shape[1:]),
                parks.sum(axis=0),
                shaped.sum(axis=0),
            ]
        )


def group_sums(
    frame: Mapping[str, NDArray[np.float64]], grouping: Grouping
) -> dict[str, NDArray[np.float64]]:
    """Sums by group: counts, sums of each measure (NaN skipped), and pairwise-complete sums."""
    total = grouping.total
    out = {"n": total()}
    present: dict[str, NDArray[np.bool_]] = {}
    for name in MEASURES:
        values = frame[name]
        present[name] = ~np.isnan(values)
        out[f"n_present_{name}"] = total(present[name])
        out[f"sum_{name}"] = total(np.where(present[name], values, 0.0))
    both = present["energy_tce"] & present["value_added"]
    out["pair_energy"] = total(np.where(both, frame["energy_tce"], 0.0))
    out["pair_va_energy"] = total(np.where(both, frame["value_added"], 0.0))
    both = present["value_added"] & present["employees"]
    out["pair_va_emp"] = total(np.where(both, frame["value_added"], 0.0))
    out["pair_emp"] = total(np.where(both, frame["employees"], 0.0))
    return out


def safe_ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    # A denominator so small that the ratio overflows (a subnormal value added) is no more
    # meaningful than zero: NaN, never inf.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[~np.isfinite(den) | (den == 0) | np.isinf(out)] = np.nan
    return out


def figures(
    sums: Mapping[str, NDArray[np.float64]],
    ids: NDArray[Any],
    label: NDArray[Any],
    year: NDArray[np.int64],
    area: NDArray[np.float64],
    *,
    is_all: NDArray[np.bool_],
    per_mu: bool,
) -> pd.DataFrame:
    n = sums["n"]

    def measure_sum(name: str) -> NDArray[np.float64]:
        # No enterprises: the sum is a true zero. Enterprises but no reported value: unknown.
        out = sums[f"sum_{name}"].copy()
        out[(n > 0) & (sums[f"n_present_{name}"] == 0)] = np.nan
        result: NDArray[np.float64] = out
        return result

    tax, energy = measure_sum("tax"), measure_sum("energy_tce")
    area_for_ratio = np.where(is_all, np.nan, area)
    pair_va_energy = np.where(sums["n_present_value_added"] > 0, sums["pair_va_energy"], np.nan)
    pair_emp = np.where(sums["n_present_employees"] > 0, sums["pair_emp"], np.nan)
    columns: dict[str, Any] = {
        "park_id": pd.array(ids.astype(str), dtype="str"),
        "name": pd.array(label.astype(str), dtype="str"),
        "year": year.astype(np.int64),
        "n_enterprises": n.astype(np.int64),
        "area_ha": area,
    }
    if per_mu:
        columns["area_mu"] = area * MU_PER_HA
    columns["tax"] = tax
    columns["tax_per_ha"] = safe_ratio(tax, area_for_ratio)
    if per_mu:
        columns["tax_per_mu"] = safe_ratio(tax, area_for_ratio * MU_PER_HA)
    columns["energy_tce"] = energy
    columns["energy_per_ha"] = safe_ratio(energy, area_for_ratio)
    if per_mu:
        columns["energy_per_mu"] = safe_ratio(energy, area_for_ratio * MU_PER_HA)
    columns["value_added"] = measure_sum("value_added")
    columns["energy_per_value_added"] = safe_ratio(sums["pair_energy"], pair_va_energy)
    columns["profit"] = measure_sum("profit")
    columns["employees"] = measure_sum("employees")
    columns["labour_productivity"] = safe_ratio(sums["pair_va_emp"], pair_emp)
    for name in MEASURES:
        columns[f"n_missing_{name}"] = (n - sums[f"n_present_{name}"]).astype(np.int64)
    result: pd.DataFrame = pd.DataFrame(columns)
    return result


def suppress(
    table: pd.DataFrame, sums: Mapping[str, NDArray[np.float64]], min_enterprises: int | None
) -> NDArray[np.bool_]:
    suppressed = np.zeros(len(table), dtype=bool)
    if min_enterprises is not None:
        for name in ("tax", "profit", "value_added"):
            contributors = sums[f"n_present_{name}"]
            suppressed |= (contributors > 0) & (contributors < min_enterprises)
        for column in MONEY_COLUMNS:
            if column in table.columns:
                table.loc[suppressed, column] = np.nan
        if suppressed.any():
            log.info(
                "suppressed money figures in %d park-year rows with fewer than %d contributing "
                "enterprises",
                int(suppressed.sum()),
                min_enterprises,
            )
    table["suppressed"] = suppressed
    return suppressed


def _warn_no_baseline(years: NDArray[Any], baseline: int) -> None:
    """Every change, progress and status hangs on the baseline year: say loudly that the
    data has none, rather than fill the table with 'no baseline'."""
    present = ", ".join(str(int(y)) for y in years)
    log.warning(
        "the data has no rows for the baseline year %d (years present: %s): every change, "
        "progress and status against the plan is empty ('%s'). Pass the plan's baseline "
        "year with --baseline-year (baseline_year=) if it is one of %s, or add that year's data",
        baseline,
        present,
        "before baseline" if int(years.max()) < baseline else "no baseline",
        present,
    )


def changes(
    table: pd.DataFrame, suppressed: NDArray[np.bool_], plan: Targets, row_park: NDArray[np.int64]
) -> pd.DataFrame:
    year = table["year"].to_numpy()
    is_city_wide = table["park_id"].to_numpy(dtype=object) == ALL
    baseline = plan.baseline_year
    horizon = plan.target_year_or_default
    # Row of each group's baseline year (-1 when that year has no data).
    groups = pd.Index(row_park)
    base_row = np.full(len(table), -1, dtype=np.int64)
    at_base = np.flatnonzero(year == baseline)
    if len(at_base) == 0 and len(year):
        _warn_no_baseline(np.unique(year), baseline)
    lookup = dict(zip(row_park[at_base], at_base, strict=True))
    base_row[:] = [lookup.get(g, -1) for g in groups]
    has_base = base_row >= 0
    expected = np.clip((year - baseline) / (horizon - baseline), 0.0, 1.0)
    new: dict[str, Any] = {}
    for name in TRACKED:
        value = table[name].to_numpy(dtype=np.float64)
        base_value = np.where(has_base, value[np.maximum(base_row, 0)], np.nan)
        # A relative change from a loss or a zero baseline says nothing: NaN.
        usable = np.isfinite(base_value) & (base_value > 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            change = np.where(usable, value / base_value - 1.0, np.nan)
        change[np.isinf(change)] = np.nan  # a subnormal baseline: no meaningful change
        is_money = name in MONEY_COLUMNS
        hidden = (
            suppressed | np.where(has_base, suppressed[np.maximum(base_row, 0)], False)
        ) & is_money
        change[hidden] = np.nan
        target = getattr(plan, name)
        with np.errstate(over="ignore"):
            progress = change / target + 0.0 if target is not None else np.full(len(table), np.nan)
        progress[np.isinf(progress)] = np.nan  # a change too large to mean anything
        status = np.full(len(table), "behind", dtype=object)
        # Progress exactly on the line (or at the target) counts, whatever the rounding.
        status[progress >= expected - _PROGRESS_EPS] = "on track"
        status[progress >= 1.0 - _PROGRESS_EPS] = "met"
        status[~usable] = "no baseline"
        status[~np.isfinite(value)] = "no data"
        status[hidden] = "suppressed"
        if target is None:
            status[:] = "no target"
        status[year == baseline] = "baseline"
        status[year < baseline] = "before baseline"
        if name.endswith(("_per_ha", "_per_mu")):
            # ALL includes firms outside every park, whose land is unknown: no per-area figure
            status[is_city_wide] = "not applicable"
        new[f"{name}_change"] = change
        new[f"{name}_progress"] = progress
        new[f"{name}_status"] = pd.array(status.astype(str), dtype="str")
    result: pd.DataFrame = pd.concat([table, pd.DataFrame(new, index=table.index)], axis=1)
    return result


# --------------------------------------------------------------------------------------------
# partial sums per (park, year)
# --------------------------------------------------------------------------------------------
