"""Title/subtitle cards drawn with Pillow, captions timed to the voice, and the ffmpeg concat list of them.

Only one image per caption is drawn (a few per video); ffmpeg holds each for its duration, so the cost of a
video does not grow with its frame count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

RGB = tuple[int, int, int]

#: ``WIDTHxHEIGHT`` of each ``output.resolution``
RESOLUTIONS: dict[str, tuple[int, int]] = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
#: uncompressed frames: writing a 1080p BMP costs ~8 ms where a PNG costs ~50 ms, and ffmpeg reads both
FRAME_EXT = "bmp"


@dataclass(frozen=True)
class Style:
    """Colours and layout of one card style; sizes are fractions of the frame height."""

    top: RGB
    bottom: RGB
    title: RGB
    subtitle: RGB
    caption: RGB
    accent: RGB
    title_size: float
    align: str  # "center" or "left"
    caption_box: RGB | None = None
    title_stroke: float = 0.0
    rules: bool = False


STYLES: dict[str, Style] = {
    "modern": Style(
        top=(15, 23, 42),
        bottom=(30, 58, 138),
        title=(255, 255, 255),
        subtitle=(191, 219, 254),
        caption=(255, 255, 255),
        accent=(34, 211, 238),
        title_size=0.09,
        align="center",
        caption_box=(2, 6, 23),
    ),
    "classic": Style(
        top=(245, 240, 230),
        bottom=(232, 222, 200),
        title=(68, 40, 20),
        subtitle=(110, 80, 50),
        caption=(50, 30, 15),
        accent=(140, 100, 60),
        title_size=0.08,
        align="center",
        rules=True,
    ),
    "bold": Style(
        top=(0, 0, 0),
        bottom=(24, 24, 24),
        title=(250, 204, 21),
        subtitle=(255, 255, 255),
        caption=(0, 0, 0),
        accent=(239, 68, 68),
        title_size=0.12,
        align="left",
        caption_box=(250, 204, 21),
        title_stroke=0.004,
    ),
    "minimal": Style(
        top=(255, 255, 255),
        bottom=(255, 255, 255),
        title=(17, 17, 17),
        subtitle=(107, 114, 128),
        caption=(55, 65, 81),
        accent=(17, 17, 17),
        title_size=0.06,
        align="left",
    ),
}

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def normalize_columns(variables: Mapping[str, object]) -> dict[str, str]:
    """Row values keyed by lower-case, trimmed column name (headers like ``Title `` still match ``title``)."""
    return {str(k).strip().lower(): "" if v is None else str(v) for k, v in variables.items()}


def missing_placeholders(text: str, columns: Mapping[str, str]) -> list[str]:
    """The ``{name}`` placeholders of ``text`` that name no column (``{{``/``}}`` are literal braces)."""
    missing = []
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name is not None and name.strip().lower() not in columns:
            missing.append(name)
    return missing


def fill_placeholders(text: str, columns: Mapping[str, str]) -> str:
    """Replaces ``{column}`` with the row's value (names are case-insensitive); ``{{``/``}}`` give braces."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return columns[match.group(1).strip().lower()]

    return _PLACEHOLDER.sub(replace, text)


def split_captions(script: str, max_chars: int = 90) -> list[str]:
    """Splits the script into caption chunks of at most ``max_chars``, preferring sentence boundaries."""
    sentences = [s for s in re.split(r"(?<=[.!?;:])\s+", " ".join(script.split())) if s]
    chunks: list[str] = []
    for sentence in sentences:
        current = ""
        for word in sentence.split(" "):
            candidate = f"{current} {word}" if current else word
            if len(candidate) > max_chars and current:
                chunks.append(current)
                current = word
            else:
                current = candidate
        if current:
            chunks.append(current)
    return chunks


def time_captions(chunks: list[str], total_s: float, min_s: float = 0.3) -> list[float]:
    """Durations for each chunk proportional to its characters, summing to ``total_s``."""
    if not chunks:
        return []
    weights = [max(len(c), 1) for c in chunks]
    total_weight = sum(weights)
    durations = [max(min_s, total_s * w / total_weight) for w in weights]
    scale = total_s / sum(durations)  # the minimum may have stretched the sum; bring it back to total_s
    return [d * scale for d in durations]


@dataclass(frozen=True)
class CardSpec:
    """What to draw: the texts (placeholders already filled), the style and the frame size."""

    title: str
    subtitle: str
    captions: list[str]
    durations: list[float]
    style: str
    size: tuple[int, int]


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    max_width: float,
    max_lines: int,
) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and draw.textlength(candidate, font=font) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".,;: ") + "…"
    return lines


def _background(style: Style, size: tuple[int, int]) -> Image.Image:
    width, height = size
    if style.top == style.bottom:
        return Image.new("RGB", size, style.top)
    column = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(style.top, style.bottom, strict=True)))
    return column.resize((width, height), Image.Resampling.BILINEAR)


def _draw_block(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    y: float,
    width: int,
    margin: int,
    align: str,
    fill: RGB,
    stroke: int = 0,
) -> float:
    """Draws lines from ``y`` downwards; returns the y below the block."""
    line_height = font.size * 1.2 if isinstance(font, ImageFont.FreeTypeFont) else 14
    for line in lines:
        x = margin if align == "left" else (width - draw.textlength(line, font=font)) / 2
        draw.text((x, y), line, font=font, fill=fill, stroke_width=stroke, stroke_fill=fill)
        y += line_height
    return y


def _base_card(spec: CardSpec, style: Style) -> Image.Image:
    """Background, title and subtitle: the part every caption frame shares."""
    width, height = spec.size
    image = _background(style, spec.size)
    draw = ImageDraw.Draw(image)
    margin = int(width * 0.07)
    title_font = _font(max(12, int(height * style.title_size)))
    sub_font = _font(max(10, int(height * style.title_size * 0.45)))
    title_lines = _wrap(draw, spec.title, title_font, width - 2 * margin, 3)
    sub_lines = _wrap(draw, spec.subtitle, sub_font, width - 2 * margin, 2) if spec.subtitle else []
    y = height * (0.12 if style.align == "left" else 0.22)
    if style.rules:
        draw.line([(margin, y - height * 0.03), (width - margin, y - height * 0.03)], fill=style.accent, width=3)
    stroke = int(height * style.title_stroke)
    y = _draw_block(draw, title_lines, title_font, y, width, margin, style.align, style.title, stroke)
    if style.align == "left" or style.rules:
        bar_w = width - 2 * margin if style.rules else int(width * 0.12)
        draw.rectangle(
            [margin, y + height * 0.01, margin + bar_w, y + height * 0.01 + max(3, height // 120)],
            fill=style.accent,
        )
    elif style.caption_box is not None:
        draw.rectangle(
            [
                width / 2 - width * 0.06,
                y + height * 0.01,
                width / 2 + width * 0.06,
                y + height * 0.01 + max(3, height // 120),
            ],
            fill=style.accent,
        )
    _draw_block(draw, sub_lines, sub_font, y + height * 0.04, width, margin, style.align, style.subtitle)
    return image


def _caption_frame(base: Image.Image, caption: str, style: Style) -> Image.Image:
    image = base.copy()
    draw = ImageDraw.Draw(image)
    width, height = image.size
    margin = int(width * 0.07)
    font = _font(max(10, int(height * 0.05)))
    lines = _wrap(draw, caption, font, width - 2 * margin - int(width * 0.04), 2)
    line_height = font.size * 1.2 if isinstance(font, ImageFont.FreeTypeFont) else 14
    top = height * 0.93 - line_height * len(lines)
    if style.caption_box is not None and lines:
        pad = height * 0.02
        widest = max(draw.textlength(line, font=font) for line in lines)
        left = margin if style.align == "left" else (width - widest) / 2
        draw.rectangle(
            [left - pad, top - pad, left + widest + pad, top + line_height * len(lines) + pad / 2],
            fill=style.caption_box,
        )
    _draw_block(draw, lines, font, top, width, margin, style.align, style.caption)
    return image


def render_cards(spec: CardSpec, workdir: Path) -> tuple[list[Path], Path]:
    """Draws one frame per caption into ``workdir``; returns the frames and an ffconcat list that shows each
    for its duration. Blocking (Pillow): run it in a thread."""
    style = STYLES[spec.style]
    base = _base_card(spec, style)
    captions = spec.captions or [""]
    durations = spec.durations or [1.0]
    frames: list[Path] = []
    lines = ["ffconcat version 1.0"]
    for i, (caption, duration) in enumerate(zip(captions, durations, strict=True)):
        path = workdir / f"card_{i:03d}.{FRAME_EXT}"
        (_caption_frame(base, caption, style) if caption else base).save(path)
        frames.append(path)
        lines += [f"file {path.name}", f"duration {duration:.3f}"]
    lines.append(f"file {frames[-1].name}")  # the concat demuxer ignores the last entry's duration otherwise
    concat = workdir / "cards.ffconcat"
    concat.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return frames, concat
