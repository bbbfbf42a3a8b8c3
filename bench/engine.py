"""Engine throughput: a 10,000-video ``simulated`` job with ``duration_ms=0``, every state change persisted.

Prints videos/second through bulkdash (job service → engine → batch writer → SQLite, events included) and,
measured in the same run, a bare aiosqlite loop that writes the same rows (two state updates and one event
row per video, committed in batches), so the ratio shows the engine's overhead.

    .venv/bin/python bench/engine.py [--videos 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosqlite  # noqa: E402

from app.container import build  # noqa: E402
from app.domain.schemas import JobCreate  # noqa: E402
from app.settings import Settings  # noqa: E402


async def bulkdash_run(n: int, workers: int, data: Path) -> tuple[float, float, dict]:
    app = build(Settings(_env_file=None, data_dir=data, workers=workers, admin_token="bd_bench"))  # type: ignore[call-arg]
    await app.start()
    user = await app.users.authenticate(app.admin_token)
    body = JobCreate.model_validate(
        {
            "title": "bench",
            "input_source": {"type": "inline", "rows": [{"title": f"Video {i}"} for i in range(n)]},
            "template": {"template_id": "simulated", "overrides": {"duration_ms": 0}},
        }
    )
    t0 = time.perf_counter()
    job, _ = await app.jobs.create(user, body)
    t1 = time.perf_counter()
    await app.engine.wait_idle(600)
    await app.writer.flush()
    t2 = time.perf_counter()
    final = await app.jobs.get(user, job["id"])
    counts = await app.jobs_store.count_by_state(job["id"])
    await app.stop()
    assert final["state"] == "completed" and counts == {"completed": n}, (final["state"], counts)
    return t1 - t0, t2 - t1, {"flushes": app.writer.flushes}


async def bare_run(n: int, path: Path, batch: int = 500) -> float:
    """The same writes with nothing in between: insert, then per video two updates and one event row."""
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("CREATE TABLE videos (id TEXT PRIMARY KEY, state TEXT, progress REAL, data TEXT)")
        await db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, seq INTEGER, type TEXT, data TEXT)")
        await db.executemany("INSERT INTO videos VALUES (?, 'pending', 0, '{}')", [(f"v{i}",) for i in range(n)])
        await db.commit()
        t0 = time.perf_counter()
        for start in range(0, n, batch):
            ids = [f"v{i}" for i in range(start, min(n, start + batch))]
            await db.execute("BEGIN IMMEDIATE")
            await db.executemany("UPDATE videos SET state='processing' WHERE id=?", [(i,) for i in ids])
            await db.executemany("UPDATE videos SET state='completed', progress=100 WHERE id=?", [(i,) for i in ids])
            await db.executemany(
                "INSERT INTO events (seq, type, data) VALUES (?, 'video.completed', ?)",
                [(start + k, json.dumps({"id": i, "state": "completed"})) for k, i in enumerate(ids)],
            )
            await db.commit()
        return time.perf_counter() - t0


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        create_s, run_s, info = await bulkdash_run(args.videos, args.workers, Path(tmp) / "data")
        bare_s = await bare_run(args.videos, Path(tmp) / "bare.db")
    rate, bare_rate = args.videos / run_s, args.videos / bare_s
    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, SQLite")
    print(f"command: .venv/bin/python bench/engine.py --videos {args.videos} --workers {args.workers}")
    print(f"job creation ({args.videos} rows, videos + video.created events): {create_s:.2f} s")
    print(
        f"bulkdash engine: {args.videos} videos in {run_s:.2f} s = {rate:,.0f} videos/s "
        f"({info['flushes']} batched commits; goal >= 3,000/s)"
    )
    print(f"bare aiosqlite loop, same writes: {bare_s:.2f} s = {bare_rate:,.0f} videos/s")
    print(f"ratio bulkdash / bare: {rate / bare_rate:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
