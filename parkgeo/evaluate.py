"""Per-mu benefit evaluation (亩均效益综合评价): grade every enterprise, find low-efficiency land,
roll up to parks.

Since 2018 Chinese provinces and cities evaluate industrial firms every year: indicator scores
(tax per mu, revenue per mu, value added per tce, productivity, R&D share ...), a weighted
total and a class A/B/C/D that drives differentiated electricity, water and land-tax policy;
D-class land is the stock of low-efficiency land (低效用地) for redevelopment.
:func:`evaluate_enterprises` runs a scheme (:mod:`parkgeo.evaluate_scheme`) over an enterprise panel, with
land from a land column or a parcels layer (:mod:`parkgeo.evaluate_land`), and returns the
enterprise table, the park roll-up, the ledger, the year-over-year changes and the
low-efficiency land layer (:mod:`parkgeo.evaluate_outputs`). ``docs/evaluate.md`` explains it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from parkgeo._columns import ENTERPRISE_COLUMNS, match_columns
from parkgeo._errors import SchemaError
from parkgeo._xlsx import write_sheets
from parkgeo.evaluate_inputs import evaluation_columns
from parkgeo.evaluate_labels import zh_table
from parkgeo.evaluate_land import ParcelLand, allocate_parcels, land_for_firms
from parkgeo.evaluate_outputs import (
    class_changes,
    class_layer,
    low_efficiency_land,
    park_rollup,
)
from parkgeo.evaluate_scheme import Scheme, read_scheme
from parkgeo.evaluate_scoring import OUTCOMES, score_firms
from parkgeo.io import atomic_write, write_table
from parkgeo.join import assign_parks

__all__ = ["EvaluationResult", "evaluate_enterprises", "read_supplement", "write_evaluation"]

log = logging.getLogger("parkgeo")


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate_enterprises` returns.

    Attributes
    ----------
    enterprises : pandas.DataFrame
        One row per input firm-year, on the input's index: identity, ``park_id``, land
        (``land_ha``, ``land_mu``, ``land_source``), the measures, every indicator's value and
        ``score_<key>``, ``bonus``, ``total``, ``class``, ``rank`` and ``n_group`` (within
        group and year), ``veto``, ``reason`` (for the lowest class), ``outcome``.
    parks : pandas.DataFrame
        Per park and year (and ``ALL``): firms and land (mu) by class, ``land_share_low``
        (the two lowest classes), ``median_tax_per_mu``, ``tax_gain`` (万元).
    ledger : pandas.DataFrame
        Every firm-year (``record = enterprise``) and every parcel-year (``record = parcel``)
        with exactly one ``outcome``.
    changes : pandas.DataFrame
        Firms whose class changed from one evaluated year to the next, and why.
    low_efficiency : geopandas.GeoDataFrame
        Lowest-class parcels (or firm points) and idle parcels, with ``area_ha``/``area_mu``.
    scheme : Scheme
    parcel_land : ParcelLand or None
    """

    enterprises: pd.DataFrame
    parks: pd.DataFrame
    ledger: pd.DataFrame
    changes: pd.DataFrame
    low_efficiency: Any
    scheme: Scheme
    parcel_land: ParcelLand | None = None

    def class_layer(self, year: int | None = None) -> Any:
        """Evaluated firms as points with a ``color`` per class, for a map (one year, default
        the latest); see :func:`parkgeo.evaluate_outputs.class_layer`."""
        return class_layer(self.enterprises, self.scheme.classes.labels, year=year)


def read_supplement(path: str | Path, *, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A supplementary table (land, statistics, power or environment department) keyed by
    enterprise id and, optionally, year: CSV, XLSX or Parquet, headers recognised like the
    enterprise file's (``统一社会信用代码``, ``年份``, ``用地面积(亩)``, ``营业收入`` ...)."""

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        raw = pd.read_parquet(p)
    elif suffix in (".xlsx", ".xlsm"):
        raw = pd.read_excel(p, dtype=object)
    else:
        try:
            raw = pd.read_csv(p, dtype="str", keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            raw = pd.read_csv(p, dtype="str", keep_default_na=False, encoding="gb18030")
    match = match_columns(
        raw.columns,
        kind="enterprises",
        mapping={k: v for k, v in (mapping or {}).items() if k in ("enterprise_id", "year")},
        source=str(p),
        required=("enterprise_id",),
    )
    renamed = {match.columns["enterprise_id"]: "enterprise_id"}
    if "year" in match.columns:
        renamed[match.columns["year"]] = "year"
    out = raw.rename(columns=renamed)
    out["enterprise_id"] = out["enterprise_id"].astype("str").str.strip()
    if "year" in out.columns:
        out["year"] = pd.to_numeric(out["year"], errors="coerce").astype("Int64")
    out.attrs["source"] = str(p)
    return cast(pd.DataFrame, out)


def _merge_supplements(
    firms: pd.DataFrame, supplements: Sequence[pd.DataFrame]
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Left-join each supplement on enterprise id (and year when it has one); its rows that
    match no firm go to the ledger."""
    out = firms
    unmatched: list[dict[str, Any]] = []
    for k, sup in enumerate(supplements):
        source = str(sup.attrs.get("source", f"supplement {k + 1}"))
        keys = ["enterprise_id", "year"] if "year" in sup.columns else ["enterprise_id"]
        dup = sup.duplicated(keys)
        if dup.any():
            first = sup[dup].iloc[0]
            raise SchemaError(
                f"{source}: {', '.join(f'{c}={first[c]}' for c in keys)} appears more than once; "
                "a supplement has one row per enterprise (and year)"
            )
        clash = [c for c in sup.columns if c not in keys and c in out.columns]
        if clash:
            raise SchemaError(
                f"{source}: column {clash[0]!r} is also in the enterprise table; drop one of them"
            )
        right = sup.copy()
        right["enterprise_id"] = right["enterprise_id"].astype("str")
        left_keys = out[keys].copy()
        left_keys["enterprise_id"] = left_keys["enterprise_id"].astype("str")
        if "year" in keys:
            left_keys["year"] = left_keys["year"].astype("Int64")
        merged = left_keys.merge(right, on=keys, how="left", validate="many_to_one")
        merged.index = out.index
        out = pd.concat([out, merged.drop(columns=keys)], axis=1)
        matched = right.merge(left_keys.drop_duplicates(), on=keys, how="left", indicator=True)
        for _, row in matched[matched["_merge"] == "left_only"].iterrows():
            unmatched.append(
                {
                    "record": "supplement_row",
                    "id": str(row["enterprise_id"]),
                    "year": row["year"] if "year" in keys else pd.NA,
                    "outcome": "no_matching_enterprise",
                    "detail": f"{source}: no enterprise row with this id"
                    + (" and year" if "year" in keys else ""),
                    "area_ha": np.nan,
                }
            )
        if unmatched:
            log.warning(
                "%s: %d row(s) match no enterprise (listed in the ledger)", source, len(unmatched)
            )
    return out, unmatched


def evaluate_enterprises(
    enterprises: pd.DataFrame,
    scheme: Scheme | str | Path,
    *,
    parks: Any = None,
    parcels: Any = None,
    split: str = "equal",
    parcel_columns: Mapping[str, str] | None = None,
    supplements: Sequence[pd.DataFrame] = (),
    columns: Mapping[str, str] | None = None,
    years: Iterable[int] | None = None,
    near_m: float | None = None,
    overlap: str = "smallest",
    lang: str = "zh",
) -> EvaluationResult:
    """Evaluate every firm-year under ``scheme``.

    Parameters
    ----------
    enterprises : pandas.DataFrame
        The canonical enterprise panel (as :func:`parkgeo.io.read_enterprises` returns it),
        plus the evaluation columns under any recognised header (``营业收入``, ``研发经费``,
        ``用地面积(亩)``, ``规上`` ...; see ``docs/evaluate.md``) and the flag columns the
        scheme's veto and bonus items name.
    scheme : Scheme, path, or the name of an example scheme
        ``"linhai_base"`` or ``"jingde_minmax"`` (examples), or a TOML file.
    parks : geopandas.GeoDataFrame, optional
        Park polygons: firms and parcels are assigned to parks for the roll-up.
    parcels : geopandas.GeoDataFrame or path, optional
        Land parcels (宗地); see :func:`parkgeo.evaluate_land.allocate_parcels`. Firms holding
        parcels get their land from them; the others from the land column.
    split : {"equal", "employees", "share"}
        How a shared parcel is divided.
    parcel_columns : dict, optional
        ``parcel_id``/``owner_id``/``share`` -> the parcels' column names.
    supplements : sequence of pandas.DataFrame
        Further tables keyed by ``enterprise_id`` (and ``year``), see :func:`read_supplement`.
    columns : dict, optional
        Canonical evaluation column -> header, for headers not recognised.
    years : iterable of int, optional
        Evaluate only these years (the other rows are in the ledger as ``year_not_evaluated``).
    near_m : float, optional
    overlap : {"smallest", "priority", "error"}
        Passed to :func:`parkgeo.join.assign_parks` (firms near a park; firms in two parks).
    lang : {"zh", "en"}
        Language of the reasons.

    Returns
    -------
    EvaluationResult

    Examples
    --------
    >>> import parkgeo
    >>> sample = parkgeo.load_tianjin()
    >>> extra = pd.read_parquet(parkgeo.sample_path("tianjin_evaluation.parquet"))
    >>> firms = sample.enterprises.merge(extra, on=["enterprise_id", "year"])
    >>> result = evaluate_enterprises(firms, "jingde_minmax", parks=sample.parks, years=[2016])
    >>> result.enterprises.loc[lambda t: t["outcome"] == "evaluated", "class"].value_counts(
    ...     normalize=True).sort_index().round(2).tolist()
    [0.2, 0.5, 0.2, 0.1]
    """
    if not isinstance(scheme, Scheme):
        scheme = read_scheme(scheme)
    missing = [c for c in ("enterprise_id", "year") if c not in enterprises.columns]
    if missing:
        raise SchemaError(
            f"enterprises: column(s) {', '.join(missing)} missing; read the file with "
            "parkgeo.read_enterprises or name the columns"
        )
    firms, unmatched = _merge_supplements(enterprises, supplements)
    in_years = np.ones(len(firms), dtype=bool)
    if years is not None:
        wanted = [int(y) for y in years]
        in_years = firms["year"].isin(wanted).to_numpy()
        if not in_years.any():
            raise SchemaError(
                f"no enterprise rows for year(s) {', '.join(map(str, wanted))}; the data has "
                f"{', '.join(map(str, sorted(firms['year'].unique())))}"
            )
    skipped = firms[~in_years]
    firms = firms[in_years]
    base_cols = [c for c in ENTERPRISE_COLUMNS if c in firms.columns]
    flag_cols = [c for c in scheme.columns if c in firms.columns and c not in base_cols]
    extras = evaluation_columns(
        firms.drop(columns=base_cols),
        mapping=columns,
        extra=flag_cols,
        source=str(enterprises.attrs.get("source", "enterprises")),
    )
    parcel_land = None
    if parcels is not None:
        opts = {f"{k}_column": v for k, v in (parcel_columns or {}).items()}
        parcel_land = allocate_parcels(firms, parcels, split=split, **opts)
    column_ha = extras["land_ha"] if "land_ha" in extras.columns else None
    land = land_for_firms(firms, parcel_land, column_ha)
    work = pd.concat(
        [firms[base_cols], extras.drop(columns=["land_ha", "land_mu"], errors="ignore"), land],
        axis=1,
    )
    work["land_mu"] = work["land_ha"] * 15.0
    if parks is not None:
        joined = assign_parks(
            work,
            parks,
            near_m=near_m,
            overlap=overlap,  # type: ignore[arg-type]
            nearest=False,
        )
        work["park_id"] = joined.assigned["park_id"].astype("str").to_numpy()
    scores = score_firms(work, scheme, lang=lang)
    table = pd.concat([work, scores], axis=1)
    table = table[_order(table, scheme)]
    if parcel_land is not None and parks is not None:
        parcel_land = _parcels_in_parks(parcel_land, parks)
    labels = scheme.classes.labels
    rollup = park_rollup(
        table,
        labels,
        parks=parks,
        parcel_ledger=None if parcel_land is None else parcel_land.ledger,
    )
    ledger = _ledger(table, skipped, parcel_land, unmatched)
    names = {ind.key: ind.name for g in scheme.groups for ind in g.indicators}
    keys = list(dict.fromkeys(ind.key for g in scheme.groups for ind in g.indicators))
    changes = class_changes(table, keys, names, lang=lang)
    low = low_efficiency_land(
        table,
        labels[-1],
        parcels=None if parcel_land is None else parcel_land.parcels,
        allocation=None if parcel_land is None else parcel_land.allocation,
        parcel_ledger=None if parcel_land is None else parcel_land.ledger,
    )
    counts = table["outcome"].value_counts()
    log.info(
        "evaluated %d of %d firm-years (%s)",
        int(counts.get("evaluated", 0)),
        len(table),
        ", ".join(f"{k} {v}" for k, v in counts.items() if k != "evaluated") or "all eligible",
    )
    return EvaluationResult(
        enterprises=table,
        parks=rollup,
        ledger=ledger,
        changes=changes,
        low_efficiency=low,
        scheme=scheme,
        parcel_land=parcel_land,
    )


def _order(table: pd.DataFrame, scheme: Scheme) -> list[str]:
    head = ["enterprise_id", "name", "year", "park_id", "industry", "group", "group_name"]
    land = ["land_ha", "land_mu", "land_source", "n_parcels"]
    keys = list(dict.fromkeys(ind.key for g in scheme.groups for ind in g.indicators))
    result = [
        "total",
        "bonus",
        "class",
        "rank",
        "n_group",
        "veto",
        "reason",
        "outcome",
        "input_notes",
    ]
    first = [c for c in (*head, *land) if c in table.columns]
    scored = [*keys, *(f"score_{k}" for k in keys)]
    rest = [c for c in table.columns if c not in {*first, *scored, *result}]
    return [*first, *scored, *(c for c in result if c in table.columns), *rest]


def _parcels_in_parks(parcel_land: ParcelLand, parks: Any) -> ParcelLand:
    """Each parcel's park: the park containing its representative point (none if outside)."""

    pts = gpd.GeoDataFrame(
        {"parcel_id": parcel_land.parcels["parcel_id"].to_numpy()},
        geometry=parcel_land.parcels.geometry.representative_point().to_numpy(),
        crs="EPSG:4326",
    )
    polys = parks[["park_id", "geometry"]].to_crs("EPSG:4326")
    hit = gpd.sjoin(pts, polys, how="left", predicate="within")
    # a point in two overlapping parks: the first park in the parks' order
    park_of = hit.drop_duplicates("parcel_id").set_index("parcel_id")["park_id"].astype("str")
    parcels = parcel_land.parcels.assign(
        park_id=park_of.reindex(parcel_land.parcels["parcel_id"]).to_numpy()
    )
    ledger = parcel_land.ledger.assign(
        park_id=park_of.reindex(parcel_land.ledger["parcel_id"]).to_numpy()
    )
    return ParcelLand(
        land=parcel_land.land,
        allocation=parcel_land.allocation,
        ledger=ledger,
        parcels=parcels,
    )


def _ledger(
    table: pd.DataFrame,
    skipped: pd.DataFrame,
    parcel_land: ParcelLand | None,
    unmatched: list[dict[str, Any]],
) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                "record": "enterprise",
                "id": table["enterprise_id"].astype("str").to_numpy(),
                "year": table["year"].to_numpy(),
                "outcome": table["outcome"].astype("str").to_numpy(),
                "detail": table["outcome"].map(OUTCOMES).astype("str").to_numpy(),
                "area_ha": table["land_ha"].to_numpy(dtype=np.float64),
            }
        )
    ]
    if len(skipped):
        parts.append(
            pd.DataFrame(
                {
                    "record": "enterprise",
                    "id": skipped["enterprise_id"].astype("str").to_numpy(),
                    "year": skipped["year"].to_numpy(),
                    "outcome": "year_not_evaluated",
                    "detail": "year outside the years asked for",
                    "area_ha": np.nan,
                }
            )
        )
    if parcel_land is not None:
        led = parcel_land.ledger
        detail = np.where(
            led["firms"] != "",
            "firms: " + led["firms"].astype("str"),
            "",
        )
        parts.append(
            pd.DataFrame(
                {
                    "record": "parcel",
                    "id": led["parcel_id"].astype("str").to_numpy(),
                    "year": led["year"].to_numpy(),
                    "outcome": led["outcome"].to_numpy(),
                    "detail": detail,
                    "area_ha": led["area_ha"].to_numpy(dtype=np.float64),
                }
            )
        )
    if unmatched:
        parts.append(pd.DataFrame(unmatched))
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype("Int64")
    return cast(pd.DataFrame, out)


_ZH_SHEETS = {
    "enterprises": "企业评价",
    "parks": "园区汇总",
    "ledger": "台账",
    "changes": "年度变化",
    "scheme": "评价方案",
}


def scheme_table(scheme: Scheme) -> pd.DataFrame:
    """The scheme's indicators as a table (group, key, name, formula, unit, direction, weight,
    method, base, cap, a, b, winsorize), for the workbook."""
    rows = []
    for group in scheme.groups:
        for ind in group.indicators:
            rows.append(
                {
                    "group": group.key,
                    "group_name": group.name,
                    "key": ind.key,
                    "name": ind.name,
                    "formula": ind.formula,
                    "unit": ind.unit,
                    "direction": ind.direction,
                    "weight": ind.weight,
                    "method": ind.method,
                    "base": ind.base,
                    "cap": ind.cap if np.isfinite(ind.cap) else None,
                    "a": ind.a if ind.method == "minmax" else None,
                    "b": ind.b if ind.method == "minmax" else None,
                    "winsorize": "" if ind.winsorize is None else f"{ind.winsorize}",
                    "missing": group.missing,
                }
            )
    return cast(pd.DataFrame, pd.DataFrame(rows))


def write_evaluation(
    result: EvaluationResult,
    path: str | Path,
    *,
    lang: str = "zh",
    excel: bool = False,
    raw: bool = False,
) -> list[Path]:
    """Write the enterprise table, park roll-up, ledger, changes and scheme.

    ``.xlsx``: one workbook with a sheet each; with ``lang="zh"`` (default) the sheet names,
    headers and ledger details are Chinese (:mod:`parkgeo.evaluate_labels`).
    ``.csv``/``.parquet``: one file each, ``<stem>.<ext>`` for the enterprises and
    ``<stem>_parks``, ``<stem>_ledger``, ``<stem>_changes``, ``<stem>_scheme`` beside it.
    Every file is written atomically; the same inputs give the same bytes.
    """

    target = Path(path)
    tables = {
        # a named index (the loader's source_row) is written as a column: rows stay traceable
        "enterprises": result.enterprises.reset_index(drop=result.enterprises.index.name is None),
        "parks": result.parks,
        "ledger": result.ledger,
        "changes": result.changes,
        "scheme": scheme_table(result.scheme),
    }
    if target.suffix.lower() == ".xlsx":
        if lang != "zh":
            with atomic_write(target, "wb") as fh:
                write_sheets(fh, tables, name=str(target))
            return [target]

        names = {ind.key: ind.name for g in result.scheme.groups for ind in g.indicators}
        sheets: dict[str, pd.DataFrame] = {}
        text: set[str] = set()
        for key, frame in tables.items():
            sheets[_ZH_SHEETS[key]], cols = zh_table(
                frame, sheet=key, indicator_names=names, labels=result.scheme.classes.labels
            )
            text.update(cols)
        with atomic_write(target, "wb") as fh:
            write_sheets(fh, sheets, text_columns=sorted(text), name=str(target))
        return [target]
    fmt = "parquet" if target.suffix.lower() in (".parquet", ".geoparquet") else "csv"
    written = []
    for key, frame in tables.items():
        out = (
            target
            if key == "enterprises"
            else target.with_name(f"{target.stem}_{key}{target.suffix}")
        )
        write_table(frame, out, format=fmt, excel=excel, raw=raw)
        written.append(out)
    return written
