"""Load and soak: a real ``bulkdash serve`` process, dashboard clients and ``/ws`` subscribers, one big job.

Usage: ``.venv/bin/python bench/soak.py [--videos 5000] [--ui 50] [--ws 100] [--workers 8] [--duration-ms 20]``

Loopback only, bounded by ``--timeout``. Each dashboard client loads ``/bulk-jobs/{id}`` with a logged-in session
(HTTP) and connects to NiceGUI's socket.io endpoint with the page's own query (``client_id`` ...), exactly as the
browser's nicegui.js does, then counts the live-update messages the page pushes. Each ``/ws`` subscriber follows
the job from ``last_seq=0``. The job is created, paused while everyone connects, then resumed.

Prints: event loss per ``/ws`` client against the durable log (must be 0), publish→receive latency percentiles
(event ``ts`` set at emit vs. the client's clock, same machine), dashboard messages received, and the server's
CPU and memory (psutil on its pid) at start, during, and after every client left.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import socketio
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.serve_api import ServeProcess  # noqa: E402
from tests.reliability.support import stored_events  # noqa: E402

_QUERY = re.compile(r"query: (\{.*?\}),\n")


class Sampler:
    """CPU % and RSS of the server process, sampled every ``interval`` seconds in the background."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []  # (t, cpu %, rss MiB)
        self.proc.cpu_percent(None)

    def snapshot(self) -> tuple[float, float]:
        return self.proc.cpu_percent(None), self.proc.memory_info().rss / 2**20

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            cpu, rss = self.snapshot()
            self.samples.append((time.monotonic(), cpu, rss))


async def idle_level(sampler: Sampler, seconds: float = 2.0) -> tuple[float, float]:
    sampler.proc.cpu_percent(None)
    await asyncio.sleep(seconds)
    return sampler.snapshot()


async def ui_client(
    url: str,
    token: str,
    job_id: str,
    counts: list[int],
    connected: list[bool],
    index: int,
    stop: asyncio.Event,
    gate: asyncio.Semaphore,
) -> float | str:
    """One dashboard: session login, page load, socket.io connect with the page's query; counts updates.
    Returns the page load time, or why the dashboard could not be opened."""
    async with httpx.AsyncClient(base_url=url, timeout=60, follow_redirects=True) as http:
        async with gate:  # page builds are CPU-bound: a few at a time, as users arriving
            await http.get("/", params={"token": token})
            t0 = time.perf_counter()
            page = await http.get(f"/bulk-jobs/{job_id}")
            load_s = time.perf_counter() - t0
        if page.status_code != 200:
            return f"HTTP {page.status_code} after {load_s:.1f} s"
        match = _QUERY.search(page.text)
        if not match:
            return "no socket.io query in the page (NiceGUI changed?)"
        query = ast.literal_eval(match.group(1))  # a Python dict literal in the page
        query.update(document_id=f"soak-{index}", tab_id=f"tab-{index}", old_tab_id="")
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        sio = socketio.AsyncClient(reconnection=False)

        @sio.on("*")
        async def any_event(event: str, *args: Any) -> None:
            counts[index] += 1

        qs = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in query.items())
        await sio.connect(
            f"{url}?{qs}", socketio_path="/_nicegui_ws/socket.io", transports=["websocket"], headers={"Cookie": cookie}
        )
        connected[index] = True
        await stop.wait()
        await sio.disconnect()
    return load_s


async def ws_client(ws_url: str, token: str, job_id: str, ready: asyncio.Event) -> dict[str, Any]:
    """Follows the job from ``last_seq=0`` to its final event; seqs and emit→receive latencies of live events."""
    seqs: list[int] = []
    latencies: list[float] = []
    url = f"{ws_url}?job_id={job_id}&token={token}&last_seq=0"
    async with connect(url, compression=None, max_size=None, open_timeout=60) as ws:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "connection.ready":
                continue
            if kind in ("ping", "pong"):
                continue
            now = time.time()
            seqs.append(frame["seq"])
            if ready.is_set():
                latencies.append(now - datetime.fromisoformat(frame["ts"].replace("Z", "+00:00")).timestamp())
            if kind in ("job.completed", "job.failed", "job.canceled"):
                break
    return {"seqs": seqs, "latencies": latencies}


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else (values or [0.0])[0]


async def main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bulkdash-soak-"))
    server = ServeProcess.start(tmp / "data", BULKDASH_WORKERS=str(args.workers), BULKDASH_LOG_LEVEL="WARNING")
    sampler = Sampler(server.pid)
    try:
        cpu0, rss0 = await idle_level(sampler)
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=60) as api:
            body = {
                "title": "soak",
                "input_source": {"type": "inline", "rows": [{"title": f"v{i}"} for i in range(1, args.videos + 1)]},
                "template": {"template_id": "simulated", "overrides": {"duration_ms": args.duration_ms, "seed": 1}},
            }
            job_id = (await api.post("/api/v1/bulk-jobs", json=body)).raise_for_status().json()["id"]
            await api.post(f"/api/v1/bulk-jobs/{job_id}/pause")
            live = asyncio.Event()
            stop_ui = asyncio.Event()
            ui_counts = [0] * args.ui
            gate = asyncio.Semaphore(args.ui_concurrency)
            connected = [False] * args.ui
            sampling = asyncio.create_task(sampler.run())
            ui_tasks = [
                asyncio.create_task(ui_client(server.url, server.token, job_id, ui_counts, connected, i, stop_ui, gate))
                for i in range(args.ui)
            ]
            ws_tasks = [
                asyncio.create_task(ws_client(server.ws_url, server.token, job_id, live)) for _ in range(args.ws)
            ]
            deadline = time.monotonic() + args.timeout
            while sum(connected) + sum(t.done() for t in ui_tasks) < args.ui:  # noqa: ASYNC110
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)  # dashboards connected (first message) or given up; the job is paused
            await asyncio.sleep(1.0)  # the /ws clients replay the paused job's log meanwhile
            t0 = time.monotonic()
            live.set()
            await api.post(f"/api/v1/bulk-jobs/{job_id}/resume")
            results = await asyncio.wait_for(asyncio.gather(*ws_tasks), args.timeout)
            run_s = time.monotonic() - t0
            job = (await api.get(f"/api/v1/bulk-jobs/{job_id}")).json()
            stop_ui.set()
            ui_results = await asyncio.gather(*ui_tasks)
            sampling.cancel()
        during = [s for s in sampler.samples if s[0] >= t0]
        await asyncio.sleep(3.0)  # every client has left
        cpu_after, rss_after = await idle_level(sampler)
    finally:
        server.kill()
        server_errors = [line for line in server.proc.stderr if "Error" in line or "error" in line][-12:]
    log = [e.seq for e in await stored_events(tmp, tmp / "data", job_id)]
    last = max(r["seqs"][-1] for r in results)
    expected = log[: log.index(last) + 1]
    lossy = [r for r in results if r["seqs"] != expected]
    load_times = [r for r in ui_results if isinstance(r, float)] or [0.0]
    ui_errors = [r for r in ui_results if isinstance(r, str)]
    connected_ui = len(ui_results) - len(ui_errors)
    latencies = [x * 1000 for r in results for x in r["latencies"]]
    print(
        f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB, "
        f"Python {platform.python_version()}, SQLite"
    )
    print(
        f"command: .venv/bin/python bench/soak.py --videos {args.videos} --ui {args.ui} --ws {args.ws} "
        f"--workers {args.workers} --duration-ms {args.duration_ms}"
    )
    print(
        f"job {job['state']}: {job['progress']['completed']} completed, {job['progress']['failed']} failed "
        f"in {run_s:.1f} s = {args.videos / run_s:,.0f} videos/s with {args.ws} /ws + {connected_ui} dashboards"
    )
    print(
        f"/ws event loss: {len(lossy)} of {len(results)} clients differ from the log "
        f"({len(expected)} events each, gap-free log: {log == list(range(1, len(log) + 1))})"
    )
    print(
        f"publish->receive latency ms (live events, {len(latencies):,}): p50={pct(latencies, 50):.1f} "
        f"p95={pct(latencies, 95):.1f} p99={pct(latencies, 99):.1f} max={max(latencies):.1f}"
    )
    print(
        f"dashboard page load s: p50={statistics.median(load_times):.3f} max={max(load_times):.3f}; "
        f"socket.io messages per dashboard: min={min(ui_counts)} median={statistics.median(ui_counts):.0f}"
    )
    if ui_errors:
        print(f"dashboards that could not open: {len(ui_errors)} {sorted(set(ui_errors))[:3]}")
        print("server errors:", *server_errors, sep="\n  ")
    cpu_during = statistics.mean(s[1] for s in during) if during else 0.0
    rss_peak = max((s[2] for s in during), default=rss0)
    print(f"server CPU %: idle before={cpu0:.0f} during={cpu_during:.0f} (mean) after={cpu_after:.0f}")
    print(
        f"server RSS MiB: before={rss0:.0f} peak={rss_peak:.0f} after clients left={rss_after:.0f} "
        f"(+{rss_after - rss0:.0f})"
    )
    return 1 if lossy or ui_errors else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=5000)
    parser.add_argument("--ui", type=int, default=50)
    parser.add_argument("--ws", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--duration-ms", type=int, default=20)
    parser.add_argument("--ui-concurrency", type=int, default=5, help="dashboard page loads at a time")
    parser.add_argument("--timeout", type=float, default=600)
    sys.exit(asyncio.run(main(parser.parse_args())))
