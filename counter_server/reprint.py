"""Printing a ticket again: an officer or an administrator asks, the kiosk prints.

The server never talks to a printer.  It emits one ``ticket.reprint`` event
naming the kiosk that should print (the one that issued the ticket, else the
office's first registered kiosk); that kiosk, following its event stream,
fetches the ticket with its code (``GET /api/v1/tickets/{id}/print``, answered
only to the named kiosk and only for a while) and prints it as a new one.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from . import engine as e
from . import models as m
from .db import Tx

#: Ticket states worth printing again (the citizen still needs the paper).
REPRINTABLE = (m.WAITING, m.CALLED, m.SERVING, m.NO_SHOW)
#: How long the named kiosk may fetch the ticket after the request.
FETCH_WINDOW = dt.timedelta(minutes=10)


def _kiosk_for(tx: Tx, t: m.Ticket) -> m.Device:
    kiosks = list(tx.scalars(select(m.Device).where(
        m.Device.office_id == t.office_id, m.Device.kind == "kiosk",
        m.Device.revoked.is_(False)).order_by(m.Device.id)))
    if not kiosks:
        raise e.DomainError("no_kiosk", "No kiosk is registered to print on.", 409)
    own = [d for d in kiosks if d.id == t.device_id]
    return (own or kiosks)[0]


def request_reprint(tx: Tx, office_id: int, ticket_id: int, by_user_id: int | None,
                    by_name: str) -> dict[str, Any]:
    """Emit the ``ticket.reprint`` event; refused with a clear reason when the
    ticket is not today's or finished, or the kiosk's printer reports a fault."""
    t = tx.get(m.Ticket, ticket_id)
    office = tx.get(m.Office, office_id)
    if t is None or t.office_id != office_id:
        raise e.not_found("ticket")
    if t.service_day != e.service_day(office, e.utcnow()) or t.status not in REPRINTABLE:
        raise e.DomainError("not_reprintable",
                            "Ticket {number} cannot be printed again: only today's tickets "
                            "still waiting, called or marked absent can.", 409,
                            number=t.display_number)
    kiosk = _kiosk_for(tx, t)
    if kiosk.status == "error":
        raise e.DomainError("printer_fault",
                            "The printer of kiosk “{kiosk}” reports a fault: {fault}", 409,
                            kiosk=kiosk.name, fault=kiosk.last_error or kiosk.status)
    e.append_event(tx, office_id, "ticket.reprint", ticket=t, staff_id=by_user_id,
                   payload={"device_id": kiosk.id, "requested_by": by_name})
    return {"ticket_id": t.id, "display_number": t.display_number, "kiosk": kiosk.name}


def ticket_to_print(s: Any, device_id: int, office_id: int, ticket_id: int) -> m.Ticket:
    """The ticket a kiosk was asked to print in the last FETCH_WINDOW, else not found."""
    since = e.utcnow() - FETCH_WINDOW
    for payload in s.scalars(select(m.Event.payload).where(
            m.Event.office_id == office_id, m.Event.type == "ticket.reprint",
            m.Event.ticket_id == ticket_id, m.Event.created_at >= since)):
        if payload.get("device_id") == device_id:
            t = s.get(m.Ticket, ticket_id)
            if t is not None and t.office_id == office_id:
                return t
    raise e.DomainError("ticket_not_found", "Ticket not found.", 404)
