"""Plain-language text for planners: industry labels, park levels, missing-industry reasons.

The reasons are written here from the structured columns of
:func:`parkgeo.gaps.missing_clusters` (``status``, ``n_firms``, ``peers_with``, ``n_peers``,
``related_present``, ``strategic_category``, ``nearest_cluster_id``/``_km``) in the map's or
report's language, so no cluster number, location quotient or score reaches a planner, and a
concentration that touches the park (0 km) is described as such.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from parkgeo._legend import label

__all__ = [
    "direction_key",
    "industry_labels",
    "level_text",
    "plain_reason",
    "strategic_text",
]

_RELATED = re.compile(r"([A-Z]\d{0,4})\s*\(")


_LABEL_CACHE: dict[tuple[str, str], str] = {}


def industry_labels(codes: Sequence[Any], lang: str) -> dict[str, str]:
    """``code -> "code name"`` for each distinct code (unknown codes: the code).

    Labels are cached per language: a map asks for the same few hundred codes thousands of
    times (popups, reasons, legends), and the classification lookup costs milliseconds.
    """
    which: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    distinct = sorted(
        {str(c) for c in codes if c is not None and str(c) not in ("", "nan", "<NA>", "None")}
    )
    missing = [c for c in distinct if (which, c) not in _LABEL_CACHE]
    if missing:
        from parkgeo.industry import industry_name

        names = industry_name(pd.Series(missing), lang=which)
        for code, name in zip(missing, names.tolist(), strict=True):
            if isinstance(name, str) and name:
                # English names of deeper levels already read "C2710 (in Manufacture of ...)"
                text = name if name.startswith(f"{code} ") else f"{code} {name}"
            else:
                text = code
            _LABEL_CACHE[(which, code)] = text
    return {c: _LABEL_CACHE[(which, c)] for c in distinct}


def level_text(level: Any, lang: str) -> str:
    """A park level (``national``, ``provincial`` ...) in ``lang``; other text as given."""
    if level is None or (isinstance(level, float) and math.isnan(level)) or level is pd.NA:
        return ""
    key = f"level_{str(level).strip().lower()}"
    try:
        return label(key, lang)
    except KeyError:
        return str(level)


def strategic_text(category: Any, lang: str) -> tuple[str, bool]:
    """Strategic categories in ``lang`` and whether the industry is only partly strategic."""
    from parkgeo.industry import STRATEGIC_CATEGORIES_ZH

    if not isinstance(category, str) or not category.strip():
        return "", False
    text = category.strip()
    part = text.lower().startswith("part:")
    if part:
        text = text[5:].strip()
    names = [n.strip() for n in text.split(",") if n.strip()]
    # "Energy saving & environmental protection" holds no comma, so the split is safe
    if lang == "zh":
        names = [STRATEGIC_CATEGORIES_ZH.get(n, n) for n in names]
        return "、".join(names), part
    return ", ".join(names), part


def direction_key(dx_east: float, dy_north: float) -> str:
    """Compass key (``dir_ne`` ...) of a displacement.

    Examples
    --------
    >>> direction_key(1.0, 0.05), direction_key(-1.0, -1.0)
    ('dir_e', 'dir_sw')
    """
    angle = math.degrees(math.atan2(dx_east, dy_north)) % 360
    keys = ("dir_n", "dir_ne", "dir_e", "dir_se", "dir_s", "dir_sw", "dir_w", "dir_nw")
    return keys[int(((angle + 22.5) % 360) // 45)]


def _text(row: Mapping[str, Any], key: str) -> str:
    """A text field, "" when missing (None, NaN, pd.NA)."""
    value = row.get(key)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _num(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key)
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return out


def plain_reason(
    gap: Mapping[str, Any],
    *,
    park_name: str,
    lang: str,
    park_point: tuple[float, float] | None = None,
    cluster_points: Mapping[int, tuple[float, float]] | None = None,
    place_of: Any = None,
) -> str:
    """Why a park is said to miss an industry, in plain words.

    Parameters
    ----------
    gap : mapping
        One row of :func:`parkgeo.gaps.missing_clusters`.
    park_name : str
        The park's name (plain text; the caller escapes the result).
    park_point, cluster_points : optional
        The park's and the clusters' (lon, lat), to say in which direction the nearest
        concentration lies.
    place_of : callable, optional
        ``(lon, lat) -> district name or ""``: where that concentration is.
    """
    code = _text(gap, "industry")
    name_col = "industry_name" if lang == "zh" else "industry_name_en"
    iname = _text(gap, name_col)
    industry = (
        f"{iname}（{code}）"
        if lang == "zh" and isinstance(iname, str) and iname
        else f"{code} {iname}"
        if isinstance(iname, str) and iname
        else code
    )
    parts = []
    n_firms = _num(gap, "n_firms")
    if _text(gap, "status") == "absent" or not (n_firms > 0):
        parts.append(label("reason_absent", lang, park=park_name, industry=industry))
    else:
        parts.append(
            label("reason_weak", lang, park=park_name, n=f"{int(n_firms):,}", industry=industry)
        )
    peers = [p for p in re.split(r"[,;、\s]+", _text(gap, "peers_with")) if p]
    total = _num(gap, "n_peers")
    if peers and total > 0:
        key = "reason_peer_one" if len(peers) == 1 else "reason_peers"
        parts.append(label(key, lang, n=len(peers), total=int(total)))
    related = _RELATED.findall(_text(gap, "related_present"))
    if related:
        names = industry_labels(related, lang)
        sep = "、" if lang == "zh" else ", "
        parts.append(label("reason_related", lang, codes=sep.join(names[c] for c in related)))
    category, part = strategic_text(_text(gap, "strategic_category"), lang)
    if category:
        key = "reason_strategic_part" if part else "reason_strategic"
        parts.append(label(key, lang, category=category))
    km = _num(gap, "nearest_cluster_km")
    if math.isfinite(km):
        if km < 0.05:
            parts.append(label("reason_touching", lang))
        else:
            cid = _num(gap, "nearest_cluster_id")
            where = (
                cluster_points.get(int(cid))
                if cluster_points is not None and math.isfinite(cid)
                else None
            )
            if where is not None and park_point is not None:
                k = math.cos(math.radians(park_point[1]))
                dkey = direction_key((where[0] - park_point[0]) * k, where[1] - park_point[1])
                place = place_of(*where) if place_of is not None else ""
                key = "reason_nearest_at" if place else "reason_nearest"
                parts.append(
                    label(key, lang, km=f"{km:.1f}", direction=label(dkey, lang), place=place)
                )
            else:
                parts.append(
                    label("reason_nearest", lang, km=f"{km:.1f}", direction="").replace("  ", " ")
                )
    sep = "；" if lang == "zh" else "; "
    end = "。" if lang == "zh" else "."
    text = sep.join(parts) + end
    return text[:1].upper() + text[1:] if lang == "en" else text


def cluster_points(clusters: Any) -> dict[int, tuple[float, float]]:
    """``cluster_id -> (lon, lat)`` of each cluster's centre (empty when unknown)."""
    frame = getattr(clusters, "clusters", clusters)
    if not isinstance(frame, pd.DataFrame) or "cluster_id" not in frame.columns:
        return {}
    if {"centroid_lon", "centroid_lat"} <= set(frame.columns):
        lon = pd.to_numeric(frame["centroid_lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame["centroid_lat"], errors="coerce").to_numpy(dtype=float)
    elif "geometry" in frame.columns:
        import geopandas as gpd

        g = gpd.GeoSeries(frame.geometry)
        if g.crs is not None and not g.crs.equals("EPSG:4326"):
            g = g.to_crs("EPSG:4326")
        pts = g.representative_point()
        lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    else:
        return {}
    ids = pd.to_numeric(frame["cluster_id"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(ids) & np.isfinite(lon) & np.isfinite(lat)
    return {int(i): (float(x), float(y)) for i, x, y in zip(ids[ok], lon[ok], lat[ok], strict=True)}


def district_finder(districts: Any, lang: str) -> Any:
    """``(lon, lat) -> district name`` (English ``name_en`` on English text when present)."""
    if districts is None or not len(districts):
        return None
    import shapely

    d = (
        districts.to_crs("EPSG:4326")
        if districts.crs and not districts.crs.equals("EPSG:4326")
        else districts
    )
    names_col = "name_en" if lang == "en" and "name_en" in d.columns else "name"
    if names_col not in d.columns:
        return None
    names = d[names_col].astype(str).tolist()
    geoms = d.geometry.to_numpy()
    tree = shapely.STRtree(geoms)

    def find(lon: float, lat: float) -> str:
        hits = tree.query(shapely.Point(lon, lat), predicate="intersects")
        return names[int(hits[0])] if len(hits) else ""

    return find
