"""Every job of the user: state, progress, counts, ETA, created; filter, search, sort, page; live."""

from __future__ import annotations

import time
from typing import Any

from nicegui import ui

from app.container import Bulkdash
from app.domain.events import Event, EventType
from app.domain.states import JobState
from app.services.errors import ServiceError
from components import fmt
from components.state_badge import state_color, state_text

COLUMNS: list[dict[str, Any]] = [
    {"name": "title", "label": "Title", "field": "title", "sortable": True, "align": "left"},
    {"name": "state", "label": "State", "field": "state", "sortable": True, "align": "left"},
    {"name": "progress", "label": "Progress", "field": "percent", "align": "left"},
    {"name": "done", "label": "Done", "field": "done", "align": "right"},
    {"name": "failed", "label": "Failed", "field": "failed", "align": "right"},
    {"name": "eta", "label": "ETA", "field": "eta", "align": "right"},
    {"name": "priority_rank", "label": "Priority", "field": "priority", "sortable": True, "align": "left"},
    {"name": "created_at", "label": "Created (UTC)", "field": "created", "sortable": True, "align": "left"},
]
_TITLE_SLOT = r"""<q-td :props="props">
  <a :href="'/bulk-jobs/' + props.row.id" class="text-primary">{{ props.value }}</a></q-td>"""
_STATE_SLOT = r"""<q-td :props="props"><q-badge :color="props.row.color" :label="props.row.state_text" /></q-td>"""
_PROGRESS_SLOT = r"""<q-td :props="props" style="min-width: 8rem">
  <q-linear-progress :value="props.value / 100" size="10px" rounded :color="props.row.color" />
  <div class="text-xs">{{ Math.floor(props.value) }}%</div></q-td>"""
_JOB_EVENTS = {
    EventType.JOB_PROGRESS,
    EventType.JOB_STATE_CHANGED,
    EventType.JOB_COMPLETED,
    EventType.JOB_FAILED,
    EventType.JOB_CANCELED,
}
TICK_S = 0.5
RESYNC_S = 10.0  # new jobs announce no job event; re-read now and then


def job_row(job: dict[str, Any]) -> dict[str, Any]:
    p = job["progress"]
    final = job["state"] in ("completed", "canceled", "failed")
    return {
        "id": job["id"],
        "title": job["title"],
        "state": job["state"],
        "state_text": state_text(job["state"]),
        "color": state_color(job["state"]),
        "percent": float(p.get("percent_complete") or 0),
        "done": fmt.done_of(p),
        "failed": int(p.get("failed") or 0),
        "eta": "—" if final else fmt.duration(p.get("eta_seconds")),
        "priority": job["priority"],
        "created": fmt.when(job["created_at"]),
    }


class JobsTable:
    """Server-side paged list of jobs that repaints itself when the user's jobs change."""

    def __init__(self, container: Bulkdash, user: dict[str, Any]) -> None:
        self.container, self.user = container, user
        self.dirty = False
        self._synced = time.monotonic()
        with ui.row().classes("w-full items-end gap-2"):
            options = {"": "all states", **{s.value: s.value for s in JobState}}
            self.state_select = (
                ui.select(options, value="", label="state", on_change=self._on_filter)
                .classes("w-40")
                .mark("job-state-filter")
            )
            self.search = (
                ui.input("search title", on_change=self._on_filter)
                .props("clearable debounce=300")
                .classes("grow")
                .mark("job-search")
            )
        pagination = {"page": 1, "rowsPerPage": 20, "sortBy": "created_at", "descending": True, "rowsNumber": 0}
        self.table = ui.table(rows=[], columns=COLUMNS, row_key="id", pagination=pagination).classes("w-full")
        self.table.props("flat bordered").mark("jobs-table")
        self.table.props["rows-per-page-options"] = [10, 20, 50, 100]
        self.table.add_slot("body-cell-title", _TITLE_SLOT)
        self.table.add_slot("body-cell-state", _STATE_SLOT)
        self.table.add_slot("body-cell-progress", _PROGRESS_SLOT)
        self.table.on("request", self._on_request, js_handler="(p) => emit(p.pagination)")
        owner = None if user.get("is_admin") else user["id"]
        self.subscription = container.bus.subscribe_callback(self.on_event, owner_id=owner)
        ui.context.client.on_delete(self.subscription.close)

    async def start(self) -> None:
        """The first page, then the timer (which must come after every await of the page, see dashboard.py)."""
        await self.refresh()
        ui.timer(TICK_S, self.tick)

    def on_event(self, event: Event) -> None:
        if event.type in _JOB_EVENTS:
            self.dirty = True

    async def tick(self) -> None:
        if self.dirty or time.monotonic() - self._synced > RESYNC_S:
            await self.refresh()

    async def _on_filter(self) -> None:
        self.table.pagination = {**self.table.pagination, "page": 1}
        await self.refresh()

    async def _on_request(self, e: Any) -> None:
        if isinstance(e.args, dict):
            self.table.pagination = {**self.table.pagination, **e.args}
        await self.refresh()

    async def refresh(self) -> None:
        self.dirty = False
        self._synced = time.monotonic()
        p = self.table.pagination
        size, page = int(p.get("rowsPerPage") or 20), max(1, int(p.get("page") or 1))
        sort = p.get("sortBy") or "created_at"
        sort = f"-{sort}" if p.get("descending") else sort
        try:
            jobs, total = await self.container.jobs.list(
                self.user,
                state=self.state_select.value or None,
                q=(self.search.value or "").strip() or None,
                sort=sort,
                limit=size,
                offset=(page - 1) * size,
            )
        except ServiceError as exc:
            ui.notify(exc.message, type="negative")
            return
        rows = [job_row(j) for j in jobs]
        pagination = {**p, "rowsNumber": total}
        if rows != self.table.rows or pagination != self.table.pagination:
            self.table.props["pagination"] = pagination
            self.table.props["rows"] = rows
            self.table.update()
