"""The per-mu evaluation end to end: park roll-up by hand, year-over-year changes, the ledger,
the low-efficiency layer, the bundled sample and the ``parkgeo evaluate`` command."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely import box

import parkgeo
from parkgeo.evaluate import evaluate_enterprises, read_supplement, write_evaluation
from parkgeo.evaluate_scheme import scheme_from_dict
from parkgeo.evaluate_scoring import OUTCOMES, _share_counts

ROOT = Path(__file__).resolve().parents[1]

SCHEME = scheme_from_dict(
    {
        "groups": [
            {
                "key": "all",
                "name": "全部",
                "indicators": [
                    {"key": "tax_per_mu", "name": "亩均税收", "formula": "tax / land_mu",
                     "weight": 100, "base": 10, "cap": 2},
                ],
            }
        ],
        "veto": [{"key": "accident", "name": "重大事故", "column": "accident"}],
        "classes": {"by": "thresholds", "labels": ["A", "B", "C", "D"],
                    "thresholds": [150, 100, 50]},
    }
)  # fmt: skip

PARKS = gpd.GeoDataFrame(
    {"park_id": ["P1", "P2"]},
    geometry=[box(117.0, 39.0, 117.01, 39.01), box(117.1, 39.0, 117.11, 39.01)],
    crs="EPSG:4326",
)


def _firms(
    tax: list[float], *, year: int = 2016, accident: list[int] | None = None
) -> pd.DataFrame:
    n = len(tax)
    return pd.DataFrame(
        {
            "enterprise_id": [f"F{i + 1}" for i in range(n)],
            "name": [f"企业{i + 1}" for i in range(n)],
            "year": [year] * n,
            "industry": ["C3670"] * n,
            # F1..F3 in park P1, F4 in P2, F5 outside every park
            "lon": [117.001, 117.002, 117.003, 117.101, 117.5][:n],
            "lat": [39.001] * n,
            "tax": tax,
            "employees": [10.0] * n,
            "用地面积(亩)": [10.0] * n,
            "accident": accident or [0] * n,
        }
    )


def test_park_rollup_by_hand() -> None:
    # tax per mu 20, 12, 4, 8, 3 -> scores 200 (cap), 120, 40, 80, 30 -> A, B, D, C, D
    result = evaluate_enterprises(_firms([200.0, 120.0, 40.0, 80.0, 30.0]), SCHEME, parks=PARKS)
    e = result.enterprises
    assert e["class"].tolist() == ["A", "B", "D", "C", "D"]
    assert e["park_id"].tolist()[:4] == ["P1", "P1", "P1", "P2"]
    assert pd.isna(e["park_id"].iloc[4])
    parks = result.parks.set_index("park_id")
    p1 = parks.loc["P1"]
    assert (p1["n_A"], p1["n_B"], p1["n_C"], p1["n_D"]) == (1, 1, 0, 1)
    assert p1["land_mu_evaluated"] == 30.0
    assert p1["land_share_low"] == pytest.approx(10 / 30)
    # median tax per mu in P1: median(20, 12, 4) = 12; the D firm pays 40 on 10 mu:
    # gain = 12 x 10 - 40 = 80 (万元)
    assert p1["median_tax_per_mu"] == pytest.approx(12.0)
    assert p1["tax_gain"] == pytest.approx(80.0)
    p2 = parks.loc["P2"]
    assert (p2["n_C"], p2["land_share_low"], p2["tax_gain"]) == (1, 1.0, 0.0)
    everything = parks.loc["ALL"]
    assert everything["n_evaluated"] == 5
    # ALL: median(20, 12, 4, 8, 3) = 8; gains: C firm 8x10-80 = 0, D firms 80-40 = 40, 80-30 = 50
    assert everything["tax_gain"] == pytest.approx(90.0)
    assert everything["land_share_low"] == pytest.approx(30 / 50)


def test_veto_and_reason_in_enterprise_table() -> None:
    result = evaluate_enterprises(_firms([200.0, 120.0], accident=[1, 0]), SCHEME)
    e = result.enterprises
    assert e["class"].tolist() == ["D", "B"]
    assert e["reason"].iloc[0] == "否决项：重大事故"


def test_year_over_year_changes() -> None:
    y1 = _firms([200.0, 120.0, 40.0])
    y2 = _firms([90.0, 120.0, 40.0], year=2017, accident=[0, 1, 0])
    y2 = y2[y2["enterprise_id"] != "F3"]
    y3 = _firms([90.0, 120.0, 40.0], year=2018)
    result = evaluate_enterprises(pd.concat([y1, y2, y3], ignore_index=True), SCHEME)
    ch = result.changes.set_index(["enterprise_id", "year_to"])
    assert ch.loc[("F1", 2017), ["class_from", "class_to", "change"]].tolist() == ["A", "C", "down"]
    assert ch.loc[("F1", 2017), "why"] == "亩均税收 -110.00"
    assert ch.loc[("F2", 2017), "why"] == "否决项：重大事故"
    assert ch.loc[("F3", 2017), "change"] == "left"
    assert ch.loc[("F3", 2018), ["change", "class_to"]].tolist() == ["entered", "D"]
    assert ch.loc[("F2", 2018), "why"] == "否决项解除：重大事故"
    assert ("F1", 2018) not in ch.index  # C in both years


def test_ledger_has_every_firm_year_once() -> None:
    firms = _firms([200.0, 120.0, 40.0, 80.0, 30.0])
    firms.loc[1, "用地面积(亩)"] = np.nan
    firms.loc[2, "industry"] = "D4411"
    scheme = scheme_from_dict(
        {
            "eligibility": {"sections": ["C"]},
            "groups": [{"key": "g", "indicators": [
                {"key": "t", "formula": "tax / land_mu", "weight": 100, "base": 10}]}],
        }
    )  # fmt: skip
    other_year = _firms([1.0], year=2015)
    result = evaluate_enterprises(
        pd.concat([firms, other_year], ignore_index=True), scheme, years=[2016]
    )
    led = result.ledger
    firms_led = led[led["record"] == "enterprise"]
    assert len(firms_led) == 6
    assert not firms_led.duplicated(["id", "year"]).any()
    assert firms_led["outcome"].tolist() == [
        "evaluated", "no_land", "ineligible_industry", "evaluated", "evaluated",
        "year_not_evaluated",
    ]  # fmt: skip
    assert set(result.enterprises["outcome"]) <= set(OUTCOMES)


def test_parcels_low_efficiency_layer_and_idle_land() -> None:
    parcels = gpd.GeoDataFrame(
        {"宗地编号": ["Z1", "Z2", "Z3"], "权利人代码": ["F1", "F3", ""]},
        geometry=[
            box(117.0005, 39.0005, 117.0015, 39.0015),
            box(117.0025, 39.0005, 117.0035, 39.0015),
            box(117.005, 39.005, 117.006, 39.006),
        ],
        crs="EPSG:4326",
    )
    firms = _firms([200.0, 120.0, 40.0, 80.0, 30.0])
    result = evaluate_enterprises(firms, SCHEME, parks=PARKS, parcels=parcels)
    e = result.enterprises.set_index("enterprise_id")
    area = parkgeo.geodesic_area_ha(parcels)
    assert e.loc["F1", "land_ha"] == pytest.approx(area[0])
    assert e.loc["F1", "land_source"] == "parcels"
    assert e.loc["F2", "land_source"] == "column"
    low = result.low_efficiency
    assert sorted(low["kind"]) == ["firm_point", "idle", "parcel"]
    parcel_row = low[low["kind"] == "parcel"].iloc[0]
    assert (parcel_row["parcel_id"], parcel_row["enterprise_id"]) == ("Z2", "F3")
    assert parcel_row["area_mu"] == pytest.approx(area[1] * 15)
    assert low[low["kind"] == "firm_point"]["enterprise_id"].tolist() == ["F5"]
    p1 = result.parks.set_index("park_id").loc["P1"]
    assert p1["n_idle_parcels"] == 1
    assert p1["idle_land_mu"] == pytest.approx(area[2] * 15)
    parcel_led = result.ledger[result.ledger["record"] == "parcel"]
    assert parcel_led["outcome"].tolist() == ["allocated", "allocated", "idle"]
    layer = result.class_layer()
    colors = {"A": "#1a9850", "B": "#b2c877", "C": "#f1a56a", "D": "#d73027"}
    assert (layer["color"] == layer["class"].map(colors)).all()
    assert layer["class"].tolist() == ["B", "B", "D", "C", "D"]
    assert layer.crs.to_epsg() == 4326


def test_supplement_rows_without_firm_go_to_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "land.csv"
    path.write_text(
        "统一社会信用代码,年份,占地面积(平方米)\nF1,2016,6666.67\nX9,2016,100\n", encoding="utf-8"
    )
    firms = _firms([200.0]).drop(columns="用地面积(亩)")
    result = evaluate_enterprises(firms, SCHEME, supplements=[read_supplement(path)])
    assert result.enterprises["land_mu"].iloc[0] == pytest.approx(10.0, rel=1e-6)
    sup = result.ledger[result.ledger["record"] == "supplement_row"]
    assert sup[["id", "outcome"]].to_numpy().tolist() == [["X9", "no_matching_enterprise"]]


@pytest.fixture(scope="module")
def sample_result() -> Any:
    sample = parkgeo.load_tianjin()
    extra = pd.read_parquet(parkgeo.sample_path("tianjin_evaluation.parquet"))
    firms = sample.enterprises.merge(extra, on=["enterprise_id", "year"])
    parcels = gpd.read_parquet(parkgeo.sample_path("tianjin_parcels.parquet"))
    return evaluate_enterprises(
        firms, "jingde_minmax", parks=sample.parks, parcels=parcels, years=[2015, 2016]
    )


def test_sample_shares_exact_per_group_and_year(sample_result: Any) -> None:
    e = sample_result.enterprises
    ev = e[e["outcome"] == "evaluated"]
    for (_, _), grp in ev.groupby(["year", "group"]):
        counts = grp["class"].value_counts().reindex(["A", "B", "C", "D"], fill_value=0)
        expected = _share_counts(len(grp), (0.2, 0.5, 0.2, 0.1))
        # vetoed firms are D on top of the quota only if they would have ranked above it
        vetoed_above = int((grp["veto"].notna() & (grp["rank"] <= expected[:3].sum())).sum())
        assert counts["D"] == expected[3] + vetoed_above
        assert counts.sum() == len(grp)
        assert sorted(grp["rank"]) == list(range(1, len(grp) + 1))


def test_sample_ledger_and_parcels(sample_result: Any) -> None:
    led = sample_result.ledger
    firms = led[led["record"] == "enterprise"]
    assert len(firms) == 48_000
    assert (firms["outcome"] == "year_not_evaluated").sum() == 24_000
    parcels = led[led["record"] == "parcel"]
    assert set(parcels["outcome"]) == {"allocated", "shared", "idle", "owner_not_in_data"}
    n_parcels = len(gpd.read_parquet(parkgeo.sample_path("tianjin_parcels.parquet")))
    assert len(parcels) == 2 * n_parcels
    e = sample_result.enterprises
    from_parcels = e[e["land_source"] == "parcels"]
    assert len(from_parcels) > 500
    assert set(e["park_id"].dropna()) <= set(parkgeo.load_tianjin().parks["park_id"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkgeo", "evaluate", "-q", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


SAMPLE_ARGS = [
    "--parks", "data/tianjin_parks.parquet",
    "--enterprises", "data/tianjin_enterprises.parquet",
    "--supplement", "data/tianjin_evaluation.parquet",
    "--parcels", "data/tianjin_parcels.parquet",
    "--scheme", "jingde_minmax",
    "--year", "2015", "--year", "2016",
]  # fmt: skip


def test_cli_on_the_sample_writes_a_deterministic_workbook(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    low = tmp_path / "low.gpkg"
    args = [*SAMPLE_ARGS[:-4], "--year", "2016"]
    run = _cli(*args, "-o", str(first), "--low-efficiency", str(low))
    assert run.returncode == 0, run.stderr
    assert _cli(*args, "-o", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert zipfile.ZipFile(first).testzip() is None
    sheet_xml = zipfile.ZipFile(first).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' in sheet_xml
    book = openpyxl.load_workbook(first, read_only=True)
    assert book.sheetnames == ["企业评价", "园区汇总", "台账", "年度变化", "评价方案"]
    ws = book["企业评价"]
    rows = ws.iter_rows(min_row=1, max_row=2)
    headers = [c.value for c in next(rows)]
    cells = next(rows)
    col = {h: i for i, h in enumerate(headers)}
    eid = cells[col["企业代码"]]
    assert isinstance(eid.value, str) and len(eid.value) == 18
    assert eid.number_format == "@" and eid.data_type == "s"
    assert isinstance(cells[col["年度"]].value, int)
    assert isinstance(cells[col["用地面积_亩"]].value, float)
    assert isinstance(cells[col["总分"]].value, float)
    assert {"亩均税收", "亩均税收得分", "等级", "组内排名", "末等原因"} <= set(headers)
    book.close()
    # counted in the XML: openpyxl takes ~20 s to walk 12,000 rows
    assert sheet_xml.count("<row ") == 12_001
    ledger_xml = zipfile.ZipFile(first).read("xl/worksheets/sheet3.xml").decode("utf-8")
    for record in ("enterprise", "parcel"):
        assert f'<t xml:space="preserve">{record}</t>' in ledger_xml
    layer = gpd.read_file(low)
    assert set(layer["kind"]) == {"parcel", "idle", "firm_point"}


def test_cli_csv_outputs_and_errors(tmp_path: Path) -> None:
    out = tmp_path / "eval.csv"
    run = _cli(
        *SAMPLE_ARGS[:-4], "--year", "2016", "-o", str(out), "--lang", "en", "--split", "share"
    )
    assert run.returncode == 0, run.stderr
    for name in ("eval.csv", "eval_parks.csv", "eval_ledger.csv", "eval_changes.csv"):
        assert (tmp_path / name).is_file(), name
    table = pd.read_csv(out, dtype={"enterprise_id": str})
    assert table["outcome"].notna().all() and len(table) == 12_000
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[groups]]\nkey = "g"\n[[groups.indicators]]\nkey = "t"\nformula = "tax"\n'
        "weight = 90\nbase = 1\n",
        encoding="utf-8",
    )
    run = _cli(*SAMPLE_ARGS[:6], "--scheme", str(bad), "-o", str(tmp_path / "x.xlsx"))
    assert run.returncode == 3
    message = run.stderr.strip()
    assert "\n" not in message
    assert "weights sum to 90, not the declared total 100" in message


def test_write_evaluation_text_never_formula(tmp_path: Path) -> None:
    firms = _firms([200.0, 120.0])
    firms.loc[0, "name"] = "=HYPERLINK(1)"
    result = evaluate_enterprises(firms, SCHEME)
    path = write_evaluation(result, tmp_path / "t.xlsx")[0]
    ws = openpyxl.load_workbook(path)["企业评价"]
    cell = ws.cell(row=2, column=2)
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"


def test_cli_reads_evaluation_columns_from_the_enterprise_file(tmp_path: Path) -> None:
    firms = tmp_path / "firms.csv"
    firms.write_text(
        "统一社会信用代码,企业名称,行业代码,经度,纬度,年份,纳税总额(万元),占地面积(平方米),事故\n"
        "A1,甲,C3670,117.001,39.001,2016,120,6666.67,\n"
        "A2,乙,C3670,117.002,39.001,2016,abc,13333.33,\n"
        "A3,丙,C3670,117.003,39.001,2016,30,x,\n"
        "A4,丁,C3670,117.004,39.001,2016,300,6666.67,是\n"
        "A1,甲,C3670,117.001,39.001,2015,100,6666.67,\n",
        encoding="utf-8",
    )
    parks = tmp_path / "parks.geojson"
    PARKS.to_file(parks, driver="GeoJSON")
    scheme = tmp_path / "s.toml"
    scheme.write_text(
        '[[groups]]\nkey = "all"\n[[groups.indicators]]\nkey = "t"\nname = "亩均税收"\n'
        'formula = "tax / land_mu"\nweight = 100\nbase = 10\ncap = 2\n'
        '[[veto]]\nkey = "acc"\nname = "事故"\ncolumn = "事故"\n'
        '[classes]\nby = "thresholds"\nthresholds = [150, 100, 50]\n',
        encoding="utf-8",
    )
    out = tmp_path / "eval.csv"
    run = _cli(
        "--parks", str(parks), "--enterprises", str(firms), "--scheme", str(scheme),
        "--year", "2016", "-o", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(out, dtype={"enterprise_id": str}).set_index("enterprise_id")
    assert table.loc["A1", "land_mu"] == pytest.approx(10.0, rel=1e-6)
    assert table.loc["A1", "class"] == "B"  # 12 per mu -> 120 points
    assert table.loc["A3", "outcome"] == "no_land"
    assert "land_area: 'x' is not a number" in table.loc["A3", "input_notes"]
    assert (table.loc["A4", "class"], table.loc["A4", "reason"]) == ("D", "否决项：事故")
    ledger = pd.read_csv(tmp_path / "eval_ledger.csv", dtype={"id": str})
    # A2's tax is unreadable: the loader rejects the row, the ledger keeps it
    assert ledger.loc[ledger["record"] == "input_row", "detail"].tolist() == ["non_numeric_measure"]
    assert (ledger["outcome"] == "year_not_evaluated").sum() == 1


def test_offline_evaluation_map_is_safe_and_deterministic(tmp_path: Path) -> None:
    from parkgeo.evaluate_map import evaluation_map_html, save_evaluation_map

    firms = _firms([200.0, 120.0, 40.0, 80.0, 30.0])
    firms.loc[2, "name"] = "</script><script>alert(1)</script>"
    result = evaluate_enterprises(firms, SCHEME, parks=PARKS)
    page = evaluation_map_html(result, parks=PARKS)
    assert page == evaluation_map_html(result, parks=PARKS)
    assert "<script>alert(1)" not in page
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in page
    assert "<script src" not in page and "<link" not in page
    assert '"color":"#d73027"' in page and "亩均效益评价 2016" in page
    path = save_evaluation_map(result, tmp_path / "m.html", parks=PARKS, lang="en")
    assert "Per-mu benefit evaluation" in path.read_text(encoding="utf-8")
