"""A counter's work on tickets: call next, recall, start, complete, no-show,
reactivate, transfer and cancel.

Call next and complete run for every citizen served: prebuilt Core
statements (statements.py) on narrow rows.  The other transitions are rarer
and use the ORM, reading their rows through ``locks`` (counters first, then
the ticket).  Each appends exactly one event per state change.

Claiming a ticket is a conditional update (``WHERE id = ? AND status =
'waiting'``) whose returned row is checked, so two counters can never both
get the same ticket, on SQLite (where BEGIN IMMEDIATE serialises writers
anyway) or on PostgreSQL under READ COMMITTED.  There the row is first taken
with ``FOR UPDATE SKIP LOCKED``: a ticket another counter is claiming at that
moment matches no row at once, and the counter tries its next head instead
of waiting for the other's commit.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Connection

from .. import models as m
from .. import statements as st
from ..db import Tx, lock_rows
from ..defaults import office_settings
from .errors import DomainError, not_found
from .estimates import office_queue
from .events import append_event, staff_brief
from .hours import utcnow
from .locks import lock_counter, lock_counters_and_ticket, lock_ticket
from .queue_order import interleave, lanes


def _forbidden(t: Any, action: str) -> DomainError:
    """``action`` is for logs; people get one clear sentence."""
    return DomainError("invalid_transition",
                       "This action is not possible for ticket {number} in its current state.",
                       409, number=t.display_number, action=action, state=t.status)


def _serves(c: m.Counter, t: m.Ticket) -> bool:
    return t.target_counter_id == c.id or (
        t.target_counter_id is None and any(cs.service_id == t.service_id for cs in c.services))


def _ensure_at_counter(c: Any, t: Any) -> None:
    if t.office_id != c.office_id:  # another office's ticket: as if it did not exist
        raise not_found("ticket")
    if t.counter_id != c.id:
        raise DomainError("not_your_ticket", "This ticket is not at your counter.", 403)


def _ensure_may_move(c: m.Counter, t: m.Ticket) -> None:
    """Transfer, cancel and reactivate: the ticket is at this counter or in its queue."""
    if t.office_id != c.office_id:  # another office's ticket: as if it did not exist
        raise not_found("ticket")
    if not (t.counter_id == c.id or _serves(c, t)):
        raise DomainError("not_your_ticket", "This ticket is not at your counter.", 403)


def _release(c: m.Counter | None, t: m.Ticket) -> None:
    if c is not None and c.current_ticket_id == t.id:
        c.current_ticket_id = None


def _counter_row(conn: Connection, counter_id: int, stmt: Any) -> Any:
    c = conn.execute(stmt, {"b_id": counter_id}).first()
    if c is None or not c.active:
        raise not_found("counter")
    return c


# ----------------------------------------------------------------------- call next
def call_next(tx: Tx, counter_id: int, staff_id: int | None,
              now: dt.datetime | None = None, *, complete_current: bool = False,
              expected_ticket_id: int | None = None) -> Any:
    """Claim the next ticket for the counter; returns the ticket row as stored.

    ``complete_current`` completes the ticket in hand first, in the same
    transaction (the officer's one-tap "done, next"); when nobody is waiting
    nothing changes, so the ticket in hand stays open.  With
    ``expected_ticket_id`` (the ticket the officer's screen shows) it is
    refused if another tab or officer changed the ticket in hand meanwhile."""
    now = now or utcnow()
    tx.flush()
    conn = tx.connection()
    lock_rows(conn, st.COUNTER_LOCK, {"b_id": counter_id})  # the counter first
    rows = conn.execute(st.COUNTER_ROW_IN_HAND, {"b_id": counter_id}).all()
    c = rows[0] if rows else None
    if c is None or not c.active:
        raise not_found("counter")
    if c.state == "paused":
        raise DomainError("counter_paused", "The counter is paused; resume it first.")
    if c.state != "open":
        raise DomainError("counter_closed", "The counter is closed; sign in to open it.")
    in_hand = None
    if c.in_hand_status in (m.CALLED, m.SERVING):
        if not complete_current:
            raise DomainError("ticket_in_progress",
                              "Finish the current ticket {number} before calling the next.",
                              409, number=c.in_hand_number)
        in_hand = c.current_ticket_id
    if complete_current and expected_ticket_id is not None and expected_ticket_id != in_hand:
        # The officer's screen shows another ticket than the one in hand (another
        # tab or officer moved on, or finished it): refused, nothing changes.
        if in_hand is None:
            raise DomainError("ticket_changed",
                              "No ticket is in hand now; check the screen and try again.")
        raise DomainError("ticket_changed",
                          "The ticket in hand is now {number}; check the screen and try again.",
                          409, number=c.in_hand_number)
    weights = {r.serves: max(1, r.weight) for r in rows if r.serves is not None}
    settings = office_settings(c.office_settings)
    # What the events need: the office for the waiting counts, the officer.
    office = SimpleNamespace(timezone=c.timezone, settings=c.office_settings,
                             opening_hours=c.opening_hours)
    staff = staff_brief(c.staff_id, c.staff_name, c.staff_photo)
    cutoff = now - dt.timedelta(minutes=int(settings["aging_minutes"]))
    prio, normal = lanes(conn, c, weights, cutoff, now)
    if not (prio or normal):
        raise DomainError("queue_empty", "Nobody is waiting for this counter.")
    done = None
    if in_hand is not None:  # (the counter row is updated once, when it takes the next)
        done, c = _complete(tx, c, in_hand, now, st.COMPLETE_BRIEF, release=False)
    while prio or normal:
        order, cycle = interleave(prio, normal, c.cycle_pos, settings)
        for row in order:
            t = conn.execute(st.CLAIM, {"b_id": row.id, "b_counter": c.id, "b_staff": staff_id,
                                        "b_now": now}).first()
            if t is not None:
                taken = conn.execute(st.COUNTER_TAKE, {"b_id": c.id, "b_ticket": t.id,
                                                       "b_cycle": cycle}).one()
                # Both events carry the waiting counts as this call leaves them
                # (they commit together: no screen can see the state between).
                counts = {"services": office_queue(conn, c.office_id, now, office)[2]}
                if done is not None:
                    append_event(tx, c.office_id, "ticket.completed", ticket=done, counter=c,
                                 staff_id=staff_id, now=now, payload=counts, staff=staff)
                append_event(tx, c.office_id, "ticket.called", ticket=t, counter=taken,
                             staff_id=staff_id, now=now, payload=counts, staff=staff)
                return t
        # Every head was claimed by other counters meanwhile (PostgreSQL,
        # READ COMMITTED): read the heads again.
        prio, normal = lanes(conn, c, weights, cutoff, now)
    raise DomainError("queue_empty", "Nobody is waiting for this counter.")


def recall(tx: Tx, counter_id: int, staff_id: int | None,
           now: dt.datetime | None = None) -> m.Ticket:
    c = lock_counter(tx, counter_id)
    t = lock_ticket(tx, c.current_ticket_id) if c.current_ticket_id else None
    if t is None or t.status not in (m.CALLED, m.SERVING):
        raise DomainError("no_current_ticket", "There is no ticket to recall at this counter.")
    t.recall_count += 1
    append_event(tx, c.office_id, "ticket.recalled", ticket=t, counter=c, staff_id=staff_id,
                 now=now)
    return t


# -------------------------------------------------------------- ticket transitions
def start(tx: Tx, ticket_id: int, counter_id: int, staff_id: int | None,
          now: dt.datetime | None = None) -> m.Ticket:
    c, t = lock_counter(tx, counter_id), lock_ticket(tx, ticket_id)
    _ensure_at_counter(c, t)
    if t.status != m.CALLED:
        raise _forbidden(t, "started")
    t.status, t.started_at = m.SERVING, now or utcnow()
    append_event(tx, t.office_id, "ticket.started", ticket=t, counter=c, staff_id=staff_id,
                 now=now)
    return t


def complete(tx: Tx, ticket_id: int, counter_id: int, staff_id: int | None,
             now: dt.datetime | None = None) -> Any:
    """serving → done; a called ticket completes too (the officer skipped
    Start).  Returns the ticket row as stored."""
    tx.flush()
    now = now or utcnow()
    c = _counter_row(tx.connection(), counter_id, st.COUNTER_ROW_LOCKED)
    t, c = _complete(tx, c, ticket_id, now, st.COMPLETE)
    append_event(tx, t.office_id, "ticket.completed", ticket=t, counter=c, staff_id=staff_id,
                 now=now)
    return t


def _complete(tx: Tx, c: Any, ticket_id: int, now: dt.datetime, stmt: Any,
              release: bool = True) -> tuple[Any, Any]:
    """Complete ``ticket_id`` at counter row ``c`` (the caller emits the
    event): one conditional update does the check and the change, and only a
    refusal reads the ticket to say why.  Returns the ticket's row as
    ``stmt`` returns it and the counter as it is after the change
    (``release=False``: the caller stores the counter's next ticket itself;
    the row returned shows the counter with none)."""
    conn = tx.connection()
    t = conn.execute(stmt, {"b_id": ticket_id, "b_office": c.office_id,
                            "b_counter": c.id, "b_now": now}).first()
    if t is None:
        bad = conn.execute(st.TICKET_ROW, {"b_id": ticket_id}).first()
        if bad is None:
            raise not_found("ticket")
        _ensure_at_counter(c, bad)
        raise _forbidden(bad, "completed")
    if c.current_ticket_id == t.id:
        c = (conn.execute(st.COUNTER_RELEASE, {"b_id": c.id, "b_ticket": t.id}).one() if release
             else SimpleNamespace(**{**c._asdict(), "current_ticket_id": None}))
    return t, c


def no_show(tx: Tx, ticket_id: int, counter_id: int, staff_id: int | None,
            now: dt.datetime | None = None) -> m.Ticket:
    now = now or utcnow()
    c, t = lock_counter(tx, counter_id), lock_ticket(tx, ticket_id)
    _ensure_at_counter(c, t)
    if t.status != m.CALLED:
        raise _forbidden(t, "marked as no-show")
    t.status, t.finished_at = m.NO_SHOW, now
    _release(c, t)
    append_event(tx, t.office_id, "ticket.no_show", ticket=t, counter=c, staff_id=staff_id,
                 now=now)
    return t


def reactivate(tx: Tx, ticket_id: int, counter_id: int, staff_id: int | None,
               now: dt.datetime | None = None) -> m.Ticket:
    """A no-show citizen came back: back in the queue with the original issue time."""
    c, t = lock_counter(tx, counter_id), lock_ticket(tx, ticket_id)
    _ensure_may_move(c, t)
    if t.status != m.NO_SHOW:
        raise _forbidden(t, "reactivated")
    t.status, t.finished_at, t.counter_id, t.called_at = m.WAITING, None, None, None
    append_event(tx, t.office_id, "ticket.reactivated", ticket=t, counter=c, staff_id=staff_id,
                 now=now)
    return t


def transfer(tx: Tx, ticket_id: int, counter_id: int, staff_id: int | None, *,
             to_service_id: int | None = None, to_counter_id: int | None = None,
             now: dt.datetime | None = None) -> m.Ticket:
    """Move a ticket to another service's queue or to one counter; it keeps its
    number and original issue time, so it is not sent to the back."""
    now = now or utcnow()
    c, t, holder = lock_counters_and_ticket(tx, counter_id, ticket_id)
    _ensure_may_move(c, t)
    if t.status not in (m.WAITING, m.CALLED, m.SERVING):
        raise _forbidden(t, "transferred")
    if (to_service_id is None) == (to_counter_id is None):
        raise DomainError("invalid_input", "Give either service_id or counter_id.", 400)
    hop: dict[str, Any] = {"at": now.isoformat() + "Z", "from_service_id": t.service_id,
                           "from_counter_id": t.counter_id, "staff_id": staff_id}
    if to_service_id is not None:
        svc = tx.get(m.Service, to_service_id)
        if svc is None or svc.office_id != t.office_id or not svc.active:
            raise not_found("service")
        t.service_id, t.target_counter_id = svc.id, None
        hop["to_service_id"] = svc.id
    else:
        target = tx.get(m.Counter, to_counter_id)
        if target is None or target.office_id != t.office_id or not target.active:
            raise not_found("counter")
        t.target_counter_id = target.id
        hop["to_counter_id"] = target.id
    _release(holder, t)
    t.transfer_chain = [*t.transfer_chain, hop]
    t.status, t.counter_id, t.called_at, t.started_at = m.WAITING, None, None, None
    append_event(tx, t.office_id, "ticket.transferred", ticket=t, counter=c, staff_id=staff_id,
                 payload={"transfer": hop}, now=now)
    return t


def cancel(tx: Tx, ticket_id: int, counter_id: int, staff_id: int | None,
           now: dt.datetime | None = None) -> m.Ticket:
    now = now or utcnow()
    c, t, holder = lock_counters_and_ticket(tx, counter_id, ticket_id)
    _ensure_may_move(c, t)
    if t.status not in (m.WAITING, m.CALLED, m.SERVING, m.NO_SHOW):
        raise _forbidden(t, "cancelled")
    _release(holder, t)
    t.status, t.finished_at = m.CANCELLED, now
    append_event(tx, t.office_id, "ticket.cancelled", ticket=t, counter=c, staff_id=staff_id,
                 now=now)
    return t
