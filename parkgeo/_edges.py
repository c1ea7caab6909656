"""Distance to park boundaries, under the edge model that park membership uses.

**The edge model.** A park edge is the straight line between its two vertices in longitude and
latitude (planar EPSG:4326), which is what shapely/GEOS point-in-polygon, GeoPandas, QGIS and
the GeoJSON drawn in most tools assume. :func:`parkgeo.assign_parks` decides membership with
it, and measures ``distance_m`` to it: the distance is the geodesic (WGS-84, GeographicLib)
from the enterprise to the nearest point of that lon/lat-straight boundary. So a firm
``unmatched`` is always farther than ``boundary_tol_m`` from every park (tested as a property),
and ``boundary`` means "within ``boundary_tol_m`` of the edge by this same distance".

(Earlier versions found the nearest point on edges straight in the Gauss-Kruger projection:
up to ~1 cm away from the lon/lat-straight edge on a 1 km edge, enough that a firm 1 cm outside
a long edge was ``unmatched`` with ``distance_m`` 0.00003.)

**The search** works anywhere on Earth, with no projection that can return infinity: every
ring is cut into pieces of at most ~200 m (new vertices lie on the lon/lat-straight edge, so
the model is unchanged), the piece end points go into a k-d tree in Earth-centred (ECEF)
coordinates, whose straight-line distance never exceeds the geodesic one. For a query point the
pieces touching its k nearest vertices are candidates; the nearest point on each is found in a
local equirectangular frame at the query's latitude (an affine map of lon/lat, so the pieces
stay straight), and the best one is certified when the k-th vertex is farther than it by more
than half the longest piece; otherwise k grows. An enterprise on the far side of the globe
simply gets its (large, finite) distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

__all__ = ["Boundaries", "metres_per_degree"]

_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3
_GEOD = pyproj.Geod(ellps="WGS84")
# 0.0018 degree of latitude is 200 m; a degree of longitude is never longer than one of latitude
_PIECE_MAX_DEG = 0.0018
_CHUNK = 200_000
_FIRST_K = 16
# distance_to scans a park's pieces directly while (points x pieces) stays under this; beyond
# it the k-d tree (and scipy's import, ~0.15 s) pays for itself
_SCAN_LIMIT = 4_000_000


def metres_per_degree(lat_deg: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Metres per degree of longitude and of latitude on the WGS-84 ellipsoid at latitudes.

    Examples
    --------
    >>> mx, my = metres_per_degree([0.0, 39.0])
    >>> [round(float(v)) for v in mx], [round(float(v)) for v in my]
    ([111319, 86626], [110574, 111015])
    """
    phi = np.radians(np.asarray(lat_deg, dtype=np.float64))
    w = np.sqrt(1.0 - _WGS84_E2 * np.sin(phi) ** 2)
    prime_vertical = _WGS84_A / w
    meridional = _WGS84_A * (1.0 - _WGS84_E2) / w**3
    return np.radians(1.0) * prime_vertical * np.cos(phi), np.radians(1.0) * meridional


def _ecef(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Earth-centred coordinates (m) of points on the WGS-84 ellipsoid."""
    lam, phi = np.radians(lon), np.radians(lat)
    n = _WGS84_A / np.sqrt(1.0 - _WGS84_E2 * np.sin(phi) ** 2)
    return np.column_stack(
        [
            n * np.cos(phi) * np.cos(lam),
            n * np.cos(phi) * np.sin(lam),
            n * (1 - _WGS84_E2) * np.sin(phi),
        ]
    )


def _wrap(dlon: NDArray[np.float64]) -> NDArray[np.float64]:
    return (dlon + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class Boundaries:
    """The boundary pieces of a set of parks (lon/lat), searchable by distance."""

    alon: NDArray[np.float64]
    alat: NDArray[np.float64]
    dlon: NDArray[np.float64]
    dlat: NDArray[np.float64]
    owner: NDArray[np.int32]  # non-decreasing: parks' pieces are contiguous, in park order
    vertex_segments: NDArray[np.int64]  # (n_vertices, 2): the pieces ending/starting there
    reach: float  # any point of a piece is within this many metres of one of its end points

    @cached_property
    def tree(self) -> Any:
        """k-d tree of the pieces' start points in ECEF, built on first use: the density
        path only measures the few points in a park's boundary band, which a direct scan of
        that park's pieces serves without it."""
        from scipy.spatial import cKDTree

        return cKDTree(_ecef(self.alon, self.alat))

    @classmethod
    def of(cls, park_geoms: NDArray[np.object_]) -> Boundaries:
        """Cut the parks' rings (WGS-84 polygons/multipolygons) into pieces and index them."""
        dense = shapely.segmentize(park_geoms, _PIECE_MAX_DEG)
        polygons, polygon_park = shapely.get_parts(dense, return_index=True)
        rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        # Rings are closed: a piece joins consecutive coordinates of the same ring.
        start = np.flatnonzero(coord_ring[1:] == coord_ring[:-1])
        alon, alat = coords[start, 0], coords[start, 1]
        dlon = _wrap(coords[start + 1, 0] - alon)
        dlat = coords[start + 1, 1] - alat
        owner = polygon_park[ring_polygon[coord_ring[start]]].astype(np.int32)
        # Vertex i of the tree is the start of piece i; the piece ending there is the previous
        # piece of the same ring, or the ring's last piece for its first vertex.
        seg_ring = coord_ring[start]
        first_of_ring = (
            np.r_[True, seg_ring[1:] != seg_ring[:-1]] if len(start) else np.zeros(0, bool)
        )
        ring_first = np.flatnonzero(first_of_ring)
        ring_last = np.r_[ring_first[1:], len(start)] - 1
        previous = np.arange(len(start)) - 1
        ring_id = np.cumsum(first_of_ring) - 1
        previous[first_of_ring] = ring_last[ring_id[first_of_ring]]
        vertex_segments = np.column_stack([previous, np.arange(len(start))])
        if len(start):
            mx, my = metres_per_degree(alat + dlat / 2.0)
            # the lon/lat-straight piece is no longer than its length in the local frame by
            # more than a hair over 200 m: 1 % spare
            reach = float(np.hypot(dlon * mx, dlat * my).max()) / 2.0 * 1.01 + 1e-6
        else:
            reach = 0.0
        return cls(alon, alat, dlon, dlat, owner, vertex_segments, reach)

    # ----------------------------------------------------------------------------------------

    def _feet(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], seg: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Squared frame distance (m^2) from points (n,1) to pieces (n,m), and the position t
        (0..1) of the nearest point along each piece, in a frame at each point's latitude."""
        mx, my = metres_per_degree(lat)
        ax = _wrap(self.alon[seg] - lon) * mx
        ay = (self.alat[seg] - lat) * my
        dx, dy = self.dlon[seg] * mx, self.dlat[seg] * my
        length2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = -(ax * dx + ay * dy) / length2
        t = np.clip(np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
        fx, fy = ax + t * dx, ay + t * dy
        return fx * fx + fy * fy, t

    def _foot_lonlat(
        self, seg: NDArray[np.int64], t: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        lon = _wrap(self.alon[seg] + t * self.dlon[seg])
        return lon, self.alat[seg] + t * self.dlat[seg]

    def nearest(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        """Nearest park (index) and geodesic distance (m) to its boundary, for each point."""
        park = np.full(len(lon), -1, dtype=np.int32)
        distance = np.full(len(lon), np.nan, dtype=np.float64)
        if not len(self.alon):
            return park, distance
        for lo in range(0, len(lon), _CHUNK):
            part = slice(lo, min(lo + _CHUNK, len(lon)))
            seg, flon, flat = self._nearest_chunk(lon[part], lat[part])
            park[part] = self.owner[seg]
            distance[part] = np.asarray(_GEOD.inv(lon[part], lat[part], flon, flat)[2])
        return park, distance

    def _nearest_chunk(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        n_vertices = len(self.alon)
        seg = np.empty(len(lon), dtype=np.int64)
        flon = np.empty(len(lon), dtype=np.float64)
        flat = np.empty(len(lon), dtype=np.float64)
        query = _ecef(lon, lat)
        todo = np.arange(len(lon))
        k = _FIRST_K
        while todo.size:
            k_used = min(k, n_vertices)
            vdist, vidx = self.tree.query(query[todo], k=k_used)
            vdist = vdist.reshape(len(todo), k_used)
            cand = self.vertex_segments[vidx.reshape(len(todo), k_used)].reshape(len(todo), -1)
            d2, t = self._feet(lon[todo, None], lat[todo, None], cand)
            rows = np.arange(len(todo))
            best = np.argmin(d2, axis=1)
            best_seg, best_t = cand[rows, best], t[rows, best]
            blon, blat = self._foot_lonlat(best_seg, best_t)
            # ECEF chords never exceed geodesics: a piece not among the candidates has both
            # end points at least the k-th distance away, so none of its points is nearer
            # than that minus the reach.
            chord = np.linalg.norm(_ecef(blon, blat) - query[todo], axis=1)
            done = (k_used >= n_vertices) | (vdist[:, -1] > chord + self.reach)
            finished = todo[done]
            seg[finished], flon[finished], flat[finished] = (
                best_seg[done],
                blon[done],
                blat[done],
            )
            todo = todo[~done]
            k *= 4
        return seg, flon, flat

    def distance_to(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], park: int, within_m: float
    ) -> NDArray[np.float64]:
        """Geodesic distance (m) from each point to the boundary of one park; ``inf`` for
        points farther than ``within_m`` from it (only those within are searched)."""
        out = np.full(len(lon), np.inf, dtype=np.float64)
        if not len(lon) or not len(self.alon):
            return out
        lo, hi = np.searchsorted(self.owner, [park, park + 1])
        if int(hi - lo) * len(lon) <= _SCAN_LIMIT:
            return self._distance_by_scan(lon, lat, np.arange(lo, hi), within_m, out)
        query = _ecef(lon, lat)
        radius = within_m + self.reach
        for i, vertices in enumerate(self.tree.query_ball_point(query, r=radius)):
            if not vertices:
                continue
            cand = np.unique(self.vertex_segments[np.asarray(vertices)].ravel())
            cand = cand[self.owner[cand] == park]
            if not cand.size:
                continue
            d2, t = self._feet(lon[i : i + 1, None], lat[i : i + 1, None], cand[None, :])
            best = int(np.argmin(d2[0]))
            blon, blat = self._foot_lonlat(cand[best : best + 1], t[0, best : best + 1])
            out[i] = float(_GEOD.inv(lon[i : i + 1], lat[i : i + 1], blon, blat)[2][0])
        return out

    def _distance_by_scan(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        pieces: NDArray[np.int64],
        within_m: float,
        out: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """:meth:`distance_to` over all of one park's pieces at once (no tree). The nearest
        piece within ``within_m`` is the one the tree search finds; farther points get inf."""
        if not pieces.size:
            return out
        d2, t = self._feet(lon[:, None], lat[:, None], pieces[None, :])
        best = np.argmin(d2, axis=1)
        rows = np.arange(len(lon))
        blon, blat = self._foot_lonlat(pieces[best], t[rows, best])
        distance = np.asarray(_GEOD.inv(lon, lat, blon, blat)[2], dtype=np.float64)
        return np.where(distance <= within_m, distance, out)
