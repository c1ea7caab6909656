"""Bad inputs of the enterprise readers (issue 11): kinds that real registry exports show.

Appended to the catalogue in ``tests/_bad_inputs.py`` (:data:`READER_CASES`), so each runs
through the library, ``parkgeo density`` and every backend like the others; documented in
``docs/bad-inputs.md`` under "Enterprise readers".
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import lzma
import re
import zipfile
from pathlib import Path
from typing import Any

from _bad_inputs import (
    GOOD_ROWS,
    HEADER,
    Case,
    Inputs,
    both,
    enterprises_text,
    good_parks,
    kept_values,
)

E = "enterprises"
ROWS_6 = GOOD_ROWS + GOOD_ROWS.replace("E1,", "E4,").replace("E2,", "E5,").replace("E3,", "E6,")


def _excel(rows: list[list[Any]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _excel_rows(text: str) -> list[list[Any]]:
    lines = [line.split(",") for line in text.strip().splitlines()]
    return [[float(v) if re.fullmatch(r"[\d.]+", v) else v for v in row] for row in lines]


def _rewrite_member(data: bytes, member: str, change: Any) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info, change(body) if info.filename == member else body)
    return out.getvalue()


def write_stale_dimension(root: Path) -> Inputs:
    """Six rows of eight columns, but the sheet's <dimension> says A1:B2 (one row, two
    columns), as other tools leave it."""
    data = _excel(_excel_rows(HEADER + ROWS_6))
    data = _rewrite_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:B2"/>', xml),
    )
    path = root / "firms.xlsx"
    path.write_bytes(data)
    return Inputs(good_parks(root), path)


@functools.cache
def _xlsx_bomb() -> bytes:
    """A ~0.1 MB workbook whose shared strings expand to 80 MiB of one repeated letter."""
    base = _excel(_excel_rows(HEADER + GOOD_ROWS))
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/sharedStrings.xml":
                target.writestr(info, source.read(info.filename))
        with target.open("xl/sharedStrings.xml", "w") as member:
            member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            member.write(b"<si><t>")
            chunk = b"A" * (1 << 20)
            for _ in range(80):
                member.write(chunk)
            member.write(b"</t></si></sst>")
    return out.getvalue()


def write_xlsx_bomb(root: Path) -> Inputs:
    path = root / "firms.xlsx"
    path.write_bytes(_xlsx_bomb())
    return Inputs(good_parks(root), path)


@functools.cache
def _gzip_bomb() -> bytes:
    """A ~0.1 MB .csv.gz of 80 MiB of rows whose names are 4,000 repeated letters."""
    row = ("E1," + "x" * 4000 + ",C2710,117.05,39.05,2015,10,5\n").encode()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0) as stream:
        stream.write(HEADER.encode())
        block = row * 256
        for _ in range((80 << 20) // len(block)):
            stream.write(block)
    return out.getvalue()


def write_gzip_bomb(root: Path) -> Inputs:
    path = root / "firms.csv.gz"
    path.write_bytes(_gzip_bomb())
    return Inputs(good_parks(root), path)


def compressed(codec: str, *, cut: int = 0, name: str = "firms.csv") -> Any:
    """The good rows compressed with ``codec`` (``gz``/``bz2``/``xz``); ``cut`` bytes cut off."""

    def write(root: Path) -> Inputs:
        rows = "".join(
            f"G{i},x,C2710,{117.01 + i / 1000:.3f},39.05,2015,{i},1\n" for i in range(60)
        )
        data = (HEADER + rows).encode()
        packed = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[codec](data)
        path = root / f"{name}.{codec}"
        path.write_bytes(packed[: len(packed) - cut] if cut else packed)
        return Inputs(good_parks(root), path)

    return write


def write_corrupt_xlsx(root: Path) -> Inputs:
    """A workbook whose sheet's deflate stream is damaged (bytes flipped inside it)."""
    data = bytearray(_excel(_excel_rows(HEADER + GOOD_ROWS * 50)))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    for k in range(40):
        data[start + k] ^= 0x55
    path = root / "firms.xlsx"
    path.write_bytes(bytes(data))
    return Inputs(good_parks(root), path)


def write_xlsx_duplicate_header(root: Path) -> Inputs:
    """Two columns headed "tax", one of them named by the mapping: which one is meant?"""
    rows = _excel_rows(HEADER + GOOD_ROWS)
    rows[0].append("tax")
    for row in rows[1:]:
        row.append(99.0)
    path = root / "firms.xlsx"
    path.write_bytes(_excel(rows))
    mapping = root / "columns.toml"
    mapping.write_text('[enterprises]\ntax = "tax"\n', encoding="utf-8")
    return Inputs(good_parks(root), path, {"columns": {"tax": "tax"}}, ("--columns", str(mapping)))


def write_two_fields_one_column(root: Path) -> Inputs:
    path = root / "firms.csv"
    path.write_text(HEADER.replace("tax", "税负") + GOOD_ROWS, encoding="utf-8")
    mapping = root / "columns.toml"
    mapping.write_text('[enterprises]\ntax = "税负"\nprofit = "税负"\n', encoding="utf-8")
    return Inputs(
        good_parks(root),
        path,
        {"columns": {"tax": "税负", "profit": "税负"}},
        ("--columns", str(mapping)),
    )


def write_unknown_encoding(root: Path) -> Inputs:
    path = root / "firms.csv"
    path.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    return Inputs(good_parks(root), path, {"encoding": "gbk-2000"}, ("--encoding", "gbk-2000"))


def _parquet(frame: Any, path: Path, **options: Any) -> None:
    frame.to_parquet(path, **options)


def write_parquet_control_character(root: Path) -> Inputs:
    import pandas as pd

    frame = pd.read_csv(io.StringIO(HEADER + GOOD_ROWS), dtype=str)
    extra = frame.iloc[[0]].assign(enterprise_id="E9\x00x", name="坏公司")
    path = root / "firms.parquet"
    _parquet(pd.concat([frame, extra], ignore_index=True), path)
    return Inputs(good_parks(root), path)


def write_corrupt_parquet_pages(root: Path) -> Inputs:
    """Valid footer and schema, damaged column pages (bytes flipped in the first pages)."""
    import pandas as pd

    frame = pd.read_csv(io.StringIO(HEADER + GOOD_ROWS * 300), dtype=str)
    frame["enterprise_id"] = [f"E{i}" for i in range(len(frame))]
    buffer = io.BytesIO()
    _parquet(frame, buffer, compression="snappy")
    data = bytearray(buffer.getvalue())
    for k in range(200, 1200):
        data[k] ^= 0xA5
    path = root / "firms.parquet"
    path.write_bytes(bytes(data))
    return Inputs(good_parks(root), path)


def write_geoparquet_unknown_crs(root: Path) -> Inputs:
    import geopandas as gpd
    import pyarrow.parquet as pq
    import shapely

    frame = gpd.GeoDataFrame(
        {"enterprise_id": ["E1", "E2"], "year": [2015, 2015]},
        geometry=[shapely.Point(117.05, 39.05), shapely.Point(117.06, 39.04)],
        crs="EPSG:4326",
    )
    path = root / "firms.parquet"
    frame.to_parquet(path)
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"geo"])
    meta["columns"]["geometry"]["crs"] = {"type": "NoSuchCRS", "name": "local grid"}
    table = table.replace_schema_metadata({**table.schema.metadata, b"geo": json.dumps(meta)})
    pq.write_table(table, path)
    return Inputs(good_parks(root), path)


def ids_merged(ids: list[str]) -> Any:
    def check(loaded: Any) -> None:
        merged = loaded.data.attrs["conversions"]["merged_ids"]
        assert merged["n"] == 1, merged
        assert loaded.data["enterprise_id"].tolist() == ids

    return check


def columns_reported(found: str, unused: dict[str, str | None]) -> Any:
    def check(loaded: Any) -> None:
        attrs = loaded.data.attrs
        assert found in attrs["columns"], attrs
        assert attrs["columns_unused"] == unused, attrs

    return check


ROW = "E4,x,C2710,117.05,39.05,2015,{tax},1\n"

READER_CASES: tuple[Case, ...] = (
    # -- rows must be the rows in the sheet
    Case(
        "xlsx_stale_dimension",
        E,
        "repaired",
        "every row read (a stale <dimension> is not trusted)",
        (),
        write_stale_dimension,
        check=kept_values("enterprise_id", ["E1", "E2", "E3", "E4", "E5", "E6"]),
    ),
    # -- decompressed size is bounded; damaged compressed data is the file's fault
    Case(
        "xlsx_bomb",
        E,
        "error",
        "InputFormatError",
        ("firms.xlsx", "too large when decompressed", "sharedStrings"),
        write_xlsx_bomb,
        exit_code=3,
    ),
    Case(
        "gzip_bomb_csv",
        E,
        "error",
        "InputFormatError",
        ("firms.csv.gz", "too large when decompressed"),
        write_gzip_bomb,
        exit_code=3,
    ),
    Case(
        "truncated_gzip_csv",
        E,
        "error",
        "InputFormatError",
        ("firms.csv.gz", "truncated or corrupt"),
        compressed("gz", cut=20),
        exit_code=3,
    ),
    Case(
        "truncated_bz2_csv",
        E,
        "error",
        "InputFormatError",
        ("firms.csv.bz2", "truncated or corrupt"),
        compressed("bz2", cut=20),
        exit_code=3,
    ),
    Case(
        "truncated_xz_csv",
        E,
        "error",
        "InputFormatError",
        ("firms.csv.xz", "truncated or corrupt"),
        compressed("xz", cut=20),
        exit_code=3,
    ),
    Case(
        "gzip_csv",
        E,
        "repaired",
        "decompressed while read",
        (),
        compressed("gz"),
        check=lambda loaded: _n_kept(loaded, 60),
    ),
    Case(
        "corrupt_xlsx_deflate",
        E,
        "error",
        "InputFormatError",
        ("firms.xlsx", "not a readable .xlsx"),
        write_corrupt_xlsx,
        exit_code=3,
    ),
    Case(
        "corrupt_parquet_pages",
        E,
        "error",
        "InputFormatError",
        ("firms.parquet", "not a readable Parquet file"),
        write_corrupt_parquet_pages,
        exit_code=3,
    ),
    Case(
        "geoparquet_unknown_crs",
        E,
        "error",
        "CRSError",
        ("firms.parquet", "CRS"),
        write_geoparquet_unknown_crs,
        exit_code=3,
    ),
    Case(
        "unknown_encoding_option",
        E,
        "error",
        "InputFormatError",
        ("firms.csv", "unknown text encoding", "gbk-2000"),
        write_unknown_encoding,
        exit_code=3,
    ),
    # -- columns: recognised, reported, never ambiguous
    Case(
        "tax_header_shuifei_heji",
        E,
        "repaired",
        "recognised as tax; unused headers reported with their closest column",
        (),
        enterprises_text(
            "enterprise_id,name,industry,lon,lat,year,税费合计,energy_tce,应交税费\n"
            + GOOD_ROWS.replace(",5\n", ",5,1\n")
            .replace(",6\n", ",6,1\n")
            .replace(",7\n", ",7,1\n")
        ),
        check=both(
            kept_values("tax", [10.0, 20.0, 30.0]),
            columns_reported("tax", {"应交税费": "tax"}),
        ),
    ),
    Case(
        "mapping_two_fields_one_column",
        E,
        "error",
        "SchemaError",
        ("firms.csv", "tax and profit", "one header"),
        write_two_fields_one_column,
        exit_code=3,
    ),
    Case(
        "xlsx_duplicate_header",
        E,
        "error",
        "SchemaError",
        ("firms.xlsx", "'tax' appears more than once", "columns 7, 9"),
        write_xlsx_duplicate_header,
        exit_code=3,
    ),
    Case(
        "lonlat_column_disagrees",
        E,
        "error",
        "SchemaError",
        ("firms.csv", "'经纬度'", "disagree", "source row 1"),
        enterprises_text(
            "enterprise_id,lon,lat,经纬度,year,tax,energy_tce\n"
            'E1,117.05,39.05,"117.05,39.05",2015,10,5\n'
            'E2,117.06,39.04,"117.26,39.04",2015,20,6\n'
        ),
        exit_code=3,
    ),
    Case(
        "lonlat_column_agrees",
        E,
        "repaired",
        "the combined column is checked against lon/lat, then dropped",
        (),
        enterprises_text(
            "enterprise_id,lon,lat,经纬度,year,tax,energy_tce\n"
            'E1,117.05,39.05,"117.05,39.05",2015,10,5\n'
            'E2,117.06,39.04,"117.060001，39.04",2015,20,6\n'
        ),
        check=kept_values("lon", [117.05, 117.06]),
    ),
    # -- ids: one firm, one id
    Case(
        "fullwidth_id",
        E,
        "ledgered",
        "duplicate_enterprise_year",
        ("Ｅ1", "full-width", "source row 0"),
        enterprises_text(HEADER + GOOD_ROWS + "Ｅ1,甲公司,C2710,117.05,39.05,2015,10,5\n"),
        check=ids_merged(["E1", "E2", "E3"]),
    ),
    Case(
        "zero_width_id",
        E,
        "ledgered",
        "duplicate_enterprise_year",
        ("E2\\u200b", "invisible", "source row 1"),
        enterprises_text(HEADER + GOOD_ROWS + "E2\u200b,乙公司,C3612,117.06,39.04,2015,20,6\n"),
        check=ids_merged(["E1", "E2", "E3"]),
    ),
    # -- cells
    Case(
        "digits_grouped_by_two",
        E,
        "ledgered",
        "non_numeric_measure",
        ("12 34", "tax"),
        enterprises_text(HEADER + GOOD_ROWS + ROW.format(tax="12 34")),
    ),
    Case(
        "digits_spaced_one_by_one",
        E,
        "ledgered",
        "non_numeric_measure",
        ("1 2 3 4", "tax"),
        enterprises_text(HEADER + GOOD_ROWS + ROW.format(tax="1 2 3 4")),
    ),
    Case(
        "digits_grouped_in_threes",
        E,
        "repaired",
        "number parsed (spaces group digits in threes)",
        (),
        enterprises_text(HEADER + 'E1,x,C2710,117.05,39.05,2015,"1 234 567.5",5\n'),
        check=kept_values("tax", [1234567.5]),
    ),
    Case(
        "control_character_in_id",
        E,
        "ledgered",
        "control_character",
        ("enterprise_id", "E4\\x1b", "corrupt"),
        enterprises_text(HEADER + GOOD_ROWS + "E4\x1b,乙公司,C2710,117.05,39.05,2015,1,1\n"),
    ),
    Case(
        "nul_byte_in_parquet_id",
        E,
        "ledgered",
        "control_character",
        ("enterprise_id", "E9\\x00"),
        write_parquet_control_character,
    ),
)


def _n_kept(loaded: Any, n: int) -> None:
    assert len(loaded.data) == n, len(loaded.data)
