"""What parkgeo writes is safe to open, and reading runs nothing and reaches no network.

* HTML: every input-derived string (park ids and names, districts, levels, leading
  industries, industry labels, cluster and gap fields, enterprise fields, titles and source
  notes, in English and Chinese) reaches the page escaped; nothing hostile appears raw.
  (``tests/test_maps_browser.py`` checks the same names in a real browser.)
* CSV: cells starting with ``= + - @``, tab or CR are neutralised unless ``raw``; numbers,
  negative ones included, stay numbers, also in text columns.
* Output paths are never built from input data.
* Reading executes nothing from the input (no eval/exec/pickle; Excel formulas are read as
  their stored values; XML external entities are not expanded) and never opens a socket.
"""

from __future__ import annotations

import ast
import io
import json
import socket
import sys
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from parkgeo.io import format_csv, read_enterprises, read_parks, write_table

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "parkgeo"
sys.path.insert(0, str(Path(__file__).parent))

# Raw sequences that must never reach a page unescaped.
PAYLOAD = "<img src=x onerror=alert(1)>\"'&</script><script>alert(2)</script>`${alert(3)}`{{7*7}}"
DANGEROUS = ("<img src=x", "<script>alert", "</script><script>", "onerror=alert(1)>")


def hostile(tag: str) -> str:
    return f"{PAYLOAD} #{tag}#"


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _hostile_inputs() -> dict[str, Any]:
    boxes = [(117.0, 39.0, 117.1, 39.1), (117.2, 39.0, 117.3, 39.1), (117.0, 39.2, 117.1, 39.3)]
    ids = ["<b>P1</b>#pid#", "P2", "P3"]
    parks = gpd.GeoDataFrame(
        {
            "park_id": ids,
            "name": [hostile("park_name"), "滨海高新区", hostile("park_name_3")],
            "district": [hostile("district_col"), "Xiqing", "Wuqing"],
            "level": [hostile("level"), "national", "provincial"],
            "leading_industries": [hostile("leading"), "C27", "C39"],
        },
        geometry=[box(*b) for b in boxes],
        crs="EPSG:4326",
    )
    rng = np.random.default_rng(3)
    firms = []
    for i in range(30):
        x0, y0, x1, y1 = boxes[i % 3]
        for year in (2013, 2015):
            firms.append(
                {
                    "enterprise_id": hostile("eid") if i == 0 else f"E{i:03d}",
                    "name": hostile("firm_name") if i == 0 else f"Firm {i}",
                    "industry": ["C2710", "C3911", "C3612"][i % 3],
                    "lon": float(rng.uniform(x0 + 0.01, x1 - 0.01)),
                    "lat": float(rng.uniform(y0 + 0.01, y1 - 0.01)),
                    "year": year,
                    "tax": 10.0 + i,
                    "profit": 5.0,
                    "value_added": 50.0,
                    "energy_tce": 3.0,
                    "employees": 10.0,
                }
            )
    enterprises = pd.DataFrame(firms)
    districts = gpd.GeoDataFrame(
        {"name": [hostile("district")], "name_en": [hostile("district_en")]},
        geometry=[box(116.9, 38.9, 117.5, 39.4)],
        crs="EPSG:4326",
    )
    return {"parks": parks, "enterprises": enterprises, "districts": districts}


@pytest.fixture(scope="module")
def analysis() -> dict[str, Any]:
    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    inputs = _hostile_inputs()
    assigned = assign_parks(inputs["enterprises"], inputs["parks"]).assigned
    metrics = park_metrics(assigned, inputs["parks"])
    # input-derived text in the columns a user's own table may carry
    metrics["top_industries"] = metrics["top_industries"].where(
        metrics["park_id"] != "P2", hostile("top_industries")
    )
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": [0],
            "industry": [hostile("cluster_industry")],
            "industry_name": [hostile("cluster_industry_name")],
            "n_firms": [12],
            "share_in_parks": [0.5],
            "park_ids": [hostile("cluster_parks")],
            "hull_area_ha": [100.0],
            "year": [2015],
        },
        geometry=[box(117.01, 39.01, 117.05, 39.05)],
        crs="EPSG:4326",
    )
    gaps = pd.DataFrame(
        {
            "park_id": ["<b>P1</b>#pid#", "P2"],
            "rank": [1, 1],
            "industry": ["C39", "C27"],
            "industry_name": [hostile("gap_name_zh"), "医药"],
            "industry_name_en": [hostile("gap_name_en"), "Medicines"],
            "score": [0.5, 0.4],
            "reason": [hostile("gap_reason"), "x"],
            "reason_zh": [hostile("gap_reason_zh"), "x"],
            "no_sei": [False, True],
        }
    )
    return {**inputs, "assigned": assigned, "metrics": metrics, "clusters": clusters, "gaps": gaps}


def _pages(a: dict[str, Any], lang: str) -> dict[str, str]:
    from parkgeo import maps

    common = {
        "lang": lang,
        "title": hostile("title"),
        "source_note": hostile("source_note"),
        "districts": a["districts"],
        "year": 2015,
    }
    return {
        "planner": maps.map_html(
            maps.planner_map(
                a["parks"],
                a["metrics"],
                enterprises=a["assigned"],
                clusters=a["clusters"],
                gaps=a["gaps"],
                k=2,
                visible=("districts", "enterprises", "clusters"),
                **common,
            )
        ),
        "density": maps.map_html(maps.density_map(a["parks"], a["metrics"], k=2, **common)),
        "clusters": maps.map_html(
            maps.cluster_map(a["clusters"], enterprises=a["assigned"], parks=a["parks"], **common)
        ),
        "gaps": maps.map_html(
            maps.gap_map(
                a["parks"], a["gaps"], metrics=a["metrics"], clusters=a["clusters"], k=2, **common
            )
        ),
    }


# field tag -> the map kinds that must show it
SHOWN = {
    "park_name": ("planner", "density", "gaps"),
    "title": ("planner", "density", "clusters", "gaps"),
    "source_note": ("planner", "density", "clusters", "gaps"),
    "firm_name": ("planner", "clusters"),
    "top_industries": ("planner", "density"),
}
SHOWN_BY_LANG = {
    "en": {"gap_reason": ("planner", "gaps"), "gap_name_en": ("planner", "gaps")},
    "zh": {"gap_reason_zh": ("planner", "gaps"), "gap_name_zh": ("planner", "gaps")},
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_input_string_is_escaped_in_every_map(analysis, lang):
    pages = _pages(analysis, lang)
    for kind, html in pages.items():
        for raw in DANGEROUS:
            assert raw not in html, f"{kind} map ({lang}) holds {raw!r} unescaped"
        # a template expression in a name is never evaluated into 49
        assert "#49#" not in html
    for tag, kinds in {**SHOWN, **SHOWN_BY_LANG[lang]}.items():
        for kind in kinds:
            assert f"#{tag}#" in pages[kind], f"{tag} missing from the {kind} map ({lang})"


def test_titles_become_text_not_markup(analysis):
    html = _pages(analysis, "en")["density"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_layer_names_and_legends_escape_industry_labels(analysis):
    from parkgeo import maps

    html = maps.map_html(
        maps.cluster_map(analysis["clusters"], parks=analysis["parks"], year=2015, lang="zh")
    )
    assert "#cluster_industry" in html
    for raw in DANGEROUS:
        assert raw not in html


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------

FORMULAS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://x")',
    "=cmd|' /C calc'!A0",
    "-",
    "+86 138 0000 0000",
]


def test_csv_neutralises_formula_cells_in_every_text_column():
    table = pd.DataFrame({"name": FORMULAS, "park_id": FORMULAS[::-1]})
    back = pd.read_csv(io.StringIO(format_csv(table)), keep_default_na=False, dtype=str)
    for col in table.columns:
        for original, written in zip(table[col], back[col], strict=True):
            assert written == "'" + original, (original, written)


def test_csv_keeps_numbers_numbers():
    table = pd.DataFrame(
        {
            "tax": [-1.5, 2.0, -0.0],
            "profit": [-12, 3, 0],
            "code_text": ["-5", "+3", "-1.5e3"],  # numbers stored as text stay numbers
            "name": ["甲", "-12.5", "=1"],
        }
    )
    text = format_csv(table)
    back = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
    assert back["tax"].tolist() == ["-1.5", "2.0", "-0.0"]
    assert back["profit"].tolist() == ["-12", "3", "0"]
    assert back["code_text"].tolist() == ["-5", "+3", "-1.5e3"]
    assert back["name"].tolist() == ["甲", "-12.5", "'=1"]


def test_csv_raw_keeps_cells_as_they_are(tmp_path):
    table = pd.DataFrame({"name": FORMULAS})
    out = write_table(table, tmp_path / "raw.csv", raw=True)
    back = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert back["name"].tolist() == FORMULAS


def test_csv_header_names_are_neutralised_too():
    text = format_csv(pd.DataFrame({"=evil()": [1], "ok": [2]}))
    assert text.splitlines()[0] == "'=evil(),ok"


def test_excel_csv_has_bom_and_is_neutralised(tmp_path):
    out = write_table(pd.DataFrame({"name": ["=1+1", "甲"]}), tmp_path / "x.csv", excel=True)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=1+1" in data.decode("utf-8-sig")


def test_join_command_neutralises_hostile_enterprise_fields(tmp_path):
    """End to end: `parkgeo join` and its reject ledger, with formula-like names and ids."""
    from _bad_inputs import good_parks

    from parkgeo.cli import main

    firms = tmp_path / "firms.csv"
    firms.write_text(
        "enterprise_id,name,lon,lat,year,tax\n"
        '"=HYPERLINK(""http://x"",""y"")",@SUM(A1),117.05,39.05,2015,-3.5\n'
        "+E2,-E2,117.06,39.04,2015,4\n"
        "=BAD,x,not a number,39.05,2015,1\n",
        encoding="utf-8",
    )
    out, rejects = tmp_path / "joined.csv", tmp_path / "rejects.csv"
    code = main(
        [
            "join",
            "-q",
            "--parks",
            str(good_parks(tmp_path)),
            "--enterprises",
            str(firms),
            "-o",
            str(out),
            "--rejects",
            str(rejects),
        ]
    )
    assert code == 0
    joined = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert joined["enterprise_id"].tolist() == ['\'=HYPERLINK("http://x","y")', "'+E2"]
    assert joined["name"].tolist() == ["'@SUM(A1)", "'-E2"]
    assert joined["tax"].tolist() == ["-3.5", "4.0"]
    ledger = pd.read_csv(rejects, keep_default_na=False, dtype=str)
    assert ledger["enterprise_id"].tolist() == ["'=BAD"]
    for cell in ledger.to_numpy().ravel():
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell


# --------------------------------------------------------------------------------------------
# output paths
# --------------------------------------------------------------------------------------------


def test_no_output_path_is_built_from_data():
    """Paths are joined only with string literals or UPPER_CASE module constants, so no park
    or enterprise name can steer a file outside the output directory."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            parts: list[ast.expr] = []
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                parts = [node.right]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("joinpath", "with_name", "with_stem")
            ):
                parts = list(node.args)
            for part in parts:
                if _is_path_literal(part) or isinstance(part, ast.Constant):
                    continue
                if (path.name, ast.unparse(node)) in CHECKED_PATHS:
                    continue
                # numbers divided by numbers are arithmetic, not paths
                if isinstance(node, ast.BinOp) and not _looks_like_path(node.left):
                    continue
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], offenders


# joins checked by hand: the name comes from a literal list in the same function
CHECKED_PATHS = {
    ("demo.py", "outdir / name"),
    # keys of a literal dict of table names
    ("evaluate.py", "target.with_name(f'{target.stem}_{key}{target.suffix}')"),
}


def _is_path_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    return isinstance(node, ast.Name) and node.id.isupper()


def _looks_like_path(node: ast.expr) -> bool:
    text = ast.unparse(node).lower()
    return any(word in text for word in ("path", "dir", "root", "parent", "folder", "out"))


# --------------------------------------------------------------------------------------------
# reading runs nothing
# --------------------------------------------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "yaml"}


def test_the_package_never_evaluates_or_unpickles():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
            ):
                offenders.append(f"{path.name}:{node.lineno} {node.func.id}()")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for name in names:
                    if name.split(".")[0] in FORBIDDEN_MODULES:
                        offenders.append(f"{path.name}:{node.lineno} import {name}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "read_pickle"
            ):
                offenders.append(f"{path.name}:{node.lineno} read_pickle")
    assert offenders == [], offenders


def _xlsx_with(tmp_path: Path, name: str, sheet_xml: str, shared: str | None = None) -> Path:
    """A minimal workbook written by hand, so that cached formula values and hostile XML can
    be put in exactly."""
    import openpyxl

    base = tmp_path / "base.xlsx"
    openpyxl.Workbook().save(base)
    path = tmp_path / name
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml.encode("utf-8")
            dst.writestr(item, data)
        if shared is not None:
            dst.writestr("xl/sharedStrings.xml", shared)
    return path


def _row(r: int, cells: list[str]) -> str:
    return f'<row r="{r}">' + "".join(cells) + "</row>"


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _num(ref: str, value: float, formula: str | None = None) -> str:
    f = f"<f>{formula}</f>" if formula else ""
    return f'<c r="{ref}">{f}<v>{value}</v></c>'


SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"
HEADER_CELLS = [
    _inline(f"{c}1", h)
    for c, h in zip("ABCDE", ["enterprise_id", "lon", "lat", "year", "tax"], strict=True)
]


def test_excel_formulas_are_read_as_stored_values(tmp_path):
    sheet = (
        SHEET_HEAD
        + _row(1, HEADER_CELLS)
        + _row(
            2,
            [
                _inline("A2", "E1"),
                _num("B2", 117.05),
                _num("C2", 39.05),
                _num("D2", 2015),
                _num("E2", 7, 'WEBSERVICE("http://attacker.invalid/")'),
            ],
        )
        + _row(
            3,
            [
                _inline("A3", "E2"),
                _num("B3", 117.06),
                _num("C3", 39.04),
                _num("D3", 2015),
                _num("E3", 3, "1+2"),
            ],
        )
        + SHEET_TAIL
    )
    loaded = read_enterprises(_xlsx_with(tmp_path, "f.xlsx", sheet))
    assert loaded.data["tax"].tolist() == [7.0, 3.0]


def test_xml_external_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    doctype = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    sheet = (
        SHEET_HEAD.replace("<worksheet", doctype + "<worksheet")
        + _row(1, HEADER_CELLS)
        + _row(
            2,
            [
                _inline("A2", "&xxe;"),
                _num("B2", 117.05),
                _num("C2", 39.05),
                _num("D2", 2015),
                _num("E2", 1),
            ],
        )
        + SHEET_TAIL
    )
    path = _xlsx_with(tmp_path, "xxe.xlsx", sheet)
    try:
        loaded = read_enterprises(path)
    except Exception as exc:  # refusing the document is fine too, if it is a clear error
        from parkgeo import ParkgeoError

        assert isinstance(exc, ParkgeoError), repr(exc)
        assert "TOP-SECRET" not in str(exc)
        return
    text = loaded.data.to_csv() + loaded.rejects.to_csv()
    assert "TOP-SECRET" not in text


GML_PARK = """<?xml version="1.0" encoding="utf-8" ?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://{secret}">]>
<ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" xmlns:gml="http://www.opengis.net/gml">
  <gml:featureMember><ogr:parks fid="parks.0">
    <ogr:geometryProperty><gml:Polygon srsName="EPSG:4326"><gml:outerBoundaryIs><gml:LinearRing>
      <gml:coordinates>39.0,117.0 39.0,117.1 39.1,117.1 39.1,117.0 39.0,117.0</gml:coordinates>
    </gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></ogr:geometryProperty>
    <ogr:park_id>&xxe;</ogr:park_id><ogr:name>甲园</ogr:name>
  </ogr:parks></gml:featureMember>
</ogr:FeatureCollection>
"""
KML_PARK = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file://{secret}">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&xxe;</name>
<ExtendedData><Data name="park_id"><value>&xxe;</value></Data></ExtendedData>
<Polygon><outerBoundaryIs><LinearRing><coordinates>117.0,39.0 117.1,39.0 117.1,39.1 117.0,39.1
117.0,39.0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>
"""


@pytest.mark.parametrize(("name", "template"), [("parks.gml", GML_PARK), ("parks.kml", KML_PARK)])
def test_park_xml_formats_do_not_expand_external_entities(tmp_path, name, template):
    """GDAL reads GML and KML parks; an external entity must not pull a local file in."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    path = tmp_path / name
    path.write_text(template.format(secret=secret), encoding="utf-8")
    try:
        parks = read_parks(path)
    except Exception as exc:
        from parkgeo import ParkgeoError

        assert isinstance(exc, ParkgeoError), repr(exc)
        assert "TOP-SECRET" not in str(exc)
        return
    assert "TOP-SECRET" not in parks.drop(columns="geometry").to_csv()


def test_xml_entity_bomb_is_refused_quickly(tmp_path):
    """ "Billion laughs": ten levels of ten references would expand to 10**9 copies."""
    import time

    from parkgeo import InputFormatError

    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{k} "{("&l" + str(k - 1) + ";") * 10}">' for k in range(1, 10)
    )
    sheet = (
        SHEET_HEAD.replace("<worksheet", f"<!DOCTYPE worksheet [{entities}]><worksheet")
        + _row(1, HEADER_CELLS)
        + _row(2, [_inline("A2", "&l9;"), _num("B2", 117.05), _num("C2", 39.05)])
        + SHEET_TAIL
    )
    started = time.perf_counter()
    with pytest.raises(InputFormatError, match="bomb.xlsx"):
        read_enterprises(_xlsx_with(tmp_path, "bomb.xlsx", sheet))
    assert time.perf_counter() - started < 30


# --------------------------------------------------------------------------------------------
# no network
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("network access attempted during a parkgeo test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def _every_format(root: Path) -> tuple[list[Path], list[Path]]:
    import openpyxl

    frame = pd.DataFrame(
        {
            "enterprise_id": ["E1", "E2", "E3"],
            "name": ["甲", "乙", "丙"],
            "industry": ["C2710", "C3612", "C2710"],
            "lon": [117.05, 117.06, 117.25],
            "lat": [39.05, 39.04, 39.05],
            "year": [2015, 2015, 2015],
            "tax": [10.0, 20.0, 30.0],
        }
    )
    firms = []
    for name, writer in (
        ("firms.csv", lambda p: frame.to_csv(p, index=False)),
        ("firms.tsv", lambda p: frame.to_csv(p, index=False, sep="\t")),
        ("firms_gbk.csv", lambda p: p.write_bytes(frame.to_csv(index=False).encode("gbk"))),
        ("firms.csv.gz", lambda p: frame.to_csv(p, index=False, compression="gzip")),
        ("firms.parquet", lambda p: frame.to_parquet(p)),
    ):
        path = root / name
        writer(path)
        firms.append(path)
    book = openpyxl.Workbook()
    book.active.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        book.active.append(list(row))
    book.save(root / "firms.xlsx")
    firms.append(root / "firms.xlsx")
    points = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )
    points.to_parquet(root / "firms_geo.parquet")
    points.to_file(root / "firms.gpkg")
    firms += [root / "firms_geo.parquet", root / "firms.gpkg"]

    parks = gpd.GeoDataFrame(
        {"park_id": ["P1", "P2"], "name": ["甲园", "乙园"]},
        geometry=[box(117.0, 39.0, 117.1, 39.1), box(117.2, 39.0, 117.3, 39.1)],
        crs="EPSG:4326",
    )
    park_files = []
    for name, kwargs in (
        ("parks.geojson", {}),
        ("parks.gpkg", {}),
        ("parks.shp", {}),
    ):
        parks.to_file(root / name, **kwargs)
        park_files.append(root / name)
    parks.to_parquet(root / "parks.parquet")
    park_files.append(root / "parks.parquet")
    with zipfile.ZipFile(root / "parks_shp.zip", "w") as zf:
        for part in root.glob("parks.*"):
            if part.suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                zf.write(part, part.name)
    park_files.append(root / "parks_shp.zip")
    return firms, park_files


def test_reading_every_format_and_running_density_never_touch_the_network(
    tmp_path, no_network, capsys
):
    import pyproj

    from parkgeo.cli import main

    firms, park_files = _every_format(tmp_path)
    for path in firms:
        loaded = read_enterprises(path)
        assert len(loaded.data) == 3, path
    for path in park_files:
        parks = read_parks(path)
        assert parks["park_id"].tolist() == ["P1", "P2"], path
    for path in firms:
        out = tmp_path / f"density_{path.name}.csv"
        code = main(
            [
                "density",
                "-q",
                "--parks",
                str(park_files[0]),
                "--enterprises",
                str(path),
                "-o",
                str(out),
            ]
        )
        assert code == 0, capsys.readouterr().err
        table = pd.read_csv(out).set_index(["park_id", "year"])
        assert table.loc[("P1", 2015), "tax"] == 30.0
    assert no_network == []
    assert not pyproj.network.is_network_enabled()


def test_the_network_guard_works(no_network):
    with pytest.raises(OSError, match="network access attempted"):
        socket.create_connection(("example.com", 80))
    assert len(no_network) == 1


def test_json_output_is_data_not_code():
    from parkgeo.io import format_json

    text = format_json(pd.DataFrame({"name": [PAYLOAD], "x": [float("nan")]}))
    assert json.loads(text) == [{"name": PAYLOAD, "x": None}]
