"""Formulas and rules of evaluation schemes: a small, safe expression language over columns.

Only arithmetic (``+ - * /``), comparisons, ``and``/``or``/``not``, numbers, strings and column
names are allowed, so a scheme file cannot run code. Evaluation is elementwise over numpy
arrays.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError

__all__ = ["SchemeError", "compile_expression", "evaluate_expression", "expression_names"]


class SchemeError(ParkgeoError):
    """A scheme file is malformed: the message names the file and the key at fault."""


_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def expression_names(node: ast.AST) -> set[str]:
    """The column names a compiled formula or rule uses.

    Examples
    --------
    >>> sorted(expression_names(compile_expression("tax / land_mu > 2")))
    ['land_mu', 'tax']
    """
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def compile_expression(
    text: object, *, where: str = "expression", allowed: Sequence[str] | None = None
) -> ast.Expression:
    """Parse and check a formula or rule: only arithmetic, comparisons, and/or/not, numbers
    and names (with ``allowed``, only those column names).

    Examples
    --------
    >>> compile_expression("__import__('os')")
    Traceback (most recent call last):
    ...
    parkgeo.evaluate_expr.SchemeError: expression: "__import__('os')" uses Call; only + - * /, comparisons, and/or/not, numbers and column names are allowed
    """
    if not isinstance(text, str) or not text.strip():
        raise SchemeError(f"{where}: must be a non-empty expression string")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SchemeError(f"{where}: {text!r} is not a valid expression ({exc.msg})") from None
    for node in ast.walk(tree):
        ok = isinstance(
            node,
            (
                ast.Expression,
                ast.BinOp,
                ast.UnaryOp,
                ast.BoolOp,
                ast.Compare,
                ast.Name,
                ast.Constant,
                ast.Load,
                ast.USub,
                ast.UAdd,
                ast.Not,
                ast.And,
                ast.Or,
                *_BINOPS,
                *_CMPOPS,
            ),
        )
        if not ok:
            raise SchemeError(
                f"{where}: {text!r} uses {type(node).__name__}; only + - * /, comparisons, "
                "and/or/not, numbers and column names are allowed"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)):
            raise SchemeError(f"{where}: {text!r}: constant {node.value!r} is not allowed")
    if allowed is not None:
        unknown = sorted(expression_names(tree) - set(allowed))
        if unknown:
            raise SchemeError(
                f"{where}: unknown column {unknown[0]!r} in {text!r}; formulas use the canonical "
                f"columns {', '.join(allowed)}"
            )
    return tree


def evaluate_expression(
    tree: ast.Expression, env: Mapping[str, Any], n: int
) -> NDArray[np.float64] | NDArray[np.bool_]:
    """Evaluate a compiled formula or rule over columns, elementwise (numpy semantics).

    Division by zero gives inf or NaN (callers treat non-finite indicator values as missing);
    comparisons with NaN are false.

    Examples
    --------
    >>> tree = compile_expression("tax / land_mu")
    >>> evaluate_expression(tree, {"tax": np.array([30.0, 1.0]), "land_mu": np.array([2.0, 0])}, 2)
    array([15., inf])
    """

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            value = ev(node.operand)
            if isinstance(node.op, ast.Not):
                return ~np.asarray(value, dtype=bool)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            left = np.asarray(left, dtype=np.float64)
            right = np.asarray(right, dtype=np.float64)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return np.divide(left, right)
        if isinstance(node, ast.BoolOp):
            parts = [np.asarray(ev(v), dtype=bool) for v in node.values]
            out = parts[0]
            for part in parts[1:]:
                out = (out & part) if isinstance(node.op, ast.And) else (out | part)
            return out
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            out = np.ones(n, dtype=bool)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = ev(comp)
                a, b = np.asarray(left), np.asarray(right)
                if isinstance(op, ast.Eq):
                    res = a == b
                elif isinstance(op, ast.NotEq):
                    res = a != b
                elif isinstance(op, ast.Lt):
                    res = a < b
                elif isinstance(op, ast.LtE):
                    res = a <= b
                elif isinstance(op, ast.Gt):
                    res = a > b
                else:
                    res = a >= b
                out = out & np.asarray(res, dtype=bool)
                left = right
            return out
        raise SchemeError(f"cannot evaluate {type(node).__name__}")  # pragma: no cover

    with np.errstate(all="ignore"):
        result = ev(tree)
    arr = np.asarray(result)
    if arr.ndim == 0:
        arr = np.full(n, arr.item())
    return arr
