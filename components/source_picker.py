"""Where a new job's rows come from: the bundled sample, an uploaded CSV/XLSX, or a sheet connection.

Shows the detected columns and the first rows; ``source()`` returns the ``input_source`` body. An uploaded file
goes through the upload service, the same one as ``POST /api/v1/uploads`` (stored, parsed and limited there,
with the same messages); the job then names it as ``{"type": "upload", "upload_id": ...}``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from nicegui import events, ui

from app.paths import sample_sheet
from app.services.errors import ServiceError, TooLarge
from app.services.uploads import UploadService

PREVIEW_ROWS = 5
NO_UPLOAD = "upload a CSV or XLSX file first"


def read_sample() -> list[dict[str, str]]:
    """The bundled sample sheet's rows."""
    with sample_sheet().open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class _Toggle(ui.toggle):
    """A toggle whose options in ``disabled`` are shown but cannot be picked."""

    disabled: frozenset[str] = frozenset()

    def _update_options(self) -> None:
        super()._update_options()
        for option in self._props["options"]:
            if self._values[option["value"]] in self.disabled:
                option["disable"] = True


class SourcePicker:
    """The source card of the new-job form; ``await start()`` once built."""

    def __init__(self, sheets: Any | None, user: dict[str, Any], uploads: UploadService | None = None) -> None:
        self.sheets, self.user, self.uploads = sheets, user, uploads
        self.rows: list[dict[str, str]] = []
        self.name = ""
        #: the stored upload (``{id, filename, rows, columns, created_at}``) the job will read
        self.upload: dict[str, Any] | None = None
        self.upload_preview: list[dict[str, str]] = []
        self.connections: list[dict[str, Any]] = []
        options = {"sample": "Sample sheet", "upload": "Upload CSV / XLSX", "sheet": "Google Sheet"}
        self.kind = _Toggle(options, value="sample", on_change=self._show).mark("source-kind")
        missing = {k for k, service in (("upload", uploads), ("sheet", sheets)) if service is None}
        if missing:
            self.kind.disabled = frozenset(missing)
            self.kind.update()
        if uploads is None:
            ui.label("Uploads: not configured on this server (no upload service).").classes("text-xs opacity-70")
        if sheets is None:
            ui.label("Google Sheets: not configured on this server yet (no sheet service).").classes(
                "text-xs opacity-70"
            )
        with ui.column().classes("w-full gap-1") as self.upload_box:
            limit = uploads.max_bytes if uploads is not None else None
            self.uploader = (
                ui.upload(
                    label="CSV or XLSX, first row is the header",
                    on_upload=self._on_upload,
                    on_rejected=self._on_rejected,
                    auto_upload=True,
                    max_files=1,
                    max_file_size=limit,
                )
                .props('accept=".csv,.tsv,.txt,.xlsx"')
                .classes("w-full")
                .mark("upload")
            )
        with ui.row().classes("w-full gap-2 items-end") as self.sheet_box:
            self.connection = ui.select({}, label="connection").classes("w-72").mark("sheet-connection")
            self.range = ui.input("range", value="A1:Z1000").classes("w-40").mark("sheet-range")
        self.error = ui.label().classes("text-negative text-sm").mark("source-error")
        self.columns = ui.label().classes("text-sm").mark("columns")
        self.preview = (
            ui.table(rows=[], columns=[], row_key="__row")
            .props("flat dense bordered hide-bottom")
            .classes("w-full")
            .mark("preview")
        )

    async def start(self) -> None:
        if self.sheets is not None:
            try:
                self.connections = list(await self.sheets.list(self.user))
            except Exception as exc:  # the sheet service is another team's; never break the form for it
                self.error.set_text(f"could not list sheet connections: {exc}")
            self.connection.set_options(
                {c["id"]: f"{c.get('title') or c['sheet_id']} ({c['sheet_id']})" for c in self.connections}
            )
        self.use_rows(read_sample(), "Sample campaign")
        self._show()

    def _show(self) -> None:
        kind = self.kind.value
        self.upload_box.set_visibility(kind == "upload")
        self.sheet_box.set_visibility(kind == "sheet")
        if kind == "sample":
            self.use_rows(read_sample(), "Sample campaign")
        elif kind == "sheet":
            conn = next((c for c in self.connections if c["id"] == self.connection.value), None)
            self._set_preview(conn.get("columns", []) if conn else [], [])
        else:
            self.use_upload(self.upload, self.upload_preview)

    async def _on_upload(self, e: events.UploadEventArguments) -> None:
        try:
            if self.uploads is not None:
                self.uploads.check_size(e.file.name, e.file.size())  # refused before reading it
            await self.load_file(await e.file.read(), e.file.name)
        except TooLarge as exc:
            self.fail(exc.message)
        finally:
            self.uploader.reset()  # ready for another file (the summary line names the one in use)

    def _on_rejected(self) -> None:
        """The browser refused a file over the size limit before sending it."""
        limit = self.uploads.max_bytes if self.uploads is not None else 0
        self.fail(f"the file is over the {limit:,}-byte upload limit")

    async def load_file(self, data: bytes, filename: str) -> None:
        """Stores and parses a file with the upload service (as ``POST /uploads``); its errors show under
        the picker."""
        if self.uploads is None:
            self.fail("uploads are not configured on this server")
            return
        try:
            upload = await self.uploads.create(self.user, filename, data)
            # the service keeps a fresh upload's rows, so the preview costs no second parse
            rows = await self.uploads.load_rows(self.user, {"upload_id": upload["id"]})
        except ServiceError as exc:
            self.fail(exc.message)
            return
        self.use_upload(upload, [values for _, _, values in rows[:PREVIEW_ROWS]])

    def fail(self, message: str) -> None:
        """Forgets the upload and shows why next to the field."""
        self.use_upload(None, [])
        self.error.set_text(message)

    def use_upload(self, upload: dict[str, Any] | None, preview: list[dict[str, str]]) -> None:
        """Shows a stored upload: its row count, detected columns and first rows."""
        self.upload, self.upload_preview = upload, preview
        self.name = Path(upload["filename"]).stem if upload else ""
        self.error.set_text("")
        self._set_preview(
            list(upload["columns"]) if upload else [],
            preview,
            upload["rows"] if upload else 0,
            upload["filename"] if upload else "",
        )

    def use_rows(self, rows: list[dict[str, str]], name: str, columns: list[str] | None = None) -> None:
        self.rows, self.name = rows, name
        self.error.set_text("")
        self._set_preview(columns or (list(rows[0]) if rows else []), rows[:PREVIEW_ROWS])

    def _set_preview(
        self, columns: list[str], rows: list[dict[str, str]], count: int | None = None, filename: str = ""
    ) -> None:
        count = len(self.rows) if count is None else count
        summary = f"{count:,} rows · columns: {', '.join(columns)}"
        self.columns.set_text((f"{filename}: {summary}" if filename else summary) if columns else "")
        self.preview.columns = [
            {"name": c, "label": c, "field": c, "align": "left", "classes": "ellipsis", "style": "max-width: 16rem"}
            for c in columns
        ]
        self.preview.rows = [{"__row": i, **{k: str(v)[:80] for k, v in r.items()}} for i, r in enumerate(rows)]
        self.preview.set_visibility(bool(columns))

    def problem(self) -> str | None:
        """Why the source cannot be used yet (``None`` when it can)."""
        if self.kind.value == "upload" and self.upload is None:
            return NO_UPLOAD
        return None

    def source(self) -> dict[str, Any]:
        """The ``input_source`` of the body (validated by JobCreate later)."""
        if self.kind.value == "sheet":
            conn = next((c for c in self.connections if c["id"] == self.connection.value), None)
            body: dict[str, Any] = {
                "type": "sheet",
                "sheet_id": conn["sheet_id"] if conn else "",
                "range": self.range.value or "A1:Z1000",
            }
            if conn:
                body["connection_id"] = conn["id"]
            return body
        if self.kind.value == "upload":
            return {"type": "upload", "upload_id": self.upload["id"] if self.upload else ""}
        return {"type": "inline", "rows": self.rows}
