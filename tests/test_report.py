"""The plan-progress report: its figures are the density table's, the maps' and the demo's;
it is offline, deterministic and Chinese means Chinese."""

from __future__ import annotations

import functools
import html as htmllib
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from parkgeo import _vocab_en, _vocab_zh
from parkgeo._headline import ALL, ALL_PARKS, HEADLINE, headline_figures, plan_of
from parkgeo._legend import fmt_change, fmt_number, fmt_progress
from parkgeo._plain import plain_reason
from parkgeo.report import plan_report, save_report
from parkgeo.years import default_year, resolve_year

YEAR = 2015  # the plan's reported year: the sample's calibration holds in it
ANALYSIS_YEAR = 2016  # the latest year: clusters and gaps as the demo computes them


@functools.cache
def analysis() -> dict[str, Any]:
    """The bundled sample joined, measured, clustered: computed once per test session and
    shared by the report, map and browser tests (it is the slowest fixture)."""
    from parkgeo.clusters import industry_clusters
    from parkgeo.datasets import load_tianjin
    from parkgeo.gaps import missing_clusters
    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    s = load_tianjin()
    joined = assign_parks(s.enterprises, s.parks)
    metrics = park_metrics(joined.assigned, s.parks)
    year = ANALYSIS_YEAR
    clusters = industry_clusters(joined.assigned, parks=s.parks, year=year, random_state=0)
    gaps = missing_clusters(joined.assigned, s.parks, clusters=clusters, year=year, random_state=0)
    return {
        "s": s,
        "joined": joined,
        "metrics": metrics,
        "clusters": clusters,
        "gaps": gaps,
    }


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    return analysis()


def build(sample: dict[str, Any], lang: str, **kw: Any) -> str:
    s = sample["s"]
    return plan_report(
        sample["metrics"],
        s.parks,
        assigned=sample["joined"].assigned,
        join_summary=sample["joined"].summary,
        rejects=pd.DataFrame({"enterprise_id": ["E1"], "reason": ["missing_coordinate"]}),
        gaps=sample["gaps"],
        clusters=sample["clusters"],
        districts=s.districts,
        year=YEAR,
        lang=lang,
        **kw,
    )


@pytest.fixture(scope="module")
def report_en(sample: dict[str, Any]) -> str:
    return build(sample, "en")


@pytest.fixture(scope="module")
def report_zh(sample: dict[str, Any]) -> str:
    return build(sample, "zh")


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<title>.*?</title>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def headline_row(page: str, measure: str, population: str) -> str:
    m = re.search(
        rf'<tr data-measure="{measure}" data-population="{population}">(.*?)</tr>', page, re.S
    )
    assert m, (measure, population)
    return htmllib.unescape(m.group(1))


def test_every_headline_figure_is_the_density_tables_and_the_maps_and_the_demos(
    sample: dict[str, Any], report_en: str, tmp_path: Path, capsys: Any
) -> None:
    from parkgeo._commands.demo import _print_summary
    from parkgeo.maps import map_html, planner_map

    table = sample["metrics"].set_index(["park_id", "year"])
    subtitle = re.search(
        rf"<h1>[^<]*{YEAR}</h1><div>(.*?)</div>",
        map_html(planner_map(sample["s"].parks, sample["metrics"], year=YEAR))
        .replace("\\u003c", "<")
        .replace("\\u003e", ">"),
    )
    assert subtitle
    import io

    out = io.StringIO()
    _print_summary(out, sample["s"], sample["joined"].summary, sample["metrics"], YEAR, [], {})
    stdout = out.getvalue()
    # the plan's populations: profit and energy intensity over all firms, tax/ha in parks
    assert HEADLINE == (
        ("profit", ALL),
        ("tax_per_ha", ALL_PARKS),
        ("energy_per_value_added", ALL),
    )
    for measure, population in HEADLINE:
        row = table.loc[(population, YEAR)]
        change = fmt_change(row[f"{measure}_change"])
        cells = headline_row(report_en, measure, population)
        assert fmt_number(row[measure]) in cells
        assert change in cells and fmt_progress(row[f"{measure}_progress"]) in cells
        assert f"({population})" in cells
        assert change in subtitle.group(1)
        line = next(ln for ln in stdout.splitlines() if f", {population})" in ln and change in ln)
        assert fmt_progress(row[f"{measure}_progress"]) in line
    # the calibrated figure, the same everywhere (it was -2.88% in one place, -3.1% in another)
    assert "-2.88%" in stdout and "-2.88%" in subtitle.group(1) and "-2.88%" in report_en
    assert "-3.1%" not in subtitle.group(1)


def test_headline_figures_and_plan_read_from_the_table(sample: dict[str, Any]) -> None:
    m = sample["metrics"]
    plan = plan_of(m)
    assert (plan.baseline_year, plan.target_year) == (2013, 2016)
    assert plan.targets["profit"] == pytest.approx(0.5)
    assert plan.targets["energy_per_value_added"] == pytest.approx(-0.15)
    figs = {f.measure: f for f in headline_figures(m, year=2015, plan=plan)}
    assert figs["energy_per_value_added"].change == pytest.approx(-0.0288, abs=5e-5)
    assert figs["energy_per_value_added"].status == "behind"
    assert figs["tax_per_ha"].population == ALL_PARKS and figs["tax_per_ha"].status == "on_track"
    all_row = m[(m["park_id"] == ALL) & (m["year"] == 2015)].iloc[0]
    assert figs["profit"].n_enterprises == int(all_row["n_enterprises"])
    assert figs["profit"].expected == pytest.approx(2 / 3)


def test_default_year_is_the_latest_in_the_data(sample: dict[str, Any]) -> None:
    assert default_year(sample["metrics"]) == 2016
    assert default_year(sample["s"].enterprises) == 2016
    assert resolve_year(sample["metrics"], 2014) == 2014
    with pytest.raises(ValueError, match="year 2030 is not in the"):
        resolve_year(sample["metrics"], 2030)
    page = plan_report(sample["metrics"], sample["s"].parks)
    assert "progress against the plan, 2016" in page


def test_report_sections_offline_and_deterministic(sample: dict[str, Any], report_en: str) -> None:
    for anchor in ("headline", "league", "trends", "scorecards", "methods"):
        assert '<section class="pg-section' in report_en and f'id="{anchor}"' in report_en
    assert report_en.count('<article class="pg-card"') == 33
    # nothing is fetched: no src/href to a network address, no @import or url()
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', report_en, re.I)
    assert "url(" not in report_en and "@import" not in report_en
    assert build(sample, "en") == report_en
    # each league row has sortable values: the tax per ha of every park of the year
    league = report_en[report_en.index('id="league"') : report_en.index('id="trends"')]
    assert league.count("<tr data-park=") == 33
    # data quality: the reject ledger counted by reason, the placements
    methods = report_en[report_en.index('id="methods"') :]
    assert "missing_coordinate" in methods and "longitude or latitude is empty" in methods
    assert "outside every park" in methods and "9,792" in methods


def test_chinese_report_has_no_english_words(report_zh: str) -> None:
    text = visible_text(report_zh)
    from parkgeo._validate import REASONS

    # codes (the reject ledger's reason codes, ALL/ALL_PARKS), names and the command line
    allowed = {"ALL", "ALL_PARKS", "parkgeo", "GB", "T", "density", "csv", "K", *REASONS}
    words = set(re.findall(r"(?<![-\w])[A-Za-z][A-Za-z_]+", re.sub(r"--[a-z-]+", " ", text)))
    words = {w for w in words if w not in allowed and not re.fullmatch(r"[A-Z]\d*", w)}
    assert words == set(), sorted(words)[:30]
    assert "产业园区规划目标进展报告（2015年）" in text
    assert "新一代信息技术产业" in text  # strategic categories in Chinese


def test_vocabularies_have_the_same_keys_and_fields() -> None:
    en, zh = _vocab_en.WORDS, _vocab_zh.WORDS
    assert set(en) == set(zh), sorted(set(en) ^ set(zh))
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key


def test_plain_reasons_do_not_contradict_themselves() -> None:
    gap = {
        "industry": "C35",
        "industry_name": "专用设备制造业",
        "industry_name_en": "Manufacture of special-purpose machinery",
        "status": "below threshold",
        "n_firms": 32,
        "peers_with": "S129022",
        "n_peers": 4,
        "related_present": "C34 (0.64); C33 (0.57)",
        "strategic_category": "part: High-end equipment, New-generation IT",
        "nearest_cluster_id": 152.0,
        "nearest_cluster_km": 0.0,
    }
    en = plain_reason(gap, park_name="TEDA", lang="en")
    assert "1 of its 4 similar parks has this industry" in en
    assert "0.0 km" not in en and "reaches the park's edge" in en
    assert "location quotient" not in en and "#152" not in en and "score" not in en
    zh = plain_reason(gap, park_name="天津经济技术开发区", lang="zh")
    assert "高端装备制造产业" in zh and "High-end" not in zh
    far = dict(gap, status="absent", n_firms=0, nearest_cluster_km=12.6, nearest_cluster_id=1.0)
    text = plain_reason(
        far,
        park_name="TEDA",
        lang="en",
        park_point=(117.0, 39.0),
        cluster_points={1: (117.15, 39.01)},
        place_of=lambda lon, lat: "Dongli District",
    )
    assert "has no C35" in text and "12.6 km east, around Dongli District" in text


def test_save_report_and_the_pdf_message_without_chromium(
    report_en: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import parkgeo._report_page as page

    files = save_report(report_en, tmp_path / "r.html")
    assert files.html.read_text(encoding="utf-8") == report_en and files.pdf is None
    monkeypatch.setattr(page, "CHROMIUM_CANDIDATES", ())
    monkeypatch.delenv("PARKGEO_CHROMIUM", raising=False)
    with pytest.raises(ValueError, match="headless Chromium was not found"):
        save_report(report_en, tmp_path / "s.html", pdf=True)
    assert (tmp_path / "s.html").exists() and not (tmp_path / "s.pdf").exists()


def test_cli_report(tmp_path: Path, capsys: Any) -> None:
    from parkgeo.cli import main
    from parkgeo.datasets import sample_path

    out = tmp_path / "report_zh.html"
    plan = tmp_path / "plan.toml"
    plan.write_text(
        "baseline_year = 2013\ntarget_year = 2017\n[targets]\nprofit = 0.30\n", encoding="utf-8"
    )
    args = ["report", "--parks", str(sample_path("tianjin_parks.parquet"))]
    args += ["--enterprises", str(sample_path("tianjin_enterprises.parquet"))]
    args += ["--lang", "zh", "--no-gaps", "--min-enterprises", "3", "--targets", str(plan)]
    assert main([*args, "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "产业园区规划目标进展报告（2016年）" in page
    assert "贡献企业少于3家" in page
    # the user's plan: profit +30% by 2017 (the other targets keep their defaults)
    profit = headline_row(page, "profit", ALL)
    assert "+30.0%" in profit and "2017年目标" in page
    assert "+50.0%" in headline_row(page, "tax_per_ha", ALL_PARKS)
    assert str(out) in capsys.readouterr().out


def test_names_from_the_data_are_shown_as_text() -> None:
    import geopandas as gpd
    import numpy as np
    from shapely import box

    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    hostile = "<img src=x onerror=alert(1)>"
    parks = gpd.GeoDataFrame(
        {
            "park_id": ["P1", "P2"],
            "name": [hostile, "West `${x}` {{ 7*7 }}"],
            "district": ["</td><script>alert(2)</script>", "D"],
        },
        geometry=[box(117.0, 39.0, 117.1, 39.1), box(117.2, 39.0, 117.3, 39.1)],
        crs="EPSG:4326",
    )
    rng = np.random.default_rng(1)
    n = 40
    firms = pd.DataFrame(
        {
            "enterprise_id": [f"E{i % 20}" for i in range(n)],
            "industry": ["C2710"] * n,
            "lon": rng.uniform(117.0, 117.3, n),
            "lat": rng.uniform(39.0, 39.1, n),
            "year": np.repeat([2013, 2015], n // 2),
            "tax": rng.gamma(2.0, 10.0, n),
            "profit": rng.gamma(2.0, 10.0, n),
            "value_added": rng.gamma(2.0, 10.0, n),
            "energy_tce": rng.gamma(2.0, 5.0, n),
        }
    )
    table = park_metrics(assign_parks(firms, parks).assigned, parks)
    page = plan_report(table, parks, lang="en")
    assert hostile not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert(2)" not in page
    assert "{{ 7*7 }}" in page and ">49<" not in page  # shown, never evaluated
