"""Server-Sent Events read from the event table.

The stream is the event log itself: it starts after ``Last-Event-ID`` (or at
the newest event), sends rows in id order, and wakes as soon as this process
commits new events (the notifier) or within ``poll`` seconds for events
written by another process.  A comment line every ``keepalive`` seconds keeps
proxies and TV browsers from closing an idle stream.
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

from sqlalchemy import Text, bindparam, cast, func, select

from . import models as m
from .db import Database
from .engine import iso

BATCH = 500
_EVENT = m.Event.__table__
# Built once; the payload comes back as the JSON text it is stored as and goes
# out as is (every stream reads every event of its office).
_NEW_EVENTS = (select(_EVENT.c.id, _EVENT.c.type, _EVENT.c.ticket_id, _EVENT.c.counter_id,
                      _EVENT.c.staff_id, _EVENT.c.created_at,
                      cast(_EVENT.c.payload, Text).label("payload_json"))
               .where(_EVENT.c.office_id == bindparam("b_office"),
                      _EVENT.c.id > bindparam("b_after"))
               .order_by(_EVENT.c.id).limit(BATCH))


def format_event(ev: Any) -> str:
    """One SSE message: ``data`` holds the event's columns and its payload."""
    head = json.dumps({"id": ev.id, "type": ev.type, "ticket_id": ev.ticket_id,
                       "counter_id": ev.counter_id, "staff_id": ev.staff_id,
                       "created_at": iso(ev.created_at)}, ensure_ascii=False,
                      separators=(",", ":"))
    data = f'{head[:-1]},"payload":{ev.payload_json or "{}"}}}'
    return f"id: {ev.id}\nevent: {ev.type}\ndata: {data}\n\n"


def event_stream(db: Database, office_id: int, last_id: int | None, *,
                 keepalive: float = 15.0, poll: float = 1.0) -> Iterator[str]:
    if last_id is None:
        with db.read() as s:
            last_id = s.scalar(select(func.max(m.Event.id))
                               .where(m.Event.office_id == office_id)) or 0
    yield f"retry: 2000\nid: {last_id}\n: connected\n\n"
    last_sent = time.monotonic()
    while True:
        seen = db.notifier.seq(office_id)  # taken before the read: no wake-up is missed
        with db.lookup() as conn:
            rows = conn.execute(_NEW_EVENTS, {"b_office": office_id, "b_after": last_id}).all()
        if rows:
            yield "".join(format_event(ev) for ev in rows)
            last_id = rows[-1].id
            last_sent = time.monotonic()
            if len(rows) == BATCH:
                continue
        now = time.monotonic()
        if now - last_sent >= keepalive:
            yield ": keep-alive\n\n"
            last_sent = now
        db.notifier.wait(office_id, seen,
                         timeout=max(0.05, min(poll, keepalive - (now - last_sent))))
