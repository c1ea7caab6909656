"""``parkgeo evaluate``: per-mu benefit evaluation (亩均效益综合评价) of every enterprise."""

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

OUTPUT_SUFFIXES = (".xlsx", ".csv", ".parquet")
LAYER_SUFFIXES = (".gpkg", ".parquet", ".geoparquet", ".geojson")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_options(parser)
    add_join_options(parser)
    parser.add_argument(
        "--scheme",
        required=True,
        metavar="TOML",
        help="evaluation scheme: a TOML file, or an example: linhai_base (base values, "
        "modelled on 临海市) or jingde_minmax (min-max and class shares, modelled on 旌德县)",
    )
    parser.add_argument(
        "--parcels",
        metavar="PATH",
        help="land parcels (宗地: GeoPackage, GeoJSON, Shapefile, GeoParquet) with an owner "
        "column (权利人代码) or located by the firms' points; firms holding parcels take their "
        "land from them, the others from the land column (用地面积)",
    )
    parser.add_argument(
        "--split",
        choices=("equal", "employees", "share"),
        default="equal",
        help="how a parcel shared by several firms is divided (default equal; share uses the "
        "parcels' share column, 份额/分摊比例)",
    )
    parser.add_argument("--parcel-id-column", metavar="NAME", help="parcels' id column")
    parser.add_argument("--owner-column", metavar="NAME", help="parcels' owner id column")
    parser.add_argument("--share-column", metavar="NAME", help="parcels' share column")
    parser.add_argument(
        "--supplement",
        action="append",
        default=[],
        metavar="PATH",
        help="a further table keyed by enterprise id (and year), e.g. from the land, "
        "statistics or environment department (CSV, XLSX, Parquet; repeatable)",
    )
    parser.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="NAME=HEADER",
        help="the header of an evaluation column parkgeo does not recognise, e.g. "
        "revenue=销售额 (repeatable; names: revenue, rd_expense, tech_investment, cod_t, "
        "emissions_t, water_t, electricity_kwh, above_scale, land_area, founded_year)",
    )
    parser.add_argument(
        "--year",
        type=int,
        action="append",
        metavar="YEAR",
        help="evaluate this year (repeatable; default every year in the data)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="eval.xlsx: one workbook (enterprises, park roll-up, ledger, changes, scheme); "
        "eval.csv or eval.parquet: one file each (eval_parks.csv, eval_ledger.csv ...)",
    )
    parser.add_argument(
        "--low-efficiency",
        metavar="PATH",
        help="write the low-efficiency land layer (lowest-class parcels or firm points, idle "
        "parcels) as .gpkg, .parquet (GeoParquet) or .geojson",
    )
    parser.add_argument(
        "--class-layer",
        metavar="PATH",
        help="write the evaluated firms of the latest year as points with a colour per class "
        "(.gpkg, .parquet or .geojson), for a map",
    )
    parser.add_argument(
        "--map",
        metavar="HTML",
        help="write an offline map of the latest year: firms coloured by class, low-efficiency "
        "and idle parcels, park outlines (one self-contained HTML file)",
    )
    parser.add_argument(
        "--lang",
        choices=("zh", "en"),
        default="zh",
        help="language of the sheet names and the reasons (default zh)",
    )
    parser.add_argument(
        "--excel", action="store_true", help="CSV as UTF-8 with BOM so Excel shows Chinese"
    )
    parser.add_argument(
        "--protect",
        action="store_true",
        help="disclosure control of the park roll-up: withhold its tax figures "
        "(median_tax_per_mu, tax_gain) that would disclose a firm (default rules: at least 3 "
        "firms, dominance 1:85 and 2:90, p%% 10; see docs/disclosure.md); the firm sheets stay "
        "confidential",
    )
    parser.add_argument(
        "--disclosure",
        metavar="TOML",
        help="disclosure rules from the [disclosure] table of this file (implies --protect)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="do not neutralise CSV cells starting with = + - @ (formula injection)",
    )


def _mapping(pairs: list[str]) -> dict[str, str]:
    from parkgeo._columns_eval import EVALUATION_ALIASES
    from parkgeo._errors import ParkgeoError

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, header = pair.partition("=")
        if not sep or not header:
            raise ParkgeoError(f"--column {pair!r}: write NAME=HEADER, e.g. revenue=销售额")
        if name not in EVALUATION_ALIASES:
            raise ParkgeoError(
                f"--column {pair!r}: {name!r} is not an evaluation column; use one of "
                f"{', '.join(EVALUATION_ALIASES)}"
            )
        out[name] = header
    return out


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from parkgeo._errors import ParkgeoError
    from parkgeo.evaluate import evaluate_enterprises, read_supplement, write_evaluation
    from parkgeo.evaluate_inputs import read_evaluation_columns
    from parkgeo.evaluate_scheme import read_scheme
    from parkgeo.io import write_table

    output = Path(args.output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ParkgeoError(
            f"-o {args.output}: write .xlsx (one workbook) or .csv/.parquet (one file per table)"
        )
    for option, value in (
        ("--low-efficiency", args.low_efficiency),
        ("--class-layer", args.class_layer),
    ):
        if value and Path(value).suffix.lower() not in LAYER_SUFFIXES:
            raise ParkgeoError(f"{option} {value}: write .gpkg, .parquet or .geojson")
    scheme = read_scheme(args.scheme)
    mapping = _mapping(args.column)
    parks = load_parks(args)
    loaded = load_enterprises(args)
    flags = [c for c in scheme.columns]
    extra = read_evaluation_columns(args.enterprises, loaded, mapping=mapping, extra=flags)
    # land_ha carries the land (land_mu is the same figure in mu); notes are added at the end
    skip = {*loaded.data.columns, "input_notes", "land_mu"}
    raw_cols = [c for c in extra.columns if c not in skip]
    firms = pd.concat([loaded.data, extra[raw_cols]], axis=1)
    firms.attrs = dict(loaded.data.attrs)
    supplements = [read_supplement(p, mapping=mapping) for p in args.supplement]
    result = evaluate_enterprises(
        firms,
        scheme,
        parks=parks,
        parcels=args.parcels,
        split=args.split,
        parcel_columns={
            k: v
            for k, v in (
                ("parcel_id", args.parcel_id_column),
                ("owner_id", args.owner_column),
                ("share", args.share_column),
            )
            if v
        },
        supplements=supplements,
        columns=mapping,
        years=args.year,
        **join_options(args),
        lang=args.lang,
    )
    notes = extra["input_notes"].dropna()
    notes = notes[notes.index.isin(result.enterprises.index)]
    if len(notes):
        table = result.enterprises.copy()
        table.loc[notes.index, "input_notes"] = notes
        result = _replace(result, enterprises=table)
    if len(loaded.rejects):
        rejected = pd.DataFrame(
            {
                "record": "input_row",
                "id": loaded.rejects["source_row"].astype("str").to_numpy(),
                "year": pd.array([pd.NA] * len(loaded.rejects), dtype="Int64"),
                "outcome": "rejected",
                "detail": loaded.rejects["reason"].astype("str").to_numpy(),
                "area_ha": float("nan"),
            }
        )
        result = _replace(result, ledger=pd.concat([result.ledger, rejected], ignore_index=True))
    from parkgeo._sdc_cli import rules_from_args

    rules = rules_from_args(args)
    if rules is not None:
        from parkgeo._evaluate_sdc import protect_rollup

        rollup = protect_rollup(result.parks, result.enterprises, rules=rules)
        log.info(
            "disclosure control: %d roll-up figure(s) withheld; the firm sheets are "
            "confidential, publish only the park roll-up",
            int(rollup["disclosure"].str.count("=").sum()),
        )
        result = _replace(result, parks=rollup)
    written = write_evaluation(result, output, lang=args.lang, excel=args.excel, raw=args.raw)
    for path in written:
        log.info("wrote %s", path)
    if args.low_efficiency:
        write_table(result.low_efficiency, args.low_efficiency)
        log.info(
            "wrote %d low-efficiency features to %s",
            len(result.low_efficiency),
            args.low_efficiency,
        )
    if args.map:
        from parkgeo.evaluate_map import save_evaluation_map

        save_evaluation_map(result, args.map, parks=parks, lang=args.lang)
        log.info("wrote the evaluation map to %s", args.map)
    if args.class_layer:
        layer = result.class_layer()
        write_table(layer, args.class_layer)
        log.info("wrote %d firms coloured by class to %s", len(layer), args.class_layer)
    return 0


def _replace(result: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(result, **changes)
