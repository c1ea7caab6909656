"""Read enterprises and parks from the files people actually have; write results atomically.

Readers
-------
* :func:`read_enterprises`: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030 detected; ``,`` ``;`` tab
  ``|`` delimiters detected; a title line above the header is skipped), Excel ``.xlsx`` (the
  header row is found even below a title or a merged two-row header), Parquet and GeoParquet
  (only the needed columns are read; point geometry becomes lon/lat), GeoPackage. Every cell is
  read as it is and parsed with care by :func:`parkgeo._validate.validate_enterprises`, which
  returns a reject ledger instead of dropping rows.
* :func:`read_parks`: GeoJSON, GeoPackage, Shapefile (``.cpg`` honoured; a GBK ``.dbf``
  without ``.cpg`` detected), GeoParquet; CRS checked; GCJ-02/BD-09 converted; polygons
  validated and repaired.

Writers
-------
:func:`write_table` writes CSV (optionally UTF-8 with BOM for Excel, formula-like cells
neutralised), Parquet/GeoParquet, GeoPackage, GeoJSON and JSON, always through
:func:`atomic_write`, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from parkgeo import _outputs, _xlsx
from parkgeo._columns import (
    ENTERPRISE_COLUMNS,
    PARK_COLUMNS,
)
from parkgeo._errors import InputFormatError, ParkgeoError, SchemaError
from parkgeo._formats import (
    split_lonlat_column,
)
from parkgeo._parkread import read_parks
from parkgeo._writers import (
    as_geodataframe,
    finish_atomic,
    format_csv,
    format_json,
    temp_sibling,
    with_index,
)

__all__ = [
    "Loaded",
    "atomic_path",
    "atomic_write",
    "format_csv",
    "format_json",
    "read_column_mapping",
    "read_enterprises",
    "read_parks",
    "split_lonlat_column",
    "write_table",
]

log = logging.getLogger("parkgeo")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Loaded:
    """An enterprise table as loaded: the kept rows, the reject ledger and how it was read.

    Attributes
    ----------
    data : pandas.DataFrame
        The canonical enterprise table (see ``docs/architecture.md``), indexed by
        ``source_row``, lon/lat in WGS-84.
    rejects : pandas.DataFrame
        The reject ledger; ``n_read == len(data) + len(rejects)``.
    n_read : int
        Data rows read from the file.
    source : str
        The file read.
    encoding : str or None
        Text encoding used (CSV), ``None`` for binary formats.
    coord_system : str
        The coordinate system the file's lon/lat were in (converted to WGS-84 in ``data``).
    """

    data: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    source: str
    encoding: str | None
    coord_system: str


# --------------------------------------------------------------------------------------------
# column mapping files
# --------------------------------------------------------------------------------------------


def read_column_mapping(path: PathLike) -> dict[str, dict[str, str]]:
    """Read a TOML column mapping.

    The file has an ``[enterprises]`` and/or a ``[parks]`` table, each mapping parkgeo's
    canonical column names to the headers in your files::

        [enterprises]
        enterprise_id = "统一社会信用代码"
        tax = "纳税总额(万元)"

        [parks]
        park_id = "代码"

    Parameters
    ----------
    path : str or path-like
        The TOML file.

    Returns
    -------
    dict
        ``{"enterprises": {...}, "parks": {...}}`` (each possibly empty).

    Raises
    ------
    InputFormatError
        The file is not valid TOML.
    SchemaError
        An unknown section or canonical name, or a value that is not a string.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "columns.toml"
    >>> _ = p.write_text('[enterprises]\\ntax = "纳税总额"\\n', encoding="utf-8")
    >>> read_column_mapping(p)
    {'enterprises': {'tax': '纳税总额'}, 'parks': {}}
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFormatError(f"{path}: column mapping file not found") from None
    except IsADirectoryError:
        raise InputFormatError(
            f"{path}: is a directory; --columns takes a TOML file (columns.toml)"
        ) from None
    except OSError as exc:
        raise InputFormatError(f"{path}: cannot read the column mapping ({exc})") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"{path}: a TOML file must be UTF-8 ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFormatError(f"{path}: not valid TOML: {exc}") from None
    out: dict[str, dict[str, str]] = {"enterprises": {}, "parks": {}}
    canonical = {"enterprises": ENTERPRISE_COLUMNS, "parks": PARK_COLUMNS}
    for section, table in doc.items():
        if section not in out or not isinstance(table, dict):
            raise SchemaError(
                f"{path}: unexpected entry {section!r}; put the mapping under [enterprises] "
                'and/or [parks], e.g.\n[enterprises]\ntax = "纳税总额"'
            )
        for key, value in table.items():
            if key not in canonical[section]:
                raise SchemaError(
                    f"{path}: [{section}] {key} is not a parkgeo column; the {section} columns "
                    f"are {', '.join(canonical[section])}"
                )
            if not isinstance(value, str):
                raise SchemaError(
                    f'{path}: [{section}] {key} must be a header in quotes, e.g. {key} = "名称"'
                )
            out[section][key] = value
    return out


# --------------------------------------------------------------------------------------------
# enterprises
# --------------------------------------------------------------------------------------------


def read_enterprises(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
    strict: bool = False,
    years: Any = None,
) -> Loaded:
    """Read an enterprise table, validate it, and convert its coordinates to WGS-84.

    Parameters
    ----------
    path : str or path-like
        CSV/TXT/TSV (optionally ``.gz``), ``.xlsx``, Parquet or GeoParquet (a file or a
        directory of Parquet files), GeoPackage (or another point layer GDAL reads).
    columns : dict, optional
        Canonical name -> your header, for headers parkgeo does not recognise.
    coord_system : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        The system of the file's coordinates; GCJ-02 (Gaode, Tencent) and BD-09 (Baidu) are
        converted to WGS-84 after validation.
    encoding : str, optional
        Force a text encoding for CSV instead of detecting it.
    strict : bool
        Raise :class:`~parkgeo.DataValidationError` on the first problems instead of returning
        a reject ledger.
    years : (int, int) or range, optional
        Accepted years (default 1990..2100).

    Returns
    -------
    Loaded
        ``data`` (kept rows, indexed by source row), ``rejects`` (the ledger), ``n_read``,
        ``source``, ``encoding``, ``coord_system``.

    Notes
    -----
    ``data.attrs`` records how the file was read: ``source``, ``encoding``, ``coord_system``,
    ``crs`` (``"EPSG:4326"``), ``columns`` (canonical name -> your header), ``delimiter`` and
    ``header_row`` (CSV), ``sheet`` (Excel), ``scales`` (units found in headers, e.g. tax x1e-4
    for ``纳税总额(元)``), ``conversions`` (per column, how many kept cells were not plain
    numbers but were understood, with examples; also logged) and ``outside_china`` (GCJ-02/BD-09
    input: points left unconverted because the systems are undefined there; also logged).

    Raises
    ------
    InputFormatError
        Unreadable file: unknown format, undecodable bytes (the byte offset and line are
        named), malformed CSV, no data rows.
    SchemaError
        Required columns missing or ambiguous (the headers found are listed).
    CRSError
        A point layer's CRS is missing where it is needed.
    DataValidationError
        ``strict=True`` and some rows fail validation.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "firms.csv"
    >>> _ = p.write_text("企业名称,统一社会信用代码,经度,纬度,年份,纳税总额(万元)\\n"
    ...                  "甲,A1,117.2,39.1,2015,\\"1,234.5\\"\\n乙,A2,0,0,2015,3\\n",
    ...                  encoding="utf-8")
    >>> loaded = read_enterprises(p)
    >>> loaded.n_read, len(loaded.data), loaded.rejects["reason"].tolist()
    (2, 1, ['zero_coordinate'])
    >>> float(loaded.data["tax"].iloc[0]), loaded.encoding
    (1234.5, 'utf-8')
    """
    from parkgeo._chunk import clean, read_attrs, report_cleaning
    from parkgeo._options import ReadOptions
    from parkgeo._readers import part_frame, parts, plan_source

    read = ReadOptions.build(
        columns=columns,
        coord_system=coord_system,
        encoding=encoding,
        strict=strict,
        accept_years=years,
    )
    plan = plan_source(path, read.columns, read.encoding)
    (whole,) = parts(plan, None)  # the same plan the density backends read in parts
    raw = part_frame(plan, whole)
    n_read = len(raw)
    if n_read == 0:
        raise InputFormatError(
            f"{plan.source}: no data rows (0 read): the file has a header "
            f"({', '.join(plan.match.columns)}) but nothing under it; check that it is the right "
            "file (or the right sheet)"
        )
    cleaned = clean(raw, plan, read)
    del raw
    report_cleaning(plan, cleaned.conversions, cleaned.outside_china, read.coord_system)
    converted = read.coord_system in ("gcj02", "bd09")
    kept = cleaned.kept
    kept.attrs.update(
        read_attrs(
            plan,
            read.coord_system,
            cleaned.conversions,
            cleaned.outside_china if converted else None,
        )
    )
    ledger = cleaned.ledger
    ledger.attrs.update({"source": plan.source, "n_read": n_read})
    return Loaded(
        data=kept,
        rejects=ledger,
        n_read=n_read,
        source=plan.source,
        encoding=plan.encoding,
        coord_system=read.coord_system,
    )


@contextlib.contextmanager
def atomic_write(
    path: PathLike, mode: str = "wb", *, encoding: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    The data is flushed and fsync'ed before ``os.replace``; if the block raises, the temporary
    file is removed and any previous ``path`` is left untouched.

    Parameters
    ----------
    path : str or path-like
        The file to (re)write. Its directory must exist.
    mode : {"wb", "w"}
        Binary or text mode.
    encoding : str, optional
        Text encoding for ``mode="w"`` (default UTF-8).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_write(target, "w") as fh:
    ...     _ = fh.write("ok\\n")
    >>> target.read_text()
    'ok\\n'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', not {mode!r}")
    target = _outputs.real_target(Path(path))
    if _outputs.is_special(target):  # /dev/stdout, a FIFO, a device: stream, never replace
        with _outputs.stream_to(target, mode, encoding=encoding) as fh:
            yield fh
        return
    if not target.parent.is_dir():
        raise ParkgeoError(f"cannot write {target}: the directory {target.parent} does not exist")
    temp = temp_sibling(target)
    try:
        kwargs: dict[str, Any] = (
            {} if mode == "wb" else {"encoding": encoding or "utf-8", "newline": ""}
        )
        with open(temp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        finish_atomic(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        _outputs.name_disk_full(exc, target)
        raise


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix) for writers that need a file name
    (GDAL); on success it replaces ``path`` atomically, on error it is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "layer.geojson"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("{}")
    >>> target.read_text()
    '{}'
    """
    target = _outputs.real_target(Path(path))
    if _outputs.is_special(target):  # /dev/stdout, a FIFO, a device: stream, never replace
        with _outputs.stream_path(target) as temp:
            yield temp
        return
    if not target.parent.is_dir():
        raise ParkgeoError(f"cannot write {target}: the directory {target.parent} does not exist")
    temp = temp_sibling(target)
    temp.unlink()  # GDAL refuses to create over an existing (empty) file
    try:
        yield temp
        with contextlib.suppress(OSError):
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        finish_atomic(temp, target)
    except BaseException:
        for leftover in (temp, *(temp.parent.glob(temp.name + "-*"))):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise


_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".pq": "parquet",
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "json",
    ".xlsx": "xlsx",
}


def write_table(
    df: pd.DataFrame,
    path: PathLike,
    *,
    format: str | None = None,
    excel: bool = False,
    raw: bool = False,
    zh_headers: bool = False,
) -> Path:
    """Write a table atomically as CSV, Parquet/GeoParquet, GeoPackage, GeoJSON, JSON or Excel.

    Parameters
    ----------
    df : pandas.DataFrame or geopandas.GeoDataFrame
        The table. A named index (such as ``source_row``) is written as a column.
    path : str or path-like
        The output file.
    format : {"csv", "parquet", "gpkg", "geojson", "json", "xlsx"}, optional
        Default: from the suffix of ``path`` (CSV when unknown).
    excel : bool
        CSV as UTF-8 with a byte-order mark, so Excel shows Chinese correctly.
    raw : bool
        Do not neutralise CSV cells that start with ``= + - @``, tab or CR.
    zh_headers : bool
        Excel only (``.xlsx``, see :mod:`parkgeo._xlsx`): Chinese headers.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_table(pd.DataFrame({"name": ["=1+1", "ok"], "x": [-1.5, 2.0]}), out)
    >>> print(out.read_text(encoding="utf-8"), end="")
    name,x
    '=1+1,-1.5
    ok,2.0
    """
    target = Path(path)
    fmt = (format or _FORMATS.get(target.suffix.lower(), "csv")).lower()
    if fmt == "geoparquet":
        fmt = "parquet"
    if fmt == "csv":
        text = format_csv(df, raw=raw)
        with atomic_write(target, "wb") as fh:
            fh.write(text.encode("utf-8-sig" if excel else "utf-8"))
    elif fmt == "json":
        with atomic_write(target, "wb") as fh:
            fh.write(format_json(df).encode("utf-8"))
    elif fmt == "parquet":
        _write_parquet(with_index(df), target)
    elif fmt == "geojson":
        gdf = as_geodataframe(with_index(df), "geojson")
        text = gdf.to_crs("EPSG:4326").to_json(ensure_ascii=False, drop_id=True)
        with atomic_write(target, "wb") as fh:
            fh.write((text + "\n").encode("utf-8"))
    elif fmt == "gpkg":
        _write_gpkg(with_index(df), target)
    elif fmt == "xlsx":
        with atomic_write(target, "wb") as fh:
            headers = _xlsx.ZH_HEADERS if zh_headers else None
            _xlsx.write_sheets(fh, {"parkgeo": df}, headers=headers, name=str(target))
    else:
        raise ParkgeoError(
            f"unknown output format {fmt!r}; use csv, parquet, gpkg, geojson, json or xlsx"
        )
    return target


def _write_parquet(df: pd.DataFrame, target: Path) -> None:
    import geopandas as gpd

    with atomic_write(target, "wb") as fh:
        if isinstance(df, gpd.GeoDataFrame):
            df.to_parquet(fh, index=False)
        else:
            df.to_parquet(fh, index=False, engine="pyarrow")


def _write_gpkg(df: pd.DataFrame, target: Path) -> None:
    import geopandas as gpd
    import pyogrio

    layer = target.stem
    # GeoPackage stores a "last change" timestamp; fix it so the same table gives the same file.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        with atomic_path(target) as temp:
            if isinstance(df, gpd.GeoDataFrame) or ("lon" in df.columns and "lat" in df.columns):
                gdf = as_geodataframe(df, "gpkg")
                pyogrio.write_dataframe(gdf, temp, layer=layer, driver="GPKG")
            else:
                pyogrio.write_dataframe(gpd.GeoDataFrame(df), temp, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
