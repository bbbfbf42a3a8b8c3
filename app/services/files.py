"""A video's stored files (output and thumbnail), for the REST routes and the pages' session routes alike."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.services.errors import NotFound

if TYPE_CHECKING:
    from app.services.jobs import JobService

FileKind = Literal["video", "thumbnail"]
_COLUMNS: dict[FileKind, str] = {"video": "output_path", "thumbnail": "thumbnail_path"}


async def stored_file(
    jobs: JobService, outputs: Path, user: dict[str, Any], job_id: str, video_id: str, kind: FileKind
) -> tuple[Path, str]:
    """``(path, media type)`` of the video's file; NotFound when the user may not see the video or it has no
    such file (yet), or the stored path is not a file below ``outputs``."""
    row = await jobs.video_row(user, job_id, video_id)
    path = inside_outputs(outputs, row.get(_COLUMNS[kind]))
    if path is None:
        raise NotFound("no file for this video")
    media_type = "image/jpeg" if kind == "thumbnail" else mimetypes.guess_type(path.name)[0]
    return path, media_type or "application/octet-stream"


def inside_outputs(root: Path, stored: str | None) -> Path | None:
    """The stored file if it exists below the outputs root (a row pointing elsewhere is never served)."""
    if not stored:
        return None
    path = Path(stored).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return path
