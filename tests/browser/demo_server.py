"""A real bulkdash server for browser tests, screenshots and the UI bench: ``python -m tests.browser.demo_server``.

Environment: ``BD_PORT``, ``BD_DATA_DIR``, ``BD_SCENARIO`` (``live``: a few jobs, one running slowly;
``big``: one paused 100,000-video job). The admin token is ``bd_browser_admin``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.container import Bulkdash
from app.domain.schemas import JobCreate
from app.settings import Settings
from app.web.server import serve

ADMIN_TOKEN = "bd_browser_admin"


def simulated(title: str, rows: int, duration_ms: float, fail_rate: float = 0.0, **extra: Any) -> JobCreate:
    return JobCreate.model_validate(
        {
            "title": title,
            "input_source": {
                "type": "inline",
                "rows": [
                    {"title": f"{title} #{i}", "script": f"Row {i} of {title}", "style": "modern"}
                    for i in range(1, rows + 1)
                ],
            },
            "template": {
                "template_id": "simulated",
                "overrides": {"duration_ms": duration_ms, "fail_rate": fail_rate, "seed": 7},
            },
            **extra,
        }
    )


async def live(container: Bulkdash) -> None:
    admin = await container.auth.authenticate(ADMIN_TOKEN)
    assert admin is not None
    done, _ = await container.jobs.create(admin, simulated("Spring product teasers", 12, 10, fail_rate=0.2))
    await container.jobs.create(admin, simulated("Weekly recap", 60, 600, fail_rate=0.1, priority="high"))
    await container.jobs.create(admin, simulated("Store openings", 400, 1500, fail_rate=0.05))
    os.environ["BD_DONE_JOB"] = done["id"]


async def big(container: Bulkdash) -> None:
    admin = await container.auth.authenticate(ADMIN_TOKEN)
    assert admin is not None
    job, _ = await container.jobs.create(admin, simulated("Catalogue 100k", 100_000, 2000, fail_rate=0.02))
    await container.jobs.pause(admin, job["id"])


def main() -> None:
    data_dir = Path(os.environ.get("BD_DATA_DIR", "/tmp/bulkdash-browser"))
    settings = Settings(
        _env_file=None,
        host="127.0.0.1",
        port=int(os.environ.get("BD_PORT", "8089")),  # type: ignore[call-arg]
        data_dir=data_dir,
        admin_token=ADMIN_TOKEN,
        workers=int(os.environ.get("BD_WORKERS", "4")),
        log_level="WARNING",
    )
    hook = {"live": live, "big": big}.get(os.environ.get("BD_SCENARIO", "live"))
    serve(settings, on_started=[hook] if hook else [])


if __name__ == "__main__":
    main()
