"""Park x industry structure shared by the gap and siting scores.

:func:`build_structure` computes, once, the park x industry matrix, location quotients,
presence, industry proximity and relatedness density of the analysed year;
:func:`strategic_scores` says which industries are strategic emerging industries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo.industry import load_strategic_mapping, strategic_category
from parkgeo.structure import (
    colocation_proximity,
    colocation_quotients,
    industry_totals,
    location_quotients,
    park_industry_matrix,
    presence,
    proximity,
    relatedness_density,
)
from parkgeo.years import resolve_year


@dataclass(frozen=True)
class Structure:
    """Everything the gap and siting scores are computed from."""

    year: int | None
    matrix: pd.DataFrame
    lq: pd.DataFrame
    presence: pd.DataFrame
    proximity: pd.DataFrame
    density: pd.DataFrame


def build_structure(
    assigned: pd.DataFrame,
    parks: Any,
    *,
    level: str,
    year: int | None,
    measure: str,
    threshold: float,
    city_totals: str,
    relatedness: str = "proximity",
) -> Structure:
    if city_totals not in ("parks", "city"):
        raise ParkgeoError(f"city_totals must be 'parks' or 'city'; got {city_totals!r}")
    if relatedness not in ("proximity", "colocation"):
        raise ParkgeoError(f"relatedness must be 'proximity' or 'colocation'; got {relatedness!r}")
    if "park_id" not in assigned.columns:
        raise SchemaError(
            "the enterprises have no 'park_id' column: assign them to parks first with "
            "parkgeo.join.assign_parks(enterprises, parks).assigned"
        )
    # the one default-year rule (parkgeo.default_year: the latest year in the data), resolved
    # once so that every table below is of the same year
    year = chosen = resolve_year(assigned, year)
    matrix = park_industry_matrix(assigned, measure=measure, level=level, year=year, parks=parks)
    totals = (
        industry_totals(assigned, measure=measure, level=level, year=year)
        if city_totals == "city"
        else None
    )
    if totals is not None:
        matrix = matrix.reindex(columns=sorted(set(matrix.columns) | set(totals.index)))
        matrix = matrix.fillna(0.0)
    lq = location_quotients(matrix, city_totals=totals)
    m = presence(lq, threshold=threshold)
    if relatedness == "proximity":
        phi = proximity(m)
    else:
        clq = colocation_quotients(assigned, level=level, year=year)
        phi = colocation_proximity(clq).reindex(index=m.columns, columns=m.columns)
        phi = phi.fillna(0.0)
        for code in m.columns:
            phi.loc[code, code] = 1.0
    dens = relatedness_density(m, phi)
    return Structure(chosen, matrix, lq, m, phi, dens)


def strategic_scores(codes: list[str]) -> dict[str, tuple[float, str | None]]:
    """Strategic score and category of each code: 1 when the code itself (or a parent) maps to a
    strategic emerging industry, 0.5 when only some of its sub-codes do, else 0."""
    if not codes:
        return {}
    cats = pd.Series(
        np.asarray(strategic_category(pd.Series(codes, dtype=object)), dtype=object),
        index=codes,
    )
    mapping = load_strategic_mapping()
    entries = list(zip(mapping["code"].astype(str), mapping["category"].astype(str), strict=True))
    out: dict[str, tuple[float, str | None]] = {}
    for code, cat in cats.items():
        if not pd.isna(cat):
            out[code] = (1.0, str(cat))
            continue
        parts = sorted({c for e, c in entries if e.startswith(code) and e != code})
        out[code] = (0.5, "part: " + ", ".join(parts)) if parts else (0.0, None)
    return out
