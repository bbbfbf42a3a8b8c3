"""The default template end to end: real videos checked with PyAV, bad rows, errors and cancel."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from app.generators import ffmpeg as ffmpeg_module
from app.generators.base import GenerationError, OutputSettings
from app.generators.default_template import DefaultTemplateGenerator

from .conftest import read_media

ROW = {"title": "Widget launch", "script": "Meet the widget. It is fast."}


def _has_encoder(name: str) -> bool:
    import subprocess

    out = subprocess.run(
        [ffmpeg_module.ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    )
    return f" {name} " in out.stdout


FORMATS = [
    pytest.param(OutputSettings("mp4", "h264", "aac", "480p"), "h264", "aac", id="mp4-h264-aac"),
    pytest.param(OutputSettings("webm", "vp9", "opus", "480p"), "vp9", "opus", id="webm-vp9-opus"),
    pytest.param(
        OutputSettings("mp4", "h265", "aac", "480p"),
        "hevc",
        "aac",
        id="mp4-h265-aac",
        marks=pytest.mark.skipif(not _has_encoder("libx265"), reason="ffmpeg has no libx265"),
    ),
]


@pytest.mark.parametrize(("output", "vcodec", "acodec"), FORMATS)
async def test_renders_real_video(make_request, output: OutputSettings, vcodec: str, acodec: str) -> None:
    request = make_request({**ROW, "duration_s": "1.5"}, {"style": "modern", "voice": "female"}, output)
    reports: list[tuple[float, str]] = []
    result = await DefaultTemplateGenerator().generate(request, lambda p, s: reports.append((p, s)))

    assert result.output_path == request.output_path and result.output_path.exists()
    assert result.thumbnail_path == request.output_path.with_suffix(".jpg")
    assert result.thumbnail_path.read_bytes()[:2] == b"\xff\xd8"
    assert result.size_bytes == request.output_path.stat().st_size
    media = read_media(result.output_path)
    assert (media.video_codec, media.audio_codec) == (vcodec, acodec)
    assert (media.width, media.height) == (854, 480)
    assert media.duration_s == pytest.approx(1.5, abs=0.15)
    assert media.frames >= 30
    percents = [p for p, _ in reports]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert [s for _, s in reports if s != reports[0][1]][0] == "render"
    assert {s for _, s in reports} == {"voice", "render", "encode", "finalize"}
    assert sorted(os.listdir(request.output_path.parent)) == sorted(
        [request.output_path.name, result.thumbnail_path.name]
    )


async def test_duration_follows_voice_and_row_overrides_template(make_request) -> None:
    generator = DefaultTemplateGenerator(defaults={"style": "classic"})
    request = make_request({"Title": "Hi", "Text": "Short line.", "Style": "minimal", "voice": "male"})
    result = await generator.generate(request, lambda p, s: None)
    assert result.duration_s is not None and 0.5 < result.duration_s < 3
    assert read_media(result.output_path).duration_s == pytest.approx(result.duration_s, abs=0.15)


async def test_silent_voice_and_template_text(make_request) -> None:
    generator = DefaultTemplateGenerator(
        "promo", defaults={"title": "{product} is here", "script": "Buy {product} now.", "voice": "none"}
    )
    request = make_request({"product": "Gizmo", "duration_s": "1"})
    result = await generator.generate(request, lambda p, s: None)
    media = read_media(result.output_path)
    assert media.audio_codec == "aac" and media.duration_s == pytest.approx(1.0, abs=0.15)


@pytest.mark.parametrize(
    ("row", "overrides", "reason"),
    [
        ({"script": "x"}, {}, "missing required column 'title'"),
        ({"title": "x"}, {}, "missing required column 'script' (or 'text')"),
        ({"title": "x", "script": "   "}, {}, "column 'script' is empty"),
        ({"title": "x", "script": "a" * 5001}, {}, "script is too long (5001 characters, limit 5000)"),
        ({"title": "x" * 201, "script": "a"}, {}, "title is too long"),
        ({"title": "x", "script": "a"}, {"voice": "zz-nope"}, "unknown voice 'zz-nope'"),
        ({"title": "x", "script": "a", "voice": "en+nope"}, {}, "unknown voice 'en+nope'"),
        ({"title": "x", "script": "a"}, {"style": "fancy"}, "unknown style 'fancy'"),
        ({"title": "Hi {name}", "script": "a"}, {}, "title: placeholder {name} names no column"),
        ({"title": "x", "script": "a", "duration_s": "soon"}, {}, "duration_s must be a number"),
        ({"title": "x", "script": "a", "duration_s": "9999"}, {}, "duration_s must be between"),
        (
            {"title": "{blank}", "script": "a", "blank": ""},
            {},
            "title is empty once its placeholders are filled",
        ),
    ],
)
def test_validate_bad_rows(row: dict[str, str], overrides: dict[str, str], reason: str) -> None:
    message = DefaultTemplateGenerator().validate(row, overrides)
    assert message is not None and message.startswith(reason), message


def test_validate_accepts_good_rows_and_limit_is_configurable() -> None:
    generator = DefaultTemplateGenerator(max_text_chars=10)
    assert generator.validate({"title": "x", "text": "0123456789"}, {"voice": "en-us", "style": "bold"}) is None
    assert generator.validate({"title": "x", "text": "0123456789!"}, {}) is not None
    assert generator.validate({"title": "{{literal}}", "script": "ok"}, {}) is None


async def test_bad_row_at_render_time_is_permanent(make_request) -> None:
    with pytest.raises(GenerationError) as info:
        await DefaultTemplateGenerator().generate(make_request({"title": "x"}), lambda p, s: None)
    assert info.value.permanent and info.value.stage == "validate"


async def test_ffmpeg_failure_is_transient_with_stderr_tail(make_request, monkeypatch) -> None:
    real = ffmpeg_module.encode_command

    def broken(*args, **kwargs):
        return [*real(*args, **kwargs)[:-3], "-vf", "nosuchfilter", "-f", "mp4", str(args[2])]

    monkeypatch.setattr("app.generators.default_template.encode_command", broken)
    request = make_request(ROW)
    with pytest.raises(GenerationError) as info:
        await DefaultTemplateGenerator().generate(request, lambda p, s: None)
    error = info.value
    assert (error.code, error.stage, error.permanent) == ("encode_failed", "encode", False)
    assert error.detail and "nosuchfilter" in error.detail
    assert not request.output_path.parent.exists() or os.listdir(request.output_path.parent) == []


def _ffmpeg_children() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and b"ffmpeg" in cmdline:
                pids.append(int(entry.name))
    return pids


async def test_cancel_kills_ffmpeg_and_leaves_no_files(make_request) -> None:
    request = make_request(
        {"title": "Long", "script": "A long video to cancel.", "duration_s": "120"},
        output=OutputSettings("mp4", "h264", "aac", "1080p"),
    )
    encoding = asyncio.Event()

    def report(percent: float, stage: str) -> None:
        if stage == "encode" and percent > 20:
            encoding.set()

    task = asyncio.create_task(DefaultTemplateGenerator().generate(request, report))
    await asyncio.wait_for(encoding.wait(), 30)
    assert _ffmpeg_children(), "ffmpeg should be running mid-encode"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _ffmpeg_children() == []
    assert not request.output_path.exists()
    assert os.listdir(request.output_path.parent) == []
