"""Issue 11, trust on real files: park geometry that crashed the process, far-away points,
outputs that could destroy files, match/distance agreement, GCJ-02 detection, the health
report and the error printer. Cases run through the library and the command line (in a
subprocess where a crash, not an exception, is the failure)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _bad_inputs import CASE_IDS, CASES, GOOD_ROWS, HEADER, Inputs
from hypothesis import given, settings
from hypothesis import strategies as st

from parkgeo import assign_parks, read_parks
from parkgeo.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _case(kind: str):
    return CASES[CASE_IDS.index(kind)]


def _run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The command line in a real process: a segfault shows as a negative return code."""
    return subprocess.run(
        [sys.executable, "-m", "parkgeo", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        input=stdin,
    )


# --------------------------------------------------------------------------------------------
# 1. park geometry
# --------------------------------------------------------------------------------------------

GEOMETRY_KINDS = [
    "multipolygon_with_empty_part",
    "unclosed_three_point_ring",
    "park_crossing_antimeridian",
]


@pytest.mark.parametrize("kind", GEOMETRY_KINDS)
@pytest.mark.parametrize(
    "command",
    [
        ("join",),
        ("density", "--near-m", "500"),
        ("density", "--batch-rows", "2"),
        ("gaps",),
        ("map",),
        ("check",),
    ],
    ids=lambda c: c[0],
)
def test_repaired_parks_never_crash_any_command(
    kind: str, command: tuple[str, ...], tmp_path: Path
):
    inputs = _case(kind).write(tmp_path)
    suffix = ".html" if command[0] == "map" else ".csv"
    out = tmp_path / f"out{suffix}"
    done = _run(
        *command,
        "-q",
        "--parks",
        str(inputs.parks),
        "--enterprises",
        str(inputs.enterprises),
        "-o",
        str(out),
    )
    # check exits 3: a repaired park needs the user's attention
    assert done.returncode == (3 if command[0] == "check" else 0), (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert out.exists() or command[0] == "check"


def test_join_of_hand_built_parks_with_an_empty_part(caplog: pytest.LogCaptureFixture):
    """assign_parks sanitises too: parks that never went through read_parks."""
    broken = shapely.from_wkt(
        "MULTIPOLYGON (((117 39, 117.1 39, 117.1 39.1, 117 39.1, 117 39)), EMPTY)"
    )
    parks = gpd.GeoDataFrame({"park_id": ["P1"]}, geometry=[broken], crs="EPSG:4326")
    firms = pd.DataFrame({"lon": [117.05, 117.3], "lat": [39.05, 39.05]})
    with caplog.at_level("WARNING", logger="parkgeo"):
        res = assign_parks(firms, parks)
    assert res.assigned["match"].tolist() == ["inside", "unmatched"]
    assert res.assigned["distance_m"].iloc[1] == pytest.approx(17298.0, rel=1e-3)
    assert "empty part" in caplog.text
    # the caller's parks are not mutated
    assert len(parks.geometry.iloc[0].geoms) == 2


def test_firm_at_longitude_10_is_not_in_an_antimeridian_park(tmp_path: Path):
    inputs = _case("park_crossing_antimeridian").write(tmp_path)
    parks = read_parks(inputs.parks)
    firms = pd.DataFrame({"lon": [10.0, 179.95, -179.95, 117.05], "lat": [10.5, 10.5, 10.5, 39.05]})
    res = assign_parks(firms, parks)
    assert res.assigned["park_id"].astype(object).tolist()[1:] == ["BAD", "BAD", "P1"]
    assert res.assigned["match"].iloc[0] == "unmatched"
    # the split park keeps its area: 0.2 degrees by 1 degree at 10.5 N
    area = parks.set_index("park_id").geometry.loc["BAD"]
    assert area.geom_type == "MultiPolygon" and area.area == pytest.approx(0.2)


# --------------------------------------------------------------------------------------------
# 2. an enterprise on the far side of the globe
# --------------------------------------------------------------------------------------------

FAR_ROWS = (
    "F1,远,C2710,27.0,0.0,2015,1,1\n"  # 90 degrees from the Gauss-Kruger zone's meridian: inf
    "F2,远,C2710,-153.0,0.0,2015,1,1\n"
    "F3,远,C2710,-63.0,-39.0,2015,1,1\n"  # the antipode of the parks
)


def _far_inputs(root: Path) -> Inputs:
    from _bad_inputs import good_parks

    path = root / "firms.csv"
    path.write_text(HEADER + GOOD_ROWS + FAR_ROWS, encoding="utf-8")
    return Inputs(good_parks(root), path)


def test_far_away_enterprises_are_unmatched_with_their_distance(tmp_path: Path):
    from parkgeo import read_enterprises

    inputs = _far_inputs(tmp_path)
    loaded = read_enterprises(inputs.enterprises)
    res = assign_parks(loaded.data, read_parks(inputs.parks))
    out = res.assigned.set_index("enterprise_id")
    assert out.loc[["E1", "E2", "E3"], "park_id"].astype(object).tolist() == ["P1", "P1", "P2"]
    far = out.loc[["F1", "F2", "F3"]]
    assert (far["match"] == "unmatched").all()
    assert np.isfinite(far["distance_m"]).all()
    # the antipode is about half the meridian (20,004 km) from the parks
    assert 19_900_000 < far.loc["F3", "distance_m"] < 20_010_000
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    # F1 is due south-west: its nearest park point is P1's south-west corner
    assert far.loc["F1", "distance_m"] == pytest.approx(
        geod.inv(27.0, 0.0, 117.0, 39.0)[2], rel=1e-3
    )


@pytest.mark.parametrize(
    "command",
    [
        "join",
        "gaps",
        "map",
        "density",
        "density --batch-rows 2",
        "density --near-m 100",
        "clusters",
    ],
)
def test_far_away_enterprise_never_costs_the_run(command: str, tmp_path: Path, capsys):
    inputs = _far_inputs(tmp_path)
    command, *extra = command.split()
    out = tmp_path / ("out.html" if command == "map" else "out.csv")
    code = main(
        [
            command,
            *extra,
            "-q",
            "--parks",
            str(inputs.parks),
            "--enterprises",
            str(inputs.enterprises),
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert out.exists()
    if command == "join":
        table = pd.read_csv(out)
        assert len(table) == 6 and table["distance_m"].notna().all()


def test_local_metric_crs_is_not_moved_by_one_far_point():
    from parkgeo import local_metric_crs

    rng = np.random.default_rng(1)
    lon = np.r_[rng.uniform(116.8, 117.9, 500), -63.0]
    lat = np.r_[rng.uniform(38.6, 40.2, 500), -39.0]
    assert local_metric_crs(lon, lat).to_epsg() == 4548  # CGCS2000 / GK CM 117E, Tianjin's


# --------------------------------------------------------------------------------------------
# 3. one edge model: unmatched implies distance_m > boundary_tol_m
# --------------------------------------------------------------------------------------------


def _true_distance(lon: float, lat: float, ring: np.ndarray) -> float:
    """Geodesic distance from a point to a ring whose edges are straight in lon/lat, by
    minimising along each edge (independent of parkgeo's search)."""
    import pyproj
    from scipy.optimize import minimize_scalar

    geod = pyproj.Geod(ellps="WGS84")
    best = np.inf
    for a, b in zip(ring[:-1], ring[1:], strict=True):

        def f(t: float, a=a, b=b) -> float:
            x, y = a + t * (b - a)
            return float(geod.inv(lon, lat, x, y)[2])

        rough = minimize_scalar(f, bounds=(0.0, 1.0), method="bounded").x
        # again around the first answer: the bounded method's tolerance is relative to t, and
        # a 50 km edge needs t to 1e-12 for a micrometre
        lo, hi = max(-1e-5, -rough), min(1e-5, 1.0 - rough)
        fine = minimize_scalar(
            lambda u, r=rough, f=f: f(r + u),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-16},
        )
        best = min(best, fine.fun, f(0.0), f(1.0))
    return best


@settings(max_examples=40, deadline=None)
@given(
    corners=st.lists(
        st.tuples(st.floats(-0.6, 0.6), st.floats(-0.6, 0.6)), min_size=3, max_size=5, unique=True
    ),
    edge=st.integers(0, 4),
    t=st.floats(0.02, 0.98),
    offsets=st.lists(st.floats(-4.0, 4.0), min_size=1, max_size=6),
    tol=st.sampled_from([0.001, 0.01, 0.1, 1.0]),
    base_lat=st.floats(-60.0, 60.0),
)
def test_unmatched_implies_farther_than_the_boundary_tolerance(
    corners, edge, t, offsets, tol, base_lat
):
    from parkgeo._edges import metres_per_degree

    shell = shapely.Polygon([(117.0 + x, base_lat + y) for x, y in corners])
    if not shell.is_valid or shell.area < 1e-4:
        shell = shapely.convex_hull(shell)
    if shell.geom_type != "Polygon" or shell.area < 1e-4:
        return
    ring = np.asarray(shell.exterior.coords)
    a, b = ring[edge % (len(ring) - 1)], ring[edge % (len(ring) - 1) + 1]
    foot = a + t * (b - a)
    mx, my = (float(v) for v in metres_per_degree(foot[1]))
    direction = np.array([(b - a)[0] * mx, (b - a)[1] * my])
    normal = np.array([-direction[1], direction[0]]) / np.hypot(*direction)
    # points at multiples of the tolerance on both sides of a long lon/lat-straight edge
    pts = [foot + o * tol * normal / (mx, my) for o in offsets]
    firms = pd.DataFrame({"lon": [p[0] for p in pts], "lat": [p[1] for p in pts]})
    parks = gpd.GeoDataFrame({"park_id": ["P"]}, geometry=[shell], crs="EPSG:4326")
    res = assign_parks(firms, parks, boundary_tol_m=tol).assigned
    for (lon, lat), match, dist in zip(pts, res["match"], res["distance_m"], strict=True):
        true = _true_distance(lon, lat, ring)
        inside = shell.contains(shapely.Point(lon, lat))
        if match == "unmatched":
            assert dist > tol, (dist, tol)
            assert not inside
            assert dist == pytest.approx(true, rel=1e-9, abs=1e-6)
        elif match == "boundary":
            assert true <= tol * (1 + 1e-9) + 1e-9, (true, tol)
        else:
            assert match == "inside" and inside and true > tol * (1 - 1e-9) - 1e-9, (true, tol)


# --------------------------------------------------------------------------------------------
# 5. outputs: never destroy an input or another output; special files; real Excel
# --------------------------------------------------------------------------------------------


def _good(root: Path) -> Inputs:
    from _bad_inputs import good_enterprises, good_parks

    return Inputs(good_parks(root), good_enterprises(root))


def _args(inputs: Inputs, command: str = "density") -> list[str]:
    args = [command, "-q", "--parks", str(inputs.parks), "--enterprises", str(inputs.enterprises)]
    # the fixture holds one year only: name it as the baseline, or density warns (rightly) on -q
    return [*args, "--baseline-year", "2015"] if command == "density" else args


@pytest.mark.parametrize(
    ("command", "outputs", "words"),
    [
        ("density", ("-o", "{enterprises}"), ("is the input --enterprises",)),
        ("join", ("-o", "{parks}"), ("is the input --parks",)),
        ("density", ("-o", "{link}"), ("is the input --enterprises",)),  # a symlink to it
        ("density", ("-o", "{hardlink}"), ("is the input --enterprises",)),
        ("density", ("-o", "{d}/out.csv", "--rejects", "{d}/./out.csv"), ("same file",)),
        ("join", ("-o", "{d}/j.csv", "--unmatched", "{d}/j.csv"), ("same file",)),
        (
            "join",
            ("-o", "{d}/j.csv", "--rejects", "{d}/r.csv", "--summary", "{d}/r.csv"),
            ("same",),
        ),
        ("map", ("-o", "{d}/out.png"), ("HTML page", "out.html")),
        ("density", ("-o", "{d}/out.png"), ("not a PNG image", ".xlsx")),
        ("density", ("-o", "{d}/out.html"), ("not an HTML page",)),
        ("density", ("-o", "{d}"), ("is a directory",)),
    ],
)
def test_outputs_that_would_destroy_something_are_refused_before_work(
    command, outputs, words, tmp_path: Path, capsys
):
    import os

    inputs = _good(tmp_path)
    before = inputs.enterprises.read_bytes(), inputs.parks.read_bytes()
    (tmp_path / "link.csv").symlink_to(inputs.enterprises)
    os.link(inputs.enterprises, tmp_path / "hard.csv")
    names = {
        "enterprises": inputs.enterprises,
        "parks": inputs.parks,
        "link": tmp_path / "link.csv",
        "hardlink": tmp_path / "hard.csv",
        "d": tmp_path,
    }
    argv = [o.format(**names) for o in outputs]
    code = main([*_args(inputs, command), *argv])
    err = capsys.readouterr().err
    assert code == 3, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"parkgeo {command}: error: "), err
    for word in words:
        assert word in lines[0]
    assert (inputs.enterprises.read_bytes(), inputs.parks.read_bytes()) == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "j.csv").exists()


def test_output_symlink_is_followed_and_kept(tmp_path: Path):
    inputs = _good(tmp_path)
    real = tmp_path / "real.csv"
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert main([*_args(inputs), "-o", str(link)]) == 0
    assert link.is_symlink() and real.is_file()
    assert pd.read_csv(link)["park_id"].tolist()[:2] == ["P1", "P2"]


def test_fifo_output_is_streamed_not_replaced(tmp_path: Path):
    import os
    import threading

    inputs = _good(tmp_path)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert main([*_args(inputs), "-o", str(fifo), "--format", "csv"]) == 0
    reader.join(timeout=60)
    assert fifo.is_fifo()  # still a FIFO, not a regular file
    assert got and got[0].startswith(b"park_id,")


def test_stdout_and_devices_in_a_real_process(tmp_path: Path):
    inputs = _good(tmp_path)
    done = _run(*_args(inputs), "-o", "/dev/stdout")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("park_id,")
    done = _run(*_args(inputs), "-o", "/dev/null")
    assert done.returncode == 0 and done.stderr == ""
    full = _run(*_args(inputs), "-o", "/dev/full")
    assert full.returncode == 3
    assert full.stderr.strip().splitlines() == [
        "parkgeo density: error: disk full: cannot write /dev/full (no space left on the "
        "device); free space or write elsewhere"
    ]
    full = _run(*_args(inputs, "join"), "-o", "/dev/full")
    assert full.returncode == 3 and "disk full" in full.stderr


def test_xlsx_output_is_a_real_workbook(tmp_path: Path):
    import openpyxl
    from _bad_inputs import good_parks

    code = "91120116MA05K8XX3L"
    digits = "911201160000000001"
    firms = tmp_path / "firms.csv"
    firms.write_text(
        HEADER + f"{code},=HYPERLINK(1),C2710,117.05,39.05,2015,10.5,5\n"
        f"{digits},乙公司,C3612,117.06,39.04,2015,20,6\n",
        encoding="utf-8",
    )
    inputs = Inputs(good_parks(tmp_path), firms)
    out = tmp_path / "joined.xlsx"
    assert main([*_args(inputs, "join"), "-o", str(out)]) == 0
    assert out.read_bytes()[:2] == b"PK"  # a zip, not CSV text
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    rows = {
        r[header.index("enterprise_id")]: r for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert set(rows) == {code, digits}  # 18 characters, every digit kept, as text
    assert rows[code][header.index("name")] == "=HYPERLINK(1)"  # text, not a formula
    assert rows[code][header.index("tax")] == 10.5  # a number
    assert isinstance(rows[digits][header.index("year")], int)
    # same table, same bytes
    again = tmp_path / "again.xlsx"
    assert main([*_args(inputs, "join"), "-o", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()
    # Chinese headers
    zh = tmp_path / "density.xlsx"
    assert main([*_args(inputs), "-o", str(zh), "--zh-headers"]) == 0
    first = [c.value for c in openpyxl.load_workbook(zh).active[1]]
    assert first[:2] == ["园区代码", "名称"] and "地均税收(万元/公顷)" in first


def test_xlsx_formula_text_is_stored_as_text(tmp_path: Path):
    import zipfile

    from parkgeo.io import write_table

    out = write_table(
        pd.DataFrame({"name": ["=1+1", "@SUM(A1)"], "x": [1.0, np.inf]}), tmp_path / "t.xlsx"
    )
    xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml  # no formula anywhere
    import openpyxl

    values = [[c.value for c in r] for r in openpyxl.load_workbook(out).active.iter_rows()]
    assert values == [["name", "x"], ["=1+1", 1], ["@SUM(A1)", None]]  # inf is no number


# --------------------------------------------------------------------------------------------
# 4. GCJ-02 / BD-09 read as WGS-84
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tianjin_files(tmp_path_factory) -> dict[str, Path]:
    """The bundled sample (2015) as WGS-84, GCJ-02 and BD-09 CSV files, and its parks."""
    import parkgeo
    from parkgeo.coords import wgs84_to_bd09, wgs84_to_gcj02

    root = tmp_path_factory.mktemp("tianjin")
    sample = parkgeo.load_tianjin()
    firms = sample.enterprises[sample.enterprises["year"] == 2015]
    files = {"parks": root / "parks.parquet"}
    sample.parks.to_parquet(files["parks"])
    for system, convert in (("wgs84", None), ("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        table = firms.copy()
        if convert is not None:
            table["lon"], table["lat"] = convert(firms["lon"].to_numpy(), firms["lat"].to_numpy())
        files[system] = root / f"firms_{system}.csv"
        table.to_csv(files[system], index=False)
    return files


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_gcj02_or_bd09_read_as_wgs84_is_detected(system, tianjin_files, tmp_path, caplog):
    import parkgeo._coordcheck
    from parkgeo import read_enterprises

    parkgeo._coordcheck._SAID.clear()  # said once per process and parks: say it here
    parks = read_parks(tianjin_files["parks"])
    shifted = read_enterprises(tianjin_files[system]).data
    with caplog.at_level("WARNING", logger="parkgeo"):
        res = assign_parks(shifted, parks)
    evidence = res.summary.attrs["coord_system"]
    assert evidence["likely"] == system and evidence["suggestion"] == f"--coord-system {system}"
    assert evidence["matched_if"][system] > 1.15 * evidence["matched"]
    assert f"--coord-system {system}" in caplog.text
    # the command line says it too, and in the match summary line
    out = tmp_path / "j.csv"
    argv = [
        "join",
        "--parks",
        str(tianjin_files["parks"]),
        "--enterprises",
        str(tianjin_files[system]),
    ]
    done = _run(*argv, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert f"rerun with --coord-system {system}" in done.stderr
    assert f"coordinates look like {system}: pass --coord-system {system}" in done.stderr
    # joined again against the same parks (batches of one file): said once per process
    with caplog.at_level("WARNING", logger="parkgeo"):
        caplog.clear()
        assign_parks(shifted, parks)
    assert "--coord-system" not in caplog.text
    # told the right system, nothing to say, and the match is back
    fixed = assign_parks(read_enterprises(tianjin_files[system], coord_system=system).data, parks)
    assert fixed.summary.attrs["coord_system"]["likely"] is None
    unmatched = fixed.summary.set_index("match").loc["unmatched", "n"]
    assert unmatched < res.summary.set_index("match").loc["unmatched", "n"]


def test_every_density_backend_reports_gcj02_as_join_does(tianjin_files, tmp_path):
    """The evidence is measured once per run on the same location sample (chosen by a hash of
    each location, not by row position), so every backend says the same words and numbers as
    ``parkgeo join``: once, and in the match summary line."""
    firms = tmp_path / "firms_gcj02.parquet"
    pd.read_csv(tianjin_files["gcj02"], dtype={"enterprise_id": str}).to_parquet(
        firms, row_group_size=3_000
    )
    common = ["--parks", str(tianjin_files["parks"]), "--enterprises", str(firms)]

    def said(*argv: str) -> tuple[list[str], list[str]]:
        done = _run(*argv, *common, "-o", str(tmp_path / "out.csv"))
        assert done.returncode == 0, done.stderr
        lines = done.stderr.splitlines()
        warning = [line for line in lines if "coordinate system:" in line]
        summary = [line for line in lines if "match summary" in line]
        return warning, summary

    join_warning, join_summary = said("join")
    assert len(join_warning) == 1 and "rerun with --coord-system gcj02" in join_warning[0]
    assert "coordinates look like gcj02: pass --coord-system gcj02" in join_summary[0]
    backends = {
        "memory": (),
        "batched": ("--batch-rows", "3000"),
        "jobs": ("--batch-rows", "3000", "--jobs", "2"),
        "dask": ("--workers", "2", "--partition-rows", "3000"),
    }
    for name, options in backends.items():
        warning, summary = said("density", *options)
        assert warning == join_warning, name
        assert summary == join_summary, name


def test_wgs84_data_raises_no_coordinate_alarm(tianjin_files, caplog):
    from parkgeo import read_enterprises

    with caplog.at_level("WARNING", logger="parkgeo"):
        res = assign_parks(
            read_enterprises(tianjin_files["wgs84"]).data, read_parks(tianjin_files["parks"])
        )
    assert res.summary.attrs["coord_system"]["likely"] is None
    assert "coordinate system" not in caplog.text


def test_parks_in_gcj02_are_detected_too(tianjin_files, caplog):
    from parkgeo import read_enterprises
    from parkgeo.coords import convert_geometry

    parks = read_parks(tianjin_files["parks"])
    gcj_parks = parks.copy()
    gcj_parks["geometry"] = convert_geometry(parks.geometry, "wgs84", "gcj02")
    res = assign_parks(read_enterprises(tianjin_files["wgs84"]).data, gcj_parks)
    assert res.summary.attrs["coord_system"]["suggestion"] == "--parks-coord-system gcj02"


# --------------------------------------------------------------------------------------------
# 7. parkgeo check: the data health report
# --------------------------------------------------------------------------------------------


def _hostile_firms(root: Path) -> Path:
    """60 firms in P1 for 2015 only, tax under an unrecognised header (应交税费), ids that
    differ only by a full-width letter or a zero-width space, and one energy figure in kg."""
    rng = np.random.default_rng(3)
    lines = ["enterprise_id,name,industry,lon,lat,year,应交税费,energy_tce"]
    for i in range(60):
        energy = round(float(rng.uniform(50, 500)), 1)
        lines.append(f"F{i:03d},甲,C2710,117.05,39.05,2015,{10 + i},{energy}")
    lines.append("E1,乙,C2710,117.06,39.04,2015,5,6")
    lines.append("Ｅ1,乙,C2710,117.06,39.04,2015,5,6")
    lines.append("E1\u200b,乙,C2710,117.06,39.04,2015,5,6")
    lines.append("KG,丙,C2710,117.07,39.04,2015,5,260000000")  # 2.6e8: kg, not tce
    path = root / "hostile.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_check_reports_what_needs_attention(tmp_path: Path, capsys, caplog):
    import json

    from parkgeo import health_report

    parks = _case("multipolygon_with_empty_part").write(tmp_path).parks
    firms = _hostile_firms(tmp_path)
    report = health_report(parks, firms, baseline_year=2013)
    e = report["enterprises"]
    assert e["rows_read"] == 64 == e["rows_kept"] + sum(e["ledger_by_reason"].values())
    assert "tax" in e["columns"]["missing_measures"]
    unused = {u["header"]: u["closest"] for u in e["columns"]["unused"]}
    assert unused == {"应交税费": "tax"}
    assert e["years"] == {
        "rows_per_year": {"2015": 62},
        "baseline": 2013,
        "baseline_present": False,
    }
    assert [r["problem"] for r in report["parks"]["repairs"]] == ["empty part"]
    dupes = report["suspicious"]["duplicate_looking_ids"]
    assert len(dupes) == 1 and len(dupes[0]["ids"]) == 3
    outliers = report["suspicious"]["measure_outliers"]
    assert [(o["column"], o["enterprise_id"]) for o in outliers] == [("energy_tce", "KG")]
    text = " | ".join(report["attention"])
    for word in ("应交税费", "baseline year 2013", "empty part", "invisible", "energy_tce", "KG"):
        assert word in text, (word, text)
    assert report["status"] == "needs attention"
    # the command: exit 3, the JSON report, the attention lines on standard error
    out = tmp_path / "health.json"
    with caplog.at_level("INFO", logger="parkgeo"):
        code = main(["check", "--parks", str(parks), "--enterprises", str(firms), "-o", str(out)])
    assert code == 3
    assert json.loads(out.read_text(encoding="utf-8"))["attention"] == report["attention"]
    assert caplog.text.count("needs attention:") == len(report["attention"])


def test_check_on_the_clean_sample_exits_0(tmp_path: Path, caplog):
    import parkgeo

    out = tmp_path / "health.json"
    with caplog.at_level("INFO", logger="parkgeo"):
        code = main(
            [
                "check",
                "--parks",
                str(parkgeo.sample_path("parks")),
                "--enterprises",
                str(parkgeo.sample_path("enterprises")),
                "-o",
                str(out),
            ]
        )
    assert code == 0, caplog.text
    assert "clean: nothing needs attention" in caplog.text
    import json

    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["status"] == "clean" and report["enterprises"]["rows_read"] == 48_000


def test_check_sees_gcj02(tianjin_files, caplog):
    argv = ["check", "--parks", str(tianjin_files["parks"])]
    with caplog.at_level("INFO", logger="parkgeo"):
        code = main(
            [*argv, "--enterprises", str(tianjin_files["gcj02"]), "--baseline-year", "2015"]
        )
    assert code == 3
    assert "look like gcj02" in caplog.text and "pass --coord-system gcj02" in caplog.text


# --------------------------------------------------------------------------------------------
# 6. overflow, odd options, and error lines of bounded length
# --------------------------------------------------------------------------------------------


def test_sums_that_overflow_are_missing_not_inf(tmp_path: Path, caplog):
    from _bad_inputs import good_parks

    firms = tmp_path / "firms.csv"
    firms.write_text(
        HEADER + "E1,a,C2710,117.05,39.05,2015,1e308,5\nE2,b,C2710,117.06,39.05,2015,1.5e308,5\n",
        encoding="utf-8",
    )
    out = tmp_path / "d.csv"
    argv = ["density", "-q", "--parks", str(good_parks(tmp_path)), "--enterprises", str(firms)]
    with caplog.at_level("WARNING", logger="parkgeo"):
        assert main([*argv, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "inf" not in text.lower()
    table = pd.read_csv(out).set_index(["park_id", "year"])
    assert np.isnan(table.loc[("P1", 2015), "tax"]) and table.loc[("P1", 2015), "energy_tce"] == 10
    assert "overflowed" in caplog.text and "tax" in caplog.text


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--encoding", "klingon"), ("unknown text encoding 'klingon'",)),
        (("--columns", "{d}"), ("is a directory",)),
        (("--columns", "{d}/missing.toml"), ("missing.toml",)),
    ],
)
def test_odd_options_are_one_line_exit_3(extra, words, tmp_path: Path, capsys):
    inputs = _good(tmp_path)
    argv = [e.format(d=tmp_path) for e in extra]
    code = main([*_args(inputs), *argv, "-o", str(tmp_path / "d.csv")])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 3 and len(lines) == 1, err
    for word in words:
        assert word in lines[0]


def test_an_error_line_is_a_few_hundred_characters_at_most(tmp_path: Path):
    from _bad_inputs import good_parks

    wide = tmp_path / "wide.csv"
    header = ",".join(f"column_number_{i}" for i in range(200_000))  # a 4 MB header line
    wide.write_text(header + "\n" + ",".join("1" * 200_000) + "\n", encoding="utf-8")
    done = _run("density", "--parks", str(good_parks(tmp_path)), "--enterprises", str(wide))
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 500, len(done.stderr)
    assert "required column(s)" in lines[0] and "characters cut" in lines[0]
    assert "--columns" in lines[0]  # the fix, at the end, survives the cut


def test_library_errors_are_bounded():
    from parkgeo import ParkgeoError, SchemaError

    frame = pd.DataFrame({"x": range(100_000)})
    err = SchemaError(f"bad table {frame.to_string()}; fix it with --columns")
    assert len(str(err)) <= 2_100 and str(err).endswith("fix it with --columns")
    assert isinstance(err, ParkgeoError) and isinstance(err, ValueError)
    assert str(ParkgeoError("short")) == "short"


def test_out_of_memory_is_one_line(monkeypatch, tmp_path: Path, capsys):
    import parkgeo._commands.density as density

    def boom(args):
        raise MemoryError()

    monkeypatch.setattr(density, "run", boom)
    inputs = _good(tmp_path)
    code = main([*_args(inputs), "-o", str(tmp_path / "d.csv")])
    err = capsys.readouterr().err
    assert code == 3 and err.strip().startswith("parkgeo density: error: out of memory")


def _wkb_polygon(points: list[tuple[float, float]]) -> bytes:
    import struct

    data = struct.pack("<BII", 1, 3, 1) + struct.pack("<I", len(points))
    return data + b"".join(struct.pack("<dd", x, y) for x, y in points)


def test_unclosed_ring_in_geoparquet_is_closed_too(tmp_path: Path, caplog):
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Polygon"]}}}  # fmt: skip
    wkb = _wkb_polygon([(117.0, 39.0), (117.1, 39.0), (117.1, 39.1)])  # no closing vertex
    table = pa.table({"park_id": ["P1"], "geometry": pa.array([wkb], pa.binary())})
    path = tmp_path / "parks.parquet"
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(meta).encode()}), path)
    with caplog.at_level("WARNING", logger="parkgeo"):
        parks = read_parks(path)
    assert parks.attrs["repairs"][0]["problem"] == "unclosed ring"
    assert shapely.get_num_coordinates(parks.geometry.iloc[0]) == 4
    assert parks.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("geometry", "code", "words"),
    [
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[117.4, 39.0], [117.5, 39.0], [117.5, 39.1], [117.4, 39.1], [117.4, 39.0]],
                    [],
                ],
            },
            0,
            (),
        ),  # fmt: skip
        (
            {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "coordinates": []},
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[117.4, 39.0], [117.5, 39.0], [117.5, 39.1], [117.4, 39.0]]
                        ],
                    },
                ],
            },
            0,
            (),
        ),  # fmt: skip
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[117.4, 39.0, 5.0], [117.5, 39.0, 5.0], [117.5, 39.1, 5.0], [117.4, 39.0, 5.0]]
                ],
            },
            0,
            (),
        ),  # fmt: skip
        (
            {"type": "Polygon", "coordinates": [[[117.4, 39.0], [117.5, 39.0]]]},
            3,
            ("BAD", "invalid"),
        ),  # fmt: skip
    ],
    ids=["empty_hole", "collection_with_empty_polygon", "z_values", "two_point_ring"],
)
def test_more_park_geometry_of_the_same_classes(geometry, code, words, tmp_path: Path, capsys):
    from _bad_inputs import parks_one

    inputs = parks_one(geometry)(tmp_path)
    out = tmp_path / "j.csv"
    done = _run("join", "-q", "--parks", str(inputs.parks), "--enterprises", str(inputs.enterprises), "-o", str(out))  # fmt: skip
    assert done.returncode == code, done.stderr
    if code:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and all(w in lines[0] for w in words), done.stderr
    else:
        joined = pd.read_csv(out)
        assert joined["park_id"].astype(str).tolist() == ["P1", "P1", "P2"]
        assert shapely.get_type_id(read_parks(inputs.parks).geometry).tolist()[-1] in (3, 6)


def test_every_command_logs_the_health_summary_first(tianjin_files, tmp_path, caplog):
    """One line of data health at INFO from what the command read (no second read): rows
    read/kept/ledgered, the columns it needs but could not find, years vs the baseline."""
    from _bad_inputs import good_parks

    firms = tmp_path / "firms.csv"
    firms.write_text(
        HEADER.replace("tax", "应交税费") + GOOD_ROWS + "E9,坏,C2710,abc,39.05,2015,1,1\n",
        encoding="utf-8",
    )
    parks = good_parks(tmp_path)
    expected = (
        "data health: 4 rows read, 3 kept, 1 ledgered (non_numeric_coordinate 1); needed but not "
        "found: tax{more} (map it with --columns); years 2015 (3 rows){baseline}; details: parkgeo "
        "check"
    )
    runs: dict[str, tuple[str, ...]] = {
        "join": (),
        "density": (),
        "density --batch-rows 2": ("--batch-rows", "2"),
        "clusters": (),
    }
    lines: dict[str, str] = {}
    for name, extra in runs.items():
        command = name.split()[0]
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="parkgeo"):
            argv = [command, "--parks", str(parks), "--enterprises", str(firms), *extra]
            main([*argv, "-o", str(tmp_path / f"{command}.csv")])
        said = [r.getMessage() for r in caplog.records if "data health" in r.getMessage()]
        assert len(said) == 1, (name, said)
        lines[name] = said[0]
    assert lines["join"] == expected.format(more="", baseline="").replace(
        "needed but not found: tax (map it with --columns); ", ""
    )
    density = expected.format(
        more=", value_added, profit, employees", baseline=", baseline 2013 NOT present"
    )
    assert lines["density"] == lines["density --batch-rows 2"] == density
    assert "needed but not found" not in lines["clusters"]  # it needs the industry: found
