"""The precision of the data: the decimals its values are written with.

The sum of numbers written with k decimals has k decimals; rounding the density sums to the
data's decimals removes only the float noise of adding (``117556.96999999997``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["MAX_DECIMALS", "decimals_of", "round_to_data"]


MAX_DECIMALS = 6
"""Values needing more decimals than this (1/3, computed floats) are never rounded."""


def decimals_of(values: NDArray[np.float64]) -> int | None:
    """The fewest decimals (0..:data:`MAX_DECIMALS`) that write every finite value exactly,
    None when no finite value or more are needed. Sums of such values are rounded to as many
    decimals on output: the float noise of adding (``117556.96999999997``) goes, nothing else.

    A sample proposes the count, one pass over all values confirms it.

    Examples
    --------
    >>> decimals_of(np.array([1.5, 2.25, np.nan])), decimals_of(np.array([3.0, 4.0]))
    (2, 0)
    >>> decimals_of(np.array([1 / 3])) is None
    True
    """
    values = np.asarray(values, dtype=np.float64)
    sample = values[:: max(1, len(values) // 10_000)]
    sample = sample[np.isfinite(sample)]
    if len(sample) == 0:
        sample = values[np.isfinite(values)][:10_000]
        if len(sample) == 0:
            return None
    k = _decimals_among(sample, 0)
    while k is not None:
        inexact = _inexact(values, k)
        if not inexact.any():
            return k
        values = values[inexact]
        k = _decimals_among(values, k + 1)
    return None


def _inexact(values: NDArray[np.float64], k: int) -> NDArray[np.bool_]:
    """Values that ``k`` decimals do not write exactly (NaN and inf count as exact)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * float(10**k)
        diff = np.rint(scaled)
        diff -= scaled
        np.abs(diff, out=diff)
        np.abs(scaled, out=scaled)
        np.maximum(scaled, 1.0, out=scaled)
        scaled *= 1e-9
        result: NDArray[np.bool_] = diff > scaled
    return result


def _decimals_among(values: NDArray[np.float64], start: int) -> int | None:
    rest = values
    for k in range(start, MAX_DECIMALS + 1):
        rest = rest[_inexact(rest, k)]
        if len(rest) == 0:
            return k
    return None


def round_to_data(table: pd.DataFrame, decimals: dict[str, int]) -> pd.DataFrame:
    """``table`` with each column named in ``decimals`` rounded to that many decimals (sums of
    measures: the precision of the data they add up). A new frame; the input is untouched."""
    present = {c: k for c, k in decimals.items() if c in table.columns}
    if not present:
        return table
    result: pd.DataFrame = table.assign(
        **{c: np.round(table[c].to_numpy(dtype=np.float64), k) for c, k in present.items()}
    )
    result.attrs = dict(table.attrs)
    return result
