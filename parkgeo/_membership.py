"""Point in polygon on coordinate arrays for :func:`parkgeo.join.assign_parks`: which parks each
enterprise lies in or on the edge of (within ``boundary_tol_m``), under the edge model of
:mod:`parkgeo._edges`.

The work runs on coordinate arrays (``shapely.contains_xy``) after a bounding-box candidate pass
on points sorted by longitude bucket, so no shapely Point is built. Each park is tested against
itself shrunk by a band a little wider than the tolerance (points inside are members, well
inside); only the few points in the band are measured against the edge.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from numpy.typing import NDArray

from parkgeo._edges import Boundaries, metres_per_degree

__all__ = ["Members", "boundaries_cached", "members", "n_in_parks"]


@dataclass(frozen=True)
class Members:
    """(row, park) pairs where the row lies in the park or on its edge."""

    row: NDArray[np.int64]
    park: NDArray[np.int32]
    interior: NDArray[np.bool_]


_N_CELLS = 65_535  # longitude buckets: a 16-bit key sorts in linear time (radix sort)


def members(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    park_geoms: NDArray[np.object_],
    tol_m: float,
) -> Members:
    finite = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    empty = Members(
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
                boundaries.append(boundaries_cached(wkbs, park_geoms))
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
    return Members(np.concatenate(rows), np.concatenate(parks), np.concatenate(interiors))


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


def boundaries_cached(wkbs: NDArray[np.object_], park_geoms: NDArray[np.object_]) -> Boundaries:
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


def n_in_parks(
    lon: NDArray[np.float64], lat: NDArray[np.float64], park_geoms: NDArray[np.object_], tol: float
) -> int:
    """How many of the points fall in (or on the edge of) a park."""
    return int(np.unique(members(lon, lat, park_geoms, tol).row).size)
