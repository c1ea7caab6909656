"""The bundled Tianjin sample: 33 development zones, 16 districts and synthetic enterprises.

The zones (codes, names, levels, approved areas, leading industries, locations) and the
districts are real; the park polygons and the enterprises are synthetic, made by
``scripts/make_sample_data.py`` and described in ``data/SAMPLE.md``. The enterprises are
calibrated so that the city-wide 2013 -> 2015 changes reproduce Tianjin's reported outcome
(total profit +45 %, energy per unit of value added -2.88 %, labour productivity +20.6 %), and
some industries are deliberately missing from some parks (:func:`planted_gaps`).

Nothing here touches the network: the files ship with parkgeo (``data/`` in a source checkout,
``parkgeo/data`` in an installed wheel).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from parkgeo._errors import MissingAssetError
from parkgeo._paths import data_path

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["SAMPLE_FILES", "TianjinSample", "load_tianjin", "planted_gaps", "sample_path"]

#: Files of the bundled sample, by short name.
SAMPLE_FILES: dict[str, str] = {
    "parks": "tianjin_parks.parquet",
    "enterprises": "tianjin_enterprises.parquet",
    "districts": "tianjin_districts.parquet",
    "planted_gaps": "tianjin_planted_gaps.csv",
    "zone_industry_map": "zone_industry_map.csv",
    "description": "SAMPLE.md",
}

_PARK_STR = (
    "park_id",
    "name",
    "district",
    "level",
    "zone_type",
    "approval_date",
    "leading_industries",
)
_ENTERPRISE_STR = ("enterprise_id", "name", "industry")
_MEASURES = ("tax", "profit", "value_added", "energy_tce", "employees")


class TianjinSample(NamedTuple):
    """The bundled Tianjin sample, as returned by :func:`load_tianjin`.

    Attributes
    ----------
    parks : geopandas.GeoDataFrame
        33 development zones (EPSG:4326): ``park_id``, ``name``, ``district``, ``level``
        (national/provincial), ``zone_type``, ``approval_date``, ``approved_area_ha``,
        ``leading_industries`` (主导产业, ``、``-separated) and a synthetic polygon whose geodesic
        area equals the approved area.
    enterprises : pandas.DataFrame
        One row per enterprise and year 2013-2016 in parkgeo's canonical columns:
        ``enterprise_id``, ``name``, ``industry`` (GB/T 4754-2017 class, e.g. ``C3670``),
        ``lon``/``lat`` (WGS-84), ``year``, ``tax``, ``profit``, ``value_added`` (10,000 CNY),
        ``energy_tce`` (tce), ``employees``. About 1 % of measures are NaN.
    districts : geopandas.GeoDataFrame
        Tianjin's 16 districts (EPSG:4326): ``adcode``, ``name``, ``name_en``.
    """

    parks: gpd.GeoDataFrame
    enterprises: pd.DataFrame
    districts: gpd.GeoDataFrame


def sample_path(name: str) -> Path:
    """Return the path of a file of the bundled sample.

    Parameters
    ----------
    name : str
        A short name from :data:`SAMPLE_FILES` (``"parks"``, ``"enterprises"``,
        ``"districts"``, ``"planted_gaps"``, ``"zone_industry_map"``, ``"description"``) or a
        file name in the data directory (``"tianjin_parks.parquet"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MissingAssetError
        If the file is not installed (a :class:`~parkgeo.ParkgeoError`).

    Examples
    --------
    >>> sample_path("parks").name
    'tianjin_parks.parquet'
    >>> sample_path("tianjin_planted_gaps.csv").suffix
    '.csv'
    """
    file_name = SAMPLE_FILES.get(name, name)
    if "/" in file_name or "\\" in file_name or file_name.startswith("."):
        raise MissingAssetError(
            f"{name!r} is not a file of the bundled sample; use one of {', '.join(SAMPLE_FILES)}"
        )
    return data_path(file_name)


def load_tianjin() -> TianjinSample:
    """Load the bundled Tianjin sample (no network; fresh copies on every call).

    Returns
    -------
    TianjinSample
        ``parks`` and ``districts`` GeoDataFrames in EPSG:4326 and the ``enterprises`` panel,
        in parkgeo's canonical columns and dtypes. ``enterprises.attrs`` records ``source``,
        ``coord_system`` (``"wgs84"``) and ``crs`` like the loaders in :mod:`parkgeo.io`.

    Raises
    ------
    MissingAssetError
        If a sample file is missing from the installation.

    Examples
    --------
    >>> sample = load_tianjin()
    >>> len(sample.parks), sample.parks["park_id"].is_unique
    (33, True)
    >>> len(sample.districts)
    16
    >>> sorted(sample.enterprises["year"].unique().tolist())
    [2013, 2014, 2015, 2016]
    >>> int(sample.enterprises.groupby("year").size().iloc[0])
    12000
    """
    import geopandas as gpd

    parks_file = sample_path("parks")
    parks = gpd.read_parquet(parks_file)
    for column in _PARK_STR:
        parks[column] = parks[column].astype("str")
    parks["approved_area_ha"] = parks["approved_area_ha"].astype(np.float64)
    parks.attrs = {"source": str(parks_file), "coord_system": "wgs84", "crs": "EPSG:4326"}

    districts_file = sample_path("districts")
    districts = gpd.read_parquet(districts_file)
    for column in ("adcode", "name", "name_en"):
        districts[column] = districts[column].astype("str")
    districts.attrs = {"source": str(districts_file), "coord_system": "wgs84", "crs": "EPSG:4326"}

    enterprises_file = sample_path("enterprises")
    enterprises = pd.read_parquet(enterprises_file)
    for column in _ENTERPRISE_STR:
        enterprises[column] = enterprises[column].astype("str")
    enterprises["year"] = enterprises["year"].astype(np.int64)
    for column in ("lon", "lat", *_MEASURES):
        enterprises[column] = enterprises[column].astype(np.float64)
    enterprises.index = pd.RangeIndex(len(enterprises))
    enterprises.attrs = {
        "source": str(enterprises_file),
        "encoding": None,
        "coord_system": "wgs84",
        "crs": "EPSG:4326",
    }
    return TianjinSample(parks=parks, enterprises=enterprises, districts=districts)


def planted_gaps() -> pd.DataFrame:
    """The (park, industry) pairs deliberately left empty in the sample.

    Each planted industry (a GB/T 4754 division) has no firm inside its park although every
    other park of the same peer group has it with a location quotient of at least 1: a gap
    analysis should find these. ``data/SAMPLE.md`` explains how they were chosen.

    Returns
    -------
    pandas.DataFrame
        ``park_id``, ``industry`` (division code, e.g. ``C29``), ``reason`` (in words) and
        ``peers`` (the peer parks' ids, ``;``-separated).

    Examples
    --------
    >>> gaps = planted_gaps()
    >>> list(gaps.columns)
    ['park_id', 'industry', 'reason', 'peers']
    >>> len(gaps), gaps["park_id"].nunique()
    (17, 14)
    """
    return pd.read_csv(sample_path("planted_gaps"), dtype="str", keep_default_na=False)
