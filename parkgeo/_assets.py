"""Offline JavaScript and CSS for the maps, read from PyPI packages that ship them.

folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so a saved folium page
is blank without network. parkgeo's maps need Leaflet only; its JavaScript and CSS come from
the ``xstatic-leaflet`` package (package data, installed with parkgeo) and are inlined into
every map, with the CSS's images turned into ``data:`` URIs. Nothing third-party is kept in
this repository.
"""

from __future__ import annotations

import base64
import functools
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

from parkgeo._errors import MissingAssetError

__all__ = ["Asset", "leaflet_assets", "markercluster_assets", "read_asset"]


@dataclass(frozen=True)
class Asset:
    """One inlinable library: its CSS and JavaScript text, and where they came from."""

    name: str
    version: str
    css: str
    js: str
    source: str


# pip distribution that provides each xstatic module
_PIP_NAMES = {
    "leaflet": "xstatic-leaflet",
    "leaflet_markercluster": "xstatic-leaflet-markercluster",
}

_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=\S*\s*$|/\*# sourceMappingURL=\S*\s*\*/", re.M)
_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|#)([^)'\"]+)\1\)")


def _package_dir(module: str) -> tuple[Path, str]:
    pip_name = _PIP_NAMES[module]
    try:
        pkg = importlib.import_module(f"xstatic.pkg.{module}")
    except ImportError as exc:
        raise MissingAssetError(
            f"the offline map needs {module.replace('_', '.')} JavaScript/CSS from the PyPI "
            f"package {pip_name}, which is not installed: run `pip install {pip_name}`"
        ) from exc
    return Path(pkg.BASE_DIR), str(getattr(pkg, "VERSION", "?"))


def read_asset(module: str, filename: str) -> str:
    """Text of ``filename`` inside the xstatic package ``module``.

    Raises
    ------
    MissingAssetError
        When the package or the file is missing; the message names the pip package.
    """
    base, _ = _package_dir(module)
    path = base / filename
    if not path.is_file():
        pip_name = _PIP_NAMES[module]
        raise MissingAssetError(
            f"{path} is missing from the installed {pip_name}: reinstall it with "
            f"`pip install --force-reinstall {pip_name}`"
        )
    return path.read_text(encoding="utf-8")


def _inline_css_urls(css: str, base: Path, module: str) -> str:
    def data_uri(match: re.Match[str]) -> str:
        target = base / match.group(2)
        if not target.is_file():
            raise MissingAssetError(
                f"{target} (referenced by the {module} CSS) is missing: reinstall "
                f"`pip install --force-reinstall {_PIP_NAMES[module]}`"
            )
        mime = "image/png" if target.suffix == ".png" else "application/octet-stream"
        payload = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:{mime};base64,{payload})"

    return _CSS_URL.sub(data_uri, css)


def _clean(text: str) -> str:
    # Source-map comments make browser dev tools fetch a file that is not there; and a
    # literal "</script" or "</style" would end the inline element early.
    text = _SOURCE_MAP.sub("", text)
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


@functools.cache
def leaflet_assets() -> Asset:
    """Leaflet's JavaScript and CSS (images inlined), from ``xstatic-leaflet``.

    Examples
    --------
    >>> asset = leaflet_assets()
    >>> asset.name, asset.version
    ('leaflet', '1.9.3')
    >>> "images/layers.png" in asset.css, "data:image/png;base64," in asset.css
    (False, True)
    """
    base, version = _package_dir("leaflet")
    css = _inline_css_urls(read_asset("leaflet", "leaflet.css"), base, "leaflet")
    js = read_asset("leaflet", "leaflet.js")
    return Asset("leaflet", version, _clean(css), _clean(js), _PIP_NAMES["leaflet"])


@functools.cache
def markercluster_assets() -> Asset:
    """Leaflet.markercluster's JavaScript and CSS, from ``xstatic-leaflet-markercluster``."""
    _, version = _package_dir("leaflet_markercluster")
    css = read_asset("leaflet_markercluster", "MarkerCluster.css") + read_asset(
        "leaflet_markercluster", "MarkerCluster.Default.css"
    )
    js = read_asset("leaflet_markercluster", "leaflet.markercluster.js")
    return Asset(
        "leaflet_markercluster",
        version,
        _clean(css),
        _clean(js),
        _PIP_NAMES["leaflet_markercluster"],
    )
