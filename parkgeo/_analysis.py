"""Preparation shared by the analysis modules (clusters, structure, gaps, siting).

One row per enterprise in the analysed year with its industry rolled up to a GB/T 4754 level
(:func:`snapshot`), the park each firm is in (:func:`in_park_ids`), parks in WGS-84
(:func:`parks_wgs84`), projection to a local metric CRS (:func:`to_metric`) and industry names
(:func:`industry_names`). Names here are public within the package; the module is private.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.enums import TransformDirection

from parkgeo._errors import CRSError, ParkgeoError, SchemaError
from parkgeo.coords import geodesic_area_ha, local_metric_crs, lonlat_of
from parkgeo.industry import industry_name, normalize_codes, rollup
from parkgeo.years import resolve_year

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


def _require_industry(enterprises: pd.DataFrame, what: str) -> None:
    if "industry" not in enterprises.columns:
        raise SchemaError(
            f"the {what} have no 'industry' column (GB/T 4754 code such as C27 or 2710); "
            "industry clusters, gaps and siting group firms by it: add the column, or map your "
            "header to it with --columns / columns="
        )


LEVEL_EXAMPLE = {"section": "C", "division": "C27", "group": "C271", "class": "C2710"}
# set while an analysis that already resolved (and reported) its level runs its steps, so that
# each step's own resolve_level does not repeat the same warnings
_LEVEL_REPORTED: ContextVar[bool] = ContextVar("parkgeo_level_reported", default=False)


@contextmanager
def level_reported() -> Iterator[None]:
    """Within this block :func:`resolve_level` checks but does not warn again."""
    token = _LEVEL_REPORTED.set(True)
    try:
        yield
    finally:
        _LEVEL_REPORTED.reset(token)


def resolve_level(
    enterprises: pd.DataFrame, level: str | None, *, what: str = "enterprises"
) -> str:
    """The GB/T 4754 level an analysis runs at (documented in ``docs/clusters.md``).

    ``level=None`` means division (``C27``), or section (``C``) when no code in the data is as
    fine as a division: a planner whose registry only has sections gets a section-level
    analysis, said loudly in a warning. An explicit level that no code reaches is refused with
    the fix. Rows without a code at the level (missing, unknown or coarser) are left out with a
    warning that counts them.
    """
    if level is not None:
        check_level(level)
    if not isinstance(enterprises, pd.DataFrame):
        raise ParkgeoError(
            f"{what} must be a pandas DataFrame or GeoDataFrame; got {type(enterprises).__name__}"
        )
    _require_industry(enterprises, what)
    # distinct codes only: a panel repeats each firm's code every year
    column = enterprises["industry"]
    distinct = pd.Series(np.asarray(column.dropna().unique(), dtype=object))
    normalized = normalize_codes(distinct)
    lengths = normalized.str.len().to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(lengths).any():
        found = (
            "is empty" if not len(distinct) else f"holds no GB/T 4754 code (e.g. {distinct[0]!r})"
        )
        raise SchemaError(
            f"the {what}' industry column {found}; clusters, gaps and siting need each firm's "
            "GB/T 4754 code (e.g. C27 or 2710): add the column, or map its header to 'industry' "
            "with --columns / columns="
        )
    finest = int(np.nanmax(lengths))
    wanted = "division" if level is None else level
    if finest < CODE_LENGTH[wanted]:
        found = next(lv for lv in reversed(LEVELS) if CODE_LENGTH[lv] <= finest)
        example = str(normalized[lengths == finest].iloc[0])
        if level is not None:
            raise ParkgeoError(
                f"the {what}' industry codes are {found}-level only (e.g. {example!r}); a "
                f"{level}-level analysis needs codes such as {LEVEL_EXAMPLE[level]}: pass "
                f"level='{found}' (--level {found}) or give finer codes"
            )
        _warn(
            "the %s' industry codes are %s-level only (e.g. %r): the analysis runs at %s level "
            "(e.g. %s, not %s); give division codes such as C27 for a finer analysis",
            what,
            found,
            example,
            found,
            LEVEL_EXAMPLE[found],
            LEVEL_EXAMPLE["division"],
        )
        wanted = found
    unusable = distinct[~(lengths >= CODE_LENGTH[wanted])]
    n_left = int(column.isna().sum()) + (int(column.isin(unusable).sum()) if len(unusable) else 0)
    if n_left:
        shown = f" (e.g. {unusable.iloc[0]!r})" if len(unusable) else ""
        _warn(
            "%d of %d rows of the %s have no %s-level industry code (missing, unknown or "
            "coarser%s) and are left out of the industry analysis",
            n_left,
            len(enterprises),
            what,
            wanted,
            shown,
        )
    return wanted


def _warn(message: str, *args: object) -> None:
    if not _LEVEL_REPORTED.get():
        log.warning(message, *args)


def rollup_codes(codes: pd.Series, level: str) -> pd.Series:
    """Codes rolled up to ``level``; unknown codes and codes coarser than the level -> NA."""
    rolled = rollup(codes, level=level)
    ok = rolled.str.len() == CODE_LENGTH[level]
    result: pd.Series = rolled.where(ok.fillna(False).to_numpy(), pd.NA).astype("string")
    return result


def snapshot(
    enterprises: pd.DataFrame,
    *,
    year: int | None,
    level: str | None,
    what: str = "enterprises",
) -> tuple[pd.DataFrame, int | None]:
    """One row per enterprise in the chosen year, sorted by ``enterprise_id``.

    Returns the rows (original index kept, ``_pos`` their position in the input, ``lon``/``lat``
    in WGS-84, ``_industry`` rolled up to ``level``; rows without a code at that level dropped)
    and the year used (:func:`parkgeo.years.resolve_year`: the latest year by default).
    """
    if level is None:
        level = resolve_level(enterprises, None, what=what)
    check_level(level)
    if not isinstance(enterprises, pd.DataFrame):
        raise ParkgeoError(
            f"{what} must be a pandas DataFrame or GeoDataFrame; got {type(enterprises).__name__}"
        )
    if "enterprise_id" not in enterprises.columns:
        raise SchemaError(
            f"the {what} have no 'enterprise_id' column; load them with "
            "parkgeo.io.read_enterprises or map your headers with columns=..."
        )
    _require_industry(enterprises, what)
    chosen = resolve_year(enterprises, year, what=what)
    # select the year's rows first: everything below touches one year, not the whole panel
    if chosen is not None:
        years = pd.to_numeric(enterprises["year"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        pos = np.flatnonzero(years == chosen)
        rows = enterprises.iloc[pos]
    else:
        pos = np.arange(len(enterprises))
        rows = enterprises
    lon, lat = lonlat_of(rows)
    wanted = ("enterprise_id", "industry", "year", "park_id", "match", *MEASURES, "profit")
    frame = pd.DataFrame({c: rows[c] for c in wanted if c in rows.columns}, index=rows.index)
    frame["lon"] = lon
    frame["lat"] = lat
    frame["_pos"] = pos
    ids = frame["enterprise_id"]
    if not pd.api.types.is_string_dtype(ids.dtype) or ids.dtype == object:
        ids = ids.astype("string")
    no_id = ids.isna().to_numpy(dtype=bool)
    if no_id.any():
        raise SchemaError(
            f"{what}: row {frame.index[np.flatnonzero(no_id)[0]]!r} has no enterprise_id; give "
            "every firm an id (parkgeo.io.read_enterprises ledgers such rows)"
        )
    # one canonical order (by enterprise id) so that results do not depend on row order; a
    # repeated id then sits next to itself
    order = ids.argsort(kind="stable").to_numpy()
    sorted_ids = ids.iloc[order]
    repeated = np.zeros(0, dtype=bool)
    if len(ids) > 1:
        same = sorted_ids.array[1:] == sorted_ids.array[:-1]
        repeated = np.asarray(pd.array(same, dtype="boolean").fillna(False), dtype=bool)
    if repeated.any():
        first = str(sorted_ids.iloc[int(np.flatnonzero(repeated)[0])])
        where = f" in {chosen}" if chosen is not None else ""
        raise ParkgeoError(
            f"{what}: enterprise_id {first!r} appears {int((ids == first).sum())} times{where}; "
            "keep one row per enterprise and year (the loader rejects duplicates)"
        )
    bad_xy = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad_xy.any():
        raise ParkgeoError(
            f"{what}: row {frame.index[np.flatnonzero(bad_xy)[0]]!r} has no valid lon/lat; "
            "validate the table with parkgeo.io.read_enterprises first"
        )
    frame["enterprise_id"] = ids
    frame = frame.iloc[order]
    # the rolled-up code as a categorical with sorted categories: rolled once per distinct code
    row_code, distinct = pd.factorize(frame["industry"])
    rolled = rollup_codes(pd.Series(np.asarray(distinct, dtype=object)), level)
    categories = sorted({str(c) for c in rolled.dropna()})
    position = {c: k for k, c in enumerate(categories)}
    code_map = np.array(
        [position.get(str(c), -1) if pd.notna(c) else -1 for c in rolled] + [-1], dtype=np.int64
    )
    frame["_industry"] = pd.Categorical.from_codes(
        code_map[row_code], categories=pd.Index(categories, dtype=object)
    )
    coarse = frame["_industry"].isna().to_numpy()
    if coarse.any():
        log.debug("%d %s without a %s-level industry code left out", int(coarse.sum()), what, level)
        frame = frame[~coarse]
    return frame, chosen


def in_park_ids(frame: pd.DataFrame, parks: Any | None) -> pd.Series:
    """Park of each firm: the join's ``park_id`` when present, else point in polygon (or NA).

    A categorical ``park_id`` (as :func:`parkgeo.join.assign_parks` returns) stays categorical.
    """
    if "park_id" in frame.columns:
        pid = frame["park_id"]
        if not isinstance(pid.dtype, pd.CategoricalDtype):
            pid = pid.astype("string")
        if "match" in frame.columns:
            ok = frame["match"].isin(IN_PARK_MATCHES).to_numpy(dtype=bool)
            pid = pid.where(ok)
        return pid
    out: pd.Series = pd.Series(pd.NA, index=frame.index, dtype="string")
    if parks is None or not len(frame):
        return out
    parks4326 = parks_wgs84(parks)
    pts = shapely.points(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    tree = shapely.STRtree(parks4326.geometry.to_numpy())
    pt_idx, park_idx = tree.query(pts, predicate="intersects")
    if len(pt_idx):
        # a firm in overlapping parks: the smallest park (the join's default rule)
        area = geodesic_area_ha(parks4326.geometry)[park_idx]
        order = np.lexsort((park_idx, area, pt_idx))
        pt_sorted = pt_idx[order]
        first = np.r_[True, pt_sorted[1:] != pt_sorted[:-1]]
        ids = parks4326["park_id"].astype(str).to_numpy()
        out.iloc[pt_sorted[first]] = ids[park_idx[order][first]]
    return out


def parks_wgs84(parks: Any) -> Any:
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


@functools.lru_cache(maxsize=16)
def _transformer(crs_text: str) -> Transformer:
    # building a transformer costs ~50 ms (database look-ups); the metric CRSs are few
    return Transformer.from_crs("EPSG:4326", crs_text, always_xy=True)


def metric_transformer(crs: Any) -> Transformer:
    """WGS-84 -> ``crs`` transformer (lon/lat order), cached per CRS."""
    return _transformer(CRS.from_user_input(crs).srs)


def to_metric(crs: Any, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """(n, 2) metric coordinates of WGS-84 ``lon``/``lat``."""
    x, y = metric_transformer(crs).transform(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    )
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def project_firms(
    snap: pd.DataFrame, *, what: str
) -> tuple[pd.DataFrame, Any, NDArray[np.float64]]:
    """``(firms, crs, xy)``: the snapshot's firms in their local metric CRS, leaving out (with
    one warning: the count and an example) the firms whose projected coordinates are not
    finite. A transverse Mercator projection cannot place a point ~90 degrees of longitude
    from its central meridian (it goes to infinity), and one such firm must not cost the
    others their clusters."""
    if not len(snap):
        return snap, None, np.empty((0, 2))
    lon = snap["lon"].to_numpy(dtype=float)
    lat = snap["lat"].to_numpy(dtype=float)
    crs = local_metric_crs(lon, lat)
    xy = to_metric(crs, lon, lat)
    ok = np.isfinite(xy).all(axis=1)
    if not ok.all():
        first = int(np.flatnonzero(~ok)[0])
        log.warning(
            "%s: %d firms are too far from the others to be placed in the local metric CRS "
            "(%s), e.g. enterprise_id %r at lon %.4f, lat %.4f; they are left out: check "
            "their coordinates",
            what,
            int((~ok).sum()),
            crs.name,
            str(snap["enterprise_id"].iloc[first]),
            lon[first],
            lat[first],
        )
        snap, xy = cast(pd.DataFrame, snap.iloc[np.flatnonzero(ok)]), xy[ok]
    return snap, crs, xy


def from_metric(crs: Any, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """(n, 2) WGS-84 lon/lat of metric ``x``/``y``."""
    lon, lat = metric_transformer(crs).transform(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float), direction=TransformDirection.INVERSE
    )
    return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])


def industry_names(codes: list[str]) -> tuple[list[Any], list[Any]]:
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
