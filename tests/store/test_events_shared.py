"""Replay pages shared between readers (``SharedPages``): one read per full page, tails never reused stale,
cached pages expire and stay bounded. A fake log counts reads and holds them on a gate; a fake clock ages the
cache: no sleeps, no timings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.domain.events import Event, EventType
from app.store.events import SharedPages

JOB = "job_1"


class FakeLog:
    """An append-only log of one job's events. Every ``after`` is counted and takes its snapshot at once, as a
    query does when it starts, then waits for ``gate`` (when set) before it answers."""

    def __init__(self, n: int) -> None:
        self.events: list[Event] = []
        self.append(n)
        self.calls: list[tuple[str, int, int]] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.running = self.peak = 0

    def append(self, n: int) -> None:
        start = len(self.events)
        self.events += [
            Event(EventType.VIDEO_UPDATED, JOB, seq, datetime(2024, 1, 1, tzinfo=UTC), {"n": seq})
            for seq in range(start + 1, start + n + 1)
        ]

    async def after(self, job_id: str, seq: int, limit: int = 10_000) -> list[Event]:
        self.calls.append((job_id, seq, limit))
        snapshot = [e for e in self.events if e.job_id == job_id and e.seq > seq][:limit]
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.entered.set()
        try:
            if self.gate is not None:
                await self.gate.wait()
        finally:
            self.running -= 1
        return snapshot


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def encode(event: Event) -> str:
    return f"{event.seq}:{event.data['n']}"


def pages(log: FakeLog, clock: Clock | None = None, **kwargs: object) -> SharedPages[str]:
    return SharedPages(log, encode, clock=clock or Clock(), **kwargs)  # type: ignore[arg-type]


async def test_concurrent_readers_of_a_full_page_cause_one_read_and_share_it() -> None:
    log = FakeLog(25)
    log.gate = asyncio.Event()
    shared = pages(log)
    first = asyncio.create_task(shared.page(JOB, 0, 10))
    await log.entered.wait()  # the first read's query runs: later readers may still share a full page
    others = [asyncio.create_task(shared.page(JOB, 0, 10)) for _ in range(9)]
    asyncio.get_running_loop().call_soon(log.gate.set)  # after the others took their first step
    results = await asyncio.gather(first, *others)
    assert log.calls == [(JOB, 0, 10)]
    assert results[0] == tuple((s, f"{s}:{s}") for s in range(1, 11))
    assert all(r is results[0] for r in results)  # one copy of the frames, not ten
    # and cached: the next reader gets it without a read
    assert await shared.page(JOB, 0, 10) is results[0]
    assert len(log.calls) == 1 and shared.reads == 1 and shared.shared == 10


async def test_a_replay_of_the_whole_log_reads_each_full_page_once_for_any_number_of_readers() -> None:
    log = FakeLog(35)
    shared = pages(log)

    async def replay() -> list[int]:
        seen: list[int] = []
        last = 0
        while True:
            page = await shared.page(JOB, last, 10)
            seen += [seq for seq, _ in page]
            last = seen[-1] if seen else last
            if len(page) < 10:
                return seen

    results = await asyncio.gather(*(replay() for _ in range(20)))
    assert all(r == list(range(1, 36)) for r in results)
    full_pages = [(JOB, 0, 10), (JOB, 10, 10), (JOB, 20, 10)]
    assert [c for c in log.calls if c in full_pages] == full_pages  # one read per full page
    assert len(shared) == 3  # the tail (5 events) is not cached


async def test_a_tail_page_is_not_cached() -> None:
    log = FakeLog(5)
    shared = pages(log)
    assert [s for s, _ in await shared.page(JOB, 0, 10)] == [1, 2, 3, 4, 5]
    log.append(2)
    assert [s for s, _ in await shared.page(JOB, 0, 10)] == [1, 2, 3, 4, 5, 6, 7]
    assert len(log.calls) == 2 and len(shared) == 0


async def test_a_tail_read_that_began_before_a_reader_asked_is_not_handed_to_it() -> None:
    # A read's snapshot is taken, then an event is committed, then a second reader (subscribed to the bus after
    # that commit, so the event is not in its queue) asks for the same page while that read still runs: the
    # older tail lacks the event, so the second reader must read again rather than end its replay on it.
    log = FakeLog(3)
    log.gate = asyncio.Event()
    shared = pages(log)
    running = asyncio.create_task(shared.page(JOB, 0, 10))
    await log.entered.wait()  # the snapshot holds seqs 1..3
    log.append(1)
    late = asyncio.create_task(shared.page(JOB, 0, 10))
    asyncio.get_running_loop().call_soon(log.gate.set)  # after the late reader took its first step
    assert [s for s, _ in await running] == [1, 2, 3]
    assert [s for s, _ in await late] == [1, 2, 3, 4]
    assert log.calls == [(JOB, 0, 10), (JOB, 0, 10)]


async def test_a_tail_read_still_waiting_for_its_turn_may_be_shared() -> None:
    log = FakeLog(3)
    log.gate = asyncio.Event()
    shared = pages(log, max_reads=1)
    busy = asyncio.create_task(shared.page("job_other", 0, 10))  # holds the only read slot
    await log.entered.wait()
    queued = [asyncio.create_task(shared.page(JOB, 0, 10)) for _ in range(5)]  # one read, waiting for the slot
    asyncio.get_running_loop().call_soon(log.gate.set)
    await busy
    results = await asyncio.gather(*queued)
    assert all(r is results[0] and [s for s, _ in r] == [1, 2, 3] for r in results)
    assert log.calls == [("job_other", 0, 10), (JOB, 0, 10)]


async def test_at_most_max_reads_run_at_once() -> None:
    log = FakeLog(50)
    log.gate = asyncio.Event()
    shared = pages(log, max_reads=2)
    tasks = [asyncio.create_task(shared.page(JOB, after, 10)) for after in (0, 10, 20, 30)]
    await log.entered.wait()  # every read took its first step; only two may be in a query
    log.gate.set()
    await asyncio.gather(*tasks)
    assert len(log.calls) == 4 and log.peak == 2


async def test_cached_pages_expire_when_unused_and_stay_bounded() -> None:
    log = FakeLog(100)
    clock = Clock()
    shared = pages(log, clock, ttl_s=5.0, max_pages=3)
    for after in (0, 10, 20):
        await shared.page(JOB, after, 10)
    assert len(shared) == 3 and len(log.calls) == 3

    clock.now += 4
    await shared.page(JOB, 0, 10)  # used again: lives on
    assert len(log.calls) == 3
    clock.now += 2
    await shared.page(JOB, 0, 10)  # any use drops what expired
    assert len(shared) == 1  # pages 10 and 20 were unused for 6 s
    assert len(log.calls) == 3

    for after in (30, 40, 50):
        await shared.page(JOB, after, 10)
    assert len(shared) == 3  # bounded: the least recently used (page 0) went first
    await shared.page(JOB, 0, 10)
    assert len(log.calls) == 7

    # with no reader left, the timer set when a page was kept expires them
    clock.now += 5
    assert shared._timer is not None
    shared._timer.cancel()
    shared._on_timer()
    assert len(shared) == 0 and shared._timer is None


async def test_a_failed_read_reaches_every_waiter_and_is_not_cached() -> None:
    log = FakeLog(20)
    log.gate = asyncio.Event()
    shared = pages(log)
    original = log.after

    async def failing(job_id: str, seq: int, limit: int = 10_000) -> list[Event]:
        await original(job_id, seq, limit)
        raise OSError("disk gone")

    log.after = failing  # type: ignore[method-assign]
    tasks = [asyncio.create_task(shared.page(JOB, 0, 10)) for _ in range(3)]
    asyncio.get_running_loop().call_soon(log.gate.set)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    log.after = original  # type: ignore[method-assign]
    assert len(await shared.page(JOB, 0, 10)) == 10
    assert len(log.calls) == 2


async def test_a_waiter_that_goes_away_cancels_no_read() -> None:
    log = FakeLog(20)
    log.gate = asyncio.Event()
    shared = pages(log)
    first = asyncio.create_task(shared.page(JOB, 0, 10))
    await log.entered.wait()
    second = asyncio.create_task(shared.page(JOB, 0, 10))
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    log.gate.set()
    assert len(await second) == 10
    assert len(log.calls) == 1
