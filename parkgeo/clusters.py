"""Spatial clusters of the enterprises of each industry.

Enterprises are clustered industry by industry (GB/T 4754 division by default) in a local metric
CRS (:func:`parkgeo.coords.local_metric_crs`), never in degrees, with scikit-learn's HDBSCAN or
DBSCAN on a k-d tree. Enterprise tables hold one row per enterprise and year; clustering uses one
location per enterprise, that of the chosen year (the latest by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._analysis import (
    MEASURES,
    in_park_ids,
    industry_names,
    parks_wgs84,
    snapshot,
    to_metric,
)
from parkgeo._errors import ParkgeoError

__all__ = ["ClusterResult", "industry_clusters"]

log = logging.getLogger("parkgeo")

# Radius-neighbour pairs above which DBSCAN switches to the chunked, memory-bounded variant:
# scikit-learn's DBSCAN holds every pair at once (8+ bytes each plus per-point arrays).
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
        number of firms clustered and of noise firms, and for DBSCAN, per industry, the number
        of neighbour pairs (``dbscan_pairs``) and which implementation ran (``dbscan_path``:
        ``"sklearn"`` or ``"chunked"``).
    """

    labels: pd.Series
    clusters: Any
    params: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# clustering one industry
# --------------------------------------------------------------------------------------------


def _dbscan(
    xy: NDArray, *, eps_m: float, min_size: int, max_pairs: int
) -> tuple[NDArray[np.int64], str, int]:
    from scipy.spatial import cKDTree

    # ordered neighbour pairs (self included, distance <= eps as in scikit-learn), counted by a
    # dual-tree traversal in O(n) memory
    tree = cKDTree(xy)
    n_pairs = int(tree.count_neighbors(tree, eps_m))
    if n_pairs <= max_pairs:
        from sklearn.cluster import DBSCAN

        est = DBSCAN(eps=eps_m, min_samples=min_size, algorithm="kd_tree")
        return est.fit_predict(xy).astype(np.int64), "sklearn", n_pairs
    counts = np.asarray(tree.query_ball_point(xy, r=eps_m, return_length=True))
    labels = _dbscan_chunked(xy, counts, eps_m=eps_m, min_size=min_size, max_pairs=max_pairs)
    return labels, "chunked", n_pairs


def _dbscan_chunked(
    xy: NDArray, counts: NDArray, *, eps_m: float, min_size: int, max_pairs: int
) -> NDArray[np.int64]:
    """DBSCAN with memory bounded by ``max_pairs`` neighbour pairs at a time.

    Core points are those with at least ``min_size`` points (themselves included) within
    ``eps_m``, as in scikit-learn; clusters are the connected components of core points linked
    within ``eps_m``, found chunk by chunk (component labels are merged after each chunk); a
    border point joins the cluster of its nearest core point (scikit-learn joins the first
    cluster that reaches it, so the two can differ only for border points within reach of two
    clusters).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    labels = np.full(len(xy), -1, dtype=np.int64)
    core_idx = np.flatnonzero(counts >= min_size)
    if not len(core_idx):
        return labels
    core_xy = xy[core_idx]
    core_tree = cKDTree(core_xy)
    m = len(core_idx)
    comp = np.arange(m)
    # about 70 bytes a pair while a chunk is linked: 4 million pairs stay under 300 MB
    budget = max(min(int(max_pairs), CHUNK_PAIRS), 1)
    cum = np.cumsum(counts[core_idx])
    start = 0
    while start < m:
        base = cum[start - 1] if start else 0
        stop = max(int(np.searchsorted(cum, base + budget, side="right")), start + 1)
        # (i, j, distance) records, 24 bytes a pair, zero distances (one address) kept
        found = cKDTree(core_xy[start:stop]).sparse_distance_matrix(
            core_tree, eps_m, output_type="ndarray"
        )
        a = comp[found["i"] + start].astype(np.int32)
        b = comp[found["j"]].astype(np.int32)
        del found
        graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), (m, m))
        del a, b
        _, merged = connected_components(graph, directed=False)
        comp = merged[comp]
        start = stop
    _, comp = np.unique(comp, return_inverse=True)
    labels[core_idx] = comp
    border = np.flatnonzero(counts < min_size)
    if len(border):
        dist, nearest = core_tree.query(xy[border], k=1)
        reach = dist <= eps_m
        labels[border[reach]] = comp[nearest[reach]]
    return labels


def _hdbscan(xy: NDArray, *, min_size: int, eps_m: float | None) -> NDArray[np.int64]:
    from sklearn.cluster import HDBSCAN

    est = HDBSCAN(
        min_cluster_size=min_size,
        cluster_selection_epsilon=float(eps_m or 0.0),
        algorithm="kd_tree",
        copy=True,
    )
    return est.fit_predict(xy).astype(np.int64)


# --------------------------------------------------------------------------------------------
# public
# --------------------------------------------------------------------------------------------


def industry_clusters(
    enterprises: pd.DataFrame,
    *,
    level: str = "division",
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
        ``"dbscan"`` (default): scikit-learn DBSCAN on a k-d tree with radius ``eps_m``
        (default 500 m) and ``min_samples=min_size``: a cluster is a chain of firms each with
        ``min_size`` firms of its industry within ``eps_m``, so clusters stay local; when an
        industry's neighbour pairs would exceed ``max_pairs``, an equivalent chunked DBSCAN
        bounds memory. ``"hdbscan"``: scikit-learn HDBSCAN (``min_cluster_size=min_size``, k-d
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
    import geopandas as gpd
    import shapely

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
    snap, chosen = snapshot(enterprises, year=year, level=level)
    if industries is not None:
        wanted = {str(c) for c in industries}
        snap = snap[snap["_industry"].isin(wanted).to_numpy()]

    # compute
    crs = None
    labels_local = np.full(len(snap), -1, dtype=np.int64)
    paths: dict[str, str] = {}
    pairs: dict[str, int] = {}
    if len(snap):
        from parkgeo.coords import local_metric_crs

        crs = local_metric_crs(snap["lon"].to_numpy(), snap["lat"].to_numpy())
        xy = to_metric(crs, snap["lon"].to_numpy(), snap["lat"].to_numpy())
        codes = snap["_industry"].to_numpy(dtype=object)
        offset = 0
        for code in sorted(set(codes)):
            idx = np.flatnonzero(codes == code)
            if len(idx) < min_size:
                continue
            if method == "dbscan":
                assert eps_m is not None
                lab, path, n_pairs = _dbscan(
                    xy[idx], eps_m=eps_m, min_size=min_size, max_pairs=max_pairs
                )
                paths[code] = path
                pairs[code] = n_pairs
            else:
                lab = _hdbscan(xy[idx], min_size=min_size, eps_m=eps_m)
            found = lab >= 0
            labels_local[idx[found]] = lab[found] + offset
            offset += int(lab.max()) + 1 if found.any() else 0
    else:
        xy = np.empty((0, 2))

    # assemble: number clusters by industry, size desc, centroid, first enterprise id
    park_of = in_park_ids(snap, parks)
    in_clusters = labels_local >= 0
    table = pd.DataFrame(
        {
            "local": labels_local[in_clusters],
            "industry": snap["_industry"].to_numpy(dtype=object)[in_clusters],
            "x": xy[in_clusters, 0] if len(xy) else np.empty(0),
            "y": xy[in_clusters, 1] if len(xy) else np.empty(0),
            "lon": snap["lon"].to_numpy(dtype=float)[in_clusters],
            "lat": snap["lat"].to_numpy(dtype=float)[in_clusters],
            "enterprise_id": snap["enterprise_id"].to_numpy(dtype=object)[in_clusters],
            "in_park": park_of.notna().to_numpy()[in_clusters],
        }
    )
    for col in MEASURES:
        values = (
            pd.to_numeric(snap[col], errors="coerce").to_numpy(dtype=float)
            if col in snap.columns
            else np.full(len(snap), np.nan)
        )
        table[col] = values[in_clusters]
    agg = table.groupby("local", sort=True).agg(
        industry=("industry", "first"),
        n_firms=("x", "size"),
        cx=("x", "mean"),
        cy=("y", "mean"),
        first_id=("enterprise_id", "min"),
        n_in_parks=("in_park", "sum"),
        **{col: (col, "sum") for col in MEASURES},
        **{f"n_{col}": (col, "count") for col in MEASURES},
    )
    for col in MEASURES:  # a sum over nothing but missing values is missing, not zero
        agg[col] = agg[col].where(agg[f"n_{col}"] > 0)
    agg = agg.sort_values(
        ["industry", "n_firms", "cx", "cy", "first_id"],
        ascending=[True, False, True, True, True],
        kind="mergesort",
    )
    new_id = pd.Series(np.arange(len(agg), dtype=np.int64), index=agg.index)
    agg["rank_in_industry"] = agg.groupby("industry", sort=False).cumcount() + 1

    # Hulls are built from the firms' own lon/lat (so each hull covers its firms exactly in
    # WGS-84); degenerate ones (firms on a line or at one address) are buffered in metres.
    hull_list = []
    member_pos = pd.Series(np.arange(len(table))).groupby(table["local"].to_numpy()).groups
    cluster_xy = table[["x", "y"]].to_numpy()
    cluster_ll = table[["lon", "lat"]].to_numpy()
    to_wgs84 = None
    for local in agg.index:
        pos = np.asarray(member_pos[local])
        if shapely.area(shapely.convex_hull(shapely.multipoints(cluster_xy[pos]))) < 1.0:
            if to_wgs84 is None:
                from pyproj import Transformer

                back_tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

                def to_wgs84(c: NDArray, tr: Any = back_tr) -> NDArray:
                    return np.column_stack(tr.transform(c[:, 0], c[:, 1]))

            buffered = shapely.buffer(
                shapely.convex_hull(shapely.multipoints(cluster_xy[pos])),
                DEGENERATE_HULL_BUFFER_M,
            )
            hull_list.append(shapely.transform(buffered, to_wgs84))
        else:
            hull_list.append(shapely.convex_hull(shapely.multipoints(cluster_ll[pos])))
    hulls = gpd.GeoSeries(hull_list, crs="EPSG:4326")
    from parkgeo.coords import geodesic_area_ha

    area = geodesic_area_ha(hulls) if len(hull_list) else np.empty(0)
    if len(agg):
        assert crs is not None
        from pyproj import Transformer

        back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        clon, clat = back.transform(agg["cx"].to_numpy(), agg["cy"].to_numpy())
    else:
        clon = clat = np.empty(0)

    park_ids = _cluster_park_ids(agg.index, table, park_of[in_clusters], hulls, parks)
    cluster_codes = [str(c) for c in agg["industry"]]
    distinct = sorted(set(cluster_codes))
    names_zh, names_en = industry_names(distinct)
    zh = dict(zip(distinct, names_zh, strict=True))
    en = dict(zip(distinct, names_en, strict=True))
    n_firms = agg["n_firms"].to_numpy(dtype=np.int64)
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": new_id.to_numpy(),
            "industry": pd.array(cluster_codes, dtype="string"),
            "industry_name": pd.array([zh[c] for c in cluster_codes], dtype="string"),
            "industry_name_en": pd.array([en[c] for c in cluster_codes], dtype="string"),
            "rank_in_industry": agg["rank_in_industry"].to_numpy(dtype=np.int64),
            "year": pd.array([chosen] * len(agg), dtype="Int64"),
            "n_firms": n_firms,
            **{col: agg[col].to_numpy(dtype=float) for col in MEASURES},
            "hull_area_ha": np.asarray(area, dtype=float),
            "centroid_lon": np.asarray(clon, dtype=float),
            "centroid_lat": np.asarray(clat, dtype=float),
            "park_ids": pd.array(park_ids, dtype="string"),
            "n_in_parks": agg["n_in_parks"].to_numpy(dtype=np.int64),
            "share_in_parks": (
                agg["n_in_parks"].to_numpy(dtype=float) / np.maximum(n_firms, 1)
                if (parks is not None or "park_id" in snap.columns)
                else np.full(len(agg), np.nan)
            ),
        },
        geometry=hulls.to_numpy() if len(hull_list) else gpd.GeoSeries([], crs=4326),
        crs="EPSG:4326",
    )
    clusters = clusters[CLUSTER_COLUMNS]

    local_to_global = np.full(max(int(labels_local.max(initial=-1)) + 1, 1), -1)
    local_to_global[agg.index.to_numpy(dtype=np.int64)] = new_id.to_numpy()
    snap_labels = np.where(labels_local >= 0, local_to_global[np.maximum(labels_local, 0)], -1)
    labels = _labels_on_input(enterprises, snap, snap_labels)
    params: dict[str, Any] = {
        "method": method,
        "level": level,
        "year": chosen,
        "min_size": int(min_size),
        "eps_m": eps_m,
        "metric_crs": crs.to_string() if crs is not None else None,
        "n_firms": len(snap),
        "n_noise": int((snap_labels < 0).sum()),
        "dbscan_path": paths,
        "dbscan_pairs": pairs,
        "random_state": random_state,
    }
    return ClusterResult(labels=labels, clusters=clusters, params=params)


def _cluster_park_ids(
    locals_: pd.Index,
    table: pd.DataFrame,
    park_of: pd.Series,
    hulls: Any,
    parks: Any | None,
) -> list[Any]:
    """Comma-separated sorted park ids per cluster: parks holding its firms or meeting its hull."""
    members: dict[Any, set[str]] = {k: set() for k in locals_}
    pids = park_of.to_numpy(dtype=object)
    for local, pid in zip(table["local"].to_numpy(), pids, strict=True):
        if pid is not pd.NA and pid is not None and local in members:
            members[local].add(str(pid))
    if parks is not None and len(hulls):
        import shapely

        tree = shapely.STRtree(parks.geometry.to_numpy())
        hull_idx, park_idx = tree.query(hulls.to_numpy(), predicate="intersects")
        ids = parks["park_id"].astype(str).to_numpy()
        keys = list(locals_)
        for h, p in zip(hull_idx, park_idx, strict=True):
            members[keys[h]].add(ids[p])
    return [",".join(sorted(members[k])) if members[k] else pd.NA for k in locals_]


def _labels_on_input(
    enterprises: pd.DataFrame, snap: pd.DataFrame, snap_labels: NDArray[np.int64]
) -> pd.Series:
    pos = pd.Index(snap["enterprise_id"].to_numpy(dtype=object)).get_indexer(
        enterprises["enterprise_id"].astype(str).to_numpy(dtype=object)
    )
    values = pd.array(np.where(pos >= 0, snap_labels[pos], 0), dtype="Int64")
    values[pos < 0] = pd.NA
    return pd.Series(values, index=enterprises.index, name="cluster_id")
