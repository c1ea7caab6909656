"""folium elements behind parkgeo's maps: an offline map and safe data layers.

This module imports folium at the top, so only :mod:`parkgeo.maps` imports it, inside its
functions (``parkgeo density`` never pays for folium).

Safety rules followed here (see ``docs/maps.md``):

* data reach JavaScript only through :func:`js_json`, which escapes ``<``, ``>``, ``&``, the
  backtick, ``$`` and U+2028/U+2029, so no value can close the ``<script>`` element, open a
  template literal or split a line;
* HTML shown in tooltips, popups and legends is built in Python with every input string
  passed through ``html.escape`` first; strings shown for enterprises are put into the page
  with ``textContent``, never ``innerHTML``;
* folium's ``Tooltip``/``Popup``/``GeoJsonTooltip`` are not used (they insert raw HTML or build
  it with ``innerHTML`` in the browser).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from parkgeo._assets import leaflet_assets

__all__ = [
    "DataScript",
    "FitView",
    "GeoJsonLayer",
    "OfflineMap",
    "PointLayer",
    "js_json",
]

# (character, JSON escape); str.replace per character is ~10x faster than str.translate
_JS_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("`", "\\u0060"),
    ("$", "\\u0024"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def js_json(obj: Any) -> str:
    """JSON text safe to embed in a ``<script>`` element and in any JavaScript context.

    The escaped characters only ever occur inside JSON strings, where ``\\uXXXX`` means the
    same character, so the value is unchanged.

    Examples
    --------
    >>> print(js_json({"name": "</script><img src=x onerror=alert(1)>`${x}`"}))
    {"name":"\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e\\u0060\\u0024{x}\\u0060"}
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escaped in _JS_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


PAGE_CSS = """
.leaflet-container { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC",
  "Noto Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif;
  background: #f4f3ef; }
.pg-box { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.3); font-size: 12px; line-height: 1.45; color: #222; }
.pg-legend { max-width: 330px; }
.pg-legend-title { font-weight: 600; font-size: 13px; }
.pg-legend-unit { color: #555; margin-bottom: 3px; }
.pg-row { display: flex; align-items: center; }
.pg-swatch { display: inline-block; width: 16px; height: 12px; margin-right: 6px; flex: none;
  border: 1px solid rgba(0,0,0,0.25); }
.pg-swatch.pg-dot { width: 11px; height: 11px; border-radius: 50%; }
.pg-count { color: #777; margin-left: 5px; }
.pg-note { color: #666; margin-top: 3px; white-space: normal; }
.pg-title { position: absolute; top: 10px; left: 56px; z-index: 800;
  max-width: min(640px, calc(100% - 420px)); min-width: 220px; pointer-events: auto; }
.pg-title h1 { font-size: 17px; margin: 0; font-weight: 600; }
.pg-title .pg-title-text div { color: #555; font-size: 11px; }
.pg-year-label { display: inline-block; margin-top: 3px; font-size: 12px; color: #333; }
.pg-year { font-size: 12px; margin-left: 4px; }
.pg-source { max-width: 260px; color: #444; font-size: 11px; }
.pg-legend { max-height: 42vh; overflow-y: auto; }
.pg-legend details > summary { cursor: pointer; list-style-position: outside; }
.pg-legend details:not([open]) > summary { margin-bottom: 0; }
.pg-north { text-align: center; font-weight: 700; font-size: 12px; line-height: 1.1;
  padding: 3px 6px; }
.pg-park-name { background: rgba(255,255,255,0.8); border: none; box-shadow: none;
  padding: 0 3px; font-size: 11px; color: #222; }
.pg-park-name::before { display: none; }
.pg-district-name { background: transparent; border: none; box-shadow: none;
  font-size: 12px; color: #6b6b6b; font-weight: 600; }
.pg-district-name::before { display: none; }
.pg-trend { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.pg-popup .leaflet-popup-content { font-size: 12px; line-height: 1.4; margin: 10px 14px; }
.pg-popup h3 { font-size: 14px; margin: 0 0 2px 0; }
.pg-popup .pg-sub { color: #666; margin-bottom: 4px; }
.pg-popup table { border-collapse: collapse; margin: 3px 0; }
.pg-popup th, .pg-popup td { padding: 1px 6px 1px 0; text-align: right; vertical-align: top; }
.pg-popup th:first-child, .pg-popup td:first-child { text-align: left; }
.pg-popup th { color: #555; font-weight: 600; border-bottom: 1px solid #ddd; }
.pg-popup ol, .pg-popup ul { margin: 2px 0 4px 0; padding-left: 18px; }
.pg-popup .pg-reason { color: #555; }
.pg-st-met { color: #1a7f37; font-weight: 600; }
.pg-st-on_track { color: #6a8f00; font-weight: 600; }
.pg-st-behind { color: #c2410c; font-weight: 600; }
.pg-st-no_data { color: #777; }
.leaflet-control-layers-base label, .leaflet-control-layers-overlays label { font-size: 12px; }
"""


class _Text(Element):
    """Text that renders as itself (never parsed as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Text"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class Verbatim(MacroElement):
    """A MacroElement whose rendered header/html/script go into the page verbatim.

    branca's ``MacroElement.render`` wraps each rendered macro in ``Element(text)``, which
    compiles the text as a Jinja template and renders it again: data containing ``{{``,
    ``{%`` or ``{#`` would be evaluated (template injection) or break the render, and
    compiling megabytes of data as a template takes seconds. Put it in as it is instead.
    """

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        assert isinstance(figure, Figure), "render the element inside a folium Map"
        module = self._template.module.__dict__
        for part, section in (
            ("header", figure.header),
            ("html", figure.html),
            ("script", figure.script),
        ):
            macro = module.get(part)
            if macro is not None:
                section.add_child(_Text(str(macro(self, kwargs))), name=self.get_name())
        # children after the element itself, as branca does (".addTo(map)" follows "var")
        for child in list(self._children.values()):
            child.render(**kwargs)
        return ""


class _InlineAssets(Element):
    """Leaflet's CSS and JavaScript, inlined into the page head, plus parkgeo's CSS.

    A plain :class:`~branca.element.Element` (not a MacroElement): it renders itself in place
    inside the figure header.
    """

    _template = Template(
        """<title>{{ this.title }}</title>
<style>{{ this.leaflet_css }}</style>
<style>{{ this.page_css }}</style>
<script>{{ this.leaflet_js }}</script>
"""
    )

    def __init__(self, title_text: str) -> None:
        super().__init__()
        self._name = "InlineAssets"
        asset = leaflet_assets()
        self.title = title_text  # already HTML-escaped by the caller
        self.leaflet_css = asset.css
        self.leaflet_js = asset.js
        self.page_css = PAGE_CSS


class OfflineMap(folium.Map):
    """A :class:`folium.Map` that links nothing: Leaflet is inlined, no jQuery/Bootstrap."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, *args: Any, page_title: str = "parkgeo map", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        root = self.get_root()
        assert isinstance(root, Figure)
        root.header.add_child(_InlineAssets(page_title), name="parkgeo_assets", index=0)


class FitView(Verbatim):
    """Fit the map to ``bounds`` at once, before any layer is added.

    folium's ``fit_bounds`` runs after the layers and animates the zoom, so the first frames
    show a scaled canvas and every feature is projected twice; this sets the final view
    first, without animation.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds_js }}, {animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: Sequence[Sequence[float]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "pg_fit"
        self.bounds_js = js_json([[float(v) for v in corner] for corner in bounds])


class DataScript(Verbatim):
    """``var <name> = <json>;``: data shared by several layers (encoded once, safely)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.payload }};
        {% endmacro %}
        """
    )

    def __init__(self, data: Any, *, name: str = "pg_data") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = name
        self.payload = js_json(data)


class GeoJsonLayer(Layer, Verbatim):
    """Polygons drawn from a :class:`DataScript` FeatureCollection with per-feature styles.

    Each feature carries only ``properties.i``, its position; styles, tooltips and popups
    are arrays indexed by it. Tooltip/popup strings are HTML already escaped in Python.
    ``by_year`` (``{"styles": {year: [...]}, "tips": {year: [...]}}``) and the source's
    ``years``/``charts`` let the year switcher restyle the layer (``layer.pgSetYear(y)``).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var styles = {{ this.styles }};
            var tips = {{ this.tooltips }};
            var byYear = {{ this.by_year }};
            {%- if this.popup_source %}
            var src = {{ this.popup_source.get_name() }};
            var popsByYear = src.years || null, charts = src.charts || null, gaps = src.gaps || null;
            var pops = src.popups || (popsByYear ? popsByYear[src.year] : null);
            {%- else %}
            var pops = {{ this.popups }}, popsByYear = null, charts = null, gaps = null;
            {%- endif %}
            function content(list, i) {
                return list[i] + (gaps && gaps[i] ? gaps[i] : "") + (charts && charts[i] ? charts[i] : "");
            }
            var layer = L.geoJSON({{ this.source.get_name() }}.fc, {
                interactive: {{ this.interactive }},
                bubblingMouseEvents: false,
                style: function (f) { return styles[f.properties.i]; },
                onEachFeature: function (f, layer) {
                    var i = f.properties.i;
                    if (tips && tips[i]) { layer.bindTooltip(tips[i], {sticky: true}); }
                    if (pops && pops[i]) {
                        layer.bindPopup(content(pops, i), {maxWidth: 440, maxHeight: 440, className: "pg-popup",
                            autoPanPaddingTopLeft: [60, 120], autoPanPaddingBottomRight: [60, 30]});
                        layer.on("popupopen", function () { layer.closeTooltip(); });
                    }
                }
            });
            // the year switcher: styles, tooltips and popups of another year
            layer.pgSetYear = function (y) {
                layer.eachLayer(function (f) {
                    var i = f.feature.properties.i;
                    if (byYear && byYear.styles[y]) { f.setStyle(byYear.styles[y][i]); }
                    if (byYear && byYear.tips[y] && f.getTooltip()) { f.setTooltipContent(byYear.tips[y][i]); }
                    if (popsByYear && popsByYear[y] && f.getPopup()) { f.setPopupContent(content(popsByYear[y], i)); }
                });
            };
            return layer;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        source: DataScript,
        *,
        name: str,
        styles: Sequence[dict[str, Any]],
        tooltips: Sequence[str] | None = None,
        popups: Sequence[str] | None = None,
        popup_source: DataScript | None = None,
        overlay: bool = True,
        show: bool = True,
        interactive: bool = True,
        by_year: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(name=name, overlay=overlay, show=show)
        self._name = "pg_polygons"
        self.by_year = js_json(by_year)
        self.source = source
        self.styles = js_json(list(styles))
        self.tooltips = js_json(list(tooltips) if tooltips is not None else None)
        self.popups = js_json(list(popups) if popups is not None else None)
        self.popup_source = popup_source
        self.interactive = "true" if interactive else "false"


class PointLayer(Layer, Verbatim):
    """Many points as ONE Leaflet layer drawn on the map's shared canvas.

    ``payload`` holds integer offsets ``x``/``y`` (units of 1e-5 degree from
    ``lon0``/``lat0``), a category index ``c`` per point, the category colours, and optional
    per-point text fields shown on click (put into the page with ``textContent``: never
    parsed as HTML).

    One :class:`L.Path` subclass draws every point (one canvas path per colour) and answers
    Leaflet's hit test from a grid of screen cells, so 120,000 firms cost one layer instead of
    120,000 ``L.circleMarker`` objects, and keep the canvas' drawing order and clicks.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var d = {{ this.payload }};
            var n = d.x.length, MAXLAT = 85.0511287798;
            // Web Mercator in units of the world (0..1), once
            var wx = new Float64Array(n), wy = new Float64Array(n);
            for (var i = 0; i < n; i++) {
                var lat = Math.max(Math.min(d.lat0 + d.y[i] / d.scale, MAXLAT), -MAXLAT);
                var sin = Math.sin(lat * Math.PI / 180);
                wx[i] = (d.lon0 + d.x[i] / d.scale + 180) / 360;
                wy[i] = 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI);
            }
            var byColour = d.colors.map(function () { return []; });
            for (i = 0; i < n; i++) { byColour[d.c[i]].push(i); }
            // the most common colour is painted first, so rarer industries stay visible
            var paintOrder = byColour.map(function (_, c) { return c; }).sort(function (a, b) {
                return byColour[b].length - byColour[a].length || a - b;
            });
            // colours as 32-bit pixels (opaque; the layer is composited at 85%)
            var little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
            var packed = d.colors.map(function (hex) {
                var v = parseInt(hex.slice(1), 16), r = v >> 16, g = (v >> 8) & 255, b = v & 255;
                return little ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
                              : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
            });

            var Cloud = L.Path.extend({
                options: {stroke: false, fill: true, interactive: true, bubblingMouseEvents: false},
                initialize: function (options) {
                    L.setOptions(this, options);
                    this._px = new Float64Array(n);
                    this._py = new Float64Array(n);
                    this._hit = -1;
                },
                latLngOf: function (i) {
                    return L.latLng(d.lat0 + d.y[i] / d.scale, d.lon0 + d.x[i] / d.scale);
                },
                _project: function () {
                    var map = this._map, zoom = map.getZoom();
                    var size = map.options.crs.scale(zoom), origin = map.getPixelOrigin();
                    var r = zoom <= 10 ? 2 : (zoom <= 12 ? 3 : 4);
                    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
                    for (var i = 0; i < n; i++) {
                        var x = wx[i] * size - origin.x, y = wy[i] * size - origin.y;
                        this._px[i] = x; this._py[i] = y;
                        if (x < x0) { x0 = x; } if (x > x1) { x1 = x; }
                        if (y < y0) { y0 = y; } if (y > y1) { y1 = y; }
                    }
                    this._r = r;
                    this._pxBounds = n ? L.bounds([x0 - r, y0 - r], [x1 + r, y1 + r]) : null;
                    this._grid = null;
                },
                _update: function () { if (this._map) { this._grid = null; this._updatePath(); } },
                _empty: function () { return n === 0; },
                _updatePath: function () {
                    // Drawing 100,000 arcs is slow (about 1 s a frame without a GPU), so the
                    // points are rasterised into an offscreen canvas once per view and then
                    // composited: redraws for hover, restacking or other layers cost one
                    // drawImage.
                    var rd = this._renderer;
                    if (!rd || !rd._drawing || !n) { return; }
                    var b = rd._bounds, box = rd._container;
                    var key = [this._map.getZoom(), b.min.x, b.min.y, box.width, box.height].join();
                    if (this._paintedFor !== key) {
                        this._paint(b, box.width, box.height);
                        this._paintedFor = key;
                    }
                    var ctx = rd._ctx;
                    ctx.save();
                    ctx.setTransform(1, 0, 0, 1, 0, 0);  // the clip of the redraw stays
                    ctx.globalAlpha = 0.85;
                    ctx.drawImage(this._sprite, 0, 0);
                    ctx.restore();
                },
                _paint: function (b, w, h) {
                    var ratio = w / Math.max(b.max.x - b.min.x, 1);
                    var off = this._sprite || (this._sprite = document.createElement("canvas"));
                    off.width = w; off.height = h;
                    var octx = off.getContext("2d");
                    var img = octx.createImageData(w, h), buf = new Uint32Array(img.data.buffer);
                    var R = Math.max(1, Math.round(this._r * ratio)), disc = [];
                    for (var dy = -R; dy <= R; dy++) {
                        for (var dx = -R; dx <= R; dx++) {
                            if (dx * dx + dy * dy <= R * R + R * 0.8) { disc.push(dy * w + dx); }
                        }
                    }
                    var px = this._px, py = this._py;
                    for (var o = 0; o < paintOrder.length; o++) {
                        var c = paintOrder[o], colour = packed[c], idx = byColour[c];
                        for (var k = 0; k < idx.length; k++) {
                            var j = idx[k];
                            var X = Math.round((px[j] - b.min.x) * ratio);
                            var Y = Math.round((py[j] - b.min.y) * ratio);
                            if (X < R || Y < R || X >= w - R || Y >= h - R) {
                                if (X < -R || Y < -R || X >= w + R || Y >= h + R) { continue; }
                                for (var e = -R; e <= R; e++) {  // near the edge: clip each pixel
                                    for (var f = -R; f <= R; f++) {
                                        var xx = X + f, yy = Y + e;
                                        if (xx >= 0 && yy >= 0 && xx < w && yy < h &&
                                            f * f + e * e <= R * R + R * 0.8) {
                                            buf[yy * w + xx] = colour;
                                        }
                                    }
                                }
                                continue;
                            }
                            var at = Y * w + X;
                            for (var q = 0; q < disc.length; q++) { buf[at + disc[q]] = colour; }
                        }
                    }
                    octx.putImageData(img, 0, 0);
                },
                _cell: 16,
                _buildGrid: function () {
                    // screen cells -> point indices, for the points in the renderer's view
                    var b = this._renderer._bounds, grid = new Map(), cell = this._cell;
                    for (var i = 0; i < n; i++) {
                        var x = this._px[i], y = this._py[i];
                        if (x < b.min.x || x > b.max.x || y < b.min.y || y > b.max.y) { continue; }
                        var key = Math.floor(x / cell) * 1048576 + Math.floor(y / cell);
                        var list = grid.get(key);
                        if (list) { list.push(i); } else { grid.set(key, [i]); }
                    }
                    this._grid = grid;
                },
                _containsPoint: function (p) {
                    if (!n) { return false; }
                    if (!this._grid) { this._buildGrid(); }
                    var cell = this._cell, cx = Math.floor(p.x / cell), cy = Math.floor(p.y / cell);
                    var limit = this._r + 2, best = -1, bestD = limit * limit;
                    for (var gx = cx - 1; gx <= cx + 1; gx++) {
                        for (var gy = cy - 1; gy <= cy + 1; gy++) {
                            var list = this._grid.get(gx * 1048576 + gy);
                            if (!list) { continue; }
                            for (var k = 0; k < list.length; k++) {
                                var j = list[k], dx = this._px[j] - p.x, dy = this._py[j] - p.y;
                                var dist = dx * dx + dy * dy;
                                if (dist <= bestD) { bestD = dist; best = j; }
                            }
                        }
                    }
                    this._hit = best;
                    return best >= 0;
                }
            });

            var layer = new Cloud();
            layer.on("click", function () {
                var i = layer._hit;
                if (i < 0) { return; }
                var box = document.createElement("div");
                d.fields.forEach(function (f) {
                    var v = f.values ? f.values[i] : null;
                    if (f.lookup) { v = (v === null || v < 0) ? f.missing : f.lookup[v]; }
                    if (v === null || v === undefined || v === "") { return; }
                    var row = document.createElement(f.bold ? "b" : "div");
                    row.textContent = (f.label ? f.label + ": " : "") + v;
                    box.appendChild(row);
                    if (f.bold) { box.appendChild(document.createElement("br")); }
                });
                L.popup({maxWidth: 320, className: "pg-popup"}).setLatLng(layer.latLngOf(i))
                    .setContent(box)
                    .openOn({{ this._parent.get_name() }});
            });
            return layer;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict[str, Any], *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, show=show)
        self._name = "pg_points"
        self.payload = js_json(payload)


# ------------------------------------------------------------------------------------------
# rendering: deterministic ids, offline check
# ------------------------------------------------------------------------------------------


# folium's CDN links that have a registry-provided offline copy
