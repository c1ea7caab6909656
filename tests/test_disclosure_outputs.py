"""One protected table for every output (issue 14): the report and every map written from a
protected density table carry no withheld figure anywhere in their HTML, in any formatting
the outputs use, and show the marker and the footnote instead."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _thinned import thinned_firms

from parkgeo import load_tianjin
from parkgeo._legend import fmt_change, fmt_number, fmt_progress
from parkgeo.cli import main


@lru_cache(maxsize=1)
def _thinned() -> dict[str, Any]:
    """The sample thinned as in tests/test_disclosure_cli.py: the first park keeps 2 firms,
    one firm lies outside every park, and the second park's largest firm pays 90% of its tax;
    joined, its density table (raw), and the protected table."""
    from parkgeo import assign_parks, contributions_of, protect
    from parkgeo.disclosure import DisclosureRules
    from parkgeo.metrics import park_metrics

    sample = load_tianjin()
    firms = thinned_firms(sample)
    firms = firms.reset_index(drop=True)
    assigned = assign_parks(firms, sample.parks, nearest=False).assigned
    raw = park_metrics(assigned, sample.parks, per_mu=True)
    rules = DisclosureRules()
    contrib = contributions_of(assigned, sample.parks, measures=rules.measures)
    protected = protect(raw, contrib, sample.parks, rules=rules)
    return {
        "sample": sample,
        "firms": firms,
        "assigned": assigned,
        "raw": raw,
        "protected": protected,
    }


def _formats(value: float, column: str) -> set[str]:
    """Every text the outputs could print for ``value`` (the number as the report and the
    maps format it, with and without thousands separators, rounded, and as a sort key)."""
    out = {fmt_number(value), repr(round(value, 9))}
    if column.endswith(("_change",)):
        out.add(fmt_change(value))
    if column.endswith("_progress"):
        out.add(fmt_progress(value))
    for digits in (0, 1, 2, 3):
        out.add(f"{value:,.{digits}f}")
        out.add(f"{value:.{digits}f}")
    # keep only figures specific enough to mean this cell (a 1-3 character text such as
    # "12" or "0.5" occurs in any page)
    return {t for t in out if sum(ch.isdigit() for ch in t) >= 4}


def _withheld_figures(data: dict[str, Any]) -> dict[str, set[str]]:
    """``text -> cells`` of every withheld cell's raw figure (all years, parks and totals)."""
    raw, protected = data["raw"], data["protected"]
    found: dict[str, set[str]] = {}
    for column in protected.status.columns:
        if column.endswith("_status") or column not in raw.columns:
            continue
        hidden = (protected.status[column] != "published").to_numpy()
        values = pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(hidden):
            v = float(values[i])
            if not math.isfinite(v) or v == 0:
                continue
            for text in _formats(v, column):
                found.setdefault(text, set()).add(f"{column} {raw['park_id'].iat[i]}")
    return found


def _published_texts(data: dict[str, Any]) -> set[str]:
    """Texts of published figures: a withheld figure whose text equals a published one's
    (same rounding) is not a leak of it."""
    raw, protected = data["raw"], data["protected"]
    out: set[str] = set()
    for column in protected.status.columns:
        if column.endswith("_status") or column not in raw.columns:
            continue
        shown = (protected.status[column] == "published").to_numpy()
        for v in pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)[shown]:
            if math.isfinite(v):
                out |= _formats(float(v), column)
    return out


_DRAWING = re.compile(r'\s(?:d|points|transform|viewBox)="[^"]*"')
_NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?%?")


@lru_cache(maxsize=1)
def _search_terms() -> tuple[tuple[str, frozenset[str]], ...]:
    data = _thinned()
    published = _published_texts(data)
    return tuple(
        (text, frozenset(cells))
        for text, cells in sorted(_withheld_figures(data).items())
        if text not in published
    )


def _leaks(html: str) -> list[tuple[str, frozenset[str]]]:
    """The withheld figures whose text appears in ``html`` as a whole number."""
    # pixel coordinates of drawings (locator maps, chart lines) are not figures
    html = _DRAWING.sub(" ", html)
    tokens: set[str] = set()
    for token in _NUMBER.findall(html):
        tokens.add(token)
        tokens.add(token.lstrip("+-").rstrip("%"))
    return [(text, cells) for text, cells in _search_terms() if text in tokens]


@lru_cache(maxsize=1)
def _outputs() -> dict[str, str]:
    """The report and every park map (en and zh) written from the protected table."""
    from parkgeo import maps
    from parkgeo.report import plan_report

    data = _thinned()
    sample, table = data["sample"], data["protected"].table
    out: dict[str, str] = {}
    for lang in ("en", "zh"):
        out[f"report_{lang}"] = plan_report(
            table, sample.parks, assigned=data["assigned"], districts=sample.districts, lang=lang
        )
        planner = maps.planner_map(sample.parks, table, districts=sample.districts, lang=lang)
        out[f"planner_{lang}"] = maps.map_html(planner)  # the bytes a user gets (no random ids)
        for measure in ("tax_per_ha", "energy_per_value_added"):
            m = maps.density_map(sample.parks, table, measure=measure, lang=lang)
            out[f"density_{measure}_{lang}"] = maps.map_html(m)
    # the gap map's popups carry the parks' figures too
    from parkgeo.clusters import industry_clusters
    from parkgeo.gaps import missing_clusters

    assigned = data["assigned"]
    clusters = industry_clusters(assigned, parks=sample.parks, year=2016, random_state=0)
    gaps = missing_clusters(assigned, sample.parks, clusters=clusters, year=2016, random_state=0)
    gap = maps.gap_map(sample.parks, gaps, metrics=table, clusters=clusters, lang="en")
    out["gaps_en"] = maps.map_html(gap)
    return out


def test_the_thinned_sample_withholds_cells() -> None:
    protected = _thinned()["protected"]
    assert protected.n_suppressed >= 24
    small = load_tianjin().parks["park_id"].iloc[0]
    rows = protected.table[protected.table["park_id"] == small]
    assert rows["tax"].isna().all()
    assert rows["disclosure"].str.contains(r"tax=primary-frequency \(<3\)").all()


@pytest.mark.parametrize(
    "name",
    [
        "report_en",
        "report_zh",
        "planner_en",
        "planner_zh",
        "density_tax_per_ha_en",
        "density_tax_per_ha_zh",
        "density_energy_per_value_added_en",
        "density_energy_per_value_added_zh",
        "gaps_en",
    ],
)
def test_no_withheld_figure_in_the_html(name: str) -> None:
    data = _thinned()
    html = _outputs()[name]
    assert not _leaks(html), name
    # the search can fail: the raw table's report shows the withheld figures
    if name == "report_en":
        from parkgeo.report import plan_report

        raw_html = plan_report(data["raw"], data["sample"].parks, lang="en")
        assert _leaks(raw_html)
    footnote = data["protected"].footnote(lang="zh" if name.endswith("zh") else "en")
    assert footnote.split("（")[0].split(" (")[0] in html.replace("&lt;", "<")


def test_markers_not_zero_or_blank() -> None:
    html = _outputs()["report_en"]
    small = load_tianjin().parks["park_id"].iloc[0]
    league = html[html.index('id="league"') :]
    row = league[league.index(f'data-park="{small}"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="pg-withheld" data-v="">&lt;3</td>' in row
    # the headline: ALL_PARKS tax/ha is withheld (the lone firm outside every park)
    head = html[html.index('id="headline"') : html.index('id="league"')]
    tax_row = head[head.index('data-measure="tax_per_ha"') :]
    tax_row = tax_row[: tax_row.index("</tr>")]
    assert ">x<" in tax_row and "–" not in tax_row
    assert "withheld (x)" in head
    planner = _outputs()["planner_en"]
    assert "(withheld)" in planner  # the subtitle names the withheld city figure
    # the small park is counted apart in the tax legend, not as "no data"
    density = _outputs()["density_tax_per_ha_en"]
    assert "Withheld (confidential; see the note)" in density


def test_map_and_report_commands_protect(tmp_path: Path) -> None:
    data = _thinned()
    firms = tmp_path / "firms.csv"
    data["firms"].to_csv(firms, index=False)
    parks = tmp_path / "parks.geojson"
    data["sample"].parks.to_file(parks, driver="GeoJSON")
    common = ["--parks", str(parks), "--enterprises", str(firms), "--protect"]
    report = tmp_path / "r.html"
    assert main(["report", *common, "--no-gaps", "-o", str(report), "-q"]) == 0
    html = report.read_text(encoding="utf-8")
    assert not _leaks(html)
    assert "withheld to protect confidential enterprise data" in html
    density = tmp_path / "d.html"
    args = ["map", "--kind", "density", *common, "--disclosure-check", "-o", str(density)]
    assert main([*args, "-q"]) == 0
    assert not _leaks(density.read_text(encoding="utf-8"))


def test_demo_protects_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("sklearn")
    assert main(["demo", "--outdir", str(tmp_path), "--year", "2015"]) == 0
    out = capsys.readouterr().out
    assert "disclosure control" in out.lower()
    report = (tmp_path / "tianjin_report_zh.html").read_text(encoding="utf-8")
    assert "为保护企业数据保密而不予公布" in report
    planner = (tmp_path / "tianjin_planner_en.html").read_text(encoding="utf-8")
    assert "withheld to protect confidential enterprise data" in planner
    density = pd.read_csv(tmp_path / "tianjin_density.csv")
    assert "disclosure" in density.columns


def test_evaluation_rollup_withholds_tax_figures_of_few_firms() -> None:
    from test_evaluate import PARKS, SCHEME, _firms

    from parkgeo._evaluate_sdc import protect_rollup
    from parkgeo.evaluate import evaluate_enterprises

    # P1: firms A, B, D (tax per mu 20, 12, 4); P2: one C firm; one D firm outside every park
    result = evaluate_enterprises(_firms([200.0, 120.0, 40.0, 80.0, 30.0]), SCHEME, parks=PARKS)
    raw = result.parks.set_index("park_id")
    out = protect_rollup(result.parks, result.enterprises).set_index("park_id")
    # P1's median comes from 3 firms: published; its gain is the D firm's alone: withheld
    assert out.loc["P1", "median_tax_per_mu"] == pytest.approx(12.0)
    assert np.isnan(out.loc["P1", "tax_gain"]) and raw.loc["P1", "tax_gain"] == 80.0
    assert "tax_gain=primary-frequency (<3)" in out.loc["P1", "disclosure"]
    # P2's median is its one firm's tax per mu
    assert np.isnan(out.loc["P2", "median_tax_per_mu"])
    assert out.loc["P2", "tax_gain"] == 0.0  # nobody falls short: nothing to disclose
    # ALL: gains 40 and 50 from two firms: withheld; the median of 5 firms is published
    assert np.isnan(out.loc["ALL", "tax_gain"])
    assert out.loc["ALL", "median_tax_per_mu"] == pytest.approx(8.0)
    assert out["suppressed"].tolist() == [True, True, True]
    # counts and land stay
    pd.testing.assert_series_equal(out["n_evaluated"], raw["n_evaluated"])
