"""The report's first sections: headline, league table of parks, trends.

Every section is a function of one :class:`Ctx` returning escaped HTML. The numbers come
from the density table the caller passes (a protected one works the same way), through
:mod:`parkgeo._headline` for the plan's three figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._headline import ALL, ALL_PARKS, HeadlineFigure, Plan
from parkgeo._legend import (
    STATUS_COLORS,
    esc,
    fmt_change,
    fmt_number,
    fmt_progress,
    label,
    normalize_status,
    status_label,
)
from parkgeo._svgchart import Series, bar_progress_chart, line_chart
from parkgeo.disclosure import withheld_marker

__all__ = ["Ctx", "footnote", "headline_section", "league_section", "trends_section"]

MONEY = (
    "tax",
    "tax_per_ha",
    "tax_per_mu",
    "value_added",
    "energy_per_value_added",
    "profit",
    "labour_productivity",
)


@dataclass
class Ctx:
    """Everything a section needs, prepared once by :func:`parkgeo.report.plan_report`."""

    lang: str
    year: int
    years: list[int]
    plan: Plan
    metrics: pd.DataFrame
    parks: Any  # EPSG:4326 GeoDataFrame with _id and _label, in the parks' order
    assigned: pd.DataFrame | None = None
    rejects: pd.DataFrame | None = None
    join_summary: pd.DataFrame | None = None
    sources: dict[str, Any] = field(default_factory=dict)
    gaps: pd.DataFrame | None = None
    clusters: Any = None
    districts: Any = None
    min_enterprises: int | None = None
    disclosure: dict[str, str] | None = None
    nearby_m: float = 1000.0
    headline: list[HeadlineFigure] = field(default_factory=list)
    _by_park: dict[str, pd.DataFrame] = field(default_factory=dict)
    _by_key: dict[tuple[str, int], pd.Series] = field(default_factory=dict)

    def t(self, key: str, **fields: Any) -> str:
        return label(key, self.lang, **fields)

    def _index(self) -> None:
        if self._by_park:
            return
        m = self.metrics.sort_values("year", kind="mergesort")
        for pid, group in m.groupby(m["park_id"].astype(str), sort=False):
            self._by_park[str(pid)] = group
            for (_, r), y in zip(group.iterrows(), pd.to_numeric(group["year"]), strict=True):
                self._by_key[(str(pid), int(y))] = r

    def rows_of(self, park_id: str) -> pd.DataFrame:
        """One park's (or ALL / ALL_PARKS) rows, by year."""
        self._index()
        found = self._by_park.get(park_id)
        return found if found is not None else self.metrics.iloc[:0]

    def row(self, park_id: str, year: int) -> pd.Series | None:
        self._index()
        return self._by_key.get((park_id, int(year)))

    def measure_name(self, measure: str) -> str:
        return label(measure, self.lang)

    def unit(self, measure: str) -> str:
        return label(f"{measure}_unit", self.lang)

    def population(self, population: str) -> str:
        return self.t("pop_all" if population == ALL else "pop_all_parks")


def footnote(ctx: Ctx) -> str:
    """The disclosure-control footnote (markers and rules) under a table, when protected."""
    if ctx.disclosure is None:
        return ""
    text = ctx.disclosure["footnote_zh" if ctx.lang == "zh" else "footnote_en"]
    return f'<p class="pg-note pg-footnote">{esc(text)}</p>'


def value_of(row: pd.Series | None, col: str) -> float:
    if row is None or col not in row.index:
        return float("nan")
    try:
        return float(row[col])
    except (TypeError, ValueError):
        return float("nan")


def is_suppressed(row: pd.Series | None, measure: str) -> bool:
    """Whether ``measure`` is withheld in this row: by disclosure control (a protected
    table names each withheld figure) or by ``min_enterprises`` (every money figure)."""
    if row is not None and "disclosure" in row.index:
        return bool(withheld_marker(row, measure))
    if row is None or "suppressed" not in row.index or measure not in MONEY:
        return False
    v = row["suppressed"]
    return bool(v) if v is not None and v is not pd.NA else False


def cell(ctx: Ctx, row: pd.Series | None, measure: str, *, kind: str = "value") -> str:
    """A table cell with ``data-v`` for sorting: the value, its change, or its status."""
    if kind == "status" and withheld_marker(row, f"{measure}_status"):
        mark = withheld_marker(row, f"{measure}_status")
        return f'<td class="t pg-withheld" data-v="99">{esc(mark)}</td>'
    if kind == "status":
        status = "no_data" if row is None else normalize_status(row.get(f"{measure}_status"))
        if row is not None and str(row.get("park_id")) == ALL and measure.endswith("_per_ha"):
            status = "not_applicable"
        order = list(STATUS_COLORS).index(status) if status in STATUS_COLORS else 99
        return (
            f'<td class="t st-{status}" data-v="{order}">'
            f"{esc(ctx.t(status) if status == 'not_applicable' else status_label(status, ctx.lang))}</td>"
        )
    col = measure if kind == "value" else f"{measure}_change"
    mark = withheld_marker(row, col)
    if mark:
        return f'<td class="pg-withheld" data-v="">{esc(mark)}</td>'
    if is_suppressed(row, measure):
        return f'<td data-v="">{esc(ctx.t("suppressed_status"))}</td>'
    v = value_of(row, col)
    text = fmt_number(v) if kind == "value" else fmt_change(v)
    return f'<td data-v="{"" if not math.isfinite(v) else repr(round(v, 9))}">{esc(text)}</td>'


# ------------------------------------------------------------------------------------------
# headline
# ------------------------------------------------------------------------------------------


def _sentence(ctx: Ctx, f: HeadlineFigure) -> str:
    if f.change_marker:
        return ctx.t(
            "headline_withheld",
            measure=ctx.measure_name(f.measure),
            population=ctx.population(f.population),
            marker=f.change_marker,
        )
    status = status_label(f.status, ctx.lang)
    status = status.lower() if ctx.lang == "en" else status
    if not math.isfinite(f.change) or f.target is None:
        return ctx.t(
            "headline_no_change",
            measure=ctx.measure_name(f.measure),
            population=ctx.population(f.population),
            baseline=f.baseline_year,
            status=status,
        )
    return ctx.t(
        "headline_sentence",
        measure=ctx.measure_name(f.measure),
        population=ctx.population(f.population),
        change=fmt_change(f.change),
        baseline=f.baseline_year,
        year=f.year,
        target=fmt_change(f.target),
        target_year=f.target_year,
        progress=fmt_progress(f.progress),
        expected=fmt_progress(f.expected),
        status=status,
    )


def headline_section(ctx: Ctx) -> str:
    figs = ctx.headline
    base = ctx.plan.baseline_year
    head = (
        f"<tr><th class='t'>{esc(ctx.t('measure'))}</th>"
        f"<th class='t'>{esc(ctx.t('population'))}</th>"
        f"<th>{esc(ctx.t('baseline_value', baseline=base))}</th>"
        f"<th>{esc(ctx.t('latest_value', year=ctx.year))}</th>"
        f"<th>{esc(ctx.t('change_short'))}</th>"
        f"<th>{esc(ctx.t('target', target_year=ctx.plan.target_year))}</th>"
        f"<th>{esc(ctx.t('progress_short'))}</th>"
        f"<th class='t'>{esc(ctx.t('status'))}</th>"
        f"<th class='t'>{esc(ctx.t('behind_it'))}</th></tr>"
    )
    body = []
    for f in figs:
        behind = ctx.t(
            "firms_parks_out" if f.population == ALL else "firms_parks",
            firms=f"{f.n_enterprises:,}",
            parks=f.n_parks,
        )
        body.append(
            f'<tr data-measure="{esc(f.measure)}" data-population="{esc(f.population)}">'
            f"<td class='t'>{esc(ctx.measure_name(f.measure))} "
            f"<span class='pop'>({esc(ctx.unit(f.measure))})</span></td>"
            f"<td class='t pop'>{esc(ctx.population(f.population))} ({esc(f.population)})</td>"
            f"<td>{esc(f.baseline_marker or fmt_number(f.baseline_value))}</td>"
            f"<td class='pg-value'>{esc(f.marker or fmt_number(f.value))}</td>"
            f"<td class='pg-change'>{esc(f.change_marker or fmt_change(f.change))}</td>"
            f"<td>{esc(fmt_change(f.target) if f.target is not None else ctx.t('no_target'))}</td>"
            f"<td>{esc(f.change_marker or fmt_progress(f.progress))}</td>"
            f"<td class='t st-{f.status}'>"
            f"{esc(f.change_marker or status_label(f.status, ctx.lang))}</td>"
            f"<td class='t pop'>{esc(behind)}</td></tr>"
        )
    sentences = "".join(f"<li>{esc(_sentence(ctx, f))}</li>" for f in figs)
    chart = bar_progress_chart(
        [
            (
                f"{ctx.measure_name(f.measure)} ({ctx.population(f.population)})",
                f.progress,
                f.expected,
                STATUS_COLORS.get(f.status, "#999999"),
            )
            for f in figs
        ],
        reached=ctx.t("reached"),
        expected=ctx.t("expected"),
    )
    return (
        f'<section class="pg-section" id="headline"><h2>{esc(ctx.t("sec_headline"))}</h2>'
        f'<table class="pg-headline"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
        f'<ul class="pg-sentences">{sentences}</ul>'
        f'<div class="pg-keep">{chart}<div class="pg-note">'
        f"{esc(ctx.t('chart_progress', year=ctx.year))}</div></div>{footnote(ctx)}</section>"
    )


# ------------------------------------------------------------------------------------------
# league table
# ------------------------------------------------------------------------------------------

LEAGUE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("n_enterprises", "value"),
    ("tax_per_ha", "value"),
    ("tax_per_ha", "change"),
    ("tax_per_ha", "status"),
    ("energy_per_ha", "value"),
    ("energy_per_value_added", "value"),
    ("energy_per_value_added", "change"),
    ("energy_per_value_added", "status"),
    ("profit", "value"),
    ("profit", "change"),
    ("labour_productivity", "value"),
)


def _league_head(ctx: Ctx) -> str:
    """Two header rows: measure groups, then value / change / status (sortable)."""
    top = [
        f'<th rowspan="2" data-col="0" data-type="num">{esc(ctx.t("rank"))}</th>',
        f'<th rowspan="2" class="t" data-col="1" data-type="text">{esc(ctx.t("name"))}</th>',
        f'<th rowspan="2" class="t" data-col="2" data-type="text">{esc(ctx.t("district"))}</th>',
    ]
    sub = []
    groups: list[tuple[str, int]] = []
    for measure, _ in LEAGUE_COLUMNS:
        if groups and groups[-1][0] == measure:
            groups[-1] = (measure, groups[-1][1] + 1)
        else:
            groups.append((measure, 1))
    col = 3
    for measure, span in groups:
        if measure == "n_enterprises":
            top.append(
                f'<th rowspan="2" data-col="{col}" data-type="num">'
                f"{esc(ctx.t('n_enterprises'))}</th>"
            )
            col += 1
            continue
        top.append(f'<th colspan="{span}" class="pg-group">{esc(ctx.measure_name(measure))}</th>')
        for m, kind in LEAGUE_COLUMNS:
            if m != measure:
                continue
            if kind == "value":
                text = ctx.unit(measure)
            elif kind == "change":
                text = ctx.t("change", baseline=ctx.plan.baseline_year)
            else:
                text = ctx.t("status")
            cls = ' class="t"' if kind == "status" else ""
            sub.append(f'<th{cls} data-col="{col}" data-type="num">{esc(text)}</th>')
            col += 1
    return "<tr>" + "".join(top) + "</tr><tr>" + "".join(sub) + "</tr>"


def _league_row(ctx: Ctx, row: pd.Series | None, *, rank: str, name: str, district: str) -> str:
    cells = [
        f'<td data-v="{esc(rank)}">{esc(rank)}</td>',
        f'<td class="t">{esc(name)}</td>',
        f'<td class="t">{esc(district)}</td>',
    ]
    for measure, kind in LEAGUE_COLUMNS:
        if measure == "n_enterprises":
            v = value_of(row, measure)
            cells.append(
                f'<td data-v="{int(v) if math.isfinite(v) else ""}">'
                f"{f'{int(v):,}' if math.isfinite(v) else '–'}</td>"
            )
        else:
            cells.append(cell(ctx, row, measure, kind=kind))
    return "".join(cells)


def league_section(ctx: Ctx) -> str:
    year = ctx.year
    m = ctx.metrics
    in_year = m[pd.to_numeric(m["year"], errors="coerce").to_numpy() == year]
    by_id = {str(r["park_id"]): r for _, r in in_year.iterrows()}
    tax = np.array(
        [value_of(by_id.get(pid), "tax_per_ha") for pid in ctx.parks["_id"]], dtype=float
    )
    order = np.argsort(np.where(np.isfinite(tax), -tax, np.inf), kind="stable")
    ranks = {int(i): str(r + 1) for r, i in enumerate(order) if np.isfinite(tax[i])}
    rows = []
    for i in order:
        park = ctx.parks.iloc[int(i)]
        district = park.get("district") if "district" in park.index else ""
        rows.append(
            f'<tr data-park="{esc(park["_id"])}">'
            + _league_row(
                ctx,
                by_id.get(str(park["_id"])),
                rank=ranks.get(int(i), ""),
                name=str(park["_label"]),
                district="" if district is None or pd.isna(district) else str(district),
            )
            + "</tr>"
        )
    foot = []
    for pid, key in ((ALL_PARKS, "city_all_parks"), (ALL, "city_all")):
        row = by_id.get(pid)
        if row is not None:
            foot.append(
                '<tr class="pg-city">'
                + _league_row(ctx, row, rank="", name=ctx.t(key), district="")
                + "</tr>"
            )
    return (
        f'<section class="pg-section pg-wide" id="league"><h2>{esc(ctx.t("sec_league"))} '
        f"({esc(year)})</h2>"
        f'<p class="pg-note">{esc(ctx.t("league_note", baseline=ctx.plan.baseline_year, year=year))}</p>'
        f'<table class="pg-sortable pg-league"><thead>{_league_head(ctx)}</thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot>{''.join(foot)}</tfoot></table>"
        f"{footnote(ctx)}</section>"
    )


# ------------------------------------------------------------------------------------------
# trends
# ------------------------------------------------------------------------------------------

CITY_TRENDS: tuple[tuple[str, str], ...] = (
    ("profit", ALL),
    ("tax_per_ha", ALL_PARKS),
    ("energy_per_value_added", ALL),
    ("energy_per_ha", ALL_PARKS),
    ("labour_productivity", ALL),
)


def plan_path(ctx: Ctx, rows: pd.DataFrame, measure: str) -> list[float]:
    """The plan's path for ``measure`` from the group's baseline value, by year."""
    target = ctx.plan.targets.get(measure)
    years = pd.to_numeric(rows["year"], errors="coerce").to_numpy()
    at_base = rows[years == ctx.plan.baseline_year]
    base = value_of(at_base.iloc[0], measure) if len(at_base) else float("nan")
    if target is None or not math.isfinite(base):
        return [float("nan")] * len(ctx.years)
    return [
        base * (1 + target * ctx.plan.expected(y)) if y >= ctx.plan.baseline_year else float("nan")
        for y in ctx.years
    ]


def series_of(ctx: Ctx, rows: pd.DataFrame, measure: str) -> list[float]:
    by_year = {
        int(y): (float("nan") if is_suppressed(r, measure) else value_of(r, measure))
        for y, (_, r) in zip(pd.to_numeric(rows["year"]), rows.iterrows(), strict=True)
    }
    return [by_year.get(y, float("nan")) for y in ctx.years]


def trend_chart(ctx: Ctx, park_id: str, measure: str, *, title: str = "", **kw: Any) -> str:
    rows = ctx.rows_of(park_id)
    series = [Series(ctx.t("actual"), series_of(ctx, rows, measure))]
    path = plan_path(ctx, rows, measure)
    if any(math.isfinite(v) for v in path):
        series.append(Series(ctx.t("target_path"), path, color="#8c8c8c", dashed=True))
    return line_chart(ctx.years, series, unit=ctx.unit(measure), title=title, **kw)


def trends_section(ctx: Ctx) -> str:
    charts = []
    for measure, population in CITY_TRENDS:
        title = ctx.t(
            "trend_city", measure=ctx.measure_name(measure), population=ctx.population(population)
        )
        charts.append(
            f'<div class="pg-keep">{trend_chart(ctx, population, measure, title=title)}</div>'
        )
    small = []
    for measure in ("tax_per_ha", "energy_per_value_added"):
        cells = []
        for _, park in ctx.parks.iterrows():
            rows = ctx.rows_of(str(park["_id"]))
            values = series_of(ctx, rows, measure)
            path = plan_path(ctx, rows, measure)
            base = (
                values[ctx.years.index(ctx.plan.baseline_year)]
                if ctx.plan.baseline_year in ctx.years
                else float("nan")
            )
            scale = 100.0 / base if math.isfinite(base) and base > 0 else float("nan")
            chart = line_chart(
                ctx.years,
                [
                    Series(ctx.t("actual"), [v * scale for v in values]),
                    Series(ctx.t("target_path"), [v * scale for v in path], "#8c8c8c", True),
                ],
                width=200,
                height=112,
                legend=False,
            )
            cells.append(
                f'<div class="pg-keep">{chart}<div class="pg-small">{esc(park["_label"])}</div></div>'
            )
        small.append(
            f"<h3>{esc(ctx.t('trend_parks', measure=ctx.measure_name(measure), baseline=ctx.plan.baseline_year))}</h3>"
            f'<div class="pg-grid">{"".join(cells)}</div>'
        )
    return (
        f'<section class="pg-section" id="trends"><h2>{esc(ctx.t("sec_trends"))}</h2>'
        f'<div class="pg-grid">{"".join(charts)}</div>{"".join(small)}{footnote(ctx)}</section>'
    )
