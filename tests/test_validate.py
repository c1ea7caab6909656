"""Tests for parkgeo._validate: number parsing, the reject ledger, strict mode, park checks."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from parkgeo._errors import DataValidationError, GeometryError, ParkgeoError, SchemaError
from parkgeo._validate import (
    LEDGER_COLUMNS,
    REASONS,
    parse_numbers,
    validate_enterprises,
    validate_parks,
)

GOOD = {
    "enterprise_id": "91120116MA05",
    "name": "天津甲公司",
    "industry": "C2710",
    "lon": "117.2",
    "lat": "39.1",
    "year": "2015",
    "tax": "10",
    "profit": "5",
    "value_added": "20",
    "energy_tce": "3",
    "employees": "40",
}


def frame(*rows: dict[str, str]) -> pd.DataFrame:
    """Raw string frame: each row is GOOD with overrides (ids made unique unless given)."""
    records = []
    for i, override in enumerate(rows):
        record = {**GOOD, "enterprise_id": f"E{i}"}
        record.update(override)
        records.append(record)
    return pd.DataFrame(records, dtype="str")


def check_invariant(raw: pd.DataFrame, kept: pd.DataFrame, ledger: pd.DataFrame) -> None:
    assert len(raw) == len(kept) + len(ledger)
    assert set(kept.index).isdisjoint(set(ledger["source_row"]))
    assert set(kept.index) | set(ledger["source_row"]) == set(range(len(raw)))
    assert ledger["source_row"].is_unique


# --------------------------------------------------------------------------------------------
# number parsing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1,234.5", "money", 1234.5),
        ("1,234,567", "money", 1234567.0),
        ("123万元", "money", 123.0),
        ("1.2亿元", "money", 12000.0),
        ("500元", "money", 0.05),
        ("3千元", "money", 0.3),
        ("１２３", "money", 123.0),  # full-width digits
        (" 7 ", "money", 7.0),
        ("−4", "money", -4.0),  # U+2212 minus sign
        ("2015年", "year", 2015.0),
        ("2015-12-31", "year", 2015.0),
        ("2015.0", "year", 2015.0),
        ("12吨标准煤", "energy", 12.0),
        ("1.5万吨标准煤", "energy", 15000.0),
        ("35人", "people", 35.0),
        ("117．2", "degrees", 117.2),  # full-width full stop
        ("39，1", "degrees", 39.1),  # Chinese comma as a decimal mark in a coordinate
        ("117.2°E", "degrees", 117.2),
        ("117°12′36″", "degrees", 117.21),
        ("15亩", "area", 1.0),
        ("2平方公里", "area", 200.0),
    ],
)
def test_parse_numbers_reads_human_formats(text: str, kind: str, expected: float) -> None:
    parsed = parse_numbers(
        pd.Series([text], dtype="str"), kind=kind, comma_decimal=kind == "degrees"
    )
    assert parsed.values[0] == pytest.approx(expected, rel=1e-12)
    assert not parsed.missing[0]
    assert not parsed.invalid[0]


@pytest.mark.parametrize(
    "text", ["", " ", "-", "--", "NA", "n/a", "NaN", "null", "无", "ＮＡ", None]
)
def test_parse_numbers_missing_tokens_are_missing_not_zero(text: str | None) -> None:
    parsed = parse_numbers(pd.Series(["5", text], dtype="str"), kind="money")
    assert parsed.values[0] == 5.0
    assert np.isnan(parsed.values[1])
    assert parsed.missing[1] and not parsed.invalid[1]


@pytest.mark.parametrize(
    "text",
    ["abc", "12,5", "1,2,3元", "5 apples", "二〇一五", "#VALUE!", "12 34", "1 2 3 4", "1 234 56"],
)
def test_parse_numbers_flags_text(text: str) -> None:
    parsed = parse_numbers(pd.Series([text], dtype="str"), kind="money")
    assert parsed.invalid[0] and not parsed.missing[0]
    assert np.isnan(parsed.values[0])


def test_parse_numbers_numeric_and_object_input() -> None:
    numeric = parse_numbers(pd.Series([1.5, np.nan, 3.0]))
    assert numeric.values[0] == 1.5 and numeric.missing.tolist() == [False, True, False]
    mixed = parse_numbers(pd.Series([2015, "2016年", None], dtype=object), kind="year")
    assert mixed.values[:2].tolist() == [2015.0, 2016.0]
    assert mixed.missing.tolist() == [False, False, True]


# --------------------------------------------------------------------------------------------
# the reject ledger: one test per reason
# --------------------------------------------------------------------------------------------

REASON_CASES = [
    ("missing_enterprise_id", {"enterprise_id": ""}, "enterprise_id"),
    ("missing_enterprise_id", {"enterprise_id": " - "}, "enterprise_id"),
    ("missing_coordinate", {"lon": ""}, "lon"),
    ("missing_coordinate", {"lat": "NA"}, "lat"),
    ("non_numeric_coordinate", {"lat": "north"}, "lat"),
    ("zero_coordinate", {"lon": "0", "lat": "0"}, "lon"),
    ("lonlat_swapped", {"lon": "39.1", "lat": "117.2"}, "lon"),
    ("projected_coordinates", {"lon": "500000", "lat": "4300000"}, "lon"),
    ("coordinate_out_of_range", {"lon": "200", "lat": "39.1"}, "lon"),
    ("coordinate_out_of_range", {"lon": "117.2", "lat": "-95"}, "lat"),
    ("coordinate_out_of_range", {"lon": "inf"}, "lon"),
    ("missing_year", {"year": ""}, "year"),
    ("invalid_year", {"year": "2015.5"}, "year"),
    ("invalid_year", {"year": "last year"}, "year"),
    ("year_out_of_range", {"year": "1850"}, "year"),
    ("unknown_industry_code", {"industry": "9999"}, "industry"),
    ("non_numeric_measure", {"tax": "a lot"}, "tax"),
    ("non_numeric_measure", {"employees": "many"}, "employees"),
    ("non_finite_measure", {"value_added": "inf"}, "value_added"),
    ("negative_measure", {"energy_tce": "-1"}, "energy_tce"),
    ("negative_measure", {"employees": "-3"}, "employees"),
    ("control_character", {"enterprise_id": "B\x00x"}, "enterprise_id"),
    ("control_character", {"name": "乙\x1b公司"}, "name"),
    ("non_numeric_measure", {"tax": "12 34"}, "tax"),
    ("non_numeric_measure", {"tax": "1 2 3 4"}, "tax"),
]


@pytest.mark.parametrize(("reason", "override", "column"), REASON_CASES)
def test_each_reason_is_ledgered(reason: str, override: dict[str, str], column: str) -> None:
    raw = frame({}, override, {})
    kept, ledger = validate_enterprises(raw, source="t.csv")
    check_invariant(raw, kept, ledger)
    assert kept.index.tolist() == [0, 2]
    assert len(ledger) == 1
    row = ledger.iloc[0]
    assert row["source_row"] == 1
    assert row["reason"] == reason
    assert row["column"] == column
    assert reason in REASONS
    assert row["message"]  # a sentence, not empty


def test_every_reason_has_a_case() -> None:
    covered = {case[0] for case in REASON_CASES} | {"duplicate_enterprise_year"}
    assert covered == set(REASONS)


def test_ledger_value_is_the_raw_text() -> None:
    _, ledger = validate_enterprises(frame({"tax": "1,2,3元"}, {"lon": "39.1", "lat": "117.2"}))
    assert ledger["value"].tolist() == ["1,2,3元", "lon=39.1, lat=117.2"]


def test_swapped_coordinates_are_not_swapped_silently() -> None:
    kept, ledger = validate_enterprises(frame({"lon": "39.1", "lat": "117.2"}))
    assert kept.empty
    assert "swap" in ledger["message"].iloc[0]
    assert "does not swap" in ledger["message"].iloc[0]


def test_unknown_2011_code_says_so() -> None:
    _, ledger = validate_enterprises(frame({"industry": "3610"}))
    assert ledger["reason"].tolist() == ["unknown_industry_code"]
    assert "2011" in ledger["message"].iloc[0]


def test_duplicate_enterprise_year_keeps_first_and_names_it() -> None:
    raw = frame(
        {"enterprise_id": "A"},
        {"enterprise_id": "B"},
        {"enterprise_id": "A", "tax": "99"},
        {"enterprise_id": "A", "year": "2016"},
    )
    kept, ledger = validate_enterprises(raw)
    check_invariant(raw, kept, ledger)
    assert kept.index.tolist() == [0, 1, 3]
    assert kept.loc[0, "tax"] == 10.0
    assert ledger["reason"].tolist() == ["duplicate_enterprise_year"]
    assert ledger["source_row"].tolist() == [2]
    assert "source row 0" in ledger["message"].iloc[0]


def test_duplicate_of_a_rejected_row_is_kept() -> None:
    # the first occurrence has no coordinates; the second is the first *usable* one
    raw = frame({"enterprise_id": "A", "lon": ""}, {"enterprise_id": "A"})
    kept, ledger = validate_enterprises(raw)
    assert kept.index.tolist() == [1]
    assert ledger["reason"].tolist() == ["missing_coordinate"]


def test_negative_tax_and_profit_are_allowed() -> None:
    kept, ledger = validate_enterprises(
        frame({"tax": "-5", "profit": "-120.5", "value_added": "-1"})
    )
    assert ledger.empty
    assert kept[["tax", "profit", "value_added"]].iloc[0].tolist() == [-5.0, -120.5, -1.0]


def test_missing_measures_stay_nan() -> None:
    kept, ledger = validate_enterprises(frame({"tax": "", "energy_tce": "-", "employees": "无"}))
    assert ledger.empty
    assert kept[["tax", "energy_tce", "employees"]].isna().all(axis=None)
    assert kept["profit"].iloc[0] == 5.0


def test_missing_industry_is_kept_as_na() -> None:
    kept, ledger = validate_enterprises(
        frame({"industry": ""}, {"industry": "c27"}, {"industry": "2710"})
    )
    assert ledger.empty
    assert kept["industry"].isna().tolist() == [True, False, False]
    assert kept["industry"].iloc[1:].tolist() == ["C27", "C2710"]


def test_first_problem_wins_and_others_are_listed() -> None:
    _, ledger = validate_enterprises(frame({"enterprise_id": "", "year": "1700", "tax": "x"}))
    assert ledger["reason"].tolist() == ["missing_enterprise_id"]
    message = ledger["message"].iloc[0]
    assert "year_out_of_range" in message and "non_numeric_measure" in message


def test_messy_but_valid_values_are_parsed() -> None:
    raw = frame(
        {
            "lon": "117．2",
            "lat": "39，1",
            "year": "2015年",
            "tax": "1,234.5",
            "profit": "1.2亿元",
            "value_added": "500元",
            "employees": "１２",
        }
    )
    kept, ledger = validate_enterprises(raw)
    assert ledger.empty
    row = kept.iloc[0]
    assert (row["lon"], row["lat"], row["year"]) == (117.2, 39.1, 2015)
    assert (row["tax"], row["profit"], row["value_added"], row["employees"]) == (
        1234.5,
        12000.0,
        0.05,
        12.0,
    )


def test_scales_from_header_units() -> None:
    kept, _ = validate_enterprises(frame({"tax": "50000"}), scales={"tax": 1e-4})
    assert kept["tax"].iloc[0] == pytest.approx(5.0)


def test_years_are_configurable() -> None:
    raw = frame({"year": "2012"}, {"year": "2013"}, {"year": "2016"}, {"year": "2017"})
    kept, ledger = validate_enterprises(raw, years=(2013, 2016))
    assert kept["year"].tolist() == [2013, 2016]
    assert ledger["reason"].tolist() == ["year_out_of_range"] * 2
    assert "2013..2016" in ledger["message"].iloc[0]
    kept, _ = validate_enterprises(raw, years=range(2012, 2018))
    assert len(kept) == 4
    with pytest.raises(ValueError, match="years="):
        validate_enterprises(raw, years="2015")


def test_output_dtypes_and_index() -> None:
    raw = frame({}, {"lon": ""}, {})
    kept, ledger = validate_enterprises(raw)
    assert kept.index.name == "source_row"
    assert kept.index.tolist() == [0, 2]
    assert kept.columns.tolist() == [
        "enterprise_id", "name", "industry", "lon", "lat", "year",
        "tax", "profit", "value_added", "energy_tce", "employees",
    ]  # fmt: skip
    for col in ("enterprise_id", "name", "industry"):
        assert pd.api.types.is_string_dtype(kept[col].dtype)
        assert not isinstance(kept[col].dtype, pd.CategoricalDtype)
    for col in ("lon", "lat", "tax", "profit", "value_added", "energy_tce", "employees"):
        assert kept[col].dtype == np.float64
    assert kept["year"].dtype == np.int64
    assert list(ledger.columns) == list(LEDGER_COLUMNS)
    assert ledger["source_row"].dtype == np.int64


def test_integer_index_is_the_source_row_and_input_is_not_mutated() -> None:
    raw = frame({}, {"lat": ""}, {})
    raw.index = pd.Index([10, 11, 12])
    before = raw.copy()
    kept, ledger = validate_enterprises(raw)
    assert kept.index.tolist() == [10, 12]
    assert ledger["source_row"].tolist() == [11]
    pd.testing.assert_frame_equal(raw, before)
    raw.index = pd.Index(["a", "b", "c"])
    kept, _ = validate_enterprises(raw)
    assert kept.index.tolist() == [0, 2]


def test_numeric_columns_from_parquet() -> None:
    raw = pd.DataFrame(
        {
            "enterprise_id": [123, 456],
            "industry": [111, 2710],  # a number lost the leading zero of 0111
            "lon": [117.2, 117.3],
            "lat": [39.1, 39.2],
            "year": [2015, 2015],
            "tax": [1.0, np.nan],
        }
    )
    kept, ledger = validate_enterprises(raw)
    assert ledger.empty
    assert kept["enterprise_id"].tolist() == ["123", "456"]
    assert kept["industry"].tolist() == ["A0111", "C2710"]
    assert np.isnan(kept["tax"].iloc[1])
    assert kept["name"].isna().all()


def test_missing_required_column_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="year"):
        validate_enterprises(frame({}).drop(columns="year"), source="t.csv")


def test_strict_raises_with_ledger_attached() -> None:
    rows = [{"lon": ""} for _ in range(12)] + [{}]
    raw = frame(*rows)
    with pytest.raises(DataValidationError) as info:
        validate_enterprises(raw, source="firms.csv", strict=True)
    err = info.value
    assert isinstance(err, ParkgeoError)
    assert "firms.csv" in str(err) and "12 of 13 rows" in str(err)
    assert "missing_coordinate" in str(err)
    assert "and 2 more" in str(err)  # the first 10 are listed
    assert len(err.rejects) == 12
    kept, ledger = validate_enterprises(frame({}), strict=True)
    assert len(kept) == 1 and ledger.empty


def test_empty_frame() -> None:
    kept, ledger = validate_enterprises(frame({}).iloc[:0])
    assert kept.empty and ledger.empty
    assert list(ledger.columns) == list(LEDGER_COLUMNS)


# --------------------------------------------------------------------------------------------
# property: rows read = rows kept + rows in the ledger
# --------------------------------------------------------------------------------------------

_ANY = ["", "-", "NA", "abc", "0", "inf", "-inf", "1e400", " 12 ", "１２", "1,234.5", "12,5", None]
_COLUMN_VALUES = {
    "enterprise_id": st.sampled_from(["A", "B", "C", "", " ", "-", None, "A "]),
    "industry": st.sampled_from(["C2710", "c27", "2710", "9999", "3610", "", "X1", None]),
    "lon": st.sampled_from(["117.2", "39.1", "0", "500000", "200", "117．2", *_ANY]),
    "lat": st.sampled_from(["39.1", "117.2", "0", "4300000", "-95", "39，1", *_ANY]),
    "year": st.sampled_from(["2015", "2016", "2015年", "1850", "2015.5", *_ANY]),
    "tax": st.sampled_from(["5", "-5", "123万元", "500元", *_ANY]),
    "energy_tce": st.sampled_from(["5", "-5", "1.5万吨标准煤", *_ANY]),
    "employees": st.sampled_from(["12", "-1", "35人", *_ANY]),
}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # examples: the profile
@given(rows=st.lists(st.fixed_dictionaries(_COLUMN_VALUES), min_size=0, max_size=25))
def test_ledger_invariant_property(rows: list[dict[str, str | None]]) -> None:
    raw = pd.DataFrame(rows, columns=list(_COLUMN_VALUES), dtype="str")
    kept, ledger = validate_enterprises(raw)
    check_invariant(raw, kept, ledger)
    assert set(ledger["reason"]) <= set(REASONS)
    assert kept["year"].dtype == np.int64
    assert np.isfinite(kept[["lon", "lat"]].to_numpy()).all()
    assert not kept.duplicated(["enterprise_id", "year"]).any()
    assert (kept["energy_tce"].dropna() >= 0).all() and (kept["employees"].dropna() >= 0).all()


# --------------------------------------------------------------------------------------------
# parks
# --------------------------------------------------------------------------------------------


def parks_frame(
    geoms: list[object], ids: list[object] | None = None, **cols: list[object]
) -> gpd.GeoDataFrame:
    ids = ids if ids is not None else [f"P{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"park_id": ids, **cols}, geometry=list(geoms), crs="EPSG:4326")


SQUARE = box(117.0, 39.0, 117.01, 39.01)
BOWTIE = Polygon([(117.0, 39.0), (117.01, 39.01), (117.01, 39.0), (117.0, 39.01)])


def test_valid_parks_pass_and_get_canonical_columns() -> None:
    raw = parks_frame([SQUARE, MultiPolygon([box(117.1, 39.1, 117.2, 39.2)])], ids=[1, 2],
                      name=["甲园", None], approved_area_ha=["1,234.5", ""])  # fmt: skip
    parks, repairs = validate_parks(raw)
    assert repairs == []
    assert parks.columns.tolist() == [
        "park_id", "name", "district", "level", "approved_area_ha", "leading_industries",
        "priority", "geometry",
    ]  # fmt: skip
    assert parks["park_id"].tolist() == ["1", "2"]
    assert parks["name"].tolist() == ["甲园", "2"]  # falls back to park_id
    assert parks["approved_area_ha"].iloc[0] == 1234.5 and np.isnan(
        parks["approved_area_ha"].iloc[1]
    )
    assert parks["district"].isna().all()
    assert parks.crs.to_epsg() == 4326


def test_invalid_polygon_is_repaired_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        parks, repairs = validate_parks(parks_frame([SQUARE, BOWTIE]), source="parks.geojson")
    assert parks.geometry.is_valid.all()
    assert parks.geometry.iloc[1].geom_type in ("Polygon", "MultiPolygon")
    assert parks.geometry.iloc[1].area == pytest.approx(
        BOWTIE.buffer(0).area + BOWTIE.buffer(0).area, rel=0.5
    )
    assert len(repairs) == 1 and repairs[0]["index"] == 1 and repairs[0]["park_id"] == "P1"
    assert "Self-intersection" in repairs[0]["problem"]
    assert parks.attrs["repairs"] == repairs
    assert "P1" in caplog.text and "make_valid" in caplog.text


def test_geometry_collection_keeps_polygonal_parts() -> None:
    mixed = GeometryCollection([SQUARE, LineString([(117, 39), (118, 40)])])
    parks, repairs = validate_parks(parks_frame([mixed]))
    assert parks.geometry.iloc[0].equals(SQUARE)
    assert repairs[0]["problem"] == "GeometryCollection"


@pytest.mark.parametrize(
    ("geom", "expected"),
    [
        (Point(117, 39), "Point, not a polygon"),
        (LineString([(117, 39), (117.1, 39.1)]), "LineString, not a polygon"),
        (GeometryCollection([Point(117, 39)]), "GeometryCollection without polygons"),
        (Polygon(), "empty geometry"),
        (None, "empty geometry"),
        (Polygon([(117, 39), (117.1, 39.1), (117.2, 39.2), (117, 39)]), "zero area"),
    ],
)
def test_bad_park_geometries_name_the_feature(geom: object, expected: str) -> None:
    with pytest.raises(GeometryError) as info:
        validate_parks(parks_frame([SQUARE, geom], ids=["G1", "S2"]), source="parks.gpkg")
    message = str(info.value)
    assert "parks.gpkg" in message
    assert "feature 1 (park_id 'S2')" in message
    assert expected in message


def test_duplicate_and_empty_park_ids() -> None:
    with pytest.raises(GeometryError) as info:
        validate_parks(parks_frame([SQUARE, SQUARE, SQUARE, SQUARE], ids=["A", "B", "A", ""]))
    message = str(info.value)
    assert "park_id 'A' is used by features 0, 2" in message
    assert "feature 3 has an empty park_id" in message
    assert "unique" in message


def test_missing_park_id_column() -> None:
    raw = gpd.GeoDataFrame({"name": ["x"]}, geometry=[SQUARE], crs="EPSG:4326")
    with pytest.raises(SchemaError, match="park_id"):
        validate_parks(raw)


def test_non_numeric_area_names_feature() -> None:
    with pytest.raises(SchemaError, match="P0.*about 50"):
        validate_parks(parks_frame([SQUARE], approved_area_ha=["about 50"]))


def test_large_invalid_polygon_is_repaired_quickly() -> None:
    n = 200_000
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.c_[117 + 0.01 * np.cos(t), 39 + 0.01 * np.sin(t)]
    ring[[10, 20]] = ring[[20, 10]]  # a self-intersection
    parks, repairs = validate_parks(parks_frame([Polygon(ring)]))
    assert len(repairs) == 1
    assert shapely.is_valid(parks.geometry.iloc[0])
    assert parks.geometry.iloc[0].area == pytest.approx(np.pi * 0.01**2, rel=1e-3)


def test_kept_rows_are_writable_and_do_not_alias_the_input() -> None:
    raw = pd.DataFrame(
        {"enterprise_id": ["a", "b"], "lon": [117.2, 117.3], "lat": [39.1, 39.2],
         "year": [2015, 2015], "tax": [1.0, 2.0]}
    )  # fmt: skip
    kept, _ = validate_enterprises(raw)
    kept.loc[0, "lon"] = 0.0
    kept["tax"] *= 2
    assert raw["lon"].tolist() == [117.2, 117.3] and raw["tax"].tolist() == [1.0, 2.0]
    assert kept["tax"].tolist() == [2.0, 4.0]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {c: st.one_of(st.none(), st.text(max_size=12)) for c in _COLUMN_VALUES}
        ),
        max_size=15,
    )
)
def test_arbitrary_text_never_crashes(rows: list[dict[str, str | None]]) -> None:
    raw = pd.DataFrame(rows, columns=list(_COLUMN_VALUES), dtype="str")
    kept, ledger = validate_enterprises(raw)
    check_invariant(raw, kept, ledger)
    assert ledger["message"].str.len().gt(0).all()


def test_chunked_arrow_columns() -> None:
    import pyarrow as pa

    def chunked(*parts: list[str | None]) -> pd.Series:
        return pd.Series(pd.array(pa.chunked_array([pa.array(p) for p in parts]), dtype="str"))

    raw = pd.DataFrame(
        {
            "enterprise_id": chunked(["A", " B "], ["A", "", "C"]),
            "industry": chunked(["C27", "2710"], ["c27", None, "9999"]),
            "lon": chunked(["117.2", "117.3"], ["117.2", "117.4", "117.5"]),
            "lat": chunked(["39.1", "39.2"], ["39.1", "39.3", "39.4"]),
            "year": chunked(["2015", "2015"], ["2015", "2015", "2015年"]),
            "tax": chunked(["1", "1,000"], [None, "2", "-"]),
        }
    )
    kept, ledger = validate_enterprises(raw)
    check_invariant(raw, kept, ledger)
    assert kept["enterprise_id"].tolist() == ["A", "B"]
    assert kept["industry"].tolist() == ["C27", "C2710"]
    assert kept["tax"].tolist() == [1.0, 1000.0]
    assert ledger["reason"].tolist() == [
        "duplicate_enterprise_year", "missing_enterprise_id", "unknown_industry_code",
    ]  # fmt: skip


def test_excel_protected_text_ids() -> None:
    kept, ledger = validate_enterprises(
        frame({"enterprise_id": '="0012345"'}, {"industry": '="0111"'})
    )
    assert ledger.empty
    assert kept["enterprise_id"].tolist() == ["0012345", "E1"]
    assert kept["industry"].tolist() == ["C2710", "A0111"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 234", 1234.0),
        ("1 234 567.5", 1234567.5),
        ("1\u00a0234万元", 1234.0),
        ("12 345元", 1.2345),
    ],
)
def test_parse_numbers_reads_spaces_that_group_digits_in_threes(text: str, value: float) -> None:
    parsed = parse_numbers(pd.Series([text], dtype="str"), kind="money")
    assert parsed.values[0] == pytest.approx(value) and not parsed.invalid[0]


def test_ids_that_differ_only_by_width_or_invisible_characters_are_one_firm() -> None:
    raw = pd.DataFrame(
        {
            "enterprise_id": ["E1", "Ｅ1", "E1\u200b", "\ufeffE2"],
            "lon": "117.2",
            "lat": "39.1",
            "year": "2015",
            "tax": ["1", "1", "1", "2"],
        }
    )
    kept, ledger = validate_enterprises(raw, source="t.csv")
    assert kept["enterprise_id"].tolist() == ["E1", "E2"]
    assert ledger["reason"].tolist() == ["duplicate_enterprise_year"] * 2
    assert "written 'E1\\u200b'" in ledger["message"].iloc[1]
    assert kept.attrs["conversions"]["merged_ids"]["n"] == 2
    assert kept.attrs["conversions"]["enterprise_id"]["n"] == 1  # the kept E2


def test_duplicates_dense_and_sparse_keys_agree():
    """Repeated (id, year) keys are found by counting dense keys and by hashing sparse ones
    (ids over a century of years): the same rows, the same first occurrences."""
    from parkgeo._identity import duplicate_rows

    rng = np.random.default_rng(7)
    n = 5_000
    codes = rng.integers(0, 1_200, n).astype(np.int64)
    rows = np.arange(n, dtype=np.int64) + 100
    candidates = np.flatnonzero(rng.random(n) > 0.1)
    dense_years = rng.integers(2013, 2017, n).astype(np.float64)
    sparse_years = np.where(rng.random(n) > 0.5, 1990.0, 2100.0)
    for years in (dense_years, sparse_years):
        duplicate, first = duplicate_rows(codes, years, candidates, rows, n)
        seen: dict[tuple[int, float], int] = {}
        want_dup = np.zeros(n, dtype=bool)
        want_first = np.full(n, -1, dtype=np.int64)
        for i in candidates:
            seen.setdefault((int(codes[i]), float(years[i])), int(i))
        counts: dict[tuple[int, float], int] = {}
        for i in candidates:
            key = (int(codes[i]), float(years[i]))
            counts[key] = counts.get(key, 0) + 1
        for i in candidates:
            key = (int(codes[i]), float(years[i]))
            if counts[key] > 1:
                want_first[i] = rows[seen[key]]
                want_dup[i] = seen[key] != i
        assert want_dup.sum() > 100
        np.testing.assert_array_equal(duplicate, want_dup)
        np.testing.assert_array_equal(first, want_first)
