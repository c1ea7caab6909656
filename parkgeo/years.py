"""The one rule for the year an analysis, a map or a report shows when none is asked for.

**Rule: the latest year present in the data** (the largest valid value of the ``year``
column). Every command (``clusters``, ``gaps``, ``site``, ``map``, ``report``, ``demo``) and
every function that takes ``year=None`` uses :func:`default_year`, and says which year it used
(log line, map title, ``year`` column). A planner asking "where do we stand?" means the latest
data; an earlier year is always one ``--year`` away.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError, SchemaError

__all__ = ["available_years", "default_year", "resolve_year"]


def _year_values(data: Any) -> pd.Series | None:
    if isinstance(data, pd.DataFrame):
        if "year" not in data.columns:
            return None
        return pd.to_numeric(data["year"], errors="coerce")
    if isinstance(data, pd.Series):
        return pd.to_numeric(data, errors="coerce")
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        result: pd.Series | None = pd.to_numeric(
            pd.Series(list(data), dtype=object), errors="coerce"
        )
        return result
    raise ParkgeoError(
        f"expected a table with a 'year' column or a list of years; got {type(data).__name__}"
    )


def available_years(data: Any) -> list[int]:
    """Sorted distinct whole years of ``data`` (a table's ``year`` column, or years).

    Examples
    --------
    >>> available_years([2016, 2013, 2016, None])
    [2013, 2016]
    """
    values = _year_values(data)
    if values is None:
        return []
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    arr = arr[np.isfinite(arr) & (arr == np.round(arr))]
    return [int(y) for y in np.unique(arr)]


def default_year(data: Any) -> int | None:
    """The year shown when none is given: the latest year present in ``data``.

    Parameters
    ----------
    data : pandas.DataFrame, pandas.Series or iterable
        Enterprises (or any table with a ``year`` column, e.g. the density table of
        :func:`parkgeo.metrics.park_metrics`), or the years themselves.

    Returns
    -------
    int or None
        None when a table has no ``year`` column (single-period data).

    Raises
    ------
    SchemaError
        When the ``year`` column holds no valid year.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> default_year(load_tianjin().enterprises)
    2016
    """
    values = _year_values(data)
    if values is None:
        return None
    years = available_years(values)
    if not years:
        raise SchemaError("the 'year' column holds no valid year; fix the column or drop it")
    return years[-1]


def resolve_year(data: Any, year: int | None, *, what: str = "enterprises") -> int | None:
    """``year`` checked against the years of ``data``, or :func:`default_year` when None.

    Examples
    --------
    >>> resolve_year([2013, 2015], None), resolve_year([2013, 2015], 2013)
    (2015, 2013)
    """
    if year is None:
        return default_year(data)
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
        raise ParkgeoError(f"year must be a whole year such as 2015; got {year!r}")
    values = _year_values(data)
    if values is None:
        raise SchemaError(f"year={year} was given but the {what} have no 'year' column")
    years = available_years(values)
    if int(year) not in years:
        raise ParkgeoError(
            f"year {int(year)} is not in the {what} (years present: "
            f"{', '.join(map(str, years)) or 'none'}); pass one of those"
        )
    return int(year)
