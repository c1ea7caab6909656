"""A self-contained offline map of an evaluation: firms coloured by class, the low-efficiency
land, park outlines, a legend.

One HTML file with Leaflet inlined (:mod:`parkgeo._assets`), no tiles and no network access,
so it opens anywhere. Every text from the data (firm and park names, reasons) is put into the
page with ``textContent`` by the page's script, never as HTML, and the embedded JSON cannot
close its ``<script>`` element. The planner's full map (tiles, density, clusters) is
:func:`parkgeo.maps.planner_map`; this page is the evaluation's own view.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from parkgeo._assets import leaflet_assets
from parkgeo._errors import ParkgeoError
from parkgeo.io import atomic_write

__all__ = ["evaluation_map_html", "save_evaluation_map"]

_WORDS = {
    "zh": {
        "title": "亩均效益评价",
        "firms": "企业（按等级着色）",
        "low": "低效用地",
        "idle": "闲置宗地",
        "parks": "园区边界",
        "class": "等级",
        "total": "总分",
        "rank": "组内排名",
        "reason": "原因",
        "land": "用地（亩）",
        "park": "园区",
    },
    "en": {
        "title": "Per-mu benefit evaluation",
        "firms": "firms (by class)",
        "low": "low-efficiency land",
        "idle": "idle parcels",
        "parks": "park outlines",
        "class": "class",
        "total": "total",
        "rank": "rank in group",
        "reason": "reason",
        "land": "land (mu)",
        "park": "park",
    },
}


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # every "<" as an escape: no "</script>" or "<!--" from the data can reach the HTML parser
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _round(x: Any, digits: int) -> Any:
    if x is None or (isinstance(x, float) and not np.isfinite(x)) or pd.isna(x):
        return None
    return round(float(x), digits)


def _points(layer: Any) -> list[dict[str, Any]]:
    out = []
    for row in layer.itertuples(index=False):
        geom = row.geometry
        out.append(
            {
                "xy": [round(geom.x, 6), round(geom.y, 6)],
                "id": str(row.enterprise_id),
                "name": None if pd.isna(getattr(row, "name", None)) else str(row.name),
                "park": None if pd.isna(getattr(row, "park_id", None)) else str(row.park_id),
                "class": str(row[layer.columns.get_loc("class")]),
                "color": str(row.color),
                "total": _round(row.total, 2),
                "rank": None if pd.isna(row.rank) else f"{int(row.rank)}/{int(row.n_group)}",
                "land": _round(row.land_mu, 1),
                "reason": None if pd.isna(row.reason) else str(row.reason),
            }
        )
    return out


def _shapes(gdf: Any) -> dict[str, Any]:

    features = []
    for geom, props in zip(
        gdf.geometry, gdf.drop(columns="geometry").to_dict("records"), strict=True
    ):
        if geom is None or geom.is_empty:
            continue
        rounded = shapely.set_precision(geom, 1e-6)
        clean = {k: (None if pd.isna(v) else v) for k, v in props.items()}
        features.append(
            {"type": "Feature", "geometry": shapely.geometry.mapping(rounded), "properties": clean}
        )
    return {"type": "FeatureCollection", "features": features}


def evaluation_map_html(
    result: Any, *, parks: Any = None, year: int | None = None, lang: str = "zh"
) -> str:
    """The evaluation map as one HTML page (deterministic: same result, same text).

    Parameters
    ----------
    result : EvaluationResult
    parks : geopandas.GeoDataFrame, optional
        Park outlines to draw.
    year : int, optional
        The year shown (default the latest evaluated year).
    lang : {"zh", "en"}
    """

    if lang not in _WORDS:
        raise ParkgeoError(f"lang must be 'zh' or 'en', got {lang!r}")
    words = _WORDS[lang]
    layer = result.class_layer(year)
    shown_year = int(layer["year"].iloc[0]) if len(layer) else year
    colors = layer.attrs.get("colors", {})
    low = result.low_efficiency
    if shown_year is not None and len(low):
        low = low[low["year"] == shown_year]
    low_polys = low[low["kind"].isin(["parcel", "idle"])][
        ["kind", "parcel_id", "enterprise_id", "name", "area_mu", "geometry"]
    ]
    low_polys = low_polys.assign(area_mu=low_polys["area_mu"].round(2))
    data = {
        "words": words,
        "colors": colors,
        "firms": _points(layer),
        "low": _shapes(low_polys),
        "parks": _shapes(parks[["park_id", "geometry"]].to_crs("EPSG:4326"))
        if parks is not None
        else None,
    }
    asset = leaflet_assets()
    title = html.escape(f"{words['title']} {shown_year or ''}".strip())
    return _PAGE.format(
        lang=lang,
        title=title,
        css=asset.css,
        js=asset.js,
        data=_json(data),
    )


def save_evaluation_map(
    result: Any, path: str | Path, *, parks: Any = None, year: int | None = None, lang: str = "zh"
) -> Path:
    """Write :func:`evaluation_map_html` to ``path`` atomically."""

    text = evaluation_map_html(result, parks=parks, year=year, lang=lang)
    target = Path(path)
    with atomic_write(target, "w", encoding="utf-8") as fh:
        fh.write(text)
    return target


_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
<style>
html, body, #map {{ height: 100%; margin: 0; background: #f4f4f0; }}
.pg-legend {{ background: #fff; padding: 6px 10px; font: 13px sans-serif; line-height: 20px; }}
.pg-sw {{ display: inline-block; width: 12px; height: 12px; margin-right: 6px; border: 1px solid #555; }}
</style></head>
<body><div id="map"></div>
<script>{js}</script>
<script>
"use strict";
const D = {data};
const map = L.map("map", {{preferCanvas: true}});
function text(tag, value) {{ const e = document.createElement(tag); e.textContent = value; return e; }}
function popup(rows) {{
  const box = document.createElement("div");
  for (const [k, v] of rows) {{ if (v !== null && v !== undefined) {{
    const line = document.createElement("div");
    line.appendChild(text("b", k + "："));
    line.appendChild(document.createTextNode(String(v)));
    box.appendChild(line);
  }} }}
  return box;
}}
const groups = {{}};
if (D.parks) {{
  groups[D.words.parks] = L.geoJSON(D.parks, {{style: {{color: "#333", weight: 1, fill: false}}}}).addTo(map);
}}
groups[D.words.low] = L.geoJSON(D.low, {{
  style: f => f.properties.kind === "idle"
    ? {{color: "#777", weight: 1, dashArray: "3", fillColor: "#bbb", fillOpacity: 0.5}}
    : {{color: "#a50026", weight: 1, fillColor: "#d73027", fillOpacity: 0.5}},
  onEachFeature: (f, l) => l.bindPopup(popup([
    [f.properties.kind === "idle" ? D.words.idle : D.words.low, f.properties.parcel_id],
    ["ID", f.properties.enterprise_id], ["", f.properties.name], [D.words.land, f.properties.area_mu]]))
}}).addTo(map);
const firms = L.featureGroup();
for (const f of D.firms) {{
  L.circleMarker([f.xy[1], f.xy[0]], {{radius: 4, weight: 0.5, color: "#222", fillColor: f.color, fillOpacity: 0.9}})
    .bindPopup(() => popup([["ID", f.id], ["", f.name], [D.words.park, f.park], [D.words["class"], f["class"]],
      [D.words.total, f.total], [D.words.rank, f.rank], [D.words.land, f.land], [D.words.reason, f.reason]]))
    .addTo(firms);
}}
groups[D.words.firms] = firms.addTo(map);
L.control.layers(null, groups, {{collapsed: false}}).addTo(map);
const legend = L.control({{position: "bottomright"}});
legend.onAdd = () => {{
  const box = L.DomUtil.create("div", "pg-legend");
  box.appendChild(text("b", D.words["class"]));
  for (const [label, color] of Object.entries(D.colors)) {{
    const line = document.createElement("div");
    const sw = document.createElement("span"); sw.className = "pg-sw"; sw.style.background = color;
    line.appendChild(sw); line.appendChild(document.createTextNode(label)); box.appendChild(line);
  }}
  return box;
}};
legend.addTo(map);
const all = L.featureGroup(Object.values(groups));
const b = all.getBounds();
if (b.isValid()) {{ map.fitBounds(b.pad(0.05)); }} else {{ map.setView([39.1, 117.2], 9); }}
</script></body></html>
"""
