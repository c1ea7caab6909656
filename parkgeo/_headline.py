"""The plan's headline figures, read once from the density table for the report, the maps
and ``parkgeo demo``, so all three print the same number for the same thing.

Each of the plan's three targets is read from one population of the density table:

* total profit: ``ALL`` (every enterprise in the data, in a park or not);
* tax per hectare: ``ALL_PARKS`` (enterprises in parks: a city-wide figure per hectare has
  no meaning, since firms outside parks have no park area);
* energy per unit of value added: ``ALL`` (the plan's city-wide intensity).

The population is carried with each figure and printed next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError, SchemaError

__all__ = ["HEADLINE", "HeadlineFigure", "Plan", "headline_figures", "plan_of", "city_row"]

ALL = "ALL"
ALL_PARKS = "ALL_PARKS"

HEADLINE: tuple[tuple[str, str], ...] = (
    ("profit", ALL),
    ("tax_per_ha", ALL_PARKS),
    ("energy_per_value_added", ALL),
)
"""(measure, population) of each headline figure, in the plan's order."""

_TRACKED = ("profit", "tax_per_ha", "energy_per_value_added", "labour_productivity")


@dataclass(frozen=True)
class Plan:
    """Baseline year, target year and target change of each tracked measure."""

    baseline_year: int
    target_year: int
    targets: dict[str, float | None]

    def expected(self, year: int) -> float:
        """Share of the plan period elapsed in ``year`` (0 at the baseline, 1 at the target)."""
        span = self.target_year - self.baseline_year
        return float(np.clip((year - self.baseline_year) / span, 0.0, 1.0)) if span > 0 else 1.0


@dataclass(frozen=True)
class HeadlineFigure:
    """One headline figure: its population, value, change, target, progress and status."""

    measure: str
    population: str
    year: int
    baseline_year: int
    target_year: int
    value: float
    baseline_value: float
    change: float
    target: float | None
    progress: float
    expected: float
    status: str
    n_enterprises: int
    n_parks: int
    marker: str = ""
    """Printed instead of ``value`` when it is withheld (protected table), else ``""``."""
    baseline_marker: str = ""
    change_marker: str = ""
    """Printed instead of the change, progress and status when withheld."""


def plan_of(metrics: pd.DataFrame, targets: Any = None) -> Plan:
    """The plan behind a density table: ``targets`` when given, else read from the table.

    Without ``targets`` the baseline is the year whose status is ``baseline`` and each target
    is ``change / progress`` of the table (the defaults of :class:`parkgeo.metrics.Targets`
    where the table cannot tell); the target year is three years after the baseline.

    Examples
    --------
    >>> from parkgeo.metrics import Targets
    >>> plan_of(pd.DataFrame({"park_id": [], "year": []}), Targets(baseline_year=2014))
    Plan(baseline_year=2014, target_year=2017, targets={'profit': 0.5, 'tax_per_ha': 0.5, 'energy_per_value_added': -0.15, 'labour_productivity': None})
    """
    from parkgeo.metrics import Targets

    if targets is not None:
        if not isinstance(targets, Targets):
            raise ParkgeoError(f"targets must be a parkgeo.metrics.Targets; got {targets!r}")
        return Plan(
            targets.baseline_year,
            targets.target_year_or_default,
            {m: getattr(targets, m) for m in _TRACKED},
        )
    default = Targets()
    baseline = _baseline_from_table(metrics)
    base = baseline if baseline is not None else default.baseline_year
    found: dict[str, float | None] = {}
    for measure in _TRACKED:
        found[measure] = getattr(default, measure)
        change_col, progress_col = f"{measure}_change", f"{measure}_progress"
        if change_col in metrics.columns and progress_col in metrics.columns:
            change = pd.to_numeric(metrics[change_col], errors="coerce").to_numpy(dtype=float)
            progress = pd.to_numeric(metrics[progress_col], errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(change) & np.isfinite(progress) & (np.abs(progress) > 1e-12)
            if ok.any():
                found[measure] = float(np.round(np.median(change[ok] / progress[ok]), 9))
            elif (
                f"{measure}_status" in metrics.columns
                and (metrics[f"{measure}_status"].astype(str) == "no target").any()
            ):
                found[measure] = None
    return Plan(base, base + 3, found)


def _baseline_from_table(metrics: pd.DataFrame) -> int | None:
    if "year" not in metrics.columns:
        return None
    years: set[int] = set()
    for col in [c for c in metrics.columns if str(c).endswith("_status")]:
        is_base = (metrics[col].astype(str) == "baseline").to_numpy()
        years |= {
            int(y) for y in pd.to_numeric(metrics.loc[is_base, "year"], errors="coerce").dropna()
        }
    return years.pop() if len(years) == 1 else None


def city_row(metrics: pd.DataFrame, population: str, year: int) -> pd.Series | None:
    """The ``ALL`` or ``ALL_PARKS`` row of ``year``, or None."""
    ids = metrics["park_id"].astype(str).to_numpy()
    years = pd.to_numeric(metrics["year"], errors="coerce").to_numpy()
    rows = metrics[(ids == population) & (years == year)]
    return rows.iloc[0] if len(rows) else None


def _num(row: pd.Series | None, col: str) -> float:
    if row is None or col not in row.index:
        return float("nan")
    try:
        return float(row[col])
    except (TypeError, ValueError):
        return float("nan")


def headline_figures(
    metrics: pd.DataFrame,
    *,
    year: int,
    plan: Plan,
    figures: Sequence[tuple[str, str]] = HEADLINE,
) -> list[HeadlineFigure]:
    """The headline figures of ``year`` (one per ``(measure, population)``).

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> from parkgeo.metrics import park_metrics
    >>> s = load_tianjin()
    >>> table = park_metrics(assign_parks(s.enterprises, s.parks).assigned, s.parks)
    >>> for f in headline_figures(table, year=2015, plan=plan_of(table)):
    ...     print(f.measure, f.population, f"{f.change:+.2%}", f.status)
    profit ALL +45.00% on_track
    tax_per_ha ALL_PARKS +46.20% on_track
    energy_per_value_added ALL -2.88% behind
    """
    from parkgeo._legend import normalize_status
    from parkgeo.disclosure import withheld_marker

    for col in ("park_id", "year"):
        if col not in metrics.columns:
            raise SchemaError(f"the density table needs a {col!r} column")
    ids = metrics["park_id"].astype(str)
    years = pd.to_numeric(metrics["year"], errors="coerce")
    in_year = metrics[(years == year).to_numpy() & ~ids.isin([ALL, ALL_PARKS]).to_numpy()]
    n_parks = (
        int((pd.to_numeric(in_year["n_enterprises"], errors="coerce") > 0).sum())
        if "n_enterprises" in in_year.columns
        else len(in_year)
    )
    out = []
    for measure, population in figures:
        row = city_row(metrics, population, year)
        base = city_row(metrics, population, plan.baseline_year)
        status = (
            normalize_status(row[f"{measure}_status"])
            if row is not None and f"{measure}_status" in row.index
            else "no_data"
        )
        n_ent = _num(row, "n_enterprises")
        out.append(
            HeadlineFigure(
                measure=measure,
                population=population,
                year=int(year),
                baseline_year=plan.baseline_year,
                target_year=plan.target_year,
                value=_num(row, measure),
                baseline_value=_num(base, measure),
                change=_num(row, f"{measure}_change"),
                target=plan.targets.get(measure),
                progress=_num(row, f"{measure}_progress"),
                expected=plan.expected(int(year)),
                status=status,
                n_enterprises=int(n_ent) if np.isfinite(n_ent) else 0,
                n_parks=n_parks,
                marker=withheld_marker(row, measure),
                baseline_marker=withheld_marker(base, measure),
                change_marker=withheld_marker(row, f"{measure}_change"),
            )
        )
    return out
