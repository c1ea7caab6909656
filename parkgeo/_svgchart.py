"""Small, deterministic inline SVG charts for the report and the map popups.

No plotting library and no network: the charts are a few dozen SVG elements written here,
the same bytes for the same numbers, and small enough to put one in every park's popup.
Every text is passed through :func:`parkgeo._legend.esc`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parkgeo._legend import esc, fmt_number

__all__ = ["Series", "bar_progress_chart", "line_chart", "locator_svg", "nice_ticks"]

INK = "#333333"
GRID = "#e3e3e3"
PLAN = "#8c8c8c"


@dataclass(frozen=True)
class Series:
    """One line: a label, one value per year (NaN = gap), a colour, dashed or not."""

    label: str
    values: Sequence[float]
    color: str = "#1f5fa8"
    dashed: bool = False


def _f(x: float) -> str:
    """Coordinates with one decimal: short and deterministic."""
    return f"{x:.1f}".rstrip("0").rstrip(".") if math.isfinite(x) else "0"


def nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About ``n`` round tick values covering ``lo..hi``.

    Examples
    --------
    >>> nice_ticks(0, 97)
    [0.0, 25.0, 50.0, 75.0, 100.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return [float(t) for t in ticks]


def line_chart(
    years: Sequence[int],
    series: Sequence[Series],
    *,
    width: int = 340,
    height: int = 170,
    unit: str = "",
    title: str = "",
    legend: bool = True,
    zero: bool = False,
) -> str:
    """A line chart of ``series`` over ``years`` (a dashed line for a plan path)."""
    values = np.array([v for s in series for v in s.values], dtype=float)
    finite = values[np.isfinite(values)]
    left, right, top, bottom = 46, 10, 22 if (title or unit) else 8, 22
    legend_h = 14 if legend and series else 0
    plot_w = width - left - right
    plot_h = height - top - bottom - legend_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pg-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    head = " · ".join(t for t in (title, unit) if t)
    if head:
        parts.append(f'<text x="4" y="13" font-size="11" fill="{INK}">{esc(head)}</text>')
    if not len(finite) or not years:
        parts.append(
            f'<text x="{width // 2}" y="{height // 2}" font-size="11" fill="#888" '
            'text-anchor="middle">–</text></svg>'
        )
        return "".join(parts)
    lo, hi = float(finite.min()), float(finite.max())
    if zero:
        lo = min(lo, 0.0)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    ticks = nice_ticks(lo - pad, hi + pad)
    y0, y1 = ticks[0], ticks[-1]

    def sx(i: int) -> float:
        return left + (plot_w * i / (len(years) - 1) if len(years) > 1 else plot_w / 2)

    def sy(v: float) -> float:
        return top + plot_h - (v - y0) / (y1 - y0) * plot_h

    for t in ticks:
        y = sy(t)
        parts.append(
            f'<line x1="{left}" y1="{_f(y)}" x2="{left + plot_w}" y2="{_f(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{_f(y + 3.5)}" font-size="9.5" fill="#666" '
            f'text-anchor="end">{esc(fmt_number(t))}</text>'
        )
    for i, year in enumerate(years):
        parts.append(
            f'<text x="{_f(sx(i))}" y="{top + plot_h + 13}" font-size="9.5" fill="#666" '
            f'text-anchor="middle">{esc(year)}</text>'
        )
    for s in series:
        segments: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None or not math.isfinite(float(v)):
                segments.append([])
                continue
            segments[-1].append(f"{_f(sx(i))},{_f(sy(float(v)))}")
        dash = ' stroke-dasharray="4 3"' if s.dashed else ""
        for seg in segments:
            if len(seg) > 1:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{s.color}" '
                    f'stroke-width="{1.4 if s.dashed else 2}"{dash}/>'
                )
            for point in seg if not s.dashed else []:
                px, py = point.split(",")
                parts.append(f'<circle cx="{px}" cy="{py}" r="2.4" fill="{s.color}"/>')
    if legend_h:
        lx = left
        ly = height - 4
        for s in series:
            dash = ' stroke-dasharray="4 3"' if s.dashed else ""
            parts.append(
                f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 16}" y2="{ly - 4}" stroke="{s.color}" '
                f'stroke-width="2"{dash}/><text x="{lx + 20}" y="{ly}" font-size="9.5" '
                f'fill="{INK}">{esc(s.label)}</text>'
            )
            lx += 28 + 6 * len(s.label) + (6 * sum(ord(c) > 0x2E80 for c in s.label))
    parts.append("</svg>")
    return "".join(parts)


def bar_progress_chart(
    rows: Sequence[tuple[str, float, float, str]],
    *,
    width: int = 560,
    reached: str = "reached",
    expected: str = "expected",
) -> str:
    """Horizontal bars, each with its label above: ``(label, progress, expected, colour)``;
    100% is the target, the grey mark the plan path's share for the year."""
    row_h, left, right = 40, 10, 50
    height = row_h * len(rows) + 24
    plot_w = width - left - right
    finite = [p for _, p, _, _ in rows if math.isfinite(p)]
    scale_max = min(max([1.0, *finite]), 1.6)

    def sx(v: float) -> float:
        return left + plot_w * max(0.0, min(v, scale_max)) / scale_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pg-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    for pct in (0.0, 0.5, 1.0, 1.5):
        if pct > scale_max:
            continue
        x = sx(pct)
        parts.append(
            f'<line x1="{_f(x)}" y1="4" x2="{_f(x)}" y2="{height - 18}" stroke="{GRID}"/>'
            f'<text x="{_f(x)}" y="{height - 5}" font-size="10" fill="#666" '
            f'text-anchor="middle">{pct * 100:.0f}%</text>'
        )
    for i, (text, progress, exp, color) in enumerate(rows):
        y = 4 + i * row_h
        parts.append(
            f'<text x="{left}" y="{y + 11}" font-size="11" fill="{INK}">{esc(text)}</text>'
        )
        if math.isfinite(progress):
            parts.append(
                f'<rect x="{left}" y="{y + 16}" width="{_f(max(sx(progress) - left, 0.5))}" '
                f'height="14" fill="{color}"><title>{esc(reached)} {progress * 100:.0f}%'
                "</title></rect>"
                f'<text x="{_f(sx(progress) + 4)}" y="{y + 27}" font-size="10" '
                f'fill="{INK}">{progress * 100:.0f}%</text>'
            )
        if math.isfinite(exp):
            x = sx(exp)
            parts.append(
                f'<path d="M{_f(x)} {y + 13}v20" stroke="{PLAN}" stroke-width="3">'
                f"<title>{esc(expected)} {exp * 100:.0f}%</title></path>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _rings(geom: Any) -> list[np.ndarray]:
    import shapely

    out: list[np.ndarray] = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly is None or poly.is_empty or not hasattr(poly, "exterior"):
            continue
        out.append(np.asarray(shapely.get_coordinates(poly.exterior)))
    return out


def locator_svg(
    geoms: Sequence[Any],
    highlight: int | None,
    *,
    width: int = 230,
    height: int = 230,
    context: Sequence[Any] = (),
    symbol_id: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    north: str = "N",
) -> str:
    """A small locator map: every park in grey, ``highlight`` in red with a ring around it.

    With ``symbol_id`` the grey parks (and ``context`` outlines) are written once as an SVG
    ``<symbol>`` by :func:`locator_symbol` and referenced here with ``<use>``.
    """
    x0, y0, x1, y1 = bounds if bounds is not None else _extent(list(geoms) + list(context))
    proj = _projector(x0, y0, x1, y1, width, height)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pg-locator" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<rect width="{width}" height="{height}" fill="#f4f3ef"/>'
    ]
    if symbol_id:
        parts.append(f'<use href="#{esc(symbol_id)}"/>')
    else:
        parts.append(_paths(context, proj, fill="none", stroke="#b5b5b5"))
        parts.append(_paths(geoms, proj, fill="#c9c9c9", stroke="#9a9a9a"))
    if highlight is not None and 0 <= highlight < len(geoms):
        geom = geoms[highlight]
        parts.append(_paths([geom], proj, fill="#d7301f", stroke="#7f0000"))
        if geom is not None and not geom.is_empty:
            c = geom.representative_point()
            cx, cy = proj(np.array([[c.x, c.y]]))[0]
            parts.append(
                f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="9" fill="none" stroke="#d7301f" '
                'stroke-width="2"/>'
            )
    parts.append(
        f'<text x="{width - 10}" y="16" font-size="11" text-anchor="middle" fill="{INK}">'
        f"{esc(north)}</text>"
        f'<path d="M{width - 10} 19l-4 9h8z" fill="{INK}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def locator_symbol(
    geoms: Sequence[Any],
    symbol_id: str,
    *,
    width: int = 230,
    height: int = 230,
    context: Sequence[Any] = (),
) -> tuple[str, tuple[float, float, float, float]]:
    """The shared ``<svg><symbol>`` of every park (and context) and the extent it uses."""
    bounds = _extent(list(geoms) + list(context))
    proj = _projector(*bounds, width, height)
    body = _paths(context, proj, fill="none", stroke="#b5b5b5") + _paths(
        geoms, proj, fill="#c9c9c9", stroke="#9a9a9a"
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" style="position:absolute">'
        f'<symbol id="{esc(symbol_id)}" viewBox="0 0 {width} {height}">{body}</symbol></svg>',
        bounds,
    )


def _extent(geoms: Sequence[Any]) -> tuple[float, float, float, float]:
    boxes = [g.bounds for g in geoms if g is not None and not g.is_empty]
    if not boxes:
        return (0.0, 0.0, 1.0, 1.0)
    b = np.array(boxes, dtype=float)
    return (
        float(b[:, 0].min()),
        float(b[:, 1].min()),
        float(b[:, 2].max()),
        float(b[:, 3].max()),
    )


def _projector(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> Any:
    # equirectangular with cos(latitude): a city-sized area looks as on a web map
    k = math.cos(math.radians((y0 + y1) / 2))
    span_x = max((x1 - x0) * k, 1e-9)
    span_y = max(y1 - y0, 1e-9)
    margin = 8
    s = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    ox = (width - span_x * s) / 2
    oy = (height - span_y * s) / 2

    def proj(xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = ox + (xy[:, 0] - x0) * k * s
        out[:, 1] = height - oy - (xy[:, 1] - y0) * s
        return out

    return proj


def _paths(geoms: Sequence[Any], proj: Any, *, fill: str, stroke: str) -> str:
    ds = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        geom = geom.simplify(0.0008)
        for ring in _rings(geom):
            pts = proj(ring)
            ds.append("M" + "L".join(f"{_f(x)} {_f(y)}" for x, y in pts) + "Z")
    if not ds:
        return ""
    return f'<path d="{"".join(ds)}" fill="{fill}" stroke="{stroke}" stroke-width="0.8"/>'
