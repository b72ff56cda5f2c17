"""Report periods: local calendar dates in the office's zone, turned into UTC bounds.

Times are stored as naive UTC, while leaders think in local days
(Asia/Ho_Chi_Minh): a ticket issued at 23:30 UTC belongs to the next local
day.  Every query therefore filters on ``[start_utc, end_utc)`` computed
here with zoneinfo, never on UTC dates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

KINDS = ("today", "week", "month", "quarter", "year", "custom")
MAX_DAYS = 3 * 366  # a guard against absurd custom ranges


class PeriodError(ValueError):
    """A period that cannot be used; ``code`` says why (bad_date, reversed,
    too_long, bad_kind), ``text`` is the offending input."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(f"{code}: {text}" if text else code)
        self.code, self.text = code, text


@dataclass(frozen=True)
class Period:
    kind: str
    first: dt.date  # local, inclusive
    last: dt.date  # local, inclusive
    tz: str

    @property
    def start_utc(self) -> dt.datetime:
        return to_utc(self.first, self.tz)

    @property
    def end_utc(self) -> dt.datetime:
        return to_utc(self.last + dt.timedelta(days=1), self.tz)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def offset_minutes(self) -> int:
        """The zone's UTC offset in the middle of the period (for SQLite, which
        has no time-zone database; Vietnam has had no DST since 1975)."""
        mid = self.first + dt.timedelta(days=self.days // 2)
        off = dt.datetime.combine(mid, dt.time(12), ZoneInfo(self.tz)).utcoffset()
        return int(off.total_seconds() // 60) if off else 0


def to_utc(day: dt.date, tz: str) -> dt.datetime:
    """Local midnight starting ``day`` as naive UTC."""
    local = dt.datetime.combine(day, dt.time(0), ZoneInfo(tz))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def local_today(tz: str, now_utc: dt.datetime | None = None) -> dt.date:
    now = now_utc or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return now.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(tz)).date()


def parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    try:  # the way people here write dates: 10/03/2026
        return dt.datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError as exc:
        raise PeriodError("bad_date", text[:40]) from exc


def make_period(kind: str | None, tz: str, start: str | None = None, end: str | None = None,
                today: dt.date | None = None) -> Period:
    """Build a period from the picker: a named one around ``today`` or custom dates.

    The picker sends its date boxes with every choice; dates that differ from
    the named period's own were typed by the leader, so they win (custom)."""
    today = today or local_today(tz)
    kind = kind or ("custom" if start or end else "month")
    if kind not in KINDS:
        raise PeriodError("bad_kind", kind[:40])
    if kind != "custom" and (start or end):
        named = make_period(kind, tz, today=today)
        first, last = parse_date(start) or named.first, parse_date(end) or named.last
        if (first, last) != (named.first, named.last):
            kind = "custom"
    if kind == "today":
        first = last = today
    elif kind == "week":
        first = today - dt.timedelta(days=today.weekday())
        last = first + dt.timedelta(days=6)
    elif kind == "month":
        first = today.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    elif kind == "quarter":
        q0 = 3 * ((today.month - 1) // 3) + 1
        first = dt.date(today.year, q0, 1)
        nxt = dt.date(today.year + (q0 == 10), 1 if q0 == 10 else q0 + 3, 1)
        last = nxt - dt.timedelta(days=1)
    elif kind == "year":
        first, last = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    else:
        first = parse_date(start) or today
        last = parse_date(end) or first
    if last < first:
        raise PeriodError("reversed")
    if (last - first).days >= MAX_DAYS:
        raise PeriodError("too_long")
    return Period(kind, first, last, tz)
