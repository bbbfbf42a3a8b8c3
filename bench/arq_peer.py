"""Peer baseline: 10,000 no-op tasks through arq on the local Redis, side by side with bulkdash's
``simulated`` job of 10,000 videos (``duration_ms=0``) in the same run.

    .venv/bin/python bench/arq_peer.py [--tasks 10000]

Needs Redis on 127.0.0.1:6379 (the test machines run one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arq import create_pool  # noqa: E402
from arq.connections import RedisSettings  # noqa: E402
from arq.worker import Worker  # noqa: E402

from bench.engine import bulkdash_run  # noqa: E402


async def noop(ctx: dict) -> None:
    return None


async def arq_run(n: int, workers: int) -> float:
    """Enqueues n no-op jobs, then drains them with a burst worker (max_jobs = workers)."""
    settings = RedisSettings(host="127.0.0.1", port=6379)
    pool = await create_pool(settings)
    await pool.flushdb()
    for start in range(0, n, 1000):
        await asyncio.gather(*(pool.enqueue_job("noop") for _ in range(start, min(n, start + 1000))))
    worker = Worker(
        functions=[noop],
        redis_settings=settings,
        burst=True,
        max_jobs=max(workers, 10),
        poll_delay=0.01,
        handle_signals=False,
    )
    t0 = time.perf_counter()
    await worker.async_run()
    elapsed = time.perf_counter() - t0
    done = worker.jobs_complete
    await worker.close()
    await pool.aclose()
    assert done == n, f"arq completed {done} of {n}"
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    args = parser.parse_args()
    workers = os.cpu_count() or 2
    arq_s = await arq_run(args.tasks, workers)
    with tempfile.TemporaryDirectory() as tmp:
        _, bulk_s, _ = await bulkdash_run(args.tasks, workers, Path(tmp) / "data")
    print(f"command: .venv/bin/python bench/arq_peer.py --tasks {args.tasks}")
    print(
        f"arq {args.tasks} no-op tasks on local Redis (burst worker): {arq_s:.2f} s = {args.tasks / arq_s:,.0f} tasks/s"
    )
    print(f"bulkdash simulated job, every change persisted: {bulk_s:.2f} s = {args.tasks / bulk_s:,.0f} videos/s")
    print(f"ratio bulkdash / arq: {arq_s / bulk_s:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
