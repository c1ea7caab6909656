"""Enterprises as one canvas point layer (compact integer arrays; see ``docs/maps.md``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import SchemaError
from parkgeo._legend import (
    SECTION_COLORS,
    label,
)
from parkgeo._mapbuilder import (
    Builder,
    section_legend,
)
from parkgeo._mapdata import (
    COORD_SCALE,
    display_points,
)
from parkgeo._mappopups import (
    industry_labels,
)

log = logging.getLogger("parkgeo")


def enterprise_snapshot(
    enterprises: pd.DataFrame, year: int | None
) -> tuple[pd.DataFrame, int | None]:
    if not isinstance(enterprises, pd.DataFrame):
        raise SchemaError(f"enterprises must be a DataFrame; got {type(enterprises).__name__}")
    from parkgeo.coords import lonlat_of

    frame = enterprises
    chosen = year
    if "year" in frame.columns:
        years = pd.to_numeric(frame["year"], errors="coerce").to_numpy(dtype=float)
        present = [int(y) for y in np.unique(years[np.isfinite(years)])]
        if present:
            if chosen is None or int(chosen) not in present:
                # the map's year is not among the firms': their latest year up to it
                target = present[-1] if chosen is None else int(chosen)
                earlier = [y for y in present if y <= target]
                chosen = earlier[-1] if earlier else present[0]
            frame = frame[years == int(chosen)]
    if "enterprise_id" in frame.columns:
        frame = frame[~frame["enterprise_id"].astype(str).duplicated().to_numpy()]
    lon, lat = lonlat_of(frame)
    out = pd.DataFrame(
        {
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
            "industry": frame["industry"].to_numpy(dtype=object)
            if "industry" in frame.columns
            else None,
            "name": frame["name"].to_numpy(dtype=object) if "name" in frame.columns else None,
            "park_id": frame["park_id"].to_numpy(dtype=object)
            if "park_id" in frame.columns
            else None,
        },
        index=frame.index,
    )
    return out, chosen


def add_enterprises(
    b: Builder,
    enterprises: pd.DataFrame,
    *,
    year: int | None,
    parks: Any | None,
    max_points: int,
    names: bool,
    show: bool = True,
) -> Any:
    snap, chosen = enterprise_snapshot(enterprises, year)
    valid = np.isfinite(snap["lon"].to_numpy()) & np.isfinite(snap["lat"].to_numpy())
    n_invalid = int((~valid).sum())
    snap = snap[valid]
    total = len(snap)
    if total > max_points:
        # an evenly spread, deterministic subset (every n-th firm in input order)
        take = np.linspace(0, total - 1, max_points).round().astype(np.int64)
        snap = snap.iloc[np.unique(take)]
        b.notes.append(label("sampled", b.lang, shown=f"{len(snap):,}", total=f"{total:,}"))
    if n_invalid:
        b.notes.append(label("points_omitted", b.lang, n=f"{n_invalid:,}"))
    lon, lat = display_points(snap["lon"].to_numpy(), snap["lat"].to_numpy(), b.tiles)
    codes = pd.Series(snap["industry"].to_numpy(dtype=object), dtype="string")
    letter = codes.str[:1]
    section = letter.where(letter.isin(list(SECTION_COLORS)), "?").fillna("?")
    present = set(section.unique())
    sections = sorted(present - {"?"}) + (["?"] if "?" in present else [])
    colors = [SECTION_COLORS.get(s, "#555555") for s in sections]
    lon0 = float(np.floor(lon.min() * 100) / 100) if len(lon) else 0.0
    lat0 = float(np.floor(lat.min() * 100) / 100) if len(lat) else 0.0
    x = np.round((lon - lon0) * COORD_SCALE).astype(np.int64)
    y = np.round((lat - lat0) * COORD_SCALE).astype(np.int64)
    code_index, code_list = pd.factorize(codes, sort=True)  # -1 where missing
    code_labels = industry_labels([str(c) for c in code_list], b.lang)
    fields: list[dict[str, Any]] = []
    if names and snap["name"].notna().any():
        raw = pd.Series(snap["name"].to_numpy(dtype=object), dtype="string")
        fields.append(
            {"values": raw.astype(object).where(raw.notna(), None).tolist(), "bold": True}
        )
    fields.append(
        {
            "label": label("industry", b.lang),
            "values": code_index.tolist(),
            "lookup": [code_labels.get(str(c), str(c)) for c in code_list],
            "missing": "",
        }
    )
    if snap["park_id"].notna().any():
        park_names = (
            dict(zip(parks["_id"], parks["_label"], strict=True)) if parks is not None else {}
        )
        pids = pd.Series(snap["park_id"].to_numpy(dtype=object), dtype="string")
        park_index, park_list = pd.factorize(pids, sort=True)
        fields.append(
            {
                "label": label("park", b.lang),
                "values": park_index.tolist(),
                "lookup": [park_names.get(str(p), str(p)) for p in park_list],
                "missing": label("outside_parks", b.lang),
            }
        )
    payload = {
        "lon0": lon0,
        "lat0": lat0,
        "scale": COORD_SCALE,
        "x": x.tolist(),
        "y": y.tolist(),
        "c": pd.Categorical(section, categories=sections).codes.tolist(),
        "colors": colors,
        "fields": fields,
    }
    counts = section.value_counts()
    legend_sections = [s for s in sections if s != "?"]
    legend = section_legend(
        b.lang,
        label("enterprises_legend", b.lang),
        legend_sections,
        {s: int(counts.get(s, 0)) for s in legend_sections},
    )
    year_text = str(chosen) if chosen is not None else ""
    return b.points(
        payload,
        name=label("enterprises", b.lang, year=year_text)
        .replace(" ,", ",")
        .replace("（年，", "（"),
        legend_html=legend,
        show=show,
    )
