"""Park geometry sanitised once, on reading, before anything else touches it.

Boundary files from planning departments carry geometry that GEOS accepts but that breaks (or
silently misleads) the work done on it later:

* a **MultiPolygon with an empty part** (or a polygon with an empty hole): GEOS' segmentize
  crashes the whole process (SIGSEGV) on it; the empty parts are dropped and reported;
* an **unclosed ring** (first vertex not repeated at the end, e.g. a 3-point triangle): GDAL
  reads it, but shapely refuses to build the geometry; the ring is closed by repeating its
  first vertex, and reported;
* a park **crossing the antimeridian** written with longitudes jumping from +179.9 to -179.9:
  read literally it spans the globe the other way round, so a firm at longitude 10 would be
  "inside". RFC 7946 says such edges cross 180 degrees; the park is split there into a
  MultiPolygon (one part each side), and reported;
* Z or M values are dropped (parks are 2-D; a Z changes nothing but costs memory);
* **non-finite coordinates** (NaN, inf) or latitudes beyond the poles cannot be repaired: the
  feature is refused, named.

:func:`sanitize_parks` is called by :func:`parkgeo.validate_parks` (so by
:func:`parkgeo.read_parks`) and, defensively, by :func:`parkgeo.assign_parks` for parks built
by hand. Every repair is a dict ``{"index", "park_id", "problem", "action"}`` like the other
entries of ``parks.attrs["repairs"]`` and a warning in the log.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from parkgeo._errors import GeometryError, InputFormatError

__all__ = ["crosses_antimeridian", "read_parquet_layer", "read_vector_layer", "sanitize_parks"]

log = logging.getLogger("parkgeo")

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7
_SHOWN = 10
READ_REPAIRS = "geometry_repairs_on_read"
"""Key of the ``attrs`` entry in which the readers pass repairs made while decoding."""


# --------------------------------------------------------------------------------------------
# reading: unclosed rings
# --------------------------------------------------------------------------------------------


def read_vector_layer(path: Path, *, layer: str | None, encoding: str | None) -> Any:
    """``pyogrio.read_dataframe``, closing unclosed rings instead of failing on them.

    GDAL accepts an unclosed ring with a RuntimeWarning and then shapely refuses the WKB
    ("Points of LinearRing do not form a closed linestring"). The ring is closed (shapely's
    ``on_invalid="fix"``) and the features concerned are listed in
    ``attrs[READ_REPAIRS]`` (positions in the layer), for :func:`sanitize_parks` to report.
    """
    import pyogrio

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, on_invalid="fix")
    unclosed = any("closed ring" in str(w.message).lower() for w in caught)
    invalid = [str(w.message) for w in caught if "invalid wkt" in str(w.message).lower()]
    if invalid:
        raise GeometryError(_invalid_wkt(path, frame, invalid[0]))
    for w in caught:
        if "closed ring" not in str(w.message).lower():
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if unclosed and frame.active_geometry_name is not None:
        # Only in that rare case: read the geometries again without the fix to learn which.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            strict = pyogrio.read_dataframe(
                path, layer=layer, encoding=encoding, columns=[], on_invalid="ignore"
            )
        fixed = shapely.is_missing(np.asarray(strict.geometry.values, dtype=object))
        fixed &= ~shapely.is_missing(np.asarray(frame.geometry.values, dtype=object))
        frame.attrs[READ_REPAIRS] = [int(i) for i in np.flatnonzero(fixed)]
    return frame


def _invalid_wkt(path: Path, frame: Any, message: str) -> str:
    """GDAL's CSV driver drops a WKT it cannot parse with a warning; name the first row."""
    missing = np.flatnonzero(
        shapely.is_missing(np.asarray(frame.geometry.values, dtype=object))
        if frame.active_geometry_name is not None
        else np.ones(len(frame), dtype=bool)
    )
    where = f"data row {int(missing[0]) + 1}" if len(missing) else "a row"
    text = message.split(":", 1)[-1].strip()
    shown = text if len(text) <= 80 else text[:77] + "..."
    return (
        f"{path}: {where}: its WKT cannot be read as a polygon ({shown}); fix it: a ring lists "
        "x y pairs, ends where it starts and closes every bracket, as in "
        "POLYGON((117.0 39.0, 117.1 39.0, 117.1 39.1, 117.0 39.0))"
    )


def read_parquet_layer(path: Path) -> Any:
    """``geopandas.read_parquet``, closing unclosed rings of WKB-encoded geometry likewise."""
    import geopandas as gpd

    try:
        with warnings.catch_warnings():
            # a NaN vertex: refused by name in sanitize_parks, no stray RuntimeWarning
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            return gpd.read_parquet(path)
    except shapely.errors.GEOSException as exc:
        if "closed" not in str(exc):
            raise InputFormatError(f"{path}: a geometry cannot be decoded ({exc})") from None
    return _read_parquet_fixing(path, gpd)


def _read_parquet_fixing(path: Path, gpd: Any) -> Any:
    import json

    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {}).get(b"geo", b"{}"))
    column = meta.get("primary_column", "geometry")
    if column not in table.column_names:
        raise InputFormatError(f"{path}: no geometry column {column!r} in the GeoParquet file")
    wkb = np.asarray(table[column].to_pylist(), dtype=object)
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    geoms = shapely.from_wkb(wkb, on_invalid="fix")
    crs = meta.get("columns", {}).get(column, {}).get("crs", "OGC:CRS84")
    frame = gpd.GeoDataFrame(table.drop_columns([column]).to_pandas(), geometry=geoms, crs=crs)
    fixed = shapely.is_missing(strict) & ~shapely.is_missing(geoms)
    frame.attrs[READ_REPAIRS] = [int(i) for i in np.flatnonzero(fixed)]
    return frame


# --------------------------------------------------------------------------------------------
# sanitising
# --------------------------------------------------------------------------------------------


def sanitize_parks(
    geoms: NDArray[np.object_],
    *,
    index: Sequence[Any],
    ids: Sequence[Any],
    source: str,
    read_repairs: Sequence[int] = (),
) -> tuple[NDArray[np.object_], list[dict[str, Any]]]:
    """Drop empty parts, split antimeridian crossings, drop Z; report each repair.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries (or None), in EPSG:4326
    index, ids : sequence
        Each feature's index label and park id, for messages and repair records.
    source : str
        Name of the input, for messages.
    read_repairs : sequence of int
        Positions whose unclosed ring the reader closed (see :func:`read_vector_layer`).

    Returns
    -------
    (numpy.ndarray, list of dict)
        The sanitised geometries (a new array; unchanged geometries are the same objects) and
        one repair record per repaired feature.

    Raises
    ------
    GeometryError
        A feature has a NaN or infinite coordinate or a latitude beyond +-90 degrees.

    Examples
    --------
    >>> broken = shapely.from_wkt("MULTIPOLYGON (((117 39, 117.01 39, 117.01 39.01, 117 39)), EMPTY)")
    >>> fixed, repairs = sanitize_parks(
    ...     np.array([broken], dtype=object), index=[0], ids=["P1"], source="demo")
    >>> fixed[0].geom_type, repairs[0]["problem"]
    ('Polygon', 'empty part')
    """
    out = np.asarray(geoms, dtype=object).copy()
    repairs: list[dict[str, Any]] = []

    def repaired(i: int, problem: str, action: str, detail: str) -> None:
        repairs.append({"index": index[i], "park_id": ids[i], "problem": problem, "action": action})
        log.warning("%s: %s %s; %s", source, _feature(index[i], ids[i]), detail, action)

    for i in read_repairs:
        # a ring of two points stays too short once closed: refused later, not "repaired"
        if 0 <= i < len(out) and "Too few points" not in str(shapely.is_valid_reason(out[i])):
            repaired(
                i,
                "unclosed ring",
                "closed it by repeating its first vertex",
                "has a ring whose last vertex is not its first (an unclosed ring)",
            )
    present = ~shapely.is_missing(out)
    present[present] = ~shapely.is_empty(out[present])
    if not present.any():
        return out, repairs
    _refuse_bad_coordinates(out, present, index=index, ids=ids, source=source)
    with_z = np.zeros(len(out), dtype=bool)
    with_z[present] = shapely.has_z(out[present])
    if with_z.any():
        out[with_z] = shapely.force_2d(out[with_z])
    polygonal = np.zeros(len(out), dtype=bool)
    polygonal[present] = np.isin(shapely.get_type_id(out[present]), (_POLYGON, _MULTIPOLYGON))
    for i in _with_empty_parts(out, present):
        cleaned, n_dropped = _drop_empty_parts(out[i])
        if n_dropped:
            out[i] = cleaned
            repaired(
                i,
                "empty part",
                "dropped the empty part(s)",
                f"has {n_dropped} empty part(s) or ring(s) in its geometry",
            )
    for j in _crossing(out, polygonal):
        out[j] = split_at_antimeridian(out[j])
        repaired(
            j,
            "crosses the antimeridian",
            "split it at longitude 180 into one part on each side",
            "has edges jumping more than 180 degrees of longitude (it crosses the "
            "antimeridian; read literally it would span the globe the other way round)",
        )
    return out, repairs


def _with_empty_parts(geoms: NDArray[np.object_], present: NDArray[np.bool_]) -> list[int]:
    """Positions of non-empty geometries that hold an empty part or an empty hole (found on
    arrays: this runs on every join, so it must cost nothing on clean parks)."""
    positions = np.flatnonzero(present)
    parts, owner = shapely.get_parts(geoms[present], return_index=True)
    flagged = set(positions[owner[shapely.is_empty(parts)]].tolist())
    polygons = shapely.get_type_id(parts) == _POLYGON
    holed = polygons & (shapely.get_num_interior_rings(parts) > 0)
    if holed.any():
        rings, ring_part = shapely.get_rings(parts[holed], return_index=True)
        empty_ring = shapely.is_empty(rings)
        flagged |= set(positions[owner[np.flatnonzero(holed)[ring_part[empty_ring]]]].tolist())
    return sorted(int(i) for i in flagged)


def _feature(index: object, park_id: object) -> str:
    if park_id is None or (isinstance(park_id, float) and np.isnan(park_id)):
        return f"feature {index} (no park_id)"
    return f"feature {index} (park_id {str(park_id)!r})"


def _refuse_bad_coordinates(
    geoms: NDArray[np.object_],
    present: NDArray[np.bool_],
    *,
    index: Sequence[Any],
    ids: Sequence[Any],
    source: str,
) -> None:
    coords, owner = shapely.get_coordinates(geoms[present], return_index=True)
    if not len(coords):
        return
    positions = np.flatnonzero(present)
    bad = ~np.isfinite(coords).all(axis=1)
    beyond = np.zeros(len(coords), dtype=bool)
    beyond[~bad] = np.abs(coords[~bad, 1]) > 90.0
    problems: list[str] = []
    for mask, what in (
        (bad, "has a vertex with a NaN or infinite coordinate"),
        (beyond, "has a latitude beyond +-90 degrees"),
    ):
        for k in np.unique(owner[mask])[:_SHOWN]:
            i = int(positions[int(k)])
            first = coords[owner == k][mask[owner == k]][0]
            problems.append(f"{_feature(index[i], ids[i])} {what} ({first[0]!r}, {first[1]!r})")
    if problems:
        raise GeometryError(
            f"{source}: {'; '.join(problems[:_SHOWN])}; fix those vertices (is the CRS right?) "
            "or remove the feature"
        )


def _drop_empty_parts(geom: Any) -> tuple[Any, int]:
    """The geometry without empty polygons and empty rings, and how many were dropped."""
    parts = shapely.get_parts(geom)
    kept: list[Any] = []
    dropped = 0
    for part in parts:
        if part.is_empty:
            dropped += 1
            continue
        if shapely.get_type_id(part) == _POLYGON:
            holes = [ring for ring in part.interiors if not ring.is_empty]
            dropped += len(part.interiors) - len(holes)
            if len(holes) != len(part.interiors):
                part = shapely.Polygon(part.exterior, holes)
        kept.append(part)
    if not dropped:
        return geom, 0
    polygons = [p for p in kept if shapely.get_type_id(p) == _POLYGON]
    if shapely.get_type_id(geom) == _COLLECTION:
        return shapely.GeometryCollection(kept), dropped
    if not polygons:
        return shapely.Polygon(), dropped
    if len(polygons) == 1 and shapely.get_type_id(geom) == _POLYGON:
        return polygons[0], dropped
    return (polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)), dropped


def _crossing(geoms: NDArray[np.object_], polygonal: NDArray[np.bool_]) -> list[int]:
    """Positions of the polygonal geometries that cross the antimeridian (on arrays)."""
    positions = np.flatnonzero(polygonal)
    if not positions.size:
        return []
    parts, owner = shapely.get_parts(geoms[polygonal], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    jump = same & (np.abs(np.diff(coords[:, 0])) > 180.0)
    hit = owner[ring_part[coord_ring[1:][jump]]]
    return sorted({int(positions[k]) for k in hit})


def crosses_antimeridian(geom: Any) -> bool:
    """True when a ring of the (multi)polygon has an edge spanning more than 180 degrees of
    longitude: by RFC 7946 such an edge crosses the antimeridian.

    Examples
    --------
    >>> from shapely import Polygon, box
    >>> crosses_antimeridian(Polygon([(179.9, 10), (-179.9, 10), (-179.9, 11), (179.9, 11)]))
    True
    >>> crosses_antimeridian(box(117, 39, 118, 40))
    False
    """
    rings = shapely.get_rings(shapely.get_parts(geom))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        return False
    same = ring[1:] == ring[:-1]
    return bool(np.any(np.abs(np.diff(coords[:, 0]))[same] > 180.0))


def _unwrap(coords: NDArray[np.float64], near: float | None) -> NDArray[np.float64]:
    """Ring coordinates with longitudes made continuous (no jump over 180 degrees), shifted
    by whole turns to lie near ``near`` when given."""
    lon = coords[:, 0]
    step = np.diff(lon)
    turns = np.r_[0.0, np.cumsum(-360.0 * np.round(step / 360.0))]
    unwrapped = lon + turns
    if near is not None:
        unwrapped += 360.0 * np.round((near - unwrapped.mean()) / 360.0)
    return np.column_stack([unwrapped, coords[:, 1]])


def split_at_antimeridian(geom: Any) -> Any:
    """Split a (multi)polygon whose edges cross 180 degrees into parts within -180..180.

    Examples
    --------
    >>> from shapely import Polygon
    >>> park = Polygon([(179.9, 10), (-179.9, 10), (-179.9, 11), (179.9, 11)])
    >>> split = split_at_antimeridian(park)
    >>> split.geom_type, [round(b, 1) for b in split.bounds]
    ('MultiPolygon', [-180.0, 10.0, 180.0, 11.0])
    >>> split.contains(shapely.Point(10, 10.5)), split.contains(shapely.Point(179.95, 10.5))
    (False, True)
    """
    pieces: list[Any] = []
    for part in shapely.get_parts(geom):
        shell = _unwrap(shapely.get_coordinates(part.exterior), None)
        centre = float(shell[:, 0].mean())
        holes = [_unwrap(shapely.get_coordinates(r), centre) for r in part.interiors]
        polygon = shapely.make_valid(shapely.Polygon(shell, holes))
        x0, _, x1, _ = polygon.bounds
        for turn in range(
            int(np.floor((x0 + 180.0) / 360.0)), int(np.floor((x1 + 180.0) / 360.0)) + 1
        ):
            window = shapely.box(-180.0 + 360.0 * turn, -90.0, 180.0 + 360.0 * turn, 90.0)
            clipped = shapely.intersection(polygon, window)
            clipped = shapely.transform(clipped, lambda c, t=turn: c - (360.0 * t, 0.0))
            pieces.extend(
                p for p in shapely.get_parts(clipped) if shapely.get_type_id(p) == _POLYGON
            )
            pieces.extend(
                q
                for p in shapely.get_parts(clipped)
                if shapely.get_type_id(p) == _MULTIPOLYGON
                for q in shapely.get_parts(p)
            )
    pieces = [p for p in pieces if not p.is_empty and p.area > 0]
    if len(pieces) == 1:
        return pieces[0]
    return shapely.MultiPolygon(pieces)
