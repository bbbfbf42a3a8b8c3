"""Pause / resume / cancel / retry-failed buttons, each enabled only where the state table allows it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from app.container import Bulkdash
from app.domain.states import JOB_TRANSITIONS, JobState
from app.services.errors import ServiceError
from components.state_badge import TRANSITIONAL


def legal_actions(job: dict[str, Any]) -> set[str]:
    """Which commands make sense for ``job`` now (from JOB_TRANSITIONS, CONTRACT §6)."""
    state = JobState(job["state"])
    moves = JOB_TRANSITIONS[state]
    progress = job.get("progress") or {}
    actions = set()
    if JobState.PAUSING in moves:
        actions.add("pause")
    if state == JobState.PAUSED and JobState.RUNNING in moves:
        actions.add("resume")
    if JobState.CANCELING in moves:
        actions.add("cancel")
    # canceled videos of a canceled job stay canceled (CONTRACT §5), so only failures count there
    canceled = int(progress.get("canceled") or 0) if state != JobState.CANCELED else 0
    retryable = int(progress.get("failed") or 0) + canceled
    if retryable > 0 and state not in TRANSITIONAL:
        actions.add("retry")
    return actions


class Controls:
    """The command buttons of one job; ``on_job`` receives the job each command returns."""

    def __init__(
        self, container: Bulkdash, user: dict[str, Any], job: dict[str, Any], on_job: Callable[[dict[str, Any]], None]
    ) -> None:
        self.container, self.user, self.job_id, self.on_job = container, user, job["id"], on_job
        jobs = container.jobs
        with ui.row().classes("gap-2"):
            self.buttons = {
                "pause": ui.button("Pause", icon="pause", on_click=lambda: self._run(jobs.pause)).mark("pause"),
                "resume": ui.button("Resume", icon="play_arrow", on_click=lambda: self._run(jobs.resume)).mark(
                    "resume"
                ),
                "cancel": ui.button("Cancel", icon="stop", color="negative", on_click=self._confirm_cancel).mark(
                    "cancel"
                ),
                "retry": ui.button(
                    "Retry failed", icon="replay", color="secondary", on_click=lambda: self._run(jobs.retry)
                ).mark("retry"),
            }
        self.update(job)

    def update(self, job: dict[str, Any]) -> None:
        legal = legal_actions(job)
        for name, button in self.buttons.items():
            button.set_enabled(name in legal)

    async def _run(self, command: Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]) -> None:
        try:
            job = await command(self.user, self.job_id)
        except ServiceError as exc:
            ui.notify(exc.message, type="negative")
            return
        self.on_job(job)

    async def _confirm_cancel(self) -> None:
        with ui.dialog() as dialog, ui.card().mark("cancel-dialog"):
            ui.label("Cancel this job? Videos not yet finished will not be made.")
            with ui.row().classes("w-full justify-end"):
                ui.button("Keep running", on_click=lambda: dialog.submit(False)).props("flat").mark("cancel-no")
                ui.button("Cancel job", color="negative", on_click=lambda: dialog.submit(True)).mark("cancel-yes")
        confirmed = await dialog
        dialog.delete()
        if confirmed:
            await self._run(self.container.jobs.cancel)
