"""Map text: measure labels, park popups (figures, change, status, trend chart, top
industries, missing industries in plain words) and the sub-title of headline figures.

Every string from input data is escaped with :func:`parkgeo._legend.esc`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import SchemaError
from parkgeo._legend import (
    esc,
    fmt_change,
    fmt_number,
    fmt_progress,
    label,
    normalize_status,
    status_label,
)
from parkgeo._mapdata import (
    POPUP_MEASURES,
    cell_value,
    is_suppressed,
    withheld,
)

log = logging.getLogger("parkgeo")


def industry_labels(codes: Sequence[str], lang: str) -> dict[str, str]:
    """``code -> "code name"`` for each distinct normalised code (unknown codes: the code)."""
    from parkgeo._plain import industry_labels as labels

    return labels(codes, lang)


def measure_label(measure: str, lang: str) -> tuple[str, str]:
    text = label(measure, lang) if measure in labels_of(lang) else measure
    unit_key = f"{measure}_unit"
    unit = label(unit_key, lang) if unit_key in labels_of(lang) else ""
    return text, unit


def labels_of(lang: str) -> Mapping[str, str]:
    from parkgeo._legend import LABELS

    return LABELS[lang]


def fmt_cell(row: Mapping[str, Any] | pd.Series | None, measure: str, lang: str) -> str:
    mark = withheld(row, measure)
    if mark:
        return esc(mark)
    if is_suppressed(row, measure):
        return esc(label("suppressed", lang))
    return esc(fmt_number(cell_value(row, measure)))


TOP_ITEM = re.compile(r"^\s*([A-Z]\d{0,4})\s*\((\d+)\)\s*$")


def change_text(row: Mapping[str, Any] | pd.Series | None, measure: str) -> str:
    """A change as text: its disclosure marker when withheld (never the figure)."""
    return withheld(row, f"{measure}_change") or fmt_change(cell_value(row, f"{measure}_change"))


def progress_text(row: Mapping[str, Any] | pd.Series | None, measure: str, lang: str) -> str:
    """Progress and status as text: the disclosure marker alone when withheld."""
    mark = withheld(row, f"{measure}_status")
    if mark:
        return mark
    status = normalize_status(cell_value(row, f"{measure}_status"))
    return f"{fmt_progress(cell_value(row, f'{measure}_progress'))} {status_label(status, lang)}"


def top_industries_text(value: Any, lang: str) -> str:
    """``"C27 (12); C39 (8)"`` (metrics' top_industries) with industry names added."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        items = [str(v) for v in value]
    else:
        items = str(value).split(";")
    parsed = [TOP_ITEM.match(item) for item in items]
    if not items or not all(parsed):
        return (
            str(value)
            if not isinstance(value, (list, tuple, np.ndarray, pd.Series))
            else "; ".join(items)
        )
    names = industry_labels([m.group(1) for m in parsed if m], lang)
    firms = label("firms", lang)
    return "; ".join(
        f"{names.get(m.group(1), m.group(1))} ({int(m.group(2)):,} {firms})" for m in parsed if m
    )


def park_popup(
    park: pd.Series,
    row: Mapping[str, Any] | pd.Series | None,
    *,
    lang: str,
    year: int,
    baseline: str | None,
    gaps: pd.DataFrame | None,
    gap_context: Mapping[str, Any] | None = None,
) -> str:
    """HTML of one park's popup; every input string is escaped. ``gap_context`` holds
    ``cluster_points`` and ``place_of`` for the plain reasons (:func:`parkgeo._plain.plain_reason`)."""
    from parkgeo._plain import level_text

    head = f"<h3>{esc(park['_label'])}</h3>"
    sub_parts = [esc(park["_id"])]
    for col in ("district", "level"):
        if col in park.index and esc(park[col]):
            sub_parts.append(esc(level_text(park[col], lang) if col == "level" else park[col]))
    area = cell_value(row, "area_ha")
    if area is None and "approved_area_ha" in park.index:
        area = park["approved_area_ha"]
    if area is not None and not (isinstance(area, float) and np.isnan(area)):
        sub_parts.append(f"{esc(fmt_number(area))} {esc(label('ha', lang))}")
    n_ent = cell_value(row, "n_enterprises")
    if n_ent is not None and not (isinstance(n_ent, float) and np.isnan(n_ent)):
        sub_parts.append(f"{esc(label('n_enterprises', lang))} {int(n_ent):,}")
    sub = f'<div class="pg-sub">{" · ".join(sub_parts)}</div>'

    change_head = (
        label("change", lang, baseline=baseline) if baseline else label("change_short", lang)
    )
    table = [
        "<table><tr>"
        f"<th></th><th>{esc(year)}</th><th>{esc(change_head)}</th>"
        f"<th>{esc(label('progress_short', lang))}</th></tr>"
    ]
    for measure in POPUP_MEASURES:
        if row is None or measure not in row:
            continue
        name, unit = measure_label(measure, lang)
        status_col = f"{measure}_status"
        progress_html = ""
        if f"{measure}_progress" in row or status_col in row:
            status = normalize_status(cell_value(row, status_col))
            progress = fmt_progress(cell_value(row, f"{measure}_progress"))
            progress_html = f'{esc(progress)} <span class="pg-st-{status}">{esc(status_label(status, lang))}</span>'
            if withheld(row, status_col):
                progress_html = esc(withheld(row, status_col))
        table.append(
            f"<tr><td>{esc(name)} <small>({esc(unit)})</small></td>"
            f"<td>{fmt_cell(row, measure, lang)}</td>"
            f"<td>{esc(change_text(row, measure))}</td>"
            f"<td>{progress_html}</td></tr>"
        )
    table.append("</table>")
    body = "".join(table) if len(table) > 2 else f"<div>{esc(label('no_data', lang))}</div>"

    top = top_industries_text(cell_value(row, "top_industries"), lang)
    top_html = f"<div><b>{esc(label('top_industries', lang))}</b>: {esc(top)}</div>" if top else ""
    missing = gaps_html(park, gaps, lang, gap_context) if gaps is not None else ""
    return head + sub + body + top_html + missing


def gaps_html(
    park: pd.Series, gaps: pd.DataFrame, lang: str, gap_context: Mapping[str, Any] | None
) -> str:
    """The park's missing industries with their plain reasons (the same every year: kept
    in ``gap_context["html_cache"]`` when there is one)."""
    cache = gap_context.get("html_cache") if gap_context is not None else None
    key = (str(park.get("_id")), lang)
    if isinstance(cache, dict) and key in cache:
        return str(cache[key])
    text = _gaps_html(park, gaps, lang, gap_context)
    if isinstance(cache, dict):
        cache[key] = text
    return text


def _gaps_html(
    park: pd.Series, gaps: pd.DataFrame, lang: str, gap_context: Mapping[str, Any] | None
) -> str:
    items = []
    for _, g in gaps.iterrows():
        code = g.get("industry")
        if code is None or code is pd.NA or (isinstance(code, float) and np.isnan(code)):
            continue
        gap_name = g.get("industry_name" if lang == "zh" else "industry_name_en")
        reason = gap_reason(g, park, lang, gap_context)
        items.append(
            f"<li><b>{esc(code)} {esc(gap_name)}</b>"
            + (f' <span class="pg-reason">{esc(reason)}</span>' if reason else "")
            + "</li>"
        )
    flag = ""
    if "no_sei" in gaps.columns and len(gaps) and bool(gaps["no_sei"].fillna(False).any()):
        flag = f'<div class="pg-st-behind">{esc(label("strategic_none", lang))}</div>'
    listing = f"<ol>{''.join(items)}</ol>" if items else f" {esc(label('none', lang))}"
    return f"<div><b>{esc(label('missing', lang))}</b>:{listing}</div>{flag}"


def gap_reason(
    gap: pd.Series, park: pd.Series, lang: str, context: Mapping[str, Any] | None
) -> str:
    """The plain reason of one missing industry (the gaps' own text when it has no
    structured columns)."""
    from parkgeo._plain import plain_reason

    if "status" not in gap.index and "n_firms" not in gap.index:
        text = gap.get("reason_zh" if lang == "zh" and "reason_zh" in gap.index else "reason")
        return "" if text is None or pd.isna(text) else str(text)
    ctx = context or {}
    cache = ctx.get("cache")
    key = (str(park.get("_id")), str(gap.get("industry")), lang)
    if isinstance(cache, dict) and key in cache:
        return str(cache[key])
    point = None
    geom = park.get("geometry") if "geometry" in park.index else None
    if geom is not None and not geom.is_empty:
        rp = geom.representative_point()
        point = (float(rp.x), float(rp.y))
    text = plain_reason(
        {str(k): v for k, v in gap.items()},
        park_name=label("this_park", lang),
        lang=lang,
        park_point=point,
        cluster_points=ctx.get("cluster_points"),
        place_of=ctx.get("place_of"),
    )
    if isinstance(cache, dict):
        cache[key] = text
    return text


def gaps_by_park(gaps: pd.DataFrame | None, per_park: int) -> dict[str, pd.DataFrame]:
    if gaps is None:
        return {}
    if not isinstance(gaps, pd.DataFrame) or "park_id" not in gaps.columns:
        raise SchemaError(
            "gaps must be the DataFrame of parkgeo.gaps.missing_clusters (with a 'park_id' column)"
        )
    frame = gaps.copy()
    frame["_pid"] = frame["park_id"].astype(str)
    if "rank" in frame.columns:
        frame = frame.sort_values(["_pid", "rank"], kind="mergesort")
    out: dict[str, pd.DataFrame] = {}
    for pid, group in frame.groupby("_pid", sort=True):
        out[str(pid)] = group.head(per_park)
    return out


def subtitle_text(metrics: pd.DataFrame, year: int, lang: str, baseline: str | None) -> str:
    """One line on the plan's headline figures, each with its population: the same rows and
    numbers as the report and ``parkgeo demo`` (:mod:`parkgeo._headline`)."""
    from parkgeo._headline import ALL, headline_figures, plan_of

    if not baseline or str(year) == baseline:
        return ""
    plan = plan_of(metrics)
    if str(plan.baseline_year) != baseline:
        return ""
    parts = []
    for f in headline_figures(metrics, year=year, plan=plan):
        if f.change_marker:
            # withheld by disclosure control: say so with its marker, never a figure
            name, _ = measure_label(f.measure, lang)
            population = label("pop_all" if f.population == ALL else "pop_all_parks", lang)
            parts.append(
                f"{name}（{population}）{f.change_marker}（{label('withheld', lang)}）"
                if lang == "zh"
                else f"{name} ({population}) {f.change_marker} ({label('withheld', lang)})"
            )
            continue
        if f"{f.measure}_change" not in metrics.columns or not np.isfinite(f.change):
            continue
        name, _ = measure_label(f.measure, lang)
        population = label("pop_all" if f.population == ALL else "pop_all_parks", lang)
        parts.append(
            f"{name}（{population}）{fmt_change(f.change)}（{status_label(f.status, lang)}）"
            if lang == "zh"
            else f"{name} ({population}) {fmt_change(f.change)} ({status_label(f.status, lang).lower()})"
        )
    if not parts:
        return ""
    head = label("all_parks_vs", lang, year=year, baseline=baseline)
    return head + " " + (" · ".join(parts))


TREND_MEASURES: tuple[str, ...] = ("tax_per_ha", "energy_per_value_added")


def popup_charts(metrics: pd.DataFrame, park_ids: Sequence[str], lang: str) -> list[str]:
    """One small SVG trend chart per park and measure (actual and the plan's path), the same
    drawing as the report's (:mod:`parkgeo._svgchart`)."""
    from parkgeo._headline import plan_of
    from parkgeo._svgchart import Series, line_chart
    from parkgeo.years import available_years as years_of

    years = years_of(metrics)
    if len(years) < 2:
        return [""] * len(park_ids)
    plan = plan_of(metrics)
    measures = [m for m in TREND_MEASURES if m in metrics.columns]
    ids = metrics["park_id"].astype(str).to_numpy()
    year_col = pd.to_numeric(metrics["year"], errors="coerce").to_numpy()
    index = {(pid, int(y)): i for i, (pid, y) in enumerate(zip(ids, year_col, strict=True))}
    suppressed = (
        metrics["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in metrics.columns
        else np.zeros(len(metrics), dtype=bool)
    )
    out = []
    for pid in park_ids:
        charts = []
        for measure in measures:
            values = pd.to_numeric(metrics[measure], errors="coerce").to_numpy(dtype=float)
            row_of = [index.get((pid, y)) for y in years]
            actual = [
                float("nan")
                if i is None or (suppressed[i] and is_suppressed(metrics.iloc[i], measure))
                else float(values[i])
                for i in row_of
            ]
            base_i = index.get((pid, plan.baseline_year))
            base = float(values[base_i]) if base_i is not None else float("nan")
            target = plan.targets.get(measure)
            path = [
                base * (1 + target * plan.expected(y))
                if target is not None and np.isfinite(base) and y >= plan.baseline_year
                else float("nan")
                for y in years
            ]
            name, unit = measure_label(measure, lang)
            series = [Series(label("actual", lang), actual)]
            if any(np.isfinite(path)):
                series.append(Series(label("target_path", lang), path, "#8c8c8c", True))
            charts.append(line_chart(years, series, width=250, height=118, title=name, unit=unit))
        out.append(f'<div class="pg-trend">{"".join(charts)}</div>' if charts else "")
    return out
