"""The in-process event bus: committed events fan out to pages, WebSocket clients and webhooks.

Publishing never waits: each subscriber has its own bounded queue (or a cheap callback). A subscriber that
falls behind is marked ``overflowed`` and told so once; it is never allowed to slow the workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from app.domain.events import Event

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscription:
    """One subscriber: all events (``job_id=None``, optionally of one owner) or one job's events."""

    job_id: str | None
    owner_id: str | None
    queue: asyncio.Queue[Event] | None
    callback: Callable[[Event], None] | None = None
    overflowed: bool = False
    delivered: int = 0
    _bus: EventBus | None = field(default=None, repr=False)

    def matches(self, event: Event) -> bool:
        if self.job_id is not None:
            return event.job_id == self.job_id
        return self.owner_id is None or event.owner_id == self.owner_id

    def close(self) -> None:
        if self._bus is not None:
            self._bus.unsubscribe(self)
            self._bus = None


class EventBus:
    """Fan-out of committed events to in-process subscribers."""

    def __init__(self) -> None:
        self._by_job: dict[str, set[Subscription]] = {}
        self._global: set[Subscription] = set()
        self.published = 0

    def subscribe(
        self, job_id: str | None = None, *, owner_id: str | None = None, maxsize: int = 10_000
    ) -> Subscription:
        """A queue-backed subscription; read it with ``await sub.queue.get()``; ``close()`` it when done."""
        sub = Subscription(job_id, owner_id, asyncio.Queue(maxsize))
        return self._add(sub)

    def subscribe_callback(
        self, callback: Callable[[Event], None], job_id: str | None = None, *, owner_id: str | None = None
    ) -> Subscription:
        """A callback subscription; the callback runs in the publisher's loop and must not block."""
        return self._add(Subscription(job_id, owner_id, None, callback))

    def _add(self, sub: Subscription) -> Subscription:
        sub._bus = self
        if sub.job_id is None:
            self._global.add(sub)
        else:
            self._by_job.setdefault(sub.job_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub.job_id is None:
            self._global.discard(sub)
        else:
            subs = self._by_job.get(sub.job_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_job[sub.job_id]

    @property
    def subscriber_count(self) -> int:
        return len(self._global) + sum(len(s) for s in self._by_job.values())

    def publish(self, events: list[Event]) -> None:
        """Hands committed events to every matching subscriber, in order, without waiting."""
        self.published += len(events)
        for event in events:
            targets = list(self._by_job.get(event.job_id, ()))
            targets.extend(s for s in self._global if s.matches(event))
            for sub in targets:
                self._deliver(sub, event)

    @staticmethod
    def _deliver(sub: Subscription, event: Event) -> None:
        if sub.overflowed:
            return
        if sub.callback is not None:
            try:
                sub.callback(event)
            except Exception:
                log.exception("event subscriber failed on %s", event.type)
            sub.delivered += 1
            return
        assert sub.queue is not None
        try:
            sub.queue.put_nowait(event)
            sub.delivered += 1
        except asyncio.QueueFull:
            sub.overflowed = True
            log.warning("subscriber for job %s fell behind; it must resync", sub.job_id)
