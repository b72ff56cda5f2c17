"""Opening hours: reading what an administrator types, and when an office opens next.

Stored hours are ``{"mon": [["07:00", "11:30"], ["13:30", "17:00"]], ...}``
(missing or empty day: closed).  The admin form, the TOML import and the
kiosk all go through this module, so a rule about hours exists once.  It
imports nothing but the standard library: the kiosk uses it too.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Day names an administrator may type: English and the Vietnamese "T2 ... T7, CN".
DAY_ALIASES = {
    **{d: d for d in DAYS},
    "t2": "mon", "t3": "tue", "t4": "wed", "t5": "thu", "t6": "fri", "t7": "sat", "cn": "sun",
    "thứ 2": "mon", "thứ 3": "tue", "thứ 4": "wed", "thứ 5": "thu", "thứ 6": "fri",
    "thứ 7": "sat", "chủ nhật": "sun",
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

# Why a place is closed at a given moment (see :func:`closed_reason`).
BEFORE_OPENING, LUNCH_BREAK, AFTER_HOURS, DAY_OFF = ("before_opening", "lunch_break",
                                                     "after_hours", "day_off")


class HoursError(ValueError):
    """Hours text that cannot be stored; ``message`` is an English msgid, ``params`` its values."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message, self.params = message, params


def _minutes(text: str, span: str) -> int:
    mt = _TIME.match(text.strip())
    if not mt:
        raise HoursError("Hours must look like 07:00-11:30 (got “{span}”).", span=span)
    h, m = int(mt[1]), int(mt[2])
    if m > 59 or h > 24 or (h == 24 and m):
        raise HoursError("“{time}” is not a time of day (00:00 to 24:00).", time=text.strip())
    return h * 60 + m


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def day_key(name: str) -> str:
    key = DAY_ALIASES.get(" ".join(name.strip().lower().split()))
    if key is None:
        raise HoursError("Unknown day “{day}” in the hours (use mon … sun or T2 … T7, CN).",
                         day=name.strip())
    return key


def check_spans(day: str, spans: Iterable[Iterable[str]]) -> list[list[str]]:
    """Spans of one day, each valid, in order and not overlapping (normalised HH:MM)."""
    parsed = []
    for span in spans:
        a, b = list(span)
        text = f"{a}-{b}"
        start, end = _minutes(str(a), text), _minutes(str(b), text)
        if end <= start:
            raise HoursError("In “{span}” the end is not after the start.", span=text)
        parsed.append((start, end))
    parsed.sort()
    for (a1, b1), (a2, b2) in zip(parsed, parsed[1:]):
        if a2 < b1:
            raise HoursError("On {day} the spans {first} and {second} overlap.", day=day,
                             first=f"{_hhmm(a1)}-{_hhmm(b1)}", second=f"{_hhmm(a2)}-{_hhmm(b2)}")
    return [[_hhmm(a), _hhmm(b)] for a, b in parsed]


def parse_hours(text: str) -> dict[str, list[list[str]]] | None:
    """``mon: 07:00-11:30, 13:30-17:00`` (or ``T2: ...``) per line → the stored dict.

    Blank text → None (the caller decides what "no hours" means)."""
    if not text.strip():
        return None
    out: dict[str, list[list[str]]] = {d: [] for d in DAYS}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, spans = line.partition(":")
        if not sep:
            raise HoursError("Each line of the hours is “day: 07:00-11:30, …” (got “{line}”).",
                             line=line.strip())
        key = day_key(name)
        pairs = []
        for span in filter(None, (x.strip() for x in spans.split(","))):
            a, dash, b = span.partition("-")
            if not dash:
                raise HoursError("Hours must look like 07:00-11:30 (got “{span}”).", span=span)
            pairs.append((a, b))
        out[key] = check_spans(name.strip(), out[key] + pairs)
    return out


def format_hours(hours: dict[str, Any] | None) -> str:
    """The stored dict as the form shows it (one line per day, in the stored order)."""
    if not hours:
        return ""
    return "\n".join(f"{d}: " + ", ".join(f"{a}-{b}" for a, b in spans)
                     for d, spans in hours.items())


def _spans(hours: dict[str, Any], day: dt.date) -> list[tuple[int, int]]:
    return sorted((_minutes(a, a), _minutes(b, b)) for a, b in hours.get(DAYS[day.weekday()]) or [])


def within_hours(hours: dict[str, Any] | None, local: dt.datetime) -> bool:
    """True when ``local`` falls in one of the day's spans (no hours: always open)."""
    if not hours:
        return True
    now = local.hour * 60 + local.minute
    return any(a <= now < b for a, b in _spans(hours, local.date()))


def closed_reason(hours: dict[str, Any] | None, local: dt.datetime) -> str:
    """Why ``hours`` are closed at ``local``: before opening, lunch break, after hours,
    day off; "" when open."""
    if within_hours(hours, local):
        return ""
    spans = _spans(hours or {}, local.date())
    if not spans:
        return DAY_OFF
    now = local.hour * 60 + local.minute
    if now < spans[0][0]:
        return BEFORE_OPENING
    if now >= spans[-1][1]:
        return AFTER_HOURS
    return LUNCH_BREAK


def next_opening(hours: dict[str, Any] | None, local: dt.datetime) -> dt.datetime | None:
    """The next moment after ``local`` when ``hours`` open (same tzinfo); None if never."""
    if not hours:
        return None
    now = local.hour * 60 + local.minute
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for ahead in range(8):
        day = midnight + dt.timedelta(days=ahead)
        for start, _end in _spans(hours, day.date()):
            if ahead or start > now:
                return day + dt.timedelta(minutes=start)
    return None
