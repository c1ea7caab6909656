"""Industry clusters: hand-built layouts where the clusters are known by construction."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from parkgeo._errors import CRSError, ParkgeoError, SchemaError
from parkgeo.cli import main
from parkgeo.clusters import CLUSTER_COLUMNS, industry_clusters

ROOT = Path(__file__).resolve().parent.parent
GK117 = "EPSG:4548"  # CGCS2000 / 3-degree Gauss-Kruger CM 117E: the local metric CRS chosen here
_TO_LONLAT = Transformer.from_crs(GK117, "EPSG:4326", always_xy=True)
X0, Y0 = 500_000.0, 4_330_000.0  # about 117.0 E, 39.1 N


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_LONLAT.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def two_blobs_and_noise(seed: int = 1) -> pd.DataFrame:
    """C39: blob A (30 firms within ~60 m of (0, 0)), blob B (20 firms around (3 km, 0)) and 5
    scattered firms 10+ km apart; C27: 12 firms around (0, 5 km). Tax 1 per firm in A, 2 in B."""
    rng = np.random.default_rng(seed)
    xs, ys, inds, tax = [], [], [], []

    def blob(n: int, cx: float, cy: float, code: str, t: float) -> None:
        xs.extend(cx + rng.normal(0, 30, n))
        ys.extend(cy + rng.normal(0, 30, n))
        inds.extend([code] * n)
        tax.extend([t] * n)

    blob(30, 0.0, 0.0, "C3911", 1.0)
    blob(20, 3000.0, 0.0, "C39", 2.0)
    for i in range(5):
        xs.append(-20_000.0 + 10_000.0 * i)
        ys.append(20_000.0)
        inds.append("C3914")
        tax.append(100.0)
    blob(12, 0.0, 5000.0, "C2710", 5.0)
    lon, lat = _lonlat(X0 + np.array(xs), Y0 + np.array(ys))
    n = len(xs)
    return pd.DataFrame(
        {
            "enterprise_id": [f"E{i:04d}" for i in range(n)],
            "name": [f"firm {i}" for i in range(n)],
            "industry": inds,
            "lon": lon,
            "lat": lat,
            "year": 2015,
            "tax": tax,
            "value_added": np.array(tax) * 10,
            "energy_tce": 1.0,
            "employees": 10.0,
        },
        index=pd.RangeIndex(100, 100 + n),
    )


def _park_around(cx: float, cy: float, half: float, park_id: str) -> shapely.Polygon:
    lon, lat = _lonlat(
        np.array([cx - half, cx + half, cx + half, cx - half]) + X0,
        np.array([cy - half, cy - half, cy + half, cy + half]) + Y0,
    )
    return shapely.Polygon(list(zip(lon, lat, strict=True)))


def parks_fixture() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": ["PA", "PFAR"], "name": ["Park A", "Far park"]},
        geometry=[_park_around(0, 0, 500, "PA"), _park_around(50_000, 50_000, 500, "PFAR")],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_two_clear_clusters_and_noise(method: str) -> None:
    firms = two_blobs_and_noise()
    res = industry_clusters(
        firms, method=method, min_size=5, eps_m=300 if method == "dbscan" else None
    )
    labels = res.labels
    assert labels.index.equals(firms.index)
    a, b, noise, c27 = labels.iloc[:30], labels.iloc[30:50], labels.iloc[50:55], labels.iloc[55:]
    assert a.nunique() == 1 and b.nunique() == 1 and c27.nunique() == 1
    assert (noise == -1).all()
    assert len({int(a.iloc[0]), int(b.iloc[0]), -1}) == 3
    if method == "hdbscan":
        # HDBSCAN never makes one cluster of all of an industry's firms: the lone C27 blob is noise
        assert (c27 == -1).all()
        assert res.clusters["n_firms"].tolist() == [30, 20]
        return
    table = res.clusters
    assert list(table.columns) == CLUSTER_COLUMNS
    # numbered by industry, then size: C27 first, then the C39 blob of 30, then the one of 20
    assert table["industry"].tolist() == ["C27", "C39", "C39"]
    assert table["n_firms"].tolist() == [12, 30, 20]
    assert table["rank_in_industry"].tolist() == [1, 1, 2]
    assert table["cluster_id"].tolist() == [0, 1, 2]
    assert int(c27.iloc[0]) == 0 and int(a.iloc[0]) == 1 and int(b.iloc[0]) == 2
    assert table["tax"].tolist() == [60.0, 30.0, 40.0]
    assert table["value_added"].tolist() == [600.0, 300.0, 400.0]
    assert table["industry_name_en"].iloc[1].startswith("Manufacture of computers")
    assert table["industry_name"].iloc[0] == "医药制造业"
    # hulls in WGS-84 contain their firms; centroids are the mean position
    assert table.crs.to_epsg() == 4326
    hull_a = table.geometry.iloc[1]
    pts = shapely.points(firms["lon"].iloc[:30], firms["lat"].iloc[:30])
    assert shapely.covers(hull_a, pts).all()
    clon, clat = _lonlat(np.array([X0]), np.array([Y0]))
    assert table["centroid_lon"].iloc[1] == pytest.approx(clon[0], abs=3e-4)
    assert table["centroid_lat"].iloc[1] == pytest.approx(clat[0], abs=3e-4)
    assert 0 < table["hull_area_ha"].iloc[1] < 10
    assert table["share_in_parks"].isna().all()  # no parks given


def test_eps_is_in_metres_not_degrees() -> None:
    # ten firms 400 m apart in a row: one cluster at eps 500 m, all noise at eps 300 m
    lon, lat = _lonlat(X0 + 400.0 * np.arange(10), np.full(10, Y0))
    firms = pd.DataFrame(
        {"enterprise_id": [f"e{i}" for i in range(10)], "industry": "C38", "lon": lon, "lat": lat}
    )
    wide = industry_clusters(firms, method="dbscan", eps_m=500, min_size=3)
    assert (wide.labels == 0).all()
    narrow = industry_clusters(firms, method="dbscan", eps_m=300, min_size=3)
    assert (narrow.labels == -1).all() and narrow.clusters.empty
    assert list(narrow.clusters.columns) == CLUSTER_COLUMNS


def test_row_order_invariance_and_determinism() -> None:
    firms = two_blobs_and_noise()
    shuffled = firms.sample(frac=1.0, random_state=11)
    for method, eps in (("dbscan", 300.0), ("hdbscan", None)):
        a = industry_clusters(firms, method=method, eps_m=eps, min_size=5)
        b = industry_clusters(shuffled, method=method, eps_m=eps, min_size=5)
        again = industry_clusters(firms, method=method, eps_m=eps, min_size=5)
        pd.testing.assert_series_equal(a.labels, b.labels.loc[firms.index])
        pd.testing.assert_frame_equal(a.clusters, b.clusters)
        pd.testing.assert_frame_equal(a.clusters, again.clusters)
    assert not firms.equals(shuffled)  # the input was not sorted in place


def test_chunked_dbscan_matches_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [rng.normal(0, 150, 400), rng.normal(2500, 200, 300), rng.uniform(-5e3, 8e3, 60)]
    )
    y = np.concatenate(
        [rng.normal(0, 150, 400), rng.normal(0, 200, 300), rng.uniform(-5e3, 5e3, 60)]
    )
    lon, lat = _lonlat(X0 + x, Y0 + y)
    firms = pd.DataFrame(
        {
            "enterprise_id": [f"e{i:04d}" for i in range(len(x))],
            "industry": "C35",
            "lon": lon,
            "lat": lat,
        }
    )
    full = industry_clusters(firms, method="dbscan", eps_m=120, min_size=8)
    chunked = industry_clusters(firms, method="dbscan", eps_m=120, min_size=8, max_pairs=500)
    assert full.params["dbscan_path"] == {"C35": "pairs"}
    assert chunked.params["dbscan_path"] == {"C35": "chunked"}
    pd.testing.assert_series_equal(full.labels, chunked.labels)
    pd.testing.assert_frame_equal(full.clusters, chunked.clusters)


@pytest.mark.parametrize(("eps", "min_size", "seed"), [(120, 8, 3), (60, 4, 5), (300, 15, 7)])
def test_dbscan_labels_equal_scikit_learn(eps: float, min_size: int, seed: int) -> None:
    """Both DBSCAN paths give scikit-learn's own labels, border points reachable from two
    clusters included (grid-snapped coordinates make many exact ties at eps)."""
    from sklearn.cluster import DBSCAN

    from parkgeo.clusters import _dbscan

    rng = np.random.default_rng(seed)
    xy = np.concatenate(
        [
            rng.normal(0, 120, (500, 2)),
            rng.normal((1500, 0), 150, (400, 2)),
            rng.normal((0, 1500), 60, (60, 2)),
            np.round(rng.uniform(-2000, 3000, (300, 2)) / 30) * 30,
        ]
    )
    expected = DBSCAN(eps=eps, min_samples=min_size, algorithm="kd_tree").fit_predict(xy)
    for guard, path in ((10**9, "pairs"), (2_000, "chunked")):
        labels, ran, _ = _dbscan(xy, eps_m=eps, min_size=min_size, max_pairs=guard)
        assert ran == path
        np.testing.assert_array_equal(labels, expected)
    assert len(set(expected)) >= 4  # noise and at least three clusters


def test_years_parks_and_labels_on_every_row() -> None:
    firms = two_blobs_and_noise()
    # 2014: same firms, blob A 8 km further east (e.g. before a relocation); one firm closed
    earlier = firms.copy()
    earlier["year"] = 2014
    earlier.index = earlier.index + 1000
    moved = earlier.index[:30]
    lon, lat = _lonlat(X0 + 8000.0 + np.zeros(30), Y0 + np.zeros(30))
    earlier.loc[moved, "lon"] = lon
    earlier.loc[moved, "lat"] = lat
    gone = pd.DataFrame(
        {
            "enterprise_id": ["GONE"],
            "industry": ["C39"],
            "lon": [117.0],
            "lat": [39.1],
            "year": [2014],
        },
        index=[5000],
    )
    panel = pd.concat([firms, earlier, gone])
    res = industry_clusters(panel, method="dbscan", eps_m=300, min_size=5, parks=parks_fixture())
    assert res.params["year"] == 2015
    assert res.labels.index.equals(panel.index)
    # a firm's 2014 row carries the label of its 2015 location
    assert (
        res.labels.loc[earlier.index].to_numpy() == res.labels.loc[firms.index].to_numpy()
    ).all()
    assert res.labels.loc[5000] is pd.NA
    table = res.clusters.set_index("cluster_id")
    assert table.loc[1, "park_ids"] == "PA"
    assert table.loc[1, "n_in_parks"] == 30 and table.loc[1, "share_in_parks"] == 1.0
    assert table.loc[2, "share_in_parks"] == 0.0 and pd.isna(table.loc[2, "park_ids"])
    old = industry_clusters(panel, method="dbscan", eps_m=300, min_size=5, year=2014)
    assert old.params["year"] == 2014 and old.clusters["year"].eq(2014).all()
    with pytest.raises(ParkgeoError, match="year 2030 is not in the enterprises"):
        industry_clusters(panel, year=2030)


def test_join_output_decides_park_membership() -> None:
    firms = two_blobs_and_noise()
    assigned = firms.assign(
        park_id=pd.Categorical(["PX"] * 10 + [None] * (len(firms) - 10)),
        match=pd.Categorical(["inside"] * 10 + ["unmatched"] * (len(firms) - 10)),
    )
    res = industry_clusters(assigned, method="dbscan", eps_m=300, min_size=5)
    row = res.clusters.set_index("cluster_id").loc[1]
    assert row["n_in_parks"] == 10 and row["share_in_parks"] == pytest.approx(10 / 30)
    assert row["park_ids"] == "PX"


def test_geodataframe_in_a_projected_crs() -> None:
    firms = two_blobs_and_noise()
    as_points = gpd.GeoDataFrame(
        firms.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(firms["lon"], firms["lat"]),
        crs="EPSG:4326",
    ).to_crs("EPSG:32650")
    a = industry_clusters(firms, method="dbscan", eps_m=300, min_size=5)
    b = industry_clusters(as_points, method="dbscan", eps_m=300, min_size=5)
    pd.testing.assert_series_equal(a.labels, b.labels)
    with pytest.raises(CRSError):
        industry_clusters(as_points.set_crs(None, allow_override=True))


def test_firms_at_one_address_get_an_area_and_coarse_codes_are_left_out() -> None:
    firms = pd.DataFrame(
        {
            "enterprise_id": [f"e{i}" for i in range(12)],
            "industry": ["C36"] * 10 + ["C", "C"],
            "lon": 117.2,
            "lat": 39.1,
        }
    )
    res = industry_clusters(firms, method="dbscan", min_size=5)
    assert res.clusters["n_firms"].tolist() == [10]
    assert res.clusters.geometry.iloc[0].geom_type == "Polygon"
    assert res.clusters["hull_area_ha"].iloc[0] > 0.1  # buffered by 25 m
    assert res.labels.iloc[10] is pd.NA and res.labels.iloc[11] is pd.NA
    sections = industry_clusters(firms, method="dbscan", min_size=5, level="section")
    assert sections.clusters["n_firms"].tolist() == [12]


def test_bad_options_and_inputs() -> None:
    firms = two_blobs_and_noise()
    with pytest.raises(ParkgeoError, match="method"):
        industry_clusters(firms, method="kmeans")  # type: ignore[arg-type]
    with pytest.raises(ParkgeoError, match="min_size"):
        industry_clusters(firms, min_size=1)
    with pytest.raises(ParkgeoError, match="eps_m"):
        industry_clusters(firms, eps_m=-5)
    with pytest.raises(ParkgeoError, match="level"):
        industry_clusters(firms, level="subclass")
    with pytest.raises(SchemaError, match="industry"):
        industry_clusters(firms.drop(columns="industry"))
    with pytest.raises(SchemaError, match="row 103 has no enterprise_id"):
        industry_clusters(
            firms.assign(enterprise_id=firms["enterprise_id"].where(firms.index != 103))
        )
    dup = pd.concat([firms, firms.iloc[[0]]])
    with pytest.raises(ParkgeoError, match="E0000.*appears 2 times"):
        industry_clusters(dup)
    no_crs = parks_fixture().set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="parks"):
        industry_clusters(firms, parks=no_crs)


def test_cli_clusters_csv_and_geopackage(tmp_path, capsys) -> None:
    firms = two_blobs_and_noise()
    firms_path = tmp_path / "firms.csv"
    firms.to_csv(firms_path, index=False)
    parks_path = tmp_path / "parks.geojson"
    parks_fixture().to_file(parks_path, driver="GeoJSON")
    out_csv = tmp_path / "clusters.csv"
    labels = tmp_path / "labels.csv"
    common = ["clusters", "--enterprises", str(firms_path), "--parks", str(parks_path)]
    opts = ["--method", "dbscan", "--eps-m", "300", "--min-size", "5", "-q"]
    assert main([*common, *opts, "-o", str(out_csv), "--labels", str(labels)]) == 0
    table = pd.read_csv(out_csv)
    assert list(table.columns) == CLUSTER_COLUMNS
    assert table["n_firms"].tolist() == [12, 30, 20]
    assert table["geometry"].str.startswith("POLYGON").all()  # hulls as WKT in CSV
    assert pd.read_csv(labels)["cluster_id"].tolist()[:31] == [1] * 30 + [2]
    out_gpkg = tmp_path / "clusters.gpkg"
    assert main([*common, *opts, "-o", str(out_gpkg)]) == 0
    gpkg = gpd.read_file(out_gpkg)
    assert len(gpkg) == 3 and gpkg.geometry.geom_type.eq("Polygon").all()
    assert main(["clusters", "--enterprises", str(firms_path), *opts]) == 0  # stdout, no parks
    assert capsys.readouterr().out.startswith("cluster_id,industry,")
    assert main([*common, "--method", "optics"]) == 2


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkgeo", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_industry_column_is_one_clear_error(tmp_path, caplog) -> None:
    firms = two_blobs_and_noise().drop(columns="industry")
    with pytest.raises(SchemaError, match="no 'industry' column.*--columns"):
        industry_clusters(firms)
    # the loader keeps an empty industry column when the file has none (documented optional)
    empty = firms.assign(industry=pd.NA)
    with pytest.raises(SchemaError, match="industry column is empty.*--columns"):
        industry_clusters(empty)
    path = tmp_path / "no_industry.csv"
    firms.to_csv(path, index=False)
    done = _cli("clusters", "--enterprises", str(path), "-q")
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "industry" in lines[0] and "--columns" in lines[0]


def test_section_codes_only_run_at_section_level(tmp_path, caplog) -> None:
    firms = two_blobs_and_noise()
    sections = firms.assign(industry=firms["industry"].str[0])  # C3911 -> C
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        res = industry_clusters(sections, method="dbscan", eps_m=300, min_size=5)
    assert res.params["level"] == "section"
    assert "section-level only" in caplog.text and "runs at section level" in caplog.text
    # all C firms together: blob A (30) + blob B (20) + C27's 12 firms (5 km away, own cluster)
    assert sorted(res.clusters["n_firms"].tolist()) == [12, 20, 30]
    assert set(res.clusters["industry"]) == {"C"}
    with pytest.raises(ParkgeoError, match=r"section-level only.*--level section"):
        industry_clusters(sections, level="division")
    path = tmp_path / "sections.csv"
    sections.to_csv(path, index=False)
    done = _cli("clusters", "--enterprises", str(path), "--eps-m", "300", "--min-size", "5")
    assert done.returncode == 0, done.stderr
    assert "runs at section level" in done.stderr and "section level" in done.stderr
    assert pd.read_csv(io.StringIO(done.stdout))["industry"].eq("C").all()
    refused = _cli("clusters", "--enterprises", str(path), "--level", "group", "-q")
    assert refused.returncode == 3 and "--level section" in refused.stderr


def test_mixed_codes_left_out_are_counted(caplog) -> None:
    firms = two_blobs_and_noise()
    firms.loc[firms.index[:3], "industry"] = "C"
    firms.loc[firms.index[3], "industry"] = None
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        res = industry_clusters(firms, method="dbscan", eps_m=300, min_size=5)
    assert res.params["level"] == "division"
    assert "4 of 67 rows of the enterprises have no division-level industry code" in caplog.text
    assert res.labels.iloc[:4].isna().all()


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=2, max_size=120),
    eps=st.sampled_from([1.0, 2.0, 3.0, 5.0]),
    min_size=st.integers(2, 6),
)
def test_dbscan_equals_scikit_learn_on_any_layout(
    points: list[tuple[int, int]], eps: float, min_size: int
) -> None:
    """Lattice points: duplicates and pairs at exactly eps everywhere, the hardest case for
    identical labels; both paths and scikit-learn agree label for label."""
    from sklearn.cluster import DBSCAN

    from parkgeo.clusters import _dbscan

    xy = np.asarray(points, dtype=float) * 10.0
    expected = DBSCAN(eps=eps * 10.0, min_samples=min_size).fit_predict(xy)
    for guard in (10**9, 1):
        labels, _, _ = _dbscan(xy, eps_m=eps * 10.0, min_size=min_size, max_pairs=guard)
        np.testing.assert_array_equal(labels, expected)


def _with_far_firm() -> pd.DataFrame:
    """The fixture plus one C3911 firm on the equator ~90 degrees west of Tianjin's central
    meridian (117 E): the Gauss-Kruger projection sends it to infinity."""
    firms = two_blobs_and_noise()
    far = firms.iloc[[0]].assign(enterprise_id="FAR1", lon=27.0, lat=0.0)
    return pd.concat([firms, far.set_axis([999])])


def test_a_firm_that_cannot_be_projected_is_left_out_and_said(tmp_path, caplog) -> None:
    from parkgeo.structure import colocation_quotients

    firms = _with_far_firm()
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        res = industry_clusters(firms, method="dbscan", eps_m=300, min_size=5)
    assert "industry_clusters: 1 firms are too far from the others" in caplog.text
    assert "e.g. enterprise_id 'FAR1' at lon 27.0000, lat 0.0000" in caplog.text
    # the other firms' clusters are those of the fixture without it
    alone = industry_clusters(two_blobs_and_noise(), method="dbscan", eps_m=300, min_size=5)
    assert res.clusters["n_firms"].tolist() == alone.clusters["n_firms"].tolist() == [12, 30, 20]
    assert pd.isna(res.labels.loc[999]) and res.params["n_firms"] == len(firms) - 1
    assert np.isfinite(res.clusters[["centroid_lon", "centroid_lat"]].to_numpy()).all()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        clq = colocation_quotients(firms)
    assert "colocation_quotients: 1 firms are too far" in caplog.text
    assert np.isfinite(clq["clq"].dropna()).all()
    path = tmp_path / "far.csv"
    firms.to_csv(path, index=False)
    done = _cli("clusters", "--enterprises", str(path), "--eps-m", "300", "--min-size", "5")
    assert done.returncode == 0, done.stderr
    assert "1 firms are too far from the others" in done.stderr and "FAR1" in done.stderr
    assert pd.read_csv(io.StringIO(done.stdout))["n_firms"].tolist() == [12, 30, 20]
