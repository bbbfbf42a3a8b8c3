"""State badge, big progress bar, ``NN%``, ``N / M`` videos done, ETA and elapsed time of one job."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from components import fmt
from components.state_badge import StateBadge


def set_text(label: ui.label, text: str) -> None:
    """Changes a label only when its text changes (every change resends the element)."""
    if label.text != text:
        label.set_text(text)


class ProgressSummary:
    """The top of the dashboard; ``update(job)`` repaints only what changed."""

    def __init__(self, job: dict[str, Any]) -> None:
        with ui.card().classes("w-full gap-2"):
            with ui.row().classes("w-full items-center justify-between gap-2"):
                with ui.row().classes("items-center gap-3"):
                    self.badge = StateBadge(job["state"]).mark("job-state").classes("bd-state")
                    self.percent = ui.label().classes("bd-percent text-3xl font-bold").mark("percent")
                    self.done = ui.label().classes("bd-done text-lg").mark("done")
                with ui.row().classes("items-center gap-4 text-sm opacity-80"):
                    self.eta = ui.label().mark("eta")
                    self.elapsed = ui.label().mark("elapsed")
            self.bar = ui.linear_progress(0, show_value=False, size="14px").props("rounded").mark("progress-bar")
        self.update(job)

    def update(self, job: dict[str, Any]) -> None:
        progress = job["progress"]
        self.badge.set_state(job["state"])
        set_text(self.percent, fmt.percent(progress))
        set_text(self.done, f"{fmt.done_of(progress)} videos done")
        value = round((progress.get("percent_complete") or 0) / 100, 3)
        if self.bar.value != value:
            self.bar.set_value(value)
        final = job["state"] in ("completed", "canceled", "failed")
        set_text(self.eta, "ETA " + ("—" if final else fmt.duration(progress.get("eta_seconds"))))
        set_text(self.elapsed, "elapsed " + fmt.duration(fmt.elapsed(job.get("started_at"), job.get("finished_at"))))
