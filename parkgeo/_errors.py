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


class ParkgeoError(ValueError):
    """Base class of every error parkgeo raises on purpose."""


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
