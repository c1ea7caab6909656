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


def test_no_private_name_is_imported_across_modules() -> None:
    """A helper shared by modules is public within the package (no underscore), so that a
    reader knows it is used elsewhere; private modules themselves may be imported."""
    import ast

    package = ROOT / "parkgeo"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "parkgeo"
            ):
                continue
            for alias in node.names:
                is_module = (package / f"{alias.name}.py").exists() and node.module == "parkgeo"
                dunder = alias.name.startswith("__")
                if alias.name.startswith("_") and not is_module and not dunder:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}")
    assert offenders == [], offenders
