"""One enterprise reader per format behind one interface: plan a source, then read its parts.

:func:`plan_source` looks at a file once (format, encoding, delimiter, header row, column
match, units in headers) and says so in the log; :func:`parts` cuts the source into parts of
about ``rows`` rows (``None``: the whole source as one part) and :func:`part_frame` gives a
part's raw cells under canonical names, indexed by the global 0-based data row. The
whole-file reader (:func:`parkgeo.io.read_enterprises`) and every density backend use these
three functions, so a file is understood the same way whatever reads it.

A Parquet part names its row groups, so whoever runs the part (this process, a worker
process, a Dask worker) reads it; a part of another format carries its raw cells, read here.
"""

from __future__ import annotations

import codecs
import glob
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from parkgeo._colreport import column_report, log_columns, warn_lacking
from parkgeo._columns import (
    ENTERPRISE_REQUIRED,
    MEASURES,
    ColumnMatch,
    header_scale,
)
from parkgeo._columns import match_columns as _match
from parkgeo._csvparts import csv_frames
from parkgeo._errors import InputFormatError, ParkgeoError, SchemaError
from parkgeo._formats import (
    canonical_of,
    decode_dictionaries,
    geo_metadata,
    points_from_arrow,
    read_vector_points,
    read_xlsx,
    split_lonlat_column,
    string_mapper,
    to_lonlat_degrees,
)
from parkgeo._guards import (
    DECOMPRESSION_ERRORS,
    bounded,
    check_gzip_expansion,
    check_zip_expansion,
    corrupt_compressed,
    is_stream,
    spooled,
)
from parkgeo._sniff import (
    DELIMITER_NAMES,
    SNIFF_BYTES,
    bomless_utf16,
    codec_name,
    detect_encoding,
    find_header,
    kind_of,
    open_binary,
    split_line,
    undecodable,
)

__all__ = ["Part", "Plan", "log_columns", "part_frame", "partitions_of", "parts", "plan_source"]

log = logging.getLogger("parkgeo")


@dataclass(frozen=True)
class Plan:
    """How a source is read: format, columns, encoding and layout, found once."""

    kind: str  # "csv", "parquet" or "table" (Excel and GDAL layers: read whole when planned)
    source: str
    match: ColumnMatch
    wanted: tuple[str, ...]
    scales: dict[str, float]
    details: dict[str, Any]  # how the file was laid out (delimiter, header_row, sheet, ...)
    encoding: str | None = None
    total_rows: int | None = None
    files: tuple[str, ...] = ()
    geometry_column: str | None = None
    geometry_meta: dict[str, Any] = field(default_factory=dict)
    delimiter: str = ","
    header_row: int = 0
    table: pd.DataFrame | None = None  # kind "table": the raw cells
    read_path: str | None = None  # the file to read when ``source`` names a stream (stdin)

    @property
    def path(self) -> Path:
        """The file the rows are read from (a spooled copy of standard input, or source)."""
        return Path(self.read_path or self.source)

    def portable(self) -> Plan:
        """This plan without the cells of a "table" source (parts carry their own)."""
        return replace(self, table=None) if self.table is not None else self


@dataclass(frozen=True)
class Part:
    """Consecutive data rows of a source: row groups to read, or the raw cells themselves."""

    index: int
    first_row: int
    n_rows: int
    file: str | None = None
    row_groups: tuple[int, ...] = ()
    frame: pd.DataFrame | None = None
    last: bool = False

    def without_cells(self) -> Part:
        return replace(self, frame=None)


# --------------------------------------------------------------------------------------------
# planning
# --------------------------------------------------------------------------------------------


def plan_source(
    path: str | os.PathLike[str],
    mapping: Mapping[str, str],
    encoding: str | None,
    skip: Sequence[str] = (),
    *,
    needs: Sequence[str] = (),
    strict: bool = False,
) -> Plan:
    """Look at ``path`` once: format, columns, encoding, layout (and log what was guessed).

    ``skip``: optional canonical columns not to read (density does not use firm names).
    ``needs``: measures the command reports; one without a column is a warning (``strict``:
    a :class:`~parkgeo.SchemaError`) naming the unused headers that may be meant.
    """
    if not isinstance(path, (str, os.PathLike)):
        # str() of a DataFrame would put the whole table into the message
        raise InputFormatError(
            f"expected the path of an enterprise file, got a {type(path).__name__}; for a "
            "table already in memory use parkgeo.validate_enterprises"
        )
    text = str(path)
    mapping = dict(mapping)
    if is_stream(text):
        # standard input (or a pipe) can be read once: copy it, then plan the copy
        copy = spooled(text)
        shown = "<stdin>" if text == "-" else text
        try:
            plan = plan_source(copy, mapping, encoding, skip, needs=needs, strict=strict)
        except ParkgeoError as exc:  # name the stream, not its temporary copy
            raise type(exc)(str(exc).replace(str(copy), shown)) from None
        return replace(plan, source=shown, read_path=str(copy))
    finish: dict[str, Any] = {"needs": tuple(needs), "strict": strict}
    if any(ch in text for ch in "*?["):
        return _plan_parquet(text, mapping, skip, **finish)
    p = Path(text)
    if not p.exists():
        raise InputFormatError(f"{p}: no such file or directory")
    if p.is_file() and p.stat().st_size == 0:
        raise InputFormatError(f"{p}: the file is empty")
    kind = kind_of(p)
    if kind == "parquet":
        return _plan_parquet(text, mapping, skip, **finish)
    if kind == "csv":
        return _plan_csv(p, mapping, encoding, skip, **finish)
    if kind == "xlsx":
        check_zip_expansion(p)
    raw = read_xlsx(p, mapping) if kind == "xlsx" else read_vector_points(p, mapping)
    frame = split_lonlat_column(raw.frame, source=text, headers=raw.match.columns)
    frame.index = pd.RangeIndex(len(frame)) if kind != "xlsx" else frame.index
    return _finish_plan(
        Plan(
            kind="table",
            source=text,
            match=raw.match,
            wanted=tuple(frame.columns),
            scales={},
            details=dict(raw.details),
            total_rows=len(frame),
            table=frame,
        ),
        skip,
        **finish,
    )


def _finish_plan(
    plan: Plan, skip: Sequence[str], needs: Sequence[str] = (), strict: bool = False
) -> Plan:
    """Drop skipped optional columns, find units in headers (logged), note a lonlat column."""
    match = plan.match
    found = dict(match.columns)  # reported in attrs, skipped columns included
    drop = [c for c in skip if c in match.columns and c not in ENTERPRISE_REQUIRED]
    if drop:
        kept = {c: h for c, h in match.columns.items() if c not in drop}
        match = replace(match, columns=kept)
    wanted = plan.wanted
    if plan.kind != "table":
        wanted = tuple(
            dict.fromkeys(h for c, h in match.columns.items() if h != plan.geometry_column)
        )
        if plan.geometry_column is not None:
            wanted = (*wanted, plan.geometry_column)
    scales = {
        c: header_scale(c, h)
        for c, h in match.columns.items()
        if c in MEASURES and header_scale(c, h) != 1.0
    }
    if scales:
        log.info(
            "%s: scaling %s to parkgeo's units because of the units in the headers",
            plan.source,
            ", ".join(f"{c} x{s:g}" for c, s in scales.items()),
        )
    report = column_report(plan.match)
    details = {
        "columns": found,
        "columns_not_found": report["not_found"],
        "columns_unused": report["unused"],
        **plan.details,
    }
    warn_lacking(plan.source, found, report, needs, strict)
    if "lonlat" in match.columns and not ("lon" in match.columns and "lat" in match.columns):
        details["lonlat"] = True
    return replace(plan, match=match, wanted=wanted, scales=scales, details=details)


def parquet_files(path: str | Path) -> list[str]:
    """The Parquet files of a file, a directory (recursively, sorted) or a glob pattern."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(glob.glob(text, recursive=True))
    else:
        p = Path(text)
        if p.is_dir():
            files = sorted(
                str(f) for f in p.rglob("*") if f.is_file() and not f.name.startswith((".", "_"))
            )
        elif p.exists():
            files = [text]
        else:
            raise InputFormatError(f"{text}: no such file or directory")
    if not files:
        raise InputFormatError(f"{text}: no Parquet files match")
    return files


def _plan_parquet(path: str, mapping: dict[str, str], skip: Sequence[str], **finish: Any) -> Plan:
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = parquet_files(path)
    try:
        schema = pq.read_schema(files[0])
        total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    geo = geo_metadata(schema)
    headers = [n for n in schema.names if not n.startswith("__index_level_")]
    geom_col = geo.get("primary_column") if geo else None
    probe = _match(headers, kind="enterprises", mapping=mapping, source=path, check=False)
    use_geometry = (
        bool(geom_col)
        and ("lon" not in probe.columns or "lat" not in probe.columns)
        and "lonlat" not in probe.columns
    )
    required = tuple(c for c in ENTERPRISE_REQUIRED if not (use_geometry and c in ("lon", "lat")))
    match = _match(
        [h for h in headers if h != geom_col],
        kind="enterprises",
        mapping=mapping,
        source=path,
        required=required,
    )
    meta: dict[str, Any] = {}
    if use_geometry:
        meta = dict((geo or {}).get("columns", {}).get(geom_col, {}))
        match = ColumnMatch(
            columns={**match.columns, "lon": str(geom_col), "lat": str(geom_col)},
            missing=match.missing,
            headers=match.headers,
        )
    plan = Plan(
        kind="parquet",
        source=path,
        match=match,
        wanted=(),
        scales={},
        details={},
        total_rows=int(total),
        files=tuple(files),
        geometry_column=str(geom_col) if use_geometry else None,
        geometry_meta=meta,
    )
    return _finish_plan(plan, skip, **finish)


def _plan_csv(
    path: Path, mapping: dict[str, str], encoding: str | None, skip: Sequence[str], **finish: Any
) -> Plan:
    source = str(path)
    if path.suffix.lower() == ".gz":
        check_gzip_expansion(path)
    try:
        with bounded(open_binary(path), path) as fh:
            head = fh.read(SNIFF_BYTES)
    except DECOMPRESSION_ERRORS as exc:
        raise corrupt_compressed(source, exc) from None
    whole = len(head) < SNIFF_BYTES  # the sniffed block is the whole file
    if encoding is not None:
        try:
            codec, label = codec_name(encoding), encoding
        except InputFormatError as exc:
            raise InputFormatError(f"{source}: {exc}") from None
        try:
            head.decode(codec) if whole else codecs.getincrementaldecoder(codec)().decode(head)
        except UnicodeDecodeError as exc:
            raise undecodable(path, head, encoding, exc) from None
    elif head.startswith(codecs.BOM_UTF8):
        codec = label = "utf-8-sig"
    else:
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or bool(
            bomless_utf16(head)
        )
        try:
            if utf16 or b"\0" in head:
                raise UnicodeDecodeError("utf-8", head, 0, 1, "UTF-16 or binary")
            codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)
            codec = label = "utf-8"
        except UnicodeDecodeError:
            # Detect on whole lines: the sniffed block may end inside a character. Not for
            # UTF-16, where a b"\n" byte is half of a character (b"\n\0" in UTF-16-LE).
            cut = head if (whole or utf16) else (head[: head.rfind(b"\n") + 1] or head)
            if utf16 and len(cut) % 2:
                cut = cut[:-1]
            codec, _ = detect_encoding(path, cut)
            label = codec
            if not utf16 and b"\0" not in head:
                log.info("%s: not UTF-8; read as %s", source, codec)
    text = head.decode(codec, errors="ignore").lstrip("\ufeff")
    lines = text.splitlines()
    if not whole and lines:
        lines = lines[:-1]  # possibly cut short
    if not lines or not any(line.strip() for line in lines):
        raise InputFormatError(
            f"{source}: the file is empty (only blank lines, no header line and no rows)"
        )
    header_row, delimiter, _ = find_header(lines, mapping, source)
    fields = split_line(lines[header_row], delimiter)
    if len(fields) < 2:  # before matching: "no lat column" would hide the real problem
        raise InputFormatError(
            f"{source}: the header {lines[header_row][:80]!r} splits into a single column "
            f"with every delimiter tried ({', '.join(DELIMITER_NAMES.values())}); save the "
            "table as CSV with one of those delimiters"
        )
    match = _match(fields, kind="enterprises", mapping=mapping, source=source)
    wanted = list(dict.fromkeys(match.columns.values()))
    duplicated = [h for h in wanted if fields.count(h) > 1]
    if duplicated:
        raise SchemaError(
            f"{source}: header {duplicated[0]!r} appears more than once; rename one of them"
        )
    if delimiter != ",":
        log.info("%s: read with %s delimiter", source, DELIMITER_NAMES[delimiter])
    plan = Plan(
        kind="csv",
        source=source,
        match=match,
        wanted=tuple(wanted),
        scales={},
        details={"delimiter": delimiter, "header_row": header_row},
        encoding=label,
        delimiter=delimiter,
        header_row=header_row,
    )
    return _finish_plan(plan, skip, **finish)


# --------------------------------------------------------------------------------------------
# parts
# --------------------------------------------------------------------------------------------


def partitions_of(files: Sequence[str], *, partition_rows: int) -> list[Part]:
    """Cut Parquet files into parts of whole row groups, about ``partition_rows`` rows each.

    Examples
    --------
    >>> from parkgeo.datasets import sample_path
    >>> parts = partitions_of([str(sample_path("tianjin_enterprises.parquet"))],
    ...                       partition_rows=10)
    >>> sum(p.n_rows for p in parts) == parts[-1].first_row + parts[-1].n_rows
    True
    """
    import pyarrow.parquet as pq

    spans: list[tuple[str, tuple[int, ...], int, int]] = []
    offset = 0
    for name in files:
        meta = pq.ParquetFile(name).metadata
        groups: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if groups and rows + n > partition_rows:
                spans.append((name, tuple(groups), offset, rows))
                offset += rows
                groups, rows = [], 0
            groups.append(g)
            rows += n
        if groups:
            spans.append((name, tuple(groups), offset, rows))
            offset += rows
    return [
        Part(i, first, n, file=name, row_groups=groups, last=i == len(spans) - 1)
        for i, (name, groups, first, n) in enumerate(spans)
    ]


def parts(
    plan: Plan, rows: int | None, only: set[int] | None = None, *, split: int = 1
) -> Iterator[Part]:
    """The parts of ``plan``, about ``rows`` rows each (``None``: one part), in file order.

    ``only``: just these part numbers (a second pass). A Parquet part larger than twice
    ``rows`` (one huge row group) is read here in slices, so that memory stays bounded.

    ``split``: each part is read here and cut into ``split`` slices of consecutive rows, for
    threads sharing one part (a Parquet file of one or two row groups would otherwise give
    one thread most of the work). Slice ``j`` of part ``p`` is part ``p * split + j`` (empty
    slices are skipped), so a second pass asks for the same numbers.
    """
    if split <= 1:
        yield from _planned(plan, rows, only)
        return
    wanted = None if only is None else {i // split for i in only}
    for part in _planned(plan, rows, wanted):
        frame = part_frame(plan, part)
        n = len(frame)
        size = max(1, -(-n // split))
        starts = list(range(0, n, size)) or [0]
        for j, start in enumerate(starts):
            index = part.index * split + j
            if only is not None and index not in only:
                continue
            piece = frame.iloc[start : start + size]
            first = int(piece.index[0]) if len(piece) else part.first_row
            last = part.last and j == len(starts) - 1
            yield Part(index, first, len(piece), frame=piece, last=last)


def _planned(plan: Plan, rows: int | None, only: set[int] | None) -> Iterator[Part]:
    if plan.kind == "parquet" and rows is not None:
        index = 0
        spans = partitions_of(plan.files, partition_rows=rows)
        for span in spans:
            pieces: Iterator[Part] = (
                iter([span]) if span.n_rows <= 2 * rows else _sliced(plan, span, rows)
            )
            for piece in pieces:
                if only is None or index in only:
                    yield replace(piece, index=index)
                index += 1
        return
    if plan.kind == "parquet":
        all_groups = partitions_of(plan.files, partition_rows=1 << 62)
        if only is None or 0 in only:
            frames = [part_frame(plan, p) for p in all_groups]
            frame = pd.concat(frames) if len(frames) > 1 else frames[0]
            yield Part(0, 0, len(frame), frame=frame, last=True)
        return
    if plan.kind == "table":
        assert plan.table is not None
        yield from _framed(_sliced_table(plan.table, rows), only)
        return
    yield from _framed(csv_frames(plan, rows), only)


def _sliced(plan: Plan, span: Part, rows: int) -> Iterator[Part]:
    """A row group much larger than a part, read here in slices of ``rows``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert span.file is not None
    offset = span.first_row
    end = span.first_row + span.n_rows
    batches = pq.ParquetFile(span.file).iter_batches(
        batch_size=rows, row_groups=list(span.row_groups), columns=list(plan.wanted)
    )
    for batch in _readable(batches, span.file):
        frame = _arrow_frame(pa.Table.from_batches([batch]), plan)
        del batch
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        last = span.last and offset >= end
        yield Part(span.index, int(frame.index[0]), len(frame), frame=frame, last=last)


def _readable(batches: Iterator[Any], file: str) -> Iterator[Any]:
    """Record batches of a Parquet file; damaged pages are the file's fault (one line)."""
    import pyarrow as pa

    try:
        yield from batches
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFormatError(f"{file}: not a readable Parquet file ({exc})") from None


def _framed(frames: Iterator[pd.DataFrame], only: set[int] | None) -> Iterator[Part]:
    """Number frames as parts, looking one ahead to mark the last."""
    current = next(frames, None)
    index = 0
    while current is not None:
        following = next(frames, None)
        if only is None or index in only:
            first = int(current.index[0]) if len(current) else 0
            yield Part(index, first, len(current), frame=current, last=following is None)
        current = following
        index += 1


def _sliced_table(table: pd.DataFrame, rows: int | None) -> Iterator[pd.DataFrame]:
    step = len(table) if rows is None else rows
    if len(table) == 0:
        yield table
        return
    for start in range(0, len(table), max(1, step)):
        yield table.iloc[start : start + step]


def part_frame(plan: Plan, part: Part) -> pd.DataFrame:
    """Raw cells of ``part`` under canonical names, indexed by the global source row."""
    if part.frame is not None:
        return part.frame
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert part.file is not None
    try:
        table = pq.ParquetFile(part.file).read_row_groups(
            list(part.row_groups), columns=list(plan.wanted)
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFormatError(f"{part.file}: not a readable Parquet file ({exc})") from None
    frame = _arrow_frame(table, plan)
    del table
    frame.index = pd.RangeIndex(part.first_row, part.first_row + len(frame))
    return frame


def _arrow_frame(table: Any, plan: Plan) -> pd.DataFrame:
    """Raw cells under canonical names from an Arrow table; GeoParquet points as lon/lat."""
    renamed = table.rename_columns(
        [
            h if h == plan.geometry_column else canonical_of(plan.match, h)
            for h in table.column_names
        ]
    )
    del table
    geometry = None
    if plan.geometry_column is not None:
        geometry = renamed.column(plan.geometry_column)
        renamed = renamed.drop_columns([plan.geometry_column])
    # Release each Arrow column as it is converted: the part is not held twice.
    frame = decode_dictionaries(
        renamed.to_pandas(types_mapper=string_mapper, split_blocks=True, self_destruct=True)
    )
    del renamed
    if geometry is not None:
        meta = plan.geometry_meta
        lon, lat = points_from_arrow(geometry, meta.get("encoding", "WKB"), plan.source)
        lon, lat = to_lonlat_degrees(lon, lat, meta.get("crs", "OGC:CRS84"), plan.source)
        frame["lon"] = lon
        frame["lat"] = lat
    return split_lonlat_column(frame, source=plan.source, headers=plan.match.columns)
