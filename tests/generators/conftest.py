"""Shared helpers: a render request builder and a PyAV reader for the produced files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest

from app.generators.base import OutputSettings, RenderRequest


@dataclass
class Media:
    """What PyAV reads back from a file."""

    container: str
    video_codec: str
    audio_codec: str | None
    width: int
    height: int
    duration_s: float
    frames: int


def read_media(path: Path) -> Media:
    """Opens ``path`` with PyAV and decodes every video frame (the files are 1-2 s long)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video=0))
        return Media(
            container=container.format.name,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
            width=video.codec_context.width,
            height=video.codec_context.height,
            duration_s=(container.duration or 0) / 1_000_000,
            frames=frames,
        )


@pytest.fixture
def make_request(tmp_path: Path):
    """Builds a RenderRequest whose output goes under ``tmp_path``."""

    def build(
        variables: dict[str, str],
        overrides: dict[str, Any] | None = None,
        output: OutputSettings | None = None,
        row_index: int = 1,
    ) -> RenderRequest:
        output = output or OutputSettings(resolution="480p")
        path = tmp_path / output.output_bucket / "job_test" / f"{row_index:05d}-video.{output.format}"
        return RenderRequest(
            job_id="job_test",
            video_id=f"vid_{row_index}",
            row_index=row_index,
            title=variables.get("title", "video"),
            variables=variables,
            overrides=overrides or {},
            output=output,
            output_path=path,
        )

    return build
