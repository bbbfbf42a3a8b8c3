"""Registers every page of the product (CONTRACT §8): /, /bulk-jobs/new, /bulk-jobs/{id}, /sheets, /login."""

from __future__ import annotations

from typing import Any

from fastapi.responses import RedirectResponse
from nicegui import ui

from app.container import Bulkdash
from app.services.errors import NotFound
from app.web.files import install_file_routes
from app.web.session import current_user, login, login_redirect
from components.dashboard import JobDashboard
from components.frame import frame
from components.job_form import JobForm
from components.jobs_table import JobsTable
from components.login import login_form
from components.sheets import SheetsPanel


def register_pages(container: Bulkdash) -> None:
    """Adds the pages and the session-authenticated file routes to NiceGUI's app (once per process)."""
    install_file_routes(container)

    async def session_user() -> dict[str, Any] | None:
        await container.wait_ready()  # requests may arrive while the process still starts
        return current_user()

    @ui.page("/login")
    async def login_page(error: str = "") -> None:
        await container.wait_ready()
        with frame("Log in"):
            login_form(container, "That token is not valid." if error else "")

    @ui.page("/")
    async def jobs_page(token: str | None = None) -> RedirectResponse | None:
        if token is not None:
            await container.wait_ready()
            user = await login(container, token)
            # a redirect either way, so the token never stays in the address bar or the history
            return RedirectResponse("/" if user else "/login?error=token", status_code=303)
        user = await session_user()
        if user is None:
            return login_redirect()
        with frame("Jobs"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Jobs").classes("text-2xl font-semibold")
                ui.button("New job", icon="add", on_click=lambda: ui.navigate.to("/bulk-jobs/new")).mark("new-job")
            await JobsTable(container, user).start()
        return None

    @ui.page("/bulk-jobs/new")
    async def new_job_page() -> RedirectResponse | None:
        user = await session_user()
        if user is None:
            return login_redirect()
        with frame("New job"):
            ui.label("New job").classes("text-2xl font-semibold")
            await JobForm(container, user).start()
        return None

    @ui.page("/bulk-jobs/{job_id}")
    async def job_page(job_id: str) -> RedirectResponse | None:
        user = await session_user()
        if user is None:
            return login_redirect()
        try:
            job = await container.jobs.get(user, job_id)
        except NotFound:
            with frame("Not found"):
                ui.label(f"Job {job_id} was not found.").classes("text-xl").mark("not-found")
                ui.link("All jobs", "/")
            return None
        with frame(job["title"]):
            await JobDashboard(container, user, job).start()
        return None

    @ui.page("/sheets")
    async def sheets_page() -> RedirectResponse | None:
        user = await session_user()
        if user is None:
            return login_redirect()
        with frame("Sheets"):
            ui.label("Sheet connections").classes("text-2xl font-semibold")
            await SheetsPanel(getattr(container, "sheets", None), user).start()
        return None
