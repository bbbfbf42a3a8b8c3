"""``bulkdash demo``: serves as ``bulkdash serve`` does and, once started, renders the bundled sample sheet
(``app/assets/sample_campaign.csv``) as one real job at 480p, so a newcomer sees work at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.container import Bulkdash
from app.domain.schemas import JobCreate
from app.paths import sample_sheet
from app.settings import Settings

__all__ = ["dashboard_url", "demo_body", "run", "sample_rows", "start_demo_job"]

DEMO_TITLE = "Demo: spring campaign"


def sample_rows(path: Path | None = None) -> list[dict[str, Any]]:
    """The sample sheet's data rows as column → value objects (an inline job's rows)."""
    from app.sources.uploads import parse_upload

    path = path or sample_sheet()
    table = parse_upload(path.read_bytes(), path.name)
    return [dict(row.values) for row in table.rows]


def demo_body(rows: list[dict[str, Any]]) -> JobCreate:
    """The demo job: real rendering with the default template, small (480p) so it runs fast anywhere."""
    return JobCreate.model_validate(
        {
            "title": DEMO_TITLE,
            "input_source": {"type": "inline", "rows": rows},
            "output": {"resolution": "480p"},
            "template": {"template_id": "default_template"},
        }
    )


async def start_demo_job(container: Bulkdash) -> dict[str, Any]:
    """Creates the demo job as the local admin and returns it."""
    admin = await container.auth.authenticate(container.admin_token)
    if admin is None:
        raise RuntimeError("the admin token does not authenticate; the demo cannot create its job")
    job, _ = await container.jobs.create(admin, demo_body(sample_rows()))
    return job


def dashboard_url(settings: Settings, job_id: str, token: str) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    return f"http://{host}:{settings.port}/bulk-jobs/{job_id}?token={token}"


def run(settings: Settings, *, native: bool = False) -> None:
    """Serves until interrupted; the demo job starts as soon as the server is up."""
    from app.web.server import serve

    sample_rows()  # fail before starting anything when the sample is missing or unreadable

    async def on_started(container: Bulkdash) -> None:
        job = await start_demo_job(container)
        total = job.get("progress", {}).get("total", "?")
        print(f"demo job {job['id']} started with {total} videos", flush=True)
        print(f"watch it: {dashboard_url(settings, job['id'], container.admin_token)}", flush=True)

    serve(settings, native=native, on_started=[on_started])
