"""The report's park scorecards and its methods and data-quality section."""

from __future__ import annotations

import math
import re

import pandas as pd

from parkgeo._legend import esc, fmt_number
from parkgeo._plain import (
    cluster_points,
    district_finder,
    industry_labels,
    level_text,
    plain_reason,
)
from parkgeo._report_sections import Ctx, cell, footnote, trend_chart, value_of
from parkgeo._svgchart import locator_svg, locator_symbol

__all__ = ["methods_section", "scorecards_section"]

CARD_MEASURES = (
    "tax_per_ha",
    "energy_per_ha",
    "energy_per_value_added",
    "profit",
    "labour_productivity",
)
GAPS_SHOWN = 5
_TOP_ITEM = re.compile(r"^\s*([A-Z]\d{0,4})\s*\((\d+)\)\s*$")
_SYMBOL = "pg-all-parks"


def _figures_table(ctx: Ctx, park_id: str) -> str:
    head = "".join(f"<th>{esc(y)}</th>" for y in ctx.years)
    change_head = ctx.t("change", baseline=ctx.plan.baseline_year)
    rows = []
    for measure in CARD_MEASURES:
        cells = "".join(cell(ctx, ctx.row(park_id, y), measure) for y in ctx.years)
        latest = ctx.row(park_id, ctx.year)
        has_status = latest is not None and f"{measure}_status" in latest.index
        status = cell(ctx, latest, measure, kind="status") if has_status else "<td></td>"
        rows.append(
            f"<tr><td class='t'>{esc(ctx.measure_name(measure))} "
            f"<span class='pop'>({esc(ctx.unit(measure))})</span></td>{cells}"
            f"{cell(ctx, latest, measure, kind='change')}{status}</tr>"
        )
    return (
        f"<table class='pg-figures'><thead><tr><th class='t'>{esc(ctx.t('measure'))}</th>{head}"
        f"<th>{esc(change_head)}</th><th class='t'>{esc(ctx.t('status'))}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{footnote(ctx)}"
    )


def _top_industries(ctx: Ctx, row: pd.Series | None) -> str:
    value = None if row is None else row.get("top_industries")
    if not isinstance(value, str) or not value.strip():
        return ""
    items = [_TOP_ITEM.match(item) for item in value.split(";")]
    found = [m for m in items if m]
    if not found:
        return f"<p>{esc(value)}</p>"
    names = industry_labels([m.group(1) for m in found], ctx.lang)
    firms = ctx.t("firms")
    lis = "".join(
        f"<li>{esc(names.get(m.group(1), m.group(1)))}: {int(m.group(2)):,} {esc(firms)}</li>"
        for m in found
    )
    return f"<h4>{esc(ctx.t('top_industries_long', year=ctx.year))}</h4><ol>{lis}</ol>"


class _GapText:
    """Plain reasons for the missing industries, with directions and places."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.points = cluster_points(ctx.clusters) if ctx.clusters is not None else {}
        self.place_of = district_finder(ctx.districts, ctx.lang)
        self.by_park: dict[str, pd.DataFrame] = {}
        gaps = ctx.gaps
        if gaps is not None and len(gaps) and "park_id" in gaps.columns:
            frame = gaps.dropna(subset=["industry"]) if "industry" in gaps.columns else gaps
            if "rank" in frame.columns:
                frame = frame.sort_values("rank", kind="mergesort")
            for pid, group in frame.groupby(frame["park_id"].astype(str), sort=False):
                self.by_park[str(pid)] = group.head(GAPS_SHOWN)

    def html(self, park: pd.Series) -> str:
        ctx = self.ctx
        if ctx.gaps is None:
            return ""
        group = self.by_park.get(str(park["_id"]))
        head = f"<h4>{esc(ctx.t('missing_long'))}</h4>"
        if group is None or not len(group):
            return head + f"<p>{esc(ctx.t('none'))}</p>"
        point = park.geometry.representative_point()
        lis = []
        for _, gap in group.iterrows():
            text = plain_reason(
                {str(k): v for k, v in gap.items()},
                park_name=ctx.t("this_park"),
                lang=ctx.lang,
                park_point=(point.x, point.y),
                cluster_points=self.points,
                place_of=self.place_of,
            )
            lis.append(f"<li>{esc(text)}</li>")
        flag = ""
        if "no_sei" in group.columns and bool(group["no_sei"].fillna(False).any()):
            flag = f"<p class='st-behind'>{esc(ctx.t('strategic_none'))}</p>"
        return head + f"<ol>{''.join(lis)}</ol>" + flag


class _Quality:
    """Per-park data-quality counts, computed once for every park."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.matched: dict[str, pd.Series] = {}
        self.nearby: dict[str, int] = {}
        self.ledgered: dict[str, int] = {}
        a = ctx.assigned
        self.ok = a is not None and {"park_id", "year"} <= set(a.columns)
        if a is None or not self.ok:
            return
        years = pd.to_numeric(a["year"], errors="coerce").to_numpy()
        pids = a["park_id"].astype("string").fillna("")
        this_year = years == ctx.year
        if "match" in a.columns:
            kinds = a.loc[this_year, "match"].astype(str)
            for pid, counts in (
                kinds.groupby(pids[this_year].to_numpy()).value_counts().groupby(level=0)
            ):
                self.matched[str(pid)] = counts.droplevel(0)
        else:
            for pid, n in pids[this_year].value_counts().items():
                self.matched[str(pid)] = pd.Series({"": int(n)})
        if {"match", "nearest_park_id", "distance_m"} <= set(a.columns):
            near = (
                (a["match"].astype(str).to_numpy() == "unmatched")
                & (pd.to_numeric(a["distance_m"], errors="coerce").to_numpy() <= ctx.nearby_m)
                & this_year
            )
            counts = a.loc[near, "nearest_park_id"].astype(str).value_counts()
            self.nearby = {str(k): int(v) for k, v in counts.items()}
        rej = ctx.rejects
        if rej is not None and len(rej) and {"enterprise_id"} <= set(rej.columns) & set(a.columns):
            firm_park = (
                pd.DataFrame({"id": a["enterprise_id"].astype(str), "pid": pids})
                .query("pid != ''")
                .drop_duplicates()
            )
            hits = rej["enterprise_id"].astype(str).to_frame("id").merge(firm_park, on="id")
            self.ledgered = {str(k): int(v) for k, v in hits["pid"].value_counts().items()}

    def html(self, park_id: str, row: pd.Series | None) -> str:
        ctx = self.ctx
        items = []
        if self.ok:
            counts = self.matched.get(park_id, pd.Series(dtype=int))
            kinds = ", ".join(
                f"{ctx.t(f'match_{k}') if f'match_{k}' in _KINDS else k} {int(v):,}"
                for k, v in counts.items()
                if k
            )
            total = int(counts.sum()) if len(counts) else 0
            items.append(
                f"{ctx.t('dq_matched', year=ctx.year)}: {total:,}"
                + (f" ({kinds})" if kinds else "")
            )
            items.append(
                f"{ctx.t('dq_nearby', m=f'{ctx.nearby_m:,.0f}', year=ctx.year)}: "
                f"{self.nearby.get(park_id, 0):,}"
            )
            if ctx.rejects is not None:
                items.append(f"{ctx.t('dq_ledger')}: {self.ledgered.get(park_id, 0):,}")
        if row is not None:
            miss = {}
            for k in ("tax", "energy_tce", "value_added"):
                v = value_of(row, f"n_missing_{k}")
                miss[k] = f"{int(v):,}" if math.isfinite(v) else "–"
            items.append(
                ctx.t(
                    "dq_missing",
                    year=ctx.year,
                    tax=miss["tax"],
                    energy=miss["energy_tce"],
                    va=miss["value_added"],
                )
            )
        lis = "".join(f"<li>{esc(i)}</li>" for i in items)
        return f"<h4>{esc(ctx.t('data_quality'))}</h4><ul>{lis}</ul>"


_KINDS = {"match_inside", "match_boundary", "match_near", "match_ambiguous", "match_unmatched"}


def scorecards_section(ctx: Ctx) -> str:
    geoms = list(ctx.parks.geometry.to_numpy())
    context = list(ctx.districts.to_crs("EPSG:4326").geometry) if ctx.districts is not None else []
    symbol, bounds = locator_symbol(geoms, _SYMBOL, context=context)
    gap_text = _GapText(ctx)
    quality = _Quality(ctx)
    cards = []
    for i, (_, park) in enumerate(ctx.parks.iterrows()):
        pid = str(park["_id"])
        row = ctx.row(pid, ctx.year)
        sub = [pid]
        for col in ("district", "level"):
            v = park.get(col) if col in park.index else None
            if v is not None and not pd.isna(v) and str(v).strip():
                sub.append(level_text(v, ctx.lang) if col == "level" else str(v))
        area = value_of(row, "area_ha")
        if math.isfinite(area):
            sub.append(f"{fmt_number(area)} {ctx.t('ha')}")
        locator = locator_svg(
            geoms, i, symbol_id=_SYMBOL, bounds=bounds, width=180, height=180, north=ctx.t("north")
        )
        charts = "".join(
            f'<div class="pg-keep">{trend_chart(ctx, pid, m, title=ctx.measure_name(m), width=320, height=140)}</div>'
            for m in ("tax_per_ha", "energy_per_value_added")
        )
        cards.append(
            f'<article class="pg-card" id="park-{esc(pid)}" data-park="{esc(pid)}">'
            f'<div class="pg-card-head"><div><h3>{esc(park["_label"])}</h3>'
            f'<div class="pg-sub">{esc(" · ".join(sub))}</div>'
            f"<h4>{esc(ctx.t('figures_by_year'))}</h4>{_figures_table(ctx, pid)}</div>"
            f'<div class="pg-keep">{locator}</div></div>'
            f'<div class="pg-grid">{charts}</div>'
            f"{_top_industries(ctx, row)}{gap_text.html(park)}{quality.html(pid, row)}</article>"
        )
    return (
        f'<section class="pg-section" id="scorecards"><h2>{esc(ctx.t("sec_scorecards"))}</h2>'
        f"{symbol}{''.join(cards)}</section>"
    )


# ------------------------------------------------------------------------------------------
# methods and data quality
# ------------------------------------------------------------------------------------------


def _sources(ctx: Ctx) -> str:
    items = []
    for key, what in (("parks", "source_parks"), ("enterprises", "source_enterprises")):
        info = ctx.sources.get(key)
        if not info:
            continue
        text = f"{ctx.t(what)}: {info.get('path', '')}"
        extra = []
        for k, word in (
            ("n_read", "rows_read"),
            ("n_kept", "rows_kept"),
            ("n_rejected", "rows_set_aside"),
        ):
            if info.get(k) is not None:
                extra.append(ctx.t(word, n=f"{int(info[k]):,}"))
        for k in ("encoding", "coord_system"):
            if info.get(k):
                extra.append(str(info[k]))
        items.append(text + (" (" + ", ".join(extra) + ")" if extra else ""))
    if not items:
        return ""
    return (
        f"<h3>{esc(ctx.t('sources'))}</h3><ul>{''.join(f'<li>{esc(i)}</li>' for i in items)}</ul>"
    )


def _match_table(ctx: Ctx) -> str:
    s = ctx.join_summary
    if s is None or not len(s) or not {"match", "n"} <= set(s.columns):
        return ""
    total = float(pd.to_numeric(s["n"], errors="coerce").sum())
    rows = []
    for _, r in s.iterrows():
        kind = str(r["match"])
        key = f"match_{kind}"
        name = ctx.t(key) if key in _KINDS else kind
        n = int(r["n"])
        share = f"{n / total:.1%}" if total else "–"
        rows.append(f"<tr><td class='t'>{esc(name)}</td><td>{n:,}</td><td>{esc(share)}</td></tr>")
    return (
        f"<h3>{esc(ctx.t('match_summary'))}</h3><table><thead><tr><th class='t'>"
        f"{esc(ctx.t('match_kind'))}</th><th>{esc(ctx.t('rows'))}</th><th>{esc(ctx.t('share'))}"
        f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _ledger(ctx: Ctx) -> str:
    rej = ctx.rejects
    head = f"<h3>{esc(ctx.t('ledger'))}</h3>"
    if rej is None:
        return ""
    if not len(rej) or "reason" not in rej.columns:
        return head + f"<p>{esc(ctx.t('ledger_none'))}</p>"
    counts = rej["reason"].astype(str).value_counts().sort_index()
    rows = "".join(
        f"<tr><td class='t'><code>{esc(code)}</code></td><td class='t'>{esc(_reason_text(ctx, str(code)))}</td>"
        f"<td>{int(n):,}</td></tr>"
        for code, n in counts.items()
    )
    return (
        head + f"<table><thead><tr><th class='t'>{esc(ctx.t('reason'))}</th><th class='t'></th>"
        f"<th>{esc(ctx.t('rows'))}</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _reason_text(ctx: Ctx, code: str) -> str:
    try:
        return ctx.t(f"rej_{code}")
    except KeyError:
        return ""


def methods_section(ctx: Ctx) -> str:
    m = ctx.metrics
    n_supp = 0
    if "suppressed" in m.columns:
        n_supp = int(m["suppressed"].fillna(False).astype(bool).sum())
    supp = (
        ctx.t("suppression_on", k=ctx.min_enterprises, n=f"{n_supp:,}")
        if ctx.min_enterprises
        else ctx.t("suppression_off")
    )
    if ctx.disclosure is not None:
        # disclosure control: the rows with a withheld figure, and the footnote's rules
        supp = (
            ctx.t("suppression_protected", n=f"{n_supp:,}")
            + " "
            + (ctx.disclosure["footnote_zh" if ctx.lang == "zh" else "footnote_en"])
        )
    defs = [
        ctx.t("def_year", year=ctx.year),
        ctx.t("def_populations"),
        ctx.t("def_ratio"),
        ctx.t("def_status", baseline=ctx.plan.baseline_year, target_year=ctx.plan.target_year),
        ctx.t("def_reproduce"),
    ]
    return (
        f'<section class="pg-section" id="methods"><h2>{esc(ctx.t("sec_methods"))}</h2>'
        + _sources(ctx)
        + _match_table(ctx)
        + _ledger(ctx)
        + f"<h3>{esc(ctx.t('suppression'))}</h3><p>{esc(supp)}</p>"
        + f"<h3>{esc(ctx.t('units'))}</h3><p>{esc(ctx.t('units_text'))}</p>"
        + f"<h3>{esc(ctx.t('definitions'))}</h3><ul>"
        + "".join(f"<li>{esc(d)}</li>" for d in defs)
        + "</ul></section>"
    )
