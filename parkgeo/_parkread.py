"""Read park polygons: GeoJSON, GeoPackage, Shapefile, GeoParquet; CRS checked, WGS-84 out.

:func:`read_parks` (exported as :func:`parkgeo.io.read_parks`) reads the first polygon layer,
matches the park columns, checks the CRS against the coordinates, converts GCJ-02/BD-09 to
WGS-84 and validates and repairs the polygons (:func:`parkgeo._validate.validate_parks`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from parkgeo import _geometry
from parkgeo._columns import header_scale, match_columns
from parkgeo._errors import InputFormatError
from parkgeo._formats import (
    check_crs,
    is_wgs84_like,
    pick_layer,
    read_vector,
    scaled_area,
    shapefile_encoding,
)
from parkgeo._sniff import PARQUET_SUFFIXES, kind_of
from parkgeo._validate import validate_parks

__all__ = ["read_parks"]

PathLike = str | os.PathLike[str]


def read_parks(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    crs: Any = None,
    encoding: str | None = None,
) -> Any:
    """Read park polygons, check their CRS and geometry, and return them in WGS-84.

    Parameters
    ----------
    path : str or path-like
        GeoJSON, GeoPackage (the first polygon layer), Shapefile (``.shp`` or a ``.zip``),
        GeoParquet.
    columns : dict, optional
        Canonical name -> your header (``park_id``, ``name``, ``district``, ``level``,
        ``approved_area_ha``, ``leading_industries``, ``priority``).
    coord_system : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        The system of the polygons' degrees; GCJ-02/BD-09 are converted to WGS-84.
    crs : str or pyproj.CRS, optional
        The CRS of a file that carries none (a Shapefile without ``.prj``).
    encoding : str, optional
        Attribute encoding of a Shapefile, if detection gets it wrong.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical park table in EPSG:4326; ``attrs["repairs"]`` lists repaired geometries.

    Raises
    ------
    InputFormatError
        The file cannot be read (including absurdly nested JSON).
    SchemaError
        No ``park_id`` column, or ambiguous headers.
    CRSError
        No CRS and no ``crs=``, or a CRS that does not fit the coordinates.
    GeometryError
        Empty, zero-area or non-polygon features, or duplicate ``park_id`` (named).

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "parks.geojson"
    >>> ring = [[117.0, 39.0], [117.01, 39.0], [117.01, 39.01], [117.0, 39.01], [117.0, 39.0]]
    >>> feature = {"type": "Feature", "properties": {"园区代码": "G121", "园区名称": "示范园"},
    ...            "geometry": {"type": "Polygon", "coordinates": [ring]}}
    >>> _ = p.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    >>> parks = read_parks(p)
    >>> parks[["park_id", "name"]].iloc[0].tolist(), parks.crs.to_epsg()
    (['G121', '示范园'], 4326)
    """
    import geopandas as gpd

    from parkgeo import coords

    system = coords.normalize_coord_system(coord_system)
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputFormatError(f"{source}: no such file or directory")
    if path.is_file() and path.stat().st_size == 0:
        raise InputFormatError(f"{source}: the file is empty")
    suffix = path.suffix.lower()
    used_encoding = encoding
    if suffix in PARQUET_SUFFIXES or (path.is_file() and kind_of(path) == "parquet"):
        try:
            gdf = _geometry.read_parquet_layer(path)
        except (ValueError, OSError) as exc:
            raise InputFormatError(f"{source}: not a readable GeoParquet file ({exc})") from None
    else:
        if suffix in (".shp", ".zip") and encoding is None:
            used_encoding = shapefile_encoding(path)
        layer = pick_layer(path, polygons=True)
        gdf = read_vector(path, layer=layer, encoding=used_encoding)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.active_geometry_name is None:
        raise InputFormatError(f"{source}: the file has no geometry column; parks must be polygons")
    if len(gdf) == 0:
        raise InputFormatError(_no_features(path, source))
    geometry_name = gdf.geometry.name
    headers = [str(c) for c in gdf.columns if c != geometry_name]
    match = match_columns(headers, kind="parks", mapping=dict(columns or {}), source=source)
    frame = gpd.GeoDataFrame(
        {c: gdf[h] for c, h in match.columns.items()},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
        index=pd.RangeIndex(len(gdf)),
    )
    frame.attrs[_geometry.READ_REPAIRS] = gdf.attrs.get(_geometry.READ_REPAIRS, [])
    frame = check_crs(frame, crs, source)
    if frame.crs is not None and not is_wgs84_like(frame.crs):
        frame = frame.to_crs("EPSG:4326")
    else:
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    if system in ("gcj02", "bd09"):
        frame = coords.to_wgs84(frame, system)
    scales = {c: header_scale(c, h) for c, h in match.columns.items()}
    if scales.get("approved_area_ha", 1.0) != 1.0:
        frame = frame.copy()
        parsed_area = scaled_area(frame["approved_area_ha"], scales["approved_area_ha"])
        frame["approved_area_ha"] = parsed_area
    parks, repairs = validate_parks(frame, source=source)
    parks.attrs.update(
        {
            "source": source,
            "coord_system": system,
            "crs": "EPSG:4326",
            "encoding": used_encoding,
            "columns": dict(match.columns),
            "repairs": repairs,
        }
    )
    return parks


def _no_features(path: Path, source: str) -> str:
    """Why a layer came back empty, in one line; for a CSV of parks, what to check."""
    plain = f"{source}: the layer has no features (no parks to read)"
    if not path.is_file() or path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return plain
    with open(path, "rb") as fh:
        head = fh.read(64 << 20)  # a parks CSV is small; this only words the error
    lines = [line for line in head.splitlines()[1:] if line.strip()]
    if not lines:
        return plain
    # GDAL's CSV driver drops every row after an unclosed quote, and rows whose WKT it
    # cannot parse, without a word
    quote = (
        " (a quote is not closed: an odd number of '\"' in the file)"
        if head.count(b'"') % 2
        else ""
    )
    return (
        f"{source}: none of its {len(lines)} data lines could be read as a park{quote}; "
        "check that every quoted cell is closed and that a WKT column holds each polygon "
        '(WKT,park_id then "POLYGON((117.0 39.0, ...))",G121)'
    )
