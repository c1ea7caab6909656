"""Locate parkgeo's bundled data files.

The repository keeps reference tables and the Tianjin sample in ``data/`` at the top level. An
installed wheel carries the same directory as ``parkgeo/data`` (``pyproject.toml`` force-includes
it), so both layouts are tried: the installed one first, then the source checkout.
"""

from __future__ import annotations

from pathlib import Path

from parkgeo._errors import MissingAssetError

__all__ = ["data_dir", "data_path"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_CANDIDATE_DIRS = (_PACKAGE_DIR / "data", _PACKAGE_DIR.parent / "data")


def data_dir() -> Path:
    """Return the directory holding parkgeo's bundled data.

    Returns
    -------
    pathlib.Path
        ``parkgeo/data`` in an installed wheel, else ``data/`` of the source checkout.

    Raises
    ------
    MissingAssetError
        If neither directory exists (a broken installation).
    """
    for candidate in _CANDIDATE_DIRS:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in _CANDIDATE_DIRS)
    raise MissingAssetError(
        f"parkgeo's bundled data directory is missing (tried {tried}); "
        "reinstall parkgeo (pip install --force-reinstall parkgeo) or run from a full source checkout."
    )


def data_path(name: str) -> Path:
    """Return the path of a bundled data file, checking that it exists.

    Parameters
    ----------
    name : str
        File name relative to the data directory, e.g. ``"gbt4754_2017_industry_classification.csv"``.

    Returns
    -------
    pathlib.Path
        Absolute path of the file.

    Raises
    ------
    MissingAssetError
        If the file is not there (a :class:`~parkgeo.ParkgeoError`).

    Examples
    --------
    >>> data_path("gbt4754_2017_industry_classification.csv").name
    'gbt4754_2017_industry_classification.csv'
    """
    for candidate in _CANDIDATE_DIRS:
        path = candidate / name
        if path.is_file():
            return path
    tried = ", ".join(str(c / name) for c in _CANDIDATE_DIRS)
    raise MissingAssetError(
        f"bundled data file {name!r} is missing (tried {tried}); "
        "reinstall parkgeo or restore the file from the source repository."
    )
