"""Assign each enterprise to at most one park, with one recorded outcome per row.

:func:`assign_parks` never drops or duplicates a row. Each enterprise gets exactly one ``match``:

``inside``
    Strictly inside exactly one park (farther than ``boundary_tol_m`` from its edge).
``boundary``
    Within ``boundary_tol_m`` (default 1 cm) of the edge of exactly one park, on either side,
    and inside no other park. Counted in that park.
``ambiguous``
    In (or on the edge of) several parks at once: overlapping or nested parks, or a point on
    the shared edge of two adjacent parks. Resolved by the ``overlap`` rule; the ``candidates``
    column lists every park involved, the chosen one first, separated by ``;``.
``near``
    Outside every park but within ``near_m`` metres of one (geocoding noise); counted in the
    nearest park. Off unless ``near_m`` is given.
``unmatched``
    Everything else. ``nearest_park_id`` and ``distance_m`` say which park is nearest and how
    far its boundary is, for siting work. Rows without finite coordinates are ``unmatched`` with
    no nearest park and a NaN distance.

One edge model for membership and distance: a park edge is straight in longitude/latitude
(as shapely, GeoPandas and QGIS treat EPSG:4326 polygons). ``distance_m`` is the geodesic
distance on the WGS-84 ellipsoid (GeographicLib) from the enterprise to the nearest point of
that boundary (:mod:`parkgeo._edges`), and ``boundary_tol_m`` is compared with the same
distance, so an ``unmatched`` row is always farther than ``boundary_tol_m`` from every park.
The search needs no projection, so an enterprise anywhere on Earth (even on the far side of
the globe from the parks) gets its finite distance.

The point-in-polygon work runs on coordinate arrays (``shapely.contains_xy``) after a
bounding-box candidate pass on points sorted by longitude, so no shapely Point is built for
rows that fall in a park; only the distinct locations outside every park are turned into
points for the nearest-park search.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from parkgeo._coordcheck import coord_system_evidence
from parkgeo._edges import Boundaries, metres_per_degree
from parkgeo._errors import CRSError, GeometryError, ParkgeoError, SchemaError
from parkgeo._geometry import sanitize_parks

__all__ = ["MATCH_KINDS", "JoinResult", "assign_parks"]

log = logging.getLogger("parkgeo")

MATCH_KINDS: tuple[str, ...] = ("inside", "boundary", "near", "ambiguous", "unmatched")
"""Values of the ``match`` column, in the order summaries list them."""

_INSIDE, _BOUNDARY, _NEAR, _AMBIGUOUS, _UNMATCHED = range(5)
_OVERLAP_RULES = ("smallest", "priority", "error")
_GEOD = pyproj.Geod(ellps="WGS84")
_ERROR_LIST_LIMIT = 10

OverlapRule = Literal["smallest", "priority", "error"]


@dataclass(frozen=True)
class JoinResult:
    """Outcome of :func:`assign_parks`.

    Attributes
    ----------
    assigned : pandas.DataFrame
        The enterprises (same index, rows and columns as given) plus ``park_id``, ``match``,
        ``distance_m``, ``nearest_park_id`` and ``candidates``.
    summary : pandas.DataFrame
        One row per match kind (all five, in :data:`MATCH_KINDS` order) with the count ``n``
        and, when the enterprises have a ``year`` column, one count column per year (named by
        the year as a string). Each count column adds up to the number of input rows.
    """

    assigned: pd.DataFrame
    summary: pd.DataFrame


def assign_parks(
    enterprises: pd.DataFrame,
    parks: Any,
    *,
    near_m: float | None = None,
    overlap: OverlapRule = "smallest",
    priority: str | None = None,
    boundary_tol_m: float = 0.01,
    nearest: bool = True,
    check_coord_system: bool = True,
) -> JoinResult:
    """Assign each enterprise to the park it lies in, with one outcome per row.

    Parameters
    ----------
    enterprises : pandas.DataFrame or geopandas.GeoDataFrame
        A DataFrame with WGS-84 ``lon``/``lat`` columns (as :func:`parkgeo.io.read_enterprises`
        returns, GCJ-02/BD-09 already converted), or a GeoDataFrame of points in any CRS.
    parks : geopandas.GeoDataFrame
        Park polygons/multipolygons with a unique ``park_id``, in any CRS (reprojected to
        EPSG:4326). Holes are honoured: a point in a hole is not in the park.
    near_m : float, optional
        Count enterprises outside every park but within this many metres of one in the nearest
        park, as ``near``. Off by default.
    overlap : {"smallest", "priority", "error"}
        How a point in several parks is resolved: the park with the smallest geodesic area
        wins; or the park with the lowest value in the priority column (1 before 2; missing
        values last; ties by smaller area); or raise :class:`~parkgeo.ParkgeoError` listing the
        enterprises and parks involved.
    priority : str, optional
        Name of the parks' priority column for ``overlap="priority"`` (default ``"priority"``).
    boundary_tol_m : float
        A point this close to a park's edge (either side) is on its boundary. Default 1 cm.
    nearest : bool
        Find the nearest park and its distance for rows in no park (the ``unmatched`` ledger).
        ``False`` skips that search (``nearest_park_id`` is then missing and ``distance_m`` NaN
        for those rows), which saves time when only per-park figures are wanted; the search
        runs anyway when ``near_m`` is given.
    check_coord_system : bool
        Test whether the points look like GCJ-02/BD-09 read as WGS-84 (or the parks like
        GCJ-02): if shifting a sample of them by the inverse transform puts markedly more in a
        park, warn and suggest ``--coord-system``; the evidence is in
        ``summary.attrs["coord_system"]`` (see :mod:`parkgeo._coordcheck`). A few ms.

    Returns
    -------
    JoinResult
        ``assigned`` (the input rows, not mutated, plus the columns ``park_id``, ``match``,
        ``distance_m``, ``nearest_park_id``, ``candidates``; the id and match columns are
        categoricals, compact at millions of rows) and ``summary`` (counts per match kind).

    Raises
    ------
    CRSError
        If the parks or an enterprise GeoDataFrame have no CRS.
    SchemaError
        If ``park_id``, ``lon``/``lat`` or the priority column is missing, or park ids repeat.
    GeometryError
        If a park geometry is missing, empty, invalid or not a polygon.
    ParkgeoError
        For bad options, and with ``overlap="error"`` when a point lies in several parks.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> parks = gpd.GeoDataFrame(
    ...     {"park_id": ["P1", "P2"]},
    ...     geometry=[box(117.0, 39.0, 117.01, 39.01), box(117.005, 39.0, 117.02, 39.01)],
    ...     crs="EPSG:4326",
    ... )
    >>> firms = pd.DataFrame({"lon": [117.002, 117.007, 117.015, 117.1], "lat": [39.005] * 4})
    >>> res = assign_parks(firms, parks)
    >>> res.assigned[["park_id", "match", "candidates"]]
      park_id      match candidates
    0      P1     inside        NaN
    1      P1  ambiguous      P1;P2
    2      P2     inside        NaN
    3     NaN  unmatched        NaN
    >>> round(float(res.assigned["distance_m"].iloc[3]))
    6930
    >>> res.summary.set_index("match")["n"].tolist()
    [2, 0, 0, 1, 1]
    """
    _check_options(near_m=near_m, overlap=overlap, boundary_tol_m=boundary_tol_m)
    park_ids, park_geoms = _check_parks(parks)
    priority_values = _priority_values(parks, overlap, priority)
    lon, lat = _enterprise_lonlat(enterprises)

    area_ha = _park_area_ha(park_geoms)
    rank = _resolution_rank(park_ids, area_ha, priority_values)
    members = _members(lon, lat, park_geoms, boundary_tol_m)
    outcome = _resolve(members, len(lon), rank)
    if overlap == "error" and outcome.multi_rows.size:
        raise _overlap_error(enterprises, outcome, park_ids)
    match = outcome.match
    park = outcome.park
    if nearest or near_m is not None:
        distance_m, nearest_park = _nearest_for_outside(lon, lat, park, park_geoms)
    else:
        distance_m = np.full(len(lon), np.nan)
        nearest_park = np.full(len(lon), -1, dtype=np.int32)
    if near_m is not None:
        near = (match == _UNMATCHED) & (distance_m <= near_m)
        match[near] = _NEAR
        park[near] = nearest_park[near]
    in_a_park = (match != _UNMATCHED) & (match != _NEAR)
    nearest_park[in_a_park] = park[in_a_park]
    distance_m[in_a_park] = 0.0

    assigned = _assemble(enterprises, park_ids, park, match, distance_m, nearest_park, outcome)
    summary = _summary(assigned)
    if check_coord_system:
        summary.attrs["coord_system"] = coord_system_evidence(
            lon,
            lat,
            lambda x, y: _n_in_parks(x, y, park_geoms, boundary_tol_m),
            said_key=hash(tuple(park_ids.tolist())),  # batches of one file warn once
        )
    if len(match) and not np.any(in_a_park | (match == _NEAR)):
        _warn_nothing_matched(lon, lat, park_geoms)
    log.debug(
        "joined %d enterprises to %d parks: %s",
        len(assigned),
        len(park_ids),
        ", ".join(f"{k} {int(n)}" for k, n in zip(summary["match"], summary["n"], strict=True)),
    )
    return JoinResult(assigned=assigned, summary=summary)


def _n_in_parks(
    lon: NDArray[np.float64], lat: NDArray[np.float64], park_geoms: NDArray[np.object_], tol: float
) -> int:
    """How many of the points fall in (or on the edge of) a park."""
    return int(np.unique(_members(lon, lat, park_geoms, tol).row).size)


def _warn_nothing_matched(
    lon: NDArray[np.float64], lat: NDArray[np.float64], park_geoms: NDArray[np.object_]
) -> None:
    warn_nothing_matched(len(lon), lonlat_bounds(lon, lat), park_geoms)


def lonlat_bounds(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[float, float, float, float] | None:
    """(lon min, lon max, lat min, lat max) of the finite points, None if there are none."""
    finite = np.isfinite(lon) & np.isfinite(lat)
    if not finite.any():
        return None
    return (
        float(lon[finite].min()),
        float(lon[finite].max()),
        float(lat[finite].min()),
        float(lat[finite].max()),
    )


def coord_system_check(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    parks: Any,
    *,
    boundary_tol_m: float = 0.01,
) -> dict[str, Any]:
    """The GCJ-02/BD-09 evidence of :func:`assign_parks` for points joined elsewhere (a file
    joined in parts: the driver passes the union of the parts' location samples), warning as
    the join does. Returns what ``summary.attrs["coord_system"]`` holds."""
    park_ids, park_geoms = _check_parks(parks)
    return coord_system_evidence(
        np.asarray(lon, dtype=np.float64),
        np.asarray(lat, dtype=np.float64),
        lambda x, y: _n_in_parks(x, y, park_geoms, boundary_tol_m),
        said_key=hash(tuple(park_ids.tolist())),
    )


def warn_nothing_matched(
    n_rows: int, bounds: tuple[float, float, float, float] | None, park_geoms: Any
) -> None:
    """Say loudly that no enterprise fell in any park: the two layers almost certainly do not
    describe the same place, or one of them is in another coordinate system. ``bounds``: the
    enterprises' (lon min, lon max, lat min, lat max), None if none has coordinates (also
    used by :mod:`parkgeo._driver`, which joins a file in parts)."""
    px0, py0, px1, py1 = shapely.total_bounds(np.asarray(park_geoms, dtype=object))
    parks_box = f"lon {px0:.4f}..{px1:.4f}, lat {py0:.4f}..{py1:.4f}"
    if bounds is not None:
        ex0, ex1, ey0, ey1 = bounds
        firms_box = f"lon {ex0:.4f}..{ex1:.4f}, lat {ey0:.4f}..{ey1:.4f}"
    else:
        firms_box = "no usable coordinates"
    log.warning(
        "0 of %d enterprises are in any park (0 matched): the enterprises lie at %s, the parks "
        "at %s. Check that both files cover the same area and that the coordinate systems are "
        "right (--coord-system / --parks-coord-system gcj02 or bd09 for Gaode/Baidu "
        "coordinates, --parks-crs for a parks file without CRS)",
        n_rows,
        firms_box,
        parks_box,
    )


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------


def _check_options(*, near_m: float | None, overlap: str, boundary_tol_m: float) -> None:
    if overlap not in _OVERLAP_RULES:
        raise ParkgeoError(
            f"overlap={overlap!r} is not a rule; choose one of {', '.join(_OVERLAP_RULES)}"
        )
    if near_m is not None and not (np.isfinite(near_m) and near_m >= 0):
        raise ParkgeoError(f"near_m must be a distance in metres >= 0, got {near_m!r}")
    if not (np.isfinite(boundary_tol_m) and boundary_tol_m >= 0):
        raise ParkgeoError(
            f"boundary_tol_m must be a distance in metres >= 0, got {boundary_tol_m!r}"
        )


def _check_parks(parks: Any) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Return park ids (object array of str) and geometries in EPSG:4326."""
    import geopandas as gpd

    if not isinstance(parks, gpd.GeoDataFrame):
        raise ParkgeoError(
            f"parks must be a GeoDataFrame of polygons, got {type(parks).__name__}; "
            "load them with parkgeo.io.read_parks"
        )
    if parks.crs is None:
        raise CRSError(
            "the parks layer has no CRS, so its polygons cannot be placed; set it with "
            "parks.set_crs(...) (e.g. 'EPSG:4326'), or pass --parks-crs on the command line"
        )
    if "park_id" not in parks.columns:
        raise SchemaError(
            "parks need a 'park_id' column; rename your id column or map it in the column "
            'mapping ([parks] park_id = "...")'
        )
    if len(parks) == 0:
        raise GeometryError("the parks layer is empty: there is nothing to join to")
    ids = parks["park_id"]
    if ids.isna().any():
        first = parks.index[ids.isna().to_numpy()][0]
        raise SchemaError(f"park feature {first!r} has no park_id; give every park an id")
    ids_str = ids.astype(str)
    duplicated = ids_str[ids_str.duplicated()].unique().tolist()
    if duplicated:
        raise SchemaError(
            f"park_id values repeat: {', '.join(map(repr, duplicated[:_ERROR_LIST_LIMIT]))}; "
            "park ids must be unique (merge those features or renumber them)"
        )
    geoms = parks.geometry
    if not _is_wgs84(parks.crs):
        geoms = geoms.to_crs("EPSG:4326")
    values = np.asarray(geoms.values, dtype=object)
    # Parks built by hand skip read_parks: an empty part would crash GEOS (SIGSEGV) below.
    values, _ = sanitize_parks(values, index=list(parks.index), ids=list(ids_str), source="parks")
    missing = shapely.is_missing(values)
    bad = missing.copy()
    bad[~missing] = shapely.is_empty(values[~missing])
    types = np.full(len(values), -1)
    types[~bad] = shapely.get_type_id(values[~bad])
    not_polygon = ~bad & ~np.isin(types, (3, 6))
    invalid = ~bad & ~not_polygon
    invalid[invalid] = ~shapely.is_valid(values[invalid])
    for mask, problem, fix in (
        (bad, "has no geometry (missing or empty)", "drop it or draw its boundary"),
        (not_polygon, "is not a Polygon or MultiPolygon", "give parks polygon boundaries"),
        (
            invalid,
            "is not a valid polygon (self-intersection?)",
            "repair it with shapely.make_valid, or load parks with parkgeo.io.read_parks, "
            "which repairs and reports",
        ),
    ):
        if mask.any():
            which = ", ".join(map(repr, ids_str.to_numpy()[mask][:_ERROR_LIST_LIMIT]))
            raise GeometryError(f"park {which} {problem}; {fix}")
    return np.asarray(ids_str.to_numpy(), dtype=object), values


def _is_wgs84(crs: Any) -> bool:
    parsed = pyproj.CRS.from_user_input(crs)
    if parsed.equals(pyproj.CRS.from_epsg(4326)):
        return True
    # CGCS2000 equals WGS-84 to centimetres; PROJ's transformation between them is a no-op.
    return bool(parsed.is_geographic and parsed.to_epsg() == 4490)


def _priority_values(parks: Any, overlap: str, priority: str | None) -> NDArray[np.float64] | None:
    column = priority if priority is not None else "priority"
    if overlap != "priority":
        return None
    if column not in parks.columns:
        raise SchemaError(
            f"overlap='priority' needs a priority column in the parks, and {column!r} is missing; "
            "add it (1 = first) or name the column with priority=..."
        )
    values = pd.to_numeric(parks[column], errors="coerce")
    bad = values.isna() & parks[column].notna()
    if bad.any():
        first = parks.loc[bad, "park_id"].iloc[0]
        raise SchemaError(
            f"priority column {column!r} must be numeric; park {first!r} has "
            f"{parks.loc[bad, column].iloc[0]!r}"
        )
    return cast(NDArray[np.float64], values.to_numpy(dtype=np.float64, na_value=np.nan))


def _enterprise_lonlat(enterprises: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    from parkgeo.coords import lonlat_of

    if not isinstance(enterprises, pd.DataFrame):
        raise ParkgeoError(
            f"enterprises must be a DataFrame with lon/lat or a GeoDataFrame of points, got "
            f"{type(enterprises).__name__}"
        )
    return lonlat_of(enterprises)


def _park_area_ha(park_geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    from parkgeo.coords import geodesic_area_ha

    return geodesic_area_ha(park_geoms, crs="EPSG:4326")


def _resolution_rank(
    park_ids: NDArray[np.object_],
    area_ha: NDArray[np.float64],
    priority_values: NDArray[np.float64] | None,
) -> NDArray[np.int64]:
    """Rank of each park when a point is in several: 0 wins. Ties end on park_id."""
    ids = park_ids.astype(str)
    if priority_values is None:
        order = np.lexsort((ids, area_ha))
    else:
        missing_last = np.where(np.isnan(priority_values), np.inf, priority_values)
        order = np.lexsort((ids, area_ha, missing_last))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


# --------------------------------------------------------------------------------------------
# point in polygon on coordinate arrays
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Members:
    """(row, park) pairs where the row lies in the park or on its edge."""

    row: NDArray[np.int64]
    park: NDArray[np.int32]
    interior: NDArray[np.bool_]


_N_CELLS = 65_535  # longitude buckets: a 16-bit key sorts in linear time (radix sort)


def _members(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    park_geoms: NDArray[np.object_],
    tol_m: float,
) -> _Members:
    finite = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    empty = _Members(
        np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32), np.empty(0, dtype=bool)
    )
    if finite.size == 0:
        return empty
    # Ordering the rows by longitude bucket once turns each park's bounding-box test into a
    # binary search plus a test on one narrow strip, instead of a pass over every row per park.
    x_finite = lon[finite]
    x0, x1 = float(x_finite.min()), float(x_finite.max())
    scale = _N_CELLS / (x1 - x0) if x1 > x0 else 0.0

    def cell(x: Any) -> Any:
        return (np.clip(x, x0, x1) - x0) * scale

    cells = cell(x_finite).astype(np.uint16)
    by_cell = np.argsort(cells, kind="stable")
    order = finite[by_cell]
    cells = cells[by_cell]
    xs = lon[order]
    ys = lat[order]
    rows: list[NDArray[np.int64]] = []
    parks: list[NDArray[np.int32]] = []
    interiors: list[NDArray[np.bool_]] = []
    wkbs = shapely.to_wkb(park_geoms)
    boundaries: list[Boundaries] = []  # built on first need: few rows are ever in a band
    for k, wkb in enumerate(wkbs):
        outer, inner, geom, band_m = _tolerance_shapes_cached(wkb, tol_m)
        minx, miny, maxx, maxy = shapely.bounds(outer)
        if maxx < x0 or minx > x1:
            continue
        lo = int(np.searchsorted(cells, np.uint16(cell(minx)), side="left"))
        hi = int(np.searchsorted(cells, np.uint16(cell(maxx)), side="right"))
        strip_x, strip_y = xs[lo:hi], ys[lo:hi]
        in_box = (strip_x >= minx) & (strip_x <= maxx) & (strip_y >= miny) & (strip_y <= maxy)
        cand = np.flatnonzero(in_box) + lo
        if cand.size == 0:
            continue
        cx, cy = xs[cand], ys[cand]
        # Most candidates are well inside (farther than the band from the edge); the others
        # are tested against the park grown by the band, and those in the band are decided by
        # their distance to the edge, measured as distance_m is (one edge model for both).
        interior = shapely.contains_xy(inner, cx, cy)
        rest = np.flatnonzero(~interior)
        band = rest[shapely.intersects_xy(outer, cx[rest], cy[rest])]
        member = interior.copy()
        if tol_m == 0:
            member[band] = True
        elif band.size:
            if not boundaries:
                boundaries.append(_boundaries_cached(wkbs, park_geoms))
            d = boundaries[0].distance_to(cx[band], cy[band], k, within_m=band_m)
            inside = shapely.intersects_xy(geom, cx[band], cy[band])
            member[band] = inside | (d <= tol_m)
            interior[band] = inside & (d > tol_m)
        if not member.any():
            continue
        rows.append(order[cand[member]])
        parks.append(np.full(int(member.sum()), k, dtype=np.int32))
        interiors.append(interior[member])
    if not rows:
        return empty
    return _Members(np.concatenate(rows), np.concatenate(parks), np.concatenate(interiors))


_SHAPES = threading.local()
_SHAPES_LIMIT = 4096


def _tolerance_shapes_cached(wkb: bytes, tol_m: float) -> tuple[Any, Any, Any, float]:
    """:func:`_tolerance_shapes`, remembered per thread (prepared geometries are not shared
    across threads): batches and Dask partitions join against the same parks again and again,
    and buffering 500 parks costs ~0.1 s a time."""
    cache = getattr(_SHAPES, "cache", None)
    if cache is None:
        cache = _SHAPES.cache = {}
    key = (wkb, tol_m)
    shapes = cache.get(key)
    if shapes is None:
        if len(cache) >= _SHAPES_LIMIT:
            cache.clear()
        shapes = cache[key] = _tolerance_shapes(shapely.from_wkb(wkb), tol_m)
    return cast(tuple[Any, Any, Any, float], shapes)


def _boundaries_cached(wkbs: NDArray[np.object_], park_geoms: NDArray[np.object_]) -> Boundaries:
    """The parks' boundary pieces, remembered per thread like the tolerance shapes."""
    cache = getattr(_SHAPES, "boundaries", None)
    if cache is None:
        cache = _SHAPES.boundaries = {}
    key = hashlib.blake2b(b"".join(wkbs.tolist()), digest_size=16).digest()
    found = cache.get(key)
    if found is None:
        if len(cache) >= 8:
            cache.clear()
        found = cache[key] = Boundaries.of(park_geoms)
    return cast(Boundaries, found)


def _tolerance_shapes(geom: Any, tol_m: float) -> tuple[Any, Any, Any, float]:
    """The park grown and shrunk by a band a little wider than ``tol_m``, both prepared, in
    lon/lat; the park itself, prepared; and the band's width in metres.

    A point outside the grown shape is farther than ``tol_m`` from the park; a point in the
    shrunk shape is inside and farther than ``tol_m`` from its edge. The buffers are computed
    in a local equirectangular frame (an affine map of lon/lat, so straight edges stay
    straight) scaled to metres at the park's centre; the band is widened by the frame's scale
    error over the park's latitudes, so both statements hold exactly. Points in the band are
    decided by their distance to the edge (:meth:`Boundaries.distance_to`).
    """
    shapely.prepare(geom)
    if tol_m == 0:
        # With no tolerance, "member" is intersects (edge included), "interior" contains.
        return geom, geom, geom, 0.0
    minx, miny, maxx, maxy = shapely.bounds(geom)
    x0, y0 = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    mx0, my0 = (float(v) for v in metres_per_degree(y0))
    mx, my = metres_per_degree(np.clip(np.linspace(miny - 0.01, maxy + 0.01, 17), -89.9, 89.9))
    distortion = float(np.max(np.r_[mx0 / mx, mx / mx0, my0 / my, my / my0]))
    band_m = tol_m * distortion * 1.02 + 1e-6

    def to_local(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return cast(NDArray[np.float64], (coords - (x0, y0)) * (mx0, my0))

    def to_lonlat(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return cast(NDArray[np.float64], coords / (mx0, my0) + (x0, y0))

    local = shapely.transform(geom, to_local)
    outer = shapely.transform(local.buffer(band_m, join_style="mitre", mitre_limit=2.0), to_lonlat)
    inner_local = local.buffer(-band_m, join_style="mitre", mitre_limit=2.0)
    inner = shapely.transform(inner_local, to_lonlat)
    shapely.prepare(outer)
    shapely.prepare(inner)
    return outer, inner, geom, band_m * 2.0


# --------------------------------------------------------------------------------------------
# one outcome per row
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    match: NDArray[np.uint8]
    park: NDArray[np.int32]
    multi_rows: NDArray[np.int64]
    multi_candidates: NDArray[np.int32]  # (n_multi, max_members), -1 padded, winner first


def _resolve(members: _Members, n: int, rank: NDArray[np.int64]) -> _Outcome:
    match = np.full(n, _UNMATCHED, dtype=np.uint8)
    park = np.full(n, -1, dtype=np.int32)
    count = np.bincount(members.row, minlength=n)
    single = count[members.row] == 1
    rows1 = members.row[single]
    park[rows1] = members.park[single]
    match[rows1] = np.where(members.interior[single], _INSIDE, _BOUNDARY)

    multi = ~single
    if not multi.any():
        return _Outcome(match, park, np.empty(0, np.int64), np.empty((0, 0), np.int32))
    m_rows = members.row[multi]
    m_parks = members.park[multi]
    order = np.lexsort((rank[m_parks], m_rows))
    m_rows, m_parks = m_rows[order], m_parks[order]
    first = np.r_[True, m_rows[1:] != m_rows[:-1]]
    multi_rows = m_rows[first]
    park[multi_rows] = m_parks[first]
    match[multi_rows] = _AMBIGUOUS
    starts = np.flatnonzero(first)
    position = np.arange(len(m_rows)) - np.repeat(starts, np.diff(np.r_[starts, len(m_rows)]))
    width = int(position.max()) + 1
    candidates = np.full((len(multi_rows), width), -1, dtype=np.int32)
    group = np.cumsum(first) - 1
    candidates[group, position] = m_parks
    return _Outcome(match, park, multi_rows, candidates)


def _overlap_error(
    enterprises: pd.DataFrame, outcome: _Outcome, park_ids: NDArray[np.object_]
) -> ParkgeoError:
    n = len(outcome.multi_rows)
    labels = (
        enterprises["enterprise_id"].to_numpy()
        if "enterprise_id" in enterprises.columns
        else enterprises.index.to_numpy()
    )
    lines = []
    for i in range(min(n, _ERROR_LIST_LIMIT)):
        ids = [str(park_ids[p]) for p in outcome.multi_candidates[i] if p >= 0]
        lines.append(f"{labels[outcome.multi_rows[i]]} in {' and '.join(sorted(ids))}")
    more = f" (and {n - _ERROR_LIST_LIMIT} more)" if n > _ERROR_LIST_LIMIT else ""
    return ParkgeoError(
        f"{n} enterprises lie in several overlapping parks (or on a shared edge): "
        f"{'; '.join(lines)}{more}; fix the park boundaries, or choose a rule with "
        "overlap='smallest' or overlap='priority' (--overlap on the command line)"
    )


def _nearest_for_outside(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    park: NDArray[np.int32],
    park_geoms: NDArray[np.object_],
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Geodesic distance (m) to, and index of, the nearest park for rows in no park."""
    n = len(lon)
    distance = np.full(n, np.nan, dtype=np.float64)
    nearest = np.full(n, -1, dtype=np.int32)
    outside = np.flatnonzero((park < 0) & np.isfinite(lon) & np.isfinite(lat))
    if outside.size == 0:
        return distance, nearest
    # Enterprise-year rows repeat locations: search once per distinct location.
    codes, uniques = pd.factorize(lon[outside] + 1j * lat[outside])
    ulon, ulat = np.real(uniques).copy(), np.imag(uniques).copy()
    boundaries = _boundaries_cached(shapely.to_wkb(park_geoms), park_geoms)
    owner, dist = boundaries.nearest(ulon, ulat)
    distance[outside] = dist[codes]
    nearest[outside] = owner[codes]
    return distance, nearest


# --------------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------------


def _assemble(
    enterprises: pd.DataFrame,
    park_ids: NDArray[np.object_],
    park: NDArray[np.int32],
    match: NDArray[np.uint8],
    distance_m: NDArray[np.float64],
    nearest: NDArray[np.int32],
    outcome: _Outcome,
) -> pd.DataFrame:
    categories = pd.Index(park_ids.astype(str), dtype="str")
    combo_codes = np.full(len(match), -1, dtype=np.int32)
    combo_labels: list[str] = []
    if len(outcome.multi_rows):
        combos, inverse = np.unique(outcome.multi_candidates, axis=0, return_inverse=True)
        combo_labels = [";".join(str(park_ids[p]) for p in row if p >= 0) for row in combos]
        combo_codes[outcome.multi_rows] = inverse.ravel()
    out = enterprises.copy(deep=False)
    out["park_id"] = pd.Categorical.from_codes(park, categories=categories)
    out["match"] = pd.Categorical.from_codes(
        match.astype(np.int8), categories=pd.Index(MATCH_KINDS, dtype="str")
    )
    out["distance_m"] = distance_m
    out["nearest_park_id"] = pd.Categorical.from_codes(nearest, categories=categories)
    labels = pd.Index(combo_labels, dtype="str")
    if labels.has_duplicates:  # the same parks in another order cannot happen; be safe anyway
        raise AssertionError("duplicate candidate combinations")
    out["candidates"] = pd.Categorical.from_codes(combo_codes, categories=labels)
    return cast(pd.DataFrame, out)


def _summary(assigned: pd.DataFrame) -> pd.DataFrame:
    codes = assigned["match"].cat.codes.to_numpy()
    summary = pd.DataFrame(
        {
            "match": pd.Series(MATCH_KINDS, dtype="str"),
            "n": np.bincount(codes, minlength=len(MATCH_KINDS)).astype(np.int64),
        }
    )
    if "year" in assigned.columns:
        years = assigned["year"]
        values = years.to_numpy()
        if values.dtype.kind in "iu" and len(values):
            # Whole-number years (validated tables): one bincount instead of a mask per year.
            first = int(values.min())
            span = int(values.max()) - first + 1
            if span <= 10_000:
                kinds = len(MATCH_KINDS)
                counts = np.bincount(
                    (values - first).astype(np.int64) * kinds + codes, minlength=span * kinds
                ).reshape(span, kinds)
                for k in np.flatnonzero(counts.sum(axis=1)):
                    summary[str(first + int(k))] = counts[k].astype(np.int64)
                return cast(pd.DataFrame, summary)
        for year in sorted(years.dropna().unique()):
            in_year = (years == year).to_numpy()
            summary[str(_plain(year))] = np.bincount(
                codes[in_year], minlength=len(MATCH_KINDS)
            ).astype(np.int64)
        if years.isna().any():
            summary["year_missing"] = np.bincount(
                codes[years.isna().to_numpy()], minlength=len(MATCH_KINDS)
            ).astype(np.int64)
    return cast(pd.DataFrame, summary)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
