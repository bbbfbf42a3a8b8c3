"""The ``simulated`` template: no rendering, a configurable duration and failure rate (demos, load, benchmarks)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from app.generators.base import GenerationError, GenerationResult, ProgressCallback, RenderRequest

_STEPS = 4


class SimulatedGenerator:
    """Pretends to render: sleeps ``duration_ms`` in a few progress steps, fails with ``fail_rate``.

    ``seed`` makes the failures repeatable: the outcome of a video depends on the seed, its row and its attempt.
    """

    template_id = "simulated"

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        try:
            _options(overrides)
        except ValueError as exc:
            return str(exc)
        return None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        duration_ms, fail_rate, seed = _options(request.overrides)
        if duration_ms > 0:
            for step in range(1, _STEPS + 1):
                await asyncio.sleep(duration_ms / 1000 / _STEPS)
                report(100.0 * step / _STEPS, "render")
        else:
            await asyncio.sleep(0)
        if fail_rate > 0:
            rng = random.Random(f"{seed}:{request.job_id}:{request.row_index}:{request.attempt}")
            if rng.random() < fail_rate:
                raise GenerationError("simulated_failure", "simulated failure (fail_rate)", "render")
        return GenerationResult(duration_s=duration_ms / 1000)


def _options(overrides: dict[str, Any]) -> tuple[float, float, int]:
    try:
        duration_ms = float(overrides.get("duration_ms", 1000))
        fail_rate = float(overrides.get("fail_rate", 0.0))
        seed = int(overrides.get("seed", 0))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"template.overrides: duration_ms, fail_rate and seed must be numbers ({exc})") from exc
    if duration_ms < 0:
        raise ValueError("template.overrides.duration_ms must be >= 0")
    if not 0 <= fail_rate <= 1:
        raise ValueError("template.overrides.fail_rate must be between 0 and 1")
    return duration_ms, fail_rate, seed
