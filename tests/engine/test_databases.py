"""A whole job through the engine on each database (SQLite, and PostgreSQL when one is reachable)."""

from __future__ import annotations

from pathlib import Path

from app.container import build
from tests.conftest import make_settings
from tests.engine.conftest import create_job, finish


async def test_job_runs_on_each_database(database_url: str, tmp_path: Path) -> None:
    # a video fails for good with probability 0.5 ** 2: about 75 of 300, never 0 in practice (the job id,
    # part of the simulated generator's seed, is new each run)
    app = build(make_settings(tmp_path, database_url=database_url, max_attempts=2))
    await app.start()
    try:
        user = await app.users.authenticate(app.admin_token)
        job = await create_job(app, user, 300, overrides={"duration_ms": 0, "fail_rate": 0.5, "seed": 7})
        await finish(app)
        done = await app.jobs.get(user, job["id"])
        assert done["state"] == "completed"
        p = done["progress"]
        assert p["completed"] + p["failed"] == 300 and p["failed"] > 0 and p["completed"] > 0
        assert await app.jobs_store.count_by_state(job["id"]) == {
            k: v for k, v in (("completed", p["completed"]), ("failed", p["failed"])) if v
        }
        seqs = [e.seq for e in await app.events.after(job["id"], 0)]
        assert seqs == list(range(1, len(seqs) + 1))
    finally:
        await app.stop()
