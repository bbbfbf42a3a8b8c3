"""Registers every page of the product (CONTRACT §8): /, /bulk-jobs/new, /bulk-jobs/{id}, /sheets, /login."""

from __future__ import annotations

import functools
from typing import Any

from fastapi.responses import RedirectResponse
from nicegui import ui

from app.container import Bulkdash
from app.services.errors import NotFound
from app.web.files import install_file_routes
from app.web.session import LOGIN_PATH, current_user, login
from components.dashboard import JobDashboard
from components.frame import FirstPaint, frame, retitle
from components.job_form import JobForm
from components.jobs_table import JobsTable
from components.login import login_form
from components.sheets import SheetsPanel

#: NiceGUI answers 500 when a page builder has not answered within ``response_timeout`` (3 s by default). The
#: builders below answer within :class:`FirstPaint`'s budget whatever the database does, so this bounds only a
#: stalled event loop (seconds, e.g. while a 5,000-row job is created) and ``/?token=``, which must read the token
#: before it can redirect. A late page beats a 500 page: that one is a dead end until the user reloads.
RESPONSE_TIMEOUT_S = 30.0
page = functools.partial(ui.page, response_timeout=RESPONSE_TIMEOUT_S)


def redirect(url: str) -> RedirectResponse:
    """A redirect as a page's answer. The page's NiceGUI client is deleted at once: no browser ever connects to a
    redirect, and NiceGUI would keep the client (its outbox loop included) for a minute until it prunes it."""
    ui.context.client.delete()
    return RedirectResponse(url, status_code=303)


def register_pages(container: Bulkdash) -> None:
    """Adds the pages and the session-authenticated file routes to NiceGUI's app (once per process)."""
    install_file_routes(container)

    async def session_user() -> dict[str, Any] | None:
        await container.wait_ready()  # requests may arrive while the process still starts
        return current_user()

    @page("/login")
    async def login_page(error: str = "") -> None:
        await container.wait_ready()
        with frame("Log in"):
            login_form(container, "That token is not valid." if error else "")

    @page("/")
    async def jobs_page(token: str | None = None) -> RedirectResponse | None:
        if token is not None:
            await container.wait_ready()
            user = await login(container, token)
            # a redirect either way, so the token never stays in the address bar or the history
            return redirect("/" if user else f"{LOGIN_PATH}?error=token")
        user = await session_user()
        if user is None:
            return redirect(LOGIN_PATH)
        with frame("Jobs"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Jobs").classes("text-2xl font-semibold")
                ui.button("New job", icon="add", on_click=lambda: ui.navigate.to("/bulk-jobs/new")).mark("new-job")
            async with FirstPaint():
                await JobsTable(container, user).start()
        return None

    @page("/bulk-jobs/new")
    async def new_job_page() -> RedirectResponse | None:
        user = await session_user()
        if user is None:
            return redirect(LOGIN_PATH)
        with frame("New job"):
            ui.label("New job").classes("text-2xl font-semibold")
            async with FirstPaint():
                await JobForm(container, user).start()
        return None

    @page("/bulk-jobs/{job_id}")
    async def job_page(job_id: str) -> RedirectResponse | None:
        user = await session_user()
        if user is None:
            return redirect(LOGIN_PATH)
        with frame("Job"):
            async with FirstPaint():
                try:
                    job = await container.jobs.get(user, job_id)
                except NotFound:
                    retitle("Not found")
                    ui.label(f"Job {job_id} was not found.").classes("text-xl").mark("not-found")
                    ui.link("All jobs", "/")
                    return None
                retitle(job["title"])
                await JobDashboard(container, user, job).start()
        return None

    @page("/sheets")
    async def sheets_page() -> RedirectResponse | None:
        user = await session_user()
        if user is None:
            return redirect(LOGIN_PATH)
        with frame("Sheets"):
            ui.label("Sheet connections").classes("text-2xl font-semibold")
            async with FirstPaint():
                await SheetsPanel(getattr(container, "sheets", None), user).start()
        return None
