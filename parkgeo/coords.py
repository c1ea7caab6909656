"""Chinese coordinate systems, the local metric CRS and geodesic area.

Chinese web maps do not publish WGS-84 coordinates. AutoNavi/Gaode and Tencent return
**GCJ-02** ("Mars coordinates"), a WGS-84 position shifted by a deliberately obfuscated,
position-dependent offset of a few hundred metres; Baidu returns **BD-09**, a further shift of
GCJ-02. PROJ does not know either system, so the conversions live here, on numpy arrays.

* The forward transforms (WGS-84 -> GCJ-02 -> BD-09) are the published formulas that the
  open-source ``coordtransform``/``eviltransform`` libraries share.
* Their inverses have no closed form. They are solved by fixed-point iteration on the forward
  transform until it reproduces the input to better than ``1e-12`` degrees, so a round trip
  WGS-84 -> GCJ-02 -> WGS-84 is exact to well under a millimetre (the one-step inverse found in
  most libraries is off by up to ~6 m in China, 0.3 m in Beijing).
* CGCS2000 (EPSG:4490) differs from WGS-84 by centimetres and is treated as identical.
* **Outside China** coordinates pass through unchanged, as the GCJ-02 definition requires. "China"
  is the rough bounding box used by every GCJ-02 implementation: longitude 72.004-137.8347 E,
  latitude 0.8293-55.8271 N (Taiwan, Korea and parts of Japan and Mongolia fall inside it; that
  is the standard and what the map providers do). The box is tested on the coordinates given to
  each function, so points within ~1 km of the box edge (all far outside Chinese territory) may
  not round-trip exactly.
* NaN passes through as NaN.

Geodesic area (:func:`geodesic_area_ha`) is computed on the WGS-84 ellipsoid with
GeographicLib (via pyproj), the same algorithm PostGIS ``ST_Area(geography)`` uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from parkgeo._errors import CRSError, GeometryError, ParkgeoError, SchemaError
from parkgeo._gcj02 import (
    RAW_CONVERSIONS,
    apply_in_china,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from parkgeo._geodesy import CHINA_BBOX, as_arrays, geodesic_area_ha, in_china, local_metric_crs

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CHINA_BBOX",
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_coords",
    "convert_geometry",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geodesic_area_ha",
    "in_china",
    "local_metric_crs",
    "lonlat_of",
    "normalize_coord_system",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")
"""Coordinate systems parkgeo accepts; ``cgcs2000`` is handled as ``wgs84``."""

_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "wgs": "wgs84",
    "wgs1984": "wgs84",
    "epsg4326": "wgs84",
    "4326": "wgs84",
    "gps": "wgs84",
    "cgcs2000": "cgcs2000",
    "cgcs": "cgcs2000",
    "epsg4490": "cgcs2000",
    "4490": "cgcs2000",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "mars": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "autonavi": "gcj02",
    "tencent": "gcj02",
    "bd09": "bd09",
    "bd": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
}

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# coordinate system names
# --------------------------------------------------------------------------------------------


def normalize_coord_system(name: str) -> str:
    """Return the canonical name of a coordinate system.

    Parameters
    ----------
    name : str
        A name from :data:`COORD_SYSTEMS` or an alias, case-insensitive, with or without
        separators: ``"WGS-84"``, ``"epsg:4326"``, ``"EPSG:4490"``, ``"GCJ-02"``, ``"gcj"``,
        ``"gaode"``, ``"BD-09"``, ``"baidu"``.

    Returns
    -------
    str
        One of ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"``.

    Raises
    ------
    ParkgeoError
        If the name is not recognised; the message lists the valid choices.

    Examples
    --------
    >>> normalize_coord_system("GCJ-02"), normalize_coord_system("epsg:4490")
    ('gcj02', 'cgcs2000')
    """
    if not isinstance(name, str):
        raise ParkgeoError(
            f"coordinate system must be a string, got {type(name).__name__} {name!r}; "
            f"choose one of {', '.join(COORD_SYSTEMS)}"
        )
    key = "".join(ch for ch in name.strip().lower() if ch not in " -_:./")
    try:
        return _ALIASES[key]
    except KeyError:
        raise ParkgeoError(
            f"unknown coordinate system {name!r}; choose one of {', '.join(COORD_SYSTEMS)} "
            "(aliases: wgs-84, epsg:4326, epsg:4490, gcj-02, gcj, gaode, amap, tencent, bd-09, baidu)"
        ) from None


def _datum(system: str) -> str:
    canonical = normalize_coord_system(system)
    return "wgs84" if canonical == "cgcs2000" else canonical


def convert_coords(
    lon: ArrayLike, lat: ArrayLike, src: str, dst: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert longitude/latitude arrays between any two of :data:`COORD_SYSTEMS`.

    Parameters
    ----------
    lon, lat : array_like
        Degrees in ``src``.
    src, dst : str
        Coordinate system names (aliases accepted, see :func:`normalize_coord_system`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Degrees in ``dst`` (float64 copies, also when ``src`` and ``dst`` are the same datum).

    Examples
    --------
    >>> lon, lat = convert_coords([116.404], [39.915], "wgs84", "gcj-02")
    >>> round(float(lon[0]), 6)
    116.410244
    """
    src_datum, dst_datum = _datum(src), _datum(dst)
    if src_datum == dst_datum:
        return as_arrays(lon, lat)
    return apply_in_china(RAW_CONVERSIONS[(src_datum, dst_datum)], lon, lat)


# --------------------------------------------------------------------------------------------
# geometries and layers
# --------------------------------------------------------------------------------------------


def _coords_transformer(src_datum: str, dst_datum: str) -> Callable[[np.ndarray], np.ndarray]:
    raw = RAW_CONVERSIONS[(src_datum, dst_datum)]

    def transform(coords: np.ndarray) -> np.ndarray:
        out = np.array(coords, dtype=np.float64)
        new_lon, new_lat = apply_in_china(raw, coords[:, 0], coords[:, 1])
        out[:, 0] = new_lon
        out[:, 1] = new_lat
        return out

    return transform


def _check_geographic(crs: Any, what: str) -> None:
    if crs is not None and not pyproj.CRS.from_user_input(crs).is_geographic:
        raise CRSError(
            f"{what} has the projected CRS {pyproj.CRS.from_user_input(crs).name!r}, but GCJ-02 "
            "and BD-09 are defined on longitude/latitude degrees; reproject to EPSG:4326 "
            "(or give the layer in degrees) before converting"
        )


def convert_geometry(geoms: _T, src: str, dst: str) -> _T:
    """Convert whole geometries (points, lines, polygons with holes, multi-parts) between systems.

    Parameters
    ----------
    geoms : shapely geometry, array_like of geometries, or geopandas.GeoSeries
        Coordinates in longitude/latitude degrees of ``src``. A GeoSeries must have a
        geographic CRS or none.
    src, dst : str
        Coordinate system names (see :func:`normalize_coord_system`).

    Returns
    -------
    same type as ``geoms``
        New geometries; the input is not modified. A GeoSeries keeps its index and name; its
        CRS becomes EPSG:4326 (EPSG:4490 for ``dst="cgcs2000"``) when converting to WGS-84 or
        CGCS2000, and is kept as given when converting to GCJ-02/BD-09 (which have no EPSG code).
        Z coordinates are kept unchanged.

    Examples
    --------
    >>> from shapely import Point
    >>> p = convert_geometry(Point(117.2, 39.1), "wgs84", "gcj02")
    >>> round(p.x, 6), round(p.y, 6)
    (117.206301, 39.101017)
    """
    import geopandas as gpd

    src_datum, dst_datum = _datum(src), _datum(dst)
    dst_canonical = normalize_coord_system(dst)
    if isinstance(geoms, gpd.GeoDataFrame):
        raise ParkgeoError("convert_geometry takes geometries; use to_wgs84 for a GeoDataFrame")
    if isinstance(geoms, gpd.GeoSeries):
        if src_datum != dst_datum:
            _check_geographic(geoms.crs, "the GeoSeries")
            values = shapely.transform(
                np.asarray(geoms.values, dtype=object),
                _coords_transformer(src_datum, dst_datum),
                include_z=None,
            )
        else:
            values = np.asarray(geoms.values).copy()
        if dst_datum == "wgs84":
            crs: Any = "EPSG:4490" if dst_canonical == "cgcs2000" else "EPSG:4326"
        else:
            crs = geoms.crs
        return cast(_T, gpd.GeoSeries(values, index=geoms.index, crs=crs, name=geoms.name))
    if src_datum == dst_datum:
        if isinstance(geoms, shapely.Geometry):
            return geoms
        return cast(_T, np.asarray(geoms, dtype=object).copy())
    return cast(
        _T, shapely.transform(geoms, _coords_transformer(src_datum, dst_datum), include_z=None)
    )


def to_wgs84(layer: _T, coord_system: str) -> _T:
    """Return a copy of a layer with its coordinates in WGS-84 (EPSG:4326).

    Parameters
    ----------
    layer : geopandas.GeoDataFrame or pandas.DataFrame
        A GeoDataFrame (its active geometry is converted) or a DataFrame with numeric ``lon``
        and ``lat`` columns (those are converted; other columns are untouched).
    coord_system : str
        The system the coordinates are in (``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``,
        ``"bd09"`` or an alias).

    Returns
    -------
    same type as ``layer``
        A new object on the same index; the input is never modified. A GeoDataFrame comes back
        with CRS EPSG:4326. A GeoDataFrame without a CRS is taken to be in degrees of
        ``coord_system`` (its bounds are checked); one in a projected CRS is reprojected when
        ``coord_system`` is WGS-84/CGCS2000 and rejected for GCJ-02/BD-09. When a GCJ-02/BD-09
        GeoDataFrame also has numeric ``lon``/``lat`` columns, they are converted too.

    Raises
    ------
    CRSError
        If GCJ-02/BD-09 are claimed for projected coordinates, or coordinates are not degrees.
    SchemaError
        If a DataFrame lacks numeric ``lon``/``lat`` columns.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"lon": [117.206301], "lat": [39.101017]})
    >>> out = to_wgs84(df, "gcj02")
    >>> round(float(out["lon"].iloc[0]), 5), round(float(out["lat"].iloc[0]), 5)
    (117.2, 39.1)
    """
    import geopandas as gpd

    datum = _datum(coord_system)
    if isinstance(layer, gpd.GeoDataFrame):
        return cast(_T, _gdf_to_wgs84(layer, datum, coord_system))
    if isinstance(layer, pd.DataFrame):
        missing = [c for c in ("lon", "lat") if c not in layer.columns]
        if missing:
            raise SchemaError(
                f"to_wgs84 needs 'lon' and 'lat' columns (missing: {', '.join(missing)}); "
                "map your coordinate columns to lon/lat first"
            )
        for col in ("lon", "lat"):
            if not pd.api.types.is_numeric_dtype(layer[col]):
                raise SchemaError(
                    f"column {col!r} is not numeric (dtype {layer[col].dtype}); validate the "
                    "table (parkgeo._validate.validate_enterprises) before converting coordinates"
                )
        out = layer.copy()
        new_lon, new_lat = convert_coords(
            layer["lon"].to_numpy(dtype=np.float64, na_value=np.nan),
            layer["lat"].to_numpy(dtype=np.float64, na_value=np.nan),
            datum,
            "wgs84",
        )
        out["lon"] = new_lon
        out["lat"] = new_lat
        return cast(_T, out)
    raise ParkgeoError(
        f"to_wgs84 takes a GeoDataFrame or a DataFrame with lon/lat columns, got {type(layer).__name__}"
    )


def _gdf_to_wgs84(gdf: gpd.GeoDataFrame, datum: str, coord_system: str) -> gpd.GeoDataFrame:
    crs = gdf.crs
    if crs is None:
        _check_degree_bounds(gdf, coord_system)
        if datum == "wgs84":
            return gdf.set_crs("EPSG:4326", allow_override=True)
        source = gdf.set_crs("EPSG:4326", allow_override=True)
    elif datum == "wgs84":
        return gdf.to_crs("EPSG:4326")
    else:
        _check_geographic(crs, f"a layer said to be {coord_system!r}")
        source = gdf
    out = source.copy()
    geom_col = out.geometry.name
    converted = convert_geometry(source.geometry, datum, "wgs84")
    out[geom_col] = converted
    if _has_numeric_lonlat(out):
        # Points built from lon/lat columns carry them in the same system: keep them in step.
        out["lon"], out["lat"] = convert_coords(
            out["lon"].to_numpy(dtype=np.float64, na_value=np.nan),
            out["lat"].to_numpy(dtype=np.float64, na_value=np.nan),
            datum,
            "wgs84",
        )
    return out.set_crs("EPSG:4326", allow_override=True)


def _has_numeric_lonlat(frame: pd.DataFrame) -> bool:
    return all(
        col in frame.columns and pd.api.types.is_numeric_dtype(frame[col]) for col in ("lon", "lat")
    )


def _check_degree_bounds(gdf: gpd.GeoDataFrame, coord_system: str) -> None:
    if gdf.geometry.is_empty.all() or gdf.geometry.isna().all():
        return
    min_x, min_y, max_x, max_y = gdf.geometry.total_bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise CRSError(
            f"the layer has no CRS and its coordinates ({min_x:.6g}..{max_x:.6g}, "
            f"{min_y:.6g}..{max_y:.6g}) are not longitude/latitude degrees, so they cannot be "
            f"{coord_system!r}; set the layer's CRS (e.g. crs='EPSG:32650') and try again"
        )


# --------------------------------------------------------------------------------------------
# enterprise locations
# --------------------------------------------------------------------------------------------


def lonlat_of(enterprises: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return WGS-84 longitude and latitude of enterprises as float64 arrays.

    Parameters
    ----------
    enterprises : pandas.DataFrame or geopandas.GeoDataFrame
        A DataFrame with ``lon``/``lat`` columns (WGS-84, as loaded), or a GeoDataFrame of
        points in any CRS (reprojected to EPSG:4326; its geometry wins over lon/lat columns).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        In row order; missing or empty points give NaN.

    Raises
    ------
    CRSError
        If a GeoDataFrame has no CRS.
    GeometryError
        If a GeoDataFrame holds non-point geometries.
    SchemaError
        If a DataFrame lacks ``lon``/``lat``.

    Examples
    --------
    >>> import pandas as pd
    >>> lon, lat = lonlat_of(pd.DataFrame({"lon": [117.2], "lat": [39.1]}))
    >>> lon.tolist(), lat.tolist()
    ([117.2], [39.1])
    """
    import geopandas as gpd

    if isinstance(enterprises, gpd.GeoDataFrame):
        if enterprises.crs is None:
            raise CRSError(
                "the enterprises GeoDataFrame has no CRS, so its points cannot be placed; set it "
                "with gdf.set_crs(...) (e.g. 'EPSG:4326' for longitude/latitude)"
            )
        geoms = enterprises.geometry.to_crs("EPSG:4326").values
        arr = np.asarray(geoms, dtype=object)
        present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
        types = shapely.get_type_id(arr[present])
        if (types != 0).any():
            position = np.flatnonzero(present)[np.flatnonzero(types != 0)[0]]
            raise GeometryError(
                f"enterprise geometries must be points; row {enterprises.index[position]!r} is a "
                f"{arr[position].geom_type}; use points (e.g. gdf.representative_point()) instead"
            )
        lon = np.full(len(arr), np.nan)
        lat = np.full(len(arr), np.nan)
        lon[present] = shapely.get_x(arr[present])
        lat[present] = shapely.get_y(arr[present])
        return lon, lat
    if isinstance(enterprises, pd.DataFrame):
        missing = [c for c in ("lon", "lat") if c not in enterprises.columns]
        if missing:
            raise SchemaError(
                f"enterprises need 'lon' and 'lat' columns or a point geometry (missing: "
                f"{', '.join(missing)}); load them with parkgeo.io.read_enterprises"
            )
        try:
            lon = enterprises["lon"].to_numpy(dtype=np.float64, na_value=np.nan)
            lat = enterprises["lat"].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise SchemaError(
                f"enterprise 'lon'/'lat' columns are not numeric ({exc}); validate the table first"
            ) from None
        return lon, lat
    raise ParkgeoError(
        f"expected a DataFrame or GeoDataFrame of enterprises, got {type(enterprises).__name__}"
    )
