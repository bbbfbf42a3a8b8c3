"""Small pieces for the fault tests: a started process on custom settings, test generators, job runs."""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from app.container import Bulkdash, build
from app.domain.schemas import JobCreate
from app.generators.base import GenerationError, GenerationResult, ProgressCallback, RenderRequest
from app.generators.registry import TemplateInfo
from tests.conftest import make_settings


@asynccontextmanager
async def started(tmp_path: Path, **overrides: Any) -> AsyncIterator[Bulkdash]:
    """A started process on ``make_settings(tmp_path, **overrides)``."""
    app = build(make_settings(tmp_path, **overrides))
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


class ScriptedGenerator:
    """Fails per row as told: ``plan[row_index]`` is a list of outcomes per attempt (an exception to raise, or
    ``None`` for success); rows without a plan succeed at once. Records every attempt."""

    def __init__(self, template_id: str, plan: dict[int, list[BaseException | None]]) -> None:
        self.template_id = template_id
        self.plan = plan
        self.attempts: list[tuple[int, int]] = []

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        return None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        self.attempts.append((request.row_index, request.attempt))
        report(50.0, "render")
        outcomes = self.plan.get(request.row_index, [])
        outcome = outcomes[min(request.attempt, len(outcomes)) - 1] if outcomes else None
        if outcome is not None:
            raise outcome
        return GenerationResult(duration_s=0.1)


def register(app: Bulkdash, generator: Any, kind: str = "simulated") -> None:
    app.templates.register(generator, TemplateInfo(id=generator.template_id, name=generator.template_id, kind=kind))


def transient(message: str = "the renderer hiccuped") -> GenerationError:
    return GenerationError("render_hiccup", message, "render")


def permanent(message: str = "this row can never render") -> GenerationError:
    return GenerationError("bad_row", message, "render", permanent=True)


def disk_full() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def body(template_id: str, rows: int | list[dict[str, Any]], **extra: Any) -> JobCreate:
    if isinstance(rows, int):
        rows = [{"title": f"row {i}"} for i in range(1, rows + 1)]
    return JobCreate.model_validate(
        {
            "title": "fault test",
            "input_source": {"type": "inline", "rows": rows},
            "template": {"template_id": template_id, **extra.pop("template", {})},
            **extra,
        }
    )


async def run_job(app: Bulkdash, job: JobCreate, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Creates the job as the admin, waits until the engine is idle, returns (job, videos) as the API shows them."""
    admin = await app.auth.authenticate(app.admin_token)
    assert admin is not None
    created, _ = await app.jobs.create(admin, job)
    await app.engine.wait_idle(timeout)
    await app.writer.flush()
    final = await app.jobs.get(admin, created["id"])
    videos, _ = await app.jobs.videos(admin, created["id"], state=None, q=None, sort="row_index", limit=500, offset=0)
    return final, videos


def by_row(videos: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {v["row_index"]: v for v in videos}
