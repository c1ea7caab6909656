"""Per-park density figures (tax and energy per hectare), change against the plan's baseline
year and progress toward its targets.

Every intensity is a ratio of sums over the enterprises of a park and year, never a mean of
ratios. Missing measures (NaN) are skipped and counted in ``n_missing_<measure>``, never read
as zero; a ratio is computed over the rows where both its numerator and denominator are
present, and a zero or empty denominator gives NaN, never inf. The column names and units are
stable and documented in ``docs/columns.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from parkgeo import _cores
from parkgeo._cores import run_both
from parkgeo._figures import ALL, ALL_PARKS, MEASURES, MONEY_COLUMNS, MU_PER_HA, STATUSES
from parkgeo._partials import Partials, check_min_enterprises, finish, partials_of
from parkgeo._targets import TRACKED, Targets, read_targets, resolve_targets

__all__ = [
    "ALL",
    "ALL_PARKS",
    "MEASURES",
    "MONEY_COLUMNS",
    "MU_PER_HA",
    "STATUSES",
    "TRACKED",
    "Partials",
    "Targets",
    "check_min_enterprises",
    "finish",
    "park_metrics",
    "partials_of",
    "read_targets",
    "resolve_targets",
]


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
    resolve_targets(targets, baseline_year, target_year)
    check_min_enterprises(min_enterprises)
    return finish(
        _partials_in_halves(assigned, parks),
        parks,
        years=years,
        baseline_year=baseline_year,
        target_year=target_year,
        targets=targets,
        min_enterprises=min_enterprises,
        per_mu=per_mu,
        industry_mix=industry_mix,
    )


def _partials_in_halves(assigned: pd.DataFrame, parks: Any) -> Partials:
    """:func:`partials_of` of a large table as the sum of its two halves, summed at once in
    two threads on a machine of two cores or more. The halves are fixed by the table's length, so the
    figures are the same bytes whether one thread or two summed them."""
    n = len(assigned)
    if n < _cores.PARALLEL_ROWS:
        return partials_of(assigned, parks)
    half = n // 2
    first, second = run_both(
        lambda rows: partials_of(rows, parks), [assigned.iloc[:half], assigned.iloc[half:]], rows=n
    )
    return first.merge(second)


# --------------------------------------------------------------------------------------------
# checks and inputs
# --------------------------------------------------------------------------------------------
