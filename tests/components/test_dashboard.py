"""The job dashboard: what a user sees, live updates, controls, the video table and the details dialog."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from app.container import Bulkdash
from components.controls import legal_actions
from components.video_table import FIELDS, page_changes, shared_page
from tests.conftest import wait_for


def job_in(state: str, **progress: int) -> dict[str, Any]:
    return {"state": state, "progress": progress}


@pytest.mark.parametrize(
    ("state", "progress", "expected"),
    [
        ("pending", {}, {"cancel"}),
        ("running", {}, {"pause", "cancel"}),
        ("running", {"failed": 2}, {"pause", "cancel", "retry"}),
        ("pausing", {"failed": 2}, {"cancel"}),
        ("paused", {"canceled": 1}, {"resume", "cancel", "retry"}),
        ("completing", {"failed": 1}, set()),
        ("canceling", {}, set()),
        ("completed", {"failed": 1}, {"retry"}),
        ("completed", {}, set()),
        ("canceled", {"canceled": 5}, set()),
        ("canceled", {"failed": 1, "canceled": 5}, {"retry"}),
        ("failed", {"failed": 3}, {"retry"}),
    ],
)
def test_legal_actions_follow_the_state_table(state: str, progress: dict, expected: set[str]) -> None:
    assert legal_actions(job_in(state, **progress)) == expected


def enabled(user: User, marker: str) -> bool:
    return user.find(marker=marker).elements.pop().enabled


async def test_dashboard_shows_state_percent_and_counts(admin_user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin, rows=4)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    await admin_user.should_see(job["title"])
    await admin_user.should_see("0%")
    await admin_user.should_see("0 / 4 videos done")
    badge = admin_user.find(marker="job-state").elements.pop()
    assert badge.text in ("pending", "running")
    for marker in ("metric-success", "metric-throughput", "metric-avg", "metric-p95", "metric-failures"):
        await admin_user.should_see(marker=marker)
    await admin_user.should_see(marker="throughput-chart")
    await admin_user.should_see(marker="states-chart")


async def test_dashboard_updates_live_and_toasts_state_changes(admin_user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin, rows=3, duration_ms=50)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    await admin_user.should_see("100%", retries=100)
    await admin_user.should_see("3 / 3 videos done")
    await admin_user.should_see("completed", retries=50)
    assert admin_user.notify.contains("Job is now completed")
    table = admin_user.find(marker="video-table").elements.pop()
    await wait_for(lambda: all(r["state"] == "completed" for r in table.rows), timeout=5)


async def test_controls_pause_resume_cancel(admin_user: User, admin: dict, make_job: Any, container: Bulkdash) -> None:
    job = await make_job(admin, rows=40, duration_ms=200)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    await wait_for(lambda: container.engine.live_row(job["id"])["state"] == "running")
    await admin_user.should_see("running", retries=20)
    assert enabled(admin_user, "pause") and enabled(admin_user, "cancel")
    assert not enabled(admin_user, "resume") and not enabled(admin_user, "retry")

    admin_user.find(marker="pause").click()
    await admin_user.should_see(marker="job-state", content="paus", retries=20)
    await wait_for(lambda: enabled(admin_user, "resume"))
    assert not enabled(admin_user, "pause")

    admin_user.find(marker="resume").click()
    await wait_for(lambda: enabled(admin_user, "pause"))

    admin_user.find(marker="cancel").click()
    await admin_user.should_see(marker="cancel-dialog")
    admin_user.find(marker="cancel-no").click()
    await admin_user.should_not_see(marker="cancel-dialog")
    assert (await container.jobs.get(admin, job["id"]))["state"] == "running"

    admin_user.find(marker="cancel").click()
    await admin_user.should_see(marker="cancel-dialog")
    admin_user.find(marker="cancel-yes").click()
    await admin_user.should_see(marker="job-state", content="canceled", retries=50)
    await wait_for(lambda: not any(enabled(admin_user, m) for m in ("pause", "resume", "cancel", "retry")))


async def test_retry_failed(admin_user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin, rows=2, duration_ms=0, fail_rate=1.0)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    await admin_user.should_see("2 / 2 videos done", retries=100)
    await wait_for(lambda: enabled(admin_user, "retry"), timeout=5)
    await admin_user.should_see(marker="metric-failures", content="2")
    admin_user.notify.messages.clear()
    admin_user.find(marker="retry").click()
    await wait_for(lambda: admin_user.notify.contains("Job is now running"), timeout=5)


async def test_video_table_pages_filters_and_searches_on_the_server(
    admin_user: User, admin: dict, make_job: Any
) -> None:
    job = await make_job(admin, rows=30)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    table = admin_user.find(marker="video-table").elements.pop()
    assert len(table.rows) == 25 and table.pagination["rowsNumber"] == 30
    assert [r["row_index"] for r in table.rows[:2]] == [1, 2]

    admin_user.find(marker="video-table").trigger("request", {"page": 2, "rowsPerPage": 25})
    await wait_for(lambda: len(table.rows) == 5)
    assert table.rows[0]["row_index"] == 26

    admin_user.find(marker="video-table").trigger(
        "request", {"page": 1, "rowsPerPage": 10, "sortBy": "row_index", "descending": True}
    )
    await wait_for(lambda: len(table.rows) == 10 and table.rows[0]["row_index"] == 30)

    admin_user.find(marker="video-search").type("video 7")
    await wait_for(lambda: [r["title"] for r in table.rows] == ["video 7"])
    assert table.pagination["rowsNumber"] == 1 and table.pagination["page"] == 1

    admin_user.find(marker="video-search").clear()
    admin_user.find(marker="video-state-filter").elements.pop().set_value("failed")
    await wait_for(lambda: table.rows == [] and table.pagination["rowsNumber"] == 0)


def patch_calls(sent: list[tuple[str, Any]], table_id: int) -> list[list[Any]]:
    """The arguments of every ``patch`` call the outbox sent to the table (``[length, changes, pagination]``)."""
    prefix = f'return runMethod({table_id}, "patch", '
    return [
        json.loads(data["code"].removeprefix(prefix)[:-1])
        for kind, data in sent
        if kind == "run_javascript" and data["code"].startswith(prefix)
    ]


def record_outbox(user: User) -> list[tuple[str, Any]]:
    """Every message the outbox sends from now on, as ``(type, payload)``."""
    assert user.client is not None
    sent: list[tuple[str, Any]] = []
    original = user.client.outbox._emit

    async def recording(message: Any) -> None:
        sent.append((message[1], message[2]))
        await original(message)

    user.client.outbox._emit = recording  # type: ignore[method-assign]
    return sent


async def test_table_page_change_sends_only_the_rows(admin_user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin, rows=30)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    table = admin_user.find(marker="video-table").elements.pop()
    sent = record_outbox(admin_user)

    admin_user.find(marker="video-table").trigger("request", {"page": 2, "rowsPerPage": 25})
    await wait_for(lambda: any(p[0] == 5 for p in patch_calls(sent, table.id)))
    length, changes, pagination = next(p for p in patch_calls(sent, table.id) if p[0] == 5)
    # five new rows, each a bare list of values; the new pagination; no columns, no cell templates
    assert [i for i, _ in changes] == [0, 1, 2, 3, 4]
    assert [dict(zip(FIELDS, values, strict=True))["row_index"] for _, values in changes] == [26, 27, 28, 29, 30]
    assert pagination["page"] == 2 and pagination["rowsNumber"] == 30
    assert [r["row_index"] for r in table.rows] == [26, 27, 28, 29, 30]  # the element stays the truth
    # the element itself is never sent again: no update message names it
    assert not any(kind == "update" and str(table.id) in map(str, data) for kind, data in sent)
    patch_prefix = f"return runMethod({table.id}, "
    sizes = [len(json.dumps(data)) for kind, data in sent if kind == "run_javascript" and patch_prefix in data["code"]]
    assert sizes and max(sizes) < 5_000


def test_page_changes_send_new_rows_whole_and_old_rows_as_changed_fields() -> None:
    def row(i: int, **fields: Any) -> dict[str, Any]:
        base = {"id": f"vid_{i}", "state": "pending", "progress": 0, "stage": "", "row_index": i, "title": f"v{i}"}
        return {**base, "attempts": 0, "duration_s": None, "error": "", **fields}

    shown = [row(1), row(2), row(3)]
    assert page_changes(shown, shown) == []
    assert page_changes(shown, [row(1), row(2, state="processing", progress=40), row(3)]) == [
        [1, {"state": "processing", "progress": 40}]
    ]
    assert page_changes(shown, [row(1), row(4)]) == [[1, ["vid_4", "pending", 0, "", 4, "v4", 0, None, ""]]]
    assert page_changes([], [row(1)]) == [[0, [row(1)[f] for f in FIELDS]]]


async def test_dashboards_showing_the_same_page_share_one_running_read(
    admin: dict, make_job: Any, container: Bulkdash, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fifty dashboards refreshing together: the first starts the read, the others await it (no second query
    # while the first runs, which the short share cache alone would not prevent).
    job = await make_job(admin, rows=30)
    calls: list[dict[str, Any]] = []
    entered, gate = asyncio.Event(), asyncio.Event()
    original = container.jobs.videos

    async def videos(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        entered.set()
        await gate.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(container.jobs, "videos", videos)
    page = {"state": None, "q": "", "sort": "row_index", "size": 10, "page": 2}
    first = asyncio.create_task(shared_page(container, admin, job["id"], **page))
    await entered.wait()
    others = [asyncio.create_task(shared_page(container, admin, job["id"], **page)) for _ in range(9)]
    other_page = asyncio.create_task(shared_page(container, admin, job["id"], **{**page, "page": 3}))
    asyncio.get_running_loop().call_soon(gate.set)  # after the others asked
    results = await asyncio.gather(first, *others)
    third = await other_page
    assert [c["offset"] for c in calls] == [10, 20]  # one read for page 2, one for page 3
    rows, total, fresh = results[0]
    assert [r["row_index"] for r in rows] == list(range(11, 21)) and total == 30 and fresh
    assert all(r[0] is rows and r[1] == 30 and not r[2] for r in results[1:])  # shared, and told so
    assert [r["row_index"] for r in third[0]] == list(range(21, 31))


async def test_video_details_show_variables_and_attempt_errors(admin_user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin, rows=1, duration_ms=0, fail_rate=1.0)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    await admin_user.should_see("1 / 1 videos done", retries=100)
    table = admin_user.find(marker="video-table").elements.pop()
    await wait_for(lambda: table.rows and table.rows[0]["state"] == "failed", timeout=5)
    assert "simulated failure" in table.rows[0]["error"]
    admin_user.find(marker="video-table").trigger("rowClick", table.rows[0]["id"])
    await admin_user.should_see(marker="video-details")
    await admin_user.should_see("attempt 3 · stage render · simulated_failure")
    await admin_user.should_see("attempt 1 · stage render")
    variables = admin_user.find(marker="video-variables").elements.pop()
    assert {"name": "title", "value": "video 1"} in variables.rows


async def test_results_csv_download(admin_user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin, rows=2, duration_ms=0)
    await admin_user.open(f"/bulk-jobs/{job['id']}")
    await admin_user.should_see("2 / 2 videos done", retries=100)
    admin_user.find(marker="results-csv").click()
    response = await admin_user.download.next()
    lines = response.text.splitlines()
    assert lines[0] == "row_index,title,n,state,error,output_url"
    assert lines[1].startswith("1,video 1,1,completed,")


async def test_foreign_job_is_not_found(user: User, admin: dict, make_job: Any, container: Bulkdash) -> None:
    job = await make_job(admin)
    token, _ = await container.auth.create_token("alice")
    await user.open(f"/?token={token}")
    await user.open(f"/bulk-jobs/{job['id']}")
    await user.should_see(marker="not-found")
    response = await user.http_client.get(f"/files/{job['id']}/results.csv")
    assert response.status_code == 404


async def test_files_need_a_session(user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin)
    response = await user.http_client.get(f"/files/{job['id']}/results.csv")
    assert response.status_code == 401


async def test_unsubscribes_when_the_client_goes(
    admin_user: User, admin: dict, make_job: Any, container: Bulkdash
) -> None:
    job = await make_job(admin)
    before = container.bus.subscriber_count
    client = await admin_user.open(f"/bulk-jobs/{job['id']}")
    assert container.bus.subscriber_count == before + 1
    client.delete()
    assert container.bus.subscriber_count == before
    assert isinstance(ui, object)
