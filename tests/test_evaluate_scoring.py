"""Schemes and scoring of the per-mu evaluation: hand-computed fixtures (1e-9), class shares,
ties, vetoes, missing-indicator rules and bad schemes."""

from __future__ import annotations

import copy
import logging
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo.evaluate_scheme import SchemeError, read_scheme, scheme_from_dict
from parkgeo.evaluate_scoring import OUTCOMES, score_firms


def _scheme(indicators: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"groups": [{"key": "all", "name": "全部", "indicators": indicators}]}
    data.update(extra)
    return data


def _firms(**cols: Any) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"enterprise_id": [f"F{i + 1}" for i in range(n)], "year": [2020] * n}
    base.update(cols)
    return pd.DataFrame(base)


BASE = [
    {"key": "tax_per_mu", "name": "亩均税收", "formula": "tax / land_mu", "weight": 60,
     "base": 10, "cap": 1.5},
    {"key": "energy_per_va", "name": "单位增加值能耗", "formula": "energy_tce / value_added",
     "weight": 40, "base": 0.5, "cap": 2, "direction": "lower"},
]  # fmt: skip


def test_base_value_scores_by_hand() -> None:
    scheme = scheme_from_dict(
        _scheme(BASE, classes={"by": "thresholds", "thresholds": [150, 75, 50]})
    )
    firms = _firms(
        tax=[30.0, 10.0, 0.0], land_mu=[2.0, 4.0, 1.0], energy_tce=[1.0, 2.0, 0.0],
        value_added=[4.0, 2.0, 5.0],
    )  # fmt: skip
    out = score_firms(firms, scheme)
    # F1: 15/10 = 1.5 (cap 1.5) x 60 = 90; 0.5/0.25 = 2 (cap 2) x 40 = 80
    # F2: 2.5/10 x 60 = 15; 0.5/1 x 40 = 20
    # F3: 0 x 60 = 0; lower-is-better value 0 gets the cap: 2 x 40 = 80
    np.testing.assert_allclose(out["score_tax_per_mu"], [90, 15, 0], atol=1e-9)
    np.testing.assert_allclose(out["score_energy_per_va"], [80, 20, 80], atol=1e-9)
    np.testing.assert_allclose(out["total"], [170, 35, 80], atol=1e-9)
    np.testing.assert_allclose(out["tax_per_mu"], [15, 2.5, 0], atol=1e-12)
    assert out["class"].tolist() == ["A", "D", "B"]
    assert out["rank"].tolist() == [1, 3, 2]
    assert out["outcome"].eq("evaluated").all()


def test_minmax_scores_by_hand() -> None:
    ind = [
        {"key": "x", "formula": "tax / land_mu", "weight": 30, "method": "minmax", "a": 20,
         "b": 80},
        {"key": "y", "formula": "energy_tce", "weight": 70, "method": "minmax",
         "direction": "lower"},
    ]  # fmt: skip
    scheme = scheme_from_dict(_scheme(ind))
    firms = _firms(tax=[2.0, 4.0, 10.0], land_mu=[1.0, 1.0, 1.0], energy_tce=[1.0, 3.0, 5.0])
    out = score_firms(firms, scheme)
    # x: t = 0, 0.25, 1 -> 30 x (20 + 80 t) / 100 = 6, 12, 30
    # y (lower): t = 1, 0.5, 0 -> 70 x (20 + 80 t) / 100 = 70, 42, 14
    np.testing.assert_allclose(out["score_x"], [6, 12, 30], atol=1e-9)
    np.testing.assert_allclose(out["score_y"], [70, 42, 14], atol=1e-9)
    np.testing.assert_allclose(out["total"], [76, 54, 44], atol=1e-9)


def test_minmax_all_equal_and_winsorising() -> None:
    ind = [{"key": "x", "formula": "tax", "weight": 100, "method": "minmax",
            "winsorize": [0.0, 0.75]}]  # fmt: skip
    scheme = scheme_from_dict(_scheme(ind))
    out = score_firms(_firms(tax=[1.0, 2.0, 3.0, 4.0, 100.0], land_mu=[1.0] * 5), scheme)
    # the 0.75 quantile of 1, 2, 3, 4, 100 is 4: values become 1, 2, 3, 4, 4
    t = np.array([0, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(out["total"], 20 + 80 * t, atol=1e-9)
    same = score_firms(_firms(tax=[5.0, 5.0], land_mu=[1.0, 1.0]), scheme)
    np.testing.assert_allclose(same["total"], [100, 100], atol=1e-9)


def test_missing_indicator_rules() -> None:
    firms = _firms(
        tax=[30.0, 10.0], land_mu=[2.0, 4.0], energy_tce=[1.0, np.nan], value_added=[4.0, 2.0]
    )
    zero = score_firms(firms, scheme_from_dict(_scheme(BASE, scheme={"missing": "zero"})))
    np.testing.assert_allclose(zero["score_energy_per_va"], [80, 0], atol=1e-9)
    np.testing.assert_allclose(zero["total"], [170, 15], atol=1e-9)
    assert np.isnan(zero["energy_per_va"].iloc[1])
    rew = score_firms(firms, scheme_from_dict(_scheme(BASE, scheme={"missing": "reweight"})))
    # F2 has only tax per mu (weight 60): its 15 points are scaled to the total 100
    np.testing.assert_allclose(rew["score_tax_per_mu"], [90, 25], atol=1e-9)
    np.testing.assert_allclose(rew["total"], [170, 25], atol=1e-9)
    # no indicator at all: an outcome of its own, not a score of 0
    none = _firms(tax=[np.nan], land_mu=[2.0], energy_tce=[np.nan], value_added=[1.0])
    out = score_firms(none, scheme_from_dict(_scheme(BASE)))
    assert out["outcome"].tolist() == ["no_indicators"]
    assert out["class"].isna().all()


def test_division_by_zero_is_missing() -> None:
    ind = [{"key": "x", "formula": "tax / energy_tce", "weight": 100, "base": 1, "cap": 2}]
    out = score_firms(_firms(tax=[1.0, 1.0], energy_tce=[0.0, 1.0], land_mu=[1.0, 1.0]),
                      scheme_from_dict(_scheme(ind)))  # fmt: skip
    assert np.isnan(out["x"].iloc[0])
    assert out["outcome"].tolist() == ["no_indicators", "evaluated"]
    assert out["total"].iloc[1] == pytest.approx(100.0, abs=1e-9)


def _ten(totals: list[float]) -> pd.DataFrame:
    return _firms(tax=totals, land_mu=[1.0] * len(totals))


SHARE_SCHEME = _scheme(
    [{"key": "t", "formula": "tax / land_mu", "weight": 100, "base": 100, "cap": 10}],
    classes={"by": "shares", "labels": ["A", "B", "C", "D"], "shares": [0.2, 0.4, 0.3, 0.1]},
)


def test_class_shares_exact() -> None:
    scheme = scheme_from_dict(SHARE_SCHEME)
    firms = _ten([float(x) for x in range(10, 0, -1)])
    out = score_firms(firms, scheme)
    assert out["class"].tolist() == ["A"] * 2 + ["B"] * 4 + ["C"] * 3 + ["D"]
    assert out["rank"].tolist() == list(range(1, 11))
    assert out["n_group"].eq(10).all()
    # 7 firms: 1.4, 2.8, 2.1, 0.7 -> floors 1, 2, 2, 0; the remainders (.8, .7, .4) go to B, D
    seven = score_firms(_ten([float(x) for x in range(7, 0, -1)]), scheme)
    assert seven["class"].value_counts().to_dict() == {"B": 3, "C": 2, "A": 1, "D": 1}


def test_ties_are_deterministic() -> None:
    data = copy.deepcopy(SHARE_SCHEME)
    data["groups"][0]["indicators"] = [
        {"key": "t", "formula": "tax", "weight": 50, "base": 100, "cap": 10},
        {"key": "u", "formula": "profit", "weight": 50, "base": 100, "cap": 10},
    ]
    data["classes"]["tie_break"] = ["u"]
    scheme = scheme_from_dict(data)
    # five firms share the same total; u breaks the tie, then the enterprise id
    tax = [100.0, 100.0, 100.0, 150.0, 50.0, 10, 9, 8, 7, 6]
    profit = [100.0, 100.0, 100.0, 50.0, 150.0, 10, 9, 8, 7, 6]
    firms = _firms(tax=tax, profit=profit, land_mu=[1.0] * 10)
    out = score_firms(firms, scheme).set_index(firms["enterprise_id"])
    assert out.loc[["F5", "F1"], "class"].tolist() == ["A", "A"]  # F5: highest u; F1: lowest id
    assert out.loc["F2", "class"] == "B"
    shuffled = firms.sample(frac=1.0, random_state=3)
    again = score_firms(shuffled, scheme).set_index(shuffled["enterprise_id"])
    pd.testing.assert_series_equal(out["class"], again["class"].loc[out.index])
    pd.testing.assert_series_equal(out["rank"], again["rank"].loc[out.index])


def test_veto_forces_lowest_class() -> None:
    data = copy.deepcopy(SHARE_SCHEME)
    data["veto"] = [{"key": "accident", "name": "重大安全事故", "column": "accident"}]
    firms = _ten([float(x) for x in range(10, 0, -1)]).assign(accident=[1] + [0] * 9)
    out = score_firms(firms, scheme_from_dict(data))
    assert out["class"].iloc[0] == "D"
    assert out["rank"].iloc[0] == 10
    assert out["reason"].iloc[0] == "否决项：重大安全事故"
    assert out["veto"].iloc[0] == "重大安全事故"
    # shares still hold: the vetoed firm takes the D place
    assert out["class"].value_counts().to_dict() == {"B": 4, "C": 3, "A": 2, "D": 1}
    assert out["class"].iloc[1:3].tolist() == ["A", "A"]


def test_reason_names_the_indicators_that_pulled_down() -> None:
    data = copy.deepcopy(SHARE_SCHEME)
    data["groups"][0]["indicators"] = [
        {"key": "t", "name": "亩均税收", "formula": "tax", "weight": 60, "base": 10},
        {"key": "u", "name": "亩均营收", "formula": "profit", "weight": 40, "base": 10},
    ]
    firms = _firms(tax=[10.0] * 9 + [1.0], profit=[10.0] * 10, land_mu=[1.0] * 10)
    out = score_firms(firms, scheme_from_dict(data), lang="zh")
    assert out["class"].iloc[-1] == "D"
    assert out["reason"].iloc[-1] == "亩均税收 6.00/60（组内中位数 60.00）"
    assert out["reason"].iloc[:-1].isna().all()


def test_groups_eligibility_and_thresholds() -> None:
    scheme = read_scheme("jingde_minmax")
    firms = _firms(
        tax=[10.0, 20.0, 5.0, 5.0, 1.0], land_mu=[10.0, 10.0, 10.0, 4.0, 0.0],
        revenue=[100.0] * 5, energy_tce=[10.0] * 5, emissions_t=[1.0] * 5,
        above_scale=[1, 1, 0, 0, 1], industry=["C2710", "C3670", "C1310", "C1310", "C1310"],
    )  # fmt: skip
    firms.loc[1, "industry"] = "D4411"
    out = score_firms(firms, scheme)
    assert out["outcome"].tolist() == [
        "evaluated", "ineligible_industry", "evaluated", "below_min_land", "no_land",
    ]  # fmt: skip
    assert out["group"].tolist()[:3] == ["above", "above", "below"]
    # a lone firm in its group: min = max, full marks on every indicator it has
    assert out["total"].iloc[2] == pytest.approx(100.0, abs=1e-9)


def test_rule_groups_that_overlap_are_an_error() -> None:
    data = {
        "groups": [
            {"key": "big", "rule": "land_mu >= 3", "indicators": BASE},
            {"key": "other", "rule": "land_mu >= 1", "indicators": BASE},
        ]
    }
    firms = _firms(tax=[1.0], land_mu=[5.0], energy_tce=[1.0], value_added=[1.0])
    with pytest.raises(SchemeError, match="groups 'big' and 'other' overlap: enterprise F1"):
        score_firms(firms, scheme_from_dict(data))


def test_group_column_absent_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="above_scale"):
        score_firms(_firms(tax=[1.0], land_mu=[5.0]), read_scheme("jingde_minmax"))


def _bad(mutate: Any) -> str:
    data = copy.deepcopy(SHARE_SCHEME)
    mutate(data)
    with pytest.raises(SchemeError) as info:
        scheme_from_dict(data, source="s.toml")
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, ParkgeoError)
    return message


def test_bad_schemes_name_the_key() -> None:
    def unknown_column(d: dict[str, Any]) -> None:
        d["groups"][0]["indicators"][0]["formula"] = "tax / acreage"

    assert "groups[0] (全部).indicators[0] (t).formula: unknown column 'acreage'" in _bad(
        unknown_column
    )

    def unknown_tie(d: dict[str, Any]) -> None:
        d["classes"]["tie_break"] = ["nope"]

    assert "classes.tie_break: unknown indicator 'nope'" in _bad(unknown_tie)

    def weights(d: dict[str, Any]) -> None:
        d["groups"][0]["indicators"][0]["weight"] = 95

    assert _bad(weights) == (
        "s.toml: groups[0] (全部).indicators: weights sum to 95, not the declared total 100 "
        "(scheme.total)"
    )

    def method(d: dict[str, Any]) -> None:
        d["groups"][0]["indicators"][0]["method"] = "zscore"

    assert "groups[0] (全部).indicators[0] (t).method: unknown value 'zscore'" in _bad(method)

    def overlap(d: dict[str, Any]) -> None:
        ind = d["groups"][0]["indicators"]
        d["groups"] = [
            {"key": "a", "name": "规上", "column": "above_scale", "values": [1], "indicators": ind},
            {"key": "b", "name": "规下", "column": "above_scale", "values": [0, 1],
             "indicators": ind},
        ]  # fmt: skip

    assert "groups[1] (规下).values: 1 of column 'above_scale' is also in groups[0] (规上)" in (
        _bad(overlap)
    )

    def typo(d: dict[str, Any]) -> None:
        d["groups"][0]["indicators"][0]["wieght"] = 1

    assert "indicators[0]: unknown key 'wieght'" in _bad(typo)

    def shares(d: dict[str, Any]) -> None:
        d["classes"]["shares"] = [0.2, 0.4, 0.3, 0.2]

    assert "classes.shares: must sum to 1" in _bad(shares)

    def unsafe(d: dict[str, Any]) -> None:
        d["groups"][0]["indicators"][0]["formula"] = "__import__('os').system('x')"

    assert "uses Call" in _bad(unsafe)


def test_bad_scheme_file(tmp_path: Any) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[scheme\nname = 1", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"s\.toml: not valid TOML"):
        read_scheme(path)
    with pytest.raises(SchemeError, match="no such scheme file"):
        read_scheme(tmp_path / "none.toml")


def test_example_schemes_load() -> None:
    linhai = read_scheme("linhai_base")
    jingde = read_scheme("jingde_minmax")
    assert linhai.example and jingde.example
    assert [i.weight for i in linhai.groups[0].indicators] == [40, 10, 20, 15, 5, 10]
    assert [i.base for i in linhai.groups[0].indicators] == [15, 300, 3, 500, 0.1, 15]
    assert [i.weight for i in linhai.groups[1].indicators] == [50, 20, 30]
    assert {i.method for g in jingde.groups for i in g.indicators} == {"minmax"}
    assert [len(g.indicators) for g in jingde.groups] == [7, 3]
    assert jingde.groups[1].min_land_mu == 5


_maybe = st.one_of(st.just(np.nan), st.floats(0, 1000, allow_nan=False))


@st.composite
def _panels(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 30))

    def col(strategy: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(strategy, min_size=n, max_size=n))

    return pd.DataFrame(
        {
            "enterprise_id": [f"E{i}" for i in range(n)],
            "year": col(st.sampled_from([2015, 2016])),
            "industry": col(st.sampled_from(["C3670", "C2710", "D4411", None])),
            "tax": col(_maybe),
            "revenue": col(_maybe),
            "energy_tce": col(_maybe),
            "emissions_t": col(_maybe),
            "land_mu": col(st.one_of(st.just(np.nan), st.floats(0, 50, allow_nan=False))),
            "above_scale": col(st.sampled_from([0.0, 1.0, np.nan])),
            "major_accident": col(st.sampled_from([0, 1])),
        }
    )


@given(_panels())
def test_every_firm_year_in_exactly_one_outcome(frame: pd.DataFrame) -> None:
    logging.getLogger("parkgeo").setLevel(logging.ERROR)
    out = score_firms(frame, read_scheme("jingde_minmax"))
    assert len(out) == len(frame)
    assert out["outcome"].isin(list(OUTCOMES)).all()
    evaluated = out["outcome"] == "evaluated"
    assert out.loc[evaluated, "class"].isin(["A", "B", "C", "D"]).all()
    assert out.loc[~evaluated, "class"].isna().all()
    assert (out.loc[evaluated & frame["major_accident"].eq(1), "class"] == "D").all()
    for _, grp in out[evaluated].groupby([frame["year"], out["group"]]):
        assert sorted(grp["rank"]) == list(range(1, len(grp) + 1))
        assert (grp["n_group"] == len(grp)).all()
