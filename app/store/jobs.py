"""Job and video queries (reads, creation, and the bulk moves that bypass the writer's buffer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, asc, desc, func, insert, select, update

from app.store import tables as t
from app.store.bulk import insert_many
from app.store.database import Database

#: columns a caller may sort the video table by (``-`` prefix for descending)
VIDEO_SORTS = frozenset(
    {
        "row_index",
        "title",
        "state",
        "progress",
        "attempts",
        "processing_ms",
        "duration_s",
        "size_bytes",
        "started_at",
        "finished_at",
    }
)
JOB_SORTS = frozenset({"created_at", "title", "state", "priority_rank", "finished_at"})


class JobStore:
    """Everything the services and the engine read about jobs and videos."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- creation -------------------------------------------------------------------------------------------
    async def create_job(self, job: dict[str, Any], videos: Sequence[dict[str, Any]]) -> None:
        """Inserts a job and all its videos in one transaction."""
        async with self.db.write() as conn:
            await conn.execute(insert(t.jobs), [job])
            await _insert_videos(conn, videos)

    async def create_job_videos(self, videos: Sequence[dict[str, Any]]) -> None:
        """Inserts the videos of a job whose source was read after it was created."""
        async with self.db.write() as conn:
            await _insert_videos(conn, videos)

    async def find_by_idempotency_key(self, owner_id: str, key: str) -> dict[str, Any] | None:
        async with self.db.read() as conn:
            row = (
                (
                    await conn.execute(
                        select(t.jobs).where(t.jobs.c.owner_id == owner_id, t.jobs.c.idempotency_key == key)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    # -- jobs -----------------------------------------------------------------------------------------------
    async def get_job(self, job_id: str, owner_id: str | None = None) -> dict[str, Any] | None:
        """The job, or ``None`` when it does not exist or belongs to another owner."""
        stmt = select(t.jobs).where(t.jobs.c.id == job_id)
        if owner_id is not None:
            stmt = stmt.where(t.jobs.c.owner_id == owner_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return dict(row) if row else None

    async def list_jobs(
        self,
        owner_id: str | None,
        *,
        state: str | None = None,
        q: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        conds = []
        if owner_id is not None:
            conds.append(t.jobs.c.owner_id == owner_id)
        if state:
            conds.append(t.jobs.c.state.in_(state.split(",")))
        if q:
            conds.append(t.jobs.c.title.ilike(f"%{_escape_like(q)}%", escape="\\"))
        stmt = select(t.jobs).where(*conds)
        return await self._page(stmt, t.jobs, conds, _order(t.jobs, sort, JOB_SORTS, "created_at"), limit, offset)

    async def active_jobs(self) -> list[dict[str, Any]]:
        """Jobs that are not in a final state (the engine resumes them at start-up)."""
        stmt = select(t.jobs).where(t.jobs.c.state.not_in(["completed", "canceled", "failed"]))
        async with self.db.read() as conn:
            return [dict(r) for r in (await conn.execute(stmt.order_by(t.jobs.c.created_at))).mappings()]

    # -- videos ---------------------------------------------------------------------------------------------
    async def get_video(self, job_id: str, video_id: str) -> dict[str, Any] | None:
        stmt = select(t.videos).where(t.videos.c.id == video_id, t.videos.c.job_id == job_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return dict(row) if row else None

    async def list_videos(
        self,
        job_id: str,
        *,
        state: str | None = None,
        q: str | None = None,
        sort: str = "row_index",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        conds: list[Any] = [t.videos.c.job_id == job_id]
        if state:
            conds.append(t.videos.c.state.in_(state.split(",")))
        if q:
            conds.append(t.videos.c.search_text.like(f"%{_escape_like(q.lower())}%", escape="\\"))
        stmt = select(t.videos).where(*conds)
        # row_index is unique within a job: the tie-break that lets SQLite walk ix_videos_job_row for the
        # default order (an ``id`` tie-break needs a temporary B-tree, 20x slower on a deep page of 100k)
        order = _order(t.videos, sort, VIDEO_SORTS, "row_index", unique="row_index")
        return await self._page(stmt, t.videos, conds, order, limit, offset)

    def iter_videos(
        self, job_id: str, columns: Sequence[str] | None = None, batch: int = 5000
    ) -> AsyncIterator[dict[str, Any]]:
        """Every video of a job (only ``columns`` when given) in row order, in batches (for results.csv)."""
        return iter_job_videos(self.db, job_id, columns=columns, batch=batch)

    async def pending_videos(self, job_id: str, after_row: int, limit: int) -> list[dict[str, Any]]:
        """The next pending videos of a job in row order (the engine's refill)."""
        stmt = (
            select(t.videos)
            .where(t.videos.c.job_id == job_id, t.videos.c.state == "pending", t.videos.c.row_index > after_row)
            .order_by(t.videos.c.row_index)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def count_by_state(self, job_id: str) -> dict[str, int]:
        stmt = select(t.videos.c.state, func.count()).where(t.videos.c.job_id == job_id).group_by(t.videos.c.state)
        async with self.db.read() as conn:
            return {state: n for state, n in (await conn.execute(stmt)).all()}

    async def move_videos(
        self, job_id: str, from_states: Sequence[str], to_state: str, extra: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Moves every video of a job in ``from_states`` to ``to_state`` at once; returns the moved rows
        (as they are after the move)."""
        where = and_(t.videos.c.job_id == job_id, t.videos.c.state.in_(list(from_states)))
        async with self.db.write() as conn:
            rows = [dict(r) for r in (await conn.execute(select(t.videos).where(where))).mappings()]
            if rows:
                await conn.execute(update(t.videos).where(where).values(state=to_state, **(extra or {})))
        for row in rows:
            row["_old_state"] = row["state"]
            row["state"] = to_state
            row.update(extra or {})
        return rows

    async def requeue_processing(self) -> int:
        """Crash recovery: videos left ``processing`` by a dead process go back to ``pending``."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(t.videos)
                .where(t.videos.c.state == "processing")
                .values(state="pending", progress=0.0, stage=None)
            )
        return int(result.rowcount or 0)

    async def set_job(self, job_id: str, fields: dict[str, Any]) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(**fields))

    async def jobs_by_state(self) -> dict[str, int]:
        async with self.db.read() as conn:
            stmt = select(t.jobs.c.state, func.count()).group_by(t.jobs.c.state)
            return {s: n for s, n in (await conn.execute(stmt)).all()}

    # -- helpers --------------------------------------------------------------------------------------------
    async def _page(
        self, stmt: Select[Any], table: Any, conds: list[Any], order: list[Any], limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt.order_by(*order).limit(limit).offset(offset))).mappings().all()
            if len(rows) < limit and (rows or offset == 0):
                total = offset + len(rows)  # the last page tells the total: no second scan to count
            else:
                total = (await conn.execute(select(func.count()).select_from(table).where(*conds))).scalar_one()
        return [dict(r) for r in rows], int(total)


#: warnings a job keeps (the newest)
_WARNINGS_KEPT = 50


async def add_job_warning(db: Database, job_id: str, warning: dict[str, Any]) -> list[dict[str, Any]]:
    """Appends ``warning`` to ``jobs.warnings`` (shown on the dashboard; the newest few are kept) and returns
    the new list."""
    async with db.write() as conn:
        current = (await conn.execute(select(t.jobs.c.warnings).where(t.jobs.c.id == job_id))).scalar()
        warnings = [*(current or []), warning][-_WARNINGS_KEPT:]
        await conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(warnings=warnings))
    return warnings


async def iter_job_videos(
    db: Database,
    job_id: str,
    *,
    states: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    batch: int = 5000,
) -> AsyncIterator[dict[str, Any]]:
    """A job's videos (only ``states``, only ``columns`` when given) in row order, read ``batch`` at a time by
    row number, so memory stays flat with 100k videos."""
    v = t.videos.c
    selected = select(*(v[name] for name in columns)) if columns else select(t.videos)
    where = [v.job_id == job_id, *([v.state.in_(list(states))] if states else [])]
    last = 0
    while True:
        stmt = selected.where(*where, v.row_index > last).order_by(v.row_index).limit(batch)
        async with db.read() as conn:
            rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
        if not rows:
            return
        for row in rows:
            yield row
        last = rows[-1]["row_index"]


#: what a new video carries; the other columns start empty (NULL)
_NEW_VIDEO_COLUMNS = (
    "id",
    "job_id",
    "row_index",
    "source_row",
    "title",
    "state",
    "progress",
    "stage",
    "attempts",
    "error",
    "finished_at",
    "variables",
    "search_text",
)


async def _insert_videos(conn: Any, videos: Sequence[dict[str, Any]]) -> None:
    for video in videos:
        video["search_text"] = search_text(video["title"], video["variables"])
    await insert_many(conn, t.videos, _NEW_VIDEO_COLUMNS, videos)


def search_text(title: str, values: dict[str, Any]) -> str:
    """What a video search matches: its title and every value, lower-cased."""
    return "\x1f".join([title, *map(str, values.values())]).lower()


def _order(table: Any, sort: str, allowed: frozenset[str], tiebreak: str, unique: str = "id") -> list[Any]:
    """ORDER BY for ``sort`` (``-`` for descending), ending with the ``unique`` column for a stable order."""
    orders = []
    name = ""
    for part in (sort or tiebreak).split(","):
        part = part.strip()
        name = part.lstrip("-+")
        if name not in allowed:
            raise ValueError(f"sort: unknown column {name!r} (use one of {sorted(allowed)})")
        orders.append(desc(table.c[name]) if part.startswith("-") else asc(table.c[name]))
    if name != unique:
        orders.append(asc(table.c[unique]))
    return orders


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def as_utc(ts: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they are UTC."""
    if ts is None or ts.tzinfo is not None:
        return ts
    return ts.replace(tzinfo=UTC)
