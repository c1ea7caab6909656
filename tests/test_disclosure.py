"""Disclosure control on the bundled sample and on random tables: the subtraction attacks and
LP interval attacks recover nothing narrower than the protection level."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from parkgeo import assign_parks, load_tianjin, park_metrics
from parkgeo._sdc_check import attack_published
from parkgeo.disclosure import (
    DisclosureRules,
    ProtectedTable,
    contributions_of,
    protect,
)

RULES = DisclosureRules()
MONEY = ("tax", "profit", "value_added", "energy_tce", "employees")


@lru_cache(maxsize=1)
def _thinned() -> tuple[pd.DataFrame, Any]:
    """The sample with a 2-firm park, a single firm outside every park and a park whose
    biggest firm pays 90% of its tax (out of hundreds of firms)."""
    sample = load_tianjin()
    firms = assign_parks(sample.enterprises, sample.parks, nearest=False).assigned
    ids = sample.parks["park_id"].tolist()
    small = firms["park_id"] == ids[0]
    outside = firms["park_id"].isna()
    keep_small = firms.loc[small, "enterprise_id"].unique()[:2]
    keep_out = firms.loc[outside, "enterprise_id"].unique()[:1]
    firms = firms[
        (~small | firms["enterprise_id"].isin(keep_small))
        & (~outside | firms["enterprise_id"].isin(keep_out))
    ].copy()
    dominated = firms["park_id"] == ids[1]
    big = firms.loc[dominated, "enterprise_id"].iloc[0]
    for year in sorted(firms["year"].unique()):
        mine = (firms["enterprise_id"] == big) & (firms["year"] == year)
        rest = firms.loc[dominated & ~mine & (firms["year"] == year), "tax"].sum()
        firms.loc[mine, "tax"] = 9.0 * rest  # 90% of the park's tax
    return firms, sample.parks


def _protected(years: list[int] | None = None) -> tuple[ProtectedTable, pd.DataFrame, Any]:
    firms, parks = _thinned()
    table = park_metrics(firms, parks, years=years)
    contrib = contributions_of(firms, parks, measures=RULES.measures)
    return protect(table, contrib, parks, rules=RULES), table, contrib


def test_subtraction_attack_on_a_small_park() -> None:
    protected, raw, _ = _protected()
    firms, parks = _thinned()
    small = parks["park_id"].iloc[0]
    out = protected.table.set_index(["park_id", "year"])
    for year in (2013, 2014, 2015, 2016):
        for measure in MONEY:
            assert np.isnan(out.loc[(small, year), measure])
            # ALL_PARKS minus every published park: not computable, or not the small park
            parks_rows = out.xs(year, level="year").drop(index=["ALL", "ALL_PARKS"])
            withheld = parks_rows[measure].isna().sum()
            total = out.loc[("ALL_PARKS", year), measure]
            assert withheld >= 2 or np.isnan(total)


def test_subtraction_attack_on_the_single_firm_outside_parks() -> None:
    protected, raw, _ = _protected()
    firms, _parks = _thinned()
    outside = firms[firms["park_id"].isna()]
    assert outside["enterprise_id"].nunique() == 1
    raw_rows = raw.set_index(["park_id", "year"])
    out = protected.table.set_index(["park_id", "year"])
    for year, firm in outside.groupby("year"):
        # the raw table gives the firm's tax away exactly
        leak = raw_rows.loc[("ALL", year), "tax"] - raw_rows.loc[("ALL_PARKS", year), "tax"]
        assert leak == pytest.approx(float(firm["tax"].iloc[0]))
        for measure in MONEY:
            gap = out.loc[("ALL", year), measure] - out.loc[("ALL_PARKS", year), measure]
            assert np.isnan(gap)


def test_dominant_firm_with_many_firms_is_suppressed() -> None:
    protected, _, _ = _protected()
    firms, parks = _thinned()
    dominated = parks["park_id"].iloc[1]
    assert (firms["park_id"] == dominated).sum() > 20 * 4
    status = protected.status.set_index(
        protected.table["park_id"] + "|" + protected.table["year"].astype(str)
    )
    assert (status.loc[f"{dominated}|2015", "tax"]) == "primary-dominance"
    assert status.loc[f"{dominated}|2015", "profit"] == "published"
    audit = protected.audit()
    row = audit[(audit["row"] == dominated) & (audit["measure"] == "tax")].iloc[0]
    assert "largest 1 firm(s) hold 90.0% > 85%" in row["reason"]


def test_lp_attack_on_the_published_sample() -> None:
    protected, raw, contrib = _protected()
    firms, parks = _thinned()
    # the raw table discloses; the protected one does not
    raw_attack = attack_published(raw, contrib, parks, rules=RULES, baseline_year=2013)
    assert not raw_attack["protected"].all()
    published = attack_published(protected.table, contrib, parks, rules=RULES, baseline_year=2013)
    assert len(published) > 0 and published["protected"].all()
    ranges = protected.attack(exact=True)
    assert ranges["protected"].all()
    width_up = ranges["upper"] - ranges["value"]
    width_down = ranges["value"] - ranges["lower"]
    assert (width_up >= ranges["level"] * (1 - 1e-6)).all()
    assert (width_down >= np.minimum(ranges["level"], ranges["value"]) * (1 - 1e-6)).all()


def test_change_columns_do_not_leak_across_years() -> None:
    # report only 2016: the baseline year's withheld cells stay withheld through the changes
    protected, _, contrib = _protected(years=[2016])
    table = protected.table
    for column in ("profit", "tax_per_ha"):
        status = protected.status[column + "_change"]
        hidden = status != "published"
        assert table.loc[hidden, column + "_change"].isna().all()
        assert (table.loc[hidden, column + "_status"] == "suppressed").all()
    firms, parks = _thinned()
    attack = attack_published(table, contrib, parks, rules=RULES, baseline_year=2013)
    assert attack["protected"].all()


def test_markers_and_footnote() -> None:
    protected, _, _ = _protected()
    text = protected.text_frame()
    small = protected.table["park_id"] == protected.table["park_id"].iloc[0]
    assert set(text.loc[small, "tax"]) == {"<3"}
    assert set(text.loc[small & (text["year"] > 2013), "profit_status"]) == {"suppressed"}
    assert set(text.loc[small & (text["year"] > 2013), "profit_change"]) == {"<3"}
    assert "x" in set(text["tax"].astype(str))
    assert "<3" in protected.footnote() and "少于3家企业" in protected.footnote("zh")
    shown = protected.display("tax")
    assert set(shown[small]) == {"<3"}


def test_deterministic() -> None:
    a, _, _ = _protected()
    b, _, _ = _protected()
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.cells, b.cells)


# ---------------------------------------------------------------------------------------
# property test: random parks, firms, years and K
# ---------------------------------------------------------------------------------------


@st.composite
def _random_case(draw: Any) -> tuple[pd.DataFrame, gpd.GeoDataFrame, DisclosureRules]:
    n_parks = draw(st.integers(1, 6))
    n_years = draw(st.integers(1, 3))
    k = draw(st.integers(2, 5))
    rows = []
    firm_id = 0
    for park in [*range(n_parks), None]:
        n_firms = draw(st.integers(0, 7))
        for _ in range(n_firms):
            firm_id += 1
            base = draw(st.floats(0.5, 1000.0))
            for year in range(2013, 2013 + n_years):
                rows.append(
                    {
                        "enterprise_id": f"F{firm_id}",
                        "park_id": None if park is None else f"P{park}",
                        "year": year,
                        "tax": base * draw(st.sampled_from([1.0, 1.5, 40.0])),
                        "profit": base * draw(st.sampled_from([-0.5, 0.3, 2.0])),
                        "value_added": base * 2.0,
                        "energy_tce": base / 3.0,
                        "employees": float(draw(st.integers(1, 500))),
                    }
                )
    if not rows:
        rows.append({"enterprise_id": "F0", "park_id": "P0", "year": 2013, "tax": 1.0})
    firms = pd.DataFrame(rows)
    parks = gpd.GeoDataFrame(
        {"park_id": [f"P{i}" for i in range(n_parks)]},
        geometry=[box(117 + i * 0.01, 39, 117.005 + i * 0.01, 39.005) for i in range(n_parks)],
        crs="EPSG:4326",
    )
    rules = DisclosureRules(min_frequency=k, measures=MONEY)
    return firms, parks, rules


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_random_case())
def test_random_tables_leak_nothing(
    case: tuple[pd.DataFrame, gpd.GeoDataFrame, DisclosureRules],
) -> None:
    firms, parks, rules = case
    baseline = int(firms["year"].min())
    table = park_metrics(firms, parks, baseline_year=baseline, industry_mix=False)
    contrib = contributions_of(firms, parks, measures=rules.measures)
    protected = protect(table, contrib, parks, rules=rules, baseline_year=baseline)
    assert protected.attack(exact=True)["protected"].all()
    attack = attack_published(protected.table, contrib, parks, rules=rules, baseline_year=baseline)
    assert attack["protected"].all(), attack[~attack["protected"]]
    # every cell with 1..K-1 firms is withheld in the published table
    cells = protected.cells
    small = cells["shown"] & (cells["n_firms"] > 0) & (cells["n_firms"] < rules.min_frequency)
    assert (cells.loc[small, "status"] == "primary-frequency").all()
    for measure in rules.measures:
        rows = table[measure].notna() & protected.table[measure].notna()
        np.testing.assert_allclose(table.loc[rows, measure], protected.table.loc[rows, measure])


def test_min_enterprises_blanks_are_kept_and_protected() -> None:
    firms, parks = _thinned()
    table = park_metrics(firms, parks, min_enterprises=3)
    contrib = contributions_of(firms, parks, measures=RULES.measures)
    protected = protect(table, contrib, parks, rules=RULES)
    small = protected.table["park_id"] == parks["park_id"].iloc[0]
    # labour productivity was blanked by min_enterprises: it stays blank and says why
    assert protected.table.loc[small, "labour_productivity"].isna().all()
    assert (protected.status.loc[small, "value_added"] == "primary-frequency").all()
    attack = attack_published(protected.table, contrib, parks, rules=RULES, baseline_year=2013)
    assert attack["protected"].all()
