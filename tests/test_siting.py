"""Siting: ranking parks and scoring candidate points for a new firm of an industry."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkgeo._errors import ParkgeoError
from parkgeo.cli import main
from parkgeo.join import assign_parks
from parkgeo.siting import PARK_COLUMNS, POINT_COLUMNS, rank_parks, score_sites

# Electronics parks E1-E3 have C39, C38 and C40; X has C38 and C40 but no C39 (related, absent);
# auto parks A1-A3 have C36 and C34 only. Parks sit 0.05 deg apart along a line.
MIXES = {
    "E1": {"C39": 20, "C38": 10, "C40": 10},
    "E2": {"C39": 20, "C38": 10, "C40": 10},
    "E3": {"C39": 20, "C38": 10, "C40": 10},
    "X": {"C38": 15, "C40": 15, "C36": 2},
    "A1": {"C36": 20, "C34": 20},
    "A2": {"C36": 20, "C34": 20},
    "A3": {"C36": 20, "C34": 20},
}
# energy intensity (tce per 10k CNY) of each industry's firms; C39 firms: 10 value added, 1 tce
INTENSITY = {"C39": 0.1, "C38": 0.1, "C40": 0.05, "C36": 0.2, "C34": 0.3}


def _box(i: int) -> shapely.Polygon:
    x0 = 117.0 + 0.05 * i
    return shapely.box(x0, 39.0, x0 + 0.01, 39.01)


def siting_city() -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(9)
    rows = []
    for i, mix in enumerate(MIXES.values()):
        x0 = 117.0 + 0.05 * i
        for code, n in mix.items():
            for _ in range(n):
                rows.append(
                    (code, x0 + rng.uniform(0.002, 0.008), 39.0 + rng.uniform(0.002, 0.008))
                )
    firms = pd.DataFrame(rows, columns=["industry", "lon", "lat"])
    firms.insert(0, "enterprise_id", [f"F{i:04d}" for i in range(len(firms))])
    firms["year"] = 2015
    firms["value_added"] = 10.0
    firms["energy_tce"] = firms["industry"].map(INTENSITY) * 10.0
    firms["tax"] = 1.0
    parks = gpd.GeoDataFrame(
        {"park_id": list(MIXES), "name": [f"Park {p}" for p in MIXES]},
        geometry=[_box(i) for i in range(len(MIXES))],
        crs="EPSG:4326",
    )
    return firms, parks


@pytest.fixture(scope="module")
def city() -> tuple[pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    firms, parks = siting_city()
    assigned = assign_parks(firms, parks).assigned
    # tax per ha and energy intensity per park, given rather than computed, to test the scores
    metrics = pd.DataFrame(
        {
            "park_id": list(MIXES),
            "year": 2015,
            "tax_per_ha": [30.0, 10.0, 20.0, 40.0, 5.0, 50.0, 60.0],
            "energy_per_value_added": [0.05, 0.1, 0.2, 0.08, 0.2, 0.3, 0.25],
            "value_added": [400.0] * 7,
        }
    )
    return assigned, parks, metrics


def test_rank_parks_components(city) -> None:
    assigned, parks, metrics = city
    ranked = rank_parks("C3911", assigned, parks, metrics=metrics, distance_scale_km=5.0)
    assert list(ranked.columns) == PARK_COLUMNS
    assert ranked["rank"].tolist() == list(range(1, 8))
    assert (ranked["industry"] == "C39").all()
    by_park = ranked.set_index("park_id")
    # relatedness: X has both industries related to C39 (C38, C40), the auto parks neither
    assert by_park.loc["X", "score_relatedness"] == pytest.approx(1.0)
    assert by_park.loc["A1", "score_relatedness"] == 0.0
    # C39 clusters lie in E1-E3: distance 0 there; X (next to E3) is 0.04 deg (~3.5 km) away
    assert by_park.loc[["E1", "E2", "E3"], "nearest_cluster_km"].eq(0).all()
    assert 3.0 < by_park.loc["X", "nearest_cluster_km"] < 4.0
    assert by_park.loc["X", "score_cluster"] == pytest.approx(
        np.exp(-by_park.loc["X", "nearest_cluster_km"] / 5.0)
    )
    # the nearest related (C38/C40) cluster of X is its own
    assert by_park.loc["X", "nearest_related_cluster_km"] == 0.0
    assert by_park.loc["X", "nearest_related_industry"] in ("C38", "C40")
    # tax: percentile rank among the 7 parks (A3 highest, A1 lowest)
    assert by_park.loc["A3", "score_tax"] == 1.0 and by_park.loc["A1", "score_tax"] == 0.0
    assert by_park.loc["E1", "score_tax"] == pytest.approx(3 / 6)
    # energy: C39 firms use 0.1 tce per 10k CNY; a park at 0.05 would get worse (score 0.5)
    assert by_park.loc["E1", "industry_energy_per_value_added"] == pytest.approx(0.1)
    assert by_park.loc["E1", "score_energy"] == pytest.approx(0.5)
    assert by_park.loc["E3", "score_energy"] == 1.0
    # one median C39 firm (10 of value added) added to E1's 400: (0.05*400 + 0.1*10)/410 / 0.05
    assert by_park.loc["E1", "energy_change"] == pytest.approx((20 + 1) / 410 / 0.05 - 1)
    assert by_park.loc["E3", "energy_change"] < 0
    # score = weighted mean of the components (default weights 0.3/0.2/0.1/0.2/0.2)
    row = by_park.loc["X"]
    expected = (
        0.3 * row["score_relatedness"]
        + 0.2 * row["score_cluster"]
        + 0.1 * row["score_related_cluster"]
        + 0.2 * row["score_tax"]
        + 0.2 * row["score_energy"]
    )
    assert row["score"] == pytest.approx(expected)
    assert ranked["score"].is_monotonic_decreasing
    assert by_park.loc["A1", "rank"] == 7
    reason = by_park.loc["X", "reason"]
    assert reason.startswith("It has most of the industries usually found alongside C39 (100%).")
    assert "#" not in "".join(ranked["reason"]) and "tce" not in "".join(ranked["reason"])


def test_weights_select_the_ranking(city) -> None:
    assigned, parks, metrics = city
    tax_only = rank_parks("C39", assigned, parks, metrics=metrics, weights={"tax": 1.0})
    assert tax_only["park_id"].tolist() == ["A3", "A2", "X", "E1", "E3", "E2", "A1"]
    energy_only = rank_parks("C39", assigned, parks, metrics=metrics, weights={"energy": 1})
    assert energy_only["park_id"].iloc[-1] == "E1"  # the only park C39 firms would worsen most
    with pytest.raises(ParkgeoError, match="unknown weight"):
        rank_parks("C39", assigned, parks, metrics=metrics, weights={"park_distance": 1})
    with pytest.raises(ParkgeoError, match="coarser"):
        rank_parks("C", assigned, parks, metrics=metrics)


def test_missing_components_are_left_out_of_the_mean(city) -> None:
    assigned, parks, metrics = city
    no_energy = metrics.assign(energy_per_value_added=np.nan)
    ranked = rank_parks("C39", assigned, parks, metrics=no_energy).set_index("park_id")
    assert ranked["score_energy"].isna().all()
    row = ranked.loc["X"]
    expected = (
        0.3 * row["score_relatedness"]
        + 0.2 * row["score_cluster"]
        + 0.1 * row["score_related_cluster"]
        + 0.2 * row["score_tax"]
    ) / 0.8
    assert row["score"] == pytest.approx(expected)


def test_rank_parks_deterministic_and_order_free(city) -> None:
    assigned, parks, metrics = city
    a = rank_parks("C39", assigned, parks, metrics=metrics)
    b = rank_parks(
        "C39",
        assigned.sample(frac=1, random_state=2),
        parks.iloc[::-1],
        metrics=metrics.iloc[::-1],
    )
    pd.testing.assert_frame_equal(a, b)


def test_score_sites_inside_and_outside_parks(city) -> None:
    assigned, parks, metrics = city
    points = pd.DataFrame(
        {"lon": [117.005, 117.155, 117.42], "lat": [39.005, 39.005, 39.005]},
        index=["in E1", "in X", "east of A3"],
    )
    scored = score_sites(points, "C39", assigned, parks, metrics=metrics)
    assert list(scored.columns) == ["lon", "lat"] + [
        c for c in POINT_COLUMNS if c not in ("lon", "lat")
    ]
    assert scored.index.tolist() == points.index.tolist()
    assert scored["in_park"].tolist() == [True, True, False]
    assert scored["park_id"].tolist() == ["E1", "X", "A3"]
    assert scored.loc["in E1", "park_distance_km"] == 0
    assert scored.loc["in E1", "score_park_distance"] == 1.0
    # 117.42 is 0.11 deg east of A3's edge (117.31): ~9.5 km at 39 N
    assert 9.0 < scored.loc["east of A3", "park_distance_km"] < 10.0
    assert scored.loc["east of A3", "score_park_distance"] < 0.5
    # the park context comes from the park (same relatedness and tax score as rank_parks)
    ranked = rank_parks("C39", assigned, parks, metrics=metrics).set_index("park_id")
    assert scored.loc["in X", "score_relatedness"] == ranked.loc["X", "score_relatedness"]
    assert scored.loc["east of A3", "score_tax"] == ranked.loc["A3", "score_tax"]
    # distances to clusters are measured from the point itself
    assert scored.loc["in E1", "nearest_cluster_km"] < 1.0
    assert sorted(scored["rank"]) == [1, 2, 3] and scored.loc["east of A3", "rank"] == 3
    assert scored.sort_values("rank")["score"].is_monotonic_decreasing
    # a GeoDataFrame in a projected CRS gives the same scores
    as_gdf = gpd.GeoDataFrame(
        index=points.index,
        geometry=gpd.points_from_xy(points["lon"], points["lat"]),
        crs="EPSG:4326",
    ).to_crs("EPSG:32650")
    as_gdf["site_name"] = ["north gate", "old mill", "river plot"]
    again = score_sites(as_gdf, "C39", assigned, parks, metrics=metrics)
    pd.testing.assert_series_equal(again["score"], scored["score"], atol=1e-9)
    # the analyst's own object comes back: type, rows, index, columns, geometry and CRS kept
    assert isinstance(again, gpd.GeoDataFrame) and again.crs == as_gdf.crs
    assert again.index.equals(as_gdf.index)
    assert list(again.columns[:2]) == ["geometry", "site_name"]
    assert again.geometry.name == "geometry" and again.geometry.equals(as_gdf.geometry)
    assert again["site_name"].tolist() == as_gdf["site_name"].tolist()
    assert set(POINT_COLUMNS) <= set(again.columns)
    np.testing.assert_allclose(again["lon"], points["lon"], atol=1e-9)
    assert "score" not in as_gdf.columns  # the input is not modified
    with pytest.raises(ParkgeoError, match="lon/lat"):
        score_sites(points.assign(lon=np.nan), "C39", assigned, parks, metrics=metrics)


def test_rank_parks_on_the_sample_uses_park_metrics() -> None:
    from parkgeo.datasets import load_tianjin

    sample = load_tianjin()
    assigned = assign_parks(sample.enterprises, sample.parks).assigned
    ranked = rank_parks("C39", assigned, sample.parks)
    assert len(ranked) == sample.parks["park_id"].nunique()
    assert ranked["tax_per_ha"].notna().all()
    assert (
        ranked[["score_relatedness", "score_tax", "score_energy"]]
        .apply(lambda s: s.between(0, 1).all())
        .all()
    )
    # electronics parks (C39 present with LQ >= 1) rank above parks without C39 firms
    top = ranked.head(5)
    assert (top["lq"] >= 1).all()


def test_cli_site_parks_and_points(tmp_path, capsys) -> None:
    firms, parks = siting_city()
    firms_path = tmp_path / "firms.csv"
    firms.to_csv(firms_path, index=False)
    parks_path = tmp_path / "parks.geojson"
    parks.to_file(parks_path, driver="GeoJSON")
    common = ["site", "--enterprises", str(firms_path), "--parks", str(parks_path), "-q"]
    assert main([*common, "--industry", "C39"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(out.columns) == PARK_COLUMNS and len(out) == 7
    points = tmp_path / "candidates.csv"
    points.write_text("站点,经度,纬度\nA,117.005,39.005\nB,117.42,39.005\n", encoding="utf-8")
    out_gpkg = tmp_path / "sites.gpkg"
    assert main([*common, "--industry", "C39", "--points", str(points), "-o", str(out_gpkg)]) == 0
    sites = gpd.read_file(out_gpkg)
    assert sites["站点"].tolist() == ["A", "B"] and sites["in_park"].tolist() == [True, False]
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n117.0,abc\n", encoding="utf-8")
    assert main([*common, "--industry", "C39", "--points", str(bad)]) == 3
    assert "row 2" in capsys.readouterr().err


def test_rank_parks_and_gaps_as_geodataframes(city) -> None:
    from parkgeo.gaps import missing_clusters
    from parkgeo.results import with_park_geometry

    assigned, parks, metrics = city
    ranked = rank_parks("C39", assigned, parks, metrics=metrics)
    assert isinstance(ranked.index, pd.RangeIndex) and not isinstance(ranked, gpd.GeoDataFrame)
    geo = rank_parks("C39", assigned, parks, metrics=metrics, geometry=True)
    assert isinstance(geo, gpd.GeoDataFrame) and geo.crs == parks.crs
    pd.testing.assert_frame_equal(pd.DataFrame(geo.drop(columns="geometry")), ranked)
    by_id = parks.set_index("park_id").geometry
    assert all(g.equals(by_id[p]) for p, g in zip(geo["park_id"], geo.geometry, strict=True))
    gaps = missing_clusters(assigned, parks, top=2, geometry=True)
    assert isinstance(gaps, gpd.GeoDataFrame) and isinstance(gaps.index, pd.RangeIndex)
    assert gaps.geometry.notna().all()
    # park_metrics (and any table with park_id) through the documented helper: ALL rows have
    # no polygon, every park row has its own
    table = with_park_geometry(metrics, parks)
    assert table.index.equals(metrics.index) and len(table) == len(metrics)
    parks_rows = table["park_id"].isin(parks["park_id"])
    assert table.geometry[parks_rows].notna().all() and table.geometry[~parks_rows].isna().all()
    assert "geometry" not in metrics.columns
    with pytest.raises(ParkgeoError, match="appears more than once"):
        with_park_geometry(metrics, pd.concat([parks, parks.iloc[[0]]]))
