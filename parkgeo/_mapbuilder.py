"""The builder shared by every map: an offline folium map, its layers in drawing order,
legends, title, notes, and the simple layers (districts, park outlines).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
            tiles=None,
            prefer_canvas=True,
            control_scale=True,
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
        )
        self.m.add_child(layer)
        self.back_to_front.append((rank, layer))
        if legend_html is not None:
            self.legend(layer, legend_html)
        return layer

    def legend(self, layer: Any, html_text: str, position: str = "bottomright") -> None:
        from parkgeo._mapcontrols import HtmlControl

        control = HtmlControl(html_text, position=position, css="pg-box pg-legend", always=False)
        self.m.add_child(control)
        self.legends.append((layer, control))

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

        from parkgeo._mapcontrols import HtmlControl, Orchestrator, TitleBox

        sub = f"<div>{esc(self.subtitle)}</div>" if self.subtitle else ""
        self.m.add_child(TitleBox(f"<h1>{esc(self.title)}</h1>{sub}"))
        notes = "<br>".join(esc(n) for n in self.notes if n)
        self.m.add_child(
            HtmlControl(notes, position="bottomleft", css="pg-box pg-source", always=True)
        )
        folium.LayerControl(collapsed=False, position="topright").add_to(self.m)
        order = [layer for _, layer in sorted(self.back_to_front, key=lambda t: t[0])]
        self.m.add_child(Orchestrator(order=order, legends=self.legends))
        return self.m


RANK_DISTRICTS, RANK_PARKS, RANK_HULLS = 0, 1, 2


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
    b.polygons(
        source,
        name=label("districts", b.lang),
        rank=RANK_DISTRICTS,
        styles=[style] * len(d),
        tooltips=[esc(n) for n in district_names(d, b.lang)],
        overlay=True,
        show=show,
    )


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
