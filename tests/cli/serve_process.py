"""A real ``bulkdash serve`` (app.web.server.serve, signals and all) for the shutdown tests.

    python -m tests.cli.serve_process ROWS DURATION_MS [close-window]

Settings come from BULKDASH_* variables. With ROWS > 0 it creates a simulated job once started and prints
``ready <job_id>`` (else ``ready -``). ``close-window`` then does what NiceGUI does when the native window is
closed (``core.stop_and_exit`` from another thread) once the first video runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading

from app.container import Bulkdash
from app.domain.schemas import JobCreate
from app.settings import Settings
from app.web import server


def job_body(rows: int, duration_ms: int) -> JobCreate:
    return JobCreate.model_validate(
        {
            "title": "shutdown test",
            "input_source": {"type": "inline", "rows": [{"title": f"Video {i}"} for i in range(1, rows + 1)]},
            "template": {"template_id": "simulated", "overrides": {"duration_ms": duration_ms, "seed": 1}},
        }
    )


def main(rows: int, duration_ms: int, close_window: bool) -> None:
    settings = Settings()
    grace = os.environ.get("BULKDASH_SHUTDOWN_GRACE_S")
    if grace is not None and not hasattr(settings, "shutdown_grace_s"):
        server.SHUTDOWN_GRACE_S = float(grace)  # until the setting exists in app/settings.py

    async def on_started(container: Bulkdash) -> None:
        job_id = "-"
        if rows:
            admin = await container.auth.authenticate(container.admin_token)
            job, _ = await container.jobs.create(admin, job_body(rows, duration_ms))
            job_id = job["id"]
        print(f"ready {job_id}", flush=True)
        if close_window:
            while not any(rt.running for rt in container.engine.runtimes.values()):  # noqa: ASYNC110 - no event
                await asyncio.sleep(0.01)
            from nicegui import core

            threading.Thread(target=core.stop_and_exit, daemon=True).start()

    server.serve(settings, on_started=[on_started])


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), "close-window" in sys.argv[3:])
