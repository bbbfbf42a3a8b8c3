"""Reading a job's outcome from outside the process: REST for the objects, ``/ws`` replay and the store for
the event log."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from app.container import build
from app.domain.events import Event
from tests.cli.helpers import ADMIN_TOKEN
from tests.conftest import make_settings

API = "/api/v1"
FINAL_VIDEO = {"completed", "failed", "skipped", "canceled"}
FINAL_JOB = {"completed", "failed", "canceled"}


async def wait_job_final(client: httpx.AsyncClient, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Polls ``GET /bulk-jobs/{id}`` (another process: no event to await) until a final state or ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        job = (await client.get(f"{API}/bulk-jobs/{job_id}")).raise_for_status().json()
        if job["state"] in FINAL_JOB or time.monotonic() > end:
            return job
        await asyncio.sleep(0.1)


async def all_videos(client: httpx.AsyncClient, job_id: str) -> list[dict[str, Any]]:
    """Every video of the job through the paginated list route."""
    out: list[dict[str, Any]] = []
    while True:
        page = (
            (await client.get(f"{API}/bulk-jobs/{job_id}/videos", params={"limit": 500, "offset": len(out)}))
            .raise_for_status()
            .json()
        )
        out += page["items"]
        if len(out) >= page["total"] or not page["items"]:
            return out


async def stored_events(tmp_path: Path, data_dir: Path, job_id: str) -> list[Event]:
    """The durable log of the job, read straight from the child's database."""
    reader = build(make_settings(tmp_path, data_dir=data_dir, admin_token=ADMIN_TOKEN))
    try:
        return await reader.events.after(job_id, 0, limit=1_000_000)
    finally:
        await reader.db.close()


async def ws_replay(ws_url: str, token: str, job_id: str, upto: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every frame a client resuming from ``last_seq=0`` receives, until ``seq == upto``."""
    frames: list[dict[str, Any]] = []
    url = f"{ws_url}?job_id={job_id}&token={token}&last_seq=0"
    async with asyncio.timeout(timeout), connect(url, compression=None, max_size=None) as ws:
        ready = json.loads(await ws.recv())
        assert ready["type"] == "connection.ready", ready
        while not frames or frames[-1]["seq"] < upto:
            frame = json.loads(await ws.recv())
            if frame.get("type") != "ping":
                frames.append(frame)
    return frames


def final_events_per_video(events: list[Event]) -> dict[str, int]:
    """How many ``video.completed`` / ``video.failed`` events each video got."""
    finals: dict[str, int] = {}
    for e in events:
        if e.type.value in ("video.completed", "video.failed"):
            finals[e.data["id"]] = finals.get(e.data["id"], 0) + 1
    return finals
