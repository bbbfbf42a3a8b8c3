"""Templates rendered by an external video API over HTTP: submit the row, poll its status, download the file.

The API's protocol (field names configurable in :class:`HttpTemplateConfig`):

- ``POST <submit_url>`` with JSON ``{template_id, job_id, video_id, row_index, title, variables, overrides,
  output}`` and an ``Idempotency-Key: <video_id>`` header; answers ``{"id": ..., "status": ...}`` and may
  already carry ``result_url``.
- ``GET <status_url with {id} filled>`` answers ``{"status": "queued|processing|completed|failed",
  "progress": 0-100, "result_url": ..., "error": ...}``; polled with a growing interval.
- ``GET <result_url>`` (relative URLs are resolved against the status URL) returns the video.

4xx answers are permanent errors; 5xx, 429, 408 and network errors are retried inside (exponential backoff,
``Retry-After`` honoured) and then raised as transient errors for the engine to retry later.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, Field

from app.generators.base import GenerationError, GenerationResult, ProgressCallback, RenderRequest
from app.generators.default_template import commit_files, sweep_leftovers
from app.generators.ffmpeg import FfmpegError, probe_and_thumbnail

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


class HttpTemplateConfig(BaseModel):
    """The ``http`` block of an http-kind template file."""

    submit_url: str
    status_url: str | None = Field(None, description="with {id}; omit if POST answers the file")
    headers: dict[str, str] = Field(default_factory=dict)
    poll_interval_s: float = Field(2.0, gt=0)
    max_poll_interval_s: float = Field(15.0, gt=0)
    timeout_s: float = Field(900.0, gt=0, description="the whole video, submit to download")
    request_timeout_s: float = Field(30.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10)
    retry_base_s: float = Field(0.5, ge=0)
    max_retry_after_s: float = Field(60.0, ge=0)
    required_columns: list[str] = Field(default_factory=list)
    id_field: str = "id"
    status_field: str = "status"
    progress_field: str = "progress"
    result_field: str = "result_url"
    error_field: str = "error"
    done_states: list[str] = Field(default_factory=lambda: ["completed", "succeeded", "done"])
    failed_states: list[str] = Field(default_factory=lambda: ["failed", "error", "canceled"])


class _Transient(Exception):
    """A retryable answer; ``retry_after`` is the server's wish in seconds, if it said one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HttpGenerator:
    """Generates videos through an external API (see the module docstring for the protocol).

    :param template_id: the id it is registered under.
    :param config: URLs, polling and retry settings.
    :param headers: extra headers for every request (for example credentials from the settings); the
        template's own ``headers`` win.
    :param defaults: the template's default overrides, below the job's overrides.
    :param sleep: the wait used between polls and retries (tests pass one that records instead of waiting).
    """

    def __init__(
        self,
        template_id: str,
        config: HttpTemplateConfig,
        *,
        headers: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.template_id = template_id
        self.config = config
        self.headers = {**(headers or {}), **config.headers}
        self.defaults = dict(defaults or {})
        self._sleep = sleep

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        present = {k.strip().lower() for k, v in variables.items() if str(v or "").strip()}
        for column in self.config.required_columns:
            if column.strip().lower() not in present:
                return f"missing required column '{column}'"
        return None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        cfg = self.config
        final = request.output_path
        final.parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:8]
        tmp_video = final.parent / f".{final.stem}.{token}.part.{request.output.format}"
        tmp_thumb = final.parent / f".{final.stem}.{token}.part.jpg"
        thumb = final.with_suffix(".jpg")
        await asyncio.to_thread(sweep_leftovers, final)
        headers = {**self.headers, "Idempotency-Key": request.video_id}
        deadline = time.monotonic() + cfg.timeout_s
        try:
            async with httpx.AsyncClient(headers=headers, timeout=cfg.request_timeout_s) as client:
                report(0.0, "submit")
                answer = await self._json(client, "POST", cfg.submit_url, "submit", json=_payload(self, request))
                report(5.0, "generate")
                result_url = await self._wait_result(client, answer, deadline, report)
                report(80.0, "download")
                await self._download(client, result_url, tmp_video, report)
            report(95.0, "finalize")
            try:
                probe = await probe_and_thumbnail(tmp_video, tmp_thumb)
            except FfmpegError as exc:
                raise GenerationError(
                    "bad_result",
                    "the API's file is not a readable video",
                    "finalize",
                    permanent=True,
                    detail=exc.stderr_tail,
                ) from None
            size = await asyncio.to_thread(commit_files, tmp_video, tmp_thumb, final, thumb)
            report(100.0, "finalize")
            return GenerationResult(
                output_path=final, thumbnail_path=thumb, duration_s=probe.duration_s, size_bytes=size
            )
        finally:
            for path in (tmp_video, tmp_thumb):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    async def _wait_result(
        self, client: httpx.AsyncClient, answer: dict[str, Any], deadline: float, report: ProgressCallback
    ) -> str:
        cfg = self.config
        interval = cfg.poll_interval_s
        best = 5.0
        status_url = None
        while True:
            state = str(answer.get(cfg.status_field, "")).lower()
            if state in cfg.failed_states:
                message = str(answer.get(cfg.error_field) or f"the API reported {state}")
                raise GenerationError("api_failed", message, "generate", permanent=True)
            result = answer.get(cfg.result_field)
            if result and (not state or state in cfg.done_states):
                return str(httpx.URL(status_url or cfg.submit_url).join(str(result)))
            with contextlib.suppress(TypeError, ValueError):
                best = max(best, 5.0 + 0.75 * min(100.0, float(answer.get(cfg.progress_field))))
                report(best, "generate")
            if cfg.status_url is None:
                raise GenerationError(
                    "api_protocol",
                    "the API answered no result URL and no status URL is set",
                    "generate",
                    permanent=True,
                )
            if (job_id := answer.get(cfg.id_field)) is not None:
                status_url = cfg.status_url.format(id=job_id)
            if status_url is None:
                raise GenerationError(
                    "api_protocol", f"the submit answer has no {cfg.id_field!r}", "submit", permanent=True
                )
            if time.monotonic() + interval > deadline:
                raise GenerationError("api_timeout", f"no result within {cfg.timeout_s:g}s", "generate")
            await self._sleep(interval)
            interval = min(cfg.max_poll_interval_s, interval * 1.5)
            answer = {cfg.id_field: job_id, **await self._json(client, "GET", status_url, "generate")}

    async def _json(
        self, client: httpx.AsyncClient, method: str, url: str, stage: str, **kwargs: Any
    ) -> dict[str, Any]:
        async def call() -> dict[str, Any]:
            response = await client.request(method, url, **kwargs)
            _raise_for_status(response, stage)
            try:
                data = response.json()
            except ValueError:
                raise GenerationError(
                    "api_protocol", f"{method} {url} did not answer JSON", stage, permanent=True
                ) from None
            if not isinstance(data, dict):
                raise GenerationError(
                    "api_protocol",
                    f"{method} {url} answered {type(data).__name__}, not an object",
                    stage,
                    permanent=True,
                )
            return data

        return await self._with_retries(call, stage)

    async def _download(self, client: httpx.AsyncClient, url: str, path: Path, report: ProgressCallback) -> None:
        async def call() -> None:
            async with client.stream("GET", url) as response:
                _raise_for_status(response, "download")
                total = int(response.headers.get("content-length") or 0)
                done = 0
                with path.open("wb") as out:
                    async for chunk in response.aiter_bytes(1 << 16):
                        out.write(chunk)
                        done += len(chunk)
                        if total:
                            report(80.0 + 15.0 * min(1.0, done / total), "download")

        await self._with_retries(call, "download")

    async def _with_retries(self, call: Callable[[], Awaitable[T]], stage: str) -> T:
        cfg = self.config
        attempt = 0
        while True:
            try:
                return await call()
            except (_Transient, httpx.TransportError) as exc:
                if attempt >= cfg.max_retries:
                    kind = "api_unavailable" if isinstance(exc, _Transient) else "api_unreachable"
                    # httpx's timeouts carry no message: name the error so the user sees what happened
                    reason = str(exc) if isinstance(exc, _Transient) else f"{type(exc).__name__}: {exc}".rstrip(": ")
                    raise GenerationError(kind, f"{reason} (after {attempt + 1} attempts)", stage) from None
                wait = cfg.retry_base_s * 2**attempt
                if isinstance(exc, _Transient) and exc.retry_after is not None:
                    wait = max(wait, min(exc.retry_after, cfg.max_retry_after_s))
                attempt += 1
                await self._sleep(wait)


def _payload(generator: HttpGenerator, request: RenderRequest) -> dict[str, Any]:
    out = request.output
    return {
        "template_id": generator.template_id,
        "job_id": request.job_id,
        "video_id": request.video_id,
        "row_index": request.row_index,
        "title": request.title,
        "variables": request.variables,
        "overrides": {**generator.defaults, **request.overrides},
        "output": {
            "format": out.format,
            "video_codec": out.video_codec,
            "audio_codec": out.audio_codec,
            "resolution": out.resolution,
        },
    }


def _raise_for_status(response: httpx.Response, stage: str) -> None:
    status = response.status_code
    if status < 400:
        return
    message = f"{response.request.method} {response.request.url} answered HTTP {status}"
    if status in _RETRYABLE or status >= 500:
        raise _Transient(message, _retry_after(response.headers.get("retry-after")))
    try:
        body = response.text[:500]
    except httpx.ResponseNotRead:  # a streamed download: the body is not worth reading
        body = ""
    raise GenerationError("api_rejected", message, stage, permanent=True, detail=body or None)


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None
