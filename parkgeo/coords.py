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

# Krasovsky 1940 ellipsoid parameters, as used by the GCJ-02 algorithm.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_OFFSET_LON = 0.0065
_BD_OFFSET_LAT = 0.006

# The forward transforms are contractions with Lipschitz constant ~3e-3, so each fixed-point
# step gains more than two digits; 1e-12 degrees (~0.1 micrometre) is reached in 4-6 steps.
_INVERSE_TOL_DEG = 1e-12
_INVERSE_MAX_ITER = 50

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


# --------------------------------------------------------------------------------------------
# point conversions
# --------------------------------------------------------------------------------------------


def _gcj_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS-84, in degrees, at WGS-84 positions (no China test)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _gcj_encode(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _bd_encode(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 -> BD-09 (Baidu's published formula), no China test."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_OFFSET_LON, z * np.sin(theta) + _BD_OFFSET_LAT


def _bd_decode_approx(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The usual closed-form approximate BD-09 -> GCJ-02, used as the first guess."""
    x = lon - _BD_OFFSET_LON
    y = lat - _BD_OFFSET_LAT
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


_Encode = Callable[
    [NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]
]


def _invert(
    encode: _Encode,
    target_lon: NDArray[np.float64],
    target_lat: NDArray[np.float64],
    guess_lon: NDArray[np.float64],
    guess_lat: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``encode(lon, lat) == target`` by fixed-point iteration from a first guess.

    ``x <- x - (encode(x) - target)`` converges because ``encode`` is the identity plus an offset
    whose derivative is of order 1e-3. Points that have converged are frozen so the loop only
    works on the rest.
    """
    lon, lat = guess_lon.copy(), guess_lat.copy()
    active = np.isfinite(lon) & np.isfinite(lat)
    for _ in range(_INVERSE_MAX_ITER):
        if active.all():  # the first steps: skip the cost of gathering and scattering
            enc_lon, enc_lat = encode(lon, lat)
            err_lon = enc_lon - target_lon
            err_lat = enc_lat - target_lat
            lon -= err_lon
            lat -= err_lat
            active = (np.abs(err_lon) > _INVERSE_TOL_DEG) | (np.abs(err_lat) > _INVERSE_TOL_DEG)
            continue
        if not active.any():
            break
        idx = np.flatnonzero(active)
        enc_lon, enc_lat = encode(lon[idx], lat[idx])
        err_lon = enc_lon - target_lon[idx]
        err_lat = enc_lat - target_lat[idx]
        lon[idx] -= err_lon
        lat[idx] -= err_lat
        done = (np.abs(err_lon) <= _INVERSE_TOL_DEG) & (np.abs(err_lat) <= _INVERSE_TOL_DEG)
        active[idx[done]] = False
    return lon, lat


def _wgs_to_gcj_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _gcj_encode(lon, lat)


def _gcj_to_wgs_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_gcj_encode, lon, lat, lon - dlon, lat - dlat)


def _gcj_to_bd_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _bd_encode(lon, lat)


def _bd_to_gcj_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    guess_lon, guess_lat = _bd_decode_approx(lon, lat)
    return _invert(_bd_encode, lon, lat, guess_lon, guess_lat)


def _wgs_to_bd_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _bd_encode(*_gcj_encode(lon, lat))


def _bd_to_wgs_raw(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return _gcj_to_wgs_raw(*_bd_to_gcj_raw(lon, lat))


def _apply_in_china(
    raw: _Encode, lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon_arr, lat_arr = as_arrays(lon, lat)
    mask = in_china(lon_arr, lat_arr)
    if mask.all():
        return _reshape(raw, lon_arr, lat_arr)
    out_lon, out_lat = lon_arr.copy(), lat_arr.copy()
    if mask.any():
        new_lon, new_lat = raw(lon_arr[mask], lat_arr[mask])
        out_lon[mask] = new_lon
        out_lat[mask] = new_lat
    return out_lon, out_lat


def _reshape(
    raw: _Encode, lon_arr: NDArray[np.float64], lat_arr: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    new_lon, new_lat = raw(lon_arr.ravel(), lat_arr.ravel())
    return (
        np.asarray(new_lon, dtype=np.float64).reshape(lon_arr.shape),
        np.asarray(new_lat, dtype=np.float64).reshape(lat_arr.shape),
    )


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS-84 (or CGCS2000) longitude/latitude to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        Degrees; scalars or arrays of the same shape.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 longitude and latitude, float64, same shape as the input. Points outside China
        (:data:`CHINA_BBOX`) and NaN are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02([116.404, 2.35], [39.915, 48.85])
    >>> lon.round(6).tolist(), lat.round(6).tolist()
    ([116.410244, 2.35], [39.916404, 48.85])
    """
    return _apply_in_china(_wgs_to_gcj_raw, lon, lat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to WGS-84, exactly (iterative inverse).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS-84 degrees such that :func:`wgs84_to_gcj02` gives back the input to 1e-12 degrees.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(117.2, 39.1))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.2, 39.1)
    """
    return _apply_in_china(_gcj_to_wgs_raw, lon, lat)


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to Baidu BD-09.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410369, 39.921337)
    """
    return _apply_in_china(_gcj_to_bd_raw, lon, lat)


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert Baidu BD-09 longitude/latitude to GCJ-02, exactly (iterative inverse).

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(117.2, 39.1))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.2, 39.1)
    """
    return _apply_in_china(_bd_to_gcj_raw, lon, lat)


def wgs84_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS-84 longitude/latitude to Baidu BD-09 (via GCJ-02).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(117.2, 39.1)
    >>> round(float(lon), 4), round(float(lat), 4)
    (117.2128, 39.1069)
    """
    return _apply_in_china(_wgs_to_bd_raw, lon, lat)


def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert Baidu BD-09 longitude/latitude to WGS-84, exactly (iterative inverse).

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(117.2, 39.1))
    >>> round(float(lon), 9), round(float(lat), 9)
    (117.2, 39.1)
    """
    return _apply_in_china(_bd_to_wgs_raw, lon, lat)


_RAW: dict[tuple[str, str], _Encode] = {
    ("wgs84", "gcj02"): _wgs_to_gcj_raw,
    ("gcj02", "wgs84"): _gcj_to_wgs_raw,
    ("gcj02", "bd09"): _gcj_to_bd_raw,
    ("bd09", "gcj02"): _bd_to_gcj_raw,
    ("wgs84", "bd09"): _wgs_to_bd_raw,
    ("bd09", "wgs84"): _bd_to_wgs_raw,
}


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
    return _apply_in_china(_RAW[(src_datum, dst_datum)], lon, lat)


# --------------------------------------------------------------------------------------------
# geometries and layers
# --------------------------------------------------------------------------------------------


def _coords_transformer(src_datum: str, dst_datum: str) -> Callable[[np.ndarray], np.ndarray]:
    raw = _RAW[(src_datum, dst_datum)]

    def transform(coords: np.ndarray) -> np.ndarray:
        out = np.array(coords, dtype=np.float64)
        new_lon, new_lat = _apply_in_china(raw, coords[:, 0], coords[:, 1])
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
