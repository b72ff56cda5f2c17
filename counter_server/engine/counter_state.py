"""Counter state: an officer signs in and out, opens, pauses and resumes.

Each change locks the counter's row and appends one ``counter.updated``
event, like every other transition of the engine.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from .. import models as m
from ..db import Tx
from .errors import DomainError
from .events import append_event
from .locks import lock_counter


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


def sign_in_counter(tx: Tx, counter_id: int, staff_id: int,
                    now: dt.datetime | None = None) -> m.Counter:
    """An officer sits down at a counter: it opens and shows their name."""
    c = lock_counter(tx, counter_id)
    changed = c.staff_id != staff_id or c.state == "closed"
    c.staff_id = staff_id
    if c.state == "closed":
        c.state = "open"
    if changed:
        _counter_event(tx, c, staff_id, now, action="signed_in")
    return c


def sign_out_counter(tx: Tx, counter_id: int, staff_id: int | None,
                     now: dt.datetime | None = None) -> m.Counter:
    c = lock_counter(tx, counter_id)
    c.state, c.staff_id, c.pause_reason = "closed", None, ""
    _counter_event(tx, c, staff_id, now, action="signed_out")
    return c
