"""``parkgeo gaps``: the industry clusters each park is missing, with reasons."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from parkgeo._commands._common import (
    add_input_options,
    add_output_options,
    emit_table,
    load_enterprises,
    load_parks,
    output_format,
)
from parkgeo._commands.clusters import GEO_FORMATS, add_cluster_options, analysis_scope

log = logging.getLogger("parkgeo")


def add_join_options(parser: argparse.ArgumentParser) -> None:
    """How enterprises are assigned to parks (as in ``parkgeo join``)."""
    parser.add_argument(
        "--near-m",
        type=float,
        metavar="METRES",
        help="count firms this close outside a park as in it (off by default)",
    )
    parser.add_argument(
        "--overlap",
        choices=("smallest", "priority", "error"),
        default="smallest",
        help="which park a firm in overlapping parks belongs to (default smallest)",
    )


def parse_weights(text: str | None, option: str) -> dict[str, float] | None:
    """``name=value,name=value`` -> dict; a clear error otherwise."""
    from parkgeo._errors import ParkgeoError

    if not text:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ParkgeoError(
                f"{option}: cannot read {part!r}; write name=value pairs separated by commas, "
                "e.g. density=0.5,peers=0.3,strategic=0.2"
            ) from None
    return out


def assigned_enterprises(args: argparse.Namespace) -> tuple[Any, Any]:
    from parkgeo.join import assign_parks

    loaded = load_enterprises(args)
    parks = load_parks(args)
    joined = assign_parks(loaded.data, parks, near_m=args.near_m, overlap=args.overlap)
    return joined.assigned, parks


def park_geometry_if_geo(frame: Any, parks: Any, args: argparse.Namespace) -> Any:
    """Attach each row's park polygon (WGS-84) when the output format carries geometry."""
    if output_format(args) not in GEO_FORMATS:
        return frame
    from parkgeo.results import with_park_geometry

    return with_park_geometry(frame, parks.to_crs("EPSG:4326"))


def add_relatedness_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--relatedness",
        choices=("proximity", "colocation"),
        default="proximity",
        help="industry relatedness from co-occurrence in parks (default) or from co-location "
        "of firms (better with few parks)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from parkgeo.gaps import GAP_WEIGHTS

    add_input_options(parser)
    add_join_options(parser)
    add_cluster_options(parser)
    parser.add_argument(
        "--top", type=int, default=5, metavar="N", help="gaps listed per park (default 5)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=1.0,
        help="location quotient at which a park has an industry (default 1.0)",
    )
    parser.add_argument(
        "--measure",
        choices=("count", "employees", "value_added", "tax"),
        default="count",
        help="what location quotients are computed on (default count of firms)",
    )
    parser.add_argument(
        "--city-totals",
        choices=("parks", "city"),
        default="parks",
        help="reference of the location quotients: all parks (default) or the whole city",
    )
    add_relatedness_option(parser)
    parser.add_argument(
        "--peer-k", type=int, metavar="K", help="number of peer groups (default by silhouette)"
    )
    defaults = ",".join(f"{k}={v:g}" for k, v in GAP_WEIGHTS.items())
    parser.add_argument("--weights", metavar="W", help=f"score weights (default {defaults})")
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    from parkgeo._analysis import level_reported
    from parkgeo.clusters import industry_clusters
    from parkgeo.gaps import missing_clusters

    weights = parse_weights(args.weights, "--weights")
    assigned, parks = assigned_enterprises(args)
    level, year = analysis_scope(assigned, args)
    with level_reported():
        clusters = industry_clusters(
            assigned,
            level=level,
            method=args.method,
            min_size=args.min_size,
            eps_m=args.eps_m,
            year=year,
            parks=parks,
        )
        gaps = missing_clusters(
            assigned,
            parks,
            level=level,
            top=args.top,
            threshold=args.threshold,
            measure=args.measure,
            year=year,
            weights=weights,
            city_totals=args.city_totals,
            relatedness=args.relatedness,
            peer_k=args.peer_k,
            clusters=clusters,
        )
    n_no_sei = gaps.loc[gaps["no_sei"], "park_id"].nunique()
    log.info(
        "%d gaps listed for %d parks; %d parks have no strategic emerging industry",
        int(gaps["industry"].notna().sum()),
        gaps["park_id"].nunique(),
        n_no_sei,
    )
    emit_table(park_geometry_if_geo(gaps, parks, args), args)
    return 0
