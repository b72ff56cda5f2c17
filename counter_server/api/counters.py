"""Counter actions: staff act only on the counter they signed in at."""
from __future__ import annotations

from .. import engine as e, models as m
from ..queries import counter_view, ticket_view
from ..security import AuthError, current_principal, require
from . import bp, get_db, run_write
from .schemas import CounterOut, PauseIn, TicketOut


def own_counter(counter_id: int) -> int:
    p = current_principal()
    if p.counter_id != counter_id:
        raise AuthError(403, "not_your_counter", "You are signed in at another counter.")
    return p.user_id


@bp.get("/counters/<int:counter_id>")
@bp.output(CounterOut)
@bp.doc(summary="A counter: state, officer signed in, ticket in hand")
@require("rating", "display", "staff", "leader", "admin")
def counter(counter_id: int):
    p = current_principal()
    if p.role == "rating" and p.counter_id != counter_id:
        raise AuthError(403, "not_your_counter", "You are signed in at another counter.")
    with get_db().read() as s:
        c = s.get(m.Counter, counter_id)
        if c is None or c.office_id != p.office_id:
            raise e.not_found("counter")
        return counter_view(s, c)


@bp.post("/counters/<int:counter_id>/call-next")
@bp.output(TicketOut)
@bp.doc(summary="Call the next ticket for this counter (409 queue_empty)")
@require("staff")
def call_next(counter_id: int):
    user_id = own_counter(counter_id)
    t = run_write(lambda s: e.call_next(s, counter_id, user_id))
    with get_db().read() as s:
        return ticket_view(s, s.get(m.Ticket, t.id))


@bp.post("/counters/<int:counter_id>/recall")
@bp.output(TicketOut)
@bp.doc(summary="Call the current ticket again")
@require("staff")
def recall(counter_id: int):
    user_id = own_counter(counter_id)
    t = run_write(lambda s: e.recall(s, counter_id, user_id))
    with get_db().read() as s:
        return ticket_view(s, s.get(m.Ticket, t.id))


@bp.post("/counters/<int:counter_id>/pause")
@bp.input(PauseIn)
@bp.output(CounterOut)
@bp.doc(summary="Pause the counter with a reason")
@require("staff")
def pause(counter_id: int, json_data):
    user_id = own_counter(counter_id)
    run_write(lambda s: e.pause(s, counter_id, user_id, json_data["reason"]))
    with get_db().read() as s:
        return counter_view(s, s.get(m.Counter, counter_id))


@bp.post("/counters/<int:counter_id>/resume")
@bp.output(CounterOut)
@bp.doc(summary="Resume a paused counter")
@require("staff")
def resume(counter_id: int):
    user_id = own_counter(counter_id)
    run_write(lambda s: e.resume(s, counter_id, user_id))
    with get_db().read() as s:
        return counter_view(s, s.get(m.Counter, counter_id))
