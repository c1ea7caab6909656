"""Map inputs: checks of parks, metrics and options; basemap tiles; display coordinates
(GCJ-02 basemaps); geometry encoding; the year's rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import CRSError, ParkgeoError, SchemaError
from parkgeo._legend import (
    SCHEMES,
    check_lang,
)

log = logging.getLogger("parkgeo")


POPUP_MEASURES: tuple[str, ...] = (
    "tax_per_ha",
    "energy_per_ha",
    "energy_per_value_added",
    "labour_productivity",
    "profit",
)


CITY_ROW_IDS: tuple[str, ...] = ("ALL", "ALL_PARKS")


COORD_SCALE = 100_000  # points stored as integers of 1e-5 degree (about 1 m)


POLYGON_DECIMALS = 5


GCJ02_PROVIDER_KEYS = ("gaode", "autonavi", "amap", "tencent")


PARK_LINE = "#3d3d3d"


def check_common(lang: str, scheme: str, k: int) -> None:
    check_lang(lang)
    if scheme not in SCHEMES:
        raise ParkgeoError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= int(k) <= 9:
        raise ParkgeoError(f"k must be an integer from 2 to 9 classes; got {k!r}")


def polygons_4326(layer: Any, what: str, *, id_column: str | None) -> Any:
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


def check_metrics(metrics: pd.DataFrame, needed: Sequence[str]) -> None:
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


def pick_year(metrics: pd.DataFrame, year: int | None) -> int:
    """The map's year: ``year`` checked, else the latest in ``metrics`` (the one rule of
    :mod:`parkgeo.years`)."""
    from parkgeo.years import resolve_year

    chosen = resolve_year(metrics, year, what="metrics")
    if chosen is None:
        raise ParkgeoError("metrics have no year: nothing to map")
    return chosen


def rows_for_year(metrics: pd.DataFrame, year: int) -> pd.DataFrame:
    """The year's rows, one per park, indexed by park_id as text (city rows left out)."""
    ids = metrics["park_id"].astype(str)
    year_col = pd.to_numeric(metrics["year"], errors="coerce")
    keep = (year_col == year).to_numpy() & ~ids.isin(CITY_ROW_IDS).to_numpy()
    rows: pd.DataFrame = metrics.loc[keep].copy()
    rows.index = pd.Index(ids[keep].to_numpy(), name="park_id")
    if rows.index.has_duplicates:
        dup = rows.index[rows.index.duplicated()][0]
        raise ParkgeoError(f"metrics have several rows for park {dup!r} in {year}; expected one")
    return rows


def row_records(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``park_id -> {column: value}`` of :func:`rows_for_year` (a dict lookup per park is
    a thousand times cheaper than ``DataFrame.loc``)."""
    return {
        str(k): {str(c): v for c, v in record.items()}
        for k, record in rows.to_dict("index").items()
    }


def baseline_of(metrics: pd.DataFrame | None, given: int | None = None) -> str | None:
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


@dataclass(frozen=True)
class Tiles:
    provider: Any | None
    name: str | None
    gcj02: bool


def resolve_tiles(tiles: Any) -> Tiles:
    if tiles is None or (isinstance(tiles, str) and tiles.strip().lower() in ("", "none", "off")):
        return Tiles(None, None, False)
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
    return Tiles(provider, name, gcj)


def display_geoms(geoms: Any, tiles: Tiles) -> Any:
    """Geometries as drawn: WGS-84, or GCJ-02 over a GCJ-02 basemap so they line up."""
    if not tiles.gcj02:
        return geoms
    from parkgeo.coords import convert_geometry

    return convert_geometry(geoms, "wgs84", "gcj02")


def display_points(lon: np.ndarray, lat: np.ndarray, tiles: Tiles) -> tuple[np.ndarray, np.ndarray]:
    if not tiles.gcj02:
        return lon, lat
    from parkgeo.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    return np.asarray(glon, dtype=float), np.asarray(glat, dtype=float)


def feature_collection(geoms: Any) -> dict[str, Any]:
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


def bounds(*layers: Any) -> list[list[float]] | None:
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


def cell_value(row: Mapping[str, Any] | pd.Series | None, col: str) -> Any:
    """``row[col]``, None when absent or missing (a row is a Series or a dict)."""
    if row is None or col not in row:
        return None
    value = row[col]
    if value is pd.NA:
        return None
    return value


def withheld(row: Mapping[str, Any] | pd.Series | None, column: str) -> str:
    """The disclosure marker (``x``, ``<3``) to show instead of ``row[column]``, or ``""``
    (:func:`parkgeo.disclosure.withheld_marker`)."""
    if row is None or "disclosure" not in row:
        return ""
    from parkgeo.disclosure import withheld_marker

    return withheld_marker(row, column)


def is_suppressed(row: Mapping[str, Any] | pd.Series | None, measure: str) -> bool:
    """Whether ``measure`` was withheld in this row: by disclosure control (a protected
    table names each withheld figure) or by ``min_enterprises`` (every money figure)."""
    if row is not None and "disclosure" in row:
        return bool(withheld(row, measure))
    if row is None or "suppressed" not in row:
        return False
    value = row["suppressed"]
    if value is None or value is pd.NA or not bool(value):
        return False
    from parkgeo.metrics import MONEY_COLUMNS

    return measure in MONEY_COLUMNS


def to_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def clusters_frame(clusters: Any) -> Any:
    if clusters is None:
        return None
    frame = getattr(clusters, "clusters", clusters)
    return polygons_4326(frame, "clusters", id_column=None)


def check_bins(scheme: str, bins: Any, measures: Sequence[str]) -> dict[str, Sequence[float]]:
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
