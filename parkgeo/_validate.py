"""Validation of enterprise and park tables: the reject ledger and park geometry checks.

Nothing is dropped silently. :func:`validate_enterprises` parses raw cells into the canonical
enterprise table and returns every row it cannot use in a **reject ledger** (one row per rejected
source row: ``source_row``, ``enterprise_id``, ``column``, ``value``, ``reason``, ``message``),
so that ``rows read == rows kept + rows in the ledger`` always holds. :func:`validate_parks`
repairs invalid polygons (and reports each repair) and refuses features that cannot be a park.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from parkgeo._columns import (
    AREA_UNITS,
    ENERGY_UNITS,
    ENTERPRISE_COLUMNS,
    ENTERPRISE_REQUIRED,
    MONEY_UNITS,
    PARK_COLUMNS,
    PEOPLE_UNITS,
)
from parkgeo._errors import DataValidationError, GeometryError, SchemaError
from parkgeo._geometry import READ_REPAIRS, sanitize_parks

__all__ = [
    "DEFAULT_YEARS",
    "LEDGER_COLUMNS",
    "MISSING_TOKENS",
    "REASONS",
    "ParsedNumbers",
    "empty_ledger",
    "parse_numbers",
    "validate_enterprises",
    "validate_parks",
]

log = logging.getLogger("parkgeo")

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
    "occurrence is kept",
}

LEDGER_COLUMNS: tuple[str, ...] = (
    "source_row",
    "enterprise_id",
    "column",
    "value",
    "reason",
    "message",
)
DEFAULT_YEARS: tuple[int, int] = (1990, 2100)
NEVER_NEGATIVE: tuple[str, ...] = ("energy_tce", "employees")
_MEASURE_KIND = {
    "tax": "money",
    "profit": "money",
    "value_added": "money",
    "energy_tce": "energy",
    "employees": "people",
}
_STRICT_SHOWN = 10


# Cell contents that mean "no value" (compared after NFKC, trimming and lower-casing).
MISSING_TOKENS: frozenset[str] = frozenset(
    {
        "",
        "-",
        "--",
        "---",
        "—",
        "——",
        "–",
        "_",
        "/",
        "na",
        "n/a",
        "n.a.",
        "nan",
        "null",
        "none",
        "nil",
        "#n/a",
        "无",
        "空",
        "暂无",
        "缺失",
        "不详",
        "?",
        "？",
    }
)

_PLAIN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_NUMBER_UNIT = (
    r"^(?P<sign>[+-]?)(?P<num>(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?P<unit>[^\d]*)$"
)
_THOUSANDS = r"^\d{1,3}(,\d{3})+(\.\d*)?(?:[eE][+-]?\d+)?$"
_DMS = (
    r"^(?P<deg>\d+(?:\.\d+)?)\s*[°度](?:\s*(?P<min>\d+(?:\.\d+)?)\s*['′’分])?"
    r"(?:\s*(?P<sec>\d+(?:\.\d+)?)\s*(?:[\"″”秒]|''|′′))?\s*(?P<hemi>[ENWSensw东西南北]?)$"
)

_MONEY = {"": 1.0, **MONEY_UNITS}
_ENERGY = {"": 1.0, **ENERGY_UNITS}
_PEOPLE = {"": 1.0, **PEOPLE_UNITS}
_YEAR = {"": 1.0, "年": 1.0, "年度": 1.0}
_AREA = {"": 1.0, **AREA_UNITS}
_DEGREES = {
    "": 1.0,
    "°": 1.0,
    "度": 1.0,
    "°e": 1.0,
    "°n": 1.0,
    "e": 1.0,
    "n": 1.0,
    "°w": -1.0,
    "°s": -1.0,
    "w": -1.0,
    "s": -1.0,
    "东": 1.0,
    "北": 1.0,
    "西": -1.0,
    "南": -1.0,
}
_PLAIN_ONLY = {"": 1.0}

UNITS: dict[str, dict[str, float]] = {
    "money": _MONEY,
    "energy": _ENERGY,
    "people": _PEOPLE,
    "year": _YEAR,
    "area": _AREA,
    "degrees": _DEGREES,
    "plain": _PLAIN_ONLY,
}


@dataclass(frozen=True)
class ParsedNumbers:
    """Numbers parsed from one column.

    Attributes
    ----------
    values : numpy.ndarray of float64
        Parsed values (NaN where missing or not a number), already scaled by the cell's unit.
    missing : numpy.ndarray of bool
        The cell was empty or a missing-value token (``-``, ``NA``, ``无`` ...).
    invalid : numpy.ndarray of bool
        The cell held text that is not a number parkgeo can read.
    converted : numpy.ndarray of int
        Positions of the cells that were not plain numbers but were understood (``1,234.5``,
        ``123万元``, ``１２３``, ``2015年``): reported so that no conversion is silent.
    """

    values: NDArray[np.float64]
    missing: NDArray[np.bool_]
    invalid: NDArray[np.bool_]
    converted: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


def _as_arrow_strings(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The column as Arrow strings, without a copy when it already is (chunks are kept:
    combining the chunks of a 12-million-row column would copy it)."""
    arr = pa.array(series.array) if not isinstance(series.dtype, np.dtype) else None
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array(series.astype("str").array)
    return arr


def _full_width(token: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in token)


# the tokens as typed with a Chinese input method (full-width ASCII) too, so that the check
# runs in Arrow without a per-cell Unicode normalisation
_TOKEN_SET = pa.array(sorted(MISSING_TOKENS | {_full_width(t) for t in MISSING_TOKENS}))


def _str_series(arr: pa.Array | pa.ChunkedArray, index: pd.Index | None = None) -> pd.Series:
    """A pandas ``str`` Series over an Arrow string array, without a copy to Python objects."""
    values = pd.array(arr, dtype="str")
    return pd.Series(values, index=index)


def _is_empty(values: pa.Array) -> pa.Array:
    # comparing lengths is ~30x faster than comparing strings with "" in Arrow
    return pc.equal(pc.binary_length(values), 0)


_TOKEN_CHARS = max(len(token) for token in _TOKEN_SET.to_pylist())


def _missing_mask(trimmed: pa.Array) -> NDArray[np.bool_]:
    # Only cells no longer than the longest token can be one (lowercasing maps character to
    # character), so columns of long text (credit codes) skip the lowercased copy and lookup.
    short = pc.fill_null(pc.less_equal(pc.utf8_length(trimmed), _TOKEN_CHARS), True)
    positions = np.flatnonzero(np.asarray(short.to_numpy(zero_copy_only=False), dtype=bool))
    if len(positions) == len(trimmed):
        return _missing_among(trimmed)
    missing = np.zeros(len(trimmed), dtype=bool)
    if len(positions):
        missing[positions] = _missing_among(trimmed.take(pa.array(positions)))
    return missing


def _missing_among(trimmed: pa.Array) -> NDArray[np.bool_]:
    lowered = pc.utf8_lower(trimmed)
    hit = pc.or_kleene(_is_empty(trimmed), pc.is_in(lowered, value_set=_TOKEN_SET))
    return np.asarray(pc.fill_null(hit, True).to_numpy(zero_copy_only=False), dtype=bool)


def is_missing_text(series: pd.Series) -> NDArray[np.bool_]:
    """Whether each text cell is empty or a missing-value token.

    Examples
    --------
    >>> is_missing_text(pd.Series(["12", " ", "无", "NA", None, "x"], dtype="str")).tolist()
    [False, True, True, True, True, False]
    """
    return _missing_mask(pc.utf8_trim_whitespace(_as_arrow_strings(series)))


def parse_numbers(
    series: pd.Series, *, kind: str = "plain", comma_decimal: bool = False
) -> ParsedNumbers:
    """Parse a column of numbers written by people, vectorised.

    Parameters
    ----------
    series : pandas.Series
        Text or numbers.
    kind : {"plain", "money", "energy", "people", "year", "area", "degrees"}
        Which unit suffixes are understood and how they scale: money to 10,000 CNY
        (``元`` 1e-4, ``万元`` 1, ``亿元`` 1e4), energy to tce, areas to hectares, degrees also
        accept ``°``/``E``/``N`` and degree-minute-second notation.
    comma_decimal : bool
        Read a single comma without a decimal point as the decimal mark (``39,1`` -> 39.1),
        as is right for coordinates; otherwise commas are thousands separators.

    Returns
    -------
    ParsedNumbers

    Examples
    --------
    >>> s = pd.Series(["1,234.5", "123万元", "1.2亿元", "500元", "-", "abc", "１２"], dtype="str")
    >>> p = parse_numbers(s, kind="money")
    >>> p.values.tolist()[:4], p.missing.tolist()[4], p.invalid.tolist()[5], p.values[6]
    ([1234.5, 123.0, 12000.0, 0.05], True, True, np.float64(12.0))
    """
    n = len(series)
    if n == 0:
        empty = np.zeros(0, dtype=bool)
        return ParsedNumbers(np.zeros(0, dtype=np.float64), empty, empty.copy())
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return ParsedNumbers(values, np.isnan(values), np.zeros(n, dtype=bool))
    if pd.api.types.is_numeric_dtype(dtype):
        if dtype == np.dtype(np.float64):
            values = series.to_numpy()  # no copy: a 12-million-row column is 96 MB
        else:
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return ParsedNumbers(values, np.isnan(values), np.zeros(n, dtype=bool))
    if not (pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)):
        # datetimes and the like: let the careful path see their text
        series = series.astype("str")
    elif pd.api.types.is_object_dtype(dtype):
        series = _object_to_text(series)

    arr = _as_arrow_strings(series)
    trimmed = pc.utf8_trim_whitespace(arr)
    empty = pc.fill_null(_is_empty(trimmed), True)
    blanked = pc.if_else(empty, pa.scalar(None, trimmed.type), trimmed)
    try:
        # The common case: every cell a plain number or empty. One cast, no regex. A failing
        # cast is slow (~0.6 s per million cells), so a sample is tried first.
        pc.cast(blanked.slice(0, 2000), pa.float64())
        fast = pc.cast(blanked, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        fast = None
    if fast is not None:
        values = fast.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
        # NaN here is an empty cell or a "nan"/"NaN" token: both mean missing
        return ParsedNumbers(values, np.isnan(values), np.zeros(n, dtype=bool))
    plain = pc.fill_null(pc.match_substring_regex(trimmed, _PLAIN), False)
    fast = pc.cast(pc.if_else(plain, trimmed, pa.scalar(None, pa.string())), pa.float64())
    values = fast.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    missing = np.zeros(n, dtype=bool)
    invalid = np.zeros(n, dtype=bool)
    rest = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))
    if len(rest):
        sub_values, sub_missing, sub_invalid = _parse_distinct(
            trimmed.take(pa.array(rest)), kind, comma_decimal
        )
        values[rest] = sub_values
        missing[rest] = sub_missing
        invalid[rest] = sub_invalid
        understood = ~sub_missing & ~sub_invalid & np.isfinite(sub_values)
        return ParsedNumbers(values, missing, invalid, rest[understood])
    return ParsedNumbers(values, missing, invalid)


def _parse_distinct(
    cells: pa.Array | pa.ChunkedArray, kind: str, comma_decimal: bool
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """The careful parse, run once per distinct cell text: a column of "2015年" or "万元"
    amounts repeats the same few texts millions of times."""
    if len(cells) < 1000:
        return _parse_careful(cells, kind, comma_decimal)
    encoded = pc.dictionary_encode(cells)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = encoded.dictionary
    values_u, missing_u, invalid_u = _parse_careful(dictionary, kind, comma_decimal)
    # null cells index one past the dictionary: missing
    positions = pc.fill_null(encoded.indices, len(dictionary)).to_numpy(zero_copy_only=False)
    values_u = np.append(values_u, np.nan)
    missing_u = np.append(missing_u, True)
    invalid_u = np.append(invalid_u, False)
    return values_u[positions], missing_u[positions], invalid_u[positions]


def _object_to_text(series: pd.Series) -> pd.Series:
    # Mixed Python objects (from Excel or a user's frame): numbers keep their exact text.
    def text(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return str(v)

    return pd.Series([text(v) for v in series.to_numpy()], index=series.index, dtype="str")


def _np_bool(values: pa.Array | pa.ChunkedArray, fill: bool = False) -> NDArray[np.bool_]:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=bool)


def _np_float(values: pa.Array | pa.ChunkedArray) -> NDArray[np.float64]:
    return np.asarray(
        pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )


def _parse_careful(
    cells: pa.Array | pa.ChunkedArray | pd.Series, kind: str, comma_decimal: bool
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Parse text that is not a plain number, in Arrow (no Python loop over cells)."""
    if isinstance(cells, pd.Series):
        cells = _as_arrow_strings(cells)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    n = len(cells)
    values = np.full(n, np.nan)
    folded = pc.utf8_normalize(cells, "NFKC")
    folded = pc.replace_substring(folded, "\u2212", "-")  # the minus sign U+2212
    folded = pc.replace_substring(folded, "\u3002", ".")  # the ideographic full stop
    folded = pc.replace_substring(folded, "\u3001", ",")  # the enumeration comma
    folded = pc.utf8_lower(pc.replace_substring_regex(folded, r"\s+", ""))
    missing = _np_bool(pc.is_in(folded, value_set=_TOKEN_SET), fill=True) | _np_bool(
        pc.is_null(folded)
    )
    todo = ~missing
    infinite = todo & _np_bool(pc.match_substring_regex(folded, r"^[+-]?(inf|infinity|∞)$"))
    if infinite.any():
        negative = _np_bool(pc.starts_with(folded, "-"))
        values[infinite] = np.where(negative[infinite], -np.inf, np.inf)
    todo &= ~infinite

    units = UNITS.get(kind, _PLAIN_ONLY)
    parts = pc.extract_regex(folded, _NUMBER_UNIT)
    matched = todo & _np_bool(parts.is_valid())
    if matched.any():
        num = pc.fill_null(pc.struct_field(parts, "num"), "")
        unit = pc.fill_null(pc.struct_field(parts, "unit"), "")
        sign = pc.fill_null(pc.struct_field(parts, "sign"), "")
        has_comma = _np_bool(pc.match_substring(num, ","))
        has_dot = _np_bool(pc.match_substring(num, "."))
        commas = np.asarray(pc.count_substring(num, ",").to_numpy(zero_copy_only=False))
        if comma_decimal:
            # a single comma without a point is a decimal mark in a coordinate: 39，1
            as_decimal = has_comma & (commas == 1) & ~has_dot
            cleaned = pc.if_else(pa.array(as_decimal), pc.replace_substring(num, ",", "."), num)
            bad_comma = has_comma & ~as_decimal
        else:
            # Only well-formed grouping (1,234,567.8): "12,5" is ambiguous, so it is not a number.
            thousands = _np_bool(pc.match_substring_regex(num, _THOUSANDS))
            cleaned = pc.if_else(pa.array(thousands), pc.replace_substring(num, ",", ""), num)
            bad_comma = has_comma & ~thousands
        unit_index = pc.index_in(unit, value_set=pa.array(list(units)))
        known = _np_bool(pc.is_valid(unit_index))
        factors = np.append(np.fromiter(units.values(), dtype=np.float64), np.nan)
        scale = factors[pc.fill_null(unit_index, len(units)).to_numpy(zero_copy_only=False)]
        ok = matched & ~bad_comma & known
        ok &= _np_bool(pc.match_substring_regex(cleaned, _PLAIN))
        number = np.full(n, np.nan)
        if ok.any():
            number[ok] = _np_float(cleaned.filter(pa.array(ok)))
        signs = np.where(_np_bool(pc.equal(sign, "-")), -1.0, 1.0)
        good = ok & np.isfinite(number)
        values[good] = (signs * number * scale)[good]
        todo &= ~good
    if kind == "degrees" and todo.any():
        dms = pc.extract_regex(folded, _DMS)
        hit = todo & _np_bool(dms.is_valid())
        if hit.any():
            deg = _np_float(pc.struct_field(dms, "deg"))
            mins = np.nan_to_num(
                _np_float(
                    pc.if_else(
                        pc.equal(pc.struct_field(dms, "min"), ""), None, pc.struct_field(dms, "min")
                    )
                )
            )
            secs = np.nan_to_num(
                _np_float(
                    pc.if_else(
                        pc.equal(pc.struct_field(dms, "sec"), ""), None, pc.struct_field(dms, "sec")
                    )
                )
            )
            west_south = _np_bool(
                pc.is_in(pc.struct_field(dms, "hemi"), value_set=pa.array(["w", "s", "西", "南"]))
            )
            dec = np.where(west_south, -1.0, 1.0) * (deg + mins / 60 + secs / 3600)
            ok = hit & (mins < 60) & (secs < 60) & np.isfinite(dec)
            values[ok] = dec[ok]
            todo &= ~ok
    if kind == "year" and todo.any():
        # dates written where a year belongs: 2015-12-31, 2015/12, 2015.12, 2015年12月
        date = pc.extract_regex(folded, r"^(?P<year>\d{4})[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?")
        hit = todo & _np_bool(date.is_valid())
        if hit.any():
            years = _np_float(pc.struct_field(date, "year"))
            values[hit] = years[hit]
            todo &= ~hit
    return values, missing, todo


# --------------------------------------------------------------------------------------------
# enterprises
# --------------------------------------------------------------------------------------------


def empty_ledger() -> pd.DataFrame:
    """An empty reject ledger with the documented columns and dtypes.

    Examples
    --------
    >>> list(empty_ledger().columns)
    ['source_row', 'enterprise_id', 'column', 'value', 'reason', 'message']
    """
    return pd.DataFrame(
        {
            "source_row": pd.Series([], dtype="int64"),
            **{c: pd.Series([], dtype="str") for c in LEDGER_COLUMNS[1:]},
        }
    )


@dataclass(frozen=True)
class _Problem:
    reason: str
    # one column name, or a boolean array over all rows: True -> "lon", False -> "lat"
    column: str | NDArray[np.bool_]
    rows: NDArray[np.intp]  # positions of the rows with this problem (sparse: usually few)
    # positions of the rows where this is the first problem -> (value text, message)
    describe: Callable[[NDArray[np.intp]], tuple[pd.Series, pd.Series]]

    @classmethod
    def of(
        cls,
        reason: str,
        column: str | NDArray[np.bool_],
        mask: NDArray[np.bool_],
        describe: Callable[[NDArray[np.intp]], tuple[pd.Series, pd.Series]],
    ) -> _Problem:
        return cls(reason, column, np.flatnonzero(mask), describe)

    def column_at(self, rows: NDArray[np.intp]) -> Any:
        if isinstance(self.column, str):
            return self.column
        return np.where(self.column[rows], "lon", "lat")


def _source_rows(index: pd.Index) -> NDArray[np.int64]:
    if pd.api.types.is_integer_dtype(index.dtype) and index.is_unique:
        return np.asarray(index, dtype=np.int64)
    return np.arange(len(index), dtype=np.int64)


def _text_at(series: pd.Series, rows: NDArray[np.intp]) -> pd.Series:
    """Raw cell text at positions ``rows`` (empty string for missing), on a RangeIndex."""
    sub = series.iloc[rows]
    text = _object_to_text(sub) if pd.api.types.is_object_dtype(sub.dtype) else sub.astype("str")
    return pd.Series(text.to_numpy(dtype=object, na_value=""), dtype="str").fillna("")


def _clean_text(series: pd.Series, *, long_text: bool = False) -> pd.Series:
    """Trimmed text; empty cells and missing-value tokens become NA. Numbers keep exact text.

    ``long_text`` (names): only cells of at most 5 characters can be missing-value tokens, so
    only those are folded and compared.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("str")
    elif pd.api.types.is_integer_dtype(series.dtype):
        text = series.astype("str")
        return text.where(series.notna(), None)
    elif pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_object_dtype(series.dtype):
        series = _object_to_text(series)
    arr = _as_arrow_strings(series)
    trimmed = pc.utf8_trim_whitespace(arr)
    if pc.sum(pc.binary_length(trimmed)).as_py() == pc.sum(pc.binary_length(arr)).as_py():
        trimmed = arr  # nothing was trimmed: keep the original, drop the copy
    if pc.any(pc.starts_with(trimmed, '="')).as_py():
        # Excel exports write ="00123" to keep leading zeros: the text is what is quoted
        trimmed = pc.replace_substring_regex(trimmed, r'^="(.*)"$', r"\1")
    if long_text:
        short = pc.fill_null(pc.less_equal(pc.utf8_length(trimmed), 5), True)
        positions = np.flatnonzero(short.to_numpy(zero_copy_only=False))
        missing = np.zeros(len(trimmed), dtype=bool)
        if len(positions):
            missing[positions] = _missing_mask(trimmed.take(pa.array(positions)))
    else:
        missing = _missing_mask(trimmed)
    if missing.any():
        trimmed = pc.if_else(pa.array(missing), pa.scalar(None, trimmed.type), trimmed)
    return _str_series(trimmed, series.index)


def _clean_codes(series: pd.Series) -> tuple[NDArray[np.bool_], pd.Series]:
    """(code present?, normalised GB/T 4754 code) for an industry column, computed once per
    distinct value: 12 million rows carry a few hundred codes."""
    if not (
        pd.api.types.is_string_dtype(series.dtype)
        and not pd.api.types.is_object_dtype(series.dtype)
    ):
        text = _clean_text(series)
        codes = _normalize_industry(_industry_input(series, text))
        return text.notna().to_numpy(), codes
    encoded = pc.dictionary_encode(_as_arrow_strings(series))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    text_u = _clean_text(_str_series(encoded.dictionary))
    codes_u = _normalize_industry(text_u.where(text_u.notna(), None))
    indices = encoded.indices
    present_u = np.append(text_u.notna().to_numpy(), False)  # a null cell indexes the end
    positions = pc.fill_null(indices, len(text_u)).to_numpy(zero_copy_only=False)
    codes = _str_series(pc.take(_as_arrow_strings(codes_u), indices), series.index)
    return present_u[positions], codes


def _parse_years(years: Any) -> tuple[int, int]:
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


def _industry_input(series: pd.Series, text: pd.Series) -> pd.Series:
    """What to give the code normaliser: numbers stay numbers (a number lost its leading zero,
    0111 -> 111, and the normaliser knows that), text is trimmed, missing is None."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(object).where(series.notna(), None)
    if pd.api.types.is_object_dtype(series.dtype):
        numeric = series.map(
            lambda v: (
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            )
        ).astype(bool)
        if numeric.any():
            return series.where(numeric & series.notna(), text.astype(object)).where(
                text.notna(), None
            )
    return text


def _normalize_industry(values: pd.Series) -> pd.Series:
    from parkgeo import industry

    out = industry.normalize_codes(values)
    if not isinstance(out, pd.Series):
        out = pd.Series(np.asarray(out, dtype=object), dtype="str")
    return pd.Series(out.astype("str").array, index=values.index)


def _industry_problem(values: pd.Series) -> pd.Series:
    """Why each (unknown) code is not a GB/T 4754-2017 code, e.g. a 2011-edition code."""
    from parkgeo import industry

    unique = values.unique()
    reasons = pd.Series([industry.code_problem(v) or "" for v in unique], index=unique)
    return pd.Series(values.map(reasons).to_numpy(), dtype="str").fillna("")


def validate_enterprises(
    df: pd.DataFrame,
    *,
    source: str = "input",
    strict: bool = False,
    years: Any = None,
    scales: Mapping[str, float] | None = None,
    check_duplicates: bool = True,
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
    first_year, last_year = _parse_years(years)
    scales = dict(scales or {})
    n = len(df)
    source_rows = _source_rows(df.index)
    problems: list[_Problem] = []

    def raw(col: str, rows: NDArray[np.intp]) -> pd.Series:
        return _text_at(df[col], rows)

    # -- enterprise id
    ids = _clean_text(df["enterprise_id"])
    problems.append(
        _Problem.of(
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
        )
    )

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
        _Problem.of(
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
        _Problem.of(
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
        _Problem.of(
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
        _Problem.of(
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
        _Problem.of(
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
        _Problem.of(
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
        _Problem.of(
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
        _Problem.of(
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
        _Problem.of(
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
        present_code, codes = _clean_codes(df["industry"])
        m_industry = present_code & codes.isna().to_numpy()
    else:
        codes = pd.Series(pd.NA, index=df.index, dtype="str")
        m_industry = np.zeros(n, dtype=bool)
    problems.append(
        _Problem.of(
            "unknown_industry_code",
            "industry",
            m_industry,
            lambda r: (
                raw("industry", r),
                "industry code '"
                + raw("industry", r).str.slice(0, 40)
                + "' is not in GB/T 4754-2017: "
                + _industry_problem(
                    _industry_input(df["industry"].iloc[r], _clean_text(df["industry"].iloc[r]))
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

    # -- duplicates among the rows that pass every other check
    bad = np.zeros(n, dtype=bool)
    for problem in problems:
        bad[problem.rows] = True
    candidates = np.flatnonzero(~bad) if bad.any() else np.arange(n)
    if not check_duplicates:
        candidates = candidates[:0]
    duplicate, first_row_of = _duplicates(ids, year_values, candidates, source_rows, n)
    problems.append(
        _Problem.of(
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
                + ", kept); merge or remove the duplicate",
            ),
        )
    )

    ledger = _ledger(problems, n, source_rows, ids)
    rejected = bad
    rejected[np.flatnonzero(duplicate)] = True
    keep = None if not rejected.any() else np.flatnonzero(~rejected)

    if strict and len(ledger):
        raise DataValidationError(_strict_message(ledger, n, source), rejects=ledger)

    name = (
        _clean_text(df["name"], long_text=True)
        if "name" in df.columns
        # all missing, built in Arrow: from a column of Python Nones it took 0.08 s per
        # million rows, and density does not read names
        else _str_series(pa.nulls(n, pa.large_string()))
    )

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
    conversions = _conversions(converted, rejected, df, source)
    if conversions:
        kept.attrs["conversions"] = conversions
    return kept, ledger


def _conversions(
    converted: Mapping[str, tuple[NDArray[np.intp], NDArray[np.float64]]],
    rejected: NDArray[np.bool_],
    df: pd.DataFrame,
    source: str,
) -> dict[str, dict[str, Any]]:
    """Per column, the kept cells that were converted (count and up to three examples), and a
    log line for each: a conversion is never silent."""
    out: dict[str, dict[str, Any]] = {}
    for col, (positions, values) in converted.items():
        kept_positions = positions[~rejected[positions]]
        if len(kept_positions) == 0:
            continue
        shown = kept_positions[:3]
        texts = _text_at(df[col], shown).tolist()
        examples = [
            {"value": text, "read_as": float(values[p])}
            for text, p in zip(texts, shown, strict=True)
        ]
        out[col] = {"n": len(kept_positions), "examples": examples}
        log.info(
            "%s: %s: %d cell(s) were not plain numbers and were converted, e.g. %s",
            source,
            col,
            len(kept_positions),
            "; ".join(f"{e['value']!r} -> {e['read_as']:g}" for e in examples),
        )
    return out


def _measure_problems(
    col: str,
    values: NDArray[np.float64],
    invalid: NDArray[np.bool_],
    raw: Callable[[str, NDArray[np.intp]], pd.Series],
) -> list[_Problem]:
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
        _Problem.of("non_numeric_measure", col, invalid, not_a_number),
        _Problem.of("non_finite_measure", col, infinite, not_finite),
        _Problem.of("negative_measure", col, negative, below_zero),
    ]


def _duplicates(
    ids: pd.Series,
    years: NDArray[np.float64],
    candidates: NDArray[np.intp],
    source_rows: NDArray[np.int64],
    n: int,
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Rows (among ``candidates``) repeating an earlier (enterprise_id, year), and for each
    row the source row of the first occurrence. Hashing runs in Arrow on integer codes."""
    duplicate = np.zeros(n, dtype=bool)
    first_row_of = np.full(n, -1, dtype=np.int64)
    if len(candidates) == 0:
        return duplicate, first_row_of
    id_array = _as_arrow_strings(ids)
    if len(candidates) != n:
        id_array = id_array.take(pa.array(candidates))
    id_codes = _dictionary_indices(id_array)
    cand_years = years[candidates].astype(np.int64)
    low = int(cand_years.min())
    span = int(cand_years.max()) - low + 1
    key = pd.Series(id_codes * span + (cand_years - low))
    del id_codes, cand_years
    # hashing int64 keys: ~0.7 s and ~0.4 GB for 12 million rows (Arrow's dictionary
    # encoding of the same keys needs ~1 GB)
    dup_local = key.duplicated(keep="first").to_numpy()
    if dup_local.any():
        involved = np.flatnonzero(key.isin(key[dup_local].unique()).to_numpy())
        first_local = (
            pd.Series(involved).groupby(key.to_numpy()[involved]).transform("first").to_numpy()
        )
        dup_rows = candidates[involved]
        first_row_of[dup_rows] = source_rows[candidates[first_local]]
        duplicate[candidates[dup_local]] = True
    return duplicate, first_row_of


def _dictionary_indices(values: pa.Array) -> NDArray[np.int64]:
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _ledger(
    problems: list[_Problem],
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
    return ledger[list(LEDGER_COLUMNS)]


def _strict_message(ledger: pd.DataFrame, n: int, source: str) -> str:
    """One line (the command line prints errors as one line): counts, then the first problems."""
    counts = ledger["reason"].value_counts()
    summary = ", ".join(f"{reason} {count}" for reason, count in counts.items())
    problems = " | ".join(
        f"source row {row.source_row} [{row.reason}] {row.column}: {row.message}"
        for row in ledger.head(_STRICT_SHOWN).itertuples(index=False)
    )
    more = f" | ... and {len(ledger) - _STRICT_SHOWN} more" if len(ledger) > _STRICT_SHOWN else ""
    return (
        f"{source}: {len(ledger)} of {n} rows fail validation ({summary}); strict mode stops "
        f"here (without it these rows go to the reject ledger). First problems: "
        f"{problems}{more}"
    )


# --------------------------------------------------------------------------------------------
# parks
# --------------------------------------------------------------------------------------------

_POLYGONAL = ("Polygon", "MultiPolygon")
_PARK_TEXT = ("park_id", "name", "district", "level", "leading_industries")


def _feature(index: object, park_id: object) -> str:
    if park_id is None or (isinstance(park_id, float) and np.isnan(park_id)) or park_id is pd.NA:
        return f"feature {index} (no park_id)"
    return f"feature {index} (park_id {park_id!r})"


def _polygonal_part(geom: Any) -> Any:
    import shapely

    parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
    polys = []
    for part in parts:
        polys.extend(shapely.get_parts(part))
    if not polys:
        return None
    if len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys)


def validate_parks(gdf: Any, *, source: str = "input") -> tuple[Any, list[dict[str, Any]]]:
    """Check park polygons, repair invalid ones, and coerce the columns to the canonical table.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Canonical column names (``park_id`` required), geometries in EPSG:4326.
    source : str
        Name of the input, for messages.

    Returns
    -------
    parks : geopandas.GeoDataFrame
        The canonical park table (``park_id``, ``name``, ``district``, ``level``,
        ``approved_area_ha``, ``leading_industries``, ``priority``, ``geometry``) on the input's
        index; ``attrs["repairs"]`` holds the repairs.
    repairs : list of dict
        One entry per repaired feature: ``index``, ``park_id``, ``problem``, ``action``.

    Raises
    ------
    GeometryError
        Empty, zero-area or non-polygon features, or duplicate or empty ``park_id``; the
        message names every such feature (up to 10) and the fix.
    SchemaError
        ``park_id`` column missing, or a numeric column holds text.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(117, 39), (117.01, 39.01), (117.01, 39), (117, 39.01)])
    >>> raw = gpd.GeoDataFrame({"park_id": ["P1"]}, geometry=[bowtie], crs="EPSG:4326")
    >>> parks, repairs = validate_parks(raw, source="demo")
    >>> parks.geometry.iloc[0].geom_type, repairs[0]["action"]
    ('MultiPolygon', 'make_valid')
    """
    import geopandas as gpd
    import shapely

    if "park_id" not in gdf.columns:
        raise SchemaError(
            f"{source}: the parks have no park_id column (columns: "
            f"{', '.join(map(str, gdf.columns))}); map one, e.g. columns={{'park_id': '代码'}}"
        )
    ids = _clean_text(gdf["park_id"])
    index = list(gdf.index)
    geoms, repairs = sanitize_parks(np.asarray(gdf.geometry.values, dtype=object), index=index, ids=list(ids), source=source, read_repairs=gdf.attrs.get(READ_REPAIRS, []))  # fmt: skip
    errors: list[str] = []
    out_geoms = geoms.copy()

    types = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    for i in np.flatnonzero(missing | empty):
        errors.append(
            f"{_feature(index[i], ids.iloc[i])} has an empty geometry; draw the park's "
            "boundary or remove the feature"
        )
    # 7 = GeometryCollection: keep its polygonal parts, if any
    for i in np.flatnonzero(~missing & ~empty & (types == 7)):
        part = _polygonal_part(geoms[i])
        if part is None:
            errors.append(
                f"{_feature(index[i], ids.iloc[i])} is a GeometryCollection without "
                "polygons; a park must be a polygon or multipolygon"
            )
        else:
            out_geoms[i] = part
            repairs.append(
                {
                    "index": index[i],
                    "park_id": ids.iloc[i],
                    "problem": "GeometryCollection",
                    "action": "kept polygonal parts",
                }
            )
    # 3 = Polygon, 6 = MultiPolygon
    other = ~missing & ~empty & ~np.isin(types, (3, 6, 7))
    for i in np.flatnonzero(other):
        errors.append(
            f"{_feature(index[i], ids.iloc[i])} is a {geoms[i].geom_type}, not a "
            "polygon; give the park's boundary as a polygon (buffer points or lines "
            "yourself if that is really what you mean)"
        )
    usable = np.array(
        [g is not None and g.geom_type in _POLYGONAL and not g.is_empty for g in out_geoms],
        dtype=bool,
    )
    invalid = np.zeros(len(geoms), dtype=bool)
    if usable.any():
        invalid[usable] = ~shapely.is_valid(out_geoms[usable])
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(out_geoms[i])
        # "structure" keeps shells as areas and holes as holes, and is fast (0.1 s for a
        # million vertices where "linework" takes ~9 s).
        fixed = _polygonal_part(
            shapely.make_valid(out_geoms[i], method="structure", keep_collapsed=False)
        )
        if fixed is None or fixed.is_empty:
            errors.append(
                f"{_feature(index[i], ids.iloc[i])} is invalid ({reason}) and has no "
                "area once repaired; redraw the boundary"
            )
            usable[i] = False
            continue
        out_geoms[i] = fixed
        repairs.append(
            {"index": index[i], "park_id": ids.iloc[i], "problem": reason, "action": "make_valid"}
        )
        log.warning(
            "%s: %s was invalid (%s); repaired with make_valid",
            source,
            _feature(index[i], ids.iloc[i]),
            reason,
        )
    if usable.any():
        zero = np.zeros(len(geoms), dtype=bool)
        # 1e-10 square degrees is about 1 m^2 at Chinese latitudes: collinear "polygons" have
        # a floating-point area of ~1e-16, not exactly zero.
        zero[usable] = shapely.area(out_geoms[usable]) < 1e-10
        for i in np.flatnonzero(zero):
            errors.append(
                f"{_feature(index[i], ids.iloc[i])} has zero area (under 1 m²); "
                "draw the park's boundary as a real polygon"
            )

    for i in np.flatnonzero(ids.isna().to_numpy()):
        errors.append(f"feature {index[i]} has an empty park_id; give every park a unique id")
    dup = ids.duplicated(keep=False) & ids.notna()
    if dup.any():
        for pid, positions in pd.Series(
            np.arange(len(ids))[dup.to_numpy()], index=ids[dup].to_numpy()
        ).groupby(level=0):
            where = ", ".join(str(index[p]) for p in positions)
            errors.append(
                f"park_id {pid!r} is used by features {where}; park ids must be "
                "unique: renumber them or merge the features"
            )
    if errors:
        # one line, as the command line prints it
        if len(errors) == 1:
            raise GeometryError(f"{source}: {errors[0]}")
        shown = "; ".join(errors[:_STRICT_SHOWN])
        more = (
            f"; ... and {len(errors) - _STRICT_SHOWN} more" if len(errors) > _STRICT_SHOWN else ""
        )
        raise GeometryError(f"{source}: {len(errors)} park feature problems: {shown}{more}")

    data: dict[str, Any] = {"park_id": ids}
    name = _clean_text(gdf["name"]) if "name" in gdf.columns else ids.copy()
    data["name"] = name.fillna(ids)
    for col in ("district", "level", "leading_industries"):
        data[col] = (
            _clean_text(gdf[col])
            if col in gdf.columns
            else pd.Series(None, index=gdf.index, dtype="str")
        )
    for col, kind in (("approved_area_ha", "area"), ("priority", "plain")):
        if col not in gdf.columns:
            data[col] = np.full(len(gdf), np.nan)
            continue
        parsed = parse_numbers(gdf[col], kind=kind)
        bad_rows = np.flatnonzero(parsed.invalid)
        if len(bad_rows):
            where = "; ".join(
                f"{_feature(index[i], ids.iloc[i])}: {gdf[col].iloc[i]!r}" for i in bad_rows[:10]
            )
            raise SchemaError(
                f"{source}: column {col} must be a number ({where}); fix the "
                "values or leave them empty"
            )
        data[col] = parsed.values
    frame = pd.DataFrame(data, index=gdf.index)
    for col in _PARK_TEXT:
        frame[col] = frame[col].astype("str")
    parks = gpd.GeoDataFrame(
        frame[list(PARK_COLUMNS)],
        geometry=gpd.GeoSeries(out_geoms, index=gdf.index, crs=gdf.crs),
        crs=gdf.crs,
    )
    parks.attrs["repairs"] = repairs
    parks.attrs["source"] = source
    return parks, repairs
