"""Header aliases: map users' column headers (Chinese or English) to parkgeo's canonical names.

Users' files carry their own headers, very often Chinese ones with units in brackets
(``纳税总额(万元)``). A header is normalised (Unicode NFKC, so full-width letters and brackets
become ASCII; case folded; bracketed units, whitespace, ``_`` and ``-`` removed) and then looked
up among the aliases below. An explicit mapping (canonical name -> user header) always wins.

The unit in a header's brackets is kept: a money column headed ``纳税总额(元)`` is in yuan and is
scaled to parkgeo's 10,000 CNY by :func:`header_scale`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from parkgeo._columns_eval import ELECTRICITY_UNITS, MASS_UNITS
from parkgeo._errors import SchemaError

__all__ = [
    "ENTERPRISE_ALIASES",
    "ENTERPRISE_COLUMNS",
    "ENTERPRISE_REQUIRED",
    "MEASURES",
    "PARK_ALIASES",
    "PARK_COLUMNS",
    "PARK_REQUIRED",
    "ColumnMatch",
    "header_scale",
    "header_unit",
    "match_columns",
    "normalize_header",
]

ENTERPRISE_COLUMNS: tuple[str, ...] = (
    "enterprise_id",
    "name",
    "industry",
    "lon",
    "lat",
    "year",
    "tax",
    "profit",
    "value_added",
    "energy_tce",
    "employees",
)
MEASURES: tuple[str, ...] = ("tax", "profit", "value_added", "energy_tce", "employees")
MONEY: tuple[str, ...] = ("tax", "profit", "value_added")
DENSITY_NEEDS: tuple[str, ...] = ("tax", "energy_tce")
"""Measures behind density's headline figures (tax and energy per hectare): a file without
a column for one is a loud warning (an error under ``strict``)."""
ENTERPRISE_REQUIRED: tuple[str, ...] = ("enterprise_id", "lon", "lat", "year")

PARK_COLUMNS: tuple[str, ...] = (
    "park_id",
    "name",
    "district",
    "level",
    "approved_area_ha",
    "leading_industries",
    "priority",
)
PARK_REQUIRED: tuple[str, ...] = ("park_id",)

ENTERPRISE_ALIASES: dict[str, tuple[str, ...]] = {
    "enterprise_id": (
        "enterprise_id",
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "企业代码",
        "企业编号",
        "组织机构代码",
        "法人单位代码",
        "单位代码",
        "id",
        "company_id",
        "firm_id",
        "uscc",
        "credit_code",
    ),
    "name": (
        "name",
        "企业名称",
        "名称",
        "企业",
        "单位名称",
        "公司名称",
        "法人单位名称",
        "company",
        "company_name",
        "enterprise_name",
        "firm_name",
    ),
    "industry": (
        "industry",
        "industry_code",
        "行业代码",
        "行业",
        "国民经济行业代码",
        "国民经济行业",
        "行业分类代码",
        "所属行业代码",
        "所属行业",
        "gbt4754",
        "nic",
        "isic",
    ),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "坐标x", "x坐标"),
    "lat": ("lat", "latitude", "y", "纬度", "坐标y", "y坐标"),
    # one cell holding "lon,lat" (how Gaode's geocoder returns a location)
    "lonlat": ("lonlat", "lnglat", "经纬度", "坐标", "经纬度坐标", "location", "coordinates"),
    "year": ("year", "年份", "年度", "统计年度", "报告年度", "yr"),
    "tax": (
        "tax",
        "税收",
        "纳税总额",
        "税收总额",
        "实缴税金",
        "实缴税金总额",
        "实缴税费",
        "实缴税费合计",
        "税费合计",
        "税费总额",
        "税金总额",
        "上缴税金",
        "上缴税收",
        "缴纳税款",
        "纳税金额",
        "全口径税收",
        "税金",
        "纳税额",
        "纳税",
        "税收收入",
        "tax_paid",
        "taxes",
    ),
    "profit": (
        "profit",
        "利润总额",
        "利润",
        "税前利润",
        "pretax_profit",
        "profits",
        "profit_total",
    ),
    "value_added": ("value_added", "工业增加值", "增加值", "va", "gva", "valueadded"),
    "energy_tce": (
        "energy_tce",
        "综合能耗",
        "能耗",
        "综合能源消费量",
        "能源消费量",
        "energy",
        "energy_consumption",
        "tce",
    ),
    "employees": (
        "employees",
        "从业人员",
        "从业人员数",
        "从业人数",
        "职工人数",
        "职工数",
        "年末从业人员",
        "从业人员期末人数",
        "就业人数",
        "员工人数",
        "employment",
        "workers",
        "staff",
        "jobs",
    ),
}

PARK_ALIASES: dict[str, tuple[str, ...]] = {
    "park_id": (
        "park_id",
        "园区编号",
        "园区代码",
        "开发区代码",
        "代码",
        "编号",
        "zone_id",
        "zone_code",
        "code",
        "id",
    ),
    "name": ("name", "园区名称", "开发区名称", "名称", "园区", "park_name", "zone_name"),
    "district": ("district", "区县", "所在区县", "城市/区县", "区", "行政区", "county"),
    "level": ("level", "级别", "批准级别", "园区级别", "开发区级别"),
    "approved_area_ha": (
        "approved_area_ha",
        "核准面积_公顷",
        "核准面积",
        "批准面积",
        "规划面积",
        "approved_area",
        "area_ha",
    ),
    "leading_industries": ("leading_industries", "主导产业", "主导行业", "industries"),
    "priority": ("priority", "优先级", "优先顺序"),
}

# Units that may sit in a header's brackets, per kind of column, and the factor to parkgeo's
# units (10,000 CNY, tce, persons, hectares).
# One unit vocabulary for headers (``纳税总额(元)``) and cells (``123万元``), so the two cannot
# drift apart; parkgeo._validate adds the empty unit for plain numbers.
MONEY_UNITS: dict[str, float] = {
    "万元": 1.0,
    "万": 1.0,
    "万元人民币": 1.0,
    "10kcny": 1.0,
    "10000cny": 1.0,
    "元": 1e-4,
    "元人民币": 1e-4,
    "人民币元": 1e-4,
    "yuan": 1e-4,
    "cny": 1e-4,
    "rmb": 1e-4,
    "千元": 0.1,
    "百万元": 100.0,
    "百万": 100.0,
    "千万元": 1000.0,
    "千万": 1000.0,
    "亿元": 1e4,
    "亿": 1e4,
}
ENERGY_UNITS: dict[str, float] = {
    "吨标准煤": 1.0,
    "吨标煤": 1.0,
    "tce": 1.0,
    "t": 1.0,
    "吨": 1.0,
    "万吨标准煤": 1e4,
    "万吨标煤": 1e4,
    "万tce": 1e4,
    "万吨": 1e4,
    "千克标准煤": 1e-3,
    "公斤标准煤": 1e-3,
    "kgce": 1e-3,
}
PEOPLE_UNITS: dict[str, float] = {
    "人": 1.0,
    "名": 1.0,
    "个": 1.0,
    "位": 1.0,
    "persons": 1.0,
    "person": 1.0,
    "万人": 1e4,
}
AREA_UNITS: dict[str, float] = {
    "公顷": 1.0,
    "ha": 1.0,
    "hm2": 1.0,
    "亩": 1 / 15,
    "mu": 1 / 15,
    "平方公里": 100.0,
    "km2": 100.0,
    "平方千米": 100.0,
    "平方米": 1e-4,
    "m2": 1e-4,
}
HEADER_UNITS: dict[str, dict[str, float]] = {
    **{c: MONEY_UNITS for c in MONEY},
    "energy_tce": ENERGY_UNITS,
    "employees": PEOPLE_UNITS,
    "approved_area_ha": AREA_UNITS,
}

# -- per-mu evaluation (parkgeo.evaluate): its column aliases and units are in _columns_eval.
HEADER_UNITS.update(
    {
        "revenue": MONEY_UNITS,
        "rd_expense": MONEY_UNITS,
        "tech_investment": MONEY_UNITS,
        "cod_t": MASS_UNITS,
        "so2_t": MASS_UNITS,
        "nox_t": MASS_UNITS,
        "emissions_t": MASS_UNITS,
        "water_t": MASS_UNITS,
        "electricity_kwh": ELECTRICITY_UNITS,
        "land_area": AREA_UNITS,
    }
)

_BRACKETS = re.compile(r"[(\[{<]([^)\]}>]*)[)\]}>]")
_SEPARATORS = re.compile(r"[\s_\-./:·]+")

MAPPING_SYNTAX = (
    'Pass columns={"tax": "your header", ...} in Python, or on the command line a TOML file '
    'via --columns with lines like  tax = "纳税总额"  under [enterprises] (or park_id = "代码" '
    "under [parks])."
)


def _nfkc(text: str) -> str:
    # NFKC turns full-width ASCII (ＩＤ, （万元）) and ideographic spaces into plain ASCII.
    return unicodedata.normalize("NFKC", str(text))


def normalize_header(header: object) -> str:
    """Normalise a column header for alias lookup.

    Parameters
    ----------
    header : object
        A column header as found in the file.

    Returns
    -------
    str
        NFKC-folded, lower-cased header with bracketed units, whitespace, ``_``, ``-``, ``.``
        and ``/`` removed.

    Examples
    --------
    >>> normalize_header(" 纳税总额（万元） ")
    '纳税总额'
    >>> normalize_header("Energy_TCE")
    'energytce'
    """
    text = _nfkc(str(header)).strip().lower().replace("\ufeff", "")
    text = _BRACKETS.sub("", text)
    return _SEPARATORS.sub("", text)


def header_unit(header: object) -> str | None:
    """The unit written in a header's brackets, normalised (``纳税总额(元)`` -> ``元``), or None.

    Examples
    --------
    >>> header_unit("综合能耗（吨标准煤）")
    '吨标准煤'
    >>> header_unit("tax") is None
    True
    """
    found = _BRACKETS.findall(_nfkc(str(header)).lower())
    if not found:
        return None
    return _SEPARATORS.sub("", found[-1]) or None


def header_scale(canonical: str, header: object) -> float:
    """Factor that converts values of a column headed ``header`` to parkgeo's unit.

    Money is in 10,000 CNY, energy in tce, areas in hectares. A header without a unit, or with
    one parkgeo does not know, gets 1.0 (values are taken as already in parkgeo's unit).

    Examples
    --------
    >>> header_scale("tax", "纳税总额(元)")
    0.0001
    >>> header_scale("tax", "纳税总额（万元）")
    1.0
    >>> header_scale("approved_area_ha", "面积(平方公里)")
    100.0
    """
    unit = header_unit(header)
    if unit is None:
        return 1.0
    return HEADER_UNITS.get(canonical, {}).get(unit, 1.0)


def _alias_index(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, names in aliases.items():
        for alias in (canonical, *names):
            index.setdefault(normalize_header(alias), canonical)
    return index


# normalised header -> canonical name, per kind; _colreport suggests close matches from it
ALIAS_INDEX = {"enterprises": _alias_index(ENTERPRISE_ALIASES), "parks": _alias_index(PARK_ALIASES)}
# "lonlat" is matched (and split into lon and lat by the reader) but is not an output column
CANONICAL_COLUMNS = {"enterprises": (*ENTERPRISE_COLUMNS, "lonlat"), "parks": PARK_COLUMNS}
_REQUIRED = {"enterprises": ENTERPRISE_REQUIRED, "parks": PARK_REQUIRED}


@dataclass(frozen=True)
class ColumnMatch:
    """The result of matching a file's headers to canonical columns.

    Attributes
    ----------
    columns : dict
        canonical name -> the user's header that supplies it.
    missing : tuple of str
        Required canonical columns that no header supplies.
    headers : tuple of str
        Every header found in the file, in file order.
    """

    columns: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()

    @property
    def score(self) -> int:
        """How many canonical columns were found (used to pick a header row or delimiter)."""
        return len(self.columns)


def _check_explicit(mapping: Mapping[str, str], kind: str) -> dict[str, str]:
    canonical = CANONICAL_COLUMNS[kind]
    out: dict[str, str] = {}
    for key, value in mapping.items():
        if key in canonical:
            out[key] = str(value)
        elif str(value) in canonical:
            # Accept the reverse direction (user header -> canonical) too: it is unambiguous.
            out[str(value)] = str(key)
        else:
            raise SchemaError(
                f"column mapping entry {key!r}: {value!r} names no parkgeo column; the {kind} "
                f"columns are {', '.join(canonical)}. {MAPPING_SYNTAX}"
            )
    return out


def _check_one_to_one(explicit: Mapping[str, str], source: str) -> None:
    """Refuse a mapping that sends two parkgeo columns to one header (which one is it?)."""
    by_header: dict[str, list[str]] = {}
    for key, value in explicit.items():
        by_header.setdefault(normalize_header(value), []).append(key)
    for names in by_header.values():
        if len(names) > 1:
            raise SchemaError(
                f"{source}: the column mapping sends {' and '.join(names)} to one header "
                f"({explicit[names[0]]!r}); each parkgeo column needs its own header: fix the "
                f"mapping. {MAPPING_SYNTAX}"
            )


def match_columns(
    headers: Iterable[object],
    *,
    kind: str = "enterprises",
    mapping: Mapping[str, str] | None = None,
    source: str = "input",
    required: Iterable[str] | None = None,
    check: bool = True,
) -> ColumnMatch:
    """Match a file's headers to canonical columns.

    Parameters
    ----------
    headers : iterable
        The file's column headers.
    kind : {"enterprises", "parks"}
        Which table's canonical columns to look for.
    mapping : dict, optional
        Explicit canonical name -> user header; wins over the built-in aliases.
    source : str
        File name, for error messages.
    required : iterable of str, optional
        Required canonical columns (default: the table's required columns).
    check : bool
        Raise :class:`SchemaError` when a required column is missing or two headers map to one
        column. With ``check=False`` the result is returned as is (used to score candidate
        header rows).

    Returns
    -------
    ColumnMatch

    Raises
    ------
    SchemaError
        A required column is missing, a mapped header is absent, or two headers map to one
        canonical column.

    Examples
    --------
    >>> m = match_columns(["企业名称", "统一社会信用代码", "经度", "纬度", "年份", "纳税总额(万元)"])
    >>> m.columns["tax"], m.columns["enterprise_id"]
    ('纳税总额(万元)', '统一社会信用代码')
    """
    if kind not in ALIAS_INDEX:
        raise ValueError(f"kind must be 'enterprises' or 'parks', not {kind!r}")
    header_list = tuple(str(h) for h in headers)
    needed = tuple(_REQUIRED[kind] if required is None else required)
    explicit = _check_explicit(mapping or {}, kind)
    _check_one_to_one(explicit, source)
    columns: dict[str, str] = {}
    for canonical, header in explicit.items():
        if header not in header_list:
            # Tolerate differences of case, width and spacing in the user's mapping.
            norm = normalize_header(header)
            hits = [h for h in header_list if normalize_header(h) == norm]
            if len(hits) != 1:
                raise SchemaError(
                    f"{source}: the column mapping says {canonical} = {header!r}, but the file "
                    f"has no such header. Headers found: {', '.join(map(repr, header_list))}."
                )
            header = hits[0]
        columns[canonical] = header

    taken = set(columns.values())
    found: dict[str, list[str]] = {}
    index = ALIAS_INDEX[kind]
    for header in header_list:
        if header in taken:
            continue
        hit = index.get(normalize_header(header))
        if hit is not None and hit not in columns:
            found.setdefault(hit, []).append(header)

    clashes = {c: hs for c, hs in found.items() if len(hs) > 1}
    for canonical, hs in found.items():
        if len(hs) == 1:
            columns[canonical] = hs[0]
    combined = "lonlat" in columns and kind == "enterprises"
    missing = tuple(
        c
        for c in needed
        if c not in columns and c not in clashes and not (combined and c in ("lon", "lat"))
    )
    result = ColumnMatch(
        columns={c: columns[c] for c in CANONICAL_COLUMNS[kind] if c in columns},
        missing=missing,
        headers=header_list,
    )
    if check and clashes:
        detail = "; ".join(
            f"{c} <- {', '.join(map(repr, hs))}" for c, hs in sorted(clashes.items())
        )
        raise SchemaError(
            f"{source}: several headers map to the same column ({detail}). Say which one to use: "
            f"{MAPPING_SYNTAX}"
        )
    if check and missing:
        raise SchemaError(
            f"{source}: required column(s) {', '.join(missing)} not found. Headers found: "
            f"{', '.join(map(repr, header_list)) or '(none)'}. Recognised headers include "
            + "; ".join(f"{c}: {', '.join(_aliases(kind)[c][:4])}" for c in missing)
            + f". {MAPPING_SYNTAX}"
        )
    return result


def _aliases(kind: str) -> dict[str, tuple[str, ...]]:
    return ENTERPRISE_ALIASES if kind == "enterprises" else PARK_ALIASES
