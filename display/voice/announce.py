"""Announcements: the sentence, its WAV, and a queue that plays them in turn.

Rendering (the engine the settings choose, chime and repeats) is
:mod:`.speech`'s, shared with the kiosk.

Used by the Kivy display (through :class:`Announcer`) and by the server's web
display (through :func:`synthesize` and :class:`~display.voice.cache.WavCache`),
so this module imports neither Kivy nor Flask.
"""
from __future__ import annotations

import itertools
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Callable

from .audio import wav_duration
from .cache import WavCache
from .numbers import read_number, read_ticket_number
from .queue import MAX_WAITING, AnnouncementQueue, Turn
from .queue import Call as QueuedCall
from .settings import DEFAULT_TEMPLATE, VoiceSettings
from .speech import Voice, synthesize_text

__all__ = [
    "DEFAULT_TEMPLATE",
    "Announcer",
    "VoiceSettings",
    "WavCache",
    "announcement_text",
    "default_player",
    "synthesize",
    "synthesize_text",
    "write_temp_wav",
]

log = logging.getLogger(__name__)

_PLACEHOLDERS = {"{số}": "so", "{so}": "so", "{quầy}": "quay", "{quay}": "quay"}


def _read_counter(settings: VoiceSettings, counter_number: int | str) -> str:
    """Counter numbers are always read in words ("quầy số mười hai"), whatever the number mode."""
    if isinstance(counter_number, int) and not isinstance(counter_number, bool):
        return read_number(counter_number, zero_tens=settings.zero_tens, thousand=settings.thousand)
    return read_ticket_number(str(counter_number), "words",
                              zero_tens=settings.zero_tens, thousand=settings.thousand)


def announcement_text(settings: VoiceSettings, display_number: str | int, counter_number: int | str) -> str:
    """The sentence to say: the template with the ticket and counter numbers in words.

    Numbers are spelled out here rather than left to the engine, because no
    engine reads Vietnamese numbers correctly and recorded clips cannot.
    """
    values = {
        "so": read_ticket_number(display_number, settings.number_mode,
                                 zero_tens=settings.zero_tens, thousand=settings.thousand),
        "quay": _read_counter(settings, counter_number),
    }
    text = unicodedata.normalize("NFC", settings.template)
    for placeholder, name in _PLACEHOLDERS.items():
        text = text.replace(placeholder, values[name])
    return " ".join(text.split())


def synthesize(settings: VoiceSettings, display_number: str | int, counter_number: int | str, *,
               cache: WavCache | None = None) -> bytes:
    """One complete WAV announcing ``display_number`` at ``counter_number``.

    Raises :class:`~display.voice.errors.VoiceError` (translated message)
    when the engine cannot speak, e.g. espeak-ng missing or a clip missing.
    """
    return synthesize_text(settings, announcement_text(settings, display_number, counter_number), cache=cache)


_temp_names = itertools.count()


def write_temp_wav(wav: bytes, name: str = "announcement") -> Path:
    """Write ``wav`` to a temporary file, for players that need a path (Kivy's SoundLoader).

    A handful of names are reused in turn, so the folder never grows and a
    file is never overwritten while the previous sound still plays; ``name``
    keeps two programs on one PC (kiosk and display) from sharing files.
    """
    folder = Path(tempfile.gettempdir()) / "motcua-voice"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{next(_temp_names) % 4}.wav"
    path.write_bytes(wav)
    return path


def default_player(wav: bytes) -> None:
    """Play ``wav`` and return when it has finished, with what the system has.

    Windows: the standard ``winsound`` module.  Elsewhere: the first of
    paplay, pw-play, aplay, afplay found.  With no player at all, nothing
    happens (the display still shows the number).
    """
    if sys.platform == "win32":
        import winsound  # type: ignore[import-not-found]

        winsound.PlaySound(wav, winsound.SND_MEMORY)
        return
    for program, args in (("paplay", []), ("pw-play", []), ("aplay", ["-q"]), ("afplay", [])):
        exe = shutil.which(program)
        if exe:
            subprocess.run([exe, *args, str(write_temp_wav(wav))],
                           timeout=wav_duration(wav) + 10, check=False, capture_output=True)
            return
    log.debug("no audio player found; announcement not played")


class Announcer:
    """Plays announcements one at a time, in order, under the policy of :mod:`.queue`.

    ``announce()`` only enqueues and returns at once (safe from a UI thread);
    one worker thread renders each WAV and hands it to ``play``, which must
    block until the sound has finished: that is what keeps announcements
    from overlapping.  When calls come faster than they can be said, the
    queue shortens, merges and drops them (each logged, see
    :class:`~display.voice.queue.AnnouncementQueue`).  Errors (no espeak-ng,
    a missing clip, a broken player) are logged and passed to ``on_error``;
    the worker carries on with the next announcement.
    """

    def __init__(self, settings: VoiceSettings | None = None,
                 play: Callable[[bytes], None] | None = None, *,
                 cache: WavCache | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 max_waiting: int = MAX_WAITING) -> None:
        self.voice = Voice(settings)
        self._play = play or default_player
        self._cache = cache
        self._on_error = on_error
        self.queue = AnnouncementQueue(max_waiting=max_waiting)
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="motcua-voice", daemon=True)
        self._thread.start()

    @property
    def settings(self) -> VoiceSettings:
        return self.voice.settings

    def set_settings(self, settings: VoiceSettings) -> None:
        """Use new settings from the next announcement on (queued ones included)."""
        self.voice.set_settings(settings)

    def announce(self, display_number: str | int, counter_number: int | str) -> None:
        """Queue "number ... to counter ..."; returns immediately."""
        self._put(QueuedCall(display_number, counter_number))

    def say(self, text: str) -> None:
        """Queue a free sentence (already in words), with the same chime and repeats."""
        self._put(QueuedCall("", None, text))

    @property
    def pending(self) -> int:
        """Announcements waiting, not counting the one playing."""
        with self._cond:
            return len(self.queue)

    def counts(self) -> dict[str, int]:
        """Said, shortened, merged, dropped so far, and waiting now."""
        with self._cond:
            return self.queue.counts()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been played; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self.queue.items and not self._busy, timeout)

    def stop(self, *, drain: bool = False, timeout: float | None = 5.0) -> None:
        """Stop the worker: after the current announcement, or after all queued ones with ``drain``.

        Idempotent.  The worker is a daemon thread, so a player stuck beyond
        ``timeout`` cannot keep the application from exiting.
        """
        with self._cond:
            if not self._closed:
                self._closed = True
                if not drain:
                    self.queue.clear("the display is closing")
                self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> "Announcer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(drain=exc[0] is None)

    def _put(self, call: QueuedCall) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("Announcer is stopped")
            self.queue.put(call)
            self._cond.notify_all()

    def _render(self, turn: Turn) -> bytes:
        call = turn.call
        text = call.text if call.text is not None else announcement_text(self.voice.settings,
                                                                         call.number, call.counter)
        return self.voice.render(text, repeat=turn.repeat, cache=self._cache)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self.queue.items) or self._closed)
                turn = self.queue.take(self.voice.settings.repeat)
                if turn is None:  # closed and nothing left to say
                    self._cond.notify_all()
                    return
                self._busy = True
            try:
                wav = self._render(turn)
                if wav_duration(wav) > 0:
                    self._play(wav)
            except Exception as exc:  # keep announcing whatever one announcement did
                log.warning("announcement %r failed: %s", turn.call, exc)
                if self._on_error is not None:
                    try:
                        self._on_error(exc)
                    except Exception:
                        log.exception("voice on_error callback failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
