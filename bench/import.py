"""Import of a large file through the real app: POST /uploads of a 100,000-row CSV, then POST /bulk-jobs from it
(template ``simulated``, no workers, so nothing runs), over the ASGI transport. Prints the time from the upload's
start to the job's 201, split into its parts, and a bare baseline (csv.reader + one aiosqlite executemany of the
same rows) in the same run.

    .venv/bin/python bench/import.py [rows]
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosqlite  # noqa: E402
import httpx  # noqa: E402
from fastapi import FastAPI  # noqa: E402

import app.services.uploads as uploads_module  # noqa: E402
from app.api.limits import Limits  # noqa: E402
from app.api.router import install  # noqa: E402
from app.container import build  # noqa: E402
from app.settings import Settings  # noqa: E402

HEADER = "title,subtitle,script,style,voice,priority\n"
ROW = '"Video {i}",Subtitle {i},"Script for video {i}, with a comma.",modern,female,{p}\n'
TOKEN = "bd_bench_admin_token"


def make_csv(rows: int) -> bytes:
    return (HEADER + "".join(ROW.format(i=i, p=("low", "normal", "high")[i % 3]) for i in range(1, rows + 1))).encode()


class Timer:
    """Wraps callables to add up the time spent in them, by name."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if asyncio.iscoroutinefunction(fn):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    self.spent[name] += time.perf_counter() - t0

            return timed_async

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - t0

        return timed


async def through_the_app(data: bytes, tmp: Path) -> dict[str, float]:
    settings = Settings(_env_file=None, data_dir=tmp / "data", admin_token=TOKEN, workers=1)  # type: ignore[call-arg]
    container = build(settings)
    await container.start(workers=0)
    timer = Timer()
    uploads_module.parse_upload = timer.wrap("parse", uploads_module.parse_upload)
    jobs = container.jobs
    jobs.build_videos = timer.wrap("build videos", jobs.build_videos)  # type: ignore[method-assign]
    container.jobs_store.create_job = timer.wrap("insert job + videos", container.jobs_store.create_job)  # type: ignore[method-assign]
    container.engine.register = timer.wrap("register + video.created events", container.engine.register)  # type: ignore[method-assign]
    app = FastAPI()
    install(app, container, Limits(max_body_bytes=64 * 1024 * 1024, create_rate_per_min=6000, create_burst=100))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    transport = httpx.ASGITransport(app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers, timeout=60) as c:
            t0 = time.perf_counter()
            r = await c.post("/api/v1/uploads", files={"file": ("big.csv", data, "text/csv")})
            assert r.status_code == 201, r.text
            t1 = time.perf_counter()
            body = {
                "title": "import bench",
                "input_source": {"type": "upload", "upload_id": r.json()["id"]},
                "template": {"template_id": "simulated", "overrides": {"duration_ms": 0}},
            }
            r = await c.post("/api/v1/bulk-jobs", json=body)
            assert r.status_code == 201, r.text
            t2 = time.perf_counter()
            assert r.json()["progress"]["total"] == data.count(b"\n") - 1
            runtime = container.engine.runtimes.get(r.json()["id"])
            if runtime is not None:  # a big job's video.created events are emitted in chunks after the 201
                await runtime.ready.wait()
            await container.writer.flush()  # ... and committed by the writer in the background
            t3 = time.perf_counter()
    finally:
        await container.stop()
    return {
        "upload request": t1 - t0,
        "job request": t2 - t1,
        "upload start -> job 201": t2 - t0,
        "then: video.created events committed": t3 - t2,
        **timer.spent,
    }


async def bare_baseline(data: bytes, tmp: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader)
    rows = [dict(zip(header, rec, strict=True)) for rec in reader]
    t1 = time.perf_counter()
    async with aiosqlite.connect(tmp / "bare.db") as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute(
            "CREATE TABLE videos (id TEXT PRIMARY KEY, job_id TEXT, row_index INTEGER, title TEXT, state TEXT, "
            "variables JSON)"
        )
        await db.executemany(
            "INSERT INTO videos VALUES (?, ?, ?, ?, ?, ?)",
            ((f"vid_{i:026d}", "job_bare", i, r["title"], "pending", json.dumps(r)) for i, r in enumerate(rows, 1)),
        )
        await db.commit()
    t2 = time.perf_counter()
    return {"bare csv.reader": t1 - t0, "bare aiosqlite executemany": t2 - t1, "bare total": t2 - t0}


async def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data = make_csv(rows)
    print(f"{rows:,} rows, {len(data) / 1e6:.1f} MB CSV")
    with tempfile.TemporaryDirectory() as tmp:
        app_times = await through_the_app(data, Path(tmp))
        bare = await bare_baseline(data, Path(tmp))
    for name, seconds in {**app_times, **bare}.items():
        print(f"  {name:<40} {seconds:7.3f} s")
    total = app_times["upload start -> job 201"]
    verdict = "met" if total < 3 else "MISSED"
    print(f"goal < 3 s: {verdict} ({total:.2f} s, {total / bare['bare total']:.1f}x the bare baseline)")


if __name__ == "__main__":
    asyncio.run(main())
