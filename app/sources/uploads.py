"""Uploaded CSV and XLSX files → SourceTable."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from app.sources.table import SourceError, SourceTable, build_rows, check_header

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


def parse_upload(
    data: bytes,
    filename: str,
    *,
    sheet_name: str | None = None,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> SourceTable:
    """Parse an uploaded CSV (any common delimiter/encoding) or XLSX workbook; first row is the header."""
    if len(data) > max_bytes:
        raise SourceError(f"{filename}: {len(data):,} bytes is over the {max_bytes:,}-byte upload limit", 413)
    if not data.strip():
        raise SourceError(f"{filename}: the file is empty")
    kind = _kind(data, filename)
    if kind == "xls":
        raise SourceError(f"{filename}: old Excel .xls files are not supported; save it as .xlsx or .csv")
    if kind == "xlsx":
        return parse_xlsx(data, filename, sheet_name=sheet_name, max_rows=max_rows)
    return parse_csv(data, filename, max_rows=max_rows)


def _kind(data: bytes, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext in ("xlsx", "xlsm"):
        return "xlsx"
    if ext == "xls" or data.startswith(_OLE_MAGIC):
        return "xls"
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"  # an .xlsx saved with the wrong extension
    return "csv"


# ---------------------------------------------------------------------------------------------- CSV


def parse_csv(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> SourceTable:
    """CSV/TSV bytes → SourceTable; the delimiter and encoding are detected."""
    text = decode_text(data, filename)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader, None)
        while header is not None and not any(header):
            header = next(reader, None)  # leading blank lines are not the header
        if header is None:
            raise SourceError(f"{filename}: no header row found")
        columns = check_header(header, filename)
        rows = build_rows(columns, reader, filename, max_rows=max_rows)
    except csv.Error as exc:
        raise SourceError(f"{filename}: not a readable CSV file near line {reader.line_num}: {exc}") from exc
    return SourceTable(columns, rows)


def decode_text(data: bytes, filename: str) -> str:
    """Decode UTF-8 (BOM or not), UTF-16 with BOM, else cp1252 / latin-1; reject binary files."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{filename}: starts like UTF-16 text but cannot be decoded: {exc.reason}") from exc
    else:
        text = _decode_8bit(data)
    sample = text[:_SNIFF_BYTES]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if "\x00" in text or controls > len(sample) // 100:
        raise SourceError(f"{filename}: this is not a text CSV file (it contains binary data)")
    return text


def _decode_8bit(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # never fails


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter with csv.Sniffer over a sample; fall back to counting in the header line."""
    sample = text[:_SNIFF_BYTES]
    if len(text) > _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rfind("\n")]  # only whole lines
    first_line = sample.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
        if found in first_line:
            return found
    except csv.Error:
        pass
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# --------------------------------------------------------------------------------------------- XLSX


def parse_xlsx(data: bytes, filename: str, *, sheet_name: str | None = None, max_rows: int = MAX_ROWS) -> SourceTable:
    """XLSX bytes → SourceTable from the first worksheet or the named one."""
    from openpyxl import load_workbook  # imported lazily: CSV-only paths do not pay for it

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{filename}: not a valid XLSX workbook (damaged or not a zip file: {exc})") from exc
    except Exception as exc:  # openpyxl raises many kinds for broken workbooks
        raise SourceError(f"{filename}: not a valid XLSX workbook ({type(exc).__name__}: {exc})") from exc
    try:
        if sheet_name is not None:
            if sheet_name not in wb.sheetnames:
                names = ", ".join(repr(n) for n in wb.sheetnames)
                raise SourceError(f"{filename}: no worksheet named {sheet_name!r}; it has {names}", 404)
            ws = wb[sheet_name]
        else:
            ws = wb.worksheets[0]
        where = f"{filename} (sheet {ws.title!r})"
        try:
            records = _xlsx_records(ws)
            header = next(records, None)
            while header is not None and not any(header):
                header = next(records, None)
            if header is None:
                raise SourceError(f"{where}: the worksheet is empty; no header row found")
            columns = check_header(header, where)
            rows = build_rows(columns, records, where, max_rows=max_rows)
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"{where}: cannot read the worksheet ({type(exc).__name__}: {exc})") from exc
    finally:
        wb.close()
    return SourceTable(columns, rows)


def _xlsx_records(ws: Any) -> Iterator[list[str]]:
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # some writers store wrong dimensions; read what is really there
    for values in ws.iter_rows(values_only=True):
        yield [_cell(v) for v in values]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
