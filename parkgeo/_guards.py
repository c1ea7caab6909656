"""Limits and failures of compressed and streamed inputs, said as one line naming the file.

A workbook (.xlsx is a zip archive) or a gzip/bz2/xz CSV can expand to gigabytes from a
megabyte ("a zip bomb": shared strings of one repeated character), and a truncated or corrupt
compressed file fails deep inside a decompressor with ``EOFError`` or ``zlib.error``. Both are
the file's fault, so both are :class:`~parkgeo.InputFormatError` naming the file (exit 3).

Standard input (``-``, ``/dev/stdin`` or any pipe) can be read only once, but a file is looked
at twice (the sniff, then the rows): :func:`spooled` copies such a stream into a temporary
file first.
"""

from __future__ import annotations

import atexit
import contextlib
import lzma
import os
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from parkgeo._errors import InputFormatError

__all__ = [
    "DECOMPRESSION_ERRORS",
    "MAX_EXPANSION_RATIO",
    "MAX_EXPANDED_BYTES",
    "BoundedStream",
    "check_gzip_expansion",
    "check_zip_expansion",
    "corrupt_compressed",
    "spooled",
]

MAX_EXPANDED_BYTES = 8 << 30
"""A workbook whose members expand to more than this (8 GiB) is refused outright."""
MAX_EXPANSION_RATIO = 200
"""Expanded / compressed size above which a large (> :data:`RATIO_FLOOR`) input is refused:
spreadsheet XML and CSV text compress 5-30x; hundreds of times is a repeated filler."""
RATIO_FLOOR = 64 << 20
"""Inputs expanding to less than this (64 MiB) are never refused for their ratio."""

DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    OSError,  # bz2 ("Invalid data stream"), gzip ("Not a gzipped file") and Arrow's codecs
)


def corrupt_compressed(source: str, exc: BaseException) -> InputFormatError:
    """The one-line error for a truncated or corrupt compressed input."""
    detail = str(exc).strip().replace("\n", " ")[:200] or type(exc).__name__
    return InputFormatError(
        f"{source}: the compressed data is truncated or corrupt ({detail}); copy or download "
        "the file again, or decompress it with another tool to see how much is readable"
    )


def _too_large(source: str, expanded: int, compressed: int, what: str) -> InputFormatError:
    return InputFormatError(
        f"{source}: too large when decompressed: its {what} expand to more than "
        f"{expanded / (1 << 20):,.0f} MiB from {max(compressed, 1) / (1 << 20):,.1f} MiB "
        f"(more than {MAX_EXPANSION_RATIO}x, or over {MAX_EXPANDED_BYTES >> 30} GiB), which "
        "real tables never do; it is damaged or built to exhaust memory. Export the table "
        "again (CSV UTF-8 or .xlsx) from the program that made it"
    )


def check_zip_expansion(path: Path) -> None:
    """Refuse a zip archive (an .xlsx workbook) whose members expand implausibly.

    The sizes come from the archive's central directory; :mod:`zipfile` never returns more
    bytes than a member declares (and a member that lies fails its CRC check), so the
    declared sizes bound what parsing the workbook can decompress.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a readable archive: the workbook reader says so in its own words
    expanded = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos)
    if expanded > MAX_EXPANDED_BYTES or (
        expanded > RATIO_FLOOR and expanded > MAX_EXPANSION_RATIO * max(compressed, 1)
    ):
        biggest = max(infos, key=lambda i: i.file_size)
        raise _too_large(str(path), expanded, compressed, f"parts (largest: {biggest.filename})")


def check_gzip_expansion(path: Path) -> None:
    """Refuse a gzip file whose trailer says it expands implausibly, before reading it.

    A gzip member ends with its expanded size modulo 2**32: a bomb of up to 4 GiB is caught
    here at once; a larger one, or another codec, by :class:`BoundedStream` while reading.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            if size < 18 or handle.read(2) != b"\x1f\x8b":
                return
            handle.seek(size - 4)
            expanded = int.from_bytes(handle.read(4), "little")
    except OSError:
        return
    if expanded > RATIO_FLOOR and expanded > MAX_EXPANSION_RATIO * size:
        # the trailer of a truncated file is any 4 bytes: believe it only once the data
        # really expands that far (decompressed here in small steps, never held)
        import gzip

        seen = 0
        try:
            with gzip.open(path, "rb") as stream:
                while seen <= RATIO_FLOOR:
                    block = stream.read(1 << 20)
                    if not block:
                        return
                    seen += len(block)
        except DECOMPRESSION_ERRORS:
            return  # damaged: the reader says so in its own words
        raise _too_large(str(path), expanded, size, "contents")


class BoundedStream:
    """A binary stream that fails once it has expanded too far past its compressed size.

    Wraps a decompressing stream of the file at ``path``; reading raises
    :class:`~parkgeo.InputFormatError` once more than :data:`RATIO_FLOOR` bytes came out and
    the ratio to the file's size passed :data:`MAX_EXPANSION_RATIO`, and turns decompression
    failures into the same one-line error.
    """

    def __init__(self, raw: Any, source: str, compressed_size: int) -> None:
        self._raw = raw
        self._source = source
        self._limit = max(RATIO_FLOOR, MAX_EXPANSION_RATIO * max(compressed_size, 1))
        self._compressed = compressed_size
        self._read = 0
        self.closed = False

    def _count(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._limit:
            raise _too_large(self._source, self._read, self._compressed, "contents")
        return data

    def read(self, size: int = -1) -> bytes:
        try:
            return self._count(bytes(self._raw.read(size)))
        except InputFormatError:
            raise
        except DECOMPRESSION_ERRORS as exc:
            raise corrupt_compressed(self._source, exc) from None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._read

    def close(self) -> None:
        self.closed = True
        self._raw.close()

    def __enter__(self) -> BoundedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bounded(raw: IO[bytes] | Any, path: Path) -> BoundedStream:
    """``raw`` (a decompressing stream of ``path``) bounded by :class:`BoundedStream`."""
    return BoundedStream(raw, str(path), path.stat().st_size)


_SPOOLED: list[Path] = []


def is_stream(path: str) -> bool:
    """``-`` or a path that is a pipe, a socket or a character device (``/dev/stdin``)."""
    if path == "-":
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def spooled(path: str) -> Path:
    """A regular file holding the stream at ``path`` (``-``: standard input), read once.

    Its format is found from its content (a CSV, a workbook, Parquet); it is removed when the
    process exits.
    """
    handle, name = tempfile.mkstemp(prefix="parkgeo-stdin-", suffix=".csv")
    target = Path(name)
    atexit.register(_remove, target)
    with os.fdopen(handle, "wb") as out:
        if path == "-":
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        else:
            with open(path, "rb") as stream:
                shutil.copyfileobj(stream, out, 1 << 20)
    _SPOOLED.append(target)
    return target


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def close_all() -> None:
    """Remove every spooled copy now (tests)."""
    for path in _SPOOLED:
        _remove(path)
    _SPOOLED.clear()
