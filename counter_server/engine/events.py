"""Event emission: one event row per state change, emitted through the
write transaction (``db.Tx.emit``) and stored when it commits.

The payload carries what screens show of the changed ticket and counter and,
for every queue event, the office's new per-service waiting counts, so the
kiosk, the display, the consoles and the tablets update from the event
itself (``event_types.PAYLOADS`` lists the keys).  It never holds the
ticket's public code.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from .. import statements as st
from ..db import Tx
from ..event_types import QUEUE_TYPES
from .estimates import office_queue
from .hours import utcnow


def iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.replace(tzinfo=dt.timezone.utc).isoformat()


def transfer_history(conn: Any, chain: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A ticket's transfer chain with names (services, counter numbers, the
    officer), so a console shows where the citizen has been.  Nothing to read
    for a ticket never transferred; one statement per hop otherwise."""
    out = []
    for hop in chain or []:
        names = conn.execute(st.TRANSFER_NAMES, {
            "b_from_service": hop.get("from_service_id"), "b_to_service": hop.get("to_service_id"),
            "b_from_counter": hop.get("from_counter_id"), "b_to_counter": hop.get("to_counter_id"),
            "b_staff": hop.get("staff_id")}).one()
        out.append({"at": hop.get("at"), "from_service": names.from_service,
                    "from_counter": names.from_counter, "to_service": names.to_service,
                    "to_counter": names.to_counter, "by": names.by})
    return out


def ticket_summary(s: Any, t: Any, counter: Any = None) -> dict[str, Any]:
    """What the display and consoles need about a ticket (never its code).
    ``t`` is an ORM object or a row of the ticket table; ``counter``, when
    given, the counter row it is at (saves reading the counter's number)."""
    counter_number = None
    if t.counter_id is not None:
        if counter is not None and counter.id == t.counter_id:
            counter_number = counter.number
        else:
            counter_number = s.connection().execute(
                st.COUNTER_NUMBER, {"b_id": t.counter_id}).scalar()
    chain = t.transfer_chain
    return {
        "id": t.id, "number": t.number, "display_number": t.display_number,
        "service_id": t.service_id, "status": t.status, "priority_class": t.priority_class,
        "counter_id": t.counter_id, "counter_number": counter_number,
        "target_counter_id": t.target_counter_id,
        "recall_count": t.recall_count, "issued_at": iso(t.issued_at),
        "called_at": iso(t.called_at), "started_at": iso(t.started_at),
        "finished_at": iso(t.finished_at),
        "transfers": transfer_history(s.connection(), chain) if chain else [],
    }


def staff_brief(staff_id: int | None, name: str | None, photo: str | None) -> dict[str, Any] | None:
    """The officer at a counter as screens show them (the tablet's name and photo)."""
    if staff_id is None:
        return None
    return {"id": staff_id, "full_name": name or "",
            "photo_url": f"/photos/{staff_id}" if photo else None}


def counter_summary(c: Any, staff: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": c.id, "number": c.number, "name": c.name, "state": c.state,
            "pause_reason": c.pause_reason, "staff_id": c.staff_id,
            "current_ticket_id": c.current_ticket_id, "staff": staff}


def _staff_of(tx: Tx, c: Any) -> dict[str, Any] | None:
    if c.staff_id is None:
        return None
    row = tx.connection().execute(st.STAFF_BRIEF, {"b_id": c.staff_id}).first()
    return None if row is None else staff_brief(row.id, row.full_name, row.photo)


def append_event(tx: Tx, office_id: int, type_: str, *, ticket: Any = None,
                 counter: Any = None, staff_id: int | None = None,
                 payload: dict[str, Any] | None = None, now: dt.datetime | None = None,
                 office: Any = None, staff: Any = ...) -> None:
    """Emit one event in ``tx``: ``ticket`` and ``counter`` (ORM objects or
    rows, as they are after the change) go into its payload.  When the
    caller has read them: ``office``, a row with the office's timezone,
    settings and opening hours (the waiting counts need them), ``staff``,
    the counter's officer as ``staff_brief`` makes it, the waiting counts
    themselves as ``payload["services"]`` and the ticket's block as
    ``payload["ticket"]``."""
    tx.flush()  # pending ORM changes first: ids and states as they will be stored
    now = now or utcnow()
    body = dict(payload or {})
    if ticket is not None and "ticket" not in body:
        body["ticket"] = ticket_summary(tx, ticket, counter)
    if counter is not None:
        body.setdefault("counter", counter_summary(
            counter, _staff_of(tx, counter) if staff is ... else staff))
    if type_ in QUEUE_TYPES and "services" not in body:  # (unless the caller counted them)
        body["services"] = office_queue(tx.connection(), office_id, now, office)[2]
    tx.emit(office_id, type_, ticket_id=ticket.id if ticket is not None else None,
            counter_id=counter.id if counter is not None else (
                ticket.counter_id if ticket is not None else None),
            staff_id=staff_id, created_at=now, payload=body)
