"""``bulkdash demo``: serves and starts one real job from the bundled sample sheet."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

import httpx

from app.demo import demo_body, sample_rows
from app.paths import assets_dir
from tests.cli.helpers import ADMIN_TOKEN, Proc, free_port, process_env, reader


def test_sample_sheet_makes_a_valid_480p_job() -> None:
    rows = sample_rows()
    assert (assets_dir() / "sample_campaign.csv").is_file()
    assert len(rows) >= 10 and all(r["title"] and r["script"] for r in rows)
    body = demo_body(rows)
    assert body.template.template_id == "default_template"
    assert body.model_dump(mode="json")["output"]["resolution"] == "480p"
    assert body.input_source.type == "inline"


async def test_demo_starts_a_real_job_from_the_sample(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    proc = Proc(["-m", "app", "demo"], process_env(data, port))
    try:
        line = proc.wait_line("watch it:", timeout=40)
        match = re.search(rf"http://127\.0\.0\.1:{port}/bulk-jobs/(job_\w+)\?token={ADMIN_TOKEN}$", line)
        assert match, line
        job_id = match.group(1)
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/api/v1/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
        app = reader(tmp_path, data)
        try:
            job = await app.jobs_store.get_job(job_id)
            assert job["title"].startswith("Demo") and job["template"]["template_id"] == "default_template"
            assert job["output"]["resolution"] == "480p"
            end = time.monotonic() + 25
            while time.monotonic() < end:  # videos start rendering (real ones: the first takes a few seconds)
                counts = await app.jobs_store.count_by_state(job_id)
                if counts.get("completed"):
                    break
                await asyncio.sleep(0.2)
            assert sum(counts.values()) == len(sample_rows())
            assert counts.get("completed", 0) >= 1, counts
            assert not counts.get("failed"), counts
        finally:
            await app.db.close()
        outputs = [p for p in (data / "outputs").rglob("*.mp4") if not p.name.startswith(".")]  # not in-progress
        assert outputs and all(p.stat().st_size > 0 for p in outputs)
        proc.popen.send_signal(signal.SIGTERM)
        assert proc.popen.wait(20) == 0, "\n".join(proc.stderr)
    finally:
        proc.stop()
