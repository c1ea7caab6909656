"""What a file is and how its text is laid out: format, encoding, delimiter, header row.

One sniff size (:data:`SNIFF_BYTES`) and one encoding detection serve every reader, so a
file is understood the same way whether it is read whole or in parts.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import IO

from parkgeo._columns import ColumnMatch, match_columns
from parkgeo._errors import InputFormatError, SchemaError

CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ".psv"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}
_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".zip"}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
DELIMITERS = (",", "\t", ";", "|")
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
HEADER_SEARCH_ROWS = 10
SNIFF_BYTES = 4 * 1024 * 1024
"""Bytes read to find the encoding, the delimiter and the header (the whole of most files)."""


def kind_of(path: Path) -> str:
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
        if suffix in CSV_SUFFIXES:
            return "csv"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in _EXCEL_SUFFIXES:
        return "xlsx"
    if suffix == ".xls":
        raise InputFormatError(
            f"{path}: the old Excel .xls format is not supported; open it in Excel or "
            "LibreOffice and save it as .xlsx (or CSV UTF-8)"
        )
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _VECTOR_SUFFIXES:
        return "vector"
    return "csv"


def open_binary(path: Path) -> IO[bytes]:
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


def codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputFormatError(
            f"unknown text encoding {encoding!r}; use e.g. utf-8, utf-8-sig, gbk or gb18030"
        ) from None


def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def undecodable(
    path: Path, data: bytes, encoding: str, exc: UnicodeDecodeError
) -> InputFormatError:
    line = line_of(data, exc.start)
    snippet = data[max(0, exc.start - 10) : exc.start + 10]
    return InputFormatError(
        f"{path}: byte offset {exc.start} (line {line}) cannot be decoded as {encoding} "
        f"(bytes {snippet!r}); the file is corrupt there or uses another encoding: fix or "
        "re-save it as UTF-8, or pass encoding=... (--encoding) if you know it"
    )


def detect_encoding(path: Path, data: bytes) -> tuple[str, str]:
    """(codec name, decoded text): UTF-8 strictly, then GB18030, then charset-normalizer."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return "utf-16", data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise undecodable(path, data, "utf-16", exc) from None
    utf16 = bomless_utf16(data[:SNIFF_BYTES])
    if utf16:
        try:
            return utf16, data.decode(utf16)
        except UnicodeDecodeError as exc:
            raise undecodable(path, data, utf16, exc) from None
    if b"\0" in data[:SNIFF_BYTES]:
        offset = data.index(b"\0")
        raise InputFormatError(
            f"{path}: NUL byte at offset {offset} (line {line_of(data, offset)}): this is not a "
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
        raise undecodable(path, data, "UTF-8", utf8_error) from None
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
    raise undecodable(path, data, "UTF-8 (nor GB18030)", utf8_error) from None


def probe_header(headers: list[str], mapping: dict[str, str], source: str) -> ColumnMatch:
    """Score candidate headers; a mapping that names an absent header is reported later."""
    try:
        return match_columns(
            headers, kind="enterprises", mapping=mapping, source=source, check=False
        )
    except SchemaError:
        return match_columns(headers, kind="enterprises", source=source, check=False)


def bomless_utf16(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when every other byte is NUL (ASCII-heavy UTF-16), else None."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def split_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (StopIteration, csv.Error):
        return []


def find_header(
    lines: list[str], mapping: dict[str, str], source: str
) -> tuple[int, str, ColumnMatch]:
    """Pick the header line and delimiter that map the most canonical columns (ties: more
    fields, then the usual delimiter order)."""
    best_key: tuple[int, int, int] | None = None
    best: tuple[int, str, ColumnMatch] | None = None
    for row, line in enumerate(lines[:HEADER_SEARCH_ROWS]):
        for rank, delimiter in enumerate(DELIMITERS):
            fields = split_line(line, delimiter)
            if len(fields) < 2 and delimiter != ",":
                continue
            match = probe_header(fields, mapping, source)
            key = (match.score, len(fields), -rank)
            if best_key is None or key > best_key:
                best_key, best = key, (row, delimiter, match)
    if best is None:
        raise InputFormatError(f"{source}: no header line found")
    return best
