"""SQLModel tables: the durable state of bulkdash. The schema itself is owned by Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def _json(*, nullable: bool = True) -> Any:
    # none_as_null: an empty value is SQL NULL, not the JSON text 'null'
    return Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=nullable))


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200, unique=True)
    is_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=40)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    name: str = Field(max_length=200)
    #: sha256 of the token; the token itself is never stored
    token_hash: str = Field(unique=True, max_length=64)
    #: the first characters, so a user can tell tokens apart
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    last_used_at: datetime | None = _ts()


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_owner_created", "owner_id", "created_at"),
        UniqueConstraint("owner_id", "idempotency_key", name="uq_jobs_owner_idempotency"),
    )

    id: str = Field(primary_key=True, max_length=40)
    owner_id: str = Field(foreign_key="users.id", max_length=40)
    title: str = Field(max_length=300)
    state: str = Field(max_length=16, index=True)
    priority: str = Field(max_length=8)
    priority_rank: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()
    processing_deadline_ms: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    input_source: dict[str, Any] = _json(nullable=False)
    output: dict[str, Any] = _json(nullable=False)
    template: dict[str, Any] = _json(nullable=False)
    webhook_url: str | None = Field(default=None, max_length=2000)
    write_back: dict[str, Any] | None = _json()
    #: the last progress object (CONTRACT §4), kept current by the engine
    progress: dict[str, Any] = _json(nullable=False)
    error: dict[str, Any] | None = _json()
    #: the last event ``seq`` written to the event log for this job
    last_seq: int = 0
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)
    #: problems that did not fail the job (write-back, webhooks), shown on the dashboard
    warnings: list[dict[str, Any]] | None = _json()


class Video(SQLModel, table=True):
    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_job_row", "job_id", "row_index"),
        Index("ix_videos_job_state_row", "job_id", "state", "row_index"),
    )

    id: str = Field(primary_key=True, max_length=40)
    job_id: str = Field(foreign_key="jobs.id", max_length=40)
    row_index: int
    #: the source's own row number (a sheet row), for write-back
    source_row: int | None = None
    title: str = Field(max_length=300)
    state: str = Field(max_length=16)
    progress: float = 0.0
    stage: str | None = Field(default=None, max_length=32)
    attempts: int = 0
    error: dict[str, Any] | None = _json()
    #: every attempt's error, oldest first
    attempt_errors: list[dict[str, Any]] | None = _json()
    output_path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    thumbnail_path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    duration_s: float | None = None
    size_bytes: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    started_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()
    processing_ms: int | None = None
    variables: dict[str, Any] = _json(nullable=False)
    #: lower-cased title and values, so a search is one LIKE over plain text
    search_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SheetConnection(SQLModel, table=True):
    __tablename__ = "sheet_connections"

    id: str = Field(primary_key=True, max_length=40)
    owner_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    sheet_id: str = Field(max_length=200)
    title: str = Field(max_length=300)
    range: str | None = Field(default=None, max_length=200)
    columns: list[str] = _json(nullable=False)
    #: encrypted service-account JSON or API key; never returned by the API
    credentials: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Upload(SQLModel, table=True):
    __tablename__ = "uploads"

    id: str = Field(primary_key=True, max_length=40)
    owner_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    filename: str = Field(max_length=300)
    rows: int
    columns: list[str] = _json(nullable=False)
    #: where the original file is kept under the data dir
    path: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class EventRecord(SQLModel, table=True):
    """The durable event log: every event that got a ``seq`` (CONTRACT §7)."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("job_id", "seq", name="uq_events_job_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=40)
    seq: int
    type: str = Field(max_length=32)
    ts: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = _json(nullable=False)


class WebhookDelivery(SQLModel, table=True):
    """One attempt to POST an event to a job's webhook."""

    __tablename__ = "webhook_deliveries"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="jobs.id", index=True, max_length=40)
    event_type: str = Field(max_length=32)
    seq: int
    attempt: int
    status_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
