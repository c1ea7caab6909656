"""Tests of ``parkgeo join``, ``parkgeo density`` and ``parkgeo demo`` as users run them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from parkgeo.cli import main

ROOT = Path(__file__).resolve().parent.parent

DENSITY_COLUMNS = [
    "park_id",
    "name",
    "year",
    "n_enterprises",
    "area_ha",
    "tax",
    "tax_per_ha",
    "energy_tce",
    "energy_per_ha",
    "value_added",
    "energy_per_value_added",
    "profit",
    "employees",
    "labour_productivity",
    "n_missing_tax",
    "n_missing_energy_tce",
    "n_missing_value_added",
    "n_missing_profit",
    "n_missing_employees",
    "suppressed",
    "profit_change",
    "profit_progress",
    "profit_status",
    "tax_per_ha_change",
    "tax_per_ha_progress",
    "tax_per_ha_status",
    "energy_per_value_added_change",
    "energy_per_value_added_progress",
    "energy_per_value_added_status",
    "labour_productivity_change",
    "labour_productivity_progress",
    "labour_productivity_status",
    "strategic_share",
    "strategic_value_added_share",
    "top_industries",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two parks (one with a hostile name), five firms over two years, one outside."""
    root = tmp_path_factory.mktemp("cli")
    parks = gpd.GeoDataFrame(
        {"park_id": ["P1", "P2"], "name": ['=HYPERLINK("http://x")', "滨海园区"]},
        geometry=[box(117.0, 39.0, 117.01, 39.01), box(117.02, 39.0, 117.04, 39.01)],
        crs="EPSG:4326",
    )
    parks.to_file(root / "parks.geojson")
    rows = []
    for year, growth in ((2013, 1.0), (2015, 1.5)):
        for i, (lon, lat, industry) in enumerate(
            [
                (117.005, 39.005, "C2710"),
                (117.006, 39.004, "C3612"),
                (117.03, 39.005, "C1311"),
                (117.031, 39.006, "C2710"),
                (117.5, 39.5, "C3990"),
            ]
        ):
            rows.append(
                {
                    "统一社会信用代码": f"9112000000000000{i}X",
                    "企业名称": f"企业{i}",
                    "行业代码": industry,
                    "经度": lon,
                    "纬度": lat,
                    "年份": year,
                    "纳税总额": 10.0 * (i + 1) * growth,
                    "利润总额": 5.0 * growth,
                    "工业增加值": 100.0,
                    "综合能耗": 50.0 / growth,
                    "从业人员": 20,
                }
            )
    pd.DataFrame(rows).to_csv(root / "firms.csv", index=False)
    bad = pd.DataFrame(rows).astype({"经度": object})
    bad.loc[3, "经度"] = "not a number"
    bad.to_csv(root / "bad.csv", index=False)
    return {
        "root": root,
        "parks": root / "parks.geojson",
        "firms": root / "firms.csv",
        "bad": root / "bad.csv",
    }


def inputs(files: dict[str, Path], firms: str = "firms") -> list[str]:
    return ["--parks", str(files["parks"]), "--enterprises", str(files[firms])]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkgeo.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_density_to_stdout_with_stable_columns(files, capsys):
    assert main(["density", *inputs(files)]) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == DENSITY_COLUMNS
    assert table["park_id"].tolist() == [
        "P1",
        "P1",
        "P2",
        "P2",
        "ALL_PARKS",
        "ALL_PARKS",
        "ALL",
        "ALL",
    ]
    by = table.set_index(["park_id", "year"])
    assert by.loc[("P1", 2013), "n_enterprises"] == 2
    assert by.loc[("P1", 2013), "tax"] == pytest.approx(30.0)
    assert by.loc[("ALL", 2015), "tax"] == pytest.approx(1.5 * 150.0)
    assert by.loc[("ALL", 2015), "profit_change"] == pytest.approx(0.5)
    assert by.loc[("ALL", 2015), "profit_status"] == "met"
    # The hostile park name is neutralised for spreadsheets.
    assert "'=HYPERLINK" in out


def test_density_options(files, tmp_path, capsys):
    targets = tmp_path / "t.toml"
    targets.write_text("baseline_year = 2013\n[targets]\nprofit = 0.6\n", encoding="utf-8")
    args = ["density", *inputs(files), "--year", "2015", "--targets", str(targets)]
    assert main([*args, "--per-mu", "--min-enterprises", "3"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("park_id")
    assert set(table["year"]) == {2015}
    assert "tax_per_mu" in table.columns
    assert table.loc["ALL", "profit_status"] == "on track"  # +50% of +60%, 2/3 of the way
    assert table.loc["P1", "suppressed"] and pd.isna(table.loc["P1", "tax"])
    assert not table.loc["ALL", "suppressed"]


@pytest.mark.parametrize("suffix", ["parquet", "gpkg", "geojson", "json", "csv"])
def test_density_file_formats(files, tmp_path, suffix):
    out = tmp_path / f"density.{suffix}"
    assert main(["density", *inputs(files), "-o", str(out), "-q"]) == 0
    if suffix == "parquet":
        table = pd.read_parquet(out)
    elif suffix in ("gpkg", "geojson"):
        table = gpd.read_file(out)
        geoms = table.drop_duplicates("park_id").set_index("park_id").geometry
        expected = box(117.0, 39.0, 117.01, 39.01).normalize()
        assert geoms["P1"].normalize().equals_exact(expected, 1e-9)
        assert geoms["ALL"] is None or geoms["ALL"].is_empty
    elif suffix == "json":
        table = pd.DataFrame(json.loads(out.read_text(encoding="utf-8")))
    else:
        table = pd.read_csv(out)
    assert len(table) == 8
    assert [c for c in DENSITY_COLUMNS if c not in table.columns] == []


def test_excel_bom_raw_and_determinism(files, tmp_path):
    first, second, excel, raw = (tmp_path / f"{n}.csv" for n in ("a", "b", "excel", "raw"))
    for target in (first, second):
        assert main(["density", *inputs(files), "-o", str(target), "-q"]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(["density", *inputs(files), "-o", str(excel), "--excel", "-q"]) == 0
    assert excel.read_bytes().startswith(b"\xef\xbb\xbf")
    assert excel.read_bytes()[3:] == first.read_bytes()
    assert not first.read_bytes().startswith(b"\xef\xbb\xbf")
    assert main(["density", *inputs(files), "-o", str(raw), "--raw", "-q"]) == 0
    assert '"=HYPERLINK' in raw.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in first.read_text(encoding="utf-8")


def test_join_writes_assignment_and_ledgers(files, tmp_path):
    out, unmatched, summary = tmp_path / "a.parquet", tmp_path / "u.csv", tmp_path / "s.csv"
    code = main(
        [
            "join",
            *inputs(files),
            "-o",
            str(out),
            "--unmatched",
            str(unmatched),
            "--summary",
            str(summary),
        ]
    )
    assert code == 0
    assigned = pd.read_parquet(out)
    assert len(assigned) == 10
    assert {"park_id", "match", "distance_m", "nearest_park_id", "candidates"} <= set(
        assigned.columns
    )
    assert assigned["park_id"].isna().sum() == 2
    ledger = pd.read_csv(unmatched)
    assert len(ledger) == 2 and (ledger["nearest_park_id"] == "P2").all()
    assert (ledger["distance_m"] > 50_000).all()
    counts = pd.read_csv(summary).set_index("match")
    assert counts["n"].sum() == 10 and counts.loc["inside", "n"] == 8
    assert counts["2013"].sum() == 5


@pytest.mark.parametrize("suffix", ["csv", "gpkg"])
def test_join_other_formats(files, tmp_path, suffix):
    out = tmp_path / f"a.{suffix}"
    assert main(["join", *inputs(files), "-o", str(out), "--near-m", "100", "-q"]) == 0
    table = gpd.read_file(out) if suffix == "gpkg" else pd.read_csv(out)
    assert len(table) == 10
    assert sorted(table["match"].unique()) == ["inside", "unmatched"]


def test_usage_errors_exit_2(files, capsys):
    assert main(["density", *inputs(files), "--overlap", "largest"]) == 2
    assert main(["join", *inputs(files)]) == 2  # -o is required
    assert main(["density", "--enterprises", str(files["firms"])]) == 2
    assert main(["density", *inputs(files), "--format", "gpkg"]) == 2  # gpkg needs -o
    assert "usage:" in capsys.readouterr().err


def test_strict_data_error_exit_3_one_line(files, tmp_path):
    result = run_cli("density", *inputs(files, "bad"), "--strict")
    assert result.returncode == 3
    # One message (the validator lists the first bad rows under it), no traceback.
    assert result.stderr.startswith("parkgeo density: error:")
    assert "source row 3" in result.stderr and "lon" in result.stderr
    assert "Traceback" not in result.stderr
    # Without --strict the row goes to the reject ledger and the run succeeds.
    rejects = tmp_path / "rejects.csv"
    result = run_cli("density", *inputs(files, "bad"), "--rejects", str(rejects), "-q")
    assert result.returncode == 0, result.stderr
    ledger = pd.read_csv(rejects)
    assert len(ledger) == 1 and ledger["column"].iloc[0] == "lon"
    table = pd.read_csv(io.StringIO(result.stdout)).set_index(["park_id", "year"])
    assert table.loc[("ALL", 2013), "n_enterprises"] == 4  # the rejected row is 2013's
    assert table.loc[("ALL", 2015), "n_enterprises"] == 5


def test_errors_are_one_line_and_debug_shows_the_traceback(files, tmp_path):
    targets = tmp_path / "bad.toml"
    targets.write_text("[targets]\nprofits = 1\n", encoding="utf-8")
    result = run_cli("density", *inputs(files), "--targets", str(targets))
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "profits" in result.stderr
    result = run_cli("density", *inputs(files), "--targets", str(targets), "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr
    result = run_cli("density", *inputs(files), "--year", "2020")
    assert result.returncode == 3 and "2020" in result.stderr
    assert "Traceback" not in result.stderr


def test_density_does_not_import_heavy_modules(files):
    code = (
        "import sys; from parkgeo.cli import main; "
        f"rc = main(['density', '--parks', {str(files['parks'])!r}, '--enterprises', "
        f"{str(files['firms'])!r}, '-q']); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sklearn', 'folium', 'dask', 'matplotlib', 'branca')); "
        "print('HEAVY', heavy, rc, file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "HEAVY [] 0" in result.stderr, result.stderr


def test_demo_writes_the_density_table(tmp_path, capsys):
    outdir = tmp_path / "maps"
    assert main(["demo", "--outdir", str(outdir), "--year", "2015"]) == 0
    out = capsys.readouterr().out
    density = pd.read_csv(outdir / "tianjin_density.csv").set_index(["park_id", "year"])
    city = density.loc[("ALL", 2015)]
    assert city["profit_change"] == pytest.approx(0.45, abs=5e-4)
    assert "+45.0%" in out and "-2.88%" in out and "+20.6%" in out
    assert "Energy per unit of value added (all enterprises, ALL)" in out
    assert "33 parks" in out
    assert str(outdir / "tianjin_density.csv") in out
    assert "Tax per hectare in 2015" in out


def test_overlap_rules_on_the_command_line(files, tmp_path, capsys):
    parks = gpd.GeoDataFrame(
        {"park_id": ["BIG", "SMALL"], "name": ["Big", "Small"], "rank": [1, 2]},
        geometry=[box(117.0, 39.0, 117.05, 39.05), box(117.004, 39.004, 117.008, 39.008)],
        crs="EPSG:4326",
    )
    parks.to_file(tmp_path / "overlap.geojson")
    base = ["--parks", str(tmp_path / "overlap.geojson"), "--enterprises", str(files["firms"])]
    out = tmp_path / "a.csv"
    assert main(["join", *base, "-o", str(out), "-q"]) == 0
    smallest = pd.read_csv(out)
    # Firm 0 inside both; firm 1 on SMALL's south edge, inside BIG: both years each.
    assert (smallest["match"] == "ambiguous").sum() == 4
    assert set(smallest.loc[smallest["match"] == "ambiguous", "park_id"]) == {"SMALL"}
    assert set(smallest["candidates"].dropna()) == {"SMALL;BIG"}
    # The parks' own header for the priority is mapped like any other column.
    mapping = tmp_path / "columns.toml"
    mapping.write_text('[parks]\npriority = "rank"\n', encoding="utf-8")
    args = ["join", *base, "-o", str(out), "--overlap", "priority", "--columns", str(mapping)]
    assert main([*args, "-q"]) == 0
    by_rank = pd.read_csv(out)
    assert set(by_rank.loc[by_rank["match"] == "ambiguous", "park_id"]) == {"BIG"}
    capsys.readouterr()
    assert main(["join", *base, "-o", str(tmp_path / "b.csv"), "--overlap", "error"]) == 3
    err = capsys.readouterr().err
    assert "overlapping parks" in err and "BIG and SMALL" in err
    assert not (tmp_path / "b.csv").exists()
