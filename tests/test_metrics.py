"""Tests of parkgeo.metrics: per-park density, changes, targets, suppression, industry mix."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely import box
from shapely.geometry.polygon import orient

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo.join import assign_parks
from parkgeo.metrics import (
    ALL,
    ALL_PARKS,
    MONEY_COLUMNS,
    Targets,
    park_metrics,
    read_targets,
)

GEOD = pyproj.Geod(ellps="WGS84")
SUMS = ["n_enterprises", "tax", "energy_tce", "value_added", "profit", "employees"]
SUMS += [f"n_missing_{m}" for m in ("tax", "energy_tce", "value_added", "profit", "employees")]

A = box(117.00, 39.00, 117.01, 39.01)
B = box(117.02, 39.00, 117.04, 39.01)
EMPTY = box(117.10, 39.10, 117.11, 39.11)


@pytest.fixture
def parks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": ["A", "B", "E"], "name": ["Alpha", "Beta", None]},
        geometry=[A, B, EMPTY],
        crs="EPSG:4326",
    )


def frame(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "industry": "C2710",
        "tax": 1.0,
        "profit": 1.0,
        "value_added": 10.0,
        "energy_tce": 5.0,
        "employees": 10.0,
    }
    out = pd.DataFrame([{**defaults, **row} for row in rows])
    out.insert(0, "enterprise_id", [f"E{i}" for i in range(len(out))])
    return out


AT_A, AT_B, OUTSIDE = (117.005, 39.005), (117.03, 39.005), (117.5, 39.5)


def at(place: tuple[float, float], year: int, **values: object) -> dict:
    return {"lon": place[0], "lat": place[1], "year": year, **values}


@pytest.fixture
def firms() -> pd.DataFrame:
    return frame(
        [
            at(
                AT_A, 2013, tax=10.0, profit=4.0, value_added=100.0, energy_tce=50.0, employees=10.0
            ),
            at(
                AT_A, 2013, tax=30.0, profit=6.0, value_added=100.0, energy_tce=30.0, employees=30.0
            ),
            at(AT_B, 2013, tax=5.0, profit=2.0, value_added=50.0, energy_tce=np.nan, employees=5.0),
            at(
                OUTSIDE, 2013, tax=7.0, profit=1.0, value_added=20.0, energy_tce=10.0, employees=2.0
            ),
            at(
                AT_A,
                2015,
                tax=60.0,
                profit=15.0,
                value_added=300.0,
                energy_tce=90.0,
                employees=50.0,
            ),
            at(
                AT_B,
                2015,
                tax=np.nan,
                profit=2.0,
                value_added=np.nan,
                energy_tce=20.0,
                employees=6.0,
            ),
            at(
                OUTSIDE, 2015, tax=8.0, profit=2.0, value_added=30.0, energy_tce=12.0, employees=2.0
            ),
        ]
    )


def metrics_of(firms: pd.DataFrame, parks: gpd.GeoDataFrame, **options: object) -> pd.DataFrame:
    assigned = assign_parks(firms, parks).assigned
    return park_metrics(assigned, parks, **options).set_index(["park_id", "year"])


def area_by_pyproj(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(orient(geom))[0]) / 10_000


def test_sums_and_ratios_by_hand(firms, parks):
    table = metrics_of(firms, parks)
    a13 = table.loc[("A", 2013)]
    assert a13["name"] == "Alpha"
    assert a13["n_enterprises"] == 2
    assert a13["area_ha"] == pytest.approx(area_by_pyproj(A), rel=1e-9)
    assert a13["tax"] == 40.0
    assert a13["tax_per_ha"] == pytest.approx(40.0 / area_by_pyproj(A), rel=1e-9)
    assert a13["energy_tce"] == 80.0
    assert a13["energy_per_ha"] == pytest.approx(80.0 / area_by_pyproj(A), rel=1e-9)
    assert a13["energy_per_value_added"] == pytest.approx(80.0 / 200.0)  # ratio of sums
    assert a13["labour_productivity"] == pytest.approx(200.0 / 40.0)
    assert a13["profit"] == 10.0
    # B 2013: energy missing for its only firm -> NaN, counted, not zero.
    b13 = table.loc[("B", 2013)]
    assert np.isnan(b13["energy_tce"]) and b13["n_missing_energy_tce"] == 1
    assert np.isnan(b13["energy_per_value_added"]) and np.isnan(b13["energy_per_ha"])
    assert b13["tax"] == 5.0
    # The empty park is there with zeros, not dropped; its ratios are NaN, never inf.
    e13 = table.loc[("E", 2013)]
    assert e13["name"] == "E"
    assert e13["n_enterprises"] == 0 and e13["tax"] == 0.0 and e13["tax_per_ha"] == 0.0
    assert np.isnan(e13["energy_per_value_added"]) and np.isnan(e13["labour_productivity"])
    assert not np.isinf(table.select_dtypes("number").to_numpy(dtype=float)).any()


def test_pairwise_complete_ratios(parks):
    # energy_per_value_added uses only rows with both: 40 / 100, not 40+? / 100+300.
    firms = frame(
        [
            at(AT_A, 2013, energy_tce=40.0, value_added=100.0),
            at(AT_A, 2013, energy_tce=np.nan, value_added=300.0, employees=np.nan),
            at(AT_A, 2013, energy_tce=25.0, value_added=np.nan),
        ]
    )
    row = metrics_of(firms, parks).loc[("A", 2013)]
    assert row["energy_per_value_added"] == pytest.approx(0.4)
    assert row["energy_tce"] == 65.0 and row["value_added"] == 400.0
    assert row["labour_productivity"] == pytest.approx(100.0 / 10.0)
    assert row["n_missing_energy_tce"] == 1 and row["n_missing_value_added"] == 1
    assert row["n_missing_employees"] == 1


def test_zero_denominator_is_nan(parks):
    firms = frame([at(AT_A, 2013, value_added=0.0, employees=0.0, energy_tce=3.0)])
    row = metrics_of(firms, parks).loc[("A", 2013)]
    assert np.isnan(row["energy_per_value_added"]) and np.isnan(row["labour_productivity"])


def test_all_missing_is_nan_not_zero(parks):
    firms = frame([at(AT_A, 2013, tax=np.nan), at(AT_A, 2013, tax=np.nan)])
    row = metrics_of(firms, parks).loc[("A", 2013)]
    assert np.isnan(row["tax"]) and np.isnan(row["tax_per_ha"])
    assert row["n_missing_tax"] == 2


def test_city_rows(firms, parks):
    table = metrics_of(firms, parks)
    for year in (2013, 2015):
        parts = table.loc[(["A", "B", "E"], year), SUMS].sum(min_count=1)
        all_parks = table.loc[(ALL_PARKS, year), SUMS]
        for name in SUMS:
            if name in ("tax", "energy_tce", "value_added") and np.isnan(all_parks[name]):
                continue
            assert all_parks[name] == pytest.approx(parts[name]), name
    # ALL: every row, in a park or not; per-hectare figures are not defined for it.
    all13 = table.loc[(ALL, 2013)]
    assert all13["n_enterprises"] == 4 and all13["tax"] == 52.0
    assert all13["area_ha"] == pytest.approx(table.loc[(ALL_PARKS, 2013), "area_ha"])
    assert all13["area_ha"] == pytest.approx(
        sum(area_by_pyproj(g) for g in (A, B, EMPTY)), rel=1e-9
    )
    assert np.isnan(all13["tax_per_ha"])
    assert table.loc[(ALL_PARKS, 2013), "tax"] == 45.0
    assert table.loc[(ALL_PARKS, 2013), "tax_per_ha"] == pytest.approx(
        45.0 / table.loc[(ALL_PARKS, 2013), "area_ha"]
    )
    assert list(table.index.get_level_values(0).unique()) == ["A", "B", "E", ALL_PARKS, ALL]


def test_row_order_invariance(parks):
    rng = np.random.default_rng(11)
    n = 2000
    firms = frame(
        [
            at(
                (rng.uniform(116.99, 117.05), rng.uniform(38.995, 39.015)),
                int(rng.integers(2013, 2017)),
            )
            for _ in range(n)
        ]
    )
    for name in ("tax", "profit", "value_added", "energy_tce", "employees"):
        values = rng.lognormal(3, 1, n)
        values[rng.random(n) < 0.1] = np.nan
        firms[name] = values
    base = metrics_of(firms, parks)
    shuffled = metrics_of(firms.sample(frac=1.0, random_state=2), parks)
    pd.testing.assert_frame_equal(shuffled, base, rtol=1e-12)


def test_enterprise_outside_parks_changes_no_park(firms, parks):
    base = metrics_of(firms, parks)
    extra = pd.concat([firms, frame([at((117.3, 39.3), 2013, tax=1e6)])], ignore_index=True)
    more = metrics_of(extra, parks)
    parks_rows = base.index.get_level_values(0) != ALL
    pd.testing.assert_frame_equal(more.loc[parks_rows], base.loc[parks_rows])
    assert more.loc[(ALL, 2013), "tax"] == base.loc[(ALL, 2013), "tax"] + 1e6


def test_changes_targets_and_status(parks):
    # Park A: profit 100 in 2013, then 120, 125, 160; tax 100 -> 160 (+60% by 2015: met);
    # energy per value added 1.0 -> 0.9 (-10%: 2/3 of the way, on the 2015 line).
    def firm(year, profit, tax, energy):
        return at(AT_A, year, profit=profit, tax=tax, energy_tce=energy, value_added=100.0)

    firms = frame(
        [
            firm(2013, 100.0, 100.0, 100.0),
            firm(2014, 120.0, 110.0, 97.0),
            firm(2015, 125.0, 160.0, 90.0),
            firm(2016, 160.0, 140.0, 84.0),
        ]
    )
    table = metrics_of(firms, parks)
    a = table.loc["A"]
    np.testing.assert_allclose(a["profit_change"], [0.0, 0.2, 0.25, 0.6])
    np.testing.assert_allclose(a["profit_progress"], [0.0, 0.4, 0.5, 1.2])
    # Linear path 2013 -> 2016: a third of the target expected by 2014, two thirds by 2015.
    assert a["profit_status"].tolist() == ["baseline", "on track", "behind", "met"]
    assert a["tax_per_ha_status"].tolist() == ["baseline", "behind", "met", "behind"]
    np.testing.assert_allclose(a["energy_per_value_added_change"], [0.0, -0.03, -0.1, -0.16])
    assert a["energy_per_value_added_status"].tolist() == ["baseline", "behind", "on track", "met"]
    assert a["labour_productivity_status"].tolist() == ["baseline"] + ["no target"] * 3
    # The empty park has nothing to compare with.
    assert table.loc[("E", 2015), "profit_status"] == "no baseline"
    # Own targets and years.
    own = metrics_of(
        firms, parks, targets=Targets(profit=0.25, baseline_year=2014, target_year=2015)
    )
    assert own.loc[("A", 2013), "profit_status"] == "before baseline"
    assert own.loc[("A", 2015), "profit_change"] == pytest.approx(125 / 120 - 1)
    assert own.loc[("A", 2016), "profit_status"] == "met"
    moved = metrics_of(firms, parks, baseline_year=2014)
    assert moved.loc[("A", 2014), "profit_status"] == "baseline"


def test_negative_baseline_gives_no_change(parks):
    firms = frame([at(AT_A, 2013, profit=-5.0), at(AT_A, 2015, profit=10.0)])
    row = metrics_of(firms, parks).loc[("A", 2015)]
    assert np.isnan(row["profit_change"]) and row["profit_status"] == "no baseline"


def test_suppression(firms, parks):
    table = metrics_of(firms, parks, min_enterprises=2, per_mu=True)
    # B has one contributing firm in each year: its money is confidential.
    for year in (2013, 2015):
        row = table.loc[("B", year)]
        assert row["suppressed"]
        for name in MONEY_COLUMNS:
            assert np.isnan(row[name]), name
        assert row["n_enterprises"] == 1 and row["employees"] > 0  # counts stay
    assert np.isnan(table.loc[("B", 2015), "profit_change"])
    assert table.loc[("B", 2015), "profit_status"] == "suppressed"
    # A has two firms in 2013 (shown) but one in 2015 (suppressed), so its change would let
    # the 2015 firm's profit be worked out: hidden too.
    assert not table.loc[("A", 2013), "suppressed"]
    assert table.loc[("A", 2013), "tax"] == 40.0
    assert table.loc[("A", 2015), "suppressed"]
    assert table.loc[("A", 2015), "profit_status"] == "suppressed"
    # Energy is not money; zero-firm parks are not suppressed; city rows have enough firms.
    assert table.loc[("A", 2015), "energy_tce"] == 90.0
    assert not table.loc[("E", 2013), "suppressed"]
    assert not table.loc[(ALL, 2013), "suppressed"]
    assert not metrics_of(firms, parks)["suppressed"].any()


def test_per_mu(firms, parks):
    row = metrics_of(firms, parks, per_mu=True).loc[("A", 2013)]
    assert row["area_mu"] == pytest.approx(row["area_ha"] * 15)
    assert row["tax_per_mu"] == pytest.approx(row["tax_per_ha"] / 15)
    assert row["energy_per_mu"] == pytest.approx(row["energy_per_ha"] / 15)
    assert "tax_per_mu" not in metrics_of(firms, parks).columns


def test_industry_mix(parks):
    firms = frame(
        [
            at(AT_A, 2013, industry="C2710", value_added=30.0),  # biomedicine: strategic
            at(AT_A, 2013, industry="C1311", value_added=10.0),  # grain milling: not
            at(AT_A, 2013, industry="C1312", value_added=np.nan),
            at(AT_A, 2013, industry="C2720", value_added=60.0),
        ]
    )
    row = metrics_of(firms, parks).loc[("A", 2013)]
    assert row["strategic_share"] == pytest.approx(0.5)
    assert row["strategic_value_added_share"] == pytest.approx(90.0 / 100.0)
    assert row["top_industries"] == "C13 (2); C27 (2)"
    plain = metrics_of(firms, parks, industry_mix=False)
    assert "top_industries" not in plain.columns


def test_years_filter(firms, parks):
    table = metrics_of(firms, parks, years=[2015])
    assert set(table.index.get_level_values(1)) == {2015}
    assert table.loc[("A", 2015), "profit_change"] == pytest.approx(15.0 / 10.0 - 1)
    with pytest.raises(ParkgeoError, match=r"year\(s\) \[2020\]"):
        metrics_of(firms, parks, years=[2020])


def test_bad_inputs(firms, parks):
    assigned = assign_parks(firms, parks).assigned
    with pytest.raises(SchemaError, match="park_id"):
        park_metrics(assigned.drop(columns="park_id"), parks)
    with pytest.raises(SchemaError, match="not in the parks layer"):
        park_metrics(assigned, parks[parks["park_id"] != "A"])
    with pytest.raises(ParkgeoError, match="min_enterprises"):
        park_metrics(assigned, parks, min_enterprises=0)
    with pytest.raises(ParkgeoError, match="after baseline_year"):
        park_metrics(assigned, parks, target_year=2012)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4490", "EPSG:32650", "EPSG:3857"])
def test_area_is_geodesic_and_crs_independent(firms, parks, crs):
    base = metrics_of(firms, parks)
    other = metrics_of(firms, parks.to_crs(crs))
    np.testing.assert_allclose(other["area_ha"], base["area_ha"], rtol=1e-4)
    for geom, park in ((A, "A"), (B, "B")):
        assert base.loc[(park, 2013), "area_ha"] == pytest.approx(area_by_pyproj(geom), rel=1e-6)


def test_targets_file(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        "baseline_year = 2014\ntarget_year = 2018\n[targets]\nprofit = 0.3\n"
        "tax_per_ha = false\nlabour_productivity = 0.2\n",
        encoding="utf-8",
    )
    targets = read_targets(path)
    assert targets == Targets(
        profit=0.3,
        tax_per_ha=None,
        energy_per_value_added=-0.15,
        labour_productivity=0.2,
        baseline_year=2014,
        target_year=2018,
    )
    path.write_text("[targets]\nprofits = 0.3\n", encoding="utf-8")
    with pytest.raises(ParkgeoError, match="unknown target.*profits"):
        read_targets(path)
    path.write_text("[targets]\nprofit = 'half'\n", encoding="utf-8")
    with pytest.raises(ParkgeoError, match="profit must be a number"):
        read_targets(path)
    path.write_text("[targets\n", encoding="utf-8")
    with pytest.raises(ParkgeoError, match="not valid TOML"):
        read_targets(path)
    with pytest.raises(ParkgeoError, match="cannot read"):
        read_targets(tmp_path / "missing.toml")


def test_example_targets_file_is_the_default():
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "docs" / "targets.example.toml"
    assert read_targets(example) == Targets(target_year=2016)


def test_bundled_sample_reproduces_the_calibration():
    from parkgeo.datasets import load_tianjin

    sample = load_tianjin()
    assigned = assign_parks(sample.enterprises, sample.parks).assigned
    table = park_metrics(assigned, sample.parks).set_index(["park_id", "year"])
    city = table.loc[(ALL, 2015)]
    assert city["profit_change"] == pytest.approx(0.45, abs=5e-4)
    assert city["energy_per_value_added_change"] == pytest.approx(-0.0288, abs=5e-5)
    assert city["labour_productivity_change"] == pytest.approx(0.206, abs=5e-4)
    assert city["profit_status"] == "on track"
    assert city["energy_per_value_added_status"] == "behind"
    assert len(table.index.get_level_values(0).unique()) == len(sample.parks) + 2
    in_parks = table.xs(2015, level="year").drop(index=[ALL, ALL_PARKS])
    assert in_parks["n_enterprises"].sum() == table.loc[(ALL_PARKS, 2015), "n_enterprises"]
