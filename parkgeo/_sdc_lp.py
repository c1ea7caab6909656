"""Interval attacks and secondary (complementary) suppression over a table's additive
structure, by linear programming (scipy's HiGHS).

The attacker knows every published cell, the equations tying the cells (``E @ x == 0``: parts
add up to their totals) and a-priori bounds (a tax is never negative). The feasible range of a
suppressed cell is ``[min x_i, max x_i]`` over that polytope: two LPs. A sensitive cell is
protected when its range reaches at least its protection level below and above its true value
(upper and lower protection levels, as in tau-argus and sdcTable).

Secondary suppression is greedy and deterministic: sensitive cells are taken largest
protection level first; while a cell's range is too narrow, the smallest published cell large
enough to cover the shortfall is suppressed from an equation holding the cell (else from an
equation of its connected block of suppressed cells), and any equation left with one
suppressed cell gets a partner so that cell cannot be solved exactly. Every decision is then
checked by the same LP the attack uses, so the result is protected by construction, not by the
heuristic's hopes. Suppressing a cell only removes knowledge, so a cell once protected stays
protected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["Problem", "certified", "intervals", "local_unknown", "protected", "secondary"]

_REL_TOL = 1e-7


@dataclass(frozen=True)
class Problem:
    """One table's cells for one year: true values, attacker bounds and the equations."""

    value: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    equations: sp.csr_matrix
    shape: tuple[int, int] | None = None
    """(rows, columns) when the cells are a grid: enables pair and rectangle certificates."""

    @property
    def n_cells(self) -> int:
        return len(self.value)

    def scale(self) -> float:
        return float(np.max(np.abs(self.value), initial=1.0))


def _components(problem: Problem, unknown: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Component label of each unknown cell (-1 for known cells): unknown cells sharing an
    equation are in one block."""
    from scipy.sparse.csgraph import connected_components

    idx = np.flatnonzero(unknown)
    labels = np.full(problem.n_cells, -1, dtype=np.int64)
    if len(idx) == 0:
        return labels
    sub = problem.equations[:, idx]
    sub = (sub != 0).astype(np.int8)
    adjacency = (sub.T @ sub).tocsr()
    _, comp = connected_components(adjacency, directed=False)
    labels[idx] = comp
    return labels


@dataclass
class _Block:
    cells: NDArray[np.int64]
    a_ub: sp.csr_matrix
    b_ub: NDArray[np.float64]
    bounds: NDArray[np.float64]


def _block(problem: Problem, unknown: NDArray[np.bool_], cells: NDArray[np.int64]) -> _Block:
    eq = problem.equations
    touching = np.unique(eq[:, cells].nonzero()[0])
    rows = eq[touching]
    known = ~unknown
    # Right-hand side from the published cells; a tolerance absorbs float summation error.
    contrib = rows.multiply(np.where(known, problem.value, 0.0)[None, :]).tocsr()
    rhs = -np.asarray(contrib.sum(axis=1)).ravel()
    magnitude = np.asarray(abs(rows).multiply(np.abs(problem.value)[None, :]).sum(axis=1)).ravel()
    tol = _REL_TOL * (magnitude + 1.0) * 1e-2
    a = rows[:, cells]
    bounds = np.column_stack([problem.lower[cells], problem.upper[cells]])
    return _Block(
        cells=cells,
        a_ub=sp.vstack([a, -a]).tocsr(),
        b_ub=np.r_[rhs + tol, -rhs + tol],
        bounds=bounds,
    )


def _solve(block: _Block, position: int, sense: float) -> float:
    from scipy.optimize import linprog

    c = np.zeros(len(block.cells))
    c[position] = sense
    res = linprog(c, A_ub=block.a_ub, b_ub=block.b_ub, bounds=block.bounds, method="highs")
    if res.status == 3:  # unbounded
        return -sense * np.inf
    if res.status != 0:
        # Infeasible only through rounding in the published figures; fall back to the bound.
        return float(block.bounds[position, 0 if sense > 0 else 1])
    return float(res.fun) * sense


def intervals(
    problem: Problem, unknown: NDArray[np.bool_], cells: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The attacker's feasible range ``[lo, hi]`` of each of ``cells`` (published cells get
    their value as both ends).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> # three parks and their total; parks 0 and 1 suppressed
    >>> eq = sp.csr_matrix(np.array([[1.0, 1.0, 1.0, -1.0]]))
    >>> p = Problem(np.array([5.0, 20.0, 30.0, 55.0]), np.zeros(4), np.full(4, np.inf), eq)
    >>> lo, hi = intervals(p, np.array([True, True, False, False]), np.array([0, 1]))
    >>> lo.round(6).tolist(), hi.round(6).tolist()
    ([0.0, 0.0], [25.0, 25.0])
    """
    cells = np.asarray(cells, dtype=np.int64)
    lo = problem.value[cells].astype(np.float64).copy()
    hi = lo.copy()
    labels = _components(problem, unknown)
    targets = cells[unknown[cells]]
    for label in np.unique(labels[targets]):
        members = np.flatnonzero(labels == label)
        block = _block(problem, unknown, members)
        for cell in targets[labels[targets] == label]:
            pos = int(np.searchsorted(members, cell))
            where = cells == cell
            lo[where] = _solve(block, pos, 1.0)
            hi[where] = _solve(block, pos, -1.0)
    return lo, hi


def certified(
    problem: Problem,
    unknown: NDArray[np.bool_],
    cells: NDArray[np.int64],
    upper_level: NDArray[np.float64],
    lower_level: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64]]:
    """Cells whose protection a suppressed pair or rectangle proves, and the range it proves
    reachable (``[a - down, a + up]``, inside the exact range)."""
    from parkgeo._sdc_cert import axes_of, certified_steps

    ok = np.zeros(len(cells), dtype=bool)
    lo = problem.value[cells].astype(np.float64).copy()
    hi = lo.copy()
    if problem.shape is None:
        return ok, lo, hi
    axes = axes_of(problem.equations, problem.shape)
    for k, cell in enumerate(cells):
        if not unknown[cell]:
            continue
        up, down = certified_steps(
            axes, int(cell), unknown, problem.value, problem.lower, problem.upper
        )
        lo[k], hi[k] = problem.value[cell] - down, problem.value[cell] + up
    ok = protected(problem, lo, hi, cells, upper_level, lower_level)
    return ok, lo, hi


def local_unknown(problem: Problem, unknown: NDArray[np.bool_], cell: int) -> NDArray[np.bool_]:
    """The suppressed cells of the sub-grid spanned by ``cell``'s suppressed row and column
    neighbours; every other cell counts as published.

    Treating a suppressed cell as published hands the attacker more than he has, so a range
    computed this way lies inside the true one: wide enough here means wide enough. In two
    dimensions it keeps most LPs small where the whole table is one block. Without a second
    dimension every suppressed cell is kept.
    """
    if problem.shape is None or problem.shape[1] == 1:
        return unknown
    n_rows, n_cols = problem.shape
    r, c = divmod(cell, n_cols)
    grid = unknown.reshape(n_rows, n_cols)
    mask = np.zeros((n_rows, n_cols), dtype=bool)
    mask[np.ix_(np.flatnonzero(grid[:, c]), np.flatnonzero(grid[r, :]))] = True
    return mask.ravel() & unknown


def protected(
    problem: Problem,
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    cells: NDArray[np.int64],
    upper_level: NDArray[np.float64],
    lower_level: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Whether each cell's range reaches its protection levels (within rounding)."""
    a = problem.value[cells]
    tol = _REL_TOL * (np.abs(a) + problem.scale() * 1e-6)
    up_ok = hi >= a + upper_level - tol
    down_ok = lo <= a - lower_level + tol
    return up_ok & down_ok & (hi - lo > tol)


def secondary(
    problem: Problem,
    *,
    unknown: NDArray[np.bool_],
    sensitive: NDArray[np.bool_],
    level: NDArray[np.float64],
    max_rounds: int | None = None,
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Complementary suppressions that protect every sensitive cell.

    Parameters
    ----------
    problem : Problem
    unknown : numpy.ndarray
        Cells not published before secondary suppression (primary and never-published).
    sensitive : numpy.ndarray
        Cells needing protection (a subset of ``unknown``).
    level : numpy.ndarray
        Protection level per cell (upper; the lower level is capped by the cell's bound).

    Returns
    -------
    unknown : numpy.ndarray
        Cells not published after secondary suppression.
    protects : numpy.ndarray
        For each newly suppressed cell, the sensitive cell it was suppressed for (-1 else).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> eq = sp.csr_matrix(np.array([[1.0, 1.0, 1.0, 1.0, -1.0]]))
    >>> p = Problem(np.array([5.0, 40.0, 8.0, 30.0, 83.0]), np.zeros(5), np.full(5, np.inf), eq)
    >>> first = np.array([True, False, False, False, False])
    >>> hidden, why = secondary(p, unknown=first, sensitive=first, level=np.array([1.0, 0, 0, 0, 0]))
    >>> np.flatnonzero(hidden).tolist(), why.tolist()
    ([0, 2], [-1, -1, 0, -1, -1])
    """
    from parkgeo._sdc_cert import axes_of, best_new, certified_steps

    unknown = unknown.copy()
    protects = np.full(problem.n_cells, -1, dtype=np.int64)
    axes = axes_of(problem.equations, problem.shape) if problem.shape is not None else None
    value, lower, upper = problem.value, problem.lower, problem.upper
    eq_csc = problem.equations.tocsc()
    eq_csr = problem.equations.tocsr()
    magnitude = np.abs(problem.value)
    lower_level = np.minimum(level, np.maximum(problem.value - problem.lower, 0.0))
    order = np.lexsort((np.arange(problem.n_cells), -level))
    todo = [int(c) for c in order if sensitive[c]]
    limit = max_rounds if max_rounds is not None else problem.n_cells + 1

    def equations_of(cell: int) -> NDArray[np.int64]:
        return np.asarray(eq_csc.indices[eq_csc.indptr[cell] : eq_csc.indptr[cell + 1]], np.int64)

    def cells_of(eq: int) -> NDArray[np.int64]:
        return np.asarray(eq_csr.indices[eq_csr.indptr[eq] : eq_csr.indptr[eq + 1]], np.int64)

    def pick(candidates: NDArray[np.int64], need: float) -> int:
        mag = magnitude[candidates]
        enough = mag >= need
        if enough.any():
            pool = candidates[enough]
            return int(pool[np.lexsort((pool, magnitude[pool]))[0]])
        return int(candidates[np.lexsort((candidates, -mag))[0]])

    def suppress(cell: int, owner: int, need: float) -> None:
        unknown[cell] = True
        protects[cell] = owner
        close(cell, owner, need)

    def close(cell: int, owner: int, need: float) -> None:
        queue = [cell]
        while queue:
            q = queue.pop()
            for e in equations_of(q):
                members = cells_of(int(e)).astype(np.int64)
                if unknown[members].sum() == 1:  # q alone would be solved exactly
                    free = members[~unknown[members]]
                    if len(free):
                        partner = pick(free, need)
                        unknown[partner] = True
                        protects[partner] = owner
                        queue.append(partner)

    # A cell alone among unknowns in an equation is solved exactly: give every sensitive cell
    # a partner first (cheap), then let the LP judge and add more where needed.
    if axes is None:
        for cell in todo:
            close(cell, cell, float(level[cell]))
    for cell in todo:
        if axes is not None:
            # A suppressed pair or rectangle through the cell proves its protection without
            # an LP; else suppress the cheapest one of small cells that does.
            tol = _REL_TOL * (abs(value[cell]) + problem.scale() * 1e-6)
            up, down = certified_steps(axes, cell, unknown, value, lower, upper)
            if up >= level[cell] - tol and down >= lower_level[cell] - tol and up + down > tol:
                continue
            if not axes.has_col_equations:
                # One dimension: blocks are small, and the exact range may already be wide
                # enough through cells outside the cell's own equation (a suppressed total).
                lo, hi = intervals(problem, unknown, np.array([cell]))
                if protected(problem, lo, hi, np.array([cell]), level[[cell]], lower_level[[cell]])[
                    0
                ]:
                    continue
            need_up = max(float(level[cell]), tol * 2)
            need_down = float(lower_level[cell])
            corners = best_new(axes, cell, unknown, value, lower, upper, need_up, need_down)
            if corners is None and axes.has_col_equations:
                # In two dimensions the LP over one large block is slow: a rectangle through
                # a total (a city-wide division figure) is the lesser evil.
                corners = best_new(
                    axes, cell, unknown, value, lower, upper, need_up, need_down, parts_only=False
                )
            if corners is not None:
                fresh = corners[~unknown[corners]]
                unknown[fresh] = True
                protects[fresh] = cell
                continue
        for _ in range(limit):
            here = np.array([cell])
            lo, hi = intervals(problem, unknown, here)
            ok = protected(problem, lo, hi, here, level[here], lower_level[here])
            if ok[0]:
                break
            a = problem.value[cell]
            need = max(a + level[cell] - hi[0], lo[0] - (a - lower_level[cell]), 0.0)
            near = np.unique(np.concatenate([cells_of(int(e)) for e in equations_of(cell)]))
            near = near[~unknown[near]].astype(np.int64)
            if len(near) == 0:
                labels = _components(problem, unknown)
                block = np.flatnonzero(labels == labels[cell])
                eqs = np.unique(eq_csc[:, block].nonzero()[0])
                near = np.unique(eq_csr[eqs].nonzero()[1])
                near = near[~unknown[near]].astype(np.int64)
            if len(near) == 0:
                near = np.flatnonzero(~unknown).astype(np.int64)
            if len(near) == 0:
                break
            suppress(pick(near, need), cell, need)
    return unknown, protects
