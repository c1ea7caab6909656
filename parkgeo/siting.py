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

from parkgeo._analysis import (
    check_weights,
    level_reported,
    parks_wgs84,
    resolve_level,
    snapshot,
    to_metric,
)
from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._relatedness import build_structure
from parkgeo.clusters import ClusterResult, industry_clusters
from parkgeo.results import with_park_geometry
from parkgeo.years import resolve_year

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
_COMPONENT_COLUMN = {
    "relatedness": "score_relatedness",
    "cluster": "score_cluster",
    "related_cluster": "score_related_cluster",
    "tax": "score_tax",
    "energy": "score_energy",
    "park_distance": "score_park_distance",
}

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
# helpers
# --------------------------------------------------------------------------------------------


def _industry_code(industry: str, level: str) -> str:
    from parkgeo.industry import rollup

    try:
        code = rollup(str(industry), level=level)
    except ParkgeoError as exc:
        raise ParkgeoError(f"industry {industry!r}: {exc}") from None
    if code is None:
        raise ParkgeoError(
            f"industry {industry!r} is coarser than the {level} level; give a {level} code "
            "such as C27"
        )
    return str(code)


def _weighted_score(frame: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    cols = [_COMPONENT_COLUMN[k] for k in weights]
    values = frame[cols].to_numpy(dtype=float)
    w = np.array([weights[k] for k in weights], dtype=float)
    avail = np.isfinite(values)
    wsum = (avail * w[None, :]).sum(axis=1)
    total = np.where(avail, values, 0.0) @ w
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(wsum > 0, total / wsum, np.nan)
    return pd.Series(np.round(score, 12), index=frame.index)


def _percentile_rank(values: pd.Series) -> pd.Series:
    """(rank - 1) / (n - 1) with ties averaged; NaN stays NaN; a single value gets 1."""
    ranks = values.rank(method="average")
    n = int(values.notna().sum())
    if n <= 1:
        result: pd.Series = values.where(values.isna(), 1.0)
        return result
    return (ranks - 1.0) / (n - 1.0)


def _decay(km: np.ndarray, scale_km: float) -> np.ndarray:
    return np.exp(-np.asarray(km, dtype=float) / scale_km)


def _nearest_clusters(
    geoms_metric: np.ndarray, hulls_metric: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hull (id, km) of each geometry; (-1, NaN) when there is no hull."""
    import shapely

    n = len(geoms_metric)
    if not len(hulls_metric):
        return np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    d = shapely.distance(geoms_metric[:, None], hulls_metric[None, :])
    order = np.lexsort((np.broadcast_to(ids, d.shape), d), axis=1)[:, 0]
    best = d[np.arange(n), order]
    return ids[order].astype(np.int64), best / 1000.0


def _industry_energy(
    assigned: pd.DataFrame, code: str, *, level: str, year: int | None
) -> tuple[float, float]:
    """City energy per value added of the industry (ratio of sums, pairwise complete) and the
    median value added of its firms (the 'typical new firm')."""
    snap, _ = snapshot(assigned, year=year, level=level)
    rows = snap[snap["_industry"].astype(str).to_numpy() == code]
    if not {"energy_tce", "value_added"} <= set(rows.columns) or not len(rows):
        return float("nan"), float("nan")
    e = pd.to_numeric(rows["energy_tce"], errors="coerce").to_numpy(dtype=float)
    v = pd.to_numeric(rows["value_added"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(e) & np.isfinite(v)
    vsum = v[ok].sum()
    intensity = e[ok].sum() / vsum if ok.any() and vsum > 0 else float("nan")
    typical = float(np.median(v[ok])) if ok.any() else float("nan")
    return float(intensity), typical


def _park_metrics(
    assigned: pd.DataFrame, parks: Any, metrics: pd.DataFrame | None, year: int | None
) -> pd.DataFrame:
    """tax_per_ha, energy_per_value_added and value_added per park for the year."""
    if metrics is None:
        from parkgeo.metrics import park_metrics

        # the baseline only matters for changes, which are not used here
        metrics = park_metrics(
            assigned,
            parks,
            years=[year] if year is not None else None,
            baseline_year=year,
            industry_mix=False,
        )
    need = {"park_id", "tax_per_ha", "energy_per_value_added"}
    missing = need - set(metrics.columns)
    if missing:
        raise SchemaError(
            f"metrics lack {', '.join(sorted(missing))}; pass the output of "
            "parkgeo.metrics.park_metrics"
        )
    table = metrics
    if "year" in table.columns and year is not None:
        table = table[pd.to_numeric(table["year"], errors="coerce") == year]
    table = table[~table["park_id"].astype(str).isin(["ALL", "ALL_PARKS"])]
    cols = ["tax_per_ha", "energy_per_value_added"] + (
        ["value_added"] if "value_added" in table.columns else []
    )
    out = table.assign(park_id=table["park_id"].astype(str)).drop_duplicates("park_id")
    result: pd.DataFrame = out.set_index("park_id")[cols].astype(float)
    return result


def _cluster_table(
    clusters: ClusterResult | Any | None,
    assigned: pd.DataFrame,
    parks4326: Any,
    *,
    level: str,
    year: int | None,
) -> Any:
    if clusters is None:
        # every industry, so that the ids match those of a full industry_clusters table
        clusters = industry_clusters(assigned, level=level, year=year, parks=parks4326)
    return clusters.clusters if isinstance(clusters, ClusterResult) else clusters


class _Context:
    """Per-industry context shared by rank_parks and score_sites."""

    def __init__(
        self,
        industry: str,
        assigned: pd.DataFrame,
        parks: Any,
        *,
        metrics: pd.DataFrame | None,
        clusters: Any,
        year: int | None,
        level: str | None,
        threshold: float,
        measure: str,
        n_related: int,
        relatedness: str = "proximity",
    ) -> None:
        from parkgeo.coords import local_metric_crs

        level = resolve_level(assigned, level)  # once: every step below runs at this level
        year = resolve_year(assigned, year)  # parkgeo.default_year: the latest year in the data
        with level_reported():
            self.level = level
            self.code = _industry_code(industry, level)
            self.parks = parks_wgs84(parks)
            st = build_structure(
                assigned,
                self.parks,
                level=level,
                year=year,
                measure=measure,
                threshold=threshold,
                city_totals="parks",
                relatedness=relatedness,
            )
            self.year = st.year
            self.st = st
            code = self.code
            if code in st.proximity.index:
                phi = st.proximity.loc[code].drop(code)
                phi = phi[phi > 0]
                order = sorted(phi.index, key=lambda j: (-round(float(phi[j]), 12), str(j)))
                self.related = [str(j) for j in order[:n_related]]
                self.density = st.density[code]
                self.lq = st.lq[code]
                self.n_firms = (
                    st.matrix[code]
                    if measure == "count"
                    else _count_matrix(assigned, level, year, self.parks)[code]
                )
            else:
                self.related = []
                self.density = pd.Series(0.0, index=st.matrix.index)
                self.lq = pd.Series(0.0, index=st.matrix.index)
                self.n_firms = pd.Series(0.0, index=st.matrix.index)
            table = _cluster_table(
                clusters,
                assigned,
                self.parks,
                level=level,
                year=year,
            )
            bounds = self.parks.total_bounds
            self.crs = local_metric_crs([bounds[0], bounds[2]], [bounds[1], bounds[3]])
            inds = (
                table["industry"].astype(str).to_numpy()
                if len(table)
                else np.empty(0, dtype=object)
            )
            hulls = table.geometry.to_crs(self.crs).to_numpy() if len(table) else np.empty(0)
            ids = table["cluster_id"].to_numpy(dtype=np.int64) if len(table) else np.empty(0)
            own = inds == code
            self.own_hulls, self.own_ids = hulls[own], ids[own]
            rel = np.isin(inds, self.related)
            self.rel_hulls, self.rel_ids, self.rel_inds = hulls[rel], ids[rel], inds[rel]
            self.metrics = _park_metrics(assigned, self.parks, metrics, self.year)
            self.e_industry, self.typical_va = _industry_energy(
                assigned, code, level=level, year=self.year
            )

    def distances(self, geoms_metric: np.ndarray) -> dict[str, np.ndarray]:
        own_id, own_km = _nearest_clusters(geoms_metric, self.own_hulls, self.own_ids)
        rel_id, rel_km = _nearest_clusters(geoms_metric, self.rel_hulls, self.rel_ids)
        ind_of = dict(zip(self.rel_ids.tolist(), self.rel_inds.tolist(), strict=True))
        return {
            "nearest_cluster_id": own_id,
            "nearest_cluster_km": own_km,
            "nearest_related_cluster_id": rel_id,
            "nearest_related_cluster_km": rel_km,
            "nearest_related_industry": np.array(
                [ind_of.get(int(i)) for i in rel_id], dtype=object
            ),
        }


def _count_matrix(assigned: pd.DataFrame, level: str, year: int | None, parks: Any) -> Any:
    from parkgeo.structure import park_industry_matrix

    return park_industry_matrix(assigned, level=level, year=year, parks=parks)


def _park_frame(ctx: _Context, scale_km: float) -> pd.DataFrame:
    parks = ctx.parks.assign(park_id=ctx.parks["park_id"].astype(str)).sort_values("park_id")
    pids = parks["park_id"].to_numpy(dtype=object)
    geoms = parks.geometry.to_crs(ctx.crs).to_numpy()
    dist = ctx.distances(geoms)
    m = ctx.metrics.reindex(pids)
    e_park = m["energy_per_value_added"].to_numpy(dtype=float)
    e_ind = ctx.e_industry
    with np.errstate(divide="ignore", invalid="ignore"):
        s_energy = np.where(
            e_ind > 0, np.minimum(1.0, e_park / e_ind), np.where(e_ind <= 0, 1.0, np.nan)
        )
        s_energy = np.where(np.isfinite(e_park) & np.isfinite(e_ind), s_energy, np.nan)
        if "value_added" in m.columns and np.isfinite(ctx.typical_va):
            va = m["value_added"].to_numpy(dtype=float)
            new = (e_park * va + e_ind * ctx.typical_va) / (va + ctx.typical_va)
            change = new / e_park - 1.0
        else:
            change = np.full(len(pids), np.nan)
    change = np.where(np.isfinite(change), change, np.nan)
    name = parks["name"].astype(str) if "name" in parks.columns else parks["park_id"]
    frame = pd.DataFrame(
        {
            "park_id": pd.array(pids, dtype="string"),
            "park_name": pd.array(name.to_numpy(dtype=object), dtype="string"),
            "industry": ctx.code,
            "year": pd.array([ctx.year] * len(pids), dtype="Int64"),
            "density": ctx.density.reindex(pids).fillna(0.0).to_numpy(dtype=float),
            "n_firms_industry": ctx.n_firms.reindex(pids).fillna(0.0).to_numpy(dtype=float),
            "lq": ctx.lq.reindex(pids).to_numpy(dtype=float),
            "nearest_cluster_id": pd.array(
                np.where(dist["nearest_cluster_id"] >= 0, dist["nearest_cluster_id"], -1),
                dtype="Int64",
            ),
            "nearest_cluster_km": dist["nearest_cluster_km"],
            "nearest_related_industry": pd.array(dist["nearest_related_industry"], dtype="string"),
            "nearest_related_cluster_id": pd.array(
                dist["nearest_related_cluster_id"], dtype="Int64"
            ),
            "nearest_related_cluster_km": dist["nearest_related_cluster_km"],
            "tax_per_ha": m["tax_per_ha"].to_numpy(dtype=float),
            "park_energy_per_value_added": e_park,
            "industry_energy_per_value_added": np.full(len(pids), e_ind),
            "energy_change": change,
        }
    )
    for col in ("nearest_cluster_id", "nearest_related_cluster_id"):
        frame[col] = frame[col].mask(frame[col] < 0)
    frame["score_relatedness"] = frame["density"]
    frame["score_cluster"] = _decay(frame["nearest_cluster_km"].to_numpy(), scale_km)
    frame["score_related_cluster"] = _decay(
        frame["nearest_related_cluster_km"].to_numpy(), scale_km
    )
    frame["score_tax"] = _percentile_rank(frame["tax_per_ha"])
    frame["score_energy"] = s_energy
    result: pd.DataFrame = frame
    return result


def _rank(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    order = frame.sort_values(
        ["score", *keys],
        ascending=[False] + [True] * len(keys),
        kind="mergesort",
        na_position="last",
    ).index
    result: pd.Series = pd.Series(np.arange(1, len(order) + 1), index=order).reindex(frame.index)
    return result


def _reason(row: pd.Series) -> str:
    parts = [f"relatedness {row['density']:.2f}"]
    if pd.notna(row["nearest_cluster_km"]):
        parts.append(
            f"{row['industry']} cluster #{row['nearest_cluster_id']} at {row['nearest_cluster_km']:.1f} km"
        )
    else:
        parts.append(f"no {row['industry']} cluster in the city")
    if pd.notna(row["nearest_related_cluster_km"]):
        parts.append(
            f"related {row['nearest_related_industry']} cluster #{row['nearest_related_cluster_id']}"
            f" at {row['nearest_related_cluster_km']:.1f} km"
        )
    if pd.notna(row["tax_per_ha"]):
        parts.append(f"tax {row['tax_per_ha']:,.1f} (10k CNY/ha)")
    if pd.notna(row["score_energy"]):
        verdict = "no higher" if row["score_energy"] >= 1 else "higher"
        parts.append(
            f"industry energy intensity {row['industry_energy_per_value_added']:.3f} tce per 10k CNY "
            f"is {verdict} than the park's {row['park_energy_per_value_added']:.3f}"
        )
    return "; ".join(parts) + "."


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
    ctx = _Context(
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
    frame = _park_frame(ctx, distance_scale_km)
    frame["score"] = _weighted_score(frame, w)
    frame["rank"] = _rank(frame, ["park_id"])
    frame["reason"] = [_reason(r) for _, r in frame.iterrows()]
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
    import shapely

    from parkgeo.coords import lonlat_of

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
    ctx = _Context(
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
    park_frame = _park_frame(ctx, distance_scale_km).set_index("park_id")
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
    ctx_rows = park_frame.loc[list(chosen)]
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
    out["score_cluster"] = _decay(out["nearest_cluster_km"].to_numpy(), distance_scale_km)
    out["score_related_cluster"] = _decay(
        out["nearest_related_cluster_km"].to_numpy(), distance_scale_km
    )
    out["score_park_distance"] = _decay(park_km, distance_scale_km)
    out["score"] = _weighted_score(out, w)
    out["_pos"] = np.arange(len(out))
    out["rank"] = _rank(out, ["lon", "lat", "_pos"])
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
