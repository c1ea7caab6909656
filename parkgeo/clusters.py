"""Spatial clusters of the enterprises of each industry.

Enterprises are clustered industry by industry (GB/T 4754 division by default) in a local metric
CRS (:func:`parkgeo.coords.local_metric_crs`), never in degrees, with DBSCAN (scikit-learn's
definition and labels, computed from one k-d tree self-join) or scikit-learn's HDBSCAN. Enterprise tables hold one row per enterprise and year; clustering uses one
location per enterprise, that of the chosen year (the latest by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import ConvexHull, QhullError, cKDTree

from parkgeo._analysis import (
    MEASURES,
    from_metric,
    in_park_ids,
    industry_names,
    parks_wgs84,
    project_firms,
    resolve_level,
    snapshot,
)
from parkgeo._errors import ParkgeoError
from parkgeo.coords import geodesic_area_ha

__all__ = ["ClusterResult", "industry_clusters"]

log = logging.getLogger("parkgeo")

# Neighbour pairs (ordered, self included) above which DBSCAN switches to the chunked,
# memory-bounded variant: the one-shot path holds every pair at once (about 24 bytes a pair).
DBSCAN_MAX_PAIRS = 20_000_000
# Neighbour pairs linked at a time by the chunked DBSCAN.
CHUNK_PAIRS = 4_000_000
DEFAULT_MIN_SIZE = 10
DEFAULT_EPS_M = 500.0
# A hull of a cluster whose firms are collinear or share one address is a line or a point; it is
# buffered by this many metres so that every cluster has an area to draw and to intersect.
DEGENERATE_HULL_BUFFER_M = 25.0

CLUSTER_COLUMNS = [
    "cluster_id",
    "industry",
    "industry_name",
    "industry_name_en",
    "rank_in_industry",
    "year",
    "n_firms",
    "tax",
    "value_added",
    "energy_tce",
    "employees",
    "hull_area_ha",
    "centroid_lon",
    "centroid_lat",
    "park_ids",
    "n_in_parks",
    "share_in_parks",
    "geometry",
]


@dataclass(frozen=True)
class ClusterResult:
    """Clusters of each industry's enterprises.

    Attributes
    ----------
    labels : pandas.Series
        ``Int64`` on the input's index: the ``cluster_id`` of the enterprise's location in the
        clustered year, ``-1`` for noise, ``<NA>`` where the enterprise was not clustered (no row
        in that year, or an industry code coarser than ``level``). Every row of an enterprise
        (all its years) carries the label of its clustered-year row.
    clusters : geopandas.GeoDataFrame
        One row per cluster, EPSG:4326, geometry = convex hull of its firms (see
        ``docs/clusters.md`` for the columns).
    params : dict
        The parameters used (method, level, year, min_size, eps_m, metric CRS, ...), the
        number of firms clustered and of noise firms, and for DBSCAN, per industry, a bound on
        its neighbour pairs (``dbscan_pairs``; the exact count when the bound exceeded
        ``max_pairs``) and which path ran (``dbscan_path``: ``"pairs"`` or ``"chunked"``).
    """

    labels: pd.Series
    clusters: Any
    params: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# clustering one industry
# --------------------------------------------------------------------------------------------


def pair_bound(xy: NDArray[np.float64], eps_m: float) -> int:
    """An upper bound on the ordered neighbour pairs (self included) within ``eps_m``.

    Points within ``eps_m`` of a point lie in its grid cell of side ``eps_m`` or one of the 8
    around it, so the bound is the sum over cells of (firms in the cell) x (firms in its 3x3
    block): a few array operations instead of a tree traversal.
    """
    if not len(xy):
        return 0
    span = (xy.max(axis=0) - xy.min(axis=0)) / eps_m + 3
    if float(span[0]) * float(span[1]) > 2.0**62:  # cell keys would overflow: no cheap bound
        return len(xy) ** 2
    cells = np.floor((xy - xy.min(axis=0)) / eps_m).astype(np.int64)
    ny = int(cells[:, 1].max()) + 3
    keys, counts = np.unique(cells[:, 0] * ny + cells[:, 1], return_counts=True)
    block = np.zeros(len(keys), dtype=np.int64)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            target = keys + dx * ny + dy
            at = np.minimum(np.searchsorted(keys, target), len(keys) - 1)
            block += np.where(keys[at] == target, counts[at], 0)
    return int((counts * block).sum())


def _dbscan(
    xy: NDArray[np.float64], *, eps_m: float, min_size: int, max_pairs: int
) -> tuple[NDArray[np.int64], str, int]:
    """DBSCAN labels of one industry, which path ran, and its pair count (or bound)."""
    n_pairs = pair_bound(xy, eps_m)
    if n_pairs > max_pairs:
        # ordered neighbour pairs (self included, distance <= eps as in scikit-learn), counted
        # exactly by a dual-tree traversal in O(n) memory
        tree = cKDTree(xy)
        n_pairs = int(tree.count_neighbors(tree, eps_m))
    if n_pairs <= max_pairs:
        return _dbscan_pairs(xy, eps_m=eps_m, min_size=min_size), "pairs", n_pairs
    labels = _dbscan_chunked(xy, eps_m=eps_m, min_size=min_size, max_pairs=max_pairs)
    return labels, "chunked", n_pairs


def _union(
    parent: NDArray[np.integer[Any]], a: NDArray[np.integer[Any]], b: NDArray[np.integer[Any]]
) -> NDArray[np.integer[Any]]:
    """Union-find on arrays: merge the sets of every pair (a[k], b[k]).

    ``parent`` maps each element to its set's root (``parent[x] <= x``); each round hooks the
    larger root of every pair still split onto the smaller one and then compresses paths, so a
    set's root is always its smallest element.
    """
    parent = parent.copy()
    while len(a):
        ra, rb = parent[a], parent[b]
        split = ra != rb
        if not split.any():
            break
        a, b, ra, rb = a[split], b[split], ra[split], rb[split]
        np.minimum.at(parent, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:  # path compression: everyone points at a root
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    return parent


def _dbscan_labels(
    core: NDArray[np.bool_],
    root: NDArray[np.integer[Any]],
    border: NDArray[np.integer[Any]],
    reached_from: NDArray[np.integer[Any]],
) -> NDArray[np.int64]:
    """Labels exactly as scikit-learn's DBSCAN numbers them.

    scikit-learn expands clusters in the order of their first core point and a border point
    keeps the first cluster that reaches it. With ``root`` = smallest core point of each core
    point's component, clusters are numbered by root; a border point (``border[k]``, within
    reach of core point ``reached_from[k]``) takes the smallest cluster number in reach.
    """
    labels = np.full(len(core), -1, dtype=np.int64)
    core_idx = np.flatnonzero(core)
    roots = root[core_idx]
    labels[core_idx] = np.searchsorted(np.unique(roots), roots)
    if len(border):
        unreached = np.iinfo(np.int64).max
        nearest_cluster = np.full(len(core), unreached, dtype=np.int64)
        np.minimum.at(nearest_cluster, border, labels[reached_from])
        take = (nearest_cluster < unreached) & ~core
        labels[take] = nearest_cluster[take]
    return labels


def _dbscan_pairs(xy: NDArray[np.float64], *, eps_m: float, min_size: int) -> NDArray[np.int64]:
    """DBSCAN (scikit-learn's definition and labels) from every neighbour pair at once.

    Core points have at least ``min_size`` points (themselves included) within ``eps_m``;
    clusters are the connected components of core points within ``eps_m`` of each other
    (array union-find); border points as in :func:`_dbscan_labels`. Pairs come from one k-d
    tree self-join, each once (``i < j``): half of what a per-point radius query returns.
    """
    n = len(xy)
    # int32 indices halve the memory of the pair arrays (the bulk of it) below 2**31 firms
    index = np.int32 if n < 2**31 else np.int64
    pairs = cKDTree(xy).query_pairs(eps_m, output_type="ndarray")
    i, j = pairs[:, 0].astype(index), pairs[:, 1].astype(index)
    del pairs
    counts = np.bincount(i, minlength=n) + np.bincount(j, minlength=n) + 1
    core = counts >= min_size
    if not core.any():
        return np.full(n, -1, dtype=np.int64)
    ci, cj = core[i], core[j]
    i_border, j_border = cj & ~ci, ci & ~cj  # one end core, the other a border point
    border = np.concatenate([i[i_border], j[j_border]])
    reached_from = np.concatenate([j[i_border], i[j_border]])
    del i_border, j_border
    both = ci & cj
    del ci, cj
    a, b = i[both], j[both]
    del i, j, both
    root = _union(np.arange(n, dtype=index), a, b)
    return _dbscan_labels(core, root, border, reached_from)


def _dbscan_chunked(
    xy: NDArray[np.float64], *, eps_m: float, min_size: int, max_pairs: int
) -> NDArray[np.int64]:
    """The same DBSCAN with memory bounded by ``max_pairs`` neighbour pairs at a time.

    Core points come from neighbour counts; core points within ``eps_m`` are linked chunk by
    chunk (each chunk's pairs merged into the union-find, then dropped); a border point has
    fewer than ``min_size`` neighbours, so its pairs with core points are few. The labels are
    those of :func:`_dbscan_pairs` (and scikit-learn).
    """
    n = len(xy)
    tree = cKDTree(xy)
    counts = np.asarray(tree.query_ball_point(xy, r=eps_m, return_length=True), dtype=np.int64)
    core = counts >= min_size
    core_idx = np.flatnonzero(core)
    if not len(core_idx):
        return np.full(n, -1, dtype=np.int64)
    core_tree = cKDTree(xy[core_idx])
    root: NDArray[np.integer[Any]] = np.arange(n, dtype=np.int64)
    # about 70 bytes a pair while a chunk is linked: 4 million pairs stay under 300 MB
    budget = max(min(int(max_pairs), CHUNK_PAIRS), 1)
    cum = np.cumsum(counts[core_idx])
    start = 0
    while start < len(core_idx):
        base = cum[start - 1] if start else 0
        stop = max(int(np.searchsorted(cum, base + budget, side="right")), start + 1)
        # (i, j, distance) records, 24 bytes a pair, zero distances (one address) kept
        found = cKDTree(xy[core_idx[start:stop]]).sparse_distance_matrix(
            core_tree, eps_m, output_type="ndarray"
        )
        root = _union(root, core_idx[found["i"] + start], core_idx[found["j"]])
        del found
        start = stop
    border_idx = np.flatnonzero(~core & (counts > 1))
    border = reached_from = np.empty(0, dtype=np.int64)
    if len(border_idx):
        found = cKDTree(xy[border_idx]).sparse_distance_matrix(
            core_tree, eps_m, output_type="ndarray"
        )
        border, reached_from = border_idx[found["i"]], core_idx[found["j"]]
    return _dbscan_labels(core, root, border, reached_from)


def _hdbscan(xy: NDArray[np.float64], *, min_size: int, eps_m: float | None) -> NDArray[np.int64]:
    from sklearn.cluster import HDBSCAN

    est = HDBSCAN(
        min_cluster_size=min_size,
        cluster_selection_epsilon=float(eps_m or 0.0),
        algorithm="kd_tree",
        copy=True,
    )
    return np.asarray(est.fit_predict(xy), dtype=np.int64)


# --------------------------------------------------------------------------------------------
# public
# --------------------------------------------------------------------------------------------


def industry_clusters(
    enterprises: pd.DataFrame,
    *,
    level: str | None = None,
    method: Literal["hdbscan", "dbscan"] = "dbscan",
    min_size: int = DEFAULT_MIN_SIZE,
    eps_m: float | None = None,
    year: int | None = None,
    parks: Any | None = None,
    industries: list[str] | None = None,
    random_state: int = 0,
    max_pairs: int = DBSCAN_MAX_PAIRS,
) -> ClusterResult:
    """Find spatial clusters of the enterprises of each industry.

    Firms are grouped by their industry rolled up to ``level`` and each group is clustered
    separately in a local metric CRS (CGCS2000 Gauss-Kruger, see
    :func:`parkgeo.coords.local_metric_crs`). Rows are sorted by ``enterprise_id`` before
    clustering, so the result does not depend on row order; clusters are numbered by industry,
    then size (largest first), then centroid.

    Parameters
    ----------
    enterprises : pandas.DataFrame
        Canonical enterprise table (one row per enterprise and year), or the output of
        :func:`parkgeo.join.assign_parks` (its ``park_id``/``match`` then say which firms are in
        parks), or a GeoDataFrame of points in any CRS.
    level : {"section", "division", "group", "class"}
        GB/T 4754-2017 level the industries are rolled up to. Codes coarser than the level are
        left out (label ``<NA>``).
    method : {"dbscan", "hdbscan"}
        ``"dbscan"`` (default): DBSCAN with radius ``eps_m`` (default 500 m) and
        ``min_samples=min_size``, labels identical to scikit-learn's: a cluster is a chain of firms each with
        ``min_size`` firms of its industry within ``eps_m``, so clusters stay local; when an
        industry's neighbour pairs could exceed ``max_pairs``, a chunked DBSCAN with the same
        labels bounds memory. ``"hdbscan"``: scikit-learn HDBSCAN (``min_cluster_size=min_size``, k-d
        tree, Prim's minimum spanning tree: memory linear in the number of firms); ``eps_m``, if
        given, is its ``cluster_selection_epsilon``. HDBSCAN adapts to each industry's density,
        so an industry scattered over the city can form a city-sized "cluster", and it never
        returns a single cluster holding all of an industry's clustered firms.
    min_size : int
        Smallest cluster (HDBSCAN) / core-point neighbourhood (DBSCAN), in firms.
    eps_m : float, optional
        Distance in metres (see ``method``).
    year : int, optional
        Year whose locations are clustered; default the latest year present.
    parks : geopandas.GeoDataFrame, optional
        Park polygons: fills ``park_ids`` (parks that contain a firm of the cluster or intersect
        its hull) and, when the enterprises carry no ``park_id``, ``share_in_parks``.
    industries : list of str, optional
        Cluster only these industries (codes at ``level``); default all.
    random_state : int
        Accepted for a uniform interface; both algorithms are deterministic given the
        (sorted) input.
    max_pairs : int
        Memory guard of the DBSCAN path, in neighbour pairs.

    Returns
    -------
    ClusterResult
        ``labels`` (Series on the input's index) and ``clusters`` (GeoDataFrame).

    Raises
    ------
    ParkgeoError
        On a bad option, a missing year, duplicate enterprise ids within the year.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> sample = load_tianjin()
    >>> res = industry_clusters(sample.enterprises, parks=sample.parks, method="dbscan",
    ...                         eps_m=800, min_size=8)
    >>> list(res.clusters.columns[:4])
    ['cluster_id', 'industry', 'industry_name', 'industry_name_en']
    >>> bool((res.clusters["n_firms"] >= 8).all())
    True
    >>> res.labels.index.equals(sample.enterprises.index)
    True
    """
    # check
    if method not in ("hdbscan", "dbscan"):
        raise ParkgeoError(f"method must be 'hdbscan' or 'dbscan'; got {method!r}")
    if isinstance(min_size, bool) or not isinstance(min_size, (int, np.integer)) or min_size < 2:
        raise ParkgeoError(f"min_size must be an integer >= 2; got {min_size!r}")
    if eps_m is not None and not (np.isfinite(eps_m) and eps_m > 0):
        raise ParkgeoError(f"eps_m must be a positive number of metres; got {eps_m!r}")
    if method == "dbscan" and eps_m is None:
        eps_m = DEFAULT_EPS_M
    if parks is not None:
        parks = parks_wgs84(parks)
    level = resolve_level(enterprises, level)
    snap, chosen = snapshot(enterprises, year=year, level=level)
    if industries is not None:
        wanted = {str(c) for c in industries}
        snap = snap[snap["_industry"].isin(wanted).to_numpy()]

    snap, crs, xy = project_firms(snap, what="industry_clusters")

    # compute: one DBSCAN/HDBSCAN per industry, on the firms sorted by enterprise id
    n = len(snap)
    cat = snap["_industry"].cat.codes.to_numpy(dtype=np.int64)
    codes = [str(c) for c in snap["_industry"].cat.categories]
    labels_local = np.full(n, -1, dtype=np.int64)
    paths: dict[str, str] = {}
    pairs: dict[str, int] = {}
    if n:
        by_industry = np.argsort(cat, kind="stable")  # stable: id order within an industry
        bounds = np.searchsorted(cat[by_industry], np.arange(len(codes) + 1))
        offset = 0
        for k, code in enumerate(codes):
            idx = by_industry[bounds[k] : bounds[k + 1]]
            if len(idx) < min_size:
                continue
            if method == "dbscan":
                assert eps_m is not None
                lab, path, n_pairs = _dbscan(
                    xy[idx], eps_m=eps_m, min_size=min_size, max_pairs=max_pairs
                )
                paths[str(code)] = path
                pairs[str(code)] = n_pairs
            else:
                lab = _hdbscan(xy[idx], min_size=min_size, eps_m=eps_m)
            found = lab >= 0
            labels_local[idx[found]] = lab[found] + offset
            offset += int(lab.max()) + 1 if found.any() else 0

    # assemble: number clusters by industry, size desc, centroid, first enterprise id
    park_of = in_park_ids(snap, parks)
    members = np.flatnonzero(labels_local >= 0)  # ascending: id order
    lab = labels_local[members]
    n_local = int(lab.max()) + 1 if len(lab) else 0
    n_firms_local = np.bincount(lab, minlength=n_local)
    used = np.flatnonzero(n_firms_local > 0)
    cx = np.bincount(lab, weights=xy[members, 0], minlength=n_local)[used] / n_firms_local[used]
    cy = np.bincount(lab, weights=xy[members, 1], minlength=n_local)[used] / n_firms_local[used]
    first_pos = np.full(n_local, n, dtype=np.int64)
    np.minimum.at(first_pos, lab, members)
    first_pos = first_pos[used]
    industry_of = cat[first_pos]
    n_firms = n_firms_local[used].astype(np.int64)
    order = np.lexsort((first_pos, cy, cx, -n_firms, industry_of))
    # local label -> final cluster id
    new_id = np.full(max(n_local, 1), -1, dtype=np.int64)
    new_id[used[order]] = np.arange(len(order), dtype=np.int64)
    cid = new_id[lab]
    n_clusters = len(order)
    industry_of, n_firms, cx, cy = industry_of[order], n_firms[order], cx[order], cy[order]
    rank_in_industry = np.ones(n_clusters, dtype=np.int64)
    if n_clusters:
        same = np.r_[False, industry_of[1:] == industry_of[:-1]]
        run_start = np.maximum.accumulate(np.where(same, 0, np.arange(n_clusters)))
        rank_in_industry = np.arange(n_clusters) - run_start + 1
    sums: dict[str, NDArray[np.float64]] = {}
    for col in MEASURES:
        values = (
            pd.to_numeric(snap[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if col in snap.columns
            else np.full(n, np.nan)
        )[members]
        ok = np.isfinite(values)
        total = np.bincount(cid[ok], weights=values[ok], minlength=n_clusters)
        counted = np.bincount(cid[ok], minlength=n_clusters)
        # a sum over nothing but missing values is missing, not zero
        sums[col] = np.where(counted > 0, total, np.nan)
    in_park = park_of.notna().to_numpy(dtype=bool)[members]
    n_in_parks = np.bincount(cid, weights=in_park, minlength=n_clusters).astype(np.int64)

    hulls = _hulls(cid, xy[members], snap[["lon", "lat"]].to_numpy(dtype=float)[members], crs)
    area = geodesic_area_ha(gpd.GeoSeries(hulls, crs="EPSG:4326")) if n_clusters else np.empty(0)
    centroids = from_metric(crs, cx, cy) if n_clusters else np.empty((0, 2))
    park_ids = _cluster_park_ids(cid, park_of.iloc[members], hulls, parks)
    cluster_codes = [str(codes[k]) for k in industry_of]
    distinct = sorted(set(cluster_codes))
    names_zh, names_en = industry_names(distinct)
    zh = dict(zip(distinct, names_zh, strict=True))
    en = dict(zip(distinct, names_en, strict=True))
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": np.arange(n_clusters, dtype=np.int64),
            "industry": pd.array(cluster_codes, dtype="string"),
            "industry_name": pd.array([zh[c] for c in cluster_codes], dtype="string"),
            "industry_name_en": pd.array([en[c] for c in cluster_codes], dtype="string"),
            "rank_in_industry": rank_in_industry,
            "year": pd.array([chosen] * n_clusters, dtype="Int64"),
            "n_firms": n_firms,
            **sums,
            "hull_area_ha": np.asarray(area, dtype=float),
            "centroid_lon": centroids[:, 0],
            "centroid_lat": centroids[:, 1],
            "park_ids": pd.array(park_ids, dtype="string"),
            "n_in_parks": n_in_parks,
            "share_in_parks": (
                n_in_parks / np.maximum(n_firms, 1)
                if (parks is not None or "park_id" in snap.columns)
                else np.full(n_clusters, np.nan)
            ),
        },
        geometry=hulls,
        crs="EPSG:4326",
    )
    clusters = clusters[CLUSTER_COLUMNS]

    snap_labels = np.full(n, -1, dtype=np.int64)
    snap_labels[members] = cid
    labels = _labels_on_input(enterprises, snap, snap_labels)
    params: dict[str, Any] = {
        "method": method,
        "level": level,
        "year": chosen,
        "min_size": int(min_size),
        "eps_m": eps_m,
        "metric_crs": crs.to_string() if crs is not None else None,
        "n_firms": n,
        "n_noise": int((snap_labels < 0).sum()),
        "dbscan_path": paths,
        "dbscan_pairs": pairs,
        "random_state": random_state,
    }
    return ClusterResult(labels=labels, clusters=clusters, params=params)


def _hulls(
    cid: NDArray[np.int64], xy: NDArray[np.float64], lonlat: NDArray[np.float64], crs: Any
) -> NDArray[np.object_]:
    """Convex hull of each cluster's firms, in WGS-84.

    Hulls are built from the firms' own lon/lat (Qhull), so each hull covers its firms exactly
    in WGS-84; a degenerate one (firms on a line or at one address: no hull, or under 1 m2 in
    the metric CRS) is the metric hull buffered by ``DEGENERATE_HULL_BUFFER_M`` metres so that
    every cluster has an area to draw and to intersect.
    """
    n_clusters = int(cid.max()) + 1 if len(cid) else 0
    hulls = np.empty(n_clusters, dtype=object)
    if not n_clusters:
        return hulls
    order = np.argsort(cid, kind="stable")
    bounds = np.searchsorted(cid[order], np.arange(n_clusters + 1))
    degenerate: list[int] = []
    for k in range(n_clusters):
        pos = order[bounds[k] : bounds[k + 1]]
        try:
            vertices = pos[ConvexHull(lonlat[pos]).vertices]
        except QhullError:  # fewer than 3 points in general position
            degenerate.append(k)
            continue
        x, y = xy[vertices, 0], xy[vertices, 1]
        if 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) < 1.0:
            degenerate.append(k)
            continue
        hulls[k] = shapely.Polygon(lonlat[vertices])
    if degenerate:

        def to_wgs84(coords: NDArray[np.float64]) -> NDArray[np.float64]:
            return from_metric(crs, coords[:, 0], coords[:, 1])

        for k in degenerate:
            pos = order[bounds[k] : bounds[k + 1]]
            metric = shapely.convex_hull(shapely.multipoints(xy[pos]))
            buffered = shapely.buffer(metric, DEGENERATE_HULL_BUFFER_M)
            hulls[k] = shapely.transform(buffered, to_wgs84)
    return hulls


def _cluster_park_ids(
    cid: NDArray[np.int64],
    park_of: pd.Series,
    hulls: NDArray[np.object_],
    parks: Any | None,
) -> list[Any]:
    """Comma-separated sorted park ids per cluster: parks holding its firms or meeting its hull."""
    park_code, park_names = pd.factorize(park_of)  # -1: not in a park
    names = [str(p) for p in park_names]
    has = park_code >= 0
    found = [(cid[has], np.asarray(park_code, dtype=np.int64)[has])]
    if parks is not None and len(hulls):
        tree = shapely.STRtree(parks.geometry.to_numpy())
        hull_idx, park_idx = tree.query(hulls, predicate="intersects")
        ids = parks["park_id"].astype(str).to_numpy(dtype=object)
        extra = sorted(set(ids[park_idx]) - set(names))
        names += extra
        where = {n: k for k, n in enumerate(names)}
        found.append((hull_idx, np.array([where[ids[p]] for p in park_idx], dtype=np.int64)))
    clusters = np.concatenate([c for c, _ in found])
    codes = np.concatenate([p for _, p in found])
    key = np.unique(clusters * (len(names) + 1) + codes)
    members: list[list[str]] = [[] for _ in range(len(hulls))]
    for k, p in zip(
        (key // (len(names) + 1)).tolist(), (key % (len(names) + 1)).tolist(), strict=True
    ):
        members[k].append(names[p])
    return [",".join(sorted(m)) if m else pd.NA for m in members]


def _labels_on_input(
    enterprises: pd.DataFrame, snap: pd.DataFrame, snap_labels: NDArray[np.int64]
) -> pd.Series:
    """Each input row takes the label of its enterprise's row in the clustered year."""
    ids = enterprises["enterprise_id"]
    if ids.dtype == object:  # mixed types: compare as the snapshot does, as text
        ids = ids.astype("string")
    codes, _ = pd.factorize(ids)
    by_code = np.full(int(codes.max()) + 2 if len(codes) else 1, -2, dtype=np.int64)
    by_code[codes[snap["_pos"].to_numpy()]] = snap_labels
    values = by_code[codes]  # code -1 (missing id) picks the trailing -2
    out = pd.array(values, dtype="Int64")
    out[values == -2] = pd.NA
    result: pd.Series = pd.Series(out, index=enterprises.index, name="cluster_id")
    return result
