"""``parkgeo demo``: the whole analysis on the bundled Tianjin sample.

Writes the sample's density table (and, when those modules are installed, the industry
clusters, the missing clusters and the maps) into ``--outdir`` and prints a short summary a
planner can read.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger("parkgeo")

DENSITY_FILE = "tianjin_density.csv"
CLUSTERS_FILE = "tianjin_clusters.csv"
GAPS_FILE = "tianjin_gaps.csv"
REPORTED_YEAR = 2015  # the plan's reported outcome (end of 2015 against 2013)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--outdir",
        default="maps",
        metavar="DIR",
        help="where the tables and maps go (default ./maps)",
    )
    parser.add_argument(
        "--year",
        type=int,
        metavar="YEAR",
        help=f"year the summary reports (default {REPORTED_YEAR}, the plan's reported year)",
    )


def run(args: argparse.Namespace) -> int:
    from parkgeo.datasets import load_tianjin
    from parkgeo.io import write_table
    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    sample = load_tianjin()
    result = assign_parks(sample.enterprises, sample.parks)
    density = park_metrics(result.assigned, sample.parks, per_mu=True)
    written = [write_table(density, outdir / DENSITY_FILE)]
    analysis: dict[str, Any] = {"assigned": result.assigned, "summary": result.summary}
    # One year for everything the demo shows, so the maps, tables and summary agree.
    year = _summary_year(density, args.year)
    written += _write_clusters_and_gaps(result.assigned, sample.parks, outdir, analysis, year=year)
    written += _write_maps(sample, density, outdir, analysis=analysis, year=year)
    _print_summary(sys.stdout, sample, result.summary, density, year, written, analysis)
    return 0


def _write_clusters_and_gaps(
    assigned: Any, parks: Any, outdir: Path, analysis: dict[str, Any], *, year: int
) -> list[Path]:
    """Industry clusters and each park's missing clusters for ``year``."""
    from parkgeo.clusters import industry_clusters
    from parkgeo.gaps import missing_clusters
    from parkgeo.io import write_table

    clusters = industry_clusters(assigned, parks=parks, year=year, random_state=0)
    gaps = missing_clusters(assigned, parks, clusters=clusters, year=year, random_state=0)
    analysis["clusters"] = clusters
    analysis["gaps"] = gaps
    return [
        write_table(clusters.clusters, outdir / CLUSTERS_FILE),
        write_table(gaps, outdir / GAPS_FILE),
    ]


def _write_maps(
    sample: Any,
    density: Any,
    outdir: Path,
    *,
    year: int,
    analysis: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the sample's maps for ``year`` into ``outdir``; return their paths.

    ``sample`` is :func:`parkgeo.datasets.load_tianjin`'s result, ``density`` the
    :func:`parkgeo.metrics.park_metrics` table; ``analysis`` holds what the demo already
    computed (``assigned``, ``summary`` and, when available, ``clusters`` and ``gaps``) so the
    maps need not recompute it. Writes the planner's map in English and Chinese and the
    density, cluster and gap maps (offline HTML files).
    """
    from parkgeo import maps

    analysis = analysis or {}
    assigned = analysis.get("assigned", sample.enterprises)
    clusters = analysis.get("clusters")
    gaps = analysis.get("gaps")
    common = {"districts": sample.districts, "year": year}
    planner = {
        "enterprises": assigned,
        "clusters": clusters,
        "gaps": gaps,
        **common,
    }
    built = [
        ("tianjin_planner_en.html", maps.planner_map(sample.parks, density, lang="en", **planner)),
        ("tianjin_planner_zh.html", maps.planner_map(sample.parks, density, lang="zh", **planner)),
        ("tianjin_density_map.html", maps.density_map(sample.parks, density, **common)),
    ]
    if clusters is not None:
        built.append(
            (
                "tianjin_clusters_map.html",
                maps.cluster_map(clusters, enterprises=assigned, parks=sample.parks, **common),
            )
        )
    if gaps is not None:
        built.append(
            (
                "tianjin_gaps_map.html",
                maps.gap_map(sample.parks, gaps, metrics=density, clusters=clusters, **common),
            )
        )
    written = [maps.save_map(m, outdir / name) for name, m in built]
    log.info(
        "%d maps written to %s: open them in a browser, no network needed", len(written), outdir
    )
    return written


def _summary_year(density: Any, requested: int | None) -> int:
    from parkgeo._errors import ParkgeoError

    years = sorted(int(y) for y in density["year"].unique())
    if requested is not None:
        if requested not in years:
            raise ParkgeoError(
                f"the sample has no year {requested}; choose one of {', '.join(map(str, years))}"
            )
        return requested
    return REPORTED_YEAR if REPORTED_YEAR in years else years[-1]


def _pct(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    return f"{value:+.1%}" if abs(value) >= 0.1 else f"{value:+.2%}"


def _print_summary(
    out: TextIO,
    sample: Any,
    summary: Any,
    density: Any,
    year: int,
    written: list[Path],
    analysis: Mapping[str, Any],
) -> None:
    from parkgeo.metrics import ALL, ALL_PARKS, Targets

    plan = Targets()
    enterprises = sample.enterprises
    years = sorted(int(y) for y in enterprises["year"].unique())
    n_firms = enterprises["enterprise_id"].nunique() if "enterprise_id" in enterprises else 0
    parks_only = density[~density["park_id"].isin([ALL, ALL_PARKS])]
    area = parks_only.drop_duplicates("park_id")["area_ha"].sum()
    total = int(summary["n"].sum())
    lines = [
        "parkgeo demo: the bundled Tianjin sample (real zone locations, synthetic enterprises)",
        f"  {len(sample.parks)} parks, {area:,.0f} ha; {n_firms:,} enterprises, "
        f"{len(enterprises):,} enterprise-year rows ({years[0]}-{years[-1]})",
        "  joined: "
        + ", ".join(
            f"{kind} {int(n):,} ({n / total:.1%})"
            for kind, n in zip(summary["match"], summary["n"], strict=True)
            if n
        ),
    ]
    row = density[(density["park_id"] == ALL) & (density["year"] == year)].iloc[0]
    parks_row = density[(density["park_id"] == ALL_PARKS) & (density["year"] == year)].iloc[0]
    lines.append(
        f"City-wide change {plan.baseline_year} -> {year} (plan targets due "
        f"{plan.target_year_or_default}):"
    )
    for label, source, name in (
        ("profit (all enterprises)", row, "profit"),
        ("tax per ha (in parks)", parks_row, "tax_per_ha"),
        ("energy per value added", row, "energy_per_value_added"),
        ("labour productivity", row, "labour_productivity"),
    ):
        target = getattr(plan, name)
        target_text = f"target {target:+.0%}" if target is not None else "no target"
        progress = source[f"{name}_progress"]
        progress_text = f"progress {progress:.0%}" if progress == progress else ""
        lines.append(
            f"  {label:<26} {_pct(source[f'{name}_change']):>8}  {target_text:<12} "
            f"{progress_text:<14} {source[f'{name}_status']}"
        )
    ranked = parks_only[(parks_only["year"] == year) & parks_only["tax_per_ha"].notna()]
    ranked = ranked.sort_values(["tax_per_ha", "park_id"], ascending=[False, True])
    if len(ranked):
        lines.append(f"Tax per hectare in {year} (10,000 CNY/ha):")
        n_shown = min(3, len(ranked))
        for title, part in (("highest", ranked.head(n_shown)), ("lowest", ranked.tail(n_shown))):
            lines.append(f"  {title}:")
            for _, park in part.iterrows():
                lines.append(
                    f"    {park['tax_per_ha']:>8.2f}  {park['park_id']}  {park['name']}"
                    f"  ({int(park['n_enterprises'])} enterprises)"
                )
    gaps = analysis.get("gaps")
    if gaps is not None and len(gaps) and {"park_id", "industry", "rank"} <= set(gaps.columns):
        found = gaps.dropna(subset=["industry"]).sort_values(["park_id", "rank"], kind="stable")
        lines.append(
            f"Missing clusters, top 3 per park ({found['park_id'].nunique()} parks; reasons in "
            f"{GAPS_FILE}):"
        )
        for park_id, part in list(found.groupby("park_id", sort=True))[:3]:
            names = part.get("industry_name", part["industry"])
            shown = ", ".join(
                f"{code} {name}" for code, name in zip(part["industry"][:3], names[:3], strict=True)
            )
            lines.append(f"  {park_id}: {shown}")
    lines.append("Files:")
    lines.extend(f"  {path}" for path in written)
    out.write("\n".join(lines) + "\n")
