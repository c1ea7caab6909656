#!/usr/bin/env python
"""Time and peak memory of industry clustering, gap analysis and siting at city scale.

Generates the sample at the requested size with ``scripts/make_sample_data.py`` (unless
``--data`` points at one), then runs each step in a fresh process: load the enterprises, join
them to the parks, reset the kernel's peak-RSS counter, run the step, and report its wall time,
the peak resident memory reached during the step above what was resident before it, and the
process's overall peak. Prints a Markdown table.

Usage::

    python scripts/bench_clusters.py --enterprises 120000
    python scripts/bench_clusters.py --data /tmp/tianjin120k --steps dbscan,gaps
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

STEPS = {
    "dbscan": "industry clusters, DBSCAN 500 m, min 10 firms",
    "dbscan_vs_sklearn": "industry_clusters against scikit-learn DBSCAN per division on the "
    "same projected points (median of 3 each, alternating; labels compared)",
    "dbscan_10km": "industry clusters, DBSCAN 10 km (dense: chunked above 20M pairs)",
    "dbscan_10km_chunked": "the same with the memory guard at 2M pairs (chunked DBSCAN)",
    "hdbscan": "industry clusters, HDBSCAN min 10 firms",
    "colocation": "co-location quotients (k=1), all division pairs",
    "gaps": "missing_clusters (clusters, peers, reasons), top 5",
    "site": "rank_parks for C39 (clusters, metrics, scores)",
    "dense": "worst case: 60,000 firms of one industry in 2 km x 2 km, DBSCAN 500 m",
}
DEFAULT_STEPS = [s for s in STEPS if s != "dense"]  # "dense" takes a minute or more

CHILD = r"""
import json, os, sys, time, resource
sys.path.insert(0, {repo!r})
import geopandas as gpd, pandas as pd

def rss_mb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")

data = {data!r}
parks = gpd.read_parquet(os.path.join(data, "tianjin_parks.parquet"))
firms = pd.read_parquet(os.path.join(data, "tianjin_enterprises.parquet"))
from parkgeo.join import assign_parks
assigned = assign_parks(firms, parks).assigned
step = {step!r}
# import the step's modules before measuring, as a notebook would have them
import sklearn.cluster, sklearn.neighbors, scipy.spatial  # noqa
from parkgeo import clusters, structure, gaps, siting  # noqa
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM, the peak RSS
    resettable = True
except OSError:
    resettable = False
before = rss_mb("VmRSS")
t0 = time.perf_counter()
c0 = time.process_time()
if step == "dbscan":
    res = clusters.industry_clusters(assigned, method="dbscan", parks=parks)
    most = max(res.params["dbscan_pairs"].values())
    detail = (f"{{len(res.clusters)}} clusters, {{res.params['n_noise']}} noise firms; "
              f"largest industry {{most / 1e6:.1f}}M pairs")
elif step == "dbscan_vs_sklearn":
    import numpy as np
    from sklearn.cluster import DBSCAN
    from sklearn.metrics import adjusted_rand_score
    from parkgeo.coords import local_metric_crs
    from pyproj import Transformer
    year = int(assigned["year"].max())
    snap = assigned[assigned["year"] == year].sort_values("enterprise_id")
    lon, lat = snap["lon"].to_numpy(), snap["lat"].to_numpy()
    crs = local_metric_crs(lon, lat)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    xy = np.column_stack([x, y])
    division = snap["industry"].astype(str).str[:3].to_numpy()

    def reference():
        labels = np.full(len(xy), -1)
        offset = 0
        for code in sorted(set(division)):
            idx = np.flatnonzero(division == code)
            if len(idx) < 10:
                continue
            lab = DBSCAN(eps=500.0, min_samples=10, algorithm="kd_tree").fit_predict(xy[idx])
            found = lab >= 0
            labels[idx[found]] = lab[found] + offset
            offset += int(lab.max()) + 1 if found.any() else 0
        return labels

    ours_s, ref_s, ours_cpu = [], [], []
    for _ in range(3):
        t = time.perf_counter(); ref = reference(); ref_s.append(time.perf_counter() - t)
        t = time.perf_counter(); c = time.process_time()
        res = clusters.industry_clusters(assigned, method="dbscan", parks=parks)
        ours_s.append(time.perf_counter() - t); ours_cpu.append(time.process_time() - c)
    ours_lab = res.labels.loc[snap.index].to_numpy()
    ari = adjusted_rand_score(ref, ours_lab)
    # identical partitions: every reference cluster is exactly one of ours, noise is noise
    pairs = {{(int(a), int(b)) for a, b in zip(ref, ours_lab)}}
    same = (len({{a for a, _ in pairs}}) == len(pairs) == len({{b for _, b in pairs}}))
    ours_med, ref_med = sorted(ours_s)[1], sorted(ref_s)[1]
    # the table's time columns show industry_clusters' median run
    t0 = time.perf_counter() - ours_med; c0 = time.process_time() - sorted(ours_cpu)[1]
    detail = (f"industry_clusters {{ours_med:.2f}} s vs scikit-learn DBSCAN {{ref_med:.2f}} s: "
              f"ratio {{ours_med / ref_med:.2f}}; ARI {{ari:.6f}}, identical partition: {{same}}")
elif step in ("dbscan_10km", "dbscan_10km_chunked"):
    guard = 2_000_000 if step.endswith("chunked") else clusters.DBSCAN_MAX_PAIRS
    res = clusters.industry_clusters(
        assigned, method="dbscan", eps_m=10_000, parks=parks, max_pairs=guard
    )
    paths = res.params["dbscan_path"]
    chunked = [k for k, v in sorted(paths.items()) if v == "chunked"]
    chunked = ", ".join(chunked) if len(chunked) <= 4 else f"{{len(chunked)}} industries"
    most = max(res.params["dbscan_pairs"].values())
    detail = (f"{{len(res.clusters)}} clusters; chunked: {{chunked or 'none'}}; "
              f"largest industry {{most / 1e6:.0f}}M pairs")
elif step == "hdbscan":
    res = clusters.industry_clusters(assigned, method="hdbscan", parks=parks)
    detail = f"{{len(res.clusters)}} clusters, {{res.params['n_noise']}} noise firms"
elif step == "colocation":
    res = structure.colocation_quotients(assigned)
    detail = f"{{len(res)}} industry pairs"
elif step == "gaps":
    res = gaps.missing_clusters(assigned, parks)
    detail = f"{{int(res['industry'].notna().sum())}} gaps for {{res['park_id'].nunique()}} parks"
elif step == "dense":
    import numpy as np
    from pyproj import Transformer
    rng = np.random.default_rng(0)
    n = 60_000
    x = 500_000 + rng.uniform(0, 2000, n)
    y = 4_330_000 + rng.uniform(0, 2000, n)
    lon, lat = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True).transform(x, y)
    dense = pd.DataFrame({{"enterprise_id": [f"d{{i:06d}}" for i in range(n)], "industry": "C39",
                          "lon": lon, "lat": lat}})
    del assigned, firms
    firms = dense
    before = rss_mb("VmRSS")
    t0 = time.perf_counter()
    c0 = time.process_time()
    res = clusters.industry_clusters(dense, method="dbscan", eps_m=500, min_size=10)
    pairs = res.params["dbscan_pairs"]["C39"]
    detail = (f"{{pairs / 1e6:.0f}}M neighbour pairs (scikit-learn would hold them all: "
              f">= {{pairs * 8 / 1e9:.1f}} GB); {{res.params['dbscan_path']['C39']}} path, "
              f"{{len(res.clusters)}} cluster")
elif step == "site":
    res = siting.rank_parks("C39", assigned, parks)
    detail = f"{{len(res)}} parks ranked"
elapsed = time.perf_counter() - t0
cpu = time.process_time() - c0
peak = rss_mb("VmHWM") if resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
n_firms = int(firms["enterprise_id"].nunique())
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "step_peak_mb": peak - before, "process_peak_mb":
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "n_firms": n_firms,
    "n_rows": len(firms), "detail": detail}}))
"""


def generate(n: int, seed: int, out: Path) -> None:
    cmd = [
        sys.executable,
        str(REPO / "scripts" / "make_sample_data.py"),
        "--seed",
        str(seed),
        "--enterprises",
        str(n),
        "--out",
        str(out),
        "--quiet",
    ]
    subprocess.run(cmd, check=True)


def run_step(step: str, data: Path) -> dict[str, object]:
    code = CHILD.format(repo=str(REPO), data=str(data), step=step)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--enterprises", type=int, default=120_000, help="firms to generate")
    p.add_argument("--seed", type=int, default=2013)
    p.add_argument("--data", type=Path, help="use this generated sample instead")
    p.add_argument(
        "--steps",
        default=",".join(DEFAULT_STEPS),
        help=f"comma-separated steps among {', '.join(STEPS)} (default all but dense)",
    )
    args = p.parse_args()
    steps = [s for s in args.steps.split(",") if s]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        p.error(f"unknown step(s): {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    with tempfile.TemporaryDirectory(prefix="parkgeo-bench-") as tmp:
        data = args.data
        if data is None:
            data = Path(tmp)
            t0 = time.perf_counter()
            generate(args.enterprises, args.seed, data)
            print(
                f"generated {args.enterprises} firms in {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )
        rows = [(s, run_step(s, data)) for s in steps]
    city = [r for s, r in rows if s != "dense"]
    if city:
        print(
            f"\n{city[0]['n_firms']:,} enterprises ({city[0]['n_rows']:,} enterprise-year rows; "
            "the latest year is analysed), 33 parks, one process per step:\n"
        )
    else:
        print("\nsynthetic worst case (the city sample is loaded but not used):\n")
    print(
        "| step | what | wall time (s) | CPU time (s) | peak memory of the step (MB) "
        "| process peak (MB) | result |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for step, r in rows:
        print(
            f"| {step} | {STEPS[step]} | {r['seconds']:.2f} | {r['cpu']:.2f} | "
            f"{r['step_peak_mb']:.0f} | "
            f"{r['process_peak_mb']:.0f} | {r['detail']} |"
        )


if __name__ == "__main__":
    main()
