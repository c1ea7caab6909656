"""``parkgeo density``: per-park tax, energy and productivity per hectare, with target progress."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from parkgeo._commands._common import (
    add_input_options,
    add_join_options,
    add_output_options,
    emit_table,
    join_options,
    load_enterprises,
    load_parks,
    log_match_summary,
    output_format,
)

log = logging.getLogger("parkgeo")

GEO_FORMATS = ("gpkg", "geojson")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser)
    add_join_options(parser)
    parser.add_argument(
        "--year",
        type=int,
        action="append",
        metavar="YEAR",
        help="report this year (repeatable; default every year in the data)",
    )
    parser.add_argument(
        "--baseline-year",
        type=int,
        metavar="YEAR",
        help="year the changes are measured from (default 2013, or the targets file's)",
    )
    parser.add_argument(
        "--target-year",
        type=int,
        metavar="YEAR",
        help="year the targets are due (default baseline + 3, or the targets file's)",
    )
    parser.add_argument(
        "--targets",
        metavar="TOML",
        help="plan targets file (see docs/targets.example.toml); default profit +50%%, "
        "tax per ha +50%%, energy per value added -15%%",
    )
    parser.add_argument(
        "--min-enterprises",
        type=int,
        metavar="K",
        help="confidentiality: blank money figures (and flag 'suppressed') where fewer than K "
        "enterprises contribute",
    )
    parser.add_argument(
        "--per-mu",
        action="store_true",
        help="add per-mu figures (1 ha = 15 mu): area_mu, tax_per_mu, energy_per_mu",
    )
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    from parkgeo._errors import ParkgeoError
    from parkgeo.cli import EXIT_USAGE
    from parkgeo.join import assign_parks
    from parkgeo.metrics import Targets, park_metrics, read_targets

    if args.min_enterprises is not None and args.min_enterprises < 1:
        raise ParkgeoError(f"--min-enterprises must be 1 or more, got {args.min_enterprises}")
    fmt = output_format(args)
    if fmt not in ("csv", "json") and not args.output:
        print(
            f"parkgeo density: error: --format {fmt} needs a file: add -o OUT.{fmt}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    targets = read_targets(args.targets) if args.targets else Targets()
    parks = load_parks(args)
    loaded = load_enterprises(args)
    options = join_options(args)
    # The unmatched ledger's nearest-park search is not needed for per-park figures.
    result = assign_parks(loaded.data, parks, nearest=False, **options)
    log_match_summary(result.summary)
    table = park_metrics(
        result.assigned,
        parks,
        years=args.year,
        baseline_year=args.baseline_year,
        target_year=args.target_year,
        targets=targets,
        min_enterprises=args.min_enterprises,
        per_mu=args.per_mu,
    )
    if fmt in GEO_FORMATS:
        table = with_park_geometry(table, parks)
    emit_table(table, args)
    return 0


def with_park_geometry(table: Any, parks: Any) -> Any:
    """The density table as a GeoDataFrame with each park's polygon (none for ALL rows)."""
    import geopandas as gpd

    geometry = parks.set_index(parks["park_id"].astype(str)).geometry
    shapes = geometry.reindex(table["park_id"].astype(str).to_numpy()).to_numpy()
    return gpd.GeoDataFrame(table, geometry=shapes, crs=parks.crs).to_crs("EPSG:4326")
