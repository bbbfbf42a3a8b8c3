"""Webhook delivery records (table ``webhook_deliveries``): one row per attempt to POST an event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from app.domain.events import iso
from app.domain.tables import utcnow
from app.store import tables as t
from app.store.database import Database
from app.store.jobs import add_job_warning


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        job_id: str,
        event_type: str,
        seq: int,
        attempt: int,
        *,
        status_code: int | None = None,
        error: str | None = None,
        delivered: bool = False,
    ) -> None:
        """Stores the outcome of one delivery attempt."""
        row = {
            "job_id": job_id,
            "event_type": event_type,
            "seq": seq,
            "attempt": attempt,
            "status_code": status_code,
            "error": error,
            "delivered": delivered,
            "created_at": utcnow(),
        }
        async with self.db.write() as conn:
            await conn.execute(insert(t.webhook_deliveries), [row])

    async def list(self, job_id: str, limit: int = 500, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """A job's delivery attempts, oldest first, and their total count."""
        c = t.webhook_deliveries.c
        stmt = select(t.webhook_deliveries).where(c.job_id == job_id).order_by(c.id).limit(limit).offset(offset)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            total = (await conn.execute(select(func.count()).where(c.job_id == job_id))).scalar_one()
        return [{**dict(r), "created_at": iso(r["created_at"])} for r in rows], int(total)

    async def add_job_warning(self, job_id: str, warning: dict[str, Any]) -> None:
        """Appends a warning to ``jobs.warnings`` (shown on the dashboard); keeps the last few."""
        await add_job_warning(self.db, job_id, warning)
