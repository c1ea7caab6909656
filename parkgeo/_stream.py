"""Enterprise tables larger than memory: batched reading, validation, join and aggregation.

The density figures are ratios of sums, so they can be built from **partial sums per (park,
year)** that add up: each batch of rows is read, validated, joined and reduced to a
:class:`parkgeo.metrics.Partials` (a few arrays of shape ``(n_parks + 1, n_years)``), partials
are added (:meth:`~parkgeo.metrics.Partials.merge`), and :func:`parkgeo.metrics.finish` turns
the total into the table :func:`parkgeo.metrics.park_metrics` returns (which is itself
``finish(partials_of(...))``: one implementation). Memory is bounded by the batch size plus 24
bytes per kept row for the duplicate check, whatever the file size. The Dask backend
(:mod:`parkgeo.distributed`) runs the same steps with one partition per task, and
``jobs=N`` runs the first pass over a Parquet input's batches in N worker processes of this
machine, which send back only partial sums, hashed keys and ledger rows.

Identical to the in-memory path
-------------------------------
* Rows are numbered globally (``source_row`` = 0-based data row of the whole file), so the
  reject ledger is the one :func:`parkgeo.io.read_enterprises` returns, row for row.
* Duplicate enterprise-years across batches: the validator finds duplicates within a batch;
  across batches parkgeo keeps two independent 64-bit hashes of each kept ``(enterprise_id,
  year)`` key and its source row (:func:`key_hashes`: **24 bytes per kept row**, 290 MB for 12
  million rows; two keys are confused only with a 2**-128 chance per pair, about 1e-24 for 12
  million rows). A row whose key was kept in an earlier batch is validated again behind a copy
  of that first occurrence, so the validator itself writes the ledger entry (same reason and
  message, naming the kept row). :func:`iter_enterprise_batches` checks as it goes
  (:class:`SeenKeys`); :func:`park_metrics_batched` skips the validator's own check in a
  first pass, finds the repeats within and across batches once at the end
  (:func:`repeated_keys`), and redoes the rare batches that hold one, with the check on.
* Counts are exact; sums of money and energy are added batch by batch in float64, so they
  agree with the in-memory sums to floating-point summation error (relative 1e-12 or so).

The batch readers reuse :mod:`parkgeo.io`'s internals (header and delimiter detection,
encoding detection, column mapping, GeoParquet points), so a file is understood the same way
as by :func:`parkgeo.io.read_enterprises`. CSV encodings are detected on the first 4 MiB; a
file whose first non-UTF-8 byte comes later needs ``encoding=``.
"""

from __future__ import annotations

import codecs
import glob as _glob
import logging
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._errors import InputFormatError, ParkgeoError
from parkgeo.metrics import Partials, _check_min_enterprises, finish, partials_of

__all__ = [
    "AUTO_JOBS_ROWS",
    "BACKENDS",
    "DEFAULT_BATCH_ROWS",
    "BatchedResult",
    "Partials",
    "Partition",
    "finish",
    "iter_enterprise_batches",
    "park_metrics_batched",
    "park_metrics_file",
    "partials_of",
    "partitions_of",
    "repeated_keys",
]

log = logging.getLogger("parkgeo")

DEFAULT_BATCH_ROWS = 2_000_000
"""Rows per batch: about 1.1 GB of peak memory at 500 parks (measured on 12 million rows), and
no slower than one pass over the whole file (smaller arrays stay in cache)."""

_SNIFF_BYTES = 4 * 1024 * 1024
# Density does not read firm names: they are a third of the bytes of a typical file.
_UNUSED_BY_DENSITY = ("name",)
_WHOLE_FILE = 1 << 62
_CSV_BLOCK_BYTES = 16 << 20


def join_summary(partials: Partials) -> pd.DataFrame:
    """The match summary of :func:`parkgeo.join.assign_parks` from partial sums."""
    from parkgeo.join import MATCH_KINDS

    counts = partials.match_counts
    summary = pd.DataFrame(
        {
            "match": pd.Series(MATCH_KINDS, dtype="str"),
            "n": counts.sum(axis=1).astype(np.int64) if counts.size else np.zeros(5, np.int64),
        }
    )
    for j, year in enumerate(partials.years):
        summary[str(int(year))] = counts[:, j].astype(np.int64)
    return summary


# --------------------------------------------------------------------------------------------
# reading in batches
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """How a file is read: kind, columns, and what the in-memory reader would do."""

    kind: str  # "csv" or "parquet"
    source: str
    match: Any  # parkgeo._columns.ColumnMatch
    wanted: list[str]
    scales: dict[str, float]
    encoding: str | None = None
    total_rows: int | None = None
    files: tuple[str, ...] = ()
    geometry_column: str | None = None
    geometry_meta: dict[str, Any] = field(default_factory=dict)
    csv_options: tuple[Any, ...] = ()


def parquet_files(path: str | Path) -> list[str]:
    """The Parquet files of a file, a directory (recursively, sorted) or a glob pattern."""
    text = str(path)
    if any(ch in text for ch in "*?["):
        files = sorted(_glob.glob(text, recursive=True))
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


def _scales(match: Any, source: str) -> dict[str, float]:
    from parkgeo._columns import MEASURES, header_scale

    scales = {
        c: header_scale(c, h)
        for c, h in match.columns.items()
        if c in MEASURES and header_scale(c, h) != 1.0
    }
    if scales:
        log.info(
            "%s: scaling %s to parkgeo's units because of the units in the headers",
            source,
            ", ".join(f"{c} x{s:g}" for c, s in scales.items()),
        )
    return scales


@dataclass(frozen=True)
class Partition:
    """Consecutive row groups of one Parquet file, and the global number of their first row."""

    file: str
    row_groups: tuple[int, ...]
    first_row: int
    n_rows: int


def partitions_of(files: Sequence[str], *, partition_rows: int) -> list[Partition]:
    """Cut Parquet files into partitions of whole row groups, about ``partition_rows`` each.

    Examples
    --------
    >>> from parkgeo.datasets import sample_path
    >>> parts = partitions_of([str(sample_path("tianjin_enterprises.parquet"))],
    ...                       partition_rows=10)
    >>> sum(p.n_rows for p in parts) == parts[-1].first_row + parts[-1].n_rows
    True
    """
    import pyarrow.parquet as pq

    out: list[Partition] = []
    offset = 0
    for name in files:
        meta = pq.ParquetFile(name).metadata
        groups: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if groups and rows + n > partition_rows:
                out.append(Partition(name, tuple(groups), offset, rows))
                offset += rows
                groups, rows = [], 0
            groups.append(g)
            rows += n
        if groups:
            out.append(Partition(name, tuple(groups), offset, rows))
            offset += rows
    return out


def _skipping(match: Any, skip: Sequence[str]) -> Any:
    """``match`` without the optional columns in ``skip`` (never a required one)."""
    from dataclasses import replace

    from parkgeo._columns import ENTERPRISE_REQUIRED

    drop = [c for c in skip if c in match.columns and c not in ENTERPRISE_REQUIRED]
    if not drop:
        return match
    return replace(match, columns={c: h for c, h in match.columns.items() if c not in drop})


def _plan_parquet(path: str | Path, mapping: Mapping[str, str], skip: Sequence[str] = ()) -> _Plan:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from parkgeo._columns import ENTERPRISE_REQUIRED, match_columns
    from parkgeo.io import _geo_metadata

    files = parquet_files(path)
    source = str(path)
    try:
        schema = pq.read_schema(files[0])
        total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFormatError(f"{source}: not a readable Parquet file ({exc})") from None
    geo = _geo_metadata(schema)
    headers = [n for n in schema.names if not n.startswith("__index_level_")]
    geom_col = geo.get("primary_column") if geo else None
    probe = match_columns(headers, kind="enterprises", mapping=mapping, source=source, check=False)
    use_geometry = bool(geom_col) and ("lon" not in probe.columns or "lat" not in probe.columns)
    required = tuple(c for c in ENTERPRISE_REQUIRED if not (use_geometry and c in ("lon", "lat")))
    match = match_columns(
        [h for h in headers if h != geom_col],
        kind="enterprises",
        mapping=dict(mapping),
        source=source,
        required=required,
    )
    match = _skipping(match, skip)
    wanted = list(dict.fromkeys(match.columns.values()))
    meta: dict[str, Any] = {}
    if use_geometry:
        wanted.append(str(geom_col))
        meta = dict((geo or {}).get("columns", {}).get(geom_col, {}))
    return _Plan(
        kind="parquet",
        source=source,
        match=match,
        wanted=wanted,
        scales=_scales(match, source),
        total_rows=int(total),
        files=tuple(files),
        geometry_column=str(geom_col) if use_geometry else None,
        geometry_meta=meta,
    )


def _parquet_frame(table: Any, plan: _Plan) -> pd.DataFrame:
    """Raw cells under canonical names from an Arrow table, as ``io`` reads a Parquet file."""
    from parkgeo.io import (
        _canonical_of,
        _decode_dictionaries,
        _points_from_arrow,
        _string_mapper,
        _to_lonlat_degrees,
    )

    renamed = table.rename_columns([_canonical_of(plan.match, h) for h in table.column_names])
    del table
    geometry = None
    if plan.geometry_column is not None:
        geometry = renamed.column(plan.geometry_column)
        renamed = renamed.drop_columns([plan.geometry_column])
    # Release each Arrow column as it is converted: the batch is not held twice.
    frame = _decode_dictionaries(
        renamed.to_pandas(types_mapper=_string_mapper, split_blocks=True, self_destruct=True)
    )
    del renamed
    if geometry is not None:
        meta = plan.geometry_meta
        lon, lat = _points_from_arrow(geometry, meta.get("encoding", "WKB"), plan.source)
        lon, lat = _to_lonlat_degrees(lon, lat, meta.get("crs", "OGC:CRS84"), plan.source)
        frame["lon"] = lon
        frame["lat"] = lat
    return frame


def _plan_csv(
    path: Path, mapping: Mapping[str, str], encoding: str | None, skip: Sequence[str] = ()
) -> _Plan:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from parkgeo._columns import match_columns
    from parkgeo.io import (
        _DELIMITER_NAMES,
        _bomless_utf16,
        _codec_name,
        _detect_encoding,
        _find_header,
        _open_binary,
        _split_line,
    )

    source = str(path)
    with _open_binary(path) as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputFormatError(f"{source}: the file is empty")
    if encoding is not None:
        codec = _codec_name(encoding)
        label = encoding
    elif head.startswith(codecs.BOM_UTF8):
        codec, label = "utf-8-sig", "utf-8-sig"
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            codec, label = "utf-8", "utf-8"
        except UnicodeDecodeError:
            # Detect on whole lines: the sniffed block may end inside a character. Not for
            # UTF-16, where a b"\n" byte is half of a character (b"\n\0" in UTF-16-LE).
            utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or bool(
                _bomless_utf16(head)
            )
            cut = head if utf16 else (head[: head.rfind(b"\n") + 1] or head)
            if utf16 and len(cut) % 2:
                cut = cut[:-1]
            codec, _ = _detect_encoding(path, cut)
            label = codec
            log.info("%s: not UTF-8; read as %s", source, codec)
    text = head.decode(codec, errors="ignore").lstrip("\ufeff")
    lines = text.splitlines()
    if len(head) == _SNIFF_BYTES and lines:
        lines = lines[:-1]  # possibly cut short
    if not lines or not any(line.strip() for line in lines):
        raise InputFormatError(f"{source}: the file has no header line")
    header_row, delimiter, _ = _find_header(lines, dict(mapping), source)
    fields = _split_line(lines[header_row], delimiter)
    if len(fields) < 2:  # before matching: "no lat column" would hide the real problem
        raise InputFormatError(
            f"{source}: found a single column {fields[0]!r} with every delimiter tried "
            f"({', '.join(_DELIMITER_NAMES.values())}); save the file as CSV"
        )
    match = match_columns(fields, kind="enterprises", mapping=dict(mapping), source=source)
    match = _skipping(match, skip)
    wanted = list(dict.fromkeys(match.columns.values()))
    duplicated = [h for h in wanted if fields.count(h) > 1]
    if duplicated:
        from parkgeo._errors import SchemaError

        raise SchemaError(
            f"{source}: header {duplicated[0]!r} appears more than once; rename one of them"
        )
    arrow_encoding = "utf8" if codec in ("utf-8", "utf-8-sig") else codec
    read_options = pacsv.ReadOptions(
        skip_rows=header_row, block_size=_CSV_BLOCK_BYTES, encoding=arrow_encoding
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        include_columns=wanted,
        column_types={h: pa.string() for h in wanted},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    if delimiter != ",":
        log.info("%s: read with %s delimiter", source, _DELIMITER_NAMES[delimiter])
    return _Plan(
        kind="csv",
        source=source,
        match=match,
        wanted=wanted,
        scales=_scales(match, source),
        encoding=label,
        csv_options=(read_options, parse_options, convert_options, delimiter),
    )


def _plan_for(
    path: str | Path, mapping: Mapping[str, str], encoding: str | None, skip: Sequence[str] = ()
) -> _Plan:
    from parkgeo.io import _kind_of

    text = str(path)
    if any(ch in text for ch in "*?["):
        return _plan_parquet(text, mapping, skip)
    p = Path(text)
    if not p.exists():
        raise InputFormatError(f"{p}: no such file or directory")
    if p.is_file() and p.stat().st_size == 0:
        raise InputFormatError(f"{p}: the file is empty")
    kind = _kind_of(p)
    if kind == "parquet":
        return _plan_parquet(p, mapping, skip)
    if kind == "csv":
        return _plan_csv(p, mapping, encoding, skip)
    raise InputFormatError(
        f"{p}: reading in batches supports CSV and Parquet; this is {kind}. Convert it "
        "(e.g. save the sheet as CSV), or read it whole without --batch-rows"
    )


def _arrow_batches(plan: _Plan, batch_rows: int) -> Iterator[list[Any]]:
    """Arrow tables of about ``batch_rows`` rows each, in file order, each in a one-item list
    the caller empties, so that this generator holds no reference while the batch is used."""
    import pyarrow as pa

    if plan.kind == "parquet":
        import pyarrow.parquet as pq

        # Whole row groups read by a reader opened for the batch alone: a long-lived reader
        # keeps about a batch of decoded buffers alive besides the batch in use.
        for part in partitions_of(plan.files, partition_rows=batch_rows):
            try:
                if part.n_rows > 2 * batch_rows:  # a row group much larger than a batch
                    batches = pq.ParquetFile(part.file).iter_batches(
                        batch_size=batch_rows, row_groups=list(part.row_groups), columns=plan.wanted
                    )
                    for batch in batches:
                        box = [pa.Table.from_batches([batch])]
                        del batch
                        yield box
                    continue
                box = [
                    pq.ParquetFile(part.file).read_row_groups(
                        list(part.row_groups), columns=plan.wanted
                    )
                ]
            except (pa.ArrowInvalid, OSError) as exc:
                raise InputFormatError(
                    f"{part.file}: not a readable Parquet file ({exc})"
                ) from None
            yield box
        return

    import pyarrow.csv as pacsv

    from parkgeo.io import _DELIMITER_NAMES, _open_binary

    read_options, parse_options, convert_options, delimiter = plan.csv_options
    path = Path(plan.source)
    compressed = path.suffix.lower() in (".gz", ".bz2", ".xz")
    stream: Any = (
        pa.input_stream(str(path), compression="detect") if compressed else _open_binary(path)
    )
    pending: list[Any] = []
    n_pending = 0
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
        for batch in reader:
            pending.append(batch)
            n_pending += batch.num_rows
            while n_pending >= batch_rows:
                table = pa.Table.from_batches(pending)
                yield [table.slice(0, batch_rows)]
                rest = table.slice(batch_rows)
                pending = rest.to_batches()
                n_pending = rest.num_rows
        if n_pending:
            yield [pa.Table.from_batches(pending, schema=reader.schema)]
    except pa.ArrowInvalid as exc:
        message = str(exc).strip()
        if "UTF8" in message or "utf8" in message.lower():
            raise InputFormatError(
                f"{plan.source}: text that is not valid {plan.encoding} after the first "
                f"{_SNIFF_BYTES >> 20} MiB ({message}); pass the file's encoding "
                "(encoding=..., --encoding GB18030) or re-save it as UTF-8"
            ) from None
        raise InputFormatError(
            f"{plan.source}: malformed CSV ({message}); each row must have as many fields as "
            f"the header (detected delimiter: {_DELIMITER_NAMES[delimiter]}); quote fields "
            "that contain the delimiter"
        ) from None
    finally:
        stream.close()


def _raw_batches(plan: _Plan, batch_rows: int) -> Iterator[list[pd.DataFrame]]:
    """Raw cells under canonical names, indexed by the global 0-based data row (each frame
    in a one-item list for the caller to empty, see :func:`_arrow_batches`)."""
    from parkgeo.io import _canonical_of, _string_mapper

    offset = 0
    for box in _arrow_batches(plan, batch_rows):
        if plan.kind == "parquet":
            frame = _parquet_frame(box.pop(), plan)
        else:
            table = box.pop()
            renamed = table.rename_columns(
                [_canonical_of(plan.match, h) for h in table.column_names]
            )
            del table
            frame = renamed.to_pandas(types_mapper=_string_mapper)
            del renamed
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        box = [frame]
        del frame
        yield box


# --------------------------------------------------------------------------------------------
# duplicates across batches
# --------------------------------------------------------------------------------------------

_HASH_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344)


def key_hashes(ids: pd.Series, years: NDArray[np.int64]) -> tuple[NDArray[np.uint64], ...]:
    """Two independent 64-bit hashes of each (enterprise_id, year) key.

    The UTF-8 bytes of an id are laid out in 8-byte words (zero padded; the length is hashed
    too, so padding cannot collide with NUL bytes) and chained through the splitmix64
    finaliser from two different seeds: vectorised, about 0.1 s per million keys. Different
    keys collide by chance only (2**-128 per pair for the two hashes together).
    """
    import pyarrow as pa

    arr = pa.array(ids.astype("str"), type=pa.large_string())
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    buffer = arr.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    n_words = max(1, -(-int(lengths.max()) // 8)) if n else 1
    body = data[int(offsets[0]) : int(offsets[-1])] if n else data[:0]
    padded = np.zeros((n, n_words * 8), dtype=np.uint8)
    if n and int(lengths.min()) == int(lengths.max()):
        # Ids of one length (credit codes: 18 characters): the bytes are already a matrix.
        width = int(lengths[0])
        padded[:, :width] = body.reshape(n, width)
    elif n:
        row_start = np.arange(n, dtype=np.int64) * (n_words * 8)
        # Byte j of row i goes to padded[i, j]: its flat position minus its string's start.
        shift = np.repeat(row_start - (offsets[:-1] - offsets[0]), lengths)
        padded.ravel()[np.arange(len(body), dtype=np.int64) + shift] = body
    words = padded.view("<u8")
    tail = lengths.astype(np.uint64) | (years.astype(np.uint64) << np.uint64(32))
    out = []
    for seed in _HASH_SEEDS:
        with np.errstate(over="ignore"):
            h = _mix64(tail + np.uint64(seed))
            for k in range(n_words):
                h = _mix64(h ^ (words[:, k] + np.uint64(seed)))
        out.append(h)
    return tuple(out)


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser: a bijection that spreads every input bit."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _merge_sorted(
    a: tuple[NDArray[Any], ...], b: tuple[NDArray[Any], ...]
) -> tuple[NDArray[Any], ...]:
    """Merge two runs sorted by their first array, in linear time."""
    at = np.searchsorted(a[0], b[0], side="right") + np.arange(len(b[0]))
    from_a = np.ones(len(a[0]) + len(b[0]), dtype=bool)
    from_a[at] = False
    merged = []
    for x, y in zip(a, b, strict=True):
        out = np.empty(len(x) + len(y), dtype=x.dtype)
        out[at] = y
        out[from_a] = x
        merged.append(out)
    return tuple(merged)


class SeenKeys:
    """The (enterprise_id, year) keys kept so far, with the source row of each.

    Runs sorted by the first hash, merged like a binary counter (linear merges), so adding N
    keys costs O(N log B) for B batches and a lookup one binary search per run (at most
    log2(B) + 1 runs). 24 bytes per key.
    """

    def __init__(self) -> None:
        self._runs: list[tuple[NDArray[Any], ...]] = []

    def __len__(self) -> int:
        return sum(len(run[0]) for run in self._runs)

    @property
    def nbytes(self) -> int:
        """Memory held by the keys."""
        return sum(sum(a.nbytes for a in run) for run in self._runs)

    def lookup(self, h1: NDArray[np.uint64], h2: NDArray[np.uint64]) -> NDArray[np.int64]:
        """Source row of each key's first occurrence, -1 for keys not seen."""
        found = np.full(len(h1), -1, dtype=np.int64)
        if not self._runs or len(h1) == 0:
            return found
        # Queries in sorted order walk each run's memory forwards.
        order = np.argsort(h1)
        q1, q2 = h1[order], h2[order]
        for r1, r2, rows in self._runs:
            left = np.searchsorted(r1, q1, side="left")
            inside = left < len(r1)
            at = np.minimum(left, len(r1) - 1)
            same_first = inside & (r1[at] == q1)
            hit = same_first & (r2[at] == q2)
            found[order[hit]] = rows[at[hit]]
            # Equal first hashes of different keys (chance 2**-64 per pair): scan the run.
            for i in np.flatnonzero(same_first & ~hit):
                j = left[i]
                while j < len(r1) and r1[j] == q1[i]:
                    if r2[j] == q2[i]:
                        found[order[i]] = rows[j]
                        break
                    j += 1
        return found

    def add(self, h1: NDArray[np.uint64], h2: NDArray[np.uint64], rows: NDArray[np.int64]) -> None:
        """Remember new keys (not already present)."""
        if len(h1) == 0:
            return
        order = np.argsort(h1, kind="stable")
        self._runs.append((h1[order], h2[order], np.asarray(rows, dtype=np.int64)[order]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            b = self._runs.pop()
            a = self._runs.pop()
            self._runs.append(_merge_sorted(a, b))


def validate_batch(
    raw: pd.DataFrame,
    *,
    source: str,
    strict: bool,
    accept_years: Any,
    scales: Mapping[str, float],
    first_rows: NDArray[np.int64] | None = None,
    check_duplicates: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a batch of raw rows; rows whose key occurred in an earlier batch are ledgered.

    ``first_rows`` (optional, one per raw row, -1 for none) gives, for rows known to repeat a
    key kept earlier, the source row of that first occurrence. Such rows are validated again
    behind a copy of that first occurrence, so the validator writes their ledger entries as it
    would have in one pass over the whole file; the copies are then dropped.
    ``check_duplicates=False`` keeps repeated keys (see :func:`park_metrics_batched`).
    """
    from parkgeo._validate import validate_enterprises

    if first_rows is None or not (first_rows >= 0).any():
        return validate_enterprises(
            raw,
            source=source,
            strict=strict,
            years=accept_years,
            scales=dict(scales),
            check_duplicates=check_duplicates,
        )
    repeat = np.flatnonzero(first_rows >= 0)
    firsts = raw.iloc[repeat].copy()
    firsts.index = pd.Index(first_rows[repeat], dtype=np.int64)
    combined = pd.concat([firsts, raw])
    kept, ledger = validate_enterprises(
        combined, source=source, strict=strict, years=accept_years, scales=dict(scales)
    )
    return kept.loc[~kept.index.isin(firsts.index)], ledger


# --------------------------------------------------------------------------------------------
# the batched pipeline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One batch of validated enterprise rows (WGS-84), with its share of the reject ledger."""

    data: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    first_row: int


def iter_enterprise_batches(
    path: str | Path,
    *,
    batch_rows: int | None = DEFAULT_BATCH_ROWS,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
    strict: bool = False,
    accept_years: Any = None,
    skip_columns: Sequence[str] = (),
    progress: bool | None = None,
) -> Iterator[Batch]:
    """Read, validate and convert an enterprise table batch by batch.

    Each batch is what :func:`parkgeo.io.read_enterprises` would return for those rows of the
    whole file: kept rows indexed by the global ``source_row``, and the ledger of the rejected
    ones (duplicates of an enterprise-year kept in an earlier batch included).

    Parameters
    ----------
    path : str or path-like
        CSV (optionally compressed) or Parquet/GeoParquet: a file, a directory of Parquet files
        or a glob pattern (``"data/part-*.parquet"``).
    batch_rows : int or None
        Rows per batch (about: Parquet batches are whole row groups unless a row group is
        larger); ``None`` reads the whole file as one batch (no duplicate hashing then).
    columns, coord_system, encoding, strict
        As for :func:`parkgeo.io.read_enterprises`.
    accept_years : (int, int) or range, optional
        Accepted years (``years=`` of :func:`parkgeo.io.read_enterprises`).
    skip_columns : sequence of str
        Optional canonical columns not to read (e.g. ``("name",)``: firm names are a third
        of a file's bytes and density does not use them); they come out as NA.
    progress : bool, optional
        Show progress (default: when the ``parkgeo`` logger emits INFO).

    Yields
    ------
    Batch

    Raises
    ------
    InputFormatError, SchemaError, DataValidationError
        As :func:`parkgeo.io.read_enterprises`.

    Examples
    --------
    >>> from parkgeo.datasets import sample_path
    >>> batches = list(iter_enterprise_batches(sample_path("tianjin_enterprises.parquet"),
    ...                                        batch_rows=20_000, progress=False))
    >>> [b.first_row for b in batches[:3]], sum(b.n_read for b in batches)
    ([0, 20000, 40000], 48000)
    """
    from parkgeo import coords
    from parkgeo._progress import Progress

    batch_rows = _batch_rows(batch_rows)
    system = coords.normalize_coord_system(coord_system)
    plan = _plan_for(path, dict(columns or {}), encoding, skip_columns)
    seen = SeenKeys()
    with Progress("read and validate", total=plan.total_rows, enabled=progress) as bar:
        for box, is_first, is_last in _marked(_raw_batches(plan, batch_rows), plan.total_rows):
            raw = box.pop()
            first_row = int(raw.index[0]) if len(raw) else 0
            kept, ledger = _validated(raw, plan, system, strict=strict, accept_years=accept_years)
            # The first batch has nothing to look up, the last nothing to leave for later:
            # a file read in one batch is never hashed.
            if not (is_first and is_last):
                h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
                earlier = seen.lookup(h1, h2)
                if (earlier >= 0).any():
                    first_rows = np.full(len(raw), -1, dtype=np.int64)
                    position = raw.index.get_indexer(kept.index[earlier >= 0])
                    first_rows[position] = earlier[earlier >= 0]
                    kept, ledger = _validated(
                        raw,
                        plan,
                        system,
                        strict=strict,
                        accept_years=accept_years,
                        first_rows=first_rows,
                    )
                    h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
                if not is_last:
                    seen.add(h1, h2, kept.index.to_numpy(dtype=np.int64))
            del raw
            n_read = len(kept) + len(ledger)
            bar.update(n_read)
            yield Batch(data=kept, rejects=ledger, n_read=n_read, first_row=first_row)
    log.debug("duplicate check held %d keys in %.0f MB", len(seen), seen.nbytes / 1e6)


def _validated(
    raw: pd.DataFrame,
    plan: _Plan,
    system: str,
    *,
    strict: bool,
    accept_years: Any,
    first_rows: NDArray[np.int64] | None = None,
    check_duplicates: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate a raw batch and convert its coordinates to WGS-84, as ``read_enterprises``."""
    from parkgeo import coords

    kept, ledger = validate_batch(
        raw,
        source=plan.source,
        strict=strict,
        accept_years=accept_years,
        scales=plan.scales,
        first_rows=first_rows,
        check_duplicates=check_duplicates,
    )
    if system in ("gcj02", "bd09") and len(kept):
        lon, lat = coords.convert_coords(
            kept["lon"].to_numpy(), kept["lat"].to_numpy(), system, "wgs84"
        )
        kept = kept.assign(lon=lon, lat=lat)
    kept.attrs.update(
        {
            "source": plan.source,
            "encoding": plan.encoding,
            "coord_system": system,
            "crs": "EPSG:4326",
        }
    )
    return kept, ledger


def repeated_keys(
    keys: Sequence[tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]]],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows whose (enterprise_id, year) key was kept at an earlier row (of the same part or of
    another), and the first such row. ``keys`` holds each part's (h1, h2, source rows) of its kept rows."""
    empty = np.empty(0, np.int64), np.empty(0, np.int64)
    keys = [k for k in keys if len(k[0])]
    if not keys:
        return empty
    h1 = np.concatenate([k[0] for k in keys])
    sorted_h1 = np.sort(h1)
    shared = np.unique(sorted_h1[1:][sorted_h1[1:] == sorted_h1[:-1]])
    del sorted_h1
    if shared.size == 0:  # the usual case: one sort and done
        return empty
    pick = np.isin(h1, shared)
    h2 = np.concatenate([k[1] for k in keys])[pick]
    rows = np.concatenate([k[2] for k in keys])[pick]
    h1 = h1[pick]
    order = np.lexsort((rows, h2, h1))
    h1, h2, rows = h1[order], h2[order], rows[order]
    new_key = np.r_[True, (h1[1:] != h1[:-1]) | (h2[1:] != h2[:-1])]
    group_first = np.maximum.accumulate(np.where(new_key, np.arange(len(rows)), 0))
    repeat = ~new_key
    found, firsts = rows[repeat], rows[group_first[repeat]]
    order = np.argsort(found, kind="stable")
    return found[order], firsts[order]


def _marked(
    batches: Iterator[list[pd.DataFrame]], total_rows: int | None
) -> Iterator[tuple[list[pd.DataFrame], bool, bool]]:
    """(boxed batch, is_first, is_last); the last is known from the row count, else by
    looking one batch ahead."""
    is_first = True
    if total_rows is not None:
        for box in batches:
            end = int(box[0].index[-1]) + 1 if len(box[0]) else 0
            yield box, is_first, end >= total_rows
            is_first = False
        return
    current = next(batches, None)
    while current is not None:
        following = next(batches, None)
        yield current, is_first, following is None
        is_first = False
        current = following


@dataclass(frozen=True)
class BatchedResult:
    """Outcome of :func:`park_metrics_batched` (and of the Dask backend).

    Attributes
    ----------
    table : pandas.DataFrame
        The density table, as :func:`parkgeo.metrics.park_metrics` returns it.
    rejects : pandas.DataFrame
        The reject ledger of the whole input, as :func:`parkgeo.io.read_enterprises` returns.
    summary : pandas.DataFrame
        The join's match summary, as :func:`parkgeo.join.assign_parks` returns it.
    n_read : int
        Data rows read; ``n_read == summary["n"].sum() + len(rejects)``.
    n_batches : int
        Batches (or Dask partitions) processed.
    encoding : str or None
        Text encoding of a CSV input, ``None`` for binary formats.
    """

    table: pd.DataFrame
    rejects: pd.DataFrame
    summary: pd.DataFrame
    n_read: int
    n_batches: int
    encoding: str | None = None


def park_metrics_batched(
    path: str | Path,
    parks: Any,
    *,
    batch_rows: int | None = DEFAULT_BATCH_ROWS,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
    strict: bool = False,
    accept_years: Any = None,
    near_m: float | None = None,
    overlap: str = "smallest",
    priority: str | None = None,
    years: Iterable[int] | None = None,
    baseline_year: int | None = None,
    target_year: int | None = None,
    targets: Any = None,
    min_enterprises: int | None = None,
    per_mu: bool = False,
    industry_mix: bool = True,
    progress: bool | None = None,
    jobs: int | None = None,
) -> BatchedResult:
    """Density figures of an enterprise file of any size, read in batches of ``batch_rows``.

    The same result as reading the file with :func:`parkgeo.io.read_enterprises`, joining it
    with :func:`parkgeo.join.assign_parks` and calling :func:`parkgeo.metrics.park_metrics`
    (counts and the ledger exactly, sums to floating-point summation error), with memory
    bounded by the batch size (plus 24 bytes per kept row for the duplicate check).

    Parameters
    ----------
    path : str or path-like
        CSV or Parquet file, directory of Parquet files, or glob pattern.
    parks : geopandas.GeoDataFrame
        Parks (as :func:`parkgeo.io.read_parks` returns them).
    batch_rows : int or None
        Rows per batch (default two million: about 1.1 GB of peak memory); ``None``: the
        whole file in one batch.
    columns, coord_system, encoding, strict, accept_years
        How to read the file (see :func:`iter_enterprise_batches`).
    near_m, overlap, priority
        How to join (see :func:`parkgeo.join.assign_parks`).
    years, baseline_year, target_year, targets, min_enterprises, per_mu, industry_mix
        What to report (see :func:`parkgeo.metrics.park_metrics`).
    progress : bool, optional
        Show progress (default: when the ``parkgeo`` logger emits INFO).
    jobs : int, optional
        Worker processes for Parquet input (CSV is read by one): each reads and reduces its
        own batches (whole row groups) and sends back partial sums, hashed keys and ledger
        rows; the result is the same. Default: 1 up to :data:`AUTO_JOBS_ROWS` rows, else 2
        if the machine has 2 cores or more and the load average leaves one free.

    Returns
    -------
    BatchedResult

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin, sample_path
    >>> sample = load_tianjin()
    >>> result = park_metrics_batched(sample_path("tianjin_enterprises.parquet"), sample.parks,
    ...                               batch_rows=20_000, years=[2015], progress=False)
    >>> city = result.table.set_index("park_id").loc["ALL"]
    >>> round(float(city["profit_change"]), 3), result.n_batches
    (0.45, 3)
    """
    from parkgeo import coords
    from parkgeo._progress import Progress
    from parkgeo.metrics import _plan

    # Check every option before reading gigabytes.
    _plan(targets, baseline_year, target_year)
    _check_min_enterprises(min_enterprises)
    rows_per_batch = _batch_rows(batch_rows)
    system = coords.normalize_coord_system(coord_system)
    skip = _UNUSED_BY_DENSITY if industry_mix else (*_UNUSED_BY_DENSITY, "industry")
    plan = _plan_for(path, dict(columns or {}), encoding, skip)
    state: dict[str, Any] = {
        "plan": plan,
        "parks": parks,
        "system": system,
        "join": {"near_m": near_m, "overlap": overlap, "priority": priority},
        "check": {"strict": strict, "accept_years": accept_years},
        "industry_mix": industry_mix,
        "first_pass_duplicates": strict,
    }
    n_jobs = _jobs_for(jobs, plan)
    if n_jobs > 1:
        # Workers read whole row groups: one partition, or a row group much larger than a
        # batch (read in slices to bound memory), is read here.
        parts = partitions_of(plan.files, partition_rows=rows_per_batch)
        if len(parts) < 2 or max(part.n_rows for part in parts) > 2 * rows_per_batch:
            n_jobs = 1

    def step(
        raw: pd.DataFrame,
        first_rows: NDArray[np.int64] | None = None,
        *,
        check_duplicates: bool = True,
    ) -> tuple[pd.DataFrame, pd.DataFrame, Partials]:
        return _batch_step(raw, state, first_rows, check_duplicates=check_duplicates)

    # Duplicate enterprise-years are rare: collect the hashed keys of the kept rows (24 bytes a
    # row), find repeats, within and across batches, once at the end with one sort, and redo
    # only the batches that hold a repeat (their first occurrence named, as in one pass). The
    # first pass skips the validator's own duplicate check, which would hash every id again
    # (about 10% of the time at 12 million rows); under ``strict`` it runs, so that the first
    # batch with a problem of any kind raises, as in one pass.
    first_pass_duplicates = strict
    # Each batch's first-pass partial sums are kept (a few MB each, up to a bound), so that a
    # batch that must be redone is processed once more, not twice.
    first_partials: list[Partials | None] = []
    kept_bytes = 0
    total = Partials.empty(len(parks), has_industry=industry_mix)
    ledgers: list[pd.DataFrame] = []
    keys: list[tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]]] = []
    starts: list[int] = []
    n_read = 0
    report: dict[str, Any] = {
        "years": years,
        "baseline_year": baseline_year,
        "target_year": target_year,
        "targets": targets,
        "min_enterprises": min_enterprises,
        "per_mu": per_mu,
        "industry_mix": industry_mix,
    }
    if n_jobs > 1:
        with Progress("density", total=plan.total_rows, enabled=progress) as bar:
            total, ledgers, n_read, n_batches = _park_metrics_in_processes(
                plan, state, n_jobs, rows_per_batch, bar
            )
        return _result(
            total,
            parks,
            [ledger for ledger in ledgers if len(ledger)],
            n_read,
            n_batches,
            encoding=plan.encoding,
            source=str(path),
            **report,
        )
    with Progress("density", total=plan.total_rows, enabled=progress) as bar:
        for box, is_first, is_last in _marked(_raw_batches(plan, rows_per_batch), plan.total_rows):
            raw = box.pop()
            starts.append(int(raw.index[0]) if len(raw) else n_read)
            n_read += len(raw)
            kept, ledger, partial = step(raw, check_duplicates=first_pass_duplicates)
            del raw
            if not (is_first and is_last and first_pass_duplicates):
                h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
                keys.append((h1, h2, kept.index.to_numpy(dtype=np.int64)))
            del kept
            ledgers.append(ledger)
            total = total.merge(partial)
            size = _partials_bytes(partial)
            first_partials.append(partial if kept_bytes + size <= _KEPT_PARTIALS_BYTES else None)
            kept_bytes += size if first_partials[-1] is not None else 0
            bar.update(partial.n_rows + len(ledger))
    repeats, firsts = repeated_keys(keys)
    del keys
    if len(repeats):
        log.info(
            "%d enterprise-year rows repeat a row kept earlier; redoing the batches that hold them",
            len(repeats),
        )
        owner = np.searchsorted(np.asarray(starts), repeats, side="right") - 1
        redo = set(np.unique(owner).tolist())
        for i, box in enumerate(_raw_batches(plan, rows_per_batch)):
            if i not in redo:
                continue
            raw = box.pop()
            first_rows = np.full(len(raw), -1, dtype=np.int64)
            # Name first occurrences in earlier batches, once per key: the validator finds the
            # repeats within this batch itself (behind the copy of an earlier first occurrence).
            mine = np.flatnonzero((owner == i) & (firsts < starts[i]))
            mine = mine[np.unique(firsts[mine], return_index=True)[1]]
            first_rows[repeats[mine] - starts[i]] = firsts[mine]
            before = first_partials[i]
            if before is None:
                _, _, before = step(raw, check_duplicates=first_pass_duplicates)
            _, ledgers[i], after = step(raw, first_rows)
            total = total.minus(before).merge(after)
    return _result(
        total,
        parks,
        [ledger for ledger in ledgers if len(ledger)],
        n_read,
        len(starts),
        encoding=plan.encoding,
        source=str(path),
        years=years,
        baseline_year=baseline_year,
        target_year=target_year,
        targets=targets,
        min_enterprises=min_enterprises,
        per_mu=per_mu,
        industry_mix=industry_mix,
    )


# --------------------------------------------------------------------------------------------
# worker processes (jobs > 1): Parquet partitions read and reduced in parallel
# --------------------------------------------------------------------------------------------

AUTO_JOBS_ROWS = 3_000_000
"""Above this many rows, ``jobs=None`` uses two worker processes (Parquet only) if the load
average leaves a core free. Below it a file has one or two batches (pyarrow writes row groups
of 1,048,576 rows), too few to share out evenly, and a second worker adds about 0.3 GB of
memory (docs/scale.md)."""

# Starting two workers took 0.02 s with fork, 0.7 s with a forkserver preloading the modules
# and 1.5 s with spawn (each imports pandas, geopandas, shapely and pyarrow). fork is safe
# here: the parent is idle when the workers start (no read in flight), Arrow and OpenBLAS
# reset their thread pools in a forked child, and the executor starts its own thread only
# after forking. Python 3.12+ deprecates fork in a process with threads (Arrow's idle pool
# counts), so there the forkserver is used.
_START_METHOD = (
    "fork" if sys.platform.startswith("linux") and sys.version_info < (3, 12) else "forkserver"
)
_PRELOAD = ["parkgeo._stream", "parkgeo.join", "parkgeo.metrics", "parkgeo._validate"]
_WORKER: dict[str, Any] = {}


def _jobs_for(jobs: int | None, plan: _Plan) -> int:
    """Worker processes for ``plan``: ``jobs``, or 1 or 2 by the input's size."""
    import os

    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParkgeoError(f"jobs must be a whole number >= 1, got {jobs!r}")
    if plan.kind != "parquet":
        if jobs is not None and jobs > 1:
            log.info("%s: worker processes apply to Parquet input; reading with one", plan.source)
        return 1
    if jobs is not None:
        return jobs
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (plan.total_rows or 0) <= AUTO_JOBS_ROWS or (cores or 1) < 2:
        return 1
    # A second worker only helps if a core is free: on 2 cores busy with other work (load
    # average 4) two workers took 10.5 to 12.4 s for 12 million rows against 9.4 to 11.2 s
    # for one process (docs/scale.md).
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > (cores or 1) - 0.5:
        log.info(
            "load average %.1f on %d cores: one process (pass --jobs N to choose)", load, cores
        )
        return 1
    return 2


def _batch_step(
    raw: pd.DataFrame,
    state: Mapping[str, Any],
    first_rows: NDArray[np.int64] | None = None,
    *,
    check_duplicates: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, Partials]:
    """Validate, join and reduce one raw batch to partial sums (``state``: the run's options)."""
    from parkgeo.join import assign_parks

    parks = state["parks"]
    kept, ledger = _validated(
        raw,
        state["plan"],
        state["system"],
        first_rows=first_rows,
        check_duplicates=check_duplicates,
        **state["check"],
    )
    if not len(kept):
        return kept, ledger, Partials.empty(len(parks), has_industry=state["industry_mix"])
    assigned = _quiet_join(assign_parks, kept, parks, **state["join"])
    return kept, ledger, partials_of(assigned, parks)


def _partition_frame(plan: _Plan, part: Partition) -> pd.DataFrame:
    """Raw cells of one Parquet partition, indexed by the global source row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(part.file).read_row_groups(
            list(part.row_groups), columns=plan.wanted
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFormatError(f"{part.file}: not a readable Parquet file ({exc})") from None
    frame = _parquet_frame(table, plan)
    del table
    frame.index = pd.RangeIndex(part.first_row, part.first_row + len(frame))
    return frame


class _Records(logging.Handler):
    """Log records of a worker's task, sent back to the parent to be logged there in order."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        record.exc_info = None
        self.records.append(record)


def _init_worker(state: dict[str, Any], level: int) -> None:
    _WORKER.clear()
    _WORKER.update(state)
    handler = _Records()
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(level)
    _WORKER["records"] = handler


def _partition_task(part: Partition) -> tuple[Any, ...]:
    """First pass over one partition in a worker: partial sums, ledger, hashed keys, records."""
    handler: _Records = _WORKER["records"]
    handler.records = []
    raw = _partition_frame(_WORKER["plan"], part)
    n_read = len(raw)
    kept, ledger, partial = _batch_step(
        raw, _WORKER, check_duplicates=_WORKER["first_pass_duplicates"]
    )
    del raw
    h1, h2 = key_hashes(kept["enterprise_id"], kept["year"].to_numpy())
    keys = (h1, h2, kept.index.to_numpy(dtype=np.int64))
    return partial, ledger, keys, n_read, handler.records


def _first_pass_in_processes(
    plan: _Plan, parts: Sequence[Partition], state: dict[str, Any], jobs: int, bar: Any
) -> Iterator[tuple[Any, ...]]:
    """:func:`_partition_task` of each partition in ``jobs`` worker processes, in file order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        context.set_forkserver_preload(_PRELOAD)
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(parts)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(state, log.getEffectiveLevel()),
    ) as pool:
        futures = [pool.submit(_partition_task, part) for part in parts]
        try:
            for future in futures:
                partial, ledger, keys, n_read, records = future.result()
                for record in records:
                    if log.isEnabledFor(record.levelno):
                        log.handle(record)
                bar.update(n_read)
                yield partial, ledger, keys, n_read
        finally:
            # The first failing partition in file order raises, as in one process.
            pool.shutdown(wait=True, cancel_futures=True)


def _park_metrics_in_processes(
    plan: _Plan, state: dict[str, Any], jobs: int, rows_per_batch: int, bar: Any
) -> tuple[Partials, list[pd.DataFrame], int, int]:
    """The batched first pass in worker processes, then the rare redone batches here."""
    parts = partitions_of(plan.files, partition_rows=rows_per_batch)
    parks = state["parks"]
    total = Partials.empty(len(parks), has_industry=state["industry_mix"])
    ledgers: list[pd.DataFrame] = []
    keys: list[tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]]] = []
    first_partials: list[Partials] = []
    n_read = 0
    for partial, ledger, part_keys, n in _first_pass_in_processes(plan, parts, state, jobs, bar):
        total = total.merge(partial)
        ledgers.append(ledger)
        keys.append(part_keys)
        first_partials.append(partial)
        n_read += n
    repeats, firsts = repeated_keys(keys)
    del keys
    if len(repeats):
        log.info(
            "%d enterprise-year rows repeat a row kept earlier; redoing the batches that hold them",
            len(repeats),
        )
        starts = np.asarray([part.first_row for part in parts], dtype=np.int64)
        owner = np.searchsorted(starts, repeats, side="right") - 1
        for i in np.unique(owner).tolist():
            raw = _partition_frame(plan, parts[i])
            first_rows = np.full(len(raw), -1, dtype=np.int64)
            mine = np.flatnonzero((owner == i) & (firsts < starts[i]))
            mine = mine[np.unique(firsts[mine], return_index=True)[1]]
            first_rows[repeats[mine] - starts[i]] = firsts[mine]
            _, ledgers[i], after = _batch_step(raw, state, first_rows)
            total = total.minus(first_partials[i]).merge(after)
    return total, ledgers, n_read, len(parts)


_KEPT_PARTIALS_BYTES = 256 << 20


def _partials_bytes(partial: Partials) -> int:
    arrays = [*partial.sums.values(), partial.division_counts, partial.match_counts]
    return sum(int(a.nbytes) for a in arrays)


def _batch_rows(batch_rows: int | None) -> int:
    if batch_rows is None:
        return _WHOLE_FILE
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise ParkgeoError(f"batch_rows must be a whole number >= 1, got {batch_rows!r}")
    return batch_rows


def _quiet_join(assign: Any, data: pd.DataFrame, parks: Any, **options: Any) -> pd.DataFrame:
    """assign_parks on one batch, quietly: its per-call log lines would interleave with the
    progress display, and "nothing matched" is judged over all batches (:func:`_result`)."""
    level = log.level
    log.setLevel(max(logging.ERROR, log.getEffectiveLevel()))
    try:
        result = assign(data, parks, nearest=options.get("near_m") is not None, **options)
    finally:
        log.setLevel(level)
    return result.assigned


def _result(
    total: Partials,
    parks: Any,
    ledgers: Sequence[pd.DataFrame],
    n_read: int,
    n_batches: int,
    *,
    source: str,
    encoding: str | None = None,
    **report: Any,
) -> BatchedResult:
    from parkgeo._validate import empty_ledger

    rejects = (
        pd.concat(list(ledgers), ignore_index=True)
        .sort_values("source_row", kind="stable")
        .reset_index(drop=True)
        if ledgers
        else empty_ledger()
    )
    rejects.attrs.update({"source": source, "n_read": n_read})
    if total.n_rows == 0:
        raise ParkgeoError(
            f"{source}: no enterprise rows were kept ({n_read} read, {len(rejects)} rejected); "
            "there is nothing to measure. Look at the reject ledger (--rejects PATH)"
        )
    summary = join_summary(total)
    matched = int(summary.loc[summary["match"] != "unmatched", "n"].sum())
    if matched == 0:
        log.warning(
            "0 of %d enterprises are in any park (0 matched). Check that both files cover the "
            "same area and that the coordinate systems are right (--coord-system / "
            "--parks-coord-system gcj02 or bd09 for Gaode/Baidu coordinates)",
            total.n_rows,
        )
    table = finish(total, parks, **report)
    return BatchedResult(
        table=table,
        rejects=rejects,
        summary=summary,
        n_read=n_read,
        n_batches=n_batches,
        encoding=encoding,
    )


BACKENDS = ("memory", "batched", "dask")
"""Values of ``backend=`` in :func:`park_metrics_file`."""


def park_metrics_file(
    path: str | Path,
    parks: Any,
    *,
    backend: str = "memory",
    batch_rows: int | None = DEFAULT_BATCH_ROWS,
    scheduler: Any = None,
    workers: int | None = None,
    partition_rows: int | None = None,
    columns: Mapping[str, str] | None = None,
    coord_system: str = "wgs84",
    encoding: str | None = None,
    strict: bool = False,
    accept_years: Any = None,
    near_m: float | None = None,
    overlap: str = "smallest",
    priority: str | None = None,
    years: Iterable[int] | None = None,
    baseline_year: int | None = None,
    target_year: int | None = None,
    targets: Any = None,
    min_enterprises: int | None = None,
    per_mu: bool = False,
    industry_mix: bool = True,
    progress: bool | None = None,
    jobs: int | None = None,
) -> BatchedResult:
    """Density figures of an enterprise file, in memory, in batches or on a Dask cluster.

    One entry point over the three paths, which give the same table (counts and the reject
    ledger exactly, sums to floating-point summation error).

    Parameters
    ----------
    path : str or path-like
        The enterprise file (``"memory"``: any format :func:`parkgeo.io.read_enterprises`
        reads; ``"batched"``: CSV or Parquet; ``"dask"``: Parquet file, directory or glob).
    parks : geopandas.GeoDataFrame
        The parks.
    backend : {"memory", "batched", "dask"}
        ``"memory"``: read the whole file (fastest while it fits in memory). ``"batched"``:
        ``batch_rows`` rows at a time, memory bounded by the batch. ``"dask"``: partitions on
        a Dask cluster (:func:`parkgeo.distributed.park_metrics_dask`).
    batch_rows : int or None
        Rows per batch (``"batched"``; default :data:`DEFAULT_BATCH_ROWS`; ``None``: one
        batch).
    scheduler, workers, partition_rows
        Dask options (see :func:`parkgeo.distributed.park_metrics_dask`).
    columns, coord_system, encoding, strict, accept_years
        How to read (see :func:`parkgeo.io.read_enterprises`; ``accept_years`` is its
        ``years``). ``encoding`` does not apply to Parquet.
    near_m, overlap, priority
        How to join (see :func:`parkgeo.join.assign_parks`).
    years, baseline_year, target_year, targets, min_enterprises, per_mu, industry_mix
        What to report (see :func:`parkgeo.metrics.park_metrics`).
    progress : bool, optional
        Show progress (batched and Dask; default: when the ``parkgeo`` logger emits INFO).
    jobs : int, optional
        Worker processes of the ``"batched"`` backend for Parquet input (see
        :func:`park_metrics_batched`; default by the input's size).

    Returns
    -------
    BatchedResult

    Examples
    --------
    >>> from parkgeo.datasets import load_tianjin, sample_path
    >>> sample = load_tianjin()
    >>> path = sample_path("tianjin_enterprises.parquet")
    >>> whole = park_metrics_file(path, sample.parks, years=[2015])
    >>> batched = park_metrics_file(path, sample.parks, backend="batched", batch_rows=10_000,
    ...                             years=[2015], progress=False)
    >>> whole.table["n_enterprises"].equals(batched.table["n_enterprises"])
    True
    """
    if backend not in BACKENDS:
        raise ParkgeoError(f"backend={backend!r} is unknown; choose one of {', '.join(BACKENDS)}")
    read: dict[str, Any] = {"columns": columns, "coord_system": coord_system, "strict": strict}
    join: dict[str, Any] = {"near_m": near_m, "overlap": overlap, "priority": priority}
    report: dict[str, Any] = {
        "years": years,
        "baseline_year": baseline_year,
        "target_year": target_year,
        "targets": targets,
        "min_enterprises": min_enterprises,
        "per_mu": per_mu,
        "industry_mix": industry_mix,
    }
    if backend == "batched":
        return park_metrics_batched(
            path,
            parks,
            batch_rows=batch_rows,
            encoding=encoding,
            accept_years=accept_years,
            progress=progress,
            jobs=jobs,
            **read,
            **join,
            **report,
        )
    if backend == "dask":
        from parkgeo.distributed import DEFAULT_PARTITION_ROWS, park_metrics_dask

        return park_metrics_dask(  # type: ignore[no-any-return]
            path,
            parks,
            scheduler=scheduler,
            workers=workers,
            partition_rows=partition_rows if partition_rows is not None else DEFAULT_PARTITION_ROWS,
            accept_years=accept_years,
            progress=progress,
            **read,
            **join,
            **report,
        )
    from parkgeo.io import read_enterprises
    from parkgeo.join import assign_parks
    from parkgeo.metrics import park_metrics

    loaded = read_enterprises(path, encoding=encoding, years=accept_years, **read)
    joined = assign_parks(loaded.data, parks, nearest=near_m is not None, **join)
    table = park_metrics(joined.assigned, parks, **report)
    return BatchedResult(
        table=table,
        rejects=loaded.rejects,
        summary=joined.summary,
        n_read=loaded.n_read,
        n_batches=1,
    )
