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

import codecs
import contextlib
import csv
import io as _io
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from parkgeo import _geometry, _outputs
from parkgeo._columns import (
    ENTERPRISE_COLUMNS,
    ENTERPRISE_REQUIRED,
    MEASURES,
    PARK_COLUMNS,
    ColumnMatch,
    header_scale,
    match_columns,
)
from parkgeo._errors import CRSError, InputFormatError, ParkgeoError, SchemaError
from parkgeo._validate import validate_enterprises, validate_parks

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

_CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ".psv"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}
_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".zip"}
_DELIMITERS = (",", "\t", ";", "|")
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_HEADER_SEARCH_ROWS = 10
_SNIFF_BYTES = 256 * 1024
_GEOGRAPHIC_EQUIVALENT = {"EPSG:4326", "EPSG:4490", "OGC:CRS84"}


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


@dataclass
class _Raw:
    """Raw cells under canonical names, plus how they were read."""

    frame: pd.DataFrame
    match: ColumnMatch
    encoding: str | None = None
    details: dict[str, Any] | None = None


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
    from parkgeo import coords

    system = coords.normalize_coord_system(coord_system)
    path = Path(path)
    source = str(path)
    raw = _read_enterprise_raw(path, dict(columns or {}), encoding)
    scales = {
        c: header_scale(c, h)
        for c, h in raw.match.columns.items()
        if c in MEASURES and header_scale(c, h) != 1.0
    }
    if scales:
        log.info(
            "%s: scaling %s to parkgeo's units because of the units in the headers",
            source,
            ", ".join(f"{c} x{s:g}" for c, s in scales.items()),
        )
    n_read = len(raw.frame)
    if n_read == 0:
        raise InputFormatError(
            f"{source}: no data rows (0 read): the file has a header "
            f"({', '.join(raw.match.columns)}) but nothing under it; check that it is the right "
            "file (or the right sheet)"
        )
    kept, ledger = validate_enterprises(
        raw.frame, source=source, strict=strict, years=years, scales=scales
    )
    outside_china = None
    if system in ("gcj02", "bd09") and len(kept):
        lon_in, lat_in = kept["lon"].to_numpy(), kept["lat"].to_numpy()
        # GCJ-02/BD-09 exist only inside China: points outside pass through unconverted
        outside_china = int((~coords.in_china(lon_in, lat_in)).sum())
        if outside_china:
            log.warning(
                "%s: %d point(s) lie outside China, where %s is not defined; they were left "
                "unconverted (check those rows: a geocoder returning them is suspicious)",
                source,
                outside_china,
                system.upper(),
            )
        lon, lat = coords.convert_coords(lon_in, lat_in, system, "wgs84")
        kept = kept.assign(lon=lon, lat=lat)
    kept.attrs.update(
        {
            "source": source,
            "encoding": raw.encoding,
            "coord_system": system,
            "crs": "EPSG:4326",
            "columns": dict(raw.match.columns),
            **(raw.details or {}),
        }
    )
    if scales:
        kept.attrs["scales"] = scales
    if outside_china is not None:
        kept.attrs["outside_china"] = outside_china
    ledger.attrs.update({"source": source, "n_read": n_read})
    return Loaded(
        data=kept,
        rejects=ledger,
        n_read=n_read,
        source=source,
        encoding=raw.encoding,
        coord_system=system,
    )


def _kind_of(path: Path) -> str:
    if path.is_dir():
        return "parquet"
    # The content wins over the name: an .xlsx saved as "data.csv" is still a workbook.
    with open(path, "rb") as fh:
        magic = fh.read(16)
    if magic.startswith(b"PAR1"):
        return "parquet"
    if magic.startswith(b"PK\x03\x04") and path.suffix.lower() not in (".zip", ".gz"):
        return "xlsx"
    if magic.startswith(b"SQLite format 3"):
        return "vector"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFormatError(
            f"{path}: this is an old Excel .xls workbook, which is not supported; open it in "
            "Excel or LibreOffice and save it as .xlsx (or CSV UTF-8)"
        )
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in (".gz", ".bz2", ".xz", ".zst") and len(suffixes) > 1:
        suffix = suffixes[-2]
        if suffix in _CSV_SUFFIXES:
            return "csv"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    if suffix in _EXCEL_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise InputFormatError(
            f"{path}: the old Excel .xls format is not supported; open it in Excel or "
            "LibreOffice and save it as .xlsx (or CSV UTF-8)"
        )
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _VECTOR_SUFFIXES:
        return "vector"
    return "csv"


def _read_enterprise_raw(path: Path, mapping: dict[str, str], encoding: str | None) -> _Raw:
    if not path.exists():
        raise InputFormatError(f"{path}: no such file or directory")
    kind = _kind_of(path)
    if path.is_file() and path.stat().st_size == 0:
        raise InputFormatError(f"{path}: the file is empty")
    if kind == "csv":
        raw = _read_csv(path, mapping, encoding)
    elif kind == "xlsx":
        raw = _read_xlsx(path, mapping)
    elif kind == "parquet":
        raw = _read_parquet(path, mapping)
    else:
        raw = _read_vector_points(path, mapping)
    return _split_lonlat(raw)


def _split_lonlat(raw: _Raw) -> _Raw:
    frame = split_lonlat_column(raw.frame)
    if frame is raw.frame:
        return raw
    return _Raw(frame, raw.match, raw.encoding, {**(raw.details or {}), "lonlat": True})


def split_lonlat_column(frame: pd.DataFrame) -> pd.DataFrame:
    """Split a raw ``lonlat`` column ("117.2,39.1", as Gaode's geocoder writes a location)
    into ``lon`` and ``lat`` text columns; a frame without one is returned as is.

    A cell that is not a pair keeps its whole text in ``lon`` so that the reject ledger shows
    it; an empty cell gives empty ``lon``/``lat`` (``missing_coordinate``).

    Examples
    --------
    >>> raw = pd.DataFrame({"lonlat": ["117.2,39.1", "117.3，39.2"]}, dtype="str")
    >>> split_lonlat_column(raw)[["lon", "lat"]].to_numpy().tolist()
    [['117.2', '39.1'], ['117.3', '39.2']]
    """
    if "lonlat" not in frame.columns:
        return frame
    if "lon" in frame.columns and "lat" in frame.columns:
        return frame.drop(columns="lonlat")
    from parkgeo._validate import _clean_text

    text = _clean_text(frame["lonlat"])
    parts = text.str.normalize("NFKC").str.extract(r"^\s*([^,;\s]+)\s*[,;\s]\s*([^,;\s]+)\s*$")
    lon = parts[0].astype("str").where(parts[0].notna(), text)
    lat = parts[1].astype("str")
    return frame.drop(columns="lonlat").assign(lon=lon.to_numpy(), lat=lat.to_numpy())


# -- CSV ---------------------------------------------------------------------------------


def _open_binary(path: Path) -> IO[bytes]:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        import gzip

        return gzip.open(path, "rb")  # type: ignore[return-value]
    if suffix == ".bz2":
        import bz2

        return bz2.open(path, "rb")
    if suffix == ".xz":
        import lzma

        return lzma.open(path, "rb")
    return open(path, "rb")


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputFormatError(
            f"unknown text encoding {encoding!r}; use e.g. utf-8, utf-8-sig, gbk or gb18030"
        ) from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _undecodable(
    path: Path, data: bytes, encoding: str, exc: UnicodeDecodeError
) -> InputFormatError:
    line = _line_of(data, exc.start)
    snippet = data[max(0, exc.start - 10) : exc.start + 10]
    return InputFormatError(
        f"{path}: byte offset {exc.start} (line {line}) cannot be decoded as {encoding} "
        f"(bytes {snippet!r}); the file is corrupt there or uses another encoding: fix or "
        "re-save it as UTF-8, or pass encoding=... (--encoding) if you know it"
    )


def _detect_encoding(path: Path, data: bytes) -> tuple[str, str]:
    """(codec name, decoded text): UTF-8 strictly, then GB18030, then charset-normalizer."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return "utf-16", data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _undecodable(path, data, "utf-16", exc) from None
    utf16 = _bomless_utf16(data[:_SNIFF_BYTES])
    if utf16:
        try:
            return utf16, data.decode(utf16)
        except UnicodeDecodeError as exc:
            raise _undecodable(path, data, utf16, exc) from None
    if b"\0" in data[:_SNIFF_BYTES]:
        offset = data.index(b"\0")
        raise InputFormatError(
            f"{path}: NUL byte at offset {offset} (line {_line_of(data, offset)}): this is not a "
            "text (CSV) file; export the table as CSV UTF-8 or .xlsx"
        )
    try:
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        return encoding, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    non_ascii = len(data) - len(data.translate(None, bytes(range(128, 256))))
    bad = data.decode("utf-8", errors="replace").count("\ufffd")
    # A UTF-8 file with a few corrupt bytes also "decodes" as GB18030, into mojibake; GBK
    # text fails UTF-8 at most of its non-ASCII bytes. Tell the two apart by the error rate.
    if non_ascii and bad * 20 < non_ascii:
        raise _undecodable(path, data, "UTF-8", utf8_error) from None
    try:
        return "gb18030", data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 4 * 1024 * 1024]).best()
    if best is not None and best.encoding:
        try:
            return best.encoding, data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    raise _undecodable(path, data, "UTF-8 (nor GB18030)", utf8_error) from None


def _probe(headers: list[str], mapping: dict[str, str], source: str) -> ColumnMatch:
    """Score candidate headers; a mapping that names an absent header is reported later."""
    try:
        return match_columns(
            headers, kind="enterprises", mapping=mapping, source=source, check=False
        )
    except SchemaError:
        return match_columns(headers, kind="enterprises", source=source, check=False)


def _bomless_utf16(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when every other byte is NUL (ASCII-heavy UTF-16), else None."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _split_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (StopIteration, csv.Error):
        return []


def _find_header(
    lines: list[str], mapping: dict[str, str], source: str
) -> tuple[int, str, ColumnMatch]:
    """Pick the header line and delimiter that map the most canonical columns (ties: more
    fields, then the usual delimiter order)."""
    best_key: tuple[int, int, int] | None = None
    best: tuple[int, str, ColumnMatch] | None = None
    for row, line in enumerate(lines[:_HEADER_SEARCH_ROWS]):
        for rank, delimiter in enumerate(_DELIMITERS):
            fields = _split_line(line, delimiter)
            if len(fields) < 2 and delimiter != ",":
                continue
            match = _probe(fields, mapping, source)
            key = (match.score, len(fields), -rank)
            if best_key is None or key > best_key:
                best_key, best = key, (row, delimiter, match)
    if best is None:
        raise InputFormatError(f"{source}: no header line found")
    return best


def _read_csv(path: Path, mapping: dict[str, str], encoding: str | None) -> _Raw:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    source = str(path)
    with _open_binary(path) as fh:
        head = fh.read(_SNIFF_BYTES)
    compressed = path.suffix.lower() in (".gz", ".bz2", ".xz")
    text_data: bytes | None = None  # UTF-8 bytes to parse when we transcoded ourselves
    if encoding is not None:
        used = _codec_name(encoding)
        if used not in ("utf-8", "utf-8-sig") or compressed:
            with _open_binary(path) as fh:
                data = fh.read()
            try:
                text_data = data.decode(used).encode("utf-8")
            except UnicodeDecodeError as exc:
                raise _undecodable(path, data, used, exc) from None
        used_label = encoding
    elif head.startswith(codecs.BOM_UTF8):
        used_label = "utf-8-sig"
    elif (
        head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or compressed
        or b"\0" in head  # UTF-16 without a BOM, or not text at all
    ):
        used_label = ""
    else:
        used_label = "utf-8"
    if not used_label:
        with _open_binary(path) as fh:
            data = fh.read()
        used_label, text = _detect_encoding(path, data)
        text_data = text.encode("utf-8")

    def attempt(payload: bytes | None, label: str) -> _Raw:
        if payload is None:
            # Raises UnicodeDecodeError (a UnicodeError) on a GBK file: detection takes over.
            sample_text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        else:
            sample_text = payload[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
        sample_text = sample_text.lstrip("\ufeff")
        lines = sample_text.splitlines()
        if not lines or not any(line.strip() for line in lines):
            raise InputFormatError(
                f"{source}: the file is empty (only blank lines, no header line and no rows)"
            )
        header_row, delimiter, probe = _find_header(lines, mapping, source)
        fields = _split_line(lines[header_row], delimiter)
        if len(fields) < 2:
            raise InputFormatError(
                f"{source}: the header {lines[header_row][:80]!r} splits into a single column "
                f"with every delimiter tried ({', '.join(_DELIMITER_NAMES.values())}); save the "
                "table as CSV with one of those delimiters"
            )
        match = match_columns(fields, kind="enterprises", mapping=mapping, source=source)
        wanted = list(dict.fromkeys(match.columns.values()))
        duplicated = [h for h in wanted if fields.count(h) > 1]
        if duplicated:
            raise SchemaError(
                f"{source}: header {duplicated[0]!r} appears more than once; rename one of them"
            )
        read_options = pacsv.ReadOptions(skip_rows=header_row, block_size=16 << 20)
        parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
        convert_options = pacsv.ConvertOptions(
            include_columns=wanted,
            column_types={h: pa.string() for h in wanted},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        stream: Any = pa.BufferReader(payload) if payload is not None else str(path)
        if payload is None and compressed:
            stream = pa.input_stream(str(path), compression="detect")
        try:
            table = pacsv.read_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except pa.ArrowInvalid as exc:
            message = str(exc)
            if "invalid UTF8" in message or "UTF8" in message and "invalid" in message:
                raise UnicodeError(message) from None
            where = _line_of_row(message, payload, path)
            raise InputFormatError(
                f"{source}: malformed CSV{where} ({message.strip()[:300]}); each row must have "
                f"as many fields as the header (detected delimiter: "
                f"{_DELIMITER_NAMES[delimiter]}); quote fields that contain the delimiter"
            ) from None
        frame = table.rename_columns(
            [_canonical_of(match, h) for h in table.column_names]
        ).to_pandas(types_mapper=_string_mapper)
        details = {
            "delimiter": delimiter,
            "header_row": header_row,
        }
        if delimiter != ",":
            log.info("%s: read with %s delimiter", source, _DELIMITER_NAMES[delimiter])
        return _Raw(frame=frame, match=match, encoding=label, details=details)

    try:
        return attempt(text_data, used_label)
    except UnicodeError:
        if encoding is not None:
            with _open_binary(path) as fh:
                data = fh.read()
            try:
                data.decode(_codec_name(encoding))
            except UnicodeDecodeError as exc:
                raise _undecodable(path, data, encoding, exc) from None
            raise
    with _open_binary(path) as fh:
        data = fh.read()
    used_label, text = _detect_encoding(path, data)
    log.info("%s: not UTF-8; read as %s", source, used_label)
    return attempt(text.encode("utf-8"), used_label)


def _line_of_row(message: str, payload: bytes | None, path: Path) -> str:
    """' at line N' for Arrow's "Expected 11 columns, got 12: <row>" error, if found."""
    found = re.search(r"Expected \d+ columns, got \d+: (.+)", message)
    if not found:
        return ""
    row = found.group(1).strip()[:200].encode("utf-8")
    if payload is None:
        with _open_binary(path) as fh:
            payload = fh.read()
    offset = payload.find(row)
    if offset < 0 or not row:
        return ""
    return f" at line {_line_of(payload, offset)}"


def _string_mapper(arrow_type: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow", na_value=np.nan)
    return None


def _canonical_of(match: ColumnMatch, header: str) -> str:
    for canonical, mapped in match.columns.items():
        if mapped == header:
            return canonical
    return header


# -- Excel -------------------------------------------------------------------------------


def _xlsx_header(
    rows: list[tuple[Any, ...]], mapping: dict[str, str], source: str
) -> tuple[int, int, list[str], ColumnMatch]:
    """(first data row, header height, headers, match) that map the most canonical columns."""
    best: tuple[int, int, int, list[str], ColumnMatch] | None = None
    for i in range(min(_HEADER_SEARCH_ROWS, len(rows))):
        candidates = [(1, [_cell_text(v) for v in rows[i]])]
        if i + 1 < len(rows):
            # A two-row header: group titles above (merged cells: filled forward) + sub-titles.
            upper = _forward_fill([_cell_text(v) for v in rows[i]])
            lower = [_cell_text(v) for v in rows[i + 1]]
            width = max(len(upper), len(lower))
            upper += [""] * (width - len(upper))
            lower += [""] * (width - len(lower))
            combined = [
                lo if not up else (up if not lo else up + lo)
                for up, lo in zip(upper, lower, strict=True)
            ]
            candidates.append((2, combined))
            candidates.append((2, [lo or up for up, lo in zip(upper, lower, strict=True)]))
        for height, headers in candidates:
            match = _probe(headers, mapping, source)
            if best is None or match.score > best[0]:
                best = (match.score, i, height, headers, match)
    if best is None:
        raise InputFormatError(f"{source}: the sheet is empty")
    _, i, height, headers, _ = best
    return i + height, height, headers, best[4]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _forward_fill(values: list[str]) -> list[str]:
    out, last = [], ""
    for v in values:
        last = v or last
        out.append(last)
    return out


def _read_xlsx(path: Path, mapping: dict[str, str]) -> _Raw:
    try:
        import openpyxl
    except ModuleNotFoundError as exc:  # pragma: no cover - a core dependency
        raise InputFormatError("reading .xlsx needs openpyxl: pip install openpyxl") from exc
    import zipfile

    source = str(path)
    from openpyxl.utils.exceptions import InvalidFileException

    best: tuple[int, int, int, int, list[str], ColumnMatch] | None = None
    # a file object: openpyxl refuses a workbook whose name does not end in .xlsx
    with open(path, "rb") as handle:
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (
            zipfile.BadZipFile,
            KeyError,
            OSError,
            ValueError,
            InvalidFileException,
            SyntaxError,  # XML ParseError: damaged XML, or entities the parser will not expand
        ) as exc:
            raise InputFormatError(f"{source}: not a readable .xlsx workbook ({exc})") from None
        try:
            # only the first rows of each sheet to choose the sheet and its header ...
            for number, sheet in enumerate(book.worksheets):
                head = list(sheet.iter_rows(max_row=_HEADER_SEARCH_ROWS + 1, values_only=True))
                if not head:
                    continue
                start, height, headers, probe = _xlsx_header(head, mapping, source)
                if best is None or probe.score > best[0]:
                    best = (probe.score, number, start, height, headers, probe)
            if best is None:
                raise InputFormatError(f"{source}: the workbook has no data")
            _, number, start, height, headers, _ = best
            chosen = book.worksheets[number]
            # ... and all rows of the chosen sheet only
            rows = list(chosen.iter_rows(values_only=True))
            sheet_name = chosen.title
        except SyntaxError as exc:
            # ElementTree's (and lxml's) ParseError: malformed XML, or a DTD with entities,
            # which the XML parser refuses to expand (external files, "billion laughs")
            raise InputFormatError(
                f"{source}: the workbook's XML cannot be read ({exc}); it is damaged or was not "
                "written by a spreadsheet program: open it in Excel or LibreOffice and save "
                "it again as .xlsx"
            ) from None
        finally:
            book.close()
    try:
        match = match_columns(headers, kind="enterprises", mapping=mapping, source=source)
    except SchemaError as exc:
        raise SchemaError(
            f"{exc} (sheet {sheet_name!r}; parkgeo looked for the header in the first "
            f"{_HEADER_SEARCH_ROWS} rows, also as a two-row header with merged cells. Put one "
            "header row directly above the data, or name the columns with a mapping.)"
        ) from None
    positions = {c: headers.index(h) for c, h in match.columns.items()}
    body = rows[start:]
    data: dict[str, list[Any]] = {c: [] for c in positions}
    index: list[int] = []
    for k, row in enumerate(body):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # blank rows (often just formatting) are not data
        index.append(k)
        for c, j in positions.items():
            data[c].append(row[j] if j < len(row) else None)
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()})
    frame.index = pd.Index(index, dtype="int64")
    details = {"sheet": sheet_name, "header_row": start - height}
    return _Raw(frame=frame, match=match, encoding=None, details=details)


# -- Parquet / GeoParquet --------------------------------------------------------------------


def _geo_metadata(schema: Any) -> dict[str, Any] | None:
    meta = schema.metadata or {}
    raw = meta.get(b"geo")
    if not raw:
        return None
    try:
        return dict(json.loads(raw))
    except ValueError:
        return None


def _read_parquet(path: Path, mapping: dict[str, str]) -> _Raw:
    import pyarrow as pa
    import pyarrow.dataset as pads

    source = str(path)
    try:
        dataset = pads.dataset(str(path), format="parquet")
        schema = dataset.schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFormatError(f"{source}: not a readable Parquet file ({exc})") from None
    geo = _geo_metadata(schema)
    headers = [n for n in schema.names if not n.startswith("__index_level_")]
    geom_col = geo.get("primary_column") if geo else None
    probe = match_columns(headers, kind="enterprises", mapping=mapping, source=source, check=False)
    use_geometry = (
        bool(geom_col)
        and ("lon" not in probe.columns or "lat" not in probe.columns)
        and "lonlat" not in probe.columns
    )
    required = tuple(c for c in ENTERPRISE_REQUIRED if not (use_geometry and c in ("lon", "lat")))
    match = match_columns(
        [h for h in headers if h != geom_col],
        kind="enterprises",
        mapping=mapping,
        source=source,
        required=required,
    )
    wanted = list(dict.fromkeys(match.columns.values()))
    if use_geometry:
        wanted.append(str(geom_col))
    table = dataset.to_table(columns=wanted)
    renamed = table.rename_columns([_canonical_of(match, h) for h in table.column_names])
    geometry = renamed.column(str(geom_col)) if use_geometry else None
    if use_geometry:
        renamed = renamed.drop_columns([str(geom_col)])
    del table
    # self_destruct frees each Arrow column as it is converted: peak memory stays ~1x.
    frame = renamed.to_pandas(types_mapper=_string_mapper, self_destruct=True, split_blocks=True)
    del renamed
    frame = _decode_dictionaries(frame)
    frame.index = pd.RangeIndex(len(frame))
    if geometry is not None and geo is not None:
        column_meta = geo.get("columns", {}).get(geom_col, {})
        lon, lat = _points_from_arrow(geometry, column_meta.get("encoding", "WKB"), source)
        lon, lat = _to_lonlat_degrees(lon, lat, column_meta.get("crs", "OGC:CRS84"), source)
        frame["lon"] = lon
        frame["lat"] = lat
        match = ColumnMatch(
            columns={**match.columns, "lon": str(geom_col), "lat": str(geom_col)},
            missing=match.missing,
            headers=match.headers,
        )
    return _Raw(frame=frame, match=match, encoding=None)


def _decode_dictionaries(frame: pd.DataFrame) -> pd.DataFrame:
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        return frame
    return frame.assign(**{c: frame[c].astype(frame[c].cat.categories.dtype) for c in categorical})


def _points_from_arrow(column: Any, encoding: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat arrays from a GeoParquet geometry column, without building shapely Points
    for plain 2-D WKB points (12 million Points would cost seconds and gigabytes)."""
    import pyarrow as pa
    import shapely

    chunks = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(chunks)
    if encoding.lower() == "point" and pa.types.is_struct(chunks.type):
        x = chunks.field("x").to_numpy(zero_copy_only=False).astype(np.float64)
        y = chunks.field("y").to_numpy(zero_copy_only=False).astype(np.float64)
        valid = chunks.is_valid().to_numpy(zero_copy_only=False)
        return np.where(valid, x, np.nan), np.where(valid, y, np.nan)
    if encoding.upper() != "WKB":
        raise InputFormatError(
            f"{source}: geometry encoding {encoding!r} is not supported; write the points as "
            "WKB GeoParquet or as lon/lat columns"
        )
    if pa.types.is_large_binary(chunks.type):
        chunks = chunks.cast(pa.binary())
    if chunks.null_count == 0 and n:
        offsets = np.frombuffer(chunks.buffers()[1], dtype=np.int32)[
            chunks.offset : chunks.offset + n + 1
        ]
        data = np.frombuffer(chunks.buffers()[2], dtype=np.uint8)
        if np.all(np.diff(offsets) == 21):
            block = data[offsets[0] : offsets[-1]].reshape(n, 21)
            little = block[:, 0] == 1
            type_le = block[:, 1:5].copy().view("<u4").ravel()
            if little.all() and np.all(type_le == 1):
                xy = block[:, 5:21].copy().view("<f8").reshape(n, 2)
                return xy[:, 0].copy(), xy[:, 1].copy()
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    step = 1_000_000
    for start in range(0, n, step):
        part = chunks.slice(start, step).to_numpy(zero_copy_only=False)
        geoms = shapely.from_wkb(part, on_invalid="raise")
        kinds = shapely.get_type_id(geoms)
        present = ~shapely.is_missing(geoms)
        wrong = present & (kinds != 0)
        if wrong.any():
            first = int(np.flatnonzero(wrong)[0]) + start
            raise SchemaError(
                f"{source}: enterprise geometries must be points; row {first} is a "
                f"{shapely.get_type_id(geoms[first - start])} geometry. Use points (e.g. the "
                "centroid) or lon/lat columns"
            )
        empty = present & shapely.is_empty(geoms)
        ok = present & ~empty
        lon[start : start + len(part)][ok] = shapely.get_x(geoms[ok])
        lat[start : start + len(part)][ok] = shapely.get_y(geoms[ok])
    return lon, lat


def _to_lonlat_degrees(
    lon: np.ndarray, lat: np.ndarray, crs: Any, source: str
) -> tuple[np.ndarray, np.ndarray]:
    import pyproj

    if crs is None:
        with np.errstate(invalid="ignore"):
            if np.nanmax(np.abs(lon), initial=0) > 180 or np.nanmax(np.abs(lat), initial=0) > 90:
                raise CRSError(
                    f"{source}: the geometry has no CRS and its coordinates are not degrees; "
                    "write the file with its CRS"
                )
        return lon, lat
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"{source}: unreadable CRS in the geometry metadata ({exc})") from None
    if parsed.is_geographic and _is_wgs84_like(parsed):
        return lon, lat
    transformer = pyproj.Transformer.from_crs(parsed, "EPSG:4326", always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _is_wgs84_like(crs: Any) -> bool:
    import pyproj

    try:
        auth = crs.to_authority()
    except pyproj.exceptions.CRSError:
        auth = None
    return bool(auth) and ":".join(auth) in _GEOGRAPHIC_EQUIVALENT


# -- GeoPackage and other point layers -------------------------------------------------------


def _read_vector_points(path: Path, mapping: dict[str, str]) -> _Raw:
    import pyogrio

    source = str(path)
    layer = _pick_layer(path, polygons=False)
    encoding = _shapefile_encoding(path) if path.suffix.lower() in (".shp", ".zip") else None
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputFormatError(f"{source}: cannot read the layer ({exc})") from None
    fields = [str(f) for f in info["fields"]]
    probe = match_columns(fields, kind="enterprises", mapping=mapping, source=source, check=False)
    has_geometry = info.get("geometry_type") not in (None, "Unknown", "None")
    use_geometry = (
        has_geometry
        and ("lon" not in probe.columns or "lat" not in probe.columns)
        and "lonlat" not in probe.columns
    )
    required = tuple(c for c in ENTERPRISE_REQUIRED if not (use_geometry and c in ("lon", "lat")))
    match = match_columns(
        fields, kind="enterprises", mapping=mapping, source=source, required=required
    )
    wanted = list(dict.fromkeys(match.columns.values()))
    try:
        gdf = pyogrio.read_dataframe(
            path, layer=layer, columns=wanted, read_geometry=use_geometry, encoding=encoding
        )
    except Exception as exc:
        raise InputFormatError(f"{source}: cannot read the layer ({exc})") from None
    frame = pd.DataFrame({_canonical_of(match, h): gdf[h] for h in wanted})
    frame.index = pd.RangeIndex(len(frame))
    if use_geometry:
        import shapely

        geoms = np.asarray(gdf.geometry.values, dtype=object)
        kinds = shapely.get_type_id(geoms)
        present = ~shapely.is_missing(geoms)
        if (present & (kinds != 0)).any():
            raise SchemaError(
                f"{source}: enterprise geometries must be points; use point features or "
                "lon/lat columns"
            )
        lon = np.where(present, shapely.get_x(geoms), np.nan)
        lat = np.where(present, shapely.get_y(geoms), np.nan)
        crs = gdf.crs.to_json() if gdf.crs is not None else None
        frame["lon"], frame["lat"] = _to_lonlat_degrees(lon, lat, crs, source)
        match = ColumnMatch(
            columns={**match.columns, "lon": "geometry", "lat": "geometry"},
            missing=match.missing,
            headers=match.headers,
        )
    return _Raw(frame=frame, match=match, encoding=None, details={"layer": layer})


def _pick_layer(path: Path, *, polygons: bool) -> str | None:
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise InputFormatError(
            f"{path}: not a readable vector file ({_gdal_message(exc)})"
        ) from None
    if len(layers) <= 1:
        return None
    wanted = ("Polygon", "MultiPolygon") if polygons else ("Point", "MultiPoint", None)
    fitting = [str(name) for name, geom in layers if geom in wanted]
    if not fitting:
        fitting = [str(name) for name, _ in layers]
    if len(fitting) > 1:
        log.info("%s has layers %s; reading %r", path, ", ".join(fitting), fitting[0])
    return fitting[0]


def _gdal_message(exc: BaseException) -> str:
    return str(exc).strip().replace("\n", " ")[:300]


# --------------------------------------------------------------------------------------------
# parks
# --------------------------------------------------------------------------------------------


def read_parks(
    path: PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    crs: Any = None,
    encoding: str | None = None,
) -> Any:
    """Read park polygons, check their CRS and geometry, and return them in WGS-84.

    Parameters
    ----------
    path : str or path-like
        GeoJSON, GeoPackage (the first polygon layer), Shapefile (``.shp`` or a ``.zip``),
        GeoParquet.
    columns : dict, optional
        Canonical name -> your header (``park_id``, ``name``, ``district``, ``level``,
        ``approved_area_ha``, ``leading_industries``, ``priority``).
    coord_system : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        The system of the polygons' degrees; GCJ-02/BD-09 are converted to WGS-84.
    crs : str or pyproj.CRS, optional
        The CRS of a file that carries none (a Shapefile without ``.prj``).
    encoding : str, optional
        Attribute encoding of a Shapefile, if detection gets it wrong.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical park table in EPSG:4326; ``attrs["repairs"]`` lists repaired geometries.

    Raises
    ------
    InputFormatError
        The file cannot be read (including absurdly nested JSON).
    SchemaError
        No ``park_id`` column, or ambiguous headers.
    CRSError
        No CRS and no ``crs=``, or a CRS that does not fit the coordinates.
    GeometryError
        Empty, zero-area or non-polygon features, or duplicate ``park_id`` (named).

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "parks.geojson"
    >>> ring = [[117.0, 39.0], [117.01, 39.0], [117.01, 39.01], [117.0, 39.01], [117.0, 39.0]]
    >>> feature = {"type": "Feature", "properties": {"园区代码": "G121", "园区名称": "示范园"},
    ...            "geometry": {"type": "Polygon", "coordinates": [ring]}}
    >>> _ = p.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    >>> parks = read_parks(p)
    >>> parks[["park_id", "name"]].iloc[0].tolist(), parks.crs.to_epsg()
    (['G121', '示范园'], 4326)
    """
    import geopandas as gpd

    from parkgeo import coords

    system = coords.normalize_coord_system(coord_system)
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise InputFormatError(f"{source}: no such file or directory")
    if path.is_file() and path.stat().st_size == 0:
        raise InputFormatError(f"{source}: the file is empty")
    suffix = path.suffix.lower()
    used_encoding = encoding
    if suffix in _PARQUET_SUFFIXES or (path.is_file() and _kind_of(path) == "parquet"):
        try:
            gdf = _geometry.read_parquet_layer(path)
        except (ValueError, OSError) as exc:
            raise InputFormatError(f"{source}: not a readable GeoParquet file ({exc})") from None
    else:
        if suffix in (".shp", ".zip") and encoding is None:
            used_encoding = _shapefile_encoding(path)
        layer = _pick_layer(path, polygons=True)
        gdf = _read_vector(path, layer=layer, encoding=used_encoding)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.active_geometry_name is None:
        raise InputFormatError(f"{source}: the file has no geometry column; parks must be polygons")
    if len(gdf) == 0:
        raise InputFormatError(f"{source}: the layer has no features (no parks to read)")
    geometry_name = gdf.geometry.name
    headers = [str(c) for c in gdf.columns if c != geometry_name]
    match = match_columns(headers, kind="parks", mapping=dict(columns or {}), source=source)
    frame = gpd.GeoDataFrame(
        {c: gdf[h] for c, h in match.columns.items()},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
        index=pd.RangeIndex(len(gdf)),
    )
    frame.attrs[_geometry.READ_REPAIRS] = gdf.attrs.get(_geometry.READ_REPAIRS, [])
    frame = _check_crs(frame, crs, source)
    if frame.crs is not None and not _is_wgs84_like(frame.crs):
        frame = frame.to_crs("EPSG:4326")
    else:
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    if system in ("gcj02", "bd09"):
        frame = coords.to_wgs84(frame, system)
    scales = {c: header_scale(c, h) for c, h in match.columns.items()}
    if scales.get("approved_area_ha", 1.0) != 1.0:
        frame = frame.copy()
        parsed_area = _scaled_area(frame["approved_area_ha"], scales["approved_area_ha"])
        frame["approved_area_ha"] = parsed_area
    parks, repairs = validate_parks(frame, source=source)
    parks.attrs.update(
        {
            "source": source,
            "coord_system": system,
            "crs": "EPSG:4326",
            "encoding": used_encoding,
            "columns": dict(match.columns),
            "repairs": repairs,
        }
    )
    return parks


def _scaled_area(values: pd.Series, scale: float) -> np.ndarray:
    from parkgeo._validate import parse_numbers

    return np.asarray(parse_numbers(values, kind="area").values * scale, dtype=np.float64)


def _read_vector(path: Path, *, layer: str | None, encoding: str | None) -> Any:
    try:
        return _geometry.read_vector_layer(path, layer=layer, encoding=encoding)
    except RecursionError:
        raise InputFormatError(f"{path}: the file is nested too deeply to be a map layer") from None
    except Exception as exc:
        if type(exc).__module__.startswith("pyogrio") or isinstance(exc, (OSError, ValueError)):
            raise InputFormatError(
                f"{path}: cannot read it as a vector layer ({_gdal_message(exc)}); check that it "
                "is a valid GeoJSON/GeoPackage/Shapefile"
            ) from None
        raise


def _shapefile_encoding(path: Path) -> str | None:
    """The attribute encoding of a Shapefile (``.shp``, or a ``.zip`` holding one) without a
    ``.cpg``: UTF-8 if its text decodes as UTF-8, else GB18030 (GBK) if it decodes as that;
    None lets GDAL decide (``.cpg`` present, or plain ASCII)."""
    if path.suffix.lower() == ".zip":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                lowered = {n.lower(): n for n in names}
                shp = next((n for n in names if n.lower().endswith(".shp")), None)
                if shp is None:
                    return None
                stem = shp[:-4].lower()
                if stem + ".cpg" in lowered or stem + ".dbf" not in lowered:
                    return None
                data = archive.read(lowered[stem + ".dbf"])
        except (zipfile.BadZipFile, OSError):
            return None
        return _dbf_encoding(data)
    for suffix in (".cpg", ".CPG"):
        if path.with_suffix(suffix).exists():
            return None
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    return None if dbf is None else _dbf_encoding(dbf.read_bytes())


def _dbf_encoding(data: bytes) -> str | None:
    if len(data) < 32:
        return None
    header_length = int.from_bytes(data[8:10], "little")
    # the text of a .dbf: field names (the first 11 bytes of each 32-byte descriptor) and the
    # records (numbers and dates are ASCII there; only strings carry an encoding)
    names = b"".join(
        data[i : i + 11].split(b"\0", 1)[0]
        for i in range(32, max(32, header_length - 1), 32)
        if data[i : i + 1] != b"\r"
    )
    text = names + data[header_length:].rstrip(b"\x1a")
    if text.isascii():
        return None
    for encoding in ("UTF-8", "GB18030"):
        try:
            text.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return None


def _check_crs(gdf: Any, crs: Any, source: str) -> Any:
    import pyproj

    given = None
    if crs is not None:
        try:
            given = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"crs={crs!r} is not a CRS pyproj knows ({exc})") from None
    if gdf.crs is None:
        if given is None:
            bounds = _bounds_text(gdf)
            raise CRSError(
                f"{source}: the parks have no CRS (coordinates {bounds}). Say which it is: "
                "crs='EPSG:4326' in Python or --parks-crs EPSG:4326 on the command line "
                "(for a Shapefile, a .prj file next to it)"
            )
        gdf = gdf.set_crs(given)
    elif given is not None and not given.equals(gdf.crs, ignore_axis_order=True):
        raise CRSError(
            f"{source}: the file says its CRS is {gdf.crs.to_string()!r} but crs={crs!r} was "
            "given; drop crs= (it is only for files without a CRS) or fix the file"
        )
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        return gdf
    min_x, min_y, max_x, max_y = gdf.geometry.total_bounds
    degrees = min_x >= -180 and max_x <= 180 and min_y >= -90 and max_y <= 90
    if gdf.crs.is_geographic and not degrees:
        raise CRSError(
            f"{source}: the CRS {gdf.crs.to_string()!r} is geographic (degrees) but the "
            f"coordinates ({_bounds_text(gdf)}) look like projected metres; give the right CRS "
            "(e.g. EPSG:4547 or EPSG:32650) in the file or with crs="
        )
    if gdf.crs.is_projected and degrees and max(abs(max_x - min_x), abs(max_y - min_y)) < 10:
        raise CRSError(
            f"{source}: the CRS {gdf.crs.to_string()!r} is projected (metres) but the "
            f"coordinates ({_bounds_text(gdf)}) look like longitude/latitude degrees; use "
            "EPSG:4326 (or EPSG:4490)"
        )
    return gdf


def _bounds_text(gdf: Any) -> str:
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        return "none"
    min_x, min_y, max_x, max_y = gdf.geometry.total_bounds
    return f"x {min_x:.6g}..{max_x:.6g}, y {min_y:.6g}..{max_y:.6g}"


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------


def _temp_sibling(path: Path) -> Path:
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent
    )
    os.close(fd)
    return Path(name)


def _finish(temp: Path, target: Path) -> None:
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
    temp = _temp_sibling(target)
    try:
        kwargs: dict[str, Any] = (
            {} if mode == "wb" else {"encoding": encoding or "utf-8", "newline": ""}
        )
        with open(temp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _finish(temp, target)
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
    temp = _temp_sibling(target)
    temp.unlink()  # GDAL refuses to create over an existing (empty) file
    try:
        yield temp
        with contextlib.suppress(OSError):
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _finish(temp, target)
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
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


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
        Excel only (``.xlsx``, see :func:`parkgeo._outputs.write_xlsx`): Chinese headers.

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
        _write_parquet(_with_index(df), target)
    elif fmt == "geojson":
        gdf = _as_geodataframe(_with_index(df), "geojson")
        text = gdf.to_crs("EPSG:4326").to_json(ensure_ascii=False, drop_id=True)
        with atomic_write(target, "wb") as fh:
            fh.write((text + "\n").encode("utf-8"))
    elif fmt == "gpkg":
        _write_gpkg(_with_index(df), target)
    elif fmt == "xlsx":
        with atomic_path(target) as temp:
            _outputs.write_xlsx(df, temp, zh_headers=zh_headers)
    else:
        raise ParkgeoError(
            f"unknown output format {fmt!r}; use csv, parquet, gpkg, geojson, json or xlsx"
        )
    return target


def _with_index(df: pd.DataFrame) -> pd.DataFrame:
    if any(name is not None for name in df.index.names):
        return df.reset_index()
    return df


def _write_parquet(df: pd.DataFrame, target: Path) -> None:
    import geopandas as gpd

    with atomic_write(target, "wb") as fh:
        if isinstance(df, gpd.GeoDataFrame):
            df.to_parquet(fh, index=False)
        else:
            df.to_parquet(fh, index=False, engine="pyarrow")


def _as_geodataframe(df: pd.DataFrame, fmt: str) -> Any:
    import geopandas as gpd

    if isinstance(df, gpd.GeoDataFrame):
        return df
    if "lon" in df.columns and "lat" in df.columns:
        return gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
        )
    raise SchemaError(f"{fmt} output needs geometries or lon/lat columns; use csv or parquet")


def _write_gpkg(df: pd.DataFrame, target: Path) -> None:
    import geopandas as gpd
    import pyogrio

    layer = target.stem
    # GeoPackage stores a "last change" timestamp; fix it so the same table gives the same file.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        with atomic_path(target) as temp:
            if isinstance(df, gpd.GeoDataFrame) or ("lon" in df.columns and "lat" in df.columns):
                gdf = _as_geodataframe(df, "gpkg")
                pyogrio.write_dataframe(gdf, temp, layer=layer, driver="GPKG")
            else:
                pyogrio.write_dataframe(gpd.GeoDataFrame(df), temp, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _neutralise(series: pd.Series) -> pd.Series:
    text = series.astype("str")
    starts = text.str.startswith(_DANGEROUS).fillna(False)
    if not starts.any():
        return series
    number = text.str.fullmatch(_PLAIN_NUMBER.pattern).fillna(False)
    risky = starts & ~number
    if not risky.any():
        return series
    return series.astype(object).where(~risky, "'" + text)


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
    table = _with_index(df)
    table = _geometry_as_wkt(table)
    if not raw:
        out = {}
        for col in table.columns:
            values = table[col]
            if not (
                pd.api.types.is_numeric_dtype(values.dtype)
                or pd.api.types.is_bool_dtype(values.dtype)
            ):
                values = _neutralise(values)
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
    return plain


def format_json(df: pd.DataFrame) -> str:
    """The table as a JSON array of records (UTF-8, NaN as null, floats exact, geometry WKT).

    Examples
    --------
    >>> format_json(pd.DataFrame({"park": ["甲"], "tax_per_ha": [float("nan")], "n": [3]}))
    '[{"park": "甲", "tax_per_ha": null, "n": 3}]\\n'
    """
    table = _geometry_as_wkt(_with_index(df))
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
