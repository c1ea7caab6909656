"""GB/T 4754-2017 industry codes: normalisation, names, roll-ups and strategic categories.

Canonical code form
    The section letter followed by the digits of the level: ``C`` (门类 section),
    ``C27`` (大类 division), ``C271`` (中类 group), ``C2710`` (小类 class). Every table parkgeo
    produces uses this form, so codes sort and group the same way everywhere.

Accepted input forms (:func:`normalize_code`)
    ``"C2710"``, ``"c2710"``, ``"2710"``, ``" 27 "``, ``"C 27"``, full-width ``"Ｃ２７１０"``,
    the integer ``2710`` or float ``2710.0`` (Excel), and ``"2710.0"``.

    *Leading zeros.* Divisions 01-09 have codes starting with ``0``. Text is taken literally
    (``"111"`` is group B111, ``"0111"`` is class A0111). Numbers cannot carry a leading zero,
    so a number with an odd count of digits is first read with the zero restored (``111`` ->
    ``"0111"`` -> A0111, ``1`` -> A01) and only if that is no code as written (``271`` -> C271).
    Keep industry codes as text to avoid the ambiguity.

Roll-ups (:func:`rollup`)
    Rolling a code up to a level gives the code of that level that contains it. A code coarser
    than the requested level (``C`` to division) gives NA: its finer code is unknown and a
    roll-up never invents precision. Use ``.fillna(codes)`` to keep such codes as they are.

Strategic emerging industries (:func:`strategic_category`)
    The bundled ``data/strategic_emerging_industries.csv`` maps GB/T 4754 divisions, groups and
    a few classes to the nine top-level categories of the 2018 Strategic Emerging Industries
    classification (战略性新兴产业分类（2018）, NBS order No. 23) plus *Logistics* and *Software*,
    which the Tianjin plan names separately. The official classification works at the level of
    products, below GB/T 4754 classes, so this mapping is an **approximation** at division/group
    level (see ``data/PROVENANCE.md``). Users can pass their own file with the same columns.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._paths import data_path

__all__ = [
    "LEVELS",
    "STRATEGIC_CATEGORIES",
    "STRATEGIC_CATEGORIES_ZH",
    "IndustryCodeError",
    "code_problem",
    "industry_name",
    "is_valid_code",
    "load_classification",
    "load_strategic_mapping",
    "normalize_code",
    "normalize_codes",
    "rollup",
    "strategic_category",
]

LEVELS: tuple[str, ...] = ("section", "division", "group", "class")
"""Levels of GB/T 4754-2017, coarsest first (门类, 大类, 中类, 小类)."""

_LEVEL_DIGITS = {"section": 0, "division": 2, "group": 3, "class": 4}
_LEVEL_ZH = {"section": "门类", "division": "大类", "group": "中类", "class": "小类"}

STRATEGIC_CATEGORIES: tuple[str, ...] = (
    "New-generation IT",
    "High-end equipment",
    "New materials",
    "Biomedicine",
    "New energy vehicles",
    "New energy",
    "Energy saving & environmental protection",
    "Digital creative",
    "Related services",
    "Logistics",
    "Software",
)
"""Strategic categories of the bundled mapping: the nine top-level categories of the 2018
Strategic Emerging Industries classification, then the plan's *Logistics* and *Software*."""

STRATEGIC_CATEGORIES_ZH: dict[str, str] = {
    "New-generation IT": "新一代信息技术产业",
    "High-end equipment": "高端装备制造产业",
    "New materials": "新材料产业",
    "Biomedicine": "生物产业",
    "New energy vehicles": "新能源汽车产业",
    "New energy": "新能源产业",
    "Energy saving & environmental protection": "节能环保产业",
    "Digital creative": "数字创意产业",
    "Related services": "相关服务业",
    "Logistics": "现代物流",
    "Software": "软件和信息技术服务",
}
"""Chinese names of :data:`STRATEGIC_CATEGORIES`."""

_CLASSIFICATION_FILE = "gbt4754_2017_industry_classification.csv"
_ENGLISH_FILE = "gbt4754_2017_divisions_en.csv"
_STRATEGIC_FILE = "strategic_emerging_industries.csv"

# GB/T 4754-2011 classes that do not exist in the 2017 edition (checked against the bundled
# table), with where their activities went. Codes reused with a new meaning in 2017 (e.g. 3660,
# 2011 auto parts, 2017 car bodies) cannot be detected from the code alone.
_GBT2011_ONLY: dict[str, str] = {
    "3610": "2011 汽车整车制造, split in 2017 into 3611 汽柴油车整车制造 and 3612 新能源车整车制造",
    "6510": "2011 软件开发, split in 2017 into 6511-6519",
    "6420": "2011 互联网信息服务, split in 2017 into 6421, 6422 and 6429",
    "7240": "2011 广告业, moved in 2017 to group 725 (7251, 7259)",
    "7250": "2011 知识产权服务, moved in 2017 to 7520",
}

_SEPARATORS = re.compile(r"[\s\-_/]+")
_NUMERIC_TEXT = re.compile(r"^(\d+)\.0*$")
_CODE_SHAPE = re.compile(r"^([A-Z]?)(\d*)$")


class IndustryCodeError(ParkgeoError):
    """An industry code is not in GB/T 4754-2017 (or is malformed).

    Attributes
    ----------
    code : object
        The value as given.
    reason : str
        Why it was rejected (also in the message).
    """

    def __init__(self, code: object, reason: str) -> None:
        super().__init__(f"industry code {code!r} is not a GB/T 4754-2017 code: {reason}")
        self.code = code
        self.reason = reason

    def __reduce__(self) -> tuple[type[IndustryCodeError], tuple[object, str]]:
        # Exceptions pickle as cls(*args); ours takes (code, reason), not the message. Dask and
        # multiprocessing pickle exceptions raised in workers.
        return (type(self), (self.code, self.reason))


# --------------------------------------------------------------------------------------------
# the classification table
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _classification() -> pd.DataFrame:
    path = data_path(_CLASSIFICATION_FILE)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    english = pd.read_csv(data_path(_ENGLISH_FILE), dtype=str, keep_default_na=False)
    name_en = dict(zip(english["code"], english["name_en"], strict=True))
    level = raw["level"].astype(int).map(dict(enumerate(LEVELS, start=1)))
    section = raw["section"]
    digits = raw["code"].where(level != "section", "")
    canonical = section + digits

    def prefixed(column: str) -> pd.Series:
        result: pd.Series = (section + raw[column]).where(raw[column] != "", pd.NA)
        return result

    table = pd.DataFrame(
        {
            "code": canonical,
            "digits": digits,
            "level": level,
            "level_zh": raw["level_name"],
            "section": section,
            "division": prefixed("division"),
            "group": prefixed("group"),
            "class": prefixed("class"),
            "name": raw["name"],
            "name_en": raw["code"].map(name_en),
            "description": raw["description"].where(raw["description"] != "", pd.NA),
        }
    )
    if not table["code"].is_unique:
        raise ParkgeoError(f"{path}: duplicate industry codes; restore the file from parkgeo")
    # An unnamed index: "code" as both index name and column makes sort_values/merge ambiguous.
    table.index = pd.Index(table["code"].to_numpy(), dtype="str")
    result: pd.DataFrame = table
    return result


def load_classification() -> pd.DataFrame:
    """Return the GB/T 4754-2017 table (a copy; the parsed file is cached).

    Returns
    -------
    pandas.DataFrame
        One row per code (20 sections, 97 divisions, 473 groups, 1,381 classes), indexed by the
        canonical code, with columns ``code`` (canonical), ``digits`` (as printed in the
        standard, empty for sections), ``level`` (``section``/``division``/``group``/``class``),
        ``level_zh`` (门类/大类/中类/小类), ``section``, ``division``, ``group``, ``class``
        (canonical codes of the containing levels, NA below the row's level), ``name``
        (Chinese), ``name_en`` (sections and divisions only) and ``description`` (说明, often NA).

    Examples
    --------
    >>> table = load_classification()
    >>> table["level"].value_counts()[["section", "division", "group", "class"]].tolist()
    [20, 97, 473, 1381]
    >>> table.loc["C2710", ["division", "name"]].tolist()
    ['C27', '化学药品原料药制造']
    """
    result: pd.DataFrame = _classification().copy()
    return result


@functools.lru_cache(maxsize=1)
def _lookups() -> tuple[dict[str, str], frozenset[str]]:
    table = _classification()
    by_digits = dict(zip(table["digits"], table["code"], strict=True))
    by_digits.pop("", None)
    sections = frozenset(table.loc[table["level"] == "section", "code"])
    return by_digits, sections


# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------


def _is_missing(code: object) -> bool:
    if code is None or code is pd.NA or code is pd.NaT:
        return True
    return isinstance(code, float) and np.isnan(code)


def _normalize(code: object) -> str | IndustryCodeError:
    """Canonical code, or the error explaining why there is none (never raises)."""
    if isinstance(code, str):
        # the same few thousand codes come back in every analysis step: normalise each once
        return _normalize_text(code)
    return _normalize_uncached(code)


@functools.lru_cache(maxsize=65536)
def _normalize_text(code: str) -> str | IndustryCodeError:
    return _normalize_uncached(code)


def _normalize_uncached(code: object) -> str | IndustryCodeError:
    by_digits, sections = _lookups()
    if _is_missing(code):
        return IndustryCodeError(code, "the code is missing")
    if isinstance(code, bool):
        return IndustryCodeError(code, "a boolean is not an industry code")
    from_number = False
    if isinstance(code, (int, np.integer)):
        if code < 0:
            return IndustryCodeError(code, "codes are not negative numbers")
        text, from_number = str(int(code)), True
    elif isinstance(code, (float, np.floating)):
        if not float(code).is_integer() or code < 0:
            return IndustryCodeError(code, "a number with a fraction is not an industry code")
        text, from_number = str(int(code)), True
    elif isinstance(code, str):
        text = unicodedata.normalize("NFKC", code)
        text = _SEPARATORS.sub("", text).upper()
        numeric = _NUMERIC_TEXT.match(text)
        if numeric:  # "2710.0": a number that went through a spreadsheet
            text, from_number = numeric.group(1), True
    else:
        return IndustryCodeError(code, f"expected text or an integer, got {type(code).__name__}")
    if not text:
        return IndustryCodeError(code, "the code is empty")
    shape = _CODE_SHAPE.match(text)
    if shape is None:
        return IndustryCodeError(
            code,
            "expected an optional section letter A-T followed by 2-4 digits (e.g. C2710, 2710, C27, C)",
        )
    letter, digits = shape.groups()
    if not digits:
        if letter in sections:
            return letter
        return IndustryCodeError(code, f"sections run from A to T, {letter!r} is not one")
    if len(digits) > 4:
        return IndustryCodeError(code, "codes have at most 4 digits (a 小类 class code)")
    candidates = [digits]
    if len(digits) % 2 == 1 and (from_number or len(digits) == 1):
        # A number lost the leading zero of divisions 01-09 (0111 -> 111); a single digit can
        # only be such a division.
        candidates.insert(0, "0" + digits)
    for candidate in candidates:
        canonical = by_digits.get(candidate)
        if canonical is None:
            continue
        if letter and canonical[0] != letter:
            return IndustryCodeError(
                code,
                f"section letter {letter} does not match: {candidate} belongs to section "
                f"{canonical[0]} ({canonical}); drop the letter or correct it",
            )
        return canonical
    if digits in _GBT2011_ONLY:
        return IndustryCodeError(
            code,
            f"{digits} is a GB/T 4754-2011 code that the 2017 edition dropped "
            f"({_GBT2011_ONLY[digits]}); recode it to the 2017 edition",
        )
    return IndustryCodeError(
        code,
        f"no {_level_for_length(len(candidates[-1]))} with digits {candidates[-1]} "
        "(check for a typo or a code from another classification)",
    )


def _level_for_length(n_digits: int) -> str:
    return {2: "division (大类)", 3: "group (中类)", 4: "class (小类)"}.get(n_digits, "code")


def normalize_code(code: object) -> str:
    """Return the canonical form of one GB/T 4754-2017 code.

    Parameters
    ----------
    code : str or int
        Any accepted form (see the module docstring): ``"C2710"``, ``"2710"``, ``"c27"``,
        ``" 27 "``, ``"C"``, ``2710``, ``"Ｃ２７１０"``.

    Returns
    -------
    str
        Section letter + digits: ``"C2710"``, ``"C27"``, ``"C271"``, ``"C"``.

    Raises
    ------
    IndustryCodeError
        (a :class:`~parkgeo.ParkgeoError`) if the code is missing, malformed, not in the 2017
        edition, or its section letter contradicts its digits; the message says which.

    Examples
    --------
    >>> normalize_code("2710"), normalize_code("c27"), normalize_code(111), normalize_code("111")
    ('C2710', 'C27', 'A0111', 'B111')
    >>> normalize_code("9999")
    Traceback (most recent call last):
    ...
    parkgeo.industry.IndustryCodeError: industry code '9999' is not a GB/T 4754-2017 code: ...
    """
    result = _normalize(code)
    if isinstance(result, IndustryCodeError):
        raise IndustryCodeError(result.code, result.reason) from None
    return result


def code_problem(code: object) -> str | None:
    """Explain why a value is not a GB/T 4754-2017 code, or return None if it is one.

    Meant for reject ledgers: the text names the problem and the fix.

    Examples
    --------
    >>> code_problem("C2710") is None
    True
    >>> print(code_problem("3610"))
    3610 is a GB/T 4754-2011 code that the 2017 edition dropped (2011 汽车整车制造, split in 2017 into 3611 汽柴油车整车制造 and 3612 新能源车整车制造); recode it to the 2017 edition
    """
    result = _normalize(code)
    return result.reason if isinstance(result, IndustryCodeError) else None


def is_valid_code(code: object) -> bool:
    """Return whether a value normalises to a GB/T 4754-2017 code.

    Examples
    --------
    >>> is_valid_code("C2710"), is_valid_code(" 27 "), is_valid_code("Z99"), is_valid_code(None)
    (True, True, False, False)
    """
    return not isinstance(_normalize(code), IndustryCodeError)


def _map_unique(values: pd.Series, func: Any) -> pd.Series:
    """Apply ``func`` once per distinct value; NA stays NA. Result is a ``str`` Series."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [np.nan], dtype=object)
    out = mapped[codes]  # code -1 picks the trailing NaN
    result: pd.Series = pd.Series(out, index=values.index, name=values.name, dtype="str")
    return result


def _as_series(codes: Any) -> pd.Series:
    if isinstance(codes, pd.Series):
        return codes
    if isinstance(codes, (str, bytes)) or not isinstance(codes, Iterable):
        raise TypeError("expected a Series or a list/array of codes")
    result: pd.Series = pd.Series(list(codes), dtype=object)
    return result


def normalize_codes(codes: pd.Series | Iterable[object]) -> pd.Series:
    """Normalise many codes; values that are not GB/T 4754-2017 codes become NA.

    Each distinct value is normalised once, so this is fast on millions of rows with a few
    thousand distinct codes.

    Parameters
    ----------
    codes : pandas.Series or iterable
        Codes in any accepted form, possibly mixed (text and integers).

    Returns
    -------
    pandas.Series
        ``str`` dtype, on the input's index (a new RangeIndex for non-Series input).

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_codes(pd.Series(["2710", "c27", "XX", None])).tolist()
    ['C2710', 'C27', nan, nan]
    """
    series = _as_series(codes)

    def one(value: object) -> object:
        result = _normalize(value)
        return np.nan if isinstance(result, IndustryCodeError) else result

    return _map_unique(series, one)


# --------------------------------------------------------------------------------------------
# names and roll-ups
# --------------------------------------------------------------------------------------------


def _level_of(canonical: str) -> str:
    return LEVELS[max(len(canonical) - 2, 0)] if len(canonical) > 1 else "section"


def _truncate(canonical: str, level: str) -> str | None:
    n_digits = _LEVEL_DIGITS[level]
    if len(canonical) - 1 < n_digits:
        return None
    return canonical[: 1 + n_digits]


def _check_level(level: str) -> str:
    if level not in _LEVEL_DIGITS:
        raise ParkgeoError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    return level


@overload
def rollup(codes: str, level: str = ...) -> str | None: ...  # type: ignore[overload-overlap]
@overload
def rollup(codes: pd.Series | Iterable[object], level: str = ...) -> pd.Series: ...
def rollup(codes: Any, level: str = "division") -> str | None | pd.Series:
    """Roll codes up to a coarser level of GB/T 4754-2017.

    Parameters
    ----------
    codes : str, pandas.Series or iterable
        Codes in any accepted form.
    level : {"section", "division", "group", "class"}
        Target level (default ``"division"``, the level cluster and gap analysis use).

    Returns
    -------
    str, None or pandas.Series
        For one code: the canonical code at ``level``, or None if the code is coarser than
        ``level``. For a Series/iterable: a ``str`` Series on the input's index, NA where the
        code is unknown or coarser than ``level`` (a section does not roll up to a division).

    Raises
    ------
    IndustryCodeError
        For a single unknown code (vectorised input gives NA instead).

    Examples
    --------
    >>> rollup("2710"), rollup("C2710", "section"), rollup("C", "division")
    ('C27', 'C', None)
    >>> rollup(["C2710", "c3612", "C", "bad"], level="group").tolist()
    ['C271', 'C361', nan, nan]
    """
    _check_level(level)
    if isinstance(codes, str):
        return _truncate(normalize_code(codes), level)
    series = _as_series(codes)

    def one(value: object) -> object:
        result = _normalize(value)
        if isinstance(result, IndustryCodeError):
            return np.nan
        rolled = _truncate(result, level)
        return np.nan if rolled is None else rolled

    return _map_unique(series, one)


def _name_of(canonical: str, lang: str) -> str:
    table = _classification()
    if lang == "zh":
        return str(table.at[canonical, "name"])
    own = table.at[canonical, "name_en"]
    if isinstance(own, str) and own:
        return own
    division_name = str(table.at[canonical[:3], "name_en"])
    return f"{canonical} (in {division_name})"


@overload
def industry_name(codes: str, *, lang: Literal["zh", "en"] = ...) -> str: ...  # type: ignore[overload-overlap]
@overload
def industry_name(
    codes: pd.Series | Iterable[object], *, lang: Literal["zh", "en"] = ...
) -> pd.Series: ...
def industry_name(codes: Any, *, lang: Literal["zh", "en"] = "zh") -> str | pd.Series:
    """Return the name of a code (or of each code in a Series).

    Parameters
    ----------
    codes : str or pandas.Series/iterable
        Codes in any accepted form.
    lang : {"zh", "en"}
        ``"zh"``: the official Chinese name at the code's own level. ``"en"``: the English name
        for sections and divisions; deeper levels, which have no official English name, give
        the code with the name of its division, e.g. ``"C2710 (in Manufacture of medicines)"``.

    Returns
    -------
    str or pandas.Series
        A Series (``str`` dtype, NA for unknown codes) on the input's index for vectorised input.

    Raises
    ------
    IndustryCodeError
        For a single unknown code.

    Examples
    --------
    >>> industry_name("C2710"), industry_name("27", lang="en")
    ('化学药品原料药制造', 'Manufacture of medicines')
    >>> industry_name("C2710", lang="en")
    'C2710 (in Manufacture of medicines)'
    """
    if lang not in ("zh", "en"):
        raise ParkgeoError(f"lang must be 'zh' or 'en', got {lang!r}")
    if isinstance(codes, str):
        return _name_of(normalize_code(codes), lang)
    series = _as_series(codes)

    def one(value: object) -> object:
        result = _normalize(value)
        return np.nan if isinstance(result, IndustryCodeError) else _name_of(result, lang)

    return _map_unique(series, one)


# --------------------------------------------------------------------------------------------
# strategic emerging industries
# --------------------------------------------------------------------------------------------

_MAPPING_COLUMNS = ("code", "category", "category_zh", "note")


def load_strategic_mapping(path: str | Path | None = None) -> pd.DataFrame:
    """Read a mapping from GB/T 4754 codes to strategic categories.

    Parameters
    ----------
    path : str or Path, optional
        A UTF-8 CSV with columns ``code`` (any level, any accepted form) and ``category``;
        ``category_zh`` and ``note`` are optional. Default: the bundled approximation
        ``data/strategic_emerging_industries.csv`` (see ``data/PROVENANCE.md``).

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (canonical), ``category``, ``category_zh``, ``note``, ``level``; one
        row per code.

    Raises
    ------
    SchemaError
        If a column is missing, or a row has an unknown code, an empty category or a code
        listed twice; the message names the file, the row (line number) and the fix.

    Examples
    --------
    >>> mapping = load_strategic_mapping()
    >>> mapping.set_index("code").loc["C27", "category"]
    'Biomedicine'
    """
    source = Path(path) if path is not None else data_path(_STRATEGIC_FILE)
    try:
        raw = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise SchemaError(f"strategic mapping file {source} does not exist") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SchemaError(
            f"{source}: cannot read the strategic mapping as UTF-8 CSV ({exc})"
        ) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("code", "category") if c not in raw.columns]
    if missing:
        raise SchemaError(
            f"{source}: the strategic mapping needs columns 'code' and 'category' "
            f"(missing: {', '.join(missing)}; found: {', '.join(raw.columns)})"
        )
    rows = []
    seen: dict[str, int] = {}
    for position, record in enumerate(raw.to_dict("records")):
        line = position + 2
        result = _normalize(record["code"])
        if isinstance(result, IndustryCodeError):
            raise SchemaError(
                f"{source}, line {line}, column 'code': {record['code']!r} is not a "
                f"GB/T 4754-2017 code ({result.reason})"
            )
        category = record["category"].strip()
        if not category:
            raise SchemaError(f"{source}, line {line}, column 'category': empty; name a category")
        if result in seen:
            raise SchemaError(
                f"{source}, line {line}: code {result} is already mapped on line {seen[result]}; "
                "keep one row per code"
            )
        seen[result] = line
        category_zh = (record.get("category_zh") or "").strip() or STRATEGIC_CATEGORIES_ZH.get(
            category, ""
        )
        rows.append(
            {
                "code": result,
                "category": category,
                "category_zh": category_zh or pd.NA,
                "note": (record.get("note") or "").strip() or pd.NA,
                "level": _level_of(result),
            }
        )
    columns = [*_MAPPING_COLUMNS, "level"]
    table: pd.DataFrame = pd.DataFrame(rows, columns=columns).astype(
        {"code": "str", "category": "str", "category_zh": "str", "note": "str", "level": "str"}
    )
    return table


@functools.lru_cache(maxsize=1)
def _bundled_mapping() -> pd.DataFrame:
    return load_strategic_mapping()


def strategic_category(
    codes: pd.Series | Iterable[object],
    *,
    mapping: pd.DataFrame | Mapping[str, str] | str | Path | None = None,
    lang: Literal["en", "zh"] = "en",
) -> pd.Series:
    """Strategic category of each code: the most specific matching mapping entry wins.

    A code ``C3841`` is looked up as ``C3841``, then ``C384``, ``C38`` and ``C``; the first hit
    gives its category. Codes with no hit, codes coarser than every matching entry (``C38``
    when only ``C384`` is mapped) and unknown codes are NA (not strategic, or not knowable).

    Parameters
    ----------
    codes : pandas.Series or iterable
        Industry codes in any accepted form.
    mapping : DataFrame, dict, path or None
        The output of :func:`load_strategic_mapping`, a path to such a CSV, a dict
        ``{code: category}``, or None for the bundled approximation.
    lang : {"en", "zh"}
        Return ``category`` or ``category_zh``.

    Returns
    -------
    pandas.Series
        ``str`` dtype on the input's index.

    Examples
    --------
    >>> strategic_category(["C2710", "C3841", "C3849", "C1311"]).tolist()
    ['Biomedicine', 'New energy vehicles', 'New energy', nan]
    >>> strategic_category(["C3612"], lang="zh").tolist()
    ['新能源汽车产业']
    """
    if lang not in ("en", "zh"):
        raise ParkgeoError(f"lang must be 'en' or 'zh', got {lang!r}")
    lookup = _mapping_lookup(mapping, lang)
    series = _as_series(codes)

    def one(value: object) -> object:
        result = _normalize(value)
        if isinstance(result, IndustryCodeError):
            return np.nan
        for end in range(len(result), 0, -1):
            if end == 2:  # "C2" is no code; divisions have two digits
                continue
            hit = lookup.get(result[:end])
            if hit is not None:
                return hit
        return np.nan

    return _map_unique(series, one)


def _mapping_lookup(mapping: Any, lang: str) -> dict[str, str]:
    if mapping is None:
        table = _bundled_mapping()
    elif isinstance(mapping, (str, Path)):
        table = load_strategic_mapping(mapping)
    elif isinstance(mapping, pd.DataFrame):
        if "code" not in mapping.columns or "category" not in mapping.columns:
            raise SchemaError("a strategic mapping DataFrame needs 'code' and 'category' columns")
        table = mapping.assign(code=[normalize_code(c) for c in mapping["code"]])
    elif isinstance(mapping, Mapping):
        table = pd.DataFrame(
            {
                "code": [normalize_code(c) for c in mapping],
                "category": list(mapping.values()),
            }
        )
    else:
        raise ParkgeoError(
            f"mapping must be a DataFrame, a dict, a CSV path or None, got {type(mapping).__name__}"
        )
    column = "category_zh" if lang == "zh" else "category"
    if column not in table.columns:
        table = table.assign(category_zh=table["category"].map(STRATEGIC_CATEGORIES_ZH))
    values = table[column].where(table[column].notna(), table["category"])
    return {str(code): str(value) for code, value in zip(table["code"], values, strict=True)}
