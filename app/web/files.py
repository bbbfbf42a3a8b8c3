"""Session-authenticated file routes for the pages: video, thumbnail and results.csv.

The REST routes need a bearer token, which a ``<video>`` or ``<img>`` tag cannot send; these check the
browser session instead and ask the job service, so ownership rules stay in one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.responses import FileResponse, StreamingResponse
from nicegui import app

from app.api.videos import inside_outputs
from app.container import Bulkdash
from app.services.errors import NotFound
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

    async def stored_file(job_id: str, video_id: str, key: str) -> FileResponse:
        try:
            row = await container.jobs.video_row(user(), job_id, video_id)
        except NotFound as exc:
            raise HTTPException(404, exc.message) from exc
        path = inside_outputs(container.settings.outputs, row.get(key))  # never a file outside the outputs
        if path is None:
            raise HTTPException(404, "no file for this video yet")
        return FileResponse(path, filename=path.name)

    @app.get(PREFIX + "/{job_id}/{video_id}/video", include_in_schema=False)
    async def video_file(job_id: str, video_id: str) -> FileResponse:
        return await stored_file(job_id, video_id, "output_path")

    @app.get(PREFIX + "/{job_id}/{video_id}/thumbnail", include_in_schema=False)
    async def thumbnail_file(job_id: str, video_id: str) -> FileResponse:
        return await stored_file(job_id, video_id, "thumbnail_path")

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
