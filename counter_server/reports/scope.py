"""What one report covers: office, period, filters, the misuse switch, and the
SQL expressions that turn stored UTC times into the office's local dates.

Times are stored as naive UTC; leaders count in local days and hours.
Local hours are grouped by UTC keys that zoneinfo converts in Python
(:meth:`Scope.time_key`); a local day on PostgreSQL is the database's own
conversion (``timezone()``); SQLite has no zone database, so its day keys
use the zone's UTC offset in the middle of the period (Vietnam has kept one
offset since 1975).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, cast, func
from sqlalchemy.orm import Session

from .. import models as m
from ..defaults import office_settings
from .period import Period

T, R = m.Ticket, m.Rating
# Groupings of every report table; ``None`` stands for the whole period.
GROUPS = ("staff", "counter", "service", "day", "hour", "weekday")
ENTITIES = ("staff", "counter", "service")  # the groupings that are a column


@dataclass(frozen=True)
class Filters:
    service_id: int | None = None
    counter_id: int | None = None
    staff_id: int | None = None


class Scope:
    """One report request and the SQL helpers that depend on its database."""

    def __init__(self, s: Session, office: m.Office, period: Period,
                 filters: Filters = Filters(), include_misuse: bool = False) -> None:
        self.s, self.office, self.period, self.filters = s, office, period, filters
        self.include_misuse = include_misuse
        self.pg = s.get_bind().dialect.name == "postgresql"
        self.tz = office.timezone
        self.zone = ZoneInfo(office.timezone)
        self._offset = period.offset_minutes()
        self._local_text: dict[tuple[Any, bool], str] = {}
        st = office_settings(office.settings)
        self.levels: list[dict[str, Any]] = sorted(st["rating_levels"], key=lambda lv: -lv["value"])
        self.reasons = {r["code"]: r["label"] for r in st["rating_reasons"]}
        self.low_levels = [lv["value"] for lv in self.levels if lv.get("low")]

    def fetch(self, query: Any) -> list[Any]:
        """All rows of a Core query, without the ORM's per-row result handling
        (report queries return thousands of plain tuples)."""
        return self.s.connection().execute(query).all()

    # ------------------------------------------------------ local times in SQL
    def _local(self, col: Any) -> Any:
        return func.timezone(self.tz, func.timezone("UTC", col))

    def time_key(self, col: Any, hourly: bool) -> Any:
        """A key grouping stored times by local day or hour, read back with
        :meth:`local_text`; cheap to compute on every row.

        A local hour is keyed by UTC: PostgreSQL truncates the UTC time to
        the hours that start where local hours start (the zone's minutes past
        the hour), and :meth:`local_text` converts each key with zoneinfo.
        A local day on PostgreSQL is the truncated local time.  SQLite has
        neither time zones nor cheap date functions, so its stored text
        ('YYYY-MM-DD HH:MM:SS...', UTC) is cut: the UTC hour (day) and whether
        the time is past the minute (time of day) where the local hour (day)
        turns over, e.g. '2026-03-09' + 1 for 17:00 UTC and after in Vietnam."""
        n, edge = self._cut(hourly)
        if self.pg:
            if not hourly:
                return func.date_trunc("day", self._local(col))
            shift = dt.timedelta(minutes=int(edge))
            return func.date_trunc("hour", col - shift) + shift if shift else func.date_trunc("hour", col)
        past = (func.substr(col, n + 2, len(edge)) >= edge).self_group()
        return func.substr(col, 1, n).op("||")(past)

    def _cut(self, hourly: bool) -> tuple[int, str]:
        """(length of the UTC text prefix, UTC 'MM' or 'HH:MM' where local time turns over)."""
        edge = -self._offset % (60 if hourly else 1440)
        return (13, f"{edge:02d}") if hourly else (10, f"{edge // 60:02d}:{edge % 60:02d}")

    def local_text(self, key: Any, hourly: bool) -> str:
        """'YYYY-MM-DD HH' local ('YYYY-MM-DD' for a day), from a :meth:`time_key` value."""
        text = self._local_text.get((key, hourly))
        if text is None:
            if self.pg and not hourly:
                text = f"{key:%Y-%m-%d}"
            else:
                utc = key
                if not self.pg:  # a UTC time inside the key's span: its start or the turn-over
                    n, edge = self._cut(hourly)
                    turn = key[n:] == "1"
                    utc = dt.datetime.fromisoformat(
                        key[:n] + ((f":{edge}" if turn else ":00") if hourly
                                   else (f" {edge}" if turn else " 00:00")))
                local = utc.replace(tzinfo=dt.timezone.utc).astimezone(self.zone)
                text = f"{local:%Y-%m-%d %H}" if hourly else f"{local:%Y-%m-%d}"
            self._local_text[key, hourly] = text
        return text

    def local_hour(self, col: Any) -> Any:
        """The local hour 0..23 (PostgreSQL, for percentiles per hour)."""
        return cast(func.extract("hour", self._local(col)), Integer)

    def local_weekday(self, col: Any) -> Any:
        """0 = Monday ... 6 = Sunday (PostgreSQL)."""
        return cast(func.extract("isodow", self._local(col)), Integer) - 1

    def whole_minutes(self, seconds: Any) -> Any:
        """floor(seconds / 60) for non-negative seconds."""
        if self.pg:
            return cast(func.floor(seconds / 60), Integer)
        return cast(seconds / 60, Integer)  # SQLite's CAST truncates

    def seconds(self, a: Any, b: Any) -> Any:
        """``b - a`` in seconds (NULL when either is NULL)."""
        if self.pg:
            return func.extract("epoch", b - a)
        return (func.julianday(b) - func.julianday(a)) * 86400.0

    # ------------------------------------------------------------ WHERE parts
    def _filter_clauses(self, model: Any) -> list[Any]:
        """The service / counter / officer filters, on tickets or ratings alike."""
        f = self.filters
        return [getattr(model, col) == value for col, value in
                (("service_id", f.service_id), ("counter_id", f.counter_id),
                 ("staff_id", f.staff_id)) if value]

    def ticket_where(self) -> list[Any]:
        """Tickets issued in the period (a ticket counts where it was issued)."""
        p = self.period
        return [T.office_id == self.office.id, T.issued_at >= p.start_utc,
                T.issued_at < p.end_utc, *self._filter_clauses(T)]

    def rating_where(self, misuse: bool | None = None) -> list[Any]:
        """Ratings given in the period; misuse left out unless the scope includes
        it (``misuse=True``: only the misuse presses)."""
        p = self.period
        w = [R.office_id == self.office.id, R.created_at >= p.start_utc,
             R.created_at < p.end_utc, *self._filter_clauses(R)]
        if misuse is True:
            w.append(R.misuse.is_(True))
        elif not self.include_misuse:
            w.append(R.misuse.is_(False))
        return w
