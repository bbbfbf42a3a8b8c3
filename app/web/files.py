"""Session-authenticated file routes for the pages: video, thumbnail and results.csv.

The REST routes need a bearer token, which a ``<video>`` or ``<img>`` tag cannot send; these check the
browser session instead and ask the job service, so ownership rules stay in one place.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException
from fastapi.responses import FileResponse, StreamingResponse
from nicegui import app

from app.api.videos import _inside, escape_cell
from app.container import Bulkdash
from app.domain.views import video_view
from app.services.errors import NotFound
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
        path = _inside(container.settings.outputs, row.get(key))  # never a file outside the outputs
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
        return StreamingResponse(_csv_lines(container, who, job_id), media_type="text/csv", headers=headers)


async def _csv_lines(container: Bulkdash, user: dict[str, Any], job_id: str) -> AsyncIterator[str]:
    """results.csv (CONTRACT §5): the row's variables + state, error, output_url; the header from the first row."""
    columns: list[str] | None = None
    async for row in container.jobs.iter_videos(user, job_id):
        view = video_view(row)
        if columns is None:
            columns = [c for c in view["variables"] if c not in ("state", "error", "output_url")]
            yield _line(["row_index", *columns, "state", "error", "output_url"])
        error = (view["error"] or {}).get("message") or ""
        yield _line(
            [
                view["row_index"],
                *(view["variables"].get(c, "") for c in columns),
                view["state"],
                error,
                view["output_url"] or "",
            ]
        )


def _line(values: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow([escape_cell(v) for v in values])  # no formula injection (as the REST results.csv)
    return buf.getvalue()
