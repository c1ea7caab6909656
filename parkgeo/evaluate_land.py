"""Land per enterprise for the per-mu evaluation: from a land-area column, or from a parcels
layer (宗地) with every parcel and every firm accounted for.

A parcel belongs to the firms its owner column names (``权利人代码``; several ids in one cell,
``A;B``, or several rows with the same parcel id, make it shared) or, without an owner column,
to the firms whose point falls inside it. A shared parcel is split equally, by employees or by
a share column. Areas are geodesic (:func:`parkgeo.coords.geodesic_area_ha`).

The parcel ledger has one row per parcel and year with exactly one outcome:

- ``allocated``: one firm holds it;
- ``shared``: several firms hold it;
- ``idle``: no firm (no owner named, or no firm point inside): vacant or idle land (闲置土地);
- ``owner_not_in_data``: its owners are named but none is among the enterprises that year;
- ``no_geometry``: the parcel has no usable polygon (its area is unknown).

``area_ha = allocated_ha + unallocated_ha`` on every row.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from parkgeo._columns import normalize_header
from parkgeo._columns_eval import PARCEL_ALIASES
from parkgeo._errors import CRSError, GeometryError, SchemaError
from parkgeo.coords import geodesic_area_ha

__all__ = [
    "PARCEL_OUTCOMES",
    "SPLIT_RULES",
    "ParcelLand",
    "allocate_parcels",
    "land_for_firms",
    "read_parcels",
]

log = logging.getLogger("parkgeo")

SPLIT_RULES = ("equal", "employees", "share")
PARCEL_OUTCOMES: dict[str, str] = {
    "allocated": "held by one firm",
    "shared": "held by several firms, split by the rule",
    "idle": "no firm: vacant or idle land (闲置土地)",
    "owner_not_in_data": "owners named, but none is among the enterprises that year",
    "no_geometry": "no usable polygon: area unknown",
}
_ID_SEPARATORS = re.compile(r"\s*[;,，；、|/]\s*|\s+")


@dataclass(frozen=True)
class ParcelLand:
    """Land from parcels.

    Attributes
    ----------
    land : pandas.DataFrame
        Per enterprise and year: ``enterprise_id``, ``year``, ``land_ha`` (summed over its
        parcel shares), ``n_parcels``.
    allocation : pandas.DataFrame
        One row per parcel, year and holding firm: ``parcel_id``, ``year``, ``enterprise_id``,
        ``share`` (of the parcel), ``land_ha``.
    ledger : pandas.DataFrame
        One row per parcel and year: ``parcel_id``, ``year``, ``area_ha``, ``outcome`` (see
        :data:`PARCEL_OUTCOMES`), ``n_firms``, ``firms``, ``allocated_ha``,
        ``unallocated_ha``, ``split``.
    parcels : geopandas.GeoDataFrame
        One row per parcel: ``parcel_id``, ``area_ha``, ``owners`` (tuple of ids, empty when
        located by points), ``geometry`` (EPSG:4326).
    """

    land: pd.DataFrame
    allocation: pd.DataFrame
    ledger: pd.DataFrame
    parcels: Any


def _find(headers: list[str], canonical: str, given: str | None) -> str | None:
    if given is not None:
        if given not in headers:
            raise SchemaError(
                f"parcels: no column {given!r} (for {canonical}); the columns are "
                f"{', '.join(map(repr, headers))}"
            )
        return given
    wanted = {normalize_header(n) for n in (canonical, *PARCEL_ALIASES[canonical])}
    hits = [h for h in headers if normalize_header(h) in wanted]
    if len(hits) > 1:
        raise SchemaError(
            f"parcels: several columns could be {canonical} ({', '.join(map(repr, hits))}); "
            f"name one with {canonical}_column="
        )
    return hits[0] if hits else None


def read_parcels(
    parcels: Any,
    *,
    parcel_id_column: str | None = None,
    owner_column: str | None = None,
    share_column: str | None = None,
) -> Any:
    """Parcels in a canonical form: ``parcel_id``, ``owners`` (tuple of ids), ``shares``
    (tuple of floats, or empty), ``area_ha`` (geodesic), ``geometry`` in EPSG:4326.

    ``parcels`` is a GeoDataFrame or a path GeoPandas reads (GeoPackage, GeoJSON, Shapefile,
    GeoParquet). Rows repeating a parcel id are one shared parcel: their owners and shares are
    combined (their polygons must be the same).

    Raises
    ------
    CRSError, GeometryError, SchemaError
        No CRS; repeated parcel ids with different polygons; a share that is not a number.
    """

    if not isinstance(parcels, gpd.GeoDataFrame):
        path = Path(parcels)
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            parcels = gpd.read_parquet(path)
        else:
            parcels = gpd.read_file(path)
    if parcels.crs is None:
        raise CRSError("parcels: the layer has no CRS; set one (e.g. EPSG:4326) before reading")
    gdf = parcels.to_crs("EPSG:4326")
    headers = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    id_col = _find(headers, "parcel_id", parcel_id_column)
    owner_col = _find(headers, "owner_id", owner_column)
    share_col = _find(headers, "share", share_column)
    n = len(gdf)
    if id_col is None:
        log.info("parcels: no parcel id column (宗地编号); parcels are numbered P1..P%d", n)
        ids = pd.Series([f"P{i + 1}" for i in range(n)], dtype="str")
    else:
        ids = gdf[id_col].astype("str").str.strip().reset_index(drop=True)
    owners: list[tuple[str, ...]] = []
    shares: list[tuple[float, ...]] = []
    for i in range(n):
        cell = gdf[owner_col].iloc[i] if owner_col else None
        text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
        own = tuple(x for x in _ID_SEPARATORS.split(text.strip()) if x)
        owners.append(own)
        if share_col is None:
            shares.append(())
            continue
        raw = gdf[share_col].iloc[i]
        parts = [x for x in _ID_SEPARATORS.split(str(raw).strip()) if x] if raw is not None else []
        try:
            values = tuple(
                float(x.rstrip("%")) / (100.0 if x.endswith("%") else 1.0) for x in parts
            )
        except ValueError:
            raise SchemaError(
                f"parcels: parcel {ids.iloc[i]}: share {raw!r} is not a number (or a list of "
                "numbers, one per owner)"
            ) from None
        if own and values and len(values) != len(own):
            raise SchemaError(
                f"parcels: parcel {ids.iloc[i]}: {len(own)} owner(s) but {len(values)} share(s) "
                f"in column {share_col!r}; give one share per owner"
            )
        shares.append(values)
    geoms = gdf.geometry.reset_index(drop=True)
    frame = pd.DataFrame({"parcel_id": ids, "owners": owners, "shares": shares})
    first: dict[str, int] = {}
    keep: list[int] = []
    for i, pid in enumerate(ids):
        if pid not in first:
            first[pid] = len(keep)
            keep.append(i)
            continue
        j = keep[first[pid]]
        if not geoms.iloc[i].equals(geoms.iloc[j]):
            raise GeometryError(
                f"parcels: parcel id {pid} appears twice with different polygons; give each "
                "parcel its own id (rows repeating an id are owners of one shared parcel)"
            )
        frame.at[j, "owners"] = frame.at[j, "owners"] + frame.at[i, "owners"]
        frame.at[j, "shares"] = frame.at[j, "shares"] + frame.at[i, "shares"]
    frame = frame.iloc[keep].reset_index(drop=True)
    geometry = geoms.iloc[keep].reset_index(drop=True)
    area = geodesic_area_ha(gpd.GeoSeries(geometry, crs="EPSG:4326"))
    out = gpd.GeoDataFrame(
        frame.assign(area_ha=area), geometry=geometry.to_numpy(), crs="EPSG:4326"
    )
    out.attrs["owner_column"] = owner_col
    out.attrs["share_column"] = share_col
    return out


def allocate_parcels(
    firms: pd.DataFrame,
    parcels: Any,
    *,
    split: str = "equal",
    parcel_id_column: str | None = None,
    owner_column: str | None = None,
    share_column: str | None = None,
) -> ParcelLand:
    """Allocate parcel land to firms, year by year.

    Parameters
    ----------
    firms : pandas.DataFrame
        ``enterprise_id``, ``year``, and ``lon``/``lat`` (WGS-84) when the parcels carry no
        owner column; ``employees`` for ``split="employees"``.
    parcels : geopandas.GeoDataFrame or path
        The parcels layer (see :func:`read_parcels`).
    split : {"equal", "employees", "share"}
        How a shared parcel is divided among the firms present that year. ``share`` uses the
        share column as given: the shares of owners absent that year stay unallocated (in the
        ledger), they are not handed to the others.

    Returns
    -------
    ParcelLand

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> parcels = gpd.GeoDataFrame({"宗地编号": ["Z1", "Z2"], "权利人代码": ["A;B", ""]},
    ...     geometry=[box(117.0, 39.0, 117.001, 39.001), box(117.1, 39.0, 117.101, 39.001)],
    ...     crs="EPSG:4326")
    >>> firms = pd.DataFrame({"enterprise_id": ["A", "B"], "year": [2016, 2016]})
    >>> result = allocate_parcels(firms, parcels)
    >>> result.ledger[["parcel_id", "outcome", "n_firms"]].to_numpy().tolist()
    [['Z1', 'shared', 2], ['Z2', 'idle', 0]]
    >>> result.land["land_ha"].round(4).tolist()
    [0.4808, 0.4808]
    """
    if split not in SPLIT_RULES:
        raise SchemaError(f"split must be one of {', '.join(SPLIT_RULES)}, got {split!r}")
    table = read_parcels(
        parcels,
        parcel_id_column=parcel_id_column,
        owner_column=owner_column,
        share_column=share_column,
    )
    by_owner = table.attrs.get("owner_column") is not None
    if split == "share" and table.attrs.get("share_column") is None:
        raise SchemaError(
            "split='share' needs a share column in the parcels (份额/分摊比例), or name it with "
            "share_column="
        )
    if split == "share" and not by_owner:
        raise SchemaError("split='share' needs an owner column: shares are given per owner")
    if not by_owner and not {"lon", "lat"} <= set(firms.columns):
        raise SchemaError(
            "the parcels have no owner column (权利人代码), so firms are located by their points, "
            "but the enterprises have no lon/lat"
        )
    ids = firms["enterprise_id"].astype("str").to_numpy(dtype=object)
    years = firms["year"].to_numpy()
    employees = (
        firms["employees"].to_numpy(dtype=np.float64, na_value=np.nan)
        if "employees" in firms.columns
        else np.full(len(firms), np.nan)
    )
    area = table["area_ha"].to_numpy(dtype=np.float64)
    valid_geom = np.isfinite(area) & (area > 0)
    # (parcel position, firm row) candidate pairs with the share the owner column gives
    if by_owner:
        pair_parcel, pair_owner, pair_share = [], [], []
        for p, (own, shr) in enumerate(zip(table["owners"], table["shares"], strict=True)):
            for k, owner in enumerate(own):
                pair_parcel.append(p)
                pair_owner.append(owner)
                pair_share.append(shr[k] if shr else np.nan)
        pairs = pd.DataFrame(
            {
                "p": np.asarray(pair_parcel, dtype=np.int64),
                "enterprise_id": pd.Series(pair_owner, dtype=object),
                "given_share": np.asarray(pair_share, dtype=np.float64),
            }
        )
        rows = pd.DataFrame({"row": np.arange(len(firms)), "enterprise_id": ids, "year": years})
        joined = pairs.merge(rows, on="enterprise_id", how="inner")
    else:
        points = gpd.GeoDataFrame(
            {"row": np.arange(len(firms))},
            geometry=gpd.points_from_xy(firms["lon"], firms["lat"]),
            crs="EPSG:4326",
        )
        shapes = gpd.GeoDataFrame({"p": np.arange(len(table))}, geometry=table.geometry.values)
        shapes = shapes.set_crs("EPSG:4326")[valid_geom]
        hit = gpd.sjoin(points, shapes, how="inner", predicate="intersects")
        joined = pd.DataFrame(
            {
                "p": hit["p"].to_numpy(),
                "row": hit["row"].to_numpy(),
                "given_share": np.nan,
            }
        )
        joined["enterprise_id"] = ids[joined["row"].to_numpy()]
        joined["year"] = years[joined["row"].to_numpy()]
    joined = joined[valid_geom[joined["p"].to_numpy()]]
    joined = joined.sort_values(["p", "year", "enterprise_id", "row"], kind="stable")
    # one firm listed twice on a parcel (two owner rows) holds it once
    joined = joined.drop_duplicates(["p", "row"])
    joined["emp"] = employees[joined["row"].to_numpy()]

    counts = joined.groupby(["p", "year"], sort=False)["row"].transform("size").to_numpy()
    share = np.full(len(joined), np.nan)
    if split == "equal":
        share = 1.0 / counts
    elif split == "employees":
        emp = np.where(np.isfinite(joined["emp"]) & (joined["emp"] > 0), joined["emp"], 0.0)
        total = pd.Series(emp).groupby([joined["p"].to_numpy(), joined["year"].to_numpy()])
        total_emp = total.transform("sum").to_numpy()
        fallback = total_emp <= 0
        if (fallback & (counts > 1)).any():
            log.warning(
                "%d shared parcel-year(s) have no employee counts for their firms; split equally",
                int(
                    pd.Series(list(zip(joined["p"], joined["year"], strict=True)))[
                        fallback
                    ].nunique()
                ),
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(fallback, 1.0 / counts, emp / total_emp)
    else:
        # a parcel with one owner and no share is wholly that owner's
        blank = table["shares"].map(len).to_numpy() == 0
        n_owners = table["owners"].map(len).to_numpy()
        unsplit = np.flatnonzero(blank & (n_owners > 1))
        if len(unsplit):
            raise SchemaError(
                f"parcels: parcel {table['parcel_id'].iloc[unsplit[0]]} has "
                f"{n_owners[unsplit[0]]} owners but no shares; fill its share column, or use "
                "split='equal' or 'employees'"
            )
        table = table.assign(shares=[s if s else (1.0,) for s in table["shares"]])
        pos = joined["p"].to_numpy()
        given = np.where(blank[pos], 1.0, joined["given_share"].to_numpy(dtype=np.float64))
        sums = table["shares"].map(sum).to_numpy(dtype=np.float64)
        off = np.flatnonzero((np.abs(sums - 1.0) > 1e-6) & (table["shares"].map(len) > 0))
        if len(off):
            pid = table["parcel_id"].iloc[off[0]]
            log.warning(
                "%d parcel(s) have shares that do not sum to 1 (e.g. %s: %g); they are scaled "
                "to sum to 1",
                len(off),
                pid,
                sums[off[0]],
            )
        share = given / sums[joined["p"].to_numpy()]
    joined["share"] = share
    joined["land_ha"] = share * area[joined["p"].to_numpy()]

    allocation = pd.DataFrame(
        {
            "parcel_id": table["parcel_id"].to_numpy()[joined["p"].to_numpy()],
            "year": joined["year"].to_numpy(),
            "enterprise_id": joined["enterprise_id"].to_numpy(),
            "share": joined["share"].to_numpy(),
            "land_ha": joined["land_ha"].to_numpy(),
        }
    )
    land = (
        allocation.groupby(["enterprise_id", "year"], sort=True)
        .agg(land_ha=("land_ha", "sum"), n_parcels=("parcel_id", "size"))
        .reset_index()
    )
    ledger = _ledger(table, joined, np.unique(years), valid_geom, by_owner, split)
    return ParcelLand(land=land, allocation=allocation, ledger=ledger, parcels=table)


def _ledger(
    table: Any,
    joined: pd.DataFrame,
    years: Any,
    valid_geom: Any,
    by_owner: bool,
    split: str,
) -> pd.DataFrame:
    n_parcels = len(table)
    grid = pd.DataFrame(
        {
            "p": np.repeat(np.arange(n_parcels), len(years)),
            "year": np.tile(np.asarray(years), n_parcels),
        }
    )
    per = (
        joined.groupby(["p", "year"], sort=False)
        .agg(
            n_firms=("row", "size"),
            firms=("enterprise_id", lambda s: ";".join(map(str, s))),
            allocated_ha=("land_ha", "sum"),
        )
        .reset_index()
    )
    led = grid.merge(per, on=["p", "year"], how="left")
    led["n_firms"] = led["n_firms"].fillna(0).astype(np.int64)
    led["allocated_ha"] = led["allocated_ha"].fillna(0.0)
    p = led["p"].to_numpy()
    area = table["area_ha"].to_numpy(dtype=np.float64)[p]
    n_owners = table["owners"].map(len).to_numpy()[p]
    outcome = np.select(
        [
            ~np.asarray(valid_geom)[p],
            led["n_firms"].to_numpy() > 1,
            led["n_firms"].to_numpy() == 1,
            n_owners > 0,
        ],
        ["no_geometry", "shared", "allocated", "owner_not_in_data"],
        default="idle",
    )
    unallocated = np.where(np.isfinite(area), area - led["allocated_ha"].to_numpy(), np.nan)
    # floating-point noise of a full split is not unallocated land
    unallocated = np.where(np.abs(unallocated) < 1e-9 * np.maximum(area, 1.0), 0.0, unallocated)
    out = pd.DataFrame(
        {
            "parcel_id": table["parcel_id"].to_numpy()[p],
            "year": led["year"].to_numpy(),
            "area_ha": area,
            "outcome": outcome,
            "n_firms": led["n_firms"].to_numpy(),
            "firms": led["firms"].fillna("").to_numpy(),
            "allocated_ha": led["allocated_ha"].to_numpy(),
            "unallocated_ha": unallocated,
            "split": np.where(led["n_firms"].to_numpy() > 1, split, ""),
            "located_by": "owner" if by_owner else "point",
        }
    )
    return cast(pd.DataFrame, out)


def land_for_firms(
    firms: pd.DataFrame, parcel_land: ParcelLand | None, column_ha: pd.Series | None
) -> pd.DataFrame:
    """``land_ha`` and ``land_source`` per firm row: parcels where the firm holds any, else the
    land column, else none."""
    n = len(firms)
    land = np.full(n, np.nan)
    source = np.full(n, "none", dtype=object)
    n_parcels = np.zeros(n, dtype=np.int64)
    if column_ha is not None:
        col = pd.Series(column_ha).reindex(firms.index).to_numpy(dtype=np.float64)
        has = np.isfinite(col)
        land[has] = col[has]
        source[has] = "column"
    if parcel_land is not None and len(parcel_land.land):
        key = pd.MultiIndex.from_arrays(
            [firms["enterprise_id"].astype("str"), firms["year"].to_numpy()]
        )
        got = parcel_land.land.set_index(["enterprise_id", "year"])
        values = got["land_ha"].reindex(key).to_numpy(dtype=np.float64)
        counts = got["n_parcels"].reindex(key).to_numpy(dtype=np.float64)
        has = np.isfinite(values)
        land[has] = values[has]
        source[has] = "parcels"
        n_parcels[has] = counts[has].astype(np.int64)
    out = pd.DataFrame({"land_ha": land, "land_source": source, "n_parcels": n_parcels})
    return cast(pd.DataFrame, out.set_axis(firms.index))
