"""The ``default_template``: an eSpeak voice over Pillow title cards with timed captions, encoded by ffmpeg.

Row columns (names are case-insensitive; a column wins over the job's ``template.overrides``, which win over
the template's own defaults):

- ``title`` (required): the card's title.
- ``script`` (required; ``text`` is accepted as an alias): what the voice says, also shown as captions.
- ``subtitle`` (optional): a smaller line under the title.
- ``style`` (optional): ``modern`` (default), ``classic``, ``bold`` or ``minimal``.
- ``voice`` (optional): ``female`` (default), ``male``, ``none`` (silent) or any eSpeak NG voice (``en-us``,
  ``de``, ``en+f2``...).
- ``duration_s`` (optional): the video's length; by default the voice's length (silent: ~2.5 words/s).

``title``, ``script`` and ``subtitle`` may hold ``{column}`` placeholders, filled from the row (``{{`` and
``}}`` are literal braces); in the overrides they make a reusable text template.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.generators import cards, espeak
from app.generators.base import (
    GenerationError,
    GenerationResult,
    OutputSettings,
    ProgressCallback,
    RenderRequest,
)
from app.generators.ffmpeg import FfmpegError, check_probe, encode_command, probe_and_thumbnail, run_ffmpeg

DEFAULT_MAX_TEXT_CHARS = 5000
MAX_TITLE_CHARS = 200
MIN_DURATION_S, MAX_DURATION_S = 0.5, 600.0
_SILENT_WORDS_PER_S = 2.5
_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "script": ("script", "text"),
    "subtitle": ("subtitle",),
}


@dataclass(frozen=True)
class RowSpec:
    """A row turned into what to render (placeholders filled, overrides applied)."""

    title: str
    script: str
    subtitle: str
    style: str
    voice: str
    duration_s: float | None


def parse_row(
    variables: Mapping[str, Any],
    overrides: Mapping[str, Any],
    *,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
) -> RowSpec:
    """Checks a row without rendering; raises ``ValueError`` with a reason a user can act on."""
    columns = cards.normalize_columns(variables)
    opts = cards.normalize_columns({k: v for k, v in overrides.items() if v is not None})
    texts: dict[str, str] = {}
    for field, names in _TEXT_FIELDS.items():
        raw = next((columns[n] for n in names if columns.get(n, "").strip()), None)
        if raw is None:
            raw = next((opts[n] for n in names if opts.get(n, "").strip()), None)
        if raw is None:
            if field == "subtitle":
                texts[field] = ""
                continue
            present = [n for n in names if n in columns]
            if present:
                raise ValueError(f"column '{present[0]}' is empty")
            alias = " (or 'text')" if field == "script" else ""
            raise ValueError(f"missing required column '{field}'{alias}")
        if missing := cards.missing_placeholders(raw, columns):
            raise ValueError(
                f"{field}: placeholder {{{missing[0]}}} names no column of the row "
                "(write {{ and }} for literal braces)"
            )
        text = " ".join(cards.fill_placeholders(raw, columns).split())
        if not text and field != "subtitle":
            raise ValueError(f"{field} is empty once its placeholders are filled")
        texts[field] = text
    if len(texts["script"]) > max_text_chars:
        raise ValueError(f"script is too long ({len(texts['script'])} characters, limit {max_text_chars})")
    for field in ("title", "subtitle"):
        if len(texts[field]) > MAX_TITLE_CHARS:
            raise ValueError(f"{field} is too long ({len(texts[field])} characters, limit {MAX_TITLE_CHARS})")
    style = _pick(columns, opts, "style", "modern").lower()
    if style not in cards.STYLES:
        raise ValueError(f"unknown style {style!r} (one of {', '.join(cards.STYLES)})")
    voice = _pick(columns, opts, "voice", "female")
    if not espeak.is_known_voice(voice):
        raise ValueError(f"unknown voice {voice!r} (female, male, none or an eSpeak NG voice such as en-us)")
    duration_s = None
    if raw_duration := _pick(columns, opts, "duration_s", ""):
        try:
            duration_s = float(raw_duration)
        except ValueError:
            raise ValueError(f"duration_s must be a number of seconds, not {raw_duration!r}") from None
        if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
            raise ValueError(f"duration_s must be between {MIN_DURATION_S} and {MAX_DURATION_S:g}")
    return RowSpec(texts["title"], texts["script"], texts["subtitle"], style, voice, duration_s)


def _pick(columns: Mapping[str, str], opts: Mapping[str, str], name: str, default: str) -> str:
    for source in (columns, opts):
        value = source.get(name, "").strip()
        if value:
            return value
    return default


class DefaultTemplateGenerator:
    """Renders rows with a voice, cards and ffmpeg. Stages and their share of the progress: ``voice`` 0-10,
    ``render`` 10-20, ``encode`` 20-95 (from ffmpeg's own progress), ``finalize`` 95-100.

    :param template_id: the id it is registered under (user templates reuse this class).
    :param defaults: the template's default overrides (texts, style, voice...), below the job's overrides.
    :param max_text_chars: longest accepted script.
    :param fps: frame rate of the output.
    :param threads: encoder threads per video (1 suits one video per core).
    """

    def __init__(
        self,
        template_id: str = "default_template",
        *,
        defaults: Mapping[str, Any] | None = None,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        fps: int = 25,
        threads: int = 1,
    ) -> None:
        self.template_id = template_id
        self.defaults = dict(defaults or {})
        self.max_text_chars = max_text_chars
        self.fps = fps
        self.threads = threads

    def _spec(self, variables: Mapping[str, Any], overrides: Mapping[str, Any]) -> RowSpec:
        return parse_row(variables, {**self.defaults, **overrides}, max_text_chars=self.max_text_chars)

    def validate(self, variables: dict[str, str], overrides: dict[str, Any]) -> str | None:
        try:
            self._spec(variables, overrides)
        except ValueError as exc:
            return str(exc)
        return None

    async def generate(self, request: RenderRequest, report: ProgressCallback) -> GenerationResult:
        try:
            spec = self._spec(request.variables, request.overrides)
        except ValueError as exc:
            raise GenerationError("invalid_row", str(exc), "validate", permanent=True) from None
        final = request.output_path
        final.parent.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:8]
        workdir = final.parent / f".{final.stem}.{token}.work"
        tmp_video = final.parent / f".{final.stem}.{token}.part.{request.output.format}"
        tmp_thumb = final.parent / f".{final.stem}.{token}.part.jpg"
        thumb = final.with_suffix(".jpg")
        await asyncio.to_thread(sweep_leftovers, final)
        workdir.mkdir()
        try:
            report(0.0, "voice")
            wav, duration, voice_s = await self._voice(spec, workdir)
            report(10.0, "render")
            concat = await self._render(spec, request.output, duration, voice_s, workdir)
            report(20.0, "encode")
            await self._encode(concat, wav, tmp_video, request.output, duration, report)
            report(95.0, "finalize")
            result = await _finalize(tmp_video, tmp_thumb, final, thumb, request.output, duration)
            report(100.0, "finalize")
            return result
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            for path in (tmp_video, tmp_thumb):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    async def _voice(self, spec: RowSpec, workdir: Path) -> tuple[Path, float, float]:
        """Speaks the script; returns the WAV, the video's duration and the voice's own length."""
        try:
            pcm, rate = await espeak.synthesize_async(spec.script, spec.voice)
        except espeak.EspeakError as exc:
            raise GenerationError("voice_failed", str(exc), "voice", permanent="unknown" in str(exc)) from None
        voice_s = len(pcm) / 2 / rate
        if not pcm:
            voice_s = max(2.0, len(spec.script.split()) / _SILENT_WORDS_PER_S)
        duration = min(MAX_DURATION_S, spec.duration_s or max(voice_s, MIN_DURATION_S))
        wav = workdir / "voice.wav"
        await asyncio.to_thread(espeak.write_wav, wav, pcm, rate, min_duration_s=duration)
        return wav, duration, voice_s

    async def _render(
        self, spec: RowSpec, output: OutputSettings, duration: float, voice_s: float, workdir: Path
    ) -> Path:
        captions = cards.split_captions(spec.script)
        durations = cards.time_captions(captions, min(duration, voice_s))
        if duration > voice_s and durations:  # the last caption stays up over the padding
            durations[-1] += duration - voice_s
        card = cards.CardSpec(
            spec.title, spec.subtitle, captions, durations, spec.style, cards.RESOLUTIONS[output.resolution]
        )
        try:
            _, concat = await asyncio.to_thread(cards.render_cards, card, workdir)
        except OSError as exc:
            raise GenerationError("render_failed", f"could not draw the cards: {exc}", "render") from None
        return concat

    async def _encode(
        self,
        concat: Path,
        wav: Path,
        out: Path,
        output: OutputSettings,
        duration: float,
        report: ProgressCallback,
    ) -> None:
        args = encode_command(concat, wav, out, output, duration, fps=self.fps, threads=self.threads)
        try:
            await run_ffmpeg(args, duration, lambda f: report(20.0 + 75.0 * f, "encode"))
        except FfmpegError as exc:
            what = "was killed" if exc.crashed else f"failed (exit code {exc.returncode})"
            raise GenerationError("encode_failed", f"ffmpeg {what}", "encode", detail=exc.stderr_tail) from None
        except OSError as exc:
            raise GenerationError("encode_failed", f"could not start ffmpeg: {exc}", "encode") from None


async def _finalize(
    tmp_video: Path, tmp_thumb: Path, final: Path, thumb: Path, output: OutputSettings, duration: float
) -> GenerationResult:
    """Checks the file decodes as asked, then moves the thumbnail and the video to their final names."""
    try:
        probe = await probe_and_thumbnail(tmp_video, tmp_thumb)
    except FfmpegError as exc:
        raise GenerationError("probe_failed", str(exc), "finalize", detail=exc.stderr_tail) from None
    if problem := check_probe(probe, output, duration):
        raise GenerationError("probe_failed", f"the encoded file is wrong: {problem}", "finalize")
    size = await asyncio.to_thread(commit_files, tmp_video, tmp_thumb, final, thumb)
    return GenerationResult(
        output_path=final, thumbnail_path=thumb, duration_s=probe.duration_s or duration, size_bytes=size
    )


def commit_files(tmp_video: Path, tmp_thumb: Path, final: Path, thumb: Path) -> int:
    """Moves the thumbnail, then the video, to their final names; returns the video's size.

    The thumbnail goes first: a video under its final name means "complete".
    """
    size = tmp_video.stat().st_size
    tmp_thumb.replace(thumb)
    tmp_video.replace(final)
    return size


def sweep_leftovers(final: Path) -> None:
    """Removes the temporary files and work folders an earlier attempt of this video left behind when its
    process was killed (SIGKILL, OOM, power loss: no ``finally`` ran). One attempt of a video runs at a time, so
    whatever matches ``.<stem>.<token>.part.*`` / ``.<stem>.<token>.work`` beside ``final`` is stale."""
    stem = glob.escape(final.stem)
    for path in final.parent.glob(f".{stem}.*.part.*"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    for path in final.parent.glob(f".{stem}.*.work"):
        shutil.rmtree(path, ignore_errors=True)
