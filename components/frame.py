"""The page layout every page uses: header, navigation, connection status, dark mode, logout; and
:class:`FirstPaint`, which keeps a slow database from turning a page request into NiceGUI's 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from nicegui import app, background_tasks, ui
from nicegui.client import Client
from nicegui.element_filter import ElementFilter
from nicegui.slot import Slot

from app.web.session import current_user, logout

NAV = (("Jobs", "/"), ("New job", "/bulk-jobs/new"), ("Sheets", "/sheets"))
DARK_KEY = "dark"
#: how long a page may wait for its data before NiceGUI answers without it (its ``response_timeout`` is 3 s)
FIRST_PAINT_S = 1.0

# The socket lives in the browser, so only the browser knows whether it is connected. The label is drawn
# by CSS from a data attribute so that Vue re-rendering the element never overwrites it.
_CONNECTION_HEAD = """
<style>
  .bd-conn { display:inline-flex; align-items:center; gap:.35rem; font-size:.8rem; white-space:nowrap; }
  .bd-conn::before { content:''; width:.6rem; height:.6rem; border-radius:50%; background:#9e9e9e; }
  .bd-conn::after { content:'connecting'; }
  .bd-conn[data-state=connected]::before { background:#4caf50; }
  .bd-conn[data-state=connected]::after { content:'connected'; }
  .bd-conn[data-state=reconnecting]::before { background:#ff9800; }
  .bd-conn[data-state=reconnecting]::after { content:'reconnecting'; }
  .bd-conn[data-state=offline]::before { background:#f44336; }
  .bd-conn[data-state=offline]::after { content:'offline'; }
  @media (max-width: 599px) { .bd-conn::after { display:none; } .bd-title { display:none; } }
</style>
<script>
  setInterval(() => {
    const s = window.socket;
    let state = 'reconnecting';
    if (!navigator.onLine || (s && !s.active)) state = 'offline';
    else if (s && s.connected && window.did_handshake) state = 'connected';
    document.querySelectorAll('.bd-conn').forEach((el) => {
      if (el.dataset.state !== state) el.dataset.state = state;
    });
  }, 500);
</script>
"""


@contextmanager
def frame(title: str) -> Iterator[ui.column]:
    """Header + navigation + a centered content column; yields the column."""
    dark = ui.dark_mode(app.storage.user.get(DARK_KEY, False))
    ui.add_head_html(_CONNECTION_HEAD)
    ui.page_title(f"{title} · bulkdash")
    user = current_user()

    def toggle_dark() -> None:
        dark.value = not dark.value
        app.storage.user[DARK_KEY] = dark.value

    def do_logout() -> None:
        logout()
        ui.navigate.to("/login")

    with ui.header().classes("items-center justify-between gap-2 px-3 py-1 bg-slate-800 text-white"):
        with ui.row().classes("items-center gap-3 no-wrap"):
            ui.link("bulkdash", "/").classes("text-lg font-bold text-white no-underline")
            ui.label(title).classes("bd-title text-sm opacity-70").mark("frame-title")
        with ui.row().classes("items-center gap-1 no-wrap"):
            for label, path in NAV:
                ui.link(label, path).classes("text-white no-underline px-2 text-sm")
            ui.element("span").classes("bd-conn ml-2").props('data-state="connecting" title="live connection"')
            ui.button(icon="dark_mode", on_click=toggle_dark).props("flat round dense color=white").tooltip(
                "dark / light"
            ).mark("dark-toggle").classes("bd-dark-toggle")
            if user:
                ui.button(icon="logout", on_click=do_logout).props("flat round dense color=white").tooltip(
                    f"log out {user['name']}"
                ).mark("logout")
    with ui.column().classes("w-full max-w-6xl mx-auto p-2 sm:p-4 gap-4") as content:
        yield content


def retitle(title: str) -> None:
    """Changes the title of the current page (browser tab and header), also after the page was delivered."""
    ui.page_title(f"{title} · bulkdash")
    for label in ElementFilter(kind=ui.label, marker="frame-title", local_scope=False):
        label.set_text(title)


class FirstPaint:
    """``async with FirstPaint():`` around the part of a page build that awaits the database.

    NiceGUI answers a page request when its builder returns (or first waits for the browser's socket), and
    answers 500 when that takes over ``response_timeout``. The page builders await the store, so a busy
    database (a reader pool queued behind a hundred ``/ws`` replays) made dashboards fail to open. Within
    ``FIRST_PAINT_S`` nothing changes: the page is answered complete. After it, the page is answered with what is
    built so far and a spinner, and the builder goes on: what it builds once its data arrives reaches the
    browser through the socket. If the page is given up first (the tab closed, or never connected and
    pruned), the builder is cancelled, so nothing is built (or subscribed to the bus) for a deleted page.
    """

    def __init__(self) -> None:
        self._building = False
        self._spinner: ui.spinner | None = None

    async def __aenter__(self) -> FirstPaint:
        self._client: Client = ui.context.client
        self._slot: Slot = ui.context.slot
        self._task = asyncio.current_task()
        self._building = True
        self._client.on_delete(self._on_delete)
        self._early = background_tasks.create(self._answer_early(), name="first paint")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._building = False
        self._early.cancel()
        if self._spinner is not None and not self._client.is_deleted:
            self._spinner.delete()

    async def _answer_early(self) -> None:
        await asyncio.sleep(FIRST_PAINT_S)
        if not self._building or self._client.is_deleted:
            return
        with self._slot:
            self._spinner = ui.spinner(size="lg").classes("self-center").mark("loading")
        await self._client.connected()  # a waiter for the socket is what makes NiceGUI answer the request now

    def _on_delete(self) -> None:
        if self._building:
            self._task.cancel()
