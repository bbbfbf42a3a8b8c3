"""Crash safety of a real ``bulkdash serve``: SIGKILL at random moments of a running job, restart on the same
data, and check through the REST API, ``/ws`` and the store that nothing was lost or doubled."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.helpers.serve_api import ServeProcess
from tests.reliability.support import (
    API,
    all_videos,
    final_events_per_video,
    stored_events,
    wait_job_final,
    ws_replay,
)


def simulated_body(rows: int, duration_ms: int, fail_rate: float) -> dict[str, Any]:
    return {
        "title": "crash loop",
        "input_source": {"type": "inline", "rows": [{"title": f"Video {i}"} for i in range(1, rows + 1)]},
        "template": {
            "template_id": "simulated",
            "overrides": {"duration_ms": duration_ms, "fail_rate": fail_rate, "seed": 7},
        },
    }


def render_body(rows: int) -> dict[str, Any]:
    return {
        "title": "crash loop, real rendering",
        "input_source": {
            "type": "inline",
            "rows": [
                {"title": f"Clip {i}", "script": f"This is clip number {i}. It survives a crash.", "voice": "en-us"}
                for i in range(1, rows + 1)
            ],
        },
        "output": {"resolution": "480p", "output_bucket": "crash-bucket"},
        "template": {"template_id": "default_template"},
    }


async def crash_loop(
    data: Path, body: dict[str, Any], kills: int, window: tuple[float, float], seed: int, **env: str
) -> tuple[ServeProcess, str, list[str]]:
    """Creates the job through REST, then ``kills`` times: waits a random moment, SIGKILLs, restarts.

    Returns the last (running) server, the job id, and the job's state at each kill.
    """
    rng = random.Random(seed)
    server = ServeProcess.start(data, **env)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as client:
        created = await client.post(f"{API}/bulk-jobs", json=body)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    states: list[str] = []
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(*window))
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as client:
            states.append((await client.get(f"{API}/bulk-jobs/{job_id}")).json()["state"])
        server.kill()
        server = ServeProcess.start(data, **env)
    return server, job_id, states


async def check_job_and_log(tmp_path: Path, data: Path, server: ServeProcess, job_id: str, rows: int) -> list[dict]:
    """The job completes; every video is in exactly one final state; the log is gap-free and a client
    replaying it over ``/ws`` gets each seq once. Returns the videos."""
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as client:
        job = await wait_job_final(client, job_id, timeout=90)
        assert job["state"] == "completed", job
        videos = await all_videos(client, job_id)
    assert sorted(v["row_index"] for v in videos) == list(range(1, rows + 1))
    assert len({v["id"] for v in videos}) == rows
    assert {v["state"] for v in videos} <= {"completed", "failed"}, {v["state"] for v in videos}
    progress = job["progress"]
    assert progress["total"] == rows and progress["completed"] + progress["failed"] == rows, progress
    assert progress["completed"] == sum(v["state"] == "completed" for v in videos)
    assert progress["percent_complete"] == 100

    events = await stored_events(tmp_path, data, job_id)
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "the log has a gap or a repeat"
    finals = final_events_per_video(events)
    assert len(finals) == rows and set(finals.values()) == {1}, "a video's final event is missing or doubled"
    assert sum(e.type.value == "job.completed" for e in events) == 1

    frames = await ws_replay(server.ws_url, server.token, job_id, upto=seqs[-1])
    assert [f["seq"] for f in frames] == seqs, "a /ws client resuming from 0 does not see the log exactly once"
    return videos


async def run_simulated(tmp_path: Path, kills: int, workers: str) -> None:
    data, rows = tmp_path / "data", 200
    server, job_id, states = await crash_loop(
        data, simulated_body(rows, 50, 0.05), kills, (0.2, 0.7), seed=kills, BULKDASH_WORKERS=workers
    )
    try:
        assert states[0] in ("pending", "running"), states  # the first kill hits a running job
        await check_job_and_log(tmp_path, data, server, job_id, rows)
    finally:
        server.kill()


async def test_sigkill_serve_3_times_loses_nothing(tmp_path: Path) -> None:
    await run_simulated(tmp_path, kills=3, workers="2")


@pytest.mark.slow
async def test_sigkill_serve_10_times_loses_nothing(tmp_path: Path) -> None:
    await run_simulated(tmp_path, kills=10, workers="1")


@pytest.mark.slow
async def test_sigkill_while_rendering_leaves_one_decodable_file_per_video_and_no_temp_files(tmp_path: Path) -> None:
    data, rows = tmp_path / "data", 6
    server, job_id, states = await crash_loop(data, render_body(rows), 3, (0.8, 2.0), seed=11)
    try:
        assert "running" in states, states
        videos = await check_job_and_log(tmp_path, data, server, job_id, rows)
    finally:
        server.kill()
    folder = data / "outputs" / "crash-bucket" / job_id
    completed = [v for v in videos if v["state"] == "completed"]
    assert len(completed) == rows, [v["error"] for v in videos]
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert not leftovers, f"temporary files left behind: {leftovers}"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 2 * rows, files  # one video + one thumbnail per row, no second copy
    for v in completed:
        matches = [p for p in folder.glob(f"{v['row_index']:05d}-*.mp4")]
        assert len(matches) == 1, matches
        with av.open(str(matches[0])) as container:
            assert container.streams.audio, "no audio stream"
            frame = next(container.decode(video=0))
            assert (frame.width, frame.height) == (854, 480)
