"""Map controls: HTML boxes (legends, notes), the title, the year switcher, the scale and
north arrow, park markers and labels, and the orchestrator (drawing order, legends that
follow their layer, the opening view clear of the controls, the ready flag)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from branca.element import Element
from folium.template import Template

from parkgeo._maplayers import Verbatim, js_json

__all__ = ["HtmlControl", "MapExtras", "Orchestrator", "TitleBox"]


class HtmlControl(Verbatim):
    """A Leaflet control box holding ``html`` (built and escaped in Python); with
    ``by_year`` its content follows the year switcher (``control.pgSetYear(y)``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position_js }}});
        (function (ctrl) {
            var html = {{ this.html_js }}, byYear = {{ this.by_year_js }}, div = null;
            ctrl.onAdd = function () {
                div = L.DomUtil.create("div", {{ this.css_js }});
                div.innerHTML = html;
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctrl.pgSetYear = function (y) {
                if (byYear && byYear[y] !== undefined) {
                    html = byYear[y];
                    if (div) { div.innerHTML = html; }
                }
            };
        })({{ this.get_name() }});
        {%- if this.always %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        html: str,
        *,
        position: str = "bottomright",
        css: str = "pg-box",
        always: bool = True,
        by_year: dict[str, str] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "pg_control"
        self.html_js = js_json(html)
        self.position_js = js_json(position)
        self.css_js = js_json(css)
        self.by_year_js = js_json(by_year)
        self.always = always


class TitleBox(Verbatim):
    """Title, year and sub-title at the top of the map, with the year switcher when the map
    holds several years (``select.pg-year``: calls ``window.parkgeoSetYear``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var div = L.DomUtil.create("div", "pg-box pg-title");
            var byYear = {{ this.by_year_js }};
            div.innerHTML = {{ this.html_js }};
            L.DomEvent.disableClickPropagation(div);
            {{ this._parent.get_name() }}.getContainer().appendChild(div);
            var select = div.querySelector("select.pg-year");
            if (select) {
                select.addEventListener("change", function () { window.parkgeoSetYear(select.value); });
            }
            return {pgSetYear: function (y) {
                if (byYear && byYear[y] !== undefined) {
                    div.querySelector(".pg-title-text").innerHTML = byYear[y];
                }
                if (select) { select.value = y; }
            }};
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str, *, by_year: dict[str, str] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "pg_title"
        self.html_js = js_json(html)
        self.by_year_js = js_json(by_year)


class MapExtras(Verbatim):
    """Metric scale bar, north arrow, small-park markers, park and district names.

    Parks a few pixels across at the current zoom get a ring around them so they stay
    findable; park names show from zoom 11; district names up to zoom 11 where the district
    is large enough on screen to hold its name (while the districts layer is on). Names are
    HTML-escaped in Python.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var extras = {{ this.data_js }}, d = extras;
            L.control.scale({imperial: false, metric: true, position: "bottomleft"}).addTo(map);
            var north = L.control({position: "topleft"});
            north.onAdd = function () {
                var div = L.DomUtil.create("div", "pg-box pg-north");
                div.innerHTML = d.north + "<br>&#9650;";
                return div;
            };
            north.addTo(map);
            var rings = L.layerGroup().addTo(map), names = L.layerGroup(), dnames = L.layerGroup();
            d.parks.forEach(function (p) {
                names.addLayer(L.tooltip({permanent: true, direction: "right", offset: [8, 0],
                    className: "pg-park-name", interactive: false})
                    .setLatLng([p[0], p[1]]).setContent(p[2]));
            });
            function pixels(p) {
                var a = map.latLngToLayerPoint([p[3], p[4]]), b = map.latLngToLayerPoint([p[5], p[6]]);
                return Math.min(Math.abs(b.x - a.x), Math.abs(b.y - a.y));
            }
            var dlabels = d.districts.map(function (p) {
                return L.tooltip({permanent: true, direction: "center",
                    className: "pg-district-name", interactive: false})
                    .setLatLng([p[0], p[1]]).setContent(p[2]);
            });
            var districtLayer = {{ this.districts_layer.get_name() if this.districts_layer else "null" }};
            function update() {
                var z = map.getZoom();
                rings.clearLayers();
                d.parks.forEach(function (p) {
                    if (pixels(p) < 6) {  // a park of a few pixels: ring it so it is found
                        rings.addLayer(L.circleMarker([p[0], p[1]], {radius: 6, weight: 1.5,
                            color: "#333333", fill: false, interactive: false}));
                    }
                });
                dnames.clearLayers();
                d.districts.forEach(function (p, i) {
                    if (pixels(p) > 70) { dnames.addLayer(dlabels[i]); }  // room for its name
                });
                if (z >= 11) { names.addTo(map); } else { names.remove(); }
                var districtsOn = districtLayer === null || map.hasLayer(districtLayer);
                if (z <= 11 && districtsOn) { dnames.addTo(map); } else { dnames.remove(); }
            }
            map.on("zoomend overlayadd overlayremove", update);
            map.whenReady(update);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        parks: Sequence[Sequence[Any]],
        districts: Sequence[Sequence[Any]],
        north: str,
        districts_layer: Element | None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "pg_extras"
        self.data_js = js_json(
            {
                "parks": [list(p) for p in parks],
                "districts": [list(d) for d in districts],
                "north": north,
            }
        )
        self.districts_layer = districts_layer


class Orchestrator(Verbatim):
    """The page's last script: drawing order, legends that follow their layer, the opening
    view clear of the controls, the year switcher, ready flag.

    All vector layers share one canvas; Leaflet hit-tests it in drawing order, so after any
    layer is switched on the order is restored (districts at the back, then the park
    choropleth, then cluster hulls, enterprises on top). The opening view fits the parks
    into the part of the map the title, the layer control and the legends leave free.
    ``window.parkgeoSetYear(y)`` switches every year-aware layer, legend and the title;
    ``window.parkgeoReady`` becomes true on the first animation frame after everything is
    drawn (benchmarks and tests wait for it).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            map.attributionControl.setPrefix("Leaflet");
            var backToFront = [{% for l in this.order %}{{ l.get_name() }}{{ "," if not loop.last }}{% endfor %}];
            var legends = [{% for l, c in this.legends %}[{{ l.get_name() }}, {{ c.get_name() }}]{{ "," if not loop.last }}{% endfor %}];
            var yearAware = [{% for e in this.year_elements %}{{ e.get_name() }}{{ "," if not loop.last }}{% endfor %}];
            var bounds = {{ this.bounds_js }};
            function restack() {
                for (var i = backToFront.length - 1; i >= 0; i--) {
                    if (map.hasLayer(backToFront[i])) { backToFront[i].bringToBack(); }
                }
            }
            function syncLegends() {
                legends.forEach(function (pair) {
                    var on = map.hasLayer(pair[0]);
                    if (on && !pair[1].getContainer()) { pair[1].addTo(map); }
                    else if (on && !pair[1].getContainer().parentNode) { pair[1].addTo(map); }
                    else if (!on && pair[1].getContainer() && pair[1].getContainer().parentNode) {
                        pair[1].remove();
                    }
                });
            }
            function clearView() {
                // fit the parks where no control covers them
                if (!bounds) { return; }
                var box = map.getContainer().getBoundingClientRect();
                function rect(sel) {
                    var el = map.getContainer().querySelector(sel);
                    return el && el.offsetWidth ? el.getBoundingClientRect() : null;
                }
                var tl = rect(".leaflet-top.leaflet-left"), bl = rect(".leaflet-bottom.leaflet-left");
                var tr = rect(".leaflet-top.leaflet-right"), br = rect(".leaflet-bottom.leaflet-right");
                var title = rect(".pg-title");
                var left = 8, right = 8, top = 8;
                [tl, bl].forEach(function (r) { if (r) { left = Math.max(left, r.right - box.left + 8); } });
                [tr, br].forEach(function (r) { if (r) { right = Math.max(right, box.right - r.left + 8); } });
                if (title) { top = Math.max(top, title.bottom - box.top + 8); }
                if (box.width - left - right < 120) { left = right = 8; }
                map.fitBounds(bounds, {paddingTopLeft: [left, top], paddingBottomRight: [right, 8],
                                       animate: false});
            }
            map.on("overlayadd overlayremove baselayerchange", function () {
                restack();
                syncLegends();
            });
            window.parkgeoSetYear = function (y) {
                y = String(y);
                yearAware.forEach(function (e) { if (e && e.pgSetYear) { e.pgSetYear(y); } });
                window.parkgeoYear = y;
            };
            restack();
            syncLegends();
            clearView();
            window.parkgeoMap = map;
            window.parkgeoBounds = bounds;
            window.parkgeoLayers = backToFront;
            map.whenReady(function () {
                requestAnimationFrame(function () {
                    window.parkgeoReadyAt = performance.now();
                    window.parkgeoReady = true;
                    document.documentElement.setAttribute("data-parkgeo-ready", "1");
                });
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        order: Sequence[Element],
        legends: Sequence[tuple[Element, Element]],
        year_elements: Sequence[Element] = (),
        bounds: Sequence[Sequence[float]] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "pg_orchestrator"
        self.order = list(order)
        self.legends = list(legends)
        self.year_elements = list(year_elements)
        self.bounds_js = js_json(
            [[float(v) for v in corner] for corner in bounds] if bounds else None
        )
