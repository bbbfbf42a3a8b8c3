"""``bulkdash submit FILE --watch`` end to end against the real server (skipped until the REST routes exist)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from app.cli import main
from app.container import Bulkdash
from tests.helpers.server import RunningServer


async def routes_missing(server: RunningServer) -> bool:
    async with httpx.AsyncClient(base_url=server.url) as http:
        paths = {r["path"] if isinstance(r, dict) else r for r in (await http.get("/openapi.json")).json()["paths"]}
    return not {"/api/v1/uploads", "/api/v1/bulk-jobs"} <= paths


async def test_submit_watch_uploads_creates_and_follows_to_the_end(
    server: RunningServer, container: Bulkdash, alice_token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if await routes_missing(server):
        pytest.skip("POST /api/v1/uploads or /api/v1/bulk-jobs is not installed yet")
    sheet = tmp_path / "rows.csv"
    sheet.write_text("title\n" + "".join(f"video {i}\n" for i in range(5)))
    argv = ["submit", str(sheet), "--template", "simulated", "--set", "duration_ms=10", "--watch"]
    argv += ["--url", server.url, "--token", alice_token]
    code = await asyncio.to_thread(main, argv)
    out = capsys.readouterr().out
    assert code == 0, out
    job_id = next(line for line in out.splitlines() if line.startswith("job_"))
    assert f"dashboard: {server.url}/bulk-jobs/{job_id}" in out
    assert "completed: 5 completed" in out


def test_submit_needs_exactly_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "--url", "http://127.0.0.1:9", "--token", "x"]) == 2
    assert "one of them" in capsys.readouterr().err
