"""WriteBackBatcher: batched, rate-limited, never raising into the job."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.sources.sheets import CellUpdate, RetryPolicy, SheetsClient
from app.sources.table import SheetOrigin, SourceError
from app.sources.write_back import WriteBackBatcher, resolve_columns
from tests.helpers.sheets_emulator import SheetsEmulator

HEADER = ["title", "script", "Status", "Output", "Error"]
MAPPING = {"status_column": "Status", "output_column": "Output", "error_column": "Error"}
INTERVAL = 0.05


@pytest.fixture
def sheet(sheets_emulator: SheetsEmulator, service_account: dict[str, Any]) -> str:
    rows = [HEADER] + [[f"Video {i}", f"Script {i}."] for i in range(1, 501)]
    sheets_emulator.add_sheet("wb", "Write back", rows, allowed_emails=[service_account["client_email"]])
    return "wb"


async def _batcher(client: SheetsClient, sheet_id: str, **kw: Any) -> WriteBackBatcher:
    table = await client.read_range(sheet_id, "Sheet1!A1:E")
    return WriteBackBatcher.for_table(client, sheet_id, table, MAPPING, interval_s=INTERVAL, **kw)


async def test_many_adds_few_calls_right_cells(
    sheet: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    batcher = await _batcher(sheets_client, sheet)
    assert batcher.describe_targets() == {"status_column": "C", "output_column": "D", "error_column": "E"}
    batcher.start()
    for i in range(1, 251):
        batcher.add_row(i, status="processing")
    await asyncio.sleep(0)  # let run() pick up the first half
    for i in range(1, 501):
        ok = i % 10 != 0
        batcher.add(
            i + 1,
            status="completed" if ok else "failed",
            output_url=f"https://out/{i}.mp4" if ok else None,
            error=None if ok else "render: boom",
        )
    await asyncio.wait_for(batcher.wait_idle(), 2)
    await batcher.close()
    assert sheets_emulator.count("POST", "values:batchUpdate") <= 2
    assert sheets_emulator.value(sheet, "C2") == "completed"
    assert sheets_emulator.value(sheet, "D2") == "https://out/1.mp4"
    assert sheets_emulator.value(sheet, "E2") == ""
    assert sheets_emulator.value(sheet, "C11") == "failed"
    assert sheets_emulator.value(sheet, "E11") == "render: boom"
    assert sheets_emulator.value(sheet, "C501") == "failed"
    assert sheets_emulator.value(sheet, "A501") == "Video 500"  # data cells untouched
    assert batcher.last_error is None


async def test_at_most_one_request_per_interval(
    sheet: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    batcher = await _batcher(sheets_client, sheet)
    batcher.start()
    for i in range(1, 21):
        batcher.add_row(i, status="processing")
        await asyncio.sleep(INTERVAL / 10)
    await batcher.close()
    posts = [c.time for c in sheets_emulator.calls if c.path.endswith("values:batchUpdate")]
    assert 2 <= len(posts) <= 4
    assert all(b - a >= INTERVAL * 0.9 for a, b in zip(posts, posts[1:-1], strict=False))  # last: close()
    assert sheets_emulator.value(sheet, "C21") == "processing"


async def test_close_flushes_leftovers_without_run(
    sheet: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    batcher = await _batcher(sheets_client, sheet)
    batcher.add_row(3, status="completed", output_url="u")
    assert sheets_emulator.count("POST", "values:batchUpdate") == 0  # add does no I/O
    await batcher.close()
    assert sheets_emulator.value(sheet, "C4") == "completed"


async def test_429_on_write_is_retried(
    sheet: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    batcher = await _batcher(sheets_client, sheet)
    sheets_emulator.fail_next("values:batchUpdate", 429, count=2, retry_after=0.01)
    batcher.start()
    batcher.add_row(1, status="completed")
    await asyncio.wait_for(batcher.wait_idle(), 2)
    await batcher.close()
    assert sheets_emulator.value(sheet, "C2") == "completed"
    assert sheets_emulator.count("POST", "values:batchUpdate") == 3
    assert batcher.last_error is None


async def test_429_beyond_client_budget_is_kept_and_retried_next_interval(
    sheet: str, sheets_emulator: SheetsEmulator, service_account: dict[str, Any]
) -> None:
    client = SheetsClient(sheets_emulator.url, service_account, retry=RetryPolicy(budget_s=0.0, base_s=0.01))
    batcher = await _batcher(client, sheet)
    sheets_emulator.fail_next("values:batchUpdate", 429, count=1)
    batcher.add_row(1, status="completed")
    assert await batcher.flush() is False
    assert "rate limit" in (batcher.last_error or "")
    assert batcher.pending == 2  # status + cleared error kept for the next try
    batcher.add_row(1, status="failed", error="late")  # newer values win over the kept ones
    assert await batcher.flush() is True
    assert sheets_emulator.value(sheet, "C2") == "failed"
    assert sheets_emulator.value(sheet, "E2") == "late"
    assert batcher.last_error is None


async def test_permanent_failure_sets_last_error_never_raises(
    sheet: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    batcher = await _batcher(sheets_client, sheet)
    sheets_emulator.spreadsheets[sheet].allowed_emails.clear()  # access revoked mid-job
    batcher.start()
    for i in range(1, 11):
        batcher.add_row(i, status="completed")
    await asyncio.wait_for(batcher.wait_idle(), 2)
    await batcher.close()
    assert batcher.last_error is not None and "share the sheet with" in batcher.last_error
    assert batcher.dropped_cells == 20
    assert batcher.failures == 1


async def test_unexpected_exception_is_contained() -> None:
    class Broken:
        async def batch_write(self, sheet_id: str, updates: list[CellUpdate]) -> None:
            raise RuntimeError("bug")

    batcher = WriteBackBatcher(Broken(), "x", SheetOrigin("S", 1, 1), HEADER, MAPPING, interval_s=INTERVAL)
    batcher.add(2, status="done")
    assert await batcher.flush() is False
    assert "bug" in (batcher.last_error or "")


def test_resolve_columns_names_letters_and_errors() -> None:
    assert resolve_columns({"status_column": "status", "output_column": "G"}, HEADER) == {
        "status_column": 3,
        "output_column": 7,
    }
    assert resolve_columns({"status_column": "Status"}, HEADER, first_column=2) == {"status_column": 4}
    with pytest.raises(SourceError, match="write_back.error_column: no column named 'Problems'"):
        resolve_columns({"error_column": "Problems"}, HEADER)
    with pytest.raises(SourceError, match="unknown key"):
        resolve_columns({"state_column": "Status"}, HEADER)
