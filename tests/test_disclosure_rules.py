"""Primary disclosure rules: frequency, dominance (n, k), p %, protection levels, TOML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parkgeo._errors import ParkgeoError
from parkgeo._sdc_cells import contributions_of
from parkgeo._sdc_rules import (
    PRIMARY_DOMINANCE,
    PRIMARY_FREQUENCY,
    PRIMARY_P_PERCENT,
    PUBLISHED,
    DisclosureRules,
    primary,
    read_disclosure_rules,
)


def _cell(values: list[float], rules: DisclosureRules) -> tuple[int, float]:
    v = np.array(values)
    mags = np.sort(np.abs(v))[::-1]
    top = np.zeros((1, rules.top_n))
    top[0, : min(len(mags), rules.top_n)] = mags[: rules.top_n]
    status, level = primary(
        np.array([len(v)]), np.array([v.sum()]), np.array([np.abs(v).sum()]), top, rules
    )
    return int(status[0]), float(level[0])


def test_dominance_with_twenty_firms() -> None:
    # the biggest firm pays 90% of the park's tax: suppressed even with 20 firms
    rules = DisclosureRules()
    tax = [900.0] + [100.0 / 19] * 19
    status, level = _cell(tax, rules)
    assert status == PRIMARY_DOMINANCE
    # (1, 85) rule: the total must be able to reach 900 / 0.85 = 1058.8, i.e. +58.8
    assert level == pytest.approx(max(900 / 0.85 - 1000, 100.0))


def test_dominance_two_firms_rule() -> None:
    rules = DisclosureRules(p_percent=None)
    # top two hold 92%, top one only 50%: the (2, 90) rule bites
    assert _cell([500.0, 420.0] + [10.0] * 8, rules)[0] == PRIMARY_DOMINANCE
    assert _cell([400.0, 420.0] + [20.0] * 9, rules)[0] == PUBLISHED


def test_frequency_and_level() -> None:
    rules = DisclosureRules(protection_pct=20.0, dominance=(), p_percent=None)
    assert _cell([10.0, 20.0], rules) == (PRIMARY_FREQUENCY, pytest.approx(6.0))
    assert _cell([10.0, 20.0, 30.0], rules) == (PUBLISHED, 0.0)
    assert _cell([], rules)[0] == PUBLISHED  # no firm: a structural zero, published


def test_p_percent() -> None:
    rules = DisclosureRules(dominance=(), p_percent=10.0, min_frequency=1)
    # second firm knows the total minus itself: 1000 + 5 others of 10 -> within 5%
    status, level = _cell([1000.0, 300.0, 10.0, 10.0, 10.0, 10.0, 10.0], rules)
    assert status == PRIMARY_P_PERCENT
    assert level == pytest.approx(max(100.0 - 50.0, 135.0))
    assert _cell([1000.0, 300.0] + [50.0] * 4, rules)[0] == PUBLISHED


def test_negative_profit_uses_magnitudes() -> None:
    rules = DisclosureRules()
    status, _ = _cell([-900.0, 50.0, 50.0, 40.0], rules)
    assert status == PRIMARY_DOMINANCE


def test_rules_validation_and_toml(tmp_path: Path) -> None:
    with pytest.raises(ParkgeoError, match="min_frequency"):
        DisclosureRules(min_frequency=0)
    with pytest.raises(ParkgeoError, match="dominance k"):
        DisclosureRules(dominance=((1, 120.0),))
    with pytest.raises(ParkgeoError, match="measures"):
        DisclosureRules(measures=("turnover",))
    path = tmp_path / "d.toml"
    path.write_text("[disclosure]\nmin_frequency = 4\ndominance = [[1, 80]]\np_percent = false\n")
    rules = read_disclosure_rules(path)
    assert (rules.min_frequency, rules.dominance, rules.p_percent) == (4, ((1, 80.0),), None)
    path.write_text("[disclosure]\nmin_frequncy = 4\n")
    with pytest.raises(ParkgeoError, match="unknown key"):
        read_disclosure_rules(path)
    path.write_text("[targets]\nprofit = 0.5\n")
    with pytest.raises(ParkgeoError, match=r"no \[disclosure\]"):
        read_disclosure_rules(path)


def test_contributions_top_and_merge() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    parks = gpd.GeoDataFrame(
        {"park_id": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1)], crs="EPSG:4326"
    )
    firms = pd.DataFrame(
        {
            "park_id": ["A", "A", "A", "B", None, "A"],
            "year": [2015, 2015, 2015, 2015, 2015, 2016],
            "tax": [5.0, 50.0, 7.0, 3.0, 1.0, np.nan],
            "industry": ["C27", "C27", "C36", "C27", "C27", "C36"],
        }
    )
    whole = contributions_of(firms, parks, measures=("tax",), by_industry=True)
    assert whole.n["tax"][0, 0].sum() == 3 and whole.n["tax"][0, 1].sum() == 0
    assert whole.top["tax"][0, 0, 0].tolist() == [50.0, 5.0]  # park A, 2015, C27
    parts = contributions_of(firms.iloc[:2], parks, measures=("tax",), by_industry=True).merge(
        contributions_of(firms.iloc[2:], parks, measures=("tax",), by_industry=True)
    )
    for field in ("n", "value", "magnitude", "top"):
        np.testing.assert_allclose(getattr(parts, field)["tax"], getattr(whole, field)["tax"])
