"""Disclosure rules: which cells are sensitive (primary suppression) and how much protection
each needs.

A cell is the sum of one measure over the enterprises of one park (or total) and year. It is
*sensitive* when publishing it would let a reader, or a contributing firm, estimate one
firm's figure too closely:

* **minimum frequency**: fewer than ``min_frequency`` firms contribute (and at least one);
* **dominance (n, k)**: the largest ``n`` firms hold more than ``k`` % of the cell total;
* **p % rule**: the cell total minus the two largest contributions is less than ``p`` % of
  the largest one, so the second largest firm could estimate the largest within ``p`` %.

Dominance and p % work on the magnitudes of the contributions (profit can be negative).
Every sensitive cell gets a *protection level*: how far its feasible range, as an attacker
computes it from the published cells, must extend above and below its true value (the
formulas of Hundepool et al., *Statistical Disclosure Control*, 2012, ch. 4, as tau-argus).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from parkgeo._errors import ParkgeoError

__all__ = [
    "MEASURES",
    "PRIMARY_DOMINANCE",
    "PRIMARY_FREQUENCY",
    "PRIMARY_P_PERCENT",
    "PUBLISHED",
    "SECONDARY",
    "STATUS_NAMES",
    "UNPUBLISHED",
    "DisclosureRules",
    "primary",
    "read_disclosure_rules",
    "rules_from_mapping",
]

MEASURES: tuple[str, ...] = (
    "tax",
    "profit",
    "value_added",
    "energy_tce",
    "employees",
    "value_added_strategic",
)
"""Measures protected by default. ``value_added_strategic`` is the value added of strategic
emerging industry firms, which ``strategic_value_added_share`` times ``value_added`` reveals."""

# Cell status codes (int8 in arrays; names in tables).
PUBLISHED = 0
PRIMARY_FREQUENCY = 1
PRIMARY_DOMINANCE = 2
PRIMARY_P_PERCENT = 3
SECONDARY = 4
UNPUBLISHED = 5
STATUS_NAMES: tuple[str, ...] = (
    "published",
    "primary-frequency",
    "primary-dominance",
    "primary-p-percent",
    "secondary",
    "unpublished",
)


@dataclass(frozen=True, kw_only=True)
class DisclosureRules:
    """Statistical disclosure control rules for published park figures.

    Attributes
    ----------
    min_frequency : int
        A cell needs at least this many contributing firms (default 3; ``1`` switches the rule
        off).
    dominance : tuple of (int, float)
        ``(n, k)`` rules: the largest ``n`` firms may hold at most ``k`` % of the cell
        (default ``((1, 85.0), (2, 90.0))``; empty switches the rule off).
    p_percent : float or None
        The p % rule's ``p`` (default 10); ``None`` switches it off.
    protection_pct : float
        Protection level of every sensitive cell, in % of its value: the range an attacker can
        derive must reach at least this far above and below the true value (default 10). A
        dominance or p % cell gets its rule's own level when that is larger.
    measures : tuple of str
        Measures to protect (default all of :data:`MEASURES`).
    marker : str
        What a suppressed figure shows in text outputs (default ``"x"``); cells failing the
        minimum frequency show ``"<K"`` (``"<3"``).

    Examples
    --------
    >>> DisclosureRules().dominance
    ((1, 85.0), (2, 90.0))
    >>> DisclosureRules(min_frequency=5, p_percent=None).frequency_marker
    '<5'
    """

    min_frequency: int = 3
    dominance: tuple[tuple[int, float], ...] = ((1, 85.0), (2, 90.0))
    p_percent: float | None = 10.0
    protection_pct: float = 10.0
    measures: tuple[str, ...] = field(default=MEASURES)
    marker: str = "x"

    def __post_init__(self) -> None:
        k = self.min_frequency
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ParkgeoError(f"min_frequency must be a whole number >= 1, got {k!r}")
        rules: list[tuple[int, float]] = []
        for rule in self.dominance:
            try:
                n, pct = rule
            except (TypeError, ValueError):
                raise ParkgeoError(
                    f"a dominance rule is a pair (n, k) such as (1, 85), got {rule!r}"
                ) from None
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ParkgeoError(f"dominance n must be a whole number >= 1, got {n!r}")
            if not _is_number(pct) or not 0 < pct < 100:
                raise ParkgeoError(f"dominance k must be a percentage in (0, 100), got {pct!r}")
            rules.append((n, float(pct)))
        object.__setattr__(self, "dominance", tuple(rules))
        if self.p_percent is not None and (
            not _is_number(self.p_percent) or not 0 < self.p_percent < 100
        ):
            raise ParkgeoError(f"p_percent must be in (0, 100) or None, got {self.p_percent!r}")
        if not _is_number(self.protection_pct) or not 0 < self.protection_pct <= 100:
            raise ParkgeoError(f"protection_pct must be in (0, 100], got {self.protection_pct!r}")
        measures = tuple(self.measures)
        unknown = [m for m in measures if m not in MEASURES]
        if unknown or not measures:
            raise ParkgeoError(
                f"measures must be among {', '.join(MEASURES)}, got {list(measures)!r}"
            )
        object.__setattr__(self, "measures", measures)
        if not isinstance(self.marker, str) or not self.marker.strip():
            raise ParkgeoError(f"marker must be a non-empty text such as 'x', got {self.marker!r}")

    @property
    def top_n(self) -> int:
        """How many largest contributions per cell the rules need."""
        return max([2, *(n for n, _ in self.dominance)])

    @property
    def frequency_marker(self) -> str:
        """Marker of a cell failing the minimum frequency, e.g. ``"<3"``."""
        return f"<{self.min_frequency}"

    def describe(self) -> str:
        """The rules in one line, for logs, footnotes and the audit."""
        parts = [f"at least {self.min_frequency} firms per cell"]
        parts += [f"largest {n} firm(s) at most {k:g}%" for n, k in self.dominance]
        if self.p_percent is not None:
            parts.append(f"p% rule p={self.p_percent:g}")
        parts.append(f"protection {self.protection_pct:g}% of the value")
        return "; ".join(parts)


def _is_number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(float(value))
    )


def rules_from_mapping(section: Mapping[str, Any], *, source: str) -> DisclosureRules:
    """:class:`DisclosureRules` from a ``[disclosure]`` TOML table (unknown keys are errors)."""
    known = {"min_frequency", "dominance", "p_percent", "protection_pct", "measures", "marker"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ParkgeoError(
            f"{source}: unknown key(s) {', '.join(unknown)} in [disclosure]; known: "
            f"{', '.join(sorted(known))}"
        )
    values: dict[str, Any] = dict(section)
    if "dominance" in values:
        rules = values["dominance"]
        if not isinstance(rules, Sequence) or isinstance(rules, str):
            raise ParkgeoError(
                f"{source}: dominance must be a list of [n, k] pairs, e.g. [[1, 85], [2, 90]]"
            )
        values["dominance"] = tuple(tuple(r) if isinstance(r, Sequence) else r for r in rules)
    if values.get("p_percent") is False:
        values["p_percent"] = None
    if "measures" in values:
        values["measures"] = tuple(values["measures"])
    try:
        return DisclosureRules(**values)
    except ParkgeoError as exc:
        raise ParkgeoError(f"{source}: {exc}") from None


def read_disclosure_rules(path: str | Path) -> DisclosureRules:
    """Read the ``[disclosure]`` table of a TOML file (other tables are left to their readers).

    Parameters
    ----------
    path : str or pathlib.Path
        TOML file with a ``[disclosure]`` table: ``min_frequency``, ``dominance`` (list of
        ``[n, k]``), ``p_percent`` (``false`` switches it off), ``protection_pct``,
        ``measures``, ``marker``. A missing key keeps its default.

    Returns
    -------
    DisclosureRules

    Raises
    ------
    ParkgeoError
        If the file cannot be read or parsed, has no ``[disclosure]`` table, or holds an
        unknown key or a bad value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.toml"
    >>> _ = p.write_text("[disclosure]\\nmin_frequency = 5\\ndominance = [[1, 80]]\\n")
    >>> rules = read_disclosure_rules(p)
    >>> rules.min_frequency, rules.dominance, rules.p_percent
    (5, ((1, 80.0),), 10.0)
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,unused-ignore]

    path = Path(path)
    try:
        with path.open("rb") as fh:
            document = tomllib.load(fh)
    except OSError as exc:
        raise ParkgeoError(f"cannot read disclosure rules {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParkgeoError(f"disclosure rules {path} are not valid TOML: {exc}") from None
    section = document.get("disclosure")
    if not isinstance(section, Mapping):
        raise ParkgeoError(
            f"{path}: no [disclosure] table; add one, e.g. [disclosure] then min_frequency = 3"
        )
    return rules_from_mapping(section, source=str(path))


def primary(
    n: NDArray[np.int64],
    value: NDArray[np.float64],
    magnitude: NDArray[np.float64],
    top: NDArray[np.float64],
    rules: DisclosureRules,
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Primary status and protection level of each cell.

    Parameters
    ----------
    n : numpy.ndarray
        Contributing firms per cell.
    value : numpy.ndarray
        Cell totals (signed).
    magnitude : numpy.ndarray
        Sums of the contributions' magnitudes (equal to ``value`` for non-negative measures).
    top : numpy.ndarray
        ``(cells, >= rules.top_n)`` largest contribution magnitudes, descending, zero-padded.
    rules : DisclosureRules

    Returns
    -------
    status : numpy.ndarray
        :data:`PUBLISHED` or the first rule failed (frequency, then dominance, then p %).
    level : numpy.ndarray
        Protection level of the sensitive cells (0 for the others).

    Examples
    --------
    >>> import numpy as np
    >>> top = np.array([[90.0, 1.0], [40.0, 30.0], [5.0, 0.0]])
    >>> status, level = primary(np.array([20, 20, 1]), np.array([100.0, 100.0, 5.0]),
    ...                         np.array([100.0, 100.0, 5.0]), top, DisclosureRules())
    >>> status.tolist(), level.round(2).tolist()
    ([2, 0, 1], [10.0, 0.0, 0.88])
    """
    status = np.zeros(len(n), dtype=np.int8)
    required = np.zeros(len(n))
    pct_level = np.abs(value) * rules.protection_pct / 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        if rules.p_percent is not None:
            x1, x2 = top[:, 0], top[:, 1]
            remainder = magnitude - x1 - x2
            need = rules.p_percent / 100.0 * x1 - remainder
            hit = (n > 0) & (need > 1e-9 * np.maximum(magnitude, 1.0))
            status[hit] = PRIMARY_P_PERCENT
            required = np.where(hit, np.maximum(required, need), required)
        for count, k in sorted(rules.dominance, reverse=True):
            largest = top[:, :count].sum(axis=1)
            need = 100.0 / k * largest - magnitude
            hit = (n > 0) & (need > 1e-9 * np.maximum(magnitude, 1.0))
            status[hit] = PRIMARY_DOMINANCE
            required = np.where(hit, np.maximum(required, need), required)
    small = (n > 0) & (n < rules.min_frequency)
    status[small] = PRIMARY_FREQUENCY
    sensitive = status != PUBLISHED
    level = np.where(sensitive, np.maximum(required, pct_level), 0.0)
    return status, level
