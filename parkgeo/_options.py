"""The options of an enterprise run, built and checked once at the entry point.

Every public entry point (:func:`parkgeo.io.read_enterprises`, :mod:`parkgeo.scale`) turns
its keyword arguments into these frozen objects before reading a byte; the pipeline below
takes them as they are. ``coord_system`` is normalised here and nowhere else in the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from parkgeo._errors import ParkgeoError

__all__ = ["JoinOptions", "ReadOptions", "ReportOptions", "RunOptions", "whole_number"]

# Density does not read firm names: they are a third of the bytes of a typical file.
UNUSED_BY_DENSITY = ("name",)


def whole_number(name: str, value: Any, *, none: bool = True) -> int | None:
    """``value`` if it is a whole number >= 1 (or None where allowed), else a ParkgeoError."""
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParkgeoError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class ReadOptions:
    """How to read and clean enterprise rows (see :func:`parkgeo.io.read_enterprises`)."""

    columns: Mapping[str, str] = field(default_factory=dict)
    coord_system: str = "wgs84"  # normalised: wgs84, cgcs2000, gcj02 or bd09
    encoding: str | None = None
    strict: bool = False
    accept_years: Any = None
    skip: tuple[str, ...] = ()  # optional canonical columns not read

    @classmethod
    def build(
        cls,
        *,
        columns: Mapping[str, str] | None = None,
        coord_system: str = "wgs84",
        encoding: str | None = None,
        strict: bool = False,
        accept_years: Any = None,
        skip: Iterable[str] = (),
    ) -> ReadOptions:
        from parkgeo._validate import parse_years
        from parkgeo.coords import normalize_coord_system

        if accept_years is not None:
            parse_years(accept_years)
        return cls(
            columns=dict(columns or {}),
            coord_system=normalize_coord_system(coord_system),
            encoding=encoding,
            strict=bool(strict),
            accept_years=accept_years,
            skip=tuple(skip),
        )


@dataclass(frozen=True)
class JoinOptions:
    """How to join enterprises to parks (see :func:`parkgeo.join.assign_parks`)."""

    near_m: float | None = None
    overlap: str = "smallest"
    priority: str | None = None

    @classmethod
    def build(
        cls,
        parks: Any,
        *,
        near_m: float | None = None,
        overlap: str = "smallest",
        priority: str | None = None,
    ) -> JoinOptions:
        """Check the options and the parks now, on no rows, rather than after a first part."""
        import pandas as pd

        from parkgeo.join import assign_parks

        options = cls(near_m=near_m, overlap=overlap, priority=priority)
        nothing = pd.DataFrame({"enterprise_id": pd.Series(dtype="str"), "lon": [], "lat": []})
        assign_parks(nothing, parks, **options.kwargs())
        return options

    def kwargs(self) -> dict[str, Any]:
        return {
            "near_m": self.near_m,
            "overlap": self.overlap,
            "priority": self.priority,
            "nearest": self.near_m is not None,
        }


@dataclass(frozen=True)
class ReportOptions:
    """What the density table reports (see :func:`parkgeo.metrics.park_metrics`)."""

    years: tuple[int, ...] | None = None
    baseline_year: int | None = None
    target_year: int | None = None
    targets: Any = None
    min_enterprises: int | None = None
    per_mu: bool = False
    industry_mix: bool = True

    @classmethod
    def build(
        cls,
        *,
        years: Iterable[int] | None = None,
        baseline_year: int | None = None,
        target_year: int | None = None,
        targets: Any = None,
        min_enterprises: int | None = None,
        per_mu: bool = False,
        industry_mix: bool = True,
    ) -> ReportOptions:
        from parkgeo._partials import check_min_enterprises
        from parkgeo._targets import resolve_targets

        resolve_targets(targets, baseline_year, target_year)
        check_min_enterprises(min_enterprises)
        return cls(
            years=None if years is None else tuple(years),
            baseline_year=baseline_year,
            target_year=target_year,
            targets=targets,
            min_enterprises=min_enterprises,
            per_mu=per_mu,
            industry_mix=industry_mix,
        )

    def kwargs(self) -> dict[str, Any]:
        return {
            "years": self.years,
            "baseline_year": self.baseline_year,
            "target_year": self.target_year,
            "targets": self.targets,
            "min_enterprises": self.min_enterprises,
            "per_mu": self.per_mu,
            "industry_mix": self.industry_mix,
        }


@dataclass(frozen=True)
class RunOptions:
    """Who runs the per-part step, and on parts of how many rows.

    ``rows``: rows per part, ``None`` for one part (the whole file). ``executor``:
    ``"serial"`` (this process), ``"process"`` (``jobs`` worker processes of this machine) or
    ``"dask"`` (a Dask cluster: ``scheduler`` or a local one of ``workers``).
    """

    rows: int | None = None
    executor: str = "serial"
    jobs: int | None = None
    threads: int | None = None
    scheduler: Any = None
    workers: int | None = None
    progress: bool | None = False
