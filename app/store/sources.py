"""Queries for sheet connections and uploads, and the job warnings that sources add (write-back failures)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, insert, select

from app.domain.states import JOB_FINAL, VIDEO_FINAL
from app.store import tables as t
from app.store.database import Database
from app.store.jobs import add_job_warning, iter_job_videos

#: what write-back needs of a finished video (enough for ``video_view``'s state, error and output URL)
_RESULT_COLUMNS = ("id", "job_id", "row_index", "title", "state", "error", "output_path")


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

    # -- write-back after a restart -------------------------------------------------------------------------
    async def write_back_jobs(self) -> list[dict[str, Any]]:
        """Unfinished jobs that ask for write-back and whose rows were already read (they have videos), oldest
        first: ``id, owner_id, state, input_source, write_back``. The caller checks the source type."""
        j, v = t.jobs.c, t.videos.c
        has_videos = select(v.id).where(v.job_id == j.id).exists()
        stmt = (
            select(j.id, j.owner_id, j.state, j.input_source, j.write_back)
            .where(j.state.not_in([s.value for s in JOB_FINAL]), j.write_back.is_not(None), has_videos)
            .order_by(j.created_at, j.id)
        )
        async with self.db.read() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    def final_video_results(self, job_id: str, batch: int = 5000) -> AsyncIterator[dict[str, Any]]:
        """The videos of a job in a final state, in row order and in batches; only the columns a result needs
        (``id, job_id, row_index, title, state, error, output_path``)."""
        finals = [s.value for s in VIDEO_FINAL]
        return iter_job_videos(self.db, job_id, states=finals, columns=_RESULT_COLUMNS, batch=batch)

    # -- job warnings ---------------------------------------------------------------------------------------
    async def add_job_warning(self, job_id: str, warning: dict[str, Any]) -> list[dict[str, Any]]:
        """Appends ``warning`` to ``jobs.warnings`` (the last few are kept); returns the new list."""
        return await add_job_warning(self.db, job_id, warning)

    async def _first(self, stmt: Any) -> dict[str, Any] | None:
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return dict(row) if row else None
