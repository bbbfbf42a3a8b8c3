"""Users and API tokens: the admin token at start-up, token creation and listing, authentication."""

from __future__ import annotations

import os
from typing import Any

from app.settings import Settings
from app.store.users import UserStore

ADMIN_NAME = "admin"


class AuthService:
    def __init__(self, users: UserStore, settings: Settings) -> None:
        self.users = users
        self.settings = settings

    @property
    def admin_token_file(self):  # noqa: ANN201 - a Path
        return self.settings.data_dir / "admin_token"

    async def ensure_admin(self) -> str:
        """The admin's token: ``BULKDASH_ADMIN_TOKEN`` when set, else the one generated on the first start
        (kept in ``<DATA_DIR>/admin_token``, readable by its owner only)."""
        admin = await self.users.get_or_create_user(ADMIN_NAME, is_admin=True)
        if self.settings.admin_token:
            await self.users.add_token(admin["id"], "admin (BULKDASH_ADMIN_TOKEN)", self.settings.admin_token)
            return self.settings.admin_token
        path = self.admin_token_file
        if path.exists():
            token = path.read_text().strip()
            if token:
                await self.users.add_token(admin["id"], "admin (generated)", token)
                return token
        token, _ = await self.users.add_token(admin["id"], "admin (generated)")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
        return token

    async def authenticate(self, token: str | None) -> dict[str, Any] | None:
        """The user behind a bearer token, or ``None``."""
        return await self.users.authenticate(token or "")

    async def create_token(self, name: str, *, admin: bool = False) -> tuple[str, dict[str, Any]]:
        """A new token for user ``name`` (created if needed). The clear token is returned once, never stored."""
        user = await self.users.get_or_create_user(name, is_admin=admin)
        token, record = await self.users.add_token(user["id"], name)
        return token, {**record, "user": user["name"], "is_admin": user["is_admin"]}

    async def list_tokens(self) -> list[dict[str, Any]]:
        return await self.users.list_tokens()
