"""HTML-level tests of the offline maps: layers, legends, class breaks, popups, escaping,
no network references, determinism, GCJ-02 display, errors and the ``parkgeo map`` command.

The fixture (``make_fixture``) is shared with ``test_maps_browser.py``.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from parkgeo._errors import CRSError, MissingAssetError, ParkgeoError, SchemaError
from parkgeo.maps import (
    cluster_map,
    density_map,
    gap_map,
    map_html,
    planner_map,
    save_map,
)

HOSTILE_PARK = "<img src=x onerror=alert(1)>"
BACKTICK_PARK = "West `${alert(2)}` Park"
SCRIPT_PARK = "Quiet </script><script>alert(3)</script> Zone"
HOSTILE_FIRM = "Li`s ${document.title} <script>alert(4)</script>"
HOSTILE_INDUSTRY = "Electronics <svg onload=alert(6)>"
HOSTILE_REASON = "peers have it <img src=y onerror=alert(7)>"
HOSTILE_DISTRICT = "Dist <b>bold</b> & co"

PARK_BOXES = {
    "P1": (117.00, 39.00, 117.10, 39.10),
    "P2": (117.20, 39.00, 117.30, 39.10),
    "P3": (117.00, 39.20, 117.10, 39.30),
    "P4": (117.20, 39.20, 117.30, 39.30),
}
PARK_NAMES = {"P1": HOSTILE_PARK, "P2": BACKTICK_PARK, "P3": "滨海高新区", "P4": SCRIPT_PARK}
TAX_2015 = {"P1": 10.0, "P2": 12.0, "P3": 50.0, "P4": 200.0}
# Fisher-Jenks with k=3 on 10, 12, 50, 200 groups {10, 12}, {50}, {200}
EXPECTED_BREAKS = [12.0, 50.0, 200.0]
STATUS_2015 = {"P1": "behind", "P2": "on track", "P3": "met", "P4": "met"}
CODES = ["C2710", "C3911", "F5110", "I6510"]


def make_fixture() -> dict[str, Any]:
    """Four parks with hostile names, two years of metrics, firms, a district, clusters, gaps."""
    parks = gpd.GeoDataFrame(
        {
            "park_id": list(PARK_BOXES),
            "name": [PARK_NAMES[p] for p in PARK_BOXES],
            "district": ["Binhai", "Xiqing", "Wuqing", "Jinnan"],
        },
        geometry=[box(*b) for b in PARK_BOXES.values()],
        crs="EPSG:4326",
    )
    rows = []
    for pid in PARK_BOXES:
        base_tax = TAX_2015[pid] / 1.2
        for year, tax in ((2013, base_tax), (2015, TAX_2015[pid])):
            later = year == 2015
            rows.append(
                {
                    "park_id": pid,
                    "name": PARK_NAMES[pid],
                    "year": year,
                    "n_enterprises": 10,
                    "area_ha": 1000.0,
                    "tax_per_ha": tax,
                    "energy_per_ha": 2.0 + list(PARK_BOXES).index(pid),
                    "energy_per_value_added": 0.40 - 0.05 * list(PARK_BOXES).index(pid),
                    "labour_productivity": 30.0,
                    "profit": 5000.0,
                    "suppressed": False,
                    "profit_change": 0.3 if later else 0.0,
                    "profit_progress": 0.6 if later else np.nan,
                    "profit_status": "on track" if later else "baseline",
                    "tax_per_ha_change": 0.2 if later else 0.0,
                    "tax_per_ha_progress": 0.4 if later else np.nan,
                    "tax_per_ha_status": STATUS_2015[pid] if later else "baseline",
                    "energy_per_value_added_change": -0.05 if later else 0.0,
                    "energy_per_value_added_progress": 0.33 if later else np.nan,
                    "energy_per_value_added_status": "behind" if later else "baseline",
                    "top_industries": "C27 (6); C39 (4)",
                }
            )
    for pid in ("ALL_PARKS", "ALL"):
        rows.append(
            {
                "park_id": pid,
                "name": pid,
                "year": 2015,
                "tax_per_ha": 68.0,
                "tax_per_ha_change": 0.2,
                "tax_per_ha_status": "on track",
                "energy_per_value_added_change": -0.05,
                "energy_per_value_added_status": "behind",
            }
        )
    metrics = pd.DataFrame(rows)

    rng = np.random.default_rng(7)
    firms = []
    for i in range(40):
        pid = list(PARK_BOXES)[i % 4]
        x0, y0, x1, y1 = PARK_BOXES[pid]
        outside = i % 10 == 9
        firms.append(
            {
                "enterprise_id": f"E{i:03d}",
                "name": HOSTILE_FIRM if i == 0 else f"Firm {i}\u2028line",
                "industry": CODES[i % len(CODES)],
                "lon": float(rng.uniform(x0 + 0.01, x1 - 0.01)) + (0.15 if outside else 0.0),
                "lat": float(rng.uniform(y0 + 0.01, y1 - 0.01)),
                "year": 2015,
                "park_id": None if outside else pid,
            }
        )
    enterprises = pd.DataFrame(firms)
    # the hostile firm sits at a known place inside P1
    enterprises.loc[0, ["lon", "lat"]] = [117.05, 39.05]
    districts = gpd.GeoDataFrame(
        {"name": [HOSTILE_DISTRICT]}, geometry=[box(116.9, 38.9, 117.5, 39.4)], crs="EPSG:4326"
    )
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": [0, 1],
            "industry": ["C27", "F51"],
            "n_firms": [12, 30],
            "share_in_parks": [0.5, 0.9],
            "park_ids": ["P1", "P2,P1"],
            "hull_area_ha": [100.0, 2000.0],
            "year": [2015, 2015],
        },
        geometry=[box(117.21, 39.21, 117.25, 39.25), box(117.21, 39.01, 117.28, 39.08)],
        crs="EPSG:4326",
    )
    gaps = pd.DataFrame(
        {
            "park_id": ["P1", "P1", "P2", "P3"],
            "rank": [2, 1, 1, 1],
            "industry": ["C39", "C35", "C27", "C26"],
            "industry_name": ["计算机电子", "专用设备", "医药制造业", "化学原料"],
            "industry_name_en": [HOSTILE_INDUSTRY, "Special machinery", "Medicines", "Chemicals"],
            "score": [0.5, 0.8, 0.6, 0.3],
            "reason": [HOSTILE_REASON, "related industries present", "2 of 3 peers have it", "x"],
            "reason_zh": ["同类园区具备", "相关产业已有", "同类园区具备", "x"],
            "no_sei": [False, False, False, True],
        }
    )
    return {
        "parks": parks,
        "metrics": metrics,
        "enterprises": enterprises,
        "districts": districts,
        "clusters": clusters,
        "gaps": gaps,
    }


def fixture_planner(fx: dict[str, Any], **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "enterprises": fx["enterprises"],
        "districts": fx["districts"],
        "clusters": fx["clusters"],
        "gaps": fx["gaps"],
        "year": 2015,
        "k": 3,
        "visible": ("districts", "enterprises", "clusters"),
    }
    options.update(kwargs)
    return planner_map(fx["parks"], fx["metrics"], **options)


@pytest.fixture(scope="module")
def fx() -> dict[str, Any]:
    return make_fixture()


@pytest.fixture(scope="module")
def page(fx: dict[str, Any]) -> str:
    return map_html(fixture_planner(fx))


# ------------------------------------------------------------------------------------------
# helpers that read the page back
# ------------------------------------------------------------------------------------------


def layer_control(html: str) -> tuple[list[str], list[str]]:
    """Names of the base layers and overlays in the layer control."""
    block = re.search(r"base_layers : \{(.*?)\},\s*overlays :\s*\{(.*?)\},", html, re.S)
    assert block, "no layer control in the page"

    def names(text: str) -> list[str]:
        return [json.loads(m) for m in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', text)]

    return names(block.group(1)), names(block.group(2))


def control_htmls(html: str) -> list[str]:
    """HTML of every legend/title control, decoded from its JSON string."""
    found = re.findall(r'(?:div\.innerHTML|var html) = ("(?:[^"\\]|\\.)*")[;,]', html)
    out = []
    for text in (json.loads(m) for m in found):
        # the title box: title and sub-title, then the year switcher
        m = re.match(
            r'<div class="pg-title-text">(.*?)</div>(<label class="pg-year-label">.*)?$', text, re.S
        )
        out.append(m.group(1) if m else text)
    return out


def data_scripts(html: str, prefix: str) -> list[Any]:
    found = re.findall(rf"var {prefix}_\d+ = (.*?);\n", html)
    return [json.loads(text) for text in found]


def popups_of(parks: dict[str, Any]) -> list[str]:
    """Each park's popup as the page shows it in the year the map opens: over several years
    the year's popup and the park's missing industries are kept apart and joined."""
    if "popups" in parks:
        return list(parks["popups"])
    gaps = parks.get("gaps") or [""] * len(parks["years"][parks["year"]])
    return [p + g for p, g in zip(parks["years"][parks["year"]], gaps, strict=True)]


def point_payload(html: str) -> dict[str, Any]:
    found = re.findall(r"var d = (\{.*?\});\n", html)
    assert len(found) == 1
    return dict(json.loads(found[0]))


def legend_with_title(html: str, title: str) -> str:
    hits = [h for h in control_htmls(html) if f'pg-legend-title">{title}<' in h]
    assert len(hits) == 1, f"expected one legend titled {title!r}, found {len(hits)}"
    return hits[0]


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action") and value:
                self.refs.append((tag, name, value))
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


# ------------------------------------------------------------------------------------------
# layers, legends, class breaks, popups
# ------------------------------------------------------------------------------------------


def test_layer_control_lists_choropleths_as_base_layers_and_overlays(page: str) -> None:
    base, overlays = layer_control(page)
    assert base == [
        "Tax per hectare (10k CNY/ha)",
        "Energy per hectare (tce/ha)",
        "Energy per unit of value added (tce per 10k CNY)",
        "Against the plan: Tax per hectare",
        "Against the plan: Energy per unit of value added",
    ]
    assert overlays == ["Districts", "Industry concentrations", "Enterprises 2015, by industry"]


def test_tax_legend_has_units_scheme_and_fisher_jenks_breaks(page: str) -> None:
    legend = legend_with_title(page, "Tax per hectare")
    assert "10k CNY/ha · natural breaks, 3 classes" in legend
    rows = re.findall(r'</i>([^<]*)<span class="pg-count">\((\d+)\)', legend)
    # the breaks are over every year's values (a colour means the same in every year); the
    # counts are the year's
    assert rows == [("8.33 – 12.0", "2"), ("12.0 – 50.0", "1"), ("50.0 – 200", "1")]


def test_each_choropleth_has_its_own_legend_with_units(page: str) -> None:
    assert "tce/ha" in legend_with_title(page, "Energy per hectare")
    assert "tce per 10k CNY" in legend_with_title(page, "Energy per unit of value added")
    progress = legend_with_title(page, "Against the plan: Tax per hectare")
    counts = dict(re.findall(r"</i>([^<]*)<span class=\"pg-count\">\((\d+)\)", progress))
    assert counts == {"Met": "2", "On track": "1", "Behind": "1"}
    sections = legend_with_title(page, "Enterprises by industry")
    assert "C Manufacturing" in sections and "(20)" in sections  # 20 firms in C27/C39


def test_choropleth_colours_follow_the_classes(page: str) -> None:
    from branca.utilities import color_brewer

    ramp = color_brewer("YlGnBu", 3)
    styles = [json.loads(m) for m in re.findall(r"var styles = (\[.*?\]);\n", page)]
    tax_styles = styles[1]  # districts come first
    assert [s["fillColor"] for s in tax_styles] == [ramp[0], ramp[0], ramp[1], ramp[2]]


def test_park_popup_holds_figures_change_progress_industries_and_gaps(page: str) -> None:
    (parks,) = data_scripts(page, "pg_parks")
    assert [f["properties"]["i"] for f in parks["fc"]["features"]] == [0, 1, 2, 3]
    p1 = popups_of(parks)[0]
    assert "<h3>&lt;img src=x onerror=alert(1)&gt;</h3>" in p1
    assert "P1 · Binhai · 1,000 ha · Enterprises 10" in p1
    assert "<th>Change since 2013</th>" in p1
    assert "<td>10.0</td><td>+20.0%</td>" in p1  # tax per ha 2015 and its change
    assert '40% <span class="pg-st-behind">Behind</span>' in p1
    assert "C27 Manufacture of medicines (6 firms)" in p1
    # missing clusters in rank order, names and reasons escaped
    first, second = p1.index("C35 Special machinery"), p1.index("C39 Electronics")
    assert first < second
    assert "Electronics &lt;svg onload=alert(6)&gt;" in p1
    assert "peers have it &lt;img src=y onerror=alert(7)&gt;" in p1
    p3 = popups_of(parks)[2]
    assert "No strategic emerging industry" in p3


def test_enterprise_points_are_compact_and_carry_text_fields(page: str) -> None:
    payload = point_payload(page)
    assert len(payload["x"]) == len(payload["y"]) == len(payload["c"]) == 40
    assert payload["scale"] == 100_000
    lon = payload["lon0"] + np.asarray(payload["x"]) / payload["scale"]
    assert lon[0] == pytest.approx(117.05, abs=1e-5)
    names = payload["fields"][0]["values"]
    assert names[0] == HOSTILE_FIRM  # decoded intact; shown with textContent in the browser
    parks_field = payload["fields"][2]
    assert parks_field["missing"] == "outside parks"
    assert parks_field["lookup"][parks_field["values"][0]] == HOSTILE_PARK
    assert parks_field["values"][9] == -1  # firm 9 lies outside the parks


def test_title_year_and_source_note(page: str) -> None:
    controls = control_htmls(page)
    titles = [h for h in controls if h.startswith("<h1>")]
    assert titles == [
        "<h1>Industrial parks: tax and energy per hectare, 2015</h1>"
        "<div>2015 vs 2013: Tax per hectare (enterprises in parks) +20.0% (on track) · "
        "Energy per unit of value added (all enterprises) -5.00% (behind)</div>"
    ]
    notes = [h for h in controls if h.startswith("Data:")]
    assert notes == [
        "Data: enterprise records placed in park boundaries; computed with parkgeo<br>"
        "No basemap: the map works offline"
    ]
    assert "<title>Industrial parks: tax and energy per hectare, 2015</title>" in page


def test_title_and_source_note_are_escaped(fx: dict[str, Any]) -> None:
    html = map_html(fixture_planner(fx, title="<b>T</b>", source_note="Data: <i>bureau</i>"))
    controls = control_htmls(html)
    assert any(h.startswith("<h1>&lt;b&gt;T&lt;/b&gt;</h1>") for h in controls)
    assert any(h.startswith("Data: &lt;i&gt;bureau&lt;/i&gt;") for h in controls)
    assert "<title>&lt;b&gt;T&lt;/b&gt;</title>" in html
    assert 'class=\\"pg-year\\"' in html  # a title of one's own keeps the year switcher


def test_chinese_labels(fx: dict[str, Any]) -> None:
    html = map_html(fixture_planner(fx, lang="zh"))
    base, overlays = layer_control(html)
    assert base[0] == "地均税收 (万元/公顷)"
    assert base[2] == "单位增加值能耗 (吨标准煤/万元)"
    assert overlays == ["行政区", "产业集聚区", "企业（2015年，按行业）"]
    (parks,) = data_scripts(html, "pg_parks")
    assert "较2013年变化" in popups_of(parks)[0]
    assert "同类园区具备" in popups_of(parks)[0]  # reason_zh
    assert "自然断点法，3级" in legend_with_title(html, "地均税收")


def test_quantiles_and_userdefined_schemes(fx: dict[str, Any]) -> None:
    html = map_html(fixture_planner(fx, scheme="quantiles", k=2))
    assert "equal counts, 2 classes" in legend_with_title(html, "Tax per hectare")
    bins = {"tax_per_ha": [20, 100], "energy_per_ha": [3], "energy_per_value_added": [0.3]}
    html = map_html(fixture_planner(fx, scheme="userdefined", bins=bins))
    legend = legend_with_title(html, "Tax per hectare")
    rows = re.findall(r'</i>([^<]*)<span class="pg-count">\((\d+)\)', legend)
    assert rows == [("8.33 – 20.0", "2"), ("20.0 – 100", "1"), ("100 – 200", "1")]


def test_suppressed_money_figures_show_as_suppressed(fx: dict[str, Any]) -> None:
    metrics = fx["metrics"].copy()
    hide = (metrics["park_id"] == "P4") & (metrics["year"] == 2015)
    metrics.loc[hide, "suppressed"] = True
    metrics.loc[hide, "tax_per_ha"] = np.nan
    html = map_html(planner_map(fx["parks"], metrics, year=2015, k=3))
    (parks,) = data_scripts(html, "pg_parks")
    assert "hidden (too few firms to publish)" in popups_of(parks)[3]
    legend = legend_with_title(html, "Tax per hectare")
    assert "No data" in legend


# ------------------------------------------------------------------------------------------
# safety
# ------------------------------------------------------------------------------------------


def test_no_input_string_reaches_the_page_raw(page: str) -> None:
    for payload in (HOSTILE_PARK, SCRIPT_PARK, HOSTILE_FIRM, HOSTILE_INDUSTRY, HOSTILE_REASON):
        assert payload not in page
    assert "<img" not in page and "<svg onload" not in page
    assert "<b>bold</b>" not in page
    # nothing can open or break a template literal or split a line
    assert "`" not in page and "${" not in page
    assert "\u2028" not in page and "\u2029" not in page
    # every </script> closes a <script>: none comes from data
    assert page.count("</script>") == page.count("<script>")


def test_template_syntax_in_names_is_not_evaluated(fx: dict[str, Any]) -> None:
    # folium/branca parse rendered output as a Jinja template again: a name holding
    # "{{ ... }}" would be evaluated (template injection) or "{% raw %}" would break the render
    parks = fx["parks"].copy()
    parks.loc[0, "name"] = "Park {{ 7*7 }} {% raw %} {# x"
    firms = fx["enterprises"].copy()
    firms.loc[0, "name"] = "{{ cycler.__init__.__globals__.os }}"
    html = map_html(
        fixture_planner({**fx, "parks": parks, "enterprises": firms}, title="{{ 6*7 }}")
    )
    (park_data,) = data_scripts(html, "pg_parks")
    assert "<h3>Park {{ 7*7 }} {% raw %} {# x</h3>" in popups_of(park_data)[0]
    assert point_payload(html)["fields"][0]["values"][0] == "{{ cycler.__init__.__globals__.os }}"
    assert any(h.startswith("<h1>{{ 6*7 }}</h1>") for h in control_htmls(html))
    metrics = fx["metrics"].assign(**{"x{{ 6*7 }}": 1.0})
    html = map_html(density_map(fx["parks"], metrics, measure="x{{ 6*7 }}", k=2))
    base, _ = layer_control(html)
    assert base == ["x&#123;&#123; 6*7 &#125;&#125; ()"]


def test_escaped_names_round_trip_as_text(page: str) -> None:
    (districts,) = data_scripts(page, "pg_districts")
    tips = [json.loads(m) for m in re.findall(r"var tips = (\[.*?\]);\n", page)][0]
    assert tips == ["Dist &lt;b&gt;bold&lt;/b&gt; &amp; co"]
    assert len(districts["fc"]["features"]) == 1


def test_no_network_resource_references(fx: dict[str, Any], page: str) -> None:
    parser = _Resources()
    parser.feed(page)
    external = [r for r in parser.refs if re.match(r"\s*(https?:)?//", r[2], re.I)]
    assert external == []
    assert not any(re.search(r"url\(\s*['\"]?\s*(https?:)?//", s, re.I) for s in parser.styles)
    assert "cdn.jsdelivr" not in page and "code.jquery" not in page
    assert "sourceMappingURL" not in page
    # Leaflet is inlined: the page defines L itself
    assert "Leaflet 1.9.3" in page


def test_tiles_are_off_by_default_and_a_provider_is_noted(fx: dict[str, Any]) -> None:
    assert "L.tileLayer" not in map_html(fixture_planner(fx))
    html = map_html(fixture_planner(fx, tiles="OpenStreetMap.Mapnik"))
    assert "L.tileLayer" in html and "tile.openstreetmap.org" in html
    assert any(
        "Basemap tiles from OpenStreetMap.Mapnik load over the internet" in h
        for h in control_htmls(html)
    )
    _, overlays = layer_control(html)
    assert overlays[0] == "OpenStreetMap.Mapnik"


def test_gcj02_basemap_converts_every_drawn_geometry(fx: dict[str, Any]) -> None:
    from parkgeo.coords import wgs84_to_gcj02

    plain = map_html(fixture_planner(fx))
    gaode = map_html(fixture_planner(fx, tiles="Gaode.Normal"))
    (p_plain,) = data_scripts(plain, "pg_parks")
    (p_gcj,) = data_scripts(gaode, "pg_parks")
    ring_plain = np.asarray(p_plain["fc"]["features"][0]["geometry"]["coordinates"][0])
    ring_gcj = np.asarray(p_gcj["fc"]["features"][0]["geometry"]["coordinates"][0])
    elon, elat = wgs84_to_gcj02(ring_plain[:, 0], ring_plain[:, 1])
    np.testing.assert_allclose(ring_gcj[:, 0], elon, atol=2e-5)
    np.testing.assert_allclose(ring_gcj[:, 1], elat, atol=2e-5)
    assert (ring_gcj[:, 0] - ring_plain[:, 0]).mean() > 0.004  # ~500 m east in Tianjin
    for prefix in ("pg_districts", "pg_clusters"):
        (a,) = data_scripts(plain, prefix)
        (b,) = data_scripts(gaode, prefix)
        assert a["fc"] != b["fc"]
    pts_plain, pts_gcj = point_payload(plain), point_payload(gaode)
    lon_plain = pts_plain["lon0"] + pts_plain["x"][0] / 1e5
    lon_gcj = pts_gcj["lon0"] + pts_gcj["x"][0] / 1e5
    assert lon_gcj - lon_plain == pytest.approx(
        float(wgs84_to_gcj02(117.05, 39.05)[0]) - 117.05, abs=2e-5
    )


# ------------------------------------------------------------------------------------------
# determinism, saving
# ------------------------------------------------------------------------------------------


def test_same_input_gives_the_same_bytes(fx: dict[str, Any], tmp_path: Path) -> None:
    first = save_map(fixture_planner(fx), tmp_path / "a.html").read_bytes()
    m = fixture_planner(fx)
    second = save_map(m, tmp_path / "b.html").read_bytes()
    third = save_map(m, tmp_path / "c.html").read_bytes()  # saving twice changes nothing
    assert first == second == third
    assert re.search(rb"_[0-9a-f]{32}\b", first) is None  # no random folium ids left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html", "c.html"]


def test_rendering_does_not_change_the_map(fx: dict[str, Any]) -> None:
    m = fixture_planner(fx)
    before = m._id
    assert map_html(m) == map_html(m)
    assert m._id == before


def test_save_map_replaces_atomically(fx: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "maps" / "planner.html"
    save_map(fixture_planner(fx), target)
    save_map(density_map(fx["parks"], fx["metrics"], k=2), target)
    text = target.read_text(encoding="utf-8")
    assert "Tax per hectare by park, 2015" in text
    assert [p.name for p in target.parent.iterdir()] == ["planner.html"]


def test_plain_folium_maps_are_inlined_or_refused(tmp_path: Path) -> None:
    import folium

    plain = folium.Map(location=[39.1, 117.2], tiles=None)
    with pytest.raises(MissingAssetError, match="code.jquery.com"):
        map_html(plain)

    class LeafletOnly(folium.Map):
        default_js = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")]
        default_css = [
            ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")
        ]

    html = map_html(LeafletOnly(location=[39.1, 117.2], tiles=None))
    assert "cdn.jsdelivr" not in html and "Leaflet 1.9.3" in html


def test_missing_asset_names_the_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from parkgeo import _assets

    real = importlib.import_module

    def fake(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "xstatic.pkg.leaflet":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    _assets.leaflet_assets.cache_clear()
    monkeypatch.setattr(_assets.importlib, "import_module", fake)
    try:
        with pytest.raises(MissingAssetError, match="pip install xstatic-leaflet"):
            _assets.leaflet_assets()
    finally:
        monkeypatch.undo()
        _assets.leaflet_assets.cache_clear()


# ------------------------------------------------------------------------------------------
# scale budget
# ------------------------------------------------------------------------------------------


def test_point_budget_and_subset(fx: dict[str, Any]) -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    firms = pd.DataFrame(
        {
            "enterprise_id": [f"E{i}" for i in range(n)],
            "name": [f"天津市某某科技有限公司{i}" for i in range(n)],
            "industry": rng.choice(CODES, n),
            "lon": rng.uniform(116.9, 117.5, n),
            "lat": rng.uniform(38.9, 39.4, n),
            "year": 2015,
        }
    )
    html = map_html(planner_map(fx["parks"], fx["metrics"], enterprises=firms, k=3))
    size = len(html.encode("utf-8"))
    base = len(map_html(planner_map(fx["parks"], fx["metrics"], k=3)).encode("utf-8"))
    # budget: under 100 bytes per firm with a 14-character Chinese name (15 MB at 150,000)
    assert (size - base) / n < 100
    sub = map_html(planner_map(fx["parks"], fx["metrics"], enterprises=firms, k=3, max_points=500))
    assert len(point_payload(sub)["x"]) == 500
    assert any("Showing 500 of 20,000 enterprises" in h for h in control_htmls(sub))


# ------------------------------------------------------------------------------------------
# single-purpose maps
# ------------------------------------------------------------------------------------------


def test_density_map_one_measure_with_progress(fx: dict[str, Any]) -> None:
    html = map_html(
        density_map(
            fx["parks"], fx["metrics"], measure="tax_per_ha", k=3, districts=fx["districts"]
        )
    )
    base, overlays = layer_control(html)
    assert base == ["Tax per hectare (10k CNY/ha)", "Against the plan: Tax per hectare"]
    assert overlays == ["Districts"]
    assert "natural breaks, 3 classes" in legend_with_title(html, "Tax per hectare")


def test_cluster_map_filters_industries(fx: dict[str, Any]) -> None:
    html = map_html(
        cluster_map(
            fx["clusters"], enterprises=fx["enterprises"], parks=fx["parks"], industries=["C27"]
        )
    )
    (hulls,) = data_scripts(html, "pg_clusters")
    assert len(hulls["fc"]["features"]) == 1
    pops = [json.loads(m) for m in re.findall(r"var pops = (\[.*?\])[;,]", html)]
    assert any("C27 Manufacture of medicines" in p for group in pops if group for p in group)
    assert len(point_payload(html)["x"]) == 10  # the C2710 firms


def test_gap_map_colours_by_best_gap_and_flags_no_sei(fx: dict[str, Any]) -> None:
    html = map_html(
        gap_map(fx["parks"], fx["gaps"], metrics=fx["metrics"], clusters=fx["clusters"], k=2)
    )
    all_styles = [json.loads(m) for m in re.findall(r"var styles = (\[.*?\]);\n", html)]
    styles = [s for s in all_styles if len(s) == len(fx["parks"])][0]  # after the extent frame
    assert styles[2]["weight"] == 3.5 and styles[2]["color"] == "#c62828"  # P3: no SEI
    assert styles[3]["fillColor"] == "#d9d9d9"  # P4 has no gap listed
    tips = [json.loads(m) for m in re.findall(r"var tips = (\[.*?\]);\n", html)][0]
    assert "C35 Manufacture of special-purpose machinery" in tips[0]  # rank 1 first
    assert "0.8" not in tips[0]  # no score for a planner: the legend says weak ... strong
    assert "How strongly a missing industry is indicated" in html


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------


def test_bad_input_gets_clear_errors(fx: dict[str, Any]) -> None:
    parks, metrics = fx["parks"], fx["metrics"]
    with pytest.raises(CRSError, match="no CRS"):
        planner_map(parks.set_crs(None, allow_override=True), metrics)
    with pytest.raises(
        ParkgeoError, match=r"year 2020 is not in the metrics \(years present: 2013, 2015\)"
    ):
        planner_map(parks, metrics, year=2020)
    with pytest.raises(ParkgeoError, match="scheme must be one of"):
        planner_map(parks, metrics, scheme="jenks")
    with pytest.raises(ParkgeoError, match="needs bins for every mapped measure"):
        planner_map(parks, metrics, scheme="userdefined", bins={"tax_per_ha": [1, 2]})
    with pytest.raises(ParkgeoError, match="unknown basemap tiles 'NoSuchTiles'"):
        planner_map(parks, metrics, tiles="NoSuchTiles")
    with pytest.raises(SchemaError, match="metrics lack"):
        planner_map(parks, metrics.drop(columns="energy_per_ha"))
    with pytest.raises(ParkgeoError, match="lang must be one of"):
        planner_map(parks, metrics, lang="fr")
    with pytest.raises(SchemaError, match="park_id"):
        planner_map(parks.drop(columns="park_id"), metrics)


def test_projected_parks_are_reprojected(fx: dict[str, Any]) -> None:
    projected = fx["parks"].to_crs("EPSG:32650")
    (a,) = data_scripts(map_html(planner_map(projected, fx["metrics"], k=3)), "pg_parks")
    (b,) = data_scripts(map_html(planner_map(fx["parks"], fx["metrics"], k=3)), "pg_parks")
    ra = np.asarray(a["fc"]["features"][0]["geometry"]["coordinates"][0])
    rb = np.asarray(b["fc"]["features"][0]["geometry"]["coordinates"][0])
    np.testing.assert_allclose(ra, rb, atol=2e-5)


def test_fisher_jenks_matches_mapclassify() -> None:
    import warnings

    import mapclassify

    from parkgeo._legend import fisher_jenks_bins

    rng = np.random.default_rng(3)
    for n, k in ((12, 3), (33, 5), (120, 7)):
        y = rng.lognormal(size=n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mapclassify warns that numba is absent
            expected = mapclassify.FisherJenks(y, k=k).bins
        np.testing.assert_allclose(fisher_jenks_bins(y, k), expected)


@pytest.mark.parametrize("seed", range(40))
def test_quantiles_and_equal_interval_match_mapclassify(seed: int) -> None:
    import warnings

    import mapclassify

    from parkgeo._classes import _equal_interval_bins, _quantile_bins

    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 400))
    y = rng.lognormal(size=n) * 10.0 ** rng.integers(-3, 6)
    if seed % 3 == 0:
        y = np.round(y, 1)  # repeated values: fewer distinct bounds than classes
    if seed % 5 == 0:
        y[: n // 2] = y[0]
    # with k distinct values or fewer, the values themselves are the bounds (no scheme runs)
    for k in range(2, min(10, len(np.unique(y)))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # too few distinct values; numba absent
            quantiles = mapclassify.Quantiles(y, k=k).bins
            equal = mapclassify.EqualInterval(y, k=k).bins
        np.testing.assert_array_equal(_quantile_bins(y, k), quantiles)
        np.testing.assert_array_equal(_equal_interval_bins(y, k), equal)


# ------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------


def _cli_inputs(tmp_path: Path, fx: dict[str, Any]) -> tuple[Path, Path]:
    parks = fx["parks"][["park_id", "name", "geometry"]]
    parks_path = tmp_path / "parks.geojson"
    parks.to_file(parks_path, driver="GeoJSON")
    rows = []
    for year in (2013, 2015):
        for _, firm in fx["enterprises"].iterrows():
            rows.append(
                {
                    "enterprise_id": firm["enterprise_id"],
                    "name": firm["name"].replace("\u2028", " "),
                    "industry": firm["industry"],
                    "lon": firm["lon"],
                    "lat": firm["lat"],
                    "year": year,
                    "tax": 100.0 if year == 2013 else 130.0,
                    "profit": 50.0,
                    "value_added": 400.0,
                    "energy_tce": 80.0,
                    "employees": 20.0,
                }
            )
    firms_path = tmp_path / "firms.csv"
    pd.DataFrame(rows).to_csv(firms_path, index=False)
    return parks_path, firms_path


def test_cli_map_writes_an_offline_page(fx: dict[str, Any], tmp_path: Path, capsys: Any) -> None:
    from parkgeo.cli import main

    parks_path, firms_path = _cli_inputs(tmp_path, fx)
    out = tmp_path / "maps" / "tianjin.html"
    code = main(
        [
            "map",
            "--parks",
            str(parks_path),
            "--enterprises",
            str(firms_path),
            "--year",
            "2015",
            "--lang",
            "zh",
            "--show",
            "districts,enterprises",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    html = out.read_text(encoding="utf-8")
    base, overlays = layer_control(html)
    assert base[0] == "地均税收 (万元/公顷)"
    assert "企业（2015年，按行业）" in overlays
    (parks,) = data_scripts(html, "pg_parks")
    assert "&lt;img src=x onerror=alert(1)&gt;" in popups_of(parks)[0]
    assert "较2013年变化" in popups_of(parks)[0]
    assert "`" not in html


def test_cli_map_usage_and_data_errors(fx: dict[str, Any], tmp_path: Path) -> None:
    from parkgeo.cli import main

    parks_path, firms_path = _cli_inputs(tmp_path, fx)
    common = ["map", "--parks", str(parks_path), "--enterprises", str(firms_path)]
    assert main([*common, "--lang", "fr"]) == 2
    assert main([*common, "--tiles", "NoSuchTiles", "-o", str(tmp_path / "x.html")]) == 3
    assert main([*common, "--bins", "tax_per_ha=1,2", "-o", str(tmp_path / "x.html")]) == 3
    assert not (tmp_path / "x.html").exists()


def test_gap_map_overlays_the_nearest_clusters(fx: dict[str, Any]) -> None:
    gaps = fx["gaps"].assign(nearest_cluster_id=pd.array([1, pd.NA, pd.NA, pd.NA], dtype="Int64"))
    html = map_html(gap_map(fx["parks"], gaps, clusters=fx["clusters"], k=2))
    (hulls,) = data_scripts(html, "pg_clusters")
    assert len(hulls["fc"]["features"]) == 1
    ring = np.asarray(hulls["fc"]["features"][0]["geometry"]["coordinates"][0])
    assert ring[:, 0].max() == pytest.approx(117.28)  # cluster 1, the F51 hull


def test_english_maps_use_english_district_names(fx: dict[str, Any]) -> None:
    districts = fx["districts"].assign(name="滨海新区", name_en="Binhai New Area")
    html_en = map_html(planner_map(fx["parks"], fx["metrics"], districts=districts, k=3))
    html_zh = map_html(planner_map(fx["parks"], fx["metrics"], districts=districts, k=3, lang="zh"))
    tips = [json.loads(m) for m in re.findall(r"var tips = (\[.*?\]);\n", html_en)][0]
    assert tips == ["Binhai New Area"]
    tips = [json.loads(m) for m in re.findall(r"var tips = (\[.*?\]);\n", html_zh)][0]
    assert tips == ["滨海新区"]


# ------------------------------------------------------------------------------------------
# the bundled sample and the demo's maps
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_analysis() -> dict[str, Any]:
    from test_report import analysis

    sa = analysis()  # computed once per session, shared with the report tests
    return {
        "sample": sa["s"],
        "assigned": sa["joined"].assigned,
        "metrics": sa["metrics"],
        "clusters": sa["clusters"],
        "gaps": sa["gaps"],
    }


def test_sample_planner_map_draws_every_firm_of_the_year(sample_analysis: dict[str, Any]) -> None:
    sa = sample_analysis
    sample, assigned = sa["sample"], sa["assigned"]
    html = map_html(
        planner_map(
            sample.parks,
            sa["metrics"],
            enterprises=assigned,
            districts=sample.districts,
            clusters=sa["clusters"],
            gaps=sa["gaps"],
            year=2015,
        )
    )
    firms_2015 = assigned[assigned["year"] == 2015]
    payload = point_payload(html)
    assert len(payload["x"]) == firms_2015["enterprise_id"].nunique()
    in_parks = sum(v >= 0 for v in payload["fields"][2]["values"])
    assert in_parks == int(firms_2015["park_id"].notna().sum())
    legend = legend_with_title(html, "Enterprises by industry")
    counts = [int(c.replace(",", "")) for c in re.findall(r"\(([\d,]+)\)", legend)]
    assert sum(counts) == len(payload["x"])
    (parks,) = data_scripts(html, "pg_parks")
    assert len(popups_of(parks)) == len(sample.parks) == 33
    tax = legend_with_title(html, "Tax per hectare")
    assert sum(int(n) for n in re.findall(r'pg-count">\((\d+)\)', tax)) == 33


def test_demo_writes_the_full_set_of_maps(sample_analysis: dict[str, Any], tmp_path: Path) -> None:
    from parkgeo._commands.demo import _write_maps

    sa = sample_analysis
    analysis = {"assigned": sa["assigned"], "clusters": sa["clusters"], "gaps": sa["gaps"]}
    written = _write_maps(sa["sample"], sa["metrics"], tmp_path, year=2016, analysis=analysis)
    assert [p.name for p in written] == [
        f"tianjin_{kind}_{lang}.html"
        for lang in ("en", "zh")
        for kind in ("planner", "density_map", "clusters_map", "gaps_map")
    ]
    for path in written:
        html = path.read_text(encoding="utf-8")
        parser = _Resources()
        parser.feed(html)
        assert not [r for r in parser.refs if re.match(r"\s*(https?:)?//", r[2], re.I)]
        assert "window.parkgeoReady = true" in html
    zh = written[4].read_text(encoding="utf-8")
    assert layer_control(zh)[0][0] == "地均税收 (万元/公顷)"


def test_save_map_warns_above_the_size_budget(
    fx: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    import parkgeo.maps

    monkeypatch.setattr(parkgeo.maps, "SIZE_BUDGET_MB", 0.01)
    with caplog.at_level("WARNING", logger="parkgeo"):
        save_map(fixture_planner(fx), tmp_path / "big.html")
    assert "above the 0 MB budget" in caplog.text and "--max-points" in caplog.text


@pytest.mark.parametrize(
    ("kind", "first_base_layer"),
    [
        ("density", "Energy per hectare (tce/ha)"),
        ("clusters", None),
        ("gaps", "Missing industries"),
    ],
)
def test_cli_single_purpose_maps(
    fx: dict[str, Any], tmp_path: Path, kind: str, first_base_layer: str | None
) -> None:
    from parkgeo.cli import main

    parks_path, firms_path = _cli_inputs(tmp_path, fx)
    out = tmp_path / f"{kind}.html"
    args = ["map", "--parks", str(parks_path), "--enterprises", str(firms_path)]
    args += ["--kind", kind, "--measure", "energy_per_ha", "--min-size", "3", "-q", "-o", str(out)]
    assert main(args) == 0
    base, overlays = layer_control(out.read_text(encoding="utf-8"))
    if first_base_layer is None:
        assert base == [] and "Parks" in overlays and "Enterprises 2015, by industry" in overlays
    else:
        assert base[0] == first_base_layer


def test_cli_map_without_districts_says_so_and_frames_the_parks(
    fx: dict[str, Any], tmp_path: Path, caplog: Any
) -> None:
    from parkgeo.cli import main

    parks_path, firms_path = _cli_inputs(tmp_path, fx)
    out = tmp_path / "no_districts.html"
    args = ["map", "--parks", str(parks_path), "--enterprises", str(firms_path)]
    with caplog.at_level("WARNING", logger="parkgeo"):
        assert main([*args, "--kind", "density", "-q", "-o", str(out)]) == 0
    assert "no --districts given" in caplog.text and "--districts FILE" in caplog.text
    html = out.read_text(encoding="utf-8")
    base, overlays = layer_control(html)
    assert overlays[0] == "Parks&#x27; extent"  # escaped: Leaflet inserts it as HTML
    assert any("No district boundaries given" in h for h in control_htmls(html))
    assert "L.control.scale({imperial: false" in html  # metric scale only
