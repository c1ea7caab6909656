"""Disclosure control of two-dimensional tables (park x division, with district subtotals):
rectangle certificates are sound, and exact LP attacks recover nothing too closely."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from parkgeo import park_metrics
from parkgeo._sdc_cert import axes_of, certified_steps
from parkgeo._sdc_lp import Problem, intervals, protected
from parkgeo._sdc_rules import PUBLISHED, SECONDARY, UNPUBLISHED
from parkgeo.disclosure import DisclosureRules, contributions_of, protect

DIVISIONS = ("C13", "C27", "C36", "I65")


def test_rectangle_certificate_matches_lp() -> None:
    # 2 parks x 2 divisions + no-division + total columns; rows: parks, outside, ALL_PARKS, ALL
    values = np.array([[5.0, 7.0, 12.0], [9.0, 4.0, 13.0], [14.0, 11.0, 25.0]])
    n_rows, n_cols = values.shape
    eq_rows, eq_cells, coef = [], [], []

    def add(cells: list[int], signs: list[float]) -> None:
        e = (max(eq_rows) + 1) if eq_rows else 0
        eq_rows.extend([e] * len(cells))
        eq_cells.extend(cells)
        coef.extend(signs)

    for c in range(n_cols):
        add([c, n_cols + c, 2 * n_cols + c], [1.0, 1.0, -1.0])
    for r in range(n_rows):
        add([r * n_cols, r * n_cols + 1, r * n_cols + 2], [1.0, 1.0, -1.0])
    eq = sp.csr_matrix((coef, (eq_rows, eq_cells)), shape=(max(eq_rows) + 1, values.size))
    flat = values.ravel()
    problem = Problem(flat, np.zeros(flat.size), np.full(flat.size, np.inf), eq, shape=(3, 3))
    unknown = np.zeros(flat.size, dtype=bool)
    unknown[[0, 1, 3, 4]] = True  # the 2 x 2 interior
    axes = axes_of(eq, (3, 3))
    up, down = certified_steps(axes, 0, unknown, flat, problem.lower, problem.upper)
    lo, hi = intervals(problem, unknown, np.array([0]))
    # up: (1,0)=9 and (0,1)=7 go down; down: (1,1)=4 goes down
    assert (up, down) == (7.0, 4.0)
    assert np.isclose(hi[0], 5.0 + 7.0) and np.isclose(lo[0], 5.0 - 4.0)


@st.composite
def _case(draw: Any) -> tuple[pd.DataFrame, gpd.GeoDataFrame, DisclosureRules]:
    n_parks = draw(st.integers(2, 5))
    rows = []
    for f in range(draw(st.integers(3, 40))):
        park = draw(st.integers(-1, n_parks - 1))
        base = draw(st.floats(1.0, 500.0))
        rows.append(
            {
                "enterprise_id": f"F{f}",
                "park_id": None if park < 0 else f"P{park}",
                "year": 2013,
                "industry": draw(st.sampled_from(DIVISIONS)),
                "tax": base * draw(st.sampled_from([1.0, 30.0])),
            }
        )
    parks = gpd.GeoDataFrame(
        {
            "park_id": [f"P{i}" for i in range(n_parks)],
            "district": [f"D{i % 2}" for i in range(n_parks)],
        },
        geometry=[box(117 + i * 0.01, 39, 117.005 + i * 0.01, 39.005) for i in range(n_parks)],
        crs="EPSG:4326",
    )
    rules = DisclosureRules(min_frequency=draw(st.integers(2, 4)), measures=("tax",))
    return pd.DataFrame(rows), parks, rules


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_park_by_division_tables_leak_nothing(
    case: tuple[pd.DataFrame, gpd.GeoDataFrame, DisclosureRules],
) -> None:
    firms, parks, rules = case
    table = park_metrics(firms, parks, baseline_year=2013, industry_mix=False)
    contrib = contributions_of(firms, parks, measures=rules.measures, by_industry=True)
    out = protect(table, contrib, parks, rules=rules, baseline_year=2013, districts=True)
    ranges = out.attack()
    assert ranges["protected"].all()
    # the same attack by exact LP only (no certificates) agrees: certificates are sound
    solved = out._solved["tax"]
    grid = solved.grid
    status = solved.status[2013]
    value = grid.value[0]
    problem = Problem(
        value, np.where(value >= 0, 0.0, -np.inf), np.full(value.size, np.inf), grid.equations
    )
    sensitive = (status != PUBLISHED) & (status != SECONDARY) & (status != UNPUBLISHED)
    cells = np.flatnonzero(sensitive)
    if len(cells):
        lo, hi = intervals(problem, status != PUBLISHED, cells)
        level = solved.level[2013][cells]
        assert protected(problem, lo, hi, cells, level, np.minimum(level, value[cells])).all()
