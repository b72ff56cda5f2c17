"""What one report covers: office, period, filters, the misuse switch, and the
SQL expressions that turn stored UTC times into the office's local dates.

Times are stored as naive UTC; leaders count in local days.  On PostgreSQL
the zone conversion is the database's own (``timezone()``); SQLite has no
zone database, so the zone's UTC offset in the middle of the period is added
(Vietnam has kept one offset since 1975).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def key_text(value: Any) -> str:
    """A local day or hour key as text: 'YYYY-MM-DD' or 'YYYY-MM-DD HH...'."""
    return value if isinstance(value, str) else value.isoformat(" ")


class Scope:
    """One report request and the SQL helpers that depend on its database."""

    def __init__(self, s: Session, office: m.Office, period: Period,
                 filters: Filters = Filters(), include_misuse: bool = False) -> None:
        self.s, self.office, self.period, self.filters = s, office, period, filters
        self.include_misuse = include_misuse
        self.pg = s.get_bind().dialect.name == "postgresql"
        self.tz = office.timezone
        self._sqlite_shift = f"{period.offset_minutes():+d} minutes"
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

    def local_day(self, col: Any) -> Any:
        """The local date: 'YYYY-MM-DD' on SQLite, its midnight on PostgreSQL
        (``date_trunc`` groups faster than ``to_char``); see :func:`key_text`."""
        if self.pg:
            return func.date_trunc("day", self._local(col))
        return func.date(col, self._sqlite_shift)

    def local_day_hour(self, col: Any) -> Any:
        """The local hour: day, hour and weekday in one key ('YYYY-MM-DD HH' on
        SQLite, the hour's start on PostgreSQL)."""
        if self.pg:
            return func.date_trunc("hour", self._local(col))
        return func.strftime("%Y-%m-%d %H", col, self._sqlite_shift)

    def local_hour(self, col: Any) -> Any:
        if self.pg:
            return cast(func.extract("hour", self._local(col)), Integer)
        return cast(func.strftime("%H", col, self._sqlite_shift), Integer)

    def local_weekday(self, col: Any) -> Any:
        """0 = Monday ... 6 = Sunday."""
        if self.pg:
            return cast(func.extract("isodow", self._local(col)), Integer) - 1
        return (cast(func.strftime("%w", col, self._sqlite_shift), Integer) + 6) % 7

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
