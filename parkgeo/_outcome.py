"""One outcome per enterprise for :func:`parkgeo.join.assign_parks`: resolving points in several
parks, the nearest park of the rest, and the joined table and its match summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError
from parkgeo._membership import Members, boundaries_cached

__all__ = [
    "AMBIGUOUS",
    "BOUNDARY",
    "INSIDE",
    "MATCH_KINDS",
    "NEAR",
    "UNMATCHED",
    "Outcome",
    "assemble",
    "nearest_for_outside",
    "overlap_error",
    "resolve",
    "summary_of",
]

MATCH_KINDS: tuple[str, ...] = ("inside", "boundary", "near", "ambiguous", "unmatched")
"""Values of the ``match`` column, in the order summaries list them."""

INSIDE, BOUNDARY, NEAR, AMBIGUOUS, UNMATCHED = range(5)
ERROR_LIST_LIMIT = 10


@dataclass(frozen=True)
class Outcome:
    match: NDArray[np.uint8]
    park: NDArray[np.int32]
    multi_rows: NDArray[np.int64]
    multi_candidates: NDArray[np.int32]  # (n_multi, max_members), -1 padded, winner first


def resolve(members: Members, n: int, rank: NDArray[np.int64]) -> Outcome:
    match = np.full(n, UNMATCHED, dtype=np.uint8)
    park = np.full(n, -1, dtype=np.int32)
    count = np.bincount(members.row, minlength=n)
    single = count[members.row] == 1
    rows1 = members.row[single]
    park[rows1] = members.park[single]
    match[rows1] = np.where(members.interior[single], INSIDE, BOUNDARY)

    multi = ~single
    if not multi.any():
        return Outcome(match, park, np.empty(0, np.int64), np.empty((0, 0), np.int32))
    m_rows = members.row[multi]
    m_parks = members.park[multi]
    order = np.lexsort((rank[m_parks], m_rows))
    m_rows, m_parks = m_rows[order], m_parks[order]
    first = np.r_[True, m_rows[1:] != m_rows[:-1]]
    multi_rows = m_rows[first]
    park[multi_rows] = m_parks[first]
    match[multi_rows] = AMBIGUOUS
    starts = np.flatnonzero(first)
    position = np.arange(len(m_rows)) - np.repeat(starts, np.diff(np.r_[starts, len(m_rows)]))
    width = int(position.max()) + 1
    candidates = np.full((len(multi_rows), width), -1, dtype=np.int32)
    group = np.cumsum(first) - 1
    candidates[group, position] = m_parks
    return Outcome(match, park, multi_rows, candidates)


def overlap_error(
    enterprises: pd.DataFrame, outcome: Outcome, park_ids: NDArray[np.object_]
) -> ParkgeoError:
    n = len(outcome.multi_rows)
    labels = (
        enterprises["enterprise_id"].to_numpy()
        if "enterprise_id" in enterprises.columns
        else enterprises.index.to_numpy()
    )
    lines = []
    for i in range(min(n, ERROR_LIST_LIMIT)):
        ids = [str(park_ids[p]) for p in outcome.multi_candidates[i] if p >= 0]
        lines.append(f"{labels[outcome.multi_rows[i]]} in {' and '.join(sorted(ids))}")
    more = f" (and {n - ERROR_LIST_LIMIT} more)" if n > ERROR_LIST_LIMIT else ""
    return ParkgeoError(
        f"{n} enterprises lie in several overlapping parks (or on a shared edge): "
        f"{'; '.join(lines)}{more}; fix the park boundaries, or choose a rule with "
        "overlap='smallest' or overlap='priority' (--overlap on the command line)"
    )


def nearest_for_outside(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    park: NDArray[np.int32],
    park_geoms: NDArray[np.object_],
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Geodesic distance (m) to, and index of, the nearest park for rows in no park."""
    n = len(lon)
    distance = np.full(n, np.nan, dtype=np.float64)
    nearest = np.full(n, -1, dtype=np.int32)
    outside = np.flatnonzero((park < 0) & np.isfinite(lon) & np.isfinite(lat))
    if outside.size == 0:
        return distance, nearest
    # Enterprise-year rows repeat locations: search once per distinct location.
    codes, uniques = pd.factorize(lon[outside] + 1j * lat[outside])
    ulon, ulat = np.real(uniques).copy(), np.imag(uniques).copy()
    boundaries = boundaries_cached(shapely.to_wkb(park_geoms), park_geoms)
    owner, dist = boundaries.nearest(ulon, ulat)
    distance[outside] = dist[codes]
    nearest[outside] = owner[codes]
    return distance, nearest


# --------------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------------


def assemble(
    enterprises: pd.DataFrame,
    park_ids: NDArray[np.object_],
    park: NDArray[np.int32],
    match: NDArray[np.uint8],
    distance_m: NDArray[np.float64],
    nearest: NDArray[np.int32],
    outcome: Outcome,
) -> pd.DataFrame:
    categories = pd.Index(park_ids.astype(str), dtype="str")
    combo_codes = np.full(len(match), -1, dtype=np.int32)
    combo_labels: list[str] = []
    if len(outcome.multi_rows):
        combos, inverse = np.unique(outcome.multi_candidates, axis=0, return_inverse=True)
        combo_labels = [";".join(str(park_ids[p]) for p in row if p >= 0) for row in combos]
        combo_codes[outcome.multi_rows] = inverse.ravel()
    out = enterprises.copy(deep=False)
    out["park_id"] = pd.Categorical.from_codes(park, categories=categories)
    out["match"] = pd.Categorical.from_codes(
        match.astype(np.int8), categories=pd.Index(MATCH_KINDS, dtype="str")
    )
    out["distance_m"] = distance_m
    out["nearest_park_id"] = pd.Categorical.from_codes(nearest, categories=categories)
    labels = pd.Index(combo_labels, dtype="str")
    if labels.has_duplicates:  # the same parks in another order cannot happen; be safe anyway
        raise AssertionError("duplicate candidate combinations")
    out["candidates"] = pd.Categorical.from_codes(combo_codes, categories=labels)
    return cast(pd.DataFrame, out)


def summary_of(assigned: pd.DataFrame) -> pd.DataFrame:
    codes = assigned["match"].cat.codes.to_numpy()
    summary = pd.DataFrame(
        {
            "match": pd.Series(MATCH_KINDS, dtype="str"),
            "n": np.bincount(codes, minlength=len(MATCH_KINDS)).astype(np.int64),
        }
    )
    if "year" in assigned.columns:
        years = assigned["year"]
        values = years.to_numpy()
        if values.dtype.kind in "iu" and len(values):
            # Whole-number years (validated tables): one bincount instead of a mask per year.
            first = int(values.min())
            span = int(values.max()) - first + 1
            if span <= 10_000:
                kinds = len(MATCH_KINDS)
                counts = np.bincount(
                    (values - first).astype(np.int64) * kinds + codes, minlength=span * kinds
                ).reshape(span, kinds)
                for k in np.flatnonzero(counts.sum(axis=1)):
                    summary[str(first + int(k))] = counts[k].astype(np.int64)
                return cast(pd.DataFrame, summary)
        for year in sorted(years.dropna().unique()):
            in_year = (years == year).to_numpy()
            summary[str(_plain(year))] = np.bincount(
                codes[in_year], minlength=len(MATCH_KINDS)
            ).astype(np.int64)
        if years.isna().any():
            summary["year_missing"] = np.bincount(
                codes[years.isna().to_numpy()], minlength=len(MATCH_KINDS)
            ).astype(np.int64)
    return cast(pd.DataFrame, summary)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
