"""Offline Vietnamese voice announcements for the lobby display.

"Mời công dân có số thứ tự một nghìn không trăm linh năm đến quầy số ba":
numbers are read into words here (:mod:`.numbers`), spoken by one of the
engines in :mod:`.engines` (espeak-ng, recorded clips, Windows voices, none),
joined with a chime into one WAV (:mod:`.announce`) and played one after
another by :class:`Announcer`.  Pure Python and the standard library: no
Kivy, no Flask, no network.
"""
from __future__ import annotations

from .announce import (
    Announcer,
    announcement_text,
    default_player,
    synthesize,
    synthesize_text,
    write_temp_wav,
)
from .audio import wav_duration
from .cache import WavCache
from .errors import VoiceError
from .numbers import read_digits, read_letters, read_number, read_ticket_number
from .settings import DEFAULT_TEMPLATE, ENGINES, VoiceSettings

__all__ = [
    "DEFAULT_TEMPLATE",
    "ENGINES",
    "Announcer",
    "VoiceError",
    "VoiceSettings",
    "WavCache",
    "announcement_text",
    "default_player",
    "read_digits",
    "read_letters",
    "read_number",
    "read_ticket_number",
    "synthesize",
    "synthesize_text",
    "wav_duration",
    "write_temp_wav",
]
