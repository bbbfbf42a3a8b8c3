"""Cards: placeholders, caption splitting and timing, frames and the concat list."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from app.generators import cards


def test_placeholders_fill_case_insensitively() -> None:
    columns = cards.normalize_columns({"Product ": "Widget", "price": "9"})
    assert cards.fill_placeholders("{product} for {PRICE} {{euro}}", columns) == "Widget for 9 {euro}"
    assert cards.missing_placeholders("{product} {colour} {{x}}", columns) == ["colour"]


def test_split_captions_respects_sentences_and_length() -> None:
    script = "First sentence. " + "word " * 60 + "end."
    chunks = cards.split_captions(script, max_chars=40)
    assert chunks[0] == "First sentence."
    assert all(len(c) <= 40 for c in chunks)
    assert " ".join(chunks).split() == script.split()


def test_time_captions_sum_and_proportion() -> None:
    durations = cards.time_captions(["short", "a much longer caption here"], 3.0)
    assert sum(durations) == pytest.approx(3.0)
    assert durations[1] > durations[0]
    assert cards.time_captions([], 3.0) == []


@pytest.mark.parametrize("style", sorted(cards.STYLES))
def test_render_cards_writes_frames_and_concat(tmp_path: Path, style: str) -> None:
    spec = cards.CardSpec(
        title="A title that is rather long and should wrap on two lines at least",
        subtitle="Sub",
        captions=["One.", "Two two."],
        durations=[0.4, 0.6],
        style=style,
        size=(854, 480),
    )
    frames, concat = cards.render_cards(spec, tmp_path)
    assert len(frames) == 2
    for frame in frames:
        with Image.open(frame) as image:
            assert image.size == (854, 480)
    assert frames[0].read_bytes() != frames[1].read_bytes()  # the caption changes
    text = concat.read_text()
    assert text.startswith("ffconcat version 1.0")
    assert "duration 0.400" in text and "duration 0.600" in text
    assert text.strip().splitlines()[-1] == f"file {frames[-1].name}"


def test_styles_look_different(tmp_path: Path) -> None:
    colours = set()
    for style in cards.STYLES:
        spec = cards.CardSpec("T", "", ["c"], [1.0], style, (854, 480))
        frames, _ = cards.render_cards(spec, tmp_path)
        with Image.open(frames[0]) as image:
            colours.add(image.getpixel((5, 5)))
    assert len(colours) == len(cards.STYLES)
