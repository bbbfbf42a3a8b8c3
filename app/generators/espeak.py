"""eSpeak NG text-to-speech through ctypes on the library bundled by the ``espeakng-loader`` wheel.

The library keeps global state and is not thread-safe: every call goes through one lock, and the async
helpers run it in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import wave
from pathlib import Path

import espeakng_loader

#: friendly names accepted in the ``voice`` override, mapped to eSpeak voice names
VOICE_ALIASES: dict[str, str] = {"female": "en+f3", "male": "en+m3"}
#: ``voice: none`` renders a silent track
SILENT_VOICE = "none"
#: sample rate of the silent track (eSpeak's own rate is 22050 Hz)
SILENT_RATE = 22050

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EE_OK = 0

# int (*t_espeak_callback)(short *wav, int numsamples, espeak_EVENT *events)
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class EspeakError(RuntimeError):
    """eSpeak could not be loaded, did not know a voice, or failed to synthesize."""


class _Engine:
    """The loaded library, its sample rate and the PCM collected by the callback of the current call."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data_path = Path(espeakng_loader.get_data_path())
        self.data_path = data_path
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        # The path is the folder holding espeak-ng-data (eSpeak appends the folder name itself).
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_path.parent).encode(), 0)
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate}) with data at {data_path}")
        self.sample_rate = rate
        self._chunks: list[bytes] = []
        self._callback = _SynthCallback(self._collect)  # kept referenced: the library holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.voice_names = self._list_voice_names()
        self.variants = _list_variants(data_path)

    def _collect(self, wav: ctypes._Pointer, numsamples: int, _events: int) -> int:
        if numsamples > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0  # 0 = continue

    def _list_voice_names(self) -> set[str]:
        names: set[str] = set()
        voices = self.lib.espeak_ListVoices(None)
        i = 0
        while voices[i]:
            voice = voices[i].contents
            for raw in (voice.name, voice.identifier):
                if raw:
                    names.add(raw.decode("utf-8", "replace").lower())
            if voice.identifier:  # "gmw/en-US" is also selectable as "en-us"
                names.add(voice.identifier.decode("utf-8", "replace").rsplit("/", 1)[-1].lower())
            languages = voice.languages or b""
            # languages: repeated [priority byte][NUL-terminated name], ended by a 0 priority
            for part in languages.split(b"\x00"):
                if len(part) > 1:
                    names.add(part[1:].decode("utf-8", "replace").lower())
            i += 1
        return names

    def synthesize(self, text: str, voice: str) -> bytes:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise EspeakError(f"unknown eSpeak voice {voice!r}")
        self._chunks = []
        data = text.encode("utf-8") + b"\x00"
        buf = ctypes.create_string_buffer(data)
        status = self.lib.espeak_Synth(buf, len(data), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
        if status != _EE_OK:
            raise EspeakError(f"espeak_Synth failed ({status})")
        self.lib.espeak_Synchronize()
        pcm, self._chunks = b"".join(self._chunks), []
        return pcm


def _list_variants(data_path: Path) -> set[str]:
    folder = data_path / "voices" / "!v"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


_lock = threading.Lock()
_engine: _Engine | None = None


def _get_engine() -> _Engine:
    """Loads and initializes the library once; callers hold ``_lock``."""
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def resolve_voice(voice: str | None) -> str:
    """Maps the ``voice`` override to an eSpeak voice (``female``/``male``/``none`` or any eSpeak name)."""
    name = (voice or "female").strip()
    return VOICE_ALIASES.get(name.lower(), name)


def is_known_voice(voice: str | None) -> bool:
    """Cheap check (no synthesis) that eSpeak knows the voice: ``lang`` or ``lang+variant``."""
    name = resolve_voice(voice)
    if name.lower() == SILENT_VOICE:
        return True
    language, _, variant = name.partition("+")
    with _lock:
        engine = _get_engine()
        # variant files are looked up by exact name on disk; languages are case-insensitive
        return language.lower() in engine.voice_names and (not variant or variant in engine.variants)


def synthesize(text: str, voice: str | None) -> tuple[bytes, int]:
    """Speaks ``text`` with ``voice``; returns mono 16-bit little-endian PCM and its sample rate.

    Blocking: call it through :func:`synthesize_async` from async code.
    """
    name = resolve_voice(voice)
    if name.lower() == SILENT_VOICE:
        return b"", SILENT_RATE
    if not is_known_voice(name):
        raise EspeakError(f"unknown eSpeak voice {name!r}")
    with _lock:
        engine = _get_engine()
        return engine.synthesize(text, name), engine.sample_rate


def write_wav(path: Path, pcm: bytes, sample_rate: int, *, min_duration_s: float = 0.0) -> float:
    """Writes mono 16-bit PCM as WAV, padded with silence to ``min_duration_s``; returns its duration."""
    min_bytes = int(min_duration_s * sample_rate) * 2
    if len(pcm) < min_bytes:
        pcm = pcm + b"\x00" * (min_bytes - len(pcm))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return len(pcm) / 2 / sample_rate


async def synthesize_async(text: str, voice: str | None) -> tuple[bytes, int]:
    """:func:`synthesize` in a worker thread."""
    return await asyncio.to_thread(synthesize, text, voice)
