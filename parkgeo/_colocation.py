"""Co-location quotients of industries (Leslie and Kronenfeld 2011) and the relatedness derived
from them. Re-exported by :mod:`parkgeo.structure`, where users find them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from parkgeo._analysis import project_firms, snapshot
from parkgeo._errors import ParkgeoError, SchemaError

__all__ = ["colocation_proximity", "colocation_quotients"]

# distances closer than this (metres) count as equal when nearest neighbours tie
TIE_TOLERANCE_M = 1e-6


# --------------------------------------------------------------------------------------------
# co-location quotient
# --------------------------------------------------------------------------------------------


def _neighbour_weights(
    xy: NDArray[np.float64], *, k: int, extra: int = 8
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """(point, neighbour, weight) triples: each point spreads weight 1 over its k nearest others.

    Neighbours strictly closer than the k-th distance get ``1/k`` each; the ``t`` neighbours
    tied at the k-th distance share what remains equally (Leslie and Kronenfeld 2011's rule for
    ties, generalised to k). The result does not depend on the order of the points.
    """
    n = len(xy)
    tree = cKDTree(xy)
    kq = min(n, k + 1 + extra)
    dist, idx = tree.query(xy, k=kq)
    dist = np.asarray(dist, dtype=float).reshape(n, kq)
    idx = np.asarray(idx, dtype=np.int64).reshape(n, kq)
    self_hit = idx == np.arange(n)[:, None]
    dist = np.where(self_hit, np.inf, dist)
    order = np.argsort(dist, axis=1, kind="stable")
    dist = np.take_along_axis(dist, order, axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    d_k = dist[:, k - 1]
    complete = np.full(n, kq == n) | (dist[:, kq - 2] > d_k + TIE_TOLERANCE_M)
    rows_out: list[NDArray[np.int64]] = []
    cols_out: list[NDArray[np.int64]] = []
    w_out: list[NDArray[np.float64]] = []
    c = np.flatnonzero(complete)
    if len(c):
        dc, ic, dkc = dist[c], idx[c], d_k[c][:, None]
        lt = dc < dkc - TIE_TOLERANCE_M
        eq = np.abs(dc - dkc) <= TIE_TOLERANCE_M
        share = (k - lt.sum(axis=1)) / (k * eq.sum(axis=1))
        w = lt / k + eq * share[:, None]
        keep = w > 0
        rows_out.append(np.repeat(c, keep.sum(axis=1)))
        cols_out.append(ic[keep])
        w_out.append(w[keep])
    for i in np.flatnonzero(~complete):
        # many points at the k-th distance (e.g. firms geocoded to one address): take them all
        cand = np.asarray(tree.query_ball_point(xy[i], r=d_k[i] + TIE_TOLERANCE_M), dtype=np.int64)
        cand = cand[cand != i]
        d = np.hypot(*(xy[cand] - xy[i]).T)
        lt = d < d_k[i] - TIE_TOLERANCE_M
        eq = ~lt
        w = np.where(lt, 1.0 / k, (k - lt.sum()) / (k * max(int(eq.sum()), 1)))
        rows_out.append(np.full(len(cand), i, dtype=np.int64))
        cols_out.append(cand)
        w_out.append(w)
    return np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(w_out)


def colocation_quotients(
    enterprises: pd.DataFrame,
    *,
    level: str | None = None,
    k: int = 1,
    year: int | None = None,
) -> pd.DataFrame:
    """Co-location quotients of every ordered pair of industries (Leslie and Kronenfeld 2011).

    ``CLQ(A->B) = (N_{A->B} / N_A) / (N'_B / (N - 1))``: the share of A-firms' nearest
    neighbours that are B-firms, over the share of B-firms among the other firms
    (``N'_B = N_B - 1`` when ``A = B``). ``CLQ > 1``: B-firms are found next to A-firms more
    often than chance. Nearest neighbours are found in a local metric CRS with a k-d tree;
    with ``k > 1`` each firm spreads a weight of 1 over its ``k`` nearest others; ties at the
    k-th distance share their part equally. One location per firm (the chosen year).

    Parameters
    ----------
    enterprises : pandas.DataFrame
        Canonical enterprise table (or a GeoDataFrame of points).
    level : str, optional
        GB/T 4754 level; default division, or section when the data has only section codes
        (see ``docs/clusters.md``).
    k : int
        Number of nearest neighbours.
    year : int, optional
        Default the latest year present.

    Returns
    -------
    pandas.DataFrame
        One row per ordered pair of industries present: ``industry_a``, ``industry_b``,
        ``n_a``, ``n_b``, ``n_a_to_b`` (weighted count), ``clq`` (NaN when ``N'_B = 0``).

    Examples
    --------
    >>> import pandas as pd
    >>> firms = pd.DataFrame({"enterprise_id": list("abcd"), "industry": ["C27", "C39"] * 2,
    ...                       "lon": [117.0, 117.001, 117.1, 117.101], "lat": [39.0] * 4})
    >>> colocation_quotients(firms)[["industry_a", "industry_b", "clq"]]
      industry_a industry_b  clq
    0        C27        C27  0.0
    1        C27        C39  1.5
    2        C39        C27  1.5
    3        C39        C39  0.0
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParkgeoError(f"k must be a positive integer; got {k!r}")
    snap, _ = snapshot(enterprises, year=year, level=level)
    snap, _, xy = project_firms(snap, what="colocation_quotients")
    n = len(snap)
    if n < k + 1:
        raise ParkgeoError(f"co-location quotients need more than k={k} firms; got {n}")
    codes, cat = np.unique(snap["_industry"].astype(str).to_numpy(), return_inverse=True)
    rows, cols, w = _neighbour_weights(xy, k=int(k))
    d = len(codes)
    counts = np.zeros((d, d))
    np.add.at(counts, (cat[rows], cat[cols]), w)
    n_by = np.bincount(cat, minlength=d).astype(float)
    n_b_other = n_by[None, :] - np.eye(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        clq = (counts / n_by[:, None]) / (n_b_other / (n - 1))
    clq[~np.isfinite(clq)] = np.nan
    a, b = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
    result: pd.DataFrame = pd.DataFrame(
        {
            "industry_a": pd.array(codes[a.ravel()], dtype="string"),
            "industry_b": pd.array(codes[b.ravel()], dtype="string"),
            "n_a": n_by[a.ravel()].astype(np.int64),
            "n_b": n_by[b.ravel()].astype(np.int64),
            "n_a_to_b": np.round(counts.ravel(), 12),
            "clq": np.round(clq.ravel(), 12),
        }
    )
    return result


def colocation_proximity(clq: pd.DataFrame) -> pd.DataFrame:
    """Industry relatedness from co-location quotients, on the scale of :func:`proximity`.

    ``phi[i,j] = max(0, 1 - 1/r)`` with ``r = min(CLQ(i->j), CLQ(j->i))``: 0 when the two
    industries are not found next to each other more often than chance in both directions,
    0.5 when both quotients are at least 2, approaching 1 as they grow. Taking the smaller
    quotient mirrors the minimum of conditional probabilities in :func:`proximity`. Use it in
    :func:`relatedness_density` when there are too few parks for co-occurrence to say much.

    Parameters
    ----------
    clq : pandas.DataFrame
        Output of :func:`colocation_quotients`.

    Returns
    -------
    pandas.DataFrame
        Symmetric industry x industry matrix, diagonal 1.

    Examples
    --------
    >>> import pandas as pd
    >>> clq = pd.DataFrame({"industry_a": ["A", "A", "B", "B"], "industry_b": ["A", "B", "A", "B"],
    ...                     "clq": [3.0, 2.0, 4.0, 0.5]})
    >>> colocation_proximity(clq)
         A    B
    A  1.0  0.5
    B  0.5  1.0
    """
    missing = {"industry_a", "industry_b", "clq"} - set(clq.columns)
    if missing:
        raise SchemaError(
            f"co-location table lacks {', '.join(sorted(missing))}; pass colocation_quotients(...)"
        )
    wide = clq.pivot_table(index="industry_a", columns="industry_b", values="clq", aggfunc="first")
    codes = sorted(set(wide.index) | set(wide.columns))
    r = wide.reindex(index=codes, columns=codes).to_numpy(dtype=float)
    r = np.fmin(r, r.T)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(np.isfinite(r) & (r > 1), 1.0 - 1.0 / r, 0.0)
    np.fill_diagonal(phi, 1.0)
    index = pd.Index(codes, name=None)
    result: pd.DataFrame = pd.DataFrame(phi, index=index, columns=index.copy())
    return result
