"""parkgeo: which industrial parks earn their land, which burn too much energy, and which
industry clusters each park is missing."""

from __future__ import annotations

from parkgeo._errors import (
    CRSError,
    DataValidationError,
    GeometryError,
    InputFormatError,
    MissingAssetError,
    ParkgeoError,
    SchemaError,
)

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "DataValidationError",
    "GeometryError",
    "InputFormatError",
    "MissingAssetError",
    "ParkgeoError",
    "SchemaError",
    "__version__",
]
