"""Land per enterprise: parcel areas, shared parcels by each rule, the parcel ledger and its
conservation (property-tested), and the evaluation's input columns."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely import Polygon, box

from parkgeo._errors import GeometryError, SchemaError
from parkgeo.coords import geodesic_area_ha
from parkgeo.evaluate_inputs import evaluation_columns, match_evaluation_columns
from parkgeo.evaluate_land import PARCEL_OUTCOMES, allocate_parcels, land_for_firms

Z1 = box(117.000, 39.000, 117.002, 39.001)
Z2 = box(117.010, 39.000, 117.011, 39.002)
Z3 = Polygon([(117.02, 39.0), (117.023, 39.0), (117.021, 39.003)])


def _parcels(owners: list[str], shares: list[str] | None = None) -> gpd.GeoDataFrame:
    data: dict[str, list[str]] = {"宗地编号": ["Z1", "Z2", "Z3"], "权利人代码": owners}
    if shares is not None:
        data["分摊比例"] = shares
    return gpd.GeoDataFrame(data, geometry=[Z1, Z2, Z3], crs="EPSG:4326")


FIRMS = pd.DataFrame(
    {
        "enterprise_id": ["A", "B", "C"],
        "year": [2016, 2016, 2016],
        "employees": [30.0, 70.0, 5.0],
        "lon": [117.0005, 117.0015, 117.0105],
        "lat": [39.0005, 39.0005, 39.0010],
    }
)


def test_parcel_areas_are_geodesic() -> None:
    result = allocate_parcels(FIRMS, _parcels(["A", "B", ""]))
    expected = geodesic_area_ha(gpd.GeoSeries([Z1, Z2, Z3], crs="EPSG:4326"))
    np.testing.assert_allclose(result.ledger["area_ha"], expected, rtol=1e-12)
    np.testing.assert_allclose(result.parcels["area_ha"], expected, rtol=1e-12)
    # a projected layer gives the same areas
    projected = _parcels(["A", "B", ""]).to_crs("EPSG:4548")
    again = allocate_parcels(FIRMS, projected)
    np.testing.assert_allclose(again.ledger["area_ha"], expected, rtol=1e-7)
    land = result.land.set_index("enterprise_id")["land_ha"]
    assert land["A"] == pytest.approx(expected[0], rel=1e-12)
    assert result.ledger["outcome"].tolist() == ["allocated", "allocated", "idle"]


@pytest.mark.parametrize(
    ("split", "shares", "expected"),
    [
        ("equal", None, {"A": 0.5, "B": 0.5}),
        ("employees", None, {"A": 0.3, "B": 0.7}),
        ("share", ["0.6;0.4", "", ""], {"A": 0.6, "B": 0.4}),
        ("share", ["60%;40%", "", ""], {"A": 0.6, "B": 0.4}),
    ],
)
def test_shared_parcel_split(split: str, shares: list[str] | None, expected: dict) -> None:
    result = allocate_parcels(FIRMS, _parcels(["A;B", "", ""], shares), split=split)
    area = geodesic_area_ha(gpd.GeoSeries([Z1], crs="EPSG:4326"))[0]
    land = result.land.set_index("enterprise_id")["land_ha"]
    for firm, part in expected.items():
        assert land[firm] == pytest.approx(part * area, rel=1e-12)
    row = result.ledger.iloc[0]
    assert (row["outcome"], row["n_firms"], row["firms"], row["split"]) == (
        "shared",
        2,
        "A;B",
        split,
    )
    assert row["unallocated_ha"] == 0.0


def test_share_of_an_absent_owner_stays_unallocated() -> None:
    parcels = _parcels(["A;X", "X", ""], ["0.25;0.75", "1", ""])
    result = allocate_parcels(FIRMS, parcels, split="share")
    area = result.ledger["area_ha"].to_numpy()
    assert result.ledger["outcome"].tolist() == ["allocated", "owner_not_in_data", "idle"]
    np.testing.assert_allclose(result.ledger["unallocated_ha"], [0.75 * area[0], area[1], area[2]])
    assert result.land["land_ha"].iloc[0] == pytest.approx(0.25 * area[0])


def test_repeated_parcel_rows_are_one_shared_parcel() -> None:
    parcels = gpd.GeoDataFrame(
        {"宗地编号": ["Z1", "Z1", "Z2"], "权利人代码": ["A", "B", "C"]},
        geometry=[Z1, Z1, Z2],
        crs="EPSG:4326",
    )
    result = allocate_parcels(FIRMS, parcels)
    assert result.ledger["outcome"].tolist() == ["shared", "allocated"]
    bad = parcels.set_geometry([Z1, Z2, Z2])
    with pytest.raises(GeometryError, match="parcel id Z1 appears twice"):
        allocate_parcels(FIRMS, bad)


def test_located_by_points() -> None:
    parcels = _parcels(["", "", ""]).drop(columns="权利人代码")
    result = allocate_parcels(FIRMS, parcels, split="employees")
    assert result.ledger["outcome"].tolist() == ["shared", "allocated", "idle"]
    assert set(result.ledger["located_by"]) == {"point"}
    land = result.land.set_index("enterprise_id")["land_ha"]
    assert land["A"] / land["B"] == pytest.approx(30 / 70)


def test_no_geometry_and_bad_options() -> None:
    parcels = _parcels(["A", "B", "C"])
    parcels.loc[2, "geometry"] = Polygon()
    result = allocate_parcels(FIRMS, parcels)
    assert result.ledger["outcome"].tolist() == ["allocated", "allocated", "no_geometry"]
    with pytest.raises(SchemaError, match="split must be one of"):
        allocate_parcels(FIRMS, parcels, split="area")
    with pytest.raises(SchemaError, match="needs a share column"):
        allocate_parcels(FIRMS, parcels, split="share")
    with pytest.raises(SchemaError, match="2 owner\\(s\\) but 1 share"):
        allocate_parcels(FIRMS, _parcels(["A;B", "", ""], ["1", "", ""]), split="share")


def test_land_sources() -> None:
    result = allocate_parcels(FIRMS, _parcels(["A", "", ""]))
    column = pd.Series([np.nan, 2.0, np.nan], index=FIRMS.index)
    land = land_for_firms(FIRMS, result, column)
    assert land["land_source"].tolist() == ["parcels", "column", "none"]
    assert land["land_ha"].iloc[1] == 2.0


@st.composite
def _layouts(draw: st.DrawFn) -> tuple[pd.DataFrame, gpd.GeoDataFrame, str]:
    n_firms = draw(st.integers(1, 8))
    years = draw(st.lists(st.sampled_from([2015, 2016]), min_size=n_firms, max_size=n_firms))
    ids = [f"F{i}" for i in range(n_firms)]
    firms = pd.DataFrame(
        {
            "enterprise_id": ids,
            "year": years,
            "employees": draw(
                st.lists(
                    st.one_of(st.just(np.nan), st.integers(0, 50).map(float)),
                    min_size=n_firms,
                    max_size=n_firms,
                )
            ),
            "lon": [117.0 + 0.001 * draw(st.integers(0, 9)) + 0.0005 for _ in ids],
            "lat": [39.0005] * n_firms,
        }
    )
    n_parcels = draw(st.integers(1, 6))
    owners = [
        ";".join(draw(st.lists(st.sampled_from([*ids, "GONE"]), max_size=3, unique=True)))
        for _ in range(n_parcels)
    ]
    geoms = [
        box(117.0 + 0.001 * k, 39.0, 117.001 + 0.001 * k, 39.001)
        if draw(st.booleans()) or k == 0
        else Polygon()
        for k in range(n_parcels)
    ]
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [f"P{k}" for k in range(n_parcels)], "owner_id": owners},
        geometry=geoms,
        crs="EPSG:4326",
    )
    if draw(st.booleans()):
        parcels = parcels.drop(columns="owner_id")
    split = draw(st.sampled_from(["equal", "employees"]))
    return firms, parcels, split


@given(_layouts())
def test_every_parcel_and_firm_in_exactly_one_outcome(
    layout: tuple[pd.DataFrame, gpd.GeoDataFrame, str],
) -> None:
    firms, parcels, split = layout
    logging.getLogger("parkgeo").setLevel(logging.ERROR)
    result = allocate_parcels(firms, parcels, split=split)
    ledger = result.ledger
    years = sorted(set(firms["year"]))
    # one row per parcel and year, each with one known outcome
    assert len(ledger) == len(parcels) * len(years)
    assert not ledger.duplicated(["parcel_id", "year"]).any()
    assert set(ledger["outcome"]) <= set(PARCEL_OUTCOMES)
    valid = ledger["outcome"] != "no_geometry"
    np.testing.assert_allclose(
        ledger.loc[valid, "allocated_ha"] + ledger.loc[valid, "unallocated_ha"],
        ledger.loc[valid, "area_ha"],
        rtol=1e-12,
        atol=1e-12,
    )
    held = ledger["outcome"].isin(["allocated", "shared"])
    assert (ledger.loc[held, "unallocated_ha"] == 0).all()
    assert (ledger.loc[~held, "allocated_ha"] == 0).all()
    # land handed out = land the firms received
    assert result.allocation["land_ha"].sum() == pytest.approx(ledger["allocated_ha"].sum())
    assert result.land["land_ha"].sum() == pytest.approx(ledger["allocated_ha"].sum())
    # every firm-year gets exactly one land source
    land = land_for_firms(firms, result, None)
    assert len(land) == len(firms)
    assert set(land["land_source"]) <= {"parcels", "none"}
    holders = set(zip(result.land["enterprise_id"], result.land["year"], strict=True))
    for (eid, year), src in zip(
        zip(firms["enterprise_id"], firms["year"], strict=True), land["land_source"], strict=True
    ):
        assert (src == "parcels") == ((eid, year) in holders)


def test_evaluation_columns_units_and_notes(caplog: pytest.LogCaptureFixture) -> None:
    raw = pd.DataFrame(
        {
            "主营业务收入(元)": ["12000000", "5"],
            "R&D经费支出": ["12.5", "abc"],
            "COD排放量": ["3吨", "500公斤"],
            "用电量(万千瓦时)": ["2", ""],
            "规模以上": ["规上", "否"],
            "占地面积": ["30", "2公顷"],
            "成立年份": ["2008年", "2012"],
            "重大事故": ["是", ""],
        }
    )
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        out = evaluation_columns(raw, extra=["重大事故"])
    assert "states no unit" in caplog.text
    np.testing.assert_allclose(out["revenue"], [1200.0, 0.0005])
    np.testing.assert_allclose(out["cod_t"], [3.0, 0.5])
    np.testing.assert_allclose(out["electricity_kwh"], [20000.0, np.nan])
    np.testing.assert_allclose(out["land_mu"], [30.0, 30.0])
    np.testing.assert_allclose(out["land_ha"], [2.0, 2.0])
    assert out["above_scale"].tolist() == [1.0, 0.0]
    assert out["founded_year"].tolist() == [2008.0, 2012.0]
    assert out["重大事故"].tolist() == ["是", ""]
    assert np.isnan(out["rd_expense"].iloc[1])
    assert out["input_notes"].tolist() == [
        None,
        "rd_expense: 'abc' is not a number (read as missing)",
    ]


def test_ambiguous_evaluation_headers() -> None:
    with pytest.raises(SchemaError, match="several headers could be revenue"):
        match_evaluation_columns(["营业收入", "主营业务收入"])
    assert match_evaluation_columns(
        ["营业收入", "主营业务收入"], mapping={"revenue": "营业收入"}
    ) == {"revenue": "营业收入"}


@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet"])
def test_evaluation_columns_reread_from_the_file(tmp_path: Path, kind: str) -> None:
    from parkgeo.evaluate_inputs import read_evaluation_columns
    from parkgeo.io import read_enterprises

    raw = pd.DataFrame(
        {
            "统一社会信用代码": ["A1", "A2", "A3"],
            "经度": ["117.2", "0", "117.3"],  # A2: a failed geocode, rejected by the loader
            "纬度": ["39.1", "0", "39.2"],
            "年份": ["2016", "2016", "2016"],
            "营业收入(亿元)": ["1.5", "2", "3"],
            "用地面积(公顷)": ["2", "3", "4"],
            "重大事故": ["", "是", "是"],
        }
    )
    path = tmp_path / f"firms.{kind}"
    if kind == "csv":
        path.write_bytes(("说明：示例\n" + raw.to_csv(index=False)).encode("gb18030"))
    elif kind == "xlsx":
        raw.to_excel(path, index=False)
    else:
        raw.to_parquet(path)
    loaded = read_enterprises(path)
    assert len(loaded.data) == 2
    extra = read_evaluation_columns(path, loaded, extra=["重大事故"])
    assert extra.index.equals(loaded.data.index)
    np.testing.assert_allclose(extra["revenue"], [15000.0, 30000.0])
    np.testing.assert_allclose(extra["land_mu"], [30.0, 60.0])
    assert extra["重大事故"].fillna("").tolist() == ["", "是"]
