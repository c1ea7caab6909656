"""Raw cells as people type them: numbers with units and separators, missing-value tokens, text.

Numbers typed by people (``1,234.5``, ``１２３``, ``117．2``, ``123万元``, ``1.2亿元``, ``500元``,
``2015年``, ``39，1`` as a decimal comma in a coordinate) are parsed in two vectorised passes:
Arrow compute reads plain numbers over the whole column; a careful pass (Unicode NFKC, thousands
separators, unit suffixes scaled to parkgeo's units, degree-minute-second coordinates,
missing-value tokens such as ``-``, ``NA``, ``无``), also in Arrow, looks only at the distinct
texts of the cells the fast pass could not read. Nothing loops over rows in Python.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from parkgeo._columns import AREA_UNITS, ENERGY_UNITS, MONEY_UNITS, PEOPLE_UNITS

__all__ = [
    "MISSING_TOKENS",
    "UNITS",
    "ParsedNumbers",
    "clean_text",
    "is_missing_text",
    "parse_numbers",
]


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
_SPACE_GROUPED = r"^\s*[+-]?\s*\d{1,3}(?: \d{3})+(?:\.\d*)?(?:\s*[^\d\s.,][^\d]*)?\s*$"
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


def as_arrow_strings(series: pd.Series) -> pa.Array | pa.ChunkedArray:
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


def str_series(arr: pa.Array | pa.ChunkedArray, index: pd.Index | None = None) -> pd.Series:
    """A pandas ``str`` Series over an Arrow string array, without a copy to Python objects."""
    values = pd.array(arr, dtype="str")
    result: pd.Series = pd.Series(values, index=index)
    return result


def is_empty(values: pa.Array) -> pa.Array:
    # comparing lengths is ~30x faster than comparing strings with "" in Arrow
    return pc.equal(pc.binary_length(values), 0)


_TOKEN_CHARS = max(len(token) for token in _TOKEN_SET.to_pylist())


def missing_mask(trimmed: pa.Array) -> NDArray[np.bool_]:
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
    hit = pc.or_kleene(is_empty(trimmed), pc.is_in(lowered, value_set=_TOKEN_SET))
    return np.asarray(pc.fill_null(hit, True).to_numpy(zero_copy_only=False), dtype=bool)


def is_missing_text(series: pd.Series) -> NDArray[np.bool_]:
    """Whether each text cell is empty or a missing-value token.

    Examples
    --------
    >>> is_missing_text(pd.Series(["12", " ", "无", "NA", None, "x"], dtype="str")).tolist()
    [False, True, True, True, True, False]
    """
    return missing_mask(pc.utf8_trim_whitespace(as_arrow_strings(series)))


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
        series = object_to_text(series)

    arr = as_arrow_strings(series)
    trimmed = pc.utf8_trim_whitespace(arr)
    empty = pc.fill_null(is_empty(trimmed), True)
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


def object_to_text(series: pd.Series) -> pd.Series:
    # Mixed Python objects (from Excel or a user's frame): numbers keep their exact text.
    def text(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return str(v)

    return pd.Series([text(v) for v in series.to_numpy()], index=series.index, dtype="str")


def np_bool(values: pa.Array | pa.ChunkedArray, fill: bool = False) -> NDArray[np.bool_]:
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
        cells = as_arrow_strings(cells)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    n = len(cells)
    values = np.full(n, np.nan)
    folded = pc.utf8_normalize(cells, "NFKC")
    folded = pc.replace_substring(folded, "\u2212", "-")  # the minus sign U+2212
    folded = pc.replace_substring(folded, "\u3002", ".")  # the ideographic full stop
    folded = pc.replace_substring(folded, "\u3001", ",")  # the enumeration comma
    # Spaces inside a number are digit grouping only when every group after the first has
    # three digits (1 234 567.8; NFKC made thin and no-break spaces plain): "12 34" and
    # "1 2 3 4" are not numbers (as "12,34" is not), whatever was meant
    spaced = np_bool(pc.match_substring_regex(folded, r"\d\s+\d"))
    if spaced.any():
        spaced &= ~np_bool(pc.match_substring_regex(folded, _SPACE_GROUPED))
    folded = pc.utf8_lower(pc.replace_substring_regex(folded, r"\s+", ""))
    missing = np_bool(pc.is_in(folded, value_set=_TOKEN_SET), fill=True) | np_bool(
        pc.is_null(folded)
    )
    badly_spaced = ~missing & spaced
    todo = ~missing & ~spaced
    infinite = todo & np_bool(pc.match_substring_regex(folded, r"^[+-]?(inf|infinity|∞)$"))
    if infinite.any():
        negative = np_bool(pc.starts_with(folded, "-"))
        values[infinite] = np.where(negative[infinite], -np.inf, np.inf)
    todo &= ~infinite

    units = UNITS.get(kind, _PLAIN_ONLY)
    parts = pc.extract_regex(folded, _NUMBER_UNIT)
    matched = todo & np_bool(parts.is_valid())
    if matched.any():
        num = pc.fill_null(pc.struct_field(parts, "num"), "")
        unit = pc.fill_null(pc.struct_field(parts, "unit"), "")
        sign = pc.fill_null(pc.struct_field(parts, "sign"), "")
        has_comma = np_bool(pc.match_substring(num, ","))
        has_dot = np_bool(pc.match_substring(num, "."))
        commas = np.asarray(pc.count_substring(num, ",").to_numpy(zero_copy_only=False))
        if comma_decimal:
            # a single comma without a point is a decimal mark in a coordinate: 39，1
            as_decimal = has_comma & (commas == 1) & ~has_dot
            cleaned = pc.if_else(pa.array(as_decimal), pc.replace_substring(num, ",", "."), num)
            bad_comma = has_comma & ~as_decimal
        else:
            # Only well-formed grouping (1,234,567.8): "12,5" is ambiguous, so it is not a number.
            thousands = np_bool(pc.match_substring_regex(num, _THOUSANDS))
            cleaned = pc.if_else(pa.array(thousands), pc.replace_substring(num, ",", ""), num)
            bad_comma = has_comma & ~thousands
        unit_index = pc.index_in(unit, value_set=pa.array(list(units)))
        known = np_bool(pc.is_valid(unit_index))
        factors = np.append(np.fromiter(units.values(), dtype=np.float64), np.nan)
        scale = factors[pc.fill_null(unit_index, len(units)).to_numpy(zero_copy_only=False)]
        ok = matched & ~bad_comma & known
        ok &= np_bool(pc.match_substring_regex(cleaned, _PLAIN))
        number = np.full(n, np.nan)
        if ok.any():
            number[ok] = _np_float(cleaned.filter(pa.array(ok)))
        signs = np.where(np_bool(pc.equal(sign, "-")), -1.0, 1.0)
        good = ok & np.isfinite(number)
        values[good] = (signs * number * scale)[good]
        todo &= ~good
    if kind == "degrees" and todo.any():
        dms = pc.extract_regex(folded, _DMS)
        hit = todo & np_bool(dms.is_valid())
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
            west_south = np_bool(
                pc.is_in(pc.struct_field(dms, "hemi"), value_set=pa.array(["w", "s", "西", "南"]))
            )
            dec = np.where(west_south, -1.0, 1.0) * (deg + mins / 60 + secs / 3600)
            ok = hit & (mins < 60) & (secs < 60) & np.isfinite(dec)
            values[ok] = dec[ok]
            todo &= ~ok
    if kind == "year" and todo.any():
        # dates written where a year belongs: 2015-12-31, 2015/12, 2015.12, 2015年12月
        date = pc.extract_regex(folded, r"^(?P<year>\d{4})[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?")
        hit = todo & np_bool(date.is_valid())
        if hit.any():
            years = _np_float(pc.struct_field(date, "year"))
            values[hit] = years[hit]
            todo &= ~hit
    return values, missing, todo | badly_spaced


def clean_text(series: pd.Series, *, long_text: bool = False) -> pd.Series:
    """Trimmed text; empty cells and missing-value tokens become NA. Numbers keep exact text.

    ``long_text`` (names): only cells of at most 5 characters can be missing-value tokens, so
    only those are folded and compared.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("str")
    elif pd.api.types.is_integer_dtype(series.dtype):
        text = series.astype("str")
        result: pd.Series = text.where(series.notna(), None)
        return result
    elif pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_object_dtype(series.dtype):
        series = object_to_text(series)
    arr = as_arrow_strings(series)
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
            missing[positions] = missing_mask(trimmed.take(pa.array(positions)))
    else:
        missing = missing_mask(trimmed)
    if missing.any():
        trimmed = pc.if_else(pa.array(missing), pa.scalar(None, trimmed.type), trimmed)
    return str_series(trimmed, series.index)


def clean_codes(series: pd.Series) -> tuple[NDArray[np.bool_], pd.Series]:
    """(code present?, normalised GB/T 4754 code) for an industry column, computed once per
    distinct value: 12 million rows carry a few hundred codes."""
    if not (
        pd.api.types.is_string_dtype(series.dtype)
        and not pd.api.types.is_object_dtype(series.dtype)
    ):
        text = clean_text(series)
        codes = normalize_industry(industry_input(series, text))
        return text.notna().to_numpy(), codes
    encoded = pc.dictionary_encode(as_arrow_strings(series))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    text_u = clean_text(str_series(encoded.dictionary))
    codes_u = normalize_industry(text_u.where(text_u.notna(), None))
    indices = encoded.indices
    present_u = np.append(text_u.notna().to_numpy(), False)  # a null cell indexes the end
    positions = pc.fill_null(indices, len(text_u)).to_numpy(zero_copy_only=False)
    codes = str_series(pc.take(as_arrow_strings(codes_u), indices), series.index)
    return present_u[positions], codes


def industry_input(series: pd.Series, text: pd.Series) -> pd.Series:
    """What to give the code normaliser: numbers stay numbers (a number lost its leading zero,
    0111 -> 111, and the normaliser knows that), text is trimmed, missing is None."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        result: pd.Series = series.astype(object).where(series.notna(), None)
        return result
    if pd.api.types.is_object_dtype(series.dtype):
        numeric = series.map(
            lambda v: (
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            )
        ).astype(bool)
        if numeric.any():
            mixed = series.where(numeric & series.notna(), text.astype(object))
            given: pd.Series = mixed.where(text.notna(), None)
            return given
    return text


@functools.cache
def canonical_codes() -> frozenset[str]:
    """Every GB/T 4754-2017 code as the normaliser writes it (each normalises to itself)."""
    from parkgeo import industry

    return frozenset(industry.load_classification()["code"].astype(str))


def normalize_industry(values: pd.Series) -> pd.Series:
    """Canonical codes (unknown -> NA); codes already canonical, almost all of a real file's
    distinct codes, skip the normaliser (0.15 ms a code in Python: 0.4 s for 3,000 codes)."""
    from parkgeo import industry

    canonical = canonical_codes()
    done = np.fromiter(
        (isinstance(v, str) and v in canonical for v in values.to_numpy(dtype=object)),
        dtype=bool,
        count=len(values),
    )
    out = values.to_numpy(dtype=object).copy()
    if not done.all():
        rest = ~done
        normalized = industry.normalize_codes(pd.Series(out[rest], dtype=object))
        out[rest] = np.asarray(normalized, dtype=object)
    result: pd.Series = pd.Series(pd.Series(out, dtype="str").array, index=values.index)
    return result


def industry_problem(values: pd.Series) -> pd.Series:
    """Why each (unknown) code is not a GB/T 4754-2017 code, e.g. a 2011-edition code."""
    from parkgeo import industry

    unique = values.unique()
    reasons = pd.Series([industry.code_problem(v) or "" for v in unique], index=unique)
    result: pd.Series = pd.Series(values.map(reasons).to_numpy(), dtype="str").fillna("")
    return result
