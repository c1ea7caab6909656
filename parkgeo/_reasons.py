"""Plain-language reasons for a park's missing industry, in English and Chinese.

A planner reads these on the gap map and in the report, so they say what the numbers mean
("the nearest concentration of C39 firms is 12.6 km east, around X"), never how they were
computed (no cluster numbers, location quotients or proximity scores: those are columns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from parkgeo.industry import STRATEGIC_CATEGORIES_ZH

# a cluster hull closer than this to the park touches it: "0.0 km away" would read as a paradox
TOUCHING_KM = 0.05
PEERS_NAMED = 3
_COMPASS_EN = (
    "north",
    "north-east",
    "east",
    "south-east",
    "south",
    "south-west",
    "west",
    "north-west",
)
_COMPASS_ZH = ("以北", "东北方向", "以东", "东南方向", "以南", "西南方向", "以西", "西北方向")
_MEASURE_EN = {
    "count": "firms",
    "employees": "employees",
    "value_added": "value added",
    "tax": "tax",
}
_MEASURE_ZH = {"count": "企业数", "employees": "从业人员", "value_added": "增加值", "tax": "税收"}


def compass_point(dx: float, dy: float) -> int | None:
    """One of 8 compass points (0 = north, clockwise) of the vector (dx east, dy north)."""
    if not (math.isfinite(dx) and math.isfinite(dy)) or (dx == 0 and dy == 0):
        return None
    bearing = math.degrees(math.atan2(dx, dy)) % 360.0
    return int(((bearing + 22.5) % 360.0) // 45.0)


@dataclass(frozen=True)
class GapFacts:
    """What a reason says about one missing industry of one park."""

    park: str
    code: str
    name_en: str | None
    name_zh: str | None
    absent: bool
    n_firms: int
    park_share: float  # the industry's share of the park's measure
    all_share: float  # its share across the reference (all parks, or the city)
    measure: str
    threshold: float
    n_peers: int
    peers_with: list[str]  # park names
    related: list[tuple[str, str | None, str | None]]  # (code, name_en, name_zh)
    category: str | None  # English category, "part: A, B" when only some sub-codes are
    no_sei: bool
    cluster_km: float  # NaN: no cluster of the industry in the city
    cluster_firms: int | None
    direction: int | None
    around: str | None


def _label_en(code: str, name: str | None) -> str:
    return f"{code} ({name})" if name else code


def _label_zh(code: str, name: str | None) -> str:
    return f"{name}（{code}）" if name else code


def _pct(x: float, missing: str = "n/a") -> str:
    return f"{100 * x:.1f}%" if math.isfinite(x) else missing


def _names_en(names: list[str]) -> str:
    shown = ", ".join(names[:PEERS_NAMED])
    more = len(names) - PEERS_NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def _names_zh(names: list[str]) -> str:
    shown = "、".join(names[:PEERS_NAMED])
    return f"{shown}等{len(names)}个" if len(names) > PEERS_NAMED else shown


def reason_en(f: GapFacts) -> str:
    """The English reason, a few short sentences."""
    label = _label_en(f.code, f.name_en)
    what = _MEASURE_EN.get(f.measure, f.measure)
    if f.absent:
        parts = [f"{f.park} has no {label} firms."]
    else:
        firms = "firm" if f.n_firms == 1 else "firms"
        than = "" if f.threshold == 1 else f" (a strength from {f.threshold:g} times that)"
        parts = [
            f"{f.park} has {f.n_firms} {label} {firms}, {_pct(f.park_share)} of its {what} "
            f"against {_pct(f.all_share)} across all parks{than}: not yet a strength."
        ]
    if f.n_peers:
        k, n = len(f.peers_with), f.n_peers
        similar = f"{n} park{'s' if n > 1 else ''} with a similar industry mix"
        if k == 0:
            parts.append(f"None of the {similar} has it either.")
        else:
            verb = "has" if k == 1 else "have"
            parts.append(f"{k} of the {similar} {verb} it ({_names_en(f.peers_with)}).")
    else:
        parts.append("No other park has a similar industry mix.")
    if f.related:
        listed = ", ".join(_label_en(c, en) for c, en, _ in f.related)
        parts.append(f"It already has industries often found alongside it: {listed}.")
    else:
        parts.append("It has none of the industries usually found alongside it.")
    if f.category:
        partly = f.category.startswith("part: ")
        kind = "Part of it is" if partly else "It is"
        sentence = f"{kind} a strategic emerging industry ({f.category.removeprefix('part: ')})"
        if f.no_sei:
            sentence += "; the park has no strategic emerging industry yet"
        parts.append(sentence + ".")
    parts.append(_cluster_en(f))
    return " ".join(parts)


def _cluster_en(f: GapFacts) -> str:
    if not math.isfinite(f.cluster_km):
        return f"There is no concentration of {f.code} firms in the city."
    size = f"{f.cluster_firms} " if f.cluster_firms else ""
    if f.cluster_km < TOUCHING_KM:
        if f.absent:
            return (
                f"A concentration of {size}{f.code} firms reaches the park's boundary, but none "
                "of them is inside the park."
            )
        return f"A concentration of {size}{f.code} firms reaches the park."
    where = f" {_COMPASS_EN[f.direction]}" if f.direction is not None else " away"
    around = f", around {f.around}" if f.around else ""
    firms = f" ({f.cluster_firms} firms)" if f.cluster_firms else ""
    return (
        f"The nearest concentration of {f.code} firms{firms} is {f.cluster_km:.1f} km"
        f"{where}{around}."
    )


def _category_zh(category: str) -> str:
    names = [c.strip() for c in category.removeprefix("part: ").split(",")]
    return "、".join(STRATEGIC_CATEGORIES_ZH.get(c, c) for c in names)


def reason_zh(f: GapFacts) -> str:
    """The Chinese reason: every word Chinese except industry codes and proper names."""
    label = _label_zh(f.code, f.name_zh)
    what = _MEASURE_ZH.get(f.measure, f.measure)
    if f.absent:
        parts = [f"{f.park}没有{label}企业。"]
    else:
        than = "" if f.threshold == 1 else f"的{f.threshold:g}倍"
        parts = [
            f"{f.park}有{f.n_firms}家{label}企业，占园区{what}的{_pct(f.park_share, '无数据')}，"
            f"低于全部园区平均的{_pct(f.all_share, '无数据')}{than}，尚未形成优势。"
        ]
    if f.n_peers:
        k, n = len(f.peers_with), f.n_peers
        if k == 0:
            parts.append(f"产业结构相近的{n}个园区也都没有该产业。")
        else:
            parts.append(
                f"产业结构相近的{n}个园区中有{k}个已有该产业（{_names_zh(f.peers_with)}）。"
            )
    else:
        parts.append("没有产业结构相近的其他园区。")
    if f.related:
        listed = "、".join(_label_zh(c, zh) for c, _, zh in f.related)
        parts.append(f"园区已有常与其相伴的产业：{listed}。")
    else:
        parts.append("园区尚无常与其相伴的产业。")
    if f.category:
        kind = "部分属于" if f.category.startswith("part: ") else "属于"
        sentence = f"该产业{kind}战略性新兴产业（{_category_zh(f.category)}）"
        if f.no_sei:
            sentence += "，园区目前尚无战略性新兴产业"
        parts.append(sentence + "。")
    parts.append(_cluster_zh(f))
    return "".join(parts)


def _cluster_zh(f: GapFacts) -> str:
    if not math.isfinite(f.cluster_km):
        return f"全市尚无{f.code}企业集聚区。"
    size = f"{f.cluster_firms}家" if f.cluster_firms else ""
    if f.cluster_km < TOUCHING_KM:
        if f.absent:
            return f"一处有{size}{f.code}企业的集聚区紧邻园区边界，但这些企业均不在园区内。"
        return f"一处有{size}{f.code}企业的集聚区与园区相接。"
    where = _COMPASS_ZH[f.direction] if f.direction is not None else "外"
    around = f"（{f.around}一带）" if f.around else ""
    firms = f"（{f.cluster_firms}家企业）" if f.cluster_firms else ""
    return f"最近的{f.code}企业集聚区{firms}位于园区{where}{f.cluster_km:.1f}公里处{around}。"
