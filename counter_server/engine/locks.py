"""The rows a transition changes, read and row-locked in the one lock order
of the server: counter rows first (in id order when there are two), then the
ticket; the office's event lock comes last, at commit (``db.Tx``).  Two
transitions touching the same rows therefore wait in a line, never in a
circle.  On SQLite the locks are no-ops (one writer at a time anyway).

The rows are read fresh (``populate_existing``): the engine's Core
statements may have changed them behind the session earlier in the same
transaction.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import models as m
from .errors import not_found


def lock_counter(s: Session, counter_id: int) -> m.Counter:
    """The active counter, row-locked until commit."""
    c = s.get(m.Counter, counter_id, with_for_update=True, populate_existing=True)
    if c is None or not c.active:
        raise not_found("counter")
    return c


def lock_ticket(s: Session, ticket_id: int) -> m.Ticket:
    """The ticket, row-locked until commit; lock its counter first."""
    t = s.get(m.Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if t is None:
        raise not_found("ticket")
    return t


def lock_counters_and_ticket(s: Session, counter_id: int, ticket_id: int
                             ) -> tuple[m.Counter, m.Ticket, m.Counter | None]:
    """The acting counter, the ticket, and the counter holding the ticket (if
    another), all row-locked: for the actions that may take a ticket from
    another counter's hand (transfer, cancel).  The two counters are locked in
    id order, before the ticket: a transition at the other counter locks that
    counter first too."""
    for _attempt in range(3):
        held = s.scalar(select(m.Ticket.counter_id).where(m.Ticket.id == ticket_id))
        locked = {cid: s.get(m.Counter, cid, with_for_update=True, populate_existing=True)
                  for cid in sorted({counter_id, held} - {None})}
        c = locked[counter_id]
        if c is None or not c.active:
            raise not_found("counter")
        t = lock_ticket(s, ticket_id)
        if t.counter_id == held:  # (else it moved meanwhile: lock its new counter)
            break
    holder = None
    if t.counter_id is not None:
        holder = locked.get(t.counter_id) or s.get(m.Counter, t.counter_id)
    return c, t, holder
