"""WriteBackBatcher with a backlog (a job's results queued again after a restart): bounded requests, and the
header-only read that rebuilds a batcher with the same origin as the job's first read."""

from __future__ import annotations

from typing import Any

import pytest

from app.sources.sheets import SheetsClient
from app.sources.table import SheetOrigin, SourceError
from app.sources.write_back import WriteBackBatcher, header_read_range
from tests.helpers.sheets_emulator import SheetsEmulator

MAPPING = {"status_column": "Status", "error_column": "Error"}


@pytest.mark.parametrize(
    ("range_", "expected"),
    [
        ("Sheet1!A1:E1000", "'Sheet1'!A1:E1"),
        ("'My sheet'!B3:F20", "'My sheet'!B3:F3"),
        ("A1:Z1000", "A1:Z1"),
        ("A:E", "A1:E1"),
        ("Sheet1", "'Sheet1'!1:1"),
        ("Sheet1!A5:500", "'Sheet1'!5:5"),
        ("Sheet1!B5:500", "Sheet1!B5:500"),  # no header-only form keeps column B first: the range itself
    ],
)
def test_header_read_range(range_: str, expected: str) -> None:
    assert header_read_range(range_) == expected


def test_header_read_range_rejects_what_the_first_read_would() -> None:
    with pytest.raises(SourceError):
        header_read_range("'unclosed!A1:B2")


OFFSET_TABLE = [[], [], ["", "title", "Status", "Error"], ["", "one"], ["", "two"]]  # header B3:D3
CORNER_TABLE = [["title", "Status", "Error"], ["one"], ["two"]]  # header A1:C1


@pytest.mark.parametrize(
    ("range_", "grid"),
    [("Sheet1!B3:F20", OFFSET_TABLE), ("B3:F", OFFSET_TABLE), ("Sheet1!B3:20", OFFSET_TABLE), ("Sheet1", CORNER_TABLE)],
)
async def test_the_header_read_gives_the_first_reads_origin_and_columns(
    sheets_emulator: SheetsEmulator,
    sheets_client: SheetsClient,
    service_account: dict[str, Any],
    range_: str,
    grid: list[list[str]],
) -> None:
    sheets_emulator.add_sheet("hdr", "Header", grid, allowed_emails=[service_account["client_email"]])

    full = await sheets_client.read_range("hdr", range_)
    header = await sheets_client.read_range("hdr", header_read_range(range_))

    assert len(full.rows) == 2
    assert header.origin == full.origin and header.columns == full.columns == ["title", "Status", "Error"]
    if header_read_range(range_) != range_:
        assert header.rows == []


class Recorder:
    """A CellWriter that records each request's cells; fails (permanently) the request numbers in ``fail``."""

    def __init__(self, fail: tuple[int, ...] = ()) -> None:
        self.requests: list[list[Any]] = []
        self.fail = fail

    async def batch_write(self, sheet_id: str, updates: list[Any]) -> None:
        self.requests.append(updates)
        if len(self.requests) in self.fail:
            raise SourceError("no access", 403)


def _batcher(client: Recorder, max_cells: int) -> WriteBackBatcher:
    origin = SheetOrigin("Sheet1", 1, 1)
    return WriteBackBatcher(client, "wb", origin, ["title", "Status", "Error"], MAPPING, max_cells=max_cells)


async def test_a_backlog_goes_out_in_bounded_requests_oldest_first() -> None:
    client = Recorder()
    batcher = _batcher(client, max_cells=4)
    for i in range(1, 6):
        batcher.add_row(i, status="completed")  # 2 cells a row: status, cleared error
    assert batcher.pending == 10

    assert await batcher.flush()
    assert [(u.row, u.column) for u in client.requests[0]] == [(2, 2), (2, 3), (3, 2), (3, 3)]
    assert batcher.pending == 6

    await batcher.close()  # the rest, in as many requests as it takes
    assert [len(r) for r in client.requests] == [4, 4, 2]
    assert batcher.pending == 0 and batcher.batches_sent == 3


async def test_closing_stops_at_the_first_failed_request() -> None:
    client = Recorder(fail=(2,))
    batcher = _batcher(client, max_cells=2)
    for i in range(1, 4):
        batcher.add_row(i, status="failed", error="boom")
    await batcher.close()
    assert [len(r) for r in client.requests] == [2, 2]
    assert batcher.dropped_cells == 2 and batcher.pending == 2 and "no access" in (batcher.last_error or "")
