"""``parkgeo join``: assign enterprises to parks and write the assignment and its ledgers."""

from __future__ import annotations

import argparse
import logging

from parkgeo._commands._common import (
    add_csv_options,
    add_input_options,
    add_join_options,
    join_options,
    load_enterprises,
    load_parks,
    log_match_summary,
)

log = logging.getLogger("parkgeo")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser)
    add_join_options(parser)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="the enterprises with park_id, match, distance_m, nearest_park_id, candidates "
        "(.csv, .parquet, .gpkg or .geojson, by suffix)",
    )
    parser.add_argument(
        "--unmatched",
        metavar="PATH",
        help="also write the enterprises in no park, with their nearest park and distance",
    )
    parser.add_argument(
        "--summary",
        metavar="PATH",
        help="also write the match summary (counts per match kind and year)",
    )
    add_csv_options(parser)


def run(args: argparse.Namespace) -> int:
    from parkgeo.io import write_table
    from parkgeo.join import assign_parks

    parks = load_parks(args)
    loaded = load_enterprises(args)
    result = assign_parks(loaded.data, parks, **join_options(args))
    assigned = result.assigned
    write_table(assigned, args.output, excel=args.excel, raw=args.raw)
    log.info("wrote %d assigned enterprises to %s", len(assigned), args.output)
    log_match_summary(result.summary)
    if args.unmatched:
        unmatched = assigned.loc[(assigned["match"] == "unmatched").to_numpy()]
        write_table(unmatched, args.unmatched, excel=args.excel, raw=args.raw)
        log.info("wrote %d unmatched enterprises to %s", len(unmatched), args.unmatched)
    if args.summary:
        write_table(result.summary, args.summary, excel=args.excel, raw=args.raw)
        log.info("wrote the match summary to %s", args.summary)
    return 0
