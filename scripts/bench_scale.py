#!/usr/bin/env python
"""Scale benchmark: parkgeo density at 120k, 1.2M and 12M enterprise-year rows and 500 parks.

For each size the sample generator (``scripts/make_sample_data.py``) writes ``rows / 4``
enterprises x 4 years as Parquet into a cache directory (reused on later runs). The 33
generated parks are cut along a 4 x 4 grid of their bounding boxes into 500 parks (the 500
largest pieces), so that the join faces the park count of a national catalogue's province.
Then, each measurement in its own process (wall time from process start to exit, peak memory
= the child's maximum resident set from ``os.wait4``, as in ``scripts/bench.py``):

* ``parkgeo density``: the command, end to end (CSV and Parquet are read with column
  projection in batches of 2 million rows; above 3 million Parquet rows in two worker
  processes if the load average leaves a core free; peak memory is that of the whole process
  tree, sampled every 50 ms, and CPU that of all its processes);
* ``parkgeo density --jobs 1`` and ``--jobs 2``: the same in one process and in two workers;
* ``whole-file reader``: ``read_enterprises`` + ``assign_parks`` + ``park_metrics`` (every
  column read; the path for Excel and GeoPackage inputs);
* ``parkgeo density --batch-rows 1000000``: the batched path (memory bounded by the batch);
* ``parkgeo density --workers 2`` (Dask, LocalCluster of 2 processes, cluster start included);
* ``geopandas script``: the hand-written equivalent (read, ``points_from_xy``, ``sjoin``,
  group by park and year);
* ``shapely``: in one child, the input read with pyarrow (density's columns) and the two raw
  point-in-polygon queries on the coordinate arrays, timed inside: ``STRtree.query(points,
  predicate="within")`` and a bounding-box pass followed by ``shapely.contains_xy``.

With ``--city N`` (default 120000 enterprises, the Tianjin size) it also times clustering and
gap analysis (``scripts/bench_clusters.py``) and the planner's map (``scripts/bench_maps.py``)
on that city. It prints a Markdown table and writes it with ``--out``.

Usage::

    python scripts/bench_scale.py --sizes 120k,1.2M,12M --out docs/benchmarks.md
    python scripts/bench_scale.py --sizes 1.2M --only density,dask --city 0
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
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))

from bench import CPU_SECONDS, parse_size, run_child, warm_bytecode  # noqa: E402

YEARS_PER_ENTERPRISE = 4
DEFAULT_SIZES = "120k,1.2M,12M"
DEFAULT_CACHE = Path(
    os.environ.get("PARKGEO_BENCH_CACHE", Path(tempfile.gettempdir()) / "parkgeo-bench")
)
N_PARKS = 500
BATCH_ROWS = 1_000_000
DASK_WORKERS = 2
STEPS = (
    "density",
    "csv",
    "duckdb",
    "floor",
    "library",
    "version",
    "jobs",
    "memory",
    "batched",
    "dask",
    "geopandas",
    "shapely",
)


@dataclass(frozen=True)
class Dataset:
    rows: int
    enterprises: int
    folder: Path
    enterprises_file: Path
    parks: Path
    workdir: Path


@dataclass(frozen=True)
class Row:
    size: str
    step: str
    seconds: float
    peak_mb: float
    note: str = ""
    cpu: float = float("nan")  # user + system seconds of the process (and its workers)


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def generate(enterprises: int, seed: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating {enterprises:,} enterprises x 4 years into {folder} ...", file=sys.stderr)
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
            "--quiet",
        ],
        check=True,
    )


def split_parks(source: Path, target: Path, n_parks: int = N_PARKS) -> None:
    """Cut each park along a k x k grid of its bounding box; keep the ``n_parks`` largest."""
    import geopandas as gpd
    import numpy as np
    import shapely

    parks = gpd.read_parquet(source)
    k = int(np.ceil(np.sqrt(n_parks / len(parks))))
    pieces = []
    for _, park in parks.iterrows():
        minx, miny, maxx, maxy = park.geometry.bounds
        xs, ys = np.linspace(minx, maxx, k + 1), np.linspace(miny, maxy, k + 1)
        for i in range(k):
            for j in range(k):
                cell = shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1])
                piece = shapely.make_valid(park.geometry.intersection(cell))
                parts = [
                    g
                    for g in getattr(piece, "geoms", [piece])
                    if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty
                ]
                if parts:
                    record = park.drop(labels="geometry").to_dict()
                    record["park_id"] = f"{park['park_id']}-{i}{j}"
                    record["name"] = f"{park['name']} {i}{j}"
                    record["geometry"] = shapely.union_all(parts)
                    pieces.append(record)
    out = gpd.GeoDataFrame(pieces, crs=parks.crs)
    if len(out) < n_parks:
        raise SystemExit(f"only {len(out)} pieces; raise k")
    metric = out.to_crs(out.estimate_utm_crs())
    keep = metric.area.sort_values(ascending=False, kind="stable").index[:n_parks]
    out.loc[sorted(keep)].reset_index(drop=True).to_parquet(target)


def ensure_data(rows: int, *, seed: int, cache: Path) -> Dataset:
    enterprises = max(500, rows // YEARS_PER_ENTERPRISE)
    folder = cache / f"seed{seed}-e{enterprises}-parquet"
    ent = folder / "tianjin_enterprises.parquet"
    if not ent.exists():
        generate(enterprises, seed, folder)
    parks = folder / f"parks{N_PARKS}.parquet"
    if not parks.exists():
        split_parks(folder / "tianjin_parks.parquet", parks)
    work = folder / "out"
    work.mkdir(exist_ok=True)
    import pyarrow.parquet as pq

    n_rows = pq.ParquetFile(ent).metadata.num_rows
    return Dataset(n_rows, enterprises, folder, ent, parks, work)


def label(rows: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if rows >= size:
            return f"{rows / size:g}{unit}"
    return str(rows)


# --------------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------------


def _density_help() -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "parkgeo.cli", "density", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    return proc.stdout


API_SCRIPT = textwrap.dedent(
    """
    import sys
    from parkgeo.io import read_parks, write_table

    def main():
        parks_path, firms, out, backend, amount = sys.argv[1:6]
        parks = read_parks(parks_path)
        if backend == "batched":
            from parkgeo.scale import park_metrics_batched
            result = park_metrics_batched(firms, parks, batch_rows=int(amount), progress=False)
        elif backend == "memory":
            from parkgeo.scale import park_metrics_file
            result = park_metrics_file(firms, parks, backend="memory")
        else:
            from parkgeo.scale import park_metrics_dask
            result = park_metrics_dask(firms, parks, workers=int(amount), progress=False)
        write_table(result.table, out)

    if __name__ == "__main__":  # Dask's worker processes import this file again
        main()
    """
)


def measure_density(data: Dataset, extra: list[str], name: str, firms: Path | None = None) -> Row:
    out = data.workdir / f"density_{name.replace(' ', '_')}.csv"
    command = [
        sys.executable,
        "-m",
        "parkgeo.cli",
        "density",
        "--parks",
        str(data.parks),
        "--enterprises",
        str(firms or data.enterprises_file),
        "-o",
        str(out),
        "-q",
        *extra,
    ]
    seconds, peak, cpu = run_tree(command)
    return Row(label(data.rows), name, seconds, peak, f"CPU {cpu:.2f} s", cpu)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                rss = next((line for line in fh if line.startswith("VmRSS:")), "VmRSS: 0 kB")
            total += int(rss.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total / 1024.0


def run_tree(args: list[str]) -> tuple[float, float, float]:
    """Like ``run_child``, with the peak of the whole process tree's resident memory (worker
    processes included: ``os.wait4`` reports the largest single process only), sampled every
    50 ms; returns (wall seconds, peak MB, CPU seconds of the command and its workers)."""
    if not Path("/proc/self/task").exists():
        seconds, peak, _ = run_child(args)
        return seconds, peak, CPU_SECONDS["last"]
    import resource

    from bench import child_env

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    peak = 0.0
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=err, env=child_env(), cwd=REPO
        )
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mb(proc.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode()[-2000:]
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{tail}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, peak, cpu


def measure_api(data: Dataset, backend: str, amount: int, name: str, note: str) -> Row:
    script = data.workdir / "api.py"
    script.write_text(API_SCRIPT, encoding="utf-8")
    out = data.workdir / f"density_{backend}.csv"
    seconds, peak, _ = run_child(
        [
            sys.executable,
            str(script),
            str(data.parks),
            str(data.enterprises_file),
            str(out),
            backend,
            str(amount),
        ]
    )
    return Row(label(data.rows), name, seconds, peak, note)


GEOPANDAS_SCRIPT = textwrap.dedent(
    """
    import sys
    import geopandas as gpd
    import pandas as pd

    parks = gpd.read_parquet(sys.argv[1])
    firms = pd.read_parquet(sys.argv[2])
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


def measure_geopandas(data: Dataset) -> Row:
    script = data.workdir / "by_hand.py"
    script.write_text(GEOPANDAS_SCRIPT, encoding="utf-8")
    seconds, peak, _ = run_child(
        [
            sys.executable,
            str(script),
            str(data.parks),
            str(data.enterprises_file),
            str(data.workdir / "by_hand.csv"),
        ]
    )
    note = f"read, points, sjoin, groupby; CPU {CPU_SECONDS['last']:.2f} s"
    return Row(label(data.rows), "geopandas script", seconds, peak, note)


SHAPELY_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import pyarrow.parquet as pq
    import shapely
    import geopandas as gpd

    parks = gpd.read_parquet(sys.argv[1]).geometry.to_numpy()
    columns = ["enterprise_id", "industry", "lon", "lat", "year", "tax", "profit",
               "value_added", "energy_tce", "employees"]
    t0 = time.perf_counter()
    table = pq.read_table(sys.argv[2], columns=columns)
    t_read = time.perf_counter() - t0
    lon = table["lon"].to_numpy()
    lat = table["lat"].to_numpy()

    t0 = time.perf_counter()
    tree = shapely.STRtree(parks)
    pairs = tree.query(shapely.points(lon, lat), predicate="within")
    t_strtree = time.perf_counter() - t0

    t0 = time.perf_counter()
    order = np.argsort(lon, kind="stable")
    xs, ys = lon[order], lat[order]
    hits = 0
    for geom in parks:
        shapely.prepare(geom)
        minx, miny, maxx, maxy = shapely.bounds(geom)
        lo, hi = np.searchsorted(xs, [minx, maxx])
        cand = np.flatnonzero((ys[lo:hi] >= miny) & (ys[lo:hi] <= maxy)) + lo
        hits += int(shapely.contains_xy(geom, xs[cand], ys[cand]).sum())
    t_contains = time.perf_counter() - t0
    print(json.dumps({"read": t_read, "strtree": t_strtree, "contains_xy": t_contains,
                      "pairs": int(pairs.shape[1]), "hits": hits}))
    """
)


def measure_shapely(data: Dataset) -> list[Row]:
    script = data.workdir / "raw_shapely.py"
    script.write_text(SHAPELY_SCRIPT, encoding="utf-8")
    _, peak, stdout = run_child(
        [sys.executable, str(script), str(data.parks), str(data.enterprises_file)]
    )
    got = json.loads(stdout.strip().splitlines()[-1])
    size = label(data.rows)
    return [
        Row(size, "read input (pyarrow)", got["read"], peak, "density's 10 columns, timed inside"),
        Row(size, "shapely STRtree.query", got["strtree"], peak, "points + query(within), inside"),
        Row(
            size, "bbox + contains_xy", got["contains_xy"], peak, "sorted x, per-park strip, inside"
        ),
    ]


def run_size(data: Dataset, steps: list[str], repeat: int = 1) -> list[Row]:
    """Each step ``repeat`` times: the best time and the largest peak are kept."""
    runs = [_run_size_once(data, steps) for _ in range(max(1, repeat))]
    best = []
    for i, first in enumerate(runs[0]):
        same = [run[i] for run in runs]
        fastest = min(same, key=lambda r: r.seconds)
        peak = max(r.peak_mb for r in same)
        # the note carries the CPU time: the fastest run's, as the summary lines use
        best.append(Row(first.size, first.step, fastest.seconds, peak, fastest.note, fastest.cpu))
    return best


def _run_size_once(data: Dataset, steps: list[str]) -> list[Row]:
    help_text = _density_help()
    rows: list[Row] = []
    for step in steps:
        if step == "density":
            rows.append(measure_density(data, [], "parkgeo density"))
        elif step == "jobs":
            if "--jobs" not in help_text:
                continue
            rows.append(measure_density(data, ["--jobs", "1"], "density --jobs 1"))
            rows.append(measure_density(data, ["--jobs", "2"], "density --jobs 2"))
        elif step == "memory":
            rows.append(
                measure_api(
                    data,
                    "memory",
                    0,
                    "whole-file reader",
                    "read_enterprises + assign_parks + park_metrics (all columns)",
                )
            )
        elif step == "batched":
            if "--batch-rows" in help_text:
                row = measure_density(
                    data, ["--batch-rows", str(BATCH_ROWS)], f"density --batch-rows {BATCH_ROWS:,}"
                )
            else:
                row = measure_api(
                    data, "batched", BATCH_ROWS, f"density batched ({BATCH_ROWS:,})", "Python API"
                )
            rows.append(row)
        elif step == "dask":
            if "--workers" in help_text:
                row = measure_density(
                    data, ["--workers", str(DASK_WORKERS)], f"density --workers {DASK_WORKERS}"
                )
            else:
                row = measure_api(
                    data,
                    "dask",
                    DASK_WORKERS,
                    f"density Dask ({DASK_WORKERS} workers)",
                    "Python API",
                )
            rows.append(row)
        elif step in ("csv", "duckdb", "floor", "library", "version"):
            rows.extend(measure_contender(data, step))
        elif step == "geopandas":
            rows.append(measure_geopandas(data))
        elif step == "shapely":
            rows.extend(measure_shapely(data))
        print(f"  {rows[-1].size} {rows[-1].step}: {rows[-1].seconds:.2f} s", file=sys.stderr)
    return rows


def measure_contender(data: Dataset, step: str) -> list[Row]:
    """The CSV density run and the contenders of ``scripts/bench_contenders.py``."""
    import bench_contenders as bc

    size = label(data.rows)
    csv = bc.csv_copy(data.enterprises_file)
    if step == "csv":
        return [measure_density(data, [], "parkgeo density (CSV)", firms=csv)]
    if step == "version":
        return [Row(size, "parkgeo --version", bc.version_seconds(), 0.0, "median of 5")]
    if step == "library":
        seconds, peak = bc.library_row(run_child, data.parks, data.enterprises_file, data.workdir)
        note = "read_enterprises + assign_parks + park_metrics"
        cpu = CPU_SECONDS["last"]
        return [Row(size, "library path (Parquet)", seconds, peak, f"{note}; CPU {cpu:.2f} s", cpu)]
    rows = []
    for kind, firms in (("Parquet", data.enterprises_file), ("CSV", csv)):
        if step == "floor":
            seconds, peak, inside = bc.floor_row(
                run_child, data.parks, firms, kind.lower(), data.workdir
            )
            cpu = CPU_SECONDS["last"]
            note = f"pyarrow read + bbox + contains_xy; {inside:.2f} s inside; CPU {cpu:.2f} s"
            rows.append(Row(size, f"floor ({kind})", seconds, peak, note, cpu))
            continue
        for query, seconds, peak, cpu in bc.duckdb_rows(
            run_child, data.parks, firms, kind.lower(), data.workdir
        ):
            note = f"duckdb + spatial, 2 threads; CPU {cpu:.2f} s"
            rows.append(Row(size, f"DuckDB {query} ({kind})", seconds, peak, note, cpu))
    return rows


# --------------------------------------------------------------------------------------------
# the city: clusters, gaps, map
# --------------------------------------------------------------------------------------------


def run_city(enterprises: int, *, seed: int, cache: Path) -> list[Row]:
    import bench_clusters

    folder = cache / f"seed{seed}-e{enterprises}-parquet"
    if not (folder / "tianjin_enterprises.parquet").exists():
        generate(enterprises, seed, folder)
    size = f"city {enterprises // 1000}k firms"
    rows = []
    for step in ("dbscan", "gaps"):
        got = bench_clusters.run_step(step, folder)
        rows.append(
            Row(
                size,
                bench_clusters.STEPS[step],
                float(got["seconds"]),
                float(got["process_peak_mb"]),
                f"{got['detail']}; step alone {float(got['step_peak_mb']):,.0f} MB",
            )
        )
        print(f"  {size} {step}: {rows[-1].seconds:.2f} s", file=sys.stderr)
    code = textwrap.dedent(
        f"""
        import json, sys, tempfile, time
        from pathlib import Path
        sys.path.insert(0, {str(REPO / "scripts")!r})
        from bench_maps import build_maps
        out = Path(tempfile.mkdtemp(prefix="parkgeo-bench-map-"))
        built = build_maps(Path({str(folder)!r}), out)
        print(json.dumps({{"python_s": built["default"]["python_s"], "mb": built["default"]["mb"],
                           "firms": built["firms"], "clusters": built["clusters"]}}))
        """
    )
    seconds, peak, stdout = run_child([sys.executable, "-c", code])
    got = json.loads(stdout.strip().splitlines()[-1])
    rows.append(
        Row(
            size,
            "planner's map (build + save)",
            float(got["python_s"]),
            peak,
            f"{got['mb']:.1f} MB of HTML; {got['firms']:,} firms drawn; whole pipeline "
            f"process {seconds:.1f} s",
        )
    )
    print(f"  {size} map: {rows[-1].seconds:.2f} s", file=sys.stderr)
    return rows


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def markdown(rows: list[Row], *, load: str, repeat: int = 1) -> str:
    lines = [
        f"`python scripts/bench_scale.py` ({time.strftime('%Y-%m-%d %H:%M')}), "
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}; {N_PARKS} parks; best of {repeat} run(s) per "
        f"step; load average at start {load}.",
        "Wall = process start to exit (end to end, interpreter and imports included), except "
        "the rows marked *inside*, timed inside one process; peak = for `parkgeo density` "
        "rows, the largest sum of the resident sets of the command and its worker processes "
        "(sampled every 50 ms), else the maximum resident set of that process (for Dask, the "
        "largest single process: client, nanny or worker; `os.wait4` reports the maximum over "
        "a process and its reaped children); CPU = user + system time of the process and its "
        "reaped children, workers included (less sensitive to load than wall time); bytecode "
        "cached, as for an installed package.",
        "",
        "| rows | step | wall s | peak MB | note |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for r in rows:
        lines.append(f"| {r.size} | {r.step} | {r.seconds:.2f} | {r.peak_mb:,.0f} | {r.note} |")
    goal = _goal_lines(rows)
    if goal:
        lines += ["", *goal]
    return "\n".join(lines) + "\n"


def _goal_lines(rows: list[Row]) -> list[str]:
    by = {(r.size, r.step): r for r in rows}
    out = []
    for size in dict.fromkeys(r.size for r in rows):
        density = by.get((size, "parkgeo density"))
        read = by.get((size, "read input (pyarrow)"))
        contains = by.get((size, "bbox + contains_xy"))
        by_hand = by.get((size, "geopandas script"))
        if density and read and contains:
            budget = read.seconds + contains.seconds
            out.append(
                f"- {size}: parkgeo density {density.seconds:.1f} s vs read + contains_xy "
                f"{budget:.1f} s (ratio {density.seconds / budget:.2f}); peak "
                f"{density.peak_mb / 1024:.2f} GB (goal < 4 GB)"
                + (
                    f"; vs geopandas script {density.seconds / by_hand.seconds:.2f}x time, "
                    f"{density.peak_mb / by_hand.peak_mb:.2f}x memory"
                    if by_hand
                    else ""
                )
            )
        out += _contender_lines(by, size)
    return out


def _contender_lines(by: dict[tuple[str, str], Row], size: str) -> list[str]:
    """Ratios against the same run's DuckDB best query, floor and CLI (the issue-10 goals),
    in wall time and in CPU time (on a loaded machine CPU time is the steadier measure)."""
    out = []
    library = by.get((size, "library path (Parquet)"))
    for kind, cli in (("Parquet", "parkgeo density"), ("CSV", "parkgeo density (CSV)")):
        density = by.get((size, cli))
        if density is None:
            continue
        duck = [
            r
            for (s, step), r in by.items()
            if s == size and step.startswith("DuckDB") and step.endswith(f"({kind})")
        ]
        floor = by.get((size, f"floor ({kind})"))
        against = [("DuckDB best", min(duck, key=lambda r: r.seconds) if duck else None)]
        against.append(("floor", floor))
        if kind == "Parquet":
            against.append(("library path", library))
        parts = []
        for name, other in against:
            if other is None:
                continue
            parts.append(
                f"{name} {other.seconds:.2f} s / CPU {other.cpu:.2f} s: density/{name} = "
                f"{density.seconds / other.seconds:.2f} wall, {density.cpu / other.cpu:.2f} CPU"
            )
        out.append(
            f"- {size} {kind}: density {density.seconds:.2f} s / CPU {density.cpu:.2f} s, "
            f"{density.peak_mb / 1024:.2f} GB; " + "; ".join(parts)
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"rows (default {DEFAULT_SIZES})")
    parser.add_argument("--only", default=",".join(STEPS), help=f"steps among {','.join(STEPS)}")
    parser.add_argument(
        "--city",
        type=int,
        default=120_000,
        help="enterprises of the city for clusters/gaps/map (0: skip; default 120000)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per step; the best time is kept (default 1)"
    )
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    steps = [s for s in args.only.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    warm_bytecode()
    rows: list[Row] = []
    for size in (parse_size(s) for s in args.sizes.split(",") if s):
        data = ensure_data(size, seed=args.seed, cache=args.cache)
        print(f"{data.rows:,} rows ({data.folder})", file=sys.stderr)
        rows.extend(run_size(data, steps, args.repeat))
    if args.city:
        rows.extend(run_city(args.city, seed=args.seed, cache=args.cache))
    table = markdown(rows, load=load, repeat=args.repeat)
    sys.stdout.write(table)
    if args.out:
        args.out.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
