"""The industry clusters each park is missing, ranked and explained.

For each park, the industries it lacks (location quotient below the threshold) are scored by
relatedness density (how much of what is related to the industry the park already has),
peer presence (the share of the park's peer group that has the industry) and whether the
industry is a strategic emerging industry. Every row says why: the related industries present,
the peers that have it, and the nearest city-level cluster of the industry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkgeo._analysis import (
    check_weights,
    in_park_ids,
    industry_names,
    level_reported,
    parks_wgs84,
    resolve_level,
    snapshot,
)
from parkgeo._errors import ParkgeoError
from parkgeo._reasons import GapFacts, compass_point, reason_en, reason_zh
from parkgeo._relatedness import Structure, build_structure, strategic_scores
from parkgeo.clusters import ClusterResult, industry_clusters
from parkgeo.coords import local_metric_crs
from parkgeo.industry import rollup, strategic_category
from parkgeo.results import with_park_geometry
from parkgeo.structure import (
    PeerGroups,
    park_industry_matrix,
    peer_groups,
)
from parkgeo.years import resolve_year

__all__ = ["GAP_COLUMNS", "GAP_WEIGHTS", "missing_clusters"]

GAP_WEIGHTS: dict[str, float] = {"density": 0.4, "peers": 0.4, "strategic": 0.2}
N_RELATED_SHOWN = 3

GAP_COLUMNS = [
    "park_id",
    "park_name",
    "year",
    "rank",
    "industry",
    "industry_name",
    "industry_name_en",
    "score",
    "density",
    "peer_share",
    "strategic",
    "strategic_category",
    "status",
    "n_firms",
    "lq",
    "peer_group",
    "n_peers",
    "peers_with",
    "related_present",
    "nearest_cluster_id",
    "nearest_cluster_km",
    "no_sei",
    "reason",
    "reason_zh",
]


def _names(codes: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    zh, en = industry_names(codes)
    return dict(zip(codes, zh, strict=True)), dict(zip(codes, en, strict=True))


def _sei_firm_counts(assigned: pd.DataFrame, *, year: int | None, level: str) -> pd.Series:
    """Firms in a strategic emerging industry per park (from each firm's own, finest code).

    A park with a firm whose code is only a section (``C``) cannot be said to have none: the
    mapping works on divisions and finer, so such parks count as unknown (NaN).
    """
    snap, _ = snapshot(assigned, year=year, level=level)
    park_of = in_park_ids(snap, None)
    codes = snap["industry"].astype(str)
    cats = pd.Series(np.asarray(strategic_category(codes), dtype=object), index=snap.index)
    inside = park_of.notna().to_numpy(dtype=bool)
    sei = park_of[inside & cats.notna().to_numpy(dtype=bool)].astype(str).value_counts()
    section_only = rollup(codes, level="division").isna().to_numpy(dtype=bool)
    unknown = set(park_of[inside & section_only].astype(str))
    result: pd.Series = sei.astype(float)
    for pid in unknown - set(sei.index):
        result[pid] = float("nan")
    return result


@dataclass(frozen=True)
class _Nearest:
    """The nearest cluster of an industry to a park, for the table and the reason."""

    cluster_id: Any
    km: float
    n_firms: int | None = None
    direction: int | None = None
    around: str | None = None


def _nearest_clusters(parks4326: Any, clusters: Any, pairs: pd.DataFrame) -> list[_Nearest]:
    """For each (park_id, industry) pair: the industry's nearest cluster, its distance (km) and
    direction from the park, and a park it lies in or around (by name)."""
    none = _Nearest(pd.NA, float("nan"))
    if not len(pairs) or clusters is None or not len(clusters):
        return [none] * len(pairs)
    bounds = parks4326.total_bounds
    crs = local_metric_crs([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    park_ids = parks4326["park_id"].astype(str).to_numpy(dtype=object)
    park_metric = parks4326.geometry.to_crs(crs).to_numpy()
    park_geom = dict(zip(park_ids, park_metric, strict=True))
    park_name = dict(zip(park_ids, _park_names(parks4326), strict=True))
    hulls = clusters.geometry.to_crs(crs).to_numpy()
    by_industry: dict[str, NDArray[np.int64]] = {
        str(k): np.asarray(v, dtype=np.int64)
        for k, v in pd.Series(np.arange(len(clusters)))
        .groupby(clusters["industry"].astype(str).to_numpy())
        .groups.items()
    }
    ids = clusters["cluster_id"].to_numpy()
    sizes = clusters["n_firms"].to_numpy() if "n_firms" in clusters.columns else [None] * len(ids)
    in_parks = (
        clusters["park_ids"].astype("string").fillna("").to_numpy(dtype=object)
        if "park_ids" in clusters.columns
        else [""] * len(ids)
    )
    out: list[_Nearest] = []
    for pid, code in zip(pairs["park_id"].astype(str), pairs["industry"], strict=True):
        pos = by_industry.get(str(code))
        if pos is None:
            out.append(none)
            continue
        d = shapely.distance(park_geom[pid], hulls[pos])
        best = int(pos[int(np.lexsort((ids[pos], d))[0])])
        here = shapely.centroid(park_geom[pid])
        there = shapely.centroid(hulls[best])
        others = [p for p in str(in_parks[best]).split(",") if p and p != pid and p in park_name]
        out.append(
            _Nearest(
                cluster_id=int(ids[best]),
                km=float(shapely.distance(park_geom[pid], hulls[best])) / 1000.0,
                n_firms=sizes[best],
                direction=compass_point(there.x - here.x, there.y - here.y),
                around=park_name[others[0]] if others else None,
            )
        )
    return out


def _park_names(parks4326: Any) -> list[str]:
    column = "name" if "name" in parks4326.columns else "park_id"
    return [str(v) for v in parks4326[column]]


def missing_clusters(
    assigned: pd.DataFrame,
    parks: Any,
    *,
    level: str | None = None,
    top: int | None = 5,
    threshold: float = 1.0,
    measure: str = "count",
    year: int | None = None,
    weights: Mapping[str, float] | None = None,
    city_totals: str = "parks",
    relatedness: str = "proximity",
    peer_k: int | None = None,
    peers: PeerGroups | None = None,
    clusters: ClusterResult | Any | None = None,
    random_state: int = 0,
    geometry: bool = False,
) -> pd.DataFrame:
    """Rank, for each park, the industry clusters it is missing, and say why.

    A candidate is an industry (at ``level``) in which the park's location quotient is below
    ``threshold`` while at least one park reaches it. Its score is the weighted sum of three
    components, each in 0..1:

    * ``density``: relatedness density (Hidalgo et al. 2007), the proximity-weighted share of
      the industries related to it that the park already has;
    * ``peer_share``: the share of the park's peer group (parks with a similar industry mix,
      :func:`parkgeo.structure.peer_groups`) that has it;
    * ``strategic``: 1 if it is a strategic emerging industry
      (:func:`parkgeo.industry.strategic_category`), else 0.

    Parameters
    ----------
    assigned : pandas.DataFrame
        Enterprises with ``park_id``/``match`` from :func:`parkgeo.join.assign_parks`.
    parks : geopandas.GeoDataFrame
        Park polygons (``park_id``, ``name``).
    level : str, optional
        GB/T 4754 level; default division, or section when the data has only section codes
        (see ``docs/clusters.md``).
    top : int or None
        Rows kept per park (None: all candidates).
    threshold : float
        Location quotient at which a park "has" an industry.
    measure : {"count", "employees", "value_added", "tax"}
        What the location quotients are computed on.
    year : int, optional
        Default the latest year present.
    weights : mapping, optional
        Weights of ``density``, ``peers``, ``strategic`` (default 0.4, 0.4, 0.2); normalised to
        sum to 1. A component left out weighs 0.
    city_totals : {"parks", "city"}
        Reference of the location quotients: all parks together (default) or the whole city,
        firms outside parks included.
    relatedness : {"proximity", "colocation"}
        How industries are related: co-occurrence in parks (Hidalgo et al. 2007, default) or
        co-location of the firms themselves
        (:func:`parkgeo.structure.colocation_proximity`), better with few parks.
    peer_k : int, optional
        Number of peer groups; default chosen by silhouette.
    peers : PeerGroups, optional
        Precomputed peer groups (overrides ``peer_k``).
    clusters : ClusterResult or GeoDataFrame, optional
        City-level clusters for ``nearest_cluster_*``; default
        ``industry_clusters(assigned, level=level, year=year, parks=parks)``.
    random_state : int
        Seed of the peer-group clustering.
    geometry : bool
        Return a GeoDataFrame with each row's park polygon (in the parks' CRS), as
        :func:`parkgeo.results.with_park_geometry` does.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        One row per park and candidate on a RangeIndex, ranked within each park (columns in
        :data:`GAP_COLUMNS`, documented in ``docs/clusters.md``; plus ``geometry`` with
        ``geometry=True``). A park without firms gets a single row with no industry;
        ``no_sei`` flags parks with no firm in a strategic emerging industry.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> sample = load_tianjin()
    >>> assigned = assign_parks(sample.enterprises, sample.parks).assigned
    >>> gaps = missing_clusters(assigned, sample.parks, top=3)
    >>> gaps.loc[gaps["park_id"] == "G121053", "industry"].tolist()
    ['M73', 'C26', 'C28']
    >>> gaps.loc[gaps["park_id"] == "G121053", "peers_with"].iloc[0]
    'S129003,S129012,S129015'
    >>> bool(gaps["score"].between(0, 1).all())
    True
    """
    # check
    w = check_weights(weights, GAP_WEIGHTS)
    total_w = sum(w.values())
    w = {k: v / total_w for k, v in w.items()}
    if top is not None and (isinstance(top, bool) or int(top) < 1):
        raise ParkgeoError(f"top must be a positive integer or None; got {top!r}")
    parks4326 = parks_wgs84(parks)
    level = resolve_level(assigned, level)  # once: every step below runs at the same level
    year = resolve_year(assigned, year)  # parkgeo.default_year: the latest year in the data
    with level_reported():
        table = _missing_clusters(
            assigned,
            parks4326,
            level=level,
            top=top,
            threshold=threshold,
            measure=measure,
            year=year,
            w=w,
            city_totals=city_totals,
            relatedness=relatedness,
            peer_k=peer_k,
            peers=peers,
            clusters=clusters,
            random_state=random_state,
        )
    return with_park_geometry(table, parks) if geometry else table


def _missing_clusters(
    assigned: pd.DataFrame,
    parks4326: Any,
    *,
    level: str,
    top: int | None,
    threshold: float,
    measure: str,
    year: int | None,
    w: dict[str, float],
    city_totals: str,
    relatedness: str,
    peer_k: int | None,
    peers: PeerGroups | None,
    clusters: ClusterResult | Any | None,
    random_state: int,
) -> pd.DataFrame:

    # compute
    st = build_structure(
        assigned,
        parks4326,
        level=level,
        year=year,
        measure=measure,
        threshold=threshold,
        city_totals=city_totals,
        relatedness=relatedness,
    )
    pg = peers if peers is not None else peer_groups(st.matrix, k=peer_k, random_state=random_state)
    groups = pg.groups.reindex(st.matrix.index).fillna(-1).astype(np.int64)
    m = st.presence
    m_arr = m.to_numpy()
    industries = np.asarray(m.columns, dtype=object)
    park_ids = np.asarray(m.index, dtype=object)
    ubiquity = m_arr.sum(axis=0)
    group_arr = groups.to_numpy()
    same = (group_arr[:, None] == group_arr[None, :]) & (group_arr[:, None] >= 0)
    np.fill_diagonal(same, False)
    n_peers = same.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        peer_share = np.where(n_peers[:, None] > 0, (same @ m_arr) / n_peers[:, None], 0.0)
    dens = st.density.to_numpy()
    codes = [str(c) for c in industries]
    sei = strategic_scores(codes)
    strategic = np.array([sei[c][0] for c in codes], dtype=float)
    score = w["density"] * dens + w["peers"] * peer_share + w["strategic"] * strategic[None, :]
    park_firms = st.matrix.sum(axis=1).to_numpy()
    firm_counts = (
        st.matrix
        if measure == "count"
        else park_industry_matrix(assigned, level=level, year=year, parks=parks4326)
    )
    firm_counts = firm_counts.reindex(index=m.index, columns=m.columns, fill_value=0.0)
    sei_firms = _sei_firm_counts(assigned, year=year, level=level)

    records: list[dict[str, Any]] = []
    for p, pid in enumerate(park_ids):
        if park_firms[p] <= 0:
            records.append({"park_id": pid, "_empty": True})
            continue
        cand = np.flatnonzero((m_arr[p] == 0) & (ubiquity > 0))
        order = cand[np.lexsort((industries[cand], -dens[p, cand], -np.round(score[p, cand], 12)))]
        if top is not None:
            order = order[: int(top)]
        for r, i in enumerate(order, start=1):
            records.append({"park_id": pid, "_p": p, "_i": i, "rank": r})

    # assemble
    return _assemble(
        records,
        st=st,
        parks4326=parks4326,
        groups=groups,
        same=same,
        peer_share=peer_share,
        score=score,
        sei=sei,
        firm_counts=firm_counts,
        sei_firms=sei_firms,
        clusters=clusters,
        assigned=assigned,
        level=level,
        year=year,
        threshold=threshold,
        measure=measure,
    )


def _assemble(
    records: list[dict[str, Any]],
    *,
    st: Structure,
    parks4326: Any,
    groups: pd.Series,
    same: np.ndarray,
    peer_share: np.ndarray,
    score: np.ndarray,
    sei: dict[str, Any],
    firm_counts: pd.DataFrame,
    sei_firms: pd.Series,
    clusters: Any,
    assigned: pd.DataFrame,
    level: str,
    year: int | None,
    threshold: float,
    measure: str,
) -> pd.DataFrame:
    m = st.presence
    m_arr = m.to_numpy()
    industries = [str(c) for c in m.columns]
    park_ids = [str(p) for p in m.index]
    phi = st.proximity.to_numpy()
    counts_arr = firm_counts.to_numpy(dtype=float)
    lq_arr = st.lq.to_numpy(dtype=float)
    dens_arr = st.density.to_numpy(dtype=float)
    group_of = {str(k): int(v) for k, v in groups.items()}
    name_of = dict(
        zip(
            parks4326["park_id"].astype(str),
            parks4326["name"].astype(str)
            if "name" in parks4326.columns
            else parks4326["park_id"].astype(str),
            strict=True,
        )
    )
    zh, en = _names(industries)
    pairs = pd.DataFrame(
        {
            "park_id": [r["park_id"] for r in records if "_i" in r],
            "industry": [industries[r["_i"]] for r in records if "_i" in r],
        }
    )
    if clusters is None and len(pairs):
        # every industry, so that the ids match those of a full industry_clusters table
        clusters = industry_clusters(assigned, level=level, year=year, parks=parks4326)
    cl = clusters.clusters if isinstance(clusters, ClusterResult) else clusters
    nearest = _nearest_clusters(parks4326, cl, pairs)
    matrix = st.matrix.to_numpy(dtype=float)
    park_totals = matrix.sum(axis=1)

    rows: list[dict[str, Any]] = []
    k = 0
    for rec in records:
        pid = str(rec["park_id"])
        pname = name_of.get(pid, pid)
        no_sei = bool(sei_firms.get(pid, 0) == 0)  # NaN (unknown) is not "none"
        if "_i" not in rec:
            rows.append(
                {
                    "park_id": pid,
                    "park_name": pname,
                    "year": st.year,
                    "peer_group": group_of.get(pid, -1),
                    "n_peers": 0,
                    "no_sei": no_sei,
                    "reason": f"{pname} has no enterprises in {st.year}: nothing to relate to.",
                    "reason_zh": f"{pname}在{st.year}年没有企业，无法分析。",
                }
            )
            continue
        p, i = rec["_p"], rec["_i"]
        code = industries[i]
        peer_idx = np.flatnonzero(same[p])
        with_idx = peer_idx[m_arr[peer_idx, i] == 1]
        peers_with = [park_ids[q] for q in with_idx]
        near = nearest[k]
        related = [j for j in np.flatnonzero(m_arr[p] == 1) if j != i and phi[i, j] > 0]
        related.sort(key=lambda j: (-round(float(phi[i, j]), 12), industries[j]))
        related = related[:N_RELATED_SHOWN]
        related_txt = "; ".join(f"{industries[j]} ({phi[i, j]:.2f})" for j in related)
        sei_score, cat = sei[code]
        n_firms = float(counts_arr[p, i])
        status = "absent" if n_firms == 0 else "below threshold"
        lq = float(lq_arr[p, i])
        k += 1
        name_en = en.get(code)
        name_zh = zh.get(code)
        park_share = matrix[p, i] / park_totals[p] if park_totals[p] > 0 else float("nan")
        facts = GapFacts(
            park=pname,
            code=code,
            name_en=name_en if isinstance(name_en, str) else None,
            name_zh=name_zh if isinstance(name_zh, str) else None,
            absent=status == "absent",
            n_firms=int(n_firms),
            park_share=park_share,
            all_share=park_share / lq if lq > 0 else float("nan"),
            measure=measure,
            threshold=threshold,
            n_peers=len(peer_idx),
            peers_with=[name_of.get(q, q) for q in peers_with],
            related=[
                (industries[j], _text(en.get(industries[j])), _text(zh.get(industries[j])))
                for j in related
            ],
            category=cat,
            no_sei=no_sei,
            cluster_km=near.km,
            cluster_firms=near.n_firms,
            direction=near.direction,
            around=near.around,
        )
        rows.append(
            {
                "park_id": pid,
                "park_name": pname,
                "year": st.year,
                "rank": rec["rank"],
                "industry": code,
                "industry_name": name_zh,
                "industry_name_en": name_en,
                "score": float(np.round(score[p, i], 12)),
                "density": float(np.round(dens_arr[p, i], 12)),
                "peer_share": float(np.round(peer_share[p, i], 12)),
                "strategic": sei_score,
                "strategic_category": cat,
                "status": status,
                "n_firms": int(n_firms),
                "lq": lq,
                "peer_group": group_of.get(pid, -1),
                "n_peers": len(peer_idx),
                "peers_with": ",".join(peers_with) if peers_with else pd.NA,
                "related_present": related_txt or pd.NA,
                "nearest_cluster_id": near.cluster_id,
                "nearest_cluster_km": near.km,
                "no_sei": no_sei,
                "reason": reason_en(facts),
                "reason_zh": reason_zh(facts),
            }
        )
    out = pd.DataFrame(rows, columns=GAP_COLUMNS)
    out = out.astype(
        {
            "park_id": "string",
            "park_name": "string",
            "year": "Int64",
            "rank": "Int64",
            "industry": "string",
            "industry_name": "string",
            "industry_name_en": "string",
            "score": "float64",
            "density": "float64",
            "peer_share": "float64",
            "strategic": "float64",
            "strategic_category": "string",
            "status": "string",
            "n_firms": "Int64",
            "lq": "float64",
            "peer_group": "Int64",
            "n_peers": "Int64",
            "peers_with": "string",
            "related_present": "string",
            "nearest_cluster_id": "Int64",
            "nearest_cluster_km": "float64",
            "no_sei": "bool",
            "reason": "string",
            "reason_zh": "string",
        }
    )
    result: pd.DataFrame = out.reset_index(drop=True)
    return result


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
