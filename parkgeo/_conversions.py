"""What cleaning converted: per column, the kept cells read from something other than a plain
number (``1,234``, ``12万元``) or ids that were normalised, with a few examples, and one log line
per column, so that no conversion is silent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from parkgeo._ledger import text_at

__all__ = ["kept_conversions", "log_conversions"]

log = logging.getLogger("parkgeo")


def kept_conversions(
    converted: Mapping[str, tuple[NDArray[np.intp], NDArray[np.float64]]],
    rejected: NDArray[np.bool_],
    df: pd.DataFrame,
) -> dict[str, dict[str, Any]]:
    """Per column, the kept cells that were converted (count and up to three examples)."""
    out: dict[str, dict[str, Any]] = {}
    for col, (positions, values) in converted.items():
        kept_positions = positions[~rejected[positions]]
        if len(kept_positions) == 0:
            continue
        shown = kept_positions[:3]
        texts = text_at(df[col], shown).tolist()
        examples = [
            {"value": text, "read_as": float(values[p])}
            for text, p in zip(texts, shown, strict=True)
        ]
        out[col] = {"n": len(kept_positions), "examples": examples}
    return out


def log_conversions(conversions: Mapping[str, Mapping[str, Any]], source: str) -> None:
    """One log line per column whose cells were converted: a conversion is never silent.

    ``merged_ids`` (rows whose id equals an earlier row's only after normalisation, so they
    were ledgered as duplicates) is a warning: without it they would count as other firms.
    """
    for col, found in conversions.items():
        examples = "; ".join(
            f"{e['value']!r} -> "
            + (f"{e['read_as']:g}" if isinstance(e["read_as"], float) else repr(e["read_as"]))
            for e in found["examples"]
        )
        if col == "merged_ids":
            log.warning(
                "%s: %d row(s) repeat an earlier enterprise-year once their ids are normalised "
                "(full-width forms, invisible characters): they were merged into the first row "
                "(ledgered as duplicate_enterprise_year), e.g. %s",
                source,
                found["n"],
                examples,
            )
        elif col == "enterprise_id":
            log.info(
                "%s: enterprise_id: %d id(s) were normalised (Unicode NFKC, invisible "
                "characters removed), e.g. %s",
                source,
                found["n"],
                examples,
            )
        else:
            log.info(
                "%s: %s: %d cell(s) were not plain numbers and were converted, e.g. %s",
                source,
                col,
                found["n"],
                examples,
            )
