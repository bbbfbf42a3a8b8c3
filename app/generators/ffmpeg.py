"""The bundled ffmpeg binary: encode commands, a runner with live progress and cancel, and a cheap probe."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from app.generators.base import OutputSettings
from app.generators.cards import RESOLUTIONS

#: ffmpeg encoder for each ``output.video_codec`` / ``output.audio_codec``
VIDEO_ENCODERS = {"h264": "libx264", "h265": "libx265", "vp9": "libvpx-vp9"}
AUDIO_ENCODERS = {"aac": "aac", "opus": "libopus"}
#: the codec name ffmpeg prints when it reads the stream back
DECODED_NAMES = {"h264": "h264", "h265": "hevc", "vp9": "vp9", "aac": "aac", "opus": "opus"}
_STDERR_TAIL = 2048
# repeats the last card so rounding in the concat durations never leaves the video shorter than the audio
_HOLD_LAST = "tpad=stop_mode=clone:stop_duration=1"


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by ``imageio-ffmpeg``."""
    return imageio_ffmpeg.get_ffmpeg_exe()


class FfmpegError(RuntimeError):
    """ffmpeg exited with an error; ``stderr_tail`` holds its last ~2 KB of messages."""

    def __init__(self, message: str, returncode: int | None, stderr_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail

    @property
    def crashed(self) -> bool:
        """Killed by a signal (a crash or the OOM killer) rather than refusing the input."""
        return self.returncode is not None and self.returncode < 0


def encode_command(
    concat: Path,
    wav: Path,
    out: Path,
    output: OutputSettings,
    duration_s: float,
    *,
    fps: int = 25,
    threads: int = 1,
) -> list[str]:
    """The ffmpeg command that turns the card list and the voice into the job's format.

    ``threads`` is per video: the engine already runs one video per core, so one thread each gives the best
    throughput (more threads per video only add contention).
    """
    width, height = RESOLUTIONS[output.resolution]
    vcodec = output.video_codec
    args = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-nostats",
        "-loglevel",
        "error",
        "-stats_period",
        "0.1",
        "-progress",
        "pipe:1",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        str(concat),
        "-i",
        str(wav),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-filter_threads",
        "1",
        "-vf",
        f"scale={width}:{height},setsar=1,fps={fps},{_HOLD_LAST},format=yuv420p",
        "-af",
        "apad",
        "-t",
        f"{duration_s:.3f}",
        "-threads",
        str(threads),
        "-c:v",
        VIDEO_ENCODERS[vcodec],
    ]
    if vcodec == "h264":
        args += ["-preset", "veryfast", "-tune", "stillimage", "-crf", "23"]
    elif vcodec == "h265":
        args += [
            "-preset",
            "veryfast",
            "-crf",
            "28",
            "-tag:v",
            "hvc1",
            "-x265-params",
            f"log-level=error:pools={threads}:frame-threads={threads}",
        ]
    else:  # vp9
        args += ["-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-crf", "36", "-row-mt", "0"]
    if output.audio_codec == "opus":
        args += ["-c:a", "libopus", "-b:a", "64k", "-ar", "48000", "-ac", "2"]
    else:
        args += ["-c:a", "aac", "-b:a", "96k", "-ar", "44100", "-ac", "2"]
    if output.format == "mp4":
        args += ["-movflags", "+faststart"]
    return [*args, "-f", output.format, str(out)]


async def run_ffmpeg(args: list[str], total_s: float, on_progress: Callable[[float], None] | None = None) -> None:
    """Runs ffmpeg, calling ``on_progress(fraction)`` (0-1, never decreasing) from ``-progress`` output.

    Cancelling the awaiting task kills ffmpeg at once. Raises :class:`FfmpegError` on a non-zero exit.
    """
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # a terminal's Ctrl-C must not kill ffmpeg: shutdown gives it a grace period
    )
    tail: deque[bytes] = deque()
    try:
        assert proc.stdout is not None and proc.stderr is not None
        stderr_task = asyncio.ensure_future(_collect_tail(proc.stderr, tail))
        best = 0.0
        async for raw in proc.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            fraction = None
            if key == "out_time_us" and total_s > 0:
                with contextlib.suppress(ValueError):
                    fraction = min(1.0, int(value) / 1e6 / total_s)
            elif key == "progress" and value == "end":
                fraction = 1.0
            if fraction is not None and fraction > best:
                best = fraction
                if on_progress is not None:
                    on_progress(best)
        await stderr_task
        returncode = await proc.wait()
    except BaseException:
        # Cancelled (or failed reading): never leave ffmpeg running behind us.
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(BaseException):
                await asyncio.shield(proc.wait())
        raise
    if returncode != 0:
        text = b"".join(tail).decode("utf-8", "replace")[-_STDERR_TAIL:]
        raise FfmpegError(f"ffmpeg exited with code {returncode}", returncode, text)


async def _collect_tail(stream: asyncio.StreamReader, tail: deque[bytes]) -> None:
    size = 0
    async for line in stream:
        tail.append(line)
        size += len(line)
        while size > _STDERR_TAIL and len(tail) > 1:
            size -= len(tail.popleft())


@dataclass(frozen=True)
class ProbeResult:
    """What ffmpeg read back from a finished file."""

    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    duration_s: float | None


_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #0:\d+\S*: (Video|Audio): ([A-Za-z0-9_]+)([^\n]*)")
_SIZE = re.compile(r", (\d{2,5})x(\d{2,5})")


async def probe_and_thumbnail(video: Path, thumbnail: Path, *, thumb_width: int = 640) -> ProbeResult:
    """Reads ``video`` back with ffmpeg: its streams, size and duration; decodes the first video frame into
    the JPEG ``thumbnail``, so a file whose video does not decode fails here."""
    args = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-i",
        str(video),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        f"scale='min({thumb_width},iw)':-2",
        "-q:v",
        "4",
        "-f",
        "image2",
        str(thumbnail),
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = await proc.communicate()
    except BaseException:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(BaseException):
                await asyncio.shield(proc.wait())
        raise
    text = err.decode("utf-8", "replace")
    if proc.returncode != 0 or not await asyncio.to_thread(thumbnail.exists):
        raise FfmpegError(
            f"ffmpeg could not read {video.name} back (code {proc.returncode})",
            proc.returncode,
            text[-_STDERR_TAIL:],
        )
    header = text.split("Stream mapping:", 1)[0]
    video_codec = audio_codec = None
    width = height = None
    for kind, codec, rest in _STREAM.findall(header):
        if kind == "Video" and video_codec is None:
            video_codec = codec
            size = _SIZE.search(rest)
            if size:
                width, height = int(size.group(1)), int(size.group(2))
        elif kind == "Audio" and audio_codec is None:
            audio_codec = codec
    duration = None
    if match := _DURATION.search(header):
        duration = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
    return ProbeResult(video_codec, audio_codec, width, height, duration)


def check_probe(result: ProbeResult, output: OutputSettings, duration_s: float) -> str | None:
    """Why the probed file is not what the job asked for, or ``None``."""
    want_v, want_a = DECODED_NAMES[output.video_codec], DECODED_NAMES[output.audio_codec]
    if result.video_codec != want_v:
        return f"video stream is {result.video_codec}, expected {want_v}"
    if result.audio_codec != want_a:
        return f"audio stream is {result.audio_codec}, expected {want_a}"
    if (result.width, result.height) != RESOLUTIONS[output.resolution]:
        return f"resolution is {result.width}x{result.height}, expected {output.resolution}"
    if result.duration_s is None or abs(result.duration_s - duration_s) > max(0.25, 0.05 * duration_s):
        return f"duration is {result.duration_s}s, expected {duration_s:.2f}s"
    return None
