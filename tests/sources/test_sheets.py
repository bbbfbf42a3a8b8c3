"""SheetsClient end to end: real gspread + google-auth against the Sheets emulator over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.sources.a1 import parse_a1
from app.sources.sheets import CellUpdate, RetryPolicy, SheetsClient
from app.sources.table import SourceError
from tests.helpers.sheets_emulator import SheetsEmulator, write_service_account

ROWS = [
    ["title", "script", "voice"],
    ["Spring sale", "Save 20% this week.", "female"],
    ["Summer drop", "New colours are here.", "male"],
    ["", "", ""],
    ["Autumn", "Cosy season.", "female"],
]


@pytest.fixture
def shared(sheets_emulator: SheetsEmulator, service_account: dict[str, Any]) -> str:
    sheets_emulator.add_sheet("sheet-1", "Campaign Q2", ROWS, allowed_emails=[service_account["client_email"]])
    return "sheet-1"


async def test_check_access_returns_title_columns_and_sheet_names(
    sheets_emulator: SheetsEmulator, sheets_client: SheetsClient, service_account: dict[str, Any]
) -> None:
    sheets_emulator.add_sheet(
        "s2",
        "Two tabs",
        ROWS,
        sheet_name="Main",
        extra_sheets={"Other": [["a"]]},
        allowed_emails=[service_account["client_email"]],
    )
    info = await sheets_client.check_access("s2", "Main!A1:Z1000")
    assert info.title == "Two tabs"
    assert info.columns == ["title", "script", "voice"]
    assert info.sheet_names == ["Main", "Other"]
    assert info.sheet_title == "Main"
    assert sheets_emulator.count("GET", "/values/") == 1


async def test_check_access_without_range_uses_first_sheet(shared: str, sheets_client: SheetsClient) -> None:
    info = await sheets_client.check_access(shared)
    assert info.columns == ["title", "script", "voice"]


async def test_check_access_unknown_tab_names_the_tabs(shared: str, sheets_client: SheetsClient) -> None:
    with pytest.raises(SourceError, match="no sheet named 'Nope'.*'Sheet1'") as err:
        await sheets_client.check_access(shared, "Nope!A1:C10")
    assert err.value.status == 400


async def test_read_range_one_call_and_row_numbers(
    shared: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    table = await sheets_client.read_range(shared, "Sheet1!A1:C1000")
    assert table.columns == ["title", "script", "voice"]
    assert [r.row_index for r in table.rows] == [1, 2, 4]  # the blank row is skipped but still counted
    assert [r.sheet_row for r in table.rows] == [2, 3, 5]
    assert table.rows[0].values == {"title": "Spring sale", "script": "Save 20% this week.", "voice": "female"}
    assert table.origin is not None and table.origin.sheet_title == "Sheet1"
    assert sheets_emulator.count("GET", "/values/") == 1


async def test_read_range_starting_mid_sheet(
    sheets_emulator: SheetsEmulator, sheets_client: SheetsClient, service_account: dict[str, Any]
) -> None:
    rows = [["report"], [], ["notes"], [], ["", "name", "city"], ["", "Ann", "Oslo"], ["", "Bob"]]
    sheets_emulator.add_sheet("mid", "Mid", rows, allowed_emails=[service_account["client_email"]])
    table = await sheets_client.read_range("mid", "Sheet1!B5:C")
    assert table.columns == ["name", "city"]
    assert [(r.row_index, r.sheet_row) for r in table.rows] == [(1, 6), (2, 7)]
    assert table.rows[1].values == {"name": "Bob", "city": ""}
    assert table.origin is not None
    assert (table.origin.header_row, table.origin.first_column) == (5, 2)
    info = await sheets_client.check_access("mid", "Sheet1!B5:C")
    assert info.columns == ["name", "city"]


async def test_duplicate_header_in_sheet_names_the_column(
    sheets_emulator: SheetsEmulator, sheets_client: SheetsClient, service_account: dict[str, Any]
) -> None:
    sheets_emulator.add_sheet(
        "dup", "Dup", [["a", "b", "a"], ["1", "2", "3"]], allowed_emails=[service_account["client_email"]]
    )
    with pytest.raises(SourceError, match=r"column C \(position 3\).*'a'"):
        await sheets_client.read_range("dup", "A1:C10")


async def test_not_shared_403_names_client_email(
    sheets_emulator: SheetsEmulator, sheets_client: SheetsClient, service_account: dict[str, Any]
) -> None:
    sheets_emulator.add_sheet("private", "Private", ROWS, allowed_emails=["someone@else.com"])
    with pytest.raises(SourceError) as err:
        await sheets_client.check_access("private", "A1:C10")
    assert err.value.status == 403
    assert f"share the sheet with {service_account['client_email']}" in str(err.value)


async def test_unknown_id_404(sheets_client: SheetsClient) -> None:
    with pytest.raises(SourceError, match="spreadsheet 'nope' not found: check the id") as err:
        await sheets_client.read_range("nope", "A1:B2")
    assert err.value.status == 404


async def test_bad_range_400(shared: str, sheets_client: SheetsClient) -> None:
    with pytest.raises(SourceError, match="not valid") as err:
        await sheets_client.read_range(shared, "Sheet1!A1:B2:C3")
    assert err.value.status == 400


async def test_unregistered_key_is_bad_credentials(
    tmp_path: Path, sheets_emulator: SheetsEmulator, make_client: Callable[..., SheetsClient], shared: str
) -> None:
    _, info = write_service_account(tmp_path, sheets_emulator, "rogue@x.iam.gserviceaccount.com", register=False)
    with pytest.raises(SourceError, match="credentials were rejected.*invalid_grant") as err:
        await make_client(info).check_access(shared)
    assert err.value.status == 401


def test_malformed_service_account_json(sheets_emulator: SheetsEmulator) -> None:
    with pytest.raises(SourceError, match="service-account JSON is not valid") as err:
        SheetsClient(sheets_emulator.url, {"type": "service_account", "client_email": "x"})
    assert err.value.status == 400


async def test_429_with_retry_after_then_success(
    shared: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    sheets_emulator.fail_next("/values/", 429, count=1, retry_after=0.2)
    start = time.monotonic()
    table = await sheets_client.read_range(shared, "A1:C10")
    assert len(table) == 3
    assert time.monotonic() - start >= 0.2  # Retry-After honoured
    assert sheets_emulator.count("GET", "/values/") == 2


async def test_500_twice_then_success(
    shared: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    sheets_emulator.fail_next("/values/", 500, count=2)
    table = await sheets_client.read_range(shared, "A1:C10")
    assert len(table) == 3
    assert sheets_emulator.count("GET", "/values/") == 3


async def test_500_forever_gives_up_within_budget(
    shared: str, make_client: Callable[..., SheetsClient], sheets_emulator: SheetsEmulator, service_account: dict
) -> None:
    sheets_emulator.fail_next("/values/", 503, count=10_000)
    client = make_client(service_account, RetryPolicy(budget_s=0.3, base_s=0.02, max_s=0.05))
    start = time.monotonic()
    with pytest.raises(SourceError, match="HTTP 503") as err:
        await client.read_range(shared, "A1:C10")
    assert err.value.status == 502
    assert time.monotonic() - start < 1.0
    assert sheets_emulator.count("GET", "/values/") >= 3


async def test_429_retry_after_beyond_budget_fails_fast(
    shared: str, make_client: Callable[..., SheetsClient], sheets_emulator: SheetsEmulator, service_account: dict
) -> None:
    sheets_emulator.fail_next("/values/", 429, count=5, retry_after=60)
    start = time.monotonic()
    with pytest.raises(SourceError, match="rate limit") as err:
        await make_client(service_account).read_range(shared, "A1:C10")
    assert err.value.status == 429
    assert time.monotonic() - start < 0.5


async def test_api_key_reads_link_shared_sheet(
    sheets_emulator: SheetsEmulator, make_client: Callable[..., SheetsClient]
) -> None:
    sheets_emulator.add_sheet("public", "Public", ROWS, api_key="AIza-test")
    client = make_client("AIza-test")
    info = await client.check_access("public", "A1:C")
    assert info.title == "Public"
    table = await client.read_range("public", "A1:C")
    assert len(table) == 3
    assert all(c.query.get("key") == ["AIza-test"] for c in sheets_emulator.calls)


async def test_api_key_on_unshared_sheet_and_bad_key(
    sheets_emulator: SheetsEmulator, make_client: Callable[..., SheetsClient]
) -> None:
    sheets_emulator.add_sheet("public", "Public", ROWS, api_key="AIza-test")
    sheets_emulator.add_sheet("closed", "Closed", ROWS)
    with pytest.raises(SourceError, match="anyone with the link") as err:
        await make_client("AIza-test").read_range("closed", "A1:C")
    assert err.value.status == 403
    with pytest.raises(SourceError, match="API key is not valid"):
        await make_client("wrong").read_range("public", "A1:C")


async def test_batch_write_is_one_call(
    shared: str, sheets_client: SheetsClient, sheets_emulator: SheetsEmulator
) -> None:
    updates = [CellUpdate("Sheet1", row, 4, f"done {row}") for row in range(2, 52)]
    await sheets_client.batch_write(shared, updates)
    assert sheets_emulator.count("POST", "values:batchUpdate") == 1
    assert sheets_emulator.value(shared, "D2") == "done 2"
    assert sheets_emulator.value(shared, "D51") == "done 51"


async def test_two_clients_with_different_roots(
    sheets_emulator: SheetsEmulator, service_account: dict[str, Any], shared: str
) -> None:
    other = SheetsEmulator().start()
    try:
        other.add_sheet("sheet-1", "Elsewhere", ROWS, api_key="k2")
        a = SheetsClient(sheets_emulator.url, service_account)
        b = SheetsClient(other.url, "k2")
        assert (await a.check_access(shared)).title == "Campaign Q2"
        assert (await b.check_access("sheet-1")).title == "Elsewhere"
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sheet1!A5:D100", ("Sheet1", 1, 5, 4, 100)),
        ("A1:Z1000", (None, 1, 1, 26, 1000)),
        ("'It''s here'!B2:C", ("It's here", 2, 2, 3, None)),
        ("Sheet1", ("Sheet1", 1, 1, None, None)),
        ("A:C", (None, 1, 1, 3, None)),
    ],
)
def test_parse_a1(text: str, expected: tuple) -> None:
    r = parse_a1(text)
    assert (r.sheet, r.start_col, r.start_row, r.end_col, r.end_row) == expected
