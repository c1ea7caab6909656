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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from parkgeo import _gbt4754
from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._gbt4754 import STRATEGIC_FILE, CodeProblem, classification, normalize
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

LEVELS: tuple[str, ...] = _gbt4754.LEVELS
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
    result: pd.DataFrame = classification().copy()
    return result


# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------


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
    result = normalize(code)
    if isinstance(result, CodeProblem):
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
    result = normalize(code)
    return result.reason if isinstance(result, CodeProblem) else None


def is_valid_code(code: object) -> bool:
    """Return whether a value normalises to a GB/T 4754-2017 code.

    Examples
    --------
    >>> is_valid_code("C2710"), is_valid_code(" 27 "), is_valid_code("Z99"), is_valid_code(None)
    (True, True, False, False)
    """
    return not isinstance(normalize(code), CodeProblem)


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
        result = normalize(value)
        return np.nan if isinstance(result, CodeProblem) else result

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
        result = normalize(value)
        if isinstance(result, CodeProblem):
            return np.nan
        rolled = _truncate(result, level)
        return np.nan if rolled is None else rolled

    return _map_unique(series, one)


def _name_of(canonical: str, lang: str) -> str:
    return _names(lang)[canonical]


@functools.lru_cache(maxsize=2)
def _names(lang: str) -> dict[str, str]:
    """Every code's name in ``lang`` (a dict: looked up once per distinct code of a column,
    where ``DataFrame.at`` cost 0.1 s for the planner's map at 120k firms)."""
    table = classification()
    codes = [str(code) for code in table.index]
    if lang == "zh":
        return dict(zip(codes, (str(name) for name in table["name"]), strict=True))
    english = dict(zip(codes, table["name_en"], strict=True))
    names: dict[str, str] = {}
    for code in codes:
        own = english[code]
        if isinstance(own, str) and own:
            names[code] = own
        else:
            names[code] = f"{code} (in {english[code[:3]]})"
    return names


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
        result = normalize(value)
        return np.nan if isinstance(result, CodeProblem) else _name_of(result, lang)

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
    source = Path(path) if path is not None else data_path(STRATEGIC_FILE)
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
        result = normalize(record["code"])
        if isinstance(result, CodeProblem):
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
        result = normalize(value)
        if isinstance(result, CodeProblem):
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
