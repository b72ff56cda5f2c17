"""Speaking: the engine the settings choose, a sentence rendered to one WAV, said now.

The one speaking layer of the project.  The lobby display's
:class:`~display.voice.announce.Announcer` (calls said one after another,
under the queue policy of :mod:`.queue`) and the kiosk's :class:`Speaker`
(what a citizen touches, said at once; a new touch cuts off the last
sentence) both render through :class:`Voice` and play through a player of
:mod:`.player`.  No Kivy, no Flask.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable, Protocol

from .audio import Pcm, chime, concat, silence, to_wav, wav_duration
from .cache import WavCache
from .engines import Engine, get_engine
from .settings import VoiceSettings

__all__ = ["Player", "Speaker", "Voice", "synthesize_text"]

log = logging.getLogger(__name__)

_LEAD, _AFTER_CHIME, _TAIL = 0.08, 0.35, 0.2


def _assemble(settings: VoiceSettings, speech: Pcm) -> Pcm:
    """Chime, then the sentence ``repeat`` times with a pause between."""
    rate = speech.rate if speech.frames else settings.sample_rate
    parts: list[Pcm] = []
    if settings.chime:
        parts += [chime(rate, settings.chime_volume), silence(rate, _AFTER_CHIME)]
    if speech.frames:
        for i in range(settings.repeat):
            if i:
                parts.append(silence(rate, settings.pause))
            parts.append(speech)
    if not parts:
        return Pcm(rate, b"")
    return concat(rate, [silence(rate, _LEAD), *parts, silence(rate, _TAIL)])


def synthesize_text(settings: VoiceSettings, text: str, *, engine: Engine | None = None,
                    cache: WavCache | None = None) -> bytes:
    """One complete WAV saying ``text`` (chime and repeats as the settings say).

    An engine that says nothing (``none``) gives a chime-only WAV, or a WAV
    with no frames when the chime is off: callers skip playing it.
    """
    engine = engine or get_engine(settings)

    def render() -> bytes:
        return to_wav(_assemble(settings, engine.speak(text)))

    if cache is None:
        return render()
    return cache.get_or_render(settings, text, render, salt=engine.fingerprint())


class Voice:
    """Voice settings and the engine they select, chosen once and kept until the settings change.

    Thread-safe: the settings may change on a UI thread while a worker renders.
    """

    def __init__(self, settings: VoiceSettings | None = None) -> None:
        self._lock = threading.Lock()
        self._settings = settings or VoiceSettings()
        self._engine: Engine | None = None

    @property
    def settings(self) -> VoiceSettings:
        return self._settings

    def set_settings(self, settings: VoiceSettings) -> None:
        with self._lock:
            self._settings = settings
            self._engine = None

    def current(self) -> tuple[VoiceSettings, Engine]:
        """The settings and their engine (selected on first use)."""
        with self._lock:
            if self._engine is None:
                self._engine = get_engine(self._settings)
            return self._settings, self._engine

    def render(self, text: str, *, repeat: int | None = None, chime: bool | None = None,
               cache: WavCache | None = None) -> bytes:
        """The WAV saying ``text``; ``repeat`` and ``chime`` override the settings."""
        settings, engine = self.current()
        changes = {k: v for k, v in (("repeat", repeat), ("chime", chime))
                   if v is not None and v != getattr(settings, k)}
        if changes:
            settings = settings.replace(**changes)
        return synthesize_text(settings, text, engine=engine, cache=cache)


class Player(Protocol):
    """Plays a WAV and returns when it has finished, or as soon as ``cancel`` is set.

    ``on_start`` is called when the sound really starts (benchmarks, tests).
    The display's announcer calls ``play(wav)`` alone: it never interrupts.
    """

    def __call__(self, wav: bytes, cancel: threading.Event | None = None,
                 on_start: Callable[[], None] | None = None) -> None: ...


class Speaker:
    """Says one sentence at a time, at once: a new sentence replaces the one being said.

    For the kiosk, where what is said follows the citizen's finger: ``say()``
    only hands the text to a worker thread and returns (safe on the UI
    thread); the sentence still being rendered or played is cancelled.
    Nothing queues up behind.  Each sentence is said once, without the
    display's chime.  ``spoken`` lists ``(text, started)`` for each sentence
    whose sound started (``time.perf_counter()``); errors are logged and
    passed to ``on_error``, and the next sentence is tried as usual.
    """

    def __init__(self, voice: Voice, play: Player, *,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.voice = voice
        self._play = play
        self._on_error = on_error
        self._cond = threading.Condition()
        self._next: str | None = None
        self._cancel = threading.Event()  # of the sentence being rendered or played
        self._busy = False
        self._closed = False
        self.spoken: deque[tuple[str, float]] = deque(maxlen=100)
        self._thread = threading.Thread(target=self._run, name="motcua-speaker", daemon=True)
        self._thread.start()

    def say(self, text: str) -> None:
        """Say ``text`` now, cutting off whatever is being said; returns at once."""
        text = " ".join(text.split())
        with self._cond:
            if self._closed:
                return
            self._cancel.set()
            self._next = text or None
            self._cond.notify_all()

    def hush(self) -> None:
        """Stop talking (the citizen went away); returns at once."""
        with self._cond:
            self._cancel.set()
            self._next = None

    def wait(self, timeout: float | None = None) -> bool:
        """Until nothing is being said or waiting to be; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._next is None and not self._busy, timeout)

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the worker (idempotent); what is being said is cut off."""
        with self._cond:
            self._closed = True
            self._next = None
            self._cancel.set()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._next is not None or self._closed)
                if self._closed:
                    self._cond.notify_all()
                    return
                text, self._next = self._next, None
                cancel = self._cancel = threading.Event()
                self._busy = True
            try:
                wav = self.voice.render(text, repeat=1, chime=False)
                if not cancel.is_set() and wav_duration(wav) > 0:
                    self._play(wav, cancel, lambda: self.spoken.append((text, time.perf_counter())))
            except Exception as exc:  # a broken engine or player must not stop the next sentence
                log.warning("could not say %r: %s", text, exc)
                if self._on_error is not None:
                    try:
                        self._on_error(exc)
                    except Exception:
                        log.exception("speaker on_error callback failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
