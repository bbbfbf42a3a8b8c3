"""Load and soak: a real ``bulkdash serve`` process, dashboard clients and ``/ws`` subscribers, one big job.

Usage: ``.venv/bin/python bench/soak.py [--videos 5000] [--ui 50] [--ws 100] [--workers 8] [--duration-ms 20]
[--rounds 1]`` (``--rounds 2`` repeats the load on the same server: a leak grows every round, a high-water mark
does not)

Loopback only, bounded by ``--timeout``. Each dashboard client logs in with ``/?token=`` (the session cookie),
loads ``/bulk-jobs/{id}`` and connects to NiceGUI's socket.io endpoint with the page's own query (``client_id``
...), exactly as the browser's nicegui.js does (implicit handshake, ``ack`` every 3 s); it counts the live
updates the page pushes and follows the progress label they carry. Each ``/ws`` subscriber follows the job from
``last_seq=0``. The job is created, paused while everyone connects, then resumed.

Prints: event loss per ``/ws`` client against the durable log (must be 0), publish→receive latency percentiles
(event ``ts`` set at emit vs. the client's clock, same machine), dashboards opened, live updates per dashboard
and whether each shows the final percentage, and the server's CPU and memory (psutil on its pid) at start,
during, and after every client left and the server reports (``/metrics``) that it released their pages.
Exits 1 when a ``/ws`` client lost events, a dashboard could not open, lost its socket, got no live update or
is left behind, or the server still holds pages or subscriptions after the clients left.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil
import socketio
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.fmt import percent  # noqa: E402
from tests.helpers.serve_api import ServeProcess  # noqa: E402
from tests.reliability.support import stored_events  # noqa: E402

_GAUGE = re.compile(r"^bulkdash_(ui|ws)_clients (\S+)$", re.MULTILINE)
_NOTEWORTHY = re.compile(r"WARNING|ERROR|Traceback|Error")
_QUERY = re.compile(r"query: (\{.*?\}),\n")
_ELEMENTS = re.compile(r"parseElements\(String\.raw`(.*?)`\)", re.DOTALL)
_UNESCAPE = (("&#36;", "$"), ("&#96;", "`"), ("&gt;", ">"), ("&lt;", "<"), ("&amp;", "&"))  # nicegui.js parseElements


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


@dataclass
class Dashboard:
    """What one dashboard client saw."""

    load_s: float = 0.0
    error: str = ""
    connected: bool = False
    messages: int = 0  # every socket.io message the page pushed
    live_updates: int = 0  # ``update`` messages after the job was resumed
    percent: str = ""  # the progress label as the browser would show it now
    dropped: bool = False  # the server closed the socket while the page was open


def _percent_in(elements: dict[str, Any], current: str) -> str:
    """The text of the ``bd-percent`` label among NiceGUI element dicts (page or ``update`` message)."""
    for element in elements.values():
        if isinstance(element, dict) and "bd-percent" in (element.get("class") or ()):
            current = element.get("text") or current
    return current


async def ui_client(
    url: str,
    token: str,
    job_id: str,
    seen: Dashboard,
    index: int,
    live: asyncio.Event,
    stop: asyncio.Event,
    gate: asyncio.Semaphore,
) -> None:
    """One dashboard as a browser opens it: ``/?token=`` sets the session (its redirect is not followed: a tab
    opened on the dashboard never loads the jobs page), the page load, then the socket.io connection that
    nicegui.js makes (the page's query plus ``document_id``/``tab_id``: NiceGUI 3's implicit handshake) and its
    ``ack`` every 3 s. Counts what the page pushes and follows the progress label."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        async with gate:  # page builds are CPU-bound: a few at a time, as users arriving
            login = await http.get("/", params={"token": token})
            if login.status_code != 303 or login.headers.get("location") != "/":
                seen.error = f"login: HTTP {login.status_code}"
                return
            t0 = time.perf_counter()
            page = await http.get(f"/bulk-jobs/{job_id}")
            seen.load_s = time.perf_counter() - t0
        if page.status_code != 200:
            where = f" to {page.headers.get('location')}" if page.is_redirect else ""
            seen.error = f"HTTP {page.status_code}{where} after {seen.load_s:.1f} s"
            return
        match, elements = _QUERY.search(page.text), _ELEMENTS.search(page.text)
        if not match or not elements:
            seen.error = "no socket.io query or elements in the page (NiceGUI changed?)"
            return
        raw = elements.group(1)
        for escaped, char in _UNESCAPE:
            raw = raw.replace(escaped, char)
        seen.percent = _percent_in(json.loads(raw), "")
        query = ast.literal_eval(match.group(1))  # a Python dict literal in the page
        query.update(document_id=str(uuid.uuid4()), tab_id=f"soak-{index}", old_tab_id="")
        next_id = {"value": int(query["next_message_id"])}
        qs = urllib.parse.urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()})
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        async with aiohttp.ClientSession() as session:  # ours, so that it is closed however the socket ends
            sio = socketio.AsyncClient(reconnection=False, http_session=session)

            @sio.on("*")
            async def any_event(event: str, *args: Any) -> None:
                seen.messages += 1
                data = args[0] if args and isinstance(args[0], dict) else {}
                if isinstance(data.get("_id"), int):
                    next_id["value"] = data["_id"] + 1
                if event == "update":
                    seen.percent = _percent_in(data, seen.percent)
                    if live.is_set():
                        seen.live_updates += 1

            @sio.event
            async def disconnect(*_: Any) -> None:
                seen.dropped = not stop.is_set()

            try:
                await sio.connect(
                    f"{url}?{qs}",
                    socketio_path="/_nicegui_ws/socket.io",
                    transports=["websocket"],
                    headers={"Cookie": cookie},
                    wait_timeout=30,
                )
            except socketio.exceptions.ConnectionError as exc:
                seen.error = f"socket.io: {exc}"
                return
            seen.connected = True
            acked = -1
            while not stop.is_set():  # nicegui.js acknowledges what it received every 3 s (the server drops it)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 3.0)
                if sio.connected and next_id["value"] > acked:
                    acked = next_id["value"]
                    await sio.emit("ack", {"client_id": query["client_id"], "next_message_id": acked})
            await sio.disconnect()


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


async def server_gauges(api: httpx.AsyncClient) -> dict[str, float]:
    """``bulkdash_ui_clients`` (pages the server holds) and ``bulkdash_ws_clients`` from ``/metrics``."""
    text = (await api.get("/metrics")).text
    return {m.group(1): float(m.group(2)) for m in _GAUGE.finditer(text)}


async def until_released(api: httpx.AsyncClient, timeout: float) -> tuple[float, dict[str, float]]:
    """Polls ``/metrics`` until the server holds no page and no ``/ws`` client (NiceGUI deletes a page
    ``reconnect_timeout`` after its socket closed); seconds it took (or ``timeout``) and the last gauges."""
    t0 = time.monotonic()
    while True:
        gauges = await server_gauges(api)
        if not any(gauges.values()) or time.monotonic() - t0 > timeout:
            return time.monotonic() - t0, gauges
        await asyncio.sleep(0.5)


@dataclass
class Round:
    """One round of load against the running server, and what it measured."""

    job_id: str = ""
    job: dict[str, Any] = field(default_factory=dict)
    dashboards: list[Dashboard] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    open_s: float = 0.0
    run_s: float = 0.0
    held_during: float = 0.0
    released_s: float = 0.0
    held_after: dict[str, float] = field(default_factory=dict)
    cpu_during: float = 0.0
    rss_peak: float = 0.0
    cpu_after: float = 0.0
    rss_after: float = 0.0


async def hold(api: httpx.AsyncClient, job_id: str, timeout: float = 60) -> None:
    """Pauses the new job and waits until it is ``paused``: everyone connects before it runs. A job may be
    paused once the engine took it (``pending`` cannot be paused), so this asks again until it may."""
    deadline = time.monotonic() + timeout
    while (response := await api.post(f"/api/v1/bulk-jobs/{job_id}/pause")).status_code == 409:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    response.raise_for_status()
    while (await api.get(f"/api/v1/bulk-jobs/{job_id}")).json()["state"] != "paused":
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} did not pause")
        await asyncio.sleep(0.05)


async def one_round(server: ServeProcess, sampler: Sampler, args: argparse.Namespace) -> Round:
    """Creates a paused job, opens the dashboards and ``/ws`` subscribers, runs the job, lets everyone leave
    and waits until the server reports it released their pages and subscriptions."""
    r = Round()
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=60) as api:
        body = {
            "title": "soak",
            "input_source": {"type": "inline", "rows": [{"title": f"v{i}"} for i in range(1, args.videos + 1)]},
            "template": {"template_id": "simulated", "overrides": {"duration_ms": args.duration_ms, "seed": 1}},
        }
        r.job_id = job_id = (await api.post("/api/v1/bulk-jobs", json=body)).raise_for_status().json()["id"]
        await hold(api, job_id)
        live = asyncio.Event()
        stop_ui = asyncio.Event()
        r.dashboards = dashboards = [Dashboard() for _ in range(args.ui)]
        gate = asyncio.Semaphore(args.ui_concurrency)
        sampler.samples.clear()
        sampling = asyncio.create_task(sampler.run())
        t_open = time.monotonic()
        ui_tasks = [
            asyncio.create_task(ui_client(server.url, server.token, job_id, d, i, live, stop_ui, gate))
            for i, d in enumerate(dashboards)
        ]
        ws_tasks = [asyncio.create_task(ws_client(server.ws_url, server.token, job_id, live)) for _ in range(args.ws)]
        deadline = time.monotonic() + args.timeout
        while sum(d.connected for d in dashboards) + sum(t.done() for t in ui_tasks) < args.ui:  # noqa: ASYNC110
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)  # dashboards connected or given up; the job is paused
        r.open_s = time.monotonic() - t_open
        await asyncio.sleep(1.0)  # the /ws clients replay the paused job's log meanwhile
        r.held_during = (await server_gauges(api)).get("ui", 0)
        t0 = time.monotonic()
        live.set()
        await api.post(f"/api/v1/bulk-jobs/{job_id}/resume")
        r.results = await asyncio.wait_for(asyncio.gather(*ws_tasks), args.timeout)
        r.run_s = time.monotonic() - t0
        r.job = (await api.get(f"/api/v1/bulk-jobs/{job_id}")).json()
        final = percent(r.job["progress"])  # as the dashboard's label shows it
        settle = time.monotonic() + 15  # a dashboard repaints a few times a second: the last repaint is due
        while any(d.connected and d.percent != final for d in dashboards) and time.monotonic() < settle:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        stop_ui.set()
        await asyncio.gather(*ui_tasks)
        sampling.cancel()
        r.released_s, r.held_after = await until_released(api, timeout=90)
    during = [s for s in sampler.samples if s[0] >= t0]
    r.cpu_during = statistics.mean(s[1] for s in during) if during else 0.0
    r.rss_peak = max((s[2] for s in during), default=0.0)
    r.cpu_after, r.rss_after = await idle_level(sampler)
    return r


async def main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bulkdash-soak-"))
    server = ServeProcess.start(tmp / "data", BULKDASH_WORKERS=str(args.workers), BULKDASH_LOG_LEVEL="WARNING")
    sampler = Sampler(server.pid)
    rounds: list[Round] = []
    try:
        cpu0, rss0 = await idle_level(sampler)
        for _ in range(args.rounds):
            rounds.append(await one_round(server, sampler, args))
    except BaseException:
        alive = server.proc.popen.poll() is None
        print(f"soak failed; the server was {'running' if alive else 'gone'}; its stderr:", file=sys.stderr)
        print(*server.proc.stderr[-40:], sep="\n", file=sys.stderr)
        raise
    finally:
        server.kill()
        server_errors = [line for line in server.proc.stderr if _NOTEWORTHY.search(line)]
    print(
        f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB, "
        f"Python {platform.python_version()}, SQLite"
    )
    rounds_arg = f" --rounds {args.rounds}" if args.rounds > 1 else ""
    print(
        f"command: .venv/bin/python bench/soak.py --videos {args.videos} --ui {args.ui} --ws {args.ws} "
        f"--workers {args.workers} --duration-ms {args.duration_ms}{rounds_arg}"
    )
    failed = False
    for n, r in enumerate(rounds, start=1):
        if len(rounds) > 1:
            print(f"-- round {n} of {len(rounds)}")
        failed |= await report(tmp, r, cpu0, rss0)
    if server_errors:
        print(f"server warnings/errors ({len(server_errors)}):", *server_errors[-12:], sep="\n  ")
    if len(rounds) > 1:
        after = ", ".join(f"{r.rss_after:.0f}" for r in rounds)
        print(f"server RSS MiB after each round (a leak grows every round, a high-water mark does not): {after}")
    return 1 if failed else 0


async def report(tmp: Path, r: Round, cpu0: float, rss0: float) -> bool:
    """Prints one round's figures; ``True`` when it failed (loss, a dashboard that could not open, got no
    live update or is left behind, or pages the server still holds)."""
    log = [e.seq for e in await stored_events(tmp, tmp / "data", r.job_id)]
    last = max(x["seqs"][-1] for x in r.results)
    expected = log[: log.index(last) + 1]
    lossy = [x for x in r.results if x["seqs"] != expected]
    open_ones = [d for d in r.dashboards if d.connected]
    final = percent(r.job["progress"])
    load_times = [d.load_s for d in open_ones] or [0.0]
    ui_errors = [d.error for d in r.dashboards if d.error]
    updates = [d.live_updates for d in open_ones] or [0]
    silent = [d for d in open_ones if not d.live_updates]
    behind = [d for d in open_ones if d.percent != final]
    dropped = [d for d in open_ones if d.dropped]
    latencies = [x * 1000 for res in r.results for x in res["latencies"]]
    job, n_ui, n_ws = r.job, len(r.dashboards), len(r.results)
    print(
        f"job {job['state']}: {job['progress']['completed']} completed, {job['progress']['failed']} failed "
        f"in {r.run_s:.1f} s = {job['progress']['total'] / r.run_s:,.0f} videos/s "
        f"with {n_ws} /ws + {len(open_ones)} dashboards"
    )
    print(
        f"/ws event loss: {len(lossy)} of {n_ws} clients differ from the log "
        f"({len(expected)} events each, gap-free log: {log == list(range(1, len(log) + 1))})"
    )
    print(
        f"publish->receive latency ms (live events, {len(latencies):,}): p50={pct(latencies, 50):.1f} "
        f"p95={pct(latencies, 95):.1f} p99={pct(latencies, 99):.1f} max={max(latencies):.1f}"
    )
    print(
        f"dashboards: {len(open_ones)} of {n_ui} open and connected in {r.open_s:.1f} s "
        f"(page load p50={statistics.median(load_times):.3f} s max={max(load_times):.3f} s; "
        f"server held {r.held_during:.0f} pages)"
    )
    print(
        f"live updates per dashboard while the job ran: min={min(updates)} median={statistics.median(updates):.0f} "
        f"max={max(updates)}; showing {final} at the end: {len(open_ones) - len(behind)} of {len(open_ones)}"
    )
    if ui_errors:
        print(f"dashboards that could not open: {len(ui_errors)} {sorted(set(ui_errors))[:3]}")
    if dropped:
        print(f"dashboards whose socket the server closed while open: {len(dropped)}")
    print(f"server CPU %: idle before={cpu0:.0f} during={r.cpu_during:.0f} (mean) after={r.cpu_after:.0f}")
    print(
        f"server released every page and /ws client {r.released_s:.1f} s after the clients left "
        f"(still held: {r.held_after.get('ui', 0):.0f} pages, {r.held_after.get('ws', 0):.0f} /ws)"
    )
    print(
        f"server RSS MiB: before={rss0:.0f} peak={r.rss_peak:.0f} after clients left={r.rss_after:.0f} "
        f"(+{r.rss_after - rss0:.0f})"
    )
    return bool(lossy or ui_errors or silent or behind or dropped or any(r.held_after.values()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=5000)
    parser.add_argument("--ui", type=int, default=50)
    parser.add_argument("--ws", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--duration-ms", type=int, default=20)
    parser.add_argument("--ui-concurrency", type=int, default=5, help="dashboard page loads at a time")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the load on the same server (leak check)")
    args = parser.parse_args()
    if args.ws < 1:
        parser.error("--ws must be at least 1: event loss is measured against the /ws subscribers")
    sys.exit(asyncio.run(main(args)))
