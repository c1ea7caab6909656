"""The report in headless Chromium (network blocked): loads with no request and no error,
the league table sorts on click; the PDF has a page per section and no table cut.

Uses the Playwright set-up of ``test_maps_browser`` (Debian's chromium, nothing downloaded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_maps_browser import open_map, playwright_api  # noqa: F401  (fixtures)
from test_report import build

from parkgeo.report import find_chromium, save_report

pytestmark = pytest.mark.browser

from test_report import sample  # noqa: E402,F401  (fixture)


@pytest.fixture(scope="module")
def reports(sample: dict[str, Any], tmp_path_factory: Any) -> dict[str, Path]:  # noqa: F811
    out = tmp_path_factory.mktemp("reports")
    return {
        lang: save_report(build(sample, lang), out / f"report_{lang}.html").html
        for lang in ("en", "zh")
    }


def _first_parks(page: Any) -> list[str]:
    return list(
        page.evaluate(
            "() => Array.from(document.querySelectorAll('table.pg-league tbody tr'))"
            ".slice(0, 3).map(r => r.getAttribute('data-park'))"
        )
    )


def test_report_opens_offline_and_the_league_table_sorts(
    reports: dict[str, Path],
    sample: dict[str, Any],  # noqa: F811
    open_map: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    m = sample["metrics"]
    year = m[(m["year"] == 2015) & ~m["park_id"].isin(["ALL", "ALL_PARKS"])]
    by_tax = year.sort_values("tax_per_ha")["park_id"].tolist()
    by_energy = year.sort_values("energy_per_ha")["park_id"].tolist()
    for lang, path in reports.items():
        view = open_map(path)
        page = view.page
        assert view.requests == [] and view.errors == []
        assert _first_parks(page) == by_tax[::-1][:3]  # ranked by tax per ha at first
        tax_value = page.locator("table.pg-league th[data-col='4']")
        tax_value.click()  # highest first
        assert _first_parks(page) == by_tax[::-1][:3]
        tax_value.click()  # then lowest first
        assert _first_parks(page) == by_tax[:3]
        assert tax_value.get_attribute("aria-sort") == "ascending"
        page.locator("table.pg-league th[data-col='7']").click()  # energy per ha
        assert _first_parks(page) == by_energy[::-1][:3]
        for width, height in ((1366, 768), (1920, 1080)):
            page.set_viewport_size({"width": width, "height": height})
            shot = tmp_path / f"report_{lang}_{width}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
        assert view.errors == [] and view.requests == []


def _pages_text(pdf: Path) -> list[str]:
    n = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for i in range(1, n + 1)
    ]


def test_pdf_has_a_page_per_section_and_no_cut_table(
    reports: dict[str, Path], tmp_path: Path
) -> None:
    if find_chromium() is None or not shutil.which("pdftotext"):
        if os.environ.get("CI") == "true":  # CI installs both: a missing tool is a failure there
            pytest.fail(
                "CI needs chromium and poppler-utils (apt-get install chromium poppler-utils)"
            )
        pytest.skip("needs chromium and poppler-utils (apt-get install chromium poppler-utils)")
    files = save_report(reports["en"].read_text(encoding="utf-8"), tmp_path / "r.html", pdf=True)
    assert files.pdf is not None
    pages = _pages_text(files.pdf)
    starts = {
        title: next(i for i, text in enumerate(pages) if title in text)
        for title in (
            "Headline: the plan's targets",
            "Parks compared",
            "Trends",
            "Park scorecards",
            "Methods and data quality",
        )
    }
    # one page at least per section, in order
    assert sorted(starts.values()) == list(starts.values())
    assert len(set(starts.values())) == 5 and len(pages) >= 5 + 33
    # no table cut: the league table's header is repeated on each page holding its rows,
    # and each park's scorecard (figures table to data quality) is on one page
    for text in pages[starts["Parks compared"] : starts["Trends"]]:
        assert "Rank" in text and "Park" in text
    for text in pages[starts["Park scorecards"] : starts["Methods and data quality"]]:
        assert text.count("Figures by year") == text.count("Data quality") <= 1
    first = tmp_path / "first"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(files.pdf), str(first)],
        check=True,
    )
    png = next(tmp_path.glob("first*.png"))
    assert png.stat().st_size > 5_000
