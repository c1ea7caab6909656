"""The evaluation's own enterprise columns: revenue, R&D, emissions, water, electricity, the
above-scale flag, land area, founding year, and any flag column a scheme names (vetoes,
bonuses).

Headers are recognised like parkgeo's other columns (:mod:`parkgeo._columns`:
``EVALUATION_ALIASES``; units in brackets, ``营业收入(元)``, are honoured) and cells are parsed
like the loaders parse them (``1,234.5``, ``123万元``, ``800平方米``). A cell that cannot be
read becomes missing and is reported (``input_notes``), never silently dropped.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.dataset as pads
import pyogrio
from numpy.typing import NDArray

from parkgeo._cells import parse_numbers
from parkgeo._columns import (
    header_scale,
    header_unit,
    normalize_header,
)
from parkgeo._columns_eval import ELECTRICITY_UNITS, EVALUATION_ALIASES, MASS_UNITS
from parkgeo._errors import InputFormatError, SchemaError
from parkgeo._formats import xlsx_header
from parkgeo._sniff import HEADER_SEARCH_ROWS, kind_of

__all__ = ["evaluation_columns", "match_evaluation_columns", "read_evaluation_columns"]

log = logging.getLogger("parkgeo")

_KIND = {
    "revenue": "money",
    "rd_expense": "money",
    "tech_investment": "money",
    "cod_t": "mass",
    "so2_t": "mass",
    "nox_t": "mass",
    "emissions_t": "mass",
    "water_t": "mass",
    "electricity_kwh": "electricity",
    "land_area": "area",
    "founded_year": "year",
    "above_scale": "flag",
}
_YES = {"1", "1.0", "true", "t", "yes", "y", "是", "规上", "规模以上", "√"}
_NO = {"0", "0.0", "false", "f", "no", "n", "否", "规下", "规模以下"}


def match_evaluation_columns(
    headers: Iterable[object], *, mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Canonical evaluation column -> the header that supplies it.

    Examples
    --------
    >>> match_evaluation_columns(["营业收入(亿元)", "用地面积（亩）", "规上", "纳税总额"])
    {'revenue': '营业收入(亿元)', 'above_scale': '规上', 'land_area': '用地面积（亩）'}
    """
    header_list = [str(h) for h in headers]
    out: dict[str, str] = {}
    explicit = dict(mapping or {})
    for canonical, names in EVALUATION_ALIASES.items():
        if canonical in explicit:
            if explicit[canonical] not in header_list:
                raise SchemaError(
                    f"the column mapping says {canonical} = {explicit[canonical]!r}, but the "
                    f"file has no such header"
                )
            out[canonical] = explicit[canonical]
            continue
        wanted = {normalize_header(n) for n in (canonical, *names)}
        hits = [h for h in header_list if normalize_header(h) in wanted]
        if len(hits) > 1:
            raise SchemaError(
                f"several headers could be {canonical}: {', '.join(map(repr, hits))}; name one "
                f'in the column mapping ({canonical} = "...")'
            )
        if hits:
            out[canonical] = hits[0]
    return out


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")


def _with_units(
    series: pd.Series, units: Mapping[str, float]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Numbers with unit suffixes from ``units`` (``12吨``, ``3.5万千瓦时``)."""

    parsed = parse_numbers(series, kind="plain")
    values = parsed.values.copy()
    invalid = parsed.invalid.copy()
    rows = np.flatnonzero(invalid)
    if len(rows):
        texts = series.iloc[rows].astype("str").map(_fold)
        by_length = sorted(units, key=len, reverse=True)
        for pos, text in zip(rows, texts, strict=True):
            for unit in by_length:
                if unit and text.endswith(unit):
                    number = parse_numbers(pd.Series([text[: -len(unit)]], dtype="str"))
                    if not number.invalid[0] and not number.missing[0]:
                        values[pos] = number.values[0] * units[unit]
                        invalid[pos] = False
                    break
    return values, invalid


def _flags(series: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        invalid = ~np.isnan(values) & ~np.isin(values, [0.0, 1.0])
        return np.where(invalid, np.nan, values), invalid
    text = series.astype("str").map(lambda v: _fold(v) if isinstance(v, str) else "")
    text = text.fillna("")
    yes = text.isin(_YES).to_numpy()
    no = text.isin(_NO).to_numpy()
    empty = text.isin(["", "nan", "none", "-", "—", "null", "na", "n/a"]).to_numpy()
    values = np.where(yes, 1.0, np.where(no, 0.0, np.nan))
    return values, ~(yes | no | empty)


def evaluation_columns(
    raw: pd.DataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    extra: Iterable[str] = (),
    source: str = "input",
) -> pd.DataFrame:
    """Parse the evaluation columns of a raw enterprise table (any headers).

    Parameters
    ----------
    raw : pandas.DataFrame
        The table as read (text or numbers), with the user's headers.
    mapping : dict, optional
        Canonical name -> header, for headers not recognised.
    extra : iterable of str
        Further columns to carry as they are (a scheme's veto and bonus flags).
    source : str
        For messages.

    Returns
    -------
    pandas.DataFrame
        On ``raw``'s index: the recognised canonical columns in parkgeo's units (money 万元,
        masses and water t, electricity kWh; ``land_ha`` and ``land_mu`` from the land area;
        ``above_scale`` 1/0), the ``extra`` columns, and ``input_notes`` naming every cell
        that could not be read (it became missing).

    Examples
    --------
    >>> raw = pd.DataFrame({"营业收入(万元)": ["1,200", "3亿元"], "用地面积(平方米)": ["6667", "x"],
    ...                     "规上": ["是", "否"]})
    >>> out = evaluation_columns(raw)
    >>> out["revenue"].tolist(), out["land_mu"].round(3).tolist(), out["above_scale"].tolist()
    ([1200.0, 30000.0], [10.0, nan], [1.0, 0.0])
    >>> out["input_notes"].tolist()
    [None, "land_area: 'x' is not a number (read as missing)"]
    """

    found = match_evaluation_columns(raw.columns, mapping=mapping)
    n = len(raw)
    out: dict[str, Any] = {}
    notes = np.full(n, "", dtype=object)
    for canonical, header in found.items():
        series = raw[header]
        kind = _KIND[canonical]
        if kind == "flag":
            values, invalid = _flags(series)
        elif kind == "mass":
            values, invalid = _with_units(series, MASS_UNITS)
        elif kind == "electricity":
            values, invalid = _with_units(series, ELECTRICITY_UNITS)
        else:
            parsed = parse_numbers(series, kind=kind)
            values, invalid = parsed.values.copy(), parsed.invalid.copy()
            named = normalize_header(header)
            if kind == "area" and header_unit(header) is None and named.endswith("ha"):
                pass  # land_ha: hectares, parkgeo's unit
            elif kind == "area" and header_unit(header) is None and named.endswith("mu"):
                plain = np.ones(n, dtype=bool)
                plain[parsed.converted] = False
                values = np.where(plain, values / 15.0, values)  # land_mu: mu
            elif kind == "area" and header_unit(header) is None:
                # A land column without a unit in its header: cells written with a unit were
                # converted to ha; plain numbers are taken as mu, the unit of the evaluation.
                plain = np.ones(n, dtype=bool)
                plain[parsed.converted] = False
                plain &= ~np.isnan(values)
                if plain.any():
                    log.warning(
                        "%s: land column %r states no unit; its plain numbers are read as mu "
                        "(亩). Write the unit in the header, e.g. 用地面积(平方米), if they are not",
                        source,
                        header,
                    )
                values = np.where(plain, values / 15.0, values)
        if (
            kind in ("money", "mass", "electricity")
            or kind == "area"
            and header_unit(header) is not None
        ):
            values = values * header_scale(canonical, header)
        with np.errstate(invalid="ignore"):
            negative = values < 0
        if negative.any() and kind != "year":
            for pos in np.flatnonzero(negative):
                notes[pos] += f"{canonical}: {values[pos]:g} is below zero (read as missing); "
            values = np.where(negative, np.nan, values)
        for pos in np.flatnonzero(invalid):
            cell = str(series.iloc[pos])[:40]
            notes[pos] += f"{canonical}: {cell!r} is not a number (read as missing); "
        if canonical == "land_area":
            out["land_ha"] = values
            out["land_mu"] = values * 15.0
        else:
            out[canonical] = values
    bad = int((notes != "").sum())
    if bad:
        log.warning(
            "%s: %d row(s) have evaluation cells that could not be read; they count as missing "
            "(see the input_notes column)",
            source,
            bad,
        )
    for name in extra:
        if name in raw.columns and name not in out:
            out[name] = raw[name].to_numpy()
    frame = pd.DataFrame(out, index=raw.index)
    cleaned = pd.Series(notes, index=raw.index, dtype=object).str.rstrip("; ")
    frame["input_notes"] = cleaned.where(cleaned != "", None)
    frame.attrs["columns"] = found
    return cast(pd.DataFrame, frame)


def read_evaluation_columns(
    path: str | Path,
    loaded: Any,
    *,
    mapping: Mapping[str, str] | None = None,
    extra: Iterable[str] = (),
) -> pd.DataFrame:
    """The evaluation columns of an enterprise file already read by
    :func:`parkgeo.io.read_enterprises`, aligned to its kept rows (``loaded.data.index``).

    The file is read again for just these columns, the way the loader read it (its encoding,
    delimiter, header row or sheet, recorded in ``loaded.data.attrs``).
    """
    path = Path(path)
    attrs = loaded.data.attrs
    wanted_extra = list(extra)
    raw = _read_raw(path, attrs, mapping, wanted_extra)
    if len(raw) < loaded.n_read:
        raise InputFormatError(
            f"{path}: read {len(raw)} rows for the evaluation columns but {loaded.n_read} for "
            "the enterprise columns; save the table as Parquet or .xlsx and try again"
        )
    parsed = evaluation_columns(raw, mapping=mapping, extra=wanted_extra, source=str(path))
    return cast(pd.DataFrame, parsed.reindex(loaded.data.index))


def _wanted(headers: list[str], mapping: Mapping[str, str] | None, extra: list[str]) -> list[str]:
    found = match_evaluation_columns(headers, mapping=mapping)
    return list(dict.fromkeys([*found.values(), *(h for h in extra if h in headers)]))


def _read_raw(
    path: Path, attrs: Mapping[str, Any], mapping: Mapping[str, str] | None, extra: list[str]
) -> pd.DataFrame:

    kind = kind_of(path)
    if kind == "parquet":
        dataset = pads.dataset(str(path), format="parquet")
        cols = _wanted(list(dataset.schema.names), mapping, extra)
        frame = dataset.to_table(columns=cols).to_pandas()
        frame.index = pd.RangeIndex(len(frame))
        return cast(pd.DataFrame, frame)
    if kind == "csv":
        encoding = attrs.get("encoding") or "utf-8"
        header_row = int(attrs.get("header_row") or 0)
        delimiter = attrs.get("delimiter") or ","
        head = pd.read_csv(
            path, encoding=encoding, sep=delimiter, skiprows=header_row, nrows=0, dtype="str"
        )
        headers = [str(h).lstrip("\ufeff") for h in head.columns]
        cols = _wanted(headers, mapping, extra)
        frame = pd.read_csv(
            path,
            encoding=encoding,
            sep=delimiter,
            skiprows=header_row,
            dtype="str",
            keep_default_na=False,
            names=headers,
            header=0,
            usecols=cols,
        )
        frame.index = pd.RangeIndex(len(frame))
        return frame
    if kind == "xlsx":
        return _read_xlsx(path, attrs, mapping, extra)

    frame = pyogrio.read_dataframe(path, read_geometry=False)
    cols = _wanted([str(c) for c in frame.columns], mapping, extra)
    return cast(pd.DataFrame, pd.DataFrame(frame[cols]).set_axis(pd.RangeIndex(len(frame))))


def _read_xlsx(
    path: Path, attrs: Mapping[str, Any], mapping: Mapping[str, str] | None, extra: list[str]
) -> pd.DataFrame:

    with open(path, "rb") as handle:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            sheet = book[attrs["sheet"]] if attrs.get("sheet") else book.worksheets[0]
            rows = list(sheet.iter_rows(values_only=True))
        finally:
            book.close()
    start, _, headers, _ = xlsx_header(rows[: HEADER_SEARCH_ROWS + 1], {}, str(path))
    cols = _wanted(headers, mapping, extra)
    positions = {h: headers.index(h) for h in cols}
    body = rows[start:]
    data = {
        h: pd.Series([row[j] if j < len(row) else None for row in body], dtype=object)
        for h, j in positions.items()
    }
    return cast(pd.DataFrame, pd.DataFrame(data, index=pd.RangeIndex(len(body))))
