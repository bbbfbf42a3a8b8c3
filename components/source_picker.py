"""Where a new job's rows come from: the bundled sample, an uploaded CSV/XLSX, or a sheet connection.

Shows the detected columns and the first rows; ``source()`` returns the ``input_source`` body.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from nicegui import events, ui

from app.sources.table import SourceError
from app.sources.uploads import parse_upload

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "sample_campaign.csv"
PREVIEW_ROWS = 5


def read_sample() -> list[dict[str, str]]:
    """The bundled sample sheet's rows."""
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
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
    def __init__(self, sheets: Any | None, user: dict[str, Any]) -> None:
        self.sheets, self.user = sheets, user
        self.rows: list[dict[str, str]] = []
        self.name = ""
        self.connections: list[dict[str, Any]] = []
        options = {"sample": "Sample sheet", "upload": "Upload CSV / XLSX", "sheet": "Google Sheet"}
        self.kind = _Toggle(options, value="sample", on_change=self._show).mark("source-kind")
        if sheets is None:
            self.kind.disabled = frozenset({"sheet"})
            self.kind.update()
            ui.label("Google Sheets: not configured on this server yet (no sheet service).").classes(
                "text-xs opacity-70"
            )
        with ui.column().classes("w-full gap-1") as self.upload_box:
            ui.upload(
                label="CSV or XLSX, first row is the header", on_upload=self._on_upload, auto_upload=True, max_files=1
            ).props('accept=".csv,.tsv,.txt,.xlsx"').classes("w-full").mark("upload")
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
            self.use_rows([], "")

    async def _on_upload(self, e: events.UploadEventArguments) -> None:
        await self.load_file(await e.file.read(), e.file.name)

    async def load_file(self, data: bytes, filename: str) -> None:
        """Parses an upload; errors show under the picker."""
        try:
            table = parse_upload(data, filename)
        except SourceError as exc:
            self.use_rows([], "")
            self.error.set_text(exc.message)
            return
        self.use_rows([dict(r.values) for r in table.rows], Path(filename).stem, columns=table.columns)

    def use_rows(self, rows: list[dict[str, str]], name: str, columns: list[str] | None = None) -> None:
        self.rows, self.name = rows, name
        self.error.set_text("")
        self._set_preview(columns or (list(rows[0]) if rows else []), rows[:PREVIEW_ROWS])

    def _set_preview(self, columns: list[str], rows: list[dict[str, str]]) -> None:
        self.columns.set_text(f"{len(self.rows):,} rows · columns: {', '.join(columns)}" if columns else "")
        self.preview.columns = [
            {"name": c, "label": c, "field": c, "align": "left", "classes": "ellipsis", "style": "max-width: 16rem"}
            for c in columns
        ]
        self.preview.rows = [{"__row": i, **{k: str(v)[:80] for k, v in r.items()}} for i, r in enumerate(rows)]
        self.preview.set_visibility(bool(columns))

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
        return {"type": "inline", "rows": self.rows}
