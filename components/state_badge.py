"""A coloured badge with a job's or video's state name; transitional states get an ellipsis."""

from __future__ import annotations

from nicegui import ui

from app.domain.states import JobState

JOB_COLORS = {
    "pending": "grey-7",
    "running": "primary",
    "pausing": "orange-6",
    "paused": "orange-9",
    "completing": "teal-6",
    "completed": "positive",
    "canceling": "deep-orange-6",
    "canceled": "blue-grey-7",
    "failed": "negative",
}
VIDEO_COLORS = {
    "pending": "grey-7",
    "processing": "primary",
    "completed": "positive",
    "failed": "negative",
    "skipped": "amber-9",
    "canceled": "blue-grey-7",
}
#: states a job only passes through; shown with "…" and with every control that would race them disabled
TRANSITIONAL = frozenset({JobState.PAUSING, JobState.COMPLETING, JobState.CANCELING})


def state_color(state: str) -> str:
    return JOB_COLORS.get(state) or VIDEO_COLORS.get(state, "grey-7")


def state_text(state: str) -> str:
    return f"{state}…" if state in TRANSITIONAL else state


class StateBadge(ui.badge):
    """``StateBadge(state)``; ``set_state`` changes it (and sends nothing when nothing changed)."""

    def __init__(self, state: str) -> None:
        super().__init__(state_text(state), color=state_color(state))
        self.state = state
        self.classes("text-sm px-2 py-1")

    def set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        self.props(f"color={state_color(state)}")
        self.set_text(state_text(state))
