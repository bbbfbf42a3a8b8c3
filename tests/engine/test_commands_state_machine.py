"""A hypothesis state machine over job commands, run against the real engine and store.

The model says which commands are legal from which state and where they lead; the real system must agree
on every step (legal → the predicted state, illegal → Conflict), and keep its invariants: counts add up to
the total and the event log's ``seq`` has no gap.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from app.container import build
from app.services.errors import Conflict
from tests.conftest import make_settings
from tests.engine.conftest import GatedGenerator, create_job, register

ROWS = 5


class JobCommands(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp())
        self.container = build(make_settings(self.tmp))
        self.run(self.container.start())
        self.gen = register(self.container, GatedGenerator())
        self.user = self.run(self.container.users.authenticate(self.container.admin_token))
        self.job = self.run(create_job(self.container, self.user, ROWS, template="gated"))
        self.run(self._until(lambda: self.gen.running == 2))
        self.model = "running"

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _until(self, predicate: Any) -> None:
        for _ in range(2000):
            if predicate():
                return
            await asyncio.sleep(0.005)
        raise AssertionError("condition not reached")

    def state(self) -> str:
        return self.run(self.container.jobs.get(self.user, self.job["id"]))["state"]

    def command(self, name: str, legal: bool) -> str | None:
        action = getattr(self.container.jobs, name)
        try:
            answer = self.run(action(self.user, self.job["id"]))
        except Conflict:
            assert not legal, f"{name} refused from {self.model}"
            return None
        assert legal, f"{name} accepted from {self.model}"
        return answer["state"]

    @rule()
    def pause(self) -> None:
        moved = self.command("pause", self.model == "running")
        if moved is not None:
            assert moved == "pausing"
            self.model = "pausing" if self.gen.running else "paused"

    @rule()
    def resume(self) -> None:
        moved = self.command("resume", self.model == "paused")
        if moved is not None:
            assert moved == "running"
            self.model = "running"

    @rule()
    def cancel(self) -> None:
        moved = self.command("cancel", self.model in ("pending", "running", "pausing", "paused"))
        if moved is not None:
            assert moved == "canceling"
            self.run(self.container.engine.wait_idle(5))
            self.model = "canceled"

    @rule()
    def retry(self) -> None:
        self.command("retry", self.model not in ("pausing", "canceling", "completing"))

    @rule()
    def release(self) -> None:
        """Lets the running videos finish, then closes the gate again."""
        self.gen.gate.set()
        self.run(self.container.engine.wait_idle(5))
        self.gen.gate = asyncio.Event()
        self.model = {"running": "completed", "pausing": "paused"}.get(self.model, self.model)
        self.run(self.container.writer.flush())

    @invariant()
    def agrees_with_the_model(self) -> None:
        self.run(self.container.writer.flush())
        assert self.state() == self.model

    @invariant()
    def counts_add_up_and_seq_has_no_gap(self) -> None:
        progress = self.run(self.container.jobs.get(self.user, self.job["id"]))["progress"]
        parts = ("pending", "processing", "completed", "failed", "skipped", "canceled")
        assert sum(progress[p] for p in parts) == progress["total"] == ROWS
        stored = self.run(self.container.jobs_store.count_by_state(self.job["id"]))
        assert sum(stored.values()) == ROWS
        seqs = [e.seq for e in self.run(self.container.events.after(self.job["id"], 0))]
        assert seqs == list(range(1, len(seqs) + 1))

    def teardown(self) -> None:
        self.gen.gate.set()
        self.run(self.container.stop())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


JobCommands.TestCase.settings = settings(
    max_examples=12, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck)
)
test_job_commands = JobCommands.TestCase
