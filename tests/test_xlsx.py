"""The one Excel writer (parkgeo/_xlsx.py), read back with openpyxl."""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from parkgeo import _xlsx
from parkgeo._errors import ParkgeoError
from parkgeo.io import write_table


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "enterprise_id": ["911201160000000001", "91120116MA05K8XX3L", None],
            "park_id": pd.array([7, 12, None], dtype="Int64"),  # numeric ids stay text
            "name": ['=HYPERLINK("http://x","y")', "甲公司 & <乙>", "\x01bad\x0bchars"],
            "tax": [1.5, np.nan, np.inf],
            "employees": np.array([3, 2**62 + 1, 0], dtype=np.int64),  # exact, not via float
            "listed": [True, False, True],
            "when": pd.to_datetime(["2016-01-02 03:04:05", None, "1999-12-31 00:00:00"]),
            "mixed": [1, "a", 2.5],
        }
    )


def test_sheets_read_back_with_openpyxl(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    parks = pd.DataFrame({"park_id": ["P1"], "area_ha": [12.25]})
    _xlsx.write_sheets(buffer, {"firms": _table(), "园区/汇总": parks}, headers={"tax": "纳税"})
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["firms", "园区_汇总"]
    ws = book["firms"]
    assert ws.freeze_panes == "A2"
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == [
        "enterprise_id",
        "park_id",
        "name",
        "纳税",
        "employees",
        "listed",
        "when",
        "mixed",
    ]
    assert rows[1] == [
        "911201160000000001",
        "7",
        '=HYPERLINK("http://x","y")',
        1.5,
        3,
        True,
        datetime(2016, 1, 2, 3, 4, 5),
        1,
    ]
    assert rows[2] == [
        "91120116MA05K8XX3L",
        "12",
        "甲公司 & <乙>",
        None,
        2**62 + 1,
        False,
        None,
        "a",
    ]
    assert rows[3] == [None, None, "badchars", None, 0, True, datetime(1999, 12, 31), 2.5]
    eid = ws["A2"]
    assert eid.data_type == "s" and eid.number_format == "@"
    assert ws["C2"].data_type == "s"  # text, never a formula
    xml = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml
    assert [[c.value for c in r] for r in book["园区_汇总"].iter_rows()] == [
        ["park_id", "area_ha"],
        ["P1", 12.25],
    ]


def test_same_tables_same_bytes_and_text_columns() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    table = pd.DataFrame({"代码": [1201, 1202], "x": [0.1, 0.2]})
    _xlsx.write_sheets(first, {"t": table}, text_columns=["代码"])
    _xlsx.write_sheets(second, {"t": table.copy()}, text_columns=["代码"])
    assert first.getvalue() == second.getvalue()
    ws = openpyxl.load_workbook(first).active
    assert [c.value for c in ws[2]] == ["1201", 0.1]


def test_long_cells_are_cut_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    buffer = io.BytesIO()
    with caplog.at_level(logging.WARNING, logger="parkgeo"):
        _xlsx.write_sheets(buffer, {"t": pd.DataFrame({"note": ["x" * 40_000]})}, name="t.xlsx")
    assert "t.xlsx: 1 cells were longer than Excel's 32,767 characters" in caplog.text
    assert len(openpyxl.load_workbook(buffer).active["A2"].value) == 32_767


def test_too_many_rows_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xlsx, "MAX_ROWS", 3)
    with pytest.raises(ParkgeoError, match="sheet 'big' has 3 rows, more than an Excel sheet"):
        _xlsx.write_sheets(io.BytesIO(), {"big": pd.DataFrame({"a": [1, 2, 3]})})


def test_write_table_xlsx_is_atomic_and_keeps_a_named_index(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old")
    table = pd.DataFrame({"tax": [2.0]}, index=pd.Index([41], name="source_row"))
    write_table(table, target, zh_headers=True)
    ws = openpyxl.load_workbook(target).active
    assert [[c.value for c in r] for r in ws.iter_rows()] == [
        ["源数据行号", "纳税总额(万元)"],
        [41, 2.0],
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]  # no temporary left
