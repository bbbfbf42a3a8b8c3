"""Tokens are secrets: never logged (even at DEBUG), never returned after creation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.api.conftest import Api
from tests.helpers.serve_api import ServeProcess
from tests.helpers.server import running_server


async def test_token_secret_is_returned_once_and_never_listed(api: Api) -> None:
    created = await api.admin.post("/api/v1/tokens", json={"name": "carol"})
    assert created.status_code in (200, 201), created.text
    secret = created.json()["token"]
    listed = await api.admin.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert secret not in listed.text
    for token in api.tokens.values():
        assert token not in listed.text
    assert all("token" not in item for item in listed.json()["items"])


async def test_tokens_never_reach_the_logs_at_debug(api: Api, make_job: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "alembic"):  # another test may have run the CLI, which quiets them
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.INFO, logger="websockets.client")  # the test's own client prints its request line
    created = await api.admin.post("/api/v1/tokens", json={"name": "dave"})
    dave = created.json()["token"]
    bad = httpx.AsyncClient(
        transport=httpx.ASGITransport(api.app), base_url="http://test", headers={"Authorization": "Bearer bd_wrong"}
    )
    try:
        job = await make_job(api.alice, rows=2)
        await bad.get(f"/api/v1/bulk-jobs/{job['id']}")
        await api.bob.get(f"/api/v1/bulk-jobs/{job['id']}")
        async with running_server(api.container) as server:
            for token in (api.tokens["alice"], dave, "bd_wrong"):
                async with connect(f"{server.ws_url}/ws?job_id={job['id']}&token={token}") as ws:
                    with contextlib.suppress(ConnectionClosed):  # dave and bd_wrong are closed (4404, 4401)
                        await ws.recv()
        await api.settle()
    finally:
        await bad.aclose()
    text = caplog.text
    assert caplog.records, "nothing was logged at DEBUG: the check would prove nothing"
    for name, token in {**api.tokens, "dave": dave, "wrong": "bd_wrong"}.items():
        assert token not in text, f"{name}'s token is in the logs"


async def test_a_real_server_at_debug_never_logs_a_token(tmp_path: Path) -> None:
    """The whole process (uvicorn's access log included) at BULKDASH_LOG_LEVEL=DEBUG."""
    server = ServeProcess.start(tmp_path / "data", BULKDASH_LOG_LEVEL="DEBUG")
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as client:
            alice = (await client.post("/api/v1/tokens", json={"name": "alice"})).json()["token"]
            job = (
                await client.post(
                    "/api/v1/bulk-jobs",
                    json={
                        "title": "t",
                        "input_source": {"type": "inline", "rows": [{"title": "a"}]},
                        "template": {"template_id": "simulated", "overrides": {"duration_ms": 0}},
                    },
                    headers={"Authorization": f"Bearer {alice}"},
                )
            ).json()
            async with connect(f"{server.ws_url}?job_id={job['id']}&token={alice}") as ws:
                await ws.recv()
            await client.get("/", params={"token": alice})
        await asyncio.sleep(0.3)  # let the child write its log lines
    finally:
        server.kill()
    logs = "\n".join(server.proc.stderr)
    assert "DEBUG" in logs
    assert alice not in logs, [line for line in server.proc.stderr if alice in line][:3]
