"""Protection certificates: a direction along which a suppressed cell can move while every
equation still holds (the hypercube idea of tau-argus' GHMITER).

In a grid table, two sibling rows ``r, r'`` (parts of one row-direction equation, and of no
other) and two sibling columns ``c, c'`` span a rectangle: adding ``t`` to ``(r, c)`` and
``(r', c')`` and taking it from ``(r', c)`` and ``(r, c')`` (signs adjusted for totals) leaves
every sum unchanged. If the four cells are suppressed, an attacker cannot tell the true table
from the moved one, so the suppressed cell's range reaches at least ``t`` away, as far as the
corners' bounds allow. Without a column dimension a pair of sibling rows is enough. Finding
such a rectangle is a few array operations, where the exact range needs two LPs over a block
of possibly thousands of cells; when no rectangle proves enough protection the LP decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["Axes", "axes_of", "best_new", "certified_steps"]


@dataclass(frozen=True)
class Axes:
    """Sibling structure of a grid: for each row (column), the single equation family holding
    it as a part or total (-1 when none or several) and its coefficient there."""

    n_rows: int
    n_cols: int
    row_family: NDArray[np.int64]
    row_coef: NDArray[np.float64]
    col_family: NDArray[np.int64]
    col_coef: NDArray[np.float64]
    has_col_equations: bool


def axes_of(equations: sp.csr_matrix, shape: tuple[int, int]) -> Axes:
    """Classify a grid's equations into row-direction (one column) and column-direction (one
    row) families, read off column 0 and row 0 (every column repeats the same row equations)."""
    n_rows, n_cols = shape
    row_family = np.full(n_rows, -1, dtype=np.int64)
    row_count = np.zeros(n_rows, dtype=np.int64)
    row_coef = np.zeros(n_rows)
    col_family = np.full(n_cols, -1, dtype=np.int64)
    col_count = np.zeros(n_cols, dtype=np.int64)
    col_coef = np.zeros(n_cols)
    has_col = False
    for e in range(equations.shape[0]):
        start, stop = equations.indptr[e], equations.indptr[e + 1]
        cells = equations.indices[start:stop]
        coefs = equations.data[start:stop]
        rows, cols = cells // n_cols, cells % n_cols
        if np.all(cols == 0):
            row_family[rows] = e
            row_count[rows] += 1
            row_coef[rows] = coefs
        elif np.all(rows == 0) and len(set(cols.tolist())) > 1:
            has_col = True
            col_family[cols] = e
            col_count[cols] += 1
            col_coef[cols] = coefs
        elif np.all(rows == rows[0]) and len(set(cols.tolist())) > 1:
            has_col = True
    row_family[row_count != 1] = -1
    col_family[col_count != 1] = -1
    return Axes(n_rows, n_cols, row_family, row_coef, col_family, col_coef, has_col)


def _limits(
    a: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64], d: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """How far each corner allows moving along +d (up) and -d (down)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(d > 0, (hi - a) / d, (a - lo) / -d)
        down = np.where(d > 0, (a - lo) / d, (hi - a) / -d)
    return up, down


def _siblings(
    family: NDArray[np.int64], coef: NDArray[np.float64], k: int, parts_only: bool
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    if family[k] < 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    mates = np.flatnonzero(family == family[k])
    mates = mates[mates != k]
    if parts_only:
        mates = mates[coef[mates] > 0]
    return mates, -coef[k] / coef[mates]


def _candidates(
    axes: Axes,
    cell: int,
    value: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    parts_only: bool,
    unknown: NDArray[np.bool_],
    need: tuple[float, float] | None = None,
    keep: int = 24,
) -> tuple[list[NDArray[np.int64]], NDArray[np.float64], NDArray[np.float64]]:
    """Corner cells (other than ``cell``) of the pairs or rectangles through ``cell``, and
    the steps up and down each allows.

    In two dimensions, with ``need`` None only rectangles whose two edge corners are already
    suppressed are listed (checking); with ``need`` (steps up and down to reach) the ``keep``
    cheapest sibling rows and columns whose edge corner allows those steps (proposing).
    """
    r, c = divmod(cell, axes.n_cols)
    rows, wr = _siblings(axes.row_family, axes.row_coef, r, parts_only)
    own_up, own_down = _limits(value[[cell]], lower[[cell]], upper[[cell]], np.ones(1))
    if not axes.has_col_equations:
        # One dimension: each sibling's own allowance; callers add them up (a group of
        # siblings moves together) and cap the sum by the cell's own bound.
        corners = rows * axes.n_cols + c
        up, down = _limits(value[corners], lower[corners], upper[corners], wr)
        return [corners], up, down
    cols, wc = _siblings(axes.col_family, axes.col_coef, c, parts_only)
    rows, wr = _shortlist(
        rows, wr, rows * axes.n_cols + c, value, lower, upper, unknown, need, keep
    )
    cols, wc = _shortlist(
        cols, wc, r * axes.n_cols + cols, value, lower, upper, unknown, need, keep
    )
    if len(rows) == 0 or len(cols) == 0:
        empty = np.empty(0, dtype=np.int64)
        return [empty, empty, empty], np.empty(0), np.empty(0)
    a_rc = (rows * axes.n_cols + c)[:, None]
    b_rc = (r * axes.n_cols + cols)[None, :]
    d_rc = rows[:, None] * axes.n_cols + cols[None, :]
    shape = (len(rows), len(cols))
    corner_a = np.broadcast_to(a_rc, shape).ravel()
    corner_b = np.broadcast_to(b_rc, shape).ravel()
    corner_d = d_rc.ravel()
    da = np.broadcast_to(wr[:, None], shape).ravel()
    db = np.broadcast_to(wc[None, :], shape).ravel()
    dd = (wr[:, None] * wc[None, :]).ravel()
    up = np.full(len(corner_a), own_up[0])
    down = np.full(len(corner_a), own_down[0])
    for corners, d in ((corner_a, da), (corner_b, db), (corner_d, dd)):
        u, w = _limits(value[corners], lower[corners], upper[corners], d)
        up, down = np.minimum(up, u), np.minimum(down, w)
    return [corner_a, corner_b, corner_d], up, down


def _shortlist(
    mates: NDArray[np.int64],
    weight: NDArray[np.float64],
    corner: NDArray[np.int64],
    value: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    unknown: NDArray[np.bool_],
    need: tuple[float, float] | None,
    keep: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    if len(mates) == 0:
        return mates, weight
    if need is None:
        sel = unknown[corner]
        return mates[sel], weight[sel]
    up, down = _limits(value[corner], lower[corner], upper[corner], weight)
    fit = np.flatnonzero((up >= need[0]) & (down >= need[1]))
    cost = np.where(unknown[corner[fit]], 0.0, np.abs(value[corner[fit]]))
    best = fit[np.lexsort((fit, cost))[:keep]]
    best.sort()
    return mates[best], weight[best]


def certified_steps(
    axes: Axes,
    cell: int,
    unknown: NDArray[np.bool_],
    value: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
) -> tuple[float, float]:
    """The largest steps up and down that a fully suppressed pair or rectangle through
    ``cell`` proves (0 when there is none)."""
    corners, up, down = _candidates(axes, cell, value, lower, upper, False, unknown)
    if len(up) == 0:
        return 0.0, 0.0
    ok = np.ones(len(up), dtype=bool)
    for c in corners:
        ok &= unknown[c]
    if not ok.any():
        return 0.0, 0.0
    if not axes.has_col_equations:
        own_up, own_down = _own(cell, value, lower, upper)
        return min(own_up, float(up[ok].sum())), min(own_down, float(down[ok].sum()))
    return float(up[ok].max()), float(down[ok].max())


def _own(
    cell: int, value: NDArray[np.float64], lower: NDArray[np.float64], upper: NDArray[np.float64]
) -> tuple[float, float]:
    up, down = _limits(value[[cell]], lower[[cell]], upper[[cell]], np.ones(1))
    return float(up[0]), float(down[0])


def best_new(
    axes: Axes,
    cell: int,
    unknown: NDArray[np.bool_],
    value: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    need_up: float,
    need_down: float,
    *,
    parts_only: bool = True,
) -> NDArray[np.int64] | None:
    """The cheapest pair or rectangle (cost: the magnitudes of the cells it would newly
    suppress, ties by position) that proves both protection levels; None if none does.
    ``parts_only`` keeps totals out of it."""
    corners, up, down = _candidates(
        axes, cell, value, lower, upper, parts_only, unknown, (need_up, need_down)
    )
    if len(up) == 0:
        return None
    if not axes.has_col_equations:
        # Siblings already suppressed count towards the protection: add the smallest one
        # that makes up the shortfall.
        own_up, own_down = _own(cell, value, lower, upper)
        if own_up < need_up or own_down < need_down:
            return None
        known = ~unknown[corners[0]]
        have_up = float(up[~known].sum())
        have_down = float(down[~known].sum())
        ok = known & (have_up + up >= need_up) & (have_down + down >= need_down)
    else:
        ok = (up >= need_up) & (down >= need_down)
    if not ok.any():
        return None
    cost = np.zeros(len(up))
    for c in corners:
        cost += np.where(unknown[c], 0.0, np.abs(value[c]))
    pick = np.flatnonzero(ok)
    order = np.lexsort((pick, cost[pick]))
    best = pick[order[0]]
    return np.array([int(c[best]) for c in corners], dtype=np.int64)
