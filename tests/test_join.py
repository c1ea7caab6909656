"""Tests of parkgeo.join.assign_parks on hand-built parks where every answer is known."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Polygon, box

from parkgeo._errors import CRSError, GeometryError, ParkgeoError, SchemaError
from parkgeo.join import MATCH_KINDS, JoinResult, assign_parks

GEOD = pyproj.Geod(ellps="WGS84")
ADDED = ["park_id", "match", "distance_m", "nearest_park_id", "candidates"]


def parks_of(geoms: dict[str, object], crs: str = "EPSG:4326", **columns: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": list(geoms), **columns}, geometry=list(geoms.values()), crs=crs
    )


def firms(points: list[tuple[float, float]], **columns: list) -> pd.DataFrame:
    lon, lat = zip(*points, strict=True) if points else ((), ())
    return pd.DataFrame(
        {
            "enterprise_id": [f"E{i}" for i in range(len(points))],
            "lon": np.array(lon, dtype=float),
            "lat": np.array(lat, dtype=float),
            **columns,
        }
    )


def col(result: JoinResult, name: str) -> list:
    return [None if pd.isna(v) else v for v in result.assigned[name].tolist()]


# Two 0.01-degree squares side by side sharing the edge lon = 117.01, and one far away.
A = box(117.00, 39.00, 117.01, 39.01)
B = box(117.01, 39.00, 117.03, 39.01)  # twice the size of A
C = box(117.10, 39.10, 117.11, 39.11)


@pytest.fixture
def three_parks() -> gpd.GeoDataFrame:
    return parks_of({"A": A, "B": B, "C": C})


def test_one_outcome_per_row_same_index_and_columns(three_parks):
    df = firms(
        [(117.005, 39.005), (117.02, 39.005), (117.105, 39.105), (117.5, 39.5)],
        year=[2013, 2013, 2014, 2014],
        tax=[1.0, 2.0, np.nan, 4.0],
    )
    df.index = pd.Index([40, 10, 30, 20], name="source_row")
    before = df.copy()
    result = assign_parks(df, three_parks)
    out = result.assigned
    pd.testing.assert_frame_equal(df, before)  # input not mutated
    assert out.index.equals(df.index)
    assert list(out.columns) == [*df.columns, *ADDED]
    pd.testing.assert_frame_equal(out[df.columns], df)
    assert col(result, "park_id") == ["A", "B", "C", None]
    assert col(result, "match") == ["inside", "inside", "inside", "unmatched"]
    assert col(result, "distance_m")[:3] == [0.0, 0.0, 0.0]
    assert col(result, "nearest_park_id") == ["A", "B", "C", "C"]
    summary = result.summary.set_index("match")
    assert list(summary.index) == list(MATCH_KINDS)
    assert summary["n"].sum() == len(df)
    assert summary.loc["inside", "n"] == 3
    assert summary.loc["unmatched", "n"] == 1
    assert summary["2013"].sum() == 2 and summary["2014"].sum() == 2
    assert summary.loc["unmatched", "2014"] == 1


def test_boundary_rule(three_parks):
    df = firms(
        [
            (117.00, 39.005),  # on A's west edge
            (117.00, 39.00),  # on A's south-west corner
            (117.0, 39.005 + 1e-7),  # still on the edge
            (117.00 - 0.005 / 86_600, 39.005),  # 5 mm west of A: within the 1 cm tolerance
            (117.00 - 0.05 / 86_600, 39.005),  # 5 cm west of A: outside
            (117.00 + 0.05 / 86_600, 39.005),  # 5 cm inside A: inside
        ]
    )
    result = assign_parks(df, three_parks)
    assert col(result, "match") == ["boundary"] * 4 + ["unmatched", "inside"]
    assert col(result, "park_id") == ["A"] * 4 + [None, "A"]
    assert result.assigned["distance_m"].iloc[4] == pytest.approx(0.05, abs=0.002)
    # With no tolerance only exact hits are boundary points.
    exact = assign_parks(df, three_parks, boundary_tol_m=0.0)
    assert col(exact, "match") == ["boundary"] * 3 + ["unmatched", "unmatched", "inside"]


def test_shared_edge_is_ambiguous_and_resolved(three_parks):
    df = firms([(117.01, 39.005)])
    result = assign_parks(df, three_parks)
    assert col(result, "match") == ["ambiguous"]
    assert col(result, "park_id") == ["A"]  # A is the smaller park
    assert col(result, "candidates") == ["A;B"]
    with pytest.raises(ParkgeoError, match=r"E0 in A and B"):
        assign_parks(df, three_parks, overlap="error")


@pytest.fixture
def overlapping() -> gpd.GeoDataFrame:
    # BIG contains SMALL entirely; MID overlaps BIG's east half.
    return parks_of(
        {
            "BIG": box(117.0, 39.0, 117.1, 39.1),
            "SMALL": box(117.02, 39.02, 117.03, 39.03),
            "MID": box(117.05, 39.0, 117.15, 39.05),
        },
        priority=[1, 3, 2],
        rank_col=[3.0, 1.0, np.nan],
    )


def test_overlap_smallest(overlapping):
    df = firms([(117.025, 39.025), (117.07, 39.02), (117.01, 39.08), (117.12, 39.02)])
    result = assign_parks(df, overlapping)
    assert col(result, "match") == ["ambiguous", "ambiguous", "inside", "inside"]
    # MID (0.1 x 0.05 degrees) is smaller than BIG (0.1 x 0.1), SMALL smallest of all.
    assert col(result, "park_id") == ["SMALL", "MID", "BIG", "MID"]
    assert col(result, "candidates") == ["SMALL;BIG", "MID;BIG", None, None]
    assert col(result, "distance_m") == [0.0] * 4


def test_overlap_priority(overlapping):
    df = firms([(117.025, 39.025), (117.07, 39.02), (117.01, 39.08)])
    result = assign_parks(df, overlapping, overlap="priority")
    assert col(result, "park_id") == ["BIG", "BIG", "BIG"]
    assert col(result, "candidates") == ["BIG;SMALL", "BIG;MID", None]
    # Another column; missing priorities come last.
    other = assign_parks(df, overlapping, overlap="priority", priority="rank_col")
    assert col(other, "park_id") == ["SMALL", "BIG", "BIG"]
    assert col(other, "candidates") == ["SMALL;BIG", "BIG;MID", None]
    with pytest.raises(SchemaError, match="nope"):
        assign_parks(df, overlapping, overlap="priority", priority="nope")


def test_overlap_error_lists_enterprises_and_parks(overlapping):
    df = firms([(117.025, 39.025), (117.07, 39.02), (117.01, 39.08)])
    with pytest.raises(ParkgeoError) as info:
        assign_parks(df, overlapping, overlap="error")
    message = str(info.value)
    assert "2 enterprises" in message
    assert "E0 in BIG and SMALL" in message and "E1 in BIG and MID" in message
    assert "overlap='smallest'" in message


def test_hole_is_not_inside_and_nested_park_in_hole():
    outer = Polygon(
        [(117.0, 39.0), (117.1, 39.0), (117.1, 39.1), (117.0, 39.1)],
        holes=[[(117.04, 39.04), (117.06, 39.04), (117.06, 39.06), (117.04, 39.06)]],
    )
    parks = parks_of({"RING": outer})
    df = firms([(117.05, 39.05), (117.02, 39.02), (117.045, 39.05)])
    result = assign_parks(df, parks)
    assert col(result, "match") == ["unmatched", "inside", "unmatched"]
    # Nearest boundary of the point in the hole is the hole's edge, 0.01 degree of longitude
    # west at the same latitude (or south: 0.01 degree of latitude is longer).
    expected = GEOD.inv(117.05, 39.05, 117.04, 39.05)[2]
    assert result.assigned["distance_m"].iloc[0] == pytest.approx(expected, rel=1e-6)
    assert result.assigned["nearest_park_id"].iloc[0] == "RING"
    # A park filling the hole takes the point, unambiguously.
    filled = parks_of({"RING": outer, "CORE": box(117.04, 39.04, 117.06, 39.06)})
    again = assign_parks(df, filled)
    assert col(again, "park_id") == ["CORE", "RING", "CORE"]
    assert col(again, "match") == ["inside", "inside", "inside"]


def test_multipolygon_parts():
    parks = parks_of(
        {"M": MultiPolygon([box(117.0, 39.0, 117.01, 39.01), box(117.05, 39.0, 117.06, 39.01)])}
    )
    df = firms([(117.005, 39.005), (117.055, 39.005), (117.03, 39.005)])
    result = assign_parks(df, parks)
    assert col(result, "park_id") == ["M", "M", None]
    expected = GEOD.inv(117.03, 39.005, 117.01, 39.005)[2]
    assert result.assigned["distance_m"].iloc[2] == pytest.approx(expected, rel=1e-6)


def geodesic_edge_distance(lon: float, lat: float, a: tuple, b: tuple) -> float:
    """Distance from a point to the geodesic edge a-b, by brute force at ~1 m spacing."""
    n = int(GEOD.inv(*a, *b)[2])
    edge = np.array([a, *GEOD.npts(*a, *b, n), b])
    return float(
        GEOD.inv(np.full(len(edge), lon), np.full(len(edge), lat), edge[:, 0], edge[:, 1])[2].min()
    )


def test_unmatched_distance_by_hand(three_parks):
    # West of A's west edge (a meridian: the foot is at the same latitude), south of A's south
    # edge, and south-east of C's corner (the nearest point is the corner itself).
    df = firms([(116.99, 39.005), (117.005, 38.99), (117.12, 39.09)])
    result = assign_parks(df, three_parks)
    distance = result.assigned["distance_m"]
    assert col(result, "nearest_park_id") == ["A", "A", "C"]
    assert distance.iloc[0] == pytest.approx(GEOD.inv(116.99, 39.005, 117.0, 39.005)[2], rel=1e-6)
    assert distance.iloc[0] == pytest.approx(866.2, abs=0.1)  # 0.01 degree of longitude at 39 N
    # Edges are straight in lon/lat, as membership has them (one edge model, see
    # parkgeo._edges): the south edge is the parallel 39 N, whose nearest point from due south
    # is on the same meridian. (A geodesic edge would bulge ~1.2 cm north of it.)
    assert distance.iloc[1] == pytest.approx(GEOD.inv(117.005, 38.99, 117.005, 39.0)[2], abs=1e-6)
    geodesic_edge = geodesic_edge_distance(117.005, 38.99, (117.0, 39.0), (117.01, 39.0))
    assert geodesic_edge - distance.iloc[1] == pytest.approx(0.012, abs=0.002)
    corner = GEOD.inv(117.12, 39.09, 117.11, 39.10)[2]
    assert distance.iloc[2] == pytest.approx(corner, rel=1e-6)


def test_nearest_is_exact_against_brute_force():
    rng = np.random.default_rng(7)
    centres = rng.uniform((116.9, 38.9), (117.4, 39.3), size=(12, 2))
    geoms = {
        f"P{i}": shapely.Point(x, y).buffer(rng.uniform(0.004, 0.02), quad_segs=rng.integers(2, 20))
        for i, (x, y) in enumerate(centres)
    }
    parks = parks_of(geoms)
    points = rng.uniform((116.8, 38.8), (117.5, 39.4), size=(400, 2))
    result = assign_parks(firms([tuple(p) for p in points]), parks)
    out = result.assigned
    outside = (out["match"] == "unmatched").to_numpy()
    assert outside.sum() > 300
    # Brute force in the same metric CRS: every boundary, every point.
    crs = pyproj.CRS.from_epsg(4548)
    metric = parks.to_crs(crs)
    pts = gpd.GeoSeries(gpd.points_from_xy(points[:, 0], points[:, 1]), crs=4326).to_crs(crs)
    dist = np.array(
        [[p.distance(g.boundary) for g in metric.geometry] for p in pts.values[outside]]
    )
    best = dist.argmin(axis=1)
    assert (out["nearest_park_id"].to_numpy()[outside] == metric["park_id"].to_numpy()[best]).all()
    # Geodesic vs. projected distance: the Gauss-Kruger scale error here is below 1e-4; edges
    # straight in lon/lat vs. in the projection differ by micrometres at these sizes.
    np.testing.assert_allclose(
        out["distance_m"].to_numpy()[outside], dist.min(axis=1), rtol=2e-4, atol=1e-3
    )


def test_near_tolerance(three_parks):
    # 30 m east of C's east edge (about 86.6 km per degree of longitude at 39.1 N).
    lon = 117.11 + 30 / 86_300
    df = firms([(lon, 39.105)])
    plain = assign_parks(df, three_parks)
    assert col(plain, "match") == ["unmatched"]
    d = plain.assigned["distance_m"].iloc[0]
    assert d == pytest.approx(GEOD.inv(lon, 39.105, 117.11, 39.105)[2], abs=1e-3)
    near = assign_parks(df, three_parks, near_m=50)
    assert col(near, "match") == ["near"]
    assert col(near, "park_id") == ["C"]
    assert near.assigned["distance_m"].iloc[0] == pytest.approx(d)
    far = assign_parks(df, three_parks, near_m=10)
    assert col(far, "match") == ["unmatched"]
    assert col(far, "park_id") == [None]


def test_nearest_off_skips_the_search(three_parks):
    df = firms([(117.005, 39.005), (117.5, 39.5)])
    result = assign_parks(df, three_parks, nearest=False)
    assert col(result, "park_id") == ["A", None]
    assert col(result, "nearest_park_id") == ["A", None]
    assert np.isnan(result.assigned["distance_m"].iloc[1])


def test_missing_coordinates_are_unmatched_without_distance(three_parks):
    df = firms([(np.nan, 39.0), (117.005, 39.005)])
    result = assign_parks(df, three_parks)
    assert col(result, "match") == ["unmatched", "inside"]
    assert col(result, "nearest_park_id") == [None, "A"]
    assert np.isnan(result.assigned["distance_m"].iloc[0])


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:32650", "EPSG:3857"])
def test_parks_in_any_crs(three_parks, crs):
    df = firms([(117.005, 39.005), (117.02, 39.005), (117.2, 39.2), (117.105, 39.105)])
    base = assign_parks(df, three_parks)
    other = assign_parks(df, three_parks.to_crs(crs))
    assert col(other, "park_id") == col(base, "park_id")
    assert col(other, "match") == col(base, "match")
    # Reprojection moves straight edges by millimetres at most over 1 km.
    np.testing.assert_allclose(other.assigned["distance_m"], base.assigned["distance_m"], rtol=1e-4)


def test_enterprises_as_geodataframe_in_any_crs(three_parks):
    df = firms([(117.005, 39.005), (117.02, 39.005), (117.2, 39.2)], tax=[1.0, 2.0, 3.0])
    points = gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326
    ).to_crs("EPSG:32650")
    result = assign_parks(points, three_parks)
    assert isinstance(result.assigned, gpd.GeoDataFrame)
    assert result.assigned.crs == points.crs
    assert col(result, "park_id") == ["A", "B", None]
    assert "lon" not in result.assigned.columns


def test_missing_crs_is_an_error(three_parks):
    df = firms([(117.005, 39.005)])
    with pytest.raises(CRSError, match="parks layer has no CRS"):
        assign_parks(
            df,
            gpd.GeoDataFrame(
                three_parks.drop(columns="geometry"), geometry=list(three_parks.geometry)
            ),
        )
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(df.lon, df.lat))
    with pytest.raises(CRSError, match="no CRS"):
        assign_parks(points, three_parks)


def test_gcj02_points_through_the_loader(tmp_path, three_parks):
    from parkgeo.coords import wgs84_to_gcj02
    from parkgeo.io import read_enterprises

    # Real positions (WGS-84) 100 m inside A's and B's south edges; the geocoder gave GCJ-02,
    # which is ~600 m off: read raw, they would land in the wrong place.
    lon = np.array([117.005, 117.02])
    lat = np.array([39.0 + 100 / 111_000, 39.0 + 100 / 111_000])
    glon, glat = wgs84_to_gcj02(lon, lat)
    pd.DataFrame(
        {
            "企业名称": ["甲", "乙"],
            "统一社会信用代码": ["91120000A", "91120000B"],
            "经度": glon,
            "纬度": glat,
            "年份": [2015, 2015],
        }
    ).to_csv(tmp_path / "firms.csv", index=False)
    loaded = read_enterprises(tmp_path / "firms.csv", coord_system="gcj02")
    result = assign_parks(loaded.data, three_parks)
    assert col(result, "park_id") == ["A", "B"]
    assert col(result, "match") == ["inside", "inside"]
    raw = read_enterprises(tmp_path / "firms.csv", coord_system="wgs84")
    assert col(assign_parks(raw.data, three_parks), "park_id") != ["A", "B"]


def test_agrees_with_geopandas_sjoin():
    rng = np.random.default_rng(3)
    centres = rng.uniform((117.0, 39.0), (117.3, 39.3), size=(25, 2))
    geoms = {
        f"P{i:02d}": shapely.Point(x, y).buffer(rng.uniform(0.005, 0.03), quad_segs=6)
        for i, (x, y) in enumerate(centres)
    }
    parks = parks_of(geoms)
    points = rng.uniform((116.95, 38.95), (117.35, 39.35), size=(5000, 2))
    df = firms([tuple(p) for p in points])
    result = assign_parks(df, parks, nearest=False)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)
    joined = gpd.sjoin(gdf, parks, predicate="within", how="left")
    n_parks = joined.groupby(level=0)["park_id"].count()
    out = result.assigned
    assert ((n_parks == 0).to_numpy() == (out["match"] == "unmatched").to_numpy()).all()
    assert ((n_parks >= 2).to_numpy() == (out["match"] == "ambiguous").to_numpy()).all()
    single = joined[joined.index.map(n_parks) == 1]["park_id"]
    assert (out.loc[single.index, "park_id"].astype(str) == single.astype(str)).all()
    assert (n_parks >= 2).sum() > 20  # the fixture really has overlaps


def test_row_order_does_not_change_the_outcome(overlapping):
    rng = np.random.default_rng(5)
    df = firms([tuple(p) for p in rng.uniform((116.98, 38.98), (117.17, 39.12), size=(300, 2))])
    base = assign_parks(df, overlapping).assigned
    shuffled = assign_parks(df.sample(frac=1.0, random_state=1), overlapping).assigned
    pd.testing.assert_frame_equal(shuffled.loc[base.index], base, check_categorical=False)


def test_compact_dtypes(three_parks):
    out = assign_parks(firms([(117.005, 39.005)]), three_parks).assigned
    for name in ("park_id", "match", "nearest_park_id", "candidates"):
        assert isinstance(out[name].dtype, pd.CategoricalDtype)
    assert list(out["park_id"].cat.categories) == ["A", "B", "C"]
    assert list(out["match"].cat.categories) == list(MATCH_KINDS)


@pytest.mark.parametrize(
    ("parks", "error", "pattern"),
    [
        (parks_of({"A": A, "B": B}).assign(park_id=["A", "A"]), SchemaError, "repeat"),
        (parks_of({"A": A}).drop(columns="park_id"), SchemaError, "park_id"),
        (
            parks_of({"BOW": Polygon([(117, 39), (117.01, 39.01), (117.01, 39), (117, 39.01)])}),
            GeometryError,
            "BOW.*make_valid",
        ),
        (
            parks_of({"L": shapely.LineString([(117, 39), (117.1, 39.1)])}),
            GeometryError,
            "not a Polygon",
        ),
        (parks_of({"E": Polygon()}), GeometryError, "no geometry"),
    ],
)
def test_bad_parks(parks, error, pattern):
    with pytest.raises(error, match=pattern):
        assign_parks(firms([(117.0, 39.0)]), parks)


def test_bad_options(three_parks):
    df = firms([(117.0, 39.0)])
    with pytest.raises(ParkgeoError, match="overlap"):
        assign_parks(df, three_parks, overlap="largest")  # type: ignore[arg-type]
    with pytest.raises(ParkgeoError, match="near_m"):
        assign_parks(df, three_parks, near_m=-1)
    with pytest.raises(SchemaError, match="lon"):
        assign_parks(pd.DataFrame({"x": [1.0]}), three_parks)


def test_empty_enterprises(three_parks):
    result = assign_parks(firms([]), three_parks)
    assert len(result.assigned) == 0
    assert result.summary["n"].sum() == 0


@st.composite
def boxes_and_points(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Boxes and points on a 1/1000-degree grid, so points on edges and corners are common."""
    cell = st.integers(0, 12)
    n_parks = draw(st.integers(1, 5))
    geoms = {}
    for i in range(n_parks):
        x0, y0 = draw(cell), draw(cell)
        w, h = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        geoms[f"P{i}"] = box(
            117 + x0 / 1000, 39 + y0 / 1000, 117 + (x0 + w) / 1000, 39 + (y0 + h) / 1000
        )
    points = draw(st.lists(st.tuples(cell, cell), min_size=1, max_size=40))
    return parks_of(geoms), firms([(117 + x / 1000, 39 + y / 1000) for x, y in points])


@given(boxes_and_points())
@settings(max_examples=60, deadline=None)
def test_outcomes_match_shapely_predicates(case):
    """With no tolerance, every row's outcome follows from shapely's contains/intersects."""
    parks, df = case
    result = assign_parks(df, parks, boundary_tol_m=0.0)
    out = result.assigned
    assert len(out) == len(df) and out.index.equals(df.index)
    assert result.summary["n"].sum() == len(df)
    area = dict(zip(parks["park_id"], parks.to_crs(32650).area, strict=True))
    for i, (lon, lat) in enumerate(zip(df["lon"], df["lat"], strict=True)):
        point = shapely.Point(lon, lat)
        touching = [
            p for p, g in zip(parks["park_id"], parks.geometry, strict=True) if g.intersects(point)
        ]
        inside = [
            p for p, g in zip(parks["park_id"], parks.geometry, strict=True) if g.contains(point)
        ]
        row = out.iloc[i]
        if not touching:
            assert row["match"] == "unmatched" and pd.isna(row["park_id"])
            assert row["distance_m"] > 0
        elif len(touching) == 1:
            assert row["match"] == ("inside" if inside else "boundary")
            assert row["park_id"] == touching[0] and row["distance_m"] == 0
        else:
            assert row["match"] == "ambiguous"
            expected = sorted(touching, key=lambda p: (area[p], p))
            assert row["park_id"] == expected[0]
            assert set(row["candidates"].split(";")) == set(touching)
