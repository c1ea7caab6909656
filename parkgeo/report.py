"""The planner's plan-progress report: one self-contained HTML file (and a PDF beside it).

Sections: the plan's three targets (headline), a sortable league table of parks, trends
against the plan path, one scorecard per park, and the methods and data quality an auditor
needs to reproduce a figure. Every number comes from the density table passed in (the
output of :func:`parkgeo.metrics.park_metrics`, or a protected copy of it), so the report,
the maps and ``parkgeo demo`` print the same figures.

The file is offline (no request: styles, script and charts are inline SVG), deterministic
(same input, same bytes) and prints on A4 (a page per section, landscape for the league
table, table rows never split).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from parkgeo._errors import SchemaError
from parkgeo._headline import ALL, headline_figures, plan_of
from parkgeo._legend import check_lang, esc, label
from parkgeo._report_page import find_chromium, page_html, print_pdf
from parkgeo._report_parks import methods_section, scorecards_section
from parkgeo._report_sections import Ctx, headline_section, league_section, trends_section
from parkgeo.years import available_years, resolve_year

__all__ = ["ReportFiles", "find_chromium", "plan_report", "save_report"]


@dataclass(frozen=True)
class ReportFiles:
    """Paths written by :func:`save_report` (``pdf`` is None when not asked)."""

    html: Path
    pdf: Path | None


def _parks_4326(parks: Any) -> Any:
    import geopandas as gpd

    if not isinstance(parks, gpd.GeoDataFrame) or "park_id" not in parks.columns:
        raise SchemaError("parks must be a GeoDataFrame with a 'park_id' column")
    if parks.crs is None:
        raise SchemaError("parks have no CRS: set one with .set_crs('EPSG:4326')")
    out = parks.to_crs("EPSG:4326") if not parks.crs.equals("EPSG:4326") else parks.copy()
    out["_id"] = out["park_id"].astype(str).to_numpy()
    names = out["name"] if "name" in out.columns else out["_id"]
    out["_label"] = [
        str(n) if isinstance(n, str) and n.strip() else pid
        for n, pid in zip(names.tolist(), out["_id"].tolist(), strict=True)
    ]
    return out


def plan_report(
    metrics: pd.DataFrame,
    parks: Any,
    *,
    assigned: pd.DataFrame | None = None,
    rejects: pd.DataFrame | None = None,
    join_summary: pd.DataFrame | None = None,
    sources: dict[str, Any] | None = None,
    gaps: pd.DataFrame | None = None,
    clusters: Any = None,
    districts: Any = None,
    targets: Any = None,
    year: int | None = None,
    lang: str = "en",
    min_enterprises: int | None = None,
    title: str | None = None,
    nearby_m: float = 1000.0,
) -> str:
    """The report as one HTML page (text).

    Parameters
    ----------
    metrics : pandas.DataFrame
        The density table (:func:`parkgeo.metrics.park_metrics`), with its ``ALL`` and
        ``ALL_PARKS`` rows. Pass :attr:`parkgeo.disclosure.ProtectedTable.table` to publish
        it: every withheld figure then reads as its marker (``x``, ``<3``), never a number,
        and each section carries the footnote (also when nothing had to be withheld).
    parks : geopandas.GeoDataFrame
        The parks the enterprises were joined to (``park_id``, ``name``, ``district``,
        ``level``), any CRS.
    assigned : pandas.DataFrame, optional
        :func:`parkgeo.join.assign_parks` output, for the data-quality lines of each park.
    rejects : pandas.DataFrame, optional
        The reject ledger of :func:`parkgeo.io.read_enterprises` (counted by reason).
    join_summary : pandas.DataFrame, optional
        ``assign_parks(...).summary`` (placements by kind).
    sources : dict, optional
        ``{"parks": {"path": ...}, "enterprises": {"path", "n_read", "n_kept",
        "n_rejected", "encoding", "coord_system"}}`` for the methods section.
    gaps, clusters, districts : optional
        :func:`parkgeo.gaps.missing_clusters`, :func:`parkgeo.clusters.industry_clusters`
        output and district polygons, for the missing industries and their plain reasons.
    targets : parkgeo.metrics.Targets, optional
        The plan the table was computed with (default: read from the table).
    year : int, optional
        Year reported (default the latest year in the table; stated in the title).
    lang : {"en", "zh"}
    min_enterprises : int, optional
        The confidentiality threshold used, stated in the methods.
    title : str, optional
    nearby_m : float
        Distance within which unmatched firms count as "near" a park in its data quality.

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin
    >>> from parkgeo.join import assign_parks
    >>> from parkgeo.metrics import park_metrics
    >>> s = load_tianjin()
    >>> table = park_metrics(assign_parks(s.enterprises, s.parks).assigned, s.parks)
    >>> html = plan_report(table, s.parks, year=2015)
    >>> "Industrial parks: progress against the plan, 2015" in html, 'src="http' in html
    (True, False)
    """
    from parkgeo.disclosure import disclosure_info

    check_lang(lang)
    if not isinstance(metrics, pd.DataFrame) or not {"park_id", "year"} <= set(metrics.columns):
        raise SchemaError(
            "metrics must be the density table of parkgeo.metrics.park_metrics "
            "(with park_id and year columns)"
        )
    chosen = resolve_year(metrics, year, what="metrics")
    assert chosen is not None  # the table has a year column (checked above)
    plan = plan_of(metrics, targets)
    ctx = Ctx(
        lang=lang,
        year=chosen,
        years=available_years(metrics),
        plan=plan,
        metrics=metrics,
        parks=_parks_4326(parks),
        assigned=assigned,
        rejects=rejects,
        join_summary=join_summary,
        sources=dict(sources or {}),
        gaps=gaps,
        clusters=clusters,
        districts=districts,
        min_enterprises=min_enterprises,
        disclosure=disclosure_info(metrics),
        nearby_m=float(nearby_m),
    )
    ctx.headline = headline_figures(metrics, year=chosen, plan=plan)
    heading = title if title is not None else label("report_title", lang, year=chosen)
    in_year = metrics[(pd.to_numeric(metrics["year"], errors="coerce") == chosen).to_numpy()]
    all_row = in_year[in_year["park_id"].astype(str) == ALL]
    n_firms = int(all_row["n_enterprises"].iloc[0]) if len(all_row) else 0
    n_parks = len(ctx.parks)
    sub = label(
        "report_sub",
        lang,
        n_parks=n_parks,
        n_firms=f"{n_firms:,}",
        baseline=plan.baseline_year,
        target_year=plan.target_year,
    )
    sections = [
        ("headline", "sec_headline", headline_section(ctx)),
        ("league", "sec_league", league_section(ctx)),
        ("trends", "sec_trends", trends_section(ctx)),
        ("scorecards", "sec_scorecards", scorecards_section(ctx)),
        ("methods", "sec_methods", methods_section(ctx)),
    ]
    toc = "".join(
        f'<li><a href="#{anchor}">{esc(label(key, lang))}</a></li>' for anchor, key, _ in sections
    )
    from parkgeo import __version__

    body = (
        f'<header><h1>{esc(heading)}</h1><div class="pg-sub">{esc(sub)}</div></header>'
        f"<nav><h4>{esc(label('toc', lang))}</h4><ol>{toc}</ol></nav>"
        + "".join(html for _, _, html in sections)
        + f"<footer>{esc(label('generated', lang, version=__version__))}</footer>"
    )
    return page_html(lang=lang, title=heading, body=body)


def save_report(
    html_text: str,
    path: str | os.PathLike[str],
    *,
    pdf: bool = False,
    chromium: str | None = None,
) -> ReportFiles:
    """Write the report atomically; with ``pdf`` also print it to a PDF beside it.

    Raises
    ------
    ParkgeoError
        With ``pdf`` when no Chromium is found (the HTML is written first).
    """
    from parkgeo.io import atomic_write

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target, "wb") as fh:
        fh.write(html_text.encode("utf-8"))
    pdf_path = print_pdf(target, target.with_suffix(".pdf"), chromium=chromium) if pdf else None
    return ReportFiles(target, pdf_path)
