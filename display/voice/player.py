"""Plays WAVs through Kivy's SoundLoader, for the display's announcer and the kiosk's speaker.

The worker thread of :class:`~display.voice.announce.Announcer` or
:class:`~display.voice.speech.Speaker` calls ``player(wav)`` and expects it
to return only when the sound has finished (so sentences never overlap), or
as soon as its ``cancel`` event is set (the kiosk: a new touch).  Loading
and starting the sound happens on the Kivy thread (audio providers are not
all thread-safe); the worker just waits out the WAV's duration.  Kivy is
imported on first use only: this package stays importable without it.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from .announce import write_temp_wav
from .audio import wav_duration

__all__ = ["KivySoundPlayer"]

log = logging.getLogger(__name__)


class KivySoundPlayer:
    """A blocking, cancellable ``play(wav)`` (see :class:`~display.voice.speech.Player`).

    ``name`` keeps this player's temporary WAV files apart from another
    program's on the same PC (a kiosk next to a display).
    """

    def __init__(self, name: str = "announcement") -> None:
        self.name = name
        self.played = 0
        self.failed = 0

    def __call__(self, wav: bytes, cancel: threading.Event | None = None,
                 on_start: Callable[[], None] | None = None) -> None:
        from kivy.clock import Clock
        from kivy.core.audio import SoundLoader

        cancel = cancel or threading.Event()
        path = write_temp_wav(wav, self.name)
        started = threading.Event()
        holder: dict[str, Any] = {}

        def start(_dt: float) -> None:
            try:
                if cancel.is_set():
                    return
                sound = SoundLoader.load(str(path))
                if sound is not None:
                    sound.play()
                    if on_start is not None:
                        on_start()
                holder["sound"] = sound
            except Exception as exc:  # a broken audio device must not stop the screen
                log.warning("cannot play sound: %s", exc)
            finally:
                started.set()

        Clock.schedule_once(start)
        if not started.wait(10):
            self.failed += 1
            log.warning("sound not played: the screen did not start it within 10 s")
            return
        sound = holder.get("sound")
        if sound is None:
            if not cancel.is_set():
                self.failed += 1
                log.warning("sound not played: no audio output could load it")
            return
        cancel.wait(wav_duration(wav) + 0.05)

        def finish(_dt: float) -> None:
            sound.stop()
            sound.unload()

        Clock.schedule_once(finish)
        self.played += 1
