"""The bundled Tianjin sample and its generator (scripts/make_sample_data.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from parkgeo import coords, industry
from parkgeo._errors import MissingAssetError
from parkgeo.datasets import SAMPLE_FILES, load_tianjin, planted_gaps, sample_path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "make_sample_data.py"
ENTERPRISE_COLUMNS = [
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
]
MEASURES = ["tax", "profit", "value_added", "energy_tce", "employees"]
OVERLAP_PAIR = {"S127019", "S129020"}


@pytest.fixture(scope="module")
def sample():
    return load_tianjin()


@pytest.fixture(scope="module")
def firms_2013(sample):
    """One row per firm (2013) with the park whose polygon contains it ('' outside)."""
    e = sample.enterprises[sample.enterprises["year"] == 2013]
    lon, lat = e["lon"].to_numpy(), e["lat"].to_numpy()
    inside = {
        pid: shapely.contains_xy(geom, lon, lat)
        for pid, geom in zip(sample.parks["park_id"], sample.parks.geometry.values, strict=True)
    }
    return e.assign(division=industry.rollup(e["industry"], level="division")), inside


def _run_generator(out: Path, *extra: str) -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--quiet", "--out", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------- loading


def test_loads_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load_tianjin tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    sample = load_tianjin()
    assert len(sample.parks) == 33
    assert len(sample.districts) == 16
    assert len(sample.enterprises) == 4 * 12_000


def test_each_call_returns_fresh_copies():
    first = load_tianjin()
    first.parks.loc[0, "name"] = "changed"
    first.enterprises.loc[0, "tax"] = -1.0
    first.districts.loc[0, "name"] = "changed"
    second = load_tianjin()
    assert second.parks.loc[0, "name"] != "changed"
    assert second.enterprises.loc[0, "tax"] != -1.0
    assert second.districts.loc[0, "name"] != "changed"


def test_sample_path_names_and_errors():
    for short, file_name in SAMPLE_FILES.items():
        assert sample_path(short).name == file_name
        assert sample_path(short).is_file()
    with pytest.raises(MissingAssetError, match="missing"):
        sample_path("no_such_file.csv")
    with pytest.raises(MissingAssetError, match="not a file of the bundled sample"):
        sample_path("../pyproject.toml")


def test_bundled_files_are_small_enough_for_git():
    names = ("parks", "enterprises", "districts", "planted_gaps")
    total = sum(sample_path(n).stat().st_size for n in names)
    assert total <= 4 * 1024 * 1024


# ---------------------------------------------------------------------------- parks


def test_parks_schema(sample):
    parks = sample.parks
    assert parks.crs.to_epsg() == 4326
    assert parks["park_id"].is_unique
    assert len(parks) == 33
    expected = {"park_id", "name", "district", "level", "approved_area_ha", "leading_industries"}
    assert expected <= set(parks.columns)
    assert parks["approved_area_ha"].dtype == np.float64
    assert set(parks["level"]) == {"national", "provincial"}
    assert (parks["level"] == "national").sum() == 12
    assert parks["approved_area_ha"].sum() == pytest.approx(29_616.05)
    assert parks.loc[parks["park_id"] == "G121002", "name"].item() == "天津经济技术开发区"


def test_park_areas_match_approved_areas(sample):
    area = coords.geodesic_area_ha(sample.parks.geometry)
    relative = np.abs(area / sample.parks["approved_area_ha"].to_numpy() - 1)
    assert relative.max() < 0.01
    assert relative.max() < 1e-4  # the generator iterates to 1e-6


def test_park_geometries_valid_irregular_and_inside_tianjin(sample):
    parks, districts = sample.parks, sample.districts
    assert parks.is_valid.all()
    assert set(parks.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (parks.geom_type == "MultiPolygon").sum() >= 1
    assert sum(len(g.interiors) for g in parks.geometry if g.geom_type == "Polygon") >= 3
    tianjin = shapely.union_all(districts.geometry.values)
    assert parks.within(tianjin).all()


def test_parks_overlap_only_in_the_documented_pair(sample):
    geoms = dict(zip(sample.parks["park_id"], sample.parks.geometry.values, strict=True))
    ids = sorted(geoms)
    overlapping = [
        {a, b} for i, a in enumerate(ids) for b in ids[i + 1 :] if geoms[a].intersects(geoms[b])
    ]
    assert overlapping == [OVERLAP_PAIR]
    a, b = sorted(OVERLAP_PAIR)
    shared = coords.geodesic_area_ha([geoms[a].intersection(geoms[b])], crs="EPSG:4326")[0]
    smaller = min(coords.geodesic_area_ha([geoms[a], geoms[b]], crs="EPSG:4326"))
    assert 0.02 < shared / smaller < 0.06


def test_parks_cover_their_geocodes_and_relocated_defects(sample):
    zones = pd.read_csv(sample_path("tianjin_dev_zones_2018_catalogue.csv"), dtype=str)
    zones = zones.set_index("代码")
    parks = sample.parks.set_index("park_id")
    for pid, geom in parks.geometry.items():
        point = shapely.Point(
            float(zones.loc[pid, "经度_WGS84"]), float(zones.loc[pid, "纬度_WGS84"])
        )
        if pid in ("S127014", "S129015"):  # the catalogue's two geocoding defects
            assert not geom.contains(point)
        else:
            assert geom.contains(point), pid
    # The defects now lie in Dagang, 滨海新区 (see data/SAMPLE.md).
    for pid in ("S127014", "S129015"):
        assert parks.loc[pid, "district"] == "滨海新区"
        c = parks.loc[pid, "geometry"].centroid
        assert 117.35 < c.x < 117.6 and 38.75 < c.y < 38.92


# ---------------------------------------------------------------------------- districts


def test_districts_converted_from_gcj02_and_repaired(sample):
    districts = sample.districts
    assert districts.crs.to_epsg() == 4326
    assert districts["adcode"].is_unique
    assert districts.is_valid.all()
    assert set(districts.geom_type) == {"MultiPolygon"}
    assert districts.loc[districts["adcode"] == "120116", "name_en"].item() == "Binhai New Area"
    raw = json.loads(sample_path("120000_full.json").read_text(encoding="utf-8"))
    heping = next(f for f in raw["features"] if f["properties"]["adcode"] == 120101)
    ring = np.asarray(heping["geometry"]["coordinates"][0][0], dtype=float)
    lon, lat = coords.gcj02_to_wgs84(ring[:, 0], ring[:, 1])
    converted = shapely.get_coordinates(
        districts.loc[districts["adcode"] == "120101"].geometry.item()
    )
    np.testing.assert_allclose(converted[: len(lon)], np.column_stack([lon, lat]), atol=1e-9)
    # GCJ-02 is ~600 m east of WGS-84 in Tianjin: the conversion moved the shape west.
    assert 0.004 < float(np.mean(ring[:, 0] - lon)) < 0.008


# ---------------------------------------------------------------------------- enterprises


def test_enterprise_schema(sample):
    e = sample.enterprises
    assert list(e.columns) == ENTERPRISE_COLUMNS
    assert e["year"].dtype == np.int64
    for column in ["lon", "lat", *MEASURES]:
        assert e[column].dtype == np.float64, column
    assert sorted(e["year"].unique()) == [2013, 2014, 2015, 2016]
    assert not e.duplicated(["enterprise_id", "year"]).any()
    assert (e.groupby("enterprise_id").size() == 4).all()
    assert e.attrs["coord_system"] == "wgs84"


def _credit_code_ok(code: str) -> bool:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    if len(code) != 18 or any(c not in chars for c in code):
        return False
    total = sum(chars.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return chars[(31 - total % 31) % 31] == code[17]


def test_enterprise_ids_names_and_industries(sample):
    e = sample.enterprises[sample.enterprises["year"] == 2013]
    assert e["enterprise_id"].is_unique
    assert all(_credit_code_ok(c) for c in e["enterprise_id"])
    assert e["enterprise_id"].str.slice(2, 4).eq("12").all()  # Tianjin adcodes
    assert e["name"].is_unique
    assert e["name"].str.endswith("公司").all()
    assert e["industry"].str.fullmatch(r"[A-T]\d{4}").all()
    assert all(industry.is_valid_code(c) for c in e["industry"].unique())
    assert e["industry"].str.slice(0, 3).nunique() >= 30


def test_enterprise_measures_are_plausible(sample):
    e = sample.enterprises
    missing = e[MEASURES].isna().mean()
    assert ((missing > 0.003) & (missing < 0.02)).all()
    assert not (e[["tax", "value_added", "energy_tce", "employees"]] < 0).any(axis=None)
    negative_profit = (e["profit"] < 0).mean()
    assert 0.01 < negative_profit < 0.2
    employees = e["employees"].dropna()
    assert (employees == np.round(employees)).all() and employees.min() >= 1


def test_enterprises_inside_tianjin_and_mostly_in_parks(sample, firms_2013):
    e, inside = firms_2013
    tianjin = shapely.union_all(sample.districts.geometry.values)
    assert shapely.contains_xy(tianjin, e["lon"].to_numpy(), e["lat"].to_numpy()).all()
    hits = np.sum(list(inside.values()), axis=0)
    share_inside = float((hits > 0).mean())
    assert 0.78 < share_inside < 0.81
    # Only the deliberate overlap makes a firm fall in two parks (the join's ambiguous case).
    two = hits > 1
    assert two.sum() > 0
    both = inside["S127019"] & inside["S129020"]
    np.testing.assert_array_equal(two, both)
    assert min(int(v.sum()) for v in inside.values()) >= 20  # every park has firms


def _city_changes(e: pd.DataFrame, year: int, base: int = 2013) -> tuple[float, float, float]:
    def figures(y: int) -> tuple[float, float, float]:
        d = e[e["year"] == y]
        ev = d[["energy_tce", "value_added"]].dropna()
        lp = d[["value_added", "employees"]].dropna()
        return (
            d["profit"].sum(),
            ev["energy_tce"].sum() / ev["value_added"].sum(),
            lp["value_added"].sum() / lp["employees"].sum(),
        )

    now, then = figures(year), figures(base)
    return tuple(100 * (a / b - 1) for a, b in zip(now, then, strict=True))  # type: ignore[return-value]


def test_city_wide_calibration_2013_2015(sample):
    profit, energy_per_va, productivity = _city_changes(sample.enterprises, 2015)
    assert profit == pytest.approx(45.0, abs=0.05)
    assert energy_per_va == pytest.approx(-2.88, abs=0.05)
    assert productivity == pytest.approx(20.6, abs=0.05)


def test_2016_continues_the_trend(sample):
    p15, e15, l15 = _city_changes(sample.enterprises, 2015)
    p16, e16, l16 = _city_changes(sample.enterprises, 2016)
    assert p16 > p15 and e16 < e15 and l16 > l15


def test_park_tax_per_hectare_trends_vary(sample, firms_2013):
    e = sample.enterprises
    _, inside = firms_2013
    ids_2013 = firms_2013[0]["enterprise_id"].to_numpy()
    change = {}
    for pid, mask in inside.items():
        members = set(ids_2013[mask])
        d = e[e["enterprise_id"].isin(members)]
        tax = d.groupby("year")["tax"].sum()
        change[pid] = tax[2015] / tax[2013] - 1  # area is constant: tax per ha changes alike
    met = sum(c >= 0.5 for c in change.values())
    assert 5 <= met <= 28


# ---------------------------------------------------------------------------- planted gaps


def test_planted_gaps_table():
    gaps = planted_gaps()
    assert 15 <= len(gaps) <= 25
    assert gaps["park_id"].nunique() >= 10
    assert not gaps.duplicated(["park_id", "industry"]).any()
    assert gaps["industry"].str.fullmatch(r"[A-T]\d{2}").all()
    assert all(industry.is_valid_code(c) for c in gaps["industry"])
    assert (gaps["reason"].str.len() > 20).all()
    assert not (set(gaps["park_id"]) & OVERLAP_PAIR)


def test_planted_gaps_absent_from_their_parks_and_present_in_peers(sample, firms_2013):
    e, inside = firms_2013
    division = e["division"].to_numpy()
    counts = pd.DataFrame(
        {pid: pd.Series(division[mask]).value_counts() for pid, mask in inside.items()}
    ).T.fillna(0.0)
    city_share = e["division"].value_counts() / len(e)
    park_share = counts.sum() / counts.to_numpy().sum()
    for row in planted_gaps().itertuples():
        assert counts.loc[row.park_id].get(row.industry, 0) == 0, (row.park_id, row.industry)
        peers = row.peers.split(";")
        assert len(peers) >= 3
        for peer in peers:
            share = counts.loc[peer, row.industry] / counts.loc[peer].sum()
            assert share / city_share[row.industry] >= 1.0, (row.park_id, row.industry, peer)
            assert share / park_share[row.industry] >= 1.0, (row.park_id, row.industry, peer)


def test_zone_industry_map_covers_every_leading_industry():
    mapping = pd.read_csv(sample_path("zone_industry_map"), dtype=str, keep_default_na=False)
    assert list(mapping.columns) == ["phrase", "divisions", "classes", "note"]
    zones = pd.read_csv(sample_path("tianjin_dev_zones_2018_catalogue.csv"), dtype=str)
    phrases = {p for s in zones["主导产业"] for p in s.split("、")}
    assert phrases == set(mapping["phrase"])
    for row in mapping.itertuples():
        divisions = row.divisions.split(";")
        assert all(industry.normalize_code(d) == d and len(d) == 3 for d in divisions)
        for cls in filter(None, row.classes.split(";")):
            assert industry.normalize_code(cls) == cls and cls[:3] in divisions


# ---------------------------------------------------------------------------- generator


def test_generator_is_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    _run_generator(first, "--seed", "7", "--enterprises", "600")
    _run_generator(second, "--seed", "7", "--enterprises", "600")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert "tianjin_enterprises.parquet" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    e = pd.read_parquet(first / "tianjin_enterprises.parquet")
    assert len(e) == 4 * 600
    assert _city_changes(e, 2015) == pytest.approx((45.0, -2.88, 20.6), abs=0.05)


def test_generator_csv_and_gcj02_options(tmp_path):
    _run_generator(tmp_path, "--enterprises", "600", "--format", "csv", "--coord-system", "gcj02")
    e = pd.read_csv(tmp_path / "tianjin_enterprises.csv", dtype={"enterprise_id": str})
    assert list(e.columns) == ENTERPRISE_COLUMNS
    assert len(e) == 2400
    wgs = pd.read_parquet(tmp_path / "tianjin_parks.parquet")  # parks stay WGS-84
    assert len(wgs) == 33
    lon, lat = coords.gcj02_to_wgs84(e["lon"].to_numpy(), e["lat"].to_numpy())
    back_lon, back_lat = coords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(back_lon, e["lon"], atol=1e-6)
    # GCJ-02 lies ~0.006 degrees east of WGS-84 here
    assert 0.004 < float(np.mean(e["lon"] - lon)) < 0.008


def test_bundled_sample_is_what_the_documented_command_makes(tmp_path, sample):
    _run_generator(tmp_path, "--seed", "2013", "--enterprises", "12000")
    regenerated = pd.read_parquet(tmp_path / "tianjin_enterprises.parquet")
    pd.testing.assert_frame_equal(
        regenerated.reset_index(drop=True),
        sample.enterprises.reset_index(drop=True),
        check_dtype=False,
        check_index_type=False,
        rtol=1e-12,
    )
    import geopandas as gpd

    parks = gpd.read_parquet(tmp_path / "tianjin_parks.parquet")
    assert parks.geometry.geom_equals_exact(sample.parks.geometry, tolerance=1e-9).all()
