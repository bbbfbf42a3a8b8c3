"""The jobs list: what a user sees, filter, search, live updates, ownership."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User

from app.container import Bulkdash
from tests.conftest import wait_for


def jobs_table(user: User) -> Any:
    return user.find(marker="jobs-table").elements.pop()


async def test_lists_jobs_with_state_progress_and_counts(admin_user: User, admin: dict, make_job: Any) -> None:
    await make_job(admin, rows=3, title="First campaign")
    await make_job(admin, rows=5, title="Second campaign")
    await admin_user.open("/")
    rows = jobs_table(admin_user).rows
    assert [r["title"] for r in rows] == ["Second campaign", "First campaign"]  # newest first
    assert rows[0]["done"] == "0 / 5" and rows[0]["state"] in ("pending", "running")
    assert {"percent", "eta", "created", "color", "failed"} <= rows[0].keys()


async def test_filter_and_search(admin_user: User, admin: dict, make_job: Any, container: Bulkdash) -> None:
    first = await make_job(admin, rows=2, title="Spring sale")
    await make_job(admin, rows=2, title="Autumn sale")
    await container.jobs.cancel(admin, first["id"])
    await admin_user.open("/")
    table = jobs_table(admin_user)
    admin_user.find(marker="job-search").type("Spring")
    await wait_for(lambda: [r["title"] for r in table.rows] == ["Spring sale"])
    admin_user.find(marker="job-search").clear()
    admin_user.find(marker="job-state-filter").elements.pop().set_value("running")
    await wait_for(lambda: [r["title"] for r in table.rows] == ["Autumn sale"])
    admin_user.find(marker="jobs-table").trigger(
        "request", {"page": 1, "rowsPerPage": 20, "sortBy": "title", "descending": False}
    )
    await wait_for(lambda: table.pagination["sortBy"] == "title")


async def test_updates_live(admin_user: User, admin: dict, make_job: Any) -> None:
    job = await make_job(admin, rows=3, duration_ms=50, title="Quick one")
    await admin_user.open("/")
    table = jobs_table(admin_user)
    await wait_for(lambda: table.rows[0]["state"] == "completed" and table.rows[0]["done"] == "3 / 3")
    assert table.rows[0]["id"] == job["id"]


async def test_users_see_only_their_jobs(user: User, admin: dict, make_job: Any, container: Bulkdash) -> None:
    await make_job(admin, title="Admin's job")
    token, _ = await container.auth.create_token("alice")
    alice = await container.auth.authenticate(token)
    await make_job(alice, title="Alice's job")
    await user.open(f"/?token={token}")
    assert [r["title"] for r in jobs_table(user).rows] == ["Alice's job"]


async def test_new_job_button(admin_user: User) -> None:
    await admin_user.open("/")
    admin_user.find(marker="new-job").click()
    await admin_user.should_see(marker="submit")
