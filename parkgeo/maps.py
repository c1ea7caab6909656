"""Interactive maps planners open from a file, offline: density, targets, clusters and gaps.

Every map is a :class:`folium.Map` that can be shown in a notebook or written with
:func:`save_map`. The saved page is self-contained: Leaflet's JavaScript and CSS are inlined
from the ``xstatic-leaflet`` package, nothing is fetched from the network (basemap tiles are
off unless ``tiles=`` names a provider), and the same input gives the same bytes.

Scale: enterprises are drawn as canvas circle markers created in the browser from compact
integer coordinate arrays (1e-5 degree, about 1 m), not as one folium marker per firm; the
120,000-enterprise Tianjin planner's map stays within its size budget (see ``docs/maps.md``
for measured figures).

Safety: input strings (park, enterprise, district and industry names, reasons) are escaped
with ``html.escape`` before they become HTML, and data reach JavaScript only as JSON with
``< > & ` $`` and U+2028/U+2029 escaped (:func:`parkgeo._maplayers.js_json`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from parkgeo._errors import CRSError, ParkgeoError, SchemaError
from parkgeo._legend import (
    MEASURES,
    SCHEMES,
    SECTION_COLORS,
    STATUS_COLORS,
    category_legend_html,
    check_lang,
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

if TYPE_CHECKING:
    import folium

__all__ = [
    "CITY_ROW_IDS",
    "DEFAULT_MAX_POINTS",
    "PLANNER_MEASURES",
    "PROGRESS_MEASURES",
    "SIZE_BUDGET_MB",
    "cluster_map",
    "density_map",
    "gap_map",
    "map_html",
    "planner_map",
    "save_map",
]

PLANNER_MEASURES: tuple[str, ...] = ("tax_per_ha", "energy_per_ha", "energy_per_value_added")
"""Park choropleths of the planner's map, in layer-control order."""

PROGRESS_MEASURES: tuple[str, ...] = ("tax_per_ha", "energy_per_value_added")
"""Measures with a per-park plan target whose status is mapped (tax per ha +50%, energy per
unit of value added -15%, by default in :mod:`parkgeo.metrics`)."""

POPUP_MEASURES: tuple[str, ...] = (
    "tax_per_ha",
    "energy_per_ha",
    "energy_per_value_added",
    "labour_productivity",
    "profit",
)

log = logging.getLogger("parkgeo")

SIZE_BUDGET_MB = 15.0
"""Largest map file planners should be sent; :func:`save_map` warns above it."""

DEFAULT_MAX_POINTS = 150_000
"""Enterprises drawn individually; above it a deterministic, evenly spread subset is drawn and
the map says so (120,000 enterprises give a map of about 10 MB, see ``docs/maps.md``)."""

CITY_ROW_IDS: tuple[str, ...] = ("ALL", "ALL_PARKS")
COORD_SCALE = 100_000  # points stored as integers of 1e-5 degree (about 1 m)
POLYGON_DECIMALS = 5
GCJ02_PROVIDER_KEYS = ("gaode", "autonavi", "amap", "tencent")
GAPS_PER_PARK = 5

_PARK_LINE = "#3d3d3d"


# ------------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------------


def _check_common(lang: str, scheme: str, k: int) -> None:
    check_lang(lang)
    if scheme not in SCHEMES:
        raise ParkgeoError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= int(k) <= 9:
        raise ParkgeoError(f"k must be an integer from 2 to 9 classes; got {k!r}")


def _polygons_4326(layer: Any, what: str, *, id_column: str | None) -> Any:
    """A copy of a polygon layer in EPSG:4326, with ``_label`` (name or id) added."""
    import geopandas as gpd

    if not isinstance(layer, gpd.GeoDataFrame):
        raise SchemaError(
            f"{what} must be a geopandas.GeoDataFrame of polygons; got {type(layer).__name__}"
        )
    if layer.crs is None:
        raise CRSError(
            f"{what} have no CRS: set one with .set_crs('EPSG:4326') (or the CRS the "
            "coordinates are in) before mapping them"
        )
    if id_column is not None and id_column not in layer.columns:
        raise SchemaError(f"{what} need a {id_column!r} column; columns are {list(layer.columns)}")
    out = layer.to_crs("EPSG:4326") if not layer.crs.equals("EPSG:4326") else layer.copy()
    names = None
    for col in ("name", "name_zh", "NAME"):
        if col in out.columns:
            names = out[col]
            break
    if names is None:
        names = (
            out[id_column] if id_column is not None else pd.Series([""] * len(out), index=out.index)
        )
    fallback = (
        out[id_column].astype(str) if id_column is not None else pd.Series("", index=out.index)
    )
    out["_label"] = [
        str(n)
        if n is not None and not (isinstance(n, float) and np.isnan(n)) and n is not pd.NA
        else str(f)
        for n, f in zip(names.tolist(), fallback.tolist(), strict=True)
    ]
    if id_column is not None:
        out["_id"] = out[id_column].astype(str).to_numpy()
    return out


def _check_metrics(metrics: pd.DataFrame, needed: Sequence[str]) -> None:
    if not isinstance(metrics, pd.DataFrame):
        raise SchemaError(
            f"metrics must be the DataFrame of parkgeo.metrics.park_metrics; got {type(metrics).__name__}"
        )
    for col in ("park_id", "year"):
        if col not in metrics.columns:
            raise SchemaError(
                f"metrics need a {col!r} column (one row per park and year, as "
                f"parkgeo.metrics.park_metrics returns); columns are {list(metrics.columns)}"
            )
    missing = [c for c in needed if c not in metrics.columns]
    if missing:
        raise SchemaError(
            f"metrics lack {missing}: compute them with parkgeo.metrics.park_metrics, or map "
            "other columns with measures=[...]"
        )


def _pick_year(metrics: pd.DataFrame, year: int | None) -> int:
    years = sorted({int(y) for y in pd.to_numeric(metrics["year"], errors="coerce").dropna()})
    if not years:
        raise ParkgeoError("metrics have no year: nothing to map")
    if year is None:
        return years[-1]
    if int(year) not in years:
        raise ParkgeoError(f"year {year} is not in the metrics; years present: {years}")
    return int(year)


def _rows_for_year(metrics: pd.DataFrame, year: int) -> pd.DataFrame:
    """The year's rows, one per park, indexed by park_id as text (city rows left out)."""
    ids = metrics["park_id"].astype(str)
    year_col = pd.to_numeric(metrics["year"], errors="coerce")
    keep = (year_col == year).to_numpy() & ~ids.isin(CITY_ROW_IDS).to_numpy()
    rows = metrics.loc[keep].copy()
    rows.index = pd.Index(ids[keep].to_numpy(), name="park_id")
    if rows.index.has_duplicates:
        dup = rows.index[rows.index.duplicated()][0]
        raise ParkgeoError(f"metrics have several rows for park {dup!r} in {year}; expected one")
    return rows


def _baseline_of(metrics: pd.DataFrame | None, given: int | None = None) -> str | None:
    """The baseline year the changes refer to: given, recorded, or the year whose status is
    ``baseline`` in the metrics; None when unknown."""
    if given is not None:
        return str(int(given))
    if metrics is None:
        return None
    if metrics.attrs.get("baseline_year") is not None:
        return str(metrics.attrs["baseline_year"])
    if "baseline_year" in metrics.columns:
        values = pd.to_numeric(metrics["baseline_year"], errors="coerce").dropna().unique()
        if len(values) == 1:
            return str(int(values[0]))
    years: set[int] = set()
    for col in [c for c in metrics.columns if str(c).endswith("_status")]:
        is_base = (metrics[col].astype(str) == "baseline").to_numpy()
        years |= {
            int(y) for y in pd.to_numeric(metrics.loc[is_base, "year"], errors="coerce").dropna()
        }
    return str(years.pop()) if len(years) == 1 else None


# ------------------------------------------------------------------------------------------
# display coordinates (GCJ-02 basemaps) and geometry encoding
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tiles:
    provider: Any | None
    name: str | None
    gcj02: bool


def _resolve_tiles(tiles: Any) -> _Tiles:
    if tiles is None or (isinstance(tiles, str) and tiles.strip().lower() in ("", "none", "off")):
        return _Tiles(None, None, False)
    import xyzservices

    if isinstance(tiles, xyzservices.TileProvider):
        provider = tiles
    elif isinstance(tiles, str):
        try:
            provider = xyzservices.providers.query_name(tiles)
        except ValueError as exc:
            raise ParkgeoError(
                f"unknown basemap tiles {tiles!r}: give an xyzservices provider name such as "
                "'OpenStreetMap.Mapnik', 'Esri.WorldGrayCanvas' or 'Gaode.Normal', or 'none'"
            ) from exc
    else:
        raise ParkgeoError(f"tiles must be None, a provider name or a TileProvider; got {tiles!r}")
    if provider.requires_token():
        raise ParkgeoError(
            f"basemap {provider.name} needs an API key: pass "
            f"xyzservices.providers.query_name({provider.name!r})(apikey=...) as tiles"
        )
    name = str(provider.name)
    gcj = any(key in name.lower() for key in GCJ02_PROVIDER_KEYS)
    return _Tiles(provider, name, gcj)


def _display_geoms(geoms: Any, tiles: _Tiles) -> Any:
    """Geometries as drawn: WGS-84, or GCJ-02 over a GCJ-02 basemap so they line up."""
    if not tiles.gcj02:
        return geoms
    from parkgeo.coords import convert_geometry

    return convert_geometry(geoms, "wgs84", "gcj02")


def _display_points(
    lon: np.ndarray, lat: np.ndarray, tiles: _Tiles
) -> tuple[np.ndarray, np.ndarray]:
    if not tiles.gcj02:
        return lon, lat
    from parkgeo.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    return np.asarray(glon, dtype=float), np.asarray(glat, dtype=float)


def _feature_collection(geoms: Any) -> dict[str, Any]:
    """GeoJSON with coordinates rounded to 1e-5 degree; ``properties.i`` is the row position."""
    import shapely

    arr = np.asarray(geoms, dtype=object)
    rounded = shapely.transform(arr, lambda c: np.round(c, POLYGON_DECIMALS))
    texts = shapely.to_geojson(rounded)
    features = []
    for i, (geom, text) in enumerate(zip(rounded, texts, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        features.append({"type": "Feature", "properties": {"i": i}, "geometry": json.loads(text)})
    return {"type": "FeatureCollection", "features": features}


def _bounds(*layers: Any) -> list[list[float]] | None:
    boxes = [
        np.asarray(layer.total_bounds, dtype=float)
        for layer in layers
        if layer is not None and len(layer)
    ]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return None
    b = np.vstack(boxes)
    return [
        [float(b[:, 1].min()), float(b[:, 0].min())],
        [float(b[:, 3].max()), float(b[:, 2].max())],
    ]


# ------------------------------------------------------------------------------------------
# text: industries, popups
# ------------------------------------------------------------------------------------------


def _industry_labels(codes: Sequence[str], lang: str) -> dict[str, str]:
    """``code -> "code name"`` for each distinct normalised code (unknown codes: the code)."""
    from parkgeo.industry import industry_name

    distinct = sorted(
        {str(c) for c in codes if c is not None and str(c) not in ("", "nan", "<NA>")}
    )
    if not distinct:
        return {}
    names = industry_name(pd.Series(distinct), lang="zh" if lang == "zh" else "en")
    out = {}
    for code, name in zip(distinct, names.tolist(), strict=True):
        if isinstance(name, str) and name:
            # English names of deeper levels already read "C2710 (in Manufacture of ...)"
            out[code] = name if name.startswith(f"{code} ") else f"{code} {name}"
        else:
            out[code] = code
    return out


def _measure_label(measure: str, lang: str) -> tuple[str, str]:
    text = label(measure, lang) if measure in _labels_of(lang) else measure
    unit_key = f"{measure}_unit"
    unit = label(unit_key, lang) if unit_key in _labels_of(lang) else ""
    return text, unit


def _labels_of(lang: str) -> Mapping[str, str]:
    from parkgeo._legend import LABELS

    return LABELS[lang]


def _value(row: pd.Series | None, col: str) -> Any:
    if row is None or col not in row.index:
        return None
    value = row[col]
    if value is pd.NA:
        return None
    return value


def _is_suppressed(row: pd.Series | None, measure: str) -> bool:
    """Whether ``measure`` was blanked for confidentiality (fewer than k firms) in this row."""
    if row is None or "suppressed" not in row.index:
        return False
    value = row["suppressed"]
    if value is None or value is pd.NA or not bool(value):
        return False
    from parkgeo.metrics import MONEY_COLUMNS

    return measure in MONEY_COLUMNS


def _fmt_cell(row: pd.Series | None, measure: str, lang: str) -> str:
    if _is_suppressed(row, measure):
        return esc(label("suppressed", lang))
    return esc(fmt_number(_value(row, measure)))


_TOP_ITEM = re.compile(r"^\s*([A-Z]\d{0,4})\s*\((\d+)\)\s*$")


def _top_industries_text(value: Any, lang: str) -> str:
    """``"C27 (12); C39 (8)"`` (metrics' top_industries) with industry names added."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        items = [str(v) for v in value]
    else:
        items = str(value).split(";")
    parsed = [_TOP_ITEM.match(item) for item in items]
    if not items or not all(parsed):
        return (
            str(value)
            if not isinstance(value, (list, tuple, np.ndarray, pd.Series))
            else "; ".join(items)
        )
    names = _industry_labels([m.group(1) for m in parsed if m], lang)
    firms = label("firms", lang)
    return "; ".join(
        f"{names.get(m.group(1), m.group(1))} ({int(m.group(2)):,} {firms})" for m in parsed if m
    )


def _park_popup(
    park: pd.Series,
    row: pd.Series | None,
    *,
    lang: str,
    year: int,
    baseline: str | None,
    gaps: pd.DataFrame | None,
) -> str:
    """HTML of one park's popup; every input string is escaped."""
    head = f"<h3>{esc(park['_label'])}</h3>"
    sub_parts = [esc(park["_id"])]
    for col in ("district", "level"):
        if col in park.index and esc(park[col]):
            sub_parts.append(esc(park[col]))
    area = _value(row, "area_ha")
    if area is None and "approved_area_ha" in park.index:
        area = park["approved_area_ha"]
    if area is not None and not (isinstance(area, float) and np.isnan(area)):
        sub_parts.append(f"{esc(fmt_number(area))} {esc(label('ha', lang))}")
    n_ent = _value(row, "n_enterprises")
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
        if row is None or measure not in row.index:
            continue
        name, unit = _measure_label(measure, lang)
        status_col = f"{measure}_status"
        progress_html = ""
        if f"{measure}_progress" in row.index or status_col in row.index:
            status = normalize_status(_value(row, status_col))
            progress = fmt_progress(_value(row, f"{measure}_progress"))
            progress_html = f'{esc(progress)} <span class="pg-st-{status}">{esc(status_label(status, lang))}</span>'
        table.append(
            f"<tr><td>{esc(name)} <small>({esc(unit)})</small></td>"
            f"<td>{_fmt_cell(row, measure, lang)}</td>"
            f"<td>{esc(fmt_change(_value(row, f'{measure}_change')))}</td>"
            f"<td>{progress_html}</td></tr>"
        )
    table.append("</table>")
    body = "".join(table) if len(table) > 2 else f"<div>{esc(label('no_data', lang))}</div>"

    top = _top_industries_text(_value(row, "top_industries"), lang)
    top_html = f"<div><b>{esc(label('top_industries', lang))}</b>: {esc(top)}</div>" if top else ""
    gaps_html = ""
    if gaps is not None:
        items = []
        for _, g in gaps.iterrows():
            code = g.get("industry")
            if code is None or code is pd.NA or (isinstance(code, float) and np.isnan(code)):
                continue
            gap_name = g.get("industry_name" if lang == "zh" else "industry_name_en")
            reason = g.get("reason_zh" if lang == "zh" and "reason_zh" in g.index else "reason")
            items.append(
                f"<li><b>{esc(code)} {esc(gap_name)}</b>"
                + (f' <span class="pg-reason">{esc(reason)}</span>' if esc(reason) else "")
                + "</li>"
            )
        flag = ""
        if "no_sei" in gaps.columns and len(gaps) and bool(gaps["no_sei"].fillna(False).any()):
            flag = f'<div class="pg-st-behind">{esc(label("strategic_none", lang))}</div>'
        listing = f"<ol>{''.join(items)}</ol>" if items else f" {esc(label('none', lang))}"
        gaps_html = f"<div><b>{esc(label('missing', lang))}</b>:{listing}</div>{flag}"
    return head + sub + body + top_html + gaps_html


def _gaps_by_park(gaps: pd.DataFrame | None, per_park: int) -> dict[str, pd.DataFrame]:
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


# ------------------------------------------------------------------------------------------
# the builder shared by all maps
# ------------------------------------------------------------------------------------------


def _layer_name(text: str) -> str:
    """A layer-control label: HTML-escaped (Leaflet inserts it as HTML) and with no ``{``,
    which folium's own LayerControl template would read as the start of a Jinja tag."""
    return esc(text).replace("{", "&#123;").replace("}", "&#125;")


class _Builder:
    """Adds parkgeo layers to an offline folium map, remembering drawing order and legends."""

    def __init__(
        self,
        *,
        lang: str,
        tiles: _Tiles,
        title: str,
        subtitle: str,
        source_note: str,
        bounds: list[list[float]] | None,
    ) -> None:
        from parkgeo._maplayers import OfflineMap

        self.lang = lang
        self.tiles = tiles
        center = (
            [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
            if bounds
            else [39.13, 117.2]
        )
        self.m = OfflineMap(
            location=[round(c, 6) for c in center],
            zoom_start=9,
            tiles=None,
            prefer_canvas=True,
            control_scale=True,
            page_title=esc(title),
        )
        if bounds:
            from parkgeo._maplayers import FitView

            self.m.add_child(FitView(bounds))
        self.bounds = bounds
        self.baseline: str | None = None
        self.title = title
        self.subtitle = subtitle
        self.notes: list[str] = [source_note]
        self.back_to_front: list[Any] = []  # (rank, layer): rank orders the canvas stack
        self.legends: list[tuple[Any, Any]] = []
        self.point_layers: list[Any] = []
        if tiles.provider is not None:
            import folium

            folium.TileLayer(
                tiles=tiles.provider,
                name=_layer_name(str(tiles.name)),
                overlay=True,
                control=True,
                show=True,
            ).add_to(self.m)
            self.notes.append(label("tiles_note", lang, provider=tiles.name))
        else:
            self.notes.append(label("no_tiles_note", lang))

    # layers -------------------------------------------------------------------------------
    def data(self, payload: Any, name: str) -> Any:
        from parkgeo._maplayers import DataScript

        element = DataScript(payload, name=name)
        self.m.add_child(element)
        return element

    def polygons(
        self,
        source: Any,
        *,
        name: str,
        rank: int,
        styles: Sequence[dict[str, Any]],
        tooltips: Sequence[str] | None,
        popups: Sequence[str] | None = None,
        popup_source: Any = None,
        overlay: bool = True,
        show: bool = True,
        legend_html: str | None = None,
        interactive: bool = True,
    ) -> Any:
        from parkgeo._maplayers import GeoJsonLayer

        layer = GeoJsonLayer(
            source,
            name=_layer_name(name),
            styles=styles,
            tooltips=tooltips,
            popups=popups,
            popup_source=popup_source,
            overlay=overlay,
            show=show,
            interactive=interactive,
        )
        self.m.add_child(layer)
        self.back_to_front.append((rank, layer))
        if legend_html is not None:
            self.legend(layer, legend_html)
        return layer

    def legend(self, layer: Any, html_text: str, position: str = "bottomright") -> None:
        from parkgeo._maplayers import HtmlControl

        control = HtmlControl(html_text, position=position, css="pg-box pg-legend", always=False)
        self.m.add_child(control)
        self.legends.append((layer, control))

    def points(
        self, payload: dict[str, Any], *, name: str, legend_html: str, show: bool = True
    ) -> Any:
        from parkgeo._maplayers import PointLayer

        layer = PointLayer(payload, name=_layer_name(name), show=show)
        self.m.add_child(layer)
        self.point_layers.append(layer)
        self.legend(layer, legend_html, position="bottomleft")
        return layer

    def finish(self) -> folium.Map:
        import folium

        from parkgeo._maplayers import HtmlControl, Orchestrator, TitleBox

        sub = f"<div>{esc(self.subtitle)}</div>" if self.subtitle else ""
        self.m.add_child(TitleBox(f"<h1>{esc(self.title)}</h1>{sub}"))
        notes = "<br>".join(esc(n) for n in self.notes if n)
        self.m.add_child(
            HtmlControl(notes, position="bottomleft", css="pg-box pg-source", always=True)
        )
        folium.LayerControl(collapsed=False, position="topright").add_to(self.m)
        order = [layer for _, layer in sorted(self.back_to_front, key=lambda t: t[0])]
        self.m.add_child(Orchestrator(order=order, legends=self.legends))
        return self.m


# ------------------------------------------------------------------------------------------
# layer recipes
# ------------------------------------------------------------------------------------------

_RANK_DISTRICTS, _RANK_PARKS, _RANK_HULLS = 0, 1, 2


def _add_districts(b: _Builder, districts: Any, *, show: bool = True) -> None:
    d = _polygons_4326(districts, "districts", id_column=None)
    geoms = _display_geoms(d.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": _feature_collection(geoms)}, "pg_districts")
    style = {
        "color": "#8a8a8a",
        "weight": 1.2,
        "dashArray": "4 3",
        "fillColor": "#ffffff",
        "fillOpacity": 0.45,
    }
    b.polygons(
        source,
        name=label("districts", b.lang),
        rank=_RANK_DISTRICTS,
        styles=[style] * len(d),
        tooltips=[esc(n) for n in _district_names(d, b.lang)],
        overlay=True,
        show=show,
    )


def _district_names(d: Any, lang: str) -> list[str]:
    """English names (``name_en``) on English maps when the layer has them, else ``name``."""
    labels = [str(v) for v in d["_label"]]
    if lang != "en" or "name_en" not in d.columns:
        return labels
    return [
        str(en) if isinstance(en, str) and en.strip() else zh
        for en, zh in zip(d["name_en"].tolist(), labels, strict=True)
    ]


@dataclass
class _ParkSet:
    parks: Any  # EPSG:4326 copy with _id, _label
    rows: pd.DataFrame  # metrics of the year indexed by park_id
    source: Any  # DataScript with fc + popups


def _park_set(
    b: _Builder,
    parks: Any,
    metrics: pd.DataFrame | None,
    *,
    year: int,
    gaps: pd.DataFrame | None,
    gaps_per_park: int,
) -> _ParkSet:
    p = _polygons_4326(parks, "parks", id_column="park_id")
    if p["_id"].duplicated().any():
        dup = p["_id"][p["_id"].duplicated()].iloc[0]
        raise ParkgeoError(f"parks have a duplicate park_id {dup!r}: each park must be unique")
    rows = _rows_for_year(metrics, year) if metrics is not None else pd.DataFrame()
    baseline = b.baseline
    by_park = _gaps_by_park(gaps, gaps_per_park)
    popups = []
    for _, park in p.iterrows():
        row = rows.loc[park["_id"]] if park["_id"] in rows.index else None
        popups.append(
            _park_popup(
                park,
                row,
                lang=b.lang,
                year=year,
                baseline=baseline,
                gaps=by_park.get(park["_id"], pd.DataFrame()) if gaps is not None else None,
            )
        )
    geoms = _display_geoms(p.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": _feature_collection(geoms), "popups": popups}, "pg_parks")
    return _ParkSet(p, rows, source)


def _park_style(fill: str, *, weight: float = 1.0, line: str = _PARK_LINE) -> dict[str, Any]:
    return {"color": line, "weight": weight, "fillColor": fill, "fillOpacity": 0.78}


def _add_choropleth(
    b: _Builder,
    ps: _ParkSet,
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
            if (pid not in ps.rows.index or _is_suppressed(ps.rows.loc[pid], measure))
            else _to_float(_value(ps.rows.loc[pid], measure))
            for pid in ids
        ],
        dtype=float,
    )
    classes = classify(values, scheme=scheme, k=k, bins=bins, palette=palette)
    colors = classes.color_of()
    name, unit = _measure_label(measure, b.lang)
    change_col = f"{measure}_change"
    tips = []
    for i, (pid, pname) in enumerate(zip(ids, ps.parks["_label"], strict=True)):
        row = ps.rows.loc[pid] if pid in ps.rows.index else None
        line = (
            f"{_fmt_cell(row, measure, b.lang)} {esc(unit)}"
            if not np.isnan(values[i]) or row is not None
            else esc(label("no_data", b.lang))
        )
        change = _value(row, change_col)
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
        rank=_RANK_PARKS,
        styles=[_park_style(c) for c in colors],
        tooltips=tips,
        popup_source=ps.source,
        overlay=overlay,
        show=show,
        legend_html=legend,
    )


def _to_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _add_progress(b: _Builder, ps: _ParkSet, measure: str, *, show: bool) -> Any:
    name, _ = _measure_label(measure, b.lang)
    status_col, progress_col = f"{measure}_status", f"{measure}_progress"
    statuses, tips = [], []
    for pid, pname in zip(ps.parks["_id"], ps.parks["_label"], strict=True):
        row = ps.rows.loc[pid] if pid in ps.rows.index else None
        status = normalize_status(_value(row, status_col))
        statuses.append(status)
        progress = fmt_progress(_value(row, progress_col))
        change = fmt_change(_value(row, f"{measure}_change"))
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
        rank=_RANK_PARKS,
        styles=[_park_style(STATUS_COLORS[s]) for s in statuses],
        tooltips=tips,
        popup_source=ps.source,
        overlay=False,
        show=show,
        legend_html=legend,
    )


def _clusters_frame(clusters: Any) -> Any:
    if clusters is None:
        return None
    frame = getattr(clusters, "clusters", clusters)
    return _polygons_4326(frame, "clusters", id_column=None)


def _add_hulls(b: _Builder, clusters: Any, *, parks: Any | None, show: bool = True) -> Any:
    c = clusters
    if c is None or not len(c):
        return None
    park_names = dict(zip(parks["_id"], parks["_label"], strict=True)) if parks is not None else {}
    codes = [str(x) for x in c["industry"]] if "industry" in c.columns else [""] * len(c)
    names = _industry_labels(codes, b.lang)
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
    geoms = _display_geoms(c.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": _feature_collection(geoms)}, "pg_clusters")
    sections = sorted({code[:1] for code in codes if code[:1] in SECTION_COLORS})
    legend = _section_legend(b.lang, label("clusters", b.lang), sections, None)
    return b.polygons(
        source,
        name=label("clusters", b.lang),
        rank=_RANK_HULLS,
        styles=styles,
        tooltips=tips,
        popups=pops,
        overlay=True,
        show=show,
        legend_html=legend,
    )


def _section_legend(
    lang: str, title: str, sections: Sequence[str], counts: Mapping[str, int] | None
) -> str:
    names = _industry_labels(list(sections), lang)
    return category_legend_html(
        title,
        [
            (SECTION_COLORS[s], names.get(s, s), counts.get(s) if counts is not None else None)
            for s in sections
        ],
        shape="dot",
    )


def _enterprise_snapshot(
    enterprises: pd.DataFrame, year: int | None
) -> tuple[pd.DataFrame, int | None]:
    if not isinstance(enterprises, pd.DataFrame):
        raise SchemaError(f"enterprises must be a DataFrame; got {type(enterprises).__name__}")
    from parkgeo.coords import lonlat_of

    frame = enterprises
    chosen = year
    if "year" in frame.columns:
        years = pd.to_numeric(frame["year"], errors="coerce").to_numpy(dtype=float)
        present = [int(y) for y in np.unique(years[np.isfinite(years)])]
        if present:
            if chosen is None or int(chosen) not in present:
                # the map's year is not among the firms': their latest year up to it
                target = present[-1] if chosen is None else int(chosen)
                earlier = [y for y in present if y <= target]
                chosen = earlier[-1] if earlier else present[0]
            frame = frame[years == int(chosen)]
    if "enterprise_id" in frame.columns:
        frame = frame[~frame["enterprise_id"].astype(str).duplicated().to_numpy()]
    lon, lat = lonlat_of(frame)
    out = pd.DataFrame(
        {
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
            "industry": frame["industry"].to_numpy(dtype=object)
            if "industry" in frame.columns
            else None,
            "name": frame["name"].to_numpy(dtype=object) if "name" in frame.columns else None,
            "park_id": frame["park_id"].to_numpy(dtype=object)
            if "park_id" in frame.columns
            else None,
        },
        index=frame.index,
    )
    return out, chosen


def _add_enterprises(
    b: _Builder,
    enterprises: pd.DataFrame,
    *,
    year: int | None,
    parks: Any | None,
    max_points: int,
    names: bool,
    show: bool = True,
) -> Any:
    snap, chosen = _enterprise_snapshot(enterprises, year)
    valid = np.isfinite(snap["lon"].to_numpy()) & np.isfinite(snap["lat"].to_numpy())
    n_invalid = int((~valid).sum())
    snap = snap[valid]
    total = len(snap)
    if total > max_points:
        # an evenly spread, deterministic subset (every n-th firm in input order)
        take = np.linspace(0, total - 1, max_points).round().astype(np.int64)
        snap = snap.iloc[np.unique(take)]
        b.notes.append(label("sampled", b.lang, shown=f"{len(snap):,}", total=f"{total:,}"))
    if n_invalid:
        b.notes.append(label("points_omitted", b.lang, n=f"{n_invalid:,}"))
    lon, lat = _display_points(snap["lon"].to_numpy(), snap["lat"].to_numpy(), b.tiles)
    codes = pd.Series(snap["industry"].to_numpy(dtype=object), dtype="string")
    letter = codes.str[:1]
    section = letter.where(letter.isin(list(SECTION_COLORS)), "?").fillna("?")
    present = set(section.unique())
    sections = sorted(present - {"?"}) + (["?"] if "?" in present else [])
    colors = [SECTION_COLORS.get(s, "#555555") for s in sections]
    lon0 = float(np.floor(lon.min() * 100) / 100) if len(lon) else 0.0
    lat0 = float(np.floor(lat.min() * 100) / 100) if len(lat) else 0.0
    x = np.round((lon - lon0) * COORD_SCALE).astype(np.int64)
    y = np.round((lat - lat0) * COORD_SCALE).astype(np.int64)
    code_index, code_list = pd.factorize(codes, sort=True)  # -1 where missing
    code_labels = _industry_labels([str(c) for c in code_list], b.lang)
    fields: list[dict[str, Any]] = []
    if names and snap["name"].notna().any():
        raw = pd.Series(snap["name"].to_numpy(dtype=object), dtype="string")
        fields.append(
            {"values": raw.astype(object).where(raw.notna(), None).tolist(), "bold": True}
        )
    fields.append(
        {
            "label": label("industry", b.lang),
            "values": code_index.tolist(),
            "lookup": [code_labels.get(str(c), str(c)) for c in code_list],
            "missing": "",
        }
    )
    if snap["park_id"].notna().any():
        park_names = (
            dict(zip(parks["_id"], parks["_label"], strict=True)) if parks is not None else {}
        )
        pids = pd.Series(snap["park_id"].to_numpy(dtype=object), dtype="string")
        park_index, park_list = pd.factorize(pids, sort=True)
        fields.append(
            {
                "label": label("park", b.lang),
                "values": park_index.tolist(),
                "lookup": [park_names.get(str(p), str(p)) for p in park_list],
                "missing": label("outside_parks", b.lang),
            }
        )
    payload = {
        "lon0": lon0,
        "lat0": lat0,
        "scale": COORD_SCALE,
        "x": x.tolist(),
        "y": y.tolist(),
        "c": pd.Categorical(section, categories=sections).codes.tolist(),
        "colors": colors,
        "fields": fields,
    }
    counts = section.value_counts()
    legend_sections = [s for s in sections if s != "?"]
    legend = _section_legend(
        b.lang,
        label("enterprises_legend", b.lang),
        legend_sections,
        {s: int(counts.get(s, 0)) for s in legend_sections},
    )
    year_text = str(chosen) if chosen is not None else ""
    return b.points(
        payload,
        name=label("enterprises", b.lang, year=year_text)
        .replace(" ,", ",")
        .replace("（年，", "（"),
        legend_html=legend,
        show=show,
    )


# ------------------------------------------------------------------------------------------
# public maps
# ------------------------------------------------------------------------------------------


def planner_map(
    parks: Any,
    metrics: pd.DataFrame,
    *,
    enterprises: pd.DataFrame | None = None,
    districts: Any = None,
    clusters: Any = None,
    gaps: pd.DataFrame | None = None,
    year: int | None = None,
    baseline_year: int | None = None,
    lang: str = "en",
    scheme: str = "fisherjenks",
    k: int = 5,
    bins: Mapping[str, Sequence[float]] | None = None,
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
    measures: Sequence[str] = PLANNER_MEASURES,
    progress: Sequence[str] = PROGRESS_MEASURES,
    max_points: int = DEFAULT_MAX_POINTS,
    enterprise_names: bool = True,
    gaps_per_park: int = GAPS_PER_PARK,
    visible: Sequence[str] = ("districts",),
) -> folium.Map:
    """The planner's map: park choropleths, target progress, districts, enterprises, clusters.

    Layers (switched in the layer control): one park choropleth per measure (tax per hectare,
    energy per hectare, energy per unit of value added; radio buttons, each with its own
    legend of class breaks and units), one target-progress layer per measure with a target
    status (met / on track / behind), and the overlays districts (a light base), enterprises
    (canvas points coloured by GB/T 4754 section; click for name, industry, park) and industry
    cluster hulls. Each park has a tooltip with its figure and a popup with its figures, the
    change against the baseline, target progress, top industries and missing clusters with
    their reasons.

    Parameters
    ----------
    parks : geopandas.GeoDataFrame
        Park polygons with ``park_id`` (and ``name``); any CRS (a missing CRS is an error).
    metrics : pandas.DataFrame
        :func:`parkgeo.metrics.park_metrics` output: one row per park and year.
    enterprises : pandas.DataFrame, optional
        Enterprises (canonical table or :func:`parkgeo.join.assign_parks` output, whose
        ``park_id`` names the park in the click popup); the map's year is drawn.
    districts : geopandas.GeoDataFrame, optional
        District boundaries, drawn as a light base (``name`` shown on hover).
    clusters : ClusterResult or geopandas.GeoDataFrame, optional
        :func:`parkgeo.clusters.industry_clusters` output; hulls are drawn.
    gaps : pandas.DataFrame, optional
        :func:`parkgeo.gaps.missing_clusters` output, listed in the park popups.
    year : int, optional
        Year shown; default the latest in ``metrics``.
    baseline_year : int, optional
        Year the changes are measured from, for the labels; default read from the metrics
        (the year whose status is ``baseline``).
    lang : {"en", "zh"}
        Language of every label.
    scheme : {"fisherjenks", "quantiles", "equalinterval", "userdefined"}
        Class breaks (mapclassify schemes; Fisher-Jenks is computed exactly).
    k : int
        Number of classes (2-9).
    bins : mapping of measure to upper class bounds, optional
        Required for ``scheme="userdefined"``, e.g. ``{"tax_per_ha": [50, 100, 200]}``.
    tiles : str or xyzservices.TileProvider, optional
        Basemap (needs network when the map is opened); default none. With a GCJ-02 provider
        (``Gaode.*``/AutoNavi, Tencent) every geometry is drawn in GCJ-02 so it lines up.
    title, source_note : str, optional
        Title and data-source note (escaped); defaults in ``lang``.
    measures, progress : sequence of str
        Measures drawn as choropleths / as target-progress layers.
    max_points : int
        Most enterprises drawn (an evenly spread subset above it, noted on the map).
    enterprise_names : bool
        Include firm names in the click popups (the largest part of the file).
    gaps_per_park : int
        Missing clusters listed per park.
    visible : sequence of {"districts", "enterprises", "clusters"}
        Overlays switched on when the map opens (the others are one click away). By default
        only districts, so the park choropleth reads clearly at city scale.

    Returns
    -------
    folium.Map
        Write it with :func:`save_map` (offline, deterministic).

    Raises
    ------
    SchemaError, CRSError, ParkgeoError
        On missing columns, a layer without CRS, an unknown year, scheme or tiles name.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> parks = gpd.GeoDataFrame({"park_id": ["P1", "P2"], "name": ["East", "West"]},
    ...                          geometry=[box(117.0, 39.0, 117.1, 39.1),
    ...                                    box(117.2, 39.0, 117.3, 39.1)], crs="EPSG:4326")
    >>> metrics = pd.DataFrame({"park_id": ["P1", "P2"], "year": [2015, 2015],
    ...                         "tax_per_ha": [120.0, 45.5], "energy_per_ha": [3.1, 8.0],
    ...                         "energy_per_value_added": [0.21, 0.5]})
    >>> m = planner_map(parks, metrics, scheme="equalinterval", k=2)
    >>> html = map_html(m)
    >>> "Tax per hectare" in html, "https://cdn" in html
    (True, False)
    """
    _check_common(lang, scheme, k)
    progress = (
        [
            p
            for p in progress
            if f"{p}_status" in metrics.columns or f"{p}_progress" in metrics.columns
        ]
        if isinstance(metrics, pd.DataFrame)
        else []
    )
    _check_metrics(metrics, list(measures))
    shown = set(visible)
    unknown = shown - {"districts", "enterprises", "clusters"}
    if unknown:
        raise ParkgeoError(
            f"visible takes 'districts', 'enterprises', 'clusters'; got {sorted(unknown)}"
        )
    bins_by = _check_bins(scheme, bins, measures)
    chosen = _pick_year(metrics, year)
    tl = _resolve_tiles(tiles)
    parks4326 = _polygons_4326(parks, "parks", id_column="park_id")
    dist4326 = (
        _polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    cl = _clusters_frame(clusters)

    baseline = _baseline_of(metrics, baseline_year)
    b = _Builder(
        lang=lang,
        tiles=tl,
        title=title if title is not None else label("title", lang, year=chosen),
        subtitle=_subtitle(metrics, chosen, lang, baseline),
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=_bounds(dist4326 if dist4326 is not None else parks4326),
    )
    b.baseline = baseline
    if dist4326 is not None:
        _add_districts(b, districts, show="districts" in shown)
    ps = _park_set(b, parks, metrics, year=chosen, gaps=gaps, gaps_per_park=gaps_per_park)
    first = True
    for measure in measures:
        _add_choropleth(
            b, ps, measure, scheme=scheme, k=int(k), bins=bins_by.get(measure), show=first
        )
        first = False
    for measure in progress:
        _add_progress(b, ps, measure, show=False)
    if cl is not None:
        _add_hulls(b, cl, parks=ps.parks, show="clusters" in shown)
    if enterprises is not None:
        _add_enterprises(
            b,
            enterprises,
            year=chosen,
            parks=ps.parks,
            max_points=max_points,
            names=enterprise_names,
            show="enterprises" in shown,
        )
    return b.finish()


def _check_bins(scheme: str, bins: Any, measures: Sequence[str]) -> dict[str, Sequence[float]]:
    if scheme != "userdefined":
        return {}
    if isinstance(bins, Mapping):
        missing = [m for m in measures if m not in bins]
        if missing:
            raise ParkgeoError(
                f"scheme='userdefined' needs bins for every mapped measure; missing {missing} "
                '(e.g. bins={"tax_per_ha": [50, 100, 200]})'
            )
        return {m: list(bins[m]) for m in measures}
    if bins is not None and len(measures) == 1:
        return {measures[0]: list(bins)}
    raise ParkgeoError(
        "scheme='userdefined' needs bins={measure: [upper bound of each class, ...]} for "
        f"the measures {list(measures)}"
    )


def _subtitle(metrics: pd.DataFrame, year: int, lang: str, baseline: str | None) -> str:
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
        if f"{f.measure}_change" not in metrics.columns or not np.isfinite(f.change):
            continue
        name, _ = _measure_label(f.measure, lang)
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


def density_map(
    parks: Any,
    metrics: pd.DataFrame,
    *,
    measure: str = "tax_per_ha",
    year: int | None = None,
    baseline_year: int | None = None,
    districts: Any = None,
    lang: str = "en",
    scheme: str = "fisherjenks",
    k: int = 5,
    bins: Sequence[float] | None = None,
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
) -> folium.Map:
    """One park choropleth (default tax per hectare) with its legend, tooltips and popups.

    Parameters are as in :func:`planner_map`; ``measure`` is any numeric column of
    ``metrics`` (units are labelled for parkgeo's own measures), ``bins`` the upper class
    bounds for ``scheme="userdefined"``. When ``metrics`` carry a target status for the
    measure, a target-progress layer is added.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> parks = gpd.GeoDataFrame({"park_id": ["P1", "P2", "P3"]},
    ...     geometry=[box(117.0, 39.0, 117.1, 39.1), box(117.2, 39.0, 117.3, 39.1),
    ...               box(117.4, 39.0, 117.5, 39.1)], crs="EPSG:4326")
    >>> metrics = pd.DataFrame({"park_id": ["P1", "P2", "P3"], "year": 2015,
    ...                         "energy_per_ha": [3.1, 8.0, None]})
    >>> html = map_html(density_map(parks, metrics, measure="energy_per_ha", k=2))
    >>> "Energy per hectare" in html and "tce/ha" in html
    True
    """
    _check_common(lang, scheme, k)
    _check_metrics(metrics, [measure])
    bins_by = _check_bins(scheme, bins, [measure])
    chosen = _pick_year(metrics, year)
    tl = _resolve_tiles(tiles)
    parks4326 = _polygons_4326(parks, "parks", id_column="park_id")
    dist4326 = (
        _polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    name, _ = _measure_label(measure, lang)
    baseline = _baseline_of(metrics, baseline_year)
    b = _Builder(
        lang=lang,
        tiles=tl,
        title=title
        if title is not None
        else label("density_title", lang, measure=name, year=chosen),
        subtitle=_subtitle(metrics, chosen, lang, baseline),
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=_bounds(parks4326),
    )
    b.baseline = baseline
    if dist4326 is not None:
        _add_districts(b, districts)
    ps = _park_set(b, parks, metrics, year=chosen, gaps=None, gaps_per_park=0)
    _add_choropleth(b, ps, measure, scheme=scheme, k=int(k), bins=bins_by.get(measure), show=True)
    if f"{measure}_status" in metrics.columns:
        _add_progress(b, ps, measure, show=False)
    return b.finish()


def cluster_map(
    clusters: Any,
    *,
    enterprises: pd.DataFrame | None = None,
    parks: Any = None,
    districts: Any = None,
    industries: Sequence[str] | None = None,
    year: int | None = None,
    lang: str = "en",
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
) -> folium.Map:
    """Industry cluster hulls coloured by GB/T 4754 section, over parks and enterprises.

    Parameters
    ----------
    clusters : ClusterResult or geopandas.GeoDataFrame
        :func:`parkgeo.clusters.industry_clusters` output.
    enterprises : pandas.DataFrame, optional
        Firms drawn as points (those of ``industries`` only, when given).
    parks, districts : geopandas.GeoDataFrame, optional
        Park outlines (name on hover) and district base.
    industries : sequence of str, optional
        Only clusters (and firms) whose industry code starts with one of these, e.g.
        ``["C27", "C39"]``.
    year, lang, tiles, title, source_note, max_points
        As in :func:`planner_map`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hulls = gpd.GeoDataFrame({"cluster_id": [0], "industry": ["C27"], "n_firms": [12]},
    ...                          geometry=[box(117.0, 39.0, 117.05, 39.05)], crs="EPSG:4326")
    >>> html = map_html(cluster_map(hulls))
    >>> "C27" in html and "Industry clusters" in html
    True
    """
    check_lang(lang)
    cl = _clusters_frame(clusters)
    if cl is None:
        raise ParkgeoError("cluster_map needs clusters (parkgeo.clusters.industry_clusters output)")
    if industries is not None:
        wanted = tuple(str(i) for i in industries)
        cl = cl[cl["industry"].astype(str).str.startswith(wanted).to_numpy()]
        if enterprises is not None and "industry" in enterprises.columns:
            enterprises = enterprises[
                enterprises["industry"].astype(str).str.startswith(wanted).to_numpy()
            ]
    if year is None and "year" in cl.columns and cl["year"].notna().any():
        year = int(pd.to_numeric(cl["year"], errors="coerce").dropna().max())
    tl = _resolve_tiles(tiles)
    parks4326 = _polygons_4326(parks, "parks", id_column="park_id") if parks is not None else None
    dist4326 = (
        _polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    b = _Builder(
        lang=lang,
        tiles=tl,
        title=title
        if title is not None
        else label("cluster_title", lang, year=year if year is not None else ""),
        subtitle="",
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=_bounds(cl if len(cl) else parks4326, parks4326),
    )
    if dist4326 is not None:
        _add_districts(b, districts)
    if parks4326 is not None:
        _add_park_outlines(b, parks4326)
    _add_hulls(b, cl, parks=parks4326, show=True)
    if enterprises is not None:
        _add_enterprises(
            b, enterprises, year=year, parks=parks4326, max_points=max_points, names=True
        )
    return b.finish()


def _add_park_outlines(b: _Builder, parks4326: Any) -> Any:
    geoms = _display_geoms(parks4326.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": _feature_collection(geoms)}, "pg_park_outlines")
    style = {"color": _PARK_LINE, "weight": 1.5, "fillColor": "#bdbdbd", "fillOpacity": 0.25}
    return b.polygons(
        source,
        name=label("parks", b.lang),
        rank=_RANK_PARKS,
        styles=[style] * len(parks4326),
        tooltips=[
            f"<b>{esc(n)}</b><br>{esc(i)}"
            for n, i in zip(parks4326["_label"], parks4326["_id"], strict=True)
        ],
        overlay=True,
        show=True,
    )


def gap_map(
    parks: Any,
    gaps: pd.DataFrame,
    *,
    metrics: pd.DataFrame | None = None,
    clusters: Any = None,
    districts: Any = None,
    year: int | None = None,
    baseline_year: int | None = None,
    lang: str = "en",
    k: int = 5,
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
    gaps_per_park: int = GAPS_PER_PARK,
) -> folium.Map:
    """Parks coloured by how strongly a missing cluster is indicated, with the gaps listed.

    Each park's colour is the score (0-1) of its best-ranked missing cluster; parks with no
    strategic emerging industry at all get a thick red outline. The popup lists the park's
    missing clusters with their reasons (and its figures when ``metrics`` are given). With
    ``clusters``, the hulls of the city clusters nearest to the parks that lack them
    (``nearest_cluster_id``; else every cluster of a listed industry) are overlaid.

    Parameters
    ----------
    parks : geopandas.GeoDataFrame
        Park polygons.
    gaps : pandas.DataFrame
        :func:`parkgeo.gaps.missing_clusters` output.
    metrics, clusters, districts, year, lang, k, tiles, title, source_note, gaps_per_park
        As in :func:`planner_map`.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> parks = gpd.GeoDataFrame({"park_id": ["P1", "P2"], "name": ["A", "B"]},
    ...     geometry=[box(117.0, 39.0, 117.1, 39.1), box(117.2, 39.0, 117.3, 39.1)],
    ...     crs="EPSG:4326")
    >>> gaps = pd.DataFrame({"park_id": ["P1", "P2"], "rank": [1, 1],
    ...                      "industry": ["C27", "C39"], "score": [0.8, 0.4],
    ...                      "reason": ["peers have it", "related industries present"]})
    >>> html = map_html(gap_map(parks, gaps, k=2))
    >>> "peers have it" in html
    True
    """
    _check_common(lang, "fisherjenks", k)
    if not isinstance(gaps, pd.DataFrame) or "park_id" not in gaps.columns:
        raise SchemaError("gaps must be the DataFrame of parkgeo.gaps.missing_clusters")
    if year is None:
        if metrics is not None:
            year = _pick_year(metrics, None)
        elif "year" in gaps.columns and gaps["year"].notna().any():
            year = int(pd.to_numeric(gaps["year"], errors="coerce").dropna().max())
    tl = _resolve_tiles(tiles)
    parks4326 = _polygons_4326(parks, "parks", id_column="park_id")
    dist4326 = (
        _polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    b = _Builder(
        lang=lang,
        tiles=tl,
        title=title
        if title is not None
        else label("gap_title", lang, year=year if year is not None else ""),
        subtitle="",
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=_bounds(dist4326 if dist4326 is not None else parks4326),
    )
    if dist4326 is not None:
        _add_districts(b, districts)
    if metrics is not None and year is not None:
        _check_metrics(metrics, [])
        b.baseline = _baseline_of(metrics, baseline_year)
    ps = _park_set(
        b,
        parks,
        metrics if metrics is not None and year is not None else None,
        year=year if year is not None else 0,
        gaps=gaps,
        gaps_per_park=gaps_per_park,
    )
    by_park = _gaps_by_park(gaps, gaps_per_park)
    scores, tips, no_sei = [], [], []
    for pid, pname in zip(ps.parks["_id"], ps.parks["_label"], strict=True):
        g = by_park.get(pid)
        top = (
            g.iloc[0]
            if g is not None and len(g) and not pd.isna(g.iloc[0].get("industry"))
            else None
        )
        score = _to_float(top.get("score")) if top is not None and "score" in top.index else np.nan
        scores.append(score)
        flag = g is not None and "no_sei" in g.columns and bool(g["no_sei"].fillna(False).any())
        no_sei.append(flag)
        if top is not None:
            iname = top.get("industry_name" if lang == "zh" else "industry_name_en")
            tip = f"<b>{esc(pname)}</b><br>{esc(label('missing', lang))}: {esc(top.get('industry'))} {esc(iname)} ({esc(fmt_number(score))})"
        else:
            tip = (
                f"<b>{esc(pname)}</b><br>{esc(label('missing', lang))}: {esc(label('none', lang))}"
            )
        if flag:
            tip += f"<br>{esc(label('strategic_none', lang))}"
        tips.append(tip)
    classes = classify(np.asarray(scores, dtype=float), scheme="equalinterval", k=k, palette="PuRd")
    colors = classes.color_of()
    styles = [
        _park_style(c, weight=3.5 if flag else 1.0, line="#c62828" if flag else _PARK_LINE)
        for c, flag in zip(colors, no_sei, strict=True)
    ]
    legend = class_legend_html(
        label("gaps", lang),
        "score 0–1" if lang == "en" else "得分 0–1",
        classes,
        lang=lang,
        n_missing=int((classes.index < 0).sum()),
        note=f"▭ {label('strategic_none', lang)}" if any(no_sei) else "",
    )
    b.polygons(
        ps.source,
        name=label("gaps", lang),
        rank=_RANK_PARKS,
        styles=styles,
        tooltips=tips,
        popup_source=ps.source,
        overlay=False,
        show=True,
        legend_html=legend,
    )
    cl = _clusters_frame(clusters)
    if cl is not None and len(cl):
        listed = pd.concat(list(by_park.values())) if by_park else gaps.iloc[:0]
        if "nearest_cluster_id" in listed.columns and "cluster_id" in cl.columns:
            # the city's cluster nearest to each park that lacks it: where to look
            ids = set(
                pd.to_numeric(listed["nearest_cluster_id"], errors="coerce").dropna().astype(int)
            )
            keep = pd.to_numeric(cl["cluster_id"], errors="coerce").isin(ids).to_numpy()
        else:
            wanted = set(listed["industry"].dropna().astype(str)) if "industry" in listed else set()
            keep = cl["industry"].astype(str).isin(wanted).to_numpy()
        _add_hulls(b, cl[keep], parks=ps.parks, show=True)
    return b.finish()


# ------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------


def map_html(m: folium.Map) -> str:
    """The map's complete offline HTML page (same input, same text).

    Element ids are numbered in order instead of folium's random ones; links to Leaflet or
    markercluster on a CDN (from plain folium maps) are replaced by the inlined libraries,
    and any other external script or stylesheet raises :class:`~parkgeo.MissingAssetError`.
    """
    from parkgeo._maplayers import render_html

    return render_html(m)


def save_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write the map as one self-contained HTML file, atomically; return its path.

    The file opens from a disk or a share with no network and no Python: Leaflet is
    inlined, there are no CDN links, and the bytes are identical for identical input. A file
    above :data:`SIZE_BUDGET_MB` is written but logged as a warning.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hulls = gpd.GeoDataFrame({"cluster_id": [0], "industry": ["C27"], "n_firms": [12]},
    ...                          geometry=[box(117.0, 39.0, 117.05, 39.05)], crs="EPSG:4326")
    >>> out = save_map(cluster_map(hulls), pathlib.Path(tempfile.mkdtemp()) / "c.html")
    >>> out.read_bytes() == save_map(cluster_map(hulls), out.with_name("d.html")).read_bytes()
    True
    """
    from parkgeo.io import atomic_write

    data = map_html(m).encode("utf-8")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target, "wb") as fh:
        fh.write(data)
    size_mb = len(data) / 1e6
    if size_mb > SIZE_BUDGET_MB:
        log.warning(
            "%s is %.1f MB, above the %.0f MB budget of a map planners can open comfortably: "
            "draw fewer enterprises (max_points=, --max-points) or leave their names out "
            "(enterprise_names=False, --no-names)",
            target,
            size_mb,
            SIZE_BUDGET_MB,
        )
    return target
