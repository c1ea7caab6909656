"""Evaluation schemes (亩均效益评价方案) as data: read a TOML file, check it, say what is wrong.

A scheme says which firms are evaluated (eligibility), how they are grouped (e.g. 规上 and 规下
firms ranked separately), each group's indicators (a formula over canonical columns, a
direction, a weight and a scoring method), bonus and veto items, and how totals become classes
(by score thresholds or by shares). ``docs/evaluate.md`` describes the format; two example
schemes ship in ``data/schemes/``.

Every error is one line naming the key at fault, e.g.
``scheme.toml: groups[0] (规上企业): indicator weights sum to 95, not the declared total 100``.
"""

from __future__ import annotations

import ast
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parkgeo._paths import data_path
from parkgeo.evaluate_expr import (
    SchemeError,
    compile_expression,
    evaluate_expression,
    expression_names,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "EVALUATION_COLUMNS",
    "EXAMPLE_SCHEMES",
    "Bonus",
    "ClassRule",
    "Eligibility",
    "Group",
    "Indicator",
    "Scheme",
    "SchemeError",
    "example_scheme",
    "evaluate_expression",
    "read_scheme",
    "scheme_from_dict",
]

# canonical columns a formula, rule or group may use -> unit (documented in docs/evaluate.md)
EVALUATION_COLUMNS: dict[str, str] = {
    "tax": "万元 (10,000 CNY)",
    "profit": "万元",
    "value_added": "万元",
    "energy_tce": "吨标准煤 (tce)",
    "employees": "人 (persons)",
    "revenue": "万元",
    "rd_expense": "万元",
    "tech_investment": "万元",
    "cod_t": "吨 (tonnes)",
    "so2_t": "吨",
    "nox_t": "吨",
    "emissions_t": "吨 (all pollutants, or the sum of COD, SO2 and NOx where only those are given)",
    "water_t": "吨 (1 m3 = 1 t)",
    "electricity_kwh": "千瓦时 (kWh)",
    "land_ha": "公顷 (ha)",
    "land_mu": "亩 (mu; 1 ha = 15 mu)",
    "above_scale": "1 = 规上 (above designated size), 0 = 规下",
    "years_in_operation": "years since founded_year",
    "year": "evaluation year",
}
METHODS = ("base", "minmax")
DIRECTIONS = ("higher", "lower")
MISSING_RULES = ("zero", "reweight")
EXAMPLE_SCHEMES = ("linhai_base", "jingde_minmax")

_SCHEME_KEYS = {"name", "description", "source", "example", "total", "missing", "cap"}
_TOP_KEYS = {"scheme", "eligibility", "groups", "bonus", "veto", "classes"}
_GROUP_KEYS = {"key", "name", "column", "values", "rule", "min_land_mu", "missing", "indicators"}
_INDICATOR_KEYS = {
    "key",
    "name",
    "formula",
    "unit",
    "direction",
    "weight",
    "method",
    "base",
    "cap",
    "a",
    "b",
    "winsorize",
}
_ELIGIBILITY_KEYS = {"min_land_mu", "sections", "exclude_divisions", "min_years"}
_ITEM_KEYS = {"key", "name", "column", "rule", "points"}
_CLASS_KEYS = {"by", "labels", "shares", "thresholds", "tie_break"}


@dataclass(frozen=True)
class Indicator:
    """One indicator of a group: ``formula`` over canonical columns, scored by ``method``.

    ``base``: score = weight x clip(value / base, 0, cap) (``lower``: base / value).
    ``minmax``: score = weight x (a + b x t) / 100 with t = (value - min) / (max - min) within
    the group and year (``lower``: (max - value) / (max - min)).
    """

    key: str
    name: str
    formula: str
    weight: float
    direction: str = "higher"
    method: str = "base"
    base: float | None = None
    cap: float = math.inf
    a: float = 20.0
    b: float = 80.0
    winsorize: tuple[float, float] | None = None
    unit: str = ""
    expr: ast.Expression | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Group:
    """Firms scored and ranked together: chosen by ``column`` in ``values`` or by ``rule``."""

    key: str
    name: str
    indicators: tuple[Indicator, ...]
    column: str | None = None
    values: tuple[Any, ...] = ()
    rule: str | None = None
    min_land_mu: float | None = None
    missing: str = "zero"
    rule_expr: ast.Expression | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Bonus:
    """Bonus points (``points`` > 0) or a deduction (< 0) where ``column`` is true or ``rule``
    holds; a veto item has no points and forces the lowest class."""

    key: str
    name: str
    column: str | None = None
    rule: str | None = None
    points: float = 0.0
    rule_expr: ast.Expression | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ClassRule:
    """How totals become classes, best class first."""

    by: str = "shares"
    labels: tuple[str, ...] = ("A", "B", "C", "D")
    shares: tuple[float, ...] = (0.2, 0.4, 0.3, 0.1)
    thresholds: tuple[float, ...] = ()
    tie_break: tuple[str, ...] = ()


@dataclass(frozen=True)
class Eligibility:
    """Which firm-years are evaluated at all."""

    min_land_mu: float = 0.0
    sections: tuple[str, ...] = ()
    exclude_divisions: tuple[str, ...] = ()
    min_years: float | None = None


@dataclass(frozen=True)
class Scheme:
    """A whole evaluation scheme (see :func:`read_scheme`)."""

    name: str
    groups: tuple[Group, ...]
    classes: ClassRule = field(default_factory=ClassRule)
    eligibility: Eligibility = field(default_factory=Eligibility)
    bonuses: tuple[Bonus, ...] = ()
    vetoes: tuple[Bonus, ...] = ()
    total: float = 100.0
    description: str = ""
    source: str = ""
    example: bool = False
    path: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """Input columns the scheme reads: canonical ones and bonus/veto/group columns."""
        names: set[str] = set()
        for group in self.groups:
            if group.column:
                names.add(group.column)
            if group.rule_expr is not None:
                names |= expression_names(group.rule_expr)
            for ind in group.indicators:
                if ind.expr is not None:
                    names |= expression_names(ind.expr)
        for item in (*self.bonuses, *self.vetoes):
            if item.column:
                names.add(item.column)
            if item.rule_expr is not None:
                names |= expression_names(item.rule_expr)
        return tuple(sorted(names))


# -- reading and checking ----------------------------------------------------------------------


def _unknown_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise SchemeError(
            f"{where}: unknown key {extra[0]!r}; allowed keys are {', '.join(sorted(allowed))}"
        )


def _number(value: object, where: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise SchemeError(f"{where}: must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise SchemeError(f"{where}: must be at least {minimum:g}, got {value!r}")
    return float(value)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SchemeError(f"{where}: must be a non-empty string, got {value!r}")
    return value.strip()


def _choice(value: object, choices: Sequence[str], where: str) -> str:
    if value not in choices:
        raise SchemeError(f"{where}: unknown value {value!r}; use one of {', '.join(choices)}")
    return str(value)


def _indicator(
    raw: Any, where: str, defaults: Mapping[str, Any], allowed: Sequence[str]
) -> Indicator:
    if not isinstance(raw, Mapping):
        raise SchemeError(f"{where}: must be a table with key, name, formula, weight, method")
    _unknown_keys(raw, _INDICATOR_KEYS, where)
    key = _text(raw.get("key"), f"{where}.key")
    where = f"{where} ({key})"
    formula = _text(raw.get("formula"), f"{where}.formula")
    expr = compile_expression(formula, where=f"{where}.formula", allowed=allowed)
    method = _choice(raw.get("method", defaults.get("method", "base")), METHODS, f"{where}.method")
    direction = _choice(raw.get("direction", "higher"), DIRECTIONS, f"{where}.direction")
    weight = _number(raw.get("weight"), f"{where}.weight", minimum=0.0)
    base = None
    if method == "base":
        base = _number(raw.get("base"), f"{where}.base")
        if base <= 0:
            raise SchemeError(f"{where}.base: must be above 0, got {base:g}")
    elif "base" in raw:
        raise SchemeError(f"{where}.base: only the 'base' method uses a base value")
    cap = _number(raw.get("cap", defaults.get("cap", math.inf)), f"{where}.cap", minimum=0.0)
    a = _number(raw.get("a", 20.0), f"{where}.a")
    b = _number(raw.get("b", 80.0), f"{where}.b")
    wins = raw.get("winsorize")
    winsorize = None
    if wins is not None:
        if not (isinstance(wins, list) and len(wins) == 2):
            raise SchemeError(
                f"{where}.winsorize: must be [low, high] quantiles, e.g. [0.01, 0.99]"
            )
        lo = _number(wins[0], f"{where}.winsorize")
        hi = _number(wins[1], f"{where}.winsorize")
        if not 0 <= lo < hi <= 1:
            raise SchemeError(f"{where}.winsorize: need 0 <= low < high <= 1, got {wins!r}")
        winsorize = (lo, hi)
    return Indicator(
        key=key,
        name=str(raw.get("name", key)),
        formula=formula,
        weight=weight,
        direction=direction,
        method=method,
        base=base,
        cap=cap,
        a=a,
        b=b,
        winsorize=winsorize,
        unit=str(raw.get("unit", "")),
        expr=expr,
    )


def _item(raw: Any, where: str, *, veto: bool) -> Bonus:
    if not isinstance(raw, Mapping):
        raise SchemeError(f"{where}: must be a table with key, name and column or rule")
    _unknown_keys(raw, _ITEM_KEYS - ({"points"} if veto else set()), where)
    key = _text(raw.get("key"), f"{where}.key")
    column = raw.get("column")
    rule = raw.get("rule")
    if (column is None) == (rule is None):
        raise SchemeError(f"{where} ({key}): give exactly one of column or rule")
    points = 0.0 if veto else _number(raw.get("points"), f"{where} ({key}).points")
    return Bonus(
        key=key,
        name=str(raw.get("name", key)),
        column=None if column is None else _text(column, f"{where} ({key}).column"),
        rule=None if rule is None else str(rule),
        points=points,
        rule_expr=None if rule is None else compile_expression(rule, where=f"{where} ({key}).rule"),
    )


def _classes(raw: Any, where: str, keys: set[str]) -> ClassRule:
    if raw is None:
        return ClassRule()
    if not isinstance(raw, Mapping):
        raise SchemeError(f"{where}: must be a table")
    _unknown_keys(raw, _CLASS_KEYS, where)
    by = _choice(raw.get("by", "shares"), ("shares", "thresholds"), f"{where}.by")
    labels = tuple(str(x) for x in raw.get("labels", ["A", "B", "C", "D"]))
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise SchemeError(f"{where}.labels: need two or more distinct labels, best first")
    shares: tuple[float, ...] = ()
    thresholds: tuple[float, ...] = ()
    if by == "shares":
        shares = tuple(_number(s, f"{where}.shares", minimum=0.0) for s in raw.get("shares", []))
        if len(shares) != len(labels):
            raise SchemeError(
                f"{where}.shares: give one share per label ({len(labels)}), got {len(shares)}"
            )
        if abs(sum(shares) - 1.0) > 1e-9:
            raise SchemeError(f"{where}.shares: must sum to 1, got {sum(shares):g}")
    else:
        thresholds = tuple(_number(t, f"{where}.thresholds") for t in raw.get("thresholds", []))
        if len(thresholds) != len(labels) - 1:
            raise SchemeError(
                f"{where}.thresholds: give the lower bound of every class but the last "
                f"({len(labels) - 1} numbers), got {len(thresholds)}"
            )
        if any(x <= y for x, y in zip(thresholds, thresholds[1:], strict=False)):
            raise SchemeError(f"{where}.thresholds: must decrease from the best class down")
    tie_break = tuple(str(t) for t in raw.get("tie_break", []))
    for t in tie_break:
        if t not in keys:
            raise SchemeError(
                f"{where}.tie_break: unknown indicator {t!r}; the scheme's indicators are "
                f"{', '.join(sorted(keys))}"
            )
    return ClassRule(
        by=by, labels=labels, shares=shares, thresholds=thresholds, tie_break=tie_break
    )


def _group(raw: Any, where: str, defaults: Mapping[str, Any], total: float) -> Group:
    if not isinstance(raw, Mapping):
        raise SchemeError(f"{where}: must be a table")
    _unknown_keys(raw, _GROUP_KEYS, where)
    key = _text(raw.get("key"), f"{where}.key")
    name = str(raw.get("name", key))
    where = f"{where} ({name})"
    column = raw.get("column")
    rule = raw.get("rule")
    if column is not None and rule is not None:
        raise SchemeError(f"{where}: give column and values, or rule, not both")
    values: tuple[Any, ...] = ()
    if column is not None:
        column = _text(column, f"{where}.column")
        vals = raw.get("values")
        if not isinstance(vals, list) or not vals:
            raise SchemeError(f"{where}.values: list the values of {column!r} in this group")
        values = tuple(vals)
    elif "values" in raw:
        raise SchemeError(f"{where}.values: needs a column")
    rule_expr = None if rule is None else compile_expression(rule, where=f"{where}.rule")
    items = raw.get("indicators")
    if not isinstance(items, list) or not items:
        raise SchemeError(f"{where}.indicators: a group needs at least one indicator")
    allowed = list(EVALUATION_COLUMNS)
    indicators = tuple(
        _indicator(item, f"{where}.indicators[{i}]", defaults, allowed)
        for i, item in enumerate(items)
    )
    seen: set[str] = set()
    for ind in indicators:
        if ind.key in seen:
            raise SchemeError(f"{where}.indicators: key {ind.key!r} appears twice")
        seen.add(ind.key)
    weights = sum(ind.weight for ind in indicators)
    if abs(weights - total) > 1e-9 * max(1.0, total):
        raise SchemeError(
            f"{where}.indicators: weights sum to {weights:g}, not the declared total {total:g} "
            "(scheme.total)"
        )
    missing = _choice(
        raw.get("missing", defaults.get("missing", "zero")), MISSING_RULES, f"{where}.missing"
    )
    min_land = raw.get("min_land_mu")
    return Group(
        key=key,
        name=name,
        indicators=indicators,
        column=column,
        values=values,
        rule=None if rule is None else str(rule),
        min_land_mu=None if min_land is None else _number(min_land, f"{where}.min_land_mu"),
        missing=missing,
        rule_expr=rule_expr,
    )


def scheme_from_dict(data: Mapping[str, Any], *, source: str = "scheme") -> Scheme:
    """Build and check a :class:`Scheme` from the parsed TOML tables.

    Raises
    ------
    SchemeError
        One line naming ``source`` and the key at fault.

    Examples
    --------
    >>> s = scheme_from_dict({"groups": [{"key": "all", "indicators": [
    ...     {"key": "tax_per_mu", "formula": "tax / land_mu", "weight": 100, "base": 15}]}]})
    >>> s.groups[0].indicators[0].method, s.classes.labels
    ('base', ('A', 'B', 'C', 'D'))
    >>> scheme_from_dict({"groups": [{"key": "all", "indicators": [
    ...     {"key": "t", "formula": "tax / land_mu", "weight": 90, "base": 15}]}]})
    Traceback (most recent call last):
    ...
    parkgeo.evaluate_expr.SchemeError: scheme: groups[0] (all).indicators: weights sum to 90, not the declared total 100 (scheme.total)
    """
    try:
        return _scheme_from_dict(data)
    except SchemeError as exc:
        raise SchemeError(f"{source}: {exc}") from None


def _scheme_from_dict(data: Mapping[str, Any]) -> Scheme:
    _unknown_keys(data, _TOP_KEYS, "top level")
    head = data.get("scheme", {})
    if not isinstance(head, Mapping):
        raise SchemeError("scheme: must be a table")
    _unknown_keys(head, _SCHEME_KEYS, "scheme")
    total = _number(head.get("total", 100.0), "scheme.total", minimum=0.0)
    defaults = {
        "missing": _choice(head.get("missing", "zero"), MISSING_RULES, "scheme.missing"),
        "cap": _number(head.get("cap", math.inf), "scheme.cap", minimum=0.0),
    }
    raw_groups = data.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise SchemeError("groups: a scheme needs at least one [[groups]] table")
    groups = tuple(_group(g, f"groups[{i}]", defaults, total) for i, g in enumerate(raw_groups))
    _check_overlaps(groups)
    keys = {ind.key for g in groups for ind in g.indicators}
    elig_raw = data.get("eligibility", {})
    if not isinstance(elig_raw, Mapping):
        raise SchemeError("eligibility: must be a table")
    _unknown_keys(elig_raw, _ELIGIBILITY_KEYS, "eligibility")
    min_years = elig_raw.get("min_years")
    eligibility = Eligibility(
        min_land_mu=_number(elig_raw.get("min_land_mu", 0.0), "eligibility.min_land_mu", minimum=0),
        sections=tuple(str(s).upper() for s in elig_raw.get("sections", [])),
        exclude_divisions=tuple(str(s).upper() for s in elig_raw.get("exclude_divisions", [])),
        min_years=None if min_years is None else _number(min_years, "eligibility.min_years"),
    )
    for s in eligibility.sections:
        if len(s) != 1 or not "A" <= s <= "T":
            raise SchemeError(f"eligibility.sections: {s!r} is not a GB/T 4754 section A..T")
    bonuses = tuple(
        _item(b, f"bonus[{i}]", veto=False) for i, b in enumerate(data.get("bonus", []))
    )
    vetoes = tuple(_item(v, f"veto[{i}]", veto=True) for i, v in enumerate(data.get("veto", [])))
    classes = _classes(data.get("classes"), "classes", keys)
    return Scheme(
        name=str(head.get("name", "scheme")),
        groups=groups,
        classes=classes,
        eligibility=eligibility,
        bonuses=bonuses,
        vetoes=vetoes,
        total=total,
        description=str(head.get("description", "")),
        source=str(head.get("source", "")),
        example=bool(head.get("example", False)),
    )


def _check_overlaps(groups: Sequence[Group]) -> None:
    """Groups chosen by the same column must not share a value (groups chosen by rules are
    checked on the data: a firm matching two groups is an error there)."""
    keys: set[str] = set()
    for i, g in enumerate(groups):
        if g.key in keys:
            raise SchemeError(f"groups[{i}].key: {g.key!r} appears twice")
        keys.add(g.key)
        for j in range(i):
            h = groups[j]
            if g.column is not None and g.column == h.column:
                common = [v for v in g.values if v in h.values]
                if common:
                    raise SchemeError(
                        f"groups[{i}] ({g.name}).values: {common[0]!r} of column {g.column!r} "
                        f"is also in groups[{j}] ({h.name}); groups must not overlap"
                    )
            elif g.column is None and g.rule is None and h.column is None and h.rule is None:
                raise SchemeError(
                    f"groups[{i}] ({g.name}): groups[{j}] ({h.name}) also takes every firm; "
                    "groups must not overlap (give each a column and values, or a rule)"
                )


def read_scheme(path: str | Path) -> Scheme:
    """Read and check a TOML scheme file (or a shipped example by name, see
    :func:`example_scheme`).

    Examples
    --------
    >>> s = read_scheme("linhai_base")
    >>> [g.name for g in s.groups], s.example
    (['用地3亩及以上企业', '用地3亩以下企业'], True)
    """
    if str(path) in EXAMPLE_SCHEMES:
        return example_scheme(str(path))
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SchemeError(
            f"{p}: no such scheme file (or give an example: {', '.join(EXAMPLE_SCHEMES)})"
        ) from None
    except UnicodeDecodeError as exc:
        raise SchemeError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{p}: not valid TOML ({exc})") from None
    scheme = scheme_from_dict(data, source=str(p))
    return Scheme(**{**scheme.__dict__, "path": str(p)})


def example_scheme(name: str) -> Scheme:
    """One of the shipped example schemes: ``linhai_base`` (base-value scoring, modelled on
    临海市) or ``jingde_minmax`` (min-max scoring and class shares, modelled on 旌德县)."""

    if name not in EXAMPLE_SCHEMES:
        raise SchemeError(f"unknown example scheme {name!r}; use {', '.join(EXAMPLE_SCHEMES)}")
    return read_scheme(data_path(f"schemes/{name}.toml"))
