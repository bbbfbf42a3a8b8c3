"""Engine test helpers: generators whose behaviour a test controls, and job creation shortcuts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.container import Bulkdash
from app.domain.schemas import JobCreate
from app.generators.base import GenerationError, GenerationResult, ProgressCallback, RenderRequest
from app.generators.registry import TemplateInfo


class GatedGenerator:
    """Blocks every video until the test opens the gate; records the order videos started in."""

    template_id = "gated"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started: list[tuple[str, int]] = []
        self.running = 0
        self.max_running = 0
        self.started_event = asyncio.Event()

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        return "row has bad=yes" if variables.get("bad") == "yes" else None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        self.started.append((request.job_id, request.row_index))
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        self.started_event.set()
        try:
            report(50.0, "render")
            await self.gate.wait()
            report(100.0, "render")
            return GenerationResult(duration_s=1.0)
        finally:
            self.running -= 1


class FlakyGenerator:
    """Fails the first ``failures`` attempts of each video with a transient error; rows with
    ``permanent=yes`` fail permanently."""

    template_id = "flaky"

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.attempts: dict[int, int] = {}

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        return None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        self.attempts[request.row_index] = request.attempt
        if request.variables.get("permanent") == "yes":
            raise GenerationError("bad_input", "this row can never render", "render", permanent=True)
        if request.attempt <= self.failures:
            raise GenerationError("flaky", f"transient failure on attempt {request.attempt}", "encode")
        return GenerationResult(duration_s=0.5)


def register(container: Bulkdash, generator: Any) -> Any:
    container.templates.register(
        generator, TemplateInfo(id=generator.template_id, name=generator.template_id, kind="simulated")
    )
    return generator


@pytest.fixture
def gated(container: Bulkdash) -> GatedGenerator:
    return register(container, GatedGenerator())


@pytest.fixture
def flaky(container: Bulkdash) -> FlakyGenerator:
    return register(container, FlakyGenerator())


async def create_job(
    container: Bulkdash,
    user: dict[str, Any],
    rows: int | list[dict[str, Any]],
    template: str = "simulated",
    **fields: Any,
) -> dict[str, Any]:
    """Creates an inline job through the job service (the one write path)."""
    if isinstance(rows, int):
        rows = [{"title": f"Video {i}"} for i in range(1, rows + 1)]
    overrides = fields.pop("overrides", {"duration_ms": 0} if template == "simulated" else {})
    body = JobCreate.model_validate(
        {
            "title": fields.pop("title", "test job"),
            "input_source": {"type": "inline", "rows": rows},
            "template": {"template_id": template, "overrides": overrides},
            **fields,
        }
    )
    job, created = await container.jobs.create(user, body)
    assert created
    return job


async def finish(container: Bulkdash, timeout: float = 20.0) -> None:
    await container.engine.wait_idle(timeout)
    await container.writer.flush()
