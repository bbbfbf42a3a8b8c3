"""``bulkdash serve --native``: the dashboard in its own desktop window (pywebview), logged in as the admin.

The server binds 127.0.0.1 on a free port; the window opens ``/?token=<admin token>``. Closing the window
stops the server like Ctrl-C does (NiceGUI runs the shutdown handlers, so running videos get their grace).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import sys

from app.settings import Settings

#: exit code when no native window can be opened here
EXIT_UNAVAILABLE = 3
WINDOW_SIZE = (1280, 860)
_LINUX_BACKENDS = ("gi", "qtpy", "PyQt6", "PyQt5", "PySide6", "PySide2")


class NativeUnavailable(RuntimeError):
    """No window can be opened here; the message says why and what to do."""


def check_environment(environ: dict[str, str] | None = None, platform: str | None = None) -> None:
    """Raises :class:`NativeUnavailable` when there is no display, no pywebview or no GUI toolkit for it."""
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise NativeUnavailable(
            "no display: --native needs a graphical session (DISPLAY or WAYLAND_DISPLAY is not set). "
            "Run `bulkdash serve` and open the printed URL in a browser instead."
        )
    if importlib.util.find_spec("webview") is None:
        if getattr(sys, "frozen", False):
            raise NativeUnavailable(
                "this binary was built without pywebview, so --native is not available: rebuild it with "
                "`pip install 'bulkdash[desktop]'` done first, or run `bulkdash serve` and use a browser."
            )
        raise NativeUnavailable(
            "pywebview is not installed: --native needs it. Install it with `pip install 'bulkdash[desktop]'` "
            "(or run `bulkdash serve` and use a browser)."
        )
    if platform.startswith("linux") and not any(importlib.util.find_spec(m) for m in _LINUX_BACKENDS):
        raise NativeUnavailable(
            "pywebview has no GUI toolkit here: install GTK's bindings (Debian/Ubuntu: "
            "`apt install python3-gi gir1.2-webkit2-4.1`) or Qt (`pip install 'pywebview[qt]'`)."
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


async def _admin_token(settings: Settings) -> str:
    """The admin token before the server starts (migrates the database first; both are idempotent)."""
    from app.container import build
    from app.store.migrate import upgrade

    container = build(settings)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await upgrade(container.db)
        return await container.auth.ensure_admin()
    finally:
        await container.db.close()


def prepare(settings: Settings) -> str:
    """Checks that a window can open (else prints why and exits), binds 127.0.0.1 on a free port and points the
    window at the auto-login URL. Returns that URL. Call before ``ui.run(native=True)``."""
    try:
        check_environment()
    except NativeUnavailable as exc:
        print(f"bulkdash: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_UNAVAILABLE) from None
    from nicegui import app as nicegui_app

    settings.host = "127.0.0.1"
    settings.port = free_port()
    token = asyncio.run(_admin_token(settings))
    url = f"http://{settings.host}:{settings.port}/?token={token}"
    width, height = WINDOW_SIZE
    nicegui_app.native.window_args.update(url=url, width=width, height=height)
    return url
