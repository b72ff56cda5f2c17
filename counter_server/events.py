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
from typing import Iterator

from sqlalchemy import func, select

from . import models as m
from .db import Database
from .queries import event_json

BATCH = 500


def format_event(ev: m.Event) -> str:
    data = json.dumps(event_json(ev), ensure_ascii=False, separators=(",", ":"))
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
        seen = db.notifier.seq  # taken before the read: no wake-up is missed
        with db.read() as s:
            rows = list(s.scalars(select(m.Event).where(m.Event.office_id == office_id,
                                                        m.Event.id > last_id)
                                  .order_by(m.Event.id).limit(BATCH)))
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
        db.notifier.wait(seen, timeout=max(0.05, min(poll, keepalive - (now - last_sent))))
