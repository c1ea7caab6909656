"""Lint, format and type checks run as part of the suite, so CI enforces them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extra, pip install '.[test]'")
    return [found]


def test_ruff_lint() -> None:
    result = subprocess.run(
        [*_tool("ruff"), "check", "parkgeo", "tests", "scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = subprocess.run(
        [*_tool("ruff"), "format", "--check", "parkgeo", "tests", "scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = subprocess.run(
        [*_tool("mypy"), "--strict", "parkgeo"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_table_matches_all() -> None:
    import parkgeo

    assert sorted(parkgeo.__all__) == sorted([*parkgeo._PUBLIC, "__version__"])
    for name in parkgeo.__all__:
        assert getattr(parkgeo, name) is not None


def test_import_is_cheap() -> None:
    code = "import sys, parkgeo, parkgeo.cli; print(sorted(m for m in ('pandas', 'numpy', 'shapely', 'pyproj', 'pyarrow') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
