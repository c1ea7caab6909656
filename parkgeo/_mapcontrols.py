"""Map controls: HTML boxes (legends, notes), the title, the year switcher, the scale and
north arrow, park markers and labels, and the orchestrator (drawing order, legends that
follow their layer, the opening view clear of the controls, the ready flag)."""

from __future__ import annotations

from collections.abc import Sequence

from branca.element import Element
from folium.template import Template

from parkgeo._maplayers import Verbatim, js_json

__all__ = ["HtmlControl", "Orchestrator", "TitleBox"]


class HtmlControl(Verbatim):
    """A Leaflet control box holding ``html`` (built and escaped in Python)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position_js }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", {{ this.css_js }});
            div.innerHTML = {{ this.html_js }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {%- if this.always %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self, html: str, *, position: str = "bottomright", css: str = "pg-box", always: bool = True
    ) -> None:
        super().__init__()
        self._name = "pg_control"
        self.html_js = js_json(html)
        self.position_js = js_json(position)
        self.css_js = js_json(css)
        self.always = always


class TitleBox(Verbatim):
    """Title, year and sub-title centred at the top of the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var div = L.DomUtil.create("div", "pg-box pg-title");
            div.innerHTML = {{ this.html_js }};
            L.DomEvent.disableClickPropagation(div);
            {{ this._parent.get_name() }}.getContainer().appendChild(div);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "pg_title"
        self.html_js = js_json(html)


class Orchestrator(Verbatim):
    """The page's last script: drawing order, legends that follow their layer, ready flag.

    All vector layers share one canvas; Leaflet hit-tests it in drawing order, so after any
    layer is switched on the order is restored (districts at the back, then the park
    choropleth, then cluster hulls, enterprises on top). ``window.parkgeoReady`` becomes
    true on the first animation frame after everything is drawn (benchmarks and tests wait
    for it).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            map.attributionControl.setPrefix("Leaflet");
            var backToFront = [{% for l in this.order %}{{ l.get_name() }}{{ "," if not loop.last }}{% endfor %}];
            var legends = [{% for l, c in this.legends %}[{{ l.get_name() }}, {{ c.get_name() }}]{{ "," if not loop.last }}{% endfor %}];
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
            map.on("overlayadd overlayremove baselayerchange", function () {
                restack();
                syncLegends();
            });
            restack();
            syncLegends();
            window.parkgeoMap = map;
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
    ) -> None:
        super().__init__()
        self._name = "pg_orchestrator"
        self.order = list(order)
        self.legends = list(legends)
