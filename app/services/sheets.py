"""Google Sheets: connections (checked at once, credentials encrypted at rest), reading a sheet job's rows,
and writing results back to the sheet in batches.

Credentials for a job, in order: the job's ``connection_id``, else the owner's most recent connection to that
spreadsheet, else the server's ``BULKDASH_GOOGLE_CREDENTIALS``. Write-back never fails a job: a problem is
recorded as a warning on the job (``jobs.warnings``, code ``write_back_failed``).

A job's batcher lives in memory. After a restart, :meth:`SheetService.restore_write_back` (called before the
engine resumes jobs) builds it again for every unfinished sheet job that asks for write-back, and queues the
result of every video that already finished, so results a crash kept from reaching the sheet are written too.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.domain.events import Event, EventType, iso
from app.domain.tables import utcnow
from app.domain.views import video_view
from app.ids import new_id
from app.services.errors import Invalid
from app.services.sources import service_error, table_rows
from app.sources.a1 import parse_a1
from app.sources.secrets import SecretBox, SecretError
from app.sources.sheets import RetryPolicy, SheetsClient
from app.sources.table import SourceError
from app.sources.write_back import WRITE_BACK_KEYS, WriteBackBatcher, header_read_range, resolve_columns
from app.store.sources import SourceStore

log = logging.getLogger(__name__)

Credentials = dict[str, Any] | str
Rows = list[tuple[int, int | None, dict[str, str]]]
Ingest = Callable[[dict[str, Any]], Awaitable[list[dict[str, Any]]]]
#: what a restore may wait for one request beyond the write retry budget (the last attempt's answer)
_LAST_ATTEMPT_GRACE_S = 5.0

#: the job whose rows are being read (set around the engine's ingest, so ``load_rows`` knows the job)
_reading_job: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("reading_job", default=None)


class SheetService:
    """Sheet connections, the job service's ``load_sheet``, and the write-back of sheet jobs."""

    def __init__(
        self,
        store: SourceStore,
        secrets: SecretBox,
        *,
        api_url: str,
        default_credentials: Path | None = None,
        connect_retry: RetryPolicy | None = None,
        read_retry: RetryPolicy | None = None,
        write_retry: RetryPolicy | None = None,
        write_back_interval_s: float = 5.0,
        max_rows: int = 100_000,
        public_url: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.store = store
        self.secrets = secrets
        self.api_url = api_url
        self.default_credentials = default_credentials
        self.connect_retry = connect_retry or RetryPolicy(budget_s=5.0)
        self.read_retry = read_retry or RetryPolicy(budget_s=30.0)
        self.write_retry = write_retry or RetryPolicy(budget_s=10.0)
        self.write_back_interval_s = write_back_interval_s
        self.max_rows = max_rows
        self.public_url = (public_url or "").rstrip("/")
        self.timeout_s = timeout_s
        #: live write-back batchers by job id
        self.batchers: dict[str, WriteBackBatcher] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: results of a reopened job's videos that finished before its batcher was back, by job id
        self._early_results: dict[str, list[dict[str, Any]]] = {}
        #: those reopened jobs' batchers being restored (finishing waits for them), by job id
        self._restoring: dict[str, asyncio.Task[None]] = {}

    # -- connections ----------------------------------------------------------------------------------------
    async def connect(
        self,
        user: dict[str, Any],
        sheet_id: str,
        range: str | None = None,  # noqa: A002 - the contract's field name
        title: str | None = None,
        service_account: dict[str, Any] | None = None,
        api_key: str | None = None,
    ) -> dict[str, Any]:
        """Checks access to the sheet at once and stores the connection; its credentials are encrypted and
        never returned. Raises Invalid (422) or SourceFailed (401/403/429/502) with a message for the user."""
        sheet_id = (sheet_id or "").strip()
        if not sheet_id:
            raise Invalid("sheet_id is empty", loc=["body", "sheet_id"])
        range = (range or "").strip() or None
        api_key = (api_key or "").strip() or None
        if service_account and api_key:
            raise Invalid("give a service_account or an api_key, not both", loc=["body", "api_key"])
        given: Credentials | None = service_account or api_key
        try:
            credentials = given if given is not None else self._default_credentials()
        except SourceError as exc:
            raise service_error(exc, ["body", "service_account"]) from exc
        if credentials is None:
            raise Invalid(
                "give a service_account (the service-account JSON) or an api_key; this server has no default "
                "Google credentials (BULKDASH_GOOGLE_CREDENTIALS)",
                loc=["body", "service_account"],
            )
        client = self._client(credentials, self.connect_retry, loc=["body", "service_account"])
        try:
            info = await client.check_access(sheet_id, range)
        except SourceError as exc:
            raise service_error(exc, ["body", "range"]) from exc
        row = {
            "id": new_id("shc"),
            "owner_id": user["id"],
            "sheet_id": sheet_id,
            "title": ((title or "").strip() or info.title or sheet_id)[:300],
            "range": range,
            "columns": info.columns,
            "credentials": self.secrets.encrypt(given) if given is not None else None,
            "created_at": utcnow(),
        }
        await self.store.add_connection(row)
        return connection_view(row)

    async def list(self, user: dict[str, Any], limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        """The user's connections, newest first."""
        return (await self.page(user, limit=limit, offset=offset))[0]

    async def page(self, user: dict[str, Any], *, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """One page of the user's connections and their total count."""
        rows, total = await self.store.list_connections(user["id"], limit=limit, offset=offset)
        return [connection_view(r) for r in rows], total

    # -- jobs: validation at creation, reading --------------------------------------------------------------
    async def check_source(
        self, user: dict[str, Any], source: dict[str, Any], write_back: dict[str, Any] | None
    ) -> None:
        """Checks what can be checked without calling Google when a job is created: ``write_back`` only for
        sheets, a known ``connection_id`` for that spreadsheet, and write-back columns against the header a
        connection of the same range saw. Raises Invalid (422)."""
        wants = _wants_write_back(write_back)
        if source["type"] != "sheet":
            if wants:
                raise Invalid("write_back works with Google Sheet sources only", loc=["body", "write_back"])
            return
        conn = None
        if source.get("connection_id"):
            conn = await self.store.get_connection(source["connection_id"], user["id"])
            loc = ["body", "input_source", "connection_id"]
            if conn is None:
                raise Invalid(f"sheet connection {source['connection_id']} not found", loc=loc)
            if conn["sheet_id"] != source["sheet_id"]:
                raise Invalid(
                    f"sheet connection {conn['id']} is for spreadsheet {conn['sheet_id']!r}, "
                    f"not {source['sheet_id']!r}",
                    loc=loc,
                )
        if not wants or write_back is None:
            return
        conn = conn or await self.store.latest_connection(user["id"], source["sheet_id"])
        if conn is None:
            return  # the header is checked when the rows are read
        try:
            seen, wanted = parse_a1(conn["range"] or "A1"), parse_a1(source["range"])
            if (seen.sheet, seen.start_row, seen.start_col) == (wanted.sheet, wanted.start_row, wanted.start_col):
                resolve_columns(write_back, conn["columns"], wanted.start_col)
        except SourceError as exc:
            if exc.status == 422:
                raise Invalid(exc.message, loc=["body", "write_back"]) from exc
            # a malformed range is the Sheets API's to judge when the rows are read

    async def load_rows(self, user: dict[str, Any], source: dict[str, Any]) -> Rows:
        """The job service's ``load_sheet``: ONE values.get of the range (retried on 429/5xx). When the job
        asks for write-back, its batcher is set up from the same answer. Raises SourceError."""
        credentials = await self._job_credentials(user, source)
        client = self._client(credentials, self.read_retry)
        table = await client.read_range(source["sheet_id"], source["range"], max_rows=self.max_rows)
        job = _reading_job.get()
        if job is not None and _wants_write_back(job.get("write_back")):
            client.retry = self.write_retry  # the batcher retries on its own; keep each request's wait short
            batcher = WriteBackBatcher.for_table(
                client, source["sheet_id"], table, job["write_back"], interval_s=self.write_back_interval_s
            )
            old = self.batchers.pop(job["id"], None)
            if old is not None:
                self._spawn(old.close())
            self.batchers[job["id"]] = batcher
            batcher.start()
        return table_rows(table)

    def around_ingest(self, ingest: Ingest) -> Ingest:
        """Wraps the engine's ``ingest`` so ``load_rows`` knows the job (for write-back), rows the template
        skipped are written back at once, and a failed ingest leaves no batcher behind."""

        async def ingest_job(job: dict[str, Any]) -> list[dict[str, Any]]:
            token = _reading_job.set(job)
            try:
                videos = await ingest(job)
            except BaseException:
                batcher = self.batchers.pop(job["id"], None)
                if batcher is not None:
                    await batcher.close()
                raise
            finally:
                _reading_job.reset(token)
            for video in videos:
                if video["state"] == "skipped":
                    self.on_video_final(job, video)
            return videos

        return ingest_job

    # -- write-back -----------------------------------------------------------------------------------------
    def on_video_final(self, job_row: dict[str, Any], video: dict[str, Any]) -> None:
        """Engine video hook: queue the video's state, output URL and error for its sheet row (no I/O)."""
        batcher = self.batchers.get(job_row["id"])
        if batcher is not None:
            self._queue(batcher, video)
        elif (early := self._early_results.get(job_row["id"])) is not None:
            early.append(dict(video))

    def _queue(self, batcher: WriteBackBatcher, video: dict[str, Any]) -> None:
        view = video_view(video)
        url = view["output_url"]
        error = (view["error"] or {}).get("message") if video["state"] in ("failed", "skipped") else None
        batcher.add_row(
            video["row_index"], status=video["state"], output_url=self.public_url + url if url else None, error=error
        )

    async def finish_job(self, job_row: dict[str, Any]) -> None:
        """Engine finishing hook: the last write-back flush; a problem becomes a warning on the job."""
        warnings = await self._close_when_restored(job_row["id"])
        if warnings is not None:
            job_row["warnings"] = warnings  # so the final job event carries it too

    def on_event(self, event: Event) -> None:
        """Bus callback: a failed or canceled job flushes what its batcher holds and stops it."""
        if event.type in (EventType.JOB_FAILED, EventType.JOB_CANCELED):
            self._spawn(self._close_when_restored(event.job_id))

    async def _close_when_restored(self, job_id: str) -> list[dict[str, Any]] | None:
        """Closes the job's batcher (once a restore still bringing it back is done); the job's warnings when
        this added one."""
        restoring = self._restoring.get(job_id)
        if restoring is not None:
            await asyncio.wait([restoring])
        batcher = self.batchers.pop(job_id, None)
        return None if batcher is None else await self._close(job_id, batcher)

    def on_job_reopened(self, job_row: dict[str, Any]) -> None:
        """Engine reopen hook: a retry opened a finished sheet job again; its batcher comes back, and results of
        videos that finish before it is ready are kept until then (no I/O here)."""
        if (
            (job_row.get("input_source") or {}).get("type") == "sheet"
            and _wants_write_back(job_row.get("write_back"))
            and job_row["id"] not in self.batchers
        ):
            self._begin_restore(dict(job_row), when="after the retry")

    def _begin_restore(self, job: dict[str, Any], when: str) -> None:
        """Restores the job's batcher in the background; results of videos finishing meanwhile are kept for it,
        and finishing the job waits for it."""
        job_id = job["id"]
        self._early_results[job_id] = []
        task = asyncio.ensure_future(self._restore_keeping_results(job, when))
        self._restoring[job_id] = task
        task.add_done_callback(lambda _: self._restoring.pop(job_id, None))

    async def _restore_keeping_results(self, job: dict[str, Any], when: str) -> None:
        try:
            await self._restore(job, when=when)
        finally:
            self._early_results.pop(job["id"], None)

    async def drain(self) -> None:
        """Waits for the batchers of failed or canceled jobs to finish closing (and restores in progress)."""
        while self._tasks or self._restoring:
            await asyncio.gather(*self._tasks, *self._restoring.values(), return_exceptions=True)

    async def close(self) -> None:
        """At shutdown: flush and stop every batcher, wait for the closing tasks."""
        await asyncio.gather(*self._restoring.values(), return_exceptions=True)  # their batchers are closed too
        batchers, self.batchers = self.batchers, {}
        for job_id, batcher in batchers.items():
            try:
                await self._close(job_id, batcher)
            except Exception:
                log.exception("job %s: write-back could not be closed", job_id)
        await self.drain()

    async def _close(self, job_id: str, batcher: WriteBackBatcher) -> list[dict[str, Any]] | None:
        await batcher.close()
        if not (batcher.last_error or batcher.dropped_cells or batcher.pending):
            return None
        lost = batcher.dropped_cells + batcher.pending
        message = batcher.last_error or f"write-back to spreadsheet {batcher.sheet_id!r} failed"
        return await self._warn(job_id, f"{message} ({lost} cell(s) not written; the job's results are unaffected)")

    async def _warn(self, job_id: str, message: str) -> list[dict[str, Any]] | None:
        """Stores a ``write_back_failed`` warning on the job; returns the job's warnings (None if not stored)."""
        warning = {"code": "write_back_failed", "message": message, "at": iso(utcnow())}
        log.warning("job %s: %s", job_id, message)
        try:
            return await self.store.add_job_warning(job_id, warning)
        except Exception:
            log.exception("job %s: the write-back warning could not be stored", job_id)
            return None

    # -- write-back after a restart -------------------------------------------------------------------------
    async def restore_write_back(self) -> None:
        """At start-up, before the engine resumes jobs: a batcher again for every unfinished sheet job that asks
        for write-back and whose rows were already read (a job without videos reads them again, and
        ``load_rows`` sets its batcher up then). The restores run in the background (start-up does not wait
        for Google); results of videos finishing meanwhile are kept for the batcher.

        Per job: its credentials as for reading, ONE values.get of the range's header row (origin and
        columns), then the result of every video already final is queued (writes are idempotent: same cell,
        same value). Google's part is bounded by the write retry policy. A failure never fails the job: it
        becomes a ``write_back_failed`` warning on the job, which goes on without write-back."""
        jobs = [
            job
            for job in await self.store.write_back_jobs()
            if (job["input_source"] or {}).get("type") == "sheet"
            and _wants_write_back(job["write_back"])
            and job["id"] not in self.batchers
        ]
        for job in jobs:
            self._begin_restore(job, when="after a restart")

    async def _restore(self, job: dict[str, Any], when: str) -> None:
        job_id = job["id"]
        try:
            batcher = await self._restored_batcher(job)
        except Exception as exc:
            detail = exc.message if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
            sheet_id = (job["input_source"] or {}).get("sheet_id")
            await self._warn(
                job_id,
                f"write-back to spreadsheet {sheet_id!r} could not be resumed {when}: {detail}. "
                "The results of this job are no longer written to the sheet (the job's results are unaffected)",
            )
            return
        # in place before the finished results are read: a video finishing meanwhile (a retried job runs
        # already) is queued by on_video_final or found by the read, never missed
        self.batchers[job_id] = batcher
        queued = 0
        for video in self._early_results.pop(job_id, []):
            self._queue(batcher, video)
        try:
            async for video in self.store.final_video_results(job_id):
                self._queue(batcher, video)
                queued += 1
        except Exception:  # the store is the engine's to worry about; results still to come are written
            log.exception("job %s: the finished results could not be queued for write-back again", job_id)
        batcher.start()
        log.info("job %s: write-back resumed, %d finished result(s) queued again", job_id, queued)

    async def _restored_batcher(self, job: dict[str, Any]) -> WriteBackBatcher:
        source = job["input_source"]
        bound = self.write_retry.budget_s + min(self.timeout_s, _LAST_ATTEMPT_GRACE_S)
        try:
            async with asyncio.timeout(bound):
                credentials = await self._job_credentials({"id": job["owner_id"]}, source)
                client = self._client(credentials, self.write_retry)
                header = await client.read_range(
                    source["sheet_id"], header_read_range(source["range"]), max_rows=self.max_rows
                )
        except TimeoutError as exc:
            raise SourceError(
                f"the Sheets API did not answer for spreadsheet {source['sheet_id']!r} within {bound:g} s", 504
            ) from exc
        return WriteBackBatcher.for_table(
            client, source["sheet_id"], header, job["write_back"], interval_s=self.write_back_interval_s
        )

    # -- credentials ----------------------------------------------------------------------------------------
    async def _job_credentials(self, user: dict[str, Any], source: dict[str, Any]) -> Credentials:
        sheet_id = source["sheet_id"]
        if source.get("connection_id"):
            conn = await self.store.get_connection(source["connection_id"], user["id"])
            if conn is None:
                raise SourceError(f"sheet connection {source['connection_id']} not found", 404)
        else:
            conn = await self.store.latest_connection(user["id"], sheet_id)
        if conn is not None and conn["credentials"]:
            try:
                return self.secrets.decrypt(conn["credentials"])
            except SecretError as exc:
                message = f"the credentials of sheet connection {conn['id']} cannot be read: {exc}"
                raise SourceError(message, 500) from exc
        credentials = self._default_credentials()
        if credentials is None:
            raise SourceError(
                f"no Google credentials for spreadsheet {sheet_id!r}: connect it first (POST /api/v1/sheets/connect "
                "with a service_account or api_key) or set BULKDASH_GOOGLE_CREDENTIALS on the server",
                422,
            )
        return credentials

    def _default_credentials(self) -> dict[str, Any] | None:
        path = self.default_credentials
        if path is None:
            return None
        try:
            info = json.loads(Path(path).expanduser().read_text())
        except (OSError, ValueError) as exc:
            message = f"BULKDASH_GOOGLE_CREDENTIALS: cannot read the service-account JSON {path}: {exc}"
            raise SourceError(message, 500) from exc
        if not isinstance(info, dict):
            raise SourceError(f"BULKDASH_GOOGLE_CREDENTIALS: {path} is not a service-account JSON object", 500)
        return info

    def _client(self, credentials: Credentials, retry: RetryPolicy, loc: list[Any] | None = None) -> SheetsClient:
        try:
            return SheetsClient(self.api_url, credentials, retry=retry, timeout_s=self.timeout_s)
        except SourceError as exc:
            if loc is None:
                raise
            raise Invalid(exc.message, loc=loc) from exc

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def connection_view(row: dict[str, Any]) -> dict[str, Any]:
    """The public SheetConnection (never its credentials)."""
    return {
        "id": row["id"],
        "sheet_id": row["sheet_id"],
        "title": row["title"],
        "range": row["range"],
        "columns": list(row["columns"]),
        "created_at": iso(row["created_at"]),
    }


def _wants_write_back(write_back: dict[str, Any] | None) -> bool:
    return bool(write_back) and any((write_back or {}).get(k) for k in WRITE_BACK_KEYS)
