"""A bulkdash process for crash tests: starts the container on BULKDASH_* settings, optionally creates a
simulated job, prints ``ready <job_id>`` and runs until it is killed."""

from __future__ import annotations

import asyncio
import sys

from app.container import build
from app.domain.schemas import JobCreate
from app.settings import Settings


async def main(rows: int, duration_ms: int) -> None:
    app = build(Settings())
    await app.start()
    job_id = "-"
    if rows:
        user = await app.users.authenticate(app.admin_token)
        body = JobCreate.model_validate(
            {
                "title": "crash test",
                "input_source": {"type": "inline", "rows": [{"title": f"Video {i}"} for i in range(1, rows + 1)]},
                "template": {
                    "template_id": "simulated",
                    "overrides": {"duration_ms": duration_ms, "fail_rate": 0.1, "seed": 3},
                },
            }
        )
        job, _ = await app.jobs.create(user, body)
        job_id = job["id"]
    print(f"ready {job_id}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
