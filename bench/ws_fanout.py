"""WebSocket fan-out benchmark: N subscribers on one job while M simulated videos run.

    .venv/bin/python bench/ws_fanout.py [--clients 200] [--videos 1000] [--duration-ms 35] [--workers 2]

The server (container + uvicorn with ``/ws``) runs in this process; the clients run in ``--procs`` child
processes so their parsing does not steal the server's CPU. Each client connects with ``last_seq=0`` and reads
until ``job.completed``. Printed: events per client, gaps/repeats (must be 0), and publish→receive latency
(the event's ``ts``, stamped when the engine emits it, to the client's receive time) over the events emitted
after that client was connected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FINAL = {"job.completed", "job.failed", "job.canceled"}


# -- client side (child process) ------------------------------------------------------------------------------
async def one_client(url: str, caught_up_seq: int, caught_up: asyncio.Event, out: list[dict[str, Any]]) -> None:
    """Reads every event; latency counts only live events (``seq`` after the replayed backlog)."""
    from websockets.asyncio.client import connect

    seqs: list[int] = []
    latencies: list[float] = []
    async with connect(url, compression=None, max_size=None, open_timeout=60) as ws:
        async for raw in ws:
            now = time.time()
            frame = json.loads(raw)
            if "seq" not in frame:
                continue
            seqs.append(frame["seq"])
            if frame["seq"] > caught_up_seq:
                ts = datetime.fromisoformat(frame["ts"].replace("Z", "+00:00")).timestamp()
                latencies.append((now - ts) * 1000)
            elif frame["seq"] == caught_up_seq:
                caught_up.set()
            if frame["type"] in FINAL:
                break
    out.append({"seqs": seqs, "latencies": latencies})


async def clients_main(base: str, token: str, job_id: str, n: int, index: int, backlog: int) -> None:
    results: list[dict[str, Any]] = []
    urls = [f"{base}/ws?job_id={job_id}&token={token}&connection_id=b{index}-{i}&last_seq=0" for i in range(n)]
    flags = [asyncio.Event() for _ in urls]
    clients = asyncio.gather(*(one_client(u, backlog, f, results) for u, f in zip(urls, flags, strict=True)))
    await asyncio.gather(*(f.wait() for f in flags))
    print("CAUGHT_UP", flush=True)  # the server opens the gate once every client process said so
    await clients
    summary = [
        {
            "n": len(r["seqs"]),
            "gaps": sum(1 for a, b in zip(r["seqs"], r["seqs"][1:], strict=False) if b != a + 1),
            "first": r["seqs"][0] if r["seqs"] else None,
            "latencies": r["latencies"],
        }
        for r in results
    ]
    json.dump(summary, sys.stdout)
    sys.stdout.flush()


# -- server side ---------------------------------------------------------------------------------------------
class GatedSimulated:
    """The ``simulated`` template, held until every client is connected (so latency is measured live)."""

    template_id = "bench_gated"

    def __init__(self) -> None:
        from app.generators.simulated import SimulatedGenerator

        self.inner = SimulatedGenerator()
        self.gate = asyncio.Event()

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        return self.inner.validate(variables, overrides)

    async def generate(self, request: Any, report: Any) -> Any:
        await self.gate.wait()
        return await self.inner.generate(request, report)


async def server_main(args: argparse.Namespace) -> None:
    import uvicorn
    from fastapi import FastAPI

    from app.api.ws import WsOptions, ws_router
    from app.container import build
    from app.domain.schemas import JobCreate
    from app.generators.registry import TemplateInfo
    from app.settings import Settings
    from tests.helpers.server import free_port

    data = Path(tempfile.mkdtemp(prefix="bulkdash-bench-"))
    settings = Settings(_env_file=None, data_dir=data, workers=args.workers, admin_token="bd_bench_admin")  # type: ignore[call-arg]
    container = build(settings)
    await container.start()
    app = FastAPI()
    app.include_router(ws_router(container, WsOptions()))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no "started" event
        await asyncio.sleep(0.01)
    admin = await container.auth.authenticate(container.admin_token)
    body = JobCreate.model_validate(
        {
            "title": "ws fan-out bench",
            "input_source": {"type": "inline", "rows": [{"title": f"video {i}"} for i in range(args.videos)]},
            "template": {"template_id": "bench_gated", "overrides": {"duration_ms": args.duration_ms}},
        }
    )
    gated = GatedSimulated()
    container.templates.register(gated, TemplateInfo(id=gated.template_id, name="bench", kind="simulated"))
    job, _ = await container.jobs.create(admin, body)
    await asyncio.sleep(4 * settings.progress_interval_s)  # the creation burst is committed; then all is quiet
    await container.writer.flush()
    backlog = int((await container.jobs_store.get_job(job["id"]))["last_seq"])
    per = [args.clients // args.procs + (1 if i < args.clients % args.procs else 0) for i in range(args.procs)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            f"ws://127.0.0.1:{port}",
            container.admin_token,
            job["id"],
            str(n),
            str(i),
            str(backlog),
            stdout=subprocess.PIPE,
        )
        for i, n in enumerate(per)
    ]
    for proc in procs:
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        assert line.strip() == b"CAUGHT_UP", line
    print(f"{args.clients} clients connected and replayed the first {backlog} events; the videos start now")
    started = time.perf_counter()
    gated.gate.set()
    outputs = await asyncio.gather(*(p.communicate() for p in procs))
    elapsed = time.perf_counter() - started
    logged = len(await container.events.after(job["id"], 0, limit=1_000_000))
    server.should_exit = True
    await serving
    await container.stop()
    report([c for out, _ in outputs for c in json.loads(out)], logged, elapsed, args)


def report(clients: list[dict[str, Any]], logged: int, elapsed: float, args: argparse.Namespace) -> None:
    counts = [c["n"] for c in clients]
    lat = sorted(x for c in clients for x in c["latencies"])

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")

    print(f"clients={len(clients)} videos={args.videos} duration_ms={args.duration_ms} workers={args.workers}")
    print(f"videos ran and all clients finished in {elapsed:.1f}s; events in the log: {logged}")
    print(f"events per client: min={min(counts)} max={max(counts)} mean={statistics.mean(counts):.1f}")
    print(f"clients missing events: {sum(1 for n in counts if n != logged)}")
    print(f"gaps/repeats (total over all clients): {sum(c['gaps'] for c in clients)}")
    print(f"first seq per client: {sorted({c['first'] for c in clients})}")
    print(f"total frames delivered: {sum(counts)}")
    print(
        f"publish->receive latency over {len(lat)} live frames: "
        f"p50={pct(50):.1f}ms p99={pct(99):.1f}ms max={lat[-1]:.1f}ms"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        base, token, job_id, n, index, backlog = sys.argv[2:8]
        asyncio.run(clients_main(base, token, job_id, int(n), int(index), int(backlog)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--duration-ms", type=int, default=35)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    asyncio.run(server_main(parser.parse_args()))


if __name__ == "__main__":
    main()
