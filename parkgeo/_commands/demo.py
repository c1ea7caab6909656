"""``parkgeo demo``: the whole analysis on the bundled Tianjin sample.

Writes the sample's density table, the industry clusters, the missing industries, every map
and the plan-progress report, each in Chinese and in English, into ``--outdir``, and prints a
short summary a planner can read. The year is the one rule of :mod:`parkgeo.years` (the
latest in the data unless ``--year``), and the summary's figures are the report's and the
maps' (:mod:`parkgeo._headline`).
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
REPORTS = ("tianjin_report_en.html", "tianjin_report_zh.html")


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
        help="year the summary, maps and report show (default the latest in the data)",
    )
    parser.add_argument(
        "--pdf",
        action="store_true",
        help="also print the reports to PDF (needs headless Chromium)",
    )
    from parkgeo._sdc_cli import add_disclosure_arguments

    add_disclosure_arguments(parser)
    parser.add_argument(
        "--no-protect",
        action="store_true",
        help="write the raw figures (by default the demo's tables, maps and reports go through "
        "disclosure control with the default rules, as a planner would publish them)",
    )


def run(args: argparse.Namespace) -> int:
    from parkgeo._sdc_cli import protect_from_args
    from parkgeo.datasets import load_tianjin
    from parkgeo.io import write_table
    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    sample = load_tianjin()
    result = assign_parks(sample.enterprises, sample.parks)
    density = park_metrics(result.assigned, sample.parks, per_mu=True)
    # What the demo writes is what a planner would publish: protected unless --no-protect.
    protected = protect_from_args(
        density, args, parks=sample.parks, assigned=result.assigned, default=True
    )
    if protected is not None:
        density = protected.table
    written = [
        write_table(
            protected.text_frame() if protected is not None else density, outdir / DENSITY_FILE
        )
    ]
    analysis: dict[str, Any] = {"assigned": result.assigned, "summary": result.summary}
    # One year for everything the demo shows, so the maps, tables and summary agree.
    year = _summary_year(density, args.year)
    written += _write_clusters_and_gaps(result.assigned, sample.parks, outdir, analysis, year=year)
    written += _write_maps(sample, density, outdir, analysis=analysis, year=year)
    written += _write_reports(sample, density, outdir, analysis=analysis, year=year, pdf=args.pdf)
    _print_summary(sys.stdout, sample, result.summary, density, year, written, analysis)
    if protected is not None:
        print(
            f"Disclosure control (default rules; --no-protect for the raw figures): "
            f"{protected.n_suppressed} figure(s) withheld. {protected.footnote('en')}"
        )
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
    maps need not recompute it. Writes the planner's, density, cluster and gap maps, each in
    English and in Chinese (offline HTML files).
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
    built = []
    for lang in ("en", "zh"):
        built.append(
            (
                f"tianjin_planner_{lang}.html",
                maps.planner_map(sample.parks, density, lang=lang, **planner),
            )
        )
        built.append(
            (
                f"tianjin_density_map_{lang}.html",
                maps.density_map(sample.parks, density, lang=lang, **common),
            )
        )
        if clusters is not None:
            built.append(
                (
                    f"tianjin_clusters_map_{lang}.html",
                    maps.cluster_map(
                        clusters, enterprises=assigned, parks=sample.parks, lang=lang, **common
                    ),
                )
            )
        if gaps is not None:
            built.append(
                (
                    f"tianjin_gaps_map_{lang}.html",
                    maps.gap_map(
                        sample.parks,
                        gaps,
                        metrics=density,
                        clusters=clusters,
                        lang=lang,
                        **common,
                    ),
                )
            )
    written = [maps.save_map(m, outdir / name) for name, m in built]
    log.info(
        "%d maps written to %s: open them in a browser, no network needed", len(written), outdir
    )
    return written


def _summary_year(density: Any, requested: int | None) -> int:
    from parkgeo.years import resolve_year

    year = resolve_year(density, requested, what="sample")
    assert year is not None
    return year


def _write_reports(
    sample: Any,
    density: Any,
    outdir: Path,
    *,
    year: int,
    analysis: Mapping[str, Any],
    pdf: bool = False,
) -> list[Path]:
    """The plan-progress report in English and Chinese (and PDFs with ``pdf``)."""
    from parkgeo.report import find_chromium, plan_report, save_report

    if pdf and find_chromium() is None:
        log.warning("--pdf: headless Chromium was not found; only the HTML reports are written")
        pdf = False
    n = len(sample.enterprises)
    sources = {
        "parks": {"path": "data/tianjin_parks.parquet"},
        "enterprises": {
            "path": "data/tianjin_enterprises.parquet",
            "n_read": n,
            "n_kept": n,
            "n_rejected": 0,
            "coord_system": "wgs84",
        },
    }
    written: list[Path] = []
    for name in REPORTS:
        lang = "zh" if name.endswith("_zh.html") else "en"
        html = plan_report(
            density,
            sample.parks,
            assigned=analysis.get("assigned"),
            join_summary=analysis.get("summary"),
            rejects=sample.enterprises.iloc[:0].assign(reason=[]),
            sources=sources,
            gaps=analysis.get("gaps"),
            clusters=analysis.get("clusters"),
            districts=sample.districts,
            year=year,
            lang=lang,
        )
        files = save_report(html, outdir / name, pdf=pdf)
        written.append(files.html)
        if files.pdf is not None:
            written.append(files.pdf)
    return written


def _print_summary(
    out: TextIO,
    sample: Any,
    summary: Any,
    density: Any,
    year: int,
    written: list[Path],
    analysis: Mapping[str, Any],
) -> None:
    from parkgeo._headline import ALL, ALL_PARKS, HEADLINE, headline_figures, plan_of
    from parkgeo._legend import fmt_change, fmt_number, fmt_progress, label, status_label

    plan = plan_of(density)
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
    lines.append(
        f"The plan's targets in {year} (the latest year in the data unless --year), "
        f"change since {plan.baseline_year}, targets due {plan.target_year}:"
    )
    # the report's and the maps' figures: same rows, same formatting
    figures = headline_figures(
        density, year=year, plan=plan, figures=(*HEADLINE, ("labour_productivity", ALL))
    )
    for f in figures:
        population = label("pop_all" if f.population == ALL else "pop_all_parks", "en")
        name = f"{label(f.measure, 'en')} ({population}, {f.population})"
        target_text = f"target {fmt_change(f.target)}" if f.target is not None else "no target"
        reached = f.change_marker or fmt_progress(f.progress)
        progress = f"progress {reached}" if f.target is not None else ""
        change = f.change_marker or fmt_change(f.change)
        status = f.change_marker or status_label(f.status, "en").lower()
        lines.append(f"  {name:<62} {change:>8}  {target_text:<14} {progress:<14} {status}")
    ranked = parks_only[(parks_only["year"] == year) & parks_only["tax_per_ha"].notna()]
    ranked = ranked.sort_values(["tax_per_ha", "park_id"], ascending=[False, True])
    if len(ranked):
        lines.append(f"Tax per hectare in {year} (10,000 CNY/ha):")
        n_shown = min(3, len(ranked))
        for title, part in (("highest", ranked.head(n_shown)), ("lowest", ranked.tail(n_shown))):
            lines.append(f"  {title}:")
            for _, park in part.iterrows():
                lines.append(
                    f"    {fmt_number(park['tax_per_ha']):>8}  {park['park_id']}  {park['name']}"
                    f"  ({int(park['n_enterprises'])} enterprises)"
                )
    gaps = analysis.get("gaps")
    if gaps is not None and len(gaps) and {"park_id", "industry", "rank"} <= set(gaps.columns):
        found = gaps.dropna(subset=["industry"]).sort_values(["park_id", "rank"], kind="stable")
        lines.append(
            f"Missing industries, top 3 per park ({found['park_id'].nunique()} parks; reasons in "
            f"{GAPS_FILE}):"
        )
        for park_id, part in list(found.groupby("park_id", sort=True))[:3]:
            names = part.get("industry_name_en", part.get("industry_name", part["industry"]))
            shown = ", ".join(
                f"{code} {name}" for code, name in zip(part["industry"][:3], names[:3], strict=True)
            )
            lines.append(f"  {park_id}: {shown}")
    lines.append("Files:")
    lines.extend(f"  {path}" for path in written)
    out.write("\n".join(lines) + "\n")
