"""Session-authenticated file routes for the pages: video, thumbnail and results.csv.

The REST routes need a bearer token, which a ``<video>`` or ``<img>`` tag cannot send; these check the
browser session instead and ask the job service, so ownership rules stay in one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.responses import FileResponse, StreamingResponse
from nicegui import app

from app.container import Bulkdash
from app.services.errors import NotFound
from app.services.files import FileKind, stored_file
from app.services.results import stream_results
from app.web.session import current_user

PREFIX = "/files"


def video_url(job_id: str, video_id: str) -> str:
    return f"{PREFIX}/{job_id}/{video_id}/video"


def thumbnail_url(job_id: str, video_id: str) -> str:
    return f"{PREFIX}/{job_id}/{video_id}/thumbnail"


def results_url(job_id: str) -> str:
    return f"{PREFIX}/{job_id}/results.csv"


def install_file_routes(container: Bulkdash) -> None:
    """Adds the ``/files/...`` routes to NiceGUI's app (once per process)."""

    def user() -> dict[str, Any]:
        found = current_user()
        if found is None:
            raise HTTPException(401, "log in first")
        return found

    async def file_response(job_id: str, video_id: str, kind: FileKind) -> FileResponse:
        try:
            path, media_type = await stored_file(
                container.jobs, container.settings.outputs, user(), job_id, video_id, kind
            )
        except NotFound as exc:
            raise HTTPException(404, exc.message) from exc
        return FileResponse(path, media_type=media_type, filename=path.name)

    @app.get(PREFIX + "/{job_id}/{video_id}/video", include_in_schema=False)
    async def video_file(job_id: str, video_id: str) -> FileResponse:
        return await file_response(job_id, video_id, "video")

    @app.get(PREFIX + "/{job_id}/{video_id}/thumbnail", include_in_schema=False)
    async def thumbnail_file(job_id: str, video_id: str) -> FileResponse:
        return await file_response(job_id, video_id, "thumbnail")

    @app.get(PREFIX + "/{job_id}/results.csv", include_in_schema=False)
    async def results_csv(job_id: str) -> StreamingResponse:
        who = user()
        try:
            await container.jobs.get(who, job_id)
        except NotFound as exc:
            raise HTTPException(404, exc.message) from exc
        headers = {"Content-Disposition": f'attachment; filename="{job_id}-results.csv"'}
        chunks = stream_results(container.jobs, who, job_id, row_index=True)
        return StreamingResponse(chunks, media_type="text/csv", headers=headers)
