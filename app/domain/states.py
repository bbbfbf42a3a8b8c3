"""Job and video states (CONTRACT §6) with their explicit transition tables."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    COMPLETING = "completing"
    COMPLETED = "completed"
    CANCELING = "canceling"
    CANCELED = "canceled"
    FAILED = "failed"


class VideoState(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


#: larger runs first
PRIORITY_RANK: dict[Priority, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}

J = JobState
JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    J.PENDING: frozenset({J.RUNNING, J.CANCELING, J.FAILED}),
    J.RUNNING: frozenset({J.COMPLETING, J.PAUSING, J.CANCELING, J.FAILED}),
    J.PAUSING: frozenset({J.PAUSED, J.CANCELING, J.FAILED}),
    J.PAUSED: frozenset({J.RUNNING, J.CANCELING, J.FAILED}),
    J.COMPLETING: frozenset({J.COMPLETED, J.FAILED}),
    J.CANCELING: frozenset({J.CANCELED, J.FAILED}),
    J.COMPLETED: frozenset(),
    J.CANCELED: frozenset(),
    J.FAILED: frozenset(),
}
JOB_FINAL: frozenset[JobState] = frozenset({J.COMPLETED, J.CANCELED, J.FAILED})

V = VideoState
VIDEO_TRANSITIONS: dict[VideoState, frozenset[VideoState]] = {
    V.PENDING: frozenset({V.PROCESSING, V.SKIPPED, V.CANCELED}),
    V.PROCESSING: frozenset({V.COMPLETED, V.FAILED, V.PENDING, V.CANCELED}),
    V.COMPLETED: frozenset(),
    V.FAILED: frozenset({V.PENDING}),  # explicit retry only
    V.SKIPPED: frozenset(),
    V.CANCELED: frozenset({V.PENDING}),  # explicit retry only
}
VIDEO_FINAL: frozenset[VideoState] = frozenset({V.COMPLETED, V.FAILED, V.SKIPPED, V.CANCELED})


class IllegalTransition(Exception):
    """A state change the transition table does not allow (the API answers 409)."""

    def __init__(self, kind: str, current: str, target: str, action: str | None = None) -> None:
        what = f"cannot {action} a {kind} that is {current}" if action else f"{kind} cannot go {current} → {target}"
        super().__init__(what)
        self.kind = kind
        self.current = current
        self.target = target


def check_job_transition(current: JobState, target: JobState, action: str | None = None) -> None:
    """Raises :class:`IllegalTransition` unless ``current → target`` is in the job table."""
    if target not in JOB_TRANSITIONS[current]:
        raise IllegalTransition("job", current.value, target.value, action)


def check_video_transition(current: VideoState, target: VideoState) -> None:
    """Raises :class:`IllegalTransition` unless ``current → target`` is in the video table."""
    if target not in VIDEO_TRANSITIONS[current]:
        raise IllegalTransition("video", current.value, target.value)
