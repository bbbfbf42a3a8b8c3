"""The login form: a token in, a session out (CONTRACT §3)."""

from __future__ import annotations

from nicegui import ui

from app.container import Bulkdash
from app.web.session import login


def login_form(container: Bulkdash, error: str = "") -> None:
    """A centered card asking for an API token."""

    async def submit() -> None:
        user = await login(container, token.value or "")
        if user is None:
            message.set_text("Unknown token. Use the token printed by `bulkdash serve` or `bulkdash token create`.")
            return
        ui.navigate.to("/")

    with ui.card().classes("w-full max-w-md mx-auto mt-8 gap-3"):
        ui.label("Log in to bulkdash").classes("text-xl font-semibold")
        ui.label("Paste an API token. Opening /?token=<token> logs you in too.").classes("text-sm opacity-70")
        token = ui.input("API token", password=True, password_toggle_button=True).classes("w-full").mark("token")
        token.on("keydown.enter", submit)
        message = ui.label(error).classes("text-negative text-sm").mark("login-error")
        ui.button("Log in", icon="login", on_click=submit).mark("login")
