"""Queries for sheet connections and uploads, and the job warnings that sources add (write-back failures)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update

from app.store import tables as t
from app.store.database import Database

_WARNINGS_KEPT = 50


class SourceStore:
    """Rows of ``sheet_connections`` and ``uploads``; ``owner_id=None`` means any owner (admins)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- sheet connections ----------------------------------------------------------------------------------
    async def add_connection(self, row: dict[str, Any]) -> None:
        async with self.db.write() as conn:
            await conn.execute(insert(t.sheet_connections), [row])

    async def get_connection(self, connection_id: str, owner_id: str | None) -> dict[str, Any] | None:
        """The connection, or ``None`` when it does not exist or belongs to another owner."""
        c = t.sheet_connections.c
        stmt = select(t.sheet_connections).where(c.id == connection_id)
        if owner_id is not None:
            stmt = stmt.where(c.owner_id == owner_id)
        return await self._first(stmt)

    async def latest_connection(self, owner_id: str, sheet_id: str) -> dict[str, Any] | None:
        """The owner's most recent connection to ``sheet_id``."""
        c = t.sheet_connections.c
        stmt = (
            select(t.sheet_connections)
            .where(c.owner_id == owner_id, c.sheet_id == sheet_id)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(1)
        )
        return await self._first(stmt)

    async def list_connections(
        self, owner_id: str | None, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first, and the total count."""
        c = t.sheet_connections.c
        where = [] if owner_id is None else [c.owner_id == owner_id]
        stmt = select(t.sheet_connections).where(*where).order_by(c.created_at.desc(), c.id.desc())
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt.limit(limit).offset(offset))).mappings().all()
            total = (await conn.execute(select(func.count()).select_from(t.sheet_connections).where(*where))).scalar()
        return [dict(r) for r in rows], int(total or 0)

    # -- uploads --------------------------------------------------------------------------------------------
    async def add_upload(self, row: dict[str, Any]) -> None:
        async with self.db.write() as conn:
            await conn.execute(insert(t.uploads), [row])

    async def get_upload(self, upload_id: str, owner_id: str | None) -> dict[str, Any] | None:
        """The upload, or ``None`` when it does not exist or belongs to another owner."""
        c = t.uploads.c
        stmt = select(t.uploads).where(c.id == upload_id)
        if owner_id is not None:
            stmt = stmt.where(c.owner_id == owner_id)
        return await self._first(stmt)

    # -- job warnings ---------------------------------------------------------------------------------------
    async def add_job_warning(self, job_id: str, warning: dict[str, Any]) -> list[dict[str, Any]]:
        """Appends ``warning`` to ``jobs.warnings`` (the last few are kept); returns the new list."""
        async with self.db.write() as conn:
            current = (await conn.execute(select(t.jobs.c.warnings).where(t.jobs.c.id == job_id))).scalar()
            warnings = [*(current or []), warning][-_WARNINGS_KEPT:]
            await conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(warnings=warnings))
        return warnings

    async def _first(self, stmt: Any) -> dict[str, Any] | None:
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return dict(row) if row else None
