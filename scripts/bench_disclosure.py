#!/usr/bin/env python
"""Time disclosure control against computing the density table itself, and count what it
withholds: on the bundled sample (as shipped, and thinned so that rules bite) and on a
synthetic city of N parks x Y years with firms in the 97 GB/T 4754 divisions.

The synthetic city is realistic where it matters for disclosure: park sizes are log-normal
(a few parks of 1-5 firms, most of tens to hundreds), firm taxes Pareto-tailed (so some parks
are dominated by one firm), a few firms lie outside every park, and every firm has a division.
Prints a Markdown table.

Usage::

    python scripts/bench_disclosure.py                       # sample + 500 parks x 4 years
    python scripts/bench_disclosure.py --parks 100 --by-industry
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synthetic_city(n_parks: int, n_years: int, seed: int = 0) -> tuple[pd.DataFrame, Any]:
    import geopandas as gpd
    from shapely.geometry import box

    from parkgeo.industry import load_classification

    rng = np.random.default_rng(seed)
    classes = load_classification()
    divisions = sorted(classes.loc[classes["level"] == "division", "code"].astype(str))
    park_ids = [f"P{i:04d}" for i in range(n_parks)]
    parks = gpd.GeoDataFrame(
        {"park_id": park_ids},
        geometry=[
            box(
                116.8 + (i % 25) * 0.02,
                38.6 + (i // 25) * 0.02,
                116.81 + (i % 25) * 0.02,
                38.61 + (i // 25) * 0.02,
            )
            for i in range(n_parks)
        ],
        crs="EPSG:4326",
    )
    sizes = np.maximum(1, rng.lognormal(mean=4.5, sigma=1.3, size=n_parks).astype(int))
    park_of = np.repeat(np.arange(n_parks), sizes)
    n_out = max(1, int(0.05 * len(park_of)))
    park_of = np.r_[park_of, np.full(n_out, -1)]
    n_firms = len(park_of)
    division = rng.choice(len(divisions), size=n_firms, p=_zipf(len(divisions)))
    scale = (rng.pareto(1.2, size=n_firms) + 1.0) * 50.0
    frames = []
    for k in range(n_years):
        growth = 1.0 + 0.05 * k + rng.normal(0, 0.1, n_firms)
        frames.append(
            pd.DataFrame(
                {
                    "enterprise_id": np.arange(n_firms).astype(str),
                    "park_id": pd.Categorical.from_codes(park_of, categories=park_ids),
                    "year": 2013 + k,
                    "industry": np.asarray(divisions, dtype=object)[division],
                    "tax": scale * np.abs(growth) * 0.1,
                    "profit": scale * growth * 0.2,
                    "value_added": scale * np.abs(growth),
                    "energy_tce": scale * rng.uniform(0.1, 2.0, n_firms),
                    "employees": np.ceil(scale * 0.05),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), parks


def _zipf(n: int) -> Any:
    w = 1.0 / np.arange(1, n + 1)
    return w / w.sum()


def run(firms: pd.DataFrame, parks: Any, label: str, *, by_industry: bool) -> dict[str, Any]:
    from parkgeo.disclosure import DisclosureRules, contributions_of, protect
    from parkgeo.metrics import park_metrics

    rules = DisclosureRules()
    t0 = time.perf_counter()
    table = park_metrics(firms, parks)
    t_table = time.perf_counter() - t0
    t0 = time.perf_counter()
    contrib = contributions_of(firms, parks, measures=rules.measures, by_industry=by_industry)
    t_contrib = time.perf_counter() - t0
    t0 = time.perf_counter()
    protected = protect(table, contrib, parks, rules=rules)
    t_protect = time.perf_counter() - t0
    t0 = time.perf_counter()
    ranges = protected.attack()
    t_attack = time.perf_counter() - t0
    t_exact = float("nan")
    if not by_industry:  # two LPs per withheld sensitive cell: the auditor's report
        t0 = time.perf_counter()
        exact = protected.attack(exact=True)
        t_exact = time.perf_counter() - t0
        assert bool(exact["protected"].all())
    cells = protected.cells[protected.cells["shown"]]
    counts = cells["status"].value_counts()
    return {
        "data": label,
        "firm rows": len(firms),
        "cells": len(cells),
        "primary": int(counts.filter(like="primary").sum()),
        "secondary": int(counts.get("secondary", 0)),
        "table (s)": t_table,
        "contributions (s)": t_contrib,
        "protect (s)": t_protect,
        "attack (s)": t_attack,
        "exact LP attack (s)": t_exact,
        "all protected": bool(ranges["protected"].all()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parks", type=int, default=500)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument(
        "--by-industry",
        action="store_true",
        help="also protect park x division cells (97 divisions)",
    )
    parser.add_argument("--skip-sample", action="store_true")
    args = parser.parse_args()

    from parkgeo import assign_parks, load_tianjin

    rows = []
    if not args.skip_sample:
        sample = load_tianjin()
        firms = assign_parks(sample.enterprises, sample.parks, nearest=False).assigned
        rows.append(run(firms, sample.parks, "sample as shipped", by_industry=False))
        ids = sample.parks["park_id"].tolist()
        small = firms["park_id"] == ids[0]
        outside = firms["park_id"].isna()
        keep = (
            ~small | firms["enterprise_id"].isin(firms.loc[small, "enterprise_id"].unique()[:2])
        ) & (
            ~outside | firms["enterprise_id"].isin(firms.loc[outside, "enterprise_id"].unique()[:1])
        )
        rows.append(
            run(
                firms[keep],
                sample.parks,
                "sample, a 2-firm park + 1 firm outside",
                by_industry=False,
            )
        )
    firms, parks = synthetic_city(args.parks, args.years)
    label = f"synthetic {args.parks} parks x {args.years} years x 97 divisions"
    rows.append(run(firms, parks, label, by_industry=False))
    if args.by_industry:
        rows.append(run(firms, parks, label + ", park x division cells", by_industry=True))
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
