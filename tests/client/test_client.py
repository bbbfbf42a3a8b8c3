"""``BulkdashClient``: REST wrappers (against a recording transport) and ``follow`` against the real server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from app.client import BulkdashClient, BulkdashError
from app.container import Bulkdash
from tests.helpers.server import RunningServer, running_server
from tests.ws.conftest import create_job


def recording_client(answer: httpx.Response | None = None) -> tuple[BulkdashClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer or httpx.Response(200, json={"ok": True})

    return BulkdashClient("http://bd.test", "bd_tok", transport=httpx.MockTransport(handler)), seen


async def test_every_rest_method_calls_its_route(tmp_path: Any) -> None:
    client, seen = recording_client()
    sheet = tmp_path / "rows.csv"
    sheet.write_text("title\nhello\n")
    j, v = "job_1", "vid_1"
    calls = [
        (client.create_job({"title": "t"}, idempotency_key="k1"), "POST", "/api/v1/bulk-jobs"),
        (client.list_jobs(state="running", q="x"), "GET", "/api/v1/bulk-jobs?state=running&q=x"),
        (client.get_job(j), "GET", f"/api/v1/bulk-jobs/{j}"),
        (
            client.list_videos(j, sort="-processing_ms", limit=500),
            "GET",
            f"/api/v1/bulk-jobs/{j}/videos?sort=-processing_ms&limit=500",
        ),
        (client.get_video(j, v), "GET", f"/api/v1/bulk-jobs/{j}/videos/{v}"),
        (client.download_file(j, v), "GET", f"/api/v1/bulk-jobs/{j}/videos/{v}/file"),
        (client.download_file(j, v, thumbnail=True), "GET", f"/api/v1/bulk-jobs/{j}/videos/{v}/thumbnail"),
        (client.results_csv(j), "GET", f"/api/v1/bulk-jobs/{j}/results.csv"),
        (client.pause(j), "POST", f"/api/v1/bulk-jobs/{j}/pause"),
        (client.resume(j), "POST", f"/api/v1/bulk-jobs/{j}/resume"),
        (client.cancel(j), "POST", f"/api/v1/bulk-jobs/{j}/cancel"),
        (client.retry(j), "POST", f"/api/v1/bulk-jobs/{j}/retry"),
        (client.connect_sheet("s1", range="A1:C9"), "POST", "/api/v1/sheets/connect"),
        (client.list_connections(), "GET", "/api/v1/sheets/connections"),
        (client.upload(sheet), "POST", "/api/v1/uploads"),
        (client.health(), "GET", "/api/v1/health"),
        (client.create_token("carol", admin=True), "POST", "/api/v1/tokens"),
        (client.list_tokens(), "GET", "/api/v1/tokens"),
        (client.templates(), "GET", "/api/v1/templates"),
        (client.webhook_deliveries(j), "GET", f"/api/v1/bulk-jobs/{j}/webhooks"),
    ]
    for call, _, _ in calls:
        await call
    assert [(r.method, r.url.raw_path.decode()) for r in seen] == [(m, p) for _, m, p in calls]
    assert all(r.headers["authorization"] == "Bearer bd_tok" for r in seen)
    assert seen[0].headers["idempotency-key"] == "k1" and json.loads(seen[0].content) == {"title": "t"}
    assert json.loads(seen[12].content) == {"sheet_id": "s1", "range": "A1:C9"}
    assert b'filename="rows.csv"' in seen[14].content and b"title\nhello" in seen[14].content
    await client.aclose()


async def test_error_answers_raise_bulkdash_error() -> None:
    client, _ = recording_client(httpx.Response(409, json={"detail": "cannot pause a job that is completed"}))
    with pytest.raises(BulkdashError) as info:
        await client.pause("job_1")
    assert info.value.status == 409 and "cannot pause" in info.value.detail
    await client.aclose()


async def test_follow_yields_every_event_once_across_forced_reconnects(
    server: RunningServer, container: Bulkdash, alice_token: str
) -> None:
    job = await create_job(container, alice_token, rows=12, duration_ms=30)
    client = BulkdashClient(server.url, alice_token, backoff_base_s=0.01)
    events: list[dict[str, Any]] = []
    async for event in client.follow(job["id"]):
        events.append(event)
        if len(events) in (4, 15):  # the server drops every connection twice, mid-job
            await server.hub.close_all()
    await client.aclose()
    # the first drop always forces a reconnect; the second may come after the client already holds the rest
    assert client.connections >= 2
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    changes = [(e["data"]["from"], e["data"]["to"]) for e in events if e["type"] == "job.state_changed"]
    assert changes == [("pending", "running"), ("running", "completing"), ("completing", "completed")]
    assert events[-1]["type"] == "job.completed"
    assert [e.seq for e in await container.events.after(job["id"], 0)] == [e["seq"] for e in events]


async def test_follow_rides_out_a_server_restart(container: Bulkdash, alice_token: str) -> None:
    job = await create_job(container, alice_token, rows=10, duration_ms=30)
    async with running_server(container) as first:
        url = first.url
        client = BulkdashClient(url, alice_token, backoff_base_s=0.01)
        stream = client.follow(job["id"])
        events = [await anext(stream) for _ in range(3)]
    # the server is gone; the client retries until one answers on the same address, as after a restart
    port = int(url.rsplit(":", 1)[1])
    next_event = asyncio.create_task(anext(stream))
    async with running_server(container, port=port):
        events.append(await asyncio.wait_for(next_event, 10))
        async for event in stream:
            events.append(event)
    await client.aclose()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "job.completed"


async def test_follow_raises_on_auth_and_unknown_job(server: RunningServer, alice_token: str) -> None:
    async with BulkdashClient(server.url, "bd_wrong") as client:
        with pytest.raises(BulkdashError) as info:
            await anext(client.follow("job_01HZZZZZZZZZZZZZZZZZZZZZZZ"))
        assert info.value.status == 401
    async with BulkdashClient(server.url, alice_token) as client:
        with pytest.raises(BulkdashError) as info:
            await anext(client.follow("job_01HZZZZZZZZZZZZZZZZZZZZZZZ"))
        assert info.value.status == 404


async def test_wait_returns_the_final_job(server: RunningServer, container: Bulkdash, alice_token: str) -> None:
    job = await create_job(container, alice_token, rows=4, duration_ms=20)
    async with BulkdashClient(server.url, alice_token) as client:
        try:
            await client.health()
        except BulkdashError:
            pytest.skip("the REST routes are not installed yet")
        try:
            final = await asyncio.wait_for(client.wait(job["id"]), 10)
        except BulkdashError as exc:
            if exc.status == 404 and exc.detail == "Not Found":  # FastAPI's answer for a missing route
                pytest.skip("GET /api/v1/bulk-jobs/{id} is not installed yet")
            raise
        assert final["state"] == "completed" and final["id"] == job["id"]
        again = await client.wait(job["id"])  # already finished: answered from the REST state at once
        assert again["state"] == "completed"
