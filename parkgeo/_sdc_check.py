"""The auditor's side of disclosure control: attack a published table, and report every
withheld cell with its reason.

:func:`attack_published` works from the published density table alone (plus the confidential
cell values, to judge how close the attacker gets): it first works out which sums the table
reveals — a per-hectare figure times the public area, a ratio whose other side is published,
a change whose other year is published, repeated until nothing new is learnt — and then solves
for each sensitive sum that is not revealed the range it must lie in (two LPs over the
additive structure: parks add up to ``ALL_PARKS``, ``ALL_PARKS`` plus the firms outside the
parks make ``ALL``). A range narrower than the cell's protection level is a disclosure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._sdc_cells import TOTAL, Contributions, grid_of
from parkgeo._sdc_lp import Problem, certified, intervals, local_unknown, protected
from parkgeo._sdc_rules import (
    PRIMARY_DOMINANCE,
    PRIMARY_FREQUENCY,
    PRIMARY_P_PERCENT,
    PUBLISHED,
    SECONDARY,
    STATUS_NAMES,
    UNPUBLISHED,
    DisclosureRules,
    primary,
)

if TYPE_CHECKING:
    from parkgeo.disclosure import SolvedCells

__all__ = ["attack_published", "attack_solved", "audit_report"]

_DIRECT = {
    "tax": ("tax", "tax_per_ha", "tax_per_mu"),
    "energy_tce": ("energy_tce", "energy_per_ha", "energy_per_mu"),
    "value_added": ("value_added",),
    "profit": ("profit",),
    "employees": ("employees",),
    "value_added_strategic": (),
}
# ratio column -> (numerator, denominator)
_RATIOS = {
    "energy_per_value_added": ("energy_tce", "value_added"),
    "labour_productivity": ("value_added", "employees"),
    "strategic_value_added_share": ("value_added_strategic", "value_added"),
}
# tracked column whose change links a year to the baseline -> the quantity it is about
_TRACKED = {
    "profit": "profit",
    "tax_per_ha": "tax",
    "energy_per_value_added": "energy_per_value_added",
    "labour_productivity": "labour_productivity",
}
_COLUMNS = (
    "measure",
    "year",
    "row",
    "column",
    "status",
    "value",
    "level",
    "lower",
    "upper",
    "protected",
    "exact",
)


def _problem(
    value: NDArray[np.float64], equations: Any, shape: tuple[int, int] | None = None
) -> Problem:
    lower = np.where(value >= 0, 0.0, -np.inf)
    upper = np.where(value >= 0, np.inf, 0.0)
    return Problem(value=value, lower=lower, upper=upper, equations=equations, shape=shape)


def _attack_cells(
    problem: Problem,
    unknown: NDArray[np.bool_],
    sensitive: NDArray[np.bool_],
    level: NDArray[np.float64],
    *,
    exact: bool = False,
) -> tuple[
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.bool_],
    NDArray[np.bool_],
]:
    cells = np.flatnonzero(sensitive)
    lower_level = np.minimum(
        level[cells], np.maximum(problem.value[cells] - problem.lower[cells], 0)
    )
    by_lp = np.ones(len(cells), dtype=bool)
    lo = problem.value[cells].astype(np.float64).copy()
    hi = lo.copy()
    if problem.shape is not None and not exact:
        # Suppressed groups and rectangles prove most ranges wide enough without an LP.
        sure, lo, hi = certified(problem, unknown, cells, level[cells], lower_level)
        by_lp = ~sure
    if problem.shape is not None and problem.shape[1] > 1 and not exact:
        # Two dimensions: the LP over the cell's own sub-grid gives a range inside the true
        # one; only where it falls short is the whole block solved.
        for k in np.flatnonzero(by_lp):
            here = cells[[k]]
            l_lo, l_hi = intervals(problem, local_unknown(problem, unknown, int(here[0])), here)
            if protected(problem, l_lo, l_hi, here, level[here], lower_level[[k]])[0]:
                lo[k], hi[k], by_lp[k] = l_lo[0], l_hi[0], False
    if by_lp.any():
        lo[by_lp], hi[by_lp] = intervals(problem, unknown, cells[by_lp])
    ok = protected(problem, lo, hi, cells, level[cells], lower_level)
    return cells, lo, hi, ok, by_lp


def attack_solved(solved: Mapping[str, SolvedCells], *, exact: bool = False) -> pd.DataFrame:
    """Ranges of every sensitive cell of a :class:`~parkgeo.disclosure.ProtectedTable`: exact
    LP ranges with ``exact=True``, else ranges proven by suppressed groups or rectangles where
    they suffice (``exact`` False in the output: the true range is at least as wide) and LP
    ranges for the rest."""
    frames = []
    for measure, s in solved.items():
        grid = s.grid
        labels_r = np.repeat(grid.rows, len(grid.cols))
        labels_c = np.tile(grid.cols, len(grid.rows))
        for year, status in s.status.items():
            i = s.year_index[year]
            sensitive = (status != PUBLISHED) & (status != SECONDARY) & (status != UNPUBLISHED)
            if not sensitive.any():
                continue
            problem = _problem(grid.value[i], grid.equations, (len(grid.rows), len(grid.cols)))
            cells, lo, hi, ok, solved_exactly = _attack_cells(
                problem, status != PUBLISHED, sensitive, s.level[year], exact=exact
            )
            frames.append(
                pd.DataFrame(
                    {
                        "measure": measure,
                        "year": year,
                        "row": labels_r[cells],
                        "column": labels_c[cells],
                        "status": np.array(STATUS_NAMES, dtype=object)[status[cells]],
                        "value": grid.value[i][cells],
                        "level": s.level[year][cells],
                        "lower": lo,
                        "upper": hi,
                        "protected": ok,
                        "exact": solved_exactly,
                    }
                )
            )
    if not frames:
        return cast("pd.DataFrame", pd.DataFrame({c: [] for c in _COLUMNS}))
    return cast("pd.DataFrame", pd.concat(frames, ignore_index=True))


def _reason(
    status: int,
    n: int,
    value: float,
    magnitude: float,
    top: NDArray[np.float64],
    rules: DisclosureRules,
) -> str:
    if status == PRIMARY_FREQUENCY:
        return f"{n} firm(s), fewer than {rules.min_frequency}"
    if status == PRIMARY_DOMINANCE:
        shares = []
        for count, k in rules.dominance:
            share = 100.0 * top[:count].sum() / magnitude if magnitude else 0.0
            if share > k:
                shares.append(f"largest {count} firm(s) hold {share:.1f}% > {k:g}%")
        return "; ".join(shares) or "dominance"
    if status == PRIMARY_P_PERCENT:
        rest = magnitude - top[0] - top[1]
        return (
            f"p% rule: total minus the two largest ({rest:,.2f}) is under "
            f"{rules.p_percent:g}% of the largest ({top[0]:,.2f})"
        )
    return ""


def _label(measure: str, rows: list[str], cols: list[str], cell: int, year: int) -> str:
    if cell < 0:
        return ""
    row, col = rows[cell // len(cols)], cols[cell % len(cols)]
    return f"{measure} {row} {year}" + ("" if col == TOTAL else f" {col}")


def audit_report(
    solved: Mapping[str, SolvedCells], rules: DisclosureRules, cells: pd.DataFrame
) -> pd.DataFrame:
    """Every withheld (or never-published but sensitive) cell with its reason and range."""
    ranges = attack_solved(solved, exact=True)
    keyed = ranges.set_index(["measure", "year", "row", "column"])
    rows = []
    for measure, s in solved.items():
        grid = s.grid
        n_cols = len(grid.cols)
        for year, status in s.status.items():
            i = s.year_index[year]
            for cell in np.flatnonzero(status != PUBLISHED):
                st = int(status[cell])
                if st == UNPUBLISHED:
                    continue
                row, col = grid.rows[cell // n_cols], grid.cols[cell % n_cols]
                why = int(s.protects[year][cell])
                protects = ""
                reason = _reason(
                    st,
                    int(grid.n[i][cell]),
                    float(grid.value[i][cell]),
                    float(grid.magnitude[i][cell]),
                    grid.top[i][cell],
                    rules,
                )
                if st == SECONDARY:
                    protects = _label(measure, grid.rows, grid.cols, why, year)
                    reason = f"secondary: protects {protects}" if protects else "secondary"
                if bool(grid.hidden[cell]):
                    reason += " (never published; derivable by subtraction)"
                key = (measure, year, row, col)
                lo = hi = np.nan
                ok: Any = pd.NA
                if key in keyed.index:
                    hit = keyed.loc[key]
                    lo, hi, ok = float(hit["lower"]), float(hit["upper"]), bool(hit["protected"])
                rows.append(
                    {
                        "measure": measure,
                        "year": year,
                        "row": row,
                        "column": col,
                        "status": STATUS_NAMES[st],
                        "reason": reason,
                        "protects": protects,
                        "n_firms": int(grid.n[i][cell]),
                        "value": float(grid.value[i][cell]),
                        "level": float(s.level[year][cell]),
                        "lower": lo,
                        "upper": hi,
                        "protected": ok,
                    }
                )
    columns = [
        "measure",
        "year",
        "row",
        "column",
        "status",
        "reason",
        "protects",
        "n_firms",
        "value",
        "level",
        "lower",
        "upper",
        "protected",
    ]
    out = pd.DataFrame(rows, columns=columns)
    return cast("pd.DataFrame", out.astype({"protected": "boolean"}))


def _known_from_table(
    table: pd.DataFrame, park_rows: list[str], years: list[int], baseline_year: int
) -> dict[str, NDArray[np.bool_]]:
    """Which sums (and ratios) the published table reveals, per quantity: ``(years, rows)``."""
    y_index = {y: k for k, y in enumerate(years)}
    r_index = {r: k for k, r in enumerate(park_rows)}
    shape = (len(years), len(park_rows))
    quantities = [*_DIRECT, *_RATIOS]
    known = {q: np.zeros(shape, dtype=bool) for q in quantities}
    change = {t: np.zeros(shape, dtype=bool) for t in _TRACKED}
    yk = np.array([y_index.get(int(y), -1) for y in table["year"]])
    rk = np.array([r_index.get(str(p), -1) for p in table["park_id"]])
    ok = (yk >= 0) & (rk >= 0)

    def present(column: str) -> NDArray[np.bool_]:
        if column not in table.columns:
            return np.zeros(len(table), dtype=bool)
        values = pd.to_numeric(table[column], errors="coerce")
        return values.notna().to_numpy() & ok

    for q, columns in {**_DIRECT, **{r: (r,) for r in _RATIOS}}.items():
        for column in columns:
            hit = present(column)
            known[q][yk[hit], rk[hit]] = True
    for t in _TRACKED:
        for suffix in ("_change", "_progress"):
            hit = present(t + suffix)
            change[t][yk[hit], rk[hit]] = True
    base = y_index.get(baseline_year)
    for _ in range(4 * len(quantities) + 4):
        before = sum(int(k.sum()) for k in known.values())
        for ratio, (num, den) in _RATIOS.items():
            r, a, b = known[ratio], known[num], known[den]
            known[num] |= r & b
            known[den] |= r & a
        if base is not None:
            for t, q in _TRACKED.items():
                linked = change[t]
                at_base = known[q][base][None, :]
                known[q] |= linked & at_base
                known[q][base] |= (linked & known[q]).any(axis=0)
        if sum(int(k.sum()) for k in known.values()) == before:
            break
    return known


def attack_published(
    table: pd.DataFrame,
    contributions: Contributions,
    parks: Any,
    *,
    rules: DisclosureRules,
    baseline_year: int,
    exact: bool = False,
) -> pd.DataFrame:
    """Attack a published density table: the range of each sensitive sum it does not print.

    A sensitive sum the table reveals (directly, through a ratio or a change) gets a range of
    width zero; one it withholds gets its LP range. ``protected`` is False for a disclosure.
    """
    park_ids = [str(p) for p in parks["park_id"]]
    years = sorted({int(y) for y in contributions.years})
    frames = []
    for measure in rules.measures:
        if measure not in contributions.measures:
            continue
        grid = grid_of(contributions, measure, park_ids=park_ids)
        printed = [*park_ids, "ALL_PARKS", "ALL"]
        known = _known_from_table(table, printed, years, baseline_year)[measure]
        row_of = {label: r for r, label in enumerate(grid.rows)}
        n_cols, total = len(grid.cols), grid.cols.index(TOTAL)
        for k, year in enumerate(years):
            i = int(np.searchsorted(grid.years, year))
            status, level = primary(grid.n[i], grid.value[i], grid.magnitude[i], grid.top[i], rules)
            sensitive = status != PUBLISHED
            if not sensitive.any():
                continue
            unknown = np.ones(grid.n_cells, dtype=bool)
            for j, label in enumerate(printed):
                if known[k, j]:
                    unknown[row_of[label] * n_cols + total] = False
            problem = _problem(grid.value[i], grid.equations, (len(grid.rows), len(grid.cols)))
            cells, lo, hi, ok, solved_exactly = _attack_cells(
                problem, unknown, sensitive, level, exact=exact
            )
            frames.append(
                pd.DataFrame(
                    {
                        "measure": measure,
                        "year": year,
                        "row": [grid.rows[c // n_cols] for c in cells],
                        "column": [grid.cols[c % n_cols] for c in cells],
                        "status": np.array(STATUS_NAMES, dtype=object)[status[cells]],
                        "value": grid.value[i][cells],
                        "level": level[cells],
                        "lower": lo,
                        "upper": hi,
                        "protected": ok,
                        "exact": solved_exactly,
                    }
                )
            )
    if not frames:
        return cast("pd.DataFrame", pd.DataFrame({c: [] for c in _COLUMNS}))
    return cast("pd.DataFrame", pd.concat(frames, ignore_index=True))
