"""Counter actions: staff act only on the counter they signed in at."""
from __future__ import annotations

from sqlalchemy import select

from .. import engine as e, models as m
from .. import statements as st
from ..queries import counter_view, ticket_view
from ..security import AuthError, Principal, auth, current_principal
from . import bp, errors, get_db, run_write, snapshot
from .schemas import CallNextIn, CounterOut, LastCompletedOut, PauseIn, TicketOut


def bound_counter(counter_id: int) -> Principal:
    """The caller, who must be signed in at (or, a tablet, bound to) this counter."""
    p = current_principal()
    if p.counter_id != counter_id:
        raise AuthError(403, "not_your_counter", "You are signed in at another counter.")
    return p


def own_counter(counter_id: int) -> int:
    return bound_counter(counter_id).user_id


@bp.get("/counters/<int:counter_id>")
@bp.auth_required(auth, roles=["rating", "display", "staff", "leader", "admin"])
@bp.output(CounterOut)
@bp.doc(summary="A counter: state, officer signed in, ticket in hand, last_event_id "
                "(ETag; 304 on If-None-Match when nothing shown changed)",
        responses={**errors(401, 403, 404),
                   304: "Not modified: the snapshot the ETag names holds"})
def counter(counter_id: int):
    p = bound_counter(counter_id) if current_principal().role == "rating" else current_principal()
    with get_db().read() as s:
        office_id = s.connection().execute(st.COUNTER_ROW, {"b_id": counter_id}).first()
        if office_id is None or office_id.office_id != p.office_id:
            raise e.not_found("counter")
    return snapshot(f"counter{counter_id}", p.office_id,
                    lambda s, office: counter_view(s, office_id, office.last_event_id))


@bp.post("/counters/<int:counter_id>/call-next")
@bp.auth_required(auth, roles=["staff"])
@bp.input(CallNextIn)
@bp.output(TicketOut)
@bp.doc(summary="Call the next ticket for this counter (409 queue_empty); optionally "
                "complete the one in hand first",
        responses=errors(401, 403, 404, 409, 413))
def call_next(counter_id: int, json_data):
    user_id = own_counter(counter_id)
    done_first, expected = json_data["complete_current"], json_data.get("current_ticket_id")

    def work(s):
        return ticket_view(s, e.call_next(s, counter_id, user_id, complete_current=done_first,
                                          expected_ticket_id=expected))

    return run_write(work, batch=True)


@bp.post("/counters/<int:counter_id>/recall")
@bp.auth_required(auth, roles=["staff"])
@bp.output(TicketOut)
@bp.doc(summary="Call the current ticket again", responses=errors(401, 403, 404, 409))
def recall(counter_id: int):
    user_id = own_counter(counter_id)
    t = run_write(lambda s: e.recall(s, counter_id, user_id), batch=True)
    with get_db().read() as s:
        return ticket_view(s, s.get(m.Ticket, t.id))


@bp.post("/counters/<int:counter_id>/pause")
@bp.auth_required(auth, roles=["staff"])
@bp.input(PauseIn)
@bp.output(CounterOut)
@bp.doc(summary="Pause the counter with a reason", responses=errors(401, 403, 404, 409, 413))
def pause(counter_id: int, json_data):
    user_id = own_counter(counter_id)
    run_write(lambda s: e.pause(s, counter_id, user_id, json_data["reason"]), batch=True)
    with get_db().read() as s:
        return counter_view(s, s.get(m.Counter, counter_id))


@bp.post("/counters/<int:counter_id>/resume")
@bp.auth_required(auth, roles=["staff"])
@bp.output(CounterOut)
@bp.doc(summary="Resume a paused counter", responses=errors(401, 403, 404, 409))
def resume(counter_id: int):
    user_id = own_counter(counter_id)
    run_write(lambda s: e.resume(s, counter_id, user_id), batch=True)
    with get_db().read() as s:
        return counter_view(s, s.get(m.Counter, counter_id))


@bp.get("/counters/<int:counter_id>/last-completed")
@bp.auth_required(auth, roles=["rating"])
@bp.output(LastCompletedOut)
@bp.doc(summary="Rating tablet: this counter's latest completed ticket, if not rated yet "
                "(404 nothing_to_rate)", responses=errors(401, 403, 404))
def last_completed(counter_id: int):
    """Events never carry ticket codes; the tablet bound to this counter gets
    the code of the ticket it should now rate, and nothing older."""
    p = bound_counter(counter_id)
    with get_db().read() as s:
        t = s.scalar(select(m.Ticket).where(
            m.Ticket.office_id == p.office_id, m.Ticket.counter_id == counter_id,
            m.Ticket.status == m.DONE, m.Ticket.finished_at.is_not(None))
            .order_by(m.Ticket.finished_at.desc(), m.Ticket.id.desc()).limit(1))
        rated = t is not None and s.scalar(select(m.Rating.id).where(
            m.Rating.ticket_id == t.id, st.COUNTED).limit(1)) is not None
        if t is None or rated:
            raise e.DomainError("nothing_to_rate", "There is no completed ticket to rate.", 404)
        staff = s.get(m.User, t.staff_id) if t.staff_id else None
        return {"ticket_id": t.id, "code": t.code, "display_number": t.display_number,
                "completed_at": e.iso(t.finished_at),
                "staff": {"full_name": staff.full_name} if staff else None}
