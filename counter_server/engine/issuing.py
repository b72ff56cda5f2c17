"""Issuing a ticket: the next number of the service's day, the ticket row
and its ``ticket.issued`` event, in the caller's write transaction.

Numbers come from a per-(service, day) sequence row bumped by one UPDATE
(never ``max(number) + 1`` read then written), so two kiosks can never get
the same number, on SQLite or PostgreSQL.  Core statements throughout
(statements.py): this runs for every ticket printed.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from .. import models as m
from .. import statements as st
from ..db import Tx, insert_if_absent
from .errors import DomainError, not_found
from .estimates import office_queue
from .events import append_event
from .hours import CLOSED_MESSAGES, service_day, service_open_state, utcnow


@dataclass
class Issued:
    ticket: Any  # the ticket row as stored (attribute access like the ORM object)
    created: bool
    service: Any = None  # its service's row, when it was read on the way
    pace: float | None = None  # its service's minutes per case, when counted on the way


def _next_number(tx: Tx, service_id: int, day: dt.date) -> int:
    """Atomically take the next sequence value for (service, day)."""
    conn = tx.connection()
    params = {"b_service": service_id, "b_day": day}
    row = conn.execute(st.SEQUENCE_BUMP, params).first()
    if row is None:  # first ticket of the day: create the row (racing creators are fine)
        insert_if_absent(conn, st.SEQUENCE, service_id=service_id, service_day=day,
                         last_number=0)
        row = conn.execute(st.SEQUENCE_BUMP, params).one()
    return int(row[0])


def format_number(service: Any, number: int) -> str:
    return f"{service.prefix}{number:03d}" if service.prefix else str(number)


def issue_ticket(tx: Tx, office_id: int, service_id: int, *, priority_class: str = "",
                 idempotency_key: str | None = None, device_id: int | None = None,
                 now: dt.datetime | None = None) -> Issued:
    """Store the service's next ticket and its event; with an idempotency key
    already used in the office, the ticket issued then (``created`` False)."""
    now = now or utcnow()
    tx.flush()
    conn = tx.connection()
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
    if not service.served:
        # Kept off the kiosk (GET /services lists no counter for it); refused here too.
        raise DomainError("no_counter_serves", "No counter serves this service yet; please ask "
                          "at a counter.", 409)
    day = service_day(office, now)
    seq = _next_number(tx, service.id, day)
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
    _office, _rows, queue, paces = office_queue(conn, office_id, now, office)
    append_event(tx, office_id, "ticket.issued", ticket=ticket, now=now,
                 payload={"services": queue})
    # (.get: on PostgreSQL an admin may deactivate the service meanwhile)
    return Issued(ticket, True, service, paces.get(service.id))
