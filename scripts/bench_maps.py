"""Benchmark the planner's map: file size, Python time, and time to interactive in Chromium.

For each size (default 12,000 and 120,000 enterprises) the sample generator writes a city,
then the full pipeline runs (join, metrics, clusters, gaps) and the planner's map is saved
twice: as ``parkgeo map`` writes it (districts shown, enterprises one click away) and with
every overlay shown. Each file is opened in Debian's headless Chromium with the network
blocked; time to interactive is navigation start to the page's ready flag
(``window.parkgeoReadyAt``: every layer built and drawn, the first frame painted), and
then a layer switch and a click on a park are timed. Prints a Markdown table.

With ``--e2e`` it times the commands a user runs, end to end in fresh processes (imports,
reading, join, metrics, clusters, gaps, map or report, writing): ``parkgeo map`` and
``parkgeo report`` against ``parkgeo density`` on the same input in the same run (the ratio
says how much the map or report adds to the density table, whatever the machine's load),
and the report's size and time to open in Chromium.

Usage::

    python scripts/bench_maps.py                      # 12,000 and 120,000
    python scripts/bench_maps.py --sizes 120000 --runs 5
    python scripts/bench_maps.py --e2e --sizes 12000 120000 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BUDGET_MB = 15.0
GOAL_S = 5.0


def make_city(n: int, workdir: Path, seed: int) -> Path:
    out = workdir / f"city_{n}"
    if not (out / "tianjin_enterprises.parquet").exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "make_sample_data.py"),
                "--seed",
                str(seed),
                "--enterprises",
                str(n),
                "--out",
                str(out),
                "--quiet",
            ],
            check=True,
        )
    return out


def build_maps(city: Path, outdir: Path) -> dict[str, Any]:
    import geopandas as gpd
    import pandas as pd

    from parkgeo.clusters import industry_clusters
    from parkgeo.gaps import missing_clusters
    from parkgeo.join import assign_parks
    from parkgeo.maps import planner_map, save_map
    from parkgeo.metrics import park_metrics

    parks = gpd.read_parquet(city / "tianjin_parks.parquet")
    districts = gpd.read_parquet(city / "tianjin_districts.parquet")
    firms = pd.read_parquet(city / "tianjin_enterprises.parquet")
    assigned = assign_parks(firms, parks).assigned
    metrics = park_metrics(assigned, parks)
    year = 2016  # the latest in the data: the maps' default year
    clusters = industry_clusters(assigned, parks=parks, method="dbscan", year=year)
    gaps = missing_clusters(assigned, parks, clusters=clusters, year=year, random_state=0)
    result: dict[str, Any] = {
        "firms": int((pd.to_numeric(firms["year"]) == year).sum()),
        "clusters": len(clusters.clusters),
    }
    for variant, visible in (
        ("default", ("districts",)),
        ("all shown", ("districts", "enterprises", "clusters")),
    ):
        start = time.perf_counter()
        m = planner_map(
            parks,
            metrics,
            enterprises=assigned,
            districts=districts,
            clusters=clusters,
            gaps=gaps,
            year=year,
            visible=visible,
        )
        path = save_map(m, outdir / f"planner_{result['firms']}_{variant.replace(' ', '_')}.html")
        result[variant] = {
            "path": path,
            "python_s": time.perf_counter() - start,
            "mb": path.stat().st_size / 1e6,
        }
    return result


def browser_times(path: Path, runs: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    ready, switch, click, requests = [], [], [], []
    page_errors: list[str] = []
    with sync_playwright() as api:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as profile:
                context = api.chromium.launch_persistent_context(
                    profile,
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS,
                    headless=True,
                    viewport={"width": 1280, "height": 860},
                )
                blocked: list[str] = []
                errors: list[str] = []

                def route(r: Any, blocked: list[str] = blocked) -> None:
                    if r.request.url.startswith("file://"):
                        r.continue_()
                    else:
                        blocked.append(r.request.url)
                        r.abort()

                context.route("**/*", route)
                page = context.new_page()
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.on(
                    "console",
                    lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None,
                )
                page.goto(path.as_uri(), timeout=120_000)
                page.wait_for_function("window.parkgeoReady === true", timeout=120_000)
                ready.append(page.evaluate("window.parkgeoReadyAt") / 1000)
                start = time.perf_counter()
                page.get_by_label("Energy per hectare (tce/ha)").check()
                page.evaluate(
                    "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                )
                switch.append(time.perf_counter() - start)
                x, y = page.evaluate(
                    """() => {
                        const map = window.parkgeoMap;
                        const c = map.getCenter();
                        let best = null;
                        map.eachLayer(l => {
                            if (!best && l.feature && l.getPopup && l.getPopup()) { best = l; }
                        });
                        const p = map.latLngToContainerPoint(best.getBounds().getCenter());
                        const r = map.getContainer().getBoundingClientRect();
                        return [p.x + r.left, p.y + r.top];
                    }"""
                )
                start = time.perf_counter()
                page.mouse.click(x, y)
                page.locator(".leaflet-popup-content").wait_for(state="visible")
                click.append(time.perf_counter() - start)
                page.evaluate(
                    "new Promise(r => { window.parkgeoMap.once('zoomend', () => r()); "
                    "window.parkgeoMap.zoomIn(1, {animate: false}); })"
                )
                requests.append(len(blocked))
                page_errors.extend(errors)
                context.close()
    return {
        "ready_s": statistics.median(ready),
        "switch_s": statistics.median(switch),
        "click_s": statistics.median(click),
        "requests": max(requests),
        "errors": len(page_errors),
        "first_error": page_errors[0] if page_errors else "",
    }


def _run_s(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def end_to_end(city: Path, outdir: Path, runs: int) -> dict[str, Any]:
    """Median wall time of parkgeo density / map / report on ``city`` (fresh processes)."""
    inputs = [
        "--parks",
        str(city / "tianjin_parks.parquet"),
        "--enterprises",
        str(city / "tianjin_enterprises.parquet"),
    ]
    districts = ["--districts", str(city / "tianjin_districts.parquet")]
    py = [sys.executable, "-m", "parkgeo"]
    map_out, report_out = outdir / "e2e_map.html", outdir / "e2e_report.html"
    commands = {
        "density": [*py, "density", *inputs, "-q", "-o", str(outdir / "e2e_density.csv")],
        "map": [*py, "map", *inputs, *districts, "-q", "-o", str(map_out)],
        "report": [*py, "report", *inputs, *districts, "-q", "-o", str(report_out)],
    }
    times = {
        name: statistics.median(_run_s(cmd) for _ in range(runs)) for name, cmd in commands.items()
    }
    return {
        **times,
        "map_mb": map_out.stat().st_size / 1e6,
        "report_mb": report_out.stat().st_size / 1e6,
        "map_path": map_out,
        "report_path": report_out,
    }


def page_ready_s(path: Path, runs: int) -> float:
    """Median navigation start -> ready flag of a page (map or report), network blocked."""
    from playwright.sync_api import sync_playwright

    ready = []
    with sync_playwright() as api:
        browser = api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.route(
                "**/*",
                lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort(),
            )
            page.goto(path.as_uri(), timeout=120_000)
            page.wait_for_function("window.parkgeoReady === true", timeout=120_000)
            ready.append(
                page.evaluate("performance.now()") / 1000
                if page.evaluate("window.parkgeoReadyAt === undefined")
                else page.evaluate("window.parkgeoReadyAt") / 1000
            )
            page.close()
        browser.close()
    return statistics.median(ready)


def main_e2e(args: argparse.Namespace, workdir: Path) -> int:
    import os

    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores)", file=sys.stderr)
    print(
        "| enterprises | parkgeo density | parkgeo map | map / density | map within 5 s | "
        "map size | map ready | parkgeo report | report / density | report size | report ready |"
    )
    print("|---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        city = make_city(n, workdir, args.seed)
        out = workdir / f"e2e_{n}"
        out.mkdir(exist_ok=True)
        t = end_to_end(city, out, args.runs)
        map_ready = page_ready_s(t["map_path"], args.runs)
        report_ready = page_ready_s(t["report_path"], args.runs)
        print(
            f"| {n:,} | {t['density']:.1f} s | {t['map']:.1f} s | {t['map'] / t['density']:.2f} | "
            f"{'yes' if t['map'] < GOAL_S else 'NO'} | {t['map_mb']:.1f} MB | {map_ready:.2f} s | "
            f"{t['report']:.1f} s | {t['report'] / t['density']:.2f} | {t['report_mb']:.2f} MB | "
            f"{report_ready:.2f} s |"
        )
    print(
        f"\nload average after: {os.getloadavg()[0]:.1f}; median of {args.runs} runs; files in {workdir}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12_000, 120_000])
    parser.add_argument("--runs", type=int, default=3, help="browser runs per file (median)")
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--workdir", type=Path, help="keep generated data and maps here")
    parser.add_argument(
        "--e2e", action="store_true", help="time parkgeo density / map / report end to end"
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="parkgeo_bench_maps_"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.e2e:
        return main_e2e(args, workdir)

    rows = []
    for n in args.sizes:
        city = make_city(n, workdir, args.seed)
        built = build_maps(city, workdir)
        for variant in ("default", "all shown"):
            info = built[variant]
            times = browser_times(info["path"], args.runs)
            rows.append((n, built["firms"], variant, info, times))
            print(
                f"{n:,} firms ({variant}): {info['mb']:.1f} MB, python {info['python_s']:.1f} s, "
                f"interactive {times['ready_s']:.2f} s",
                file=sys.stderr,
            )

    print(
        "| enterprises | drawn (2016) | overlays at open | HTML size | within 15 MB | "
        "build + save (Python) | time to interactive | within 5 s | switch layer | "
        "click -> popup | network requests | page errors |"
    )
    print("|---:|---:|---|---:|:---:|---:|---:|:---:|---:|---:|---:|---:|")
    for n, firms, variant, info, t in rows:
        print(
            f"| {n:,} | {firms:,} | {variant} | {info['mb']:.1f} MB | "
            f"{'yes' if info['mb'] <= BUDGET_MB else 'NO'} | {info['python_s']:.1f} s | "
            f"{t['ready_s']:.2f} s | {'yes' if t['ready_s'] < GOAL_S else 'NO'} | "
            f"{t['switch_s']:.2f} s | {t['click_s']:.2f} s | {t['requests']} | {t['errors']} |"
        )
        if t["errors"]:
            print(f"<!-- first page error: {t['first_error']} -->")
    print(f"\nmedian of {args.runs} browser runs; {_chromium_version()}; files in {workdir}")
    return 0


def _chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip().split(" built")[0] or "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
