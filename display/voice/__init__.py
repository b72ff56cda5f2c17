"""Offline Vietnamese speech for the lobby display and the kiosk.

"Mời công dân có số thứ tự một nghìn không trăm linh năm đến quầy số ba":
numbers are read into words here (:mod:`.numbers`), spoken by one of the
engines in :mod:`.engines` (espeak-ng, recorded clips, Windows voices, none),
chosen and rendered to one WAV by :class:`Voice` (:mod:`.speech`).  The
display's :class:`Announcer` plays calls one after another with a chime
(:mod:`.announce`); the kiosk's :class:`Speaker` says what a citizen touches
at once, a new touch cutting off the last sentence.  Both play through
:mod:`.player` (Kivy, imported on first use).  Pure Python and the standard
library otherwise: no Flask, no network.
"""
from __future__ import annotations

from .announce import (
    Announcer,
    announcement_text,
    default_player,
    synthesize,
    write_temp_wav,
)
from .audio import wav_duration
from .cache import WavCache
from .errors import VoiceError
from .numbers import read_digits, read_letters, read_number, read_ticket_number
from .settings import DEFAULT_TEMPLATE, ENGINES, VoiceSettings
from .speech import Speaker, Voice, synthesize_text

__all__ = [
    "DEFAULT_TEMPLATE",
    "ENGINES",
    "Announcer",
    "Speaker",
    "Voice",
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
