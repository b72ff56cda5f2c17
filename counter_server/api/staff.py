"""Staff sessions over the API: sign out (closing the counter), and asking the
kiosk to print a ticket again."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, String
from apiflask.validators import OneOf
from flask import session
from flask_login import logout_user
from sqlalchemy import update

from .. import engine as e, models as m, reprint
from ..queries import ticket_view
from ..security import auth, current_principal, hash_token
from . import bp, errors, get_db, run_write
from .schemas import TicketOut


class SignOutIn(Schema):
    ticket = String(load_default=None, allow_none=True, validate=OneOf(e.TICKET_CHOICES),
                    metadata={"description": "With a ticket in hand: `complete` it or "
                                             "`requeue` it (back at the head of its queue); "
                                             "without, 409 ticket_in_hand"})


class SignOutOut(Schema):
    ok = Boolean()
    counter_id = Integer(allow_none=True, metadata={"description": "The counter closed"})


class ReprintOut(Schema):
    ticket_id = Integer()
    display_number = String()
    kiosk = String(metadata={"description": "The kiosk that will print it"})


@bp.post("/auth/sign-out")
@bp.auth_required(auth, roles=["staff", "leader", "admin"])
@bp.input(SignOutIn)
@bp.output(SignOutOut)
@bp.doc(summary="Sign out: a staff member's counter closes and the token (or session) ends",
        description="With a ticket in hand at the counter, `ticket` must say what happens to "
                    "it: `complete` (served) or `requeue` (back at the head of its queue, "
                    "keeping its issue time); without it the answer is 409 `ticket_in_hand` "
                    "and nothing changes.",
        responses=errors(401, 403, 409, 413, e409="ticket_in_hand (say `ticket`), or "
                         "session_ended (this session's counter is no longer yours)"))
def sign_out(json_data):
    p = current_principal()
    from flask import request

    def do(s):
        closed = None
        if p.role == "staff" and p.counter_id is not None:
            c = s.get(m.Counter, p.counter_id)
            if c is not None and c.staff_id == p.user_id:
                e.sign_out_counter(s, c.id, p.user_id, ticket=json_data.get("ticket"))
                closed = c.id
        if p.via == "bearer":
            token = request.headers.get("Authorization", "").partition(" ")[2].strip()
            s.execute(update(m.ApiToken).where(m.ApiToken.token_hash == hash_token(token))
                      .values(revoked=True))
            # its open streams end (event_types.INTERNAL_TYPES: no screen sees it)
            e.append_event(s, p.office_id, "session.ended", staff_id=p.user_id,
                           payload={"reason": "signed_out"})
        return closed

    closed = run_write(do)
    if p.via == "session":
        logout_user()
        session.clear()
    return {"ok": True, "counter_id": closed}


@bp.post("/tickets/<int:ticket_id>/reprint")
@bp.auth_required(auth, roles=["staff", "admin"])
@bp.output(ReprintOut, status_code=202)
@bp.doc(summary="Ask the office's kiosk to print this ticket again",
        description="Emits `ticket.reprint`; the kiosk named in it prints the ticket. Only "
                    "today's tickets still waiting, called or marked absent.",
        responses=errors(401, 403, 404, 409, e409="not_reprintable, no_kiosk, or "
                         "printer_fault (the kiosk's printer reports a fault)"))
def ticket_reprint(ticket_id: int):
    p = current_principal()
    return run_write(lambda s: reprint.request_reprint(s, p.office_id, ticket_id, p.user_id,
                                                       p.name))


@bp.get("/tickets/<int:ticket_id>/print")
@bp.auth_required(auth, roles=["kiosk"])
@bp.output(TicketOut)
@bp.doc(summary="Kiosk: the ticket it was asked to print again (with its code)",
        description="Answered only to the kiosk a `ticket.reprint` event named, for 10 "
                    "minutes after it; otherwise 404.", responses=errors(401, 403, 404))
def ticket_print(ticket_id: int):
    p = current_principal()
    with get_db().read() as s:
        t = reprint.ticket_to_print(s, p.device_id, p.office_id, ticket_id)
        return ticket_view(s, t, with_code=True)
