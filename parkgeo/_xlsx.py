"""The one Excel writer: tables streamed as Office Open XML sheets into a binary handle.

Used by :func:`parkgeo.io.write_table` (``-o x.xlsx``) and by the evaluation workbook. The
caller owns atomicity (it passes :func:`parkgeo.io.atomic_write`'s handle). Rules:

* numbers are number cells (NaN and infinities are empty cells: Excel has no NaN);
  booleans are boolean cells; timestamps are dates;
* ids and codes (``enterprise_id``, ``park_id``, ``industry``, any ``*_id``/``*_code``, and
  the caller's ``text_columns``) are text cells in the text format ``@`` even when they look
  numeric, so 18-digit 统一社会信用代码 keep every digit;
* every other text is an inline string, so ``=1+1`` is never a formula; characters XML
  cannot hold are dropped; a cell is cut at Excel's 32,767 characters (with a warning);
* the header row is bold and frozen; optional header labels (Chinese headers);
* fixed zip entry times and no document dates: the same tables give the same bytes.

It writes rows as XML text in chunks: openpyxl took about two minutes for a 48,000-row
sheet, this takes seconds, and a 480,000-row sheet never sits in memory as one string.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

import numpy as np
import pandas as pd

from parkgeo._errors import ParkgeoError

__all__ = ["MAX_ROWS", "ZH_HEADERS", "is_id_column", "write_sheets"]

log = logging.getLogger("parkgeo")

MAX_ROWS = 1_048_576
"""Rows in an Excel sheet, the header row included."""
_MAX_CELL = 32_767
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ID_WORDS = ("id", "code", "industry", "candidates", "adcode", "firms")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")

ZH_HEADERS: dict[str, str] = {
    "source_row": "源数据行号",
    "enterprise_id": "统一社会信用代码",
    "name": "名称",
    "park_name": "园区名称",
    "industry": "行业代码",
    "industry_name": "行业名称",
    "lon": "经度",
    "lat": "纬度",
    "year": "年份",
    "tax": "纳税总额(万元)",
    "profit": "利润总额(万元)",
    "value_added": "工业增加值(万元)",
    "energy_tce": "综合能耗(吨标准煤)",
    "employees": "从业人员(人)",
    "park_id": "园区代码",
    "district": "所在区",
    "level": "园区级别",
    "approved_area_ha": "批复面积(公顷)",
    "leading_industries": "主导产业",
    "match": "匹配结果",
    "distance_m": "距最近园区边界(米)",
    "nearest_park_id": "最近园区代码",
    "candidates": "候选园区",
    "n_enterprises": "企业数",
    "n_firms": "企业数",
    "area_ha": "面积(公顷)",
    "tax_per_ha": "地均税收(万元/公顷)",
    "energy_per_ha": "地均能耗(吨标准煤/公顷)",
    "energy_per_value_added": "单位增加值能耗(吨标准煤/万元)",
    "labour_productivity": "全员劳动生产率(万元/人)",
    "reason": "原因",
    "message": "说明",
    "value": "原值",
    "column": "列",
    "n": "数量",
}
"""Chinese headers (with units) for the canonical and most common output columns."""

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
# cell styles: 0 general, 1 text (@), 2 bold text (header), 3 date and time
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def is_id_column(name: str) -> bool:
    """True for columns written as text whatever their values: ids and codes.

    Examples
    --------
    >>> [is_id_column(n) for n in ("enterprise_id", "park_id", "industry", "tax")]
    [True, True, True, False]
    """
    lowered = name.lower()
    return lowered in _ID_WORDS or lowered.endswith(("_id", "_ids", "_code", "_codes"))


def write_sheets(
    fh: IO[bytes],
    sheets: Mapping[str, pd.DataFrame],
    *,
    text_columns: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    name: str = "the workbook",
) -> None:
    """Write ``sheets`` (sheet name -> table) as one ``.xlsx`` workbook into ``fh``.

    Parameters
    ----------
    fh : binary file handle
        Where the workbook goes (e.g. :func:`parkgeo.io.atomic_write`'s handle).
    sheets : mapping of str to DataFrame
        Sheet names (cut to Excel's 31 characters, ``[]:*?/\\`` replaced) and tables. A named
        index (such as ``source_row``) is written as a first column.
    text_columns : sequence of str
        Further columns written as text cells (besides :func:`is_id_column` names).
    headers : mapping of str to str, optional
        Header labels by column name (e.g. :data:`ZH_HEADERS`); others keep their name.
    name : str
        The output's name, for messages.

    Raises
    ------
    ParkgeoError
        A sheet has more rows than Excel holds (1,048,575 below the header).

    Examples
    --------
    >>> import io, openpyxl
    >>> buffer = io.BytesIO()
    >>> table = pd.DataFrame({"enterprise_id": ["911201160000000001"], "tax": [1.5]})
    >>> write_sheets(buffer, {"企业": table})
    >>> sheet = openpyxl.load_workbook(buffer)["企业"]
    >>> [c.value for c in sheet[2]], sheet.freeze_panes
    (['911201160000000001', 1.5], 'A2')
    """
    tables = {}
    for title, frame in sheets.items():
        table = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
        if len(table) + 1 > MAX_ROWS:
            raise ParkgeoError(
                f"cannot write {name}: sheet {title!r} has {len(table):,} rows, more than an "
                f"Excel sheet holds ({MAX_ROWS - 1:,}); write .csv or .parquet instead"
            )
        tables[_sheet_title(title)] = table
    text_cols = set(text_columns)
    titles = list(tables)
    cut = 0
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(titles) + 1)
        )
        _put(archive, "[Content_Types].xml", _CONTENT_TYPES.replace("{sheets}", overrides))
        _put(archive, "_rels/.rels", _ROOT_RELS)
        sheet_list = "".join(
            f'<sheet name="{_esc(t)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, t in enumerate(titles, start=1)
        )
        _put(
            archive,
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheet_list}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(titles) + 1)
        )
        rels += (
            f'<Relationship Id="rId{len(titles) + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        )
        _put(
            archive,
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        _put(archive, "xl/styles.xml", _STYLES)
        for i, table in enumerate(tables.values(), start=1):
            info = _info(f"xl/worksheets/sheet{i}.xml")
            # a zip member inside the caller's (atomic) handle, written in row chunks
            with archive.open(info, "w", force_zip64=True) as member:
                counter = [0]
                for chunk in _sheet_xml(table, text_cols, headers or {}, counter):
                    member.write(chunk.encode("utf-8"))
                cut += counter[0]
    if cut:
        log.warning(
            "%s: %d cells were longer than Excel's 32,767 characters and were cut", name, cut
        )


def _info(member: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _put(archive: zipfile.ZipFile, member: str, text: str) -> None:
    archive.writestr(_info(member), text.encode("utf-8"))


def _sheet_title(name: str) -> str:
    return re.sub(r"[\\/*?:\[\]]", "_", str(name))[:31] or "Sheet"


def _esc(text: str) -> str:
    text = _XML_BAD.sub("", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _letters(j: int) -> str:
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _sheet_xml(
    frame: pd.DataFrame,
    text_cols: set[str],
    headers: Mapping[str, str],
    cut: list[int],
    chunk: int = 20_000,
) -> Iterator[str]:
    names = [str(c) for c in frame.columns]
    labels = [headers.get(n, n) for n in names]
    letters = [_letters(j) for j in range(len(names))]
    widths = "".join(
        f'<col min="{j}" max="{j}" width="{min(40, max(10, 2 * len(h)))}" customWidth="1"/>'
        for j, h in enumerate(labels, start=1)
    )
    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView>'
        f"</sheetViews>{f'<cols>{widths}</cols>' if widths else ''}<sheetData>"
    )
    head = "".join(
        f'<c r="{c}1" t="inlineStr" s="2"><is><t xml:space="preserve">{_esc(h)}</t></is></c>'
        for c, h in zip(letters, labels, strict=True)
    )
    yield f'<row r="1">{head}</row>'
    as_text = [n in text_cols or is_id_column(n) for n in names]
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        cells = [
            _column_cells(part.iloc[:, j], letters[j], as_text[j], cut) for j in range(len(names))
        ]
        rows = []
        for r in range(len(part)):
            row = str(start + r + 2)
            body = "".join(col[r].replace("#", row, 1) for col in cells if col[r])
            rows.append(f'<row r="{row}">{body}</row>')
        yield "".join(rows)
    yield "</sheetData></worksheet>"


def _column_cells(series: pd.Series, letter: str, text: bool, cut: list[int]) -> list[str]:
    """Each cell's XML with ``#`` in place of its row number ('' for an empty cell)."""
    ref = f'<c r="{letter}#"'
    dtype = series.dtype
    if text:
        return _text_cells(series, ref, ' s="1"', cut, ids=True)
    if pd.api.types.is_bool_dtype(dtype):
        missing = series.isna().to_numpy()
        values = series.fillna(False).to_numpy(dtype=bool)
        return [
            "" if m else f'{ref} t="b"><v>{int(v)}</v></c>'
            for v, m in zip(values, missing, strict=True)
        ]
    if pd.api.types.is_integer_dtype(dtype):
        missing = series.isna().to_numpy()
        ints = series.tolist()
        return [
            "" if m else f"{ref}><v>{int(v)}</v></c>" for v, m in zip(ints, missing, strict=True)
        ]
    if pd.api.types.is_float_dtype(dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return [
            f"{ref}><v>{v!r}</v></c>" if ok else ""
            for v, ok in zip(numbers.tolist(), np.isfinite(numbers).tolist(), strict=True)
        ]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.to_datetime(series)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_localize(None)
        days = (stamps.to_numpy(dtype="datetime64[ns]") - _EXCEL_EPOCH) / np.timedelta64(1, "D")
        return [
            f'{ref} s="3"><v>{v!r}</v></c>' if ok else ""
            for v, ok in zip(days.tolist(), np.isfinite(days).tolist(), strict=True)
        ]
    if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(
        series, skipna=True
    ) not in (
        "string",
        "empty",
    ):
        return [_one_cell(v, ref, cut) for v in series.tolist()]
    return _text_cells(series, ref, "", cut, ids=False)


def _text_cells(series: pd.Series, ref: str, style: str, cut: list[int], *, ids: bool) -> list[str]:
    missing = series.isna().to_numpy()
    values = series.to_numpy(dtype=object)
    out = []
    for v, m in zip(values, missing, strict=True):
        if m:
            out.append("")
        else:
            out.append(_text_cell(_plain_text(v) if ids else str(v), ref, style, cut))
    return out


def _text_cell(text: str, ref: str, style: str, cut: list[int]) -> str:
    if len(text) > _MAX_CELL:
        text = text[:_MAX_CELL]
        cut[0] += 1
    return f'{ref}{style} t="inlineStr"><is><t xml:space="preserve">{_esc(text)}</t></is></c>'


def _one_cell(value: object, ref: str, cut: list[int]) -> str:
    """A cell of a column of mixed values: each value by its own type."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return f'{ref} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, np.integer)):
        return f"{ref}><v>{int(value)}</v></c>"
    if isinstance(value, (float, np.floating)):
        return f"{ref}><v>{float(value)!r}</v></c>" if np.isfinite(value) else ""
    if isinstance(value, pd.Timestamp):
        days = (value.tz_localize(None) - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
        return f'{ref} s="3"><v>{days!r}</v></c>'
    return _text_cell(str(value), ref, "", cut)


def _plain_text(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))  # an id read as 9.11e17 is written as its digits
    return str(value)
