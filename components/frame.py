"""The page layout every page uses: header, navigation, connection status, dark mode, logout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

from app.web.session import current_user, logout

NAV = (("Jobs", "/"), ("New job", "/bulk-jobs/new"), ("Sheets", "/sheets"))
DARK_KEY = "dark"

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
            ui.label(title).classes("bd-title text-sm opacity-70")
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
