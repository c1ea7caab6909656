"""Contenders of ``parkgeo density`` in the scale benchmark (``scripts/bench_scale.py``).

Each runs in its own process, timed from process start to exit, on the same files:

* **DuckDB + spatial** (``pip install '.[bench]'``: ``duckdb`` and ``duckdb-ext-spatial``,
  which loads offline): the per-park, per-year sums in SQL, the spatial join operator on
  ``ST_Contains`` (faster than an explicit bounding-box prefilter, measured);
* **the floor**: the input read with pyarrow (density's columns) and a bounding-box pass
  followed by ``shapely.contains_xy``: no validation, no ledger, no table;
* **the library path** an analyst writes: ``read_enterprises`` + ``assign_parks`` +
  ``park_metrics``;
* **start-up**: ``python -m parkgeo --version``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DUCKDB_SCRIPT = textwrap.dedent(
    """
    import pathlib, sys
    import duckdb, duckdb_ext

    parks, firms, kind, query, out = sys.argv[1:6]
    ext = next(pathlib.Path(duckdb_ext.__path__[0]).rglob("spatial.duckdb_extension"))
    con = duckdb.connect(config={"allow_unsigned_extensions": True})
    con.execute(f"LOAD '{ext}'")
    src = (f"read_parquet('{firms}')" if kind == "parquet"
           else f"read_csv('{firms}', header = true)")
    con.execute(
        f"CREATE TEMP TABLE parks AS SELECT park_id, geometry AS geom, ST_XMin(geometry) x0, "
        f"ST_XMax(geometry) x1, ST_YMin(geometry) y0, ST_YMax(geometry) y1 "
        f"FROM read_parquet('{parks}')"
    )
    sums = ("count(*) AS n, sum(tax) AS tax, sum(profit) AS profit, "
            "sum(value_added) AS value_added, sum(energy_tce) AS energy_tce, "
            "sum(employees) AS employees")
    if query == "spatial_join":
        sql = (f"SELECT p.park_id, f.year, {sums} FROM {src} f JOIN parks p "
               "ON ST_Contains(p.geom, ST_Point(f.lon, f.lat)) GROUP BY ALL")
    else:
        sql = (f"SELECT p.park_id, f.year, {sums} FROM {src} f JOIN parks p "
               "ON f.lon BETWEEN p.x0 AND p.x1 AND f.lat BETWEEN p.y0 AND p.y1 "
               "AND ST_Contains(p.geom, ST_Point(f.lon, f.lat)) GROUP BY ALL")
    con.execute(f"COPY ({sql}) TO '{out}' (HEADER)")
    """
)

FLOOR_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    import shapely
    import geopandas as gpd

    t_start = time.perf_counter()
    parks = gpd.read_parquet(sys.argv[1]).geometry.to_numpy()
    columns = ["enterprise_id", "industry", "lon", "lat", "year", "tax", "profit",
               "value_added", "energy_tce", "employees"]
    if sys.argv[3] == "parquet":
        table = pq.read_table(sys.argv[2], columns=columns)
    else:
        table = pacsv.read_csv(
            sys.argv[2], convert_options=pacsv.ConvertOptions(include_columns=columns))
    lon = table["lon"].to_numpy()
    lat = table["lat"].to_numpy()
    order = np.argsort(lon, kind="stable")
    xs, ys = lon[order], lat[order]
    hits = 0
    for geom in parks:
        shapely.prepare(geom)
        minx, miny, maxx, maxy = shapely.bounds(geom)
        lo, hi = np.searchsorted(xs, [minx, maxx])
        cand = np.flatnonzero((ys[lo:hi] >= miny) & (ys[lo:hi] <= maxy)) + lo
        hits += int(shapely.contains_xy(geom, xs[cand], ys[cand]).sum())
    print(json.dumps({"inside": time.perf_counter() - t_start, "hits": hits}))
    """
)

LIBRARY_SCRIPT = textwrap.dedent(
    """
    import sys
    from parkgeo.io import read_enterprises, read_parks, write_table
    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    parks = read_parks(sys.argv[1])
    loaded = read_enterprises(sys.argv[2])
    joined = assign_parks(loaded.data, parks, nearest=False)
    write_table(park_metrics(joined.assigned, parks), sys.argv[3])
    """
)


def csv_copy(parquet: Path) -> Path:
    """The enterprises as CSV next to the Parquet file (written once, then reused)."""
    target = parquet.with_suffix(".csv")
    if not target.exists():
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        pacsv.write_csv(pq.read_table(parquet), target.with_suffix(".tmp"))
        target.with_suffix(".tmp").rename(target)
    return target


def duckdb_rows(run_child, parks: Path, firms: Path, kind: str, workdir: Path) -> list[tuple]:
    """(query name, seconds, peak MB, CPU seconds) of each DuckDB query, each in its own
    process."""
    from bench import CPU_SECONDS

    script = workdir / "duck.py"
    script.write_text(DUCKDB_SCRIPT, encoding="utf-8")
    out = []
    # A bounding-box prefilter before ST_Contains was 2.5 to 3.7 times slower than the
    # spatial join operator at 480k and 1.2M rows; the best query is the one kept.
    for query in ("spatial_join",):
        target = workdir / f"duck_{kind}_{query}.csv"
        seconds, peak, _ = run_child(
            [sys.executable, str(script), str(parks), str(firms), kind, query, str(target)]
        )
        out.append((query, seconds, peak, CPU_SECONDS["last"]))
    return out


def floor_row(run_child, parks: Path, firms: Path, kind: str, workdir: Path) -> tuple:
    script = workdir / "floor.py"
    script.write_text(FLOOR_SCRIPT, encoding="utf-8")
    seconds, peak, stdout = run_child([sys.executable, str(script), str(parks), str(firms), kind])
    inside = json.loads(stdout.strip().splitlines()[-1])["inside"]
    return seconds, peak, inside


def library_row(run_child, parks: Path, firms: Path, workdir: Path) -> tuple:
    script = workdir / "library.py"
    script.write_text(LIBRARY_SCRIPT, encoding="utf-8")
    seconds, peak, _ = run_child(
        [sys.executable, str(script), str(parks), str(firms), str(workdir / "library.csv")]
    )
    return seconds, peak


def version_seconds(repeat: int = 5) -> float:
    """Median wall time of ``python -m parkgeo --version`` (bytecode cached)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "parkgeo", "--version"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)
