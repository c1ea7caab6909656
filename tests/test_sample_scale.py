"""The sample generator at other sizes: per-firm figures follow the count, firms outside the
parks sit where the city is built up (scripts/make_sample_data.py, data/SAMPLE.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from parkgeo import load_tianjin

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "make_sample_data.py"
SMALL, LARGE = 2_000, 20_000


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_data", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_sample_data"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def samples(gen: ModuleType) -> tuple[Any, Any]:
    inputs = gen.read_inputs(ROOT / "data")
    small = gen.generate(inputs, seed=2013, enterprises=SMALL)
    large = gen.generate(
        inputs, seed=2013, enterprises=LARGE, districts=small.districts, parks=small.parks
    )
    return small, large


def _city_2015_changes(panel: pd.DataFrame) -> tuple[float, float, float]:
    def figures(year: int) -> tuple[float, float, float]:
        d = panel[panel["year"] == year]
        ev = d[["energy_tce", "value_added"]].dropna()
        lp = d[["value_added", "employees"]].dropna()
        return (
            d["profit"].sum(),
            ev["energy_tce"].sum() / ev["value_added"].sum(),
            lp["value_added"].sum() / lp["employees"].sum(),
        )

    now, then = figures(2015), figures(2013)
    return tuple(100 * (a / b - 1) for a, b in zip(now, then, strict=True))  # type: ignore[return-value]


def test_per_park_intensities_do_not_grow_with_the_count(
    gen: ModuleType, samples: tuple[Any, Any]
) -> None:
    small, large = samples
    for year in (2013, 2015):
        a = gen.park_intensities(small.parks, small.panel, year)
        b = gen.park_intensities(large.parks, large.panel, year)
        for col in ("tax_per_ha", "energy_tce_per_ha"):
            ratio = b[col].median() / a[col].median()
            assert 1 / 1.5 < ratio < 1.5, (year, col, ratio)
    # The bundled 12k sample's range (the 66.6-600 10k CNY/ha in 2015) is the reference.
    bundled = gen.park_intensities(load_tianjin().parks, load_tianjin().enterprises, 2015)
    assert bundled["tax_per_ha"].min() == pytest.approx(66.6, abs=0.05)
    assert bundled["tax_per_ha"].max() == pytest.approx(600.1, abs=0.05)
    for sample in samples:
        tax = gen.park_intensities(sample.parks, sample.panel, 2015)["tax_per_ha"]
        assert tax.median() / bundled["tax_per_ha"].median() == pytest.approx(1.0, abs=0.3)


def test_city_totals_stay_of_the_same_order(samples: tuple[Any, Any]) -> None:
    small, large = samples
    for col in ("tax", "value_added", "energy_tce", "employees"):
        a = small.panel.loc[small.panel["year"] == 2013, col].sum()
        b = large.panel.loc[large.panel["year"] == 2013, col].sum()
        assert 1 / 1.3 < b / a < 1.3, (col, b / a)
    for sample in samples:
        assert _city_2015_changes(sample.panel) == pytest.approx((45.0, -2.88, 20.6), abs=0.01)


def test_size_distribution_follows_the_count(gen: ModuleType, samples: tuple[Any, Any]) -> None:
    small, large = samples
    emp_small = small.panel.loc[small.panel["year"] == 2013, "employees"].dropna()
    emp_large = large.panel.loc[large.panel["year"] == 2013, "employees"].dropna()
    # 2,000 firms are the established firms of the city, each standing for six
    assert (emp_small < 10).mean() < 0.01
    # of 20,000, 12,000 are established and 8,000 small (most below 10 employees)
    assert 0.3 < (emp_large < 10).mean() < 0.45
    big_small = int((emp_small >= 100).sum())
    big_large = int((emp_large >= 100).sum())
    assert big_large > big_small  # the large registry holds more big firms in absolute terms
    scale, is_small = gen.firm_size_scale(gen.REFERENCE_ENTERPRISES, np.random.default_rng(0))
    assert (scale == 1.0).all() and not is_small.any()  # the bundled sample's size is neutral


def _outside(sample: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    firms = sample.firms
    allp = shapely.union_all(sample.parks.geometry.values)
    lon, lat = firms["lon"].to_numpy(), firms["lat"].to_numpy()
    out = ~shapely.intersects_xy(allp, lon, lat)
    return lon[out], lat[out], firms["enterprise_id"].to_numpy()[out]


def test_outside_firms_lie_in_their_district_and_on_land(samples: tuple[Any, Any]) -> None:
    for sample in samples:
        lon, lat, ids = _outside(sample)
        assert len(lon) > 0.19 * len(sample.firms)
        district = np.full(len(lon), "", dtype=object)
        for adcode, geom in zip(
            sample.districts["adcode"], sample.districts.geometry.values, strict=True
        ):
            inside = shapely.contains_xy(geom, lon, lat)
            assert not (inside & (district != "")).any()  # in one district only
            district[inside] = adcode
        assert (district != "").all()  # none in the Bohai or outside Tianjin
        # the district code inside the credit code is the district the firm lies in
        assert (pd.Series(ids).str.slice(2, 8).to_numpy() == district).all()


def test_outside_firms_concentrate_near_town_centres(
    gen: ModuleType, samples: tuple[Any, Any]
) -> None:
    bundled = load_tianjin()
    allp = shapely.union_all(bundled.parks.geometry.values)
    tianjin = shapely.union_all(bundled.districts.geometry.values)
    minx, miny, maxx, maxy = tianjin.bounds
    rng = np.random.default_rng(1)
    x, y = rng.uniform(minx, maxx, 20_000), rng.uniform(miny, maxy, 20_000)
    keep = shapely.contains_xy(tianjin, x, y) & ~shapely.intersects_xy(allp, x, y)
    towns = samples[0].towns
    uniform = float(np.median(gen.km_to_nearest_town(x[keep], y[keep], towns)))
    assert uniform > 10.0
    e = bundled.enterprises[bundled.enterprises["year"] == 2013]
    out = ~shapely.intersects_xy(allp, e["lon"].to_numpy(), e["lat"].to_numpy())
    placed = [(e["lon"].to_numpy()[out], e["lat"].to_numpy()[out])]
    placed += [_outside(s)[:2] for s in samples]
    for lon, lat in placed:
        km = gen.km_to_nearest_town(lon, lat, towns)
        assert np.median(km) < 0.5 * uniform
        assert (km < 3.0).mean() > 0.2  # a dense core around the seats
    assert len(towns) == 18 and {"汉沽", "大港"} <= set(towns)
