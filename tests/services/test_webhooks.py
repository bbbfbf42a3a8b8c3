"""Webhooks against a tiny real HTTP receiver: signatures, retries, SSRF refusal, delivery records."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.router import install
from app.container import Bulkdash
from app.domain.schemas import JobCreate
from app.services.webhooks import WebhookConfig, WebhookDispatcher, check_url, sign, verify
from app.settings import Settings
from app.store.webhooks import WebhookStore
from tests.conftest import make_settings

SECRET = "test-webhook-secret"


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (then 200); every request lands on an asyncio queue."""

    url: str
    statuses: list[int]
    requests: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    count: int = 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    loop = asyncio.get_running_loop()
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec = holder["r"]
            rec.count += 1
            status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            request = {"path": self.path, "headers": dict(self.headers), "body": body, "status": status}
            loop.call_soon_threadsafe(rec.requests.put_nowait, request)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", [])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()


def config(**overrides: Any) -> WebhookConfig:
    values: dict[str, Any] = {
        "secret": SECRET,
        "allow_private": True,
        "retry_base_s": 0.01,
        "retry_max_s": 0.05,
        "timeout_s": 2.0,
    }
    values.update(overrides)
    return WebhookConfig(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Job creation must accept the local receiver; each test's own dispatcher decides about delivery."""
    return make_settings(tmp_path, webhook_allow_private=True)


@pytest.fixture
async def dispatcher(container: Bulkdash, request: pytest.FixtureRequest) -> AsyncIterator[WebhookDispatcher]:
    if container.webhooks is not None:  # the process's own dispatcher would deliver too
        await container.webhooks.stop(grace_s=0)
    cfg = config(**getattr(request, "param", {}))
    d = WebhookDispatcher(
        container.bus,
        container.db,
        container.jobs_store,
        container.settings,
        config=cfg,
        live_row=container.engine.live_row,
    )
    await d.start()
    try:
        yield d
    finally:
        await d.stop(grace_s=0)


async def run_job(container: Bulkdash, user: dict[str, Any], url: str, rows: int = 3) -> dict[str, Any]:
    body = JobCreate.model_validate(
        {
            "title": "webhook test",
            "input_source": {"type": "inline", "rows": [{"title": f"r{i}"} for i in range(rows)]},
            "template": {"template_id": "simulated", "overrides": {"duration_ms": 5}},
            "webhook_url": url,
        }
    )
    job, _ = await container.jobs.create(user, body)
    return job


async def test_final_event_is_posted_signed(
    container: Bulkdash, dispatcher: WebhookDispatcher, receiver: Receiver, alice: dict[str, Any]
) -> None:
    job = await run_job(container, alice, receiver.url)
    got = await asyncio.wait_for(receiver.requests.get(), 10)
    event = json.loads(got["body"])
    assert event["type"] == "job.completed" and event["job_id"] == job["id"]
    assert set(event) == {"type", "job_id", "seq", "ts", "data"} and event["data"]["state"] == "completed"
    assert verify(SECRET, got["body"], got["headers"]["X-Bulkdash-Signature"])
    assert not verify("another secret", got["body"], got["headers"]["X-Bulkdash-Signature"])
    assert got["headers"]["X-Bulkdash-Event"] == "job.completed"
    assert got["headers"]["X-Bulkdash-Delivery"] == f"{job['id']}:{event['seq']}"
    await dispatcher.drain(5)
    records, total = await WebhookStore(container.db).list(job["id"])
    assert total == 1
    assert records[0] | {"id": 0, "created_at": ""} == {
        "id": 0,
        "job_id": job["id"],
        "event_type": "job.completed",
        "seq": event["seq"],
        "attempt": 1,
        "status_code": 200,
        "error": None,
        "delivered": True,
        "created_at": "",
    }


def test_signature_format_matches_the_documented_recipe() -> None:
    import hashlib
    import hmac

    body = b'{"type":"job.completed"}'
    header = sign("k", body, timestamp=1700000000)
    expected = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert not verify("k", body, header)  # too old
    assert not verify("k", body, "garbage")


async def test_server_errors_are_retried_until_success(
    container: Bulkdash, dispatcher: WebhookDispatcher, receiver: Receiver, alice: dict[str, Any]
) -> None:
    receiver.statuses[:] = [500, 503]
    job = await run_job(container, alice, receiver.url)
    answers = [await asyncio.wait_for(receiver.requests.get(), 10) for _ in range(3)]
    assert [a["status"] for a in answers] == [500, 503, 200]
    assert len({a["headers"]["X-Bulkdash-Delivery"] for a in answers}) == 1
    assert all(verify(SECRET, a["body"], a["headers"]["X-Bulkdash-Signature"]) for a in answers)
    await dispatcher.drain(5)
    records, _ = await WebhookStore(container.db).list(job["id"])
    assert [(r["attempt"], r["status_code"], r["delivered"]) for r in records] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert records[0]["error"] == "HTTP 500"


@pytest.mark.parametrize("dispatcher", [{"max_attempts": 2}], indirect=True)
async def test_gives_up_after_bounded_attempts_and_warns_on_the_job(
    container: Bulkdash, dispatcher: WebhookDispatcher, receiver: Receiver, alice: dict[str, Any]
) -> None:
    receiver.statuses[:] = [500] * 10
    job = await run_job(container, alice, receiver.url)
    await asyncio.wait_for(container.engine.wait_idle(), 10)
    await container.writer.flush()
    await dispatcher.drain(10)
    assert receiver.count == 2
    stored = await container.jobs_store.get_job(job["id"])
    assert stored is not None and stored["warnings"][-1]["code"] == "webhook_failed"


async def test_client_errors_are_not_retried(
    container: Bulkdash, dispatcher: WebhookDispatcher, receiver: Receiver, alice: dict[str, Any]
) -> None:
    receiver.statuses[:] = [400]
    job = await run_job(container, alice, receiver.url)
    await asyncio.wait_for(receiver.requests.get(), 10)
    await dispatcher.drain(5)
    records, _ = await WebhookStore(container.db).list(job["id"])
    assert [(r["attempt"], r["status_code"], r["delivered"]) for r in records] == [(1, 400, False)]


async def test_unreachable_receiver_is_retried_then_recorded(
    container: Bulkdash, dispatcher: WebhookDispatcher, alice: dict[str, Any]
) -> None:
    from tests.helpers.server import free_port

    job = await run_job(container, alice, f"http://127.0.0.1:{free_port()}/nobody")
    await asyncio.wait_for(container.engine.wait_idle(), 10)
    await container.writer.flush()
    await dispatcher.drain(10)
    records, total = await WebhookStore(container.db).list(job["id"])
    assert total == 5 and not any(r["delivered"] for r in records)
    assert records[0]["status_code"] is None and "Connect" in records[0]["error"]


@pytest.mark.parametrize("dispatcher", [{"allow_private": False}], indirect=True)
async def test_private_address_is_refused(
    container: Bulkdash, dispatcher: WebhookDispatcher, receiver: Receiver, alice: dict[str, Any]
) -> None:
    job = await run_job(container, alice, receiver.url)
    await asyncio.wait_for(container.engine.wait_idle(), 10)
    await container.writer.flush()
    await dispatcher.drain(5)
    assert receiver.count == 0
    records, _ = await WebhookStore(container.db).list(job["id"])
    assert len(records) == 1 and not records[0]["delivered"]
    assert "127.0.0.1" in records[0]["error"] and "refused" in records[0]["error"]


@pytest.mark.parametrize("dispatcher", [{"state_changes": True}], indirect=True)
async def test_state_changes_are_sent_when_configured(
    container: Bulkdash, dispatcher: WebhookDispatcher, receiver: Receiver, alice: dict[str, Any]
) -> None:
    await run_job(container, alice, receiver.url)
    seen = []
    while not seen or seen[-1]["type"] != "job.completed":
        seen.append(json.loads((await asyncio.wait_for(receiver.requests.get(), 10))["body"]))
    assert [e["data"]["to"] for e in seen if e["type"] == "job.state_changed"] == ["running", "completing", "completed"]
    assert [e["seq"] for e in seen] == sorted(e["seq"] for e in seen)  # one job's deliveries keep their order


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("ftp://example.com/x", False),
        ("file:///etc/passwd", False),
        ("http:///nohost", False),
        ("http://127.0.0.1:9/x", False),
        ("http://localhost/x", False),
        ("http://10.1.2.3/x", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://[::1]/x", False),
        ("http://[::ffff:192.168.0.1]/x", False),
        ("http://100.64.0.1/x", False),
        ("http://0.0.0.0/x", False),
        ("https://93.184.215.14/hook", True),
    ],
)
async def test_url_checks(url: str, allowed: bool) -> None:
    assert (await check_url(url, allow_private=False) is None) is allowed


async def test_allow_private_setting_lets_local_hosts_through() -> None:
    assert await check_url("http://127.0.0.1:9/x", allow_private=True) is None
    assert await check_url("gopher://127.0.0.1/x", allow_private=True) is not None


async def test_deliveries_are_listed_on_the_job_for_its_owner_only(
    container: Bulkdash, dispatcher: WebhookDispatcher, receiver: Receiver, alice: dict[str, Any]
) -> None:
    job = await run_job(container, alice, receiver.url)
    await asyncio.wait_for(receiver.requests.get(), 10)
    await dispatcher.drain(5)
    alice_token, _ = await container.auth.create_token("alice")
    bob_token, _ = await container.auth.create_token("bob")
    app = FastAPI()
    install(app, container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        path = f"/api/v1/bulk-jobs/{job['id']}/webhooks"
        mine = await http.get(path, headers={"Authorization": f"Bearer {alice_token}"})
        theirs = await http.get(path, headers={"Authorization": f"Bearer {bob_token}"})
        nobody = await http.get(path)
        admin = await http.get(path, headers={"Authorization": f"Bearer {container.admin_token}"})
    assert mine.status_code == 200 and mine.json()["total"] == 1 and mine.json()["items"][0]["delivered"]
    assert theirs.status_code == 404
    assert nobody.status_code == 401 and nobody.headers["www-authenticate"] == "Bearer"
    assert admin.status_code == 200


async def test_secret_file_is_generated_once(tmp_path: Any) -> None:
    from app.services.webhooks import load_secret

    first = load_secret(tmp_path)
    assert load_secret(tmp_path) == first and len(first) == 64
    assert (tmp_path / "webhook_secret").stat().st_mode & 0o077 == 0
