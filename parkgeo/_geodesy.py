"""Geodesy shared by parkgeo's modules: coordinate arrays, the local metric CRS, geodesic areas.

``parkgeo.coords`` re-exports ``local_metric_crs`` and ``geodesic_area_ha``, their public home.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from parkgeo._errors import CRSError, ParkgeoError

__all__ = [
    "CHINA_BBOX",
    "as_arrays",
    "float_array",
    "geodesic_area_ha",
    "in_china",
    "local_metric_crs",
]

CHINA_BBOX: tuple[float, float, float, float] = (72.004, 0.8293, 137.8347, 55.8271)
"""(min lon, min lat, max lon, max lat) of the rough box inside which GCJ-02 applies an offset."""


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return whether points lie in the GCJ-02 box (:data:`CHINA_BBOX`).

    NaN coordinates count as inside, so that they propagate as NaN through the offsets.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> in_china([117.2, 2.35], [39.1, 48.85]).tolist()
    [True, False]
    """
    lon_arr, lat_arr = as_arrays(lon, lat)
    min_lon, min_lat, max_lon, max_lat = CHINA_BBOX
    outside = (lon_arr < min_lon) | (lon_arr > max_lon) | (lat_arr < min_lat) | (lat_arr > max_lat)
    return ~outside


def float_array(values: ArrayLike) -> NDArray[np.float64]:
    if isinstance(values, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        # Nullable pandas columns (Float64, Int64) hold pd.NA, which numpy cannot cast.
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.asarray(values, dtype=np.float64)


def as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon_arr = float_array(lon)
    lat_arr = float_array(lat)
    if lon_arr.shape != lat_arr.shape:
        try:
            lon_arr, lat_arr = np.broadcast_arrays(lon_arr, lat_arr)
        except ValueError:
            raise ParkgeoError(
                f"lon and lat must have the same shape, got {lon_arr.shape} and {lat_arr.shape}"
            ) from None
    # Copies, so callers' arrays are never written to.
    return np.array(lon_arr, dtype=np.float64), np.array(lat_arr, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# metric CRS and area
# --------------------------------------------------------------------------------------------

_GK_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
_GK_FIRST_CM = 75
_GK_LAST_CM = 135


def local_metric_crs(lon: ArrayLike, lat: ArrayLike) -> pyproj.CRS:
    """Choose a metric CRS for distances and buffers around the given points.

    The choice is made from the data's median longitude and latitude (NaN ignored; for the
    two corners of a bounding box that is the box's centre). The median, not the centre of
    the extent, so that one enterprise geocoded to the far side of the globe cannot move the
    projection away from all the others (it used to: every distance then came out distorted,
    or infinite):

    * inside :data:`CHINA_BBOX`: the CGCS2000 3-degree Gauss-Kruger zone whose central meridian
      is nearest (EPSG:4534-4554, "CGCS2000 / 3-degree Gauss-Kruger CM xxxE", false easting
      500 km), the projection Chinese land and planning data use (Tianjin: CM 117E,
      EPSG:4548). Within the zone (1.5 degrees either side of the central meridian) the scale
      error stays below 2.1e-4 at Tianjin's latitude (3.4e-4 at the equator).
    * elsewhere: the WGS-84 UTM zone (EPSG:326xx north, 327xx south) of the centre.

    Both are transverse Mercator projections, meant for a city or a province: 3 degrees of
    longitude from the central meridian the scale error reaches 8e-4 at 39 N, so data spanning much
    more than one zone (all of China) should be split by region first.

    Parameters
    ----------
    lon, lat : array_like
        WGS-84 degrees (scalars or arrays).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    ParkgeoError
        If there is no finite coordinate.

    Examples
    --------
    >>> local_metric_crs([117.0, 117.8], [38.6, 40.2]).to_epsg()
    4548
    >>> local_metric_crs(2.35, 48.85).to_epsg()
    32631
    >>> local_metric_crs([117.0, 117.2, 117.4, -63.0], [39.0, 39.1, 39.2, -39.0]).to_epsg()
    4548
    """
    lon_arr, lat_arr = as_arrays(lon, lat)
    finite = np.isfinite(lon_arr) & np.isfinite(lat_arr)
    if not finite.any():
        raise ParkgeoError(
            "cannot choose a metric CRS: no finite longitude/latitude given (all NaN or empty)"
        )
    centre_lon = float(np.median(lon_arr[finite]))
    centre_lat = float(np.median(lat_arr[finite]))
    if bool(in_china(centre_lon, centre_lat)):
        cm = int(round(centre_lon / 3.0)) * 3
        cm = min(max(cm, _GK_FIRST_CM), _GK_LAST_CM)
        return pyproj.CRS.from_epsg(_GK_FIRST_EPSG + (cm - _GK_FIRST_CM) // 3)
    zone = int(np.floor((centre_lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if centre_lat >= 0 else 32700) + zone)


_GEOD = pyproj.Geod(ellps="WGS84")
_POLYGON = 3


def geodesic_area_ha(geoms: Any, *, crs: Any = None) -> NDArray[np.float64]:
    """Geodesic area on the WGS-84 ellipsoid, in hectares.

    The same quantity as PostGIS ``ST_Area(geom::geography) / 10000``: each ring's area is
    computed with GeographicLib (edges are geodesics between the vertices), exterior rings
    count positive and holes negative whatever their winding order.

    Parameters
    ----------
    geoms : geopandas.GeoSeries, geopandas.GeoDataFrame, shapely geometry or array of them
        Polygons or multipolygons (other geometry types, and non-polygon parts of collections,
        have zero area). Any CRS: coordinates are reprojected to EPSG:4326 first.
    crs : optional
        CRS of ``geoms`` (anything pyproj accepts). Required for plain shapely geometries;
        for a GeoSeries/GeoDataFrame it defaults to theirs and must agree with it if given.

    Returns
    -------
    numpy.ndarray of float64
        One area per geometry, in input order; NaN for missing geometries, 0 for empty ones.

    Raises
    ------
    CRSError
        If the CRS is missing or not recognised, or contradicts the GeoSeries' CRS.

    Examples
    --------
    >>> from shapely import box
    >>> float(geodesic_area_ha([box(117.0, 39.0, 117.01, 39.01)], crs="EPSG:4326")[0])
    96.16...
    """
    values, source_crs = _geoms_and_crs(geoms, crs)
    lonlat = _to_lonlat(values, source_crs)
    return _area_ha_lonlat(lonlat)


def _geoms_and_crs(geoms: Any, crs: Any) -> tuple[np.ndarray, pyproj.CRS]:
    import geopandas as gpd

    layer_crs = None
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if isinstance(geoms, gpd.GeoSeries):
        layer_crs = geoms.crs
        values = np.asarray(geoms.values, dtype=object)
    elif isinstance(geoms, shapely.Geometry):
        values = np.array([geoms], dtype=object)
    else:
        values = np.asarray(geoms, dtype=object).ravel()
    if crs is None and layer_crs is None:
        raise CRSError(
            "geodesic_area_ha needs the geometries' CRS: pass crs=... (e.g. 'EPSG:4326') or a "
            "GeoSeries with a CRS"
        )
    try:
        given = pyproj.CRS.from_user_input(crs) if crs is not None else None
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"unknown CRS {crs!r}: {exc}") from None
    if given is not None and layer_crs is not None and not given.equals(layer_crs):
        raise CRSError(
            f"crs={crs!r} contradicts the GeoSeries' CRS {layer_crs.name!r}; drop the crs "
            "argument or reproject the layer"
        )
    source = given if given is not None else pyproj.CRS.from_user_input(layer_crs)
    return values, source


def _to_lonlat(values: np.ndarray, source: pyproj.CRS) -> np.ndarray:
    wgs84 = pyproj.CRS.from_epsg(4326)
    if source.equals(wgs84):
        return values
    if source.is_geographic and source.to_epsg() == 4490:
        return values  # CGCS2000 is WGS-84 to within centimetres (see the module docstring).
    transformer = pyproj.Transformer.from_crs(source, wgs84, always_xy=True)

    def reproject(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(values, reproject)  # type: ignore[no-any-return]


def _area_ha_lonlat(values: np.ndarray) -> NDArray[np.float64]:
    n = len(values)
    area_m2 = np.zeros(n, dtype=np.float64)
    missing = shapely.is_missing(values)
    area_m2[missing] = np.nan
    present_idx = np.flatnonzero(~missing)
    if present_idx.size == 0:
        return area_m2
    parts, part_owner = shapely.get_parts(values[present_idx], return_index=True)
    is_polygon = shapely.get_type_id(parts) == _POLYGON
    is_polygon &= ~shapely.is_empty(parts)
    polygons = parts[is_polygon]
    polygon_owner = present_idx[part_owner[is_polygon]]
    if polygons.size == 0:
        return area_m2
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    # get_rings lists each polygon's exterior first, then its holes.
    first_of_polygon = np.r_[True, ring_polygon[1:] != ring_polygon[:-1]]
    sign = np.where(first_of_polygon, 1.0, -1.0)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    starts = np.searchsorted(coord_ring, np.arange(len(rings)), side="left")
    ends = np.searchsorted(coord_ring, np.arange(len(rings)), side="right")
    lon, lat = coords[:, 0], coords[:, 1]
    ring_area = np.empty(len(rings), dtype=np.float64)
    polygon_area_perimeter = _GEOD.polygon_area_perimeter
    for k in range(len(rings)):
        # Rings are closed (last vertex == first); GeographicLib closes the polygon itself.
        s, e = starts[k], ends[k] - 1
        ring_area[k] = abs(polygon_area_perimeter(lon[s:e], lat[s:e])[0])
    np.add.at(area_m2, polygon_owner[ring_polygon], sign * ring_area)
    return area_m2 / 10_000.0
