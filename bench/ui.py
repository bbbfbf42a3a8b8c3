"""Benchmark of the dashboard with a 100,000-video job (simulated template, paused, then resumed briefly).

Usage: ``.venv/bin/python bench/ui.py [--rows 100000] [--clients 50]``

Prints: time to first paint of the dashboard (server: page built and HTML answered), table page change,
sort and search (server-side, goal < 150 ms) and the bytes each sent to the browser, bytes per live update
sent to one dashboard (goal < 5 KB; the video table's refreshes counted apart, also for a second dashboard
whose table shows only the processing videos, so that every row changes), and the server's memory with N
dashboards open. Pages run in NiceGUI's user simulation: the same page code, elements and outbox as a
browser session, without a browser; outbound bytes are counted at the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nicegui import app as nicegui_app  # noqa: E402
from nicegui import core, ui  # noqa: E402
from nicegui.storage import Storage  # noqa: E402
from nicegui.testing.general import nicegui_reset_globals, prepare_simulation  # noqa: E402
from nicegui.testing.user import User  # noqa: E402

from app.container import build  # noqa: E402
from app.domain.schemas import JobCreate  # noqa: E402
from app.settings import Settings  # noqa: E402


def is_table_message(kind: str, data: Any, table_id: int) -> bool:
    """Whether an outbound message carries the video table's page: a whole-element update with rows, or the
    table's ``patch`` call."""
    if kind == "update":
        return any(isinstance(e, dict) and "rows" in (e.get("props") or {}) for e in data.values())
    return kind == "run_javascript" and f'runMethod({table_id}, "patch"' in data.get("code", "")


def count_bytes(client: Any, sink: list[int], table_sink: list[int], table_id: int) -> None:
    """Wraps the client's outbox: each outbound message's JSON size goes to ``table_sink`` when it carries the
    video table's page, else to ``sink`` (progress ticks: labels, bar, badge, charts)."""
    original = client.outbox._emit

    async def counting(message: Any) -> None:
        _, kind, data = message
        size = len(json.dumps(data, default=str))
        (table_sink if is_table_message(kind, data, table_id) else sink).append(size)
        await original(message)

    client.outbox._emit = counting


async def timed(label: str, coro: Any, results: dict[str, list[float]]) -> Any:
    start = time.perf_counter()
    value = await coro
    results.setdefault(label, []).append((time.perf_counter() - start) * 1000)
    return value


async def measured(
    label: str, widget: Any, user: User, results: dict[str, list[float]], op_bytes: dict[str, list[int]]
) -> None:
    """Times ``widget.refresh()`` and records the bytes of the table messages it made the outbox send."""
    assert user.client is not None
    sent: list[int] = []
    outbox = user.client.outbox
    original = outbox._emit

    async def counting(message: Any) -> None:
        _, kind, data = message
        if is_table_message(kind, data, widget.table.id):
            sent.append(len(json.dumps(data, default=str)))
        await original(message)

    outbox._emit = counting
    try:
        await timed(label, widget.refresh(), results)
        await asyncio.sleep(0.1)  # the outbox sends on its next turn
    finally:
        outbox._emit = original
    op_bytes.setdefault(label, []).append(sum(sent))


async def run(rows: int, clients: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bd-bench-ui-"))
    settings = Settings(
        _env_file=None,
        data_dir=tmp,
        admin_token="bd_bench",
        workers=8,  # type: ignore[call-arg]
        log_level="WARNING",
    )
    container = build(settings)
    await container.start()
    admin = await container.auth.authenticate("bd_bench")
    assert admin is not None
    body = JobCreate.model_validate(
        {
            "title": "Catalogue 100k",
            "input_source": {
                "type": "inline",
                "rows": [{"title": f"Product {i}", "sku": f"SKU-{i:06d}"} for i in range(1, rows + 1)],
            },
            "template": {"template_id": "simulated", "overrides": {"duration_ms": 400, "fail_rate": 0.02, "seed": 3}},
        }
    )
    t0 = time.perf_counter()
    job, _ = await container.jobs.create(admin, body)
    for _ in range(1000):  # a pending job cannot be paused; wait (no event tells) until the engine starts it
        if container.engine.live_row(job["id"])["state"] != "pending":
            break
        await asyncio.sleep(0.01)
    await container.jobs.pause(admin, job["id"])
    print(f"created a {rows:,}-video job in {time.perf_counter() - t0:.1f} s (paused)")
    await asyncio.sleep(1.5)  # let the pausing job settle
    process = psutil.Process(os.getpid())
    results: dict[str, list[float]] = {}
    # what NiceGUI's pytest plugin does: storage in a temporary folder, and the "under test" switch that keeps
    # app.reset() from touching a (non-existent) client
    Storage.path = tmp / "nicegui-storage"
    nicegui_app.storage = Storage()
    os.environ["PYTEST_CURRENT_TEST"] = "bench/ui.py"
    with nicegui_reset_globals():
        os.environ["NICEGUI_USER_SIMULATION"] = "true"
        prepare_simulation()
        from components.pages import register_pages

        register_pages(container)
        ui.run(storage_secret="bench secret")
        async with core.app.router.lifespan_context(core.app):
            transport = httpx.ASGITransport(core.app)
            users: list[User] = []
            rss_before = process.memory_info().rss
            for _ in range(clients):
                user = User(httpx.AsyncClient(transport=transport, base_url="http://test"))
                await user.http_client.get("/?token=bd_bench")
                await timed("first paint", user.open(f"/bulk-jobs/{job['id']}"), results)
                users.append(user)
            await asyncio.sleep(1)
            rss_after = process.memory_info().rss

            # table operations through the widget of the first dashboard (what a click runs on the server);
            # what each sends to the browser is counted too
            user = users[0]
            assert user.client is not None
            widget = _video_table(user)
            op_bytes: dict[str, list[int]] = {}
            for page in (2, 100, 2000, 4000):
                widget.pagination = {**widget.pagination, "page": page}
                await measured("page change", widget, user, results, op_bytes)
            for sort in ("title", "-processing_ms", "state"):
                widget.pagination = {
                    **widget.pagination,
                    "page": 1,
                    "sortBy": sort.lstrip("-"),
                    "descending": sort.startswith("-"),
                }
                await measured("sort", widget, user, results, op_bytes)
            for q in ("Product 77777", "SKU-0123", "no such thing"):
                widget.q = q
                await measured("search", widget, user, results, op_bytes)
            widget.q = ""
            widget.pagination = {**widget.pagination, "page": 1, "sortBy": "row_index", "descending": False}
            await widget.refresh()
            await asyncio.sleep(0.2)  # let the outbox send the last page before counting live updates

            # live updates: count what one dashboard receives while the job runs
            sink: list[int] = []
            table_sink: list[int] = []
            count_bytes(user.client, sink, table_sink, widget.table.id)
            # and a second dashboard whose table shows the processing videos: every row changes every refresh
            busy_sink: list[int] = []
            if len(users) > 1:
                busy = _video_table(users[1])
                busy.state = "processing"  # what the state filter sets
                await busy.refresh()
                await asyncio.sleep(0.2)
                assert users[1].client is not None
                count_bytes(users[1].client, [], busy_sink, busy.table.id)
            await container.jobs.resume(admin, job["id"])
            seconds = 10
            await asyncio.sleep(seconds)
            await container.jobs.pause(admin, job["id"])
            live = await container.jobs.get(admin, job["id"])
            for u in users:
                await u.http_client.aclose()

    def ms(label: str) -> str:
        v = results[label]
        return f"median {statistics.median(v):.1f} ms, max {max(v):.1f} ms (n={len(v)})"

    print(f"dashboard first paint:      {ms('first paint')}")
    print(f"table page change:          {ms('page change')}")
    print(f"table sort:                 {ms('sort')}")
    print(f"table search:               {ms('search')}")
    for label, sizes in op_bytes.items():
        print(f"{'  sent per ' + label + ':':<28}median {statistics.median(sizes):,.0f} B, max {max(sizes):,} B")
    lines = (("progress ticks", sink), ("table page refreshes", table_sink), ("  only processing rows", busy_sink))
    for name, values in lines:
        print(
            f"{name + ':':<28}{len(values)} messages in {seconds} s, "
            f"median {statistics.median(values or [0]):,.0f} B, max {max(values or [0]):,} B per message, "
            f"{sum(values) / seconds:,.0f} B/s"
        )
    print(f"{'':<28}({live['progress']['completed']:,} videos done meanwhile, 8 workers)")
    print(
        f"memory with {clients} dashboards:   {(rss_after - rss_before) / 2**20:.1f} MiB more "
        f"({(rss_after - rss_before) / clients / 1024:.0f} KiB per dashboard), RSS {rss_after / 2**20:.0f} MiB"
    )
    await container.stop()


def _video_table(user: User) -> Any:
    """The VideoTable widget behind a dashboard's table element (the bound ``refresh``)."""
    table = user.find(marker="video-table").elements.pop()
    for listener in table._event_listeners.values():
        if listener.type == "request":
            return listener.handler.__self__
    raise RuntimeError("no request listener")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.clients))


if __name__ == "__main__":
    main()
