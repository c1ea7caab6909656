"""The builder shared by every map: an offline folium map, its layers in drawing order,
legends, title, notes, and the simple layers (districts, park outlines).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from parkgeo._legend import (
    SECTION_COLORS,
    category_legend_html,
    esc,
    label,
)
from parkgeo._mapdata import (
    PARK_LINE,
    Tiles,
    display_geoms,
    feature_collection,
    polygons_4326,
)
from parkgeo._mappopups import (
    industry_labels,
)

if TYPE_CHECKING:
    import folium

log = logging.getLogger("parkgeo")


def layer_name(text: str) -> str:
    """A layer-control label: HTML-escaped (Leaflet inserts it as HTML) and with no ``{``,
    which folium's own LayerControl template would read as the start of a Jinja tag."""
    return esc(text).replace("{", "&#123;").replace("}", "&#125;")


class Builder:
    """Adds parkgeo layers to an offline folium map, remembering drawing order and legends."""

    def __init__(
        self,
        *,
        lang: str,
        tiles: Tiles,
        title: str,
        subtitle: str,
        source_note: str,
        bounds: list[list[float]] | None,
    ) -> None:
        from parkgeo._maplayers import OfflineMap

        self.lang = lang
        self.tiles = tiles
        center = (
            [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
            if bounds
            else [39.13, 117.2]
        )
        self.m = OfflineMap(
            location=[round(c, 6) for c in center],
            zoom_start=9,
            zoom_snap=0.25,  # the opening view fills the free part of the screen
            tiles=None,
            prefer_canvas=True,
            control_scale=False,  # parkgeo's own scale bar: metric only
            page_title=esc(title),
        )
        if bounds:
            from parkgeo._maplayers import FitView

            self.m.add_child(FitView(bounds))
        self.bounds = bounds
        self.baseline: str | None = None
        self.title = title
        self.subtitle = subtitle
        self.notes: list[str] = [source_note]
        self.back_to_front: list[Any] = []  # (rank, layer): rank orders the canvas stack
        self.legends: list[tuple[Any, Any]] = []
        self.point_layers: list[Any] = []
        # the year switcher: the years offered, the one shown first, what follows it
        self.years: list[int] = []
        self.year: int | None = None
        self.titles_by_year: dict[str, str] = {}
        self.year_elements: list[Any] = []
        # names and small-park rings (MapExtras): (lat, lon, html[, s, w, n, e])
        self.park_points: list[list[Any]] = []
        self.district_points: list[list[Any]] = []
        self.districts_layer: Any = None
        if tiles.provider is not None:
            import folium

            folium.TileLayer(
                tiles=tiles.provider,
                name=layer_name(str(tiles.name)),
                overlay=True,
                control=True,
                show=True,
            ).add_to(self.m)
            self.notes.append(label("tiles_note", lang, provider=tiles.name))
        else:
            self.notes.append(label("no_tiles_note", lang))

    # layers -------------------------------------------------------------------------------
    def data(self, payload: Any, name: str) -> Any:
        from parkgeo._maplayers import DataScript

        element = DataScript(payload, name=name)
        self.m.add_child(element)
        return element

    def polygons(
        self,
        source: Any,
        *,
        name: str,
        rank: int,
        styles: Sequence[dict[str, Any]],
        tooltips: Sequence[str] | None,
        popups: Sequence[str] | None = None,
        popup_source: Any = None,
        overlay: bool = True,
        show: bool = True,
        legend_html: str | None = None,
        interactive: bool = True,
        by_year: dict[str, Any] | None = None,
        legend_by_year: dict[str, str] | None = None,
        control: bool = True,
    ) -> Any:
        from parkgeo._maplayers import GeoJsonLayer

        layer = GeoJsonLayer(
            source,
            name=layer_name(name),
            styles=styles,
            tooltips=tooltips,
            popups=popups,
            popup_source=popup_source,
            overlay=overlay,
            show=show,
            interactive=interactive,
            by_year=by_year,
        )
        layer.control = control
        self.m.add_child(layer)
        self.back_to_front.append((rank, layer))
        if by_year is not None or (popup_source is not None and len(self.years) > 1):
            self.year_elements.append(layer)
        if legend_html is not None:
            self.legend(layer, legend_html, by_year=legend_by_year)
        return layer

    def legend(
        self,
        layer: Any,
        html_text: str,
        position: str = "bottomright",
        *,
        by_year: dict[str, str] | None = None,
    ) -> None:
        from parkgeo._mapcontrols import HtmlControl

        control = HtmlControl(
            collapsible(html_text),
            position=position,
            css="pg-box pg-legend",
            always=False,
            by_year={y: collapsible(h) for y, h in by_year.items()} if by_year else None,
        )
        self.m.add_child(control)
        self.legends.append((layer, control))
        if by_year:
            self.year_elements.append(control)

    def points(
        self, payload: dict[str, Any], *, name: str, legend_html: str, show: bool = True
    ) -> Any:
        from parkgeo._maplayers import PointLayer

        layer = PointLayer(payload, name=layer_name(name), show=show)
        self.m.add_child(layer)
        self.point_layers.append(layer)
        self.legend(layer, legend_html, position="bottomleft")
        return layer

    def finish(self) -> folium.Map:
        import folium

        from parkgeo._mapcontrols import HtmlControl, MapExtras, Orchestrator, TitleBox

        sub = f"<div>{esc(self.subtitle)}</div>" if self.subtitle else ""
        text = f"<h1>{esc(self.title)}</h1>{sub}"
        switch = ""
        if len(self.years) > 1 and self.titles_by_year:
            options = "".join(
                f'<option value="{y}"{" selected" if y == self.year else ""}>{y}</option>'
                for y in self.years
            )
            switch = (
                f'<label class="pg-year-label">{esc(label("year_switch", self.lang))}'
                f'<select class="pg-year">{options}</select></label>'
            )
        title = TitleBox(
            f'<div class="pg-title-text">{text}</div>{switch}',
            by_year=self.titles_by_year if switch else None,
        )
        self.m.add_child(title)
        if switch:
            self.year_elements.append(title)
        notes = "<br>".join(esc(n) for n in self.notes if n)
        self.m.add_child(
            HtmlControl(notes, position="bottomleft", css="pg-box pg-source", always=True)
        )
        self.m.add_child(
            MapExtras(
                parks=self.park_points,
                districts=self.district_points,
                north=esc(label("north", self.lang)),
                districts_layer=self.districts_layer,
            )
        )
        folium.LayerControl(collapsed=False, position="topright").add_to(self.m)
        order = [layer for _, layer in sorted(self.back_to_front, key=lambda t: t[0])]
        self.m.add_child(
            Orchestrator(
                order=order,
                legends=self.legends,
                year_elements=self.year_elements,
                bounds=self.bounds,
            )
        )
        return self.m

    def title_for_years(self, title_of: Any, subtitle_of: Any) -> None:
        """Title and sub-title of each year for the year switcher (``f(year) -> str``)."""
        for y in self.years:
            sub = subtitle_of(y)
            self.titles_by_year[str(y)] = f"<h1>{esc(title_of(y))}</h1>" + (
                f"<div>{esc(sub)}</div>" if sub else ""
            )


RANK_DISTRICTS, RANK_PARKS, RANK_HULLS = 0, 1, 2

_LEGEND_TITLE = re.compile(r'^<div class="pg-legend-title">(.*?)</div>', re.S)


def collapsible(html_text: str) -> str:
    """A legend that folds away: its title becomes the ``<summary>`` of an open
    ``<details>`` (click the title to hide the rows)."""
    m = _LEGEND_TITLE.match(html_text)
    if not m:
        return html_text
    return (
        f'<details open><summary class="pg-legend-title">{m.group(1)}</summary>'
        f"{html_text[m.end() :]}</details>"
    )


def add_districts(b: Builder, districts: Any, *, show: bool = True) -> None:
    d = polygons_4326(districts, "districts", id_column=None)
    geoms = display_geoms(d.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": feature_collection(geoms)}, "pg_districts")
    style = {
        "color": "#8a8a8a",
        "weight": 1.2,
        "dashArray": "4 3",
        "fillColor": "#ffffff",
        "fillOpacity": 0.45,
    }
    names = district_names(d, b.lang)
    b.districts_layer = b.polygons(
        source,
        name=label("districts", b.lang),
        rank=RANK_DISTRICTS,
        styles=[style] * len(d),
        tooltips=[esc(n) for n in names],
        overlay=True,
        show=show,
    )
    import shapely

    points = shapely.point_on_surface(geoms)
    boxes = shapely.bounds(geoms)
    b.district_points = [
        [
            round(float(pt.y), 5),
            round(float(pt.x), 5),
            esc(n),
            round(float(bb[1]), 5),
            round(float(bb[0]), 5),
            round(float(bb[3]), 5),
            round(float(bb[2]), 5),
        ]
        for pt, n, bb in zip(points, names, boxes, strict=True)
        if pt is not None and not pt.is_empty
    ]


def add_extent_frame(b: Builder, parks4326: Any) -> None:
    """Without districts, a light frame of the parks' extent so the map is not blobs on grey."""
    import shapely

    if parks4326 is None or not len(parks4326):
        return
    x0, y0, x1, y1 = (float(v) for v in parks4326.total_bounds)
    pad_x, pad_y = (x1 - x0) * 0.06 + 0.01, (y1 - y0) * 0.06 + 0.01
    frame = shapely.box(x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y)
    geoms = display_geoms(np.array([frame], dtype=object), b.tiles)
    source = b.data({"fc": feature_collection(geoms)}, "pg_extent")
    style = {
        "color": "#9a9a9a",
        "weight": 1,
        "dashArray": "6 4",
        "fillColor": "#ffffff",
        "fillOpacity": 0.7,
    }
    b.polygons(
        source,
        name=label("extent", b.lang),
        rank=RANK_DISTRICTS,
        styles=[style],
        tooltips=None,
        overlay=True,
        show=True,
        interactive=False,
    )
    b.notes.append(label("no_districts_note", b.lang))


def add_park_points(b: Builder, parks4326: Any) -> None:
    """Park names (shown from zoom 11) and rings around parks too small to see."""
    geoms = display_geoms(parks4326.geometry.to_numpy(), b.tiles)
    import shapely

    points = shapely.point_on_surface(geoms)
    bounds = shapely.bounds(geoms)
    b.park_points = [
        [
            round(float(pt.y), 5),
            round(float(pt.x), 5),
            esc(name),
            round(float(bb[1]), 5),
            round(float(bb[0]), 5),
            round(float(bb[3]), 5),
            round(float(bb[2]), 5),
        ]
        for pt, name, bb in zip(points, parks4326["_label"], bounds, strict=True)
        if pt is not None and not pt.is_empty
    ]


def district_names(d: Any, lang: str) -> list[str]:
    """English names (``name_en``) on English maps when the layer has them, else ``name``."""
    labels = [str(v) for v in d["_label"]]
    if lang != "en" or "name_en" not in d.columns:
        return labels
    return [
        str(en) if isinstance(en, str) and en.strip() else zh
        for en, zh in zip(d["name_en"].tolist(), labels, strict=True)
    ]


def park_style(fill: str, *, weight: float = 1.0, line: str = PARK_LINE) -> dict[str, Any]:
    return {"color": line, "weight": weight, "fillColor": fill, "fillOpacity": 0.78}


def section_legend(
    lang: str, title: str, sections: Sequence[str], counts: Mapping[str, int] | None
) -> str:
    names = industry_labels(list(sections), lang)
    return category_legend_html(
        title,
        [
            (SECTION_COLORS[s], names.get(s, s), counts.get(s) if counts is not None else None)
            for s in sections
        ],
        shape="dot",
    )


def add_park_outlines(b: Builder, parks4326: Any) -> Any:
    geoms = display_geoms(parks4326.geometry.to_numpy(), b.tiles)
    source = b.data({"fc": feature_collection(geoms)}, "pg_park_outlines")
    style = {"color": PARK_LINE, "weight": 1.5, "fillColor": "#bdbdbd", "fillOpacity": 0.25}
    return b.polygons(
        source,
        name=label("parks", b.lang),
        rank=RANK_PARKS,
        styles=[style] * len(parks4326),
        tooltips=[
            f"<b>{esc(n)}</b><br>{esc(i)}"
            for n, i in zip(parks4326["_label"], parks4326["_id"], strict=True)
        ],
        overlay=True,
        show=True,
    )


def add_context(b: Builder, districts: Any, parks4326: Any, *, show: bool = True) -> None:
    """What lies under the parks: the districts with their names, or, without them, a light
    frame of the parks' extent (and a note saying so); park names and small-park rings."""
    if districts is not None:
        add_districts(b, districts, show=show)
    elif parks4326 is not None:
        add_extent_frame(b, parks4326)
    if parks4326 is not None and "_label" in parks4326.columns:
        add_park_points(b, parks4326)


def add_disclosure_note(b: Builder, metrics: Any) -> None:
    """The disclosure-control footnote (markers and rules) in the map's note box, whenever
    ``metrics`` is a protected table (:attr:`parkgeo.disclosure.ProtectedTable.table`)."""
    if metrics is None:
        return
    from parkgeo.disclosure import disclosure_info

    info = disclosure_info(metrics)
    if info is not None:
        b.notes.append(info["footnote_zh" if b.lang == "zh" else "footnote_en"])
