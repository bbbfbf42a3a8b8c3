"""Sheet write-back survives a restart: a new process on the same data dir builds the job's batcher again
before the engine resumes the job, and writes the result of every row, also those finished (or only queued)
before the stop. Real processes' objects, real engine, Google Sheets played by the emulator over HTTP."""

# ruff: noqa: F811 - the imported fixtures are fixture parameters here
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from app.container import Bulkdash, build
from app.domain.schemas import JobCreate
from app.generators.base import GenerationError, GenerationResult, ProgressCallback, RenderRequest
from app.generators.registry import TemplateInfo
from app.services.sheets import SheetService
from app.settings import Settings
from app.sources.sheets import RetryPolicy
from app.sources.write_back import WriteBackBatcher
from tests.helpers.sheets_emulator import SheetsEmulator
from tests.helpers.sheets_fixtures import FAST, account, emulator, settings  # noqa: F401 - fixtures

SHEET = "sheet-1"
HEADER = ["title", "hold", "fail", "bad", "Status", "Output", "Error"]  # results go to E, F, G
WRITE_BACK = {"status_column": "Status", "output_column": "Output", "error_column": "Error"}
#: rows 1, 2 (fails), 3 (skipped at validation) and 4 finish at once; 5..8 wait for the generator's gate
ROWS = [
    ["One", "", "", ""],
    ["Two", "", "yes", ""],
    ["Three", "", "", "yes"],
    ["Four", "", "", ""],
    ["Five", "yes", "", ""],
    ["Six", "yes", "", ""],
    ["Seven", "yes", "", ""],
    ["Eight", "yes", "", ""],
]
WORKERS = 2


class HoldGenerator:
    """Writes a small output file per row. ``hold=yes`` rows wait for ``gate``; ``fail=yes`` rows fail for
    good; ``bad=yes`` rows are skipped at validation. ``holding`` is set once ``expect`` rows are waiting."""

    template_id = "hold"

    def __init__(self, *, open_gate: bool, expect: int = WORKERS) -> None:
        self.gate = asyncio.Event()
        if open_gate:
            self.gate.set()
        self.expect = expect
        self.waiting = 0
        self.holding = asyncio.Event()

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        return "row has bad=yes" if variables.get("bad") == "yes" else None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        if request.variables.get("hold") == "yes":
            self.waiting += 1
            if self.waiting >= self.expect:
                self.holding.set()
            await self.gate.wait()
        if request.variables.get("fail") == "yes":
            raise GenerationError("bad_row", f"row {request.row_index} cannot render", "render", permanent=True)
        request.output_path.parent.mkdir(parents=True, exist_ok=True)
        request.output_path.write_bytes(b"video")
        return GenerationResult(output_path=request.output_path, duration_s=1.0, size_bytes=5)


Boot = Callable[..., Awaitable[tuple[Bulkdash, HoldGenerator]]]


@pytest.fixture
async def boot(settings: Settings) -> AsyncIterator[Boot]:
    """Starts a process on the test's data dir (call again after ``stop`` for a restart); every process still
    running is stopped at the end."""
    running: list[Bulkdash] = []

    async def start(
        *, open_gate: bool, write_retry: RetryPolicy = FAST, interval_s: float | None = None
    ) -> tuple[Bulkdash, HoldGenerator]:
        app = build(settings)
        generator = HoldGenerator(open_gate=open_gate)
        app.templates.register(generator, TemplateInfo(id="hold", name="hold", kind="simulated"))
        sheets = app.sheets
        assert isinstance(sheets, SheetService)
        sheets.connect_retry = sheets.read_retry = FAST
        sheets.write_retry = write_retry
        if interval_s is not None:
            sheets.write_back_interval_s = interval_s
        await app.start(workers=WORKERS)
        running.append(app)
        return app, generator

    yield start
    for app in running:
        if app.started:
            await app.stop()


async def settle(app: Bulkdash) -> None:
    """The job done, its writes committed and its write-back closed."""
    await app.engine.wait_idle(20)
    await app.writer.flush()
    assert app.sheets is not None
    await app.sheets.drain()


async def start_job(app: Bulkdash, account: dict[str, Any], emulator: SheetsEmulator) -> tuple[dict[str, Any], str]:
    """Alice connects the sheet and starts a write-back job on it; returns alice and the job id."""
    emulator.add_sheet(SHEET, "Campaign", [HEADER, *ROWS], allowed_emails=[account["client_email"]])
    alice = await app.users.get_or_create_user("alice")
    assert app.sheets is not None
    await app.sheets.connect(alice, SHEET, range="Sheet1!A1:G100", service_account=account)
    body = JobCreate.model_validate(
        {
            "title": "restart",
            "input_source": {"type": "sheet", "sheet_id": SHEET, "range": "Sheet1!A1:G100"},
            "template": {"template_id": "hold", "overrides": {}},
            "write_back": WRITE_BACK,
        }
    )
    job, created = await app.jobs.create(alice, body)
    assert created
    return alice, job["id"]


def column(emulator: SheetsEmulator, letter: str) -> list[str]:
    """The column's cells of the 8 data rows (sheet rows 2..9)."""
    return [emulator.value(SHEET, f"{letter}{row}") for row in range(2, 2 + len(ROWS))]


def batch_updates(emulator: SheetsEmulator) -> int:
    return emulator.count("POST", "values:batchUpdate")


async def assert_every_row_written(app: Bulkdash, alice: dict[str, Any], job_id: str, emulator: SheetsEmulator) -> None:
    job = await app.jobs.get(alice, job_id)
    assert job["state"] == "completed", job
    assert job["progress"]["completed"] == 6 and job["progress"]["failed"] == 1 and job["progress"]["skipped"] == 1
    expected = ["completed", "failed", "skipped", "completed", "completed", "completed", "completed", "completed"]
    assert column(emulator, "E") == expected
    videos, _ = await app.jobs.videos(alice, job_id, limit=100)
    outputs = column(emulator, "F")
    for video, written in zip(videos, outputs, strict=True):
        if video["state"] == "completed":
            assert video["output_url"] and written.endswith(video["output_url"]), (video, written)
        else:
            assert written == ""
    errors = column(emulator, "G")
    assert "row 2 cannot render" in errors[1] and "bad=yes" in errors[2]
    assert [e for i, e in enumerate(errors) if i not in (1, 2)] == [""] * 6
    assert column(emulator, "A") == [row[0] for row in ROWS]  # the data is never touched
    assert emulator.value(SHEET, "E1") == "Status"


async def test_a_graceful_restart_writes_back_every_row(
    boot: Boot, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    first, held = await boot(open_gate=False)
    alice, job_id = await start_job(first, account, emulator)
    await asyncio.wait_for(held.holding.wait(), 20)  # rows 1..4 are final, 5 and 6 are running, 7 and 8 pending
    await first.stop()  # 5 and 6 go back to pending; the batcher's last flush writes rows 1..4
    assert column(emulator, "E")[:4] == ["completed", "failed", "skipped", "completed"]
    assert column(emulator, "E")[4:] == [""] * 4
    reads_before, writes_before = emulator.count("GET", "/values/"), batch_updates(emulator)

    # one request per interval at most: a long interval leaves the restore's flush and the closing one
    second, _ = await boot(open_gate=True, interval_s=30.0)
    assert second.sheets is not None
    await settle(second)

    await assert_every_row_written(second, alice, job_id, emulator)
    job = await second.jobs.get(alice, job_id)
    assert not job["warnings"]
    assert emulator.count("GET", "/values/") - reads_before == 1  # the header, once
    assert 1 <= batch_updates(emulator) - writes_before <= 3
    assert job_id not in second.sheets.batchers

    # a finished job is left alone by the next start: no read, no batcher
    await second.stop()
    third, _ = await boot(open_gate=True)
    assert third.sheets is not None and third.sheets.batchers == {}
    assert emulator.count("GET", "/values/") - reads_before == 1


async def test_results_queued_but_not_written_before_a_crash_are_written_after_the_restart(
    boot: Boot, emulator: SheetsEmulator, account: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        # the first process dies before its batcher's first flush: every result it had stays in memory
        patch.setattr(WriteBackBatcher, "start", lambda self: None)
        first, held = await boot(open_gate=False)
        alice, job_id = await start_job(first, account, emulator)
        await asyncio.wait_for(held.holding.wait(), 20)
        assert first.sheets is not None
        batcher = first.sheets.batchers.pop(job_id)  # the crash: the queue dies with the process, unflushed
        assert batcher.pending == 10 and batcher.batches_sent == 0  # rows 1..4: status, error (and output)
        await first.stop()
    assert column(emulator, "E") == [""] * len(ROWS)  # not a single result reached the sheet
    writes_before = batch_updates(emulator)

    second, _ = await boot(open_gate=True, interval_s=30.0)
    await settle(second)

    await assert_every_row_written(second, alice, job_id, emulator)
    assert not (await second.jobs.get(alice, job_id))["warnings"]
    assert 1 <= batch_updates(emulator) - writes_before <= 3


def _unshare(emulator: SheetsEmulator) -> str:
    emulator.spreadsheets[SHEET].allowed_emails.clear()
    return "share the sheet with"


def _rename_status_column(emulator: SheetsEmulator) -> str:
    emulator.spreadsheets[SHEET].sheets["Sheet1"][0][4] = "State"
    return "no column named 'Status'"


def _throttle_reads(emulator: SheetsEmulator) -> str:
    emulator.fail_next("/values/", 429, count=10_000)
    return "rate limit"


@pytest.mark.parametrize("break_it", [_unshare, _rename_status_column, _throttle_reads])
async def test_a_failed_restore_is_a_job_warning_and_the_job_completes(
    boot: Boot, emulator: SheetsEmulator, account: dict[str, Any], break_it: Callable[[SheetsEmulator], str]
) -> None:
    first, held = await boot(open_gate=False)
    alice, job_id = await start_job(first, account, emulator)
    await asyncio.wait_for(held.holding.wait(), 20)
    await first.stop()
    expected = break_it(emulator)
    writes_before = batch_updates(emulator)

    # the retries give up within the (short) write retry budget; the start goes on
    second, _ = await boot(open_gate=True, write_retry=RetryPolicy(budget_s=0.3, base_s=0.01, max_s=0.02))
    assert second.sheets is not None and job_id not in second.sheets.batchers
    await settle(second)

    job = await second.jobs.get(alice, job_id)
    assert job["state"] == "completed" and job["progress"]["completed"] == 6, job
    [warning] = job["warnings"]
    assert warning["code"] == "write_back_failed" and warning["at"]
    assert "could not be resumed after a restart" in warning["message"] and expected in warning["message"]
    assert f"spreadsheet {SHEET!r}" in warning["message"]
    assert batch_updates(emulator) == writes_before  # nothing more was written
    assert column(emulator, "E")[4:] == [""] * 4


async def test_a_sheet_job_stopped_before_its_rows_were_read_reads_them_at_the_next_start(
    boot: Boot, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    first, _ = await boot(open_gate=True)
    reading, never = asyncio.Event(), asyncio.Event()

    async def slow_google(job: dict[str, Any]) -> list[dict[str, Any]]:
        reading.set()
        await never.wait()  # the process stops while the sheet is still being read
        raise AssertionError("unreachable")

    first.engine.ingest = slow_google
    alice, job_id = await start_job(first, account, emulator)
    await asyncio.wait_for(reading.wait(), 20)
    await first.stop()
    assert (await first.jobs_store.count_by_state(job_id)) == {}  # no videos yet

    second, _ = await boot(open_gate=True)
    await settle(second)
    await assert_every_row_written(second, alice, job_id, emulator)


async def test_retrying_a_finished_sheet_job_writes_the_retried_rows_back(
    boot: Boot, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    app, generator = await boot(open_gate=True)
    failing = {1}
    generate = generator.generate

    async def flip(request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        if request.row_index in failing:
            raise GenerationError("flip", f"row {request.row_index} fails this time", "render", permanent=True)
        return await generate(request, report)

    generator.generate = flip  # type: ignore[method-assign]
    alice, job_id = await start_job(app, account, emulator)
    await settle(app)
    assert column(emulator, "E")[0] == "failed" and "fails this time" in column(emulator, "G")[0]
    assert app.sheets is not None and job_id not in app.sheets.batchers  # closed with the job

    failing.clear()
    # Google answers the header read late: the retried rows finish before the batcher is back
    emulator.fail_next("/values/", 429, count=1, retry_after=0.5)
    await app.jobs.retry(alice, job_id)  # row 1 (and row 2, failing for good) run again
    await settle(app)
    await assert_every_row_written(app, alice, job_id, emulator)
    assert job_id not in app.sheets.batchers  # closed with the job again, not left running


async def test_canceling_a_sheet_job_while_its_rows_are_read_stops_the_read(
    boot: Boot, emulator: SheetsEmulator, account: dict[str, Any]
) -> None:
    """The cancel comes after the rows were stored but before the engine took them: they end ``canceled`` (the
    skipped one stays skipped), the counts add up, no event follows ``job.canceled`` and no batcher is left."""
    app, _ = await boot(open_gate=True)
    read = app.engine.ingest
    assert read is not None
    stored, never = asyncio.Event(), asyncio.Event()

    async def read_then_wait(job: dict[str, Any]) -> list[dict[str, Any]]:
        videos = await read(job)
        stored.set()
        await never.wait()
        return videos

    app.engine.ingest = read_then_wait
    events: list[Any] = []
    app.bus.subscribe_callback(events.append)
    alice, job_id = await start_job(app, account, emulator)
    await asyncio.wait_for(stored.wait(), 20)
    await app.jobs.cancel(alice, job_id)
    await settle(app)

    job = await app.jobs.get(alice, job_id)
    assert job["state"] == "canceled"
    assert await app.jobs_store.count_by_state(job_id) == {"canceled": 7, "skipped": 1}
    assert (job["progress"]["canceled"], job["progress"]["skipped"], job["progress"]["pending"]) == (7, 1, 0)
    mine = [e.type.value for e in events if e.job_id == job_id]
    assert mine[-1] == "job.canceled" and "video.created" not in mine
    assert app.sheets is not None and job_id not in app.sheets.batchers
