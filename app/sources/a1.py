"""A1 notation: parse a range like ``'My sheet'!B5:F`` and format cell addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.sources.table import SourceError, column_letter, column_number

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")


@dataclass(slots=True, frozen=True)
class A1Range:
    """A parsed range; ``None`` bounds are open (``A:C`` has no row bounds, ``Sheet1`` none at all)."""

    sheet: str | None
    start_col: int = 1
    start_row: int = 1
    end_col: int | None = None
    end_row: int | None = None

    def header_range(self) -> tuple[str, int]:
        """The range of just the header row, and how many leading cells of the answer to drop."""
        r = self.start_row
        if self.end_col is not None:
            return qualify(self.sheet, f"{column_letter(self.start_col)}{r}:{column_letter(self.end_col)}{r}"), 0
        return qualify(self.sheet, f"{r}:{r}"), self.start_col - 1


def quote_sheet(title: str) -> str:
    """Always-quoted sheet name, safe for any title."""
    return "'" + title.replace("'", "''") + "'"


def qualify(sheet: str | None, cells: str) -> str:
    return cells if sheet is None else f"{quote_sheet(sheet)}!{cells}"


def cell_a1(sheet: str, row: int, column: int) -> str:
    """``'Sheet1'!C5`` for row 5, column 3."""
    return f"{quote_sheet(sheet)}!{column_letter(column)}{row}"


def parse_a1(text: str) -> A1Range:
    """Parse ``[sheet!]cell[:cell]``; a bare sheet name means the whole sheet. Raises SourceError (400)."""
    raw = text.strip()
    if not raw:
        raise SourceError("the range is empty; use A1 notation such as Sheet1!A1:Z1000", 400)
    sheet: str | None = None
    cells = raw
    if raw.startswith("'"):
        end = _closing_quote(raw)
        sheet = raw[1:end].replace("''", "'")
        rest = raw[end + 1 :]
        if not rest:
            return A1Range(sheet)
        if not rest.startswith("!"):
            raise SourceError(f"range {text!r} is not valid A1 notation", 400)
        cells = rest[1:]
    elif "!" in raw:
        sheet, cells = raw.rsplit("!", 1)
    parts = cells.split(":")
    if len(parts) > 2:
        raise SourceError(f"range {text!r} is not valid A1 notation", 400)
    start = _CELL.match(parts[0])
    end = _CELL.match(parts[1]) if len(parts) == 2 else start
    if start is None or end is None or not parts[0]:
        if sheet is None and ":" not in cells and "!" not in raw:
            return A1Range(raw)  # a bare sheet name
        raise SourceError(f"range {text!r} is not valid A1 notation (expected e.g. Sheet1!A1:Z1000)", 400)
    return A1Range(
        sheet,
        column_number(start.group(1)) if start.group(1) else 1,
        int(start.group(2)) if start.group(2) else 1,
        column_number(end.group(1)) if end.group(1) else None,
        int(end.group(2)) if end.group(2) else None,
    )


def _closing_quote(raw: str) -> int:
    i = 1
    while i < len(raw):
        if raw[i] == "'":
            if i + 1 < len(raw) and raw[i + 1] == "'":
                i += 2
                continue
            return i
        i += 1
    raise SourceError(f"range {raw!r} has an unclosed quote around the sheet name", 400)
