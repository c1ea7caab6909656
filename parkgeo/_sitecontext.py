"""What rank_parks and score_sites compute per industry: the park context, distances to
clusters, component scores and the reason. Private module, public-within-package names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from parkgeo._analysis import level_reported, parks_wgs84, resolve_level, snapshot
from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._reasons import TOUCHING_KM
from parkgeo._relatedness import build_structure
from parkgeo.clusters import ClusterResult, industry_clusters
from parkgeo.coords import local_metric_crs
from parkgeo.industry import rollup
from parkgeo.metrics import park_metrics
from parkgeo.structure import park_industry_matrix
from parkgeo.years import resolve_year

COMPONENT_COLUMN = {
    "relatedness": "score_relatedness",
    "cluster": "score_cluster",
    "related_cluster": "score_related_cluster",
    "tax": "score_tax",
    "energy": "score_energy",
    "park_distance": "score_park_distance",
}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def industry_code(industry: str, level: str) -> str:
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


def weighted_score(frame: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    cols = [COMPONENT_COLUMN[k] for k in weights]
    values = frame[cols].to_numpy(dtype=float)
    w = np.array([weights[k] for k in weights], dtype=float)
    avail = np.isfinite(values)
    wsum = (avail * w[None, :]).sum(axis=1)
    total = np.where(avail, values, 0.0) @ w
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(wsum > 0, total / wsum, np.nan)
    return pd.Series(np.round(score, 12), index=frame.index)


def percentile_rank(values: pd.Series) -> pd.Series:
    """(rank - 1) / (n - 1) with ties averaged; NaN stays NaN; a single value gets 1."""
    ranks = values.rank(method="average")
    n = int(values.notna().sum())
    if n <= 1:
        result: pd.Series = values.where(values.isna(), 1.0)
        return result
    return (ranks - 1.0) / (n - 1.0)


def decay(km: np.ndarray, scale_km: float) -> np.ndarray:
    return np.exp(-np.asarray(km, dtype=float) / scale_km)


def nearest_clusters(
    geoms_metric: np.ndarray, hulls_metric: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hull (id, km) of each geometry; (-1, NaN) when there is no hull."""

    n = len(geoms_metric)
    if not len(hulls_metric):
        return np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
    d = shapely.distance(geoms_metric[:, None], hulls_metric[None, :])
    order = np.lexsort((np.broadcast_to(ids, d.shape), d), axis=1)[:, 0]
    best = d[np.arange(n), order]
    return ids[order].astype(np.int64), best / 1000.0


def industry_energy(
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


def park_metrics_table(
    assigned: pd.DataFrame, parks: Any, metrics: pd.DataFrame | None, year: int | None
) -> pd.DataFrame:
    """tax_per_ha, energy_per_value_added and value_added per park for the year."""
    if metrics is None:
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


def cluster_table(
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


class SiteContext:
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
        level = resolve_level(assigned, level)  # once: every step below runs at this level
        year = resolve_year(assigned, year)  # parkgeo.default_year: the latest year in the data
        with level_reported():
            self.level = level
            self.code = industry_code(industry, level)
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
                    else count_matrix(assigned, level, year, self.parks)[code]
                )
            else:
                self.related = []
                self.density = pd.Series(0.0, index=st.matrix.index)
                self.lq = pd.Series(0.0, index=st.matrix.index)
                self.n_firms = pd.Series(0.0, index=st.matrix.index)
            table = cluster_table(
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
            self.metrics = park_metrics_table(assigned, self.parks, metrics, self.year)
            self.e_industry, self.typical_va = industry_energy(
                assigned, code, level=level, year=self.year
            )

    def distances(self, geoms_metric: np.ndarray) -> dict[str, np.ndarray]:
        own_id, own_km = nearest_clusters(geoms_metric, self.own_hulls, self.own_ids)
        rel_id, rel_km = nearest_clusters(geoms_metric, self.rel_hulls, self.rel_ids)
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


def count_matrix(assigned: pd.DataFrame, level: str, year: int | None, parks: Any) -> Any:
    return park_industry_matrix(assigned, level=level, year=year, parks=parks)


def park_frame(ctx: SiteContext, scale_km: float) -> pd.DataFrame:
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
    frame["score_cluster"] = decay(frame["nearest_cluster_km"].to_numpy(), scale_km)
    frame["score_related_cluster"] = decay(frame["nearest_related_cluster_km"].to_numpy(), scale_km)
    frame["score_tax"] = percentile_rank(frame["tax_per_ha"])
    frame["score_energy"] = s_energy
    result: pd.DataFrame = frame
    return result


def rank_rows(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    order = frame.sort_values(
        ["score", *keys],
        ascending=[False] + [True] * len(keys),
        kind="mergesort",
        na_position="last",
    ).index
    result: pd.Series = pd.Series(np.arange(1, len(order) + 1), index=order).reindex(frame.index)
    return result


def site_reason(row: pd.Series) -> str:
    """Why a park ranks where it does, in plain words (the numbers are in the columns)."""
    code = str(row["industry"])
    share = float(row["density"])
    words = "most" if share >= 0.6 else "some" if share >= 0.3 else "few" if share > 0 else "none"
    parts = [f"It has {words} of the industries usually found alongside {code} ({share:.0%})."]
    km = row["nearest_cluster_km"]
    if pd.isna(km):
        parts.append(f"There is no concentration of {code} firms in the city.")
    elif km < TOUCHING_KM:
        parts.append(f"A concentration of {code} firms reaches the park.")
    else:
        parts.append(f"The nearest concentration of {code} firms is {km:.1f} km away.")
    related_km = row["nearest_related_cluster_km"]
    if pd.notna(related_km):
        related = row["nearest_related_industry"]
        if related_km < TOUCHING_KM:
            parts.append(f"A concentration of related {related} firms reaches the park.")
        else:
            parts.append(
                f"The nearest concentration of related {related} firms is {related_km:.1f} km away."
            )
    if pd.notna(row["tax_per_ha"]):
        better = (
            f", more than {row['score_tax']:.0%} of the parks" if pd.notna(row["score_tax"]) else ""
        )
        parts.append(f"It raises {row['tax_per_ha']:,.1f} (10,000 CNY) of tax per hectare{better}.")
    change = row["energy_change"]
    if pd.notna(row["score_energy"]):
        if row["score_energy"] >= 1:
            parts.append(
                f"A typical {code} firm would not raise its energy use per unit of value added."
            )
        elif pd.notna(change):
            parts.append(
                f"A typical {code} firm would raise its energy use per unit of value added by "
                f"{change:.1%}."
            )
        else:
            parts.append(f"{code} uses more energy per unit of value added than the park does.")
    return " ".join(parts)
