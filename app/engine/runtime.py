"""The in-memory state of one active job, owned by the event loop alone."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from app.domain.progress import ProgressTracker
from app.domain.states import JobState
from app.generators.base import Generator
from app.store.jobs import as_utc

_tiebreak = itertools.count()


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass(eq=False)
class JobRuntime:
    """A job the engine is working on: its row, counters, the videos it holds and the ones running."""

    row: dict[str, Any]
    generator: Generator | None
    tracker: ProgressTracker
    seq: int
    #: pending videos loaded from the store, in row order
    buffer: deque[dict[str, Any]] = field(default_factory=deque)
    #: last row_index loaded; rows above it are still only in the store
    cursor: int = 0
    exhausted: bool = False
    refilling: asyncio.Event | None = None
    #: videos waiting for their retry backoff: (ready_at monotonic, tiebreak, video)
    retries: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    running: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    #: videos whose progress changed since the last tick (coalesced into ``video.updated``)
    dirty_videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    dirty_progress: bool = True
    #: set when the job must stop handing out work (cancel, deadline, failure)
    halted: bool = False
    #: the error the job fails with once its running videos have stopped
    fail_error: dict[str, Any] | None = None
    started_monotonic: float | None = None
    finishing: bool = False
    #: cleared while a big job's ``video.created`` events are still being emitted; nothing else of the job
    #: (work, commands, progress) may get a ``seq`` before them
    ready: asyncio.Event = field(default_factory=_set_event)

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def state(self) -> JobState:
        return JobState(self.row["state"])

    @property
    def sort_key(self) -> tuple[int, Any]:
        # rows read back from SQLite carry naive UTC times, new jobs aware ones: both must compare
        return (-self.row["priority_rank"], as_utc(self.row["created_at"]))

    def push_retry(self, video: dict[str, Any], delay_s: float) -> None:
        heapq.heappush(self.retries, (time.monotonic() + delay_s, next(_tiebreak), video))

    def pop_ready_retry(self) -> dict[str, Any] | None:
        if self.retries and self.retries[0][0] <= time.monotonic():
            return heapq.heappop(self.retries)[2]
        return None

    def next_retry_in(self) -> float | None:
        if not self.retries:
            return None
        return max(0.0, self.retries[0][0] - time.monotonic())

    @property
    def unfinished(self) -> int:
        counts = self.tracker.counts
        return counts["pending"] + counts["processing"]
