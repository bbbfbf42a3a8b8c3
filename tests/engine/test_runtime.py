"""The in-memory job runtime."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.progress import ProgressTracker
from app.engine.runtime import JobRuntime


def _runtime(job_id: str, created_at: datetime, rank: int = 1) -> JobRuntime:
    row = {"id": job_id, "priority_rank": rank, "created_at": created_at}
    return JobRuntime(row=row, generator=None, tracker=ProgressTracker(), seq=0)


def test_jobs_read_back_from_sqlite_sort_among_new_ones() -> None:
    """After a restart the stored jobs carry naive UTC times (SQLite) and new jobs aware ones."""
    stored = _runtime("stored", datetime(2026, 11, 29, 9, 0))  # naive, as SQLite gives it back
    new = _runtime("new", datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    urgent = _runtime("urgent", datetime(2026, 11, 29, 11, 0, tzinfo=UTC), rank=3)
    order = sorted([new, stored, urgent], key=lambda rt: rt.sort_key)
    assert [rt.id for rt in order] == ["urgent", "stored", "new"]
