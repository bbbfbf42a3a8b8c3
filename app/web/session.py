"""Browser sessions (CONTRACT §3): a token logs a browser in; the session lives in ``app.storage.user``."""

from __future__ import annotations

from typing import Any

from nicegui import app

from app.container import Bulkdash

SESSION_KEY = "user"
LOGIN_PATH = "/login"


def current_user() -> dict[str, Any] | None:
    """The logged-in user of this browser (``id``, ``name``, ``is_admin``), or ``None``."""
    user = app.storage.user.get(SESSION_KEY)
    return dict(user) if user else None


async def login(container: Bulkdash, token: str) -> dict[str, Any] | None:
    """Checks ``token`` and, when it is valid, keeps its user in the session; ``None`` for a bad token."""
    found = await container.auth.authenticate(token.strip())
    if found is None:
        return None
    # only what pages need: never the token itself, and nothing that is not JSON
    user = {"id": found["id"], "name": found.get("name", ""), "is_admin": bool(found.get("is_admin"))}
    app.storage.user[SESSION_KEY] = user
    return user


def logout() -> None:
    """Forgets the session's user."""
    app.storage.user.pop(SESSION_KEY, None)
