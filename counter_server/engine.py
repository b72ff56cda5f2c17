"""The queue engine: every ticket and counter transition, no HTTP in sight.

Each public function runs inside the caller's write transaction and appends
exactly one event row per state change, so the event stream, the audit trail
and the statistics all agree with the tickets.  Functions raise
:class:`DomainError` for anything the state machine forbids; the caller
rolls the transaction back and nothing changes.
"""
from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import event as sa_event, func, select
from sqlalchemy.orm import Session

from . import models as m
from . import statements as st
from .db import EVENT_OFFICES, PENDING_EVENTS
from .defaults import office_settings


class DomainError(Exception):
    """A refused action: ``code`` for machines, ``message`` (English msgid,
    translated at the edge) for people, ``status`` the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 409, **params: Any) -> None:
        super().__init__(code)
        self.code, self.message, self.status, self.params = code, message, status, params


def not_found(what: str) -> DomainError:
    return DomainError(f"{what}_not_found", f"{what.capitalize()} not found.", 404)


# --------------------------------------------------------------------------- time
def utcnow() -> dt.datetime:
    return m.utcnow()


def local_time(office: m.Office, when_utc: dt.datetime) -> dt.datetime:
    return when_utc.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(office.timezone))


def service_day(office: m.Office, when_utc: dt.datetime) -> dt.date:
    return local_time(office, when_utc).date()


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def within_hours(hours: dict[str, Any] | None, local: dt.datetime) -> bool:
    """True when ``local`` falls in one of the day's ["HH:MM", "HH:MM"] spans."""
    if not hours:
        return True
    hhmm = local.strftime("%H:%M")
    return any(a <= hhmm < b for a, b in hours.get(_DAYS[local.weekday()], []))


def service_open_state(office: m.Office, service: m.Service, now: dt.datetime,
                       issued_today: Optional[int] = None) -> tuple[bool, str]:
    """(open, reason code) for a service at ``now``; reason "" when open."""
    if not service.active:
        return False, "service_closed"
    settings = office_settings(office.settings)
    if settings["enforce_hours"]:
        local = local_time(office, now)
        if not within_hours(office.opening_hours, local):
            return False, "office_closed"
        if service.hours and not within_hours(service.hours, local):
            return False, "outside_hours"
    if issued_today is not None:
        if service.daily_cap is not None and issued_today >= service.daily_cap:
            return False, "daily_cap_reached"
        if service.number_start + issued_today > service.number_end:
            return False, "daily_cap_reached"
    return True, ""


CLOSED_MESSAGES = {
    "service_closed": "This service is not available.",
    "office_closed": "The office is closed now.",
    "outside_hours": "This service is not taking tickets at this time.",
    "daily_cap_reached": "No more tickets for this service today.",
}


# ------------------------------------------------------------------------ events
def append_event(s: Session, office_id: int, type_: str, *, ticket: Any = None,
                 counter: Any = None, staff_id: int | None = None,
                 payload: dict[str, Any] | None = None, now: dt.datetime | None = None) -> None:
    """Append one event row to the caller's transaction.

    ``ticket`` and ``counter`` may be ORM objects or rows with the same
    attribute names (the hot paths use Core rows).  The row is inserted when
    the transaction commits, with every other event of the transaction (see
    :func:`_insert_pending_events`); a rolled-back transaction drops it."""
    s.flush()  # pending ORM changes first: ids and states as they will be stored
    s.info.setdefault(EVENT_OFFICES, set()).add(office_id)  # woken at commit (db.Database)
    body = dict(payload or {})
    if ticket is not None:
        body.setdefault("ticket", ticket_summary(s, ticket, counter))
    if counter is not None:
        body.setdefault("counter", counter_summary(counter))
    s.info.setdefault(PENDING_EVENTS, []).append({
        "office_id": office_id, "type": type_, "ticket_id": ticket.id if ticket else None,
        "counter_id": counter.id if counter is not None else (ticket.counter_id if ticket else None),
        "staff_id": staff_id, "created_at": now or utcnow(), "payload": body})


@sa_event.listens_for(Session, "before_commit")
def _insert_pending_events(s: Session) -> None:
    """The transaction's events, inserted in the order appended as its last
    statement (one ``executemany``).

    Last, because on PostgreSQL event ids must become visible in id order (a
    stream that resumes "after id N" must never skip a slower transaction's
    smaller id): each office's event lock is taken here and held until the
    commit.  Taken after every row lock of the transaction, it can never
    close a deadlock cycle with them."""
    if s.in_nested_transaction():
        return  # a savepoint of a group commit: the whole batch's events go at its end
    rows = s.info.pop(PENDING_EVENTS, None)
    if not rows:
        return
    s.flush()  # the ORM's row changes (and their locks) before the event lock
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        for office_id in sorted({r["office_id"] for r in rows}):
            conn.execute(st.EVENT_LOCK, {"b_key": 7_000_000 + office_id})
    conn.execute(st.EVENT_INSERT, rows)


@sa_event.listens_for(Session, "after_transaction_end")
def _drop_pending_events(s: Session, transaction: Any) -> None:
    """A transaction that ended without committing leaves no event behind.
    (A group commit drops the events of a refused job itself.)"""
    if transaction.parent is None:
        s.info.pop(PENDING_EVENTS, None)


def iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.replace(tzinfo=dt.timezone.utc).isoformat()


def ticket_summary(s: Session, t: Any, counter: Any = None) -> dict[str, Any]:
    """What the display and consoles need about a ticket (never its code)."""
    counter_number = None
    if t.counter_id is not None:
        if counter is not None and counter.id == t.counter_id:
            counter_number = counter.number
        else:
            counter_number = s.connection().execute(st.COUNTER_NUMBER,
                                                    {"b_id": t.counter_id}).scalar()
    return {
        "id": t.id, "number": t.number, "display_number": t.display_number,
        "service_id": t.service_id, "status": t.status, "priority_class": t.priority_class,
        "counter_id": t.counter_id, "counter_number": counter_number,
        "recall_count": t.recall_count, "issued_at": iso(t.issued_at),
        "called_at": iso(t.called_at),
    }


def counter_summary(c: m.Counter) -> dict[str, Any]:
    return {"id": c.id, "number": c.number, "name": c.name, "state": c.state,
            "pause_reason": c.pause_reason, "staff_id": c.staff_id,
            "current_ticket_id": c.current_ticket_id}


# ------------------------------------------------------------------------- issue
@dataclass
class Issued:
    ticket: Any  # the ticket row as stored (attribute access like the ORM object)
    created: bool
    service: Any = None  # its service's row, when it was read on the way


def _next_number(s: Session, service_id: int, day: dt.date) -> int:
    """Atomically take the next sequence value for (service, day)."""
    conn = s.connection()
    params = {"b_service": service_id, "b_day": day}
    row = conn.execute(st.SEQUENCE_BUMP, params).first()
    if row is None:  # first ticket of the day: create the row (racing creators are fine)
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conn.execute(insert(m.NumberSequence).values(service_id=service_id, service_day=day,
                                                     last_number=0).on_conflict_do_nothing())
        row = conn.execute(st.SEQUENCE_BUMP, params).one()
    return int(row[0])


def format_number(service: Any, number: int) -> str:
    return f"{service.prefix}{number:03d}" if service.prefix else str(number)


def issue_ticket(s: Session, office_id: int, service_id: int, *, priority_class: str = "",
                 idempotency_key: str | None = None, device_id: int | None = None,
                 now: dt.datetime | None = None) -> Issued:
    """Take the next number of the service's day and store the ticket and its
    event.  Core statements throughout: this runs for every ticket printed."""
    now = now or utcnow()
    s.flush()
    conn = s.connection()
    if idempotency_key:
        existing = conn.execute(st.TICKET_BY_KEY, {"b_office": office_id,
                                                           "b_key": idempotency_key}).first()
        if existing is not None:
            return Issued(existing, False)
    if priority_class and priority_class not in m.PRIORITY_CLASSES:
        raise DomainError("invalid_priority", "Unknown priority class.", 400)
    # One row with the service's columns and its office's timezone, settings
    # and opening hours: it stands for both.
    service = office = conn.execute(st.SERVICE_IN_OFFICE, {"b_id": service_id,
                                                           "b_office": office_id}).first()
    if service is None:
        raise not_found("service")
    is_open, reason = service_open_state(office, service, now)
    if not is_open:
        raise DomainError(reason, CLOSED_MESSAGES[reason])
    day = service_day(office, now)
    seq = _next_number(s, service.id, day)
    number = service.number_start + seq - 1
    if (service.daily_cap is not None and seq > service.daily_cap) or number > service.number_end:
        raise DomainError("daily_cap_reached", CLOSED_MESSAGES["daily_cap_reached"])
    ticket = conn.execute(st.TICKET_INSERT, {
        "office_id": office_id, "service_id": service.id, "issued_service_id": service.id,
        "service_day": day, "number": number, "display_number": format_number(service, number),
        "priority_class": priority_class, "status": m.WAITING, "issued_at": now,
        "called_at": None, "started_at": None, "finished_at": None, "counter_id": None,
        "staff_id": None, "target_counter_id": None, "recall_count": 0, "transfer_chain": [],
        "code": secrets.token_urlsafe(9), "idempotency_key": idempotency_key or None,
        "device_id": device_id,
    }).one()
    append_event(s, office_id, "ticket.issued", ticket=ticket, now=now)
    return Issued(ticket, True, service)


# ------------------------------------------------------------------- estimates
def waiting_before(s: Session, t: Any) -> int:
    return s.connection().execute(st.WAITING_BEFORE, {
        "b_office": t.office_id, "b_service": t.service_id, "b_at": t.issued_at,
        "b_id": t.id}).scalar() or 0


def average_service_minutes(s: Session, service: m.Service, samples: int = 20) -> float:
    """Mean of the service's most recent completed cases (fallback: its default)."""
    rows = s.execute(
        select(m.Ticket.started_at, m.Ticket.finished_at)
        .where(m.Ticket.office_id == service.office_id, m.Ticket.service_id == service.id,
               m.Ticket.status == m.DONE, m.Ticket.started_at.is_not(None))
        .order_by(m.Ticket.finished_at.desc()).limit(samples)).all()
    spans = [(b - a).total_seconds() / 60 for a, b in rows if a and b and b >= a]
    return sum(spans) / len(spans) if spans else float(service.default_service_minutes)


def open_counters_for(s: Session, service_id: int) -> int:
    return s.scalar(select(func.count()).select_from(m.Counter).join(m.CounterService).where(
        m.CounterService.service_id == service_id, m.Counter.state == "open",
        m.Counter.active.is_(True))) or 0


def estimate_wait_minutes(s: Session, service: m.Service, ahead: int) -> int:
    avg = average_service_minutes(s, service)
    counters = max(1, open_counters_for(s, service.id))
    return int(math.ceil(ahead * avg / counters))


def waiting_counts(s: Session, office_id: int) -> dict[int, int]:
    rows = s.execute(select(m.Ticket.service_id, func.count()).where(
        m.Ticket.office_id == office_id, m.Ticket.status == m.WAITING)
        .group_by(m.Ticket.service_id)).all()
    return {sid: n for sid, n in rows}


def issued_today(s: Session, office: m.Office, now: dt.datetime) -> dict[int, int]:
    day = service_day(office, now)
    rows = s.execute(select(m.NumberSequence.service_id, m.NumberSequence.last_number)
                     .join(m.Service).where(m.Service.office_id == office.id,
                                            m.NumberSequence.service_day == day)).all()
    return {sid: n for sid, n in rows}


from .engine_counter import (  # noqa: E402  (split for size; same public surface)
    call_next, recall, start, complete, no_show, reactivate, transfer, cancel,
)
from .engine_counter_state import (  # noqa: E402
    pause, resume, sign_in_counter, sign_out_counter,
)

__all__ = [
    "DomainError", "issue_ticket", "call_next", "recall", "start", "complete", "no_show",
    "reactivate", "transfer", "cancel", "pause", "resume", "sign_in_counter",
    "sign_out_counter", "append_event", "service_day", "estimate_wait_minutes",
    "waiting_before", "waiting_counts", "Issued",
]
