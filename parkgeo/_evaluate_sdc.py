"""Disclosure control of the evaluation's park roll-up (``parkgeo evaluate --protect``).

The roll-up (:func:`parkgeo.evaluate_outputs.park_rollup`) publishes two money figures per
park and year: ``median_tax_per_mu`` (the median of the evaluated firms' tax per mu) and
``tax_gain`` (the sum, over the firms of the two lowest classes, of what each would pay more
at the park's median tax per mu). Both are built from confidential tax figures:

* ``median_tax_per_mu`` is one firm's own figure (or the mean of two): withheld when fewer
  than ``min_frequency`` evaluated firms report tax and land;
* ``tax_gain`` is a sum of firms' shortfalls: withheld when fewer than ``min_frequency``
  firms contribute to it (a shortfall above zero), or when it fails the dominance or p %
  rule over those contributions.

No complementary suppression is needed: neither figure is additive. ``ALL``'s gain is
measured at the city-wide median, a park's at the park's own, so ``ALL`` is not the sum of
the parks' gains and no subtraction recovers a withheld park's gain; medians do not add up.

Counts and land (mu) are published, as in the density table (docs/disclosure.md).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

__all__ = ["protect_rollup"]

MONEY = ("median_tax_per_mu", "tax_gain")


def _sensitive(values: Any, rules: Any) -> bool:
    """Whether one cell's positive contributions fail the frequency, (n, k) or p % rule."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    v = v[v > 0]
    if len(v) == 0:
        return False
    if len(v) < rules.min_frequency:
        return True
    total = float(v.sum())
    for n, k in rules.dominance:
        if float(v[: int(n)].sum()) > k / 100.0 * total:
            return True
    # p % rule: the second-largest firm must not estimate the largest to within p %
    return bool(
        rules.p_percent is not None
        and len(v) >= 2
        and total - float(v[0]) - float(v[1]) < rules.p_percent / 100.0 * float(v[0])
    )


def protect_rollup(
    rollup: pd.DataFrame,
    enterprises: pd.DataFrame,
    *,
    rules: Any = None,
    all_label: str = "ALL",
) -> pd.DataFrame:
    """The roll-up with its money figures withheld where they would disclose a firm.

    Parameters
    ----------
    rollup : pandas.DataFrame
        :attr:`parkgeo.evaluate.EvaluationResult.parks`.
    enterprises : pandas.DataFrame
        :attr:`parkgeo.evaluate.EvaluationResult.enterprises` (``park_id``, ``year``,
        ``outcome``, ``class``, ``land_mu``, ``tax``).
    rules : parkgeo.disclosure.DisclosureRules, optional
        Default: the default rules.

    Returns
    -------
    pandas.DataFrame
        A copy: withheld figures are NaN, ``suppressed`` is True on their rows, and
        ``disclosure`` names each with its reason and marker (``tax_gain=primary-frequency
        (<3)``, ``tax_gain=primary-dominance (x)``), as in the protected density table.
    """
    from parkgeo._sdc_rules import DisclosureRules

    rules = rules if rules is not None else DisclosureRules()
    low = list(rollup.attrs.get("low_classes", []))
    out = rollup.copy()
    ev = enterprises[enterprises["outcome"] == "evaluated"]
    tax = pd.to_numeric(ev["tax"], errors="coerce").to_numpy(dtype=float)
    land = pd.to_numeric(ev["land_mu"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        has_per_mu = np.isfinite(tax / land)
    frame = pd.DataFrame(
        {
            "park_id": ev["park_id"].astype(object).where(ev["park_id"].notna(), None),
            "year": pd.to_numeric(ev["year"]).astype(np.int64).to_numpy(),
            "per_mu": has_per_mu,
            "low": ev["class"].isin(low).to_numpy(),
            "tax": tax,
            "land": land,
        }
    )
    # every firm-year once under its park and once under ALL, as park_rollup counts them
    both = pd.concat(
        [frame[frame["park_id"].notna()], frame.assign(park_id=all_label)], ignore_index=True
    )
    both["park_id"] = both["park_id"].astype(str)
    cells = {(str(p), int(y)): c for (p, y), c in both.groupby(["park_id", "year"], sort=False)}
    status: dict[tuple[str, int, str], str] = {}
    for pid, y, median in zip(
        out["park_id"].astype(str), out["year"], out["median_tax_per_mu"], strict=True
    ):
        cell = cells.get((pid, int(y)))
        if cell is None:
            continue
        n_mu = int(cell["per_mu"].sum())
        if 0 < n_mu < rules.min_frequency:
            status[(pid, int(y), "median_tax_per_mu")] = "primary-frequency"
        lows = cell[cell["low"]]
        # each low-class firm's shortfall at the row's own median (the row's tax_gain terms)
        gaps = np.clip(float(median) * lows["land"].to_numpy() - lows["tax"].to_numpy(), 0, None)
        gaps = gaps[np.isfinite(gaps)]
        if _sensitive(gaps, rules):
            few = int((gaps > 0).sum()) < rules.min_frequency
            status[(pid, int(y), "tax_gain")] = "primary-frequency" if few else "primary-dominance"
    notes: list[list[str]] = [[] for _ in range(len(out))]

    def mark(why: str) -> str:
        return str(rules.frequency_marker if why == "primary-frequency" else rules.marker)

    suppressed = np.zeros(len(out), dtype=bool)
    for r, (pid, y) in enumerate(zip(out["park_id"].astype(str), out["year"], strict=True)):
        for column in MONEY:
            why = status.get((pid, int(y), column))
            if why is None or column not in out.columns:
                continue
            out.iloc[r, out.columns.get_loc(column)] = np.nan
            suppressed[r] = True
            notes[r].append(f"{column}={why} ({mark(why)})")
    out["suppressed"] = suppressed
    out["disclosure"] = pd.array(["; ".join(n) for n in notes], dtype="str")
    out.attrs = dict(rollup.attrs)
    return cast(pd.DataFrame, out)
