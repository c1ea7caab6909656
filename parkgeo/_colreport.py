"""What a file's headers gave: the canonical columns found and not, and the headers left
unused with the column each most likely means.

Said once per read (INFO, and ``attrs``: ``columns``, ``columns_not_found``,
``columns_unused``); a measure the command needs without a column is a warning naming the
headers that may be meant, an error under ``strict`` (a silent all-NaN tax per hectare
otherwise).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from parkgeo._columns import ALIAS_INDEX, CANONICAL_COLUMNS, ColumnMatch, normalize_header
from parkgeo._errors import SchemaError

__all__ = ["closest_column", "column_report", "log_columns", "warn_lacking"]

log = logging.getLogger("parkgeo")

# Words that say which canonical column a header that matched no alias probably means
# (checked in this order), for the report of unused headers.
_HINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "enterprises": (
        ("经纬", "lonlat"),
        ("经度", "lon"),
        ("纬度", "lat"),
        ("税", "tax"),
        ("利润", "profit"),
        ("增加值", "value_added"),
        ("能耗", "energy_tce"),
        ("能源", "energy_tce"),
        ("标煤", "energy_tce"),
        ("标准煤", "energy_tce"),
        ("人数", "employees"),
        ("人员", "employees"),
        ("职工", "employees"),
        ("员工", "employees"),
        ("行业", "industry"),
        ("年", "year"),
        ("代码", "enterprise_id"),
        ("名称", "name"),
    ),
    "parks": (
        ("面积", "approved_area_ha"),
        ("产业", "leading_industries"),
        ("级别", "level"),
        ("区", "district"),
        ("名称", "name"),
        ("编号", "park_id"),
    ),
}


def closest_column(header: object, kind: str = "enterprises") -> str | None:
    """The canonical column a header that matched no alias most likely means, or None.

    Examples
    --------
    >>> closest_column("税费合计"), closest_column("应交税费"), closest_column("备注")
    ('tax', 'tax', None)
    >>> closest_column("longitud")
    'lon'
    """
    import difflib

    norm = normalize_header(header)
    if not norm:
        return None
    for word, canonical in _HINTS.get(kind, ()):
        if word in norm:
            return canonical
    index = ALIAS_INDEX[kind]
    close = difflib.get_close_matches(norm, list(index), n=1, cutoff=0.75)
    return index[close[0]] if close else None


def column_report(match: ColumnMatch, kind: str = "enterprises") -> dict[str, object]:
    """What a file's headers gave: canonical columns found and not found, and the headers
    left unused with their closest canonical column (None: no guess).

    Examples
    --------
    >>> from parkgeo._columns import match_columns
    >>> m = match_columns(["id", "经度", "纬度", "年份", "税费小计", "备注"])
    >>> report = column_report(m)
    >>> report["unused"]
    {'税费小计': 'tax', '备注': None}
    >>> "tax" in report["not_found"]
    True
    """
    canonical = [c for c in CANONICAL_COLUMNS[kind] if c != "lonlat"]
    used = set(match.columns.values())
    combined = "lonlat" in match.columns
    return {
        "found": dict(match.columns),
        "not_found": [
            c
            for c in canonical
            if c not in match.columns and not (combined and c in ("lon", "lat"))
        ],
        "unused": {h: closest_column(h, kind) for h in match.headers if h not in used and h},
    }


def warn_lacking(
    source: str,
    found: Mapping[str, str],
    report: Mapping[str, Any],
    needs: Sequence[str],
    strict: bool,
) -> None:
    """Say loudly that a needed measure was not found (a warning; under ``strict`` an
    error): its figures would all be empty. (Which columns were found is said once the file
    is read: :func:`log_columns`.)"""
    unused = report["unused"]
    lacking = [c for c in needs if c not in found]
    if not lacking:
        return
    hints = [f"{h!r} (closest: {c})" for h, c in unused.items() if c in lacking]
    message = (
        f"{source}: no column for {', '.join(lacking)}, which this command measures; "
        f"{'its' if len(lacking) == 1 else 'their'} figures will be empty. "
        + (f"Headers that may be meant: {', '.join(hints)}. " if hints else "")
        + "Name the column with a mapping, e.g. --columns columns.toml with "
        + f'{lacking[0]} = "your header" under [enterprises]'
    )
    if strict:
        raise SchemaError(message)
    log.warning("%s", message)


def log_columns(plan: Any) -> None:
    """Say which canonical columns were found and not, and the headers left unused with the
    column each most likely means (INFO; also ``attrs``)."""
    details = plan.details
    unused: dict[str, str | None] = details.get("columns_unused", {})
    log.info(
        "%s: columns found: %s; not found: %s; headers not used: %s",
        plan.source,
        ", ".join(f"{c} <- {h!r}" for c, h in details.get("columns", {}).items()) or "none",
        ", ".join(details.get("columns_not_found", ())) or "none",
        ", ".join(f"{h!r}" + (f" (closest: {c})" if c else "") for h, c in unused.items())
        or "none",
    )
