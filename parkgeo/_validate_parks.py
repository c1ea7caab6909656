"""Validation of park polygons: invalid geometry repaired and reported, unusable features refused."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from parkgeo._cells import clean_text, parse_numbers
from parkgeo._columns import PARK_COLUMNS
from parkgeo._errors import GeometryError, SchemaError
from parkgeo._geometry import READ_REPAIRS, sanitize_parks
from parkgeo._ledger import STRICT_SHOWN

__all__ = ["validate_parks"]

log = logging.getLogger("parkgeo")

_POLYGONAL = ("Polygon", "MultiPolygon")
_PARK_TEXT = ("park_id", "name", "district", "level", "leading_industries")


def _feature(index: object, park_id: object) -> str:
    if park_id is None or (isinstance(park_id, float) and np.isnan(park_id)) or park_id is pd.NA:
        return f"feature {index} (no park_id)"
    return f"feature {index} (park_id {park_id!r})"


def _polygonal_part(geom: Any) -> Any:
    import shapely

    parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
    polys = []
    for part in parts:
        polys.extend(shapely.get_parts(part))
    if not polys:
        return None
    if len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys)


def validate_parks(gdf: Any, *, source: str = "input") -> tuple[Any, list[dict[str, Any]]]:
    """Check park polygons, repair invalid ones, and coerce the columns to the canonical table.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Canonical column names (``park_id`` required), geometries in EPSG:4326.
    source : str
        Name of the input, for messages.

    Returns
    -------
    parks : geopandas.GeoDataFrame
        The canonical park table (``park_id``, ``name``, ``district``, ``level``,
        ``approved_area_ha``, ``leading_industries``, ``priority``, ``geometry``) on the input's
        index; ``attrs["repairs"]`` holds the repairs.
    repairs : list of dict
        One entry per repaired feature: ``index``, ``park_id``, ``problem``, ``action``.

    Raises
    ------
    GeometryError
        Empty, zero-area or non-polygon features, or duplicate or empty ``park_id``; the
        message names every such feature (up to 10) and the fix.
    SchemaError
        ``park_id`` column missing, or a numeric column holds text.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(117, 39), (117.01, 39.01), (117.01, 39), (117, 39.01)])
    >>> raw = gpd.GeoDataFrame({"park_id": ["P1"]}, geometry=[bowtie], crs="EPSG:4326")
    >>> parks, repairs = validate_parks(raw, source="demo")
    >>> parks.geometry.iloc[0].geom_type, repairs[0]["action"]
    ('MultiPolygon', 'make_valid')
    """
    import geopandas as gpd
    import shapely

    if "park_id" not in gdf.columns:
        raise SchemaError(
            f"{source}: the parks have no park_id column (columns: "
            f"{', '.join(map(str, gdf.columns))}); map one, e.g. columns={{'park_id': '代码'}}"
        )
    ids = clean_text(gdf["park_id"])
    index = list(gdf.index)
    geoms, repairs = sanitize_parks(
        np.asarray(gdf.geometry.values, dtype=object),
        index=index,
        ids=list(ids),
        source=source,
        read_repairs=gdf.attrs.get(READ_REPAIRS, []),
    )
    errors: list[str] = []
    out_geoms = geoms.copy()

    types = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    for i in np.flatnonzero(missing | empty):
        errors.append(
            f"{_feature(index[i], ids.iloc[i])} has an empty geometry; draw the park's "
            "boundary or remove the feature"
        )
    # 7 = GeometryCollection: keep its polygonal parts, if any
    for i in np.flatnonzero(~missing & ~empty & (types == 7)):
        part = _polygonal_part(geoms[i])
        if part is None:
            errors.append(
                f"{_feature(index[i], ids.iloc[i])} is a GeometryCollection without "
                "polygons; a park must be a polygon or multipolygon"
            )
        else:
            out_geoms[i] = part
            repairs.append(
                {
                    "index": index[i],
                    "park_id": ids.iloc[i],
                    "problem": "GeometryCollection",
                    "action": "kept polygonal parts",
                }
            )
    # 3 = Polygon, 6 = MultiPolygon
    other = ~missing & ~empty & ~np.isin(types, (3, 6, 7))
    for i in np.flatnonzero(other):
        errors.append(
            f"{_feature(index[i], ids.iloc[i])} is a {geoms[i].geom_type}, not a "
            "polygon; give the park's boundary as a polygon (buffer points or lines "
            "yourself if that is really what you mean)"
        )
    usable = np.array(
        [g is not None and g.geom_type in _POLYGONAL and not g.is_empty for g in out_geoms],
        dtype=bool,
    )
    invalid = np.zeros(len(geoms), dtype=bool)
    if usable.any():
        invalid[usable] = ~shapely.is_valid(out_geoms[usable])
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(out_geoms[i])
        # "structure" keeps shells as areas and holes as holes, and is fast (0.1 s for a
        # million vertices where "linework" takes ~9 s).
        fixed = _polygonal_part(
            shapely.make_valid(out_geoms[i], method="structure", keep_collapsed=False)
        )
        if fixed is None or fixed.is_empty:
            errors.append(
                f"{_feature(index[i], ids.iloc[i])} is invalid ({reason}) and has no "
                "area once repaired; redraw the boundary"
            )
            usable[i] = False
            continue
        out_geoms[i] = fixed
        repairs.append(
            {"index": index[i], "park_id": ids.iloc[i], "problem": reason, "action": "make_valid"}
        )
        log.warning(
            "%s: %s was invalid (%s); repaired with make_valid",
            source,
            _feature(index[i], ids.iloc[i]),
            reason,
        )
    if usable.any():
        zero = np.zeros(len(geoms), dtype=bool)
        # 1e-10 square degrees is about 1 m^2 at Chinese latitudes: collinear "polygons" have
        # a floating-point area of ~1e-16, not exactly zero.
        zero[usable] = shapely.area(out_geoms[usable]) < 1e-10
        for i in np.flatnonzero(zero):
            errors.append(
                f"{_feature(index[i], ids.iloc[i])} has zero area (under 1 m²); "
                "draw the park's boundary as a real polygon"
            )

    for i in np.flatnonzero(ids.isna().to_numpy()):
        errors.append(f"feature {index[i]} has an empty park_id; give every park a unique id")
    dup = ids.duplicated(keep=False) & ids.notna()
    if dup.any():
        for pid, positions in pd.Series(
            np.arange(len(ids))[dup.to_numpy()], index=ids[dup].to_numpy()
        ).groupby(level=0):
            where = ", ".join(str(index[p]) for p in positions)
            errors.append(
                f"park_id {pid!r} is used by features {where}; park ids must be "
                "unique: renumber them or merge the features"
            )
    if errors:
        # one line, as the command line prints it
        if len(errors) == 1:
            raise GeometryError(f"{source}: {errors[0]}")
        shown = "; ".join(errors[:STRICT_SHOWN])
        more = f"; ... and {len(errors) - STRICT_SHOWN} more" if len(errors) > STRICT_SHOWN else ""
        raise GeometryError(f"{source}: {len(errors)} park feature problems: {shown}{more}")

    data: dict[str, Any] = {"park_id": ids}
    name = clean_text(gdf["name"]) if "name" in gdf.columns else ids.copy()
    data["name"] = name.fillna(ids)
    for col in ("district", "level", "leading_industries"):
        data[col] = (
            clean_text(gdf[col])
            if col in gdf.columns
            else pd.Series(None, index=gdf.index, dtype="str")
        )
    for col, kind in (("approved_area_ha", "area"), ("priority", "plain")):
        if col not in gdf.columns:
            data[col] = np.full(len(gdf), np.nan)
            continue
        parsed = parse_numbers(gdf[col], kind=kind)
        bad_rows = np.flatnonzero(parsed.invalid)
        if len(bad_rows):
            where = "; ".join(
                f"{_feature(index[i], ids.iloc[i])}: {gdf[col].iloc[i]!r}" for i in bad_rows[:10]
            )
            raise SchemaError(
                f"{source}: column {col} must be a number ({where}); fix the "
                "values or leave them empty"
            )
        data[col] = parsed.values
    frame = pd.DataFrame(data, index=gdf.index)
    for col in _PARK_TEXT:
        frame[col] = frame[col].astype("str")
    parks = gpd.GeoDataFrame(
        frame[list(PARK_COLUMNS)],
        geometry=gpd.GeoSeries(out_geoms, index=gdf.index, crs=gdf.crs),
        crs=gdf.crs,
    )
    parks.attrs["repairs"] = repairs
    parks.attrs["source"] = source
    return parks, repairs
