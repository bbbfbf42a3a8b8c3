"""Job commands and queries: create, list, get, pause, resume, cancel, retry, videos, results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from app.domain.progress import empty_progress
from app.domain.schemas import JobCreate
from app.domain.states import PRIORITY_RANK, IllegalTransition
from app.domain.tables import utcnow
from app.domain.views import job_view, video_view
from app.engine.engine import Engine
from app.generators.base import Generator
from app.ids import new_id, new_ids
from app.services.errors import Conflict, Invalid, NotFound
from app.store.jobs import JobStore

#: ``(row_index, source_row, values)`` for each data row of a source
SourceRows = list[tuple[int, int | None, dict[str, str]]]
RowsLoader = Callable[[dict[str, Any], dict[str, Any]], Awaitable[SourceRows]]


class JobService:
    """The one write path for jobs (REST, UI and CLI all call this)."""

    def __init__(
        self,
        jobs: JobStore,
        engine: Engine,
        generators: Callable[[str], Generator],
        *,
        max_rows: int = 100_000,
        load_upload: RowsLoader | None = None,
        load_sheet: RowsLoader | None = None,
        check_webhook: Callable[[str], Awaitable[str | None]] | None = None,
        check_source: Callable[[dict[str, Any], dict[str, Any], dict[str, Any] | None], Awaitable[None]] | None = None,
    ) -> None:
        self.jobs = jobs
        self.engine = engine
        self.generators = generators
        self.max_rows = max_rows
        self.load_upload = load_upload
        self.load_sheet = load_sheet
        #: why a webhook URL may not be called (scheme, private address), or None
        self.check_webhook = check_webhook
        #: checks a source and its ``write_back`` at creation (connection, write-back columns); raises Invalid
        self.check_source = check_source
        engine.ingest = self._ingest_sheet

    # -- create -----------------------------------------------------------------------------------------------
    async def create(
        self, user: dict[str, Any], body: JobCreate, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Stores a job and its videos and hands it to the engine. Returns ``(job, created)``; with a known
        ``idempotency_key`` and the same body the first job comes back with ``created=False``."""
        payload = body.model_dump(mode="json")
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        if idempotency_key:
            existing = await self.jobs.find_by_idempotency_key(user["id"], idempotency_key)
            if existing is not None:
                if existing["request_hash"] != digest:
                    raise Conflict("this Idempotency-Key was already used with another request body")
                return self._view(existing), False
        if body.webhook_url and self.check_webhook is not None:
            try:
                problem = await self.check_webhook(body.webhook_url)
            except OSError as exc:
                problem = f"webhook_url: the host cannot be resolved ({exc})"
            if problem:
                raise Invalid(problem, loc=["body", "webhook_url"])
        generator = self._generator(body.template.template_id)
        reason = generator.validate({}, body.template.overrides) if body.template.template_id == "simulated" else None
        if reason:
            raise Invalid(reason, loc=["body", "template", "overrides"])
        job_id = new_id("job")
        job = {
            "id": job_id,
            "owner_id": user["id"],
            "title": body.title,
            "state": "pending",
            "priority": body.priority.value,
            "priority_rank": PRIORITY_RANK[body.priority],
            "created_at": utcnow(),
            "started_at": None,
            "finished_at": None,
            "processing_deadline_ms": body.processing_deadline_ms,
            # inline rows live on as the videos' variables; the job keeps only how many there were
            "input_source": _compact_source(payload["input_source"]),
            "output": payload["output"],
            "template": payload["template"],
            "webhook_url": body.webhook_url,
            "write_back": payload["write_back"],
            "progress": empty_progress(),
            "error": None,
            "last_seq": 0,
            "idempotency_key": idempotency_key,
            "request_hash": digest,
            "warnings": None,
        }
        source = payload["input_source"]
        if self.check_source is not None:
            await self.check_source(user, source, payload["write_back"])
        videos: list[dict[str, Any]] | None
        if source["type"] == "sheet":
            if self.load_sheet is None:
                raise Invalid("Google Sheets are not configured on this server", loc=["body", "input_source"])
            videos = None
        else:
            rows = await self._rows(user, job, source)
            videos = self.build_videos(job, generator, rows)
            job["progress"] = empty_progress(len(videos))
        await self.jobs.create_job(job, videos or [])
        await self.engine.register(job, videos)
        return self._view(self.engine.live_row(job_id) or job), True

    async def _rows(self, user: dict[str, Any], job: dict[str, Any], source: dict[str, Any]) -> SourceRows:
        if source["type"] == "inline":
            rows: SourceRows = [
                (i, None, {str(k).strip(): _text(v) for k, v in row.items()}) for i, row in enumerate(source["rows"], 1)
            ]
        elif self.load_upload is not None:
            rows = await self.load_upload(user, source)
        else:
            raise Invalid("uploads are not configured on this server", loc=["body", "input_source"])
        if len(rows) > self.max_rows:
            raise Invalid(
                f"the source has {len(rows)} rows; a job takes at most {self.max_rows}", loc=["body", "input_source"]
            )
        if not rows:
            raise Invalid("the source has no data rows", loc=["body", "input_source"])
        return rows

    def build_videos(self, job: dict[str, Any], generator: Generator, rows: SourceRows) -> list[dict[str, Any]]:
        """One video per row; rows the template cannot render are ``skipped`` with the reason."""
        overrides = job["template"].get("overrides") or {}
        videos = []
        now = utcnow()
        ids = new_ids("vid", len(rows))
        for (row_index, source_row, values), video_id in zip(rows, ids, strict=True):
            reason = generator.validate(values, overrides)
            title = values.get("title") or values.get("name") or values.get("headline") or f"Row {row_index}"
            videos.append(
                {
                    "id": video_id,
                    "job_id": job["id"],
                    "row_index": row_index,
                    "source_row": source_row,
                    "title": title[:300],
                    "state": "skipped" if reason else "pending",
                    "progress": 0.0,
                    "stage": "validate" if reason else None,
                    "attempts": 0,
                    "error": {"code": "invalid_row", "message": reason, "stage": "validate"} if reason else None,
                    "attempt_errors": None,
                    "output_path": None,
                    "thumbnail_path": None,
                    "duration_s": None,
                    "size_bytes": None,
                    "started_at": None,
                    "finished_at": now if reason else None,
                    "processing_ms": None,
                    "variables": values,
                }
            )
        return videos

    async def _ingest_sheet(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        """Reads a sheet job's rows (called by the engine, after the job was created)."""
        assert self.load_sheet is not None
        rows = await self.load_sheet({"id": job["owner_id"]}, job["input_source"])
        if len(rows) > self.max_rows:
            raise ValueError(f"the sheet range has {len(rows)} rows; a job takes at most {self.max_rows}")
        videos = self.build_videos(job, self._generator(job["template"]["template_id"]), rows)
        await self.jobs.create_job_videos(videos)
        return videos

    def _generator(self, template_id: str) -> Generator:
        try:
            return self.generators(template_id)
        except (KeyError, ValueError) as exc:
            raise Invalid(f"unknown template {template_id!r}", loc=["body", "template", "template_id"]) from exc

    # -- queries ----------------------------------------------------------------------------------------------
    async def get(self, user: dict[str, Any], job_id: str) -> dict[str, Any]:
        return self._view(await self._row(user, job_id))

    async def list(
        self,
        user: dict[str, Any],
        *,
        state: str | None = None,
        q: str | None = None,
        sort: str = "-created_at",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        try:
            rows, total = await self.jobs.list_jobs(
                _owner(user), state=state, q=q, sort=sort, limit=limit, offset=offset
            )
        except ValueError as exc:
            raise Invalid(str(exc), loc=["query", "sort"]) from exc
        return [self._view(r) for r in rows], total

    async def videos(
        self,
        user: dict[str, Any],
        job_id: str,
        *,
        state: str | None = None,
        q: str | None = None,
        sort: str = "row_index",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        await self._row(user, job_id)
        try:
            rows, total = await self.jobs.list_videos(job_id, state=state, q=q, sort=sort, limit=limit, offset=offset)
        except ValueError as exc:
            raise Invalid(str(exc), loc=["query", "sort"]) from exc
        return [video_view(r) for r in rows], total

    async def video(self, user: dict[str, Any], job_id: str, video_id: str) -> dict[str, Any]:
        return video_view(await self.video_row(user, job_id, video_id))

    async def video_row(self, user: dict[str, Any], job_id: str, video_id: str) -> dict[str, Any]:
        """The stored video (with file paths and every attempt's error), for files and detail views."""
        await self._row(user, job_id)
        row = await self.jobs.get_video(job_id, video_id)
        if row is None:
            raise NotFound(f"video {video_id} not found in job {job_id}")
        return row

    async def iter_videos(
        self, user: dict[str, Any], job_id: str, columns: Sequence[str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The job's videos in row order (only ``columns`` when given); NotFound for a job the user may not see."""
        await self._row(user, job_id)
        async for row in self.jobs.iter_videos(job_id, columns=columns):
            yield row

    # -- commands ---------------------------------------------------------------------------------------------
    async def pause(self, user: dict[str, Any], job_id: str) -> dict[str, Any]:
        job = await self._row(user, job_id)
        return self._view(await self._command(job, "pause", self.engine.pause))

    async def resume(self, user: dict[str, Any], job_id: str) -> dict[str, Any]:
        job = await self._row(user, job_id)
        return self._view(await self._command(job, "resume", self.engine.resume))

    async def cancel(self, user: dict[str, Any], job_id: str) -> dict[str, Any]:
        job = await self._row(user, job_id)
        return self._view(await self._command(job, "cancel", self.engine.cancel))

    async def retry(self, user: dict[str, Any], job_id: str) -> dict[str, Any]:
        job = await self._row(user, job_id)
        try:
            return self._view(await self.engine.retry(job_id, job))
        except IllegalTransition as exc:
            raise Conflict(str(exc)) from exc

    async def _command(
        self, job: dict[str, Any], action: str, command: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        if job["id"] not in self.engine.runtimes:
            raise Conflict(f"cannot {action} a job that is {job['state']}")
        try:
            return await command(job["id"])
        except IllegalTransition as exc:
            raise Conflict(str(exc)) from exc

    # -- helpers ----------------------------------------------------------------------------------------------
    async def _row(self, user: dict[str, Any], job_id: str) -> dict[str, Any]:
        row = await self.jobs.get_job(job_id, _owner(user))
        if row is None:
            raise NotFound(f"job {job_id} not found")
        return row

    def _view(self, row: dict[str, Any]) -> dict[str, Any]:
        live = self.engine.live_row(row["id"])
        if live is not None:
            row = {**row, **{k: live[k] for k in ("state", "progress", "started_at", "finished_at", "error")}}
        return job_view(row)


def _compact_source(source: dict[str, Any]) -> dict[str, Any]:
    if source["type"] == "inline":
        return {"type": "inline", "row_count": len(source["rows"])}
    return source


def _owner(user: dict[str, Any]) -> str | None:
    """Admins see everything; anyone else only their own objects."""
    return None if user.get("is_admin") else user["id"]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
