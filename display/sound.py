"""Plays announcement WAVs through Kivy's SoundLoader for the Announcer's worker.

The Announcer calls ``player(wav)`` on its own thread and expects it to
return only when the sound has finished (so announcements never overlap).
Loading and starting the sound happens on the Kivy thread (audio providers
are not all thread-safe); the worker just waits out the WAV's duration.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from display.voice import wav_duration, write_temp_wav

log = logging.getLogger(__name__)


class KivySoundPlayer:
    """A blocking ``play(wav)`` for :class:`display.voice.Announcer`."""

    def __init__(self) -> None:
        self.played = 0
        self.failed = 0

    def __call__(self, wav: bytes) -> None:
        from kivy.clock import Clock
        from kivy.core.audio import SoundLoader

        path = write_temp_wav(wav)
        started = threading.Event()
        holder: dict[str, Any] = {}

        def start(_dt: float) -> None:
            try:
                sound = SoundLoader.load(str(path))
                if sound is not None:
                    sound.play()
                holder["sound"] = sound
            except Exception as exc:  # a broken audio device must not stop the display
                log.warning("cannot play announcement: %s", exc)
            finally:
                started.set()

        Clock.schedule_once(start)
        if not started.wait(10):
            self.failed += 1
            log.warning("announcement not played: the screen did not start the sound within 10 s")
            return
        sound = holder.get("sound")
        if sound is None:
            self.failed += 1
            log.warning("announcement not played: no audio output could load it")
            return
        time.sleep(wav_duration(wav) + 0.05)

        def finish(_dt: float) -> None:
            sound.stop()
            sound.unload()

        Clock.schedule_once(finish)
        self.played += 1
