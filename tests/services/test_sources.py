"""The sheet and upload services on a started process (no HTTP): credentials at rest, which credentials a job
uses, stored uploads, file names, job warnings."""

# ruff: noqa: F811 - the fixtures imported from tests.e2e.support are test parameters here
from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.container import Bulkdash
from app.services.errors import Invalid
from app.services.sources import SourceFailed
from app.services.uploads import safe_filename
from app.sources.table import SourceError
from app.store import tables as t
from app.store.sources import SourceStore
from tests.e2e.support import account, emulator, fast_sheets, settings  # noqa: F401 - fixtures
from tests.helpers.sheets_emulator import SheetsEmulator

ROWS = [["title", "script"], ["One", "Hello"], ["Two", "World"]]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("list.csv", "list.csv"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("..", "upload.csv"),
        (".hidden.csv", "hidden.csv"),
        ("a\x00b\nc.csv", "abc.csv"),
        ("na$me;rm -rf.csv", "na_me_rm -rf.csv"),
        ("Überblick (2024).xlsx", "Überblick (2024).xlsx"),
        (None, "upload.csv"),
    ],
)
def test_safe_filename(given: str | None, expected: str) -> None:
    assert safe_filename(given) == expected


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("x" * 300 + ".xlsx")
    assert len(name) == 100 and name.endswith(".xlsx")


async def test_credentials_are_encrypted_at_rest(
    fast_sheets: Bulkdash, alice: dict[str, Any], emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    sheets = fast_sheets.sheets
    assert sheets is not None
    emulator.add_sheet("sheet-1", "Campaign", ROWS, allowed_emails=[account["client_email"]])
    conn = await sheets.connect(alice, "sheet-1", service_account=account)
    async with fast_sheets.db.read() as db:
        stored = (await db.execute(select(t.sheet_connections.c.credentials))).scalar_one()
    assert "PRIVATE KEY" not in stored and account["client_email"] not in stored
    assert sheets.secrets.decrypt(stored) == account
    assert stat.S_IMODE(sheets.secrets.key_path.stat().st_mode) == 0o600
    assert [c["id"] for c in await sheets.list(alice)] == [conn["id"]]


async def test_a_job_uses_its_connection_then_the_latest_then_the_server_credentials(
    fast_sheets: Bulkdash, alice: dict[str, Any], emulator: SheetsEmulator, account: dict[str, Any], tmp_path: Path
) -> None:
    sheets = fast_sheets.sheets
    assert sheets is not None
    emulator.add_sheet("sheet-1", "Campaign", ROWS, allowed_emails=[account["client_email"]], api_key="key-1")
    by_key = await sheets.connect(alice, "sheet-1", api_key="key-1")
    await sheets.connect(alice, "sheet-1", service_account=account)
    source = {"type": "sheet", "sheet_id": "sheet-1", "range": "A1:B10"}

    rows = await sheets.load_rows(alice, source)  # the latest connection: the service account
    assert rows == [(1, 2, {"title": "One", "script": "Hello"}), (2, 3, {"title": "Two", "script": "World"})]
    emulator.spreadsheets["sheet-1"].allowed_emails.clear()
    with pytest.raises(SourceError, match="share the sheet with"):
        await sheets.load_rows(alice, source)
    assert len(await sheets.load_rows(alice, {**source, "connection_id": by_key["id"]})) == 2

    other = {"type": "sheet", "sheet_id": "sheet-2", "range": "A1:B10"}
    emulator.add_sheet("sheet-2", "Other", ROWS, allowed_emails=[account["client_email"]])
    with pytest.raises(SourceError, match="no Google credentials"):
        await sheets.load_rows(alice, other)
    server_file = tmp_path / "server.json"
    server_file.write_text(json.dumps(account))
    sheets.default_credentials = server_file
    assert len(await sheets.load_rows(alice, other)) == 2
    conn = await sheets.connect(alice, "sheet-2")  # the server's credentials: nothing of them is stored
    assert (await SourceStore(fast_sheets.db).get_connection(conn["id"], alice["id"]))["credentials"] is None

    server_file.write_text("{not json")
    with pytest.raises(SourceFailed, match="BULKDASH_GOOGLE_CREDENTIALS") as err:
        await sheets.connect(alice, "sheet-2")
    assert err.value.status == 500


async def test_connections_are_private(
    fast_sheets: Bulkdash, alice: dict[str, Any], bob: dict[str, Any], emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    sheets = fast_sheets.sheets
    assert sheets is not None
    emulator.add_sheet("sheet-1", "Campaign", ROWS, allowed_emails=[account["client_email"]])
    conn = await sheets.connect(alice, "sheet-1", service_account=account)
    assert await sheets.list(bob) == []
    source = {"type": "sheet", "sheet_id": "sheet-1", "range": "A1:B10", "connection_id": conn["id"]}
    with pytest.raises(SourceError, match="not found"):
        await sheets.load_rows(bob, source)
    with pytest.raises(Invalid, match="not found"):
        await sheets.check_source(bob, source, None)


async def test_uploads_are_kept_and_read_back(container: Bulkdash, alice: dict[str, Any], bob: dict[str, Any]) -> None:
    uploads = container.uploads
    assert uploads is not None
    upload = await uploads.create(alice, "people.csv", b"title,age\nAda,36\n\nAlan,41\n")
    assert upload["rows"] == 2 and upload["columns"] == ["title", "age"]
    uploads._cache.clear()
    source = {"type": "upload", "upload_id": upload["id"]}
    assert await uploads.load_rows(alice, source) == [
        (1, None, {"title": "Ada", "age": "36"}),
        (3, None, {"title": "Alan", "age": "41"}),
    ]
    assert await uploads.get(bob, upload["id"]) is None
    with pytest.raises(Invalid, match="not found"):
        await uploads.load_rows(bob, source)
    uploads._cache.clear()
    (container.settings.uploads_dir / upload["id"] / "people.csv").unlink()
    with pytest.raises(Invalid, match="upload it again"):
        await uploads.load_rows(alice, source)


async def test_job_warnings_are_appended(container: Bulkdash, alice: dict[str, Any]) -> None:
    from app.domain.schemas import JobCreate

    body = JobCreate.model_validate(
        {"input_source": {"type": "inline", "rows": [{"title": "a"}]}, "template": {"template_id": "simulated"}}
    )
    job, _ = await container.jobs.create(alice, body)
    store = SourceStore(container.db)
    await store.add_job_warning(job["id"], {"code": "write_back_failed", "message": "one", "at": "x"})
    warnings = await store.add_job_warning(job["id"], {"code": "write_back_failed", "message": "two", "at": "y"})
    assert [w["message"] for w in warnings] == ["one", "two"]
    await container.writer.flush()
    assert [w["message"] for w in (await container.jobs.get(alice, job["id"]))["warnings"]] == ["one", "two"]
