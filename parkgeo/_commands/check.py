"""``parkgeo check``: a data health report on the parks and enterprises files."""

from __future__ import annotations

import argparse
import json
import logging

from parkgeo._commands._common import add_input_options, read_mapping

log = logging.getLogger("parkgeo")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser)
    parser.add_argument(
        "--baseline-year",
        type=int,
        metavar="YEAR",
        help="the plan's baseline year (default 2013, or the targets file's)",
    )
    parser.add_argument("--targets", metavar="TOML", help="plan targets file (its baseline year)")
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="write the report as JSON to this file"
    )


def run(args: argparse.Namespace) -> int:
    from parkgeo.health import health_and_data
    from parkgeo.io import atomic_write, write_table
    from parkgeo.metrics import Targets, read_targets

    targets = read_targets(args.targets) if args.targets else Targets()
    baseline = args.baseline_year if args.baseline_year is not None else targets.baseline_year
    mapping = {k: v for k in ("parks", "enterprises") if (v := read_mapping(args, k))}
    report, loaded = health_and_data(
        args.parks,
        args.enterprises,
        columns=mapping or None,
        coord_system=args.coord_system,
        parks_coord_system=args.parks_coord_system,
        parks_crs=args.parks_crs,
        encoding=args.encoding,
        baseline_year=baseline,
    )
    firms, join = report["enterprises"], report["join"]
    log.info(
        "enterprises %s: %d rows read, %d kept, %d ledgered; columns %s",
        firms["file"],
        firms["rows_read"],
        firms["rows_kept"],
        firms["rows_read"] - firms["rows_kept"],
        ", ".join(f"{k} <- {v}" for k, v in firms["columns"]["recognised"].items()),
    )
    if firms["columns"]["unused"]:
        log.info(
            "unused headers: %s",
            ", ".join(
                f"{u['header']} (closest: {u['closest']}, {u['similarity']:.2f})"
                for u in firms["columns"]["unused"]
            ),
        )
    log.info(
        "years %s (baseline %d %s); parks %d (%d repaired); match %s",
        ", ".join(f"{y}: {n}" for y, n in firms["years"]["rows_per_year"].items()),
        baseline,
        "present" if firms["years"]["baseline_present"] else "MISSING",
        report["parks"]["n_parks"],
        len(report["parks"]["repairs"]),
        ", ".join(f"{k} {n}" for k, n in join["match"].items()),
    )
    if args.rejects:
        write_table(loaded.rejects, args.rejects)
    if args.output:
        with atomic_write(args.output, "w") as fh:
            fh.write(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")
        log.info("wrote the health report to %s", args.output)
    for line in report["attention"]:
        log.warning("needs attention: %s", line)
    if not report["attention"]:
        log.info("clean: nothing needs attention")
    return 3 if report["attention"] else 0
