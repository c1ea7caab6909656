"""Checks and per-park inputs of :func:`parkgeo.join.assign_parks`: options, the parks layer
(ids, CRS, geometry), the enterprises' coordinates, and the rank that resolves overlaps."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from parkgeo._errors import CRSError, GeometryError, ParkgeoError, SchemaError
from parkgeo._geometry import sanitize_parks

__all__ = [
    "OVERLAP_RULES",
    "check_options",
    "check_parks",
    "enterprise_lonlat",
    "park_area_ha",
    "priority_values",
    "resolution_rank",
]

OVERLAP_RULES = ("smallest", "priority", "error")
ERROR_LIST_LIMIT = 10


def check_options(*, near_m: float | None, overlap: str, boundary_tol_m: float) -> None:
    if overlap not in OVERLAP_RULES:
        raise ParkgeoError(
            f"overlap={overlap!r} is not a rule; choose one of {', '.join(OVERLAP_RULES)}"
        )
    if near_m is not None and not (np.isfinite(near_m) and near_m >= 0):
        raise ParkgeoError(f"near_m must be a distance in metres >= 0, got {near_m!r}")
    if not (np.isfinite(boundary_tol_m) and boundary_tol_m >= 0):
        raise ParkgeoError(
            f"boundary_tol_m must be a distance in metres >= 0, got {boundary_tol_m!r}"
        )


def check_parks(parks: Any) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
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
            f"park_id values repeat: {', '.join(map(repr, duplicated[:ERROR_LIST_LIMIT]))}; "
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
            which = ", ".join(map(repr, ids_str.to_numpy()[mask][:ERROR_LIST_LIMIT]))
            raise GeometryError(f"park {which} {problem}; {fix}")
    return np.asarray(ids_str.to_numpy(), dtype=object), values


def _is_wgs84(crs: Any) -> bool:
    parsed = pyproj.CRS.from_user_input(crs)
    if parsed.equals(pyproj.CRS.from_epsg(4326)):
        return True
    # CGCS2000 equals WGS-84 to centimetres; PROJ's transformation between them is a no-op.
    return bool(parsed.is_geographic and parsed.to_epsg() == 4490)


def priority_values(parks: Any, overlap: str, priority: str | None) -> NDArray[np.float64] | None:
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


def enterprise_lonlat(enterprises: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    from parkgeo.coords import lonlat_of

    if not isinstance(enterprises, pd.DataFrame):
        raise ParkgeoError(
            f"enterprises must be a DataFrame with lon/lat or a GeoDataFrame of points, got "
            f"{type(enterprises).__name__}"
        )
    return lonlat_of(enterprises)


def park_area_ha(park_geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    from parkgeo.coords import geodesic_area_ha

    return geodesic_area_ha(park_geoms, crs="EPSG:4326")


def resolution_rank(
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
