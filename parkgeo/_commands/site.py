"""``parkgeo site``: rank parks, or score candidate points, for a new firm of an industry."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from parkgeo._commands._common import (
    COORD_SYSTEMS,
    add_input_options,
    add_output_options,
    emit_table,
    output_format,
)
from parkgeo._commands.clusters import GEO_FORMATS, add_cluster_options, analysis_scope
from parkgeo._commands.gaps import (
    add_join_options,
    add_relatedness_option,
    assigned_enterprises,
    park_geometry_if_geo,
    parse_weights,
)

log = logging.getLogger("parkgeo")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from parkgeo.siting import POINT_WEIGHTS

    add_input_options(parser)
    parser.add_argument(
        "--industry", required=True, metavar="CODE", help="industry of the new firm, e.g. C27"
    )
    parser.add_argument(
        "--points",
        metavar="CSV",
        help="candidate locations (CSV with lon/lat or 经度/纬度 columns) to score instead of parks",
    )
    parser.add_argument(
        "--points-coord-system",
        choices=COORD_SYSTEMS,
        default="wgs84",
        help="coordinate system of the candidate points (default wgs84)",
    )
    add_join_options(parser)
    add_cluster_options(parser)
    add_relatedness_option(parser)
    defaults = ",".join(f"{k}={v:g}" for k, v in POINT_WEIGHTS.items())
    parser.add_argument(
        "--weights",
        metavar="W",
        help=f"score weights (default {defaults}; park_distance applies to --points only)",
    )
    parser.add_argument(
        "--distance-scale-km",
        type=float,
        default=10.0,
        metavar="KM",
        help="distance at which a distance score falls to 0.37 (default 10)",
    )
    add_output_options(parser)


def read_points(path: str, coord_system: str, encoding: str | None) -> pd.DataFrame:
    """Candidate points from a CSV: lon/lat columns found by the loader's header aliases."""
    from parkgeo._columns import match_columns
    from parkgeo._errors import InputFormatError, ParkgeoError
    from parkgeo.coords import to_wgs84

    if not Path(path).is_file():
        raise InputFormatError(f"--points {path}: no such file")
    frame = None
    for enc in [encoding] if encoding else ["utf-8-sig", "gb18030"]:
        try:
            frame = pd.read_csv(path, encoding=enc, dtype=str)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputFormatError(f"--points {path}: cannot read the CSV ({exc})") from None
    if frame is None:
        raise InputFormatError(
            f"--points {path}: not UTF-8 or GB18030 text; pass --encoding to say which it is"
        )
    match = match_columns(frame.columns, required=("lon", "lat"), source=path)
    out = frame.rename(columns={v: k for k, v in match.columns.items() if k in ("lon", "lat")})
    for col in ("lon", "lat"):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ParkgeoError(
                f"--points {path}: row {row + 2} column {match.columns[col]!r} is not a number "
                f"({out[col].iloc[row]!r}); fix or remove that row"
            )
        out[col] = values.astype(float)
    result: pd.DataFrame = to_wgs84(out, coord_system)
    return result


def run(args: argparse.Namespace) -> int:
    from parkgeo._analysis import level_reported
    from parkgeo.clusters import industry_clusters
    from parkgeo.siting import rank_parks, score_sites

    weights = parse_weights(args.weights, "--weights")
    points = (
        read_points(args.points, args.points_coord_system, args.encoding) if args.points else None
    )
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
    options: dict[str, Any] = {
        "clusters": clusters,
        "year": year,
        "level": level,
        "distance_scale_km": args.distance_scale_km,
        "relatedness": args.relatedness,
    }
    if points is None:
        if weights is not None and weights.pop("park_distance", None) is not None:
            log.warning("the park_distance weight applies to --points only; ignored")
        with level_reported():
            ranked = rank_parks(args.industry, assigned, parks, weights=weights, **options)
        log.info("ranked %d parks for %s", len(ranked), ranked["industry"].iloc[0])
        emit_table(park_geometry_if_geo(ranked, parks, args), args)
        return 0
    with level_reported():
        scored = score_sites(points, args.industry, assigned, parks, weights=weights, **options)
    # the points' own columns come first (score_sites keeps them); best site first
    table = scored.sort_values("rank", kind="mergesort")
    log.info("scored %d candidate points for %s", len(table), args.industry)
    if output_format(args) in GEO_FORMATS:
        import geopandas as gpd

        table = gpd.GeoDataFrame(
            table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs="EPSG:4326"
        )
    emit_table(table, args)
    return 0
