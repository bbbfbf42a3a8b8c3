"""Webhooks: a job's final event (and, if configured, each state change) is POSTed to its ``webhook_url``.

The body is the event's wire format (CONTRACT §7) as JSON. Each request carries
``X-Bulkdash-Signature: t=<unix ts>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>``, plus ``X-Bulkdash-Event``
and ``X-Bulkdash-Delivery`` (``<job_id>:<seq>``, the same on every retry, so a receiver can drop repeats).
The secret is ``BULKDASH_WEBHOOK_SECRET`` when set, else one generated on first use and kept in
``<DATA_DIR>/webhook_secret`` (owner-readable only). Receivers should verify the signature and refuse a ``t``
older than a few minutes.

5xx, 408, 429, timeouts and connection errors are retried with exponential backoff and jitter, a bounded
number of times; every attempt is stored in ``webhook_deliveries``; a delivery that never succeeds adds a
warning to the job. Only http(s) URLs are allowed, and hosts that resolve to private, loopback, link-local or
otherwise non-global addresses are refused unless ``webhook_allow_private`` is set. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import secrets
import socket
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.bus import EventBus, Subscription
from app.domain.events import FINAL_JOB_EVENTS, Event, EventType, iso
from app.store.database import Database
from app.store.jobs import JobStore
from app.store.webhooks import WebhookStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Bulkdash-Signature"
_RETRY_STATUSES = frozenset({408, 425, 429})


class Refused(Exception):
    """The URL may not be called (scheme, or a private address); never retried."""


@dataclass
class WebhookConfig:
    """How webhooks are sent. :meth:`from_settings` reads the ``webhook_*`` settings (all optional)."""

    secret: str
    allow_private: bool = False
    state_changes: bool = False
    max_attempts: int = 5
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0
    timeout_s: float = 10.0
    concurrency: int = 4

    @classmethod
    def from_settings(cls, settings: Any) -> WebhookConfig:
        return cls(
            secret=getattr(settings, "webhook_secret", None) or load_secret(Path(settings.data_dir)),
            allow_private=bool(getattr(settings, "webhook_allow_private", False)),
            state_changes=bool(getattr(settings, "webhook_state_changes", False)),
            max_attempts=int(getattr(settings, "webhook_max_attempts", 5)),
            retry_base_s=float(getattr(settings, "webhook_retry_base_s", 1.0)),
            retry_max_s=float(getattr(settings, "webhook_retry_max_s", 60.0)),
            timeout_s=float(getattr(settings, "webhook_timeout_s", 10.0)),
        )


def load_secret(data_dir: Path) -> str:
    """The process's webhook secret from ``<data_dir>/webhook_secret``, generated (mode 0600) on first use."""
    path = data_dir / "webhook_secret"
    if path.exists():
        text = path.read_text().strip()
        if text:
            return text
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")
    return secret


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Bulkdash-Signature`` value for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str, tolerance_s: float = 300.0) -> bool:
    """Checks a signature header as a receiver should (constant-time, with a freshness window)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance_s:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def check_url_syntax(url: str) -> str | None:
    """Why ``url`` can never be a webhook target (scheme, host), or ``None``. Cheap; for request validation."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "webhook_url must be an http or https URL"
    if not parts.hostname:
        return "webhook_url has no host"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "webhook_url has an invalid port"
    return None


async def check_url(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` may not be called now (bad syntax, or a host resolving to a non-global address), or ``None``.

    Raises ``OSError`` when the host cannot be resolved (a transient failure, retried)."""
    reason = check_url_syntax(url)
    if reason or allow_private:
        return reason
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        if mapped is not None:
            ip = mapped
        if not ip.is_global or ip.is_multicast:
            return f"webhook host {host} resolves to {ip}, a private or local address (refused)"
    return None


class WebhookDispatcher:
    """Subscribes to the bus and delivers webhook events in the background; ``start()`` / ``stop()``."""

    def __init__(
        self,
        bus: EventBus,
        db: Database,
        jobs: JobStore,
        settings: Any,
        *,
        config: WebhookConfig | None = None,
        live_row: Any = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.bus = bus
        self.jobs = jobs
        self.store = WebhookStore(db)
        self.settings = settings
        self.config = config
        #: ``engine.live_row``: the webhook URL of a running job without a database read
        self.live_row = live_row
        self._transport = transport
        #: one ordered lane per job (its events are delivered in ``seq`` order; jobs do not wait on each other);
        #: unbounded, because final events are rare and never dropped
        self._lanes: dict[str, deque[Event]] = {}
        self._sub: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self._http: httpx.AsyncClient | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy = 0

    async def deliveries(self, job_id: str, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """A job's delivery attempts, oldest first, and their total (the caller checks the job is the user's)."""
        return await self.store.list(job_id, limit=limit, offset=offset)

    async def start(self) -> None:
        if self.config is None:
            self.config = WebhookConfig.from_settings(self.settings)
        self._http = httpx.AsyncClient(
            timeout=self.config.timeout_s,
            follow_redirects=False,
            transport=self._transport,
            headers={"User-Agent": "bulkdash-webhooks/0.1"},
        )
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._sub = self.bus.subscribe_callback(self._on_event)

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stops listening; deliveries in progress get ``grace_s`` to finish."""
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if grace_s > 0:
            with contextlib.suppress(TimeoutError):
                await self.drain(grace_s)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def drain(self, timeout: float | None = None) -> None:
        """Waits until every queued delivery has finished (succeeded or given up)."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    def _on_event(self, event: Event) -> None:
        assert self.config is not None
        wanted = event.type in FINAL_JOB_EVENTS or (
            self.config.state_changes and event.type == EventType.JOB_STATE_CHANGED
        )
        if not wanted:
            return
        self._busy += 1
        self._idle.clear()
        lane = self._lanes.get(event.job_id)
        if lane is None:
            lane = self._lanes[event.job_id] = deque()
            task = asyncio.create_task(self._run_lane(event.job_id, lane), name=f"bulkdash-webhook-{event.job_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        lane.append(event)

    async def _run_lane(self, job_id: str, lane: deque[Event]) -> None:
        try:
            while lane:
                event = lane[0]
                try:
                    await self.deliver(event)
                except Exception:
                    log.exception("webhook for job %s (%s) failed", event.job_id, event.type)
                lane.popleft()
                self._done(1)
        finally:
            self._lanes.pop(job_id, None)
            self._done(len(lane))

    def _done(self, n: int) -> None:
        self._busy -= n
        if self._busy <= 0:
            self._busy = 0
            self._idle.set()

    async def _url(self, event: Event) -> str | None:
        if event.type in FINAL_JOB_EVENTS:
            return event.data.get("webhook_url")
        row = self.live_row(event.job_id) if self.live_row is not None else None
        if row is None:
            row = await self.jobs.get_job(event.job_id)
        return (row or {}).get("webhook_url")

    async def deliver(self, event: Event) -> bool:
        """POSTs one event to its job's webhook, retrying transient failures. True when delivered."""
        assert self.config is not None and self._http is not None
        url = await self._url(event)
        if not url:
            return False
        cfg = self.config
        body = json.dumps(event.to_wire(), separators=(",", ":"), default=str).encode()
        last_error = ""
        for attempt in range(1, cfg.max_attempts + 1):
            status: int | None = None
            retry = True
            try:
                refused = await check_url(url, allow_private=cfg.allow_private)
                if refused:
                    raise Refused(refused)
                assert self._slots is not None
                async with self._slots:
                    response = await self._http.post(url, content=body, headers=self._headers(event, body))
                status = response.status_code
                if 200 <= status < 300:
                    await self.store.record(
                        event.job_id, event.type.value, event.seq, attempt, status_code=status, delivered=True
                    )
                    return True
                retry = status >= 500 or status in _RETRY_STATUSES
                last_error = f"HTTP {status}"
            except Refused as exc:
                retry, last_error = False, str(exc)
            except (httpx.TransportError, OSError) as exc:
                last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            await self.store.record(
                event.job_id, event.type.value, event.seq, attempt, status_code=status, error=last_error
            )
            if not retry or attempt == cfg.max_attempts:
                break
            await asyncio.sleep(self._backoff(attempt))
        log.warning("webhook for job %s (%s) not delivered: %s", event.job_id, event.type, last_error)
        await self.store.add_job_warning(
            event.job_id,
            {
                "code": "webhook_failed",
                "message": f"webhook {event.type.value} (seq {event.seq}) not delivered: {last_error}",
                "stage": "webhook",
                "at": iso(event.ts),
            },
        )
        return False

    def _headers(self, event: Event, body: bytes) -> dict[str, str]:
        assert self.config is not None
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.config.secret, body),
            "X-Bulkdash-Event": event.type.value,
            "X-Bulkdash-Delivery": f"{event.job_id}:{event.seq}",
        }

    def _backoff(self, attempt: int) -> float:
        assert self.config is not None
        ceiling = min(self.config.retry_max_s, self.config.retry_base_s * 2 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)
