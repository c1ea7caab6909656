"""Interactive maps planners open from a file, offline: density, targets, clusters and gaps.

Every map is a :class:`folium.Map` that can be shown in a notebook or written with
:func:`save_map`. The saved page is self-contained: Leaflet's JavaScript and CSS are inlined
from the ``xstatic-leaflet`` package, nothing is fetched from the network (basemap tiles are
off unless ``tiles=`` names a provider), and the same input gives the same bytes.

Scale: enterprises are drawn as canvas circle markers created in the browser from compact
integer coordinate arrays (1e-5 degree, about 1 m), not as one folium marker per firm; the
120,000-enterprise Tianjin planner's map stays within its size budget (see ``docs/maps.md``
for measured figures).

Safety: input strings (park, enterprise, district and industry names, reasons) are escaped
with ``html.escape`` before they become HTML, and data reach JavaScript only as JSON with
``< > & ` $`` and U+2028/U+2029 escaped (:func:`parkgeo._maplayers.js_json`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from parkgeo._errors import ParkgeoError, SchemaError
from parkgeo._legend import (
    check_lang,
    label,
)
from parkgeo._mapbuilder import (
    Builder,
    add_context,
    add_disclosure_note,
    add_park_outlines,
)
from parkgeo._mapdata import (
    CITY_ROW_IDS,
    baseline_of,
    bounds,
    check_bins,
    check_common,
    check_metrics,
    clusters_frame,
    pick_year,
    polygons_4326,
    resolve_tiles,
)
from parkgeo._mappoints import (
    add_enterprises,
)
from parkgeo._mappopups import (
    measure_label,
    subtitle_text,
)
from parkgeo._maprecipes import (
    add_choropleth,
    add_gap_layer,
    add_hulls,
    add_progress,
    gap_context,
    nearest_hulls,
    park_set,
)

if TYPE_CHECKING:
    import folium

__all__ = [
    "CITY_ROW_IDS",
    "DEFAULT_MAX_POINTS",
    "PLANNER_MEASURES",
    "PROGRESS_MEASURES",
    "SIZE_BUDGET_MB",
    "cluster_map",
    "density_map",
    "gap_map",
    "map_html",
    "planner_map",
    "save_map",
]

PLANNER_MEASURES: tuple[str, ...] = ("tax_per_ha", "energy_per_ha", "energy_per_value_added")
"""Park choropleths of the planner's map, in layer-control order."""

PROGRESS_MEASURES: tuple[str, ...] = ("tax_per_ha", "energy_per_value_added")
"""Measures with a per-park plan target whose status is mapped (tax per ha +50%, energy per
unit of value added -15%, by default in :mod:`parkgeo.metrics`)."""


log = logging.getLogger("parkgeo")

SIZE_BUDGET_MB = 15.0
"""Largest map file planners should be sent; :func:`save_map` warns above it."""

DEFAULT_MAX_POINTS = 150_000
"""Enterprises drawn individually; above it a deterministic, evenly spread subset is drawn and
the map says so (120,000 enterprises give a map of about 10 MB, see ``docs/maps.md``)."""

GAPS_PER_PARK = 5


# ------------------------------------------------------------------------------------------
# public maps
# ------------------------------------------------------------------------------------------


def planner_map(
    parks: Any,
    metrics: pd.DataFrame,
    *,
    enterprises: pd.DataFrame | None = None,
    districts: Any = None,
    clusters: Any = None,
    gaps: pd.DataFrame | None = None,
    year: int | None = None,
    baseline_year: int | None = None,
    lang: str = "en",
    scheme: str = "fisherjenks",
    k: int = 5,
    bins: Mapping[str, Sequence[float]] | None = None,
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
    measures: Sequence[str] = PLANNER_MEASURES,
    progress: Sequence[str] = PROGRESS_MEASURES,
    max_points: int = DEFAULT_MAX_POINTS,
    enterprise_names: bool = True,
    gaps_per_park: int = GAPS_PER_PARK,
    visible: Sequence[str] = ("districts",),
) -> folium.Map:
    """The planner's map: park choropleths, target progress, districts, enterprises, clusters.

    Layers (switched in the layer control): one park choropleth per measure (tax per hectare,
    energy per hectare, energy per unit of value added; radio buttons, each with its own
    legend of class breaks and units), one target-progress layer per measure with a target
    status (met / on track / behind), and the overlays districts (a light base), enterprises
    (canvas points coloured by GB/T 4754 section; click for name, industry, park) and industry
    cluster hulls. Each park has a tooltip with its figure and a popup with its figures, the
    change against the baseline, target progress, top industries and missing clusters with
    their reasons.

    Parameters
    ----------
    parks : geopandas.GeoDataFrame
        Park polygons with ``park_id`` (and ``name``); any CRS (a missing CRS is an error).
    metrics : pandas.DataFrame
        :func:`parkgeo.metrics.park_metrics` output: one row per park and year.
    enterprises : pandas.DataFrame, optional
        Enterprises (canonical table or :func:`parkgeo.join.assign_parks` output, whose
        ``park_id`` names the park in the click popup); the map's year is drawn.
    districts : geopandas.GeoDataFrame, optional
        District boundaries, drawn as a light base (``name`` shown on hover).
    clusters : ClusterResult or geopandas.GeoDataFrame, optional
        :func:`parkgeo.clusters.industry_clusters` output; hulls are drawn.
    gaps : pandas.DataFrame, optional
        :func:`parkgeo.gaps.missing_clusters` output, listed in the park popups.
    year : int, optional
        Year shown when the map opens; default the latest in ``metrics``. A year switcher in
        the title box offers every year of ``metrics`` (choropleths, statuses, tooltips,
        legends and popups follow it; class breaks are over all years).
    baseline_year : int, optional
        Year the changes are measured from, for the labels; default read from the metrics
        (the year whose status is ``baseline``).
    lang : {"en", "zh"}
        Language of every label.
    scheme : {"fisherjenks", "quantiles", "equalinterval", "userdefined"}
        Class breaks (mapclassify schemes; Fisher-Jenks is computed exactly).
    k : int
        Number of classes (2-9).
    bins : mapping of measure to upper class bounds, optional
        Required for ``scheme="userdefined"``, e.g. ``{"tax_per_ha": [50, 100, 200]}``.
    tiles : str or xyzservices.TileProvider, optional
        Basemap (needs network when the map is opened); default none. With a GCJ-02 provider
        (``Gaode.*``/AutoNavi, Tencent) every geometry is drawn in GCJ-02 so it lines up.
    title, source_note : str, optional
        Title and data-source note (escaped); defaults in ``lang``.
    measures, progress : sequence of str
        Measures drawn as choropleths / as target-progress layers.
    max_points : int
        Most enterprises drawn (an evenly spread subset above it, noted on the map).
    enterprise_names : bool
        Include firm names in the click popups (the largest part of the file).
    gaps_per_park : int
        Missing clusters listed per park.
    visible : sequence of {"districts", "enterprises", "clusters"}
        Overlays switched on when the map opens (the others are one click away). By default
        only districts, so the park choropleth reads clearly at city scale.

    Returns
    -------
    folium.Map
        Write it with :func:`save_map` (offline, deterministic).

    Raises
    ------
    SchemaError, CRSError, ParkgeoError
        On missing columns, a layer without CRS, an unknown year, scheme or tiles name.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> parks = gpd.GeoDataFrame({"park_id": ["P1", "P2"], "name": ["East", "West"]},
    ...                          geometry=[box(117.0, 39.0, 117.1, 39.1),
    ...                                    box(117.2, 39.0, 117.3, 39.1)], crs="EPSG:4326")
    >>> metrics = pd.DataFrame({"park_id": ["P1", "P2"], "year": [2015, 2015],
    ...                         "tax_per_ha": [120.0, 45.5], "energy_per_ha": [3.1, 8.0],
    ...                         "energy_per_value_added": [0.21, 0.5]})
    >>> m = planner_map(parks, metrics, scheme="equalinterval", k=2)
    >>> html = map_html(m)
    >>> "Tax per hectare" in html, "https://cdn" in html
    (True, False)
    """
    check_common(lang, scheme, k)
    progress = (
        [
            p
            for p in progress
            if f"{p}_status" in metrics.columns or f"{p}_progress" in metrics.columns
        ]
        if isinstance(metrics, pd.DataFrame)
        else []
    )
    check_metrics(metrics, list(measures))
    shown = set(visible)
    unknown = shown - {"districts", "enterprises", "clusters"}
    if unknown:
        raise ParkgeoError(
            f"visible takes 'districts', 'enterprises', 'clusters'; got {sorted(unknown)}"
        )
    bins_by = check_bins(scheme, bins, measures)
    chosen = pick_year(metrics, year)
    tl = resolve_tiles(tiles)
    parks4326 = polygons_4326(parks, "parks", id_column="park_id")
    dist4326 = (
        polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    cl = clusters_frame(clusters)

    baseline = baseline_of(metrics, baseline_year)
    b = Builder(
        lang=lang,
        tiles=tl,
        title=title if title is not None else label("title", lang, year=chosen),
        subtitle=subtitle_text(metrics, chosen, lang, baseline),
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=bounds(parks4326),
    )
    b.baseline = baseline
    add_disclosure_note(b, metrics)
    add_context(
        b, districts if dist4326 is not None else None, parks4326, show="districts" in shown
    )
    ps = park_set(
        b,
        parks,
        metrics,
        year=chosen,
        gaps=gaps,
        gaps_per_park=gaps_per_park,
        gap_context=gap_context(cl, districts, lang),
    )
    # the year switcher's titles (a title of the user's own stays as given)
    b.title_for_years(
        lambda y: title if title is not None else label("title", lang, year=y),
        lambda y: subtitle_text(metrics, y, lang, baseline),
    )
    first = True
    for measure in measures:
        add_choropleth(
            b, ps, measure, scheme=scheme, k=int(k), bins=bins_by.get(measure), show=first
        )
        first = False
    for measure in progress:
        add_progress(b, ps, measure, show=False)
    if cl is not None:
        add_hulls(b, cl, parks=ps.parks, show="clusters" in shown, outline=True)
    if enterprises is not None:
        add_enterprises(
            b,
            enterprises,
            year=chosen,
            parks=ps.parks,
            max_points=max_points,
            names=enterprise_names,
            show="enterprises" in shown,
        )
    return b.finish()


def density_map(
    parks: Any,
    metrics: pd.DataFrame,
    *,
    measure: str = "tax_per_ha",
    year: int | None = None,
    baseline_year: int | None = None,
    districts: Any = None,
    lang: str = "en",
    scheme: str = "fisherjenks",
    k: int = 5,
    bins: Sequence[float] | None = None,
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
) -> folium.Map:
    """One park choropleth (default tax per hectare) with its legend, tooltips and popups.

    Parameters are as in :func:`planner_map`; ``measure`` is any numeric column of
    ``metrics`` (units are labelled for parkgeo's own measures), ``bins`` the upper class
    bounds for ``scheme="userdefined"``. When ``metrics`` carry a target status for the
    measure, a target-progress layer is added.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> parks = gpd.GeoDataFrame({"park_id": ["P1", "P2", "P3"]},
    ...     geometry=[box(117.0, 39.0, 117.1, 39.1), box(117.2, 39.0, 117.3, 39.1),
    ...               box(117.4, 39.0, 117.5, 39.1)], crs="EPSG:4326")
    >>> metrics = pd.DataFrame({"park_id": ["P1", "P2", "P3"], "year": 2015,
    ...                         "energy_per_ha": [3.1, 8.0, None]})
    >>> html = map_html(density_map(parks, metrics, measure="energy_per_ha", k=2))
    >>> "Energy per hectare" in html and "tce/ha" in html
    True
    """
    check_common(lang, scheme, k)
    check_metrics(metrics, [measure])
    bins_by = check_bins(scheme, bins, [measure])
    chosen = pick_year(metrics, year)
    tl = resolve_tiles(tiles)
    parks4326 = polygons_4326(parks, "parks", id_column="park_id")
    dist4326 = (
        polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    name, _ = measure_label(measure, lang)
    baseline = baseline_of(metrics, baseline_year)
    b = Builder(
        lang=lang,
        tiles=tl,
        title=title
        if title is not None
        else label("density_title", lang, measure=name, year=chosen),
        subtitle=subtitle_text(metrics, chosen, lang, baseline),
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=bounds(parks4326),
    )
    b.baseline = baseline
    add_disclosure_note(b, metrics)
    add_context(b, districts if dist4326 is not None else None, parks4326)
    ps = park_set(b, parks, metrics, year=chosen, gaps=None, gaps_per_park=0)
    b.title_for_years(
        lambda y: (
            title if title is not None else label("density_title", lang, measure=name, year=y)
        ),
        lambda y: subtitle_text(metrics, y, lang, baseline),
    )
    add_choropleth(b, ps, measure, scheme=scheme, k=int(k), bins=bins_by.get(measure), show=True)
    if f"{measure}_status" in metrics.columns:
        add_progress(b, ps, measure, show=False)
    return b.finish()


def cluster_map(
    clusters: Any,
    *,
    enterprises: pd.DataFrame | None = None,
    parks: Any = None,
    districts: Any = None,
    industries: Sequence[str] | None = None,
    year: int | None = None,
    lang: str = "en",
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    show_enterprises: bool = False,
) -> folium.Map:
    """Industry cluster hulls coloured by GB/T 4754 section, over parks and enterprises.

    Parameters
    ----------
    clusters : ClusterResult or geopandas.GeoDataFrame
        :func:`parkgeo.clusters.industry_clusters` output.
    enterprises : pandas.DataFrame, optional
        Firms drawn as points (those of ``industries`` only, when given).
    parks, districts : geopandas.GeoDataFrame, optional
        Park outlines (name on hover) and district base.
    industries : sequence of str, optional
        Only clusters (and firms) whose industry code starts with one of these, e.g.
        ``["C27", "C39"]``.
    year, lang, tiles, title, source_note, max_points
        As in :func:`planner_map`.
    show_enterprises : bool
        Whether the firms' layer is on when the map opens (off by default: one legend).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hulls = gpd.GeoDataFrame({"cluster_id": [0], "industry": ["C27"], "n_firms": [12]},
    ...                          geometry=[box(117.0, 39.0, 117.05, 39.05)], crs="EPSG:4326")
    >>> html = map_html(cluster_map(hulls))
    >>> "C27" in html and "Industry concentrations" in html
    True
    """
    check_lang(lang)
    cl = clusters_frame(clusters)
    if cl is None:
        raise ParkgeoError("cluster_map needs clusters (parkgeo.clusters.industry_clusters output)")
    if industries is not None:
        wanted = tuple(str(i) for i in industries)
        cl = cl[cl["industry"].astype(str).str.startswith(wanted).to_numpy()]
        if enterprises is not None and "industry" in enterprises.columns:
            enterprises = enterprises[
                enterprises["industry"].astype(str).str.startswith(wanted).to_numpy()
            ]
    if year is None and "year" in cl.columns and cl["year"].notna().any():
        year = int(pd.to_numeric(cl["year"], errors="coerce").dropna().max())
    tl = resolve_tiles(tiles)
    parks4326 = polygons_4326(parks, "parks", id_column="park_id") if parks is not None else None
    dist4326 = (
        polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    b = Builder(
        lang=lang,
        tiles=tl,
        title=title
        if title is not None
        else label("cluster_title", lang, year=year if year is not None else ""),
        subtitle="",
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=bounds(cl if len(cl) else parks4326, parks4326),
    )
    add_context(
        b, districts if dist4326 is not None else None, parks4326 if parks4326 is not None else cl
    )
    if parks4326 is not None:
        add_park_outlines(b, parks4326)
    add_hulls(b, cl, parks=parks4326, show=True)
    if enterprises is not None:
        # one layer and one legend at the start: the firms are a click away
        add_enterprises(
            b,
            enterprises,
            year=year,
            parks=parks4326,
            max_points=max_points,
            names=True,
            show=show_enterprises,
        )
    return b.finish()


def gap_map(
    parks: Any,
    gaps: pd.DataFrame,
    *,
    metrics: pd.DataFrame | None = None,
    clusters: Any = None,
    districts: Any = None,
    year: int | None = None,
    baseline_year: int | None = None,
    lang: str = "en",
    k: int = 5,
    tiles: Any = None,
    title: str | None = None,
    source_note: str | None = None,
    gaps_per_park: int = GAPS_PER_PARK,
) -> folium.Map:
    """Parks coloured by how strongly a missing cluster is indicated, with the gaps listed.

    Each park's colour is the score (0-1) of its best-ranked missing cluster; parks with no
    strategic emerging industry at all get a thick red outline. The popup lists the park's
    missing clusters with their reasons (and its figures when ``metrics`` are given). With
    ``clusters``, the hulls of the city clusters nearest to the parks that lack them
    (``nearest_cluster_id``; else every cluster of a listed industry) are overlaid.

    Parameters
    ----------
    parks : geopandas.GeoDataFrame
        Park polygons.
    gaps : pandas.DataFrame
        :func:`parkgeo.gaps.missing_clusters` output.
    metrics, clusters, districts, year, lang, k, tiles, title, source_note, gaps_per_park
        As in :func:`planner_map`.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely import box
    >>> parks = gpd.GeoDataFrame({"park_id": ["P1", "P2"], "name": ["A", "B"]},
    ...     geometry=[box(117.0, 39.0, 117.1, 39.1), box(117.2, 39.0, 117.3, 39.1)],
    ...     crs="EPSG:4326")
    >>> gaps = pd.DataFrame({"park_id": ["P1", "P2"], "rank": [1, 1],
    ...                      "industry": ["C27", "C39"], "score": [0.8, 0.4],
    ...                      "reason": ["peers have it", "related industries present"]})
    >>> html = map_html(gap_map(parks, gaps, k=2))
    >>> "peers have it" in html
    True
    """
    check_common(lang, "fisherjenks", k)
    if not isinstance(gaps, pd.DataFrame) or "park_id" not in gaps.columns:
        raise SchemaError("gaps must be the DataFrame of parkgeo.gaps.missing_clusters")
    if year is None:
        if metrics is not None:
            year = pick_year(metrics, None)
        elif "year" in gaps.columns and gaps["year"].notna().any():
            year = int(pd.to_numeric(gaps["year"], errors="coerce").dropna().max())
    tl = resolve_tiles(tiles)
    parks4326 = polygons_4326(parks, "parks", id_column="park_id")
    dist4326 = (
        polygons_4326(districts, "districts", id_column=None) if districts is not None else None
    )
    b = Builder(
        lang=lang,
        tiles=tl,
        title=title
        if title is not None
        else label("gap_title", lang, year=year if year is not None else ""),
        subtitle="",
        source_note=source_note if source_note is not None else label("source", lang),
        bounds=bounds(parks4326),
    )
    add_context(b, districts if dist4326 is not None else None, parks4326)
    if metrics is not None and year is not None:
        check_metrics(metrics, [])
        b.baseline = baseline_of(metrics, baseline_year)
        add_disclosure_note(b, metrics)
    cl = clusters_frame(clusters)
    ps = park_set(
        b,
        parks,
        metrics if metrics is not None and year is not None else None,
        year=year if year is not None else 0,
        gaps=gaps,
        gaps_per_park=gaps_per_park,
        gap_context=gap_context(cl, districts, lang),
        switch=False,
    )
    add_gap_layer(b, ps, gaps, k=k, gaps_per_park=gaps_per_park)
    if cl is not None and len(cl):
        hulls = nearest_hulls(cl, gaps, gaps_per_park)
        add_hulls(b, hulls, parks=ps.parks, show=True, outline=True)
    return b.finish()


# ------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------


def map_html(m: folium.Map) -> str:
    """The map's complete offline HTML page (same input, same text).

    Element ids are numbered in order instead of folium's random ones; links to Leaflet or
    markercluster on a CDN (from plain folium maps) are replaced by the inlined libraries,
    and any other external script or stylesheet raises :class:`~parkgeo.MissingAssetError`.
    """
    from parkgeo._maprender import render_html

    return render_html(m)


def save_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write the map as one self-contained HTML file, atomically; return its path.

    The file opens from a disk or a share with no network and no Python: Leaflet is
    inlined, there are no CDN links, and the bytes are identical for identical input. A file
    above :data:`SIZE_BUDGET_MB` is written but logged as a warning.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> hulls = gpd.GeoDataFrame({"cluster_id": [0], "industry": ["C27"], "n_firms": [12]},
    ...                          geometry=[box(117.0, 39.0, 117.05, 39.05)], crs="EPSG:4326")
    >>> out = save_map(cluster_map(hulls), pathlib.Path(tempfile.mkdtemp()) / "c.html")
    >>> out.read_bytes() == save_map(cluster_map(hulls), out.with_name("d.html")).read_bytes()
    True
    """
    from parkgeo.io import atomic_write

    data = map_html(m).encode("utf-8")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target, "wb") as fh:
        fh.write(data)
    size_mb = len(data) / 1e6
    if size_mb > SIZE_BUDGET_MB:
        log.warning(
            "%s is %.1f MB, above the %.0f MB budget of a map planners can open comfortably: "
            "draw fewer enterprises (max_points=, --max-points) or leave their names out "
            "(enterprise_names=False, --no-names)",
            target,
            size_mb,
            SIZE_BUDGET_MB,
        )
    return target
