"""``parkgeo report``: the planner's plan-progress report, one offline HTML file (and a PDF).

Joins the enterprises to the parks, computes the density table, the industry clusters and
the missing industries, and writes the report (headline, league table, trends, one scorecard
per park, methods and data quality) atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys

from parkgeo._commands._common import (
    add_input_options,
    add_join_options,
    join_options,
    load_enterprises,
    load_parks,
)

log = logging.getLogger("parkgeo")

DEFAULT_OUTPUT = "report.html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser)
    add_join_options(parser)
    parser.add_argument(
        "--districts",
        metavar="PATH",
        help="district boundaries (locator maps; where the nearest concentration of a "
        "missing industry is)",
    )
    parser.add_argument(
        "--districts-coord-system",
        choices=("wgs84", "cgcs2000", "gcj02", "bd09"),
        default="wgs84",
        help="coordinate system of the district file (DataV/AMap files are gcj02)",
    )
    parser.add_argument(
        "--targets",
        metavar="TOML",
        help="the plan's targets and baseline year (see docs/targets.example.toml); "
        "default: profit +50%%, tax per ha +50%%, energy per value added -15%% from 2013",
    )
    parser.add_argument(
        "--baseline-year", type=int, metavar="YEAR", help="year the changes are measured from"
    )
    parser.add_argument(
        "--year", type=int, metavar="YEAR", help="year reported (default the latest in the data)"
    )
    parser.add_argument(
        "--min-enterprises",
        type=int,
        metavar="K",
        help="confidentiality: hide money figures of parks with fewer than K contributing firms",
    )
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="language (default en)")
    parser.add_argument(
        "--no-gaps",
        action="store_true",
        help="leave the missing industries out (faster: no clustering)",
    )
    parser.add_argument(
        "--pdf",
        action="store_true",
        help="also print a PDF beside the HTML file (needs headless Chromium)",
    )
    parser.add_argument("--title", help="report title (default: a title in --lang)")
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help=f"HTML file to write (default {DEFAULT_OUTPUT})",
    )
    from parkgeo._sdc_cli import add_disclosure_arguments

    add_disclosure_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from parkgeo._commands.map import read_districts
    from parkgeo._errors import ParkgeoError
    from parkgeo.join import assign_parks
    from parkgeo.metrics import Targets, park_metrics, read_targets
    from parkgeo.report import find_chromium, plan_report, save_report
    from parkgeo.years import resolve_year

    if args.min_enterprises is not None and args.min_enterprises < 1:
        raise ParkgeoError(f"--min-enterprises must be 1 or more, got {args.min_enterprises}")
    if args.pdf and find_chromium() is None:
        # say it before minutes of work, not after
        log.warning(
            "--pdf: headless Chromium was not found (set PARKGEO_CHROMIUM or install it, "
            "e.g. apt-get install chromium); only the HTML report will be written"
        )
    targets = read_targets(args.targets) if args.targets else Targets()
    if args.baseline_year is not None:
        targets = Targets(
            profit=targets.profit,
            tax_per_ha=targets.tax_per_ha,
            energy_per_value_added=targets.energy_per_value_added,
            labour_productivity=targets.labour_productivity,
            baseline_year=args.baseline_year,
            target_year=targets.target_year,
        )
    districts = (
        read_districts(args.districts, args.districts_coord_system) if args.districts else None
    )
    parks = load_parks(args)
    loaded = load_enterprises(args)
    joined = assign_parks(loaded.data, parks, **join_options(args))
    metrics = park_metrics(
        joined.assigned, parks, targets=targets, min_enterprises=args.min_enterprises
    )
    from parkgeo._sdc_cli import apply_disclosure

    # with --protect the report reads only the protected table (docs/disclosure.md)
    metrics = apply_disclosure(metrics, args, parks=parks, assigned=joined.assigned, text=False)
    year = resolve_year(metrics, args.year, what="enterprises")
    assert year is not None
    clusters = gaps = None
    if not args.no_gaps:
        from parkgeo.clusters import industry_clusters
        from parkgeo.gaps import missing_clusters

        clusters = industry_clusters(joined.assigned, parks=parks, year=year, random_state=0)
        gaps = missing_clusters(
            joined.assigned, parks, clusters=clusters, year=year, random_state=0
        )
    sources = {
        "parks": {"path": str(args.parks)},
        "enterprises": {
            "path": str(args.enterprises),
            "n_read": loaded.n_read,
            "n_kept": len(loaded.data),
            "n_rejected": len(loaded.rejects),
            "encoding": loaded.encoding,
            "coord_system": args.coord_system,
        },
    }
    html = plan_report(
        metrics,
        parks,
        assigned=joined.assigned,
        rejects=loaded.rejects,
        join_summary=joined.summary,
        sources=sources,
        gaps=gaps,
        clusters=clusters,
        districts=districts,
        targets=targets,
        year=year,
        lang=args.lang,
        min_enterprises=args.min_enterprises,
        title=args.title,
    )
    want_pdf = bool(args.pdf) and find_chromium() is not None
    files = save_report(html, args.output, pdf=want_pdf)
    log.info(
        "wrote the %s report for %d (%s, %.1f MB): open it in a browser, no network needed",
        args.lang,
        year,
        files.html,
        files.html.stat().st_size / 1e6,
    )
    if not args.quiet:
        print(files.html)
        if files.pdf is not None:
            print(files.pdf)
    if args.pdf and files.pdf is None:
        print(
            "parkgeo report: no PDF written: headless Chromium was not found (set "
            "PARKGEO_CHROMIUM or install chromium); print the HTML file from a browser",
            file=sys.stderr,
        )
    return 0
