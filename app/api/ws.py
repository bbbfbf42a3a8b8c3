"""The external WebSocket ``/ws`` (CONTRACT §7): replay from the durable log, then live events.

``GET /ws?job_id=<id>&token=<token>&connection_id=<any>[&last_seq=<n>]``. The server accepts first, then
closes with 4401 (bad token) or 4404 (unknown or foreign job), so browsers can read the code. With a ``job_id``
every frame after ``connection.ready`` carries the job's next ``seq``, each exactly once, in order: the bus
subscription is made before the log is read, and live events at or below the last sent ``seq`` are dropped.
A client that falls behind its bounded queue is closed with 4408 and told the ``last_seq`` to resume from.

Replay reads the log in pages aligned on multiples of ``WsOptions.replay_page``, shared by every client replaying
the same job (:class:`~app.store.events.SharedPages`): a hundred clients resuming at once cost one read and one
``json.dumps`` per logged event, not a hundred.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.bus import Subscription
from app.container import Bulkdash
from app.domain.events import Event
from app.ids import new_id
from app.store.events import SharedPages

log = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_RESTART = 1012

_REPLAY_PAGE = 1000
_DISCONNECTED = (WebSocketDisconnect, OSError, RuntimeError)


class TooSlow(Exception):
    """The client cannot keep up: its queue overflowed or one frame could not be written in time."""


class WsHub:
    """The open ``/ws`` connections of one process, one JSON text per live event shared by all of them
    (200 clients of one job cost one ``json.dumps`` per event, not 200), and the replay pages they share
    (set by :func:`ws_router`; ``clock`` is theirs, for tests)."""

    def __init__(self, cache_size: int = 4096, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.connections: set[WebSocket] = set()
        self._texts: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._cache_size = cache_size
        self.clock = clock
        self.pages: SharedPages[str] | None = None

    @staticmethod
    def encode(event: Event) -> str:
        """The event's wire frame as JSON text."""
        return json.dumps(event.to_wire(), separators=(",", ":"), default=str)

    def text(self, event: Event) -> str:
        """The event's wire frame as JSON text, cached by ``(job_id, seq)``."""
        key = (event.job_id, event.seq)
        text = self._texts.get(key)
        if text is None:
            text = self.encode(event)
            self._texts[key] = text
            if len(self._texts) > self._cache_size:
                self._texts.popitem(last=False)
        return text

    async def close_all(self, code: int = CLOSE_RESTART, reason: str = "server restarting: reconnect") -> None:
        """Closes every open connection (at shutdown; tests use it to force a reconnect)."""
        for ws in list(self.connections):
            with contextlib.suppress(*_DISCONNECTED):
                await asyncio.wait_for(ws.close(code, reason), 1.0)


@dataclass
class WsOptions:
    """Tuning of the ``/ws`` endpoint."""

    #: bounded per-connection queue; when it fills the client is closed with 4408
    queue_size: int = 10_000
    #: a ``{"type": "ping"}`` frame after this many idle seconds
    ping_interval_s: float = 20.0
    #: a frame the client does not take within this time makes it "too slow"
    send_timeout_s: float = 10.0
    #: events per replay page (pages start at multiples of it, so clients resuming anywhere share them)
    replay_page: int = _REPLAY_PAGE
    hub: WsHub = field(default_factory=WsHub)


def ws_router(container: Bulkdash, options: WsOptions | None = None) -> APIRouter:
    """The router holding ``/ws`` (no prefix); ``router.hub`` is its :class:`WsHub`."""
    opts = options or WsOptions(queue_size=int(getattr(container.settings, "ws_queue_size", 10_000)))
    router = APIRouter(tags=["live events"])
    router.hub = opts.hub  # type: ignore[attr-defined]
    pages = opts.hub.pages = SharedPages(container.events, WsHub.encode, clock=opts.hub.clock)

    @router.websocket("/ws")
    async def live_events(websocket: WebSocket) -> None:
        await _Connection(container, websocket, opts, pages).run()

    return router


class _Connection:
    """One client: authenticates, subscribes, replays, then streams until either side leaves."""

    def __init__(self, container: Bulkdash, ws: WebSocket, opts: WsOptions, pages: SharedPages[str]) -> None:
        self.container = container
        self.ws = ws
        self.opts = opts
        self.hub = opts.hub
        self.pages = pages
        self.lock = asyncio.Lock()
        self.sub: Subscription | None = None
        self.job_id: str | None = ws.query_params.get("job_id") or None
        self.last: int = 0

    async def run(self) -> None:
        await self.ws.accept()
        self.hub.connections.add(self.ws)
        try:
            await self._run()
        except _DISCONNECTED:
            pass
        finally:
            self.hub.connections.discard(self.ws)
            if self.sub is not None:
                self.sub.close()

    async def _run(self) -> None:
        params = self.ws.query_params
        await self.container.wait_ready()
        user = await self.container.auth.authenticate(params.get("token") or _bearer(self.ws.headers))
        if user is None:
            await self._close(CLOSE_UNAUTHORIZED, "invalid or missing token")
            return
        requested = params.get("last_seq")
        if requested is not None and not (requested.isdigit() and len(requested) < 19):
            await self._close(CLOSE_BAD_REQUEST, "last_seq must be a non-negative integer")
            return
        owner = None if user.get("is_admin") else user["id"]
        # Subscribe before reading the log: an event committed meanwhile is in the queue, the log, or both.
        self.sub = self.container.bus.subscribe(self.job_id, owner_id=owner, maxsize=self.opts.queue_size)
        if self.job_id is not None:
            row = await self.container.jobs_store.get_job(self.job_id, owner)
            if row is None:
                await self._close(CLOSE_NOT_FOUND, f"job {self.job_id} not found")
                return
            self.last = int(requested) if requested is not None else int(row["last_seq"] or 0)
        ready = {
            "type": "connection.ready",
            "connection_id": params.get("connection_id") or new_id("conn"),
            "job_id": self.job_id,
            "last_seq": self.last if self.job_id is not None else None,
        }
        await self._send(json.dumps(ready))
        tasks = [
            asyncio.create_task(self._pump(replay=requested is not None)),
            asyncio.create_task(self._listen()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            exc = task.exception()
            if isinstance(exc, TooSlow):
                await self._close(CLOSE_TOO_SLOW, self._too_slow_reason())
            elif exc is not None and not isinstance(exc, _DISCONNECTED):
                raise exc

    # -- outgoing -------------------------------------------------------------------------------------------
    async def _pump(self, *, replay: bool) -> None:
        assert self.sub is not None and self.sub.queue is not None
        if replay and self.job_id is not None:
            await self._replay(upto=None)
        queue = self.sub.queue
        while True:
            # get_nowait / asyncio.timeout rather than wait_for: no task per event on the hot path
            try:
                event = queue.get_nowait()
            except asyncio.QueueEmpty:
                try:
                    async with asyncio.timeout(self.opts.ping_interval_s):
                        event = await queue.get()
                except TimeoutError:
                    await self._send('{"type":"ping"}')
                    continue
            if self.sub.overflowed:
                raise TooSlow()
            if self.job_id is None:
                await self._send(self.hub.text(event))
                continue
            if event.seq <= self.last:
                continue
            if event.seq > self.last + 1:  # never expected; the log has what the queue lacks
                await self._replay(upto=event.seq - 1)
            await self._send(self.hub.text(event))
            self.last = event.seq

    async def _replay(self, upto: int | None) -> None:
        """Sends the logged events after ``self.last`` (up to ``upto``), a shared page at a time."""
        assert self.job_id is not None
        while upto is None or self.last < upto:
            # pages end on multiples of the page size: clients resuming from any last_seq share all but the first
            limit = self.opts.replay_page - self.last % self.opts.replay_page
            page = await self.pages.page(self.job_id, self.last, limit)
            for seq, text in page:
                if upto is not None and seq > upto:
                    return
                await self._send(text)
                self.last = seq
            if len(page) < limit:
                return
            await asyncio.sleep(0)  # a cached page is sent without waiting on the store: let others run between

    async def _send(self, text: str) -> None:
        async with self.lock:
            try:
                async with asyncio.timeout(self.opts.send_timeout_s):
                    await self.ws.send_text(text)
            except TimeoutError as exc:
                raise TooSlow() from exc

    # -- incoming -------------------------------------------------------------------------------------------
    async def _listen(self) -> None:
        """Answers ``{"type": "ping"}`` with ``{"type": "pong"}``; returns when the client leaves."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if not text:
                continue
            try:
                frame: Any = json.loads(text)
            except ValueError:
                continue
            if isinstance(frame, dict) and frame.get("type") == "ping":
                await self._send('{"type":"pong"}')

    # -- closing --------------------------------------------------------------------------------------------
    def _too_slow_reason(self) -> str:
        if self.job_id is None:
            return "client too slow: reconnect"
        return f"client too slow: reconnect with last_seq={self.last}"

    async def _close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        with contextlib.suppress(*_DISCONNECTED, TimeoutError):
            await asyncio.wait_for(self.ws.close(code, reason[:120]), 2.0)


def _bearer(headers: Any) -> str | None:
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
