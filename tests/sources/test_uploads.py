"""parse_upload: CSV dialects and encodings, XLSX, broken files, limits."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from app.sources.table import SourceError, table_from_records
from app.sources.uploads import parse_upload

EXPECTED = [
    {"title": "Café", "script": "Hello, world", "voice": "female"},
    {"title": "B", "script": "x", "voice": "male"},
]


def _values(data: bytes, name: str = "f.csv", **kw: object) -> list[dict[str, str]]:
    return [r.values for r in parse_upload(data, name, **kw).rows]  # type: ignore[arg-type]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(delimiter: str) -> None:
    d = delimiter
    text = f'title{d}script{d}voice\nCafé{d}"Hello, world"{d}female\nB{d}x{d}male\n'
    assert _values(text.encode()) == EXPECTED


@pytest.mark.parametrize(
    "data",
    [
        'title,script,voice\r\nCafé,"Hello, world",female\r\nB,x,male\r\n'.encode("utf-8-sig"),
        'title,script,voice\nCafé,"Hello, world",female\nB,x,male\n'.encode("utf-16"),
        'title,script,voice\nCafé,"Hello, world",female\nB,x,male\n'.encode("cp1252"),
    ],
    ids=["utf8-bom-crlf", "utf16-bom", "cp1252"],
)
def test_encodings(data: bytes) -> None:
    table = parse_upload(data, "f.csv")
    assert table.columns == ["title", "script", "voice"]  # no BOM glued to the first name
    assert [r.values for r in table.rows] == EXPECTED


def test_quoted_newlines_trailing_empty_rows_short_rows_and_header_spaces() -> None:
    data = b' title , script ,voice\n"A","line one\nline two",female\nB,short\n,,\n\n\n'
    table = parse_upload(data, "f.csv")
    assert table.columns == ["title", "script", "voice"]
    assert [r.row_index for r in table.rows] == [1, 2]
    assert table.rows[0].values["script"] == "line one\nline two"
    assert table.rows[1].values == {"title": "B", "script": "short", "voice": ""}


def test_blank_row_in_the_middle_keeps_row_numbers() -> None:
    table = parse_upload(b"a,b\n1,2\n,\n3,4\n", "f.csv")
    assert [(r.row_index, r.values["a"]) for r in table.rows] == [(1, "1"), (3, "3")]


def test_single_column_csv() -> None:
    assert _values(b"title\nA\nB\n") == [{"title": "A"}, {"title": "B"}]


def test_long_row_names_the_row() -> None:
    with pytest.raises(SourceError, match=r"f.csv: data row 2 has 4 cells but the header has 3 columns"):
        parse_upload(b"a,b,c\n1,2,3\n1,2,3,4\n", "f.csv")


def test_trailing_empty_cells_beyond_header_are_fine() -> None:
    assert _values(b"a,b\n1,2,,\n") == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"a,,c\n1,2,3\n", r"f.csv: header column B \(position 2\) is blank"),
        (b"a,b,a\n1,2,3\n", r"column C \(position 3\) repeats the name 'a' already used in column A"),
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (bytes(range(256)) * 20, "not a text CSV file"),
    ],
    ids=["blank-header", "duplicate-header", "empty", "whitespace", "binary"],
)
def test_broken_csv(data: bytes, match: str) -> None:
    with pytest.raises(SourceError, match=match) as err:
        parse_upload(data, "f.csv")
    assert err.value.status == 422


def test_row_limit() -> None:
    data = b"a\n" + b"x\n" * 11
    with pytest.raises(SourceError, match="more than 10 data rows") as err:
        parse_upload(data, "f.csv", max_rows=10)
    assert err.value.status == 413
    assert len(parse_upload(data, "f.csv", max_rows=11)) == 11


def test_byte_limit() -> None:
    with pytest.raises(SourceError, match="upload limit") as err:
        parse_upload(b"a\n" + b"x\n" * 100, "f.csv", max_bytes=100)
    assert err.value.status == 413


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_first_sheet_and_value_rendering() -> None:
    data = _xlsx(
        {
            "Campaign": [
                ["title", "count", "ratio", "day", "at", "ok", None],
                ["A", 3, 3.0, dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 9, 30), True],
                ["B", 1.5, None, dt.datetime(2024, 5, 2), None, False],
                [None, None, None],
            ],
            "Other": [["x"], ["y"]],
        }
    )
    table = parse_upload(data, "c.xlsx")
    assert table.columns == ["title", "count", "ratio", "day", "at", "ok"]
    assert table.rows[0].values == {
        "title": "A",
        "count": "3",
        "ratio": "3",
        "day": "2024-05-01",
        "at": "2024-05-01T09:30:00",
        "ok": "TRUE",
    }
    assert table.rows[1].values["count"] == "1.5"
    assert table.rows[1].values["day"] == "2024-05-02"
    assert len(table) == 2


def test_xlsx_named_sheet_and_unknown_sheet() -> None:
    data = _xlsx({"First": [["a"], ["1"]], "Second": [["b", "c"], ["2", "3"]]})
    assert _values(data, "c.xlsx", sheet_name="Second") == [{"b": "2", "c": "3"}]
    with pytest.raises(SourceError, match="no worksheet named 'Third'; it has 'First', 'Second'"):
        parse_upload(data, "c.xlsx", sheet_name="Third")


def test_xlsx_duplicate_header_names_sheet_and_column() -> None:
    with pytest.raises(SourceError, match=r"c.xlsx \(sheet 'S'\): header column B \(position 2\) repeats"):
        parse_upload(_xlsx({"S": [["a", "a"], [1, 2]]}), "c.xlsx")


def test_xlsx_with_csv_extension_is_detected() -> None:
    assert _values(_xlsx({"S": [["a"], ["1"]]}), "export.csv") == [{"a": "1"}]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"this is not a zip", "not a valid XLSX workbook"),
        (b"PK\x03\x04" + b"\x00" * 50, "not a valid XLSX workbook"),
        (_xlsx({"S": [["a"], ["1"]]})[:300], "not a valid XLSX workbook"),
        (_xlsx({"S": []}), "worksheet is empty"),
    ],
    ids=["text", "zip-header-only", "truncated", "empty-sheet"],
)
def test_broken_xlsx(data: bytes, match: str) -> None:
    with pytest.raises(SourceError, match=match):
        parse_upload(data, "c.xlsx")


def test_old_xls_is_refused_with_a_hint() -> None:
    with pytest.raises(SourceError, match="save it as .xlsx or .csv"):
        parse_upload(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old.xls")


def test_100k_rows_parse_whole() -> None:
    """The speed is measured by bench/import_parse.py, never asserted here (machines are noisy)."""
    row = "Title {i},A subtitle,Some script sentence number {i}.,modern,female,extra\n"
    data = ("title,subtitle,script,style,voice,extra\n" + "".join(row.format(i=i) for i in range(100_000))).encode()
    table = parse_upload(data, "big.csv")
    assert len(table) == 100_000 and table.rows[-1].values["title"] == "Title 99999"
    assert table.rows[-1].row_index == 100_000


def test_inline_records() -> None:
    table = table_from_records([{"title": "A", "n": 3}, {"title": "B", "voice": None, "n": 2.0}])
    assert table.columns == ["title", "n", "voice"]
    assert [r.values for r in table.rows] == [
        {"title": "A", "n": "3", "voice": ""},
        {"title": "B", "n": "2", "voice": ""},
    ]
