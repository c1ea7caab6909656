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

import functools
import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkgeo._coordcheck import coord_system_evidence, say_evidence
from parkgeo._cores import Later
from parkgeo._joinchecks import (
    check_options,
    check_parks,
    enterprise_lonlat,
    park_area_ha,
    priority_values,
    resolution_rank,
)
from parkgeo._membership import in_parks, members
from parkgeo._outcome import (
    MATCH_KINDS,
    NEAR,
    UNMATCHED,
    assemble,
    nearest_for_outside,
    overlap_error,
    resolve,
    summary_of,
)

__all__ = ["MATCH_KINDS", "JoinResult", "assign_parks"]

log = logging.getLogger("parkgeo")

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
    check_options(near_m=near_m, overlap=overlap, boundary_tol_m=boundary_tol_m)
    park_ids, park_geoms = check_parks(parks)
    priorities = priority_values(parks, overlap, priority)
    lon, lat = enterprise_lonlat(enterprises)

    evidence = None
    if check_coord_system:
        # measured on a sample while the join runs (a second thread on a large table), said
        # below in order
        evidence = Later(
            functools.partial(coord_system_evidence, warn=False),
            lon,
            lat,
            lambda x, y: in_parks(x, y, park_geoms, boundary_tol_m),
            rows=len(lon),
        )
    area_ha = park_area_ha(park_geoms)
    rank = resolution_rank(park_ids, area_ha, priorities)
    found = members(lon, lat, park_geoms, boundary_tol_m)
    outcome = resolve(found, len(lon), rank)
    if overlap == "error" and outcome.multi_rows.size:
        raise overlap_error(enterprises, outcome, park_ids)
    match = outcome.match
    park = outcome.park
    if nearest or near_m is not None:
        distance_m, nearest_park = nearest_for_outside(lon, lat, park, park_geoms)
    else:
        distance_m = np.full(len(lon), np.nan)
        nearest_park = np.full(len(lon), -1, dtype=np.int32)
    if near_m is not None:
        near = (match == UNMATCHED) & (distance_m <= near_m)
        match[near] = NEAR
        park[near] = nearest_park[near]
    in_a_park = (match != UNMATCHED) & (match != NEAR)
    nearest_park[in_a_park] = park[in_a_park]
    distance_m[in_a_park] = 0.0

    assigned = assemble(enterprises, park_ids, park, match, distance_m, nearest_park, outcome)
    summary = summary_of(assigned)
    if evidence is not None:
        summary.attrs["coord_system"] = found_evidence = evidence.result()
        # batches of one file warn once
        say_evidence(found_evidence, said_key=hash(tuple(park_ids.tolist())))
    if len(match) and not np.any(in_a_park | (match == NEAR)):
        _warn_nothing_matched(lon, lat, park_geoms)
    log.debug(
        "joined %d enterprises to %d parks: %s",
        len(assigned),
        len(park_ids),
        ", ".join(f"{k} {int(n)}" for k, n in zip(summary["match"], summary["n"], strict=True)),
    )
    return JoinResult(assigned=assigned, summary=summary)


def _warn_nothing_matched(
    lon: NDArray[np.float64], lat: NDArray[np.float64], park_geoms: NDArray[np.object_]
) -> None:
    warn_nothing_matched(len(lon), lonlat_bounds(lon, lat), park_geoms)


def lonlat_bounds(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[float, float, float, float] | None:
    """(lon min, lon max, lat min, lat max) of the finite points, None if there are none."""
    finite = np.isfinite(lon) & np.isfinite(lat)
    if len(finite) and finite.all():  # the usual case: no copies of millions of coordinates
        return (float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max()))
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
    park_ids, park_geoms = check_parks(parks)
    return coord_system_evidence(
        np.asarray(lon, dtype=np.float64),
        np.asarray(lat, dtype=np.float64),
        lambda x, y: in_parks(x, y, park_geoms, boundary_tol_m),
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
