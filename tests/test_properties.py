"""Properties of the join and the density figures, checked on generated parks and enterprises.

* conservation: every row read is kept or ledgered, and every kept row is joined to one park
  or unmatched, per year (rows in = joined + unmatched + rejected);
* invariance: shuffling the rows, or giving the same layers in another CRS (EPSG:3857,
  EPSG:32650, EPSG:4490), changes no figure beyond floating-point tolerance;
* monotonicity: one more firm inside a park raises that park's tax by exactly its tax and
  changes no other park;
* determinism: the same inputs give byte-identical CSV, GeoParquet and HTML.

The profiles are registered in ``tests/conftest.py``: ``ci`` (default, 60 examples per
property) and ``thorough`` (10,000)::

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties.py -q
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from parkgeo._validate import validate_enterprises
from parkgeo.io import format_csv, write_table
from parkgeo.join import assign_parks
from parkgeo.metrics import ALL, ALL_PARKS, park_metrics

YEARS = (2013, 2014, 2015)
# Parks sit in the cells of a 4 x 4 grid of 0.1-degree cells over Tianjin; each park is its
# cell shrunk by a margin of 0.1, 0.2 or 0.3 of a cell on each side. Enterprises sit at cell
# fractions 0.05, 0.15, ..., 0.95: never within 500 m of a park edge, so reprojection noise
# (nanodegrees) cannot move one across an edge.
X0, Y0, CELL = 117.0, 39.0, 0.1
FRACTIONS = tuple(0.05 + 0.1 * k for k in range(10))
MARGINS = (0.1, 0.2, 0.3)
FIGURES = (
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
    "profit_change",
    "tax_per_ha_change",
)


@dataclass(frozen=True)
class Layers:
    parks: gpd.GeoDataFrame
    firms: pd.DataFrame  # canonical enterprise table (clean)


@st.composite
def park_layers(draw: st.DrawFn, *, overlapping: bool = False) -> gpd.GeoDataFrame:
    cells = draw(st.lists(st.integers(0, 15), min_size=1, max_size=5, unique=True))
    geoms, ids = [], []
    for k, cell in enumerate(cells):
        cx, cy = X0 + CELL * (cell % 4), Y0 + CELL * (cell // 4)
        left, bottom, right, top = (draw(st.sampled_from(MARGINS)) for _ in range(4))
        geoms.append(
            box(
                cx + left * CELL, cy + bottom * CELL, cx + (1 - right) * CELL, cy + (1 - top) * CELL
            )
        )
        ids.append(f"P{k:02d}")
    if overlapping and draw(st.booleans()):
        # a park covering the first one's whole cell: every firm there is ambiguous
        cell = cells[0]
        cx, cy = X0 + CELL * (cell % 4), Y0 + CELL * (cell // 4)
        geoms.append(box(cx, cy, cx + CELL, cy + CELL))
        ids.append("BIG")
    return gpd.GeoDataFrame({"park_id": ids, "name": ids}, geometry=geoms, crs="EPSG:4326")


measure = st.one_of(st.none(), st.floats(0, 1e4, allow_nan=False), st.integers(0, 5000).map(float))


@st.composite
def firm_rows(draw: st.DrawFn, min_size: int = 0, max_size: int = 40) -> pd.DataFrame:
    n = draw(st.integers(min_size, max_size))
    rows = []
    for i in range(n):
        cell = draw(st.integers(0, 15))
        fx, fy = draw(st.sampled_from(FRACTIONS)), draw(st.sampled_from(FRACTIONS))
        rows.append(
            {
                "enterprise_id": f"E{i:03d}",
                "name": f"企业{i}",
                "industry": draw(st.sampled_from(["C2710", "C3612", "C1311", "I6511", None])),
                "lon": X0 + CELL * (cell % 4 + fx),
                "lat": Y0 + CELL * (cell // 4 + fy),
                "year": draw(st.sampled_from(YEARS)),
                "tax": draw(measure),
                "profit": draw(st.one_of(st.none(), st.floats(-1e3, 1e4, allow_nan=False))),
                "value_added": draw(measure),
                "energy_tce": draw(measure),
                "employees": draw(st.one_of(st.none(), st.integers(0, 900).map(float))),
            }
        )
    frame = pd.DataFrame(rows, columns=list(_COLUMNS))
    for col in _COLUMNS[6:]:
        frame[col] = frame[col].astype("float64")
    frame["year"] = frame["year"].astype("int64")
    frame.index.name = "source_row"
    return frame


_COLUMNS = (
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
)

# Messy cells, each with whether validation keeps it.
MESSY_LON = [
    ("117.25", True),
    ("１１７．２５", True),
    ("117°15'E", True),
    ("", False),
    ("NaN", False),
    ("0", False),
    ("abc", False),
    ("inf", False),
    ("39.1", False),
]
MESSY_YEAR = [
    ("2015", True),
    ("2015年", True),
    ("2015.0", True),
    ("", False),
    ("1850", False),
    ("二〇一五", False),
    ("2015.5", False),
]
MESSY_TAX = [
    ("12", True),
    ("1,234.5", True),
    ("12万元", True),
    ("-", True),
    ("", True),
    ("abc", False),
    ("1e999", False),
]
MESSY_ENERGY = [("5", True), ("5吨标准煤", True), ("-5", False), ("", True)]


@st.composite
def messy_raw(draw: st.DrawFn) -> tuple[pd.DataFrame, list[int | None]]:
    """Raw text rows as a user's file holds them, and the year each row really has (None when
    the year cell is unusable)."""
    clean = draw(firm_rows(max_size=25))
    n_messy = draw(st.integers(0, 15))
    raw = clean.astype(object).astype(str)
    raw = raw.replace({"nan": "", "None": ""})
    years: list[int | None] = clean["year"].tolist()
    extra = []
    for i in range(n_messy):
        lon, _ = draw(st.sampled_from(MESSY_LON))
        year, year_ok = draw(st.sampled_from(MESSY_YEAR))
        tax, _ = draw(st.sampled_from(MESSY_TAX))
        energy, _ = draw(st.sampled_from(MESSY_ENERGY))
        eid = draw(st.sampled_from([f"M{i:03d}", "", "E000"]))  # missing and duplicate ids
        extra.append(
            {
                "enterprise_id": eid,
                "name": "x",
                "industry": draw(st.sampled_from(["C27", "Z99", ""])),
                "lon": lon,
                "lat": "39.15",
                "year": year,
                "tax": tax,
                "profit": "",
                "value_added": "",
                "energy_tce": energy,
                "employees": "",
            }
        )
        years.append(2015 if year_ok else None)
    frame = pd.concat([raw, pd.DataFrame(extra, columns=list(_COLUMNS))], ignore_index=True)
    order = draw(st.permutations(range(len(frame))))
    frame = frame.iloc[list(order)].reset_index(drop=True).astype("str")
    return frame, [years[k] for k in order]


# --------------------------------------------------------------------------------------------
# conservation
# --------------------------------------------------------------------------------------------


@given(parks=park_layers(overlapping=True), messy=messy_raw(), near=st.sampled_from([None, 600.0]))
def test_conservation_rows_in_equal_joined_plus_unmatched_plus_rejected(parks, messy, near):
    raw, true_years = messy
    kept, ledger = validate_enterprises(raw, source="generated")
    assert len(raw) == len(kept) + len(ledger)
    assert not set(kept.index) & set(ledger["source_row"])
    result = assign_parks(kept, parks, near_m=near)
    assigned, summary = result.assigned, result.summary
    assert len(assigned) == len(kept) and assigned.index.equals(kept.index)
    assert summary["n"].sum() == len(kept)
    joined = assigned["park_id"].notna()
    assert (joined == (assigned["match"] != "unmatched")).all()
    rejected_rows = set(ledger["source_row"])
    for year in YEARS:
        rows_in = sum(1 for y in true_years if y == year)
        per_year = int(summary[str(year)].sum()) if str(year) in summary else 0
        in_year = assigned["year"] == year
        rejected = sum(1 for row, y in enumerate(true_years) if y == year and row in rejected_rows)
        assert per_year == int(in_year.sum())
        assert rows_in == int((joined & in_year).sum()) + int((~joined & in_year).sum()) + rejected
    # the density table counts every kept row once in ALL, and the joined ones in ALL_PARKS
    if len(kept):
        table = park_metrics(assigned, parks).set_index(["park_id", "year"])
        for year in sorted(assigned["year"].unique()):
            in_year = assigned["year"] == year
            assert table.loc[(ALL, year), "n_enterprises"] == in_year.sum()
            assert table.loc[(ALL_PARKS, year), "n_enterprises"] == (joined & in_year).sum()
            per_park = table.drop(index=[ALL, ALL_PARKS], level=0).xs(year, level="year")
            assert per_park["n_enterprises"].sum() == (joined & in_year).sum()


# --------------------------------------------------------------------------------------------
# invariance
# --------------------------------------------------------------------------------------------


def _figures(parks: gpd.GeoDataFrame, firms: pd.DataFrame) -> pd.DataFrame:
    assigned = assign_parks(firms, parks).assigned
    table = park_metrics(assigned, parks, baseline_year=2013)
    return table.set_index(["park_id", "year"]).sort_index()[list(FIGURES)]


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.index.equals(b.index)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9)


@given(
    parks=park_layers(overlapping=True), firms=firm_rows(min_size=1), seed=st.integers(0, 2**32 - 1)
)
def test_shuffling_rows_changes_no_figure(parks, firms, seed):
    rng = np.random.default_rng(seed)
    expected = _figures(parks, firms)
    shuffled_firms = firms.iloc[rng.permutation(len(firms))]
    shuffled_parks = parks.iloc[rng.permutation(len(parks))]
    _assert_same(expected, _figures(shuffled_parks, shuffled_firms))


@given(
    parks=park_layers(),
    firms=firm_rows(min_size=1),
    crs=st.sampled_from(["EPSG:3857", "EPSG:32650", "EPSG:4490"]),
    points_too=st.booleans(),
)
def test_another_crs_changes_no_figure(parks, firms, crs, points_too):
    expected = _figures(parks, firms)
    other_parks = parks.to_crs(crs)
    other_firms: pd.DataFrame = firms
    if points_too:
        other_firms = gpd.GeoDataFrame(
            firms.drop(columns=["lon", "lat"]),
            geometry=gpd.points_from_xy(firms["lon"], firms["lat"]),
            crs="EPSG:4326",
        ).to_crs(crs)
    got = _figures(other_parks, other_firms)
    _assert_same(expected, got)


# --------------------------------------------------------------------------------------------
# monotonicity
# --------------------------------------------------------------------------------------------


@given(
    parks=park_layers(),
    firms=firm_rows(min_size=1),
    which=st.integers(0, 10),
    tax=st.floats(0.01, 1e5, allow_nan=False),
)
def test_one_more_firm_raises_its_park_tax_by_its_tax_only(parks, firms, which, tax):
    park = parks.iloc[which % len(parks)]
    year = int(firms["year"].iloc[0])
    x, y = park.geometry.centroid.x, park.geometry.centroid.y
    new = pd.DataFrame(
        [
            {
                "enterprise_id": "NEW",
                "name": "新",
                "industry": "C2710",
                "lon": x,
                "lat": y,
                "year": year,
                "tax": tax,
                "profit": np.nan,
                "value_added": np.nan,
                "energy_tce": np.nan,
                "employees": np.nan,
            }
        ],
        index=pd.Index([10_000], name="source_row"),
    )
    before = _figures(parks, firms)
    after = _figures(parks, pd.concat([firms, new]))
    pid = park["park_id"]
    for key in before.index:
        b, a = before.loc[key], after.loc[key]
        if key[1] == year and key[0] in (pid, ALL_PARKS, ALL):
            assert a["n_enterprises"] == b["n_enterprises"] + 1
            old = 0.0 if np.isnan(b["tax"]) else b["tax"]
            assert a["tax"] == pytest.approx(old + tax, rel=1e-12, abs=1e-9)
        else:
            pd.testing.assert_series_equal(
                a.drop([f for f in FIGURES if f.endswith("_change")]),
                b.drop([f for f in FIGURES if f.endswith("_change")]),
                check_exact=False,
                rtol=1e-12,
            )


# --------------------------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------------------------


def _outputs(parks: gpd.GeoDataFrame, firms: pd.DataFrame, out: Path) -> tuple[bytes, bytes]:
    assigned = assign_parks(firms, parks).assigned
    table = park_metrics(assigned, parks)
    csv = format_csv(table).encode()
    geometry = parks.set_index("park_id").geometry
    geo = gpd.GeoDataFrame(
        table, geometry=geometry.reindex(table["park_id"]).to_numpy(), crs=parks.crs
    )
    path = write_table(geo, out)
    return csv, path.read_bytes()


@given(parks=park_layers(overlapping=True), firms=firm_rows(min_size=1))
def test_same_inputs_give_identical_csv_and_geoparquet(parks, firms, tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    first = _outputs(parks, firms, root / "a.parquet")
    second = _outputs(parks.copy(), firms.copy(), root / "b.parquet")
    assert first[0] == second[0]
    assert first[1] == second[1]
    # and the CSV reads back to the same numbers
    back = pd.read_csv(io.BytesIO(first[0]))
    assert len(back) == len(parks) * firms["year"].nunique() + 2 * firms["year"].nunique()


@settings(max_examples=max(3, settings().max_examples // 20))
@given(parks=park_layers(), firms=firm_rows(min_size=1))
def test_same_inputs_give_identical_html(parks, firms, tmp_path_factory):
    from parkgeo.maps import density_map, save_map

    root = tmp_path_factory.mktemp("html")
    assigned = assign_parks(firms, parks).assigned
    table = park_metrics(assigned, parks)
    year = int(firms["year"].max())
    a = save_map(density_map(parks, table, year=year), root / "a.html").read_bytes()
    b = save_map(density_map(parks.copy(), table.copy(), year=year), root / "b.html").read_bytes()
    assert a == b


CHILD = """
import sys
import geopandas as gpd, numpy as np, pandas as pd
from shapely import box
from parkgeo.io import write_table
from parkgeo.join import assign_parks
from parkgeo.maps import density_map, save_map
from parkgeo.metrics import park_metrics

out = sys.argv[1]
rng = np.random.default_rng(5)
parks = gpd.GeoDataFrame(
    {"park_id": ["B", "A", "C"], "name": ["乙园", "甲园", "<b>丙</b>"]},
    geometry=[box(117.0, 39.0, 117.1, 39.1), box(117.2, 39.0, 117.3, 39.1),
              box(117.05, 39.05, 117.25, 39.2)],
    crs="EPSG:4326",
)
n = 400
firms = pd.DataFrame({
    "enterprise_id": [f"E{i % 200:03d}" for i in range(n)],
    "industry": rng.choice(["C2710", "C3612", "I6511"], n),
    "lon": rng.uniform(116.95, 117.35, n), "lat": rng.uniform(38.95, 39.25, n),
    "year": np.repeat([2013, 2015], n // 2),
    "tax": rng.gamma(2.0, 10.0, n), "energy_tce": rng.gamma(2.0, 5.0, n),
})
assigned = assign_parks(firms, parks).assigned
table = park_metrics(assigned, parks)
write_table(table, out + "/t.csv")
geometry = parks.set_index("park_id").geometry.reindex(table["park_id"]).to_numpy()
write_table(gpd.GeoDataFrame(table, geometry=geometry, crs=parks.crs), out + "/t.parquet")
write_table(assigned, out + "/assigned.parquet")
save_map(density_map(parks, table, year=2015), out + "/t.html")
"""


def test_outputs_are_byte_identical_across_processes(tmp_path):
    """Two fresh interpreters with different hash seeds write the same bytes."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        out.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        subprocess.run([sys.executable, "-c", CHILD, str(out)], check=True, env=env, cwd=root)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert sorted(outputs[0]) == ["assigned.parquet", "t.csv", "t.html", "t.parquet"]
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], name
