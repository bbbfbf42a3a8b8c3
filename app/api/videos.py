"""Video routes of a job: list, get, the output file and thumbnail, and results.csv."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse, StreamingResponse

from app.api.deps import ContainerDep, CurrentUser
from app.api.errors import INVALID, NOT_FOUND, UNAUTHORIZED, error_responses
from app.api.jobs import JobId, parse_states
from app.api.paging import PageParams
from app.container import Bulkdash
from app.domain.schemas import Page, VideoPublic
from app.domain.states import VideoState
from app.services.files import FileKind, stored_file
from app.services.results import stream_results

VideoId = Annotated[
    str, Path(description="The video's id (`vid_` + ULID)", examples=["vid_01J9Z3K4M5N6P7Q8R9S0T1V2W3"])
]

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
        page: PageParams,
        state: Annotated[str | None, Query(description="Comma-separated video states", examples=["failed"])] = None,
        q: Annotated[str | None, Query(max_length=200, description="Search in titles and variables")] = None,
        sort: Annotated[
            str,
            Query(max_length=200, description="A column such as `row_index`, `-processing_ms`; `-` for descending"),
        ] = "row_index",
    ) -> dict[str, Any]:
        items, total = await container.jobs.videos(
            user, job_id, state=parse_states(state, VideoState), q=q, sort=sort, limit=page.limit, offset=page.offset
        )
        return page.of(items, total)

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
        return await _stored_file(container, user, job_id, video_id, "video")

    @router.get(
        "/videos/{video_id}/thumbnail",
        response_class=FileResponse,
        summary="Download a video's thumbnail",
        responses={200: {"content": {"image/jpeg": {}}, "description": "A JPEG frame"}, **_NOT_FOUND},
    )
    async def video_thumbnail(
        job_id: JobId, video_id: VideoId, container: ContainerDep, user: CurrentUser
    ) -> FileResponse:
        return await _stored_file(container, user, job_id, video_id, "thumbnail")

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
            stream_results(container.jobs, user, job_id), media_type="text/csv; charset=utf-8", headers=headers
        )

    return router


async def _stored_file(
    container: Bulkdash, user: dict[str, Any], job_id: str, video_id: str, kind: FileKind
) -> FileResponse:
    path, media_type = await stored_file(container.jobs, container.settings.outputs, user, job_id, video_id, kind)
    return FileResponse(path, media_type=media_type, filename=path.name)
