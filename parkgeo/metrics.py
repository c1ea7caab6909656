"""Per-park density figures (tax and energy per hectare), change against the plan's baseline
year and progress toward its targets.

Every intensity is a ratio of sums over the enterprises of a park and year, never a mean of
ratios. Missing measures (NaN) are skipped and counted in ``n_missing_<measure>``, never read
as zero; a ratio is computed over the rows where both its numerator and denominator are
present, and a zero or empty denominator gives NaN, never inf. The column names and units are
stable and documented in ``docs/columns.md``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._outputs import finite_figures

__all__ = [
    "ALL",
    "ALL_PARKS",
    "MONEY_COLUMNS",
    "STATUSES",
    "TRACKED",
    "Partials",
    "Targets",
    "finish",
    "park_metrics",
    "partials_of",
    "read_targets",
]

log = logging.getLogger("parkgeo")

ALL = "ALL"
"""``park_id`` of the city-wide rows: every enterprise row, in a park or not."""
ALL_PARKS = "ALL_PARKS"
"""``park_id`` of the rows summing every park: only enterprises assigned to a park."""

MEASURES: tuple[str, ...] = ("tax", "energy_tce", "value_added", "profit", "employees")
TRACKED: tuple[str, ...] = ("profit", "tax_per_ha", "energy_per_value_added", "labour_productivity")
"""Figures reported as change against the baseline year, progress and status."""
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
)
MU_PER_HA = 15.0
_TOP_INDUSTRIES = 3
_PROGRESS_EPS = 1e-9


@dataclass(frozen=True)
class Targets:
    """The plan's targets: relative changes from ``baseline_year`` to be reached by
    ``target_year``.

    The defaults are Tianjin's 2014 Transformation and Upgrade Action Plan: total profits
    +50%, tax per hectare in industrial parks +50%, energy per unit of value added -15%, over
    three years from 2013. ``None`` means no target for that figure (its change is still
    reported).

    Attributes
    ----------
    profit, tax_per_ha, energy_per_value_added, labour_productivity : float or None
        Target change as a fraction (``0.5`` = +50%, ``-0.15`` = -15%).
    baseline_year : int
        Year the changes are measured from.
    target_year : int or None
        Year the targets are due; ``None`` means ``baseline_year + 3``.

    Examples
    --------
    >>> Targets().target_year_or_default
    2016
    >>> Targets(profit=0.3, baseline_year=2015).target_year_or_default
    2018
    """

    profit: float | None = 0.50
    tax_per_ha: float | None = 0.50
    energy_per_value_added: float | None = -0.15
    labour_productivity: float | None = None
    baseline_year: int = 2013
    target_year: int | None = None

    def __post_init__(self) -> None:
        for name in TRACKED:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParkgeoError(
                    f"target {name} must be a number (e.g. 0.5 for +50%) or None, got {value!r}"
                )
            if not math.isfinite(value) or value == 0:
                raise ParkgeoError(
                    f"target {name} must be a finite, non-zero change (e.g. 0.5 for +50%), "
                    f"got {value!r}"
                )
        for name in ("baseline_year", "target_year"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ParkgeoError(f"{name} must be a whole year such as 2013, got {value!r}")
        if self.target_year is not None and self.target_year <= self.baseline_year:
            raise ParkgeoError(
                f"target_year ({self.target_year}) must come after baseline_year "
                f"({self.baseline_year})"
            )

    @property
    def target_year_or_default(self) -> int:
        """``target_year``, or three years after the baseline when not set."""
        return self.target_year if self.target_year is not None else self.baseline_year + 3


def read_targets(path: str | Path) -> Targets:
    """Read plan targets from a TOML file (see ``docs/targets.example.toml``).

    Top-level keys ``baseline_year`` and ``target_year``; a ``[targets]`` table with
    ``profit``, ``tax_per_ha``, ``energy_per_value_added`` and ``labour_productivity`` as
    fractions (``0.5`` = +50%). A target set to ``false`` is switched off; a missing one keeps
    its default.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file.

    Returns
    -------
    Targets

    Raises
    ------
    ParkgeoError
        If the file cannot be read or parsed, or holds an unknown key or a bad value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.toml"
    >>> _ = p.write_text("baseline_year = 2014\\n[targets]\\nprofit = 0.3\\ntax_per_ha = false\\n")
    >>> read_targets(p)
    Targets(profit=0.3, tax_per_ha=None, energy_per_value_added=-0.15, labour_productivity=None, baseline_year=2014, target_year=None)
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    path = Path(path)
    try:
        with path.open("rb") as fh:
            document = tomllib.load(fh)
    except OSError as exc:
        raise ParkgeoError(f"cannot read targets file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParkgeoError(f"targets file {path} is not valid TOML: {exc}") from None
    return _targets_from_document(document, source=str(path))


def _targets_from_document(document: Mapping[str, Any], *, source: str) -> Targets:
    known_top = {"baseline_year", "target_year", "targets"}
    unknown = sorted(set(document) - known_top)
    if unknown:
        raise ParkgeoError(
            f"{source}: unknown key(s) {', '.join(unknown)}; expected baseline_year, target_year "
            "and a [targets] table"
        )
    values: dict[str, Any] = {}
    for name in ("baseline_year", "target_year"):
        if name in document:
            values[name] = document[name]
    table = document.get("targets", {})
    if not isinstance(table, Mapping):
        raise ParkgeoError(f"{source}: 'targets' must be a table ([targets])")
    unknown = sorted(set(table) - set(TRACKED))
    if unknown:
        raise ParkgeoError(
            f"{source}: unknown target(s) {', '.join(unknown)} in [targets]; known: "
            f"{', '.join(TRACKED)}"
        )
    for name, value in table.items():
        if value is False:
            values[name] = None
        else:
            values[name] = value
    try:
        return Targets(**values)
    except ParkgeoError as exc:
        raise ParkgeoError(f"{source}: {exc}") from None


def park_metrics(
    assigned: pd.DataFrame,
    parks: Any,
    *,
    years: Iterable[int] | None = None,
    baseline_year: int | None = None,
    target_year: int | None = None,
    targets: Targets | None = None,
    min_enterprises: int | None = None,
    per_mu: bool = False,
    industry_mix: bool = True,
) -> pd.DataFrame:
    """Per-park and city-wide density figures by year, with change and target progress.

    Parameters
    ----------
    assigned : pandas.DataFrame
        Enterprises with ``park_id`` (from :func:`parkgeo.join.assign_parks`), ``year`` and
        any of the measures ``tax``, ``profit``, ``value_added`` (10,000 CNY), ``energy_tce``
        (tce) and ``employees``; a missing measure column counts as all missing. ``industry``
        feeds the industry-mix columns.
    parks : geopandas.GeoDataFrame
        The parks the enterprises were joined to (``park_id``, optional ``name``, polygons in
        any CRS). Parks without enterprises get rows with zero counts.
    years : iterable of int, optional
        Years to report (default: every year in ``assigned``). The baseline year is used for
        the changes even when not reported.
    baseline_year, target_year : int, optional
        Override ``targets.baseline_year`` (2013 by default) and ``targets.target_year``
        (default baseline + 3).
    targets : Targets, optional
        Plan targets (default :class:`Targets`: profit +50%, tax per ha +50%, energy per value
        added -15%).
    min_enterprises : int, optional
        Confidentiality threshold k: in a row where a money measure (tax, profit, value added)
        comes from between 1 and k-1 enterprises, every money figure of that row
        (:data:`MONEY_COLUMNS` and their changes) is set to NaN and ``suppressed`` is True.
    per_mu : bool
        Add ``area_mu``, ``tax_per_mu`` and ``energy_per_mu`` (1 ha = 15 mu).
    industry_mix : bool
        Add ``strategic_share``, ``strategic_value_added_share`` and ``top_industries``.

    Returns
    -------
    pandas.DataFrame
        One row per park and year, in the parks' order, then ``ALL_PARKS`` (enterprises in
        parks) and ``ALL`` (every enterprise row; its per-hectare figures are NaN since its
        enterprises are not confined to the parks' area). Columns are listed in
        ``docs/columns.md``.

    Raises
    ------
    SchemaError
        If ``park_id`` or ``year`` is missing, or ``assigned`` names parks not in ``parks``.
    ParkgeoError
        For a requested year without data or bad options.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> sample = load_tianjin()
    >>> assigned = assign_parks(sample.enterprises, sample.parks).assigned
    >>> table = park_metrics(assigned, sample.parks, years=[2015])
    >>> city = table.set_index("park_id").loc["ALL"]
    >>> print(f"{city['profit_change']:+.1%} {city['profit_status']}")
    +45.0% on track
    >>> print(f"{city['energy_per_value_added_change']:+.2%} {city['energy_per_value_added_status']}")
    -2.88% behind
    >>> print(f"{city['labour_productivity_change']:+.1%}")
    +20.6%
    """
    # Check the options before summing millions of rows.
    _plan(targets, baseline_year, target_year)
    _check_min_enterprises(min_enterprises)
    return finish(
        partials_of(assigned, parks),
        parks,
        years=years,
        baseline_year=baseline_year,
        target_year=target_year,
        targets=targets,
        min_enterprises=min_enterprises,
        per_mu=per_mu,
        industry_mix=industry_mix,
    )


# --------------------------------------------------------------------------------------------
# checks and inputs
# --------------------------------------------------------------------------------------------


def _plan(targets: Targets | None, baseline_year: int | None, target_year: int | None) -> Targets:
    plan = targets if targets is not None else Targets()
    if not isinstance(plan, Targets):
        raise ParkgeoError(f"targets must be a parkgeo.Targets, got {type(plan).__name__}")
    changes: dict[str, Any] = {}
    if baseline_year is not None:
        changes["baseline_year"] = baseline_year
    if target_year is not None:
        changes["target_year"] = target_year
    if not changes:
        return plan
    values = {f.name: getattr(plan, f.name) for f in fields(plan)}
    values.update(changes)
    # A new baseline at or after the file's target year keeps the default horizon instead.
    if (
        baseline_year is not None
        and target_year is None
        and plan.target_year is not None
        and plan.target_year <= baseline_year
    ):
        values["target_year"] = None
    return Targets(**values)


def _park_ids(parks: Any) -> pd.Series:
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
    return ids


def _park_table(parks: Any) -> tuple[NDArray[Any], NDArray[Any], NDArray[np.float64]]:
    from parkgeo.coords import geodesic_area_ha

    ids = _park_ids(parks)
    if "name" in parks.columns:
        names = parks["name"].astype(object).where(parks["name"].notna(), ids).astype(str)
    else:
        names = ids
    area_ha = geodesic_area_ha(parks.geometry)
    return ids.to_numpy(dtype=object), names.to_numpy(dtype=object), np.asarray(area_ha, float)


def _codes(
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


def _report_years(years: Iterable[int] | None, year_values: NDArray[np.int64]) -> NDArray[np.int64]:
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


def _measure_arrays(assigned: pd.DataFrame) -> dict[str, NDArray[np.float64]]:
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
class _Grouping:
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


def _group_sums(
    frame: Mapping[str, NDArray[np.float64]], grouping: _Grouping
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


def _safe_ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    # A denominator so small that the ratio overflows (a subnormal value added) is no more
    # meaningful than zero: NaN, never inf.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[~np.isfinite(den) | (den == 0) | np.isinf(out)] = np.nan
    return out


def _figures(
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
        return out

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
    columns["tax_per_ha"] = _safe_ratio(tax, area_for_ratio)
    if per_mu:
        columns["tax_per_mu"] = _safe_ratio(tax, area_for_ratio * MU_PER_HA)
    columns["energy_tce"] = energy
    columns["energy_per_ha"] = _safe_ratio(energy, area_for_ratio)
    if per_mu:
        columns["energy_per_mu"] = _safe_ratio(energy, area_for_ratio * MU_PER_HA)
    columns["value_added"] = measure_sum("value_added")
    columns["energy_per_value_added"] = _safe_ratio(sums["pair_energy"], pair_va_energy)
    columns["profit"] = measure_sum("profit")
    columns["employees"] = measure_sum("employees")
    columns["labour_productivity"] = _safe_ratio(sums["pair_va_emp"], pair_emp)
    for name in MEASURES:
        columns[f"n_missing_{name}"] = (n - sums[f"n_present_{name}"]).astype(np.int64)
    return pd.DataFrame(columns)


def _suppress(
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


def _changes(
    table: pd.DataFrame, suppressed: NDArray[np.bool_], plan: Targets, row_park: NDArray[np.int64]
) -> pd.DataFrame:
    year = table["year"].to_numpy()
    baseline = plan.baseline_year
    horizon = plan.target_year_or_default
    # Row of each group's baseline year (-1 when that year has no data).
    groups = pd.Index(row_park)
    base_row = np.full(len(table), -1, dtype=np.int64)
    at_base = np.flatnonzero(year == baseline)
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
        new[f"{name}_change"] = change
        new[f"{name}_progress"] = progress
        new[f"{name}_status"] = pd.array(status.astype(str), dtype="str")
    return pd.concat([table, pd.DataFrame(new, index=table.index)], axis=1)


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
    park_ids = _park_ids(parks).to_numpy(dtype=object)
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
    return finite_figures(table.loc[keep].reset_index(drop=True), what="density")  # never inf


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
        return pd.Series(pd.array([pd.NA] * n_rows, dtype="str"))
    top = np.argsort(-matrix, axis=1, kind="stable")[:, :_TOP_INDUSTRIES]
    out = np.full(n_rows, "", dtype=object)
    for row in range(n_rows):
        out[row] = "; ".join(
            f"{labels[j]} ({matrix[row, j]})" for j in top[row] if matrix[row, j] > 0
        )
    result = pd.Series(out, dtype="str")
    return result.where(result != "", pd.NA)
