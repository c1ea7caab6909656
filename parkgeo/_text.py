"""Text that is not what it looks like: control characters, and ids that differ only by
full-width forms or invisible characters.

A NUL byte past the sniffed block of a CSV (or in a Parquet or Excel cell) would reach outputs
(a GeoPackage name is cut at it): such rows are ledgered (``control_character``). ``Ｅ1``,
``E1`` and ``E1`` + U+200B are one firm: :func:`normalize_ids` gives the id the validator keeps
and every duplicate check hashes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from parkgeo._cells import as_arrow_strings, is_empty, np_bool, str_series
from parkgeo._ledger import Problem

__all__ = [
    "control_mask",
    "control_problem",
    "id_examples",
    "merge_note",
    "normalize_ids",
    "show_control",
    "visible",
]


# C0 control characters, but not tab, line feed and carriage return (a quoted CSV field may
# hold those): a NUL byte truncates names in GeoPackage and C-string outputs
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
# format characters (zero-width space and joiners, word joiner, BOM, soft hyphen ...):
# invisible, so two ids that differ only by them look the same to a person
_INVISIBLE = r"\p{Cf}"


def _chunks(arr: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(arr.chunks) if isinstance(arr, pa.ChunkedArray) else [arr]


def _any_byte(arr: pa.Array | pa.ChunkedArray, *, below: int = 0, above: int = 255) -> bool:
    """Whether any byte of the strings' data is below ``below`` or above ``above``: one
    min/max pass over the raw bytes (no temporary array), before any per-cell regex."""
    for chunk in _chunks(arr):
        buffers = chunk.buffers()
        if len(buffers) < 3 or buffers[2] is None:
            continue
        data = np.frombuffer(buffers[2], dtype=np.uint8)
        if len(data) and (int(data.min()) < below or int(data.max()) > above):
            return True
    return False


def control_mask(text: pd.Series) -> NDArray[np.bool_]:
    """Cells holding a control character (NUL, ESC ...; not tab or line breaks).

    Examples
    --------
    >>> control_mask(pd.Series(["甲公司", "乙\\x00公司", None], dtype="str")).tolist()
    [False, True, False]
    """
    arr = as_arrow_strings(text)
    if not _any_byte(arr, below=0x20):
        return np.zeros(len(text), dtype=bool)
    return np_bool(pc.match_substring_regex(arr, _CONTROL))


def show_control(text: pd.Series) -> pd.Series:
    """Cell text with control characters written as escapes (``\\x00``), for messages."""
    result: pd.Series = text.astype("str").map(
        lambda s: (
            "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 and c not in "\t\n\r" else c for c in s)
            if isinstance(s, str)
            else s
        )
    )
    return result


def normalize_ids(ids: pd.Series) -> tuple[pd.Series, NDArray[np.intp]]:
    """Ids as one firm is one id: Unicode NFKC (full-width ``Ｅ１`` -> ``E1``), invisible
    format characters (zero-width space U+200B, BOM ...) removed, whitespace trimmed; an id
    left empty becomes missing. Returns the ids and the positions that changed.

    ASCII ids (credit codes) cannot change, so only non-ASCII cells are looked at.

    Examples
    --------
    >>> ids, changed = normalize_ids(pd.Series(["E1", "Ｅ1", "E1\\u200b", "\\u200b"], dtype="str"))
    >>> ids.tolist()[:3], changed.tolist(), bool(pd.isna(ids.iloc[3]))
    (['E1', 'E1', 'E1'], [1, 2, 3], True)
    """
    arr = as_arrow_strings(ids)
    if not _any_byte(arr, above=0x7F):
        return ids, np.zeros(0, dtype=np.intp)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    non_ascii = ~np_bool(pc.string_is_ascii(arr), fill=True)
    positions = np.flatnonzero(non_ascii)
    sub = arr.take(pa.array(positions))
    folded = pc.utf8_normalize(sub, "NFKC")
    folded = pc.utf8_trim_whitespace(pc.replace_substring_regex(folded, _INVISIBLE, ""))
    folded = pc.if_else(is_empty(folded), pa.scalar(None, folded.type), folded)
    changed = ~np_bool(pc.equal(folded, sub), fill=False)
    if not changed.any():
        return ids, np.zeros(0, dtype=np.intp)
    mask = np.zeros(len(arr), dtype=bool)
    mask[positions[changed]] = True
    replaced = pc.replace_with_mask(
        arr, pa.array(mask), folded.filter(pa.array(changed)).cast(arr.type)
    )
    return str_series(replaced, ids.index), positions[changed]


def control_problem(
    raw_ids: pd.Series, name: pd.Series, name_control: NDArray[np.bool_]
) -> tuple[Problem, NDArray[np.bool_]]:
    """The ``control_character`` problem of the ids and names (``name_control``: the names'
    :func:`control_mask`), and the ids' mask."""
    id_control = control_mask(raw_ids)

    def describe(r: NDArray[np.intp]) -> tuple[pd.Series, pd.Series]:
        in_id = pd.Series(id_control[r])
        column = pd.Series(np.where(id_control[r], "enterprise_id", "name"), dtype="str")
        text = show_control(
            raw_ids.iloc[r].reset_index(drop=True).where(in_id, name.iloc[r].reset_index(drop=True))
        )
        return text, (
            column
            + " "
            + text.str.slice(0, 60)
            + " holds a control character (shown as \\x..): the file is corrupt at this row; "
            "fix or re-export it"
        )

    problem = Problem.of(
        "control_character",
        id_control,
        id_control | name_control,
        describe,
        names=("enterprise_id", "name"),
    )
    return problem, id_control


def visible(text: object) -> str:
    """Text with invisible characters written as escapes (``E1\\u200b``)."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in str(text))


def id_examples(
    raw_ids: pd.Series, ids: pd.Series, positions: NDArray[np.intp]
) -> dict[str, object]:
    """How many ids at ``positions`` were normalised, with three examples (as typed -> read)."""
    shown = positions[:3]
    return {
        "n": len(positions),
        "examples": [
            {"value": visible(a), "read_as": b}
            for a, b in zip(raw_ids.iloc[shown].tolist(), ids.iloc[shown].tolist(), strict=True)
        ],
    }


def merge_note(
    raw_ids: pd.Series, ids: pd.Series, merged_rows: NDArray[np.intp], r: NDArray[np.intp]
) -> pd.Series:
    """For the duplicate rows ``r``: how the id of a row merged by normalisation was typed."""
    written = "'" + raw_ids.iloc[r].reset_index(drop=True).map(visible) + "'"
    note: pd.Series = pd.Series(
        np.where(
            np.isin(r, merged_rows),
            "; this row's id is written " + written + " (full-width forms or invisible "
            "characters), read as " + ids.iloc[r].reset_index(drop=True),
            "",
        ),
        dtype="str",
    )
    return note
