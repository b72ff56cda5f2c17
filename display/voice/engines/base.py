"""The one interface every speech engine implements.

Like python-escpos' printer transports: a small base class, one short module
per engine, and a factory that picks the module from the settings.  An
engine only turns a Vietnamese sentence into :class:`~display.voice.audio.Pcm`;
the chime, repeats and pauses are added once, in ``announce.py``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..audio import Pcm
    from ..settings import VoiceSettings

__all__ = ["Engine"]


class Engine(ABC):
    """Turns text into speech samples.

    Engines must be safe to call from the announcer's worker thread; an
    engine that is not (pyttsx3) serialises itself.
    """

    #: The ``VoiceSettings.engine`` value that selects this engine.
    name: str = ""

    def __init__(self, settings: "VoiceSettings") -> None:
        self.settings = settings

    @abstractmethod
    def speak(self, text: str) -> "Pcm":
        """Speech for ``text``; raise :class:`~display.voice.errors.VoiceError` on failure."""

    def available(self) -> bool:
        """True when the engine can run on this machine (for settings screens)."""
        return True

    def fingerprint(self) -> str:
        """Changes whenever the same text would sound different (cache keys).

        The settings are already part of every cache key; engines whose
        output also depends on files (recorded clips) add their state here.
        """
        return ""
