"""Reads of the durable event log (for ``last_seq`` replay), and replay pages shared between readers."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from sqlalchemy import select

from app.domain.events import Event, EventType
from app.store import tables as t
from app.store.database import Database
from app.store.jobs import as_utc

T = TypeVar("T")
#: ``(seq, what the caller made of the event)``, oldest first
Frames = tuple[tuple[int, T], ...]
_Key = tuple[str, int, int]


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


class ReadsEvents(Protocol):
    async def after(self, job_id: str, seq: int, limit: int = ...) -> list[Event]: ...


class _Read(Generic[T]):
    """One read of one page, awaited by everyone who asked for that page meanwhile."""

    __slots__ = ("started", "task")

    def __init__(self) -> None:
        #: the query began: its snapshot may predate a reader who asks from now on
        self.started = False
        self.task: asyncio.Task[Frames[T]]


class SharedPages(Generic[T]):
    """Pages of one event log read once for everyone who replays the same job at the same time.

    A hundred ``/ws`` clients following a job from ``last_seq=0`` want the same pages; each reading and decoding
    its own copy costs a hundred reads per page and leaves the allocator holding the peak. Here:

    - a *full* page (``limit`` events, seqs ``after+1 .. after+limit``) never changes, since seqs are contiguous
      and the log is append-only: it is read and encoded once, and stays cached until it was not asked for
      during ``ttl_s`` (at most ``max_pages`` pages; the least recently used goes first);
    - a shorter *tail* page is the end of the log as the read's snapshot saw it, so it is never cached, and
      a reader who asks while that read's query already runs does not take it: the snapshot may predate the
      reader's bus subscription and lack an event committed in between. A read still waiting for its turn
      has no snapshot yet; whoever asks meanwhile may share it, tail or not;
    - whoever asks for a page that is being read awaits that one read (cancelling one waiter cancels no read);
    - at most ``max_reads`` reads run at once, so replays leave the store's reader connections to page loads.

    ``encode`` turns each event into what the caller keeps (``/ws``: its JSON text frame), once per page.
    """

    def __init__(
        self,
        log: ReadsEvents,
        encode: Callable[[Event], T],
        *,
        ttl_s: float = 5.0,
        max_pages: int = 32,
        max_reads: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.encode = encode
        self.ttl_s = ttl_s
        self.max_pages = max_pages
        self.clock = clock
        self._pages: OrderedDict[_Key, tuple[float, Frames[T]]] = OrderedDict()  # least recently used first
        self._reading: dict[_Key, _Read[T]] = {}
        self._reads = asyncio.Semaphore(max_reads)
        self._timer: asyncio.TimerHandle | None = None
        #: pages read from the log, and pages served from the cache or an already running read
        self.reads = 0
        self.shared = 0

    def __len__(self) -> int:
        return len(self._pages)

    async def page(self, job_id: str, after: int, limit: int) -> Frames[T]:
        """The events of ``job_id`` after ``after`` (at most ``limit``), as :meth:`EventLog.after` would return
        them now, each ``(seq, encode(event))``. Shorter than ``limit`` only at the end of the log."""
        key = (job_id, after, limit)
        self.expire()
        cached = self._pages.get(key)
        if cached is not None:
            self._pages[key] = (self.clock(), cached[1])
            self._pages.move_to_end(key)
            self.shared += 1
            return cached[1]
        while (read := self._reading.get(key)) is not None:
            may_share = not read.started
            frames = await asyncio.shield(read.task)
            if may_share or _full(frames, after, limit):
                self.shared += 1
                return frames
            # a tail read that began before we asked: read again (the finished read is gone from _reading)
        read = self._reading[key] = _Read()
        read.task = asyncio.create_task(self._read(key, read))
        read.task.add_done_callback(_retrieve)
        return await asyncio.shield(read.task)

    async def _read(self, key: _Key, read: _Read[T]) -> Frames[T]:
        job_id, after, limit = key
        try:
            async with self._reads:
                read.started = True
                self.reads += 1
                events = await self.log.after(job_id, after, limit)
            frames = tuple((e.seq, self.encode(e)) for e in events)
            del events
            if _full(frames, after, limit):
                self._keep(key, frames)
            return frames
        finally:
            if self._reading.get(key) is read:
                del self._reading[key]

    def _keep(self, key: _Key, frames: Frames[T]) -> None:
        self._pages[key] = (self.clock(), frames)
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.ttl_s, self._on_timer)

    def expire(self) -> None:
        """Drops the pages nobody asked for during ``ttl_s`` (also done by a timer while any page is kept)."""
        deadline = self.clock() - self.ttl_s
        while self._pages:
            key, (used, _) = next(iter(self._pages.items()))
            if used > deadline:
                break
            del self._pages[key]

    def _on_timer(self) -> None:
        self._timer = None
        self.expire()
        if self._pages:
            self._timer = asyncio.get_running_loop().call_later(self.ttl_s, self._on_timer)


def _full(frames: Frames[object], after: int, limit: int) -> bool:
    """``limit`` events with the seqs ``after+1 .. after+limit``: a page that no later commit can change."""
    return len(frames) == limit > 0 and frames[0][0] == after + 1 and frames[-1][0] == after + limit


def _retrieve(task: asyncio.Task[object]) -> None:
    """Marks a failed read's exception as seen when every waiter had gone (each waiter still gets it)."""
    if not task.cancelled():
        task.exception()
