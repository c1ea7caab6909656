"""Firm contributions per cell and the additive structure of the published tables.

The disclosure rules need more than the sums the density table publishes: per cell, the
number of contributing firms and the largest contributions. :class:`Contributions` holds them
per *leaf* (park or outside-parks, year, and optionally GB/T 4754 division or no division) and,
like :class:`parkgeo.metrics.Partials`, merges batch by batch (the largest contributions of a
union are among the largest of its parts). :func:`grid_of` rolls the leaves up into the cells
of a table — parks, optional district subtotals, ``ALL_PARKS``, the never-published
outside-parks row and ``ALL``; divisions, the never-published no-division column and the row
total — with the equations that tie them (``sum of parts - total = 0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError, SchemaError

__all__ = [
    "OUTSIDE",
    "NO_DIVISION",
    "TOTAL",
    "Contributions",
    "Grid",
    "contributions_of",
    "grid_of",
]

OUTSIDE = "OUTSIDE_PARKS"
"""Row label of the firms in no park: never published, but ``ALL - ALL_PARKS`` derives it."""
NO_DIVISION = "NO_DIVISION"
"""Column label of firms without a usable industry code: never published, but derivable."""
TOTAL = "TOTAL"
"""Column label of the all-industry figure (the one the density table publishes)."""

_SOURCE = {
    "tax": "tax",
    "profit": "profit",
    "value_added": "value_added",
    "energy_tce": "energy_tce",
    "employees": "employees",
    "value_added_strategic": "value_added",
}


@dataclass(frozen=True)
class Contributions:
    """Per-leaf contribution statistics of each measure, mergeable across batches.

    Attributes
    ----------
    n_parks : int
        Parks; leaf row ``n_parks`` holds the firms in no park.
    years : numpy.ndarray
        Sorted years (int64).
    divisions : numpy.ndarray
        Sorted division codes (object); empty when the industry dimension is not kept. The
        last leaf column always holds firms of no (known) division.
    n, value, magnitude : dict of str to numpy.ndarray
        ``(n_parks + 1, n_years, n_divisions + 1)``: contributing firms (non-missing values),
        signed sums and sums of magnitudes.
    top : dict of str to numpy.ndarray
        ``(n_parks + 1, n_years, n_divisions + 1, top_n)`` largest magnitudes, descending.
    """

    n_parks: int
    years: NDArray[np.int64]
    divisions: NDArray[np.object_]
    n: dict[str, NDArray[np.int64]]
    value: dict[str, NDArray[np.float64]]
    magnitude: dict[str, NDArray[np.float64]]
    top: dict[str, NDArray[np.float64]]

    @property
    def measures(self) -> tuple[str, ...]:
        """The measures held."""
        return tuple(self.n)

    def merge(self, other: Contributions) -> Contributions:
        """The contributions of both sets of firm rows (neither input is modified)."""
        if other.n_parks != self.n_parks or other.measures != self.measures:
            raise ParkgeoError("cannot merge contributions over different parks or measures")
        years = np.union1d(self.years, other.years).astype(np.int64)
        divisions = np.array(
            sorted(set(self.divisions.tolist()) | set(other.divisions.tolist())), dtype=object
        )
        a, b = self._aligned(years, divisions), other._aligned(years, divisions)
        top: dict[str, NDArray[np.float64]] = {}
        for m in self.measures:
            both = np.concatenate([a.top[m], b.top[m]], axis=-1)
            width = a.top[m].shape[-1]
            top[m] = -np.sort(-both, axis=-1)[..., :width]
        return Contributions(
            n_parks=self.n_parks,
            years=years,
            divisions=divisions,
            n={m: a.n[m] + b.n[m] for m in self.measures},
            value={m: a.value[m] + b.value[m] for m in self.measures},
            magnitude={m: a.magnitude[m] + b.magnitude[m] for m in self.measures},
            top=top,
        )

    def _aligned(self, years: NDArray[np.int64], divisions: NDArray[np.object_]) -> Contributions:
        if np.array_equal(years, self.years) and list(divisions) == list(self.divisions):
            return self
        yi = np.searchsorted(years, self.years)
        di = np.r_[
            np.searchsorted(divisions.astype(str), self.divisions.astype(str)), len(divisions)
        ]
        shape = (self.n_parks + 1, len(years), len(divisions) + 1)

        def place(arr: NDArray[Any]) -> NDArray[Any]:
            out = np.zeros(shape + arr.shape[3:], dtype=arr.dtype)
            out[:, yi[:, None], di[None, :]] = arr
            return out

        return Contributions(
            n_parks=self.n_parks,
            years=years,
            divisions=divisions,
            n={m: place(v) for m, v in self.n.items()},
            value={m: place(v) for m, v in self.value.items()},
            magnitude={m: place(v) for m, v in self.magnitude.items()},
            top={m: place(v) for m, v in self.top.items()},
        )


def contributions_of(
    assigned: pd.DataFrame,
    parks: Any,
    *,
    measures: Sequence[str],
    top_n: int = 2,
    by_industry: bool = False,
) -> Contributions:
    """Contribution statistics of joined firm rows (output of :func:`parkgeo.assign_parks`).

    Each row is one firm's figures for one year (the loader rejects repeated enterprise-years),
    so a row is one contribution. Missing values contribute nothing.
    """
    from parkgeo._figures import park_codes, park_id_series
    from parkgeo._partials import industry_codes_of

    park_ids = park_id_series(parks).to_numpy(dtype=object)
    n_parks = len(park_ids)
    unknown = [m for m in measures if m not in _SOURCE]
    if unknown:
        raise ParkgeoError(f"unknown measure(s) {unknown}; known: {', '.join(_SOURCE)}")
    park_code, years, year_code = park_codes(assigned, park_ids)
    slot = np.where(park_code >= 0, park_code, n_parks).astype(np.int64)
    n_years = len(years)
    divisions = np.empty(0, dtype=object)
    division = np.zeros(len(assigned), dtype=np.int64)
    strategic = np.zeros(len(assigned), dtype=bool)
    has_industry = "industry" in assigned.columns
    if has_industry and (by_industry or "value_added_strategic" in measures):
        strategic, div_index, all_divisions = industry_codes_of(assigned["industry"])
        if by_industry:
            divisions = all_divisions
            division = np.where(div_index >= 0, div_index, len(divisions))
    n_cols = len(divisions) + 1
    key = (slot * n_years + year_code) * n_cols + division
    n_leaves = (n_parks + 1) * n_years * n_cols
    shape = (n_parks + 1, n_years, n_cols)
    out_n: dict[str, NDArray[np.int64]] = {}
    out_value: dict[str, NDArray[np.float64]] = {}
    out_mag: dict[str, NDArray[np.float64]] = {}
    out_top: dict[str, NDArray[np.float64]] = {}
    for m in measures:
        column = _SOURCE[m]
        if column in assigned.columns:
            try:
                values = assigned[column].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"column {column!r} is not numeric; load the enterprises with "
                    "parkgeo.io.read_enterprises, which validates measures"
                ) from None
        else:
            values = np.full(len(assigned), np.nan)
        present = ~np.isnan(values)
        if m == "value_added_strategic":
            present &= strategic
        k, v = key[present], values[present]
        mag = np.abs(v)
        out_n[m] = np.bincount(k, minlength=n_leaves).astype(np.int64).reshape(shape)
        out_value[m] = (
            np.bincount(k, weights=v, minlength=n_leaves).astype(np.float64).reshape(shape)
        )
        out_mag[m] = (
            np.bincount(k, weights=mag, minlength=n_leaves).astype(np.float64).reshape(shape)
        )
        out_top[m] = _top_by_key(k, mag, n_leaves, top_n).reshape(*shape, top_n)
    return Contributions(
        n_parks=n_parks,
        years=years.astype(np.int64),
        divisions=divisions,
        n=out_n,
        value=out_value,
        magnitude=out_mag,
        top=out_top,
    )


def _top_by_key(
    key: NDArray[np.int64], mag: NDArray[np.float64], n_keys: int, top_n: int
) -> NDArray[np.float64]:
    """The ``top_n`` largest ``mag`` per key, descending, zero-padded: ``(n_keys, top_n)``."""
    out = np.zeros((n_keys, top_n))
    if len(key) == 0:
        return out
    order = np.lexsort((-mag, key))
    k_sorted = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(k_sorted)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(k_sorted)]))
    rank = np.arange(len(k_sorted)) - group_start
    keep = rank < top_n
    out[k_sorted[keep], rank[keep]] = mag[order][keep]
    return out


@dataclass(frozen=True)
class Grid:
    """The cells of one measure's table for every year, and their additive structure.

    Cells are ``(row, column)`` per year; the flat cell index is ``row * n_cols + col``.

    Attributes
    ----------
    rows, cols : list of str
        Row labels (park ids, :data:`OUTSIDE`, ``district:<name>`` subtotals, ``ALL_PARKS``,
        ``ALL``) and column labels (division codes, :data:`NO_DIVISION`, :data:`TOTAL`; just
        :data:`TOTAL` without the industry dimension).
    years : numpy.ndarray
    n, value, magnitude : numpy.ndarray
        ``(n_years, n_rows * n_cols)``.
    top : numpy.ndarray
        ``(n_years, n_rows * n_cols, top_n)``.
    hidden : numpy.ndarray
        Cells never published (outside-parks row, no-division column), bool ``(n_cells,)``.
    equations : scipy.sparse.csr_matrix
        ``(n_equations, n_cells)`` with ``equations @ values == 0`` in every year.
    """

    rows: list[str]
    cols: list[str]
    years: NDArray[np.int64]
    n: NDArray[np.int64]
    value: NDArray[np.float64]
    magnitude: NDArray[np.float64]
    top: NDArray[np.float64]
    hidden: NDArray[np.bool_]
    equations: sp.csr_matrix

    @property
    def n_cells(self) -> int:
        return len(self.rows) * len(self.cols)


def grid_of(
    contrib: Contributions,
    measure: str,
    *,
    park_ids: Sequence[str],
    districts: Sequence[str | None] | None = None,
) -> Grid:
    """Roll a measure's leaves up into the cells of the published table and its equations.

    Parameters
    ----------
    contrib : Contributions
    measure : str
    park_ids : sequence of str
        Park ids in the parks' order (row labels).
    districts : sequence of str or None, optional
        Each park's district: adds ``district:<name>`` subtotal rows between the parks and
        ``ALL_PARKS``. Parks of no district roll into a never-published ``district:?`` row.
    """
    n_parks = contrib.n_parks
    leaf_n, leaf_v = contrib.n[measure], contrib.value[measure]
    leaf_m, leaf_t = contrib.magnitude[measure], contrib.top[measure]
    n_years, top_n = leaf_t.shape[1], leaf_t.shape[3]
    by_industry = len(contrib.divisions) > 0
    # Columns: leaf columns then the row total (only the total without the industry dimension).
    if by_industry:
        cols = [*map(str, contrib.divisions), NO_DIVISION, TOTAL]

        def with_total(a: NDArray[Any], how: str) -> NDArray[Any]:
            total = a.sum(axis=2, keepdims=True) if how == "sum" else _top_of(a, axis=2, k=top_n)
            return np.concatenate([a, total], axis=2)

        leaf_n, leaf_v, leaf_m = (with_total(a, "sum") for a in (leaf_n, leaf_v, leaf_m))
        leaf_t = with_total(leaf_t, "top")
    else:
        cols = [TOTAL]
        leaf_n, leaf_v, leaf_m = (a.sum(axis=2, keepdims=True) for a in (leaf_n, leaf_v, leaf_m))
        leaf_t = _top_of(leaf_t, axis=2, k=top_n)
    n_cols = len(cols)
    # Row groups: each park, outside, districts, ALL_PARKS, ALL -> member leaf rows.
    rows = [str(p) for p in park_ids] + [OUTSIDE]
    members: list[NDArray[np.int64]] = [np.array([i]) for i in range(n_parks + 1)]
    hidden_rows = {n_parks}
    district_of: list[int] = []
    if districts is not None:
        labels = ["?" if d is None or pd.isna(d) else str(d) for d in districts]
        names = sorted(set(labels) - {"?"}) + (["?"] if "?" in labels else [])
        for name in names:
            if name == "?":
                hidden_rows.add(len(rows))
            rows.append(f"district:{name}")
            members.append(np.array([i for i, d in enumerate(labels) if d == name]))
        district_of = [n_parks + 1 + names.index(d) for d in labels]
    all_parks_row, all_row = len(rows), len(rows) + 1
    rows += ["ALL_PARKS", "ALL"]
    members += [np.arange(n_parks), np.arange(n_parks + 1)]
    n_rows = len(rows)
    cell_n = np.zeros((n_years, n_rows, n_cols), dtype=np.int64)
    cell_v = np.zeros((n_years, n_rows, n_cols))
    cell_m = np.zeros((n_years, n_rows, n_cols))
    cell_t = np.zeros((n_years, n_rows, n_cols, top_n))
    for r, leaves in enumerate(members):
        cell_n[:, r] = leaf_n[leaves].sum(axis=0)
        cell_v[:, r] = leaf_v[leaves].sum(axis=0)
        cell_m[:, r] = leaf_m[leaves].sum(axis=0)
        cell_t[:, r] = _top_of(leaf_t[leaves], axis=0, k=top_n, keep=False)
    hidden = np.zeros((n_rows, n_cols), dtype=bool)
    hidden[sorted(hidden_rows)] = True
    if by_industry:
        hidden[:, n_cols - 2] = True
    eq = _equations(n_parks, n_rows, n_cols, district_of, all_parks_row, all_row, by_industry)
    return Grid(
        rows=rows,
        cols=cols,
        years=contrib.years,
        n=cell_n.reshape(n_years, -1),
        value=cell_v.reshape(n_years, -1),
        magnitude=cell_m.reshape(n_years, -1),
        top=cell_t.reshape(n_years, n_rows * n_cols, top_n),
        hidden=hidden.ravel(),
        equations=eq,
    )


def _top_of(a: NDArray[np.float64], *, axis: int, k: int, keep: bool = True) -> NDArray[np.float64]:
    """Largest ``k`` values over ``axis`` of per-part top-k arrays (last axis is the k)."""
    moved = np.moveaxis(a, axis, -2)
    flat = moved.reshape(*moved.shape[:-2], -1)
    top = -np.sort(-flat, axis=-1)[..., :k]
    if flat.shape[-1] < k:
        top = np.concatenate([top, np.zeros((*top.shape[:-1], k - top.shape[-1]))], axis=-1)
    return np.expand_dims(top, axis) if keep else top


def _equations(
    n_parks: int,
    n_rows: int,
    n_cols: int,
    district_of: list[int],
    all_parks_row: int,
    all_row: int,
    by_industry: bool,
) -> sp.csr_matrix:
    """``sum(parts) - total = 0`` for the row hierarchy (each column) and, with the industry
    dimension, for each row (divisions + no division = total)."""
    eq_rows: list[int] = []
    eq_cells: list[int] = []
    eq_coef: list[float] = []
    n_eq = 0

    def add(parts: list[int], total: int) -> None:
        nonlocal n_eq
        for cell in parts:
            eq_rows.append(n_eq)
            eq_cells.append(cell)
            eq_coef.append(1.0)
        eq_rows.append(n_eq)
        eq_cells.append(total)
        eq_coef.append(-1.0)
        n_eq += 1

    for c in range(n_cols):
        cell = [r * n_cols + c for r in range(n_rows)]
        if district_of:
            for d in sorted(set(district_of)):
                add([cell[p] for p in range(n_parks) if district_of[p] == d], cell[d])
            add([cell[d] for d in sorted(set(district_of))], cell[all_parks_row])
        else:
            add([cell[p] for p in range(n_parks)], cell[all_parks_row])
        add([cell[all_parks_row], cell[n_parks]], cell[all_row])
    if by_industry:
        for r in range(n_rows):
            add([r * n_cols + c for c in range(n_cols - 1)], r * n_cols + n_cols - 1)
    return sp.csr_matrix(
        (eq_coef, (eq_rows, eq_cells)), shape=(n_eq, n_rows * n_cols), dtype=np.float64
    )
