"""Graceful shutdown of a real ``bulkdash serve`` process: SIGTERM / Ctrl-C mid-job, then a restart."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from tests.cli.helpers import Proc, free_port, process_env, reader

FINAL = {"completed", "failed", "skipped", "canceled"}


def start(data_dir: Path, rows: int, duration_ms: int, grace_s: float = 10.0, *extra: str) -> tuple[Proc, str]:
    env = process_env(data_dir, free_port(), BULKDASH_SHUTDOWN_GRACE_S=str(grace_s))
    proc = Proc(["-m", "tests.cli.serve_process", str(rows), str(duration_ms), *extra], env)
    return proc, proc.wait_line("ready").split()[1]


async def wait_counts(tmp_path: Path, data: Path, job_id: str, done, timeout: float = 20.0) -> dict[str, int]:  # noqa: ANN001
    """Polls the child's store until ``done(counts)``."""
    app = reader(tmp_path, data)
    try:
        end = time.monotonic() + timeout
        while True:
            counts = await app.jobs_store.count_by_state(job_id)
            if done(counts) or time.monotonic() > end:
                return counts
            await asyncio.sleep(0.05)
    finally:
        await app.db.close()


async def final_report(tmp_path: Path, data: Path, job_id: str) -> tuple[dict, dict[str, int], dict[str, int]]:
    """(job, counts by state, number of final events per video) from the store."""
    app = reader(tmp_path, data)
    try:
        job = await app.jobs_store.get_job(job_id)
        counts = await app.jobs_store.count_by_state(job_id)
        finals: dict[str, int] = {}
        for e in await app.events.after(job_id, 0, limit=100_000):
            if e.type.value in ("video.completed", "video.failed"):
                finals[e.data["id"]] = finals.get(e.data["id"], 0) + 1
        return job, counts, finals
    finally:
        await app.db.close()


async def test_sigterm_mid_job_finishes_running_videos_then_restart_completes(tmp_path: Path) -> None:
    data, rows = tmp_path / "data", 40
    proc, job_id = start(data, rows, duration_ms=300)
    try:
        await wait_counts(tmp_path, data, job_id, lambda c: c.get("completed", 0) >= 4)
        proc.popen.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        assert proc.popen.wait(15) == 0, "\n".join(proc.stderr)
        assert time.monotonic() - t0 < 10, "the running videos needed 0.3 s, not the whole grace"
        assert any("bulkdash stopped" in line for line in proc.stderr)
    finally:
        proc.stop()
    _, counts, _ = await final_report(tmp_path, data, job_id)
    assert "processing" not in counts, counts  # the running videos finished within the grace
    assert 0 < counts.get("pending", 0) < rows, counts  # it stopped taking work

    proc, _ = start(data, 0, 0)
    try:
        await wait_counts(tmp_path, data, job_id, lambda c: sum(c.get(s, 0) for s in FINAL) == rows)
        app = reader(tmp_path, data)
        try:
            for _ in range(100):
                job = await app.jobs_store.get_job(job_id)
                if job["state"] == "completed":
                    break
                await asyncio.sleep(0.05)
        finally:
            await app.db.close()
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(15) == 0
    finally:
        proc.stop()
    job, counts, finals = await final_report(tmp_path, data, job_id)
    assert job["state"] == "completed", job
    assert sum(counts.values()) == rows and set(counts) <= FINAL, counts
    assert len(finals) == rows and set(finals.values()) == {1}  # every video reached one final state, once


async def test_grace_expires_running_videos_go_back_to_pending(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, job_id = start(data, 6, duration_ms=60_000, grace_s=1.0)
    try:
        await wait_counts(tmp_path, data, job_id, lambda c: c.get("processing", 0) == 2)
        proc.popen.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        assert proc.popen.wait(15) == 0, "\n".join(proc.stderr)
        assert 0.9 < time.monotonic() - t0 < 6
    finally:
        proc.stop()
    _, counts, _ = await final_report(tmp_path, data, job_id)
    assert counts == {"pending": 6}, counts


async def test_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, job_id = start(data, 4, duration_ms=60_000, grace_s=30.0)
    try:
        await wait_counts(tmp_path, data, job_id, lambda c: c.get("processing", 0) == 2)
        proc.popen.send_signal(signal.SIGINT)
        await asyncio.sleep(0.5)  # now inside the 30 s grace
        assert proc.popen.poll() is None
        proc.popen.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        assert proc.popen.wait(5) == 130
        assert time.monotonic() - t0 < 3
        assert any("exiting now" in line for line in proc.stderr)
    finally:
        proc.stop()
    # the interrupted videos are recovered (back to pending) by the next start
    proc, _ = start(data, 0, 0, 0.5)
    try:
        counts = await wait_counts(tmp_path, data, job_id, lambda c: c.get("processing", 0) == 2)
        assert sum(counts.values()) == 4
    finally:
        proc.popen.send_signal(signal.SIGTERM)
        proc.popen.wait(15)
        proc.stop()
