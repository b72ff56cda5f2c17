"""Issuing tickets (kiosk), their public status, and staff transitions."""
from __future__ import annotations

import hmac
import re
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import engine as e, models as m
from ..defaults import office_settings
from ..limits import LOOKUP_PER_DEVICE, device_or_address, limiter
from ..queries import ticket_view
from ..ratings import check_code
from ..security import PUBLIC, AuthError, auth, current_principal, require
from . import bp, errors, get_db, run_write
from .schemas import LookupIn, LookupOut, TicketIn, TicketOut, TicketStatusOut, TransferIn

# A printed number: an optional letter prefix and digits (A007, a7, 1005, 007).
NUMBER = re.compile(r"([A-Z]{0,3})0*(\d{1,6})")


@bp.post("/tickets")
@bp.auth_required(auth, roles=["kiosk"])
@bp.input(TicketIn)
@bp.output(TicketOut, status_code=201, description="A new ticket")
@bp.doc(summary="Issue a ticket (idempotent per idempotency_key)",
        responses={200: {"description": "The idempotency_key was sent before: that ticket",
                         "content": {"application/json": {"schema": {
                             "$ref": "#/components/schemas/TicketOut"}}}},
                   **errors(401, 403, 404, 409, 413)})
def issue(json_data):
    p = current_principal()

    def work(s):
        issued = e.issue_ticket(s, p.office_id, json_data["service_id"],
                                priority_class=json_data["priority"] or "",
                                idempotency_key=json_data.get("idempotency_key"),
                                device_id=p.device_id)
        # The answer is read in the same transaction: no second one to open.
        return ticket_view(s, issued.ticket, with_code=True, service=issued.service,
                           pace=issued.pace), issued.created

    view, created = run_write(work, batch=True)
    return view, 201 if created else 200


@bp.get("/tickets/<ticket_code:code>")
@require(PUBLIC)
@bp.output(TicketStatusOut)
@bp.doc(summary="Live status of a ticket, for whoever holds its code", responses=errors(404))
def status(code: str):
    with get_db().read() as s:
        return status_answer(s, code)


def status_answer(s: Session, code: str) -> dict[str, Any]:
    """The status of the ticket with this code as the phone page follows it (this
    endpoint and each ``ticket.status`` event of the ticket's stream); 404 if unknown."""
    t = s.scalar(select(m.Ticket).where(m.Ticket.code == code))
    if t is None:
        raise e.not_found("ticket")
    return status_view(s, t, s.get(m.Office, t.office_id))


def status_view(s: Session, t: m.Ticket, office: m.Office) -> dict[str, Any]:
    """A ticket's public status (never its code) with what the phone page alerts on."""
    view = ticket_view(s, t)
    view["near_alert_places"] = office_settings(office.settings)["near_alert_places"]
    return view


def staff_counter() -> tuple[int, int]:
    """(counter_id, user_id) of the signed-in officer, who must have a counter."""
    p = current_principal()
    if p.counter_id is None:
        raise AuthError(403, "no_counter", "Sign in at a counter first.")
    return p.counter_id, p.user_id


def _ticket_action(fn: Callable) -> Callable:
    def view(ticket_id: int):
        counter_id, user_id = staff_counter()
        return run_write(lambda s: ticket_view(s, fn(s, ticket_id, counter_id, user_id)),
                         batch=True)
    return view


for _name, _fn, _summary in (
    ("start", e.start, "Start serving a called ticket"),
    ("complete", e.complete, "Complete the ticket being served"),
    ("no-show", e.no_show, "Mark a called ticket as no-show"),
    ("reactivate", e.reactivate, "Put a no-show ticket back in the queue"),
    ("cancel", e.cancel, "Cancel a ticket"),
):
    _view = _ticket_action(_fn)
    _view.__name__ = "ticket_" + _name.replace("-", "_")
    _view = bp.doc(summary=_summary, responses=errors(401, 403, 404, 409))(
        bp.output(TicketOut)(_view))
    bp.post(f"/tickets/<int:ticket_id>/{_name}")(bp.auth_required(auth, roles=["staff"])(_view))


@bp.post("/tickets/<int:ticket_id>/transfer")
@bp.auth_required(auth, roles=["staff"])
@bp.input(TransferIn)
@bp.output(TicketOut)
@bp.doc(summary="Transfer a ticket to another service or counter (keeps its number)",
        responses=errors(401, 403, 404, 409, 413))
def ticket_transfer(ticket_id: int, json_data):
    counter_id, user_id = staff_counter()
    t = run_write(lambda s: e.transfer(s, ticket_id, counter_id, user_id,
                                       to_service_id=json_data.get("service_id"),
                                       to_counter_id=json_data.get("counter_id")))
    with get_db().read() as s:
        return ticket_view(s, s.get(m.Ticket, t.id))


@bp.post("/tickets/lookup")
@bp.auth_required(auth, roles=["kiosk"])
@bp.input(LookupIn)
@bp.output(LookupOut)
@bp.doc(summary="Kiosk: find today's ticket by its printed number and check code (for rating)",
        responses=errors(401, 403, 404, 413, 429))
@limiter.limit(LOOKUP_PER_DEVICE, key_func=device_or_address)
def ticket_lookup(json_data):
    """A citizen types the number and the check code printed on the ticket;
    the kiosk gets the ticket's code to rate it only with both (numbers are
    sequential, the check code is the proof of holding the ticket).  A ticket
    not served yet is found but answers without its code."""
    p = current_principal()
    wanted = NUMBER.fullmatch(json_data["display_number"].strip().upper())
    check = json_data["check_code"].strip()
    with get_db().read() as s:
        office = s.get(m.Office, p.office_id)
        day = e.service_day(office, e.utcnow())
        found = None
        if wanted:
            prefix, number = wanted.group(1), int(wanted.group(2))
            found = next((t for t in s.scalars(select(m.Ticket).where(
                m.Ticket.office_id == p.office_id, m.Ticket.service_day == day,
                m.Ticket.number == number).order_by(m.Ticket.id))
                if t.display_number.upper().startswith(prefix)
                and hmac.compare_digest(check_code(t.code).encode(), check.encode())), None)
        if found is None:
            raise e.DomainError("ticket_not_found",
                                "No ticket today with this number and check code.", 404)
        view = ticket_view(s, found)
        return {"code": found.code if found.status == m.DONE else None,
                "display_number": found.display_number, "service_name": view["service_name"],
                "status": found.status, "rated": view["rated"]}
