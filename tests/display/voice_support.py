"""Helpers of the voice tests: WAV facts, tone clips in any PCM format (written
without the code under test) and a clip folder for the default template."""
from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import pytest

from display.voice import (
    VoiceSettings,
)
from display.voice.engines.clips import clip_filename, required_clips


def wav_info(data: bytes) -> tuple[int, int, int, float]:
    """(rate, channels, sample width, seconds) of a WAV, read with the stdlib only."""
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes() / w.getframerate()


def write_tone(path: Path, freq: float, seconds: float, rate: int, width: int, channels: int,
               pad: float = 0.1) -> None:
    """A test clip: silence, a tone, silence, in any PCM format (written without the code under test)."""
    frames = bytearray()
    n_pad, n_tone = int(rate * pad), int(rate * seconds)
    for i in range(n_pad + n_tone + n_pad):
        v = 0.6 * math.sin(2 * math.pi * freq * i / rate) if n_pad <= i < n_pad + n_tone else 0.0
        if width == 1:
            sample = bytes([int(128 + 127 * v)])
        elif width == 2:
            sample = struct.pack("<h", int(32767 * v))
        elif width == 3:
            sample = int(8388607 * v).to_bytes(3, "little", signed=True)
        else:
            sample = struct.pack("<i", int(2147483647 * v))
        frames += sample * channels
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


FORMATS = [(8000, 1, 1), (16000, 2, 1), (22050, 2, 2), (44100, 2, 2), (48000, 3, 1), (11025, 4, 1)]
TONE_SECONDS = 0.2


@pytest.fixture
def tone_clips(tmp_path: Path) -> Path:
    """A clip folder for the default template, each clip a tone in a different format."""
    folder = tmp_path / "clips"
    folder.mkdir()
    phrases = required_clips(VoiceSettings(), letters="A")
    for i, phrase in enumerate(phrases):
        rate, width, channels = FORMATS[i % len(FORMATS)]
        write_tone(folder / clip_filename(phrase), 300 + 20 * i, TONE_SECONDS, rate, width, channels)
    return folder
