"""Counter-side transitions: call next, recall, start, complete, no-show,
reactivate, transfer, cancel, pause and resume.

Claiming a ticket is a conditional update (``WHERE id = ? AND status =
'waiting'``) whose row count is checked, so two counters can never both get
the same ticket, on SQLite (where BEGIN IMMEDIATE serialises writers anyway)
or on PostgreSQL under READ COMMITTED (where the second UPDATE re-checks the
status after the first commits and matches no row).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models as m
from . import statements as st
from .defaults import office_settings
from .engine import DomainError, append_event, not_found, utcnow



def _counter(s: Session, counter_id: int) -> m.Counter:
    """The counter, row-locked until commit (PostgreSQL): counter transitions
    lock their counter first, then the ticket (see statements.COUNTER_LOCK)."""
    c = s.get(m.Counter, counter_id, with_for_update=True)
    if c is None or not c.active:
        raise not_found("counter")
    return c


def _ticket(s: Session, ticket_id: int) -> m.Ticket:
    """The ticket, row-locked until commit; take its counter's lock first."""
    t = s.get(m.Ticket, ticket_id, with_for_update=True)
    if t is None:
        raise not_found("ticket")
    return t


def _counters_and_ticket(s: Session, counter_id: int,
                         ticket_id: int) -> tuple[m.Counter, m.Ticket, m.Counter | None]:
    """The acting counter, the ticket, and the counter holding the ticket (if
    another), all row-locked: for the actions that may take a ticket from
    another counter's hand (transfer, cancel).  The two counters are locked in
    id order, before the ticket: a transition at the other counter locks that
    counter first too, so the two wait in a line, never in a circle."""
    for _attempt in range(3):
        held = s.scalar(select(m.Ticket.counter_id).where(m.Ticket.id == ticket_id))
        locked = {cid: s.get(m.Counter, cid, with_for_update=True)
                  for cid in sorted({counter_id, held} - {None})}
        c = locked[counter_id]
        if c is None or not c.active:
            raise not_found("counter")
        t = _ticket(s, ticket_id)
        if t.counter_id == held:  # (else it moved meanwhile: lock its new counter)
            break
    holder = None
    if t.counter_id is not None:
        holder = locked.get(t.counter_id) or s.get(m.Counter, t.counter_id)
    return c, t, holder


def _forbidden(t: m.Ticket, action: str) -> DomainError:
    """``action`` is for logs; people get one clear sentence."""
    return DomainError("invalid_transition",
                       "This action is not possible for ticket {number} in its current state.",
                       409, number=t.display_number, action=action, state=t.status)


def _serves(c: m.Counter, t: m.Ticket) -> bool:
    return t.target_counter_id == c.id or (
        t.target_counter_id is None and any(cs.service_id == t.service_id for cs in c.services))


def _ensure_at_counter(c: m.Counter, t: m.Ticket) -> None:
    if t.office_id != c.office_id or t.counter_id != c.id:
        raise DomainError("not_your_ticket", "This ticket is not at your counter.", 403)


def _release(c: m.Counter | None, t: m.Ticket) -> None:
    if c is not None and c.current_ticket_id == t.id:
        c.current_ticket_id = None


# ----------------------------------------------------------------------- call next
# Rows read from the head of each part of each lane: the first decides.  On
# PostgreSQL a second is there when another counter took the first meanwhile
# (if every row read was taken, the heads are read again); SQLite runs one
# writer at a time, so nobody can take a head between the read and the claim.
HEAD_ROWS = {"postgresql": 2}


def _lanes(conn: Any, c: Any, weights: dict[int, int], cutoff: dt.datetime,
           now: dt.datetime) -> tuple[list[Any], list[Any]]:
    """The heads of the counter's two lanes, each in the order to try them.

    Priority lane: priority classes plus normal tickets waiting longer than
    the aging limit (issued at or before ``cutoff``), by arrival.  Normal
    lane: by arrival scaled by the counter's weight for the service.  Within
    one service both orders are arrival order, so the first few tickets of
    each service's queue (and of the tickets transferred to this counter)
    hold the heads of both lanes."""
    stmt = st.lane_heads(c.office_id, tuple(weights), HEAD_ROWS.get(conn.dialect.name, 1))
    rows = conn.execute(stmt, {"b_counter": c.id, "b_cutoff": cutoff}).all()
    prio, normal, seen = [], [], set()
    for t in rows:
        if t.id not in seen:
            seen.add(t.id)
            (prio if t.priority_class or t.issued_at <= cutoff else normal).append(t)
    prio.sort(key=lambda t: (t.issued_at, t.id))
    normal.sort(key=lambda t: (-(now - t.issued_at).total_seconds() * weights.get(t.service_id, 1),
                               t.id))
    return prio, normal


def _interleave(prio: list[Any], normal: list[Any], cycle_pos: int,
                settings: dict[str, Any]) -> tuple[list[Any], int]:
    """Candidates in the order to claim them, and the counter's next position
    in its cycle: while both lanes have people the counter alternates
    ``priority_run`` priority calls with ``normal_run`` normal ones."""
    p_run, n_run = max(0, int(settings["priority_run"])), max(0, int(settings["normal_run"]))
    if prio and normal and p_run + n_run > 0:
        take_prio = cycle_pos < p_run
        nxt = (cycle_pos + 1) % (p_run + n_run)
        return (prio + normal if take_prio else normal + prio), nxt
    if not prio:
        cycle_pos = 0  # a newly arriving priority ticket goes first
    return prio + normal, cycle_pos


def _expire(s: Session, cls: type, ident: int) -> None:
    """Core statements bypass the session: drop a stale copy it may hold."""
    if not s.identity_map:  # the hot paths' sessions hold no objects at all
        return
    obj = s.identity_map.get(s.identity_key(cls, ident))
    if obj is not None:
        s.expire(obj)


def _counter_row(s: Session, counter_id: int, stmt: Any = st.COUNTER_ROW) -> Any:
    c = s.connection().execute(stmt, {"b_id": counter_id}).first()
    if c is None or not c.active:
        raise not_found("counter")
    return c


def call_next(s: Session, counter_id: int, staff_id: int | None,
              now: dt.datetime | None = None, *, complete_current: bool = False,
              expected_ticket_id: int | None = None) -> Any:
    """Claim the next ticket for the counter; returns the ticket row as stored.

    ``complete_current`` completes the ticket in hand first, in the same
    transaction (the officer's one-tap "done, next"); when nobody is waiting
    nothing changes, so the ticket in hand stays open.  With
    ``expected_ticket_id`` (the ticket the officer's screen shows) it is
    refused if another tab or officer changed the ticket in hand meanwhile.
    Core statements on narrow rows: this runs for every citizen served."""
    now = now or utcnow()
    s.flush()
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(st.COUNTER_LOCK, {"b_id": counter_id})
    c = _counter_row(s, counter_id, st.COUNTER_ROW_IN_HAND)
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
    if complete_current and in_hand is not None and expected_ticket_id not in (None, in_hand):
        # (Nothing in hand: the ticket on screen was finished elsewhere; calling is wanted.)
        raise DomainError("ticket_changed",
                          "The ticket in hand is now {number}; check the screen and try again.",
                          409, number=c.in_hand_number)
    weights = {sid: max(1, w) for sid, w in conn.execute(st.COUNTER_SERVICES, {"b_id": c.id})}
    settings = office_settings(conn.execute(st.OFFICE_SETTINGS, {"b_id": c.office_id}).scalar())
    cutoff = now - dt.timedelta(minutes=int(settings["aging_minutes"]))
    prio, normal = _lanes(conn, c, weights, cutoff, now)
    if not (prio or normal):
        raise DomainError("queue_empty", "Nobody is waiting for this counter.")
    if in_hand is not None:
        _complete(s, c, in_hand, staff_id, now, release=False,  # the claim below sets it
                  stmt=st.COMPLETE_BRIEF)
        c = _Row({**_fields(c), "current_ticket_id": None})
    while prio or normal:
        order, cycle = _interleave(prio, normal, c.cycle_pos, settings)
        for row in order:
            t = conn.execute(st.CLAIM, {"b_id": row.id, "b_counter": c.id, "b_staff": staff_id,
                                        "b_now": now}).first()
            if t is not None:
                conn.execute(st.COUNTER_TAKE, {"b_id": c.id, "b_ticket": t.id, "b_cycle": cycle})
                _expire(s, m.Ticket, t.id)
                _expire(s, m.Counter, c.id)
                summary = {**_fields(c), "current_ticket_id": t.id, "cycle_pos": cycle}
                append_event(s, c.office_id, "ticket.called", ticket=t,
                             counter=_Row(summary), staff_id=staff_id, now=now)
                return t
        # Every head was claimed by other counters meanwhile (PostgreSQL,
        # READ COMMITTED): read the heads again.
        prio, normal = _lanes(conn, c, weights, cutoff, now)
    raise DomainError("queue_empty", "Nobody is waiting for this counter.")


class _Row:
    """A counter row with some values replaced (what it is after the update)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _fields(row: Any) -> dict[str, Any]:
    return dict(row.__dict__) if isinstance(row, _Row) else dict(row._mapping)


def recall(s: Session, counter_id: int, staff_id: int | None,
           now: dt.datetime | None = None) -> m.Ticket:
    c = _counter(s, counter_id)
    t = s.get(m.Ticket, c.current_ticket_id) if c.current_ticket_id else None
    if t is None or t.status not in (m.CALLED, m.SERVING):
        raise DomainError("no_current_ticket", "There is no ticket to recall at this counter.")
    t.recall_count += 1
    append_event(s, c.office_id, "ticket.recalled", ticket=t, counter=c, staff_id=staff_id, now=now)
    return t


# -------------------------------------------------------------- ticket transitions
def start(s: Session, ticket_id: int, counter_id: int, staff_id: int | None,
          now: dt.datetime | None = None) -> m.Ticket:
    c, t = _counter(s, counter_id), _ticket(s, ticket_id)
    _ensure_at_counter(c, t)
    if t.status != m.CALLED:
        raise _forbidden(t, "started")
    t.status, t.started_at = m.SERVING, now or utcnow()
    append_event(s, t.office_id, "ticket.started", ticket=t, counter=c, staff_id=staff_id, now=now)
    return t


def complete(s: Session, ticket_id: int, counter_id: int, staff_id: int | None,
             now: dt.datetime | None = None) -> Any:
    """serving → done; a called ticket completes too (the officer skipped Start).

    One conditional update does the check and the change; only a refusal
    loads the ticket to say why."""
    s.flush()
    return _complete(s, _counter_row(s, counter_id, st.COUNTER_ROW_LOCKED), ticket_id, staff_id,
                     now or utcnow())


def _complete(s: Session, c: Any, ticket_id: int, staff_id: int | None, now: dt.datetime,
              *, release: bool = True, stmt: Any = st.COMPLETE) -> Any:
    """Complete ``ticket_id`` at counter row ``c``; ``release=False`` leaves the
    counter's ticket-in-hand column to the caller (call next sets it anyway).
    Returns the ticket's row as ``stmt`` returns it."""
    conn = s.connection()
    t = conn.execute(stmt, {"b_id": ticket_id, "b_office": c.office_id,
                                    "b_counter": c.id, "b_now": now}).first()
    if t is None:
        bad = _ticket(s, ticket_id)
        _ensure_at_counter(c, bad)
        raise _forbidden(bad, "completed")
    current = c.current_ticket_id
    if current == t.id:
        if release:
            conn.execute(st.COUNTER_RELEASE, {"b_id": c.id, "b_ticket": t.id})
        current = None
    _expire(s, m.Ticket, t.id)
    _expire(s, m.Counter, c.id)
    append_event(s, t.office_id, "ticket.completed", ticket=t,
                 counter=_Row({**_fields(c), "current_ticket_id": current}),
                 staff_id=staff_id, now=now)
    return t


def no_show(s: Session, ticket_id: int, counter_id: int, staff_id: int | None,
            now: dt.datetime | None = None) -> m.Ticket:
    now = now or utcnow()
    c, t = _counter(s, counter_id), _ticket(s, ticket_id)
    _ensure_at_counter(c, t)
    if t.status != m.CALLED:
        raise _forbidden(t, "marked as no-show")
    t.status, t.finished_at = m.NO_SHOW, now
    _release(c, t)
    append_event(s, t.office_id, "ticket.no_show", ticket=t, counter=c, staff_id=staff_id, now=now)
    return t


def reactivate(s: Session, ticket_id: int, counter_id: int, staff_id: int | None,
               now: dt.datetime | None = None) -> m.Ticket:
    """A no-show citizen came back: back in the queue with the original issue time."""
    c, t = _counter(s, counter_id), _ticket(s, ticket_id)
    if t.office_id != c.office_id or not (t.counter_id == c.id or _serves(c, t)):
        raise DomainError("not_your_ticket", "This ticket is not at your counter.", 403)
    if t.status != m.NO_SHOW:
        raise _forbidden(t, "reactivated")
    t.status, t.finished_at, t.counter_id, t.called_at = m.WAITING, None, None, None
    append_event(s, t.office_id, "ticket.reactivated", ticket=t, counter=c, staff_id=staff_id,
                 now=now)
    return t


def transfer(s: Session, ticket_id: int, counter_id: int, staff_id: int | None, *,
             to_service_id: int | None = None, to_counter_id: int | None = None,
             now: dt.datetime | None = None) -> m.Ticket:
    """Move a ticket to another service's queue or to one counter; it keeps its
    number and original issue time, so it is not sent to the back."""
    now = now or utcnow()
    c, t, holder = _counters_and_ticket(s, counter_id, ticket_id)
    if t.office_id != c.office_id or not (t.counter_id == c.id or _serves(c, t)):
        raise DomainError("not_your_ticket", "This ticket is not at your counter.", 403)
    if t.status not in (m.WAITING, m.CALLED, m.SERVING):
        raise _forbidden(t, "transferred")
    if (to_service_id is None) == (to_counter_id is None):
        raise DomainError("invalid_input", "Give either service_id or counter_id.", 400)
    hop: dict[str, Any] = {"at": now.isoformat() + "Z", "from_service_id": t.service_id,
                           "from_counter_id": t.counter_id, "staff_id": staff_id}
    if to_service_id is not None:
        svc = s.get(m.Service, to_service_id)
        if svc is None or svc.office_id != t.office_id or not svc.active:
            raise not_found("service")
        t.service_id, t.target_counter_id = svc.id, None
        hop["to_service_id"] = svc.id
    else:
        target = s.get(m.Counter, to_counter_id)
        if target is None or target.office_id != t.office_id or not target.active:
            raise not_found("counter")
        t.target_counter_id = target.id
        hop["to_counter_id"] = target.id
    _release(holder, t)
    t.transfer_chain = [*t.transfer_chain, hop]
    t.status, t.counter_id, t.called_at, t.started_at = m.WAITING, None, None, None
    append_event(s, t.office_id, "ticket.transferred", ticket=t, counter=c, staff_id=staff_id,
                 payload={"transfer": hop}, now=now)
    return t


def cancel(s: Session, ticket_id: int, counter_id: int, staff_id: int | None,
           now: dt.datetime | None = None) -> m.Ticket:
    now = now or utcnow()
    c, t, holder = _counters_and_ticket(s, counter_id, ticket_id)
    if t.office_id != c.office_id or not (t.counter_id == c.id or _serves(c, t)):
        raise DomainError("not_your_ticket", "This ticket is not at your counter.", 403)
    if t.status not in (m.WAITING, m.CALLED, m.SERVING):
        raise _forbidden(t, "cancelled")
    _release(holder, t)
    t.status, t.finished_at = m.CANCELLED, now
    append_event(s, t.office_id, "ticket.cancelled", ticket=t, counter=c, staff_id=staff_id, now=now)
    return t
