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
    add_scale_options(parser)
    add_output_options(parser)
    from parkgeo._sdc_cli import add_disclosure_arguments

    add_disclosure_arguments(parser)


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    """--batch-rows/--workers/--scheduler/--partition-rows: inputs of any size."""
    group = parser.add_argument_group(
        "large inputs",
        "CSV and Parquet are read with column projection (firm names are skipped) and give the "
        "same figures and reject ledger whichever way they are processed; see docs/scale.md",
    )
    group.add_argument(
        "--batch-rows",
        type=int,
        metavar="N",
        help="read, validate, join and aggregate N rows at a time, so that memory stays "
        "bounded by N whatever the file size (default 2000000: about 1.3 GB with 500 parks)",
    )
    group.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="process a Parquet input's batches in N worker processes on this machine "
        "(default 1: large inputs are shared by --threads instead)",
    )
    group.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="threads of this process working on the batches, each cut in two slices from "
        "200,000 rows (default 2 on two cores or more, else 1); the output is the same bytes",
    )
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run on a local Dask cluster of N worker processes (Parquet file, directory or "
        "glob; needs the parkgeo[distributed] extra)",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a running Dask cluster, e.g. tcp://10.0.0.5:8786; every worker must read "
        "the Parquet files at the same path",
    )
    group.add_argument(
        "--partition-rows",
        type=int,
        metavar="N",
        help="rows per Dask task, in whole Parquet row groups (default 2000000)",
    )


def run(args: argparse.Namespace) -> int:
    from parkgeo._errors import ParkgeoError
    from parkgeo.cli import EXIT_USAGE
    from parkgeo.metrics import Targets, read_targets

    if args.min_enterprises is not None and args.min_enterprises < 1:
        raise ParkgeoError(f"--min-enterprises must be 1 or more, got {args.min_enterprises}")
    fmt = output_format(args)
    if fmt not in ("csv", "json") and not args.output:
        print(
            f"parkgeo density: error: --format {fmt} needs a file: add -o OUT.{fmt}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    backend = scale_backend(args)
    targets = read_targets(args.targets) if args.targets else Targets()
    parks = load_parks(args)
    options = join_options(args)
    report: dict[str, Any] = {
        "years": args.year,
        "baseline_year": args.baseline_year,
        "target_year": args.target_year,
        "targets": targets,
        "min_enterprises": args.min_enterprises,
        "per_mu": args.per_mu,
    }
    table = run_scaled(args, parks, backend, options, report)
    from parkgeo._sdc_cli import apply_disclosure

    table = apply_disclosure(table, args, parks=parks)
    if fmt in GEO_FORMATS:
        table = with_park_geometry(table, parks)
    emit_table(table, args)
    return 0


def scale_backend(args: argparse.Namespace) -> str:
    """How to process the enterprises: "batched" (CSV and Parquet, in batches of
    --batch-rows, or --jobs), "dask" (--workers/--scheduler), or "memory" (other formats:
    read whole). All three run the same pipeline and give the same result."""
    from parkgeo._errors import ParkgeoError

    for option in ("batch_rows", "jobs", "threads", "workers", "partition_rows"):
        value = getattr(args, option, None)
        if value is not None and value < 1:
            flag = "--" + option.replace("_", "-")
            raise ParkgeoError(f"{flag} must be 1 or more, got {value}")
    dask = args.workers is not None or args.scheduler is not None
    if dask and getattr(args, "jobs", None) is not None:
        raise ParkgeoError(
            "--jobs runs worker processes on this machine and --workers/--scheduler a Dask "
            "cluster; choose one"
        )
    jobs, threads = getattr(args, "jobs", None), getattr(args, "threads", None)
    if (jobs or 1) > 1 and (threads or 1) > 1:
        raise ParkgeoError(
            "--jobs N runs worker processes and --threads N threads of this process; choose one"
        )
    if dask and threads is not None:
        raise ParkgeoError(
            "--threads is for this machine and --workers/--scheduler for Dask; choose one"
        )
    if dask and args.batch_rows is not None:
        raise ParkgeoError(
            "--batch-rows is for one machine and --workers/--scheduler for Dask; choose one "
            "(Dask tasks take --partition-rows)"
        )
    if args.partition_rows is not None and not dask:
        raise ParkgeoError("--partition-rows applies to Dask: add --workers N or --scheduler")
    if dask:
        return "dask"
    if args.batch_rows is not None or getattr(args, "jobs", None) is not None:
        return "batched"
    from pathlib import Path

    from parkgeo._sniff import kind_of

    path = Path(args.enterprises)
    if any(ch in args.enterprises for ch in "*?["):
        return "batched"
    if path.is_dir() or (
        path.is_file() and path.stat().st_size and kind_of(path) in ("csv", "parquet")
    ):
        return "batched"
    return "memory"


def run_scaled(
    args: argparse.Namespace,
    parks: Any,
    backend: str,
    join: dict[str, Any],
    report: dict[str, Any],
) -> Any:
    """The density table through :func:`parkgeo.scale.park_metrics_file`."""
    from parkgeo._commands._common import read_mapping, report_read
    from parkgeo.scale import DEFAULT_BATCH_ROWS, park_metrics_file

    result = park_metrics_file(
        args.enterprises,
        parks,
        backend=backend,
        batch_rows=args.batch_rows if args.batch_rows is not None else DEFAULT_BATCH_ROWS,
        scheduler=args.scheduler,
        workers=args.workers,
        partition_rows=args.partition_rows,
        jobs=getattr(args, "jobs", None),
        threads=getattr(args, "threads", None),
        columns=read_mapping(args, "enterprises"),
        coord_system=args.coord_system,
        encoding=args.encoding,
        strict=args.strict,
        **join,
        **report,
    )
    kept = int(result.summary["n"].sum())
    how = f" in {result.n_batches} batches" if result.n_batches > 1 else ""
    if result.threads > 1:
        how = f" in {result.n_batches} parts on {result.threads} threads"
    if backend == "dask":
        how = f" in {result.n_batches} Dask partitions"
    table = result.table
    every = table[table["park_id"] == "ALL"] if "year" in table.columns else table.iloc[:0]
    # rows per year of the whole file; with --year the table holds only the years asked for
    years = None if args.year else dict(zip(every["year"], every["n_enterprises"], strict=True))
    columns = result.attrs.get("columns", {})
    report_read(
        args,
        result.n_read,
        kept,
        result.rejects,
        result.encoding,
        how,
        columns=columns,
        years=years,
    )
    log_match_summary(result.summary)
    return result.table


def with_park_geometry(table: Any, parks: Any) -> Any:
    """The density table as a GeoDataFrame with each park's polygon (none for ALL rows)."""
    import geopandas as gpd

    geometry = parks.set_index(parks["park_id"].astype(str)).geometry
    shapes = geometry.reindex(table["park_id"].astype(str).to_numpy()).to_numpy()
    return gpd.GeoDataFrame(table, geometry=shapes, crs=parks.crs).to_crs("EPSG:4326")
