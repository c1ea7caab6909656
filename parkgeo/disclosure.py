"""Statistical disclosure control for published park figures.

Tax, profit, value added, energy and employment are confidential firm by firm. A published
table must not let a reader work out, or narrow down too closely, one firm's figure: neither
from a cell itself (few firms, or one firm dominating) nor by subtraction from totals
(``ALL_PARKS`` minus the other parks, ``ALL`` minus ``ALL_PARKS``, change columns across
years). :func:`protect` applies the rules of :class:`DisclosureRules` to every cell (per park
or total, year and measure), adds the complementary suppressions that stop the subtractions,
and returns a :class:`ProtectedTable`: the one table every output should read instead of the
raw density table. :func:`attack` is the auditor's check: it solves, by linear programming,
the range in which each suppressed cell must lie given what is published.

See ``docs/disclosure.md`` for the rules, the method, and what is and is not protected.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError
from parkgeo._sdc_cells import TOTAL, Contributions, Grid, contributions_of, grid_of
from parkgeo._sdc_cli import add_disclosure_arguments, apply_disclosure
from parkgeo._sdc_lp import Problem, secondary
from parkgeo._sdc_rules import (
    PRIMARY_FREQUENCY,
    PUBLISHED,
    SECONDARY,
    STATUS_NAMES,
    UNPUBLISHED,
    DisclosureRules,
    primary,
    read_disclosure_rules,
)

__all__ = [
    "COLUMN_MEASURES",
    "Contributions",
    "DisclosureError",
    "DisclosureRules",
    "ProtectedTable",
    "add_disclosure_arguments",
    "apply_disclosure",
    "attack",
    "contributions_of",
    "disclosure_info",
    "protect",
    "read_disclosure_rules",
    "withheld_marker",
]

log = logging.getLogger("parkgeo")

COLUMN_MEASURES: dict[str, tuple[str, ...]] = {
    "tax": ("tax",),
    "tax_per_ha": ("tax",),
    "tax_per_mu": ("tax",),
    "energy_tce": ("energy_tce",),
    "energy_per_ha": ("energy_tce",),
    "energy_per_mu": ("energy_tce",),
    "value_added": ("value_added",),
    "energy_per_value_added": ("energy_tce", "value_added"),
    "profit": ("profit",),
    "employees": ("employees",),
    "labour_productivity": ("value_added", "employees"),
    "strategic_value_added_share": ("value_added", "value_added_strategic"),
}
"""Density table columns and the confidential sums each reveals (a ratio is suppressed when
its numerator or denominator is; a per-hectare figure times the public area is the sum)."""

INFO_KEY = "parkgeo_disclosure"
"""``DataFrame.attrs`` key of a protected table: its markers and footnotes (en, zh)."""

_NOTE = re.compile(r"([a-z_]+)=[a-z-]+ \(([^)]+)\)")

_TRACKED = ("profit", "tax_per_ha", "energy_per_value_added", "labour_productivity")
_SUFFIXES = ("_change", "_progress", "_status")


class DisclosureError(ParkgeoError):
    """A published table lets a confidential cell be recovered or narrowed too closely."""


@dataclass(frozen=True)
class SolvedCells:
    """One measure's grid and, per protected year, the cells' status and protection."""

    grid: Grid
    year_index: dict[int, int]
    status: dict[int, NDArray[np.int8]]
    level: dict[int, NDArray[np.float64]]
    protects: dict[int, NDArray[np.int64]]


@dataclass(frozen=True)
class ProtectedTable:
    """A density table after disclosure control, with the status of every figure.

    Attributes
    ----------
    table : pandas.DataFrame
        The density table with every suppressed figure set to NaN (float columns keep their
        dtype), its ``*_status`` set to ``"suppressed"``, ``suppressed`` True where any figure
        of the row is, and a ``disclosure`` column naming the suppressed measures and why.
        Safe to publish.
    status : pandas.DataFrame
        Same index as ``table``; for each protected column, ``"published"``,
        ``"primary-frequency"``, ``"primary-dominance"``, ``"primary-p-percent"`` or
        ``"secondary"``.
    rules : DisclosureRules
    baseline_year : int
        The year the change columns are measured from.
    cells : pandas.DataFrame
        Every cell of every protected measure and year, *with its confidential value*:
        ``measure, year, row, column, n_firms, value, status, level, protects``. For the audit
        only: never publish it.
    """

    table: pd.DataFrame
    status: pd.DataFrame
    rules: DisclosureRules
    baseline_year: int
    cells: pd.DataFrame = field(repr=False)
    _solved: dict[str, SolvedCells] = field(repr=False)

    def is_published(self, column: str) -> pd.Series:
        """Boolean Series: whether each row's figure in ``column`` may be shown."""
        if column not in self.status.columns:
            return cast("pd.Series", pd.Series(True, index=self.table.index))
        return self.status[column] == "published"

    def markers(self, column: str) -> pd.Series:
        """Each row's marker for ``column``: ``""`` when published, ``"<3"`` when too few
        firms, else ``rules.marker`` (``"x"``)."""
        out = pd.Series("", index=self.table.index, dtype=object)
        if column in self.status.columns:
            status = self.status[column]
            out[status != "published"] = self.rules.marker
            out[status == "primary-frequency"] = self.rules.frequency_marker
        return out

    def display(self, column: str, fmt: str = "{:,.2f}") -> pd.Series:
        """``column`` as text for a popup, legend or report: the formatted figure, its
        marker when suppressed, ``""`` when missing. Never the raw figure of a suppressed cell.
        """
        marks = self.markers(column)
        values = self.table[column] if column in self.table.columns else None
        out = marks.copy()
        if values is not None:
            shown = (marks == "") & values.notna()
            out[shown] = [fmt.format(v) for v in values[shown]]
        return cast("pd.Series", out)

    def text_frame(self) -> pd.DataFrame:
        """The table for text outputs (CSV, JSON, HTML): suppressed figures as markers."""
        out = self.table.copy()
        for column in self.status.columns:
            if column.endswith("_status"):  # keeps its word: "suppressed"
                continue
            marks = self.markers(column)
            hit = marks != ""
            if hit.any() and column in out.columns:
                cells = out[column].astype(object)
                cells[hit] = marks[hit]
                out[column] = cells
        return cast("pd.DataFrame", out)

    def footnote(self, lang: str = "en") -> str:
        """The footnote every output showing the table should carry."""
        return _footnote(self.rules, lang)

    def attack(self, *, exact: bool = False) -> pd.DataFrame:
        """The attack on every withheld sensitive cell (see :func:`attack`)."""
        return attack(self, exact=exact)

    def audit(self) -> pd.DataFrame:
        """The auditor's report: every withheld cell, why, and the range an attacker gets.

        Columns ``measure, year, row, column, status, reason, protects, n_firms, value,
        level, lower, upper, protected``. It holds the confidential values: never publish it.
        """
        from parkgeo._sdc_check import audit_report

        return audit_report(self._solved, self.rules, self.cells)

    @property
    def n_suppressed(self) -> int:
        """Cells withheld from publication (primary and secondary, hidden rows excluded)."""
        shown = self.cells[self.cells["shown"]]
        return int((shown["status"] != "published").sum())


def protect(
    table: pd.DataFrame,
    contributions: Contributions,
    parks: Any,
    *,
    rules: DisclosureRules | None = None,
    baseline_year: int | None = None,
    districts: bool = False,
) -> ProtectedTable:
    """Apply disclosure control to a density table.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`parkgeo.park_metrics` (or :func:`parkgeo.finish`) for the same firms.
        Figures it already blanked (``min_enterprises``) stay blank and are protected like
        cells failing the minimum frequency.
    contributions : Contributions
        From :func:`contributions_of` on the same joined firm rows (or merged over batches).
    parks : geopandas.GeoDataFrame
        The parks the firms were joined to.
    rules : DisclosureRules, optional
        Default :class:`DisclosureRules` (3 firms, (1, 85) and (2, 90) dominance, p = 10).
    baseline_year : int, optional
        Year of the change columns (default 2013, :class:`parkgeo.Targets`' default).
    districts : bool
        Also protect per-district subtotals (for outputs that publish them, read from
        ``cells``); needs a ``district`` column on ``parks``.

    Returns
    -------
    ProtectedTable

    Examples
    --------
    >>> from parkgeo import assign_parks, load_tianjin, park_metrics
    >>> sample = load_tianjin()
    >>> firms = assign_parks(sample.enterprises, sample.parks, nearest=False).assigned
    >>> table = park_metrics(firms, sample.parks, years=[2015])
    >>> contrib = contributions_of(firms, sample.parks, measures=DisclosureRules().measures)
    >>> protected = protect(table, contrib, sample.parks, rules=DisclosureRules(min_frequency=100))
    >>> protected.text_frame().set_index("park_id").loc["G123004", ["tax", "profit_change"]].tolist()
    ['<100', '<100']
    >>> protected.audit().loc[1, "reason"]
    'secondary: protects tax G123004 2013'
    >>> bool(protected.attack()["protected"].all())
    True
    """
    rules = rules if rules is not None else DisclosureRules()
    if baseline_year is None:
        from parkgeo.metrics import Targets

        baseline_year = Targets().baseline_year
    width = next(iter(contributions.top.values())).shape[-1] if contributions.top else 0
    if width < rules.top_n:
        raise ParkgeoError(
            f"the contributions keep the {width} largest firms per cell but the dominance rules "
            f"need {rules.top_n}; compute them with top_n={rules.top_n}"
        )
    missing = [m for m in rules.measures if m not in contributions.measures]
    if missing:
        raise ParkgeoError(f"the contributions lack measure(s) {missing}; compute them too")
    park_ids = [str(p) for p in parks["park_id"]]
    district_labels = None
    if districts:
        if "district" not in parks.columns:
            raise ParkgeoError("districts=True needs a 'district' column on the parks")
        district_labels = [None if pd.isna(d) else str(d) for d in parks["district"]]
    reported = {int(y) for y in table["year"].unique()}
    years = sorted((reported | {baseline_year}) & {int(y) for y in contributions.years})
    blanked = _blanked_cells(table, contributions)
    solved: dict[str, SolvedCells] = {}
    records: list[pd.DataFrame] = []
    for measure in rules.measures:
        grid = grid_of(contributions, measure, park_ids=park_ids, districts=district_labels)
        result = _solve_measure(grid, measure, years, rules, blanked)
        solved[measure] = result
        records += _cell_records(measure, result)
    cells = pd.concat(records, ignore_index=True)
    status = _column_status(table, solved, baseline_year)
    protected_table = _blank(table, status, rules)
    protected_table.attrs[INFO_KEY] = {
        "marker": rules.marker,
        "frequency_marker": rules.frequency_marker,
        "footnote_en": _footnote(rules, "en"),
        "footnote_zh": _footnote(rules, "zh"),
    }
    out = ProtectedTable(
        table=protected_table,
        status=status,
        rules=rules,
        baseline_year=baseline_year,
        cells=cells,
        _solved=solved,
    )
    shown = cells[cells["shown"]]
    counts = shown["status"].value_counts()
    log.info(
        "disclosure control: %d of %d cells withheld (%s)",
        int((shown["status"] != "published").sum()),
        len(shown),
        ", ".join(f"{k} {v}" for k, v in counts.items() if k != "published") or "none",
    )
    return out


def _blanked_cells(table: pd.DataFrame, contributions: Contributions) -> set[tuple[str, int, str]]:
    """(measure, year, park_id) cells the table already blanked though they have firms."""
    out: set[tuple[str, int, str]] = set()
    if "suppressed" not in table.columns or not table["suppressed"].any():
        return out
    rows = table[table["suppressed"].astype(bool)]
    for measure in ("tax", "profit", "value_added"):
        if measure in rows.columns:
            for pid, year in zip(rows["park_id"], rows["year"], strict=True):
                out.add((measure, int(year), str(pid)))
    return out


def _solve_measure(
    grid: Grid,
    measure: str,
    years: list[int],
    rules: DisclosureRules,
    blanked: set[tuple[str, int, str]],
) -> SolvedCells:
    year_index = {int(y): i for i, y in enumerate(grid.years)}
    status: dict[int, NDArray[np.int8]] = {}
    level: dict[int, NDArray[np.float64]] = {}
    protects: dict[int, NDArray[np.int64]] = {}
    n_cols = len(grid.cols)
    total_col = grid.cols.index(TOTAL)
    for year in years:
        i = year_index[year]
        value = grid.value[i]
        st, lv = primary(grid.n[i], value, grid.magnitude[i], grid.top[i], rules)
        for r, label in enumerate(grid.rows):
            cell = r * n_cols + total_col
            if (measure, year, label) in blanked and st[cell] == PUBLISHED and grid.n[i][cell]:
                st[cell] = PRIMARY_FREQUENCY
                lv[cell] = abs(value[cell]) * rules.protection_pct / 100.0
        sensitive = st != PUBLISHED
        problem = _problem(grid, i)
        unknown, why = secondary(
            problem, unknown=sensitive | grid.hidden, sensitive=sensitive, level=lv
        )
        final = st.copy()
        final[unknown & ~sensitive] = SECONDARY
        final[grid.hidden & ~sensitive] = UNPUBLISHED
        status[year], level[year], protects[year] = final, lv, why
    return SolvedCells(
        grid=grid, year_index=year_index, status=status, level=level, protects=protects
    )


def _problem(grid: Grid, year_position: int) -> Problem:
    """The attacker's view of one year: a-priori bounds are the sign of each cell (a tax is
    never negative; for profit the sign is assumed known, the cautious assumption)."""
    value = grid.value[year_position]
    lower = np.where(value >= 0, 0.0, -np.inf)
    upper = np.where(value >= 0, np.inf, 0.0)
    shape = (len(grid.rows), len(grid.cols))
    return Problem(value=value, lower=lower, upper=upper, equations=grid.equations, shape=shape)


def _cell_records(measure: str, solved: SolvedCells) -> list[pd.DataFrame]:
    grid = solved.grid
    n_cols = len(grid.cols)
    labels = np.array([f"{r}|{c}" for r in grid.rows for c in grid.cols], dtype=object)
    out = []
    for year, st in solved.status.items():
        i = solved.year_index[year]
        why = solved.protects[year]
        out.append(
            pd.DataFrame(
                {
                    "measure": measure,
                    "year": year,
                    "row": np.repeat(grid.rows, n_cols),
                    "column": np.tile(grid.cols, len(grid.rows)),
                    "n_firms": grid.n[i],
                    "value": grid.value[i],
                    "status": np.array(STATUS_NAMES, dtype=object)[st],
                    "level": solved.level[year],
                    "protects": np.where(why >= 0, labels[np.maximum(why, 0)], ""),
                    "shown": ~grid.hidden,
                }
            )
        )
    return out


def _column_status(
    table: pd.DataFrame, solved: dict[str, SolvedCells], baseline_year: int
) -> pd.DataFrame:
    """Status of every protected column of every table row (worst of the sums it reveals)."""
    names = np.array(STATUS_NAMES, dtype=object)
    ids = table["park_id"].astype(str).to_numpy()
    years = table["year"].to_numpy(dtype=np.int64)

    def measure_status(measure: str, at_years: NDArray[np.int64]) -> NDArray[np.int8]:
        if measure not in solved:
            return np.zeros(len(table), dtype=np.int8)
        s = solved[measure]
        rows = {label: r for r, label in enumerate(s.grid.rows)}
        n_cols, total = len(s.grid.cols), s.grid.cols.index(TOTAL)
        out = np.zeros(len(table), dtype=np.int8)
        for k, (pid, year) in enumerate(zip(ids, at_years, strict=True)):
            if int(year) in s.status and pid in rows:
                out[k] = s.status[int(year)][rows[pid] * n_cols + total]
        return out

    per_measure = {m: measure_status(m, years) for m in solved}
    at_base = {m: measure_status(m, np.full(len(table), baseline_year)) for m in solved}
    status: dict[str, NDArray[np.object_]] = {}
    for column, measures in COLUMN_MEASURES.items():
        if column not in table.columns:
            continue
        code = np.zeros(len(table), dtype=np.int8)
        for m in measures:
            if m in per_measure:
                code = np.where(code == PUBLISHED, per_measure[m], code)
        status[column] = names[code]
        if column in _TRACKED:
            change = code.copy()
            for m in measures:
                if m in at_base:
                    change = np.where(change == PUBLISHED, at_base[m], change)
            for suffix in _SUFFIXES:
                if column + suffix in table.columns:
                    status[column + suffix] = names[change]
    return cast("pd.DataFrame", pd.DataFrame(status, index=table.index))


def _footnote(rules: DisclosureRules, lang: str) -> str:
    k = rules.min_frequency
    if lang == "zh":
        return (
            f"{rules.marker}：为保护企业数据保密而不予公布（单家或少数企业占比过高，或可由其他"
            f"数字推算）；<{k}：少于{k}家企业。"
        )
    return (
        f"{rules.marker}: withheld to protect confidential enterprise data (dominated by "
        f"one or two firms, or derivable from other published figures); <{k}: fewer than "
        f"{k} enterprises. Rules: {rules.describe()}."
    )


def _blank(table: pd.DataFrame, status: pd.DataFrame, rules: DisclosureRules) -> pd.DataFrame:
    out = table.copy()
    hidden_rows = np.zeros(len(out), dtype=bool)
    notes: list[list[str]] = [[] for _ in range(len(out))]
    for column in status.columns:
        hit = (status[column] != "published").to_numpy()
        if not hit.any():
            continue
        hidden_rows |= hit
        if column.endswith("_status"):
            values = np.array(out[column].astype(object).to_numpy(), dtype=object)
            values[hit] = "suppressed"
            out[column] = pd.array(values.astype(str), dtype="str")
        else:
            out.loc[hit, column] = np.nan
        if column in COLUMN_MEASURES:
            # every withheld figure with its reason and marker, so that an output reading
            # one row knows what to print (withheld_marker)
            for k in np.flatnonzero(hit):
                why = str(status[column].iat[int(k)])
                mark = rules.frequency_marker if why == "primary-frequency" else rules.marker
                notes[int(k)].append(f"{column}={why} ({mark})")
    if "suppressed" in out.columns:
        out["suppressed"] = out["suppressed"].astype(bool).to_numpy() | hidden_rows
    else:
        out["suppressed"] = hidden_rows
    out["disclosure"] = pd.array(["; ".join(n) for n in notes], dtype="str")
    return cast("pd.DataFrame", out)


def attack(protected: ProtectedTable, *, exact: bool = False) -> pd.DataFrame:
    """The auditor's attack on a protected table: the feasible range of every withheld
    sensitive cell, given every published cell and the additive structure.

    Parameters
    ----------
    protected : ProtectedTable
    exact : bool
        Solve the exact range of every cell by LP (two per cell). By default a range that a
        suppressed group of sibling cells or a rectangle already proves wide enough is
        reported as that proven range (``exact`` False: the true range is at least as wide),
        and only the other cells are solved by LP.

    Returns
    -------
    pandas.DataFrame
        One row per sensitive cell not published: ``measure, year, row, column, status,
        value, level, lower, upper, protected, exact`` (``protected``: the range reaches
        ``level`` below and above the value).
    """
    from parkgeo._sdc_check import attack_solved

    return attack_solved(protected._solved, exact=exact)


def disclosure_info(table: pd.DataFrame) -> dict[str, str] | None:
    """The markers and footnotes of a protected table (:attr:`ProtectedTable.table`), or
    None when ``table`` was not protected.

    Outputs read it once from the table they are given (``marker``, ``frequency_marker``,
    ``footnote_en``, ``footnote_zh``) and print the footnote whenever it is not None, also
    when nothing had to be withheld. A protected table that lost its ``attrs`` (written and
    read back) still has its ``disclosure`` column: the default rules' footnotes are used.
    """
    info = table.attrs.get(INFO_KEY)
    if isinstance(info, Mapping):
        return {str(k): str(v) for k, v in info.items()}
    if "disclosure" not in table.columns:
        return None
    rules = DisclosureRules()
    for text in table["disclosure"].dropna().astype(str):
        for _, mark in _NOTE.findall(text):
            if mark.startswith("<") and mark[1:].isdigit():
                rules = DisclosureRules(min_frequency=int(mark[1:]))
                break
    return {
        "marker": rules.marker,
        "frequency_marker": rules.frequency_marker,
        "footnote_en": _footnote(rules, "en"),
        "footnote_zh": _footnote(rules, "zh"),
    }


def withheld_marker(row: Mapping[str, Any] | pd.Series | None, column: str) -> str:
    """The marker (``x``, ``<3``) to print instead of ``row[column]``, or ``""`` when the
    figure is published (or ``row`` is not from a protected table).

    ``row`` is one row of :attr:`ProtectedTable.table`: its ``disclosure`` text names every
    withheld figure with its marker; a change, progress or status column is withheld when
    the row's ``<measure>_status`` is ``suppressed`` (the baseline's figure may be the
    withheld one).

    Examples
    --------
    >>> row = {"tax": float("nan"), "disclosure": "tax=primary-frequency (<3)"}
    >>> withheld_marker(row, "tax"), withheld_marker(row, "employees")
    ('<3', '')
    """
    if row is None or "disclosure" not in row:
        return ""
    text = row["disclosure"]
    notes = dict(_NOTE.findall(text)) if isinstance(text, str) else {}
    base = column
    for suffix in _SUFFIXES:
        if column.endswith(suffix) and column[: -len(suffix)] in _TRACKED:
            base = column[: -len(suffix)]
            break
    if base != column:
        if str(row.get(f"{base}_status", "")) != "suppressed":
            return ""
        return str(notes.get(base, DisclosureRules().marker))
    return str(notes.get(column, ""))
