"""Raw cells of the binary and spreadsheet formats: GeoParquet points, Excel, GDAL point layers.

Shared by the enterprise readers (:mod:`parkgeo._readers`) and the parks reader
(:func:`parkgeo.io.read_parks`). Cells come back as read, under canonical column names.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgeo import _geometry
from parkgeo._columns import ENTERPRISE_REQUIRED, ColumnMatch, match_columns
from parkgeo._errors import CRSError, InputFormatError, ParkgeoError, SchemaError
from parkgeo._sniff import HEADER_SEARCH_ROWS, probe_header

log = logging.getLogger("parkgeo")

_GEOGRAPHIC_EQUIVALENT = {"EPSG:4326", "EPSG:4490", "OGC:CRS84"}


@dataclass(frozen=True)
class RawTable:
    """Raw cells under canonical names, the column match, and how the file was laid out."""

    frame: pd.DataFrame
    match: ColumnMatch
    details: dict[str, Any]


def _check_lonlat_agree(
    frame: pd.DataFrame, lon: pd.Series, lat: pd.Series, source: str, headers: dict[str, str]
) -> None:
    """Refuse a combined lon,lat column that disagrees (by more than ~1 m) with lon/lat."""
    from parkgeo._cells import parse_numbers

    def degrees(values: pd.Series) -> np.ndarray:
        return parse_numbers(values, kind="degrees", comma_decimal=True).values

    a_lon, a_lat = degrees(frame["lon"]), degrees(frame["lat"])
    b_lon, b_lat = degrees(lon), degrees(lat)
    with np.errstate(invalid="ignore"):
        differ = (np.abs(a_lon - b_lon) > 1e-5) | (np.abs(a_lat - b_lat) > 1e-5)
    if not differ.any():
        return
    at = int(np.flatnonzero(differ)[0])
    row = frame.index[at]
    names = {c: repr(headers.get(c, c)) for c in ("lon", "lat", "lonlat")}
    raise SchemaError(
        f"{source}: the columns {names['lon']}/{names['lat']} and {names['lonlat']} both give "
        f"the location but disagree, first at source row {row} "
        f"({a_lon[at]:g}, {a_lat[at]:g} vs {b_lon[at]:g}, {b_lat[at]:g}); which one is right "
        "is ambiguous: delete one of them, or name the right one with a column mapping "
        "(--columns)"
    )


def split_lonlat_column(
    frame: pd.DataFrame, *, source: str = "input", headers: dict[str, str] | None = None
) -> pd.DataFrame:
    """Split a raw ``lonlat`` column ("117.2,39.1", as Gaode's geocoder writes a location)
    into ``lon`` and ``lat`` text columns; a frame without one is returned as is.

    A cell that is not a pair keeps its whole text in ``lon`` so that the reject ledger shows
    it; an empty cell gives empty ``lon``/``lat`` (``missing_coordinate``).

    Examples
    --------
    >>> raw = pd.DataFrame({"lonlat": ["117.2,39.1", "117.3，39.2"]}, dtype="str")
    >>> split_lonlat_column(raw)[["lon", "lat"]].to_numpy().tolist()
    [['117.2', '39.1'], ['117.3', '39.2']]
    """
    if "lonlat" not in frame.columns:
        return frame
    from parkgeo._cells import clean_text

    text = clean_text(frame["lonlat"])
    parts = text.str.normalize("NFKC").str.extract(r"^\s*([^,;\s]+)\s*[,;\s]\s*([^,;\s]+)\s*$")
    lon = parts[0].astype("str").where(parts[0].notna(), text)
    lat = parts[1].astype("str")
    if "lon" in frame.columns and "lat" in frame.columns:
        # both given: they must say the same, or which one is right is anyone's guess
        _check_lonlat_agree(frame, lon, lat, source, headers or {})
        result: pd.DataFrame = frame.drop(columns="lonlat")
        return result
    split: pd.DataFrame = frame.drop(columns="lonlat").assign(
        lon=lon.to_numpy(), lat=lat.to_numpy()
    )
    return split


def string_mapper(arrow_type: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow", na_value=np.nan)
    return None


def canonical_of(match: ColumnMatch, header: str) -> str:
    for canonical, mapped in match.columns.items():
        if mapped == header:
            return canonical
    return header


def _xlsx_header(
    rows: list[tuple[Any, ...]], mapping: dict[str, str], source: str
) -> tuple[int, int, list[str], ColumnMatch]:
    """(first data row, header height, headers, match) that map the most canonical columns."""
    best: tuple[int, int, int, list[str], ColumnMatch] | None = None
    for i in range(min(HEADER_SEARCH_ROWS, len(rows))):
        candidates = [(1, [_cell_text(v) for v in rows[i]])]
        if i + 1 < len(rows):
            # A two-row header: group titles above (merged cells: filled forward) + sub-titles.
            upper = _forward_fill([_cell_text(v) for v in rows[i]])
            lower = [_cell_text(v) for v in rows[i + 1]]
            width = max(len(upper), len(lower))
            upper += [""] * (width - len(upper))
            lower += [""] * (width - len(lower))
            combined = [
                lo if not up else (up if not lo else up + lo)
                for up, lo in zip(upper, lower, strict=True)
            ]
            candidates.append((2, combined))
            candidates.append((2, [lo or up for up, lo in zip(upper, lower, strict=True)]))
        for height, headers in candidates:
            match = probe_header(headers, mapping, source)
            if best is None or match.score > best[0]:
                best = (match.score, i, height, headers, match)
    if best is None:
        raise InputFormatError(f"{source}: the sheet is empty")
    _, i, height, headers, _ = best
    return i + height, height, headers, best[4]


xlsx_header = _xlsx_header  # package-public name (evaluate_inputs re-reads extra columns)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _forward_fill(values: list[str]) -> list[str]:
    out, last = [], ""
    for v in values:
        last = v or last
        out.append(last)
    return out


def read_xlsx(path: Path, mapping: dict[str, str]) -> RawTable:
    try:
        import openpyxl
    except ModuleNotFoundError as exc:  # pragma: no cover - a core dependency
        raise InputFormatError("reading .xlsx needs openpyxl: pip install openpyxl") from exc
    import zipfile
    import zlib

    source = str(path)
    from openpyxl.utils.exceptions import InvalidFileException

    best: tuple[int, int, int, int, list[str], ColumnMatch] | None = None
    # a file object: openpyxl refuses a workbook whose name does not end in .xlsx
    with open(path, "rb") as handle:
        try:
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except (
            zipfile.BadZipFile,
            KeyError,
            OSError,
            ValueError,
            InvalidFileException,
            SyntaxError,  # XML ParseError: damaged XML, or entities the parser will not expand
            zlib.error,  # a damaged deflate stream
            EOFError,
        ) as exc:
            raise InputFormatError(f"{source}: not a readable .xlsx workbook ({exc})") from None
        try:
            # only the first rows of each sheet to choose the sheet and its header ...
            for number, sheet in enumerate(book.worksheets):
                # Not trusting the sheet's stored <dimension>: files written by other tools
                # often carry a stale one, and read-only openpyxl would stop there (1,990 of
                # 2,000 rows, or columns past it, lost without a word)
                sheet.reset_dimensions()
                head = list(sheet.iter_rows(max_row=HEADER_SEARCH_ROWS + 1, values_only=True))
                if not head:
                    continue
                start, height, headers, probe = _xlsx_header(head, mapping, source)
                if best is None or probe.score > best[0]:
                    best = (probe.score, number, start, height, headers, probe)
            if best is None:
                raise InputFormatError(f"{source}: the workbook has no data")
            _, number, start, height, headers, _ = best
            chosen = book.worksheets[number]
            # ... and all rows of the chosen sheet only
            rows = list(chosen.iter_rows(values_only=True))
            sheet_name = chosen.title
        except (zlib.error, zipfile.BadZipFile, EOFError) as exc:
            # a damaged deflate stream or CRC inside the workbook (not caught at opening)
            raise InputFormatError(
                f"{source}: the workbook is damaged ({str(exc)[:200]}); open it in Excel or "
                "LibreOffice (which may repair it) and save it again as .xlsx"
            ) from None
        except SyntaxError as exc:
            # ElementTree's (and lxml's) ParseError: malformed XML, or a DTD with entities,
            # which the XML parser refuses to expand (external files, "billion laughs")
            raise InputFormatError(
                f"{source}: the workbook's XML cannot be read ({exc}); it is damaged or was not "
                "written by a spreadsheet program: open it in Excel or LibreOffice and save "
                "it again as .xlsx"
            ) from None
        finally:
            book.close()
    try:
        match = match_columns(headers, kind="enterprises", mapping=mapping, source=source)
    except SchemaError as exc:
        raise SchemaError(
            f"{exc} (sheet {sheet_name!r}; parkgeo looked for the header in the first "
            f"{HEADER_SEARCH_ROWS} rows, also as a two-row header with merged cells. Put one "
            "header row directly above the data, or name the columns with a mapping.)"
        ) from None
    duplicated = sorted({h for h in match.columns.values() if headers.count(h) > 1})
    if duplicated:
        raise SchemaError(
            f"{source}: header {duplicated[0]!r} appears more than once (sheet "
            f"{sheet_name!r}, columns "
            f"{', '.join(str(j + 1) for j, h in enumerate(headers) if h == duplicated[0])}); "
            "rename one of them"
        )
    positions = {c: headers.index(h) for c, h in match.columns.items()}
    body = rows[start:]
    data: dict[str, list[Any]] = {c: [] for c in positions}
    index: list[int] = []
    for k, row in enumerate(body):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # blank rows (often just formatting) are not data
        index.append(k)
        for c, j in positions.items():
            data[c].append(row[j] if j < len(row) else None)
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()})
    frame.index = pd.Index(index, dtype="int64")
    details = {"sheet": sheet_name, "header_row": start - height}
    return RawTable(frame=frame, match=match, details=details)


def geo_metadata(schema: Any) -> dict[str, Any] | None:
    meta = schema.metadata or {}
    raw = meta.get(b"geo")
    if not raw:
        return None
    try:
        return dict(json.loads(raw))
    except ValueError:
        return None


def decode_dictionaries(frame: pd.DataFrame) -> pd.DataFrame:
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        return frame
    result: pd.DataFrame = frame.assign(
        **{c: frame[c].astype(frame[c].cat.categories.dtype) for c in categorical}
    )
    return result


def points_from_arrow(column: Any, encoding: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat arrays from a GeoParquet geometry column, without building shapely Points
    for plain 2-D WKB points (12 million Points would cost seconds and gigabytes)."""
    import pyarrow as pa
    import shapely

    chunks = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(chunks)
    if encoding.lower() == "point" and pa.types.is_struct(chunks.type):
        x = chunks.field("x").to_numpy(zero_copy_only=False).astype(np.float64)
        y = chunks.field("y").to_numpy(zero_copy_only=False).astype(np.float64)
        valid = chunks.is_valid().to_numpy(zero_copy_only=False)
        return np.where(valid, x, np.nan), np.where(valid, y, np.nan)
    if encoding.upper() != "WKB":
        raise InputFormatError(
            f"{source}: geometry encoding {encoding!r} is not supported; write the points as "
            "WKB GeoParquet or as lon/lat columns"
        )
    if pa.types.is_large_binary(chunks.type):
        chunks = chunks.cast(pa.binary())
    if chunks.null_count == 0 and n:
        offsets = np.frombuffer(chunks.buffers()[1], dtype=np.int32)[
            chunks.offset : chunks.offset + n + 1
        ]
        data = np.frombuffer(chunks.buffers()[2], dtype=np.uint8)
        if np.all(np.diff(offsets) == 21):
            block = data[offsets[0] : offsets[-1]].reshape(n, 21)
            little = block[:, 0] == 1
            type_le = block[:, 1:5].copy().view("<u4").ravel()
            if little.all() and np.all(type_le == 1):
                xy = block[:, 5:21].copy().view("<f8").reshape(n, 2)
                return xy[:, 0].copy(), xy[:, 1].copy()
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    step = 1_000_000
    for start in range(0, n, step):
        part = chunks.slice(start, step).to_numpy(zero_copy_only=False)
        geoms = shapely.from_wkb(part, on_invalid="raise")
        kinds = shapely.get_type_id(geoms)
        present = ~shapely.is_missing(geoms)
        wrong = present & (kinds != 0)
        if wrong.any():
            first = int(np.flatnonzero(wrong)[0]) + start
            raise SchemaError(
                f"{source}: enterprise geometries must be points; row {first} is a "
                f"{shapely.get_type_id(geoms[first - start])} geometry. Use points (e.g. the "
                "centroid) or lon/lat columns"
            )
        empty = present & shapely.is_empty(geoms)
        ok = present & ~empty
        lon[start : start + len(part)][ok] = shapely.get_x(geoms[ok])
        lat[start : start + len(part)][ok] = shapely.get_y(geoms[ok])
    return lon, lat


def to_lonlat_degrees(
    lon: np.ndarray, lat: np.ndarray, crs: Any, source: str
) -> tuple[np.ndarray, np.ndarray]:
    import pyproj

    if crs is None:
        with np.errstate(invalid="ignore"):
            if np.nanmax(np.abs(lon), initial=0) > 180 or np.nanmax(np.abs(lat), initial=0) > 90:
                raise CRSError(
                    f"{source}: the geometry has no CRS and its coordinates are not degrees; "
                    "write the file with its CRS"
                )
        return lon, lat
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"{source}: unreadable CRS in the geometry metadata ({exc})") from None
    if parsed.is_geographic and is_wgs84_like(parsed):
        return lon, lat
    transformer = pyproj.Transformer.from_crs(parsed, "EPSG:4326", always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def is_wgs84_like(crs: Any) -> bool:
    import pyproj

    try:
        auth = crs.to_authority()
    except pyproj.exceptions.CRSError:
        auth = None
    return bool(auth) and ":".join(auth) in _GEOGRAPHIC_EQUIVALENT


def read_vector_points(path: Path, mapping: dict[str, str]) -> RawTable:
    import pyogrio

    source = str(path)
    layer = pick_layer(path, polygons=False)
    encoding = shapefile_encoding(path) if path.suffix.lower() in (".shp", ".zip") else None
    try:
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputFormatError(f"{source}: cannot read the layer ({exc})") from None
    fields = [str(f) for f in info["fields"]]
    probe = match_columns(fields, kind="enterprises", mapping=mapping, source=source, check=False)
    has_geometry = info.get("geometry_type") not in (None, "Unknown", "None")
    use_geometry = (
        has_geometry
        and ("lon" not in probe.columns or "lat" not in probe.columns)
        and "lonlat" not in probe.columns
    )
    required = tuple(c for c in ENTERPRISE_REQUIRED if not (use_geometry and c in ("lon", "lat")))
    match = match_columns(
        fields, kind="enterprises", mapping=mapping, source=source, required=required
    )
    wanted = list(dict.fromkeys(match.columns.values()))
    try:
        gdf = pyogrio.read_dataframe(
            path, layer=layer, columns=wanted, read_geometry=use_geometry, encoding=encoding
        )
    except Exception as exc:
        raise InputFormatError(f"{source}: cannot read the layer ({exc})") from None
    frame = pd.DataFrame({canonical_of(match, h): gdf[h] for h in wanted})
    frame.index = pd.RangeIndex(len(frame))
    if use_geometry:
        import shapely

        geoms = np.asarray(gdf.geometry.values, dtype=object)
        kinds = shapely.get_type_id(geoms)
        present = ~shapely.is_missing(geoms)
        if (present & (kinds != 0)).any():
            raise SchemaError(
                f"{source}: enterprise geometries must be points; use point features or "
                "lon/lat columns"
            )
        lon = np.where(present, shapely.get_x(geoms), np.nan)
        lat = np.where(present, shapely.get_y(geoms), np.nan)
        crs = gdf.crs.to_json() if gdf.crs is not None else None
        frame["lon"], frame["lat"] = to_lonlat_degrees(lon, lat, crs, source)
        match = ColumnMatch(
            columns={**match.columns, "lon": "geometry", "lat": "geometry"},
            missing=match.missing,
            headers=match.headers,
        )
    return RawTable(frame=frame, match=match, details={"layer": layer})


def pick_layer(path: Path, *, polygons: bool) -> str | None:
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise InputFormatError(
            f"{path}: not a readable vector file ({gdal_message(exc)})"
        ) from None
    if len(layers) <= 1:
        return None
    wanted = ("Polygon", "MultiPolygon") if polygons else ("Point", "MultiPoint", None)
    fitting = [str(name) for name, geom in layers if geom in wanted]
    if not fitting:
        fitting = [str(name) for name, _ in layers]
    if len(fitting) > 1:
        log.info("%s has layers %s; reading %r", path, ", ".join(fitting), fitting[0])
    return fitting[0]


def gdal_message(exc: BaseException) -> str:
    return str(exc).strip().replace("\n", " ")[:300]


def shapefile_encoding(path: Path) -> str | None:
    """The attribute encoding of a Shapefile (``.shp``, or a ``.zip`` holding one) without a
    ``.cpg``: UTF-8 if its text decodes as UTF-8, else GB18030 (GBK) if it decodes as that;
    None lets GDAL decide (``.cpg`` present, or plain ASCII)."""
    if path.suffix.lower() == ".zip":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                lowered = {n.lower(): n for n in names}
                shp = next((n for n in names if n.lower().endswith(".shp")), None)
                if shp is None:
                    return None
                stem = shp[:-4].lower()
                if stem + ".cpg" in lowered or stem + ".dbf" not in lowered:
                    return None
                data = archive.read(lowered[stem + ".dbf"])
        except (zipfile.BadZipFile, OSError):
            return None
        return _dbf_encoding(data)
    for suffix in (".cpg", ".CPG"):
        if path.with_suffix(suffix).exists():
            return None
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    return None if dbf is None else _dbf_encoding(dbf.read_bytes())


def _dbf_encoding(data: bytes) -> str | None:
    if len(data) < 32:
        return None
    header_length = int.from_bytes(data[8:10], "little")
    # the text of a .dbf: field names (the first 11 bytes of each 32-byte descriptor) and the
    # records (numbers and dates are ASCII there; only strings carry an encoding)
    names = b"".join(
        data[i : i + 11].split(b"\0", 1)[0]
        for i in range(32, max(32, header_length - 1), 32)
        if data[i : i + 1] != b"\r"
    )
    text = names + data[header_length:].rstrip(b"\x1a")
    if text.isascii():
        return None
    for encoding in ("UTF-8", "GB18030"):
        try:
            text.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return None


# -- park layers ------------------------------------------------------------------------------


def scaled_area(values: pd.Series, scale: float) -> np.ndarray:
    from parkgeo._validate import parse_numbers

    return np.asarray(parse_numbers(values, kind="area").values * scale, dtype=np.float64)


def read_vector(path: Path, *, layer: str | None, encoding: str | None) -> Any:
    try:
        return _geometry.read_vector_layer(path, layer=layer, encoding=encoding)
    except RecursionError:
        raise InputFormatError(f"{path}: the file is nested too deeply to be a map layer") from None
    except ParkgeoError:
        raise  # already says what is wrong and where
    except Exception as exc:
        if type(exc).__module__.startswith("pyogrio") or isinstance(exc, (OSError, ValueError)):
            raise InputFormatError(
                f"{path}: cannot read it as a vector layer ({gdal_message(exc)}); check that it "
                "is a valid GeoJSON/GeoPackage/Shapefile"
            ) from None
        raise


def check_crs(gdf: Any, crs: Any, source: str) -> Any:
    import pyproj

    given = None
    if crs is not None:
        try:
            given = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"crs={crs!r} is not a CRS pyproj knows ({exc})") from None
    if gdf.crs is None:
        if given is None:
            bounds = bounds_text(gdf)
            raise CRSError(
                f"{source}: the parks have no CRS (coordinates {bounds}). Say which it is: "
                "crs='EPSG:4326' in Python or --parks-crs EPSG:4326 on the command line "
                "(for a Shapefile, a .prj file next to it)"
            )
        gdf = gdf.set_crs(given)
    elif given is not None and not given.equals(gdf.crs, ignore_axis_order=True):
        raise CRSError(
            f"{source}: the file says its CRS is {gdf.crs.to_string()!r} but crs={crs!r} was "
            "given; drop crs= (it is only for files without a CRS) or fix the file"
        )
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        return gdf
    min_x, min_y, max_x, max_y = gdf.geometry.total_bounds
    degrees = min_x >= -180 and max_x <= 180 and min_y >= -90 and max_y <= 90
    if gdf.crs.is_geographic and not degrees:
        raise CRSError(
            f"{source}: the CRS {gdf.crs.to_string()!r} is geographic (degrees) but the "
            f"coordinates ({bounds_text(gdf)}) look like projected metres; give the right CRS "
            "(e.g. EPSG:4547 or EPSG:32650) in the file or with crs="
        )
    if gdf.crs.is_projected and degrees and max(abs(max_x - min_x), abs(max_y - min_y)) < 10:
        raise CRSError(
            f"{source}: the CRS {gdf.crs.to_string()!r} is projected (metres) but the "
            f"coordinates ({bounds_text(gdf)}) look like longitude/latitude degrees; use "
            "EPSG:4326 (or EPSG:4490)"
        )
    return gdf


def bounds_text(gdf: Any) -> str:
    if len(gdf) == 0 or gdf.geometry.is_empty.all():
        return "none"
    min_x, min_y, max_x, max_y = gdf.geometry.total_bounds
    return f"x {min_x:.6g}..{max_x:.6g}, y {min_y:.6g}..{max_y:.6g}"


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------
