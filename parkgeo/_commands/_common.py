"""Options and plumbing shared by the subcommands: input loading and table output."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger("parkgeo")

FORMATS = ("csv", "parquet", "gpkg", "geojson", "json", "xlsx")
COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")


def add_input_options(parser: argparse.ArgumentParser, *, parks: bool = True) -> None:
    """--parks/--enterprises and how to read them."""
    if parks:
        parser.add_argument(
            "--parks",
            required=True,
            metavar="PATH",
            help="park polygons (GeoJSON, GeoPackage, Shapefile, GeoParquet)",
        )
    parser.add_argument(
        "--enterprises",
        required=True,
        metavar="PATH",
        help="enterprise records (CSV, XLSX, Parquet, GeoParquet, GeoPackage)",
    )
    parser.add_argument(
        "--columns",
        metavar="TOML",
        help="TOML file mapping canonical columns to your headers, "
        'e.g. tax = "纳税总额" under [enterprises]',
    )
    parser.add_argument(
        "--coord-system",
        choices=COORD_SYSTEMS,
        default="wgs84",
        help="coordinate system of the enterprise lon/lat (default wgs84)",
    )
    parser.add_argument(
        "--parks-coord-system",
        choices=COORD_SYSTEMS,
        default="wgs84",
        help="coordinate system of the park polygons (default wgs84)",
    )
    parser.add_argument(
        "--parks-crs", metavar="CRS", help="CRS of a parks file that carries none, e.g. EPSG:4326"
    )
    parser.add_argument("--encoding", help="force the CSV text encoding instead of detecting it")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 3) on any bad row instead of writing it to the reject ledger",
    )
    parser.add_argument(
        "--rejects",
        metavar="PATH",
        help="write the reject ledger (source row, column, value, reason) here",
    )


def add_output_options(parser: argparse.ArgumentParser, *, default_format: str = "csv") -> None:
    """-o/--format/--excel/--raw."""
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="output file; standard output when omitted (csv/json only)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help=f"output format (default: from the -o suffix, else {default_format})",
    )
    add_csv_options(parser)


def add_csv_options(parser: argparse.ArgumentParser) -> None:
    """--excel/--raw: how CSV output is written."""
    parser.add_argument(
        "--excel",
        action="store_true",
        help="CSV as UTF-8 with BOM so Excel shows Chinese correctly",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="do not neutralise CSV cells starting with = + - @ (formula injection)",
    )
    parser.add_argument(
        "--zh-headers", action="store_true", help="Excel (.xlsx) output with Chinese headers"
    )


_INPUT_OPTIONS = {"parks": "--parks", "enterprises": "--enterprises", "columns": "--columns",
                  "targets": "--targets", "districts": "--districts"}  # fmt: skip
_OUTPUT_OPTIONS = {"output": "-o", "rejects": "--rejects", "unmatched": "--unmatched",
                   "summary": "--summary", "labels": "--labels"}  # fmt: skip


def check_output_paths(args: argparse.Namespace) -> None:
    """Before any work: no output may be an input or another output; suffixes must fit."""
    from parkgeo._outputs import check_paths

    def given(options: dict[str, str]) -> list[tuple[str, str | None]]:
        return [(flag, getattr(args, dest, None)) for dest, flag in options.items()]

    html = ("-o",) if getattr(args, "command", None) in ("map", "report") else ()
    check_paths(given(_INPUT_OPTIONS), given(_OUTPUT_OPTIONS), html_outputs=html)


def read_mapping(args: argparse.Namespace, section: str) -> dict[str, str] | None:
    """The column mapping for ``section`` ("enterprises" or "parks") from ``--columns``."""
    if not getattr(args, "columns", None):
        return None
    from parkgeo.io import read_column_mapping

    mapping = read_column_mapping(args.columns)
    return mapping.get(section) or None


def load_parks(args: argparse.Namespace) -> Any:
    from parkgeo.io import read_parks

    return read_parks(
        args.parks,
        columns=read_mapping(args, "parks"),
        coord_system=args.parks_coord_system,
        crs=args.parks_crs,
    )


def load_enterprises(args: argparse.Namespace) -> Any:
    """Read enterprises; log the counts and the encoding; write the ledger when asked."""
    from parkgeo.io import read_enterprises

    loaded = read_enterprises(
        args.enterprises,
        columns=read_mapping(args, "enterprises"),
        coord_system=args.coord_system,
        encoding=args.encoding,
        strict=args.strict,
    )
    data = loaded.data
    years = data["year"].value_counts().to_dict() if "year" in data.columns else None
    report_read(
        args,
        loaded.n_read,
        len(data),
        loaded.rejects,
        loaded.encoding,
        columns=data.attrs.get("columns", {}),
        years=years,
    )
    return loaded


def report_read(
    args: argparse.Namespace,
    n_read: int,
    n_kept: int,
    rejects: pd.DataFrame,
    encoding: str | None,
    how: str = "",
    *,
    columns: Any = None,
    years: Any = None,
) -> None:
    """Log what was read (counts, encoding, in how many parts) and, given the recognised
    ``columns``, the one-line data health summary; write the ledger when asked, else say
    loudly that rows were rejected."""
    from parkgeo.io import write_table

    if columns is not None:
        log_health(args, n_read, n_kept, rejects, columns=columns, years=years)

    enc = f", encoding {encoding}" if encoding else ""
    log.info(
        "read %d rows from %s%s%s: %d kept, %d rejected",
        n_read,
        args.enterprises,
        enc,
        how,
        n_kept,
        len(rejects),
    )
    if len(rejects) and not getattr(args, "rejects", None):
        top = rejects["reason"].value_counts().head(3)
        reasons = ", ".join(f"{k} ({v})" for k, v in top.items())
        log.warning(
            "%d rows rejected (%s); pass --rejects PATH to write the ledger",
            len(rejects),
            reasons,
        )
    if getattr(args, "rejects", None):
        write_table(rejects, args.rejects)
        log.info("reject ledger written to %s", args.rejects)


# the canonical columns each command's figures need (lon/lat, id and year are always required)
COMMAND_NEEDS: dict[str, tuple[str, ...]] = {
    "density": ("tax", "energy_tce", "value_added", "profit", "employees"),
    "map": ("tax", "energy_tce", "industry"),
    "clusters": ("industry",),
    "gaps": ("industry",),
    "site": ("industry",),
    "evaluate": ("tax",),
}


def log_health(
    args: argparse.Namespace,
    n_read: int,
    n_kept: int,
    rejects: pd.DataFrame,
    *,
    columns: Any,
    years: Any,
) -> None:
    """The data health summary (:func:`parkgeo.health.summary_line`) at INFO, from what the
    command already read."""
    from parkgeo.health import summary_line

    baseline = getattr(args, "baseline_year", None)
    if baseline is None and hasattr(args, "baseline_year"):  # commands measuring changes
        baseline = 2013
        if getattr(args, "targets", None):
            from parkgeo.metrics import read_targets

            baseline = read_targets(args.targets).baseline_year
    line = summary_line(
        n_read=n_read,
        n_kept=n_kept,
        rejects=rejects,
        columns=dict(columns or {}),
        needs=COMMAND_NEEDS.get(str(getattr(args, "command", "")), ()),
        years={int(y): int(n) for y, n in (years or {}).items()},
        baseline_year=baseline,
    )
    log.info("%s", line)


def output_format(args: argparse.Namespace, default: str = "csv") -> str:
    if args.format:
        return str(args.format)
    if args.output:
        suffix = Path(args.output).suffix.lower().lstrip(".")
        return {
            "gpkg": "gpkg",
            "geojson": "geojson",
            "json": "json",
            "parquet": "parquet",
            "geoparquet": "parquet",
            "csv": "csv",
            "txt": "csv",
            "xlsx": "xlsx",
        }.get(suffix, default)
    return default


def emit_table(df: pd.DataFrame, args: argparse.Namespace, *, default_format: str = "csv") -> None:
    """Write ``df`` to ``-o`` atomically, or to standard output (csv/json only)."""
    from parkgeo.io import format_csv, write_table

    fmt = output_format(args, default_format)
    if args.output:
        zh = getattr(args, "zh_headers", False)
        write_table(df, args.output, format=fmt, excel=args.excel, raw=args.raw, zh_headers=zh)
        log.info("wrote %d rows to %s", len(df), args.output)
        return
    if fmt == "csv":
        sys.stdout.write(format_csv(df, raw=args.raw))
    elif fmt == "json":
        from parkgeo.io import format_json

        sys.stdout.write(format_json(df))
    else:
        from parkgeo._errors import ParkgeoError

        raise ParkgeoError(f"--format {fmt} needs a file: add -o OUT.{fmt}")


def add_join_options(parser: argparse.ArgumentParser) -> None:
    """--near-m/--overlap: how enterprises are assigned to parks."""
    parser.add_argument(
        "--near-m",
        type=float,
        metavar="METRES",
        help="count enterprises outside every park but within this distance in the nearest "
        "park (match 'near'); off by default",
    )
    parser.add_argument(
        "--overlap",
        choices=("smallest", "priority", "error"),
        default="smallest",
        help="an enterprise in several overlapping parks goes to the smallest park (default), "
        "to the park with the lowest 'priority' (a parks column; map yours with --columns: "
        '[parks] priority = "..."), or is an error',
    )


def join_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`parkgeo.join.assign_parks` from the join options."""
    near_m = getattr(args, "near_m", None)
    if near_m is not None and not near_m >= 0:
        from parkgeo._errors import ParkgeoError

        raise ParkgeoError(f"--near-m must be a distance in metres >= 0, got {near_m}")
    return {
        "near_m": near_m,
        "overlap": getattr(args, "overlap", "smallest"),
    }


def log_match_summary(summary: pd.DataFrame) -> None:
    """Log the join's counts per match kind, with shares, on one line."""
    n_rows = int(summary["n"].sum())
    parts = [
        f"{kind} {int(n)} ({n / n_rows:.1%})" if n_rows else f"{kind} 0"
        for kind, n in zip(summary["match"], summary["n"], strict=True)
    ]
    evidence = summary.attrs.get("coord_system") or {}
    if evidence.get("likely"):
        parts.append(f"coordinates look like {evidence['likely']}: pass {evidence['suggestion']}")
    log.info("match summary over %d rows: %s", n_rows, ", ".join(parts))
