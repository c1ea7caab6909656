"""Command-line options of disclosure control, and the one call a subcommand makes.

A subcommand that publishes the density table adds :func:`add_disclosure_arguments` to its
parser and passes its table through :func:`apply_disclosure` before writing it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import fields, replace
from typing import Any

log = logging.getLogger("parkgeo")

__all__ = [
    "add_disclosure_arguments",
    "apply_disclosure",
    "protect_from_args",
    "rules_from_args",
]


def add_disclosure_arguments(parser: argparse.ArgumentParser) -> None:
    """--protect, --disclosure TOML, the rule options, --disclosure-check and --audit."""
    group = parser.add_argument_group(
        "disclosure control",
        "withhold figures that would disclose one enterprise's data, with the complementary "
        "suppressions that stop subtraction; see docs/disclosure.md",
    )
    group.add_argument(
        "--protect",
        action="store_true",
        help="apply disclosure control (default rules: at least 3 firms per figure, the "
        "largest firm at most 85%% and the largest two at most 90%% of it, p%% rule with p=10)",
    )
    group.add_argument(
        "--disclosure",
        metavar="TOML",
        help="read the rules from the [disclosure] table of this file (implies --protect)",
    )
    group.add_argument(
        "--min-frequency",
        type=int,
        metavar="K",
        help="at least K contributing firms per published figure (default 3; implies --protect)",
    )
    group.add_argument(
        "--dominance",
        action="append",
        metavar="N:K",
        help="the largest N firms may hold at most K%% of a figure (repeatable; default 1:85 "
        "and 2:90; 'off' switches the rule off; implies --protect)",
    )
    group.add_argument(
        "--p-percent",
        metavar="P",
        help="p%% rule: a figure minus its two largest contributions must be at least P%% of the "
        "largest (default 10; 'off' switches it off; implies --protect)",
    )
    group.add_argument(
        "--protection-pct",
        type=float,
        metavar="PCT",
        help="an attacker's range for a withheld figure must reach at least PCT%% of it above "
        "and below (default 10; implies --protect)",
    )
    group.add_argument(
        "--disclosure-check",
        action="store_true",
        help="attack the output by linear programming and fail (exit 3) if any withheld figure "
        "can be recovered or narrowed to within its protection level",
    )
    group.add_argument(
        "--audit",
        metavar="PATH",
        help="write the auditor's report (every withheld figure, why, and the range an "
        "attacker gets); it holds confidential values: do not publish it (implies --protect)",
    )


def rules_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~parkgeo.disclosure.DisclosureRules` the options ask for, or ``None`` when
    no protection is asked for."""
    from parkgeo._errors import ParkgeoError
    from parkgeo._sdc_rules import DisclosureRules, read_disclosure_rules

    asked = bool(getattr(args, "protect", False)) or bool(getattr(args, "audit", None))
    rules = DisclosureRules()
    if getattr(args, "disclosure", None):
        rules = read_disclosure_rules(args.disclosure)
        asked = True
    changes: dict[str, Any] = {}
    if getattr(args, "min_frequency", None) is not None:
        changes["min_frequency"] = args.min_frequency
    elif getattr(args, "min_enterprises", None) is not None and asked:
        # --min-enterprises K with disclosure control: K is the minimum frequency.
        changes["min_frequency"] = max(rules.min_frequency, int(args.min_enterprises))
    if getattr(args, "dominance", None):
        pairs: list[tuple[int, float]] = []
        for text in args.dominance:
            if text.strip().lower() == "off":
                continue
            try:
                n, k = text.split(":")
                pairs.append((int(n), float(k)))
            except ValueError:
                raise ParkgeoError(
                    f"--dominance takes N:K such as 1:85 (largest N firms at most K%), got {text!r}"
                ) from None
        changes["dominance"] = tuple(pairs)
    p = getattr(args, "p_percent", None)
    if p is not None:
        if str(p).strip().lower() == "off":
            changes["p_percent"] = None
        else:
            try:
                changes["p_percent"] = float(p)
            except ValueError:
                raise ParkgeoError(f"--p-percent takes a number or 'off', got {p!r}") from None
    if getattr(args, "protection_pct", None) is not None:
        changes["protection_pct"] = args.protection_pct
    if getattr(args, "min_frequency", None) is not None or any(
        k in changes for k in ("dominance", "p_percent", "protection_pct")
    ):
        asked = True
    if not asked:
        return None
    known = {f.name for f in fields(rules)}
    return replace(rules, **{k: v for k, v in changes.items() if k in known})


def _baseline_year(args: argparse.Namespace) -> int:
    from parkgeo.metrics import Targets, read_targets

    if getattr(args, "baseline_year", None) is not None:
        return int(args.baseline_year)
    targets = read_targets(args.targets) if getattr(args, "targets", None) else Targets()
    return targets.baseline_year


def _contributions(
    args: argparse.Namespace, parks: Any, assigned: Any, measures: tuple[str, ...], top_n: int
) -> Any:
    """Contributions from the joined firms, or from a second batched pass over the file."""
    from parkgeo._sdc_cells import contributions_of

    if assigned is not None:
        return contributions_of(assigned, parks, measures=measures, top_n=top_n)
    from parkgeo._commands._common import join_options, read_mapping
    from parkgeo.join import assign_parks
    from parkgeo.scale import DEFAULT_BATCH_ROWS, iter_enterprise_batches

    log.info("disclosure control: reading %s again for the firms' contributions", args.enterprises)
    total = None
    batch_rows = getattr(args, "batch_rows", None) or getattr(args, "partition_rows", None)
    for batch in iter_enterprise_batches(
        args.enterprises,
        batch_rows=batch_rows or DEFAULT_BATCH_ROWS,
        columns=read_mapping(args, "enterprises"),
        coord_system=args.coord_system,
        encoding=args.encoding,
        strict=args.strict,
        skip_columns=("name",),
        progress=False,
    ):
        joined = assign_parks(batch.data, parks, nearest=False, **join_options(args)).assigned
        part = contributions_of(joined, parks, measures=measures, top_n=top_n)
        total = part if total is None else total.merge(part)
    return total


def _check_consistent(table: Any, contributions: Any) -> None:
    """The contributions must be of the same firms as the table (same city totals)."""
    import numpy as np

    from parkgeo._errors import ParkgeoError

    for measure in ("tax", "energy_tce", "employees"):
        if measure not in contributions.measures or measure not in table.columns:
            continue
        rows = table[table["park_id"] == "ALL"]
        for year, value in zip(rows["year"], rows[measure], strict=True):
            k = int(np.searchsorted(contributions.years, int(year)))
            mine = float(contributions.value[measure][:, k].sum())
            if np.isfinite(value) and not np.isclose(mine, value, rtol=1e-6, atol=1e-6):
                raise ParkgeoError(
                    f"disclosure control: the firms' {measure} in {year} sums to {mine:,.2f} "
                    f"but the table says {value:,.2f}; the table and the firms must come from "
                    "the same input"
                )


def apply_disclosure(
    table: Any,
    args: argparse.Namespace,
    *,
    parks: Any,
    assigned: Any = None,
    text: bool | None = None,
) -> Any:
    """Protect, audit and check a density table as the command-line options ask.

    Parameters
    ----------
    table : pandas.DataFrame
        The density table about to be written.
    args : argparse.Namespace
        Parsed options (:func:`add_disclosure_arguments` plus the density input options).
    parks : geopandas.GeoDataFrame
    assigned : pandas.DataFrame, optional
        The joined firms; when None (batched or Dask runs) the enterprise file is read again
        in batches.
    text : bool, optional
        Return the table with markers in place of withheld figures (default: for CSV and
        JSON output); False returns :attr:`ProtectedTable.table` (NaN, with the markers and
        footnotes in ``attrs``), which the report and the maps read.

    Returns
    -------
    pandas.DataFrame
        The table to write: unchanged without disclosure options; else the protected table,
        with markers (``x``, ``<3``) in place of withheld figures for CSV and JSON output.

    Raises
    ------
    parkgeo.disclosure.DisclosureError
        Under ``--disclosure-check`` when a withheld figure can be recovered or narrowed to
        within its protection level (exit status 3).
    """
    from parkgeo._commands._common import output_format

    protected = protect_from_args(table, args, parks=parks, assigned=assigned)
    if protected is None:
        return table
    if text is None:
        text = output_format(args) in ("csv", "json")
    return protected.text_frame() if text else protected.table


def protect_from_args(
    table: Any,
    args: argparse.Namespace,
    *,
    parks: Any,
    assigned: Any = None,
    default: bool = False,
) -> Any:
    """The :class:`~parkgeo.disclosure.ProtectedTable` the options ask for (None without
    protection), after writing ``--audit`` and running ``--disclosure-check``.

    ``default=True`` protects with the default rules unless ``args.no_protect`` (``parkgeo
    demo``: what it writes is meant to be published).
    """
    from parkgeo._sdc_rules import DisclosureRules

    rules = rules_from_args(args)
    if rules is None and default and not getattr(args, "no_protect", False):
        rules = DisclosureRules()
    check = bool(getattr(args, "disclosure_check", False))
    if rules is None and not check:
        return None
    # Imported only when asked for: the attack pulls in scipy.sparse (~0.2 s of start-up).
    from parkgeo._sdc_check import attack_published
    from parkgeo.disclosure import DisclosureError, protect
    from parkgeo.io import write_table

    attack_rules = rules if rules is not None else DisclosureRules()
    baseline = _baseline_year(args)
    contributions = _contributions(args, parks, assigned, attack_rules.measures, attack_rules.top_n)
    _check_consistent(table, contributions)
    published = table
    protected = None
    if rules is not None:
        protected = protect(table, contributions, parks, rules=rules, baseline_year=baseline)
        published = protected.table
        if getattr(args, "audit", None):
            report = protected.audit()
            write_table(report, args.audit)
            log.warning(
                "auditor's report (%d withheld figures) written to %s: it holds confidential "
                "values, do not publish it",
                len(report),
                args.audit,
            )
        log.info("footnote: %s", protected.footnote())
    if check:
        attack = attack_published(
            published, contributions, parks, rules=attack_rules, baseline_year=baseline
        )
        leaks = attack[~attack["protected"].astype(bool)]
        if len(leaks):
            first = leaks.iloc[0]
            raise DisclosureError(
                f"disclosure check failed: {len(leaks)} confidential figure(s) can be recovered "
                f"or narrowed too closely, e.g. {first['measure']} of {first['row']} in "
                f"{int(first['year'])} ({first['status']}) lies in [{first['lower']:,.2f}, "
                f"{first['upper']:,.2f}], narrower than +/-{first['level']:,.2f}; "
                + ("rerun with --protect" if protected is None else "report this as a bug")
            )
        log.info(
            "disclosure check passed: %d sensitive figure(s) attacked, none recovered or "
            "narrowed within its protection level",
            len(attack),
        )
    return protected
