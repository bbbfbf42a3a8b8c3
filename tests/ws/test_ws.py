"""``/ws`` against the real app on a free port (CONTRACT §7)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from app.api.ws import WsOptions
from app.container import Bulkdash
from tests.helpers.server import RunningServer, running_server
from tests.ws.conftest import FINAL, create_job, events_until_final, open_ws, recv_json, ws_url


async def close_code(url: str, **kwargs: object) -> tuple[int | None, str | None]:
    async with open_ws(url, **kwargs) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await recv_json(ws)
    rcvd = info.value.rcvd
    return (rcvd.code, rcvd.reason) if rcvd else (None, None)


def assert_gap_free(events: list[dict], first: int = 1) -> None:
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(first, first + len(seqs))), seqs


async def test_bad_or_missing_token_closes_4401(server: RunningServer, container: Bulkdash) -> None:
    job = await create_job(container, container.admin_token)
    assert (await close_code(ws_url(server, "bd_nope", job["id"])))[0] == 4401
    assert (await close_code(ws_url(server, None, job["id"])))[0] == 4401


async def test_unknown_job_closes_4404(server: RunningServer, alice_token: str) -> None:
    code, _ = await close_code(ws_url(server, alice_token, "job_01HZZZZZZZZZZZZZZZZZZZZZZZ"))
    assert code == 4404


async def test_another_users_job_closes_4404_but_admin_sees_it(
    server: RunningServer, container: Bulkdash, alice_token: str, bob_token: str
) -> None:
    job = await create_job(container, alice_token)
    assert (await close_code(ws_url(server, bob_token, job["id"])))[0] == 4404
    async with open_ws(ws_url(server, container.admin_token, job["id"], last_seq=0)) as ws:
        assert (await recv_json(ws))["type"] == "connection.ready"
        events = await events_until_final(ws)
    assert events[-1]["type"] == "job.completed"


async def test_bearer_header_ready_first_then_every_event_in_order(
    server: RunningServer, container: Bulkdash, alice_token: str
) -> None:
    job = await create_job(container, alice_token, rows=8)
    headers = {"Authorization": f"Bearer {alice_token}"}
    async with open_ws(ws_url(server, None, job["id"], last_seq=0), additional_headers=headers) as ws:
        ready = await recv_json(ws)
        assert ready == {"type": "connection.ready", "connection_id": "test", "job_id": job["id"], "last_seq": 0}
        events = await events_until_final(ws)
    assert_gap_free(events)
    assert all(set(e) == {"type", "job_id", "seq", "ts", "data"} and e["job_id"] == job["id"] for e in events)
    assert events[-1]["type"] == "job.completed"
    assert events[-1]["data"]["state"] == "completed"
    assert sum(e["type"] == "video.completed" for e in events) == 8
    assert sum(e["type"] == "video.created" for e in events) == 8
    changes = [(e["data"]["from"], e["data"]["to"]) for e in events if e["type"] == "job.state_changed"]
    assert changes == [("pending", "running"), ("running", "completing"), ("completing", "completed")]
    logged = await container.events.after(job["id"], 0)
    assert [e.seq for e in logged] == [e["seq"] for e in events]


async def test_without_last_seq_only_live_events_follow_ready(
    server: RunningServer, container: Bulkdash, alice_token: str
) -> None:
    job = await create_job(container, alice_token, rows=6, duration_ms=40)
    async with open_ws(ws_url(server, alice_token, job["id"])) as ws:
        ready = await recv_json(ws)
        events = await events_until_final(ws)
    assert_gap_free(events, first=ready["last_seq"] + 1)
    assert events[-1]["type"] == "job.completed"


async def test_replay_after_forced_disconnect_gives_each_seq_once(
    server: RunningServer, container: Bulkdash, alice_token: str
) -> None:
    job = await create_job(container, alice_token, rows=10, duration_ms=30)
    async with open_ws(ws_url(server, alice_token, job["id"], last_seq=0)) as ws:
        await recv_json(ws)
        first = await events_until_final(ws, limit=5)
    # the job keeps running while no client listens
    async with open_ws(ws_url(server, alice_token, job["id"], last_seq=first[-1]["seq"])) as ws:
        ready = await recv_json(ws)
        assert ready["last_seq"] == first[-1]["seq"]
        rest = await events_until_final(ws)
    union = first + rest
    assert_gap_free(union)
    assert union[-1]["type"] == "job.completed"
    assert len({e["seq"] for e in union}) == len(union)


async def test_server_side_close_then_resume(server: RunningServer, container: Bulkdash, alice_token: str) -> None:
    job = await create_job(container, alice_token, rows=10, duration_ms=30)
    async with open_ws(ws_url(server, alice_token, job["id"], last_seq=0)) as ws:
        await recv_json(ws)
        first = await events_until_final(ws, limit=3)
        await server.hub.close_all()
        with pytest.raises(ConnectionClosed) as info:
            while True:
                frame = await recv_json(ws)
                if frame["type"] not in ("ping", "pong"):
                    first.append(frame)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1012
    if first[-1]["type"] not in FINAL:
        async with open_ws(ws_url(server, alice_token, job["id"], last_seq=first[-1]["seq"])) as ws:
            await recv_json(ws)
            first += await events_until_final(ws)
    assert_gap_free(first)
    assert first[-1]["type"] == "job.completed"


async def test_client_ping_gets_pong(server: RunningServer, container: Bulkdash, alice_token: str) -> None:
    job = await create_job(container, alice_token, rows=1, duration_ms=0)
    async with open_ws(ws_url(server, alice_token, job["id"], last_seq=0)) as ws:
        await recv_json(ws)
        await events_until_final(ws)
        await ws.send('{"type": "ping"}')
        assert await recv_json(ws) == {"type": "pong"}


async def test_idle_server_sends_ping(container: Bulkdash, alice_token: str) -> None:
    job = await create_job(container, alice_token, rows=1, duration_ms=0)
    async with running_server(container, WsOptions(ping_interval_s=0.05)) as srv:
        async with open_ws(ws_url(srv, alice_token, job["id"], last_seq=0)) as ws:
            await recv_json(ws)
            await events_until_final(ws)
            assert await recv_json(ws) == {"type": "ping"}


async def test_user_stream_without_job_id_sees_own_jobs_only(
    server: RunningServer, container: Bulkdash, alice_token: str, bob_token: str
) -> None:
    async with open_ws(ws_url(server, alice_token)) as ws:
        ready = await recv_json(ws)
        assert ready["job_id"] is None and ready["last_seq"] is None
        await create_job(container, bob_token, rows=2, duration_ms=0)
        mine = await create_job(container, alice_token, rows=3, duration_ms=0)
        events = await events_until_final(ws)
    assert {e["job_id"] for e in events} == {mine["id"]}
    assert_gap_free(events)


async def test_slow_client_is_closed_with_reason_and_resumes(container: Bulkdash, alice_token: str) -> None:
    # A queue of 2 overflows as soon as one committed batch holds more than 2 events for this client.
    async with running_server(container, WsOptions(queue_size=2)) as srv:
        job = await create_job(container, alice_token, rows=20, duration_ms=5)
        async with open_ws(ws_url(srv, alice_token, job["id"])) as ws:
            ready = await recv_json(ws)
            got: list[dict] = []
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    frame = await recv_json(ws)
                    if frame["type"] not in ("ping", "pong"):
                        got.append(frame)
        rcvd = info.value.rcvd
        assert rcvd is not None and rcvd.code == 4408
        last = got[-1]["seq"] if got else ready["last_seq"]
        assert rcvd.reason == f"client too slow: reconnect with last_seq={last}"
        # other subscribers and the workers were not slowed: the job finishes
        await asyncio.wait_for(container.engine.wait_idle(), 10)
    async with running_server(container) as srv:
        async with open_ws(ws_url(srv, alice_token, job["id"], last_seq=last)) as ws:
            await recv_json(ws)
            rest = await events_until_final(ws)
    assert_gap_free(got + rest, first=ready["last_seq"] + 1)
    assert rest[-1]["type"] == "job.completed"
