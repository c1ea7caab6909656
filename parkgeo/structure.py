"""Park specialisation and industry relatedness.

* :func:`park_industry_matrix`: park x industry table of firm counts, employees or value added.
* :func:`location_quotients` and :func:`presence`: revealed comparative advantage,
  ``LQ[p,i] = (x[p,i]/x[p,.]) / (x[.,i]/x[.,.])``, and ``M[p,i] = LQ >= threshold``.
* :func:`proximity`: co-occurrence relatedness of Hidalgo et al. (2007),
  ``phi[i,j] = sum_p M[p,i] M[p,j] / max(u_i, u_j)``.
* :func:`colocation_quotients`: point-level co-location quotient of Leslie and Kronenfeld (2011).
* :func:`relatedness_density`: ``w[p,i] = sum_{j!=i} M[p,j] phi[i,j] / sum_{j!=i} phi[i,j]``.
* :func:`peer_groups`: parks clustered by industry mix, the number of groups chosen by silhouette.

Formulas, conventions and citations: ``docs/clusters.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._analysis import in_park_ids, snapshot
from parkgeo._colocation import colocation_proximity, colocation_quotients
from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._kmeans import kmeans_labels, silhouette

__all__ = [
    "PeerGroups",
    "colocation_proximity",
    "colocation_quotients",
    "industry_totals",
    "location_quotients",
    "park_industry_matrix",
    "peer_groups",
    "presence",
    "proximity",
    "relatedness_density",
]

MATRIX_MEASURES = ("count", "employees", "value_added", "tax")


def _measure_values(frame: pd.DataFrame, measure: str) -> pd.Series:
    if measure not in MATRIX_MEASURES:
        raise ParkgeoError(f"measure must be one of {', '.join(MATRIX_MEASURES)}; got {measure!r}")
    if measure == "count":
        result: pd.Series = pd.Series(1.0, index=frame.index)
        return result
    if measure not in frame.columns:
        raise SchemaError(f"measure {measure!r} needs a {measure!r} column in the enterprises")
    return pd.to_numeric(frame[measure], errors="coerce").astype(float)


def _park_index(parks: Any) -> list[str] | None:
    if parks is None:
        return None
    if isinstance(parks, pd.DataFrame):
        if "park_id" not in parks.columns:
            raise SchemaError("parks lack the 'park_id' column")
        return sorted(parks["park_id"].astype(str).unique())
    return sorted({str(p) for p in parks})


def park_industry_matrix(
    assigned: pd.DataFrame,
    *,
    measure: str = "count",
    level: str | None = None,
    year: int | None = None,
    parks: Any | None = None,
) -> pd.DataFrame:
    """Park x industry table of a measure, for one year.

    Parameters
    ----------
    assigned : pandas.DataFrame
        Enterprises with the ``park_id`` and ``match`` columns of
        :func:`parkgeo.join.assign_parks`. Firms outside parks (``unmatched``) are left out.
    measure : {"count", "employees", "value_added", "tax"}
        Number of firms, or the sum of the measure (NaN skipped).
    level : str, optional
        GB/T 4754 level; default division, or section when the data has only section codes
        (see ``docs/clusters.md``).
    year : int, optional
        Default the latest year present.
    parks : GeoDataFrame or iterable of park ids, optional
        Parks to include as rows even without firms (all zero).

    Returns
    -------
    pandas.DataFrame
        Index ``park_id`` (sorted), columns the industry codes (sorted), float64.

    Examples
    --------
    >>> import pandas as pd
    >>> firms = pd.DataFrame({"enterprise_id": ["a", "b", "c"], "industry": ["C27", "C2710", "C39"],
    ...                       "lon": [117.0] * 3, "lat": [39.0] * 3, "year": [2015] * 3,
    ...                       "park_id": ["P1", "P1", "P2"], "match": ["inside"] * 3})
    >>> park_industry_matrix(firms)
    industry  C27  C39
    park_id
    P1        2.0  0.0
    P2        0.0  1.0
    """
    if "park_id" not in assigned.columns:
        raise SchemaError(
            "the enterprises have no 'park_id' column: assign them to parks first with "
            "parkgeo.join.assign_parks(enterprises, parks).assigned"
        )
    wanted = _park_index(parks)
    snap, _ = snapshot(assigned, year=year, level=level)
    park_of = in_park_ids(snap, None)
    values = _measure_values(snap, measure)
    inside = park_of.notna().to_numpy()
    table = pd.DataFrame(
        {
            "park_id": park_of[inside].astype(str).to_numpy(),
            "industry": snap["_industry"][inside].astype(str).to_numpy(),
            "value": values[inside].to_numpy(),
        }
    )
    matrix = table.pivot_table(
        index="park_id", columns="industry", values="value", aggfunc="sum", fill_value=0.0
    )
    if wanted is not None:
        matrix = matrix.reindex(sorted(set(wanted) | set(matrix.index)), fill_value=0.0)
    matrix = matrix.sort_index().sort_index(axis=1).astype(float)
    matrix.index.name = "park_id"
    matrix.columns.name = "industry"
    result: pd.DataFrame = matrix
    return result


def industry_totals(
    enterprises: pd.DataFrame,
    *,
    measure: str = "count",
    level: str | None = None,
    year: int | None = None,
) -> pd.Series:
    """City totals of a measure by industry, over every firm (inside and outside parks).

    Pass the result as ``city_totals`` to :func:`location_quotients` to measure park
    specialisation against the whole city rather than against all parks together.

    Examples
    --------
    >>> import pandas as pd
    >>> firms = pd.DataFrame({"enterprise_id": ["a", "b", "c"], "industry": ["C27", "C27", "C39"],
    ...                       "lon": [117.0] * 3, "lat": [39.0] * 3, "year": [2015] * 3})
    >>> industry_totals(firms).to_dict()
    {'C27': 2.0, 'C39': 1.0}
    """
    snap, _ = snapshot(enterprises, year=year, level=level)
    values = _measure_values(snap, measure)
    totals = values.groupby(snap["_industry"].astype(str).to_numpy()).sum().astype(float)
    totals.index.name = "industry"
    return totals.sort_index()


def location_quotients(
    matrix: pd.DataFrame, *, city_totals: pd.Series | None = None
) -> pd.DataFrame:
    """Location quotients (Balassa's revealed comparative advantage) of each park and industry.

    ``LQ[p,i] = (x[p,i] / x[p,.]) / (x[.,i] / x[.,.])``. By default the reference ``x[.,i]`` and
    ``x[.,.]`` are the matrix's own totals, i.e. all parks together; with ``city_totals`` (from
    :func:`industry_totals`) they are the city's, firms outside parks included. A park with no
    firms, or an industry with no city total, gets NaN.

    Parameters
    ----------
    matrix : pandas.DataFrame
        From :func:`park_industry_matrix` (non-negative).
    city_totals : pandas.Series, optional
        Totals by industry code over the reference area; its sum is ``x[.,.]``.

    Returns
    -------
    pandas.DataFrame
        Same shape and labels as ``matrix``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"A": [2.0, 0.0], "B": [2.0, 4.0]}, index=["P1", "P2"])
    >>> location_quotients(m).round(3)
         A      B
    P1  2.0  0.667
    P2  0.0  1.333
    """
    x = matrix.to_numpy(dtype=float)
    if x.size and (np.nan_to_num(x) < 0).any():
        r, c = np.argwhere(np.nan_to_num(x) < 0)[0]
        raise ParkgeoError(
            f"location quotients need non-negative values; park {matrix.index[r]!r}, industry "
            f"{matrix.columns[c]!r} sums to {x[r, c]:g} (use measure='count' or 'employees')"
        )
    x = np.nan_to_num(x)
    row = x.sum(axis=1)
    if city_totals is None:
        col = x.sum(axis=0)
        grand = x.sum()
    else:
        totals = pd.Series(city_totals, dtype=float)
        col = totals.reindex(matrix.columns).fillna(0.0).to_numpy(dtype=float)
        grand = float(totals.sum())
        if (col < x.sum(axis=0) - 1e-9 * np.maximum(col, 1)).any():
            raise ParkgeoError(
                "city_totals are smaller than the parks' own totals for some industry; pass "
                "totals over a reference area that contains the parks (industry_totals)"
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        share_park = x / row[:, None]
        share_city = col / grand if grand > 0 else np.full_like(col, np.nan)
        lq = share_park / share_city[None, :]
    lq[~np.isfinite(lq)] = np.nan
    lq[(row > 0)[:, None] & (share_city > 0)[None, :] & (x == 0)] = 0.0
    result: pd.DataFrame = pd.DataFrame(
        lq, index=matrix.index.copy(), columns=matrix.columns.copy()
    )
    return result


def presence(lq: pd.DataFrame, *, threshold: float = 1.0) -> pd.DataFrame:
    """Presence matrix ``M[p,i] = 1 if LQ[p,i] >= threshold else 0`` (NaN counts as absent).

    Examples
    --------
    >>> import pandas as pd
    >>> presence(pd.DataFrame({"A": [2.0, 0.5], "B": [0.9, float("nan")]}))
       A  B
    0  1  0
    1  0  0
    """
    values = lq.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        m = np.where(np.isfinite(values) & (values >= threshold), 1, 0).astype(np.int64)
    result: pd.DataFrame = pd.DataFrame(m, index=lq.index.copy(), columns=lq.columns.copy())
    return result


def proximity(presence: pd.DataFrame) -> pd.DataFrame:
    """Co-occurrence proximity of industries (Hidalgo, Klinger, Barabasi, Hausmann 2007).

    ``phi[i,j] = sum_p M[p,i] M[p,j] / max(u_i, u_j)`` with ubiquity ``u_i = sum_p M[p,i]``:
    the smaller of the two conditional probabilities ``P(i | j)`` and ``P(j | i)``. The
    diagonal is 1 for an industry present somewhere; an industry present nowhere has
    proximity 0 to everything.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"A": [1, 1, 0], "B": [1, 0, 0], "C": [0, 1, 1]})
    >>> proximity(m)
         A    B    C
    A  1.0  0.5  0.5
    B  0.5  1.0  0.0
    C  0.5  0.0  1.0
    """
    m = presence.to_numpy(dtype=float)
    co = m.T @ m
    ubiquity = np.diag(co).copy()
    denom = np.maximum(ubiquity[:, None], ubiquity[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, co / denom, 0.0)
    result: pd.DataFrame = pd.DataFrame(
        phi, index=presence.columns.copy(), columns=presence.columns.copy()
    )
    return result


def relatedness_density(presence: pd.DataFrame, proximity: pd.DataFrame) -> pd.DataFrame:
    """Relatedness density of each industry in each park (Hidalgo et al. 2007).

    ``w[p,i] = sum_{j != i} M[p,j] phi[i,j] / sum_{j != i} phi[i,j]``: the share of the
    industries related to ``i`` (weighted by proximity) that the park already has. The
    industry's own presence is left out, so the density of an industry a park already has is
    comparable with one it lacks. An industry related to nothing has density 0.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"A": [1, 1, 0], "B": [1, 0, 0], "C": [0, 1, 1]})
    >>> relatedness_density(m, proximity(m))
         A    B    C
    0  0.5  1.0  1.0
    1  0.5  1.0  1.0
    2  0.5  0.0  0.0
    """
    industries = list(presence.columns)
    missing = [i for i in industries if i not in proximity.index or i not in proximity.columns]
    if missing:
        raise ParkgeoError(
            f"proximity lacks the industries {', '.join(map(str, missing[:5]))}; compute it "
            "from the same presence matrix"
        )
    phi = proximity.loc[industries, industries].to_numpy(dtype=float).copy()
    np.fill_diagonal(phi, 0.0)
    m = presence.to_numpy(dtype=float)
    num = m @ phi
    den = phi.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(den[None, :] > 0, num / den[None, :], 0.0)
    result: pd.DataFrame = pd.DataFrame(
        w, index=presence.index.copy(), columns=presence.columns.copy()
    )
    return result


# --------------------------------------------------------------------------------------------
# peer groups
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerGroups:
    """Parks grouped by industry mix.

    Attributes
    ----------
    groups : pandas.Series
        Group number per park (index ``park_id``); ``-1`` for a park with no firms. Groups are
        numbered in the order of their first park id.
    silhouette : pandas.DataFrame
        ``k``, ``silhouette`` (mean silhouette, Hellinger distance), ``min_group_size`` (parks
        in its smallest group), ``eligible`` and ``chosen``.
    k : int
        Number of groups chosen.
    criterion : str
        How ``k`` was chosen, in words.
    """

    groups: pd.Series
    silhouette: pd.DataFrame
    k: int
    criterion: str

    def peers(self, park_id: str) -> list[str]:
        """The other parks in ``park_id``'s group (sorted)."""
        g = self.groups.get(park_id, -1)
        if g < 0:
            return []
        return sorted(str(p) for p in self.groups.index[self.groups == g] if p != park_id)


def peer_groups(
    matrix_or_shares: pd.DataFrame,
    *,
    k: int | None = None,
    k_range: Iterable[int] | None = None,
    method: str = "kmeans",
    min_group_size: int = 2,
    random_state: int = 0,
) -> PeerGroups:
    """Group parks by industry mix, choosing the number of groups by silhouette.

    Rows are turned into shares (each row sums to 1) and compared with the Hellinger distance
    (Euclidean distance between square roots of shares), which suits compositions: a park's
    size does not matter, only its mix. Groups come from k-means (``n_init=10``: the labels
    of scikit-learn's ``KMeans`` with the same seed, computed without importing it) or
    scikit-learn's Ward ``AgglomerativeClustering``; unless ``k`` is given, the ``k`` in
    ``k_range`` with the highest mean silhouette wins (the smallest such ``k`` on a tie).

    Parameters
    ----------
    matrix_or_shares : pandas.DataFrame
        Park x industry values (from :func:`park_industry_matrix`) or shares.
    k : int, optional
        Number of groups; default chosen by silhouette.
    k_range : iterable of int, optional
        Candidate numbers of groups (capped at the number of distinct mixes minus 1). Default
        3 (2 under 9 parks) to ``min(10, n_parks // 3)``: a peer group has to single out "parks like yours", so
        at least three groups of three or more parks on average (silhouette alone tends to
        favour two large groups).
    method : {"kmeans", "agglomerative"}
    min_group_size : int
        A ``k`` whose smallest group has fewer parks is not eligible (default 2: every park has
        at least one peer), unless no ``k`` is.
    random_state : int
        Seed of KMeans.

    Returns
    -------
    PeerGroups

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"A": [9, 8, 1, 0], "B": [1, 2, 9, 10]}, index=["P1", "P2", "P3", "P4"])
    >>> pg = peer_groups(m)
    >>> pg.groups.to_dict(), pg.k
    ({'P1': 0, 'P2': 0, 'P3': 1, 'P4': 1}, 2)
    >>> pg.peers("P3")
    ['P4']
    """
    if method not in ("kmeans", "agglomerative"):
        raise ParkgeoError(f"method must be 'kmeans' or 'agglomerative'; got {method!r}")
    frame = matrix_or_shares.sort_index()
    x = np.nan_to_num(frame.to_numpy(dtype=float))
    if (x < 0).any():
        raise ParkgeoError("peer groups need non-negative values (counts, employees or shares)")
    totals = x.sum(axis=1)
    active = totals > 0
    groups = pd.Series(-1, index=frame.index.copy(), dtype=np.int64, name="peer_group")
    groups.index.name = frame.index.name
    feats = np.sqrt(x[active] / totals[active, None]) if active.any() else np.empty((0, 0))
    n_distinct = len(np.unique(np.round(feats, 12), axis=0)) if len(feats) else 0
    table = pd.DataFrame(
        {
            "k": pd.Series(dtype=np.int64),
            "silhouette": pd.Series(dtype=float),
            "min_group_size": pd.Series(dtype=np.int64),
            "eligible": pd.Series(dtype=bool),
            "chosen": pd.Series(dtype=bool),
        }
    )
    if n_distinct < 3:
        groups[active] = 0
        chosen = 1 if active.any() else 0
        criterion = f"{n_distinct} distinct industry mix(es): one group, no silhouette"
        return PeerGroups(groups, table, chosen, criterion)
    if k is not None:
        if not 1 <= int(k) <= n_distinct:
            raise ParkgeoError(f"k must be between 1 and {n_distinct} (distinct mixes); got {k}")
        candidates = [int(k)]
    else:
        if k_range is None:
            # a peer group must single out "parks like yours": at least 3 groups, and groups of
            # 3 parks or more on average
            k_min = 3 if len(feats) >= 9 else 2
            k_range = range(k_min, max(k_min, min(10, len(feats) // 3)) + 1)
        candidates = sorted({int(c) for c in k_range if 2 <= int(c) <= n_distinct - 1})
        if not candidates:
            candidates = [min(2, n_distinct - 1)]
    fits: dict[int, NDArray[np.int64]] = {}
    scores: list[float] = []
    smallest: list[int] = []
    for kk in candidates:
        labels = _fit_groups(feats, kk, method=method, random_state=random_state)
        fits[kk] = labels
        ok = 2 <= len(np.unique(labels)) <= len(feats) - 1
        scores.append(silhouette(feats, labels) if ok else float("nan"))
        smallest.append(int(np.bincount(labels).min()))
    score_arr = np.array(scores)
    eligible = np.array(smallest) >= min_group_size
    if not eligible.any():
        eligible[:] = True
    if k is not None:
        best = int(k)
        criterion = f"k={best} given by the caller"
    else:
        rounded = np.round(np.nan_to_num(score_arr, nan=-2.0), 12)
        rounded[~eligible] = -3.0
        best = candidates[int(np.argmax(rounded))]
        criterion = (
            f"k={best} of {candidates[0]}..{candidates[-1]}: highest mean silhouette "
            f"({score_arr[candidates.index(best)]:.3f}, Hellinger distance on industry shares, "
            f"{method}) among k whose groups all have at least {min_group_size} parks"
        )
    labels = fits[best]
    # renumber groups in the order of their first park id, so numbers do not depend on the fit
    first_pos = {g: np.flatnonzero(labels == g)[0] for g in np.unique(labels)}
    renum = {g: r for r, g in enumerate(sorted(first_pos, key=first_pos.__getitem__))}
    groups[active] = np.array([renum[g] for g in labels], dtype=np.int64)
    table = pd.DataFrame(
        {
            "k": np.array(candidates, dtype=np.int64),
            "silhouette": score_arr,
            "min_group_size": np.array(smallest, dtype=np.int64),
            "eligible": eligible,
            "chosen": np.array(candidates) == best,
        }
    )
    return PeerGroups(groups, table, best, criterion)


def _fit_groups(
    feats: NDArray[np.float64], k: int, *, method: str, random_state: int
) -> NDArray[np.int64]:
    if k == 1:
        return np.zeros(len(feats), dtype=np.int64)
    if method == "kmeans":
        # scikit-learn's KMeans, draw for draw, without its 0.7 s import (parkgeo._kmeans)
        return kmeans_labels(feats, k, n_init=10, random_state=random_state)
    from sklearn.cluster import AgglomerativeClustering

    agg = AgglomerativeClustering(n_clusters=k, linkage="ward")
    return np.asarray(agg.fit_predict(feats), dtype=np.int64)
