"""Rendering a map to its page: deterministic element ids, CDN links replaced by inlined
copies, anything else external refused (see ``docs/maps.md``)."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement

from parkgeo._assets import leaflet_assets, markercluster_assets
from parkgeo._errors import MissingAssetError

__all__ = ["render_html"]


_ID_LOCK = threading.Lock()


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


@contextmanager
def _sequential_new_ids() -> Iterator[None]:
    # Elements folium creates while rendering (e.g. the ``.addTo(map)`` statements) would
    # get random ids; give them sequential ones for the duration of the render.
    counter = iter(range(1, 10**9))
    original = Element.__dict__["_generate_id"]
    with _ID_LOCK:
        Element._generate_id = classmethod(lambda cls: f"r{next(counter):06d}")  # type: ignore[assignment,method-assign]
        try:
            yield
        finally:
            Element._generate_id = original  # type: ignore[method-assign]


def _prepare_copy(root: Figure) -> Figure:
    """A copy of the figure with stale render output removed and sequential element ids."""
    fig = copy.deepcopy(root)
    sections = {id(fig.header), id(fig.html), id(fig.script)}
    stale: set[str] = set()
    for el in _walk(fig):
        if id(el) in sections or el is fig:
            continue
        if isinstance(el, MacroElement):
            stale.add(el.get_name())
            stale.add(el.get_name() + "_add")
        for key in [k for k, v in el._children.items() if isinstance(v, ElementAddToElement)]:
            del el._children[key]
    for section in (fig.header, fig.html, fig.script):
        for key in [k for k in section._children if k in stale or k.endswith("_includes")]:
            del section._children[key]
    for n, el in enumerate(_walk(fig)):
        el._id = f"{n:06d}"
    return fig


_KNOWN_ASSETS = {
    "leaflet.js": ("leaflet", "js"),
    "leaflet.css": ("leaflet", "css"),
    "leaflet.markercluster.js": ("markercluster", "js"),
    "markercluster.css": ("markercluster", "css"),
    "markercluster.default.css": ("markercluster", "css_default"),
}


_EXTERNAL = re.compile(
    r"""<script[^>]*\ssrc=["']?(?P<js>(?:https?:)?//[^"'\s>]+)["']?[^>]*>\s*</script>"""
    r"""|<link[^>]*\shref=["']?(?P<css>(?:https?:)?//[^"'\s>]+)["']?[^>]*/?>""",
    re.I,
)


def _inline_external(html_text: str) -> str:
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        url = match.group("js") or match.group("css")
        filename = url.rsplit("/", 1)[-1].split("?")[0].lower()
        known = _KNOWN_ASSETS.get(filename)
        if known is None:
            missing.append(url)
            return match.group(0)
        lib, kind = known
        asset = leaflet_assets() if lib == "leaflet" else markercluster_assets()
        if kind == "js":
            return f"<script>{asset.js}</script>"
        if kind == "css_default":
            return ""  # markercluster_assets().css already holds both stylesheets
        return f"<style>{asset.css}</style>"

    out = _EXTERNAL.sub(replace, html_text)
    if missing:
        raise MissingAssetError(
            "the map links resources that parkgeo cannot inline for offline use: "
            + ", ".join(sorted(set(missing)))
            + "; build maps with parkgeo.maps functions (they need only Leaflet), or remove "
            "the folium plugin/marker that needs these files"
        )
    return out


def render_html(m: folium.Map) -> str:
    """The complete, offline HTML page of ``m``, identical for identical input.

    ``m`` itself is not changed: a copy is rendered, with element ids numbered in tree
    order instead of folium's random ones; CDN links to Leaflet or markercluster (from a
    plain folium map) are replaced by the inlined libraries.
    """
    fig = _prepare_copy(m.get_root())  # type: ignore[arg-type]
    with _sequential_new_ids():
        text = fig.render()
    return _inline_external(text)
