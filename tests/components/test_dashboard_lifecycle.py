"""Pages under load and after they go: a slow database must not turn a page request into NiceGUI's 500
(issue #7: 6 of 50 dashboards failed with "HTTP 500 after 3.1 s" while 100 /ws clients replayed a job), and a
page that is given up, or never shown, must leave no client and no bus subscription behind."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from nicegui import app
from nicegui.app.app import prune_tab_storage
from nicegui.client import Client
from nicegui.testing import User

import components.frame
from app.container import Bulkdash
from app.web.server import TAB_STORAGE_AGE_S, bound_tab_storage

GUARD_S = 10.0  # only a bound for a broken build; no test waits for it when things work


class Gate:
    """Stands in for an async service method: every call waits until :meth:`open`, then runs the real one."""

    def __init__(self, method: Callable[..., Awaitable[Any]]) -> None:
        self.method = method
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        try:
            await self.opened.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return await self.method(*args, **kwargs)

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def no_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages answer without their data as soon as they await it (the budget is spent at once)."""
    monkeypatch.setattr(components.frame, "FIRST_PAINT_S", 0.0)


@pytest.mark.usefixtures("no_budget")
async def test_dashboard_opens_while_the_database_is_slow(
    admin_user: User, admin: dict, make_job: Any, container: Bulkdash, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await make_job(admin, rows=3)
    gate = Gate(container.jobs.get)
    monkeypatch.setattr(container.jobs, "get", gate)
    before = container.bus.subscriber_count

    client = await admin_user.open(f"/bulk-jobs/{job['id']}")  # answered (200) while the job read still waits

    await admin_user.should_see(marker="loading")
    assert container.bus.subscriber_count == before
    gate.open()
    await admin_user.should_see(job["title"], retries=50)
    await admin_user.should_see("0 / 3 videos done", retries=50)
    await admin_user.should_not_see(marker="loading")
    assert client.title == f"{job['title']} · bulkdash"
    assert container.bus.subscriber_count == before + 1


@pytest.mark.usefixtures("no_budget")
async def test_jobs_list_opens_while_the_database_is_slow(
    admin_user: User, admin: dict, make_job: Any, container: Bulkdash, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_job(admin, title="Listed while slow")
    gate = Gate(container.jobs.list)
    monkeypatch.setattr(container.jobs, "list", gate)

    await admin_user.open("/")

    await admin_user.should_see(marker="loading")
    gate.open()
    await admin_user.should_not_see(marker="loading", retries=50)
    table = admin_user.find(marker="jobs-table").elements.pop()
    assert [r["title"] for r in table.rows] == ["Listed while slow"]


@pytest.mark.usefixtures("no_budget")
async def test_dashboard_given_up_while_loading_leaves_nothing_behind(
    admin_user: User,
    admin: dict,
    make_job: Any,
    container: Bulkdash,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The tab closes (or never connects) before the data came: the build stops instead of subscribing a
    dashboard of a deleted client to the bus, where no ``on_delete`` would ever unsubscribe it."""
    job = await make_job(admin)
    gate = Gate(container.jobs.get)
    monkeypatch.setattr(container.jobs, "get", gate)
    before = container.bus.subscriber_count
    client = await admin_user.open(f"/bulk-jobs/{job['id']}")
    await asyncio.wait_for(gate.entered.wait(), GUARD_S)

    with caplog.at_level(logging.WARNING, logger="nicegui"):
        client.delete()  # what NiceGUI does reconnect_timeout after the socket closed
        await asyncio.wait_for(gate.cancelled.wait(), GUARD_S)

    assert container.bus.subscriber_count == before
    assert client.id not in Client.instances
    assert not [r for r in caplog.records if "deleted but is still being used" in r.getMessage()]


async def test_dashboard_with_a_fast_database_is_complete_in_the_first_answer(
    admin_user: User, admin: dict, make_job: Any
) -> None:
    """Within the budget nothing changes: no spinner, the dashboard is in the HTML itself."""
    job = await make_job(admin, title="Complete at once")
    response = await admin_user.http_client.get(f"/bulk-jobs/{job['id']}")
    assert response.status_code == 200
    assert "Complete at once" in response.text
    assert "q-spinner" not in response.text


async def test_redirects_leave_no_client(user: User, container: Bulkdash) -> None:
    """A redirect's NiceGUI client is deleted at once (no browser ever connects to it); NiceGUI would keep it
    a minute, so ``/?token=`` logins and session-less requests piled up never-connected clients."""
    before = set(Client.instances)

    no_session = await user.http_client.get("/bulk-jobs/anything", follow_redirects=False)
    token_login = await user.http_client.get(f"/?token={container.admin_token}", follow_redirects=False)
    bad_token = await user.http_client.get("/?token=wrong", follow_redirects=False)

    assert (no_session.status_code, no_session.headers["location"]) == (303, "/login")
    assert (token_login.status_code, token_login.headers["location"]) == (303, "/")
    assert (bad_token.status_code, bad_token.headers["location"]) == (303, "/login?error=token")
    assert set(Client.instances) == before


async def test_tab_storage_of_a_gone_page_is_dropped_within_the_hour(
    admin_user: User, admin: dict, make_job: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NiceGUI keeps an in-memory storage per browser tab for 30 days by default (bulkdash stores nothing there):
    every tab that ever connected would cost memory for a month."""
    monkeypatch.setattr(app.storage, "max_tab_storage_age", app.storage.max_tab_storage_age)  # restored after
    bound_tab_storage()  # what ``bulkdash serve`` does
    job = await make_job(admin)
    client = await admin_user.open(f"/bulk-jobs/{job['id']}")
    tab_id = client.tab_id
    assert tab_id in app.storage._tabs
    client.delete()

    later = time.time() + TAB_STORAGE_AGE_S + 1
    monkeypatch.setattr(sys.modules[prune_tab_storage.__module__], "time", SimpleNamespace(time=lambda: later))
    await prune_tab_storage()

    assert tab_id not in app.storage._tabs
