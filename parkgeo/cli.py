"""The ``parkgeo`` command. Thin: parses options and calls the library.

Each subcommand lives in ``parkgeo/_commands/<name>.py`` with ``add_arguments(parser)`` and
``run(args) -> int``; it is imported only when chosen, so ``parkgeo density`` never pays for
scikit-learn or folium.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys
from collections.abc import Sequence

from parkgeo._errors import ParkgeoError

__all__ = ["EXIT_DATA_ERROR", "EXIT_OK", "EXIT_UNEXPECTED", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DATA_ERROR = 3

# name -> one-line help; the module is parkgeo._commands.<name>
SUBCOMMANDS: dict[str, str] = {
    "demo": "run the whole analysis on the bundled Tianjin sample",
    "join": "assign enterprises to parks; write the assignment and its ledgers",
    "density": "per-park tax, energy and productivity per hectare, with target progress",
    "clusters": "spatial clusters of each industry",
    "gaps": "industry clusters each park is missing, with reasons",
    "site": "rank parks (or candidate points) for a new firm of an industry",
    "map": "write the planner's interactive offline map",
    "report": "write the plan-progress report (offline HTML, A4 print, optional PDF)",
    "evaluate": "per-mu benefit evaluation (亩均效益评价): grade firms A-D, find low-efficiency land",
    "check": "data health report: rows, columns, coordinate system, years, suspicious values",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser; with ``only``, import just that subcommand's module."""
    parser = _Parser(
        prog="parkgeo",
        description="Industrial-park land productivity, energy intensity and missing clusters.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, help_text in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        add_global_options(sp)
        if only is None or only == name:
            module = importlib.import_module(f"parkgeo._commands.{name}")
            module.add_arguments(sp)
    return parser


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """Options every subcommand takes."""
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on error")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress output, only errors"
    )


_MAX_LINE = 500


def _one_line(text: str) -> str:
    """One line of at most ~500 characters: a 50 MB header must not become the message."""
    text = " ".join(text.split("\n")).replace("\r", " ")
    if len(text) <= _MAX_LINE:
        return text
    cut = len(text) - 420
    return f"{text[:300]} ... [{cut:,} characters cut] ... {text[-120:]}"


def _os_message(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return (
            "out of memory: the input is larger than this machine can hold at once; "
            "try --batch-rows N (density), or a machine with more memory"
        )
    assert isinstance(exc, OSError)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"disk full: cannot write {exc.filename} (no space left on the device); free space "
            "or write elsewhere"
        )
    if exc.filename is not None:
        what = {
            errno.EISDIR: "is a directory, not a file",
            errno.ENOENT: "does not exist",
            errno.EACCES: "cannot be opened: permission denied",
            errno.ENOTDIR: "is not a valid path (a part of it is not a directory)",
        }.get(exc.errno or 0, f"cannot be read or written ({exc.strerror})")
        return f"{exc.filename} {what}; check the path"
    return str(exc) or type(exc).__name__


def _is_users(exc: BaseException) -> bool:
    """An I/O problem with a path the user gave (or a full disk, or too little memory for
    the input) is the input's, exit 3; anything else is unexpected."""
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, OSError) and (
        exc.filename is not None or exc.errno in (errno.ENOSPC, errno.EDQUOT)
    )


def _check_output_paths(args: argparse.Namespace) -> None:
    from parkgeo._commands._common import check_output_paths

    check_output_paths(args)


def _version() -> str:
    from parkgeo import __version__

    return f"parkgeo {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Without a subcommand (--version, --help) no command module is imported: start-up stays cheap.
    chosen = next((a for a in args_list if a in SUBCOMMANDS), "")
    parser = build_parser(only=chosen)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="parkgeo: %(message)s",
        stream=sys.stderr,
    )
    module = importlib.import_module(f"parkgeo._commands.{args.command}")
    try:
        _check_output_paths(args)  # before any work: never overwrite an input or an output
        return int(module.run(args))
    except ParkgeoError as exc:
        if args.debug:
            raise
        print(_one_line(f"parkgeo {args.command}: error: {exc}"), file=sys.stderr)
        return EXIT_DATA_ERROR
    except (OSError, MemoryError) as exc:
        if args.debug:
            raise
        print(_one_line(f"parkgeo {args.command}: error: {_os_message(exc)}"), file=sys.stderr)
        return EXIT_DATA_ERROR if _is_users(exc) else EXIT_UNEXPECTED
    except KeyboardInterrupt:
        print(f"parkgeo {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            _one_line(
                f"parkgeo {args.command}: unexpected error ({type(exc).__name__}: {exc}); "
                "rerun with --debug for the traceback and report it"
            ),
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
