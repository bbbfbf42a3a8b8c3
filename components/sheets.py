"""Sheet connections: the list and a connect form.

Built against this interface of the (future) sheet service, ``container.sheets``:

- ``await list(user) -> list[dict]`` — connections ``{id, sheet_id, title, range, columns, created_at}``
- ``await connect(user, sheet_id, range, title, service_account, api_key) -> dict`` — checks access at
  once, raises ``ServiceError`` (or ``SourceError``) with a message for the user.
"""

from __future__ import annotations

import json
from typing import Any

from nicegui import events, ui

from components import fmt

_COLUMNS = [
    {"name": "title", "label": "Title", "field": "title", "align": "left"},
    {"name": "sheet_id", "label": "Sheet id", "field": "sheet_id", "align": "left"},
    {"name": "range", "label": "Range", "field": "range", "align": "left"},
    {"name": "columns", "label": "Columns", "field": "columns", "align": "left"},
    {"name": "created", "label": "Connected", "field": "created", "align": "left"},
]


class SheetsPanel:
    def __init__(self, sheets: Any | None, user: dict[str, Any]) -> None:
        self.sheets, self.user = sheets, user
        self.service_account: dict[str, Any] | None = None
        if sheets is None:
            with ui.card().classes("w-full"):
                ui.label("Google Sheets are not configured on this server.").classes("font-semibold").mark(
                    "sheets-not-configured"
                )
                ui.label("The sheet service is not installed yet; use an uploaded CSV/XLSX or the sample instead.")
            return
        self.table = (
            ui.table(rows=[], columns=_COLUMNS, row_key="id")
            .props("flat bordered")
            .classes("w-full")
            .mark("sheets-table")
        )
        with ui.card().classes("w-full gap-2"):
            ui.label("Connect a sheet").classes("text-lg font-semibold")
            with ui.row().classes("w-full gap-2"):
                self.sheet_id = ui.input("sheet id").classes("grow min-w-64").mark("sheet-id")
                self.range = ui.input("range", value="A1:Z1000").classes("w-40").mark("range")
                self.title = ui.input("title (optional)").classes("w-56").mark("sheet-title")
            with ui.row().classes("w-full gap-2 items-center"):
                ui.upload(
                    label="service-account JSON (optional)",
                    on_upload=self._on_credentials,
                    auto_upload=True,
                    max_files=1,
                ).props('accept=".json"').classes("w-72")
                self.api_key = (
                    ui.input("API key (public sheets, optional)", password=True).classes("w-72").mark("api-key")
                )
            self.error = ui.label().classes("text-negative text-sm").mark("sheet-error")
            ui.button("Connect", icon="link", on_click=self.connect).mark("connect")

    async def start(self) -> None:
        if self.sheets is not None:
            await self.refresh()

    async def refresh(self) -> None:
        items = await self.sheets.list(self.user)
        self.table.rows = [
            {
                "id": c["id"],
                "title": c.get("title") or "",
                "sheet_id": c["sheet_id"],
                "range": c.get("range") or "",
                "columns": ", ".join(c.get("columns") or []),
                "created": fmt.when(c.get("created_at")),
            }
            for c in items
        ]

    async def _on_credentials(self, e: events.UploadEventArguments) -> None:
        try:
            self.service_account = json.loads(await e.file.read())
            self.error.set_text("")
        except ValueError as exc:
            self.service_account = None
            self.error.set_text(f"{e.file.name}: not a JSON file ({exc})")

    async def connect(self) -> None:
        if not (self.sheet_id.value or "").strip():
            self.sheet_id.error = "a sheet id is needed"
            return
        self.sheet_id.error = None
        try:
            await self.sheets.connect(
                self.user,
                self.sheet_id.value.strip(),
                self.range.value or None,
                self.title.value or None,
                self.service_account,
                self.api_key.value or None,
            )
        except Exception as exc:  # the service's own message is the most useful thing to show
            self.error.set_text(getattr(exc, "message", None) or str(exc))
            return
        self.error.set_text("")
        ui.notify("Sheet connected", type="positive")
        await self.refresh()
