"""Fixtures for the live-event tests: the real app on a free port, users with tokens, simulated jobs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.container import Bulkdash
from app.domain.schemas import JobCreate
from tests.helpers.server import RunningServer, running_server

FINAL = {"job.completed", "job.failed", "job.canceled"}


@pytest.fixture
async def server(container: Bulkdash) -> AsyncIterator[RunningServer]:
    async with running_server(container) as running:
        yield running


@pytest.fixture
async def alice_token(container: Bulkdash) -> str:
    token, _ = await container.auth.create_token("alice")
    return token


@pytest.fixture
async def bob_token(container: Bulkdash) -> str:
    token, _ = await container.auth.create_token("bob")
    return token


async def create_job(
    container: Bulkdash, token: str, rows: int = 6, duration_ms: int = 20, **overrides: Any
) -> dict[str, Any]:
    """A ``simulated`` job of ``rows`` inline rows, owned by the token's user."""
    user = await container.auth.authenticate(token)
    assert user is not None
    body = JobCreate.model_validate(
        {
            "title": "ws test",
            "input_source": {"type": "inline", "rows": [{"title": f"row {i}"} for i in range(1, rows + 1)]},
            "template": {"template_id": "simulated", "overrides": {"duration_ms": duration_ms, **overrides}},
        }
    )
    job, _ = await container.jobs.create(user, body)
    return job


def ws_url(server: RunningServer, token: str | None, job_id: str | None = None, **params: Any) -> str:
    query = {"connection_id": "test", **params}
    if token is not None:
        query["token"] = token
    if job_id is not None:
        query["job_id"] = job_id
    return f"{server.ws_url}/ws?" + "&".join(f"{k}={v}" for k, v in query.items())


async def recv_json(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    import asyncio

    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def events_until_final(ws: ClientConnection, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Job events (pings skipped) until the final one, or until ``limit`` events were read."""
    out: list[dict[str, Any]] = []
    while limit is None or len(out) < limit:
        frame = await recv_json(ws)
        if frame["type"] in ("ping", "pong"):
            continue
        out.append(frame)
        if frame["type"] in FINAL:
            break
    return out


def open_ws(url: str, **kwargs: Any):  # noqa: ANN201 - websockets' connect object
    return connect(url, compression=None, open_timeout=10, **kwargs)
