"""``last_seq`` replay shared between ``/ws`` clients: one store read per full page however many clients replay
the job, and still every ``seq`` exactly once, in order, across the replay→live handover (CONTRACT §7).

Pages are made small (``WsOptions.replay_page``) so that a small job spans many of them, and the replay cache's
clock is frozen so that no page expires while a slow machine runs the test."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from app.api.ws import WsHub, WsOptions
from app.container import Bulkdash
from app.domain.events import Event
from tests.helpers.server import RunningServer, running_server
from tests.ws.conftest import create_job, events_until_final, open_ws, recv_json, ws_url

PAGE = 5


def count_reads(container: Bulkdash, monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, int, int]]:
    """Counts the event log's reads by ``(job_id, after, limit)``."""
    reads: Counter[tuple[str, int, int]] = Counter()
    original = container.events.after

    async def after(job_id: str, seq: int, limit: int = 10_000) -> list[Event]:
        reads[(job_id, seq, limit)] += 1
        return await original(job_id, seq, limit)

    monkeypatch.setattr(container.events, "after", after)
    return reads


def options() -> WsOptions:
    return WsOptions(replay_page=PAGE, hub=WsHub(clock=lambda: 0.0))


async def follow(server: RunningServer, token: str, job_id: str, last_seq: int) -> list[int]:
    async with open_ws(ws_url(server, token, job_id, last_seq=last_seq)) as ws:
        ready = await recv_json(ws)
        assert ready["last_seq"] == last_seq
        return [e["seq"] for e in await events_until_final(ws)]


async def finished_job(container: Bulkdash, token: str, rows: int) -> tuple[dict[str, Any], int]:
    """A job that ran to its end, and its last ``seq`` (a client saw its final event, so all is in the log),
    followed on a server of its own: the next server's replay pages start empty."""
    job = await create_job(container, token, rows=rows, duration_ms=0)
    async with running_server(container) as server:
        seqs = await follow(server, token, job["id"], 0)
    assert seqs == list(range(1, len(seqs) + 1))
    return job, seqs[-1]


async def test_concurrent_replays_read_each_full_page_once(
    container: Bulkdash, alice_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, last = await finished_job(container, alice_token, rows=6)
    assert last > 3 * PAGE
    reads = count_reads(container, monkeypatch)
    starts = [0] * 8 + [3, 7, 12]  # resuming anywhere: only the first page is the client's own
    async with running_server(container, options()) as server:
        results = await asyncio.gather(*(follow(server, alice_token, job["id"], s) for s in starts))
    for start, seqs in zip(starts, results, strict=True):
        assert seqs == list(range(start + 1, last + 1))
    full = [(job["id"], after, PAGE) for after in range(0, last - PAGE + 1, PAGE)]
    assert full and all(reads[key] == 1 for key in full), reads
    # besides: each late starter's first page up to the next multiple of PAGE, and the tail
    own = {(job["id"], s, PAGE - s % PAGE) for s in starts if s % PAGE}
    assert set(reads) <= {*full, *own, (job["id"], last - last % PAGE, PAGE)}, reads
    assert server.hub.pages is not None and server.hub.pages.reads == sum(reads.values())


async def test_shared_replay_hands_over_to_live_events_exactly_once(
    container: Bulkdash, alice_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Clients replay small shared pages while the job still commits events: each sees every seq once, in order.
    async with running_server(container, options()) as server:
        job = await create_job(container, alice_token, rows=20, duration_ms=20)
        results = await asyncio.gather(*(follow(server, alice_token, job["id"], 0) for _ in range(10)))
        logged = [e.seq for e in await container.events.after(job["id"], 0)]
    assert logged == list(range(1, len(logged) + 1))
    assert all(seqs == logged for seqs in results)
