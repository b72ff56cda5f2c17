"""What the kiosk reads aloud, and when a touch reads and when it confirms.

With the speaker button on, a first touch on a service (or on a priority
group) reads its name; a second touch on the same one confirms it.  The
priority question is read when its screen opens, the ticket's number and
counter when it is issued.  Sentences are always Vietnamese (the voice
engines speak Vietnamese), from the kiosk's catalog; numbers are put into
words here with the display's rules (:mod:`display.voice.numbers`), and the
speaking itself is :class:`display.voice.Speaker`'s.  No Kivy here.
"""
from __future__ import annotations

import gettext
import time
from typing import Any, Callable, Sequence

from counter_server.i18n import load
from display.voice import VoiceError, VoiceSettings, read_number, read_ticket_number
from kiosk.strings import LOCALE_DIR

#: A second touch sooner than this is the first one bouncing (or a double tap): ignored.
CONFIRM_GUARD_SECONDS = 0.5
#: A first touch left this long without its second no longer counts: the next touch reads again.
ARMED_SECONDS = 20.0
#: Engines that can read any sentence; recorded clips only hold the announcement's words.
FREE_TEXT_FALLBACK = "espeak-ng"

READ, CONFIRM, BOUNCE = "read", "confirm", "bounce"


def _vi() -> gettext.NullTranslations:
    """The Vietnamese catalog, whatever language the screen shows: speech is Vietnamese."""
    return load(LOCALE_DIR, "kiosk", "vi")


def service_sentence(name: str) -> str:
    return _vi().gettext("{service}. Touch again to get a queue number.").format(service=name)


def priority_question() -> str:
    return _vi().gettext("Do you belong to a priority group? Touch a picture to hear it, "
                         "touch it again to choose.")


def choice_sentence(label: str) -> str:
    """``label``: the English label of a priority choice (strings.PRIORITY_CHOICES)."""
    return _vi().gettext("{choice}. Touch again to choose.").format(choice=_vi().gettext(label))


def speech_on_sentence() -> str:
    return _vi().gettext("Reading aloud is on. Touch your service to hear its name, "
                         "touch it again to get a queue number.")


def ticket_sentence(display_number: str, counters: Sequence[int], number_mode: str = "words") -> str:
    """"Số thứ tự của ông bà là ... Khi được gọi, mời ông bà đến quầy số ..." in words."""
    vi = _vi()
    number = read_ticket_number(display_number, number_mode)
    text = vi.gettext("Your queue number is {number}.").format(number=number)
    words = [read_number(int(c)) for c in counters]
    if len(words) == 1:
        text += " " + vi.gettext("When it is called, please go to counter {counter}.").format(
            counter=words[0])
    elif words:
        joined = ", ".join(words[:-1]) + " " + vi.gettext("or") + " " + words[-1]
        text += " " + vi.gettext("When it is called, please go to one of the counters {counters}.").format(
            counters=joined)
    return text


def voice_settings(office: dict[str, Any], engine: str | None = None) -> VoiceSettings:
    """The kiosk's voice: the office's engine (or ``engine``), said once, no chime.

    An office on recorded clips gets espeak-ng here: clips cannot say service names.
    """
    chosen = engine or office.get("voice_engine") or FREE_TEXT_FALLBACK
    if chosen == "clips":
        chosen = FREE_TEXT_FALLBACK
    try:
        return VoiceSettings(engine=chosen, repeat=1, chime=False,
                             number_mode=office.get("voice_number_mode") or "words")
    except (ValueError, VoiceError):
        return VoiceSettings(engine=FREE_TEXT_FALLBACK, repeat=1, chime=False)


class TwoTouch:
    """First touch on a target reads it; a second touch on the same target confirms.

    ``touch(target)`` answers :data:`READ` (say it, wait for the second),
    :data:`CONFIRM` (act) or :data:`BOUNCE` (the same touch again: nothing).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.target: Any = None
        self.armed_at = 0.0

    def touch(self, target: Any) -> str:
        now = self._clock()
        if target == self.target and now - self.armed_at <= ARMED_SECONDS:
            if now - self.armed_at < CONFIRM_GUARD_SECONDS:
                return BOUNCE
            self.clear()
            return CONFIRM
        self.target, self.armed_at = target, now
        return READ

    def clear(self) -> None:
        self.target = None
