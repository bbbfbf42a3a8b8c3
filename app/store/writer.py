"""The single writer: engine changes are merged in memory and committed in batches, then published.

A progress tick costs a dict update, not a commit. Events are handed to subscribers only after the batch that
holds them has committed, so every ``seq`` a client sees is in the durable log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, update

from app.domain.events import Event
from app.store import tables as t
from app.store.bulk import insert_many
from app.store.database import Database

log = logging.getLogger(__name__)
_EVENT_COLUMNS = ("job_id", "seq", "type", "ts", "data")

OnCommitted = Callable[[list[Event]], None]


class BatchWriter:
    """Write-behind buffer with one flush at a time; ``flush()`` also serves as a barrier for commands."""

    def __init__(self, db: Database, *, interval_s: float = 0.05, on_committed: OnCommitted | None = None) -> None:
        self.db = db
        self.interval_s = interval_s
        self.on_committed = on_committed
        self._videos: dict[str, dict[str, Any]] = {}
        self._jobs: dict[str, dict[str, Any]] = {}
        self._events: list[Event] = []
        self._lock = asyncio.Lock()
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0

    # -- called synchronously from the event loop, no I/O -----------------------------------------------
    def update_video(self, video_id: str, fields: dict[str, Any]) -> None:
        pending = self._videos.get(video_id)
        if pending is None:
            self._videos[video_id] = dict(fields)
        else:
            pending.update(fields)
        self._dirty.set()

    def update_job(self, job_id: str, fields: dict[str, Any]) -> None:
        pending = self._jobs.get(job_id)
        if pending is None:
            self._jobs[job_id] = dict(fields)
        else:
            pending.update(fields)
        self._dirty.set()

    def append_event(self, event: Event) -> None:
        self._events.append(event)
        self._dirty.set()

    @property
    def pending(self) -> int:
        return len(self._videos) + len(self._jobs) + len(self._events)

    # -- background loop ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="bulkdash-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        backoff = self.interval_s
        while True:
            await self._dirty.wait()
            await asyncio.sleep(self.interval_s)
            try:
                await self.flush()
                backoff = self.interval_s
            except Exception:  # keep the data and try again: a busy or briefly gone database must not lose it
                log.exception("batch write failed; retrying in %.2fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def flush(self) -> None:
        """Commits everything buffered so far in one transaction, then publishes its events."""
        async with self._lock:
            if not (self._videos or self._jobs or self._events):
                self._dirty.clear()
                return
            videos, jobs, events = self._videos, self._jobs, self._events
            self._videos, self._jobs, self._events = {}, {}, []
            self._dirty.clear()
            try:
                async with self.db.write() as conn:
                    await _update_many(conn, t.videos, videos)
                    if events:
                        await insert_many(
                            conn,
                            t.events,
                            _EVENT_COLUMNS,
                            (
                                {"job_id": e.job_id, "seq": e.seq, "type": e.type.value, "ts": e.ts, "data": e.data}
                                for e in events
                            ),
                        )
                    await _update_many(conn, t.jobs, jobs)
            except BaseException:
                self._restore(videos, jobs, events)
                raise
            self.flushes += 1
        if events and self.on_committed is not None:
            self.on_committed(events)

    def _restore(self, videos: dict[str, dict[str, Any]], jobs: dict[str, dict[str, Any]], events: list[Event]) -> None:
        for vid, fields in videos.items():
            newer = self._videos.get(vid)
            self._videos[vid] = {**fields, **newer} if newer else fields
        for jid, fields in jobs.items():
            newer = self._jobs.get(jid)
            self._jobs[jid] = {**fields, **newer} if newer else fields
        self._events = events + self._events
        self._dirty.set()


async def _update_many(conn: Any, table: Any, rows: dict[str, dict[str, Any]]) -> None:
    """``UPDATE … WHERE id = ?`` as one executemany per distinct set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, fields in rows.items():
        keys = tuple(sorted(fields))
        params = {f"v_{k}": v for k, v in fields.items()}
        params["b_id"] = row_id
        groups.setdefault(keys, []).append(params)
    for keys, params in groups.items():
        stmt = update(table).where(table.c.id == bindparam("b_id")).values({k: bindparam(f"v_{k}") for k in keys})
        await conn.execute(stmt, params)
