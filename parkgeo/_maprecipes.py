"""Park layers of the maps: the park set (geometry and popups), choropleths and
target-status layers for every year (the year switcher), cluster hulls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._classes import NO_DATA_COLOR
from parkgeo._errors import ParkgeoError
from parkgeo._legend import (
    MEASURES,
    SECTION_COLORS,
    STATUS_COLORS,
    category_legend_html,
    class_legend_html,
    classify,
    esc,
    fmt_number,
    fmt_progress,
    label,
    normalize_status,
    status_label,
)
from parkgeo._mapbuilder import (
    RANK_HULLS,
    RANK_PARKS,
    Builder,
    park_style,
    section_legend,
)
from parkgeo._mapdata import (
    PARK_LINE,
    cell_value,
    display_geoms,
    feature_collection,
    is_suppressed,
    polygons_4326,
    row_records,
    rows_for_year,
    to_float,
    withheld,
)
from parkgeo._mappopups import (
    change_text,
    fmt_cell,
    gaps_by_park,
    gaps_html,
    industry_labels,
    measure_label,
    park_popup,
    popup_charts,
)

log = logging.getLogger("parkgeo")


@dataclass
class ParkSet:
    parks: Any  # EPSG:4326 copy with _id, _label
    rows: pd.DataFrame  # metrics of the year shown first, indexed by park_id
    source: Any  # DataScript with fc, popups (year shown), years (popups by year), charts
    rows_by_year: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)


def park_set(
    b: Builder,
    parks: Any,
    metrics: pd.DataFrame | None,
    *,
    year: int,
    gaps: pd.DataFrame | None,
    gaps_per_park: int,
    gap_context: Mapping[str, Any] | None = None,
    switch: bool = True,
) -> ParkSet:
    """The parks' geometry and popups for every year of ``metrics`` (the year switcher;
    ``switch=False``: the one year only)."""
    from parkgeo.years import available_years as years_of

    p = polygons_4326(parks, "parks", id_column="park_id")
    if p["_id"].duplicated().any():
        dup = p["_id"][p["_id"].duplicated()].iloc[0]
        raise ParkgeoError(f"parks have a duplicate park_id {dup!r}: each park must be unique")
    years = years_of(metrics) if metrics is not None else []
    if not switch:
        years = [y for y in years if y == year]
    rows_by_year = (
        {y: row_records(rows_for_year(metrics, y)) for y in years} if metrics is not None else {}
    )
    rows = rows_for_year(metrics, year) if metrics is not None else pd.DataFrame()
    by_park = gaps_by_park(gaps, gaps_per_park)
    # a park's missing industries read the same every year: written once
    context = {**(gap_context or {}), "cache": {}, "html_cache": {}}
    park_rows = [park for _, park in p.iterrows()]
    several = len(years) > 1 and metrics is not None
    # Over several years the popups are kept once per year without the missing industries
    # (the same every year), which are kept once per park: the page joins them.
    popups_by_year: dict[str, list[str]] = {}
    for y in years or [year]:
        year_rows = rows_by_year.get(y, {})
        popups_by_year[str(y)] = [
            park_popup(
                park,
                year_rows.get(park["_id"]),
                lang=b.lang,
                year=y,
                baseline=b.baseline,
                gaps=None if several or gaps is None else by_park.get(park["_id"], pd.DataFrame()),
                gap_context=context,
            )
            for park in park_rows
        ]
    geoms = display_geoms(p.geometry.to_numpy(), b.tiles)
    payload: dict[str, Any] = {"fc": feature_collection(geoms)}
    if several:
        assert metrics is not None
        payload["year"] = str(year)
        payload["years"] = popups_by_year
        payload["charts"] = popup_charts(metrics, p["_id"].tolist(), b.lang)
        if gaps is not None:
            payload["gaps"] = [
                gaps_html(park, by_park.get(park["_id"], pd.DataFrame()), b.lang, context)
                for park in park_rows
            ]
        b.years, b.year = years, year
    else:
        payload["popups"] = popups_by_year.get(str(year), next(iter(popups_by_year.values())))
    source = b.data(payload, "pg_parks")
    return ParkSet(p, rows, source, rows_by_year)


def _values(ps: ParkSet, rows: Mapping[str, Mapping[str, Any]], measure: str) -> np.ndarray:
    return np.array(
        [
            np.nan
            if (pid not in rows or is_suppressed(rows[pid], measure))
            else to_float(cell_value(rows[pid], measure))
            for pid in ps.parks["_id"]
        ],
        dtype=float,
    )


def _year_rows(ps: ParkSet, year: int) -> dict[str, dict[str, Any]]:
    found = ps.rows_by_year.get(year)
    return found if found is not None else row_records(ps.rows)


def add_choropleth(
    b: Builder,
    ps: ParkSet,
    measure: str,
    *,
    scheme: str,
    k: int,
    bins: Sequence[float] | None,
    show: bool,
    overlay: bool = False,
) -> Any:
    """One measure's choropleth. Over several years the class breaks are computed on every
    year's values together, so a colour means the same figure in every year."""
    spec = MEASURES.get(measure)
    palette = spec.palette if spec else "YlGnBu"
    years = b.years if len(b.years) > 1 else [b.year if b.year is not None else -1]
    values = {y: _values(ps, _year_rows(ps, y), measure) for y in years}
    pooled = classify(
        np.concatenate(list(values.values())), scheme=scheme, k=k, bins=bins, palette=palette
    )
    name, unit = measure_label(measure, b.lang)
    change_col = f"{measure}_change"
    styles: dict[str, list[dict[str, Any]]] = {}
    tips: dict[str, list[str]] = {}
    legends: dict[str, str] = {}
    for y in years:
        v = values[y]
        index = np.full(len(v), -1, dtype=np.int64)
        ok = np.isfinite(v)
        if pooled.bins:
            index[ok] = np.minimum(
                np.searchsorted(np.asarray(pooled.bins), v[ok], side="left"), len(pooled.bins) - 1
            )
        classes = replace(
            pooled, index=index, counts=[int((index == c).sum()) for c in range(pooled.k)]
        )
        rows = _year_rows(ps, y)
        styles[str(y)] = [park_style(c) for c in classes.color_of()]
        year_tips = []
        for i, (pid, pname) in enumerate(zip(ps.parks["_id"], ps.parks["_label"], strict=True)):
            row = rows.get(pid)
            line = (
                f"{fmt_cell(row, measure, b.lang)} {esc(unit)}"
                if not np.isnan(v[i]) or row is not None
                else esc(label("no_data", b.lang))
            )
            change_html = (
                f"<br>{esc(label('change_short', b.lang))}: {esc(change_text(row, measure))}"
                if row is not None and change_col in row
                else ""
            )
            year_tips.append(f"<b>{esc(pname)}</b> ({esc(y)})<br>{esc(name)}: {line}{change_html}")
        tips[str(y)] = year_tips
        n_withheld = sum(1 for pid in ps.parks["_id"] if withheld(rows.get(pid), measure))
        legends[str(y)] = class_legend_html(
            name,
            unit,
            classes,
            lang=b.lang,
            n_missing=int((index < 0).sum()) - n_withheld,
            n_withheld=n_withheld,
        )
    first = str(b.year) if str(b.year) in styles else str(years[0])
    several = len(years) > 1
    return b.polygons(
        ps.source,
        name=f"{name} ({unit})",
        rank=RANK_PARKS,
        styles=styles[first],
        tooltips=tips[first],
        popup_source=ps.source,
        overlay=overlay,
        show=show,
        legend_html=legends[first],
        by_year={"styles": styles, "tips": tips} if several else None,
        legend_by_year=legends if several else None,
    )


def add_progress(b: Builder, ps: ParkSet, measure: str, *, show: bool) -> Any:
    """Each park's status against the plan's path for ``measure``, for every year."""
    name, _ = measure_label(measure, b.lang)
    status_col, progress_col = f"{measure}_status", f"{measure}_progress"
    title = label("progress", b.lang, measure=name)
    years = b.years if len(b.years) > 1 else [b.year if b.year is not None else -1]
    styles: dict[str, list[dict[str, Any]]] = {}
    tips: dict[str, list[str]] = {}
    legends: dict[str, str] = {}
    for y in years:
        rows = _year_rows(ps, y)
        statuses, year_tips = [], []
        for pid, pname in zip(ps.parks["_id"], ps.parks["_label"], strict=True):
            row = rows.get(pid)
            status = normalize_status(cell_value(row, status_col))
            statuses.append(status)
            progress = fmt_progress(cell_value(row, progress_col))
            change = change_text(row, measure)
            mark = withheld(row, status_col)
            year_tips.append(
                f"<b>{esc(pname)}</b> ({esc(y)})<br>{esc(label('progress_short', b.lang))}: "
                + (
                    esc(mark)
                    if mark
                    else f"{esc(progress)} {esc(label('of_target', b.lang))} · "
                    f"{esc(status_label(status, b.lang))}"
                )
                + f"<br>{esc(label('change_short', b.lang))}: {esc(change)}"
            )
        counts = {s: statuses.count(s) for s in STATUS_COLORS}
        legends[str(y)] = category_legend_html(
            title,
            [
                (STATUS_COLORS[s], status_label(s, b.lang), counts[s])
                for s in STATUS_COLORS
                if counts[s] or s in ("met", "on_track", "behind")
            ],
        )
        styles[str(y)] = [park_style(STATUS_COLORS[s]) for s in statuses]
        tips[str(y)] = year_tips
    first = str(b.year) if str(b.year) in styles else str(years[0])
    several = len(years) > 1
    return b.polygons(
        ps.source,
        name=title,
        rank=RANK_PARKS,
        styles=styles[first],
        tooltips=tips[first],
        popup_source=ps.source,
        overlay=False,
        show=show,
        legend_html=legends[first],
        by_year={"styles": styles, "tips": tips} if several else None,
        legend_by_year=legends if several else None,
    )


HULL_OUTLINE = "#54278f"  # one dark purple: apart from every choropleth ramp


def add_hulls(
    b: Builder,
    clusters: Any,
    *,
    parks: Any | None,
    show: bool = True,
    outline: bool = False,
) -> Any:
    """Cluster hulls: coloured by section (cluster map), or as one dashed outline colour over
    a choropleth (``outline``), so they never read as a park's class."""
    c = clusters
    if c is None or not len(c):
        return None
    park_names = dict(zip(parks["_id"], parks["_label"], strict=True)) if parks is not None else {}
    codes = [str(x) for x in c["industry"]] if "industry" in c.columns else [""] * len(c)
    names = industry_labels(codes, b.lang)
    styles, tips, pops = [], [], []
    for i, (_, row) in enumerate(c.iterrows()):
        code = codes[i]
        color = HULL_OUTLINE if outline else SECTION_COLORS.get(code[:1], "#555555")
        styles.append(
            {
                "color": color,
                "weight": 1.6 if outline else 2,
                "fillColor": color,
                "fillOpacity": 0.0 if outline else 0.12,
                "dashArray": "5 3" if outline else None,
            }
        )
        n_firms = row.get("n_firms")
        firms = (
            f"{int(n_firms):,} {label('firms', b.lang)}"
            if n_firms is not None and not pd.isna(n_firms)
            else ""
        )
        title = names.get(code, code)
        tips.append(f"<b>{esc(title)}</b><br>{esc(label('cluster', b.lang))} · {esc(firms)}")
        share = row.get("share_in_parks")
        pids = row.get("park_ids")
        park_text = ""
        if isinstance(pids, str) and pids:
            sep = "、" if b.lang == "zh" else ", "
            park_text = sep.join(
                park_names.get(p.strip(), p.strip())
                for p in pids.replace(";", ",").split(",")
                if p.strip()
            )
        lines = [
            f"<h3>{esc(title)}</h3>",
            f'<div class="pg-sub">{esc(label("cluster", b.lang))} · {esc(firms)}</div>',
        ]
        if share is not None and not pd.isna(share):
            lines.append(
                f"<div>{esc(label('share_in_parks', b.lang))}: {esc(fmt_progress(share))}</div>"
            )
        if park_text:
            lines.append(f"<div>{esc(label('parks_in', b.lang))}: {esc(park_text)}</div>")
        area = row.get("hull_area_ha")
        if area is not None and not pd.isna(area):
            lines.append(
                f"<div>{esc(label('area', b.lang))}: {esc(fmt_number(area))} {esc(label('ha', b.lang))}</div>"
            )
        pops.append("".join(lines))
    geoms = display_geoms(c.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": feature_collection(geoms)}, "pg_clusters")
    sections = sorted({code[:1] for code in codes if code[:1] in SECTION_COLORS})
    legend = (
        category_legend_html(
            label("clusters", b.lang), [(HULL_OUTLINE, label("hull_note", b.lang), len(c))]
        )
        if outline
        else section_legend(b.lang, label("clusters", b.lang), sections, None)
    )
    return b.polygons(
        source,
        name=label("clusters", b.lang),
        rank=RANK_HULLS,
        styles=styles,
        tooltips=tips,
        popups=pops,
        overlay=True,
        show=show,
        legend_html=legend,
    )


def gap_context(clusters: Any, districts: Any, lang: str) -> dict[str, Any]:
    """Where each cluster is and which district a point is in, for the plain reasons."""
    from parkgeo._plain import cluster_points, district_finder

    return {
        "cluster_points": cluster_points(clusters) if clusters is not None else {},
        "place_of": district_finder(districts, lang) if districts is not None else None,
    }


def add_gap_layer(
    b: Builder, ps: ParkSet, gaps: pd.DataFrame, *, k: int, gaps_per_park: int
) -> Any:
    """Parks coloured by how strongly their first missing industry is indicated, in words:
    a legend from weak to strong (no score), a thick red outline for parks without any
    strategic emerging industry."""
    lang = b.lang
    by_park = gaps_by_park(gaps, gaps_per_park)
    scores, tips, no_sei = [], [], []
    names = industry_labels(
        [str(c) for c in gaps["industry"].dropna()] if "industry" in gaps.columns else [], lang
    )
    for pid, pname in zip(ps.parks["_id"], ps.parks["_label"], strict=True):
        g = by_park.get(pid)
        top = (
            g.iloc[0]
            if g is not None and len(g) and not pd.isna(g.iloc[0].get("industry"))
            else None
        )
        score = to_float(top.get("score")) if top is not None and "score" in top.index else np.nan
        scores.append(score)
        flag = g is not None and "no_sei" in g.columns and bool(g["no_sei"].fillna(False).any())
        no_sei.append(flag)
        what = (
            names.get(str(top.get("industry")), str(top.get("industry")))
            if top is not None
            else label("none", lang)
        )
        tip = f"<b>{esc(pname)}</b><br>{esc(label('missing', lang))}: {esc(what)}"
        if flag:
            tip += f"<br>{esc(label('strategic_none', lang))}"
        tips.append(tip)
    classes = classify(np.asarray(scores, dtype=float), scheme="equalinterval", k=k, palette="PuRd")
    styles = [
        park_style(c, weight=3.5 if flag else 1.0, line="#c62828" if flag else PARK_LINE)
        for c, flag in zip(classes.color_of(), no_sei, strict=True)
    ]
    words = [""] * classes.k
    if classes.k:
        words[0] = label("gap_weak", lang)
        words[-1] = label("gap_strong", lang)
    items = [(classes.colors[i], words[i] or "·", classes.counts[i]) for i in range(classes.k)]
    n_none = int((classes.index < 0).sum())
    if n_none:
        items.append((NO_DATA_COLOR, label("none", lang), n_none))
    if any(no_sei):
        items.append(("#ffffff", f"▭ {label('strategic_none', lang)}", sum(no_sei)))
    legend = category_legend_html(label("gap_strength", lang), items)
    return b.polygons(
        ps.source,
        name=label("gaps", lang),
        rank=RANK_PARKS,
        styles=styles,
        tooltips=tips,
        popup_source=ps.source,
        overlay=False,
        show=True,
        legend_html=legend,
    )


def nearest_hulls(clusters: Any, gaps: pd.DataFrame, gaps_per_park: int) -> Any:
    """The city's concentrations nearest to the parks that lack them: where to look."""
    by_park = gaps_by_park(gaps, gaps_per_park)
    listed = pd.concat(list(by_park.values())) if by_park else gaps.iloc[:0]
    if "nearest_cluster_id" in listed.columns and "cluster_id" in clusters.columns:
        ids = set(pd.to_numeric(listed["nearest_cluster_id"], errors="coerce").dropna().astype(int))
        keep = pd.to_numeric(clusters["cluster_id"], errors="coerce").isin(ids).to_numpy()
    else:
        wanted = set(listed["industry"].dropna().astype(str)) if "industry" in listed else set()
        keep = clusters["industry"].astype(str).isin(wanted).to_numpy()
    return clusters[keep]
