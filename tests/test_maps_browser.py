"""The saved maps in a real headless Chromium, with the network blocked.

Debian's ``chromium`` (``/usr/bin/chromium``) driven by Playwright for Python with
``executable_path`` (no ``playwright install``: nothing is downloaded). Each test starts a
fresh browser profile and routes every request that is not ``file://`` to abort, recording
it. Without Chromium or Playwright the tests skip locally and FAIL when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from parkgeo.maps import save_map

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("PARKGEO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 860}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api() -> Iterator[Any]:
    chromium = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not chromium:
        _unavailable("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright for Python is not installed (pip install '.[test]')")
    with sync_playwright() as api:
        api.parkgeo_chromium = chromium  # type: ignore[attr-defined]
        yield api


@dataclass
class Page:
    """A loaded map page and what it did."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def point_of(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self.page.evaluate(
            """([lat, lon]) => {
                const map = window.parkgeoMap;
                const p = map.latLngToContainerPoint([lat, lon]);
                const r = map.getContainer().getBoundingClientRect();
                return [p.x + r.left, p.y + r.top];
            }""",
            [lat, lon],
        )
        return float(x), float(y)

    def snapshot(self, name: str) -> None:
        """Keep the overlay canvas' pixels under ``name``."""
        self.page.evaluate(
            """(name) => {
                const c = document.querySelector('.leaflet-overlay-pane canvas');
                window['__img_' + name] = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            }""",
            name,
        )

    def changed(self, a: str, b: str) -> float:
        """Share of canvas pixels that differ visibly between two snapshots."""
        return float(
            self.page.evaluate(
                """([a, b]) => {
                    const x = window['__img_' + a], y = window['__img_' + b];
                    let n = 0;
                    for (let i = 0; i < x.length; i += 4) {
                        // premultiplied colour: transparent pixels compare equal
                        let d = Math.abs(x[i + 3] - y[i + 3]);
                        for (let j = 0; j < 3; j++) {
                            d += Math.abs(x[i + j] * x[i + 3] - y[i + j] * y[i + 3]) / 255;
                        }
                        if (d > 24) { n++; }
                    }
                    return n / (x.length / 4);
                }""",
                [a, b],
            )
        )

    def next_frame(self) -> None:
        self.page.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )


@pytest.fixture
def open_map(playwright_api: Any, tmp_path: Path) -> Iterator[Any]:
    contexts: list[Any] = []

    def load(path: Path, viewport: dict[str, int] | None = None) -> Page:
        context = playwright_api.chromium.launch_persistent_context(
            str(tmp_path / f"profile{len(contexts)}"),
            executable_path=playwright_api.parkgeo_chromium,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=viewport or VIEWPORT,
        )
        contexts.append(context)
        result = Page(context.new_page())

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith("file://"):
                r.continue_()
            else:
                result.requests.append(url)
                r.abort()

        context.route("**/*", route)
        result.page.add_init_script(
            "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"
        )
        result.page.on(
            "console",
            lambda m: result.errors.append(m.text) if m.type == "error" else None,
        )
        result.page.on("pageerror", lambda e: result.errors.append(str(e)))

        def on_dialog(d: Any) -> None:
            result.dialogs.append(d.message)
            d.dismiss()

        result.page.on("dialog", on_dialog)
        result.page.goto(path.as_uri())
        result.page.wait_for_function("window.parkgeoReady === true", timeout=30_000)
        return result

    yield load
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def fx() -> dict[str, Any]:
    from test_maps import make_fixture

    return make_fixture()


def _planner(fx: dict[str, Any], **kwargs: Any) -> Any:
    from test_maps import fixture_planner

    return fixture_planner(fx, **kwargs)


def test_planner_map_offline_layers_popup_and_hostile_names(
    fx: dict[str, Any], open_map: Any, tmp_path: Path
) -> None:
    path = save_map(_planner(fx), tmp_path / "planner.html")
    view = open_map(path)
    page = view.page

    # loads with no error and no request leaving the machine
    assert view.requests == []
    assert view.errors == []
    assert page.evaluate("typeof L") == "object"

    # the layer control toggles a layer: the canvas changes, and comes back when re-ticked
    view.snapshot("before")
    clusters_box = page.get_by_label("Industry concentrations")
    clusters_box.uncheck()
    view.next_frame()
    view.snapshot("without")
    assert view.changed("before", "without") > 1e-4  # the hulls' outlines went away
    assert page.locator(".pg-legend-title", has_text="Industry concentrations").count() == 0
    clusters_box.check()
    view.next_frame()
    view.snapshot("again")
    assert view.changed("before", "again") < 1e-5  # and came back, in the same order
    assert page.locator(".pg-legend-title", has_text="Industry concentrations").count() == 1

    # the enterprises (one canvas layer) go and come back too
    firms_box = page.get_by_label("Enterprises 2015, by industry")
    firms_box.uncheck()
    view.next_frame()
    view.snapshot("no_firms")
    assert view.changed("before", "no_firms") > 1e-4
    firms_box.check()
    view.next_frame()
    view.snapshot("firms_again")
    assert view.changed("before", "firms_again") < 1e-5

    # zooming in and out redraws without error
    page.evaluate(
        """() => new Promise(r => {
            const map = window.parkgeoMap;
            map.once('zoomend', () => {
                map.once('zoomend', () => r());
                map.setZoom(map.getZoom() - 2, {animate: false});
            });
            map.setZoom(map.getZoom() + 2, {animate: false});
        })"""
    )
    view.next_frame()
    view.snapshot("zoomed_back")
    assert view.changed("before", "zoomed_back") < 1e-5

    # switching the choropleth swaps its legend
    page.get_by_label("Energy per hectare (tce/ha)").check()
    view.next_frame()
    titles = page.locator(".pg-legend-title").all_inner_texts()
    assert "Energy per hectare" in titles and "Tax per hectare" not in titles
    page.get_by_label("Tax per hectare (10k CNY/ha)").check()
    view.next_frame()

    # clicking the park with the hostile name (away from its firms) opens its popup
    x, y = view.point_of(39.012, 117.012)
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5_000)
    text = popup.inner_text()
    assert "<img src=x onerror=alert(1)>" in text  # shown as text
    assert "Tax per hectare" in text and "+20.0%" in text
    assert "peers have it <img src=y onerror=alert(7)>" in text
    assert popup.locator("img, script").count() == 0
    # its trend charts (drawn in Python as SVG): tax per ha and energy per value added
    assert popup.locator("svg.pg-chart").count() == 2
    page.wait_for_timeout(300)  # the popup fades in
    page.screenshot(path=str(tmp_path / "planner_popup.png"))

    # the firm with a backtick and ${...} in its name is clickable and shown as text
    page.locator(".leaflet-popup-close-button").click()
    popup.wait_for(state="detached", timeout=5_000)
    x, y = view.point_of(39.05, 117.05)
    page.mouse.click(x, y)
    page.wait_for_function(
        "document.querySelector('.leaflet-popup-content') && "
        "document.querySelector('.leaflet-popup-content').innerText.includes('Li`s')",
        timeout=5_000,
    )
    firm = popup.inner_text()
    assert "Li`s ${document.title} <script>alert(4)</script>" in firm
    assert "Park: <img src=x onerror=alert(1)>" in firm

    # nothing hostile ran
    assert page.evaluate("window.__alerts") == []
    assert view.dialogs == []
    assert view.errors == []
    assert view.requests == []
    shot = tmp_path / "planner.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_chinese_map_renders_labels(fx: dict[str, Any], open_map: Any, tmp_path: Path) -> None:
    path = save_map(_planner(fx, lang="zh"), tmp_path / "planner_zh.html")
    view = open_map(path)
    control = view.page.locator(".leaflet-control-layers").inner_text()
    assert "地均税收 (万元/公顷)" in control and "行政区" in control
    assert view.page.locator(".pg-title h1").inner_text() == "产业园区地均税收与能耗（2015年）"
    assert view.errors == [] and view.requests == [] and view.dialogs == []
    view.page.screenshot(path=str(tmp_path / "planner_zh.png"))
    assert (tmp_path / "planner_zh.png").stat().st_size > 10_000


def test_tiles_are_requested_only_when_asked(
    fx: dict[str, Any], open_map: Any, tmp_path: Path
) -> None:
    path = save_map(_planner(fx, tiles="OpenStreetMap.Mapnik"), tmp_path / "tiles.html")
    view = open_map(path)
    view.page.wait_for_timeout(300)
    # the only requests are the basemap's tiles (blocked here: no network in tests)
    assert view.requests and all(
        u.startswith("https://tile.openstreetmap.org/") for u in view.requests
    )


# ------------------------------------------------------------------------------------------
# the demo's maps of the bundled sample, both languages
# ------------------------------------------------------------------------------------------

OVERLAPS = """() => {
    const map = window.parkgeoMap, b = window.parkgeoBounds;
    const r = map.getContainer().getBoundingClientRect();
    const p1 = map.latLngToContainerPoint([b[0][0], b[0][1]]);
    const p2 = map.latLngToContainerPoint([b[1][0], b[1][1]]);
    const parks = {left: r.left + Math.min(p1.x, p2.x), right: r.left + Math.max(p1.x, p2.x),
                   top: r.top + Math.min(p1.y, p2.y), bottom: r.top + Math.max(p1.y, p2.y)};
    const hits = [];
    document.querySelectorAll(".leaflet-control, .pg-title").forEach(el => {
        const c = el.getBoundingClientRect();
        if (c.width && c.height && !(c.right <= parks.left || c.left >= parks.right ||
                                     c.bottom <= parks.top || c.top >= parks.bottom)) {
            hits.push(el.className);
        }
    });
    return {hits: hits, inside: parks.left >= r.left && parks.right <= r.right &&
                                parks.top >= r.top && parks.bottom <= r.bottom};
}"""

TEXTS = """() => {
    const out = [document.body.innerText];
    const text = (html) => new DOMParser().parseFromString(String(html), "text/html").body.textContent;
    (window.parkgeoLayers || []).forEach(layer => layer.eachLayer(f => {
        if (f.getTooltip && f.getTooltip()) { out.push(text(f.getTooltip().getContent())); }
        if (f.getPopup && f.getPopup()) { out.push(text(f.getPopup().getContent())); }
    }));
    return out.join("\\n");
}"""

ALLOWED_ASCII = {"Leaflet", "parkgeo", "km", "GB"}


@pytest.fixture(scope="module")
def sample_maps(tmp_path_factory: Any) -> dict[str, Path]:
    from test_report import ANALYSIS_YEAR, analysis

    from parkgeo._commands.demo import _write_maps

    sa = analysis()
    out = tmp_path_factory.mktemp("sample_maps")
    written = _write_maps(
        sa["s"],
        sa["metrics"],
        out,
        year=ANALYSIS_YEAR,
        analysis={
            "assigned": sa["joined"].assigned,
            "clusters": sa["clusters"],
            "gaps": sa["gaps"],
        },
    )
    return {p.stem: p for p in written}


def test_every_sample_map_opens_offline_clear_of_its_controls(
    sample_maps: dict[str, Path], open_map: Any, tmp_path: Path
) -> None:
    import re

    assert len(sample_maps) == 8  # four maps, each in English and Chinese
    for name, path in sample_maps.items():
        sizes = [(1366, 768), (1920, 1080)] if "planner" in name else [(1366, 768)]
        for width, height in sizes:
            view = open_map(path, viewport={"width": width, "height": height})
            page = view.page
            assert view.requests == [] and view.errors == [], name
            found = page.evaluate(OVERLAPS)
            assert found["hits"] == [] and found["inside"], (name, width, found)
            shot = tmp_path / f"{name}_{width}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            if name.endswith("_zh") and width == 1366:
                # Chinese means Chinese: title, legends, layer control, notes, every
                # tooltip and popup of every layer
                words = set(re.findall(r"[A-Za-z][A-Za-z_]+", page.evaluate(TEXTS)))
                words = {w for w in words if w not in ALLOWED_ASCII}
                assert words == set(), (name, sorted(words)[:20])
            page.context.close()


def test_year_switcher_changes_the_choropleth_title_legend_and_popups(
    sample_maps: dict[str, Path], open_map: Any
) -> None:
    view = open_map(sample_maps["tianjin_planner_en"])
    page = view.page
    assert page.locator("select.pg-year").input_value() == "2016"
    # a legend folds away on its title and comes back
    legend = page.locator(".pg-legend").first
    legend.locator("summary").click()
    assert not legend.locator(".pg-row").first.is_visible()
    legend.locator("summary").click()
    assert legend.locator(".pg-row").first.is_visible()
    legend_2016 = page.locator(".pg-legend").first.inner_text()
    view.snapshot("y2016")
    page.select_option("select.pg-year", "2013")
    view.next_frame()
    view.snapshot("y2013")
    assert view.changed("y2016", "y2013") > 1e-4  # the parks changed colour
    assert "2013" in page.locator(".pg-title h1").inner_text()
    assert page.locator(".pg-legend").first.inner_text() != legend_2016  # counts of 2013
    # the status layer follows too, and a popup shows the year's figures
    page.get_by_label("Against the plan: Tax per hectare").check()
    view.next_frame()
    assert "Baseline year" in page.locator(".pg-legend").first.inner_text()
    page.evaluate(
        """() => window.parkgeoLayers.forEach(l => { if (window.parkgeoMap.hasLayer(l)) {
            l.eachLayer(f => { if (f.getPopup() && !window.__opened) {
                f.openPopup(); window.__opened = true; } }); } })"""
    )
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible", timeout=5_000)
    assert "<th>2013</th>" in popup.inner_html()
    assert popup.locator("svg.pg-chart").count() == 2
    assert view.errors == [] and view.requests == []
