"""Reads of the durable event log (for ``last_seq`` replay)."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.events import Event, EventType
from app.store import tables as t
from app.store.database import Database
from app.store.jobs import as_utc


class EventLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def after(self, job_id: str, seq: int, limit: int = 10_000) -> list[Event]:
        """Events of ``job_id`` with a ``seq`` greater than ``seq``, oldest first."""
        stmt = (
            select(t.events.c.type, t.events.c.seq, t.events.c.ts, t.events.c.data)
            .where(t.events.c.job_id == job_id, t.events.c.seq > seq)
            .order_by(t.events.c.seq)
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            Event(EventType(r.type), job_id, r.seq, as_utc(r.ts), r.data)  # type: ignore[arg-type]
            for r in rows
        ]
