"""Video routes of a job: list, get, the output file and thumbnail, and results.csv."""

from __future__ import annotations

import csv
import io
import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import FileResponse, StreamingResponse

from app.api.deps import ContainerDep, CurrentUser
from app.api.errors import INVALID, NOT_FOUND, UNAUTHORIZED, error_responses
from app.api.jobs import JobId, Limit, Offset, parse_states
from app.container import Bulkdash
from app.domain.schemas import Page, VideoPublic
from app.domain.states import VideoState
from app.domain.views import video_view

VideoId = Annotated[
    str, Path(description="The video's id (`vid_` + ULID)", examples=["vid_01J9Z3K4M5N6P7Q8R9S0T1V2W3"])
]

#: a spreadsheet would run a cell starting with one of these as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_RESULT_COLUMNS = ("state", "error", "output_url")
_NOT_FOUND = error_responses(UNAUTHORIZED, NOT_FOUND)


def videos_router() -> APIRouter:
    """Mounted under ``/api/v1``."""
    router = APIRouter(prefix="/bulk-jobs/{job_id}", tags=["videos"])

    @router.get(
        "/videos",
        response_model=Page[VideoPublic],
        summary="List a job's videos",
        responses=error_responses(UNAUTHORIZED, NOT_FOUND, INVALID),
    )
    async def list_videos(
        job_id: JobId,
        container: ContainerDep,
        user: CurrentUser,
        state: Annotated[str | None, Query(description="Comma-separated video states", examples=["failed"])] = None,
        q: Annotated[str | None, Query(max_length=200, description="Search in titles and variables")] = None,
        sort: Annotated[
            str,
            Query(max_length=200, description="A column such as `row_index`, `-processing_ms`; `-` for descending"),
        ] = "row_index",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        items, total = await container.jobs.videos(
            user, job_id, state=parse_states(state, VideoState), q=q, sort=sort, limit=limit, offset=offset
        )
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @router.get("/videos/{video_id}", response_model=VideoPublic, summary="Get a video", responses=_NOT_FOUND)
    async def get_video(job_id: JobId, video_id: VideoId, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        return await container.jobs.video(user, job_id, video_id)

    @router.get(
        "/videos/{video_id}/file",
        response_class=FileResponse,
        summary="Download a video's output file",
        responses={200: {"content": {"video/mp4": {}, "video/webm": {}}, "description": "The video"}, **_NOT_FOUND},
    )
    async def video_file(job_id: JobId, video_id: VideoId, container: ContainerDep, user: CurrentUser) -> FileResponse:
        """404 until the video is completed."""
        return await _stored_file(container, user, job_id, video_id, "output_path")

    @router.get(
        "/videos/{video_id}/thumbnail",
        response_class=FileResponse,
        summary="Download a video's thumbnail",
        responses={200: {"content": {"image/jpeg": {}}, "description": "A JPEG frame"}, **_NOT_FOUND},
    )
    async def video_thumbnail(
        job_id: JobId, video_id: VideoId, container: ContainerDep, user: CurrentUser
    ) -> FileResponse:
        return await _stored_file(container, user, job_id, video_id, "thumbnail_path")

    @router.get(
        "/results.csv",
        response_class=StreamingResponse,
        summary="Results as CSV",
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}, **_NOT_FOUND},
    )
    async def results_csv(job_id: JobId, container: ContainerDep, user: CurrentUser) -> StreamingResponse:
        """One line per video in row order: the row's variables (every column seen, in first-seen order), then
        `state`, `error`, `output_url`. Cells that a spreadsheet would run as a formula get a leading `'`."""
        await container.jobs.get(user, job_id)  # 404 before the answer starts
        headers = {"Content-Disposition": f'attachment; filename="{job_id}-results.csv"'}
        return StreamingResponse(
            results_lines(container, user, job_id), media_type="text/csv; charset=utf-8", headers=headers
        )

    return router


async def _stored_file(container: Bulkdash, user: dict[str, Any], job_id: str, video_id: str, key: str) -> FileResponse:
    row = await container.jobs.video_row(user, job_id, video_id)
    path = _inside(container.settings.outputs, row.get(key))
    if path is None:
        raise HTTPException(404, "no file for this video")
    media_type = "image/jpeg" if key == "thumbnail_path" else mimetypes.guess_type(path.name)[0]
    return FileResponse(path, media_type=media_type or "application/octet-stream", filename=path.name)


def _inside(root: FsPath, stored: str | None) -> FsPath | None:
    """The stored file if it exists below the outputs root (a row pointing elsewhere is never served)."""
    if not stored:
        return None
    path = FsPath(stored).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return path


async def results_lines(container: Bulkdash, user: dict[str, Any], job_id: str) -> AsyncIterator[str]:
    """results.csv line by line. Two passes over the videos (the header needs every column) keep memory flat."""
    columns: dict[str, None] = {}
    async for row in container.jobs.iter_videos(user, job_id):
        columns.update(dict.fromkeys(row.get("variables") or {}))
    yield csv_line([*columns, *_RESULT_COLUMNS])
    async for row in container.jobs.iter_videos(user, job_id):
        view = video_view(row)
        variables = view["variables"]
        error = (view["error"] or {}).get("message") or ""
        yield csv_line([*(variables.get(c, "") for c in columns), view["state"], error, view["output_url"] or ""])


def csv_line(values: list[Any]) -> str:
    """One CSV line, with formula-looking cells neutralised."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([escape_cell(v) for v in values])
    return buf.getvalue()


def escape_cell(value: Any) -> Any:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
