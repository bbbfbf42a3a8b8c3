"""Crash recovery by really killing (SIGKILL) a bulkdash process mid-job and starting it again."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.container import build
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


def start(data_dir: Path, rows: int = 0, duration_ms: int = 20) -> tuple[subprocess.Popen[str], str]:
    env = {
        **os.environ,
        "BULKDASH_DATA_DIR": str(data_dir),
        "BULKDASH_ADMIN_TOKEN": "bd_crash",
        "BULKDASH_WORKERS": "2",
        "PYTHONPATH": str(ROOT),
        "BULKDASH_RETRY_BASE_S": "0.01",
        "BULKDASH_RETRY_MAX_S": "0.05",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.engine_process", str(rows), str(duration_ms)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("ready"), f"process did not start: {line!r}"
    return proc, line.split()[1]


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


@pytest.mark.parametrize("kills", [3, pytest.param(10, marks=pytest.mark.slow)])
async def test_sigkill_mid_job_loses_nothing(tmp_path: Path, kills: int) -> None:
    data = tmp_path / "data"
    rng = random.Random(kills)
    proc, job_id = start(data, rows=200)
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(0.3, 0.9))  # a random moment of a running job in another process
        kill(proc)
        proc, _ = start(data)
    # let the last process finish the job, reading the store from here (no engine of our own)
    app = build(make_settings(tmp_path, data_dir=data, admin_token="bd_crash"))
    try:
        deadline = time.monotonic() + 60
        while True:
            job = await app.jobs_store.get_job(job_id)
            if job["state"] in ("completed", "failed") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        kill(proc)
        assert job["state"] == "completed", job
        counts = await app.jobs_store.count_by_state(job_id)
        assert sum(counts.values()) == 200
        assert set(counts) <= {"completed", "failed"}, counts
        events = await app.events.after(job_id, 0, limit=100_000)
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(seqs) + 1))
        finals: dict[str, int] = {}
        for e in events:
            if e.type.value in ("video.completed", "video.failed"):
                finals[e.data["id"]] = finals.get(e.data["id"], 0) + 1
        # every video's final event was logged exactly once
        assert len(finals) == 200 and set(finals.values()) == {1}
    finally:
        await app.db.close()
