"""CSV parts: a planned CSV file's raw cells as frames, ``rows`` at a time, read with Arrow.

The reading half of the CSV reader: :mod:`parkgeo._readers` plans the file (encoding,
delimiter, header row, column match: :func:`parkgeo._readers.plan_source`) and asks
:func:`csv_frames` for its rows. A malformed row or bytes that do not decode become one
line naming the file, the line and the fix. This module does not import ``_readers``: it
reads any plan with the attributes of :class:`CsvPlan`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from parkgeo._columns import ColumnMatch
from parkgeo._errors import InputFormatError
from parkgeo._formats import canonical_of, split_lonlat_column, string_mapper
from parkgeo._guards import DECOMPRESSION_ERRORS, bounded, corrupt_compressed
from parkgeo._sniff import (
    COMPRESSED_SUFFIXES,
    DELIMITER_NAMES,
    SNIFF_BYTES,
    codec_name,
    detect_encoding,
    line_of,
    open_binary,
    undecodable,
)

__all__ = ["CsvPlan", "csv_frames"]

_CSV_BLOCK_BYTES = 4 << 20
_CSV_MAX_BLOCK_BYTES = 256 << 20  # a row (or one quoted cell) longer than this is refused


class CsvPlan(Protocol):
    """What the CSV reader needs of a plan (:class:`parkgeo._readers.Plan` has it)."""

    @property
    def source(self) -> str: ...
    @property
    def match(self) -> ColumnMatch: ...
    @property
    def wanted(self) -> tuple[str, ...]: ...
    @property
    def encoding(self) -> str | None: ...
    @property
    def delimiter(self) -> str: ...
    @property
    def header_row(self) -> int: ...
    @property
    def path(self) -> Path: ...


def csv_frames(plan: CsvPlan, rows: int | None) -> Iterator[pd.DataFrame]:
    """Raw cells of a CSV file, ``rows`` at a time (``None``: all at once, multithreaded)."""
    offset = 0
    for table in _csv_tables(plan, rows):
        renamed = table.rename_columns([canonical_of(plan.match, h) for h in table.column_names])
        del table
        frame = split_lonlat_column(
            renamed.to_pandas(types_mapper=string_mapper),
            source=plan.source,
            headers=plan.match.columns,
        )
        del renamed
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        yield frame


def _csv_tables(plan: CsvPlan, rows: int | None) -> Iterator[Any]:
    """Arrow tables of ``rows`` rows (one table: ``None``). Blocks of 4 MiB parse fastest
    (12 million rows: 3.1 s against 3.5 s with 16 MiB), but a row must fit in a block: a
    longer one restarts the read with blocks four times larger, skipping the rows already
    handed out, up to :data:`_CSV_MAX_BLOCK_BYTES`."""
    import pyarrow as pa

    block = _CSV_BLOCK_BYTES
    handed_out = 0
    while True:
        try:
            for table in _csv_tables_once(plan, rows, block, handed_out):
                handed_out += table.num_rows
                yield table
            return
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc) or block >= _CSV_MAX_BLOCK_BYTES:
                raise
            block *= 4


def _csv_tables_once(plan: CsvPlan, rows: int | None, block: int, skip: int) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = plan.path
    codec = codec_name(plan.encoding or "utf-8")
    arrow_encoding = "utf8" if codec in ("utf-8", "utf-8-sig") else codec
    read_options = pacsv.ReadOptions(
        skip_rows=plan.header_row, block_size=block, encoding=arrow_encoding
    )
    parse_options = pacsv.ParseOptions(delimiter=plan.delimiter, newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        include_columns=list(plan.wanted),
        column_types={h: pa.string() for h in plan.wanted},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    compressed = path.suffix.lower() in COMPRESSED_SUFFIXES
    stream: Any = (
        bounded(pa.input_stream(str(path), compression="detect"), path)
        if compressed
        else open_binary(path)
    )
    try:
        if rows is None:
            yield pacsv.read_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            return
        reader = pacsv.open_csv(
            stream,
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
        pending: list[Any] = []
        n_pending = 0
        any_yielded = skip > 0
        for batch in reader:
            if skip:  # a restart: these rows were handed out by the first attempt
                dropped = min(skip, batch.num_rows)
                batch = batch.slice(dropped)
                skip -= dropped
                if not batch.num_rows:
                    continue
            pending.append(batch)
            n_pending += batch.num_rows
            while n_pending >= rows:
                table = pa.Table.from_batches(pending)
                any_yielded = True
                yield table.slice(0, rows)
                rest = table.slice(rows)
                pending = rest.to_batches()
                n_pending = rest.num_rows
        if n_pending or not any_yielded:
            yield pa.Table.from_batches(pending, schema=reader.schema)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "straddl" in str(exc) and block < _CSV_MAX_BLOCK_BYTES:
            raise  # a row longer than a block: read again with larger blocks
        if compressed and "decompress" in str(exc).lower():
            raise corrupt_compressed(plan.source, exc) from None
        raise _csv_error(plan, codec, exc) from None
    except DECOMPRESSION_ERRORS as exc:
        if not compressed:
            raise
        raise corrupt_compressed(plan.source, exc) from None
    finally:
        stream.close()


def _csv_error(plan: CsvPlan, codec: str, exc: Exception) -> InputFormatError:
    """The whole-file reader's message for bytes that do not decode or a malformed row."""
    path = plan.path
    message = str(exc).strip()
    if "straddl" in message:
        return InputFormatError(
            f"{plan.source}: a row longer than {_CSV_MAX_BLOCK_BYTES >> 20} MiB; most often an "
            'unclosed quote (") makes the rest of the file one cell: close the quote, or '
            "remove the stray quote character"
        )
    if isinstance(exc, UnicodeDecodeError) or "utf8" in message.lower():
        with open_binary(path) as fh:
            data = fh.read()
        try:
            data.decode(codec)
        except UnicodeDecodeError as decode_error:
            if codec in ("utf-8", "utf-8-sig") and plan.encoding in ("utf-8", "utf-8-sig"):
                try:
                    found, _ = detect_encoding(path, data)
                except InputFormatError as detected:
                    return detected
                return InputFormatError(
                    f"{plan.source}: text that is not valid UTF-8 after the first "
                    f"{SNIFF_BYTES >> 20} MiB (byte offset {decode_error.start}, line "
                    f"{line_of(data, decode_error.start)}); the file looks like {found}: pass "
                    f"its encoding (encoding={found!r}, --encoding {found}) or re-save it as UTF-8"
                )
            return undecodable(path, data, plan.encoding or codec, decode_error)
    where = _line_of_row(message, path)
    return InputFormatError(
        f"{plan.source}: malformed CSV{where} ({message[:300]}); each row must have "
        f"as many fields as the header (detected delimiter: "
        f"{DELIMITER_NAMES[plan.delimiter]}); quote fields that contain the delimiter"
    )


def _line_of_row(message: str, path: Path) -> str:
    """' at line N' for Arrow's "Expected 11 columns, got 12: <row>" error, if found."""
    found = re.search(r"Expected \d+ columns, got \d+: (.+)", message)
    if not found:
        return ""
    row = found.group(1).strip()[:200].encode("utf-8")
    with open_binary(path) as fh:
        payload = fh.read()
    offset = payload.find(row)
    if offset < 0 or not row:
        return ""
    return f" at line {line_of(payload, offset)}"
