"""The details dialog of one video: variables, each attempt's error, output player, thumbnail, download."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from app.container import Bulkdash
from app.domain.views import video_view
from app.services.errors import ServiceError
from app.web.files import thumbnail_url, video_url
from components import fmt
from components.state_badge import StateBadge

_TAIL = 2000  # characters of a long error detail (e.g. ffmpeg's stderr) worth showing


async def open_video_details(container: Bulkdash, user: dict[str, Any], job_id: str, video_id: str) -> ui.dialog | None:
    """Loads the stored video and opens its dialog (deleted again when closed)."""
    try:
        row = await container.jobs.video_row(user, job_id, video_id)
    except ServiceError as exc:
        ui.notify(exc.message, type="negative")
        return None
    video = video_view(row)
    with ui.dialog() as dialog, ui.card().classes("w-full max-w-3xl gap-3").mark("video-details"):
        with ui.row().classes("w-full items-center justify-between"):
            with ui.row().classes("items-center gap-2"):
                StateBadge(video["state"])
                ui.label(f"Row {video['row_index']}: {video['title']}").classes("text-lg font-semibold")
            ui.button(icon="close", on_click=dialog.close).props("flat round dense")
        _facts(video)
        _media(job_id, video)
        _variables(video["variables"])
        _attempts(row.get("attempt_errors") or [], video.get("error"))
    dialog.on("hide", dialog.delete)
    dialog.open()
    return dialog


def _facts(video: dict[str, Any]) -> None:
    facts = {
        "stage": video.get("stage") or "—",
        "progress": f"{video['progress']:.0f}%",
        "attempts": str(video["attempts"]),
        "processing": f"{video['processing_ms']:,} ms" if video.get("processing_ms") is not None else "—",
        "duration": f"{video['duration_s']:.1f} s" if video.get("duration_s") is not None else "—",
        "size": f"{video['size_bytes']:,} bytes" if video.get("size_bytes") is not None else "—",
        "started": fmt.when(video.get("started_at")),
        "finished": fmt.when(video.get("finished_at")),
    }
    with ui.grid().classes("grid-cols-2 sm:grid-cols-4 gap-x-4 gap-y-1 text-sm"):
        for key, value in facts.items():
            ui.label(f"{key}: {value}")


def _media(job_id: str, video: dict[str, Any]) -> None:
    if not (video.get("output_url") or video.get("thumbnail_url")):
        return
    with ui.row().classes("w-full gap-3 items-start"):
        if video.get("output_url"):
            src = video_url(job_id, video["id"])
            ui.video(src).classes("w-full sm:w-2/3 rounded").mark("video-player")
        if video.get("thumbnail_url"):
            ui.image(thumbnail_url(job_id, video["id"])).classes("w-40 rounded").mark("thumbnail")
    if video.get("output_url"):
        ui.link("Download video", video_url(job_id, video["id"])).props("download").mark("video-download")


def _variables(variables: dict[str, Any]) -> None:
    ui.label("Variables").classes("font-semibold")
    rows = [{"name": k, "value": str(v)} for k, v in variables.items()]
    columns = [
        {"name": "name", "label": "column", "field": "name", "align": "left"},
        {"name": "value", "label": "value", "field": "value", "align": "left", "style": "white-space: normal"},
    ]
    ui.table(rows=rows, columns=columns, row_key="name").props("flat dense bordered hide-bottom").classes(
        "w-full"
    ).mark("video-variables")


def _attempts(attempts: list[dict[str, Any]], last: dict[str, Any] | None) -> None:
    errors = attempts or ([last] if last else [])
    if not errors:
        return
    ui.label("Errors").classes("font-semibold")
    for i, err in enumerate(errors, start=1):
        number = err.get("attempt", i)
        with ui.card().classes("w-full p-2 gap-1 bg-red-50 dark:bg-red-950").mark("attempt-error"):
            ui.label(f"attempt {number} · stage {err.get('stage') or '?'} · {err.get('code') or 'error'}").classes(
                "text-xs opacity-70"
            )
            ui.label(err.get("message") or "").classes("text-sm")
            detail = err.get("detail") or err.get("stderr")
            if detail:
                ui.code(str(detail)[-_TAIL:], language="text").classes("w-full text-xs")
