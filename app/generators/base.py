"""The generator protocol: a row and output settings in, progress reports and a result or a typed error out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: ``report(percent, stage)``: percent is 0-100 for the current video, stage one of the generator's stages.
ProgressCallback = Callable[[float, str], None]


class GenerationError(Exception):
    """A video could not be generated.

    ``permanent`` errors (a bad row, a 4xx from an API) are never retried; the others are retried with
    backoff until the job's max attempts.
    """

    def __init__(
        self, code: str, message: str, stage: str, *, permanent: bool = False, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.stage = stage
        self.permanent = permanent
        #: extra diagnostics kept with the attempt (for example ffmpeg's stderr tail)
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        """The ``error`` object of a Video (CONTRACT §4), plus the optional detail."""
        out: dict[str, Any] = {"code": self.code, "message": self.message, "stage": self.stage}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class OutputSettings:
    """The job's ``output`` block (CONTRACT §5)."""

    format: str = "mp4"
    video_codec: str = "h264"
    audio_codec: str = "aac"
    resolution: str = "1080p"
    output_bucket: str = "content-outputs"


@dataclass(frozen=True)
class RenderRequest:
    """Everything a generator needs to make one video."""

    job_id: str
    video_id: str
    row_index: int
    title: str
    variables: dict[str, str]
    overrides: dict[str, Any]
    output: OutputSettings
    #: the final output file (``<OUTPUT_DIR>/<bucket>/<job_id>/<row:05d>-<slug>.<format>``); write a temporary
    #: name beside it and rename when complete.
    output_path: Path
    attempt: int = 1
    template: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationResult:
    """What a finished video left behind."""

    output_path: Path | None = None
    thumbnail_path: Path | None = None
    duration_s: float | None = None
    size_bytes: int | None = None


@runtime_checkable
class Generator(Protocol):
    """Turns rows into videos. One instance serves every video of every job using its template."""

    template_id: str

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        """Checks a row without rendering; returns the reason it cannot be rendered, or ``None``.

        Called when the job is created: a row with a reason becomes a ``skipped`` video.
        """
        ...

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        """Makes the video. Raises :class:`GenerationError`; cancellation (``asyncio.CancelledError``) must
        stop at once, kill any subprocess and leave no file under the final name."""
        ...
