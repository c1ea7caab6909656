"""Park specialisation and relatedness: hand-computed location quotients, proximity, density,
co-location quotients and peer groups."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo.structure import (
    colocation_proximity,
    colocation_quotients,
    industry_totals,
    location_quotients,
    park_industry_matrix,
    peer_groups,
    presence,
    proximity,
    relatedness_density,
)

# 3 parks x 4 industries, every row 20 firms; the reference totals are A 20, B 20, C 10, D 10 of
# 60, i.e. city shares 1/3, 1/3, 1/6, 1/6.
MATRIX = pd.DataFrame(
    {"A": [10.0, 0.0, 10.0], "B": [0.0, 10.0, 10.0], "C": [5.0, 5.0, 0.0], "D": [5.0, 5.0, 0.0]},
    index=pd.Index(["P1", "P2", "P3"], name="park_id"),
)


def test_location_quotients_by_hand() -> None:
    lq = location_quotients(MATRIX)
    # P1: A (10/20)/(20/60) = 1.5; C (5/20)/(10/60) = 1.5; B 0
    expected = np.array([[1.5, 0.0, 1.5, 1.5], [0.0, 1.5, 1.5, 1.5], [1.5, 1.5, 0.0, 0.0]])
    np.testing.assert_allclose(lq.to_numpy(), expected)
    assert list(lq.index) == ["P1", "P2", "P3"] and list(lq.columns) == list("ABCD")


def test_location_quotients_against_city_totals() -> None:
    totals = pd.Series({"A": 30.0, "B": 20.0, "C": 10.0, "D": 40.0})  # 100 firms in the city
    lq = location_quotients(MATRIX, city_totals=totals)
    assert lq.loc["P1", "A"] == pytest.approx((10 / 20) / (30 / 100))
    assert lq.loc["P2", "D"] == pytest.approx((5 / 20) / (40 / 100))
    with pytest.raises(ParkgeoError, match="city_totals"):
        location_quotients(MATRIX, city_totals=totals / 10)


def test_location_quotients_reject_negative_and_empty_rows() -> None:
    with pytest.raises(ParkgeoError, match="non-negative"):
        location_quotients(MATRIX.assign(A=[-1.0, 0.0, 10.0]))
    empty = pd.concat([MATRIX, pd.DataFrame(0.0, index=["P4"], columns=list("ABCD"))])
    lq = location_quotients(empty)
    assert lq.loc["P4"].isna().all()
    assert lq.loc["P1", "A"] == pytest.approx(1.5)


def test_presence_threshold_is_inclusive() -> None:
    lq = pd.DataFrame({"A": [1.0, 0.999, np.nan], "B": [2.0, 1.5, 1.49]})
    assert presence(lq).to_numpy().tolist() == [[1, 1], [0, 1], [0, 1]]
    assert presence(lq, threshold=1.5).to_numpy().tolist() == [[0, 1], [0, 1], [0, 0]]


def test_proximity_by_hand() -> None:
    m = presence(location_quotients(MATRIX))
    assert m.to_numpy().tolist() == [[1, 0, 1, 1], [0, 1, 1, 1], [1, 1, 0, 0]]
    phi = proximity(m)
    # ubiquity 2 everywhere; C and D co-occur in P1 and P2 (2/2), every other pair once (1/2)
    expected = np.array(
        [[1.0, 0.5, 0.5, 0.5], [0.5, 1.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0], [0.5, 0.5, 1.0, 1.0]]
    )
    np.testing.assert_allclose(phi.to_numpy(), expected)


def test_proximity_is_min_of_conditional_probabilities() -> None:
    m = pd.DataFrame({"X": [1, 1, 1, 1], "Y": [1, 0, 0, 0], "Z": [0, 0, 0, 0]})
    phi = proximity(m)
    # P(Y|X) = 1/4, P(X|Y) = 1: phi is the smaller
    assert phi.loc["X", "Y"] == pytest.approx(0.25) == phi.loc["Y", "X"]
    assert (phi.loc["Z"] == 0).all()


def test_relatedness_density_by_hand() -> None:
    m = presence(location_quotients(MATRIX))
    w = relatedness_density(m, proximity(m))
    # P3 has A and B: C relates to A 0.5, B 0.5, D 1.0 -> (0.5 + 0.5) / 2.0
    assert w.loc["P3", "C"] == pytest.approx(0.5)
    assert w.loc["P3", "A"] == pytest.approx(0.5 / 1.5)
    # P1 has A, C, D: B relates to all three at 0.5 -> 1.5 / 1.5
    assert w.loc["P1", "B"] == pytest.approx(1.0)
    assert w.loc["P2", "A"] == pytest.approx(1.0)
    assert ((w >= 0) & (w <= 1)).all().all()


def test_relatedness_density_needs_matching_proximity() -> None:
    m = presence(location_quotients(MATRIX))
    with pytest.raises(ParkgeoError, match="proximity lacks"):
        relatedness_density(m, proximity(m.drop(columns="D")))


def _firms(rows: list[tuple[str, str, str | None, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "enterprise_id": [r[0] for r in rows],
            "industry": [r[1] for r in rows],
            "park_id": [r[2] for r in rows],
            "match": ["inside" if r[2] else "unmatched" for r in rows],
            "year": [r[3] for r in rows],
            "employees": [r[4] for r in rows],
            "lon": 117.0,
            "lat": 39.0,
        }
    )


def test_park_industry_matrix_measures_years_and_parks() -> None:
    firms = _firms(
        [
            ("a", "C2710", "P1", 2015, 10.0),
            ("b", "C27", "P1", 2015, np.nan),
            ("c", "C3911", "P2", 2015, 5.0),
            ("d", "C3911", None, 2015, 7.0),  # outside parks: not in the matrix
            ("a", "C2710", "P1", 2014, 99.0),  # another year
            ("e", "C", "P2", 2015, 3.0),  # coarser than a division: left out
        ]
    )
    counts = park_industry_matrix(firms, parks=["P1", "P2", "P3"])
    assert counts.to_dict() == {
        "C27": {"P1": 2.0, "P2": 0.0, "P3": 0.0},
        "C39": {"P1": 0.0, "P2": 1.0, "P3": 0.0},
    }
    employees = park_industry_matrix(firms, measure="employees")
    assert employees.loc["P1", "C27"] == 10.0  # NaN skipped
    earlier = park_industry_matrix(firms, year=2014)
    assert earlier.to_dict() == {"C27": {"P1": 1.0}}
    totals = industry_totals(firms)
    assert totals.to_dict() == {"C27": 2.0, "C39": 2.0}
    with pytest.raises(SchemaError, match="assign_parks"):
        park_industry_matrix(firms.drop(columns="park_id"))
    with pytest.raises(ParkgeoError, match="measure"):
        park_industry_matrix(firms, measure="profit")
    with pytest.raises(ParkgeoError, match="year 2030"):
        park_industry_matrix(firms, year=2030)


# ---------------------------------------------------------------------------------------------
# co-location quotients
# ---------------------------------------------------------------------------------------------

# Points on one east-west line, in metres (CGCS2000 / 3-degree GK CM 117E, Tianjin's local CRS):
# A1 0, B1 100, A2 1000, A3 1150, B2 5000, C1 5300, C2 5600. C1 is 300 m from both B2 and C2.
LINE = [
    ("a1", "C27", 0.0),
    ("b1", "C38", 100.0),
    ("a2", "C27", 1000.0),
    ("a3", "C27", 1150.0),
    ("b2", "C38", 5000.0),
    ("c1", "C39", 5300.0),
    ("c2", "C39", 5600.0),
]


def _line_layout(order: list[int] | None = None) -> gpd.GeoDataFrame:
    rows = [LINE[i] for i in (order or range(len(LINE)))]
    return gpd.GeoDataFrame(
        {"enterprise_id": [r[0] for r in rows], "industry": [r[1] for r in rows]},
        geometry=shapely.points([500_000.0 + r[2] for r in rows], [4_330_000.0] * len(rows)),
        crs="EPSG:4548",
    )


def test_colocation_quotients_by_hand() -> None:
    clq = colocation_quotients(_line_layout()).set_index(["industry_a", "industry_b"])["clq"]
    # N = 7; N_A = 3, N_B = 2, N_C = 2. Nearest neighbours: a1->b1, b1->a1, a2->a3, a3->a2,
    # b2->c1, c1->{b2, c2} (tie: 1/2 each), c2->c1.
    assert clq["C27", "C27"] == pytest.approx((2 / 3) / (2 / 6))  # 2.0
    assert clq["C27", "C38"] == pytest.approx((1 / 3) / (2 / 6))  # 1.0
    assert clq["C38", "C27"] == pytest.approx((1 / 2) / (3 / 6))  # 1.0
    assert clq["C38", "C39"] == pytest.approx((1 / 2) / (2 / 6))  # 1.5
    assert clq["C39", "C38"] == pytest.approx((0.5 / 2) / (2 / 6))  # 0.75
    assert clq["C39", "C39"] == pytest.approx((1.5 / 2) / (1 / 6))  # 4.5
    assert clq["C38", "C38"] == 0.0
    assert clq["C27", "C39"] == 0.0


def test_colocation_counts_add_up_and_ignore_row_order() -> None:
    base = colocation_quotients(_line_layout())
    # every firm spreads a weight of 1 over its neighbours
    assert base.groupby("industry_a")["n_a_to_b"].sum().to_dict() == {
        "C27": 3.0,
        "C38": 2.0,
        "C39": 2.0,
    }
    shuffled = colocation_quotients(_line_layout([6, 2, 4, 0, 5, 1, 3]))
    pd.testing.assert_frame_equal(base, shuffled)


def test_colocation_many_firms_at_one_address() -> None:
    # 12 firms share one address (more than the neighbours first queried): each of them splits
    # its weight equally over the 11 others; the lone C39 firm's nearest is that address.
    gdf = gpd.GeoDataFrame(
        {
            "enterprise_id": [f"e{i:02d}" for i in range(13)],
            "industry": ["C27"] * 6 + ["C38"] * 6 + ["C39"],
        },
        geometry=shapely.points([500_000.0] * 12 + [500_050.0], [4_330_000.0] * 13),
        crs="EPSG:4548",
    )
    clq = colocation_quotients(gdf).set_index(["industry_a", "industry_b"])
    # a C27 firm: 5 of its 11 co-located neighbours are C27, 6 are C38
    assert clq.loc[("C27", "C27"), "n_a_to_b"] == pytest.approx(6 * 5 / 11)
    assert clq.loc[("C27", "C38"), "n_a_to_b"] == pytest.approx(6 * 6 / 11)
    assert clq.loc[("C39", "C27"), "n_a_to_b"] == pytest.approx(0.5)
    assert clq.loc[("C39", "C38"), "n_a_to_b"] == pytest.approx(0.5)


def test_colocation_proximity_from_the_layout() -> None:
    phi = colocation_proximity(colocation_quotients(_line_layout()))
    # C38-C39: CLQ 1.5 and 0.75 -> min 0.75 <= 1 -> 0; C27-C38: 1.0 both ways -> 0
    assert phi.loc["C38", "C39"] == 0.0 == phi.loc["C39", "C38"]
    assert phi.loc["C27", "C38"] == 0.0
    assert np.diag(phi.to_numpy()).tolist() == [1.0, 1.0, 1.0]
    strong = pd.DataFrame(
        {"industry_a": ["A", "A", "B"], "industry_b": ["B", "A", "A"], "clq": [4.0, 1.0, 2.5]}
    )
    # min(4.0, 2.5) = 2.5 -> 1 - 1/2.5
    assert colocation_proximity(strong).loc["A", "B"] == pytest.approx(0.6)
    with pytest.raises(SchemaError, match="colocation_quotients"):
        colocation_proximity(strong.drop(columns="clq"))


def test_colocation_k2_and_errors() -> None:
    clq = colocation_quotients(_line_layout(), k=2)
    assert clq.groupby("industry_a")["n_a_to_b"].sum().to_dict() == {
        "C27": 3.0,
        "C38": 2.0,
        "C39": 2.0,
    }
    with pytest.raises(ParkgeoError, match="k must"):
        colocation_quotients(_line_layout(), k=0)
    with pytest.raises(ParkgeoError, match="more than k"):
        colocation_quotients(_line_layout().iloc[:2], k=2)


# ---------------------------------------------------------------------------------------------
# peer groups
# ---------------------------------------------------------------------------------------------


def _mixes() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    profiles = {
        "auto": [40, 30, 20, 5, 5, 0],
        "chem": [5, 5, 0, 50, 30, 10],
        "port": [0, 5, 5, 5, 10, 75],
    }
    rows = {}
    for name, base in profiles.items():
        for j in range(4):
            rows[f"{name}{j}"] = np.asarray(base, float) + rng.integers(0, 4, size=6)
    return pd.DataFrame(rows, index=list("ABCDEF")).T


def test_peer_groups_recover_clear_groups() -> None:
    mixes = _mixes()
    pg = peer_groups(mixes)
    assert pg.k == 3
    for name in ("auto", "chem", "port"):
        members = [p for p in pg.groups.index if p.startswith(name)]
        assert pg.groups[members].nunique() == 1
    assert pg.groups.nunique() == 3
    assert pg.peers("chem1") == ["chem0", "chem2", "chem3"]
    assert "silhouette" in pg.criterion and "k=3" in pg.criterion
    assert pg.silhouette["chosen"].sum() == 1
    assert pg.silhouette.loc[pg.silhouette["chosen"], "k"].item() == 3
    assert pg.silhouette["silhouette"].max() == pytest.approx(
        pg.silhouette.loc[pg.silhouette["chosen"], "silhouette"].item()
    )


def test_peer_groups_deterministic_order_free_and_size_free() -> None:
    mixes = _mixes()
    a = peer_groups(mixes, random_state=0)
    b = peer_groups(mixes.iloc[::-1] * 3.0, random_state=0)  # row order and size do not matter
    pd.testing.assert_series_equal(a.groups, b.groups)
    agg = peer_groups(mixes, method="agglomerative")
    assert agg.groups.nunique() == 3


def test_peer_groups_empty_park_and_given_k() -> None:
    mixes = pd.concat([_mixes(), pd.DataFrame(0.0, index=["empty"], columns=list("ABCDEF"))])
    pg = peer_groups(mixes, k=2)
    assert pg.groups["empty"] == -1
    assert pg.peers("empty") == []
    assert pg.k == 2 and "given" in pg.criterion
    with pytest.raises(ParkgeoError, match="k must be"):
        peer_groups(mixes, k=50)
    with pytest.raises(ParkgeoError, match="method"):
        peer_groups(mixes, method="dbscan")
