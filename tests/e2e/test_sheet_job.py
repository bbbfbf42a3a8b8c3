"""Sheet jobs end to end: the real app over HTTP, the real engine, Google Sheets played by the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.container import Bulkdash
from tests.conftest import wait_for
from tests.e2e.support import API, Http, register_files, sheet_body
from tests.helpers.sheets_emulator import SheetsEmulator

WRITE_BACK = {"status_column": "Status", "output_column": "Output", "error_column": "Error"}


def campaign(n: int) -> list[list[str]]:
    return [["title", "script", "Status", "Output", "Error"]] + [[f"Video {i}", f"line {i}"] for i in range(1, n + 1)]


async def connect(http: Http, account: dict[str, Any], sheet_id: str = "sheet-1", **body: Any) -> dict[str, Any]:
    r = await http.alice.post(f"{API}/sheets/connect", json={"sheet_id": sheet_id, "service_account": account, **body})
    assert r.status_code == 201, r.text
    return r.json()


async def run(http: Http, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    r = await http.alice.post(f"{API}/bulk-jobs", json=body)
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    await http.settle()
    job = (await http.alice.get(f"{API}/bulk-jobs/{job_id}")).json()
    videos = (await http.alice.get(f"{API}/bulk-jobs/{job_id}/videos", params={"limit": 500})).json()["items"]
    return job, videos


async def test_sheet_job_reads_the_range_runs_and_writes_back_in_few_batches(
    http: Http, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    emulator.add_sheet("sheet-1", "Campaign", campaign(50), allowed_emails=[account["client_email"]])
    conn = await connect(http, account, range="Sheet1!A1:E1000")
    assert conn["columns"] == ["title", "script", "Status", "Output", "Error"]
    reads_before = emulator.count("GET", "/values/")

    job, videos = await run(http, sheet_body("sheet-1", "Sheet1!A1:E1000", write_back=WRITE_BACK))

    assert job["state"] == "completed", job
    assert job["progress"]["total"] == 50 and job["progress"]["completed"] == 50
    assert job["warnings"] == []
    assert [v["row_index"] for v in videos] == list(range(1, 51))
    assert videos[6]["title"] == "Video 7" and videos[6]["variables"]["script"] == "line 7"
    assert emulator.count("GET", "/values/") - reads_before == 1  # one values.get per job
    batches = emulator.count("POST", "values:batchUpdate")
    assert 1 <= batches <= 5, batches
    for i in range(1, 51):
        assert emulator.value("sheet-1", f"C{i + 1}") == "completed"
        assert emulator.value("sheet-1", f"E{i + 1}") == ""
    assert emulator.value("sheet-1", "C1") == "Status"  # the header is never overwritten


async def test_write_back_lands_in_the_right_cells_with_outputs_errors_and_skips(
    http: Http, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    register_files(http.container)
    grid = [
        ["", "", "", "", ""],
        ["", "notes above the table", "", "", ""],
        ["", "title", "fail", "skip", "Result"],  # header on row 3, from column B
        ["", "one", "", "", ""],
        ["", "", "", "", ""],  # a blank row inside the table
        ["", "three", "yes", "", ""],
        ["", "four", "", "yes", ""],
    ]
    emulator.add_sheet("sheet-2", "Offset table", grid, allowed_emails=[account["client_email"]])
    await connect(http, account, sheet_id="sheet-2", range="Sheet1!B3:F20")
    write_back = {"status_column": "Result", "output_column": "G", "error_column": "H"}

    job, videos = await run(http, sheet_body("sheet-2", "Sheet1!B3:F20", template="files", write_back=write_back))

    assert job["state"] == "completed", job
    by_row = {v["row_index"]: v for v in videos}
    assert sorted(by_row) == [1, 3, 4]  # data row 2 is blank: skipped, but still counted
    assert (by_row[1]["state"], by_row[3]["state"], by_row[4]["state"]) == ("completed", "failed", "skipped")
    assert emulator.value("sheet-2", "E4") == "completed"
    assert emulator.value("sheet-2", "G4") == by_row[1]["output_url"] and by_row[1]["output_url"].endswith("/file")
    assert emulator.value("sheet-2", "H4") == ""
    assert emulator.value("sheet-2", "E5") == ""  # the blank row is left alone
    assert emulator.value("sheet-2", "E6") == "failed" and "row 3 cannot render" in emulator.value("sheet-2", "H6")
    assert emulator.value("sheet-2", "E7") == "skipped" and "skipped" in emulator.value("sheet-2", "H7")


async def test_a_429_while_reading_is_retried(http: Http, emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    emulator.add_sheet("sheet-1", "Campaign", campaign(3), allowed_emails=[account["client_email"]])
    await connect(http, account)
    reads_before = emulator.count("GET", "/values/")
    emulator.fail_next("/values/", 429, count=1, retry_after=0.01)

    job, videos = await run(http, sheet_body("sheet-1"))

    assert job["state"] == "completed", job
    assert [v["title"] for v in videos] == ["Video 1", "Video 2", "Video 3"]
    assert emulator.count("GET", "/values/") - reads_before == 2


async def test_an_unshared_sheet_fails_the_job_naming_the_account(
    http: Http, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    book = emulator.add_sheet("sheet-1", "Campaign", campaign(3), allowed_emails=[account["client_email"]])
    await connect(http, account)
    book.allowed_emails.clear()  # the owner stopped sharing it

    job, videos = await run(http, sheet_body("sheet-1"))

    assert job["state"] == "failed" and videos == []
    assert job["error"]["stage"] == "source"
    assert account["client_email"] in job["error"]["message"] and "share the sheet" in job["error"]["message"]


async def test_a_deleted_sheet_and_missing_credentials_fail_the_job_clearly(
    http: Http, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    emulator.add_sheet("sheet-1", "Campaign", campaign(3), allowed_emails=[account["client_email"]])
    await connect(http, account)
    del emulator.spreadsheets["sheet-1"]
    job, _ = await run(http, sheet_body("sheet-1"))
    assert job["state"] == "failed" and "not found" in job["error"]["message"], job["error"]

    job, _ = await run(http, sheet_body("never-connected"))
    assert job["state"] == "failed"
    assert "no Google credentials" in job["error"]["message"] and "sheets/connect" in job["error"]["message"]


async def test_server_credentials_are_used_without_a_connection(
    http: Http, emulator: SheetsEmulator, account: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "server-account.json"
    path.write_text(json.dumps(account))
    assert http.container.sheets is not None
    http.container.sheets.default_credentials = path
    emulator.add_sheet("sheet-1", "Campaign", campaign(2), allowed_emails=[account["client_email"]])
    job, videos = await run(http, sheet_body("sheet-1"))
    assert job["state"] == "completed" and len(videos) == 2


async def test_a_duplicate_header_fails_the_job_naming_the_column(
    http: Http, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    book = emulator.add_sheet("sheet-1", "Campaign", campaign(2), allowed_emails=[account["client_email"]])
    await connect(http, account)
    book.sheets["Sheet1"][0] = ["title", "script", "title"]

    job, videos = await run(http, sheet_body("sheet-1"))

    assert job["state"] == "failed" and videos == []
    assert "column C" in job["error"]["message"] and "'title'" in job["error"]["message"], job["error"]


async def test_write_back_columns_are_checked(http: Http, emulator: SheetsEmulator, account: dict[str, Any]) -> None:
    emulator.add_sheet("sheet-1", "Campaign", campaign(2), allowed_emails=[account["client_email"]])
    await connect(http, account, range="Sheet1!A1:E1000")
    # at creation, against the header the connection saw
    r = await http.alice.post(
        f"{API}/bulk-jobs", json=sheet_body("sheet-1", "Sheet1!A1:Z", write_back={"status_column": "Nope"})
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "write_back"] and "'Nope'" in r.json()["detail"][0]["msg"]
    # a range the connection did not see: checked when the rows are read
    job, videos = await run(http, sheet_body("sheet-1", "A1:E9", write_back={"status_column": "Nope"}))
    assert job["state"] == "failed" and videos == [] and "'Nope'" in job["error"]["message"]
    # write-back needs a sheet
    inline = {"input_source": {"type": "inline", "rows": [{"title": "x"}]}, "write_back": {"status_column": "A"}}
    r = await http.alice.post(f"{API}/bulk-jobs", json=inline)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "write_back"]
    # a connection id that is not the caller's, or is for another sheet
    other = await connect(http, account)
    r = await http.bob.post(f"{API}/bulk-jobs", json=sheet_body("sheet-1", source={"connection_id": other["id"]}))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "input_source", "connection_id"]
    r = await http.alice.post(f"{API}/bulk-jobs", json=sheet_body("sheet-9", source={"connection_id": other["id"]}))
    assert r.status_code == 422 and "not 'sheet-9'" in r.json()["detail"][0]["msg"]


async def test_a_write_back_failure_is_a_warning_not_a_failure(http: Http, emulator: SheetsEmulator) -> None:
    emulator.add_sheet("sheet-1", "Campaign", campaign(3), api_key="read-only-key")  # link-shared: no writes
    r = await http.alice.post(f"{API}/sheets/connect", json={"sheet_id": "sheet-1", "api_key": "read-only-key"})
    assert r.status_code == 201, r.text

    job, videos = await run(http, sheet_body("sheet-1", write_back=WRITE_BACK))

    assert job["state"] == "completed" and {v["state"] for v in videos} == {"completed"}
    [warning] = job["warnings"]
    assert warning["code"] == "write_back_failed" and "sheet-1" in warning["message"] and warning["at"]
    assert emulator.value("sheet-1", "C2") == ""


async def test_a_canceled_job_writes_back_what_finished(
    http: Http, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    container: Bulkdash = http.container
    emulator.add_sheet("sheet-1", "Campaign", campaign(40), allowed_emails=[account["client_email"]])
    await connect(http, account)
    body = sheet_body("sheet-1", write_back=WRITE_BACK)
    body["template"]["overrides"]["duration_ms"] = 40
    r = await http.alice.post(f"{API}/bulk-jobs", json=body)
    job_id = r.json()["id"]

    def some_done() -> bool:
        live = container.engine.live_row(job_id)
        return live is not None and live["progress"]["completed"] >= 2

    await wait_for(some_done)
    assert (await http.alice.post(f"{API}/bulk-jobs/{job_id}/cancel")).status_code == 200
    await http.settle()

    job = (await http.alice.get(f"{API}/bulk-jobs/{job_id}")).json()
    assert job["state"] == "canceled"
    assert container.sheets is not None and job_id not in container.sheets.batchers
    statuses = [emulator.value("sheet-1", f"C{i}") for i in range(2, 42)]
    assert statuses.count("completed") >= 2 and statuses.count("completed") == job["progress"]["completed"]
