"""Preparation shared by the analysis modules (clusters, structure, gaps, siting).

One row per enterprise in the analysed year with its industry rolled up to a GB/T 4754 level
(:func:`snapshot`), the park each firm is in (:func:`in_park_ids`), parks in WGS-84
(:func:`parks_wgs84`), projection to a local metric CRS (:func:`to_metric`) and industry names
(:func:`industry_names`). Names here are public within the package; the module is private.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import CRSError, ParkgeoError, SchemaError

log = logging.getLogger("parkgeo")

LEVELS = ("section", "division", "group", "class")
# length of a normalised code at each level: letter + 0/2/3/4 digits
CODE_LENGTH = {"section": 1, "division": 3, "group": 4, "class": 5}
MEASURES = ("tax", "value_added", "energy_tce", "employees")
# Parks counted as containing a firm for these join outcomes (see parkgeo.join).
IN_PARK_MATCHES = ("inside", "boundary", "near", "ambiguous")


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise ParkgeoError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")


def rollup_codes(codes: pd.Series, level: str) -> pd.Series:
    """Codes rolled up to ``level``; codes coarser than the level (e.g. ``C`` at division) -> NA."""
    from parkgeo.industry import rollup

    present = codes.notna()
    out = pd.Series(pd.NA, index=codes.index, dtype="string")
    if present.any():
        rolled = pd.Series(
            np.asarray(rollup(codes[present].astype(str), level=level), dtype=object),
            index=codes.index[present],
        )
        ok = rolled.notna() & (rolled.astype("string").str.len() == CODE_LENGTH[level])
        out[rolled.index[ok.to_numpy()]] = rolled[ok].astype(str)
    return out


def snapshot(
    enterprises: pd.DataFrame,
    *,
    year: int | None,
    level: str,
    what: str = "enterprises",
) -> tuple[pd.DataFrame, int | None]:
    """One row per enterprise in the chosen year, sorted by ``enterprise_id``.

    Returns the rows (original index kept, ``lon``/``lat`` in WGS-84, ``_industry`` rolled up to
    ``level``; rows whose code is coarser than ``level`` dropped) and the year used.
    """
    from parkgeo.coords import lonlat_of

    check_level(level)
    if not isinstance(enterprises, pd.DataFrame):
        raise ParkgeoError(
            f"{what} must be a pandas DataFrame or GeoDataFrame; got {type(enterprises).__name__}"
        )
    missing = [c for c in ("enterprise_id", "industry") if c not in enterprises.columns]
    if missing:
        raise SchemaError(
            f"{what} lack the column(s) {', '.join(missing)}; load them with "
            "parkgeo.io.read_enterprises or map your headers with columns=..."
        )
    lon, lat = lonlat_of(enterprises)
    frame = pd.DataFrame(index=enterprises.index)
    wanted = ("enterprise_id", "industry", "year", "park_id", "match", *MEASURES, "profit")
    keep = [c for c in wanted if c in enterprises.columns]
    for col in keep:
        frame[col] = enterprises[col]
    frame["lon"] = lon
    frame["lat"] = lat
    chosen: int | None = None
    if "year" in frame.columns and len(frame):
        years = pd.to_numeric(frame["year"], errors="coerce")
        available = sorted(int(y) for y in years.dropna().unique())
        if year is None:
            if not available:
                raise SchemaError(f"{what}: the 'year' column holds no valid year")
            chosen = available[-1]
        else:
            chosen = int(year)
            if chosen not in available:
                raise ParkgeoError(
                    f"year {chosen} is not in the {what} (years present: "
                    f"{', '.join(map(str, available)) or 'none'}); pass one of those"
                )
        frame = frame[(years == chosen).to_numpy()]
    elif year is not None:
        raise SchemaError(f"year={year} was given but the {what} have no 'year' column")
    ids = frame["enterprise_id"].astype(str)
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = ids[dup].iloc[0]
        where = f" in {chosen}" if chosen is not None else ""
        raise ParkgeoError(
            f"{what}: enterprise_id {first!r} appears {int((ids == first).sum())} times{where}; "
            "keep one row per enterprise and year (the loader rejects duplicates)"
        )
    bad_xy = ~(np.isfinite(frame["lon"].to_numpy()) & np.isfinite(frame["lat"].to_numpy()))
    if bad_xy.any():
        raise ParkgeoError(
            f"{what}: row {frame.index[np.flatnonzero(bad_xy)[0]]!r} has no valid lon/lat; "
            "validate the table with parkgeo.io.read_enterprises first"
        )
    frame["enterprise_id"] = ids
    frame["_industry"] = rollup_codes(frame["industry"], level)
    coarse = frame["_industry"].isna()
    if coarse.any():
        log.info(
            "%d %s with an industry code coarser than the %s level were left out",
            int(coarse.sum()),
            what,
            level,
        )
        frame = frame[~coarse.to_numpy()]
    order = np.lexsort((frame.index.to_numpy(), frame["enterprise_id"].to_numpy()))
    return frame.iloc[order], chosen


def in_park_ids(frame: pd.DataFrame, parks: Any | None) -> pd.Series:
    """Park of each firm: the join's ``park_id`` when present, else point in polygon (or NA)."""
    if "park_id" in frame.columns:
        pid = frame["park_id"].astype("string")
        if "match" in frame.columns:
            ok = frame["match"].astype("string").isin(IN_PARK_MATCHES).fillna(False)
            pid = pid.where(ok.to_numpy(), pd.NA)
        return pid
    out = pd.Series(pd.NA, index=frame.index, dtype="string")
    if parks is None or not len(frame):
        return out
    import shapely

    parks4326 = parks_wgs84(parks)
    pts = shapely.points(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    tree = shapely.STRtree(parks4326.geometry.to_numpy())
    pt_idx, park_idx = tree.query(pts, predicate="intersects")
    if len(pt_idx):
        # a firm in overlapping parks: the smallest park (the join's default rule)
        from parkgeo.coords import geodesic_area_ha

        area = geodesic_area_ha(parks4326.geometry)[park_idx]
        order = np.lexsort((park_idx, area, pt_idx))
        pt_sorted = pt_idx[order]
        first = np.r_[True, pt_sorted[1:] != pt_sorted[:-1]]
        ids = parks4326["park_id"].astype(str).to_numpy()
        out.iloc[pt_sorted[first]] = ids[park_idx[order][first]]
    return out


def parks_wgs84(parks: Any) -> Any:
    import geopandas as gpd

    if not isinstance(parks, gpd.GeoDataFrame):
        raise ParkgeoError(f"parks must be a GeoDataFrame; got {type(parks).__name__}")
    if "park_id" not in parks.columns:
        raise SchemaError("parks lack the 'park_id' column; load them with parkgeo.io.read_parks")
    if parks.crs is None:
        raise CRSError(
            "the parks GeoDataFrame has no CRS; set it with parks.set_crs('EPSG:4326') or load "
            "the file with parkgeo.io.read_parks(..., crs=...)"
        )
    if parks.crs.to_epsg() == 4326:
        return parks
    return parks.to_crs("EPSG:4326")


def to_metric(crs: Any, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray:
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def industry_names(codes: list[str]) -> tuple[list[Any], list[Any]]:
    from parkgeo.industry import industry_name

    def one(code: str, lang: Literal["zh", "en"]) -> Any:
        try:
            return industry_name(code, lang=lang)
        except (ParkgeoError, KeyError, LookupError):
            return pd.NA

    return [one(c, "zh") for c in codes], [one(c, "en") for c in codes]


def check_weights(
    weights: Mapping[str, float] | None, defaults: Mapping[str, float]
) -> dict[str, float]:
    """``weights`` completed with zeros for the components left out, checked."""
    if weights is None:
        return dict(defaults)
    unknown = sorted(set(weights) - set(defaults))
    if unknown:
        raise ParkgeoError(
            f"unknown weight(s) {', '.join(unknown)}; the components are {', '.join(defaults)}"
        )
    merged = {k: float(weights.get(k, 0.0)) for k in defaults}
    if any(not np.isfinite(v) or v < 0 for v in merged.values()) or sum(merged.values()) <= 0:
        raise ParkgeoError(f"weights must be non-negative with a positive sum; got {dict(weights)}")
    return merged
