"""Output paths that must not destroy anything, special files, and real Excel workbooks.

* :func:`check_paths` runs before any computing: an output that is one of the inputs, or two
  outputs that are the same file, are refused naming both paths; an output whose suffix names
  another format (``map -o out.png``) or a directory is refused.
* Special files (``/dev/stdout``, a FIFO, a character device such as ``/dev/null`` or
  ``/dev/full``) are written as a stream: never replaced by a regular file, no atomic rename
  (there is no "beside" for them). A symlink to a regular file is followed: the file it points
  to is replaced atomically and the link stays. A full device is reported as "disk full".
* Excel workbooks (``-o x.xlsx``) are written by :mod:`parkgeo._xlsx`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError

__all__ = [
    "check_paths",
    "finite_figures",
    "is_special",
    "name_disk_full",
    "real_target",
    "stream_path",
    "stream_to",
]

log = logging.getLogger("parkgeo")

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

# Suffixes that name something other than a table; writing a table into them would lie.
_NOT_A_TABLE = {
    ".png": "a PNG image",
    ".jpg": "a JPEG image",
    ".jpeg": "a JPEG image",
    ".gif": "a GIF image",
    ".svg": "an SVG image",
    ".webp": "a WebP image",
    ".pdf": "a PDF document",
    ".doc": "a Word document",
    ".docx": "a Word document",
    ".ppt": "a PowerPoint file",
    ".pptx": "a PowerPoint file",
    ".xls": "an old Excel 97 workbook (write .xlsx)",
    ".shp": "a Shapefile (write .gpkg)",
    ".zip": "a zip archive",
    ".html": "an HTML page",
    ".htm": "an HTML page",
    ".py": "a Python script",
    ".toml": "a TOML file",
}
TABLE_SUFFIXES = (
    ".csv",
    ".txt",
    ".tsv",
    ".parquet",
    ".geoparquet",
    ".pq",
    ".gpkg",
    ".geojson",
    ".json",
    ".xlsx",
)
_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


# --------------------------------------------------------------------------------------------
# paths checked before computing
# --------------------------------------------------------------------------------------------


def _identity(path: str) -> tuple[str, tuple[int, int] | None]:
    """A comparable identity: the resolved path, and (device, inode) when the file exists."""
    resolved = os.path.realpath(os.path.expanduser(path))
    try:
        st = os.stat(resolved)
    except OSError:
        return resolved, None
    return resolved, (st.st_dev, st.st_ino)


def _same(a: str, b: str) -> bool:
    ra, ia = _identity(a)
    rb, ib = _identity(b)
    if ia is not None and ib is not None:
        return ia == ib
    return ra == rb


def _input_files(option: str, value: str) -> list[tuple[str, str]]:
    """The files an input option reads: a Shapefile reads its sidecars too."""
    files = [(option, value)]
    stem, suffix = os.path.splitext(value)
    if suffix.lower() == ".shp":
        files += [(option, stem + s) for s in _SIDECARS if s != ".shp"]
    return files


def check_paths(
    inputs: Sequence[tuple[str, str | None]],
    outputs: Sequence[tuple[str, str | None]],
    *,
    html_outputs: Iterable[str] = (),
) -> None:
    """Refuse, before any work, outputs that would destroy an input or another output.

    Parameters
    ----------
    inputs, outputs : sequence of (option, path)
        The command's input and output options (``("--enterprises", "firms.csv")``,
        ``("-o", "out.csv")``); ``None`` paths, ``-`` and special files are skipped where
        that is harmless (a stream cannot be "the same file").
    html_outputs : iterable of str
        Options whose file is an HTML page (``map -o``); every other output is a table.

    Raises
    ------
    ParkgeoError
        Naming both options and paths, or the path and the suffix to use.

    Examples
    --------
    >>> check_paths([("--enterprises", "firms.csv")], [("-o", "out.csv")])
    >>> check_paths([("--enterprises", "firms.csv")], [("-o", "firms.csv")])
    Traceback (most recent call last):
    ...
    parkgeo._errors.ParkgeoError: -o firms.csv is the input --enterprises firms.csv: writing it would destroy the input; choose another output path
    """
    html = set(html_outputs)
    given_in = [(o, p) for o, p in inputs if p and p != "-"]
    given_out = [(o, p) for o, p in outputs if p and p != "-"]
    for option, path in given_out:
        if os.path.isdir(path):
            raise ParkgeoError(
                f"{option} {path} is a directory; give a file name, e.g. {option} "
                f"{os.path.join(path, 'out.html' if option in html else 'out.csv')}"
            )
        _check_suffix(option, path, html=option in html)
        if is_special(Path(path)):
            continue
        for in_option, in_path in (f for o, p in given_in for f in _input_files(o, p)):
            if _same(path, in_path):
                raise ParkgeoError(
                    f"{option} {path} is the input {in_option} {in_path}: writing it would "
                    "destroy the input; choose another output path"
                )
    for i, (option_a, path_a) in enumerate(given_out):
        for option_b, path_b in given_out[i + 1 :]:
            if not is_special(Path(path_a)) and _same(path_a, path_b):
                raise ParkgeoError(
                    f"{option_a} {path_a} and {option_b} {path_b} are the same file: one "
                    "output would overwrite the other; give each its own path"
                )


def _check_suffix(option: str, path: str, *, html: bool) -> None:
    if is_special(Path(path)):
        return
    suffix = Path(path).suffix.lower()
    if html:
        if suffix not in ("", ".html", ".htm"):
            raise ParkgeoError(
                f"{option} {path}: the map is an HTML page, not {_NOT_A_TABLE.get(suffix, suffix)}"
                f"; name it {Path(path).with_suffix('.html').name}"
            )
        return
    if suffix in _NOT_A_TABLE:
        raise ParkgeoError(
            f"{option} {path}: this writes a table, not {_NOT_A_TABLE[suffix]}; use one of "
            f"{', '.join(TABLE_SUFFIXES)} (e.g. {Path(path).with_suffix('.xlsx').name})"
        )


# --------------------------------------------------------------------------------------------
# special files: streamed, never replaced
# --------------------------------------------------------------------------------------------


def is_special(path: Path) -> bool:
    """True for outputs that must be written as a stream: ``/dev/...`` and ``/proc/...``
    paths, and existing FIFOs, sockets and devices (a symlink is followed to its file)."""
    text = os.path.abspath(str(path))
    if text.startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def real_target(path: Path) -> Path:
    """The file a symlink points to (so the link survives an atomic replace), else ``path``."""
    if path.is_symlink() and not is_special(path):
        return Path(os.path.realpath(path))
    return path


def name_disk_full(exc: BaseException, target: Path) -> None:
    """Re-raise a "no space left" error with the file name, for a one-line message."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL and not exc.filename:
        raise OSError(exc.errno, os.strerror(exc.errno or errno.ENOSPC), str(target)) from exc


@contextlib.contextmanager
def stream_to(path: Path, mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO[Any]]:
    """Write into a special file as a stream (no temporary file beside it, no rename).

    The data is gathered first (in memory, spilling to a temporary file past 64 MB), so
    writers that seek (Parquet) work and a failure half-way sends nothing; it is then copied
    into the special file in one pass.
    """
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        if mode == "wb":
            yield spool
        else:
            text = io.TextIOWrapper(spool, encoding=encoding or "utf-8", newline="")  # type: ignore[type-var]
            yield text
            text.flush()
            text.detach()
        spool.seek(0)
        try:
            with open(path, "wb") as fh:
                shutil.copyfileobj(spool, fh, 1 << 20)
                fh.flush()
        except OSError as exc:
            name_disk_full(exc, path)
            raise


@contextlib.contextmanager
def stream_path(path: Path) -> Iterator[Path]:
    """A temporary file for writers that need a file name (GDAL, Parquet); its bytes are
    then streamed into the special file."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="parkgeo-") as tmp:
        temp = (Path(tmp) / "out").with_suffix(path.suffix)
        yield temp
        with open(temp, "rb") as src, stream_to(path, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


# --------------------------------------------------------------------------------------------
# figures that overflowed
# --------------------------------------------------------------------------------------------


def finite_figures(table: pd.DataFrame, *, what: str = "the table") -> pd.DataFrame:
    """``table`` with infinite numbers replaced by NaN, and a warning naming them.

    A sum of values near the float64 limit (1.8e308) overflows to infinity; no real tax or
    energy is that large, so the figure is written as missing, loudly, never as ``inf``.

    Examples
    --------
    >>> finite_figures(pd.DataFrame({"park_id": ["P1"], "tax": [np.inf]}))["tax"].tolist()
    [nan]
    """
    numeric = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
    infinite = {c: np.isinf(table[c].to_numpy(dtype=float)) for c in numeric}
    bad = {c: m for c, m in infinite.items() if m.any()}
    if not bad:
        return table
    out = table.copy()
    where = []
    for column, mask in bad.items():
        out.loc[mask, column] = np.nan
        first = int(np.flatnonzero(mask)[0])
        label = ", ".join(
            f"{k} {out[k].iloc[first]}" for k in ("park_id", "year") if k in out.columns
        )
        where.append(f"{column} ({int(mask.sum())} rows, e.g. {label})")
    log.warning(
        "%s: figures overflowed beyond 1.8e308 and are written as missing: %s; no real value "
        "is that large: check those columns' units and values",
        what,
        "; ".join(where),
    )
    return cast(pd.DataFrame, out)
