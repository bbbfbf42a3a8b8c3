"""eSpeak NG through ctypes: real speech, voices, silence."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from app.generators import espeak


def test_synthesize_returns_speech() -> None:
    pcm, rate = espeak.synthesize("Hello from bulkdash.", "female")
    assert rate == 22050
    seconds = len(pcm) / 2 / rate
    assert 0.5 < seconds < 5
    assert any(pcm[i] for i in range(0, len(pcm), 101))  # not silence


def test_male_and_female_differ() -> None:
    female, _ = espeak.synthesize("Same words.", "female")
    male, _ = espeak.synthesize("Same words.", "male")
    assert female != male


def test_none_voice_is_silent() -> None:
    assert espeak.synthesize("anything", "none") == (b"", espeak.SILENT_RATE)


@pytest.mark.parametrize("voice", ["female", "male", "none", "en-us", "de", "en+f2", "EN-US"])
def test_known_voices(voice: str) -> None:
    assert espeak.is_known_voice(voice)


@pytest.mark.parametrize("voice", ["zz-nope", "en+nosuchvariant", "../../etc/passwd"])
def test_unknown_voices(voice: str) -> None:
    assert not espeak.is_known_voice(voice)
    with pytest.raises(espeak.EspeakError):
        espeak.synthesize("hi", voice)


def test_write_wav_pads_to_minimum(tmp_path: Path) -> None:
    pcm, rate = espeak.synthesize("Hi.", "male")
    duration = espeak.write_wav(tmp_path / "v.wav", pcm, rate, min_duration_s=3.0)
    assert duration == pytest.approx(3.0, abs=0.01)
    with wave.open(str(tmp_path / "v.wav")) as wav:
        assert wav.getframerate() == rate
        assert wav.getnframes() / rate == pytest.approx(3.0, abs=0.01)


async def test_concurrent_async_calls_are_serialized() -> None:
    results = await asyncio.gather(*(espeak.synthesize_async(f"Number {i}.", "female") for i in range(6)))
    assert all(len(pcm) > 1000 for pcm, _ in results)
    # eSpeak output is not bit-exact from call to call, but its length is: interleaved calls would change it
    single, _ = espeak.synthesize("Number 3.", "female")
    assert len(results[3][0]) == len(single)
