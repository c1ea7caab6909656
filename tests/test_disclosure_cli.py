"""`parkgeo density --protect / --disclosure-check / --audit` end to end: the CSV output
carries no withheld raw figure, and the check fails on the raw table (exit 3)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _thinned import thinned_firms

from parkgeo import load_tianjin
from parkgeo.cli import main


@lru_cache(maxsize=1)
def _inputs_dir() -> Path:
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="parkgeo-sdc-"))
    sample = load_tianjin()
    firms = thinned_firms(sample)
    firms.to_csv(root / "firms.csv", index=False)
    sample.parks.to_file(root / "parks.geojson", driver="GeoJSON")
    return root


def _run(*extra: str, out: str = "out.csv") -> tuple[int, Path]:
    root = _inputs_dir()
    path = root / out
    code = main(
        [
            "density",
            "--parks",
            str(root / "parks.geojson"),
            "--enterprises",
            str(root / "firms.csv"),
            "-o",
            str(path),
            *extra,
        ]
    )
    return code, path


def _figures(text: str) -> set[str]:
    return set(text.replace('"', "").replace("\n", ",").split(","))


def test_density_csv_carries_no_withheld_figure(tmp_path: Path) -> None:
    code, raw_path = _run(out="raw.csv")
    assert code == 0
    audit = tmp_path / "audit.csv"
    code, path = _run("--protect", "--disclosure-check", "--audit", str(audit))
    assert code == 0
    text = path.read_text(encoding="utf-8")
    published = pd.read_csv(io.StringIO(text), dtype=str)
    raw = pd.read_csv(raw_path, dtype=str)
    report = pd.read_csv(audit)
    assert {"primary-frequency", "primary-dominance", "secondary"} <= set(report["status"])
    # every withheld figure shows a marker, never blank or zero
    small = load_tianjin().parks["park_id"].iloc[0]
    assert set(published.loc[published["park_id"] == small, "tax"]) == {"<3"}
    withheld = published["tax"].isin(["x", "<3"])
    assert withheld.sum() >= 3 * 4
    # the raw figures of withheld cells appear nowhere in the output
    cells = _figures(text)
    columns = ["tax", "tax_per_ha", "profit", "value_added", "energy_tce", "employees"]
    leaked = []
    for column in columns:
        hidden = published[column].isin(["x", "<3"]).to_numpy()
        for value in raw.loc[hidden, column].dropna():
            if value in cells and float(value) != 0:
                leaked.append((column, value))
    assert not leaked
    # the raw output is readable as numbers where published
    shown = ~withheld & raw["tax"].notna()
    np.testing.assert_allclose(
        published.loc[shown, "tax"].astype(float), raw.loc[shown, "tax"].astype(float)
    )


def test_check_fails_on_the_raw_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run("--disclosure-check", out="check.csv")
    assert code == 3
    err = capsys.readouterr().err
    assert "disclosure check failed" in err and "rerun with --protect" in err
    code, _ = _run("--min-enterprises", "3", "--disclosure-check", out="check2.csv")
    assert code == 3  # blanking small parks alone is undone by subtraction


def test_rules_from_toml_and_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "rules.toml"
    config.write_text("[disclosure]\nmin_frequency = 3\ndominance = [[1, 95]]\np_percent = false\n")
    code, path = _run("--disclosure", str(config), "--disclosure-check", out="toml.csv")
    assert code == 0
    published = pd.read_csv(path, dtype=str)
    dominated = load_tianjin().parks["park_id"].iloc[1]
    # 90% is under the 95% threshold: the dominant park's tax may be published
    assert not published.loc[published["park_id"] == dominated, "tax"].isin(["x"]).all()
    code, path = _run("--dominance", "1:85", "--format", "parquet", out="p.parquet")
    assert code == 0
    frame = pd.read_parquet(path)
    assert frame["tax"].dtype == np.float64
    assert frame.loc[frame["park_id"] == dominated, "tax"].isna().all()
    assert frame.loc[frame["park_id"] == dominated, "disclosure"].str.contains("tax=").all()
    code, _ = _run("--dominance", "85", out="bad.csv")
    assert code == 3
    assert "--dominance takes N:K" in capsys.readouterr().err
