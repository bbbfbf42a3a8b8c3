"""The nine live event types (CONTRACT §7) and the event record every subscriber receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    JOB_STATE_CHANGED = "job.state_changed"
    JOB_PROGRESS = "job.progress"
    VIDEO_CREATED = "video.created"
    VIDEO_UPDATED = "video.updated"
    VIDEO_COMPLETED = "video.completed"
    VIDEO_FAILED = "video.failed"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    JOB_CANCELED = "job.canceled"


#: events that end a job: never dropped, never coalesced
FINAL_JOB_EVENTS: frozenset[EventType] = frozenset(
    {EventType.JOB_COMPLETED, EventType.JOB_FAILED, EventType.JOB_CANCELED}
)


@dataclass(frozen=True, slots=True)
class Event:
    """One event of one job, numbered by the job's ``seq`` (starts at 1, grows by exactly 1)."""

    type: EventType
    job_id: str
    seq: int
    ts: datetime
    data: dict[str, Any]
    #: the job's owner, so per-user streams can filter; not part of the wire format
    owner_id: str = ""

    def to_wire(self) -> dict[str, Any]:
        """The JSON frame sent to WebSocket clients and webhooks."""
        return {
            "type": self.type.value,
            "job_id": self.job_id,
            "seq": self.seq,
            "ts": iso(self.ts),
            "data": self.data,
        }


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``; naive datetimes (SQLite) are taken as UTC."""
    if ts is None:
        return None
    text = ts.isoformat(timespec="milliseconds")
    if ts.tzinfo is None:
        return text + "Z"
    return text.replace("+00:00", "Z")
