"""POST /sheets/connect, GET /sheets/connections, POST /uploads (CONTRACT §5) on the real app; Google Sheets is
played by the emulator."""

# ruff: noqa: F811 - the imported Sheets fixtures are test parameters here
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tests.api.conftest import API, Api
from tests.helpers.sheets_emulator import SheetsEmulator, write_service_account
from tests.helpers.sheets_fixtures import UPLOAD_LIMIT, account, emulator, settings  # noqa: F401 - fixtures

ROWS = [["title", "script"], ["One", "Hello"], ["Two", "World"]]


def upload_job(upload_id: str) -> dict[str, Any]:
    return {
        "input_source": {"type": "upload", "upload_id": upload_id},
        "template": {"template_id": "simulated", "overrides": {"duration_ms": 0}},
    }


def xlsx(rows: list[list[Any]], sheet: str = "Data") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Cover"
    ws.append(["not the table"])
    data = wb.create_sheet(sheet)
    for row in rows:
        data.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- sheets -----------------------------------------------------------------------------------------------------------
async def test_connect_answers_201_without_credentials_and_lists(
    api: Api, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    emulator.add_sheet("sheet-1", "Spring campaign", ROWS, allowed_emails=[account["client_email"]])
    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1", "service_account": account})
    assert r.status_code == 201, r.text
    conn = r.json()
    assert set(conn) == {"id", "sheet_id", "title", "range", "columns", "created_at"}
    assert (
        conn["id"].startswith("shc_") and conn["title"] == "Spring campaign" and conn["columns"] == ["title", "script"]
    )
    assert "private_key" not in r.text and account["client_email"] not in r.text

    r = await api.alice.post(
        f"{API}/sheets/connect",
        json={"sheet_id": "sheet-1", "range": "Sheet1!A1:B10", "title": "Mine", "service_account": account},
    )
    assert r.status_code == 201 and r.json()["title"] == "Mine" and r.json()["range"] == "Sheet1!A1:B10"
    page = (await api.alice.get(f"{API}/sheets/connections")).json()
    assert page["total"] == 2 and [c["title"] for c in page["items"]] == ["Mine", "Spring campaign"]
    assert page["limit"] == 50 and page["offset"] == 0 and "private_key" not in json.dumps(page)
    assert (await api.bob.get(f"{API}/sheets/connections")).json()["total"] == 0
    assert (await api.anon.get(f"{API}/sheets/connections")).status_code == 401
    assert (await api.anon.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1"})).status_code == 401


async def test_connect_errors_say_what_to_do(
    api: Api, emulator: SheetsEmulator, account: dict[str, Any], tmp_path: Path
) -> None:
    emulator.add_sheet("sheet-1", "Campaign", ROWS)  # shared with nobody
    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1", "service_account": account})
    assert r.status_code == 403 and account["client_email"] in r.json()["detail"], r.text

    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "no-such-sheet", "service_account": account})
    assert r.status_code == 404 and "no-such-sheet" in r.json()["detail"]

    _, stranger = write_service_account(tmp_path, emulator, "stranger@x.iam.gserviceaccount.com", register=False)
    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1", "service_account": stranger})
    assert r.status_code == 401 and "credentials" in r.json()["detail"], r.text

    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1", "service_account": {"a": 1}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "service_account"]

    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1"})
    assert r.status_code == 422 and "or an api_key" in r.json()["detail"][0]["msg"]

    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1", "api_key": "wrong"})
    assert r.status_code == 401 and "API key" in r.json()["detail"]

    emulator.add_sheet("dup", "Dup", [["title", "title"], ["a", "b"]], allowed_emails=[account["client_email"]])
    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "dup", "service_account": account})
    assert r.status_code == 422 and "column B" in r.json()["detail"][0]["msg"], r.text
    assert (await api.alice.get(f"{API}/sheets/connections")).json()["total"] == 0


async def test_connect_with_an_api_key(api: Api, emulator: SheetsEmulator) -> None:
    emulator.add_sheet("public", "Public", ROWS, api_key="key-1")
    r = await api.alice.post(f"{API}/sheets/connect", json={"sheet_id": "public", "api_key": "key-1"})
    assert r.status_code == 201 and r.json()["columns"] == ["title", "script"]
    assert "key-1" not in r.text


# -- uploads ----------------------------------------------------------------------------------------------------------
async def test_csv_upload_then_a_job_from_it_runs(api: Api) -> None:
    data = b"title;script\nOne;Hello\nTwo;World\nThree;Again\n"
    r = await api.alice.post(f"{API}/uploads", files={"file": ("list.csv", data, "text/csv")})
    assert r.status_code == 201, r.text
    upload = r.json()
    assert upload["id"].startswith("upl_") and upload["filename"] == "list.csv"
    assert upload["rows"] == 3 and upload["columns"] == ["title", "script"]

    r = await api.alice.post(f"{API}/bulk-jobs", json=upload_job(upload["id"]))
    assert r.status_code == 201, r.text
    await api.settle()
    job = (await api.alice.get(f"{API}/bulk-jobs/{r.json()['id']}")).json()
    assert job["state"] == "completed" and job["progress"]["completed"] == 3
    assert job["input_source"] == {"type": "upload", "upload_id": upload["id"]}
    videos = (await api.alice.get(f"{API}/bulk-jobs/{job['id']}/videos")).json()["items"]
    assert [v["variables"] for v in videos][1] == {"title": "Two", "script": "World"}

    r = await api.bob.post(f"{API}/bulk-jobs", json=upload_job(upload["id"]))  # not bob's upload
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "input_source", "upload_id"]


async def test_xlsx_upload_with_a_sheet_name(api: Api) -> None:
    content = xlsx([["title", "n"], ["A", 1], ["B", 2.0]])
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = await api.alice.post(
        f"{API}/uploads", files={"file": ("book.xlsx", content, kind)}, data={"sheet_name": "Data"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 2 and r.json()["columns"] == ["title", "n"]
    assert api.container.uploads is not None
    api.container.uploads._cache.clear()  # the job reads the stored file (and the chosen worksheet) again

    r = await api.alice.post(f"{API}/bulk-jobs", json=upload_job(r.json()["id"]))
    assert r.status_code == 201, r.text
    await api.settle()
    videos = (await api.alice.get(f"{API}/bulk-jobs/{r.json()['id']}/videos")).json()["items"]
    assert [v["variables"] for v in videos] == [{"title": "A", "n": "1"}, {"title": "B", "n": "2"}]

    r = await api.alice.post(f"{API}/uploads", files={"file": ("book.xlsx", content, kind)}, data={"sheet_name": "X"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "sheet_name"]
    assert "'Data'" in r.json()["detail"][0]["msg"]


async def test_broken_files_answer_4xx_with_the_reason(api: Api) -> None:
    cases = {
        "empty.csv": (b"", "empty"),
        "old.xls": (b"\xd0\xcf\x11\xe0" + b"x" * 50, ".xls"),
        "fake.xlsx": (b"PK\x03\x04 not really a zip", "not a valid XLSX"),
        "binary.csv": (bytes(range(256)) * 4, "binary"),
        "dup.csv": (b"a,a\n1,2\n", "repeats the name"),
        "header-only.csv": (b"title,script\n", "no data rows"),
    }
    for name, (data, reason) in cases.items():
        r = await api.alice.post(f"{API}/uploads", files={"file": (name, data, "text/csv")})
        assert r.status_code == 422, (name, r.text)
        assert reason in r.json()["detail"][0]["msg"], (name, r.text)
    assert (await api.alice.post(f"{API}/uploads", data={"x": "1"})).status_code == 422  # no file field
    assert (await api.anon.post(f"{API}/uploads", files={"file": ("a.csv", b"t\n1\n")})).status_code == 401


async def test_too_large_is_413(api: Api) -> None:
    data = b"title\n" + b"x" * (UPLOAD_LIMIT + 10) + b"\n"
    r = await api.alice.post(f"{API}/uploads", files={"file": ("big.csv", data, "text/csv")})
    assert r.status_code == 413 and "limit" in r.json()["detail"]


async def test_the_file_name_cannot_escape_the_upload_folder(api: Api) -> None:
    r = await api.alice.post(f"{API}/uploads", files={"file": ("../../../etc/evil.csv", b"title\nx\n", "text/csv")})
    assert r.status_code == 201, r.text
    upload = r.json()
    assert upload["filename"] == "evil.csv"
    uploads_dir = api.container.settings.uploads_dir
    assert (uploads_dir / upload["id"] / "evil.csv").read_bytes() == b"title\nx\n"
    assert not (api.container.settings.data_dir.parent / "etc").exists()
    r = await api.alice.post(f"{API}/uploads", files={"file": ("..", b"title\nx\n", "text/csv")})
    assert r.status_code == 201 and r.json()["filename"] == "upload.csv"
