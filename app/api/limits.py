"""Guard rails of the web edge: a request body size limit and a per-token rate limit on job creation.

The knobs come from settings when they exist (``api_max_body_bytes``, ``api_max_upload_bytes``,
``api_create_rate_per_min``, ``api_create_burst``), else from the defaults below.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

MIB = 1024 * 1024


@dataclass
class Limits:
    """Size and rate limits of the REST API."""

    #: largest request body under ``/api/`` (JSON job bodies with inline rows)
    max_body_bytes: int = 20 * MIB
    #: largest body of ``POST /api/v1/uploads`` (multipart CSV / XLSX)
    max_upload_bytes: int = 100 * MIB
    #: sustained job creations per minute and token
    create_rate_per_min: float = 30.0
    #: creations a token may make at once before the rate applies
    create_burst: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        defaults = cls()
        return cls(
            max_body_bytes=int(getattr(settings, "api_max_body_bytes", defaults.max_body_bytes)),
            max_upload_bytes=int(getattr(settings, "api_max_upload_bytes", defaults.max_upload_bytes)),
            create_rate_per_min=float(getattr(settings, "api_create_rate_per_min", defaults.create_rate_per_min)),
            create_burst=int(getattr(settings, "api_create_burst", defaults.create_burst)),
        )


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodySizeLimit:
    """ASGI middleware: 413 for a body above the limit, from ``Content-Length`` at once, or while streaming
    (chunked bodies) by counting what the app reads."""

    def __init__(
        self, app: ASGIApp, limits: Limits, prefix: str = "/api/", upload_path: str = "/api/v1/uploads"
    ) -> None:
        self.app = app
        self.limits = limits
        self.prefix = prefix
        self.upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_upload_bytes if scope["path"] == self.upload_path else self.limits.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _reject(send, BodyTooLarge(limit))
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:  # read outside FastAPI's handlers (a raw ASGI route, a middleware)
            if started:
                raise
            await _reject(send, exc)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject(send: Send, exc: HTTPException) -> None:
    body = json.dumps({"detail": exc.detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.status_code,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class TokenBucket:
    """``rate_per_s`` tokens per second up to ``burst``; one per request."""

    rate_per_s: float
    burst: int
    tokens: float = 0.0
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float) -> float:
        """Takes one token; returns 0 when allowed, else the seconds until one is available."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate_per_s)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_s if self.rate_per_s > 0 else math.inf


class RateLimiter:
    """A token bucket per key (the API token's id); idle full buckets are dropped to bound memory."""

    def __init__(self, rate_per_min: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate_per_s = rate_per_min / 60.0
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self._buckets: dict[Any, TokenBucket] = {}

    def check(self, key: Any) -> None:
        """Raises 429 with ``Retry-After`` when ``key`` is over its rate."""
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = TokenBucket(self.rate_per_s, self.burst, at=now)
        wait = bucket.take(now)
        if wait > 0:
            retry_after = str(math.ceil(wait)) if math.isfinite(wait) else "3600"
            raise HTTPException(429, "too many jobs created; slow down", headers={"Retry-After": retry_after})

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate_per_s if self.rate_per_s > 0 else math.inf
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < full_after}
