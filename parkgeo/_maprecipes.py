"""Park layers of the maps: the park set (geometry and popups), choropleths and
target-status layers for every year (the year switcher), cluster hulls.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError
from parkgeo._legend import (
    MEASURES,
    SECTION_COLORS,
    STATUS_COLORS,
    category_legend_html,
    class_legend_html,
    classify,
    esc,
    fmt_change,
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
    cell_value,
    display_geoms,
    feature_collection,
    is_suppressed,
    polygons_4326,
    rows_for_year,
    to_float,
)
from parkgeo._mappopups import (
    fmt_cell,
    gaps_by_park,
    industry_labels,
    measure_label,
    park_popup,
)

log = logging.getLogger("parkgeo")


@dataclass
class ParkSet:
    parks: Any  # EPSG:4326 copy with _id, _label
    rows: pd.DataFrame  # metrics of the year indexed by park_id
    source: Any  # DataScript with fc + popups


def park_set(
    b: Builder,
    parks: Any,
    metrics: pd.DataFrame | None,
    *,
    year: int,
    gaps: pd.DataFrame | None,
    gaps_per_park: int,
) -> ParkSet:
    p = polygons_4326(parks, "parks", id_column="park_id")
    if p["_id"].duplicated().any():
        dup = p["_id"][p["_id"].duplicated()].iloc[0]
        raise ParkgeoError(f"parks have a duplicate park_id {dup!r}: each park must be unique")
    rows = rows_for_year(metrics, year) if metrics is not None else pd.DataFrame()
    baseline = b.baseline
    by_park = gaps_by_park(gaps, gaps_per_park)
    popups = []
    for _, park in p.iterrows():
        row = rows.loc[park["_id"]] if park["_id"] in rows.index else None
        popups.append(
            park_popup(
                park,
                row,
                lang=b.lang,
                year=year,
                baseline=baseline,
                gaps=by_park.get(park["_id"], pd.DataFrame()) if gaps is not None else None,
            )
        )
    geoms = display_geoms(p.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": feature_collection(geoms), "popups": popups}, "pg_parks")
    return ParkSet(p, rows, source)


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
    spec = MEASURES.get(measure)
    palette = spec.palette if spec else "YlGnBu"
    ids = ps.parks["_id"].tolist()
    values = np.array(
        [
            np.nan
            if (pid not in ps.rows.index or is_suppressed(ps.rows.loc[pid], measure))
            else to_float(cell_value(ps.rows.loc[pid], measure))
            for pid in ids
        ],
        dtype=float,
    )
    classes = classify(values, scheme=scheme, k=k, bins=bins, palette=palette)
    colors = classes.color_of()
    name, unit = measure_label(measure, b.lang)
    change_col = f"{measure}_change"
    tips = []
    for i, (pid, pname) in enumerate(zip(ids, ps.parks["_label"], strict=True)):
        row = ps.rows.loc[pid] if pid in ps.rows.index else None
        line = (
            f"{fmt_cell(row, measure, b.lang)} {esc(unit)}"
            if not np.isnan(values[i]) or row is not None
            else esc(label("no_data", b.lang))
        )
        change = cell_value(row, change_col)
        change_html = (
            f"<br>{esc(label('change_short', b.lang))}: {esc(fmt_change(change))}"
            if row is not None and change_col in row.index
            else ""
        )
        tips.append(f"<b>{esc(pname)}</b><br>{esc(name)}: {line}{change_html}")
    n_missing = int((classes.index < 0).sum())
    legend = class_legend_html(name, unit, classes, lang=b.lang, n_missing=n_missing)
    return b.polygons(
        ps.source,
        name=f"{name} ({unit})",
        rank=RANK_PARKS,
        styles=[park_style(c) for c in colors],
        tooltips=tips,
        popup_source=ps.source,
        overlay=overlay,
        show=show,
        legend_html=legend,
    )


def add_progress(b: Builder, ps: ParkSet, measure: str, *, show: bool) -> Any:
    name, _ = measure_label(measure, b.lang)
    status_col, progress_col = f"{measure}_status", f"{measure}_progress"
    statuses, tips = [], []
    for pid, pname in zip(ps.parks["_id"], ps.parks["_label"], strict=True):
        row = ps.rows.loc[pid] if pid in ps.rows.index else None
        status = normalize_status(cell_value(row, status_col))
        statuses.append(status)
        progress = fmt_progress(cell_value(row, progress_col))
        change = fmt_change(cell_value(row, f"{measure}_change"))
        tips.append(
            f"<b>{esc(pname)}</b><br>{esc(label('progress_short', b.lang))}: {esc(progress)} "
            f"{esc(label('of_target', b.lang))} · {esc(status_label(status, b.lang))}"
            f"<br>{esc(label('change_short', b.lang))}: {esc(change)}"
        )
    title = label("progress", b.lang, measure=name)
    counts = {s: statuses.count(s) for s in STATUS_COLORS}
    legend = category_legend_html(
        title,
        [
            (STATUS_COLORS[s], status_label(s, b.lang), counts[s])
            for s in STATUS_COLORS
            if counts[s] or s in ("met", "on_track", "behind")
        ],
    )
    return b.polygons(
        ps.source,
        name=title,
        rank=RANK_PARKS,
        styles=[park_style(STATUS_COLORS[s]) for s in statuses],
        tooltips=tips,
        popup_source=ps.source,
        overlay=False,
        show=show,
        legend_html=legend,
    )


def add_hulls(b: Builder, clusters: Any, *, parks: Any | None, show: bool = True) -> Any:
    c = clusters
    if c is None or not len(c):
        return None
    park_names = dict(zip(parks["_id"], parks["_label"], strict=True)) if parks is not None else {}
    codes = [str(x) for x in c["industry"]] if "industry" in c.columns else [""] * len(c)
    names = industry_labels(codes, b.lang)
    styles, tips, pops = [], [], []
    for i, (_, row) in enumerate(c.iterrows()):
        code = codes[i]
        color = SECTION_COLORS.get(code[:1], "#555555")
        styles.append(
            {
                "color": color,
                "weight": 2,
                "fillColor": color,
                "fillOpacity": 0.12,
                "dashArray": None,
            }
        )
        n_firms = row.get("n_firms")
        firms = (
            f"{int(n_firms):,} {label('firms', b.lang)}"
            if n_firms is not None and not pd.isna(n_firms)
            else ""
        )
        title = names.get(code, code)
        tips.append(
            f"<b>{esc(title)}</b><br>{esc(label('cluster', b.lang))} {esc(row.get('cluster_id', i))} · {esc(firms)}"
        )
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
            f'<div class="pg-sub">{esc(label("cluster", b.lang))} {esc(row.get("cluster_id", i))} · {esc(firms)}</div>',
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
    legend = section_legend(b.lang, label("clusters", b.lang), sections, None)
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
