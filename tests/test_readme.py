"""The README's promises: its Python example runs, and its two commands are what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block_after(marker: str) -> str:
    match = re.search(re.escape(marker) + r"\s*```bash\n(.*?)```", README, re.S)
    assert match, f"README has no command block after {marker}"
    return match.group(1).strip()


def test_readme_has_exactly_the_two_setup_commands() -> None:
    assert _block_after("<!-- command:demo -->") == "pip install . && parkgeo demo"
    assert _block_after("<!-- command:test -->") == 'pip install ".[test]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "command:demo" in ci and "command:test" in ci


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code
    monkeypatch.chdir(tmp_path)
    (tmp_path / "maps").mkdir()
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    html = (tmp_path / "maps" / "tianjin.html").read_text(encoding="utf-8")
    assert "Tax per hectare" in html
    density = namespace["density"]
    assert set(density["park_id"]) >= {"ALL", "ALL_PARKS", "G121002"}  # type: ignore[index]
