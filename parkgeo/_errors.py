"""Exceptions raised by parkgeo.

Every exception is a :class:`ParkgeoError`, itself a :class:`ValueError`, so callers that
already catch ``ValueError`` keep working. Messages say what was wrong, where (file, row or
feature, column) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "DataValidationError",
    "GeometryError",
    "InputFormatError",
    "MissingAssetError",
    "ParkgeoError",
    "SchemaError",
]


_MAX_MESSAGE = 2_000


def _bounded(message: str) -> str:
    """A message cut in the middle past 2,000 characters (a 50 MB header, a table's repr):
    the start says what, the end says how to fix it."""
    if len(message) <= _MAX_MESSAGE:
        return message
    cut = len(message) - 1_500
    return f"{message[:1_100]} ... [{cut:,} characters cut] ... {message[-400:]}"


class ParkgeoError(ValueError):
    """Base class of every error parkgeo raises on purpose."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (_bounded(args[0]), *args[1:])
        super().__init__(*args)


class InputFormatError(ParkgeoError):
    """A file cannot be read: unknown format, undecodable bytes, empty file, bad delimiter."""


class SchemaError(ParkgeoError):
    """A required column is missing, ambiguous or of an unusable type."""


class CRSError(ParkgeoError):
    """A layer has no coordinate reference system, or one that does not fit its coordinates."""


class GeometryError(ParkgeoError):
    """A park geometry is empty, zero-area, not a polygon, or its id is duplicated."""


class DataValidationError(ParkgeoError):
    """Raised under ``strict=True`` when rows would go to the reject ledger.

    Attributes
    ----------
    rejects : pandas.DataFrame
        The reject ledger that would have been returned.
    """

    def __init__(self, message: str, rejects: object = None) -> None:
        super().__init__(message)
        self.rejects = rejects


class MissingAssetError(ParkgeoError):
    """A JavaScript/CSS asset needed for an offline map is not installed."""
