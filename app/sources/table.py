"""The one shape every source produces, and the header/row rules they all share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class SourceError(Exception):
    """A source cannot be read; ``str(err)`` tells the user what is wrong and where.

    ``status`` is an HTTP-ish hint for the API layer (400, 403, 404, 413, 422, 429, 502).
    """

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(slots=True)
class SourceRow:
    """One data row: ``row_index`` is 1-based under the header, ``sheet_row`` the sheet's own row number."""

    row_index: int
    values: dict[str, str]
    sheet_row: int | None = None


@dataclass(slots=True, frozen=True)
class SheetOrigin:
    """Where a table sits in a spreadsheet, so results can be written back to the right cells."""

    sheet_title: str
    header_row: int
    first_column: int  # 1-based: A = 1

    def sheet_row(self, row_index: int) -> int:
        """The sheet's row number of data row ``row_index``."""
        return self.header_row + row_index


@dataclass(slots=True)
class SourceTable:
    """A header plus its data rows (all values are strings)."""

    columns: list[str]
    rows: list[SourceRow]
    origin: SheetOrigin | None = field(default=None)

    def __len__(self) -> int:
        return len(self.rows)


def column_letter(position: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while position > 0:
        position, rem = divmod(position - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: str) -> int:
    """A → 1, AA → 27."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - 64)
    return number


def check_header(raw: Sequence[Any], where: str, first_column: int = 1) -> list[str]:
    """Strip header names; blank or duplicate names raise a SourceError naming the column."""
    columns = [("" if v is None else str(v)).strip() for v in raw]
    while columns and not columns[-1]:
        columns.pop()  # trailing empty header cells are not columns
    if not columns:
        raise SourceError(f"{where}: the first row must be a header with column names, but it is empty")
    seen: dict[str, int] = {}
    for pos, name in enumerate(columns, start=1):
        label = f"column {column_letter(pos + first_column - 1)} (position {pos})"
        if not name:
            raise SourceError(f"{where}: header {label} is blank; give every column a name")
        if name in seen:
            first = column_letter(seen[name] + first_column - 1)
            raise SourceError(f"{where}: header {label} repeats the name {name!r} already used in column {first}")
        seen[name] = pos
    return columns


def build_rows(
    columns: list[str],
    records: Iterable[list[str]],
    where: str,
    *,
    max_rows: int,
    first_sheet_row: int | None = None,
) -> list[SourceRow]:
    """Turn raw string records (header excluded) into rows.

    Blank records are skipped (trailing ones and any in between) but still counted, so ``row_index``
    matches the record's position in the source. Short records are padded with ""; longer ones are an
    error unless the extra cells are empty.
    """
    width = len(columns)
    pad = [""] * width
    rows: list[SourceRow] = []
    append = rows.append
    for index, record in enumerate(records, start=1):
        if len(record) != width or not any(record):  # the rare cases; the common row takes no branch
            if not any(record):
                continue
            n = len(record)
            if n < width:
                record = record + pad[n:]
            elif any(record[width:]):
                raise SourceError(
                    f"{where}: data row {index} has {n} cells but the header has {width} columns"
                    f"{_sheet_row_hint(first_sheet_row, index)}"
                )
            else:
                record = record[:width]
        if len(rows) >= max_rows:
            raise SourceError(f"{where}: more than {max_rows:,} data rows; split it into smaller files", 413)
        sheet_row = None if first_sheet_row is None else first_sheet_row + index - 1
        append(SourceRow(index, dict(zip(columns, record)), sheet_row))  # noqa: B905 - lengths equal here
    return rows


def _sheet_row_hint(first_sheet_row: int | None, index: int) -> str:
    return "" if first_sheet_row is None else f" (sheet row {first_sheet_row + index - 1})"


def table_from_records(records: Sequence[Mapping[str, Any]], *, max_rows: int = 100_000) -> SourceTable:
    """Inline rows (list of column → value objects) as a table; columns in order of first appearance."""
    if len(records) > max_rows:
        raise SourceError(f"inline rows: more than {max_rows:,} rows", 413)
    order: dict[str, None] = {}
    for rec in records:
        for key in rec:
            order.setdefault(str(key).strip(), None)
    columns = check_header(list(order), "inline rows")
    rows = [SourceRow(i, {c: _cell_str(_lookup(rec, c)) for c in columns}) for i, rec in enumerate(records, start=1)]
    return SourceTable(columns, rows)


def _lookup(rec: Mapping[str, Any], column: str) -> Any:
    if column in rec:
        return rec[column]
    for key, value in rec.items():  # keys that only differ by surrounding spaces
        if str(key).strip() == column:
            return value
    return None


def _cell_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
