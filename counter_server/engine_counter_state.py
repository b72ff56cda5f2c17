"""Counter state: an officer signs in and out, pauses and resumes.

Each change locks the counter's row (PostgreSQL) and appends one
``counter.updated`` event, like every other transition of the engine.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from . import models as m
from .engine import DomainError, append_event
from .engine_counter import _counter


def _counter_event(s: Session, c: m.Counter, staff_id: int | None, now: dt.datetime | None,
                   **payload: Any) -> None:
    append_event(s, c.office_id, "counter.updated", counter=c, staff_id=staff_id,
                 payload=payload, now=now)


def pause(s: Session, counter_id: int, staff_id: int | None, reason: str = "",
          now: dt.datetime | None = None) -> m.Counter:
    c = _counter(s, counter_id)
    if c.state != "open":
        raise DomainError("invalid_counter_state", "Only an open counter can be paused.")
    c.state, c.pause_reason = "paused", reason.strip()[:200]
    _counter_event(s, c, staff_id, now, action="paused")
    return c


def resume(s: Session, counter_id: int, staff_id: int | None,
           now: dt.datetime | None = None) -> m.Counter:
    c = _counter(s, counter_id)
    if c.state != "paused":
        raise DomainError("invalid_counter_state", "The counter is not paused.")
    c.state, c.pause_reason = "open", ""
    _counter_event(s, c, staff_id, now, action="resumed")
    return c


def sign_in_counter(s: Session, counter_id: int, staff_id: int,
                    now: dt.datetime | None = None) -> m.Counter:
    """An officer sits down at a counter: it opens and shows their name."""
    c = _counter(s, counter_id)
    changed = c.staff_id != staff_id or c.state == "closed"
    c.staff_id = staff_id
    if c.state == "closed":
        c.state = "open"
    if changed:
        _counter_event(s, c, staff_id, now, action="signed_in")
    return c


def sign_out_counter(s: Session, counter_id: int, staff_id: int | None,
                     now: dt.datetime | None = None) -> m.Counter:
    c = _counter(s, counter_id)
    c.state, c.staff_id, c.pause_reason = "closed", None, ""
    _counter_event(s, c, staff_id, now, action="signed_out")
    return c
