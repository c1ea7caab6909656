"""Class breaks of a choropleth: exact Fisher-Jenks, quantiles, equal intervals or the user's
breaks, with ColorBrewer colours. No folium here: plain arrays, cheap to test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError

__all__ = ["NO_DATA_COLOR", "SCHEMES", "Classes", "classify", "fisher_jenks_bins"]

SCHEMES = ("fisherjenks", "quantiles", "equalinterval", "userdefined")

NO_DATA_COLOR = "#d9d9d9"


FISHER_JENKS_MAX_VALUES = 2000


@dataclass(frozen=True)
class Classes:
    """Class breaks of one measure over the parks.

    Attributes
    ----------
    bins : list of float
        Upper bound of each class (the last is the maximum).
    lower : float
        Lower bound of the first class (the minimum), NaN when there is no value.
    index : numpy.ndarray of int
        Class of each value, ``-1`` where the value is missing.
    counts : list of int
        Number of values in each class.
    colors : list of str
        Fill colour of each class.
    scheme : str
        The scheme used.
    """

    bins: list[float]
    lower: float
    index: NDArray[np.int64]
    counts: list[int]
    colors: list[str]
    scheme: str

    @property
    def k(self) -> int:
        return len(self.bins)

    def color_of(self) -> list[str]:
        """Fill colour of each value (no-data grey where missing)."""
        return [self.colors[i] if i >= 0 else NO_DATA_COLOR for i in self.index]


def fisher_jenks_bins(values: Sequence[float] | NDArray[np.float64], k: int) -> list[float]:
    """Exact Fisher-Jenks natural breaks (minimum within-class sum of squares).

    A dynamic programme over the sorted values with prefix sums, vectorised with numpy. Up to
    :data:`FISHER_JENKS_MAX_VALUES` values it is exact; above, it runs on that many values
    taken at evenly spaced ranks, and the last bin is the maximum.

    Returns
    -------
    list of float
        Upper bound of each class; fewer than ``k`` when there are fewer distinct values.

    Examples
    --------
    >>> fisher_jenks_bins([1, 2, 3, 10, 11, 12, 30, 31], 3)
    [3.0, 12.0, 31.0]
    """
    x = np.sort(np.asarray(values, dtype=float))
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return []
    distinct = np.unique(x)
    if len(distinct) <= k:
        return [float(v) for v in distinct]
    if len(x) > FISHER_JENKS_MAX_VALUES:
        ranks = np.linspace(0, len(x) - 1, FISHER_JENKS_MAX_VALUES).round().astype(np.int64)
        x = x[ranks]
    n = len(x)
    centred = x - x.mean()
    s1 = np.concatenate([[0.0], np.cumsum(centred)])
    s2 = np.concatenate([[0.0], np.cumsum(centred * centred)])

    def ssd(start: NDArray[np.int64], end: int) -> NDArray[np.float64]:
        # within-class sum of squares of x[start..end] (inclusive), for many starts
        count = end + 1 - start
        total = s1[end + 1] - s1[start]
        return np.asarray(s2[end + 1] - s2[start] - total * total / count, dtype=float)

    cost = np.full((k, n), np.inf)
    start_of = np.zeros((k, n), dtype=np.int64)
    all_starts = np.arange(n, dtype=np.int64)
    cost[0] = np.array([ssd(np.array([0]), j)[0] for j in range(n)])
    for m in range(1, k):
        for j in range(m, n):
            starts = all_starts[m : j + 1]
            candidates = cost[m - 1, starts - 1] + ssd(starts, j)
            best = int(np.argmin(candidates))
            cost[m, j] = candidates[best]
            start_of[m, j] = starts[best]
    ends = [n - 1]
    j = n - 1
    for m in range(k - 1, 0, -1):
        j = int(start_of[m, j]) - 1
        ends.append(j)
    bins = [float(x[e]) for e in sorted(ends)]
    bins[-1] = float(distinct[-1])
    return bins


def classify(
    values: Sequence[float] | NDArray[np.float64],
    *,
    scheme: str = "fisherjenks",
    k: int = 5,
    bins: Sequence[float] | None = None,
    palette: str = "YlGnBu",
    reverse: bool = False,
) -> Classes:
    """Class breaks of ``values`` by a mapclassify scheme, with colours from a ColorBrewer ramp.

    Parameters
    ----------
    values : array_like of float
        One value per park; NaN is "no data" (class ``-1``).
    scheme : {"fisherjenks", "quantiles", "equalinterval", "userdefined"}
        Fisher-Jenks natural breaks (exact, see :func:`fisher_jenks_bins`), quantiles or equal
        intervals (mapclassify), or the user's ``bins``.
    k : int
        Number of classes (fewer when there are fewer distinct values).
    bins : sequence of float, optional
        Upper class bounds for ``"userdefined"``; the maximum is added when above the last.
    palette : str
        ColorBrewer sequential ramp name.
    reverse : bool
        Darkest colour for the lowest class.

    Examples
    --------
    >>> c = classify([1, 2, 3, 10, 11, 12, 30, 31, float("nan")], k=3)
    >>> c.bins, c.index.tolist(), c.counts
    ([3.0, 12.0, 31.0], [0, 0, 0, 1, 1, 1, 2, 2, -1], [3, 3, 2])
    >>> classify([5, 15, 25], scheme="userdefined", bins=[10, 20]).bins
    [10.0, 20.0, 25.0]
    """
    if scheme not in SCHEMES:
        raise ParkgeoError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= 9:
        raise ParkgeoError(f"k must be an integer from 2 to 9 classes; got {k!r}")
    if scheme == "userdefined":
        if bins is None or len(bins) == 0:
            raise ParkgeoError("scheme='userdefined' needs bins=[upper bound of each class, ...]")
        user = [float(b) for b in bins]
        if any(not math.isfinite(b) for b in user) or any(
            b2 <= b1 for b1, b2 in zip(user[:-1], user[1:], strict=True)
        ):
            raise ParkgeoError(f"bins must be finite and strictly increasing; got {list(bins)!r}")
    y = np.asarray(values, dtype=float)
    present = np.isfinite(y)
    data = y[present]
    breaks: list[float]
    if len(data) == 0:
        breaks = [float(b) for b in bins] if scheme == "userdefined" and bins is not None else []
    elif scheme == "userdefined":
        assert bins is not None
        breaks = [float(b) for b in bins]
        if data.max() > breaks[-1]:
            breaks.append(float(data.max()))
    elif scheme == "fisherjenks":
        breaks = fisher_jenks_bins(data, int(k))
    else:
        breaks = _mapclassify_bins(data, scheme, int(k))
    index = np.full(len(y), -1, dtype=np.int64)
    if breaks:
        index[present] = np.minimum(
            np.searchsorted(np.asarray(breaks), data, side="left"), len(breaks) - 1
        )
    counts = [int((index == c).sum()) for c in range(len(breaks))]
    colors = _ramp(palette, len(breaks), reverse=reverse)
    lower = float(data.min()) if len(data) else float("nan")
    return Classes(breaks, lower, index, counts, colors, scheme)


def _mapclassify_bins(data: NDArray[np.float64], scheme: str, k: int) -> list[float]:
    # mapclassify's Quantiles and EqualInterval, to the bit (tests/test_maps.py compares them),
    # without importing mapclassify: it imports scikit-learn and scipy.stats (0.7 s)
    distinct = np.unique(data)
    if len(distinct) <= k:
        return [float(v) for v in distinct]
    bins = _quantile_bins(data, k) if scheme == "quantiles" else _equal_interval_bins(data, k)
    out: list[float] = []
    for b in bins:
        if not out or b > out[-1]:
            out.append(float(b))
    return out


def _quantile_bins(data: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Upper bounds at the 100/k, 200/k, ... 100th percentiles, interpolated linearly."""
    ordered = np.sort(data)
    step = 100.0 / k
    percents = np.arange(step, 100 + step, step)
    if percents[-1] > 100.0:
        percents[-1] = 100.0
    scores = []
    for percent in percents:
        position = percent / 100.0 * (len(ordered) - 1)
        low = int(position)
        if low == position:
            scores.append(float(ordered[low]))
        else:
            # weights summed and divided as scipy's scoreatpercentile does, so bounds agree
            weights = np.array([low + 1 - position, position - low])
            pair = ordered[low : low + 2]
            scores.append(float(np.add.reduce(pair * weights) / weights.sum()))
    return np.unique(np.array(scores))


def _equal_interval_bins(data: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Upper bounds of k classes of equal width from the minimum to the maximum."""
    top, bottom = data.max(), data.min()
    width = (top - bottom) * 1.0 / k
    cuts = np.arange(bottom + width, top + width, width)
    if len(cuts) > k:
        cuts = cuts[:k]
    cuts[-1] = top
    return np.asarray(cuts, dtype=np.float64)


def _ramp(palette: str, n: int, *, reverse: bool = False) -> list[str]:
    if n == 0:
        return []
    from branca.utilities import color_brewer

    # ColorBrewer ramps start at 3 colours; for 1-2 classes take the ends of a 3-colour ramp
    full = color_brewer(palette, max(n, 3))
    colors = [full[0], full[-1]] if n == 2 else [full[-1]] if n == 1 else list(full)
    return colors[::-1] if reverse else colors
