"""An async Python client for the bulkdash REST API and the live ``/ws`` stream (CONTRACT §5, §7).

async with BulkdashClient("http://127.0.0.1:8080", token) as client:
    job = await client.create_job({...})
    async for event in client.follow(job["id"]):
        ...
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

log = logging.getLogger(__name__)

FINAL_EVENTS = frozenset({"job.completed", "job.failed", "job.canceled"})
#: close codes after which reconnecting cannot help
_FATAL_CLOSE = {4400: 400, 4401: 401, 4404: 404}


class BulkdashError(Exception):
    """An error answer of the server: its HTTP status (or the WebSocket close code mapped to one) and detail."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class BulkdashClient:
    """Every REST route as a method, plus :meth:`follow` and :meth:`wait` over the WebSocket."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )
        #: how many times :meth:`follow` (re)connected, for tests and progress displays
        self.connections = 0

    async def __aenter__(self) -> BulkdashClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- plumbing ---------------------------------------------------------------------------------------------
    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except (ValueError, AttributeError):
                detail = response.text
            raise BulkdashError(response.status_code, detail)
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self._request(method, path, **kwargs)).json()

    @staticmethod
    def _params(**values: Any) -> dict[str, Any]:
        return {k: v for k, v in values.items() if v is not None}

    # -- jobs -------------------------------------------------------------------------------------------------
    async def create_job(self, body: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        """``POST /bulk-jobs``: the new Job (or, with a known ``idempotency_key`` and body, the first one)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self._json("POST", "/api/v1/bulk-jobs", json=body, headers=headers)

    async def list_jobs(
        self, *, state: str | None = None, q: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> dict[str, Any]:
        params = self._params(state=state, q=q, limit=limit, offset=offset)
        return await self._json("GET", "/api/v1/bulk-jobs", params=params)

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/api/v1/bulk-jobs/{job_id}")

    async def pause(self, job_id: str) -> dict[str, Any]:
        return await self._json("POST", f"/api/v1/bulk-jobs/{job_id}/pause")

    async def resume(self, job_id: str) -> dict[str, Any]:
        return await self._json("POST", f"/api/v1/bulk-jobs/{job_id}/resume")

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return await self._json("POST", f"/api/v1/bulk-jobs/{job_id}/cancel")

    async def retry(self, job_id: str) -> dict[str, Any]:
        return await self._json("POST", f"/api/v1/bulk-jobs/{job_id}/retry")

    # -- videos and results -----------------------------------------------------------------------------------
    async def list_videos(
        self,
        job_id: str,
        *,
        state: str | None = None,
        q: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        params = self._params(state=state, q=q, sort=sort, limit=limit, offset=offset)
        return await self._json("GET", f"/api/v1/bulk-jobs/{job_id}/videos", params=params)

    async def get_video(self, job_id: str, video_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/api/v1/bulk-jobs/{job_id}/videos/{video_id}")

    async def download_file(
        self, job_id: str, video_id: str, dest: str | Path | None = None, *, thumbnail: bool = False
    ) -> bytes | Path:
        """The output file (or its JPEG thumbnail): bytes, or streamed to ``dest`` and its path returned."""
        path = f"/api/v1/bulk-jobs/{job_id}/videos/{video_id}/{'thumbnail' if thumbnail else 'file'}"
        if dest is None:
            return (await self._request("GET", path)).content
        target = Path(dest)
        async with self.http.stream("GET", path) as response:
            if response.status_code >= 400:
                await response.aread()
                raise BulkdashError(response.status_code, _detail(response))
            fh = await asyncio.to_thread(target.open, "wb")
            try:
                async for chunk in response.aiter_bytes():
                    await asyncio.to_thread(fh.write, chunk)
            finally:
                fh.close()
        return target

    async def results_csv(self, job_id: str) -> str:
        return (await self._request("GET", f"/api/v1/bulk-jobs/{job_id}/results.csv")).text

    # -- sources ----------------------------------------------------------------------------------------------
    async def connect_sheet(
        self,
        sheet_id: str,
        *,
        range: str | None = None,  # noqa: A002 - the contract's field name
        title: str | None = None,
        service_account: dict[str, Any] | None = None,
        api_key: str | None = None,
    ) -> dict[str, Any]:
        body = self._params(
            sheet_id=sheet_id, range=range, title=title, service_account=service_account, api_key=api_key
        )
        return await self._json("POST", "/api/v1/sheets/connect", json=body)

    async def list_connections(self) -> dict[str, Any]:
        return await self._json("GET", "/api/v1/sheets/connections")

    async def upload(self, path: str | Path) -> dict[str, Any]:
        """``POST /uploads`` (multipart, field ``file``): ``{id, filename, rows, columns}``."""
        source = Path(path)
        kind = (
            "text/csv"
            if source.suffix.lower() == ".csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        content = await asyncio.to_thread(source.read_bytes)
        return await self._json("POST", "/api/v1/uploads", files={"file": (source.name, content, kind)})

    # -- admin and misc ---------------------------------------------------------------------------------------
    async def health(self) -> dict[str, Any]:
        return await self._json("GET", "/api/v1/health")

    async def create_token(self, name: str, *, admin: bool = False) -> dict[str, Any]:
        return await self._json("POST", "/api/v1/tokens", json={"name": name, "admin": admin})

    async def list_tokens(self) -> Any:
        return await self._json("GET", "/api/v1/tokens")

    async def templates(self) -> Any:
        return await self._json("GET", "/api/v1/templates")

    async def webhook_deliveries(self, job_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/api/v1/bulk-jobs/{job_id}/webhooks")

    # -- live events ------------------------------------------------------------------------------------------
    def ws_url(self, job_id: str | None, last_seq: int | None, connection_id: str) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query: dict[str, Any] = {"connection_id": connection_id}
        if job_id is not None:
            query["job_id"] = job_id
        if last_seq is not None:
            query["last_seq"] = last_seq
        return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", urlencode(query), ""))

    async def follow(
        self,
        job_id: str,
        last_seq: int | None = 0,
        *,
        max_attempts: int | None = None,
        ready_frames: bool = False,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every event of the job after ``last_seq``, each ``seq`` exactly once and in order, across
        reconnects (exponential backoff with jitter, resuming from the last yielded ``seq``). Ends after the
        job's final event. ``last_seq=None`` starts with live events only. ``max_attempts`` bounds consecutive
        failed connection attempts (``None``: no bound); ``ready_frames`` also yields each ``connection.ready``.
        Raises :class:`BulkdashError` on 4401/4404 (status 401/404)."""
        last = last_seq
        failures = 0
        connection_id = f"follow-{random.getrandbits(48):012x}"
        headers = {"Authorization": f"Bearer {self.token}"}
        while True:
            url = self.ws_url(job_id, last, connection_id)
            try:
                async with connect(url, additional_headers=headers, compression=None, open_timeout=10) as ws:
                    self.connections += 1
                    async for raw in ws:
                        frame = json.loads(raw)
                        kind = frame.get("type")
                        if kind == "connection.ready":
                            failures = 0
                            if last is None:
                                last = int(frame["last_seq"] or 0)
                            if ready_frames:
                                yield frame
                            continue
                        if kind == "ping":
                            await ws.send('{"type":"pong"}')
                            continue
                        if kind == "pong" or "seq" not in frame or frame["seq"] <= (last or 0):
                            continue
                        last = frame["seq"]
                        yield frame
                        if kind in FINAL_EVENTS:
                            return
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                if code in _FATAL_CLOSE:
                    raise BulkdashError(_FATAL_CLOSE[code], exc.rcvd.reason if exc.rcvd else "") from exc
                log.info("live stream closed (%s); resuming after seq %s", code, last)
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403, 404):
                    raise BulkdashError(status, "the server refused the WebSocket") from exc
                log.info("live stream refused (%s); retrying", status)
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                log.info("live stream unavailable (%s); retrying", exc)
            else:
                log.info("live stream ended by the server; resuming after seq %s", last)
            failures += 1
            if max_attempts is not None and failures >= max_attempts:
                raise BulkdashError(503, f"live stream unavailable after {failures} attempts")
            await asyncio.sleep(self._backoff(failures))

    def _backoff(self, failures: int) -> float:
        """Full jitter: a random delay up to ``base * 2**(failures-1)``, capped; the first retry is quick."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, failures - 1))
        return random.uniform(ceiling / 4, ceiling)

    async def wait(self, job_id: str) -> dict[str, Any]:
        """Waits for the job to end and returns the final Job. Listens to live events only; the job's state is
        read once the stream is subscribed, so an end between the two cannot be missed."""
        checked = False
        async for frame in self.follow(job_id, None, ready_frames=True):
            if frame["type"] == "connection.ready":
                if not checked:
                    checked = True
                    job = await self.get_job(job_id)
                    if job["state"] in ("completed", "failed", "canceled"):
                        return job
                continue
            if frame["type"] in FINAL_EVENTS:
                return frame["data"]
        return await self.get_job(job_id)


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        return response.text
