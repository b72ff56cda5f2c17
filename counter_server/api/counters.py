"""Counter actions: staff act only on the counter they signed in at."""
from __future__ import annotations

from typing import Any, Callable

from .. import engine as e, models as m
from ..queries import counter_view, ticket_view
from ..security import AuthError, Principal, current_principal, require
from . import answer, bp, get_db, run_write
from .schemas import CallNextIn, CounterOut, PauseIn, TicketOut


def bound_counter(counter_id: int) -> Principal:
    """The caller, who must be signed in at (or, a tablet, bound to) this counter."""
    p = current_principal()
    if p.counter_id != counter_id:
        raise AuthError(403, "not_your_counter", "You are signed in at another counter.")
    return p


def own_counter(counter_id: int) -> int:
    return bound_counter(counter_id).user_id


@bp.get("/counters/<int:counter_id>")
@bp.output(CounterOut)
@bp.doc(summary="A counter: state, officer signed in, ticket in hand")
@require("rating", "display", "staff", "leader", "admin")
def counter(counter_id: int):
    p = bound_counter(counter_id) if current_principal().role == "rating" else current_principal()
    with get_db().read() as s:
        c = s.get(m.Counter, counter_id)
        if c is None or c.office_id != p.office_id:
            raise e.not_found("counter")
        return counter_view(s, c)


@bp.post("/counters/<int:counter_id>/call-next")
@bp.input(CallNextIn)
@bp.output(TicketOut)
@bp.doc(summary="Call the next ticket for this counter (409 queue_empty); optionally "
                "complete the one in hand first")
@require("staff")
def call_next(counter_id: int, json_data):
    return answer(run_write(call_next_job(counter_id, own_counter(counter_id), json_data),
                            batch=True), TicketOut)


def call_next_job(counter_id: int, user_id: int | None, json_data: dict) -> Callable[[Any], dict]:
    """The write job of call next (the view's and the hot lane's): the answer
    about the ticket called."""
    done_first, expected = json_data["complete_current"], json_data.get("current_ticket_id")
    return lambda s: ticket_view(s, e.call_next(
        s, counter_id, user_id, complete_current=done_first, expected_ticket_id=expected))


@bp.post("/counters/<int:counter_id>/recall")
@bp.output(TicketOut)
@bp.doc(summary="Call the current ticket again")
@require("staff")
def recall(counter_id: int):
    user_id = own_counter(counter_id)
    t = run_write(lambda s: e.recall(s, counter_id, user_id), batch=True)
    with get_db().read() as s:
        return ticket_view(s, s.get(m.Ticket, t.id))


@bp.post("/counters/<int:counter_id>/pause")
@bp.input(PauseIn)
@bp.output(CounterOut)
@bp.doc(summary="Pause the counter with a reason")
@require("staff")
def pause(counter_id: int, json_data):
    user_id = own_counter(counter_id)
    run_write(lambda s: e.pause(s, counter_id, user_id, json_data["reason"]), batch=True)
    with get_db().read() as s:
        return counter_view(s, s.get(m.Counter, counter_id))


@bp.post("/counters/<int:counter_id>/resume")
@bp.output(CounterOut)
@bp.doc(summary="Resume a paused counter")
@require("staff")
def resume(counter_id: int):
    user_id = own_counter(counter_id)
    run_write(lambda s: e.resume(s, counter_id, user_id), batch=True)
    with get_db().read() as s:
        return counter_view(s, s.get(m.Counter, counter_id))


@bp.get("/counters/<int:counter_id>/last-completed")
@bp.doc(summary="Rating tablet: this counter's latest completed ticket, if not rated yet "
                "(404 nothing_to_rate)")
@require("rating")
def last_completed(counter_id: int):
    """Events never carry ticket codes; the tablet bound to this counter gets
    the code of the ticket it should now rate, and nothing older."""
    from sqlalchemy import select

    p = bound_counter(counter_id)
    with get_db().read() as s:
        t = s.scalar(select(m.Ticket).where(
            m.Ticket.office_id == p.office_id, m.Ticket.counter_id == counter_id,
            m.Ticket.status == m.DONE, m.Ticket.finished_at.is_not(None))
            .order_by(m.Ticket.finished_at.desc(), m.Ticket.id.desc()).limit(1))
        rated = t is not None and s.scalar(select(m.Rating.id).where(
            m.Rating.ticket_id == t.id, m.Rating.misuse.is_(False)).limit(1)) is not None
        if t is None or rated:
            raise e.DomainError("nothing_to_rate", "There is no completed ticket to rate.", 404)
        staff = s.get(m.User, t.staff_id) if t.staff_id else None
        return {"ticket_id": t.id, "code": t.code, "display_number": t.display_number,
                "completed_at": e.iso(t.finished_at),
                "staff": {"full_name": staff.full_name} if staff else None}
