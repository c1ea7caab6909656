"""``parkgeo clusters``: spatial clusters of each industry's enterprises."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import pandas as pd

from parkgeo._commands._common import (
    add_input_options,
    add_output_options,
    emit_table,
    load_enterprises,
    load_parks,
    output_format,
)

log = logging.getLogger("parkgeo")

GEO_FORMATS = ("gpkg", "geojson", "parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser, parks=False)
    parser.add_argument(
        "--parks",
        metavar="PATH",
        help="park polygons (optional): fills park_ids and share_in_parks",
    )
    add_cluster_options(parser)
    parser.add_argument(
        "--industry",
        action="append",
        metavar="CODE",
        help="cluster only this industry (repeatable), e.g. C27",
    )
    parser.add_argument(
        "--labels",
        metavar="PATH",
        help="also write each enterprise's cluster_id (-1 noise) to this file",
    )
    add_output_options(parser)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """--level/--year/--method/--min-size/--eps-m (shared with gaps and site)."""
    from parkgeo.clusters import DEFAULT_MIN_SIZE
    from parkgeo.industry import LEVELS

    parser.add_argument(
        "--level",
        choices=LEVELS,
        default=None,
        help="GB/T 4754 level of the industries (default division, e.g. C27; section, e.g. C, "
        "when the data only has section codes)",
    )
    parser.add_argument(
        "--year",
        type=int,
        help="year analysed (default the latest year in the data, parkgeo.default_year)",
    )
    parser.add_argument(
        "--method",
        choices=("dbscan", "hdbscan"),
        default="dbscan",
        help="clustering algorithm (default dbscan)",
    )
    parser.add_argument(
        "--min-size",
        type=int,
        default=DEFAULT_MIN_SIZE,
        metavar="N",
        help=f"smallest cluster in firms (default {DEFAULT_MIN_SIZE})",
    )
    parser.add_argument(
        "--eps-m",
        type=float,
        metavar="METRES",
        help="DBSCAN radius (default 500) / HDBSCAN cluster_selection_epsilon (default 0)",
    )


def analysis_scope(data: pd.DataFrame, args: argparse.Namespace) -> tuple[str, int | None]:
    """The level and year every step of the command uses, resolved once and said once."""
    from parkgeo._analysis import resolve_level
    from parkgeo.years import resolve_year

    level = resolve_level(data, args.level)
    year = resolve_year(data, args.year)
    if year is not None:
        source = "--year" if args.year is not None else "the latest year in the data"
        log.info("analysing %d (%s) at the %s level", year, source, level)
    return level, year


def geo_table(frame: Any, args: argparse.Namespace) -> Any:
    """A GeoDataFrame for gpkg/geojson/parquet output; otherwise geometry as WKT text."""
    import shapely

    fmt = output_format(args)
    if fmt in GEO_FORMATS:
        return frame
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    plain["geometry"] = pd.array(
        shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=7), dtype="string"
    )
    return plain


def run(args: argparse.Namespace) -> int:
    from parkgeo._analysis import level_reported
    from parkgeo.clusters import industry_clusters
    from parkgeo.io import write_table

    loaded = load_enterprises(args)
    parks = load_parks(args) if args.parks else None
    level, year = analysis_scope(loaded.data, args)
    with level_reported():
        result = industry_clusters(
            loaded.data,
            level=level,
            method=args.method,
            min_size=args.min_size,
            eps_m=args.eps_m,
            year=year,
            parks=parks,
            industries=args.industry,
        )
    p = result.params
    log.info(
        "%d clusters of %d firms in %s (%s, %s level); %d firms are noise",
        len(result.clusters),
        p["n_firms"],
        p["year"] if p["year"] is not None else "the data (no year column)",
        p["method"],
        p["level"],
        p["n_noise"],
    )
    if args.labels:
        labels = pd.DataFrame(
            {
                "enterprise_id": loaded.data["enterprise_id"],
                "year": loaded.data["year"] if "year" in loaded.data.columns else pd.NA,
                "industry": loaded.data["industry"],
                "cluster_id": result.labels,
            }
        )
        write_table(labels, args.labels)
        log.info("cluster labels written to %s", args.labels)
    emit_table(geo_table(result.clusters, args), args)
    return 0
