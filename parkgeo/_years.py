"""The one rule for the year a command or map shows when none is chosen: the latest year in
the data.

Maps, the report and ``parkgeo demo`` call :func:`default_year`, and every title states the
year, so a planner never has to guess which year a figure is for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError

__all__ = ["default_year", "years_of"]


def years_of(data: Any) -> list[int]:
    """Sorted distinct years of a table with a ``year`` column (or of ``.clusters``/``.data``).

    Examples
    --------
    >>> years_of(pd.DataFrame({"year": [2014, 2013, 2014, None]}))
    [2013, 2014]
    """
    frame = data
    for attr in ("data", "clusters"):
        inner = getattr(frame, attr, None)
        if isinstance(inner, pd.DataFrame):
            frame = inner
            break
    if not isinstance(frame, pd.DataFrame) or "year" not in frame.columns:
        return []
    values = pd.to_numeric(frame["year"], errors="coerce").to_numpy(dtype=float)
    return [int(y) for y in np.unique(values[np.isfinite(values)])]


def default_year(data: Any, requested: int | None = None) -> int:
    """``requested`` when given (checked against the data), else the latest year in ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        Enterprises, a density table, or anything with a ``year`` column.
    requested : int, optional
        The user's year; an error names the years present when it is not among them.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> default_year(load_tianjin().enterprises)
    2016
    """
    years = years_of(data)
    if not years:
        raise ParkgeoError("the data have no year column with values: no year to show")
    if requested is None:
        return years[-1]
    if int(requested) not in years:
        raise ParkgeoError(
            f"year {requested} is not in the data; choose one of {', '.join(map(str, years))}"
        )
    return int(requested)
