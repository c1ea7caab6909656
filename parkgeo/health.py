"""A data health report on a parks file and an enterprises file (``parkgeo check``).

Before trusting any figure, a planner wants to know what parkgeo made of the two files: how
many rows were read, kept and ledgered (and why); which columns were recognised, which
canonical ones are missing and which headers went unused (with the canonical column each one
looks most like: ``税费合计`` -> ``tax``); whether the coordinates look like GCJ-02/BD-09; which
years are present and whether the plan's baseline year is among them; which parks were
repaired; and values that look wrong: a firm's tax or energy orders of magnitude off the others
(a 元/万元 mix-up), ids that differ only by full-width forms or invisible characters.

:func:`health_report` builds the report with the public readers and :func:`parkgeo.assign_parks`
only, so it describes exactly what every command sees. ``attention`` lists what needs the
user; an empty list means clean (``parkgeo check`` exits 0, else 3).
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["health_report", "summary_line"]

log = logging.getLogger("parkgeo")

_MEASURES = ("tax", "profit", "value_added", "energy_tce", "employees")
_BEYOND_P99 = 100  # times the 99th percentile: a unit mix-up, not a big firm
_MIN_FIRMS = 50
_SHOWN = 10
_LOOKS_LIKE = 0.5
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0]")  # fmt: skip


def health_report(
    parks: str | Path,
    enterprises: str | Path,
    *,
    columns: dict[str, dict[str, str]] | None = None,
    coord_system: str = "wgs84",
    parks_coord_system: str = "wgs84",
    parks_crs: Any = None,
    encoding: str | None = None,
    baseline_year: int = 2013,
) -> dict[str, Any]:
    """Read both files as every command does and report on their health.

    Parameters
    ----------
    parks, enterprises : str or path-like
        The two files.
    columns : dict, optional
        The column mapping (``{"enterprises": {...}, "parks": {...}}``, as
        :func:`parkgeo.read_column_mapping` returns).
    coord_system, parks_coord_system, parks_crs, encoding
        As for :func:`parkgeo.read_enterprises` / :func:`parkgeo.read_parks`.
    baseline_year : int
        The plan's baseline year (changes are measured from it).

    Returns
    -------
    dict
        JSON-ready: ``enterprises`` (rows, ledger by reason, columns, years), ``parks``
        (count, repairs), ``join`` (counts per match kind, coordinate system evidence),
        ``suspicious`` (measure outliers, duplicate-looking ids), ``attention`` (one sentence
        per problem) and ``status`` (``"clean"`` or ``"needs attention"``).

    Raises
    ------
    ParkgeoError
        A file cannot be read at all (the same one-line errors as every command).

    Examples
    --------
    >>> import parkgeo
    >>> report = health_report(parkgeo.sample_path("parks"), parkgeo.sample_path("enterprises"))
    >>> report["enterprises"]["rows_read"] == report["enterprises"]["rows_kept"] + sum(
    ...     report["enterprises"]["ledger_by_reason"].values())
    True
    >>> report["enterprises"]["years"]["baseline_present"], report["join"]["coord_system"]["likely"]
    (True, None)
    """
    report, _ = health_and_data(
        parks,
        enterprises,
        columns=columns,
        coord_system=coord_system,
        parks_coord_system=parks_coord_system,
        parks_crs=parks_crs,
        encoding=encoding,
        baseline_year=baseline_year,
    )
    return report


def summary_line(
    *,
    n_read: int,
    n_kept: int,
    rejects: pd.DataFrame,
    columns: Mapping[str, str],
    needs: Sequence[str] = (),
    years: Mapping[int, int] | None = None,
    baseline_year: int | None = None,
) -> str:
    """The health of what a command just read, in one line (counts it already has: no read).

    Examples
    --------
    >>> ledger = pd.DataFrame({"reason": ["bad_lonlat", "bad_lonlat", "duplicate"]})
    >>> summary_line(n_read=10, n_kept=7, rejects=ledger, columns={"tax": "纳税"},
    ...              needs=("tax", "energy_tce"), years={2015: 4, 2016: 3}, baseline_year=2013)
    'data health: 10 rows read, 7 kept, 3 ledgered (bad_lonlat 2, duplicate 1); needed but not found: energy_tce (map it with --columns); years 2015..2016 (4, 3 rows), baseline 2013 NOT present; details: parkgeo check'
    """
    parts = [f"{n_read} rows read, {n_kept} kept, {len(rejects)} ledgered"]
    if len(rejects) and "reason" in rejects.columns:
        top = rejects["reason"].value_counts()
        shown = ", ".join(f"{k} {int(v)}" for k, v in top.head(3).items())
        parts[0] += f" ({shown}{', ...' if len(top) > 3 else ''})"
    missing = [c for c in needs if c not in columns]
    if missing:
        parts.append(f"needed but not found: {', '.join(missing)} (map it with --columns)")
    attention = bool(missing) or bool(len(rejects))
    if years:
        ordered = sorted(years)
        span = str(ordered[0]) if len(ordered) == 1 else f"{ordered[0]}..{ordered[-1]}"
        counts = ", ".join(str(int(years[y])) for y in ordered[:6])
        text = f"years {span} ({counts}{', ...' if len(ordered) > 6 else ''} rows)"
        if baseline_year is not None:
            present = baseline_year in years
            attention = attention or not present
            text += f", baseline {baseline_year} {'present' if present else 'NOT present'}"
        parts.append(text)
    if attention:
        parts.append("details: parkgeo check")
    return "data health: " + "; ".join(parts)


def health_and_data(
    parks: str | Path,
    enterprises: str | Path,
    *,
    columns: dict[str, dict[str, str]] | None,
    coord_system: str,
    parks_coord_system: str,
    parks_crs: Any,
    encoding: str | None,
    baseline_year: int,
) -> tuple[dict[str, Any], Any]:
    """The report, and the loaded enterprises (for the command's ``--rejects``)."""
    from parkgeo import assign_parks, read_enterprises, read_parks

    mapping = columns or {}
    park_table = read_parks(
        parks, columns=mapping.get("parks"), coord_system=parks_coord_system, crs=parks_crs
    )
    loaded = read_enterprises(
        enterprises,
        columns=mapping.get("enterprises"),
        coord_system=coord_system,
        encoding=encoding,
    )
    data = loaded.data
    attention: list[str] = []
    firms = _enterprise_section(loaded, attention, baseline_year)
    repairs: list[dict[str, Any]] = [
        {str(k): _plain(v) for k, v in r.items()} for r in list(park_table.attrs.get("repairs", []))
    ]
    park_section = {"file": str(parks), "n_parks": len(park_table), "repairs": repairs}
    for r in repairs:
        attention.append(f"park {r['park_id']} was repaired ({r['problem']}: {r['action']})")
    join = _join_section(assign_parks(data, park_table, nearest=False), attention)
    suspicious = {
        "measure_outliers": _measure_outliers(data, attention),
        "duplicate_looking_ids": _duplicate_looking_ids(data, loaded.rejects, attention),
    }
    report = {
        "enterprises": firms,
        "parks": park_section,
        "join": join,
        "suspicious": suspicious,
        "attention": attention,
        "status": "needs attention" if attention else "clean",
    }
    return report, loaded


# --------------------------------------------------------------------------------------------
# enterprises: rows, columns, years
# --------------------------------------------------------------------------------------------


def _enterprise_section(loaded: Any, attention: list[str], baseline_year: int) -> dict[str, Any]:
    data, rejects = loaded.data, loaded.rejects
    by_reason = {str(k): int(v) for k, v in rejects["reason"].value_counts().sort_index().items()}
    if by_reason:
        attention.append(
            f"{len(rejects)} of {loaded.n_read} enterprise rows were ledgered ("
            + ", ".join(f"{k} {v}" for k, v in by_reason.items())
            + "); write them with --rejects PATH"
        )
    recognised = {str(k): str(v) for k, v in data.attrs.get("columns", {}).items()}
    headers = _headers(Path(loaded.source), data.attrs)
    used = set(recognised.values())
    unused: list[dict[str, Any]] = []
    for header in headers:
        if header in used or not header.strip():
            continue
        canonical, score = _closest_canonical(header)
        unused.append({"header": header, "closest": canonical, "similarity": round(score, 2)})
    missing = [m for m in _MEASURES if m not in recognised]
    for item in unused:
        if item["closest"] in missing and item["similarity"] >= _LOOKS_LIKE:
            attention.append(
                f"measure {item['closest']} was not found, and the unused header "
                f"{item['header']!r} looks like it: map it with --columns "
                f'({item["closest"]} = "{item["header"]}" under [enterprises])'
            )
    years = (
        data["year"].dropna().astype(int) if "year" in data.columns else pd.Series([], dtype=int)
    )
    counts = {str(y): int(n) for y, n in years.value_counts().sort_index().items()}
    present = [int(y) for y in counts]
    if present and baseline_year not in present:
        attention.append(
            f"the baseline year {baseline_year} is not in the data (years {_years(present)}): "
            "every change and target status will be 'no baseline'; pass --baseline-year"
        )
    elif len(present) == 1:
        attention.append(f"only one year ({present[0]}) in the data: no change can be measured")
    return {
        "file": loaded.source,
        "rows_read": int(loaded.n_read),
        "rows_kept": len(data),
        "ledger_by_reason": by_reason,
        "encoding": loaded.encoding,
        "coord_system": loaded.coord_system,
        "columns": {"recognised": recognised, "missing_measures": missing, "unused": unused},
        "years": {
            "rows_per_year": counts,
            "baseline": baseline_year,
            "baseline_present": baseline_year in present,
        },
    }


def _years(years: list[int]) -> str:
    return ", ".join(map(str, years)) if len(years) <= 6 else f"{years[0]}..{years[-1]}"


def _headers(path: Path, attrs: dict[str, Any]) -> list[str]:
    """The file's header row as the reader saw it (best effort; [] when it cannot tell)."""
    if "headers" in attrs:  # a reader that records them
        return [str(h) for h in attrs["headers"]]
    suffix = "".join(path.suffixes[-2:]).lower()
    row = int(attrs.get("header_row") or 0)
    try:
        if path.suffix.lower() == ".xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = (
                    book[attrs["sheet"]] if attrs.get("sheet") in book.sheetnames else book.active
                )
                for values in sheet.iter_rows(min_row=row + 1, max_row=row + 1, values_only=True):
                    return [str(v) for v in values if v is not None]
            finally:
                book.close()
            return []
        if path.suffix.lower() in (".parquet", ".geoparquet", ".pq"):
            import pyarrow.parquet as pq

            return [n for n in pq.read_schema(path).names if n != "geometry"]
        if path.suffix.lower() in (".gpkg", ".geojson", ".json", ".shp", ".zip"):
            import pyogrio

            return [str(f) for f in pyogrio.read_info(path)["fields"]]
        text = _open_text(path, suffix, attrs.get("encoding") or "utf-8")
        reader = csv.reader(text, delimiter=str(attrs.get("delimiter") or ","))
        for i, values in enumerate(reader):
            if i == row:
                return [v.strip() for v in values]
    except (OSError, ValueError, KeyError, csv.Error):
        return []
    return []


def _open_text(path: Path, suffix: str, encoding: str) -> io.TextIOBase:
    import bz2
    import gzip
    import lzma

    openers: dict[str, Any] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
    raw = openers.get(path.suffix.lower(), open)(path, "rb")
    head = raw.read(1 << 20)  # headers are near the top; bounded however long the file
    raw.close()
    return io.StringIO(head.decode(encoding, errors="replace").lstrip("\ufeff"))


def _closest_canonical(header: str) -> tuple[str, float]:
    from parkgeo._columns import ENTERPRISE_ALIASES, normalize_header

    name = normalize_header(header)
    best, best_score = "", 0.0
    for canonical, aliases in ENTERPRISE_ALIASES.items():
        for alias in aliases:
            other = normalize_header(alias)
            if not name or not other:
                continue
            ratio = difflib.SequenceMatcher(None, name, other).ratio()
            shared = len(set(name) & set(other)) / min(len(set(name)), len(set(other)))
            # Chinese headers share characters more than sequences (税费合计 / 纳税总额)
            score = max(ratio, shared if _is_cjk(name) else 0.0)
            if score > best_score:
                best, best_score = canonical, score
    return best, best_score


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --------------------------------------------------------------------------------------------
# join, suspicious values
# --------------------------------------------------------------------------------------------


def _join_section(result: Any, attention: list[str]) -> dict[str, Any]:
    summary = result.summary
    counts = {str(k): int(n) for k, n in zip(summary["match"], summary["n"], strict=True)}
    evidence = dict(summary.attrs.get("coord_system") or {})
    if evidence.get("likely"):
        attention.append(
            f"the coordinates look like {evidence['likely']}: {evidence['matched']} of "
            f"{evidence['n_sampled']} sampled locations are in a park as given, "
            f"{evidence['matched_if'][evidence['likely']]} would be; pass {evidence['suggestion']}"
        )
    total = sum(counts.values())
    if total and counts.get("unmatched", 0) == total:
        attention.append("no enterprise is in any park: check both files' coordinate systems")
    return {"match": counts, "coord_system": evidence}


def _measure_outliers(data: pd.DataFrame, attention: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for column in ("tax", "energy_tce", "value_added", "profit"):
        if column not in data.columns:
            continue
        values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        positive = np.isfinite(values) & (values > 0)
        if positive.sum() < _MIN_FIRMS:
            continue  # too few firms to say what "the rest" look like
        # Firms span orders of magnitude (a steel plant, a software house): only a value far
        # beyond the 99th percentile is suspect. 元 entered as 万元 is 10,000 times too large.
        ordered = np.sort(values[positive])
        # the 99th percentile of the others: the suspects themselves must not set the bar
        p99 = float(np.percentile(ordered[: -max(1, int(0.005 * len(ordered)))], 99))
        centre = float(np.median(values[positive]))
        off = values[positive] > _BEYOND_P99 * p99
        if not off.any():
            continue
        rows = np.flatnonzero(positive)[off]
        ids = data["enterprise_id"].to_numpy(dtype=object) if "enterprise_id" in data else rows
        years = data["year"].to_numpy(dtype=object) if "year" in data else [None] * len(data)
        for i in rows[:_SHOWN]:
            found.append(
                {
                    "column": column,
                    "enterprise_id": str(ids[i]),
                    "year": _plain(years[i]),
                    "value": float(values[i]),
                    "median": centre,
                    "times_99th_percentile": round(float(values[i] / p99), 1),
                }
            )
        attention.append(
            f"{int(off.sum())} {column} values are over {_BEYOND_P99} times the 99th percentile "
            f"of the other firms ({p99:.4g}; median {centre:.4g}), e.g. {ids[rows[0]]}: "
            f"{values[rows[0]]:.6g}; check their unit (元 entered as 万元?)"
        )
    return found


def normalise_id(value: object) -> str:
    """An id as a person reads it: NFKC (full-width forms), no invisible characters, no
    surrounding space, case-folded.

    Examples
    --------
    >>> normalise_id("Ｅ１"), normalise_id("E1\\u200b"), normalise_id(" e1 ")
    ('e1', 'e1', 'e1')
    """
    text = unicodedata.normalize("NFKC", str(value))
    return _INVISIBLE.sub("", text).strip().casefold()


_WRITTEN = re.compile(r"this row's id is written '(.*?)'")


def _duplicate_looking_ids(
    data: pd.DataFrame, ledger: pd.DataFrame, attention: list[str]
) -> list[dict[str, Any]]:
    """Ids that differ only by width, invisible characters, case or spaces.

    The reader already merges width and invisible-character variants (the extra rows go to the
    ledger as repeated keys, their message saying how the id was written); case and space
    variants stay different firms. Both are reported here.
    """
    found: list[dict[str, Any]] = []
    if "message" in ledger.columns and len(ledger):
        written = ledger["message"].astype(str).str.extract(_WRITTEN, expand=False)
        merged = ledger.loc[written.notna(), "enterprise_id"].astype(str)
        for key, forms in written[written.notna()].groupby(merged.to_numpy()):
            found.append(
                {"normalised": str(key), "ids": sorted({str(key), *forms}), "merged": True}
            )
        if found:
            example = ", ".join(repr(i) for i in found[0]["ids"])
            attention.append(
                f"{int(written.notna().sum())} rows had enterprise ids written with full-width "
                f"forms or invisible characters (e.g. {example}); they were read as the same "
                "firm and their repeated rows are in the ledger: check the source system"
            )
    if "enterprise_id" not in data.columns or not len(data):
        return found
    raw = pd.Series(data["enterprise_id"].astype(str).unique())
    normal = raw.map(normalise_id)
    groups = raw.groupby(normal.to_numpy()).agg(list)
    groups = groups[groups.map(len) > 1]
    alike: list[dict[str, Any]] = [
        {"normalised": str(k), "ids": sorted(ids), "merged": False} for k, ids in groups.items()
    ]
    if alike:
        example = ", ".join(repr(i) for i in sorted(groups.iloc[0]))
        attention.append(
            f"{len(alike)} groups of enterprise ids differ only by case or spaces "
            f"(e.g. {example}): they count as different firms"
        )
    return [*found, *alike][: _SHOWN * 10]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
