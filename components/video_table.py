"""The video table of one job, paged, sorted, filtered and searched on the server.

Only the visible page ever reaches the browser: Quasar's server-side mode (``rowsNumber`` in the
pagination) asks for a page with a ``request`` event and this widget answers with that page alone. And only
what changed: the columns and cell templates are sent once with the element; afterwards a page change or a
live refresh is one small ``patch`` call (``video_table.js``) carrying the rows that differ from the shown
ones (a new row as a list of values, a changed row as its changed fields), never the whole element again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
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
#: what a row sends, in this order (the client's ``patch`` turns such a list back into the row)
FIELDS = ("id", "state", "progress", "stage", "row_index", "title", "attempts", "duration_s", "error")
_COLORS_JS = "({" + ",".join(f"{state}:'{color}'" for state, color in VIDEO_COLORS.items()) + "})"
_STATE_SLOT = (
    r"""<q-td :props="props"><q-badge :color="COLORS[props.value] || 'grey-7'" :label="props.value" /></q-td>"""
).replace("COLORS", _COLORS_JS)
_PROGRESS_SLOT = r"""<q-td :props="props" style="min-width: 7rem">
  <q-linear-progress :value="props.value / 100" size="8px" rounded
    :color="COLORS[props.row.state] || 'grey-7'" />
  <div class="text-xs opacity-70">{{ props.row.stage || '' }} {{ props.value }}%</div>
</q-td>""".replace("COLORS", _COLORS_JS)
PAGE_SIZES = [10, 25, 50, 100]
#: what a page request from the browser may change
_ASKED = ("page", "rowsPerPage", "sortBy", "descending")
#: dashboards of one job showing the same page share one query for this long (a page read of a 100k-video job
#: costs tens of ms; fifty open dashboards refreshing every second would otherwise keep the loop busy)
SHARE_S = 0.8
_recent: dict[tuple, tuple[float, list[dict[str, Any]], int]] = {}
#: reads still running, by the same key: a dashboard that asks meanwhile awaits that read instead of its own
_reading: dict[tuple, asyncio.Task[tuple[list[dict[str, Any]], int]]] = {}


def table_row(video: dict[str, Any]) -> dict[str, Any]:
    """The few fields one table row needs (the full video stays on the server), rounded and trimmed so that
    a page is small and a progress tick changes few of them."""
    error = (video.get("error") or {}).get("message") or ""
    return {
        "id": video["id"],
        "state": video["state"],
        "progress": round(video["progress"] or 0),
        "stage": video.get("stage") or "",
        "row_index": video["row_index"],
        "title": video["title"][:100],
        "attempts": video["attempts"],
        "duration_s": round(video["duration_s"], 1) if video.get("duration_s") is not None else None,
        "error": error[:100],
    }


def page_changes(shown: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """What turns the shown page into ``rows``: ``[index, values]`` per changed row, where values is the whole
    row in :data:`FIELDS` order when another video took that place, else only its changed fields."""
    changes: list[list[Any]] = []
    for i, row in enumerate(rows):
        before = shown[i] if i < len(shown) else None
        if before is None or before.get("id") != row["id"]:
            changes.append([i, [row[field] for field in FIELDS]])
        elif before != row:
            changes.append([i, {k: v for k, v in row.items() if before.get(k) != v}])
    return changes


class PagedTable(ui.table, component="video_table.js"):
    """A ``ui.table`` that can show a new page with a small patch instead of resending the whole element."""

    def show_page(self, rows: list[dict[str, Any]], pagination: dict[str, Any]) -> None:
        """Shows ``rows`` and ``pagination``; sends only what changed (nothing when nothing did)."""
        shown, shown_pagination = self.rows, self.pagination
        if rows == shown and pagination == shown_pagination:
            return
        changes = page_changes(shown, rows)
        with self.props.suspend_updates():  # the props stay the truth for a later full render
            self.props["rows"] = rows
            self.props["pagination"] = pagination
        if self.client.has_socket_connection:
            self.run_method("patch", len(rows), changes, None if pagination == shown_pagination else pagination)
        else:  # first paint (or reconnecting): the element itself carries the page
            self.update()


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
        #: the page the user asked for (the table's own prop is what the browser shows)
        self.pagination: dict[str, Any] = {
            "page": 1,
            "rowsPerPage": page_size,
            "sortBy": "row_index",
            "descending": False,
            "rowsNumber": 0,
        }
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
        self.table = PagedTable(rows=[], columns=COLUMNS, row_key="id", pagination=dict(self.pagination))
        self.table.classes("w-full").props("flat bordered dense").mark("video-table")
        self.table.props["rows-per-page-options"] = PAGE_SIZES
        self.table.props["fields"] = list(FIELDS)
        self.table.add_slot("body-cell-state", _STATE_SLOT)
        self.table.add_slot("body-cell-progress", _PROGRESS_SLOT)
        self.table.on("request", self._on_request, js_handler="(p) => emit(p.pagination)")
        if on_open is not None:
            self.table.on("rowClick", lambda e: on_open(e.args), js_handler="(evt, row) => emit(row.id)")

    @property
    def sort(self) -> str:
        p = self.pagination
        name = p.get("sortBy") or "row_index"
        return f"-{name}" if p.get("descending") else name

    async def _on_filter(self) -> None:
        self.state = self.state_select.value or None
        self.q = (self.search.value or "").strip()
        self.pagination = {**self.pagination, "page": 1}
        await self.refresh()

    async def _on_request(self, e: Any) -> None:
        wanted = e.args if isinstance(e.args, dict) else {}
        self.pagination = {**self.pagination, **{k: wanted[k] for k in _ASKED if k in wanted}}
        await self.refresh()

    async def refresh(self) -> bool:
        """Fetches the visible page only, and sends what changed (unchanged pages send nothing). ``False`` when
        the page came from another dashboard's read (the caller should refresh again later)."""
        p = self.pagination
        size = int(p.get("rowsPerPage") or 25)
        page = max(1, int(p.get("page") or 1))
        try:
            rows, total, fresh = await shared_page(
                self.container, self.user, self.job_id, state=self.state, q=self.q, sort=self.sort, size=size, page=page
            )
        except ServiceError as exc:
            ui.notify(exc.message, type="negative")
            return True
        self.pagination = {**self.pagination, "rowsNumber": total}
        self.table.show_page(rows, self.pagination)
        return fresh


async def shared_page(
    container: Bulkdash,
    user: dict[str, Any],
    job_id: str,
    *,
    state: str | None,
    q: str,
    sort: str,
    size: int,
    page: int,
) -> tuple[list[dict[str, Any]], int, bool]:
    """One page of table rows and the total, shared by the dashboards of one user showing that page: a read
    finished less than :data:`SHARE_S` ago, else the read already running for it, else a new read. The flag is
    ``True`` only for a new read (a shared one may predate the caller's reason to look again)."""
    key = (user["id"], job_id, state, q, sort, size, page)
    hit = _recent.get(key)
    if hit is not None and time.monotonic() - hit[0] < SHARE_S:
        return hit[1], hit[2], False
    running = _reading.get(key)
    fresh = running is None
    if running is None:
        query = container.jobs.videos(
            user, job_id, state=state, q=q or None, sort=sort, limit=size, offset=(page - 1) * size
        )
        running = _reading[key] = asyncio.create_task(_read_rows(key, query))
        running.add_done_callback(_retrieve)
    # shielded: a dashboard that goes away while waiting does not cancel the others' read
    rows, total = await asyncio.shield(running)
    return rows, total, fresh


async def _read_rows(
    key: tuple, query: Awaitable[tuple[list[dict[str, Any]], int]]
) -> tuple[list[dict[str, Any]], int]:
    started = time.monotonic()
    try:
        videos, total = await query
        rows = [table_row(v) for v in videos]
        if len(_recent) > 1000:
            _recent.clear()
        _recent[key] = (started, rows, total)
        return rows, total
    finally:
        if _reading.get(key) is asyncio.current_task():
            del _reading[key]


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Marks a failed read's error as seen when no dashboard waits for it any more (each waiter still gets it)."""
    if not task.cancelled():
        task.exception()
