#!/usr/bin/env python
"""Benchmark parkgeo's join and density path against the hand-written alternatives.

For each size, the sample generator (``scripts/make_sample_data.py``) writes a Tianjin sample
of ``rows / 4`` enterprises x 4 years as CSV into a cache directory (reused on later runs).
Then, each in its own process so that peak memory is that step's alone:

* ``parkgeo density``: the command, end to end (process start to file written);
* ``geopandas script``: the shortest hand-written equivalent (read the CSV, build points,
  ``sjoin``, group by park and year, divide by the area, write the CSV);
* ``join (density)`` / ``join (with ledger)``: :func:`parkgeo.join.assign_parks` alone on
  arrays already in memory, without and with the nearest-park search of the unmatched ledger;
* ``shapely STRtree``: ``STRtree(parks).query(points, predicate="within")`` on the same arrays
  (building the points included, as the join starts from arrays too).

Wall times are the best of ``--repeat`` runs, taken in turn (a, b, c, a, b, c, ...) so that
load from other processes does not favour one step; peak memory is the child's maximum
resident set (``wait4``), the largest over the runs. It prints a Markdown table, and writes it with
``--out``.

Usage::

    python scripts/bench.py                       # 480k rows (the 120,000-enterprise city) and 1.2M
    python scripts/bench.py --sizes 480k,1.2M,12M --repeat 3
    python scripts/bench.py scale --sizes 120k,1.2M,12M --out docs/benchmarks.md

``scale`` runs ``scripts/bench_scale.py`` (500 parks, Parquet input, the batched and Dask
paths, the raw shapely queries, and clustering, gap analysis and the planner's map on the
120,000-enterprise city; see ``docs/scale.md``).

New measurements are functions ``measure_<name>(data: Dataset) -> Measured`` registered in
:data:`MEASUREMENTS`; ratios to print are listed in :data:`RATIOS`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
YEARS_PER_ENTERPRISE = 4
DEFAULT_SIZES = "480k,1.2M"
DEFAULT_CACHE = Path(
    os.environ.get("PARKGEO_BENCH_CACHE", Path(tempfile.gettempdir()) / "parkgeo-bench")
)


@dataclass(frozen=True)
class Dataset:
    """One generated sample: its size and files."""

    rows: int
    enterprises: int
    parks: Path
    enterprises_csv: Path
    workdir: Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float
    note: str = ""


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """'480k' -> 480000, '1.2M' -> 1200000, '12000' -> 12000 (enterprise-year rows)."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = float(text[:-1] if scale != 1 else text)
    return int(round(number * scale))


def ensure_data(rows: int, *, seed: int, cache: Path) -> Dataset:
    enterprises = max(1, rows // YEARS_PER_ENTERPRISE)
    folder = cache / f"seed{seed}-e{enterprises}"
    csv = folder / "tianjin_enterprises.csv"
    parks = folder / "tianjin_parks.parquet"
    if not (csv.exists() and parks.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        print(
            f"generating {enterprises:,} enterprises x 4 years into {folder} ...", file=sys.stderr
        )
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "make_sample_data.py"),
                "--seed",
                str(seed),
                "--enterprises",
                str(enterprises),
                "--out",
                str(folder),
                "--format",
                "csv",
                "--quiet",
            ],
            check=True,
        )
    work = folder / "out"
    work.mkdir(exist_ok=True)
    n_rows = sum(1 for _ in csv.open("rb")) - 1
    return Dataset(n_rows, enterprises, parks, csv, work)


# --------------------------------------------------------------------------------------------
# running a child process and measuring it
# --------------------------------------------------------------------------------------------


PYCACHE = Path(tempfile.gettempdir()) / "parkgeo-bench-pycache"
CPU_SECONDS: dict[str, float] = {"last": float("nan")}
"""CPU time (user + system) of the last child :func:`run_child` ran: on a shared machine wall
time depends on the load, CPU time much less."""


def child_env() -> dict[str, str]:
    """The children's environment: parkgeo importable from the checkout, and bytecode cached.

    An installed package is imported from compiled ``.pyc`` files. Run from a source checkout
    with ``PYTHONDONTWRITEBYTECODE=1`` set (as in some CI and container setups), parkgeo
    recompiled its ~20,000 lines at every process start (about 0.15 to 0.2 s) while geopandas
    loaded its installed bytecode; the children write and read bytecode in :data:`PYCACHE`
    instead (``PYTHONPYCACHEPREFIX``), outside the checkout. :func:`warm_bytecode` fills it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def warm_bytecode() -> None:
    """Compile what the measured children import, once, so no measured run pays for it."""
    code = (
        "import parkgeo.cli, parkgeo._commands.density, parkgeo.scale, geopandas, "
        "pyarrow.csv, pyarrow.parquet, shapely, pyproj"
    )
    subprocess.run([sys.executable, "-c", code], env=child_env(), cwd=REPO, check=True)


def run_child(args: list[str]) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, peak RSS in MB, its stdout). Its CPU time is left
    in ``CPU_SECONDS["last"]``."""
    env = child_env()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{stderr[-2000:]}")
    CPU_SECONDS["last"] = usage.ru_utime + usage.ru_stime
    # ru_maxrss is in kilobytes on Linux.
    return seconds, usage.ru_maxrss / 1024.0, stdout


def inner(step: str, data: Dataset) -> tuple[float, float]:
    """Run one in-process step in a child; return (seconds inside, peak MB)."""
    _, peak, stdout = run_child(
        [sys.executable, __file__, "_inner", step, str(data.parks), str(data.enterprises_csv)]
    )
    return float(json.loads(stdout.strip().splitlines()[-1])["seconds"]), peak


# --------------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------------


def measure_density(data: Dataset) -> Measured:
    out = data.workdir / "density.csv"
    seconds, peak, _ = run_child(
        [
            sys.executable,
            "-m",
            "parkgeo.cli",
            "density",
            "--parks",
            str(data.parks),
            "--enterprises",
            str(data.enterprises_csv),
            "-o",
            str(out),
            "-q",
        ]
    )
    return Measured(
        seconds,
        peak,
        f"end to end: validation, reject ledger, join, metrics; CPU {CPU_SECONDS['last']:.2f} s",
    )


GEOPANDAS_SCRIPT = textwrap.dedent(
    """
    import sys
    import geopandas as gpd
    import pandas as pd

    parks = gpd.read_parquet(sys.argv[1])
    firms = pd.read_csv(sys.argv[2])
    points = gpd.GeoDataFrame(
        firms, geometry=gpd.points_from_xy(firms.lon, firms.lat), crs="EPSG:4326"
    )
    joined = gpd.sjoin(points, parks[["park_id", "geometry"]], predicate="within")
    measures = ["tax", "profit", "value_added", "energy_tce", "employees"]
    table = joined.groupby(["park_id", "year"])[measures].sum().reset_index()
    area_ha = parks.set_index("park_id").to_crs(parks.estimate_utm_crs()).area / 10_000
    table["tax_per_ha"] = table["tax"] / table["park_id"].map(area_ha)
    table.to_csv(sys.argv[3], index=False)
    """
)


def measure_geopandas(data: Dataset) -> Measured:
    script = data.workdir / "by_hand.py"
    script.write_text(GEOPANDAS_SCRIPT, encoding="utf-8")
    out = data.workdir / "by_hand.csv"
    seconds, peak, _ = run_child(
        [sys.executable, str(script), str(data.parks), str(data.enterprises_csv), str(out)]
    )
    return Measured(
        seconds,
        peak,
        f"read CSV, points_from_xy, sjoin, groupby, to_csv; CPU {CPU_SECONDS['last']:.2f} s",
    )


def measure_join(data: Dataset) -> Measured:
    seconds, peak = inner("join", data)
    return Measured(seconds, peak, "assign_parks(nearest=False), as density runs it")


def measure_join_ledger(data: Dataset) -> Measured:
    seconds, peak = inner("join_ledger", data)
    return Measured(seconds, peak, "assign_parks with nearest park + distance for unmatched")


def measure_strtree(data: Dataset) -> Measured:
    seconds, peak = inner("strtree", data)
    return Measured(seconds, peak, "shapely.points + STRtree.query(predicate='within')")


MEASUREMENTS: dict[str, Callable[[Dataset], Measured]] = {
    "parkgeo density": measure_density,
    "geopandas script": measure_geopandas,
    "join (density)": measure_join,
    "join (with ledger)": measure_join_ledger,
    "shapely STRtree": measure_strtree,
}

# (label, numerator, denominator, goal)
RATIOS: list[tuple[str, str, str, float]] = [
    ("(a)/(b) density vs geopandas", "parkgeo density", "geopandas script", 1.0),
    ("join (density) / STRtree", "join (density)", "shapely STRtree", 1.5),
    ("join (with ledger) / STRtree", "join (with ledger)", "shapely STRtree", 1.5),
]


# --------------------------------------------------------------------------------------------
# the in-process steps (run in a child by `inner`)
# --------------------------------------------------------------------------------------------


def _inner_main(step: str, parks_path: str, csv_path: str) -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    parks = gpd.read_parquet(parks_path)
    firms = pd.read_csv(csv_path, usecols=["lon", "lat", "year"])
    lon = firms["lon"].to_numpy()
    lat = firms["lat"].to_numpy()
    start = time.perf_counter()
    if step in ("join", "join_ledger"):
        from parkgeo.join import assign_parks

        assign_parks(firms, parks, nearest=step == "join_ledger")
    elif step == "strtree":
        tree = shapely.STRtree(parks.geometry.to_numpy())
        tree.query(shapely.points(lon, lat), predicate="within")
    else:
        raise SystemExit(f"unknown step {step}")
    print(json.dumps({"seconds": time.perf_counter() - start}))


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def markdown(results: dict[int, dict[str, Measured]], datasets: dict[int, Dataset]) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"`python scripts/bench.py` ({time.strftime('%Y-%m-%d %H:%M')}); load average at start "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
        + ". Each step in its own process, bytecode cached as for an installed package; CPU ="
        " user + system time of that process.",
        "",
        "| rows (enterprises x 4 years) | step | wall s | peak MB | what |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for rows, measured in results.items():
        data = datasets[rows]
        label = f"{data.rows:,} ({data.enterprises:,} x 4)"
        for name, m in measured.items():
            lines.append(f"| {label} | {name} | {m.seconds:.2f} | {m.peak_mb:,.0f} | {m.note} |")
    lines += ["", "| rows | ratio | value | goal |", "| --- | --- | ---: | ---: |"]
    for rows, measured in results.items():
        for label, num, den, goal in RATIOS:
            if num in measured and den in measured:
                value = measured[num].seconds / measured[den].seconds
                mark = "ok" if value <= goal else "MISSED"
                lines.append(
                    f"| {datasets[rows].rows:,} | {label} | {value:.2f} | <= {goal} ({mark}) |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_inner"]:
        _inner_main(*argv[1:4])
        return 0
    if argv[:1] == ["scale"]:
        # The scale benchmark (500 parks, Parquet, 120k..12M rows, batched and Dask paths,
        # clusters, gaps and the map): scripts/bench_scale.py, reachable from this one command.
        sys.path.insert(0, str(REPO / "scripts"))
        import bench_scale

        return int(bench_scale.main(argv[1:]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated enterprise-year row counts, e.g. 480k,1.2M,12M (default {DEFAULT_SIZES})",
    )
    parser.add_argument("--seed", type=int, default=2013, help="generator seed (default 2013)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per step; the best time is kept"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(MEASUREMENTS),
        help="run only this step (repeatable)",
    )
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="where generated data is kept"
    )
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    chosen = args.only or list(MEASUREMENTS)
    warm_bytecode()
    results: dict[int, dict[str, Measured]] = {}
    datasets: dict[int, Dataset] = {}
    for size in (parse_size(s) for s in args.sizes.split(",")):
        data = ensure_data(size, seed=args.seed, cache=args.cache)
        datasets[size] = data
        # Interleave the steps (a, b, c, a, b, c, ...) so that load from other processes on a
        # shared machine spreads over all of them instead of biasing one.
        runs: dict[str, list[Measured]] = {name: [] for name in chosen}
        for _ in range(max(1, args.repeat)):
            for name in chosen:
                runs[name].append(MEASUREMENTS[name](data))
        results[size] = {}
        for name in chosen:
            best = min(runs[name], key=lambda m: m.seconds)
            peak = max(m.peak_mb for m in runs[name])
            results[size][name] = Measured(best.seconds, peak, best.note)
            print(
                f"{data.rows:,} rows: {name}: {best.seconds:.2f} s, {peak:,.0f} MB", file=sys.stderr
            )
    table = markdown(results, datasets)
    sys.stdout.write(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
