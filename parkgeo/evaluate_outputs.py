"""Outputs of the per-mu evaluation: park roll-up, year-over-year changes, the low-efficiency
land layer and the class-coloured map layer. The workbook is written by :mod:`parkgeo._xlsx`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "class_colors",
    "class_changes",
    "class_layer",
    "low_efficiency_land",
    "park_rollup",
]

_GREEN = (26, 152, 80)
_YELLOW = (254, 224, 139)
_RED = (215, 48, 39)


def class_colors(labels: Sequence[str]) -> dict[str, str]:
    """A colour per class, best (green) through yellow to worst (red).

    Examples
    --------
    >>> class_colors(["A", "B", "C", "D"])
    {'A': '#1a9850', 'B': '#b2c877', 'C': '#f1a56a', 'D': '#d73027'}
    """
    out: dict[str, str] = {}
    n = len(labels)
    for i, label in enumerate(labels):
        t = i / (n - 1) if n > 1 else 0.0
        a, b, u = (_GREEN, _YELLOW, t * 2) if t <= 0.5 else (_YELLOW, _RED, t * 2 - 1)
        rgb = [round(x + (y - x) * u) for x, y in zip(a, b, strict=True)]
        out[label] = "#" + "".join(f"{c:02x}" for c in rgb)
    return out


def park_rollup(
    table: pd.DataFrame,
    labels: Sequence[str],
    *,
    parks: Any = None,
    parcel_ledger: pd.DataFrame | None = None,
    all_label: str = "ALL",
) -> pd.DataFrame:
    """Per park and year: firms and land by class, the land share of the two lowest classes,
    and the tax gain if that land reached the park's median tax per mu.

    ``tax_gain`` (万元) = sum over the firms of the two lowest classes of
    max(0, median tax per mu of the park's evaluated firms x the firm's mu - its tax): what the
    park would collect if its low-class land paid the park median. A row ``ALL`` covers every
    evaluated firm, in parks or not.
    """
    low = list(labels[-2:]) if len(labels) > 2 else list(labels[-1:])
    cols = ["park_id", "year", "outcome", "class", "land_mu", "tax"]
    frame = table[[c for c in cols if c in table.columns]].copy()
    if "park_id" not in frame.columns:
        frame["park_id"] = pd.Series(pd.NA, index=frame.index, dtype="str")
    frame["park_id"] = frame["park_id"].astype("str")
    frame["year"] = frame["year"].astype(np.int64)
    years = sorted(int(y) for y in frame["year"].unique())
    if parks is not None:
        park_ids = [str(p) for p in parks["park_id"]]
    else:
        park_ids = sorted(str(p) for p in frame["park_id"].dropna().unique())
    # every firm-year once under its park and once under ALL
    both = pd.concat(
        [frame[frame["park_id"].notna()], frame.assign(park_id=all_label)], ignore_index=True
    )
    keys = ["park_id", "year"]
    grid = pd.MultiIndex.from_product([[*park_ids, all_label], years], names=keys)
    rollup = pd.DataFrame(index=grid)
    rollup["n_firms"] = both.groupby(keys).size().reindex(grid, fill_value=0)
    ev = both[both["outcome"] == "evaluated"]
    rollup["n_evaluated"] = ev.groupby(keys).size().reindex(grid, fill_value=0)
    by_class = ev.groupby([*keys, "class"])
    counts = by_class.size().unstack("class").reindex(index=grid, columns=list(labels))
    land = by_class["land_mu"].sum().unstack("class").reindex(index=grid, columns=list(labels))
    for label in labels:
        rollup[f"n_{label}"] = counts[label].fillna(0).astype(np.int64)
    for label in labels:
        rollup[f"land_mu_{label}"] = land[label].fillna(0.0)
    rollup["land_mu_evaluated"] = ev.groupby(keys)["land_mu"].sum().reindex(grid, fill_value=0.0)
    rollup["land_mu_low"] = sum(
        (rollup[f"land_mu_{label}"] for label in low), 0.0 * rollup["n_firms"]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        rollup["land_share_low"] = np.where(
            rollup["land_mu_evaluated"] > 0,
            rollup["land_mu_low"] / rollup["land_mu_evaluated"],
            np.nan,
        )
    per_mu = ev["tax"] / ev["land_mu"]
    per_mu = per_mu.where(np.isfinite(per_mu))
    median = per_mu.groupby([ev["park_id"], ev["year"]]).median().reindex(grid)
    rollup["median_tax_per_mu"] = median
    low_firms = ev[ev["class"].isin(low)]
    med = median.reindex(pd.MultiIndex.from_frame(low_firms[keys])).to_numpy()
    gap = np.clip(med * low_firms["land_mu"].to_numpy() - low_firms["tax"].to_numpy(), 0, None)
    gain = (
        pd.Series(gap, index=low_firms.index)
        .groupby([low_firms["park_id"], low_firms["year"]])
        .sum(min_count=1)
    )
    rollup["tax_gain"] = gain.reindex(grid).where(median.notna())
    rollup.loc[median.notna() & rollup["tax_gain"].isna(), "tax_gain"] = 0.0
    without = low_firms["tax"].isna().groupby([low_firms["park_id"], low_firms["year"]]).sum()
    rollup["n_low_without_tax"] = without.reindex(grid, fill_value=0).astype(np.int64)
    if parcel_ledger is not None and len(parcel_ledger):
        led = parcel_ledger[parcel_ledger["outcome"].isin(["idle", "owner_not_in_data"])]
        led = led.assign(park_id=led["park_id"].astype("str") if "park_id" in led else pd.NA)
        led_both = pd.concat([led[led["park_id"].notna()], led.assign(park_id=all_label)])
        grouped = led_both.groupby(["park_id", "year"])
        rollup["n_idle_parcels"] = grouped.size().reindex(grid, fill_value=0).astype(np.int64)
        rollup["idle_land_mu"] = (grouped["area_ha"].sum() * 15.0).reindex(grid, fill_value=0.0)
    result = rollup.reset_index()
    result.attrs["low_classes"] = low
    return cast(pd.DataFrame, result)


def class_changes(
    table: pd.DataFrame, keys: Sequence[str], names: Mapping[str, str], *, lang: str = "zh"
) -> pd.DataFrame:
    """Firms whose class changed between consecutive evaluated years, and why.

    ``why`` names a veto that began or ended, a change of group, a firm entering or leaving
    the evaluation (its outcome that year), or else the two indicators whose scores moved
    most in the direction of the change (``亩均税收 -12.30``). ``change`` is ``up``, ``down``,
    ``entered`` or ``left``.
    """
    years = sorted(int(y) for y in table["year"].unique())
    columns = [
        "enterprise_id",
        "name",
        "park_id",
        "year_from",
        "year_to",
        "class_from",
        "class_to",
        "change",
        "total_from",
        "total_to",
        "why",
    ]
    if len(years) < 2:
        return cast(pd.DataFrame, pd.DataFrame(columns=columns))
    zh = lang == "zh"
    score_cols = [f"score_{k}" for k in keys if f"score_{k}" in table.columns]
    wanted = ["enterprise_id", "year", "name", "park_id", "outcome", "class", "total", "veto"]
    wanted += ["group", "group_name", *score_cols]
    base = table[[c for c in wanted if c in table.columns]].copy()
    base["enterprise_id"] = base["enterprise_id"].astype("str")
    for col in ("name", "park_id", "veto", "group", "group_name"):
        if col not in base.columns:
            base[col] = pd.Series(pd.NA, index=base.index, dtype="str")
    parts = []
    for prev, cur in zip(years, years[1:], strict=False):
        a = base[base["year"] == prev]
        b = base[base["year"] == cur]
        m = a.merge(b, on="enterprise_id", how="outer", suffixes=("_a", "_b"))
        ca = m["class_a"].astype("str")
        cb = m["class_b"].astype("str")
        same = (ca == cb).fillna(False) | (ca.isna() & cb.isna())
        m = m[~same.to_numpy(dtype=bool)].reset_index(drop=True)
        if not len(m):
            continue
        ca, cb = m["class_a"].astype("str"), m["class_b"].astype("str")
        entered, left = ca.isna().to_numpy(), cb.isna().to_numpy()
        up = (cb < ca).fillna(False).to_numpy(dtype=bool)
        change = np.where(entered, "entered", np.where(left, "left", np.where(up, "up", "down")))
        why = _why(m, keys, names, zh, entered, left)
        parts.append(
            pd.DataFrame(
                {
                    "enterprise_id": m["enterprise_id"],
                    "name": m["name_b"].fillna(m["name_a"]),
                    "park_id": m["park_id_b"].fillna(m["park_id_a"]),
                    "year_from": prev,
                    "year_to": cur,
                    "class_from": ca,
                    "class_to": cb,
                    "change": change,
                    "total_from": m["total_a"],
                    "total_to": m["total_b"],
                    "why": why,
                }
            )
        )
    if not parts:
        return cast(pd.DataFrame, pd.DataFrame(columns=columns))
    out = pd.concat(parts, ignore_index=True)
    return cast(
        pd.DataFrame,
        out.sort_values(["year_to", "enterprise_id"], kind="stable", ignore_index=True),
    )


def _why(
    m: pd.DataFrame,
    keys: Sequence[str],
    names: Mapping[str, str],
    zh: bool,
    entered: Any,
    left: Any,
) -> list[str]:
    n = len(m)
    ta = m["total_a"].to_numpy(dtype=np.float64)
    tb = m["total_b"].to_numpy(dtype=np.float64)
    sign = np.where(tb >= ta, 1.0, -1.0)
    usable = [k for k in keys if f"score_{k}_a" in m.columns]
    if usable:
        sa = m[[f"score_{k}_a" for k in usable]].to_numpy(dtype=np.float64)
        sb = m[[f"score_{k}_b" for k in usable]].to_numpy(dtype=np.float64)
        delta = sb - sa
        moved = np.where(np.isfinite(delta), delta * sign[:, None], -np.inf)
        order = np.argsort(-moved, axis=1, kind="stable")[:, :2]
    out_a = m["outcome_a"].fillna("absent").astype("str").to_numpy()
    out_b = m["outcome_b"].fillna("absent").astype("str").to_numpy()
    va, vb = m["veto_a"].to_numpy(dtype=object), m["veto_b"].to_numpy(dtype=object)
    ga, gb = m["group_a"].astype("str").to_numpy(), m["group_b"].astype("str").to_numpy()
    gna = m["group_name_a"].astype("str").to_numpy()
    gnb = m["group_name_b"].astype("str").to_numpy()
    result: list[str] = []
    for i in range(n):
        if entered[i]:
            result.append(
                f"新进入评价（上年：{out_a[i]}）"
                if zh
                else f"entered the evaluation (before: {out_a[i]})"
            )
        elif left[i]:
            result.append(f"退出评价：{out_b[i]}" if zh else f"left the evaluation: {out_b[i]}")
        elif pd.notna(vb[i]) and pd.isna(va[i]):
            result.append(("否决项：" if zh else "veto: ") + str(vb[i]))
        elif pd.notna(va[i]) and pd.isna(vb[i]):
            result.append(("否决项解除：" if zh else "veto lifted: ") + str(va[i]))
        elif ga[i] != gb[i]:
            result.append(
                f"评价组变化：{gna[i]} → {gnb[i]}" if zh else f"group changed: {ga[i]} -> {gb[i]}"
            )
        else:
            parts = []
            if usable:
                for j in order[i]:
                    if moved[i, j] > 0:
                        parts.append(f"{names.get(usable[j], usable[j])} {delta[i, j]:+.2f}")
            if parts:
                result.append("；".join(parts))
            else:
                word = "组内相对位置变化" if zh else "relative position in the group changed"
                result.append(f"{word} ({ta[i]:.2f} → {tb[i]:.2f})")
    return result


def low_efficiency_land(
    table: pd.DataFrame,
    label: str,
    *,
    parcels: Any = None,
    allocation: pd.DataFrame | None = None,
    parcel_ledger: pd.DataFrame | None = None,
    include_idle: bool = True,
) -> Any:
    """The low-efficiency land (低效用地) layer: parcels held by firms of the lowest class
    (their share of the parcel, ``kind = parcel``), idle parcels (``kind = idle``), and the
    points of lowest-class firms whose land came from a land column (``kind = firm_point``),
    each with ``area_ha`` and ``area_mu``; EPSG:4326."""

    low = table[(table["outcome"] == "evaluated") & (table["class"] == label)]
    pieces: list[Any] = []
    cols = ["kind", "parcel_id", "enterprise_id", "name", "park_id", "year", "class", "area_ha"]
    if parcels is not None and allocation is not None:
        key = low[["enterprise_id", "year", "name", "park_id"]].copy()
        key["enterprise_id"] = key["enterprise_id"].astype("str")
        held = allocation.merge(key, on=["enterprise_id", "year"], how="inner")
        geom = parcels.set_index("parcel_id").geometry
        gdf = gpd.GeoDataFrame(
            {
                "kind": "parcel",
                "parcel_id": held["parcel_id"].to_numpy(),
                "enterprise_id": held["enterprise_id"].to_numpy(),
                "name": held["name"].to_numpy(),
                "park_id": held["park_id"].to_numpy(),
                "year": held["year"].to_numpy(),
                "class": label,
                "area_ha": held["land_ha"].to_numpy(),
            },
            geometry=geom.reindex(held["parcel_id"]).to_numpy(),
            crs="EPSG:4326",
        )
        pieces.append(gdf)
        if include_idle and parcel_ledger is not None:
            idle = parcel_ledger[parcel_ledger["outcome"].isin(["idle", "owner_not_in_data"])]
            pieces.append(
                gpd.GeoDataFrame(
                    {
                        "kind": "idle",
                        "parcel_id": idle["parcel_id"].to_numpy(),
                        "enterprise_id": None,
                        "name": None,
                        "park_id": idle["park_id"].to_numpy() if "park_id" in idle else None,
                        "year": idle["year"].to_numpy(),
                        "class": None,
                        "area_ha": idle["area_ha"].to_numpy(),
                    },
                    geometry=geom.reindex(idle["parcel_id"]).to_numpy(),
                    crs="EPSG:4326",
                )
            )
    points = low[low["land_source"] == "column"]
    pieces.append(
        gpd.GeoDataFrame(
            {
                "kind": "firm_point",
                "parcel_id": None,
                "enterprise_id": points["enterprise_id"].astype("str").to_numpy(),
                "name": points["name"].to_numpy() if "name" in points else None,
                "park_id": points["park_id"].to_numpy() if "park_id" in points else None,
                "year": points["year"].to_numpy(),
                "class": label,
                "area_ha": points["land_ha"].to_numpy(),
            },
            geometry=shapely.points(points["lon"].to_numpy(), points["lat"].to_numpy()),
            crs="EPSG:4326",
        )
    )
    out = pd.concat([p[[*cols, "geometry"]] for p in pieces], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    out["area_mu"] = out["area_ha"] * 15.0
    for col in ("kind", "parcel_id", "enterprise_id", "name", "park_id", "class"):
        out[col] = out[col].astype("str")
    out["year"] = out["year"].astype(np.int64)
    return out.sort_values(["year", "kind", "parcel_id", "enterprise_id"], kind="stable")


def class_layer(table: pd.DataFrame, labels: Sequence[str], *, year: int | None = None) -> Any:
    """Evaluated firms as points coloured by class (``color``), for a map: one year (default
    the latest), EPSG:4326, with ``enterprise_id``, ``name``, ``park_id``, ``class``,
    ``total``, ``rank``, ``n_group``, ``land_mu`` and ``reason``."""

    evaluated = table[table["outcome"] == "evaluated"]
    if year is None and len(evaluated):
        year = int(evaluated["year"].max())
    rows = evaluated[evaluated["year"] == year]
    colors = class_colors(labels)
    keep = [
        c
        for c in (
            "enterprise_id",
            "name",
            "park_id",
            "year",
            "group_name",
            "class",
            "total",
            "rank",
            "n_group",
            "land_mu",
            "reason",
        )
        if c in rows.columns
    ]
    out = gpd.GeoDataFrame(
        rows[keep].assign(color=rows["class"].map(colors)),
        geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
        crs="EPSG:4326",
    )
    out.attrs["colors"] = colors
    return out
