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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
from numpy.typing import NDArray

from parkgeo import _cores
from parkgeo._cores import run_both
from parkgeo._edges import Boundaries, metres_per_degree

__all__ = ["Members", "boundaries_cached", "in_parks", "members"]


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
    is_finite = np.isfinite(lon) & np.isfinite(lat)
    # every row finite (the usual case, None): the row numbers are the positions, no copies
    finite = None if is_finite.all() else np.flatnonzero(is_finite)
    n_finite = len(lon) if finite is None else len(finite)
    empty = Members(
        np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32), np.empty(0, dtype=bool)
    )
    if n_finite == 0:
        return empty
    # Ordering the rows by longitude bucket once turns each park's bounding-box test into a
    # binary search plus a test on one narrow strip, instead of a pass over every row per park.
    x_finite = lon if finite is None else lon[finite]
    x0, x1 = float(x_finite.min()), float(x_finite.max())
    scale = _N_CELLS / (x1 - x0) if x1 > x0 else 0.0

    def cell(x: Any) -> Any:
        return ((np.clip(x, x0, x1) - x0) * scale).astype(np.uint16)

    cells = cell(x_finite)
    by_cell = np.argsort(cells, kind="stable")
    order = by_cell if finite is None else finite[by_cell]
    cells = cells[by_cell]
    xs = lon[order]
    ys = lat[order]
    wkbs = shapely.to_wkb(park_geoms)
    shapes = _park_shapes_cached(wkbs, tol_m)
    minx, miny, maxx, maxy = shapes.bounds.T
    # A point's bucket lies between its park's end buckets, so the strip holds every point in
    # the box plus those of the two end buckets outside it (a few metres wide), which the
    # point-in-polygon test rejects: the strip needs no longitude test.
    lo = np.searchsorted(cells, cell(minx), side="left")
    hi = np.searchsorted(cells, cell(maxx), side="right")
    hi[(maxx < x0) | (minx > x1)] = 0
    ks = np.flatnonzero(hi > lo)
    # Parks in two runs of about equal strip length, one per thread when the table is large:
    # each prepared shape is used by one thread only, and the runs are joined in park order,
    # so the result is the one-thread result, element for element.
    work = np.cumsum((hi - lo)[ks])
    cut = int(np.searchsorted(work, work[-1] / 2.0)) if len(ks) else 0
    runs = [ks[:cut], ks[cut:]] if 0 < cut < len(ks) else [ks]
    lazy = _LazyBoundaries(wkbs, park_geoms)
    if len(runs) > 1 and n_finite >= _cores.PARALLEL_ROWS and tol_m > 0:
        lazy.get()  # built here, once, for both threads (read-only after)

    def scan(run: NDArray[np.intp]) -> Members:
        return _scan(run, lo, hi, xs, ys, order, shapes, miny, maxy, tol_m, lazy)

    found = [m for m in run_both(scan, runs, rows=n_finite) if len(m.row)]
    if not found:
        return empty
    if len(found) == 1:
        return found[0]
    return Members(
        np.concatenate([m.row for m in found]),
        np.concatenate([m.park for m in found]),
        np.concatenate([m.interior for m in found]),
    )


class _LazyBoundaries:
    """The parks' boundary pieces, built on first need (few rows are ever in a band)."""

    def __init__(self, wkbs: NDArray[np.object_], park_geoms: NDArray[np.object_]) -> None:
        self._wkbs = wkbs
        self._geoms = park_geoms
        self._built: Boundaries | None = None
        self._lock = threading.Lock()

    def get(self) -> Boundaries:
        with self._lock:
            if self._built is None:
                self._built = boundaries_cached(self._wkbs, self._geoms)
            return self._built


def _scan(
    run: NDArray[np.intp],
    lo: NDArray[np.intp],
    hi: NDArray[np.intp],
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    order: NDArray[np.intp],
    shapes: _ParkShapes,
    miny: NDArray[np.float64],
    maxy: NDArray[np.float64],
    tol_m: float,
    boundaries: _LazyBoundaries,
) -> Members:
    """Members among the parks of ``run`` (ascending), each tested on its strip."""
    rows: list[NDArray[np.int64]] = []
    parks: list[NDArray[np.int32]] = []
    interiors: list[NDArray[np.bool_]] = []
    for k in run.tolist():
        a, b = int(lo[k]), int(hi[k])
        strip_y = ys[a:b]
        cand = np.flatnonzero((strip_y >= miny[k]) & (strip_y <= maxy[k])) + a
        if cand.size == 0:
            continue
        cx, cy = xs[cand], ys[cand]
        # Most candidates are well inside (farther than the band from the edge); the others
        # are tested against the park grown by the band, and those in the band are decided by
        # their distance to the edge, measured as distance_m is (one edge model for both).
        interior = shapely.contains_xy(shapes.inner[k], cx, cy)
        rest = np.flatnonzero(~interior)
        band = rest[shapely.intersects_xy(shapes.outer[k], cx[rest], cy[rest])]
        member = interior.copy()
        if tol_m == 0:
            member[band] = True
        elif band.size:
            d = boundaries.get().distance_to(
                cx[band], cy[band], k, within_m=float(shapes.band_m[k])
            )
            inside = shapely.intersects_xy(shapes.geom[k], cx[band], cy[band])
            member[band] = inside | (d <= tol_m)
            interior[band] = inside & (d > tol_m)
        if not member.any():
            continue
        rows.append(order[cand[member]])
        parks.append(np.full(int(member.sum()), k, dtype=np.int32))
        interiors.append(interior[member])
    if not rows:
        return Members(
            np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32), np.empty(0, dtype=bool)
        )
    return Members(np.concatenate(rows), np.concatenate(parks), np.concatenate(interiors))


_SHAPES = threading.local()
_SHAPES_LIMIT = 8


@dataclass(frozen=True)
class _ParkShapes:
    """Each park grown (``outer``) and shrunk (``inner``) by its band, the park itself
    (``geom``), all prepared, in lon/lat; ``band_m``, the width (m) searched around the edge;
    ``bounds``, the ``(n, 4)`` bounds of ``outer``."""

    outer: NDArray[np.object_]
    inner: NDArray[np.object_]
    geom: NDArray[np.object_]
    band_m: NDArray[np.float64]
    bounds: NDArray[np.float64]


def _parks_key(wkbs: NDArray[np.object_]) -> bytes:
    return hashlib.blake2b(b"".join(wkbs.tolist()), digest_size=16).digest()


def _park_shapes_cached(wkbs: NDArray[np.object_], tol_m: float) -> _ParkShapes:
    """:func:`_park_shapes`, remembered per thread (prepared geometries are not shared across
    threads): batches and Dask partitions join against the same parks again and again."""
    cache = getattr(_SHAPES, "shapes", None)
    if cache is None:
        cache = _SHAPES.shapes = {}
    key = (_parks_key(wkbs), tol_m)
    found = cache.get(key)
    if found is None:
        if len(cache) >= _SHAPES_LIMIT:
            cache.clear()
        found = cache[key] = _park_shapes(wkbs, tol_m)
    return cast(_ParkShapes, found)


def boundaries_cached(wkbs: NDArray[np.object_], park_geoms: NDArray[np.object_]) -> Boundaries:
    """The parks' boundary pieces, remembered per thread like the tolerance shapes."""
    cache = getattr(_SHAPES, "boundaries", None)
    if cache is None:
        cache = _SHAPES.boundaries = {}
    key = _parks_key(wkbs)
    found = cache.get(key)
    if found is None:
        if len(cache) >= _SHAPES_LIMIT:
            cache.clear()
        found = cache[key] = Boundaries.of(park_geoms)
    return cast(Boundaries, found)


def _park_shapes(wkbs: NDArray[np.object_], tol_m: float) -> _ParkShapes:
    """Every park grown and shrunk by a band a little wider than ``tol_m``.

    A point outside the grown shape is farther than ``tol_m`` from the park; a point in the
    shrunk shape is inside and farther than ``tol_m`` from its edge. The buffers are computed
    in a local equirectangular frame per park (an affine map of lon/lat, so straight edges stay
    straight) scaled to metres at the park's centre; the band is widened by the frame's scale
    error over the park's latitudes, so both statements hold exactly. Points in the band are
    decided by their distance to the edge (:meth:`Boundaries.distance_to`). All parks are
    done at once (one transform, one buffer call each way): 10 times faster than park by park.
    """
    geom = shapely.from_wkb(wkbs)
    shapely.prepare(geom)
    if tol_m == 0:
        # With no tolerance, "member" is intersects (edge included), "interior" contains.
        return _ParkShapes(geom, geom, geom, np.zeros(len(geom)), shapely.bounds(geom))
    b = shapely.bounds(geom)
    centre = np.column_stack([(b[:, 0] + b[:, 2]) / 2.0, (b[:, 1] + b[:, 3]) / 2.0])
    mx0, my0 = metres_per_degree(centre[:, 1])
    scale = np.column_stack([mx0, my0])
    lats = np.clip(np.linspace(b[:, 1] - 0.01, b[:, 3] + 0.01, 17, axis=1), -89.9, 89.9)
    mx, my = metres_per_degree(lats)
    mx0c, my0c = mx0[:, None], my0[:, None]
    distortion = np.concatenate([mx0c / mx, mx / mx0c, my0c / my, my / my0c], axis=1).max(axis=1)
    band_m = tol_m * distortion * 1.02 + 1e-6

    def to_local(coords: NDArray[np.float64], park: NDArray[np.int64]) -> NDArray[np.float64]:
        return cast(NDArray[np.float64], (coords - centre[park]) * scale[park])

    def to_lonlat(coords: NDArray[np.float64], park: NDArray[np.int64]) -> NDArray[np.float64]:
        return cast(NDArray[np.float64], coords / scale[park] + centre[park])

    local = _per_park(geom, to_local)
    outer = _per_park(shapely.buffer(local, band_m, join_style="mitre", mitre_limit=2.0), to_lonlat)
    inner = _per_park(
        shapely.buffer(local, -band_m, join_style="mitre", mitre_limit=2.0), to_lonlat
    )
    shapely.prepare(outer)
    shapely.prepare(inner)
    return _ParkShapes(outer, inner, geom, band_m * 2.0, shapely.bounds(outer))


def _per_park(
    geoms: NDArray[np.object_],
    f: Callable[[NDArray[np.float64], NDArray[np.int64]], NDArray[np.float64]],
) -> NDArray[np.object_]:
    """``shapely.transform`` with each coordinate's park (its index in ``geoms``) passed."""
    park = shapely.get_coordinates(geoms, return_index=True)[1]
    return cast(NDArray[np.object_], shapely.transform(geoms, lambda c: f(c, park)))


def in_parks(
    lon: NDArray[np.float64], lat: NDArray[np.float64], park_geoms: NDArray[np.object_], tol: float
) -> NDArray[np.bool_]:
    """Whether each point falls in (or on the edge of) a park."""
    inside = np.zeros(len(lon), dtype=bool)
    inside[members(lon, lat, park_geoms, tol).row] = True
    return inside
