"""Score firms under a scheme: eligibility, groups, indicator values and scores, bonus and veto,
totals, classes, ranks and the reason for every lowest-class firm.

Scores, min/max, winsorising quantiles, ranks and class shares are all computed within one
group and one year: firms are compared with the firms they compete with that year.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import SchemaError
from parkgeo.evaluate_scheme import (
    EVALUATION_COLUMNS,
    Bonus,
    Group,
    Indicator,
    Scheme,
    SchemeError,
    evaluate_expression,
)

__all__ = ["OUTCOMES", "indicator_scores", "score_firms"]

log = logging.getLogger("parkgeo")

# every firm-year ends in exactly one of these
OUTCOMES: dict[str, str] = {
    "evaluated": "scored and classed",
    "no_land": "no land area known (no land column value and no parcel)",
    "ineligible_industry": "industry outside the scheme's sections or in an excluded division",
    "ineligible_years": "in operation fewer years than the scheme's min_years",
    "below_min_land": "land below the scheme's (or its group's) min_land_mu",
    "no_group": "matches none of the scheme's groups",
    "no_indicators": "no indicator of its group could be computed",
}
_WORDS = {
    "zh": {"veto": "否决项", "median": "组内中位数", "missing": "缺失", "rank": "组内排名"},
    "en": {"veto": "veto", "median": "group median", "missing": "missing", "rank": "rank in group"},
}


def indicator_scores(
    values: NDArray[np.float64], indicator: Indicator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scores of one indicator for the firms of one group and year.

    Parameters
    ----------
    values : numpy.ndarray
        The indicator's values (NaN = missing; non-finite values count as missing).
    indicator : Indicator

    Returns
    -------
    scores : numpy.ndarray
        NaN where the value is missing.
    used : numpy.ndarray
        The values after winsorising (what the score was computed from).

    Examples
    --------
    >>> from parkgeo.evaluate_scheme import Indicator
    >>> ind = Indicator("t", "t", "tax / land_mu", weight=40, base=15, cap=2)
    >>> indicator_scores(np.array([7.5, 45.0, np.nan]), ind)[0]
    array([20., 80., nan])
    >>> mm = Indicator("t", "t", "tax / land_mu", weight=30, method="minmax")
    >>> indicator_scores(np.array([0.0, 5.0, 10.0]), mm)[0]
    array([ 6., 18., 30.])
    """
    v = np.where(np.isfinite(values), values, np.nan)
    present = ~np.isnan(v)
    if indicator.winsorize is not None and present.any():
        lo, hi = np.quantile(v[present], indicator.winsorize)
        v = np.where(present, np.clip(v, lo, hi), np.nan)
    w = indicator.weight
    with np.errstate(all="ignore"):
        if indicator.method == "base":
            base = float(indicator.base or 1.0)
            if indicator.direction == "higher":
                ratio = v / base
            else:
                # lower is better: at or below zero the firm cannot do better, so the cap
                ratio = np.where(v > 0, base / v, indicator.cap)
            ratio = np.clip(ratio, 0.0, indicator.cap)
            scores = w * ratio
        else:
            if present.any():
                lo_v, hi_v = float(np.min(v[present])), float(np.max(v[present]))
            else:
                lo_v = hi_v = 0.0
            if hi_v > lo_v:
                t = (v - lo_v) / (hi_v - lo_v)
                if indicator.direction == "lower":
                    t = 1.0 - t
            else:
                # every firm equal: none is behind the best
                t = np.ones_like(v)
            scores = w * (indicator.a + indicator.b * t) / 100.0
    scores = np.where(present, scores, np.nan)
    return scores, v


def _env(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, Any]:
    """Columns for formulas and rules: numbers as float arrays, text as object arrays."""
    env: dict[str, Any] = {}
    n = len(frame)
    for name in names:
        if name in frame.columns:
            col = frame[name]
            if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
                env[name] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                env[name] = col.astype(object).where(col.notna(), None).to_numpy()
        else:
            env[name] = np.full(n, np.nan)
    return env


def _truthy(values: Any) -> NDArray[np.bool_]:
    """A flag column as booleans: 1/true/是/Y/有 are true; 0, empty and NaN are false."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        flags: NDArray[np.bool_] = np.nan_to_num(arr.astype(np.float64), nan=0.0) != 0
        return flags
    text = pd.Series(arr, dtype=object).astype("str").str.strip().str.lower()
    yes = ["1", "1.0", "true", "t", "yes", "y", "是", "有", "√", "x"]
    return np.asarray(text.isin(yes).to_numpy(), dtype=bool)


def _group_members(frame: pd.DataFrame, group: Group, env: Mapping[str, Any]) -> NDArray[np.bool_]:
    n = len(frame)
    if group.column is not None:
        col = env[group.column]
        values = list(group.values)
        numeric = [float(v) for v in values if isinstance(v, (bool, int, float))]
        if np.asarray(col).dtype.kind == "f":
            return np.asarray(np.isin(np.asarray(col, dtype=np.float64), numeric), dtype=bool)
        text = {str(v) for v in values} | {str(v).lower() for v in values}
        hits = pd.Series(col, dtype=object).astype("str").isin(text).to_numpy()
        return np.asarray(hits, dtype=bool)
    if group.rule_expr is not None:
        return np.asarray(evaluate_expression(group.rule_expr, env, n), dtype=bool)
    return np.ones(n, dtype=bool)


def _item_mask(item: Bonus, env: Mapping[str, Any], n: int) -> NDArray[np.bool_]:
    if item.column is not None:
        return _truthy(env[item.column])
    assert item.rule_expr is not None
    return np.asarray(evaluate_expression(item.rule_expr, env, n), dtype=bool)


def _section_division(industry: pd.Series) -> tuple[NDArray[Any], NDArray[Any]]:
    """Section letter and section+division (``C27``) of canonical codes such as ``C2710``."""
    text = industry.astype("str").fillna("")
    section = text.str.slice(0, 1).str.upper()
    division = text.str.slice(0, 3).str.upper()
    return section.to_numpy(dtype=object), division.to_numpy(dtype=object)


def _eligibility(
    frame: pd.DataFrame, scheme: Scheme, env: Mapping[str, Any]
) -> NDArray[np.object_]:
    n = len(frame)
    outcome = np.full(n, "", dtype=object)

    def mark(mask: NDArray[np.bool_], label: str) -> None:
        outcome[mask & (outcome == "")] = label

    land_mu = np.asarray(env["land_mu"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mark(~(land_mu > 0), "no_land")
    rule = scheme.eligibility
    if rule.sections or rule.exclude_divisions:
        if "industry" not in frame.columns:
            raise SchemaError(
                "the scheme's eligibility names industry sections but the enterprises have no "
                "industry column (行业代码)"
            )
        section, division = _section_division(frame["industry"])
        bad = np.zeros(n, dtype=bool)
        if rule.sections:
            bad |= ~np.isin(section, list(rule.sections))
        if rule.exclude_divisions:
            bad |= np.isin(division, list(rule.exclude_divisions))
        mark(bad, "ineligible_industry")
    if rule.min_years is not None:
        years = np.asarray(env["years_in_operation"], dtype=np.float64)
        unknown = np.isnan(years) & (outcome == "")
        if unknown.any():
            log.warning(
                "%d firm-year(s) have no founded_year: evaluated although the scheme asks for "
                "%g years in operation",
                int(unknown.sum()),
                rule.min_years,
            )
        with np.errstate(invalid="ignore"):
            mark(years < rule.min_years, "ineligible_years")
    with np.errstate(invalid="ignore"):
        mark(land_mu < rule.min_land_mu, "below_min_land")
    return outcome


def score_firms(frame: pd.DataFrame, scheme: Scheme, *, lang: str = "zh") -> pd.DataFrame:
    """Score and class every firm-year of ``frame`` under ``scheme``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per firm and year: ``enterprise_id``, ``year``, ``land_ha`` and the canonical
        columns the scheme's formulas use (absent ones count as missing), plus any flag
        columns its groups, bonus and veto items name.
    scheme : Scheme
    lang : {"zh", "en"}
        Language of the fixed words in ``reason``.

    Returns
    -------
    pandas.DataFrame
        On ``frame``'s index: ``outcome`` (see :data:`OUTCOMES`), ``group``, ``group_name``,
        one value column per indicator key and one ``score_<key>`` column, ``bonus``,
        ``total``, ``veto`` (the veto items that applied), ``class``, ``rank`` (1 = best,
        within group and year), ``n_group`` and ``reason`` (for the lowest class: the veto, or
        the indicators that pulled the firm down most against the group median).

    Raises
    ------
    SchemaError
        A column the scheme's groups need is absent, or a firm matches two groups.
    """
    if lang not in _WORDS:
        raise SchemeError(f"lang must be 'zh' or 'en', got {lang!r}")
    n = len(frame)
    work = frame
    if "land_mu" not in work.columns:
        work = work.assign(land_mu=work["land_ha"].to_numpy(dtype=np.float64) * 15.0)
    if "land_ha" not in work.columns:
        work = work.assign(land_ha=work["land_mu"].to_numpy(dtype=np.float64) / 15.0)
    if "years_in_operation" not in work.columns and "founded_year" in work.columns:
        founded = pd.to_numeric(work["founded_year"], errors="coerce").to_numpy(np.float64)
        work = work.assign(years_in_operation=work["year"].to_numpy(np.float64) - founded)
    names = tuple(dict.fromkeys((*EVALUATION_COLUMNS, *scheme.columns)))
    env = _env(work, names)
    for group in scheme.groups:
        if group.column is not None and group.column not in work.columns:
            raise SchemaError(
                f"scheme group {group.key!r} ({group.name}) is chosen by column "
                f"{group.column!r}, which the enterprises do not have; add it (e.g. 规上 = 1/0)"
            )
    for item in (*scheme.bonuses, *scheme.vetoes):
        if item.column is not None and item.column not in work.columns:
            log.warning(
                "column %r of %s item %r is absent: no firm gets it",
                item.column,
                "veto" if item in scheme.vetoes else "bonus",
                item.key,
            )
    absent = sorted(c for c in scheme.columns if c not in work.columns and c in EVALUATION_COLUMNS)
    absent = [c for c in absent if c not in ("land_mu", "land_ha", "years_in_operation")]
    if absent:
        log.warning(
            "the enterprises lack column(s) %s used by the scheme's formulas: those indicators "
            "are missing for every firm",
            ", ".join(absent),
        )

    outcome = _eligibility(work, scheme, env)
    group_of = np.full(n, -1, dtype=np.int64)
    for g, group in enumerate(scheme.groups):
        member = _group_members(work, group, env)
        clash = member & (group_of >= 0) & (outcome == "")
        if clash.any():
            first = int(np.flatnonzero(clash)[0])
            other = scheme.groups[int(group_of[first])]
            raise SchemeError(
                f"{scheme.path or 'scheme'}: groups {other.key!r} and {group.key!r} overlap: "
                f"enterprise {work['enterprise_id'].iloc[first]} (year "
                f"{work['year'].iloc[first]}) matches both; make the groups' rules exclusive"
            )
        group_of[member & (group_of < 0)] = g
    outcome[(group_of < 0) & (outcome == "")] = "no_group"
    land_mu = np.asarray(env["land_mu"], dtype=np.float64)
    for g, group in enumerate(scheme.groups):
        if group.min_land_mu is not None:
            with np.errstate(invalid="ignore"):
                small = (group_of == g) & (land_mu < group.min_land_mu) & (outcome == "")
            outcome[small] = "below_min_land"

    keys = list(dict.fromkeys(ind.key for g in scheme.groups for ind in g.indicators))
    value = {k: np.full(n, np.nan) for k in keys}
    score = {k: np.full(n, np.nan) for k in keys}
    total = np.full(n, np.nan)
    bonus = np.zeros(n)
    for item in scheme.bonuses:
        bonus = bonus + np.where(_item_mask(item, env, n), item.points, 0.0)
    veto = np.full(n, "", dtype=object)
    for item in scheme.vetoes:
        hit = _item_mask(item, env, n)
        veto[hit] = np.where(veto[hit] == "", item.name, veto[hit] + "；" + item.name)
    labels = scheme.classes.labels
    klass = np.full(n, None, dtype=object)
    rank = np.full(n, -1, dtype=np.int64)
    n_group = np.zeros(n, dtype=np.int64)
    reason = np.full(n, "", dtype=object)
    years = work["year"].to_numpy()
    ids = work["enterprise_id"].astype("str").to_numpy(dtype=object)

    for g, group in enumerate(scheme.groups):
        in_group = (group_of == g) & (outcome == "")
        for year in np.unique(years[in_group]):
            rows = np.flatnonzero(in_group & (years == year))
            sub_env = {k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in env.items()}
            weights = np.array([ind.weight for ind in group.indicators])
            scores = np.empty((len(rows), len(group.indicators)))
            for j, ind in enumerate(group.indicators):
                assert ind.expr is not None
                raw = np.asarray(evaluate_expression(ind.expr, sub_env, len(rows)), float)
                raw = np.where(np.isfinite(raw), raw, np.nan)
                s, _ = indicator_scores(raw, ind)
                scores[:, j] = s
                value[ind.key][rows] = raw
            present = ~np.isnan(scores)
            none = ~present.any(axis=1)
            if group.missing == "reweight":
                present_w = (present * weights).sum(axis=1)
                with np.errstate(all="ignore"):
                    factor = np.where(present_w > 0, scheme.total / present_w, np.nan)
                scores = scores * factor[:, None]
            scores = np.where(present, scores, 0.0)
            for j, ind in enumerate(group.indicators):
                score[ind.key][rows] = scores[:, j]
            outcome[rows[none]] = "no_indicators"
            ok = ~none
            rows_ok = rows[ok]
            scores = scores[ok]
            tot = scores.sum(axis=1) + bonus[rows_ok]
            total[rows_ok] = tot
            cls, rk = _classes(tot, scores, veto[rows_ok] != "", ids[rows_ok], group, scheme)
            klass[rows_ok] = cls
            rank[rows_ok] = rk
            n_group[rows_ok] = len(rows_ok)
            last = np.flatnonzero(cls == labels[-1])
            if len(last):
                reason[rows_ok[last]] = _reasons(
                    scores, present[ok], last, group, veto[rows_ok], rk, lang
                )
    outcome[outcome == ""] = "evaluated"
    evaluated = outcome == "evaluated"
    index = frame.index
    group_keys = np.array([g.key for g in scheme.groups] + [None], dtype=object)
    group_names = np.array([g.name for g in scheme.groups] + [None], dtype=object)
    data: dict[str, Any] = {
        "outcome": pd.Series(outcome, index=index, dtype="str"),
        "group": pd.Series(group_keys[group_of], index=index, dtype="str"),
        "group_name": pd.Series(group_names[group_of], index=index, dtype="str"),
    }
    for k in keys:
        data[k] = value[k]
    for k in keys:
        data[f"score_{k}"] = np.where(evaluated, score[k], np.nan)
    data["bonus"] = np.where(evaluated, bonus, np.nan)
    data["total"] = total
    data["veto"] = pd.Series(veto, index=index, dtype="str").mask(veto == "")
    data["class"] = pd.Series(klass, index=index, dtype="str")
    data["rank"] = pd.Series(rank, index=index, dtype="Int64").mask(~evaluated)
    data["n_group"] = pd.Series(n_group, index=index, dtype="Int64").mask(~evaluated)
    data["reason"] = pd.Series(reason, index=index, dtype="str").mask(reason == "")
    out: pd.DataFrame = pd.DataFrame(data, index=index)
    return out


def _share_counts(n: int, shares: tuple[float, ...]) -> NDArray[np.int64]:
    """Firms per class by largest remainder: floor(share x n), the rest to the largest
    fractional parts (ties to the better class), so counts sum to n and follow the shares."""
    exact = np.array(shares) * n
    counts = np.floor(exact + 1e-9).astype(np.int64)
    rest = n - int(counts.sum())
    if rest > 0:
        frac = exact - counts
        order = np.lexsort((np.arange(len(shares)), -frac))
        counts[order[:rest]] += 1
    return counts


def _classes(
    total: NDArray[np.float64],
    scores: NDArray[np.float64],
    vetoed: NDArray[np.bool_],
    ids: NDArray[Any],
    group: Group,
    scheme: Scheme,
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Class and rank of one group-year. Order: vetoed firms last, total descending, the
    tie-break indicators' scores descending, then enterprise id ascending (deterministic)."""
    rule = scheme.classes
    keys = [ind.key for ind in group.indicators]
    sort_keys: list[Any] = [ids]
    for key in reversed(rule.tie_break):
        if key in keys:
            sort_keys.append(-scores[:, keys.index(key)])
    # totals equal up to floating-point noise are ties, decided by the keys above
    sort_keys.append(-np.round(total, 9))
    sort_keys.append(vetoed.astype(np.int8))
    order = np.lexsort(tuple(sort_keys))
    rank = np.empty(len(total), dtype=np.int64)
    rank[order] = np.arange(1, len(total) + 1)
    labels = np.array(rule.labels, dtype=object)
    if rule.by == "shares":
        counts = _share_counts(len(total), rule.shares)
        by_position = np.repeat(np.arange(len(labels)), counts)
        cls = labels[by_position[rank - 1]]
    else:
        idx = np.full(len(total), len(labels) - 1)
        for k in reversed(range(len(rule.thresholds))):
            idx = np.where(total + 1e-9 >= rule.thresholds[k], k, idx)
        cls = labels[idx]
    cls = np.where(vetoed, labels[-1], cls)
    return cls.astype(object), rank


def _reasons(
    scores: NDArray[np.float64],
    present: NDArray[np.bool_],
    rows: NDArray[np.intp],
    group: Group,
    veto: NDArray[Any],
    rank: NDArray[np.int64],
    lang: str,
) -> list[str]:
    """Why each firm of ``rows`` is in the lowest class: its veto, else up to three indicators
    with the largest shortfall (in points) against the group median."""
    words = _WORDS[lang]
    median = np.median(scores, axis=0)
    out: list[str] = []
    for r in rows:
        if veto[r]:
            out.append(f"{words['veto']}：{veto[r]}" if lang == "zh" else f"veto: {veto[r]}")
            continue
        gap = median - scores[r]
        parts = []
        for j in np.argsort(-gap, kind="stable")[:3]:
            if gap[j] <= 0:
                break
            ind = group.indicators[j]
            own = f"{scores[r, j]:.2f}" if present[r, j] else f"{words['missing']} 0"
            parts.append(
                f"{ind.name} {own}/{_fmt(ind.weight)}（{words['median']} {median[j]:.2f}）"
            )
        if not parts:
            parts.append(f"{words['rank']} {rank[r]}/{len(scores)}")
        out.append("；".join(parts))
    return out


def _fmt(x: float) -> str:
    return f"{x:g}" if math.isfinite(x) else str(x)
