"""The plan's targets (baseline year, target year, per-figure targets) read and checked."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from parkgeo._errors import ParkgeoError

log = logging.getLogger("parkgeo")

__all__ = ["TRACKED", "Targets", "read_targets", "resolve_targets"]

TRACKED: tuple[str, ...] = ("profit", "tax_per_ha", "energy_per_value_added", "labour_productivity")
"""Figures reported as change against the baseline year, progress and status."""


@dataclass(frozen=True)
class Targets:
    """The plan's targets: relative changes from ``baseline_year`` to be reached by
    ``target_year``.

    The defaults are Tianjin's 2014 Transformation and Upgrade Action Plan: total profits
    +50%, tax per hectare in industrial parks +50%, energy per unit of value added -15%, over
    three years from 2013. ``None`` means no target for that figure (its change is still
    reported).

    Attributes
    ----------
    profit, tax_per_ha, energy_per_value_added, labour_productivity : float or None
        Target change as a fraction (``0.5`` = +50%, ``-0.15`` = -15%).
    baseline_year : int
        Year the changes are measured from.
    target_year : int or None
        Year the targets are due; ``None`` means ``baseline_year + 3``.

    Examples
    --------
    >>> Targets().target_year_or_default
    2016
    >>> Targets(profit=0.3, baseline_year=2015).target_year_or_default
    2018
    """

    profit: float | None = 0.50
    tax_per_ha: float | None = 0.50
    energy_per_value_added: float | None = -0.15
    labour_productivity: float | None = None
    baseline_year: int = 2013
    target_year: int | None = None

    def __post_init__(self) -> None:
        for name in TRACKED:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParkgeoError(
                    f"target {name} must be a number (e.g. 0.5 for +50%) or None, got {value!r}"
                )
            if not math.isfinite(value) or value == 0:
                raise ParkgeoError(
                    f"target {name} must be a finite, non-zero change (e.g. 0.5 for +50%), "
                    f"got {value!r}"
                )
        for name in ("baseline_year", "target_year"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ParkgeoError(f"{name} must be a whole year such as 2013, got {value!r}")
        if self.target_year is not None and self.target_year <= self.baseline_year:
            raise ParkgeoError(
                f"target_year ({self.target_year}) must come after baseline_year "
                f"({self.baseline_year})"
            )

    @property
    def target_year_or_default(self) -> int:
        """``target_year``, or three years after the baseline when not set."""
        return self.target_year if self.target_year is not None else self.baseline_year + 3


def read_targets(path: str | Path) -> Targets:
    """Read plan targets from a TOML file (see ``docs/targets.example.toml``).

    Top-level keys ``baseline_year`` and ``target_year``; a ``[targets]`` table with
    ``profit``, ``tax_per_ha``, ``energy_per_value_added`` and ``labour_productivity`` as
    fractions (``0.5`` = +50%). A target set to ``false`` is switched off; a missing one keeps
    its default.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file.

    Returns
    -------
    Targets

    Raises
    ------
    ParkgeoError
        If the file cannot be read or parsed, or holds an unknown key or a bad value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.toml"
    >>> _ = p.write_text("baseline_year = 2014\\n[targets]\\nprofit = 0.3\\ntax_per_ha = false\\n")
    >>> read_targets(p)
    Targets(profit=0.3, tax_per_ha=None, energy_per_value_added=-0.15, labour_productivity=None, baseline_year=2014, target_year=None)
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
        raise ParkgeoError(f"cannot read targets file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParkgeoError(f"targets file {path} is not valid TOML: {exc}") from None
    return _targets_from_document(document, source=str(path))


def _targets_from_document(document: Mapping[str, Any], *, source: str) -> Targets:
    known_top = {"baseline_year", "target_year", "targets"}
    unknown = sorted(set(document) - known_top)
    if unknown:
        raise ParkgeoError(
            f"{source}: unknown key(s) {', '.join(unknown)}; expected baseline_year, target_year "
            "and a [targets] table"
        )
    values: dict[str, Any] = {}
    for name in ("baseline_year", "target_year"):
        if name in document:
            values[name] = document[name]
    table = document.get("targets", {})
    if not isinstance(table, Mapping):
        raise ParkgeoError(f"{source}: 'targets' must be a table ([targets])")
    unknown = sorted(set(table) - set(TRACKED))
    if unknown:
        raise ParkgeoError(
            f"{source}: unknown target(s) {', '.join(unknown)} in [targets]; known: "
            f"{', '.join(TRACKED)}"
        )
    for name, value in table.items():
        if value is False:
            values[name] = None
        else:
            values[name] = value
    try:
        return Targets(**values)
    except ParkgeoError as exc:
        raise ParkgeoError(f"{source}: {exc}") from None


def resolve_targets(
    targets: Targets | None, baseline_year: int | None, target_year: int | None
) -> Targets:
    plan = targets if targets is not None else Targets()
    if not isinstance(plan, Targets):
        raise ParkgeoError(f"targets must be a parkgeo.Targets, got {type(plan).__name__}")
    changes: dict[str, Any] = {}
    if baseline_year is not None:
        changes["baseline_year"] = baseline_year
    if target_year is not None:
        changes["target_year"] = target_year
    if not changes:
        return plan
    values = {f.name: getattr(plan, f.name) for f in fields(plan)}
    values.update(changes)
    # A new baseline at or after the file's target year keeps the default horizon instead.
    if (
        baseline_year is not None
        and target_year is None
        and plan.target_year is not None
        and plan.target_year <= baseline_year
    ):
        values["target_year"] = None
    return Targets(**values)
