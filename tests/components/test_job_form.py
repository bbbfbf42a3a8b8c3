"""The new-job form: sample and upload sources, preview, validation messages on fields, submit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from app.api.limits import Limits
from app.api.router import install
from app.container import Bulkdash
from components.source_picker import NO_UPLOAD, read_sample
from tests.conftest import wait_for

CSV_HEAD = b"title;script\n"


def el(user: User, marker: str) -> Any:
    return user.find(marker=marker).elements.pop()


async def test_sample_preview_and_columns(admin_user: User) -> None:
    await admin_user.open("/bulk-jobs/new")
    await admin_user.should_see("columns: title, subtitle, script, style, voice")
    preview = el(admin_user, "preview")
    assert len(preview.rows) == 5 and preview.rows[0]["title"] == "Spring Sale Kickoff"
    options = el(admin_user, "source-kind").props["options"]
    assert [o.get("disable", False) for o in options] == [False, False, False]  # sheets are configured


async def test_sheet_source_is_disabled_without_a_sheet_service(admin_user: User, container: Bulkdash) -> None:
    container.sheets = None
    await admin_user.open("/bulk-jobs/new")
    await admin_user.should_see("Google Sheets: not configured")
    options = el(admin_user, "source-kind").props["options"]
    assert [o.get("disable", False) for o in options] == [False, False, True]


async def test_validation_messages_are_shown_on_fields(admin_user: User) -> None:
    await admin_user.open("/bulk-jobs/new")
    el(admin_user, "title").set_value("")
    el(admin_user, "format").set_value("webm")
    el(admin_user, "video_codec").set_value("h264")
    el(admin_user, "output_bucket").set_value("bad bucket!")
    admin_user.find(marker="submit").click()
    await wait_for(lambda: el(admin_user, "title").error is not None)
    assert "at least 1 character" in el(admin_user, "title").error
    assert "pattern" in el(admin_user, "output_bucket").error
    await admin_user.should_see("output.output_bucket")
    el(admin_user, "title").set_value("ok")
    el(admin_user, "output_bucket").set_value("fine")
    admin_user.find(marker="submit").click()
    await wait_for(lambda: el(admin_user, "video_codec").error is not None)
    assert "cannot hold h264" in el(admin_user, "video_codec").error
    assert el(admin_user, "title").error is None and el(admin_user, "output_bucket").error is None
    el(admin_user, "video_codec").set_value("vp9")
    el(admin_user, "output_bucket").set_value("fine")
    admin_user.find(marker="submit").click()
    await admin_user.should_see(marker="job-state", retries=20)


async def test_service_errors_are_shown_too(admin_user: User) -> None:
    await admin_user.open("/bulk-jobs/new")
    el(admin_user, "template").set_value("simulated")
    el(admin_user, "fail_rate").set_value(None)
    admin_user.find(marker="submit").click()
    await wait_for(lambda: el(admin_user, "duration_ms").error is not None)
    assert "fail_rate" in el(admin_user, "duration_ms").error


async def test_submit_sample_creates_job_and_opens_dashboard(
    admin_user: User, admin: dict, container: Bulkdash
) -> None:
    await admin_user.open("/bulk-jobs/new")
    el(admin_user, "title").set_value("From the form")
    el(admin_user, "template").set_value("simulated")
    el(admin_user, "duration_ms").set_value(60000)
    el(admin_user, "priority").set_value("high")
    el(admin_user, "deadline").set_value(30)
    admin_user.find(marker="submit").click()
    await admin_user.should_see(marker="job-state", retries=20)
    await admin_user.should_see("From the form")
    jobs, total = await container.jobs.list(admin)
    assert total == 1
    job = jobs[0]
    assert job["priority"] == "high" and job["processing_deadline_ms"] == 1_800_000
    assert job["input_source"] == {"type": "inline", "row_count": len(read_sample())}
    assert job["template"] == {"template_id": "simulated", "overrides": {"duration_ms": 60000, "fail_rate": 0.0}}


async def test_upload_csv_and_bad_file(admin_user: User, admin: dict, container: Bulkdash) -> None:
    await admin_user.open("/bulk-jobs/new")
    el(admin_user, "source-kind").set_value("upload")
    upload = el(admin_user, "upload")
    assert isinstance(upload, ui.upload)
    await upload.handle_uploads([SmallFileUpload("list.csv", "text/csv", b"title;script\nOne;Hello\nTwo;World\n")])
    await admin_user.should_see("2 rows · columns: title, script")
    await upload.handle_uploads([SmallFileUpload("old.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0xx")])
    await admin_user.should_see("old Excel .xls files are not supported")
    admin_user.find(marker="submit").click()
    await wait_for(lambda: el(admin_user, "source-error").text == NO_UPLOAD)
    assert (await container.jobs.list(admin))[1] == 0


async def test_upload_goes_through_the_upload_service(admin_user: User, admin: dict, container: Bulkdash) -> None:
    """One write path: the form's upload is an upload record (as POST /uploads makes), and the job reads it."""
    await admin_user.open("/bulk-jobs/new")
    el(admin_user, "source-kind").set_value("upload")
    rows = "".join(f"Clip {i};Hello {i}\n" for i in range(1, 8)).encode()
    await el(admin_user, "upload").handle_uploads([SmallFileUpload("spring list.csv", "text/csv", CSV_HEAD + rows)])
    await admin_user.should_see("spring list.csv: 7 rows · columns: title, script")
    preview = el(admin_user, "preview")
    assert [r["title"] for r in preview.rows] == [f"Clip {i}" for i in range(1, 6)]  # the first rows only
    el(admin_user, "template").set_value("simulated")
    admin_user.find(marker="submit").click()
    await admin_user.should_see(marker="job-state", retries=20)
    jobs, _ = await container.jobs.list(admin)
    source = jobs[0]["input_source"]
    assert source["type"] == "upload" and "rows" not in source
    stored = await container.uploads.get(admin, source["upload_id"])
    assert stored is not None
    assert (stored["filename"], stored["rows"], stored["columns"]) == ("spring list.csv", 7, ["title", "script"])
    videos, total = await container.jobs.videos(admin, jobs[0]["id"], limit=2)
    assert total == 7 and [v["title"] for v in videos] == ["Clip 1", "Clip 2"]


async def api_upload_error(container: Bulkdash, filename: str, data: bytes) -> str:
    """What POST /api/v1/uploads answers for this file (the message of its error)."""
    app = FastAPI()
    install(app, container, Limits(max_body_bytes=1024 * 1024, create_rate_per_min=600, create_burst=100))
    headers = {"Authorization": f"Bearer {container.admin_token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t", headers=headers) as api:
        response = await api.post("/api/v1/uploads", files={"file": (filename, data, "text/csv")})
    assert response.status_code in (413, 422), response.text
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else detail[0]["msg"]


@pytest.mark.parametrize(
    ("limit", "filename", "data"),
    [
        ("bytes", "big.csv", CSV_HEAD + b"x;y\n" * 20),
        ("rows", "long.csv", CSV_HEAD + b"x;y\n" * 4),
        (None, "garbage.xlsx", b"PK\x03\x04 not really a workbook"),
        (None, "empty.csv", CSV_HEAD),
    ],
)
async def test_upload_errors_are_the_apis_next_to_the_field(
    admin_user: User, container: Bulkdash, limit: str | None, filename: str, data: bytes
) -> None:
    assert container.uploads is not None
    if limit == "bytes":
        container.uploads.max_bytes = 40
    elif limit == "rows":
        container.uploads.max_rows = 3
    expected = await api_upload_error(container, filename, data)
    await admin_user.open("/bulk-jobs/new")
    el(admin_user, "source-kind").set_value("upload")
    await el(admin_user, "upload").handle_uploads([SmallFileUpload(filename, "text/csv", data)])
    await wait_for(lambda: el(admin_user, "source-error").text == expected)
    assert el(admin_user, "columns").text == ""
    await admin_user.should_not_see(marker="preview")  # no stale preview of an earlier file
    if limit == "bytes":  # the browser is told the limit too, so it refuses a larger file before sending it
        assert el(admin_user, "upload").props["max-file-size"] == 40


async def test_upload_option_is_disabled_without_an_upload_service(admin_user: User, container: Bulkdash) -> None:
    container.uploads = None
    await admin_user.open("/bulk-jobs/new")
    await admin_user.should_see("Uploads: not configured")
    options = el(admin_user, "source-kind").props["options"]
    assert [o.get("disable", False) for o in options] == [False, True, False]
