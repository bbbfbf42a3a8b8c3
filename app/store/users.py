"""Users and their API tokens (stored as SHA-256 hashes, never in clear)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import insert, select, update

from app.domain.tables import utcnow
from app.ids import new_id
from app.store import tables as t
from app.store.database import Database

TOKEN_PREFIX = "bd_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_or_create_user(self, name: str, *, is_admin: bool = False) -> dict[str, Any]:
        async with self.db.write() as conn:
            row = (await conn.execute(select(t.users).where(t.users.c.name == name))).mappings().first()
            if row:
                if is_admin and not row["is_admin"]:  # an admin asked for this user to be an admin
                    await conn.execute(update(t.users).where(t.users.c.id == row["id"]).values(is_admin=True))
                    return {**dict(row), "is_admin": True}
                return dict(row)
            user = {"id": new_id("usr"), "name": name, "is_admin": is_admin, "created_at": utcnow()}
            await conn.execute(insert(t.users), [user])
            return user

    async def add_token(self, user_id: str, name: str, token: str | None = None) -> tuple[str, dict[str, Any]]:
        """Stores a new token (generated unless given); returns the clear token, once, and its record."""
        token = token or generate_token()
        record = {
            "id": new_id("tok"),
            "user_id": user_id,
            "name": name,
            "token_hash": hash_token(token),
            "prefix": token[:10],
            "created_at": utcnow(),
            "last_used_at": None,
        }
        async with self.db.write() as conn:
            existing = (
                await conn.execute(select(t.tokens.c.id).where(t.tokens.c.token_hash == record["token_hash"]))
            ).first()
            if existing is None:
                await conn.execute(insert(t.tokens), [record])
        return token, record

    async def authenticate(self, token: str) -> dict[str, Any] | None:
        """The user the token belongs to, or ``None``."""
        if not token:
            return None
        digest = hash_token(token)
        stmt = (
            select(t.users, t.tokens.c.token_hash, t.tokens.c.id.label("token_id"))
            .join(t.tokens, t.tokens.c.user_id == t.users.c.id)
            .where(t.tokens.c.token_hash == digest)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None or not hmac.compare_digest(row["token_hash"], digest):
            return None
        user = dict(row)
        user.pop("token_hash")
        return user

    async def touch_token(self, token_id: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(t.tokens).where(t.tokens.c.id == token_id).values(last_used_at=utcnow()))

    async def list_tokens(self) -> list[dict[str, Any]]:
        stmt = (
            select(
                t.tokens.c.id,
                t.tokens.c.name,
                t.tokens.c.prefix,
                t.tokens.c.created_at,
                t.tokens.c.last_used_at,
                t.users.c.name.label("user"),
                t.users.c.is_admin,
            )
            .join(t.users, t.tokens.c.user_id == t.users.c.id)
            .order_by(t.tokens.c.created_at)
        )
        async with self.db.read() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def count_tokens(self) -> int:
        async with self.db.read() as conn:
            return len((await conn.execute(select(t.tokens.c.id))).all())
