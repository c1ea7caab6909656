"""``parkgeo map``: write the planner's interactive offline map (or a single-purpose map).

Joins the enterprises to the parks, computes the per-park figures, the industry clusters and
the missing clusters as the chosen map needs, and writes one self-contained HTML file
atomically (Leaflet inlined, no network needed to open it).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from parkgeo._commands._common import (
    add_input_options,
    add_join_options,
    join_options,
    load_enterprises,
    load_parks,
)

log = logging.getLogger("parkgeo")

DEFAULT_OUTPUT = "maps/planner_map.html"
KINDS = ("planner", "density", "clusters", "gaps")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from parkgeo._commands.clusters import add_cluster_options
    from parkgeo._legend import SCHEMES

    add_input_options(parser)
    add_join_options(parser)
    add_cluster_options(parser)  # --level --year --method --min-size --eps-m
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="planner",
        help="planner (default): every layer; density: one measure; clusters: cluster hulls; "
        "gaps: parks by their missing clusters",
    )
    parser.add_argument(
        "--measure",
        default="tax_per_ha",
        metavar="COLUMN",
        help="measure of --kind density (default tax_per_ha)",
    )
    parser.add_argument(
        "--districts",
        metavar="PATH",
        help="district boundaries drawn as a light base (GeoJSON, GeoPackage, GeoParquet, ...)",
    )
    parser.add_argument(
        "--districts-coord-system",
        choices=("wgs84", "cgcs2000", "gcj02", "bd09"),
        default="wgs84",
        help="coordinate system of the district file (DataV/AMap files are gcj02)",
    )
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="labels (default en)")
    parser.add_argument(
        "--tiles",
        default="none",
        metavar="NAME",
        help="basemap: none (default, works offline) or an xyzservices provider such as "
        "OpenStreetMap.Mapnik or Gaode.Normal (needs network when the map is opened)",
    )
    parser.add_argument(
        "--scheme",
        choices=SCHEMES,
        default="fisherjenks",
        help="class breaks of the choropleths (default fisherjenks)",
    )
    parser.add_argument("-k", "--classes", type=int, default=5, metavar="K", help="classes (2-9)")
    parser.add_argument(
        "--bins",
        action="append",
        metavar="MEASURE=B1,B2,...",
        help="upper class bounds for --scheme userdefined, one option per measure, e.g. "
        "--bins tax_per_ha=50,100,200",
    )
    parser.add_argument(
        "--baseline-year", type=int, metavar="YEAR", help="year the changes are measured from"
    )
    parser.add_argument("--targets", metavar="TOML", help="plan targets file (see parkgeo density)")
    parser.add_argument(
        "--min-enterprises",
        type=int,
        metavar="K",
        help="confidentiality: hide money figures of parks with fewer than K contributing firms",
    )
    parser.add_argument(
        "--show",
        default="districts",
        metavar="LAYERS",
        help="overlays on when the planner's map opens: comma-separated of districts, "
        "enterprises, clusters (default districts)",
    )
    parser.add_argument(
        "--no-names",
        action="store_true",
        help="leave enterprise names out of the map (smaller file, confidentiality)",
    )
    parser.add_argument(
        "--max-points",
        type=int,
        metavar="N",
        help="draw at most N enterprises (default 150,000; an evenly spread subset above it)",
    )
    parser.add_argument("--title", help="map title (default: a title in --lang)")
    from parkgeo._sdc_cli import add_disclosure_arguments

    add_disclosure_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="PATH",
        help=f"HTML file to write (default {DEFAULT_OUTPUT})",
    )


def parse_bins(items: list[str] | None) -> dict[str, list[float]] | None:
    """``["tax_per_ha=50,100,200"]`` -> ``{"tax_per_ha": [50.0, 100.0, 200.0]}``."""
    from parkgeo._errors import ParkgeoError

    if not items:
        return None
    out: dict[str, list[float]] = {}
    for item in items:
        measure, sep, values = item.partition("=")
        try:
            if not sep or not measure.strip():
                raise ValueError
            out[measure.strip()] = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise ParkgeoError(
                f"--bins: cannot read {item!r}; write MEASURE=B1,B2,... e.g. "
                "--bins tax_per_ha=50,100,200"
            ) from None
    return out


def read_districts(path: str, coord_system: str) -> Any:
    """District polygons in WGS-84; a file without CRS is an error naming the fix."""
    import geopandas as gpd

    from parkgeo._errors import CRSError, InputFormatError
    from parkgeo.coords import to_wgs84

    source = Path(path)
    if not source.is_file():
        raise InputFormatError(f"--districts {path}: no such file")
    try:
        if source.suffix.lower() in (".parquet", ".geoparquet"):
            layer = gpd.read_parquet(source)
        else:
            layer = gpd.read_file(source)
    except Exception as exc:  # pyogrio/pyarrow raise many types for unreadable files
        raise InputFormatError(
            f"--districts {path}: cannot read it as a vector layer ({exc})"
        ) from exc
    if layer.crs is None and coord_system in ("wgs84", "cgcs2000"):
        raise CRSError(
            f"--districts {path} has no CRS: add one to the file (e.g. EPSG:4326) or pass "
            "--districts-coord-system for lon/lat degrees"
        )
    return to_wgs84(layer, coord_system)


def run(args: argparse.Namespace) -> int:
    from parkgeo import maps
    from parkgeo._errors import ParkgeoError
    from parkgeo.join import assign_parks
    from parkgeo.metrics import Targets, park_metrics, read_targets

    if args.min_enterprises is not None and args.min_enterprises < 1:
        raise ParkgeoError(f"--min-enterprises must be 1 or more, got {args.min_enterprises}")
    visible = tuple(part.strip() for part in args.show.split(",") if part.strip())
    bins = parse_bins(args.bins)
    if bins and args.scheme != "userdefined":
        raise ParkgeoError("--bins needs --scheme userdefined")
    targets = read_targets(args.targets) if args.targets else Targets()
    districts = (
        read_districts(args.districts, args.districts_coord_system) if args.districts else None
    )
    parks = load_parks(args)
    if districts is None:  # said once the parks are read: a run that fails on them says no more
        log.warning(
            "no --districts given: the map shows the parks on a plain background with a frame "
            "of their extent; pass --districts FILE (district boundaries as GeoJSON, GeoPackage "
            "or GeoParquet; DataV/AMap files with --districts-coord-system gcj02) for the base "
            "and district names"
        )
    loaded = load_enterprises(args)
    # the map draws no firm's distance to its nearest park: that search (0.1 s at 120k
    # firms) runs only when --near-m needs it
    how = join_options(args)
    assigned = assign_parks(loaded.data, parks, nearest=how["near_m"] is not None, **how).assigned

    metrics = None
    if args.kind in ("planner", "density", "gaps"):
        metrics = park_metrics(
            assigned,
            parks,
            baseline_year=args.baseline_year,
            targets=targets,
            min_enterprises=args.min_enterprises,
        )
        from parkgeo._sdc_cli import apply_disclosure

        # with --protect the map reads only the protected table (docs/disclosure.md)
        metrics = apply_disclosure(metrics, args, parks=parks, assigned=assigned, text=False)
    from parkgeo.years import resolve_year

    year = resolve_year(metrics if metrics is not None else assigned, args.year)
    clusters = gaps = None
    if args.kind in ("planner", "clusters", "gaps"):
        from parkgeo.clusters import industry_clusters

        clusters = industry_clusters(
            assigned,
            level=args.level,
            method=args.method,
            min_size=args.min_size,
            eps_m=args.eps_m,
            year=year,
            parks=parks,
        )
        log.info("%d industry clusters found in %s", len(clusters.clusters), year)
    if args.kind in ("planner", "gaps"):
        from parkgeo.gaps import missing_clusters

        gaps = missing_clusters(
            assigned, parks, level=args.level, year=year, clusters=clusters, random_state=0
        )

    max_points = args.max_points if args.max_points is not None else maps.DEFAULT_MAX_POINTS
    common: dict[str, Any] = {"lang": args.lang, "tiles": args.tiles, "title": args.title}
    if args.kind == "planner":
        assert metrics is not None
        m = maps.planner_map(
            parks,
            metrics,
            enterprises=assigned,
            districts=districts,
            clusters=clusters,
            gaps=gaps,
            year=year,
            baseline_year=args.baseline_year,
            scheme=args.scheme,
            k=args.classes,
            bins=bins,
            max_points=max_points,
            enterprise_names=not args.no_names,
            visible=visible,
            **common,
        )
    elif args.kind == "density":
        assert metrics is not None
        m = maps.density_map(
            parks,
            metrics,
            measure=args.measure,
            year=year,
            baseline_year=args.baseline_year,
            districts=districts,
            scheme=args.scheme,
            k=args.classes,
            bins=(bins or {}).get(args.measure),
            **common,
        )
    elif args.kind == "clusters":
        m = maps.cluster_map(
            clusters,
            enterprises=assigned,
            parks=parks,
            districts=districts,
            year=year,
            max_points=max_points,
            **common,
        )
    else:
        assert gaps is not None
        m = maps.gap_map(
            parks,
            gaps,
            metrics=metrics,
            clusters=clusters,
            districts=districts,
            year=year,
            baseline_year=args.baseline_year,
            k=args.classes,
            **common,
        )
    out = maps.save_map(m, args.output)
    size_mb = out.stat().st_size / 1e6
    offline = str(args.tiles).strip().lower() in ("", "none", "off")
    log.info(
        "wrote the %s map (%s, %.1f MB); open it in a browser: %s",
        args.kind,
        out,
        size_mb,
        "no network needed" if offline else f"the {args.tiles} basemap needs network",
    )
    if not args.quiet:
        print(out)
    return 0
