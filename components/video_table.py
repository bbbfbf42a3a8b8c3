"""The video table of one job, paged, sorted, filtered and searched on the server.

Only the visible page ever reaches the browser: Quasar's server-side mode (``rowsNumber`` in the
pagination) asks for a page with a ``request`` event and this widget answers with that page alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nicegui import ui

from app.container import Bulkdash
from app.domain.states import VideoState
from app.services.errors import ServiceError
from components.state_badge import VIDEO_COLORS

COLUMNS: list[dict[str, Any]] = [
    {"name": "state", "label": "State", "field": "state", "sortable": True, "align": "left"},
    {"name": "progress", "label": "Progress", "field": "progress", "sortable": True, "align": "left"},
    {"name": "row_index", "label": "Row", "field": "row_index", "sortable": True, "align": "right"},
    {"name": "title", "label": "Title", "field": "title", "sortable": True, "align": "left"},
    {"name": "attempts", "label": "Attempts", "field": "attempts", "sortable": True, "align": "right"},
    {"name": "duration_s", "label": "Duration (s)", "field": "duration_s", "sortable": True, "align": "right"},
    {
        "name": "error",
        "label": "Error",
        "field": "error",
        "align": "left",
        "classes": "ellipsis",
        "style": "max-width: 22rem",
    },
]
_STATE_SLOT = r"""<q-td :props="props"><q-badge :color="props.row.color" :label="props.value" /></q-td>"""
_PROGRESS_SLOT = r"""<q-td :props="props" style="min-width: 7rem">
  <q-linear-progress :value="props.value / 100" size="8px" rounded :color="props.row.color" />
  <div class="text-xs opacity-70">{{ props.row.stage || '' }} {{ Math.round(props.value) }}%</div>
</q-td>"""
PAGE_SIZES = [10, 25, 50, 100]
#: dashboards of one job showing the same page share one query for this long (a page read of a 100k-video job
#: costs tens of ms; fifty open dashboards refreshing every second would otherwise keep the loop busy)
SHARE_S = 0.8
_recent: dict[tuple, tuple[float, list[dict[str, Any]], int]] = {}


def table_row(video: dict[str, Any]) -> dict[str, Any]:
    """The few fields one table row needs (the full video stays on the server)."""
    error = (video.get("error") or {}).get("message") or ""
    return {
        "id": video["id"],
        "state": video["state"],
        "color": VIDEO_COLORS.get(video["state"], "grey-7"),
        "progress": video["progress"],
        "stage": video.get("stage") or "",
        "row_index": video["row_index"],
        "title": video["title"][:120],
        "attempts": video["attempts"],
        "duration_s": round(video["duration_s"], 1) if video.get("duration_s") is not None else None,
        "error": error[:160],
    }


class VideoTable:
    """``await refresh()`` re-reads the visible page; filters and paging call it themselves."""

    def __init__(
        self,
        container: Bulkdash,
        user: dict[str, Any],
        job_id: str,
        on_open: Callable[[str], Any] | None = None,
        page_size: int = 25,
    ) -> None:
        self.container, self.user, self.job_id = container, user, job_id
        self.state: str | None = None
        self.q: str = ""
        with ui.row().classes("w-full items-end gap-2"):
            options = {"": "all states", **{s.value: s.value for s in VideoState}}
            self.state_select = (
                ui.select(options, value="", label="state", on_change=self._on_filter)
                .classes("w-40")
                .mark("video-state-filter")
            )
            self.search = (
                ui.input("search title / values", on_change=self._on_filter)
                .props("clearable debounce=300")
                .classes("grow")
                .mark("video-search")
            )
        pagination = {"page": 1, "rowsPerPage": page_size, "sortBy": "row_index", "descending": False, "rowsNumber": 0}
        self.table = ui.table(rows=[], columns=COLUMNS, row_key="id", pagination=pagination).classes("w-full")
        self.table.props("flat bordered dense").mark("video-table")
        self.table.props["rows-per-page-options"] = PAGE_SIZES
        self.table.add_slot("body-cell-state", _STATE_SLOT)
        self.table.add_slot("body-cell-progress", _PROGRESS_SLOT)
        self.table.on("request", self._on_request, js_handler="(p) => emit(p.pagination)")
        if on_open is not None:
            self.table.on("rowClick", lambda e: on_open(e.args), js_handler="(evt, row) => emit(row.id)")

    @property
    def sort(self) -> str:
        p = self.table.pagination
        name = p.get("sortBy") or "row_index"
        return f"-{name}" if p.get("descending") else name

    async def _on_filter(self) -> None:
        self.state = self.state_select.value or None
        self.q = (self.search.value or "").strip()
        self.table.pagination = {**self.table.pagination, "page": 1}
        await self.refresh()

    async def _on_request(self, e: Any) -> None:
        wanted = e.args if isinstance(e.args, dict) else {}
        self.table.pagination = {**self.table.pagination, **wanted}
        await self.refresh()

    async def refresh(self) -> bool:
        """Fetches the visible page only, and sends it (unchanged pages send nothing). ``False`` when the page
        came from another dashboard's recent read (the caller should refresh again later)."""
        p = self.table.pagination
        size = int(p.get("rowsPerPage") or 25)
        page = max(1, int(p.get("page") or 1))
        key = (self.user["id"], self.job_id, self.state, self.q, self.sort, size, page)
        now = time.monotonic()
        hit = _recent.get(key)
        fresh = hit is None or now - hit[0] >= SHARE_S
        if not fresh:
            rows, total = hit[1], hit[2]
        else:
            try:
                videos, total = await self.container.jobs.videos(
                    self.user,
                    self.job_id,
                    state=self.state,
                    q=self.q or None,
                    sort=self.sort,
                    limit=size,
                    offset=(page - 1) * size,
                )
            except ServiceError as exc:
                ui.notify(exc.message, type="negative")
                return True
            rows = [table_row(v) for v in videos]
            if len(_recent) > 1000:
                _recent.clear()
            _recent[key] = (now, rows, total)
        pagination = {**p, "rowsNumber": total}
        if rows != self.table.rows or pagination != self.table.pagination:
            self.table.props["pagination"] = pagination
            self.table.props["rows"] = rows
            self.table.update()
        return fresh
