"""Starts the whole product in one process: ``bulkdash serve``."""

from __future__ import annotations

import logging
import secrets
import signal
import sys

from nicegui import app as nicegui_app
from nicegui import ui

from app.api.router import create_api_router
from app.container import Bulkdash, build
from app.settings import Settings

log = logging.getLogger("bulkdash")

SHUTDOWN_GRACE_S = 10.0


def mount(container: Bulkdash) -> None:
    """Adds the API, the WebSocket, /metrics and the pages to NiceGUI's app (once per process)."""
    nicegui_app.include_router(create_api_router(container))
    from components.pages import register_pages

    register_pages(container)


def storage_secret(settings: Settings) -> str:
    path = settings.data_dir / "storage_secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def serve(settings: Settings, *, native: bool = False, on_started: list | None = None) -> None:
    """Runs the server until interrupted. Ctrl-C or SIGTERM: running videos get a grace period, then go back
    to pending; a second Ctrl-C exits at once."""
    container = build(settings)
    mount(container)

    async def startup() -> None:
        await container.start()
        url = f"http://{settings.host}:{settings.port}/?token={container.admin_token}"
        print(f"bulkdash is running: open {url}", flush=True)
        for hook in on_started or []:
            await hook(container)

    async def shutdown() -> None:
        await container.stop(grace_s=SHUTDOWN_GRACE_S)

    nicegui_app.on_startup(startup)
    nicegui_app.on_shutdown(shutdown)
    _second_interrupt_exits()
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
    )


def _second_interrupt_exits() -> None:
    count = {"n": 0}
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: object) -> None:
        count["n"] += 1
        if count["n"] > 1:
            print("second interrupt: exiting now", file=sys.stderr, flush=True)
            import os

            os._exit(130)
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGINT, handler)
