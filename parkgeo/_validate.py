"""Validation of enterprise tables: parsed cells, the reject ledger, repeated enterprise-years.

Nothing is dropped silently. :func:`validate_enterprises` parses raw cells into the canonical
enterprise table and returns every row it cannot use in a **reject ledger** (one row per rejected
source row: ``source_row``, ``enterprise_id``, ``column``, ``value``, ``reason``, ``message``),
so that ``rows read == rows kept + rows in the ledger`` always holds. :func:`validate_parks`
(:mod:`parkgeo._validate_parks`) repairs invalid polygons and refuses features that cannot be a
park; cells are parsed by :mod:`parkgeo._cells`, the ledger is built by :mod:`parkgeo._ledger`.

Numbers typed by people (``1,234.5``, ``１２３``, ``117．2``, ``123万元``, ``1.2亿元``, ``500元``,
``2015年``, ``39，1`` as a decimal comma in a coordinate) are parsed in two vectorised passes:
Arrow compute reads plain numbers over the whole column; a careful pass (Unicode NFKC, thousands
separators, unit suffixes scaled to parkgeo's units, degree-minute-second coordinates,
missing-value tokens such as ``-``, ``NA``, ``无``), also in Arrow, looks only at the distinct
texts of the cells the fast pass could not read. Every cell that was converted is counted and
logged (``attrs["conversions"]``). Nothing loops over rows in Python: 12 million rows are
validated in seconds.

Decisions
---------
* ``tax`` may be negative (net of refunds such as export VAT rebates), ``profit`` may be
  negative (losses), ``value_added`` may be negative (rare, but it happens in loss years);
  ``energy_tce`` and ``employees`` may not.
* A missing industry code is kept (``industry`` is NA; density does not need it, the cluster
  analysis skips it); a code that is not in GB/T 4754-2017 is rejected.
* Duplicate enterprise-year rows: among rows that pass every other check, the first occurrence
  is kept and later ones are ledgered, naming the row that was kept.
* Apparently swapped longitude/latitude are ledgered, never swapped back silently: a swap that
  happens to land inside China can still be wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._cells import (
    MISSING_TOKENS,
    ParsedNumbers,
    clean_codes,
    clean_text,
    industry_input,
    industry_problem,
    parse_numbers,
)
from parkgeo._columns import ENTERPRISE_COLUMNS, ENTERPRISE_REQUIRED
from parkgeo._conversions import kept_conversions, log_conversions
from parkgeo._cores import Later
from parkgeo._errors import DataValidationError, SchemaError
from parkgeo._identity import duplicate_rows, id_work, name_work
from parkgeo._ledger import (
    LEDGER_COLUMNS,
    REASONS,
    Problem,
    build_ledger,
    empty_ledger,
    rows_of_index,
    strict_message,
    text_at,
)
from parkgeo._text import (
    control_problem,
    id_examples,
    merge_note,
    show_control,
)
from parkgeo._validate_parks import validate_parks

__all__ = [
    "DEFAULT_YEARS",
    "LEDGER_COLUMNS",
    "MISSING_TOKENS",
    "REASONS",
    "ParsedNumbers",
    "clean_text",
    "empty_ledger",
    "parse_numbers",
    "parse_years",
    "validate_enterprises",
    "validate_parks",
]

log = logging.getLogger("parkgeo")

DEFAULT_YEARS: tuple[int, int] = (1990, 2100)
NEVER_NEGATIVE: tuple[str, ...] = ("energy_tce", "employees")
_MEASURE_KIND = {
    "tax": "money",
    "profit": "money",
    "value_added": "money",
    "energy_tce": "energy",
    "employees": "people",
}


def parse_years(years: Any) -> tuple[int, int]:
    if years is None:
        return DEFAULT_YEARS
    if isinstance(years, range):
        if len(years) == 0:
            raise ValueError("years= is an empty range")
        return int(min(years)), int(max(years))
    try:
        first, last = years
        return int(first), int(last)
    except (TypeError, ValueError):
        raise ValueError(
            f"years= must be a (first, last) pair of years or a range, not {years!r}"
        ) from None


def validate_enterprises(
    df: pd.DataFrame,
    *,
    source: str = "input",
    strict: bool = False,
    years: Any = None,
    scales: Mapping[str, float] | None = None,
    check_duplicates: bool = True,
    quiet: bool = False,
    stand_ins: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse and check an enterprise table; return the kept rows and the reject ledger.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical column names (see ``docs/architecture.md``), raw cells (text or numbers).
        ``enterprise_id``, ``lon``, ``lat`` and ``year`` are required; ``name``, ``industry``
        and the measures are optional (absent ones become NA/NaN). An integer index is taken as
        the source row numbers; any other index is replaced by positions.
    source : str
        Name of the input, for messages.
    strict : bool
        Raise :class:`~parkgeo.DataValidationError` (ledger attached) instead of returning a
        non-empty ledger.
    years : (int, int) or range, optional
        Accepted years, inclusive (default 1990..2100).
    scales : dict, optional
        Factor per measure column to parkgeo's units (from units in the headers, e.g. 1e-4 for
        a money column headed ``(元)``).
    check_duplicates : bool
        Reject a row repeating the (enterprise_id, year) of an earlier kept row (default).
        ``False`` keeps such rows: the batched density path turns the check off and finds
        the repeats of the whole file at once from hashed keys, then validates the few
        batches that hold one again with the check on.
    quiet : bool
        Do not log the conversions (``kept.attrs["conversions"]`` still records them): a
        caller validating a file in parts logs them once for the whole file
        (:func:`parkgeo._conversions.log_conversions`).
    stand_ins : int
        The first ``stand_ins`` rows stand in for first occurrences of keys kept in an earlier
        part (:func:`parkgeo._chunk.clean`): they are checked against, never reported.

    Returns
    -------
    kept : pandas.DataFrame
        The canonical enterprise table, indexed by ``source_row``.
    ledger : pandas.DataFrame
        One row per rejected source row; ``len(df) == len(kept) + len(ledger)``.

    Raises
    ------
    SchemaError
        A required column is missing.
    DataValidationError
        ``strict=True`` and some row failed.

    Examples
    --------
    >>> raw = pd.DataFrame({
    ...     "enterprise_id": ["A", "B", "C"], "lon": ["117.2", "39.1", ""],
    ...     "lat": ["39.1", "117.2", "39.0"], "year": ["2015", "2015年", "2015"],
    ...     "tax": ["1,234.5", "12", "3万元"]})
    >>> kept, ledger = validate_enterprises(raw, source="demo")
    >>> kept[["enterprise_id", "lon", "lat", "year", "tax"]]
               enterprise_id    lon   lat  year     tax
    source_row
    0                      A  117.2  39.1  2015  1234.5
    >>> ledger[["source_row", "column", "reason"]]
       source_row column              reason
    0           1    lon       lonlat_swapped
    1           2    lon  missing_coordinate
    """
    missing_cols = [c for c in ENTERPRISE_REQUIRED if c not in df.columns]
    if missing_cols:
        raise SchemaError(
            f"{source}: required column(s) {', '.join(missing_cols)} missing; the table has "
            f"{', '.join(map(str, df.columns))}. Map your headers to parkgeo's names "
            "(columns={'enterprise_id': '统一社会信用代码', ...})."
        )
    first_year, last_year = parse_years(years)
    scales = dict(scales or {})
    n = len(df)
    source_rows = rows_of_index(df.index)
    problems: list[Problem] = []

    def raw(col: str, rows: NDArray[np.intp]) -> pd.Series:
        return text_at(df[col], rows)

    # -- enterprise id: one firm, one id (full-width forms and invisible characters folded).
    # The id work (trimming, normalising, coding the ids for the duplicate check) is the
    # longest single chain here; on a large table it runs in a second thread while this one
    # checks everything else, and its problems are put first in the list below, as if it
    # had run first.
    ids_later = Later(id_work, df["enterprise_id"], check_duplicates, rows=n)

    # -- names (long text, a third of a typical file's bytes), in a second thread likewise
    names_later = Later(name_work, df["name"] if "name" in df.columns else None, n, rows=n)

    # -- coordinates
    lon_p = parse_numbers(df["lon"], kind="degrees", comma_decimal=True)
    lat_p = parse_numbers(df["lat"], kind="degrees", comma_decimal=True)
    converted: dict[str, tuple[NDArray[np.intp], NDArray[np.float64]]] = {
        "lon": (lon_p.converted, lon_p.values),
        "lat": (lat_p.converted, lat_p.values),
    }
    lon, lat = lon_p.values, lat_p.values

    def pair(r: NDArray[np.intp]) -> pd.Series:
        return "lon=" + raw("lon", r) + ", lat=" + raw("lat", r)

    m_missing = lon_p.missing | lat_p.missing
    problems.append(
        Problem.of(
            "missing_coordinate",
            lon_p.missing,
            m_missing,
            lambda r: (
                pair(r),
                "longitude/latitude missing ("
                + pair(r)
                + "); geocode the address or fill in both coordinates",
            ),
        )
    )
    m_nonnum = lon_p.invalid | lat_p.invalid
    problems.append(
        Problem.of(
            "non_numeric_coordinate",
            lon_p.invalid,
            m_nonnum,
            lambda r: (
                pair(r),
                "longitude/latitude not a number ("
                + pair(r)
                + "); write decimal degrees such as 117.2 and 39.1",
            ),
        )
    )
    with np.errstate(invalid="ignore"):
        present = ~np.isnan(lon) & ~np.isnan(lat)
        finite = np.isfinite(lon) & np.isfinite(lat)
        m_zero = present & (lon == 0) & (lat == 0)
        m_swapped = present & (lat >= 73) & (lat <= 136) & (lon >= 3) & (lon <= 54)
        outside = present & (~finite | (np.abs(lon) > 180) | (np.abs(lat) > 90))
        m_projected = outside & finite & (np.abs(lon) >= 1000) & (np.abs(lat) >= 1000)
        m_range = outside & ~m_projected & ~m_swapped
    problems.append(
        Problem.of(
            "zero_coordinate",
            "lon",
            m_zero,
            lambda r: (
                pair(r),
                pd.Series(
                    "longitude and latitude are both 0, the mark of a failed geocode; geocode the "
                    "address again",
                    index=range(len(r)),
                    dtype="str",
                ),
            ),
        )
    )
    problems.append(
        Problem.of(
            "lonlat_swapped",
            "lon",
            m_swapped,
            lambda r: (
                pair(r),
                "longitude and latitude look swapped ("
                + pair(r)
                + "); swap the two values in the file (parkgeo does not swap them "
                "automatically)",
            ),
        )
    )
    problems.append(
        Problem.of(
            "projected_coordinates",
            "lon",
            m_projected,
            lambda r: (
                pair(r),
                "coordinates look like projected metres, not degrees ("
                + pair(r)
                + "); reproject them to longitude/latitude (EPSG:4326) first, or give the "
                "points as a GeoPackage/GeoParquet layer with its CRS",
            ),
        )
    )
    problems.append(
        Problem.of(
            "coordinate_out_of_range",
            ~np.isfinite(lon) | (np.abs(lon) > 180),
            m_range,
            lambda r: (
                pair(r),
                "longitude must lie in -180..180 and latitude in -90..90 ("
                + pair(r)
                + "); fix the coordinates",
            ),
        )
    )

    # -- year
    year_p = parse_numbers(df["year"], kind="year")
    converted["year"] = (year_p.converted, year_p.values)
    year_values = year_p.values
    with np.errstate(invalid="ignore"):
        not_whole = (
            ~year_p.missing
            & ~year_p.invalid
            & (~np.isfinite(year_values) | (np.mod(year_values, 1) != 0))
        )
        valid_year = ~year_p.missing & ~year_p.invalid & ~not_whole
        m_year_range = valid_year & ((year_values < first_year) | (year_values > last_year))
    problems.append(
        Problem.of(
            "missing_year",
            "year",
            year_p.missing,
            lambda r: (
                raw("year", r),
                pd.Series(
                    "the year is empty; fill it in (each row is one enterprise in one year)",
                    index=range(len(r)),
                    dtype="str",
                ),
            ),
        )
    )
    problems.append(
        Problem.of(
            "invalid_year",
            "year",
            year_p.invalid | not_whole,
            lambda r: (
                raw("year", r),
                "year "
                + raw("year", r).str.slice(0, 40)
                + " is not a whole year; write it as e.g. 2015",
            ),
        )
    )
    problems.append(
        Problem.of(
            "year_out_of_range",
            "year",
            m_year_range,
            lambda r: (
                raw("year", r),
                "year " + raw("year", r) + f" is outside {first_year}.."
                f"{last_year}; fix it, or pass years=(first, last) to accept it",
            ),
        )
    )

    # -- industry
    if "industry" in df.columns:
        present_code, codes = clean_codes(df["industry"])
        m_industry = present_code & codes.isna().to_numpy()
    else:
        codes = pd.Series(pd.NA, index=df.index, dtype="str")
        m_industry = np.zeros(n, dtype=bool)
    problems.append(
        Problem.of(
            "unknown_industry_code",
            "industry",
            m_industry,
            lambda r: (
                raw("industry", r),
                "industry code '"
                + raw("industry", r).str.slice(0, 40)
                + "' is not in GB/T 4754-2017: "
                + industry_problem(
                    industry_input(df["industry"].iloc[r], clean_text(df["industry"].iloc[r]))
                )
                + " (write a section letter plus digits such as C27 or C2710; the letter is "
                "optional)",
            ),
        )
    )

    # -- measures
    measure_values: dict[str, NDArray[np.float64]] = {}
    for col in ("tax", "profit", "value_added", "energy_tce", "employees"):
        if col not in df.columns:
            measure_values[col] = np.full(n, np.nan)
            continue
        parsed = parse_numbers(df[col], kind=_MEASURE_KIND[col])
        converted[col] = (parsed.converted, parsed.values)
        scale = float(scales.get(col, 1.0))
        values = parsed.values * scale if scale != 1.0 else parsed.values
        measure_values[col] = values
        problems.extend(_measure_problems(col, values, parsed.invalid, raw))

    raw_ids, ids, id_changed, id_codes = ids_later.result()
    # -- control characters (a NUL byte past the sniffed block of a CSV): corrupt text
    name, name_control = names_later.result()
    control, id_control = control_problem(raw_ids, name, name_control)
    problems[0:0] = [
        Problem.of(
            "missing_enterprise_id",
            "enterprise_id",
            ids.isna().to_numpy(),
            lambda r: (
                raw("enterprise_id", r),
                pd.Series(
                    "the enterprise id is empty; fill in the unified social credit code (or another "
                    "unique id) or drop the row",
                    index=range(len(r)),
                    dtype="str",
                ),
            ),
        ),
        control,
    ]

    # -- duplicates among the rows that pass every other check
    bad = np.zeros(n, dtype=bool)
    for problem in problems:
        bad[problem.rows] = True
    candidates = np.flatnonzero(~bad) if bad.any() else np.arange(n)
    if not check_duplicates:
        candidates = candidates[:0]
    duplicate, first_row_of = duplicate_rows(id_codes, year_values, candidates, source_rows, n)
    problems.append(
        Problem.of(
            "duplicate_enterprise_year",
            "enterprise_id",
            duplicate,
            lambda r: (
                raw("enterprise_id", r),
                "enterprise "
                + ids.iloc[r].reset_index(drop=True)
                + " already has a row for year "
                + pd.Series(year_values[r].astype(np.int64), dtype="str")
                + " (source row "
                + pd.Series(first_row_of[r], dtype="str")
                + ", kept"
                + merged_note(r)
                + "); merge or remove the duplicate",
            ),
        )
    )
    # a repeated key whose id was written differently (full-width, invisible characters)
    # is a row the normalisation merged: said in its ledger message and as a warning
    merged_rows = np.flatnonzero(duplicate)
    if len(id_changed) and len(merged_rows):
        merged_rows = merged_rows[np.isin(merged_rows, id_changed)]
    else:
        merged_rows = merged_rows[:0]

    def merged_note(r: NDArray[np.intp]) -> pd.Series:
        return merge_note(raw_ids, ids, merged_rows, r)

    ledger_ids = ids
    if id_control.any():  # the ledger names the id without its control characters
        ledger_ids = ids.where(~id_control, show_control(ids))
    ledger = build_ledger(problems, n, source_rows, ledger_ids)
    rejected = bad
    rejected[np.flatnonzero(duplicate)] = True
    keep = None if not rejected.any() else np.flatnonzero(~rejected)

    if strict and len(ledger):
        raise DataValidationError(strict_message(ledger, n, source), rejects=ledger)

    def take(values: Any) -> Any:
        # All rows kept (the usual case at scale): no copy of 12 million values.
        return values if keep is None else values[keep]

    index = pd.Index(take(source_rows), name="source_row")

    def numbers(values: NDArray[np.float64], col: str) -> Any:
        if keep is None and not values.flags.writeable:
            # a read-only view of the input's float64 column: share it through pandas so that
            # copy-on-write protects the input, instead of copying 96 MB per 12M rows
            return df[col].set_axis(index).rename(None)
        return take(values)

    data: dict[str, Any] = {
        "enterprise_id": take(ids.array),
        "name": take(name.array),
        "industry": take(codes.array),
        "lon": numbers(lon, "lon"),
        "lat": numbers(lat, "lat"),
        "year": take(year_values).astype(np.int64),
    }
    for col, values in measure_values.items():
        data[col] = numbers(values, col)
    kept = pd.DataFrame({c: data[c] for c in ENTERPRISE_COLUMNS}, index=index, copy=False)
    kept.attrs["source"] = source
    # stand-ins for first occurrences in earlier parts are reported by their own part
    unreported = rejected.copy()
    unreported[:stand_ins] = True
    conversions = kept_conversions(converted, unreported, df)
    changed_ids = id_changed[~unreported[id_changed]] if len(id_changed) else id_changed
    if len(changed_ids):
        conversions = {"enterprise_id": id_examples(raw_ids, ids, changed_ids), **conversions}
    merged_rows = merged_rows[merged_rows >= stand_ins]
    if len(merged_rows):
        conversions["merged_ids"] = id_examples(raw_ids, ids, merged_rows)
    if conversions:
        kept.attrs["conversions"] = conversions
        if not quiet:
            log_conversions(conversions, source)
    return kept, ledger


def _measure_problems(
    col: str,
    values: NDArray[np.float64],
    invalid: NDArray[np.bool_],
    raw: Callable[[str, NDArray[np.intp]], pd.Series],
) -> list[Problem]:
    """non_numeric_measure, non_finite_measure and negative_measure for one measure column."""
    n = len(values)
    with np.errstate(invalid="ignore"):
        infinite = np.isinf(values)
        negative = (values < 0) & ~infinite if col in NEVER_NEGATIVE else np.zeros(n, bool)

    def not_a_number(r: NDArray[np.intp]) -> tuple[pd.Series, pd.Series]:
        text = raw(col, r)
        return text, (
            f"{col} "
            + text.str.slice(0, 40).map(repr)
            + " is not a number; write a number (units such as 万元 or 吨标准煤 are understood) "
            "or leave the cell empty for missing"
        )

    def not_finite(r: NDArray[np.intp]) -> tuple[pd.Series, pd.Series]:
        text = raw(col, r)
        return (
            text,
            f"{col} is infinite (" + text + "); write a finite number or leave the cell empty",
        )

    def below_zero(r: NDArray[np.intp]) -> tuple[pd.Series, pd.Series]:
        text = raw(col, r)
        return text, (
            f"{col} = "
            + text
            + f" is negative, which is impossible for {col}; fix the value or leave the cell "
            "empty for missing"
        )

    return [
        Problem.of("non_numeric_measure", col, invalid, not_a_number),
        Problem.of("non_finite_measure", col, infinite, not_finite),
        Problem.of("negative_measure", col, negative, below_zero),
    ]
