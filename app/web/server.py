"""Starts the whole product in one process: ``bulkdash serve``."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from nicegui import app as nicegui_app
from nicegui import ui
from nicegui.client import Client

from app.api.router import install
from app.container import Bulkdash, build
from app.settings import Settings

log = logging.getLogger("bulkdash")

#: default grace for running videos at shutdown (the ``shutdown_grace_s`` setting overrides it)
SHUTDOWN_GRACE_S = 10.0
#: seconds uvicorn waits for open connections (browser tabs) before the lifespan shutdown runs anyway
CONNECTIONS_GRACE_S = 3
#: bulkdash keeps nothing in ``app.storage.tab``, yet NiceGUI makes an in-memory tab storage (~0.7 KB) for every
#: browser tab that connects and keeps it for 30 days by default: a server seeing many tabs grows for a month.
TAB_STORAGE_AGE_S = 3600.0


def shutdown_grace(settings: Settings) -> float:
    """Seconds running videos get to finish when the process stops."""
    return float(getattr(settings, "shutdown_grace_s", SHUTDOWN_GRACE_S))


def mount(container: Bulkdash) -> None:
    """Adds the API, the WebSocket, /metrics and the pages to NiceGUI's app (once per process)."""
    metrics = install(nicegui_app, container)
    metrics.ui_clients = ui_clients
    bound_tab_storage()
    from components.pages import register_pages

    register_pages(container)


def bound_tab_storage() -> None:
    """NiceGUI drops a tab's storage ``max_tab_storage_age`` after its last change; bulkdash's never change."""
    nicegui_app.storage.max_tab_storage_age = TAB_STORAGE_AGE_S


def ui_clients() -> int:
    """Pages the server holds (``bulkdash_ui_clients``): connected ones and those within their reconnect grace
    or not yet connected. It falls back to 0 when every tab has gone; if not, something keeps pages alive."""
    return len(Client.instances)


def storage_secret(settings: Settings) -> str:
    path = settings.data_dir / "storage_secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def serve(settings: Settings, *, native: bool = False, on_started: list | None = None) -> None:
    """Runs the server until interrupted. Ctrl-C or SIGTERM: running videos get a grace period, then go back
    to pending; a second Ctrl-C exits at once. ``native``: the dashboard in its own window (closing it stops
    the server the same way)."""
    if native:
        from app.web import native as native_mode

        native_mode.prepare(settings)  # exits with a clear message when no window can be opened
    container = build(settings)
    mount(container)
    grace = shutdown_grace(settings)
    stopping = _ShutdownState()

    async def startup() -> None:
        stopping.chain_signals()  # uvicorn has installed its handlers by now; ours go in front of them
        await container.start()
        url = f"http://{settings.host}:{settings.port}/?token={container.admin_token}"
        print(f"bulkdash is running: open {url}", flush=True)
        if not on_started:
            await _hint_when_empty(container, settings)
        for hook in on_started or []:
            await hook(container)

    async def shutdown() -> None:
        print(f"bulkdash is stopping: running videos get up to {grace:g}s to finish", file=sys.stderr, flush=True)
        await container.stop(grace_s=grace)
        stopping.done = True
        print("bulkdash stopped", file=sys.stderr, flush=True)

    nicegui_app.on_startup(startup)
    nicegui_app.on_shutdown(shutdown)
    stopping.install_outer()
    ui.run(
        host=settings.host,
        port=settings.port,
        title="bulkdash",
        reload=False,
        show=False,
        native=native,
        storage_secret=storage_secret(settings),
        fastapi_docs=True,
        uvicorn_logging_level=settings.log_level.lower() if settings.log_level == "DEBUG" else "warning",
        favicon="🎬",
        timeout_graceful_shutdown=CONNECTIONS_GRACE_S,
    )


async def _hint_when_empty(container: Bulkdash, settings: Settings) -> None:
    """On a first start (no job at all), tells the newcomer how to see work at once."""
    try:
        empty = not sum((await container.jobs_store.jobs_by_state()).values())
    except Exception:  # a hint must never stop the server
        log.debug("could not count jobs", exc_info=True)
        return
    if empty:
        where = f"http://{settings.host}:{settings.port}/bulk-jobs/new"
        print(f"no jobs yet: run `bulkdash demo` or open {where}", flush=True)


class _ShutdownState:
    """Signal handling around uvicorn's own.

    uvicorn turns SIGINT/SIGTERM into ``should_exit`` (then the lifespan shutdown runs ``container.stop``), and
    after a graceful stop it restores the handlers it found and raises the signal again. So:

    * inside the server (:meth:`chain_signals`), a second SIGINT or SIGTERM exits at once (code 130), even while
      the grace period runs — uvicorn alone would wait for it (a copy within ``DUPLICATE_WINDOW_S`` is ignored);
    * outside (:meth:`install_outer`), the re-raised signal after a completed graceful stop is ignored, so the
      process exits 0; a signal before the server took over keeps the usual meaning.
    """

    #: a signal this soon after the first is the same Ctrl-C delivered twice (a terminal signals the whole process
    #: group, and a PyInstaller one-file binary's bootloader forwards it to its child once more)
    DUPLICATE_WINDOW_S = 0.25

    def __init__(self) -> None:
        self.done = False
        self.first_at: float | None = None

    def install_outer(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._outer)

    def _outer(self, signum: int, frame: FrameType | None) -> None:
        if self.done:
            return  # uvicorn re-raised the signal after our graceful stop: exit normally (0)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    def chain_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            signal.signal(sig, self._inner(previous))

    def _inner(self, previous: Any) -> Callable[[int, FrameType | None], None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            now = time.monotonic()
            if self.first_at is not None:
                if now - self.first_at < self.DUPLICATE_WINDOW_S:
                    return
                print("second interrupt: exiting now", file=sys.stderr, flush=True)
                os._exit(130)
            self.first_at = now
            print("stopping (press Ctrl-C again to exit at once)", file=sys.stderr, flush=True)
            if callable(previous):
                previous(signum, frame)

        return handler
