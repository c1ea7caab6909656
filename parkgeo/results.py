"""Result tables about parks as GeoDataFrames, the geopandas/momepy way.

parkgeo's functions return plain DataFrames on a RangeIndex (``park_metrics``,
``missing_clusters``, ``rank_parks``): one row per park (and year, or per park and industry).
:func:`with_park_geometry` adds each row's park polygon so the same table can be mapped,
written to a GeoPackage or joined spatially; ``missing_clusters(..., geometry=True)`` and
``rank_parks(..., geometry=True)`` call it for you.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError, SchemaError

__all__ = ["with_park_geometry"]


def with_park_geometry(table: pd.DataFrame, parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add each row's park polygon to a table that has a ``park_id`` column.

    Parameters
    ----------
    table : pandas.DataFrame
        Any parkgeo result about parks: :func:`parkgeo.metrics.park_metrics`,
        :func:`parkgeo.gaps.missing_clusters`, :func:`parkgeo.siting.rank_parks`, or your own.
    parks : geopandas.GeoDataFrame
        The park polygons (``park_id`` unique), in any CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        The table's rows, index, columns and order, plus a ``geometry`` column in the parks'
        CRS. Rows whose ``park_id`` is not a park (the city-wide ``ALL`` and ``ALL_PARKS``
        rows of ``park_metrics``, or a missing id) get no geometry (None). The inputs are not
        modified.

    Raises
    ------
    SchemaError
        If either table lacks ``park_id``, or the table already has a ``geometry`` column.
    ParkgeoError
        If ``parks`` is not a GeoDataFrame or repeats a ``park_id``.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> from parkgeo.metrics import park_metrics
    >>> sample = load_tianjin()
    >>> assigned = assign_parks(sample.enterprises, sample.parks).assigned
    >>> table = park_metrics(assigned, sample.parks)
    >>> geo = with_park_geometry(table, sample.parks)
    >>> geo.index.equals(table.index), list(geo.columns[:-1]) == list(table.columns)
    (True, True)
    >>> geo.loc[geo["park_id"] == "ALL", "geometry"].isna().all()
    np.True_
    """
    if not isinstance(table, pd.DataFrame):
        raise ParkgeoError(f"table must be a pandas DataFrame; got {type(table).__name__}")
    if not isinstance(parks, gpd.GeoDataFrame):
        raise ParkgeoError(f"parks must be a GeoDataFrame; got {type(parks).__name__}")
    for name, frame in (("table", table), ("parks", parks)):
        if "park_id" not in frame.columns:
            raise SchemaError(f"the {name} have no 'park_id' column to join on")
    if "geometry" in table.columns or isinstance(table, gpd.GeoDataFrame):
        raise SchemaError(
            "the table already has a geometry; drop it first (table.drop(columns='geometry'))"
        )
    ids = parks["park_id"].astype(str)
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise ParkgeoError(
            f"parks: park_id {repeated.iloc[0]!r} appears more than once; park ids must be unique"
        )
    keys = table["park_id"].astype("string")
    pos = pd.Index(ids).get_indexer(keys.fillna("").to_numpy(dtype=object))
    pos = np.where(keys.isna().to_numpy(dtype=bool), -1, pos)
    polygons = np.asarray(parks.geometry.to_numpy(), dtype=object)
    geoms = np.empty(len(table), dtype=object)
    geoms[pos >= 0] = polygons[pos[pos >= 0]]
    return gpd.GeoDataFrame(table.copy(), geometry=geoms, crs=parks.crs)
