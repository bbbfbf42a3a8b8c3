"""Public request and response shapes (CONTRACT §4, §5): what the API, the UI and the client exchange."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.domain.states import JobState, Priority, VideoState

_SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
_TEMPLATE_ID = r"^[a-z0-9_-]{1,64}$"

#: which codecs each container holds
CONTAINER_CODECS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "mp4": (frozenset({"h264", "h265"}), frozenset({"aac"})),
    "webm": (frozenset({"vp9"}), frozenset({"opus"})),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SheetSource(_Strict):
    type: Literal["sheet"]
    sheet_id: str = Field(min_length=1, max_length=200)
    range: str = Field("A1:Z1000", min_length=1, max_length=200)
    connection_id: str | None = None


class UploadSource(_Strict):
    type: Literal["upload"]
    upload_id: str = Field(min_length=1, max_length=40)


class InlineSource(_Strict):
    type: Literal["inline"]
    rows: list[dict[str, Any]] = Field(min_length=1)

    @field_validator("rows")
    @classmethod
    def _scalar_values(cls, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, row in enumerate(rows, start=1):
            for key, value in row.items():
                if not str(key).strip():
                    raise ValueError(f"row {i}: a column name is blank")
                if isinstance(value, dict | list):
                    raise ValueError(f"row {i}, column {key!r}: values must be text or numbers")
        return rows


InputSource = Annotated[SheetSource | UploadSource | InlineSource, Field(discriminator="type")]


class OutputSpec(_Strict):
    format: Literal["mp4", "webm"] = "mp4"
    video_codec: Literal["h264", "h265", "vp9"] = "h264"
    audio_codec: Literal["aac", "opus"] = "aac"
    resolution: Literal["480p", "720p", "1080p"] = "1080p"
    output_bucket: str = Field("content-outputs", pattern=_SAFE_NAME)

    @model_validator(mode="after")
    def _container_holds_codecs(self) -> OutputSpec:
        videos, audios = CONTAINER_CODECS[self.format]
        if self.video_codec not in videos:
            raise ValueError(f"a {self.format} file cannot hold {self.video_codec} video (use {sorted(videos)})")
        if self.audio_codec not in audios:
            raise ValueError(f"a {self.format} file cannot hold {self.audio_codec} audio (use {sorted(audios)})")
        return self


class TemplateSpec(_Strict):
    template_id: str = Field("default_template", pattern=_TEMPLATE_ID)
    overrides: dict[str, Any] = Field(default_factory=dict)

    @field_validator("overrides")
    @classmethod
    def _finite_numbers(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        # JSON bodies may carry NaN/Infinity; stored JSON cannot keep them (they would come back as null)
        for key, value in overrides.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"overrides.{key}: {value} is not a finite number")
        return overrides


class WriteBackSpec(_Strict):
    status_column: str | None = Field(None, max_length=100)
    output_column: str | None = Field(None, max_length=100)
    error_column: str | None = Field(None, max_length=100)


class JobCreate(_Strict):
    """The body of ``POST /api/v1/bulk-jobs`` (the seed's shape)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Video Generation Campaign",
                    "priority": "normal",
                    "processing_deadline_ms": 7200000,
                    "input_source": {
                        "type": "sheet",
                        "sheet_id": "1A2B3C4D5E6F7G8H9I0J",
                        "range": "A1:Z1000",
                    },
                    "output": {
                        "format": "mp4",
                        "video_codec": "h264",
                        "audio_codec": "aac",
                        "resolution": "1080p",
                        "output_bucket": "content-outputs",
                    },
                    "template": {
                        "template_id": "default_template",
                        "overrides": {"style": "modern", "voice": "female"},
                    },
                }
            ]
        },
    )

    title: str = Field("Untitled job", min_length=1, max_length=300)
    priority: Priority = Priority.NORMAL
    processing_deadline_ms: int | None = Field(None, gt=0, le=30 * 24 * 3600 * 1000)
    input_source: InputSource
    output: OutputSpec = Field(default_factory=OutputSpec)
    template: TemplateSpec = Field(default_factory=TemplateSpec)
    webhook_url: str | None = Field(None, max_length=2000)
    write_back: WriteBackSpec | None = None


class Progress(BaseModel):
    total: int = 0
    pending: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    canceled: int = 0
    percent_complete: float = 0.0
    eta_seconds: float | None = None
    throughput_per_min: float = 0.0
    success_rate: float = 1.0
    avg_processing_ms: float = 0.0
    p95_processing_ms: float = 0.0


class ErrorInfo(BaseModel):
    code: str
    message: str
    stage: str | None = None


class JobPublic(BaseModel):
    id: str
    title: str
    state: JobState
    priority: Priority
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    processing_deadline_ms: int | None
    input_source: dict[str, Any]
    output: dict[str, Any]
    template: dict[str, Any]
    webhook_url: str | None
    write_back: dict[str, Any] | None
    progress: Progress
    error: ErrorInfo | None
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class VideoPublic(BaseModel):
    id: str
    job_id: str
    row_index: int
    title: str
    state: VideoState
    progress: float
    stage: str | None
    attempts: int
    error: ErrorInfo | None
    output_url: str | None
    thumbnail_url: str | None
    duration_s: float | None
    size_bytes: int | None
    started_at: datetime | None
    finished_at: datetime | None
    processing_ms: int | None
    variables: dict[str, Any]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
