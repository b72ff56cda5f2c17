"""Helpers of the queue engine tests (the ``env`` fixture is in conftest.py)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from counter_server import engine as e
from counter_server import models as m

T0 = dt.datetime(2026, 11, 26, 2, 0, 0)  # 09:00 in Asia/Ho_Chi_Minh, a Thursday


def svc(creds, code):
    return creds["services"][code]


def ctr(creds, number):
    return creds["counters"][str(number)]


def issue(db, creds, code="HT", at=T0, **kw):
    with db.write() as s:
        return e.issue_ticket(s, creds["office_id"], svc(creds, code), now=at, **kw).ticket


def call(db, creds, counter, at=T0):
    with db.write() as s:
        return e.call_next(s, ctr(creds, counter), None, now=at)


def events_of(db, ticket_id):
    with db.read() as s:
        return [ev.type for ev in s.scalars(select(m.Event).where(m.Event.ticket_id == ticket_id)
                                            .order_by(m.Event.id))]
