"""How tables are written: the file formats behind :func:`parkgeo.io.write_table`, formula
neutralising for CSV, text for standard output, and the temporary sibling of atomic writes."""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from parkgeo._errors import SchemaError

__all__ = ["format_csv", "format_json"]

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def temp_sibling(path: Path) -> Path:
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent
    )
    os.close(fd)
    return Path(name)


def finish_atomic(temp: Path, target: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(temp, 0o666 & ~umask)
    os.replace(temp, target)
    if hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def with_index(df: pd.DataFrame) -> pd.DataFrame:
    if any(name is not None for name in df.index.names):
        result: pd.DataFrame = df.reset_index()
        return result
    return df


def as_geodataframe(df: pd.DataFrame, fmt: str) -> Any:
    import geopandas as gpd

    if isinstance(df, gpd.GeoDataFrame):
        return df
    if "lon" in df.columns and "lat" in df.columns:
        return gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
        )
    raise SchemaError(f"{fmt} output needs geometries or lon/lat columns; use csv or parquet")


def neutralise(series: pd.Series) -> pd.Series:
    text = series.astype("str")
    starts = text.str.startswith(_DANGEROUS).fillna(False)
    if not starts.any():
        return series
    number = text.str.fullmatch(_PLAIN_NUMBER.pattern).fillna(False)
    risky = starts & ~number
    if not risky.any():
        return series
    result: pd.Series = series.astype(object).where(~risky, "'" + text)
    return result


def format_csv(df: pd.DataFrame, *, raw: bool = False) -> str:
    """The table as CSV text (UTF-8, ``\\n`` line ends, floats written exactly).

    Cells of text columns that start with ``= + - @``, tab or carriage return are prefixed
    with ``'`` so that spreadsheet programs do not run them as formulas (unless ``raw``);
    numbers, including negative ones, are written as numbers. A named index is written as a
    column; an unnamed one is not. Geometries are written as WKT.

    Examples
    --------
    >>> print(format_csv(pd.DataFrame({"a": ["@SUM(A1)", "-5"], "b": [-1, 2]})), end="")
    a,b
    '@SUM(A1),-1
    -5,2
    """
    table = with_index(df)
    table = _geometry_as_wkt(table)
    if not raw:
        out = {}
        for col in table.columns:
            values = table[col]
            if not (
                pd.api.types.is_numeric_dtype(values.dtype)
                or pd.api.types.is_bool_dtype(values.dtype)
            ):
                values = neutralise(values)
            out[col] = values
        table = pd.DataFrame(out, index=table.index)
        table.columns = [_neutralise_name(c) for c in table.columns]
    buffer = _io.StringIO()
    # Python's csv module quotes a field holding "\n" but not one holding a lone "\r" (with
    # "\n" line ends), which would split the row when read back; quote all text then.
    quoting: Literal[0, 2] = (
        csv.QUOTE_NONNUMERIC if _has_carriage_return(table) else csv.QUOTE_MINIMAL
    )
    table.to_csv(buffer, index=False, lineterminator="\n", quoting=quoting)
    return buffer.getvalue()


def _has_carriage_return(table: pd.DataFrame) -> bool:
    for col in table.columns:
        values = table[col]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        if values.astype("str").str.contains("\r", regex=False).fillna(False).any():
            return True
    return "\r" in "".join(map(str, table.columns))


def _neutralise_name(name: object) -> object:
    text = str(name)
    if text.startswith(_DANGEROUS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return name


def _geometry_as_wkt(df: pd.DataFrame) -> pd.DataFrame:
    import sys

    if "geopandas" not in sys.modules:
        return df
    import geopandas as gpd

    geo_cols = [c for c in df.columns if isinstance(df[c].dtype, gpd.array.GeometryDtype)]
    if not geo_cols:
        return df
    plain = pd.DataFrame(df).copy()
    for col in geo_cols:
        plain[col] = gpd.GeoSeries(df[col]).to_wkt()
    result: pd.DataFrame = plain
    return result


def format_json(df: pd.DataFrame) -> str:
    """The table as a JSON array of records (UTF-8, NaN as null, floats exact, geometry WKT).

    Examples
    --------
    >>> format_json(pd.DataFrame({"park": ["甲"], "tax_per_ha": [float("nan")], "n": [3]}))
    '[{"park": "甲", "tax_per_ha": null, "n": 3}]\\n'
    """
    table = _geometry_as_wkt(with_index(df))
    records = []
    columns = [str(c) for c in table.columns]
    for row in table.itertuples(index=False, name=None):
        records.append({c: _json_value(v) for c, v in zip(columns, row, strict=True)})
    return json.dumps(records, ensure_ascii=False, allow_nan=False) + "\n"


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, (str, int)):
        return value
    return str(value)
