"""Issue 11, trust on real files: park geometry that crashed the process, far-away points,
outputs that could destroy files, match/distance agreement, GCJ-02 detection, the health
report and the error printer. Cases run through the library and the command line (in a
subprocess where a crash, not an exception, is the failure)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _bad_inputs import CASE_IDS, CASES

from parkgeo import assign_parks, read_parks

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
    [("join",), ("density", "--near-m", "500"), ("gaps",), ("map",)],
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
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and out.exists()


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
