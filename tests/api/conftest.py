"""Fixtures for the REST tests: the real ASGI app (``install``) behind an httpx client, tokens per user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.limits import Limits
from app.api.metrics import Metrics
from app.api.router import install
from app.container import Bulkdash

API = "/api/v1"


@dataclass
class Api:
    """The app under test and a client per user (``api.alice.get(...)``)."""

    app: FastAPI
    container: Bulkdash
    metrics: Metrics
    anon: httpx.AsyncClient
    admin: httpx.AsyncClient
    alice: httpx.AsyncClient
    bob: httpx.AsyncClient
    tokens: dict[str, str]

    async def settle(self) -> None:
        """Waits until every job is done (or paused) and its writes are committed."""
        await self.container.engine.wait_idle(10)
        await self.container.writer.flush()


def inline_job(rows: int | list[dict[str, Any]] = 3, duration_ms: int = 0, **body: Any) -> dict[str, Any]:
    """A create body: a ``simulated`` job of inline rows (``rows`` of them, or the rows given)."""
    overrides = body.pop("overrides", {})
    if isinstance(rows, int):
        rows = [{"title": f"row {i}"} for i in range(1, rows + 1)]
    return {
        "title": body.pop("title", "api test"),
        "input_source": {"type": "inline", "rows": rows},
        "template": {"template_id": "simulated", "overrides": {"duration_ms": duration_ms, **overrides}},
        **body,
    }


def client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test", headers=headers)


@pytest.fixture
def limits() -> Limits:
    """Roomy limits so only the tests about limits meet them (they override this fixture or build their own)."""
    return Limits(max_body_bytes=1024 * 1024, create_rate_per_min=6000, create_burst=1000)


@pytest.fixture
async def api(container: Bulkdash, limits: Limits) -> AsyncIterator[Api]:
    app = FastAPI()
    metrics = install(app, container, limits)
    tokens = {"admin": container.admin_token}
    for name in ("alice", "bob"):
        tokens[name], _ = await container.auth.create_token(name)
    clients = {name: client(app, token) for name, token in tokens.items()}
    anon = client(app, None)
    try:
        yield Api(app, container, metrics, anon, clients["admin"], clients["alice"], clients["bob"], tokens)
    finally:
        for c in (anon, *clients.values()):
            await c.aclose()


@pytest.fixture
def make_job(api: Api) -> Callable[..., Any]:
    """``await make_job(api.alice, rows=3)``: creates a simulated job and returns its JSON."""

    async def make(who: httpx.AsyncClient, rows: int | list[dict[str, Any]] = 3, **body: Any) -> dict[str, Any]:
        response = await who.post(f"{API}/bulk-jobs", json=inline_job(rows, **body))
        assert response.status_code == 201, response.text
        return response.json()

    return make
