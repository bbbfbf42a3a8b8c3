"""What the e2e tests share beyond the Sheets fixtures: HTTP clients on the real app, a create body for sheet
jobs and a generator that writes small output files.

The Sheets fixtures live in :mod:`tests.helpers.sheets_fixtures`; they are re-exported here for the modules
that import them from this one.
"""

# ruff: noqa: F811 - the imported fixtures are fixture parameters here

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.limits import Limits
from app.api.router import install
from app.container import Bulkdash
from app.generators.base import GenerationError, GenerationResult, ProgressCallback, RenderRequest
from app.generators.registry import TemplateInfo
from tests.helpers.sheets_fixtures import account, emulator, fast_sheets, settings  # noqa: F401 - re-exported

API = "/api/v1"


@dataclass
class Http:
    """The real app and a client per user."""

    container: Bulkdash
    alice: httpx.AsyncClient
    bob: httpx.AsyncClient
    anon: httpx.AsyncClient

    async def settle(self) -> None:
        """Every job done (or paused), its writes committed, closing write-backs finished."""
        await settle(self.container)


async def settle(container: Bulkdash) -> None:
    await container.engine.wait_idle(10)
    await container.writer.flush()
    assert container.sheets is not None
    await container.sheets.drain()


@pytest.fixture
async def http(fast_sheets: Bulkdash) -> AsyncIterator[Http]:
    app = FastAPI()
    install(app, fast_sheets, Limits(max_body_bytes=1024 * 1024, create_rate_per_min=6000, create_burst=1000))
    clients = []
    for name in ("alice", "bob"):
        token, _ = await fast_sheets.auth.create_token(name)
        clients.append(_client(app, token))
    anon = _client(app, None)
    try:
        yield Http(fast_sheets, clients[0], clients[1], anon)
    finally:
        for c in (*clients, anon):
            await c.aclose()


def _client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test", headers=headers)


def sheet_body(sheet_id: str, range_: str = "Sheet1!A1:Z1000", **fields: Any) -> dict[str, Any]:
    """A create body for a ``simulated`` (or ``template``) job reading a sheet."""
    template = fields.pop("template", "simulated")
    source = {"type": "sheet", "sheet_id": sheet_id, "range": range_, **fields.pop("source", {})}
    overrides = {"duration_ms": 0} if template == "simulated" else {}
    return {
        "title": fields.pop("title", "sheet job"),
        "input_source": source,
        "template": {"template_id": template, "overrides": overrides},
        **fields,
    }


class FileGenerator:
    """Writes a small output file per row (so videos have an ``output_url``); a row with ``fail=yes`` fails
    for good, a row with ``skip=yes`` is skipped at validation."""

    template_id = "files"

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        return "this row asks to be skipped" if variables.get("skip") == "yes" else None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        if request.variables.get("fail") == "yes":
            raise GenerationError("bad_row", f"row {request.row_index} cannot render", "render", permanent=True)
        request.output_path.parent.mkdir(parents=True, exist_ok=True)
        request.output_path.write_bytes(b"video")
        return GenerationResult(output_path=request.output_path, duration_s=1.0, size_bytes=5)


def register_files(container: Bulkdash) -> None:
    container.templates.register(FileGenerator(), TemplateInfo(id="files", name="files", kind="simulated"))
