"""Fault injection: each fault ends in the documented state, with a clear error, and nothing else lost.

Generator failures (transient, permanent), ffmpeg crashing, a full disk, a busy database, a webhook receiver
that never answers, an HTTP generator endpoint that never answers, and the Sheets API answering 429/500.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from app.domain.events import Event
from app.generators import espeak
from app.generators.http_generator import HttpGenerator, HttpTemplateConfig
from app.sources.sheets import RetryPolicy, SheetsClient
from tests.helpers.sheets_emulator import SheetsEmulator, write_service_account
from tests.reliability.faults_support import (
    ScriptedGenerator,
    body,
    by_row,
    disk_full,
    permanent,
    register,
    run_job,
    started,
    transient,
)
from tests.reliability.slow_http import SlowServer

RENDER_ROWS = [{"title": f"Clip {i}", "script": f"Clip number {i}.", "voice": "none"} for i in (1, 2)]
RENDER_OUTPUT = {"resolution": "480p", "output_bucket": "faults"}


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob(".*"))


# -- generator failures -------------------------------------------------------------------------------------------
async def test_transient_failures_are_retried_permanent_ones_fail_at_once_others_unaffected(tmp_path: Path) -> None:
    async with started(tmp_path, max_attempts=3) as app:
        gen = ScriptedGenerator(
            "flaky",
            {
                2: [transient(), transient(), None],  # succeeds on the 3rd (last allowed) attempt
                3: [permanent()],  # never retried
                4: [transient("still broken")],  # transient every time: fails after max_attempts
            },
        )
        register(app, gen)
        job, videos = await run_job(app, body("flaky", 6))
    v = by_row(videos)
    assert job["state"] == "completed", job  # partial failure still completes, failures counted
    assert job["progress"]["completed"] == 4 and job["progress"]["failed"] == 2, job["progress"]
    assert v[2]["state"] == "completed" and v[2]["attempts"] == 3 and v[2]["error"] is None
    assert v[3]["state"] == "failed" and v[3]["attempts"] == 1
    assert v[3]["error"] == {"code": "bad_row", "message": "this row can never render", "stage": "render"}
    assert v[4]["state"] == "failed" and v[4]["attempts"] == 3
    assert v[4]["error"]["message"] == "still broken"
    assert all(v[i]["state"] == "completed" and v[i]["attempts"] == 1 for i in (1, 5, 6))
    assert sorted(a for r, a in gen.attempts if r == 4) == [1, 2, 3]


async def test_every_video_failing_fails_the_job_with_a_reason(tmp_path: Path) -> None:
    async with started(tmp_path, max_attempts=2) as app:
        register(app, ScriptedGenerator("broken", {i: [permanent()] for i in range(1, 4)}))
        job, videos = await run_job(app, body("broken", 3))
    assert job["state"] == "failed" and job["error"], job
    assert {v["state"] for v in videos} == {"failed"}


# -- disk full ----------------------------------------------------------------------------------------------------
async def test_disk_full_in_a_generator_is_a_clear_transient_error(tmp_path: Path) -> None:
    async with started(tmp_path, max_attempts=3) as app:
        register(app, ScriptedGenerator("nospace", {1: [disk_full(), None], 2: [disk_full()]}))
        job, videos = await run_job(app, body("nospace", 4))
    v = by_row(videos)
    assert job["state"] == "completed"
    assert v[1]["state"] == "completed" and v[1]["attempts"] == 2  # space came back: the retry succeeded
    assert v[2]["state"] == "failed" and v[2]["attempts"] == 3
    assert "No space left on device" in v[2]["error"]["message"], v[2]["error"]
    assert v[3]["state"] == v[4]["state"] == "completed"


async def test_disk_full_while_the_default_template_writes_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any, **kwargs: Any) -> None:
        raise disk_full()

    monkeypatch.setattr(espeak, "write_wav", full)  # the template's first write to the output folder
    async with started(tmp_path, max_attempts=2) as app:
        job, videos = await run_job(app, body("default_template", RENDER_ROWS, output=RENDER_OUTPUT))
        outputs = app.settings.outputs
    assert job["state"] == "failed"
    for video in videos:
        assert video["state"] == "failed" and video["attempts"] == 2
        assert "No space left on device" in video["error"]["message"], video["error"]
        assert video["error"]["stage"] == "voice"
    assert not [p for p in outputs.rglob("*") if p.is_file()], "a partial file was left behind"


# -- ffmpeg crashing ----------------------------------------------------------------------------------------------
def fake_ffmpeg(tmp_path: Path, script: str) -> Path:
    """An executable standing in for ffmpeg (the ``IMAGEIO_FFMPEG_EXE`` seam of ``app.generators.ffmpeg``)."""
    exe = tmp_path / "fake-ffmpeg"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


@pytest.mark.parametrize(
    ("script", "message", "detail"),
    [
        ("kill -9 $$", "ffmpeg was killed", None),
        (
            "echo 'Error writing trailer: No space left on device' >&2; exit 1",
            "ffmpeg failed (exit code 1)",
            "No space left on device",
        ),
    ],
    ids=["killed", "disk-full"],
)
async def test_ffmpeg_crash_fails_the_video_after_retries_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, message: str, detail: str | None
) -> None:
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake_ffmpeg(tmp_path, script)))
    async with started(tmp_path, max_attempts=2) as app:
        job, videos = await run_job(app, body("default_template", RENDER_ROWS, output=RENDER_OUTPUT))
        outputs = app.settings.outputs
        rows = [await app.jobs_store.get_video(job["id"], v["id"]) for v in videos]
    assert job["state"] == "failed", job
    for video, row in zip(videos, rows, strict=True):
        assert video["state"] == "failed" and video["attempts"] == 2
        assert video["error"]["code"] == "encode_failed" and video["error"]["stage"] == "encode"
        assert video["error"]["message"] == message
        if detail:
            assert detail in row["error"]["detail"], row["error"]
    assert not [p for p in outputs.rglob("*") if p.is_file()], "a partial file was left behind"
    assert not leftovers(outputs)


# -- database busy ------------------------------------------------------------------------------------------------
async def test_locked_database_makes_the_writer_retry_and_nothing_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another connection holds the SQLite write lock (BEGIN IMMEDIATE) for longer than the writer's busy
    timeout: its flushes fail with "database is locked", the batch is kept and committed once the lock goes."""
    caplog.set_level(logging.WARNING)
    async with started(tmp_path, workers=2) as app:
        async with app.db.writer.connect() as conn:  # the writer's only connection: a short busy timeout
            await conn.exec_driver_sql("PRAGMA busy_timeout=100")
        seen: list[Event] = []
        app.bus.subscribe_callback(seen.append)
        admin = await app.auth.authenticate(app.admin_token)
        job, _ = await app.jobs.create(admin, body("simulated", 100, template={"overrides": {"duration_ms": 20}}))
        db_file = app.settings.data_dir / "bulkdash.db"
        holder = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False, timeout=10)
        try:
            await asyncio.to_thread(holder.execute, "BEGIN IMMEDIATE")
            flushes = app.writer.flushes
            await app.engine.wait_idle(30)  # the job runs to its end in memory; its commits wait
            refused = _LogSeen("final state not committed yet")
            logging.getLogger("app.engine.engine").addHandler(refused)
            try:  # the final state's own commit is refused too
                await asyncio.wait_for(refused.seen.wait(), 30)
            finally:
                logging.getLogger("app.engine.engine").removeHandler(refused)
            assert app.writer.flushes == flushes, "the writer committed through a held lock"
            stored = await app.jobs_store.get_job(job["id"])
            assert stored is not None and stored["state"] != "completed"
        finally:
            holder.execute("COMMIT")
            holder.close()
        await app.engine.wait_idle(30)
        await app.writer.flush()
        final = await app.jobs.get(admin, job["id"])
        counts = await app.jobs_store.count_by_state(job["id"])
        logged = await app.events.after(job["id"], 0, limit=100_000)
    assert any("database is locked" in r.getMessage() + str(r.exc_info) for r in caplog.records), caplog.text
    assert not [r for r in caplog.records if r.name == "asyncio"], "a background task died"
    assert any("final state not committed yet" in r.getMessage() for r in caplog.records), "completion not hit"
    assert final["state"] == "completed" and counts == {"completed": 100}, (final["state"], counts)
    seqs = [e.seq for e in logged]
    assert seqs == list(range(1, len(seqs) + 1))
    published = [e.seq for e in seen if e.job_id == job["id"]]
    assert published == seqs, "an event was published twice, out of order, or not at all"


# -- webhook endpoint timing out --------------------------------------------------------------------------------------
async def test_webhook_receiver_timing_out_is_retried_then_a_warning_and_the_job_is_unaffected(tmp_path: Path) -> None:
    with SlowServer(delay_s=2.0) as receiver:
        async with started(
            tmp_path,
            webhook_allow_private=True,
            webhook_timeout_s=0.2,
            webhook_max_attempts=2,
            webhook_retry_base_s=0.01,
            webhook_retry_max_s=0.02,
        ) as app:
            job, videos = await run_job(
                app,
                body("simulated", 3, template={"overrides": {"duration_ms": 0}}, webhook_url=receiver.url + "/hook"),
            )
            assert app.webhooks is not None
            await app.webhooks.drain(10)
            admin = await app.auth.authenticate(app.admin_token)
            final = await app.jobs.get(admin, job["id"])
            attempts, _ = await app.webhooks.store.list(job["id"])
    assert final["state"] == "completed" and {v["state"] for v in videos} == {"completed"}
    assert receiver.hits >= 2
    assert [a["attempt"] for a in attempts] == [1, 2], attempts
    assert all(not a["delivered"] and "Timeout" in (a["error"] or "") for a in attempts), attempts
    warning = final["warnings"][-1]
    assert warning["code"] == "webhook_failed" and "job.completed" in warning["message"], final["warnings"]


# -- HTTP generator endpoint timing out -------------------------------------------------------------------------------
async def test_http_generator_endpoint_timing_out_fails_the_video_with_a_clear_error(tmp_path: Path) -> None:
    with SlowServer(delay_s=2.0) as api:
        config = HttpTemplateConfig(
            submit_url=api.url + "/render",
            status_url=api.url + "/render/{id}",
            request_timeout_s=0.2,
            max_retries=1,
            retry_base_s=0.01,
        )
        async with started(tmp_path, max_attempts=2) as app:
            register(app, HttpGenerator("slow-api", config), kind="http")
            job, videos = await run_job(app, body("slow-api", 2))
            outputs = app.settings.outputs
    assert job["state"] == "failed"
    for video in videos:
        assert video["state"] == "failed" and video["attempts"] == 2
        assert video["error"]["code"] == "api_unreachable" and video["error"]["stage"] == "submit", video["error"]
        assert "ReadTimeout" in video["error"]["message"] or "timed out" in video["error"]["message"].lower()
    assert api.hits == 8  # 2 videos x 2 engine attempts x (1 try + 1 retry inside the generator)
    assert not outputs.exists() or not [p for p in outputs.rglob("*") if p.is_file()]


# -- Sheets API 429 / 500 ----------------------------------------------------------------------------------------------
@pytest.fixture
def emulator() -> Any:
    emu = SheetsEmulator().start()
    try:
        yield emu
    finally:
        emu.stop()


def wire_sheets(app: Any, emulator: SheetsEmulator, account: dict[str, Any]) -> SheetsClient:
    """Until the sources wiring lands (app/services/sources.py), a sheet job reads through a real SheetsClient
    against the emulator, plugged into the job service's ``load_sheet`` seam."""
    client = SheetsClient(emulator.url, account, retry=RetryPolicy(budget_s=1.0, base_s=0.01, max_s=0.05), timeout_s=5)

    async def load(user: dict[str, Any], source: dict[str, Any]) -> list[tuple[int, int | None, dict[str, str]]]:
        table = await client.read_range(source["sheet_id"], source["range"])
        return [(r.row_index, r.sheet_row, r.values) for r in table.rows]

    app.jobs.load_sheet = load
    return client


def sheet_job() -> Any:
    return body(
        "simulated",
        1,
        input_source={"type": "sheet", "sheet_id": "sheet-1", "range": "Sheet1!A1:B10"},
        template={"overrides": {"duration_ms": 0}},
    )


async def test_sheets_429_and_500_are_retried_and_the_job_runs(tmp_path: Path, emulator: SheetsEmulator) -> None:
    _, account = write_service_account(tmp_path, emulator)
    rows = [["title"], ["a"], ["b"], ["c"]]
    emulator.add_sheet("sheet-1", "Campaign", rows, allowed_emails=[account["client_email"]])
    emulator.fail_next("/values/", 429, count=1, retry_after=0.05)
    emulator.fail_next("/values/", 500, count=1)
    async with started(tmp_path) as app:
        wire_sheets(app, emulator, account)
        job, videos = await run_job(app, sheet_job())
    assert job["state"] == "completed", job
    assert [v["title"] for v in videos] == ["a", "b", "c"] and {v["state"] for v in videos} == {"completed"}
    assert emulator.count("GET", "/values/") == 3  # 429, 500, then the rows


async def test_sheets_500_forever_fails_the_job_with_a_clear_error(tmp_path: Path, emulator: SheetsEmulator) -> None:
    _, account = write_service_account(tmp_path, emulator)
    emulator.add_sheet("sheet-1", "Campaign", [["title"], ["a"]], allowed_emails=[account["client_email"]])
    emulator.fail_next("/values/", 500, count=1000)
    async with started(tmp_path) as app:
        wire_sheets(app, emulator, account)
        job, videos = await run_job(app, sheet_job())
    assert job["state"] == "failed" and videos == [], job
    assert job["error"]["stage"] == "source", job["error"]
    assert "HTTP 500" in job["error"]["message"] and "sheet-1" in job["error"]["message"], job["error"]


class _LogSeen(logging.Handler):
    """Sets ``seen`` when a record containing ``text`` is logged (on the event loop's thread)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.WARNING)
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()
