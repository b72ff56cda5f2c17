"""Counter state: who sits at a counter, and its open / paused / closed state.

The server decides: one officer at one counter and one counter per officer.
Signing in at a counter another officer holds is refused; signing in at
another counter closes the officer's previous one.  A counter closes when its
officer signs out, when an administrator releases it, or when its console has
been gone for the office's ``idle_close_minutes``; a ticket still in hand is
then finished or put back at the head of its queue (it keeps its issue time),
never left "called" at a closed counter.

Each change locks the counter rows (in id order) and appends one event per
state change: ``counter.updated`` for the counter, ``ticket.completed`` or
``ticket.requeued`` for a ticket in hand.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from .. import models as m
from ..db import Tx
from ..defaults import office_settings
from .calling import complete
from .errors import DomainError, not_found
from .events import append_event
from .hours import utcnow
from .locks import lock_counter

#: What to do with a ticket in hand when its counter closes.
TICKET_CHOICES = ("complete", "requeue")


def _counter_event(tx: Tx, c: m.Counter, staff_id: int | None, now: dt.datetime | None,
                   **payload: Any) -> None:
    append_event(tx, c.office_id, "counter.updated", counter=c, staff_id=staff_id,
                 payload=payload, now=now)


def pause(tx: Tx, counter_id: int, staff_id: int | None, reason: str = "",
          now: dt.datetime | None = None) -> m.Counter:
    c = lock_counter(tx, counter_id)
    if c.state != "open":
        raise DomainError("invalid_counter_state", "Only an open counter can be paused.")
    c.state, c.pause_reason = "paused", reason.strip()[:200]
    _counter_event(tx, c, staff_id, now, action="paused")
    return c


def resume(tx: Tx, counter_id: int, staff_id: int | None,
           now: dt.datetime | None = None) -> m.Counter:
    c = lock_counter(tx, counter_id)
    if c.state != "paused":
        raise DomainError("invalid_counter_state", "The counter is not paused.")
    c.state, c.pause_reason = "open", ""
    _counter_event(tx, c, staff_id, now, action="resumed")
    return c


def ticket_in_hand(tx: Tx, c: m.Counter) -> m.Ticket | None:
    """The called or serving ticket at counter ``c``, if any."""
    t = tx.get(m.Ticket, c.current_ticket_id, with_for_update=True,
               populate_existing=True) if c.current_ticket_id else None
    return t if t is not None and t.status in (m.CALLED, m.SERVING) else None


def requeue(tx: Tx, c: m.Counter, t: m.Ticket, staff_id: int | None, now: dt.datetime,
            reason: str) -> None:
    """Put ``t`` back in its queue as before it was called: it keeps its issue
    time (so it is at the head again) and any counter it was transferred to."""
    t.status, t.counter_id, t.staff_id = m.WAITING, None, None
    t.called_at, t.started_at = None, None
    c.current_ticket_id = None
    append_event(tx, c.office_id, "ticket.requeued", ticket=t, counter=c, staff_id=staff_id,
                 payload={"reason": reason}, now=now)


def _hand_back(tx: Tx, c: m.Counter, staff_id: int | None, ticket: str | None,
               now: dt.datetime, reason: str) -> m.Counter:
    """Finish or requeue the ticket in hand at ``c`` (``ticket`` says which);
    refused when there is one and no choice was given.  Returns the counter,
    read again if it changed behind the session."""
    t = ticket_in_hand(tx, c)
    if t is None:
        return c
    if ticket not in TICKET_CHOICES:
        raise DomainError("ticket_in_hand",
                          "Ticket {number} is still in hand: finish it or put it back at the "
                          "head of the queue first.", 409, number=t.display_number,
                          ticket_id=t.id)
    if ticket == "complete":
        complete(tx, t.id, c.id, staff_id, now)
        return lock_counter(tx, c.id)  # (changed by Core statements: read it again)
    requeue(tx, c, t, staff_id, now, reason)
    return c


def _close(tx: Tx, c: m.Counter, staff_id: int | None, ticket: str | None, now: dt.datetime,
           action: str) -> m.Counter:
    c = _hand_back(tx, c, staff_id, ticket, now, action)
    c.state, c.staff_id, c.pause_reason, c.signed_in_at = "closed", None, "", None
    _counter_event(tx, c, staff_id, now, action=action)
    return c


def _lock_any(tx: Tx, counter_id: int) -> m.Counter | None:
    """A counter row, locked, even if an administrator deactivated it meanwhile."""
    return tx.get(m.Counter, counter_id, with_for_update=True, populate_existing=True)


def holder_name(tx: Any, c: Any) -> str:
    u = tx.get(m.User, c.staff_id) if c.staff_id else None
    return (u.full_name or u.username) if u is not None else ""


def sign_in_counter(tx: Tx, counter_id: int, staff_id: int, now: dt.datetime | None = None,
                    *, ticket: str | None = "requeue") -> m.Counter:
    """An officer sits down at a counter: it opens and shows their name.

    Refused (``counter_taken``) while another officer holds it.  Any other
    counter this officer held closes (its card leaves the lobby TV); a ticket
    in hand there is handled as ``ticket`` says (by default put back at the
    head of its queue; None: refused with ``ticket_in_hand``, to ask first)."""
    now = now or utcnow()
    held = set(tx.scalars(select(m.Counter.id).where(m.Counter.staff_id == staff_id,
                                                     m.Counter.id != counter_id)))
    locked = {cid: _lock_any(tx, cid) for cid in sorted(held | {counter_id})}
    c = locked[counter_id]
    if c is None or not c.active:
        raise not_found("counter")
    if c.staff_id is not None and c.staff_id != staff_id:
        raise DomainError("counter_taken",
                          "Counter {number} is held by {name}: they must sign out first, or an "
                          "administrator can release the counter.", 409,
                          number=c.number, name=holder_name(tx, c))
    for cid in sorted(held):
        other = locked[cid]
        if other is not None and other.staff_id == staff_id:
            _close(tx, other, staff_id, ticket, now, "moved")
    changed = c.staff_id != staff_id or c.state == "closed"
    c.staff_id, c.console_seen_at = staff_id, now
    if c.state == "closed":
        c.state = "open"
    if changed or c.signed_in_at is None:
        c.signed_in_at = now
    if changed:
        _counter_event(tx, c, staff_id, now, action="signed_in")
    return c


def sign_out_counter(tx: Tx, counter_id: int, staff_id: int | None,
                     now: dt.datetime | None = None, *, ticket: str | None = None,
                     action: str = "signed_out") -> m.Counter:
    """The counter closes.  With a ticket in hand, ``ticket`` must say what to
    do with it ("complete" or "requeue"), else ``ticket_in_hand`` (409)."""
    c = _lock_any(tx, counter_id)
    if c is None:
        raise not_found("counter")
    return _close(tx, c, staff_id, ticket, now or utcnow(), action)


def release_counter(tx: Tx, counter_id: int, admin_id: int | None,
                    now: dt.datetime | None = None) -> m.Counter:
    """An administrator frees a counter an officer left signed in: it closes,
    the ticket in hand goes back to the head of its queue."""
    c = _lock_any(tx, counter_id)
    if c is None:
        raise not_found("counter")
    if c.staff_id is None and c.state == "closed":
        raise DomainError("counter_free", "Counter {number} is already free.", 409,
                          number=c.number)
    return _close(tx, c, admin_id, "requeue", now or utcnow(), "released")


def idle_minutes(office: m.Office) -> int:
    """The office's ``idle_close_minutes`` (0: counters never close themselves)."""
    try:
        return max(0, int(office_settings(office.settings)["idle_close_minutes"]))
    except (TypeError, ValueError):
        return 0


def close_idle_counters(tx: Tx, now: dt.datetime | None = None) -> list[int]:
    """Close every counter whose console has been gone for its office's
    ``idle_close_minutes``; its ticket in hand goes back to the head of the
    queue.  Returns the ids closed.  Safe to run in several processes at once
    (each counter is re-checked under its row lock)."""
    now = now or utcnow()
    closed = []
    for office in tx.scalars(select(m.Office)):
        minutes = idle_minutes(office)
        if not minutes:
            continue
        cutoff = now - dt.timedelta(minutes=minutes)
        for cid in tx.scalars(select(m.Counter.id).where(
                m.Counter.office_id == office.id, m.Counter.staff_id.is_not(None),
                m.Counter.console_seen_at < cutoff).order_by(m.Counter.id)):
            c = _lock_any(tx, cid)
            if c is None or c.staff_id is None or c.console_seen_at is None or c.console_seen_at >= cutoff:
                continue
            _close(tx, c, None, "requeue", now, "timed_out")
            closed.append(cid)
    return closed
