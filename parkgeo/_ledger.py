"""The reject ledger: one row per rejected source row, with a reason code and a message.

``rows read == rows kept + rows in the ledger`` always holds. :data:`REASONS` is the one
table of reason codes (documented in ``docs/bad-inputs.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._cells import object_to_text

__all__ = ["LEDGER_COLUMNS", "REASONS", "Problem", "build_ledger", "empty_ledger", "strict_message"]

STRICT_SHOWN = 10

REASONS: dict[str, str] = {
    "missing_enterprise_id": "the enterprise id (e.g. the unified social credit code) is empty",
    "missing_coordinate": "longitude or latitude is empty",
    "non_numeric_coordinate": "longitude or latitude is not a number",
    "zero_coordinate": "longitude and latitude are both 0 (a failed geocode)",
    "lonlat_swapped": "longitude and latitude appear swapped (latitude in China's longitude "
    "range 73..136 and longitude in its latitude range 3..54); not swapped automatically",
    "projected_coordinates": "the coordinates look like projected metres (e.g. Gauss-Kruger or "
    "UTM), not degrees",
    "coordinate_out_of_range": "longitude outside -180..180 or latitude outside -90..90, or "
    "infinite",
    "missing_year": "the year is empty",
    "invalid_year": "the year is not a whole number",
    "year_out_of_range": "the year is outside the accepted range",
    "unknown_industry_code": "the industry code is not in GB/T 4754-2017",
    "non_numeric_measure": "a measure (tax, profit, value_added, energy_tce, employees) is not "
    "a number",
    "non_finite_measure": "a measure is infinite",
    "negative_measure": "energy_tce or employees is negative",
    "duplicate_enterprise_year": "the same enterprise appears twice in one year; the first "
    "occurrence is kept (ids are compared after Unicode NFKC, without invisible characters)",
    "control_character": "the enterprise id or name holds a control character (NUL, ESC "
    "...): the file is corrupt there",
}

LEDGER_COLUMNS: tuple[str, ...] = (
    "source_row",
    "enterprise_id",
    "column",
    "value",
    "reason",
    "message",
)


def empty_ledger() -> pd.DataFrame:
    """An empty reject ledger with the documented columns and dtypes.

    Examples
    --------
    >>> list(empty_ledger().columns)
    ['source_row', 'enterprise_id', 'column', 'value', 'reason', 'message']
    """
    return pd.DataFrame(  # type: ignore[no-any-return,unused-ignore]
        {
            "source_row": pd.Series([], dtype="int64"),
            **{c: pd.Series([], dtype="str") for c in LEDGER_COLUMNS[1:]},
        }
    )


@dataclass(frozen=True)
class Problem:
    reason: str
    # one column name, or a boolean array over all rows: True -> "lon", False -> "lat"
    column: str | NDArray[np.bool_]
    rows: NDArray[np.intp]  # positions of the rows with this problem (sparse: usually few)
    # positions of the rows where this is the first problem -> (value text, message)
    describe: Callable[[NDArray[np.intp]], tuple[pd.Series, pd.Series]]
    names: tuple[str, str] = ("lon", "lat")  # a boolean ``column``: (True, False) names

    @classmethod
    def of(
        cls,
        reason: str,
        column: str | NDArray[np.bool_],
        mask: NDArray[np.bool_],
        describe: Callable[[NDArray[np.intp]], tuple[pd.Series, pd.Series]],
        names: tuple[str, str] = ("lon", "lat"),
    ) -> Problem:
        return cls(reason, column, np.flatnonzero(mask), describe, names)

    def column_at(self, rows: NDArray[np.intp]) -> Any:
        if isinstance(self.column, str):
            return self.column
        return np.where(self.column[rows], *self.names)


def rows_of_index(index: pd.Index) -> NDArray[np.int64]:
    if pd.api.types.is_integer_dtype(index.dtype) and index.is_unique:
        return np.asarray(index, dtype=np.int64)
    return np.arange(len(index), dtype=np.int64)


def text_at(series: pd.Series, rows: NDArray[np.intp]) -> pd.Series:
    """Raw cell text at positions ``rows`` (empty string for missing), on a RangeIndex."""
    sub = series.iloc[rows]
    text = object_to_text(sub) if pd.api.types.is_object_dtype(sub.dtype) else sub.astype("str")
    result: pd.Series = pd.Series(text.to_numpy(dtype=object, na_value=""), dtype="str").fillna("")
    return result


def build_ledger(
    problems: list[Problem],
    n: int,
    source_rows: NDArray[np.int64],
    ids: pd.Series,
) -> pd.DataFrame:
    if not any(len(p.rows) for p in problems):
        return empty_ledger()
    first = np.full(n, -1, dtype=np.int16)
    for k, problem in enumerate(problems):
        unset = problem.rows[first[problem.rows] < 0]
        first[unset] = k
    rejected = np.flatnonzero(first >= 0)
    parts = []
    for k, problem in enumerate(problems):
        rows = rejected[first[rejected] == k]
        if len(rows) == 0:
            continue
        value, message = problem.describe(rows)
        others = pd.Series("", index=range(len(rows)), dtype="str")
        for j, other in enumerate(problems):
            if j != k and len(other.rows):
                hit = np.isin(rows, other.rows)
                if hit.any():
                    others = others + np.where(hit, f", {other.reason}", "")
        message = pd.Series(message, dtype="str").reset_index(drop=True)
        message = message.where(others == "", message + ". Also: " + others.str.slice(2))
        parts.append(
            pd.DataFrame(
                {
                    "source_row": source_rows[rows],
                    "enterprise_id": ids.array.take(rows),
                    "column": problem.column_at(rows),
                    "value": pd.Series(value, dtype="str").reset_index(drop=True).to_numpy(),
                    "reason": problem.reason,
                    "message": message.to_numpy(),
                }
            )
        )
    ledger = pd.concat(parts, ignore_index=True).sort_values("source_row", kind="stable")
    ledger = ledger.reset_index(drop=True)
    ledger["source_row"] = ledger["source_row"].astype("int64")
    for col in LEDGER_COLUMNS[1:]:
        ledger[col] = ledger[col].astype("str")
    result: pd.DataFrame = ledger[list(LEDGER_COLUMNS)]
    return result


def strict_message(ledger: pd.DataFrame, n: int, source: str) -> str:
    """One line (the command line prints errors as one line): counts, then the first problems."""
    counts = ledger["reason"].value_counts()
    summary = ", ".join(f"{reason} {count}" for reason, count in counts.items())
    problems = " | ".join(
        f"source row {row.source_row} [{row.reason}] {row.column}: {row.message}"
        for row in ledger.head(STRICT_SHOWN).itertuples(index=False)
    )
    more = f" | ... and {len(ledger) - STRICT_SHOWN} more" if len(ledger) > STRICT_SHOWN else ""
    return (
        f"{source}: {len(ledger)} of {n} rows fail validation ({summary}); strict mode stops "
        f"here (without it these rows go to the reject ledger). First problems: "
        f"{problems}{more}"
    )
