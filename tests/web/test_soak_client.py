"""The soak's dashboard client (``bench/soak.py``) against a real ``bulkdash serve``.

Issue #7: the soak reported "socket.io messages per dashboard: min=0 median=0". Its ``/?token=`` logins had
answered 500 under load, unnoticed, so its "dashboards" were login pages, which push nothing. This checks what
the soak relies on: its login, page load and nicegui.js-style socket.io connection (NiceGUI 3's implicit
handshake) reach a live dashboard that pushes updates until the job's end, and the server lets the page go
(``bulkdash_ui_clients`` back to 0) once the client left.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from bench import soak
from tests.conftest import wait_for
from tests.helpers.serve_api import ServeProcess


async def test_dashboard_client_gets_live_updates_and_the_server_lets_the_page_go(tmp_path: Path) -> None:
    server = ServeProcess.start(tmp_path / "data")
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as api:
            body = {
                "title": "soak client",
                "input_source": {"type": "inline", "rows": [{"title": f"v{i}"} for i in range(1, 31)]},
                "template": {"template_id": "simulated", "overrides": {"duration_ms": 20, "seed": 1}},
            }
            job_id = (await api.post("/api/v1/bulk-jobs", json=body)).raise_for_status().json()["id"]
            await api.post(f"/api/v1/bulk-jobs/{job_id}/pause")
            live, stop, seen = asyncio.Event(), asyncio.Event(), soak.Dashboard()
            client = asyncio.create_task(
                soak.ui_client(server.url, server.token, job_id, seen, 0, live, stop, asyncio.Semaphore(1))
            )
            await wait_for(lambda: seen.connected or client.done(), timeout=30)
            assert seen.error == ""
            assert (await soak.server_gauges(api))["ui"] == 1  # the dashboard; the login redirect left no page

            live.set()
            await api.post(f"/api/v1/bulk-jobs/{job_id}/resume")
            await wait_for(lambda: seen.percent == "100%", timeout=30)
            stop.set()
            await client

            assert seen.live_updates > 0 and not seen.dropped
            _, held = await soak.until_released(api, timeout=30)
            assert held == {"ui": 0.0, "ws": 0.0}
    finally:
        server.kill()
