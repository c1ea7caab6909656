"""Labels, number formatting, class breaks and legend HTML for the maps.

Nothing here imports folium: these are plain functions returning strings and arrays, so they
are cheap to test. Every string that can come from input data goes through :func:`esc`
(``html.escape``) before it is put into HTML; the HTML built here is later JSON-encoded for
JavaScript by :func:`parkgeo._maplayers.js_json`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parkgeo import _vocab_en, _vocab_zh
from parkgeo._classes import NO_DATA_COLOR, SCHEMES, Classes, classify, fisher_jenks_bins
from parkgeo._errors import ParkgeoError

__all__ = [
    "LABELS",
    "MEASURES",
    "SCHEMES",
    "SECTION_COLORS",
    "STATUS_COLORS",
    "Classes",
    "category_legend_html",
    "class_legend_html",
    "classify",
    "esc",
    "fisher_jenks_bins",
    "fmt_change",
    "fmt_number",
    "fmt_progress",
    "label",
    "normalize_status",
    "status_label",
]


# Fisher-Jenks is exact up to this many values; above it, it runs on this many values taken at
# evenly spaced ranks (deterministic), which keeps it well under a second for any city.


@dataclass(frozen=True)
class MeasureSpec:
    """How one park measure is drawn: its palette and whether higher is better."""

    column: str
    palette: str
    higher_is_better: bool


MEASURES: dict[str, MeasureSpec] = {
    "tax_per_ha": MeasureSpec("tax_per_ha", "YlGnBu", True),
    "energy_per_ha": MeasureSpec("energy_per_ha", "YlOrRd", False),
    "energy_per_value_added": MeasureSpec("energy_per_value_added", "OrRd", False),
    "tax_per_mu": MeasureSpec("tax_per_mu", "YlGnBu", True),
    "labour_productivity": MeasureSpec("labour_productivity", "BuPu", True),
    "profit": MeasureSpec("profit", "YlGn", True),
}

# One vocabulary file per language (parkgeo/_vocab_en.py, parkgeo/_vocab_zh.py), same keys.
LABELS: dict[str, dict[str, str]] = {"en": _vocab_en.WORDS, "zh": _vocab_zh.WORDS}

# Target statuses of parkgeo.metrics (STATUSES), in legend order; the greys are "no verdict".
STATUS_COLORS: dict[str, str] = {
    "met": "#1a9850",
    "on_track": "#a6d96a",
    "behind": "#f46d43",
    "baseline": "#c6dbef",
    "suppressed": "#969696",
    "no_baseline": "#cfcfcf",
    "no_target": "#e0e0e0",
    "no_data": "#d9d9d9",
}


# One fixed colour per GB/T 4754 section letter, so a section has the same colour on every map
# (20 distinguishable colours, the "tab20" qualitative set reordered so neighbours differ).
SECTION_COLORS: dict[str, str] = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRST",
        [
            "#2ca02c",
            "#8c564b",
            "#1f77b4",
            "#ff7f0e",
            "#9467bd",
            "#17becf",
            "#d62728",
            "#bcbd22",
            "#e377c2",
            "#7f7f7f",
            "#aec7e8",
            "#ffbb78",
            "#98df8a",
            "#ff9896",
            "#c5b0d5",
            "#c49c94",
            "#f7b6d2",
            "#dbdb8d",
            "#9edae5",
            "#393b79",
        ],
        strict=True,
    )
)


def esc(value: Any) -> str:
    """HTML-escape any value as text (quotes too); missing values give an empty string.

    Examples
    --------
    >>> esc("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> esc(None)
    ''
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return html.escape(str(value), quote=True)


def label(key: str, lang: str, **fields: Any) -> str:
    """The label ``key`` in ``lang`` with ``fields`` filled in (plain text, not escaped)."""
    return LABELS[lang][key].format(**fields)


def status_label(status: str, lang: str) -> str:
    """Label of a normalised status key (see :func:`normalize_status`)."""
    return label("suppressed_status" if status == "suppressed" else status, lang)


def check_lang(lang: str) -> str:
    if lang not in LABELS:
        raise ParkgeoError(f"lang must be one of {sorted(LABELS)}; got {lang!r}")
    return lang


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(np.isnan(float(x)))
    except (TypeError, ValueError):
        return True


def fmt_number(x: Any) -> str:
    """Format a figure for a tooltip: thousands separators, about 3 significant digits.

    Examples
    --------
    >>> fmt_number(12345.678), fmt_number(123.456), fmt_number(12.3456), fmt_number(0.012345)
    ('12,346', '123', '12.3', '0.0123')
    >>> fmt_number(float("nan"))
    '–'
    """
    if _is_missing(x):
        return "–"
    v = float(x)
    a = abs(v)
    if a >= 100 or a == 0:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a >= 0.001:
        return f"{v:.3g}"
    return f"{v:.2e}"


def fmt_change(x: Any) -> str:
    """A relative change as a signed percentage: ``0.123`` -> ``+12.3%``; below 10% with two
    decimals (a plan's -15% is read to the tenth of a point). The one format of a change in
    the maps, the report and ``parkgeo demo``.

    Examples
    --------
    >>> fmt_change(0.4512), fmt_change(-0.0288), fmt_change(None)
    ('+45.1%', '-2.88%', '–')
    """
    if _is_missing(x):
        return "–"
    pct = float(x) * 100
    return f"{pct:+.2f}%" if abs(pct) < 10 else f"{pct:+.1f}%"


def fmt_progress(x: Any) -> str:
    """Progress toward a target as a percentage of it: ``0.58`` -> ``58%``."""
    if _is_missing(x):
        return "–"
    return f"{float(x) * 100:.0f}%"


def normalize_status(value: Any) -> str:
    """Key of a target status as written by :mod:`parkgeo.metrics` (``"on track"`` -> ``on_track``).

    ``"before baseline"`` counts as ``baseline``; anything unknown or missing is ``no_data``.

    Examples
    --------
    >>> [normalize_status(s) for s in ["met", "On track", "behind", "before baseline", None, "?"]]
    ['met', 'on_track', 'behind', 'baseline', 'no_data', 'no_data']
    """
    if value is None or _is_missing_text(value):
        return "no_data"
    key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if key == "before_baseline":
        key = "baseline"
    return key if key in STATUS_COLORS else "no_data"


def _is_missing_text(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() == ""
    return _is_missing(value)


# ------------------------------------------------------------------------------------------
# class breaks
# ------------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------------
# legend HTML
# ------------------------------------------------------------------------------------------


def _swatch(color: str, *, shape: str = "box") -> str:
    css = "pg-swatch pg-dot" if shape == "dot" else "pg-swatch"
    return f'<i class="{css}" style="background:{esc(color)}"></i>'


def class_legend_html(
    title: str,
    unit: str,
    classes: Classes,
    *,
    lang: str,
    n_missing: int = 0,
    note: str = "",
    n_withheld: int = 0,
) -> str:
    """Legend of a choropleth: title with unit, scheme, one row per class with its range;
    parks without data and (disclosure control) parks whose figure is withheld, counted
    apart. The breaks are those of ``classes``: computed without withheld figures."""
    scheme = label(f"scheme_{classes.scheme}", lang)
    rows = []
    lower = classes.lower
    for i, upper in enumerate(classes.bins):
        lo = fmt_number(lower)
        hi = fmt_number(upper)
        text = f"{lo} – {hi}" if lo != hi else hi
        rows.append(
            f'<div class="pg-row">{_swatch(classes.colors[i])}{esc(text)}'
            f'<span class="pg-count">({classes.counts[i]})</span></div>'
        )
        lower = upper
    if n_missing:
        rows.append(
            f'<div class="pg-row">{_swatch(NO_DATA_COLOR)}{esc(label("no_data", lang))}'
            f'<span class="pg-count">({n_missing})</span></div>'
        )
    if n_withheld:
        rows.append(
            f'<div class="pg-row">{_swatch(NO_DATA_COLOR)}{esc(label("withheld_legend", lang))}'
            f'<span class="pg-count">({n_withheld})</span></div>'
        )
    sub = label("classes", lang, scheme=scheme, k=classes.k)
    note_html = f'<div class="pg-note">{esc(note)}</div>' if note else ""
    return (
        f'<div class="pg-legend-title">{esc(title)}</div>'
        f'<div class="pg-legend-unit">{esc(unit)} · {esc(sub)}</div>' + "".join(rows) + note_html
    )


def category_legend_html(
    title: str, items: Sequence[tuple[str, str, int | None]], *, shape: str = "box"
) -> str:
    """Legend of categories: ``items`` are ``(colour, label, count or None)``."""
    rows = []
    for color, text, count in items:
        count_html = f'<span class="pg-count">({count:,})</span>' if count is not None else ""
        rows.append(
            f'<div class="pg-row">{_swatch(color, shape=shape)}{esc(text)}{count_html}</div>'
        )
    return f'<div class="pg-legend-title">{esc(title)}</div>' + "".join(rows)
