"""Where a new firm of an industry fits best: ranking parks and scoring candidate points.

Each candidate gets components in 0..1 (higher is better) and a score, their weighted mean:

* ``score_relatedness``: relatedness density of the industry in the park (Hidalgo et al. 2007);
* ``score_cluster``: ``exp(-d / scale)`` of the distance ``d`` to the nearest existing cluster of
  the industry (:func:`parkgeo.clusters.industry_clusters`);
* ``score_related_cluster``: the same for the nearest cluster of a related industry (the
  ``n_related`` industries of highest proximity);
* ``score_tax``: the park's percentile rank in tax per hectare;
* ``score_energy``: ``min(1, e_park / e_industry)`` where ``e`` is energy per unit of value added:
  1 when the firm would not raise the park's energy intensity, lower the heavier it is;
* ``score_park_distance`` (points only): ``exp(-d / scale)`` of the distance to the nearest park.

A component that cannot be computed (e.g. no energy data) is NaN and left out of the weighted
mean; the weights of the others are renormalised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from parkgeo._analysis import (
    check_weights,
    to_metric,
)
from parkgeo._errors import ParkgeoError
from parkgeo._sitecontext import (
    SiteContext,
    decay,
    park_frame,
    rank_rows,
    site_reason,
    weighted_score,
)
from parkgeo.clusters import ClusterResult
from parkgeo.coords import lonlat_of
from parkgeo.results import with_park_geometry

__all__ = ["SITE_WEIGHTS", "rank_parks", "score_sites"]

log = logging.getLogger("parkgeo")

SITE_WEIGHTS: dict[str, float] = {
    "relatedness": 0.3,
    "cluster": 0.2,
    "related_cluster": 0.1,
    "tax": 0.2,
    "energy": 0.2,
}
POINT_WEIGHTS: dict[str, float] = {**SITE_WEIGHTS, "park_distance": 0.2}

PARK_COLUMNS = [
    "rank",
    "park_id",
    "park_name",
    "industry",
    "year",
    "score",
    "score_relatedness",
    "score_cluster",
    "score_related_cluster",
    "score_tax",
    "score_energy",
    "density",
    "n_firms_industry",
    "lq",
    "nearest_cluster_id",
    "nearest_cluster_km",
    "nearest_related_industry",
    "nearest_related_cluster_id",
    "nearest_related_cluster_km",
    "tax_per_ha",
    "park_energy_per_value_added",
    "industry_energy_per_value_added",
    "energy_change",
    "reason",
]
POINT_COLUMNS = [
    "rank",
    "lon",
    "lat",
    "park_id",
    "park_name",
    "in_park",
    "park_distance_km",
    "industry",
    "year",
    "score",
    "score_relatedness",
    "score_cluster",
    "score_related_cluster",
    "score_tax",
    "score_energy",
    "score_park_distance",
    "density",
    "nearest_cluster_id",
    "nearest_cluster_km",
    "nearest_related_industry",
    "nearest_related_cluster_id",
    "nearest_related_cluster_km",
    "tax_per_ha",
    "park_energy_per_value_added",
    "industry_energy_per_value_added",
    "energy_change",
]


# --------------------------------------------------------------------------------------------
# public
# --------------------------------------------------------------------------------------------


def rank_parks(
    industry: str,
    assigned: pd.DataFrame,
    parks: Any,
    *,
    weights: Mapping[str, float] | None = None,
    metrics: pd.DataFrame | None = None,
    clusters: ClusterResult | Any | None = None,
    year: int | None = None,
    level: str | None = None,
    threshold: float = 1.0,
    measure: str = "count",
    relatedness: str = "proximity",
    n_related: int = 5,
    distance_scale_km: float = 10.0,
    geometry: bool = False,
) -> pd.DataFrame:
    """Rank parks for a new firm of ``industry``.

    Parameters
    ----------
    industry : str
        GB/T 4754 code (``"C27"``, ``"27"``, ``"C2710"``), rolled up to ``level``.
    assigned : pandas.DataFrame
        Enterprises with ``park_id``/``match`` from :func:`parkgeo.join.assign_parks`.
    parks : geopandas.GeoDataFrame
        Park polygons.
    weights : mapping, optional
        Weights of ``relatedness``, ``cluster``, ``related_cluster``, ``tax``, ``energy``
        (default 0.3, 0.2, 0.1, 0.2, 0.2); a component left out weighs 0.
    metrics : pandas.DataFrame, optional
        Output of :func:`parkgeo.metrics.park_metrics` (``tax_per_ha``,
        ``energy_per_value_added``, ``value_added`` per park and year); computed if omitted.
    clusters : ClusterResult or GeoDataFrame, optional
        City clusters; default ``industry_clusters(assigned, ...)`` for the industry and its
        related industries.
    year : int, optional
        Default the latest year present.
    level, threshold, measure, relatedness :
        As in :func:`parkgeo.gaps.missing_clusters`.
    n_related : int
        How many of the most related industries count for ``score_related_cluster``.
    distance_scale_km : float
        Distance at which a distance score falls to ``1/e`` (0.37).
    geometry : bool
        Return a GeoDataFrame with each park's polygon (in the parks' CRS), as
        :func:`parkgeo.results.with_park_geometry` does.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        One row per park on a RangeIndex, ``rank`` 1 = best (columns in :data:`PARK_COLUMNS`;
        plus ``geometry`` with ``geometry=True``).

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> sample = load_tianjin()
    >>> assigned = assign_parks(sample.enterprises, sample.parks).assigned
    >>> ranked = rank_parks("C39", assigned, sample.parks)
    >>> ranked["rank"].tolist()[:3]
    [1, 2, 3]
    >>> bool(ranked["score"].is_monotonic_decreasing)
    True
    """
    w = check_weights(weights, SITE_WEIGHTS)
    w = {k: v for k, v in w.items() if v > 0}
    if not (np.isfinite(distance_scale_km) and distance_scale_km > 0):
        raise ParkgeoError(f"distance_scale_km must be positive; got {distance_scale_km!r}")
    ctx = SiteContext(
        industry,
        assigned,
        parks,
        metrics=metrics,
        clusters=clusters,
        year=year,
        level=level,
        threshold=threshold,
        measure=measure,
        n_related=n_related,
        relatedness=relatedness,
    )
    frame = park_frame(ctx, distance_scale_km)
    frame["score"] = weighted_score(frame, w)
    frame["rank"] = rank_rows(frame, ["park_id"])
    frame["reason"] = [site_reason(r) for _, r in frame.iterrows()]
    frame = frame.sort_values("rank", kind="mergesort").reset_index(drop=True)[PARK_COLUMNS]
    result: pd.DataFrame = with_park_geometry(frame, parks) if geometry else frame
    return result


def score_sites(
    points: pd.DataFrame,
    industry: str,
    assigned: pd.DataFrame,
    parks: Any,
    *,
    weights: Mapping[str, float] | None = None,
    metrics: pd.DataFrame | None = None,
    clusters: ClusterResult | Any | None = None,
    year: int | None = None,
    level: str | None = None,
    threshold: float = 1.0,
    measure: str = "count",
    relatedness: str = "proximity",
    n_related: int = 5,
    distance_scale_km: float = 10.0,
) -> pd.DataFrame:
    """Score candidate locations for a new firm of ``industry``.

    A point inside a park takes that park's relatedness, tax and energy context (the smallest
    park when parks overlap); a point outside every park takes its nearest park's context and
    a ``score_park_distance`` below 1. Distances to clusters are measured from the point.

    Parameters
    ----------
    points : pandas.DataFrame or geopandas.GeoDataFrame
        ``lon``/``lat`` columns (WGS-84) or point geometries in any CRS.
    industry, assigned, parks, metrics, clusters, year, level, threshold, measure, relatedness,
    n_related, distance_scale_km :
        As in :func:`rank_parks`.
    weights : mapping, optional
        As in :func:`rank_parks`, plus ``park_distance`` (default 0.2).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        The input, as it came (same type, rows, order, index, the user's columns and
        geometry), with the columns of :data:`POINT_COLUMNS` added: ``rank`` 1 = best,
        ``lon``/``lat`` in WGS-84. A user column with one of those names is replaced, with a
        warning (``lon``/``lat`` silently when they hold the same WGS-84 values).

    Examples
    --------
    >>> import pandas as pd
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> sample = load_tianjin()
    >>> assigned = assign_parks(sample.enterprises, sample.parks).assigned
    >>> inside = sample.parks.geometry.iloc[0].representative_point()
    >>> pts = pd.DataFrame({"lon": [inside.x, 116.9], "lat": [inside.y, 40.1]})
    >>> scored = score_sites(pts, "C39", assigned, sample.parks)
    >>> scored["in_park"].tolist()
    [True, False]
    >>> bool(scored["score_park_distance"].iloc[1] < 1)
    True
    """
    w = check_weights(weights, POINT_WEIGHTS)
    w = {k: v for k, v in w.items() if v > 0}
    if not (np.isfinite(distance_scale_km) and distance_scale_km > 0):
        raise ParkgeoError(f"distance_scale_km must be positive; got {distance_scale_km!r}")
    lon, lat = lonlat_of(points)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        raise ParkgeoError(
            f"candidate point {points.index[np.flatnonzero(bad)[0]]!r} has no valid lon/lat"
        )
    ctx = SiteContext(
        industry,
        assigned,
        parks,
        metrics=metrics,
        clusters=clusters,
        year=year,
        level=level,
        threshold=threshold,
        measure=measure,
        n_related=n_related,
        relatedness=relatedness,
    )
    by_park = park_frame(ctx, distance_scale_km).set_index("park_id")
    pts_m = shapely.points(to_metric(ctx.crs, lon, lat))
    parks_sorted = ctx.parks.assign(park_id=ctx.parks["park_id"].astype(str)).sort_values("park_id")
    park_geoms = parks_sorted.geometry.to_crs(ctx.crs).to_numpy()
    pids = parks_sorted["park_id"].to_numpy(dtype=object)
    d = shapely.distance(pts_m[:, None], park_geoms[None, :])
    area = shapely.area(park_geoms)
    # inside (distance 0): the smallest park; outside: the nearest, then the first id
    best = np.lexsort(
        (np.broadcast_to(np.arange(len(pids)), d.shape), np.where(d == 0, area, np.inf), d), axis=1
    )[:, 0]
    park_km = d[np.arange(len(pts_m)), best] / 1000.0
    chosen = pids[best]
    ctx_rows = by_park.loc[list(chosen)]
    dist = ctx.distances(pts_m)
    out = pd.DataFrame(index=pd.RangeIndex(len(points)))
    out["lon"] = lon
    out["lat"] = lat
    out["park_id"] = pd.array(chosen, dtype="string")
    out["park_name"] = ctx_rows["park_name"].to_numpy(dtype=object)
    out["in_park"] = park_km == 0
    out["park_distance_km"] = park_km
    out["industry"] = ctx.code
    out["year"] = pd.array([ctx.year] * len(out), dtype="Int64")
    for col in (
        "density",
        "tax_per_ha",
        "park_energy_per_value_added",
        "industry_energy_per_value_added",
        "energy_change",
        "score_relatedness",
        "score_tax",
        "score_energy",
    ):
        out[col] = ctx_rows[col].to_numpy()
    out["nearest_cluster_id"] = pd.array(
        np.where(dist["nearest_cluster_id"] >= 0, dist["nearest_cluster_id"], -1), dtype="Int64"
    )
    out["nearest_cluster_km"] = dist["nearest_cluster_km"]
    out["nearest_related_industry"] = pd.array(dist["nearest_related_industry"], dtype="string")
    out["nearest_related_cluster_id"] = pd.array(dist["nearest_related_cluster_id"], dtype="Int64")
    out["nearest_related_cluster_km"] = dist["nearest_related_cluster_km"]
    for col in ("nearest_cluster_id", "nearest_related_cluster_id"):
        out[col] = out[col].mask(out[col] < 0)
    out["score_cluster"] = decay(out["nearest_cluster_km"].to_numpy(), distance_scale_km)
    out["score_related_cluster"] = decay(
        out["nearest_related_cluster_km"].to_numpy(), distance_scale_km
    )
    out["score_park_distance"] = decay(park_km, distance_scale_km)
    out["score"] = weighted_score(out, w)
    out["_pos"] = np.arange(len(out))
    out["rank"] = rank_rows(out, ["lon", "lat", "_pos"])
    return _add_columns(points, out[POINT_COLUMNS])


def _add_columns(points: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The user's table (type, index, columns, geometry) with ``scores`` (same row order) added."""
    result: pd.DataFrame = points.copy()
    replaced = []
    for col in scores.columns:
        values = scores[col].to_numpy()
        if col in result.columns and col != getattr(result, "_geometry_column_name", None):
            same = col in ("lon", "lat") and np.allclose(
                pd.to_numeric(result[col], errors="coerce").to_numpy(dtype=float),
                values.astype(float),
                rtol=0,
                atol=1e-9,
                equal_nan=True,
            )
            if not same:
                replaced.append(col)
        result[col] = scores[col].array if hasattr(scores[col], "array") else values
    if replaced:
        log.warning(
            "score_sites replaced the points' own column(s) %s with its results; rename them "
            "to keep both",
            ", ".join(replaced),
        )
    return result
