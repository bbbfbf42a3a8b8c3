"""The ``user`` fixture of NiceGUI's test plugin, with bulkdash's pages registered on a fresh container.

NiceGUI's own fixture resets its globals (routes included) for every test and can only load a main file;
bulkdash's pages need a started container, so this fixture does what ``user_simulation`` does, with
``register_pages(container)`` between the reset and ``ui.run``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from nicegui import core, ui
from nicegui.functions.download import download
from nicegui.functions.navigate import Navigate
from nicegui.functions.notify import notify
from nicegui.testing.general import nicegui_reset_globals, prepare_simulation
from nicegui.testing.user import User

from app.container import Bulkdash
from app.domain.schemas import JobCreate


@pytest.fixture
async def user(container: Bulkdash, caplog: pytest.LogCaptureFixture) -> AsyncIterator[User]:
    """A simulated browser (no session yet) on an app with every bulkdash page."""
    with nicegui_reset_globals():
        os.environ["NICEGUI_USER_SIMULATION"] = "true"
        try:
            prepare_simulation()
            from components.pages import register_pages  # imported here: the reset drops page modules

            register_pages(container)
            ui.run(storage_secret="simulated secret")
            async with core.app.router.lifespan_context(core.app):
                async with httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test") as c:
                    yield User(c)
        finally:
            os.environ.pop("NICEGUI_USER_SIMULATION", None)
            ui.navigate = Navigate()
            ui.notify = notify
            ui.download = download
    errors = [r for r in caplog.get_records("call") if r.levelname == "ERROR"]
    if errors:
        pytest.fail(f"unexpected ERROR logs: {[r.getMessage() for r in errors]}", pytrace=False)


@pytest.fixture
async def admin_user(user: User, container: Bulkdash) -> User:
    """The simulated browser, logged in as admin through ``/?token=``."""
    await user.open(f"/?token={container.admin_token}")
    return user


@pytest.fixture
def make_job(container: Bulkdash) -> Callable[..., Any]:
    """``await make_job(owner, rows=3, duration_ms=..., fail_rate=..., title=...)``: a simulated job."""

    async def make(
        owner: dict[str, Any],
        rows: int = 3,
        *,
        duration_ms: float = 5_000,
        fail_rate: float = 0.0,
        title: str = "Test job",
    ) -> dict[str, Any]:
        body = JobCreate.model_validate(
            {
                "title": title,
                "input_source": {
                    "type": "inline",
                    "rows": [{"title": f"video {i}", "n": i} for i in range(1, rows + 1)],
                },
                "template": {
                    "template_id": "simulated",
                    "overrides": {"duration_ms": duration_ms, "fail_rate": fail_rate, "seed": 1},
                },
            }
        )
        job, _ = await container.jobs.create(owner, body)
        return job

    return make
