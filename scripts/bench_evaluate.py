#!/usr/bin/env python
"""Benchmark the per-mu evaluation at Tianjin's real firm count (120,000 firms).

Builds the synthetic sample at ``--enterprises`` firms with ``scripts/make_sample_data.py``
(not timed), then times :func:`parkgeo.evaluate.evaluate_enterprises` with the example scheme
``jingde_minmax`` (min-max scores, class shares, parcels for three parks) on one year and on
all four years, and, as a reference in the same run, a plain pandas computation over the
same rows: tax per mu, its percentile rank within year and above-scale group, and a class by
those percentiles (what a spreadsheet does, without eligibility, several indicators, parcels,
reasons, roll-up or ledger). Also times writing the workbook.

Usage::

    python scripts/bench_evaluate.py --enterprises 120000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402

from parkgeo.datasets import load_tianjin  # noqa: E402
from parkgeo.evaluate import evaluate_enterprises, write_evaluation  # noqa: E402


def _pandas_reference(firms: pd.DataFrame) -> pd.Series:
    tax_per_mu = firms["tax"] / firms["land_mu"]
    pct = tax_per_mu.groupby([firms["year"], firms["above_scale"]]).rank(pct=True)
    return pd.cut(pct, [0, 0.1, 0.3, 0.8, 1.0], labels=["D", "C", "B", "A"])


def _timed(label: str, fn: object, repeat: int) -> tuple[float, object]:
    best = float("inf")
    result: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    print(f"{label}: {best:.2f} s (best of {repeat})")
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=120_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "make_sample_data.py"),
                "--quiet",
                "--enterprises",
                str(args.enterprises),
                "--out",
                str(out),
            ],
            check=True,
        )
        parks = load_tianjin().parks
        panel = pd.read_parquet(out / "tianjin_enterprises.parquet")
        extra = pd.read_parquet(out / "tianjin_evaluation.parquet")
        parcels = gpd.read_parquet(out / "tianjin_parcels.parquet")
        firms = panel.merge(extra, on=["enterprise_id", "year"])
        print(
            f"{args.enterprises:,} firms x 4 years = {len(firms):,} rows; "
            f"{len(parcels):,} parcels in 3 parks"
        )
        one_year = firms[firms["year"] == 2016]
        for label, rows in (("one year", one_year), ("four years", firms)):
            t_ref, _ = _timed(
                f"pandas reference ({label}, {len(rows):,} rows)",
                lambda rows=rows: _pandas_reference(rows),
                args.repeat,
            )
            t_eval, result = _timed(
                f"evaluate_enterprises ({label}, {len(rows):,} rows)",
                lambda rows=rows: evaluate_enterprises(
                    rows, "jingde_minmax", parks=parks, parcels=parcels
                ),
                args.repeat,
            )
            print(f"  ratio to the pandas reference: {t_eval / max(t_ref, 1e-9):.0f}x")
            evaluated = int((result.enterprises["outcome"] == "evaluated").sum())  # type: ignore[attr-defined]
            print(f"  {evaluated:,} firm-years evaluated, {len(result.changes):,} class changes")  # type: ignore[attr-defined]
            _timed(
                f"write_evaluation xlsx ({label})",
                lambda result=result: write_evaluation(result, out / "eval.xlsx"),  # type: ignore[misc]
                1,
            )
            print(f"  workbook: {(out / 'eval.xlsx').stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
