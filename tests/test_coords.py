"""Tests of parkgeo.coords: China coordinate systems, metric CRS choice and geodesic area."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely import LineString, MultiPolygon, Point, Polygon, box

from parkgeo import coords
from parkgeo._errors import CRSError, GeometryError, ParkgeoError, SchemaError
from parkgeo._paths import data_path

GEOD = pyproj.Geod(ellps="WGS84")
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563


def metres_between(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(lon1, lat1, lon2, lat2)
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# --------------------------------------------------------------------------------------------
# published reference points
# --------------------------------------------------------------------------------------------

# Test vectors of the open-source `coordtransform` library (github.com/wandergis/coordtransform,
# test/app.js), all applied to the input (116.404, 39.915). Its forward transforms are the
# standard formulas, so ours must agree to floating-point precision. Its inverses are the
# one-step approximations, which are off by decimetres: ours must be close to them and exact
# in the sense that the forward transform gives back the input.
CT_INPUT = (116.404, 39.915)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_BD09_TO_GCJ02_APPROX = (116.39762729119315, 39.90865673957631)
CT_GCJ02_TO_WGS84_APPROX = (116.39775550083061, 39.91359571849836)

# Test vectors of `eviltransform` (github.com/googollee/eviltransform, python tests):
# (wgs lat, wgs lon, gcj lat, gcj lon) for Shanghai, Shenzhen and Beijing.
EVIL_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]

# Tiananmen as each provider publishes it in its JavaScript API documentation: AMap's default
# map centre [116.397428, 39.90923] (GCJ-02) and Baidu's `new BMap.Point(116.404, 39.915)`
# (BD-09, rounded to 3 decimals, i.e. ~100 m).
AMAP_TIANANMEN_GCJ02 = (116.397428, 39.90923)
BAIDU_TIANANMEN_BD09 = (116.404, 39.915)


def test_wgs84_to_gcj02_matches_coordtransform_vector() -> None:
    lon, lat = coords.wgs84_to_gcj02(*CT_INPUT)
    assert float(lon) == pytest.approx(CT_WGS84_TO_GCJ02[0], abs=1e-12)
    assert float(lat) == pytest.approx(CT_WGS84_TO_GCJ02[1], abs=1e-12)


def test_gcj02_to_bd09_matches_coordtransform_vector() -> None:
    lon, lat = coords.gcj02_to_bd09(*CT_INPUT)
    assert float(lon) == pytest.approx(CT_GCJ02_TO_BD09[0], abs=1e-12)
    assert float(lat) == pytest.approx(CT_GCJ02_TO_BD09[1], abs=1e-12)


@pytest.mark.parametrize(
    ("inverse", "forward", "approx", "max_gap_m"),
    [
        (coords.gcj02_to_wgs84, coords.wgs84_to_gcj02, CT_GCJ02_TO_WGS84_APPROX, 0.5),
        (coords.bd09_to_gcj02, coords.gcj02_to_bd09, CT_BD09_TO_GCJ02_APPROX, 0.1),
    ],
)
def test_inverses_are_exact_where_libraries_approximate(
    inverse, forward, approx, max_gap_m
) -> None:
    lon, lat = inverse(*CT_INPUT)
    # Close to the one-step approximation ...
    gap = metres_between(lon, lat, *approx)
    assert 0.001 < float(gap) < max_gap_m
    # ... but exact: the forward transform reproduces the input.
    back_lon, back_lat = forward(lon, lat)
    assert abs(float(back_lon) - CT_INPUT[0]) < 1e-11
    assert abs(float(back_lat) - CT_INPUT[1]) < 1e-11


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), EVIL_WGS_GCJ)
def test_eviltransform_vectors(wgs_lat, wgs_lon, gcj_lat, gcj_lon) -> None:
    lon, lat = coords.wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert float(lon) == pytest.approx(gcj_lon, abs=1e-11)
    assert float(lat) == pytest.approx(gcj_lat, abs=1e-11)
    back_lon, back_lat = coords.gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert float(metres_between(back_lon, back_lat, wgs_lon, wgs_lat)) < 1e-6


def test_amap_and_baidu_publish_the_same_tiananmen() -> None:
    raw_gap = metres_between(*AMAP_TIANANMEN_GCJ02, *BAIDU_TIANANMEN_BD09)
    bd_lon, bd_lat = coords.gcj02_to_bd09(*AMAP_TIANANMEN_GCJ02)
    converted_gap = metres_between(bd_lon, bd_lat, *BAIDU_TIANANMEN_BD09)
    assert raw_gap > 700  # the BD-09 shift is ~0.0065 deg lon, ~0.006 deg lat
    assert converted_gap < 100  # Baidu's published point is rounded to 0.001 deg


def test_tianjin_offset_matches_documented_size() -> None:
    # data/PROVENANCE.md: the GCJ-02 offset in Tianjin is about +0.0063 deg lon, +0.001 deg lat.
    lon, lat = coords.wgs84_to_gcj02(117.2, 39.1)
    assert float(lon) - 117.2 == pytest.approx(0.0063, abs=0.0002)
    assert 0.0008 < float(lat) - 39.1 < 0.0013
    assert 550 < float(metres_between(lon, lat, 117.2, 39.1)) < 650


# --------------------------------------------------------------------------------------------
# round trips, passthrough, shapes
# --------------------------------------------------------------------------------------------

ROUND_TRIPS = [
    (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84),
    (coords.wgs84_to_bd09, coords.bd09_to_wgs84),
    (coords.gcj02_to_bd09, coords.bd09_to_gcj02),
]


@pytest.mark.parametrize(("forward", "inverse"), ROUND_TRIPS)
def test_round_trip_on_grid_over_china(forward, inverse) -> None:
    lon, lat = np.meshgrid(np.linspace(73.5, 135.0, 125), np.linspace(18.0, 53.5, 72))
    lon, lat = lon.ravel(), lat.ravel()
    enc_lon, enc_lat = forward(lon, lat)
    moved = metres_between(lon, lat, enc_lon, enc_lat)
    assert moved.min() > 1.0  # the transform really did something everywhere
    back_lon, back_lat = inverse(enc_lon, enc_lat)
    assert metres_between(lon, lat, back_lon, back_lat).max() < 0.01
    assert np.abs(back_lon - lon).max() < 1e-9
    assert np.abs(back_lat - lat).max() < 1e-9


@given(
    lon=st.floats(min_value=73.0, max_value=135.0),
    lat=st.floats(min_value=18.0, max_value=53.6),
)
def test_round_trip_property(lon: float, lat: float) -> None:
    for forward, inverse in ROUND_TRIPS:
        back_lon, back_lat = inverse(*forward(lon, lat))
        assert float(metres_between(back_lon, back_lat, lon, lat)) < 0.01
        assert abs(float(back_lon) - lon) < 1e-9
        assert abs(float(back_lat) - lat) < 1e-9


OUTSIDE_CHINA = {
    "Paris": (2.3522, 48.8566),
    "New York": (-74.006, 40.7128),
    "Sydney": (151.2093, -33.8688),
    "Tokyo": (139.6917, 35.6895),  # east of 137.8347 E
    "west of box": (71.9, 35.0),
    "north of box": (120.0, 56.0),
}

ALL_CONVERSIONS = [
    coords.wgs84_to_gcj02,
    coords.gcj02_to_wgs84,
    coords.wgs84_to_bd09,
    coords.bd09_to_wgs84,
    coords.gcj02_to_bd09,
    coords.bd09_to_gcj02,
]


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_outside_china_passes_through(convert) -> None:
    lon = np.array([p[0] for p in OUTSIDE_CHINA.values()])
    lat = np.array([p[1] for p in OUTSIDE_CHINA.values()])
    out_lon, out_lat = convert(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_nan_and_mixed_inputs(convert) -> None:
    lon = np.array([np.nan, 117.2, 2.35, 117.3])
    lat = np.array([39.1, np.nan, 48.85, 39.2])
    lon_in, lat_in = lon.copy(), lat.copy()
    out_lon, out_lat = convert(lon, lat)
    assert np.isnan(out_lon[0]) and np.isnan(out_lat[0])
    assert np.isnan(out_lon[1]) and np.isnan(out_lat[1])
    assert (out_lon[2], out_lat[2]) == (2.35, 48.85)
    assert abs(out_lon[3] - 117.3) > 1e-4  # converted
    single_lon, single_lat = convert(117.3, 39.2)
    assert (float(single_lon), float(single_lat)) == (out_lon[3], out_lat[3])
    np.testing.assert_array_equal(lon, lon_in)  # inputs untouched
    np.testing.assert_array_equal(lat, lat_in)


def series_lon_at(lon: float, lat: float) -> float:
    return float(coords.wgs84_to_gcj02(lon, lat)[0])


def test_shapes_dtypes_and_array_likes() -> None:
    lon, lat = coords.wgs84_to_gcj02([[117.0, 117.1], [117.2, 117.3]], [[39.0, 39.1], [39.2, 39.3]])
    assert lon.shape == (2, 2) and lon.dtype == np.float64 and lat.dtype == np.float64
    series_lon, _ = coords.wgs84_to_gcj02(pd.Series([117, 118]), pd.Series([39, 40]))
    assert series_lon.dtype == np.float64
    nullable_lon, _ = coords.wgs84_to_gcj02(
        pd.Series([117.2, None], dtype="Float64"), pd.Series([39.1, 39.2], dtype="Float64")
    )
    assert nullable_lon[0] == series_lon_at(117.2, 39.1) and np.isnan(nullable_lon[1])
    scalar_lon, scalar_lat = coords.wgs84_to_gcj02(117, 39)
    assert np.ndim(scalar_lon) == 0 and np.ndim(scalar_lat) == 0
    with pytest.raises(ParkgeoError, match="same shape"):
        coords.wgs84_to_gcj02([1.0, 2.0, 3.0], [1.0, 2.0])


def test_convert_coords_and_cgcs2000_identity() -> None:
    lon, lat = coords.convert_coords([117.2], [39.1], "CGCS2000", "wgs-84")
    assert (lon[0], lat[0]) == (117.2, 39.1)
    lon, lat = coords.convert_coords([117.2], [39.1], "cgcs2000", "bd09")
    expected = coords.wgs84_to_bd09(117.2, 39.1)
    assert (lon[0], lat[0]) == (float(expected[0]), float(expected[1]))


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("wgs 84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4490", "cgcs2000"),
        ("CGCS2000", "cgcs2000"),
        ("gcj-02", "gcj02"),
        ("GCJ02", "gcj02"),
        ("gcj", "gcj02"),
        ("gaode", "gcj02"),
        ("bd-09", "bd09"),
        ("BD09", "bd09"),
        ("baidu", "bd09"),
        ("  gcj_02 ", "gcj02"),
    ],
)
def test_normalize_coord_system_aliases(alias, canonical) -> None:
    assert coords.normalize_coord_system(alias) == canonical


@pytest.mark.parametrize("bad", ["utm", "epsg:3857", "", "gcj03"])
def test_normalize_coord_system_rejects_with_choices(bad) -> None:
    with pytest.raises(ParkgeoError, match=r"wgs84, cgcs2000, gcj02, bd09"):
        coords.normalize_coord_system(bad)


def test_coord_systems_constant() -> None:
    assert coords.COORD_SYSTEMS == ("wgs84", "cgcs2000", "gcj02", "bd09")


# --------------------------------------------------------------------------------------------
# geometries and layers
# --------------------------------------------------------------------------------------------

SHELL = [(117.10, 39.00), (117.20, 39.00), (117.20, 39.10), (117.10, 39.10), (117.10, 39.00)]
HOLE = [(117.13, 39.03), (117.16, 39.03), (117.16, 39.06), (117.13, 39.06), (117.13, 39.03)]


def park_with_hole() -> Polygon:
    return Polygon(SHELL, [HOLE])


def test_convert_polygon_with_hole_vertex_by_vertex() -> None:
    polygon = park_with_hole()
    converted = coords.convert_geometry(polygon, "wgs84", "gcj02")
    assert isinstance(converted, Polygon)
    assert len(converted.interiors) == 1
    for original_ring, new_ring in [
        (polygon.exterior, converted.exterior),
        (polygon.interiors[0], converted.interiors[0]),
    ]:
        old_xy = np.asarray(original_ring.coords)
        expected_lon, expected_lat = coords.wgs84_to_gcj02(old_xy[:, 0], old_xy[:, 1])
        new_xy = np.asarray(new_ring.coords)
        np.testing.assert_array_equal(new_xy[:, 0], expected_lon)
        np.testing.assert_array_equal(new_xy[:, 1], expected_lat)
    back = coords.convert_geometry(converted, "gcj-02", "wgs84")
    np.testing.assert_allclose(
        shapely.get_coordinates(back), shapely.get_coordinates(polygon), atol=1e-10, rtol=0
    )
    assert polygon.equals(park_with_hole())  # input untouched


def test_convert_geoseries_of_mixed_types_keeps_index_crs_and_z() -> None:
    geoms = gpd.GeoSeries(
        [
            MultiPolygon([park_with_hole(), box(117.3, 39.3, 117.4, 39.4)]),
            LineString([(117.0, 39.0), (117.5, 39.5)]),
            Point(117.2, 39.1, 5.0),
            None,
            Point(2.35, 48.85),
        ],
        index=["mp", "line", "pz", "none", "paris"],
        crs="EPSG:4326",
        name="geometry",
    )
    out = coords.convert_geometry(geoms, "wgs84", "bd09")
    assert isinstance(out, gpd.GeoSeries)
    assert list(out.index) == list(geoms.index)
    assert out.crs == geoms.crs
    assert out["mp"].geom_type == "MultiPolygon" and len(out["mp"].geoms[0].interiors) == 1
    assert out["pz"].has_z and out["pz"].z == 5.0
    assert out["none"] is None
    assert out["paris"].equals(Point(2.35, 48.85))
    expected = coords.wgs84_to_bd09(117.2, 39.1)
    assert (out["pz"].x, out["pz"].y) == (float(expected[0]), float(expected[1]))
    back = coords.convert_geometry(out, "bd09", "cgcs2000")
    assert back.crs == pyproj.CRS("EPSG:4490")
    for original, restored in zip(geoms.dropna(), back.dropna(), strict=True):
        np.testing.assert_allclose(
            shapely.get_coordinates(restored), shapely.get_coordinates(original), atol=1e-10
        )


def test_convert_geometry_rejects_projected_layer() -> None:
    projected = gpd.GeoSeries([Point(500000, 4300000)], crs="EPSG:32650")
    with pytest.raises(CRSError, match="projected"):
        coords.convert_geometry(projected, "gcj02", "wgs84")


def test_to_wgs84_dataframe_returns_new_frame() -> None:
    gcj_lon, gcj_lat = coords.wgs84_to_gcj02([117.2, 117.3], [39.1, 39.2])
    df = pd.DataFrame(
        {"enterprise_id": ["a", "b", "c"], "lon": [*gcj_lon, np.nan], "lat": [*gcj_lat, 39.0]},
        index=[10, 11, 12],
    )
    df.attrs["source"] = "test.csv"
    before = df.copy()
    out = coords.to_wgs84(df, "GCJ-02")
    pd.testing.assert_frame_equal(df, before)
    assert list(out.index) == [10, 11, 12]
    np.testing.assert_allclose(out["lon"].iloc[:2], [117.2, 117.3], atol=1e-10)
    np.testing.assert_allclose(out["lat"].iloc[:2], [39.1, 39.2], atol=1e-10)
    assert np.isnan(out["lon"].iloc[2])
    assert out.attrs["source"] == "test.csv"
    same = coords.to_wgs84(df, "cgcs2000")
    pd.testing.assert_frame_equal(same, df)
    assert same is not df


def test_to_wgs84_dataframe_errors() -> None:
    with pytest.raises(SchemaError, match="lat"):
        coords.to_wgs84(pd.DataFrame({"lon": [1.0]}), "gcj02")
    with pytest.raises(SchemaError, match="not numeric"):
        coords.to_wgs84(pd.DataFrame({"lon": ["x"], "lat": [1.0]}), "gcj02")


def test_to_wgs84_geodataframe() -> None:
    gcj = coords.convert_geometry(park_with_hole(), "wgs84", "gcj02")
    layer = gpd.GeoDataFrame({"park_id": ["p1"]}, geometry=[gcj], crs="EPSG:4326")
    out = coords.to_wgs84(layer, "gcj02")
    assert out.crs == pyproj.CRS("EPSG:4326")
    np.testing.assert_allclose(
        shapely.get_coordinates(out.geometry.iloc[0]),
        shapely.get_coordinates(park_with_hole()),
        atol=1e-10,
    )
    assert layer.geometry.iloc[0].equals(gcj)  # input untouched
    # No CRS: degrees of the stated system are assumed, and the result is labelled.
    no_crs = coords.to_wgs84(layer.set_crs(None, allow_override=True), "gcj02")
    assert no_crs.crs == pyproj.CRS("EPSG:4326")
    # A projected WGS-84 layer is reprojected; GCJ-02 cannot be projected.
    projected = layer.to_crs("EPSG:32650")
    assert coords.to_wgs84(projected, "wgs84").crs == pyproj.CRS("EPSG:4326")
    with pytest.raises(CRSError, match="projected"):
        coords.to_wgs84(projected, "gcj02")
    with pytest.raises(CRSError, match="not longitude/latitude"):
        coords.to_wgs84(projected.set_crs(None, allow_override=True), "wgs84")


def test_to_wgs84_geodataframe_keeps_lonlat_columns_in_step() -> None:
    gcj_lon, gcj_lat = coords.wgs84_to_gcj02([117.2, 117.3], [39.1, 39.2])
    points = gpd.GeoDataFrame(
        {"lon": gcj_lon, "lat": gcj_lat, "name": ["a", "b"]},
        geometry=gpd.points_from_xy(gcj_lon, gcj_lat),
        crs="EPSG:4326",
    )
    out = coords.to_wgs84(points, "gcj02")
    np.testing.assert_allclose(out["lon"], [117.2, 117.3], atol=1e-10)
    np.testing.assert_allclose(out.geometry.x, out["lon"], atol=0)
    np.testing.assert_allclose(out.geometry.y, out["lat"], atol=0)
    np.testing.assert_array_equal(points["lon"], gcj_lon)  # input untouched


def test_to_wgs84_real_districts_file() -> None:
    districts = gpd.read_file(data_path("120000_full.json"))
    converted = coords.to_wgs84(districts, "gcj02")
    assert len(converted) == 16
    shift = shapely.get_x(shapely.centroid(districts.geometry.values)) - shapely.get_x(
        shapely.centroid(converted.geometry.values)
    )
    # The GCJ-02 file sits ~0.006 deg east of WGS-84 in Tianjin (data/PROVENANCE.md).
    assert ((shift > 0.0055) & (shift < 0.0070)).all()


# --------------------------------------------------------------------------------------------
# lonlat_of
# --------------------------------------------------------------------------------------------


def test_lonlat_of_geodataframe_in_web_mercator() -> None:
    lon = np.array([117.2, 117.35, 116.9])
    lat = np.array([39.1, 39.05, 39.4])
    points = gpd.GeoDataFrame(
        {"enterprise_id": ["a", "b", "c"], "lon": [0.0, 0.0, 0.0], "lat": [0.0, 0.0, 0.0]},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    ).to_crs("EPSG:3857")
    got_lon, got_lat = coords.lonlat_of(points)
    assert got_lon.dtype == np.float64
    np.testing.assert_allclose(got_lon, lon, atol=1e-9)  # the geometry wins over lon/lat
    np.testing.assert_allclose(got_lat, lat, atol=1e-9)


def test_lonlat_of_dataframe_and_missing_points() -> None:
    df = pd.DataFrame({"lon": [117.2, None], "lat": [39.1, None]})
    lon, lat = coords.lonlat_of(df)
    assert lon[0] == 117.2 and np.isnan(lon[1]) and np.isnan(lat[1])
    gdf = gpd.GeoDataFrame(geometry=[Point(117.2, 39.1), None, Point()], crs="EPSG:4490")
    lon, lat = coords.lonlat_of(gdf)
    assert lon[0] == pytest.approx(117.2) and np.isnan(lon[1:]).all() and np.isnan(lat[1:]).all()


def test_lonlat_of_errors() -> None:
    with pytest.raises(CRSError, match="no CRS"):
        coords.lonlat_of(gpd.GeoDataFrame(geometry=[Point(117.2, 39.1)]))
    with pytest.raises(GeometryError, match="points"):
        coords.lonlat_of(gpd.GeoDataFrame(geometry=[park_with_hole()], crs="EPSG:4326"))
    with pytest.raises(SchemaError, match="lon"):
        coords.lonlat_of(pd.DataFrame({"x": [1.0]}))


# --------------------------------------------------------------------------------------------
# local metric CRS
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "epsg", "name"),
    [
        ([116.7, 118.07], [38.55, 40.25], 4548, "CGCS2000 / 3-degree Gauss-Kruger CM 117E"),
        (87.6, 43.8, 4538, "CGCS2000 / 3-degree Gauss-Kruger CM 87E"),  # Urumqi
        (126.6, 45.8, 4551, "CGCS2000 / 3-degree Gauss-Kruger CM 126E"),  # Harbin
        (121.47, 31.23, 4549, "CGCS2000 / 3-degree Gauss-Kruger CM 120E"),  # Shanghai
        (2.35, 48.85, 32631, "WGS 84 / UTM zone 31N"),
        (151.2, -33.87, 32756, "WGS 84 / UTM zone 56S"),
    ],
)
def test_local_metric_crs(lon, lat, epsg, name) -> None:
    crs = coords.local_metric_crs(lon, lat)
    assert crs.name == name
    assert crs.to_epsg() == epsg


def test_local_metric_crs_ignores_nan_and_rejects_all_nan() -> None:
    assert coords.local_metric_crs([117.2, np.nan], [39.1, np.nan]).to_epsg() == 4548
    with pytest.raises(ParkgeoError, match="no finite"):
        coords.local_metric_crs([np.nan], [np.nan])


# --------------------------------------------------------------------------------------------
# geodesic area
# --------------------------------------------------------------------------------------------


def authalic_zone_area_m2(lat_deg: float, dlon_deg: float) -> float:
    """Exact ellipsoidal area between the equator and latitude ``lat_deg`` over ``dlon_deg``.

    A = b^2 * dlon * [sin(p) / (2 (1 - e^2 sin^2 p)) + atanh(e sin p) / (2 e)], from the
    authalic-latitude integral (Snyder, Map Projections: A Working Manual, eq. 3-12).
    """
    e2 = WGS84_F * (2 - WGS84_F)
    e = math.sqrt(e2)
    b = WGS84_A * (1 - WGS84_F)
    s = math.sin(math.radians(lat_deg))
    q_half = s / (2 * (1 - e2 * s * s)) + math.atanh(e * s) / (2 * e)
    return b * b * math.radians(dlon_deg) * q_half


def densified_cell(lon0: float, lat0: float, size: float, n: int = 2000) -> Polygon:
    """A lon/lat cell whose edges follow parallels (densified: geodesic chords hug them)."""
    t = np.linspace(0.0, 1.0, n)
    bottom = np.column_stack([lon0 + size * t, np.full(n, lat0)])
    right = np.column_stack([np.full(n, lon0 + size), lat0 + size * t])
    top = np.column_stack([lon0 + size * t[::-1], np.full(n, lat0 + size)])
    left = np.column_stack([np.full(n, lon0), lat0 + size * t[::-1]])
    return Polygon(np.vstack([bottom, right, top, left]))


def test_one_degree_cell_at_equator_matches_authalic_formula() -> None:
    expected_ha = authalic_zone_area_m2(1.0, 1.0) / 10_000
    assert expected_ha == pytest.approx(1_230_800, rel=1e-3)  # ~12,308 km^2
    area = coords.geodesic_area_ha([densified_cell(0.0, 0.0, 1.0)], crs="EPSG:4326")[0]
    assert area == pytest.approx(expected_ha, rel=1e-7)


def test_one_degree_cell_near_tianjin_matches_authalic_formula() -> None:
    expected_ha = (authalic_zone_area_m2(40.0, 1.0) - authalic_zone_area_m2(39.0, 1.0)) / 10_000
    area = coords.geodesic_area_ha([densified_cell(117.0, 39.0, 1.0)], crs="EPSG:4326")[0]
    assert area == pytest.approx(expected_ha, rel=1e-7)


def test_one_km_square_near_tianjin_vs_gauss_kruger_plane() -> None:
    gk = pyproj.CRS.from_epsg(4548)  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", gk, always_xy=True)
    x0, y0 = to_gk.transform(117.25, 39.1)
    square = box(x0, y0, x0 + 1000.0, y0 + 1000.0)  # exactly 100 ha in the plane
    area = coords.geodesic_area_ha(gpd.GeoSeries([square], crs=gk))[0]
    # The plane inflates areas by the projection's areal scale at that point (~1 + 7e-6 here).
    lon_c, lat_c = to_gk.transform(x0 + 500.0, y0 + 500.0, direction="INVERSE")
    areal_scale = pyproj.Proj(gk).get_factors(lon_c, lat_c).areal_scale
    assert 1.0 < areal_scale < 1.0001
    assert area == pytest.approx(100.0 / areal_scale, rel=1e-7)
    assert area == pytest.approx(100.0, rel=1e-4)


def test_area_agrees_with_pyproj_and_ignores_winding_order() -> None:
    polygon = park_with_hole()
    multi = MultiPolygon([polygon, box(117.5, 39.5, 117.52, 39.51)])
    reference = [
        abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) / 1e4
        for g in (polygon, multi)
    ]
    for variant in (
        polygon,
        shapely.orient_polygons(polygon),
        shapely.orient_polygons(polygon, exterior_cw=True),
        Polygon(SHELL[::-1], [HOLE]),  # exterior and hole wound the same way
    ):
        assert coords.geodesic_area_ha([variant], crs=4326)[0] == pytest.approx(
            reference[0], rel=1e-9
        )
    assert coords.geodesic_area_ha([multi], crs=4326)[0] == pytest.approx(reference[1], rel=1e-9)
    without_hole = coords.geodesic_area_ha([Polygon(SHELL)], crs=4326)[0]
    hole = coords.geodesic_area_ha([Polygon(HOLE)], crs=4326)[0]
    assert coords.geodesic_area_ha([polygon], crs=4326)[0] == pytest.approx(
        without_hole - hole, rel=1e-12
    )


def test_area_missing_empty_and_non_polygons() -> None:
    geoms = gpd.GeoSeries(
        [park_with_hole(), None, Polygon(), Point(117, 39), LineString([(117, 39), (118, 40)])],
        crs="EPSG:4326",
    )
    areas = coords.geodesic_area_ha(geoms)
    assert areas[0] > 0
    assert np.isnan(areas[1])
    assert areas[2:].tolist() == [0.0, 0.0, 0.0]
    collection = shapely.GeometryCollection([park_with_hole(), Point(0, 0)])
    assert coords.geodesic_area_ha([collection], crs=4326)[0] == pytest.approx(areas[0])


def random_parks(n: int, seed: int) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    centres = rng.uniform([116.8, 38.6], [117.9, 40.2], size=(n, 2))
    radii = rng.uniform(0.002, 0.03, size=n)
    parks = shapely.buffer(shapely.points(centres), radii, quad_segs=8)
    holes = shapely.buffer(shapely.points(centres), radii / 3, quad_segs=4)
    with_holes = shapely.difference(parks, holes)
    return gpd.GeoSeries(np.where(np.arange(n) % 3 == 0, with_holes, parks), crs="EPSG:4326")


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:32650", "EPSG:3857", "EPSG:4548"])
def test_area_independent_of_input_crs(crs) -> None:
    parks = random_parks(50, seed=7)
    reference = coords.geodesic_area_ha(parks)
    reprojected = parks.to_crs(crs)
    areas = coords.geodesic_area_ha(reprojected)
    np.testing.assert_allclose(areas, reference, rtol=1e-4)
    np.testing.assert_allclose(coords.geodesic_area_ha(reprojected.values, crs=crs), areas, rtol=0)


def test_area_many_parks_against_pyproj() -> None:
    parks = random_parks(300, seed=1)
    areas = coords.geodesic_area_ha(gpd.GeoDataFrame(geometry=parks))
    expected = [
        abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(g))[0]) / 1e4 for g in parks
    ]
    np.testing.assert_allclose(areas, expected, rtol=1e-6)


def test_area_of_tianjin_close_to_utm_planar_area() -> None:
    districts = coords.to_wgs84(gpd.read_file(data_path("120000_full.json")), "gcj02")
    geodesic = coords.geodesic_area_ha(districts).sum()
    planar = districts.to_crs("EPSG:32650").area.sum() / 1e4
    assert geodesic == pytest.approx(1_209_100, rel=0.01)  # ~12,091 km^2 (data/PROVENANCE.md)
    # UTM's scale factor near its central meridian (117 E) is 0.9996: the plane shrinks areas.
    assert 0.999 < planar / geodesic < 1.0


def test_area_crs_errors() -> None:
    with pytest.raises(CRSError, match="needs the geometries' CRS"):
        coords.geodesic_area_ha([park_with_hole()])
    with pytest.raises(CRSError, match="needs the geometries' CRS"):
        coords.geodesic_area_ha(gpd.GeoSeries([park_with_hole()]))
    with pytest.raises(CRSError, match="unknown CRS"):
        coords.geodesic_area_ha([park_with_hole()], crs="EPSG:999999")
    with pytest.raises(CRSError, match="contradicts"):
        coords.geodesic_area_ha(gpd.GeoSeries([park_with_hole()], crs=4326), crs=3857)
