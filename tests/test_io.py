"""Tests for parkgeo.io: every loader format and encoding, column mapping, parks, writers."""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
from shapely import Polygon, box

from parkgeo import coords
from parkgeo._errors import (
    CRSError,
    DataValidationError,
    GeometryError,
    InputFormatError,
    SchemaError,
)
from parkgeo.cli import main
from parkgeo.io import (
    Loaded,
    atomic_path,
    atomic_write,
    format_csv,
    format_json,
    read_column_mapping,
    read_enterprises,
    read_parks,
    write_table,
)

HEADER = ["企业名称", "统一社会信用代码", "行业代码", "经度", "纬度", "年份", "纳税总额(万元)",
          "利润总额", "工业增加值", "综合能耗", "从业人员"]  # fmt: skip
ROWS = [
    ["天津甲制药有限公司", "91120116A1", "C2710", "117.2", "39.1", "2015", "1,234.5", "-12", "100", "50", "30"],
    ["乙钢铁", "91120116A2", "C31", "117.3", "39.2", "2015年", "12", "1", "2", "3", "4"],
    ["丙新能源", "91120116A3", "C3825", "39.1", "117.2", "2015", "1", "1", "1", "1", "1"],
    ["丁电子", "91120116A4", "9999", "117.25", "39.15", "2016", "", "", "", "", ""],
]  # fmt: skip
CANONICAL = ["enterprise_id", "name", "industry", "lon", "lat", "year", "tax", "profit",
             "value_added", "energy_tce", "employees"]  # fmt: skip


def csv_text(
    delimiter: str = ",", header: list[str] | None = None, rows: list[list[str]] | None = None
) -> str:
    lines = [delimiter.join(header or HEADER)]
    for row in rows if rows is not None else ROWS:
        lines.append(delimiter.join(f'"{v}"' if delimiter in v or "," in v else v for v in row))
    return "\n".join(lines) + "\n"


def check_sample(loaded: Loaded, swapped: str = "lonlat_swapped") -> None:
    """The four ROWS: two kept, one swapped, one unknown industry code."""
    assert loaded.n_read == 4
    assert loaded.n_read == len(loaded.data) + len(loaded.rejects)
    assert loaded.data.index.tolist() == [0, 1]
    assert loaded.data["name"].tolist() == ["天津甲制药有限公司", "乙钢铁"]
    assert loaded.data["enterprise_id"].tolist() == ["91120116A1", "91120116A2"]
    assert loaded.data["tax"].tolist() == [1234.5, 12.0]
    assert loaded.data["profit"].tolist() == [-12.0, 1.0]
    assert loaded.data["year"].tolist() == [2015, 2015]
    assert loaded.data["industry"].tolist() == ["C2710", "C31"]
    assert loaded.rejects["reason"].tolist() == [swapped, "unknown_industry_code"]
    assert loaded.rejects["source_row"].tolist() == [2, 3]
    assert list(loaded.data.columns) == CANONICAL


# --------------------------------------------------------------------------------------------
# CSV encodings and delimiters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_csv_encodings_are_detected(tmp_path: Path, codec: str, expected: str) -> None:
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_text().encode(codec))
    loaded = read_enterprises(path)
    check_sample(loaded)
    assert loaded.encoding == expected
    assert loaded.data.attrs["encoding"] == expected
    assert loaded.data.attrs["source"] == str(path)
    assert loaded.source == str(path)


def test_gb18030_only_characters(tmp_path: Path) -> None:
    rows = [[*ROWS[0][:1], *ROWS[0][1:]]]
    rows[0][0] = "𠀀鑫企业"  # U+20000 needs GB18030's four-byte form; GBK cannot encode it
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_text(rows=rows).encode("gb18030"))
    loaded = read_enterprises(path)
    assert loaded.encoding == "gb18030"
    assert loaded.data["name"].tolist() == ["𠀀鑫企业"]


def test_gbk_text_beyond_the_sniffed_head(tmp_path: Path) -> None:
    # ASCII for the first 300 kB, GBK after: the pyarrow UTF-8 check catches it
    rows = [[f"firm{i}", f"ID{i}", "C2710", "117.2", "39.1", "2015", "1", "1", "1", "1", "1"]
            for i in range(8000)]  # fmt: skip
    rows.append(["最后一家", "IDX", "C2710", "117.2", "39.1", "2015", "1", "1", "1", "1", "1"])
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_text(rows=rows).encode("gbk"))
    assert path.stat().st_size > 256 * 1024
    loaded = read_enterprises(path)
    assert loaded.encoding == "gb18030"
    assert loaded.data["name"].iloc[-1] == "最后一家"


def test_forced_encoding(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_text().encode("gbk"))
    loaded = read_enterprises(path, encoding="gbk")
    assert loaded.encoding == "gbk"
    check_sample(loaded)
    with pytest.raises(InputFormatError, match="unknown text encoding"):
        read_enterprises(path, encoding="klingon")
    with pytest.raises(InputFormatError, match=r"byte offset \d+ \(line 1\)"):
        read_enterprises(path, encoding="utf-8")


def test_corrupt_utf8_names_offset_and_line(tmp_path: Path) -> None:
    data = csv_text().encode("utf-8")
    broken_at = data.index("乙钢铁".encode()) + 3
    data = data[:broken_at] + b"\xff" + data[broken_at:]
    path = tmp_path / "firms.csv"
    path.write_bytes(data)
    with pytest.raises(InputFormatError) as info:
        read_enterprises(path)
    message = str(info.value)
    assert str(path) in message
    assert f"byte offset {broken_at}" in message
    assert "(line 3)" in message


def test_binary_garbage_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises((InputFormatError, SchemaError)) as info:
        read_enterprises(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    rows = [[v.replace(",", "") for v in row] for row in ROWS]
    path = tmp_path / "firms.txt"
    path.write_text(csv_text(delimiter, rows=rows), encoding="utf-8")
    loaded = read_enterprises(path)
    assert loaded.data.attrs["delimiter"] == delimiter
    assert loaded.data["tax"].tolist() == [1234.5, 12.0]


def test_title_line_above_header(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text("2015年规模以上工业企业名录\n" + csv_text(), encoding="utf-8")
    loaded = read_enterprises(path)
    check_sample(loaded)
    assert loaded.data.attrs["header_row"] == 1


def test_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    text = csv_text().replace("\n乙钢铁", '\n\n"乙\n钢铁"')
    path.write_text(text, encoding="utf-8")
    loaded = read_enterprises(path)
    assert loaded.n_read == 4
    assert loaded.data["name"].tolist()[1] == "乙\n钢铁"


def test_ragged_row_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text() + "戊,A5,C27,117.2,39.1,2015,1,1,1,1,1,extra\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="malformed CSV at line 6 .*quote fields"):
        read_enterprises(path)


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputFormatError, match="empty"):
        read_enterprises(empty)
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"  \n\n \n")
    with pytest.raises(InputFormatError, match="blank.csv: the file is empty"):
        read_enterprises(blank)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"header.csv: no data rows \(0 read\)"):
        read_enterprises(header_only)
    with pytest.raises(InputFormatError, match="no such file"):
        read_enterprises(tmp_path / "nope.csv")


def test_gzip_csv(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "firms.csv.gz"
    path.write_bytes(gzip.compress(csv_text().encode("gbk")))
    loaded = read_enterprises(path)
    check_sample(loaded)
    assert loaded.encoding == "gb18030"


# --------------------------------------------------------------------------------------------
# column mapping
# --------------------------------------------------------------------------------------------


def test_english_and_fullwidth_headers(tmp_path: Path) -> None:
    header = ["Company_ID", "ＮＡＭＥ", "industry_code", "Longitude", "LAT", " Year ", "Tax",
              "profit", "value_added", "energy", "employees"]  # fmt: skip
    rows = [[r[1], r[0], *r[2:]] for r in ROWS]
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(header=header, rows=rows), encoding="utf-8")
    check_sample(read_enterprises(path))


def test_header_units_scale_values(tmp_path: Path) -> None:
    header = ["id", "lng", "lat", "年度", "纳税总额（元）", "综合能耗(万吨标准煤)"]
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(header=header, rows=[["A", "117.2", "39.1", "2015", "50000", "0.5"]]))
    loaded = read_enterprises(path)
    assert loaded.data["tax"].iloc[0] == pytest.approx(5.0)
    assert loaded.data["energy_tce"].iloc[0] == pytest.approx(5000.0)
    assert loaded.data.attrs["scales"] == {"tax": 1e-4, "energy_tce": 1e4}


def test_missing_required_column_lists_headers_and_syntax(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text("编号,经度,纬度,年份\nA,117.2,39.1,2015\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        read_enterprises(path)
    message = str(info.value)
    assert "enterprise_id" in message and "'编号'" in message
    assert "columns=" in message and "--columns" in message
    loaded = read_enterprises(path, columns={"enterprise_id": "编号"})
    assert loaded.data["enterprise_id"].tolist() == ["A"]


def test_two_headers_for_one_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text("id,经度,纬度,年份,税收,纳税总额\nA,117.2,39.1,2015,1,2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="tax <- '税收', '纳税总额'"):
        read_enterprises(path)
    loaded = read_enterprises(path, columns={"tax": "纳税总额"})
    assert loaded.data["tax"].tolist() == [2.0]


def test_mapping_to_absent_header(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(), encoding="utf-8")
    with pytest.raises(SchemaError, match="no such header"):
        read_enterprises(path, columns={"tax": "税额"})
    with pytest.raises(SchemaError, match="names no parkgeo column"):
        read_enterprises(path, columns={"taxes_paid": "纳税总额(万元)"})


def test_toml_mapping(tmp_path: Path) -> None:
    toml = tmp_path / "columns.toml"
    toml.write_text(
        '[enterprises]\nenterprise_id = "编号"\ntax = "税额(元)"\n\n[parks]\npark_id = "区号"\n',
        encoding="utf-8",
    )
    mapping = read_column_mapping(toml)
    assert mapping == {
        "enterprises": {"enterprise_id": "编号", "tax": "税额(元)"},
        "parks": {"park_id": "区号"},
    }
    path = tmp_path / "firms.csv"
    path.write_text("编号,经度,纬度,年份,税额(元)\nA,117.2,39.1,2015,20000\n", encoding="utf-8")
    loaded = read_enterprises(path, columns=mapping["enterprises"])
    assert loaded.data["tax"].tolist() == [2.0]  # the unit in the mapped header still counts


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("[enterprises\n", InputFormatError, "not valid TOML"),
        ('[enterprises]\ntaxes = "x"\n', SchemaError, "not a parkgeo column"),
        ('tax = "x"\n', SchemaError, r"\[enterprises\]"),
        ("[enterprises]\ntax = 3\n", SchemaError, "in quotes"),
    ],
)
def test_bad_toml_mapping(tmp_path: Path, text: str, error: type, match: str) -> None:
    toml = tmp_path / "columns.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(error, match=match):
        read_column_mapping(toml)


# --------------------------------------------------------------------------------------------
# Excel, Parquet, GeoParquet, GeoPackage
# --------------------------------------------------------------------------------------------


def _write_xlsx(path: Path, rows: list[list[object]], merge: str | None = None) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    book.save(path)


def test_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "firms.xlsx"
    rows: list[list[object]] = [HEADER, *ROWS]
    rows[1] = [*ROWS[0][:3], 117.2, 39.1, 2015, 1234.5, -12, 100, 50, 30]  # numeric cells
    _write_xlsx(path, rows)
    loaded = read_enterprises(path)
    check_sample(loaded)
    assert loaded.encoding is None
    assert loaded.data.attrs["sheet"] == "Sheet"


def test_xlsx_title_and_two_row_merged_header(tmp_path: Path) -> None:
    path = tmp_path / "firms.xlsx"
    top = ["2015年企业名录"] + [None] * 10
    group = ["企业", None, None, "坐标", None, None, "财务(万元)", None, None, None, None]
    sub = ["名称", "统一社会信用代码", "行业代码", "经度", "纬度", "年份", "纳税总额", "利润总额",
           "工业增加值", "综合能耗", "从业人员"]  # fmt: skip
    _write_xlsx(path, [top, group, sub, *ROWS, [None] * 11], merge="A1:K1")
    loaded = read_enterprises(path)
    check_sample(loaded)


def test_xlsx_without_a_usable_header(tmp_path: Path) -> None:
    path = tmp_path / "firms.xlsx"
    _write_xlsx(path, [["a", "b"], ["1", "2"]])
    with pytest.raises(SchemaError, match="two-row header"):
        read_enterprises(path)


def test_xls_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "firms.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(InputFormatError, match="save it as .xlsx"):
        read_enterprises(path)


def _raw_frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=HEADER)


def test_parquet_reads_only_needed_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "firms.parquet"
    frame = _raw_frame().assign(备注=["x"] * 4, 大字段=[b"\0" * 1000] * 4)
    frame.to_parquet(path)
    asked: list[list[str]] = []
    original = pq.ParquetFile.read_row_groups

    def spy(self: pq.ParquetFile, row_groups: list[int], columns: list[str]) -> object:
        asked.append(list(columns))
        return original(self, row_groups, columns=columns)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    loaded = read_enterprises(path)
    check_sample(loaded)
    assert asked and "备注" not in asked[0] and "大字段" not in asked[0]
    assert loaded.encoding is None


def test_parquet_with_numeric_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"enterprise_id": ["A", "B"], "lon": [117.2, 117.3], "lat": [39.1, 95.0],
         "year": [2015, 2015], "tax": [1.5, np.nan], "industry": pd.Categorical(["C27", "C27"])}
    )  # fmt: skip
    path = tmp_path / "firms.parquet"
    frame.to_parquet(path)
    loaded = read_enterprises(path)
    assert loaded.data["tax"].iloc[0] == 1.5
    assert loaded.rejects["reason"].tolist() == ["coordinate_out_of_range"]
    assert loaded.data["industry"].tolist() == ["C27"]
    assert not isinstance(loaded.data["industry"].dtype, pd.CategoricalDtype)


def _points(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    frame = _raw_frame()
    lon = frame.pop("经度").astype(float)
    lat = frame.pop("纬度").astype(float)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(
        crs
    )


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4490", "EPSG:32650"])
def test_geoparquet_points_become_lonlat(tmp_path: Path, crs: str) -> None:
    path = tmp_path / "firms.parquet"
    _points(crs).to_parquet(path)
    loaded = read_enterprises(path)
    # a swapped point has latitude 117.2: no projected CRS can hold it
    check_sample(loaded, "lonlat_swapped" if crs != "EPSG:32650" else "coordinate_out_of_range")
    np.testing.assert_allclose(loaded.data["lon"], [117.2, 117.3], atol=1e-7)
    np.testing.assert_allclose(loaded.data["lat"], [39.1, 39.2], atol=1e-7)


def test_geoparquet_directory(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    points = _points()
    points.iloc[:2].to_parquet(folder / "a.parquet")
    points.iloc[2:].to_parquet(folder / "b.parquet")
    check_sample(read_enterprises(folder))


def test_geoparquet_non_point_geometry_is_refused(tmp_path: Path) -> None:
    points = _points()
    gdf = points.set_geometry([box(p.x, p.y, p.x + 0.001, p.y + 0.001) for p in points.geometry])
    path = tmp_path / "firms.parquet"
    gdf.to_parquet(path)
    with pytest.raises(SchemaError, match="must be points"):
        read_enterprises(path)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32650"])
def test_geopackage_points(tmp_path: Path, crs: str) -> None:
    path = tmp_path / "firms.gpkg"
    _points(crs).to_file(path, driver="GPKG")
    loaded = read_enterprises(path)
    check_sample(loaded, "lonlat_swapped" if crs != "EPSG:32650" else "coordinate_out_of_range")
    np.testing.assert_allclose(loaded.data["lon"], [117.2, 117.3], atol=1e-7)


def test_geopackage_attribute_table_with_lonlat(tmp_path: Path) -> None:
    path = tmp_path / "firms.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame(_raw_frame()), path, driver="GPKG")
    check_sample(read_enterprises(path))


# --------------------------------------------------------------------------------------------
# coordinate systems, strict mode, the Loaded record
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "convert"), [("gcj02", coords.gcj02_to_wgs84), ("bd09", coords.bd09_to_wgs84)]
)
def test_coord_system_is_converted_after_validation(
    tmp_path: Path, system: str, convert: object
) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(), encoding="utf-8")
    loaded = read_enterprises(path, coord_system=system)
    lon, lat = convert(np.array([117.2, 117.3]), np.array([39.1, 39.2]))  # type: ignore[operator]
    np.testing.assert_allclose(loaded.data["lon"], lon, atol=1e-9)
    np.testing.assert_allclose(loaded.data["lat"], lat, atol=1e-9)
    assert abs(loaded.data["lon"].iloc[0] - 117.2) > 0.003  # really moved (~500 m)
    assert loaded.coord_system == system and loaded.data.attrs["coord_system"] == system
    assert loaded.rejects["reason"].tolist() == ["lonlat_swapped", "unknown_industry_code"]


def test_coord_system_aliases_and_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(), encoding="utf-8")
    assert read_enterprises(path, coord_system="GCJ-02").coord_system == "gcj02"
    loaded = read_enterprises(path, coord_system="cgcs2000")
    assert loaded.data["lon"].tolist() == [117.2, 117.3]


def test_strict_mode(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_enterprises(path, strict=True)
    assert "lonlat_swapped" in str(info.value) and str(path) in str(info.value)
    assert len(info.value.rejects) == 2


def test_years_option(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(), encoding="utf-8")
    loaded = read_enterprises(path, years=(2016, 2016))
    assert loaded.data.empty
    assert loaded.rejects["reason"].value_counts()["year_out_of_range"] == 2


def test_loaded_is_frozen(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(), encoding="utf-8")
    loaded = read_enterprises(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.n_read = 3  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# parks
# --------------------------------------------------------------------------------------------


def _parks(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "代码": ["G121001", "S127014"],
            "开发区名称": ["天津经济技术开发区", "天津大港经济开发区"],
            "区县": ["滨海新区", "滨海新区"],
            "批准级别": ["国家级", "省级"],
            "核准面积_公顷": [3800.0, 1200.5],
            "主导产业": ["电子信息、汽车", "石化、装备制造"],
        },
        geometry=[box(117.6, 39.0, 117.7, 39.1), box(117.4, 38.8, 117.45, 38.85)],
        crs=crs,
    )


def check_parks(parks: gpd.GeoDataFrame) -> None:
    assert parks["park_id"].tolist() == ["G121001", "S127014"]
    assert parks["name"].tolist() == ["天津经济技术开发区", "天津大港经济开发区"]
    assert parks["district"].tolist() == ["滨海新区", "滨海新区"]
    assert parks["approved_area_ha"].tolist() == [3800.0, 1200.5]
    assert parks["leading_industries"].iloc[1] == "石化、装备制造"
    assert parks.crs.to_epsg() == 4326
    np.testing.assert_allclose(parks.total_bounds, [117.4, 38.8, 117.7, 39.1], atol=1e-6)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".parquet"])
def test_read_parks_formats(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"parks{suffix}"
    if suffix == ".parquet":
        _parks().to_parquet(path)
    else:
        _parks().to_file(path)
    check_parks(read_parks(path))


# DBF field names hold at most 10 bytes: 3 Chinese characters in UTF-8, 5 in GBK
SHP_NAMES = {"开发区名称": "名称", "批准级别": "级别", "核准面积_公顷": "面积", "主导产业": "产业"}
SHP_MAPPING = {"approved_area_ha": "面积", "leading_industries": "产业"}


def _shapefile(path: Path, encoding: str) -> Path:
    _parks().rename(columns=SHP_NAMES).to_file(path, encoding=encoding)
    return path


def test_read_parks_shapefile_with_cpg(tmp_path: Path) -> None:
    path = _shapefile(tmp_path / "parks.shp", "UTF-8")
    assert path.with_suffix(".cpg").exists()
    check_parks(read_parks(path, columns=SHP_MAPPING))


def test_read_parks_gbk_shapefile_without_cpg(tmp_path: Path) -> None:
    path = _shapefile(tmp_path / "parks.shp", "GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    parks = read_parks(path, columns=SHP_MAPPING)
    check_parks(parks)
    assert parks.attrs["encoding"] == "GB18030"


def test_read_parks_gbk_shapefile_with_cpg(tmp_path: Path) -> None:
    path = _shapefile(tmp_path / "parks.shp", "GBK")
    path.with_suffix(".cpg").write_text("936")
    check_parks(read_parks(path, columns=SHP_MAPPING))


def test_read_parks_in_projected_crs(tmp_path: Path) -> None:
    path = tmp_path / "parks.gpkg"
    _parks().to_crs("EPSG:32650").to_file(path)
    parks = read_parks(path)
    assert parks.crs.to_epsg() == 4326
    np.testing.assert_allclose(parks.total_bounds, [117.4, 38.8, 117.7, 39.1], atol=1e-3)


def test_read_parks_gcj02(tmp_path: Path) -> None:
    path = tmp_path / "parks.geojson"
    _parks().to_file(path)
    parks = read_parks(path, coord_system="gcj02")
    expected = coords.convert_geometry(_parks().geometry, "gcj02", "wgs84")
    np.testing.assert_allclose(parks.total_bounds, expected.total_bounds, atol=1e-9)
    assert parks.attrs["coord_system"] == "gcj02"


def test_missing_crs_needs_crs_argument(tmp_path: Path) -> None:
    path = _shapefile(tmp_path / "parks.shp", "UTF-8")
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="no CRS.*crs='EPSG:4326'"):
        read_parks(path, columns=SHP_MAPPING)
    check_parks(read_parks(path, columns=SHP_MAPPING, crs="EPSG:4326"))


def test_crs_mismatch_and_implausible_crs(tmp_path: Path) -> None:
    path = tmp_path / "parks.gpkg"
    _parks().to_file(path)
    with pytest.raises(CRSError, match="crs="):
        read_parks(path, crs="EPSG:32650")
    projected = _parks().to_crs("EPSG:32650").set_crs("EPSG:4326", allow_override=True)
    bad = tmp_path / "bad.gpkg"
    projected.to_file(bad)
    with pytest.raises(CRSError, match="look like projected metres"):
        read_parks(bad)
    degrees = _parks().set_crs("EPSG:32650", allow_override=True)
    bad2 = tmp_path / "bad2.gpkg"
    degrees.to_file(bad2)
    with pytest.raises(CRSError, match="look like longitude/latitude"):
        read_parks(bad2)


def test_park_geometry_errors_name_the_feature(tmp_path: Path) -> None:
    parks = _parks()
    parks.loc[1, "代码"] = "G121001"
    path = tmp_path / "parks.geojson"
    parks.to_file(path)
    with pytest.raises(GeometryError, match="park_id 'G121001' is used by features 0, 1"):
        read_parks(path)


def test_invalid_park_repaired_on_load(tmp_path: Path) -> None:
    parks = _parks()
    parks.loc[0, "geometry"] = Polygon([(117.6, 39.0), (117.7, 39.1), (117.7, 39.0), (117.6, 39.1)])
    path = tmp_path / "parks.geojson"
    parks.to_file(path)
    loaded = read_parks(path)
    assert loaded.geometry.is_valid.all()
    assert [r["park_id"] for r in loaded.attrs["repairs"]] == ["G121001"]


def test_deeply_nested_geojson_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "parks.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"x": '
        + "[" * 10000
        + "]" * 10000
        + '}, "geometry": null}]}'
    )
    with pytest.raises(InputFormatError, match="parks.geojson"):
        read_parks(path)


def test_parks_without_park_id(tmp_path: Path) -> None:
    path = tmp_path / "parks.geojson"
    _parks().drop(columns="代码").to_file(path)
    with pytest.raises(SchemaError, match="park_id"):
        read_parks(path)


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------


def test_atomic_write_keeps_previous_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_write(target) as fh:
        fh.write(b"half a table")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_table_interrupted_mid_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "table.parquet"
    write_table(pd.DataFrame({"a": [1]}), target)
    before = target.read_bytes()

    def explode(self: pd.DataFrame, fh: object, **kwargs: object) -> None:
        fh.write(b"PAR1 partial")  # type: ignore[attr-defined]
        raise OSError("no space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", explode)
    with pytest.raises(OSError, match="no space"):
        write_table(pd.DataFrame({"a": [2]}), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


def test_atomic_path_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "layer.gpkg"
    with pytest.raises(ValueError, match="boom"), atomic_path(target) as temp:
        temp.write_text("partial")
        raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_gpkg_write_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "parks.gpkg"
    write_table(_parks(), target)
    before = target.read_bytes()

    def explode(df: object, path: object, **kwargs: object) -> None:
        Path(str(path)).write_bytes(b"SQLite format 3\0 partial")
        raise RuntimeError("killed")

    monkeypatch.setattr(pyogrio, "write_dataframe", explode)
    with pytest.raises(RuntimeError, match="killed"):
        write_table(_parks(), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["parks.gpkg"]


def test_csv_neutralises_formula_cells_but_not_numbers(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "name": ["=HYPERLINK(\"http://x\")", "+86 22", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok", "-5", "-1.5e3"],
            "tax": [-1.5, 2.0, -3.0, 0.1 + 0.2, 1e-20, 5.0, 6.0, 7.0, 8.0],
        }
    )  # fmt: skip
    path = tmp_path / "out.csv"
    write_table(df, path)
    back = pd.read_csv(path, dtype={"name": str})
    assert back["name"].tolist()[:6] == [
        "'=HYPERLINK(\"http://x\")", "'+86 22", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
    ]  # fmt: skip
    assert back["name"].tolist()[6:] == ["ok", "-5", "-1.5e3"]
    assert back["tax"].tolist()[:2] == [-1.5, 2.0]
    assert "0.30000000000000004" in path.read_text()  # exact float text
    write_table(df, path, raw=True)
    assert pd.read_csv(path)["name"].iloc[0] == '=HYPERLINK("http://x")'


def test_csv_header_is_neutralised_too() -> None:
    assert format_csv(pd.DataFrame({"=cmd": [1]})).splitlines()[0] == "'=cmd"


def test_csv_excel_bom_and_determinism(tmp_path: Path) -> None:
    df = pd.DataFrame({"园区": ["滨海", "西青"], "tax_per_ha": [1 / 3, np.nan]})
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_table(df, a, excel=True)
    write_table(df, b, excel=True)
    assert a.read_bytes().startswith(b"\xef\xbb\xbf")
    assert a.read_bytes() == b.read_bytes()
    write_table(df, a)
    assert a.read_bytes().startswith("园区".encode())
    assert a.read_text(encoding="utf-8") == "园区,tax_per_ha\n滨海,0.3333333333333333\n西青,\n"


def test_named_index_is_written(tmp_path: Path) -> None:
    loaded_like = pd.DataFrame({"x": [1.0]}, index=pd.Index([7], name="source_row"))
    assert format_csv(loaded_like) == "source_row,x\n7,1.0\n"
    assert format_csv(pd.DataFrame({"x": [1]})) == "x\n1\n"


def test_write_parquet_geoparquet_gpkg_geojson_roundtrip(tmp_path: Path) -> None:
    parks = read_parks(_write(tmp_path / "parks.geojson", _parks()))
    for name in ("p.parquet", "p.gpkg", "p.geojson"):
        path = write_table(parks, tmp_path / name)
        back = read_parks(path)
        check_parks(back)
    table = pd.DataFrame({"park_id": ["a"], "tax_per_ha": [1.5]})
    write_table(table, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), table, check_dtype=False)


def test_gpkg_and_geojson_are_deterministic(tmp_path: Path) -> None:
    for suffix in (".gpkg", ".geojson", ".parquet"):
        a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        write_table(_parks(), a)
        write_table(_parks(), b)
        if suffix == ".gpkg":
            # same content, same bytes except the layer name stored inside
            assert a.stat().st_size == b.stat().st_size
        else:
            assert a.read_bytes() == b.read_bytes()


def test_enterprise_table_as_geojson_points(tmp_path: Path) -> None:
    df = pd.DataFrame({"enterprise_id": ["A"], "lon": [117.2], "lat": [39.1]})
    path = write_table(df, tmp_path / "e.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["features"][0]["geometry"]["coordinates"] == [117.2, 39.1]
    with pytest.raises(SchemaError, match="lon/lat"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.geojson")


def test_json_records(tmp_path: Path) -> None:
    df = pd.DataFrame({"park": ["甲"], "v": [np.nan], "n": [np.int64(3)], "x": [np.inf]})
    text = format_json(df)
    assert json.loads(text) == [{"park": "甲", "v": None, "n": 3, "x": None}]
    path = write_table(df, tmp_path / "t.json")
    assert path.read_text(encoding="utf-8") == text


def _write(path: Path, gdf: gpd.GeoDataFrame) -> Path:
    gdf.to_file(path)
    return path


def test_utf16_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_text().encode("utf-16-le"))
    loaded = read_enterprises(path)
    assert loaded.encoding == "utf-16-le"
    check_sample(loaded)


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_text().encode("utf-16"))
    assert read_enterprises(path).encoding == "utf-16"


def test_empty_parks_layer(tmp_path: Path) -> None:
    path = tmp_path / "parks.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputFormatError, match="no features"):
        read_parks(path)


def test_parks_csv_unclosed_quote_is_named(tmp_path: Path) -> None:
    # GDAL's CSV driver returns no feature at all after an unclosed quote, without a word
    path = tmp_path / "parks.csv"
    path.write_text(
        'park_id,name,WKT\nP1,"A,POLYGON((117 39,117.1 39,117.1 39.1,117 39))\nP2,B,POLYGON((1 2\n',
        encoding="utf-8",
    )
    with pytest.raises(InputFormatError, match=r"none of its 2 data lines.*quote is not closed"):
        read_parks(path, crs="EPSG:4326")


def test_parks_csv_unreadable_wkt_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "parks.csv"
    ring = "117 39,117.1 39,117.1 39.1,117 39.1,117 39"
    path.write_text(
        f'park_id,name,WKT\nP1,A,"POLYGON(({ring}))"\nP2,B,"POLYGON(({ring}"\n',
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # GDAL's RuntimeWarning no longer leaks
        with pytest.raises(GeometryError, match=r"parks\.csv: data row 2: its WKT cannot be read"):
            read_parks(path, crs="EPSG:4326")
    assert (
        main(
            [
                "join",
                "--parks",
                str(path),
                "--enterprises",
                str(path),
                "-o",
                str(tmp_path / "out.csv"),
            ]
        )
        == 3
    )


def test_single_lonlat_column_is_split(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(
        'id,经纬度,年份\nA,"117.2,39.1",2015\nB,117.3，39.2,2015\nC,nowhere,2015\nD,,2015\n',
        encoding="utf-8",
    )
    loaded = read_enterprises(path)
    assert loaded.data[["lon", "lat"]].to_numpy().tolist() == [[117.2, 39.1], [117.3, 39.2]]
    assert loaded.rejects["reason"].tolist() == ["missing_coordinate", "missing_coordinate"]
    assert loaded.rejects["value"].iloc[0].startswith("lon=nowhere")


def test_content_wins_over_suffix(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"  # really a workbook
    _write_xlsx(path, [HEADER, *ROWS])
    check_sample(read_enterprises(path))


def test_single_column_file_says_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text("企业名称 经度 纬度 年份\n甲 117.2 39.1 2015\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="single column.*delimiter"):
        read_enterprises(path)


def test_geoparquet_geoarrow_encoding_and_null_geometry(tmp_path: Path) -> None:
    points = _points()
    path = tmp_path / "geoarrow.parquet"
    points.to_parquet(path, geometry_encoding="geoarrow")
    check_sample(read_enterprises(path))
    with_null = points.copy()
    with_null.loc[1, "geometry"] = None
    path = tmp_path / "null.parquet"
    with_null.to_parquet(path)
    loaded = read_enterprises(path)
    assert loaded.rejects["reason"].tolist()[0] == "missing_coordinate"
    assert loaded.data["lon"].tolist() == [117.2]


def test_write_gpkg_attribute_table(tmp_path: Path) -> None:
    table = pd.DataFrame({"park_id": ["a", "b"], "tax_per_ha": [1.5, np.nan]})
    path = write_table(table, tmp_path / "t.gpkg")
    back = pyogrio.read_dataframe(path)
    assert back["park_id"].tolist() == ["a", "b"]
    assert back["tax_per_ha"].iloc[0] == 1.5


def test_gbk_point_shapefile_without_cpg(tmp_path: Path) -> None:
    path = tmp_path / "firms.shp"
    points = _points().rename(columns={"统一社会信用代码": "信用代码", "纳税总额(万元)": "税收"})
    points = points.drop(columns=["工业增加值", "从业人员"])
    points.to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    loaded = read_enterprises(path)
    assert loaded.data["name"].tolist() == ["天津甲制药有限公司", "乙钢铁"]
    assert loaded.data["tax"].tolist() == [1234.5, 12.0]


def test_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_bytes(csv_text().replace("\n", "\r\n").encode("utf-8-sig"))
    check_sample(read_enterprises(path))


def test_utf8_file_with_one_gbk_row_is_not_read_as_mojibake(tmp_path: Path) -> None:
    good = csv_text().encode("utf-8")
    bad_row = "戊公司,A9,C27,117.2,39.1,2015,1,1,1,1,1\n".encode("gbk")
    path = tmp_path / "firms.csv"
    path.write_bytes(good + bad_row)
    with pytest.raises(InputFormatError, match=r"line 6\).*UTF-8"):
        read_enterprises(path)


def test_read_parks_zipped_gbk_shapefile(tmp_path: Path) -> None:
    import zipfile

    folder = tmp_path / "shp"
    folder.mkdir()
    path = _shapefile(folder / "parks.shp", "GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    archive = tmp_path / "parks.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for member in folder.iterdir():
            zf.write(member, member.name)
    parks = read_parks(archive, columns=SHP_MAPPING)
    check_parks(parks)
    assert parks.attrs["encoding"] == "GB18030"


def test_xlsx_data_on_second_sheet(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本表为2015年企业数据"])
    data = book.create_sheet("数据")
    for row in [HEADER, *ROWS]:
        data.append(row)
    path = tmp_path / "firms.xlsx"
    book.save(path)
    loaded = read_enterprises(path)
    check_sample(loaded)
    assert loaded.data.attrs["sheet"] == "数据"


def test_conversions_are_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="parkgeo"):
        loaded = read_enterprises(path)
    conversions = loaded.data.attrs["conversions"]
    # "1,234.5" (tax) and "2015年" (year) in the kept rows; the swapped row's cells don't count
    assert conversions["tax"]["n"] == 1
    assert conversions["tax"]["examples"] == [{"value": "1,234.5", "read_as": 1234.5}]
    assert conversions["year"]["n"] == 1
    assert set(conversions) == {"tax", "year"}
    assert "'1,234.5' -> 1234.5" in caplog.text


def test_gcj02_points_outside_china_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [*ROWS[:2], ["巴黎", "F1", "C2710", "2.35", "48.85", "2015", "1", "1", "1", "1", "1"]]
    path = tmp_path / "firms.csv"
    path.write_text(csv_text(rows=rows), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        loaded = read_enterprises(path, coord_system="gcj02")
    assert loaded.data.attrs["outside_china"] == 1
    assert loaded.data.loc[2, ["lon", "lat"]].tolist() == [2.35, 48.85]
    assert "1 point(s) lie outside China" in caplog.text


# -- enterprise readers: limits and faults of real files (issue 11) ----------------------------

_READ_HEADER = "enterprise_id,lon,lat,year,tax\n"


def test_a_stale_xlsx_dimension_loses_no_rows(tmp_path: Path) -> None:
    import re
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["enterprise_id", "lon", "lat", "year", "tax"])
    for i in range(2000):
        sheet.append([f"E{i}", 117.05, 39.05, 2015, 1.5])
    whole = tmp_path / "whole.xlsx"
    book.save(whole)
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(stale, "w") as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:E11"/>', body)
            target.writestr(info, body)
    loaded = read_enterprises(stale)
    assert loaded.n_read == 2000 and len(loaded.data) == 2000
    assert loaded.data["tax"].sum() == 3000.0


@pytest.mark.parametrize("codec", ["bz2", "xz", "gz"])
def test_compressed_csv_expanding_implausibly_is_refused_while_read(
    tmp_path: Path, codec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bz2
    import gzip
    import lzma

    from parkgeo import _guards

    # a small floor stands for the 64 MiB one: the bound is a ratio to the file's size
    monkeypatch.setattr(_guards, "RATIO_FLOOR", 1 << 20)
    rows = "E1," + "0" * 100 + ",39.05,2015,1\n"
    data = (_READ_HEADER + rows * 40_000).encode()
    pack = {"bz2": bz2.compress, "xz": lzma.compress, "gz": gzip.compress}[codec]
    path = tmp_path / f"firms.csv.{codec}"
    path.write_bytes(pack(data))
    assert len(data) > 200 * path.stat().st_size
    with pytest.raises(InputFormatError, match="too large when decompressed") as info:
        read_enterprises(path)
    assert str(path) in str(info.value)


def test_a_table_instead_of_a_path_is_refused_without_its_repr() -> None:
    import parkgeo

    table = parkgeo.load_tianjin().enterprises
    with pytest.raises(InputFormatError) as info:
        read_enterprises(table)  # type: ignore[arg-type]
    message = str(info.value)
    assert "DataFrame" in message and len(message) < 200


def test_ids_are_read_in_their_normalised_form(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(
        _READ_HEADER + "Ｅ1,117.05,39.05,2015,1\nE2\u200b,117.05,39.05,2015,2\n", encoding="utf-8"
    )
    loaded = read_enterprises(path)
    assert loaded.data["enterprise_id"].tolist() == ["E1", "E2"]
    assert loaded.data.attrs["conversions"]["enterprise_id"]["n"] == 2


def _long_cell_csv(
    tmp_path: Path, cell_bytes: int, *, closed: bool = True, n: int = 10, at: int = 3
) -> Path:
    rows = [f"E{i},公司{i},C27,117.2,39.1,2015,{i}.5" for i in range(n)]
    quote = '"' if closed else ""
    rows[at] = f'E{at},"{"甲" * (cell_bytes // 3)}{quote},C27,117.2,39.1,2015,{at}.5'
    path = tmp_path / "long.csv"
    header = "enterprise_id,name,industry,lon,lat,year,tax\n"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_row_longer_than_a_read_block_is_read(tmp_path: Path, monkeypatch) -> None:
    """CSV is parsed in 4 MiB blocks; a 10 MB cell after 10 MB of rows restarts the read
    with larger blocks, whole or in batches (skipping the batches already handed out), and
    no row is lost or repeated."""
    from parkgeo.datasets import load_tianjin
    from parkgeo.scale import park_metrics_batched

    n, at = 150_000, 140_000
    path = _long_cell_csv(tmp_path, 10 << 20, n=n, at=at)
    loaded = read_enterprises(path)
    assert len(loaded.data) == n and len(loaded.rejects) == 0
    assert len(loaded.data.loc[at, "name"]) == (10 << 20) // 3
    np.testing.assert_array_equal(loaded.data["tax"].to_numpy(), np.arange(n) + 0.5)
    from parkgeo import _csvparts

    attempts: list[tuple[int, int]] = []
    once = _csvparts._csv_tables_once

    def spy(plan, rows, block, skip):  # type: ignore[no-untyped-def]
        attempts.append((block, skip))
        return once(plan, rows, block, skip)

    monkeypatch.setattr(_csvparts, "_csv_tables_once", spy)
    batched = park_metrics_batched(path, load_tianjin().parks, batch_rows=50_000, progress=False)
    assert attempts == [(4 << 20, 0), (16 << 20, 100_000)]  # two batches were handed out
    assert batched.n_read == n and len(batched.rejects) == 0
    city = batched.table.set_index("park_id").loc["ALL"]
    assert city["n_enterprises"] == n and city["tax"] == pytest.approx(n * n / 2)


def test_an_unclosed_quote_is_one_line_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("parkgeo._csvparts._CSV_MAX_BLOCK_BYTES", 16 << 20)
    path = _long_cell_csv(tmp_path, 40 << 20, closed=False)
    with pytest.raises(InputFormatError, match=r"long\.csv: a row longer than 16 MiB.*quote"):
        read_enterprises(path)
