"""The report day cache gives the same figures as the live scans, and events
invalidate exactly the days they touch."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from counter_server import models as m
from counter_server.db import Database
from counter_server.engine import append_event
from counter_server.reports import cache
from counter_server.reports import figures as fg
from counter_server.reports import tables as tb
from counter_server.reports.cache_models import ReportCacheState, ReportDay
from counter_server.reports.period import make_period
from tests.conftest import seed_database

from . import reports_fixture

TZ = "Asia/Ho_Chi_Minh"
FIRST, LAST = dt.date(2026, 3, 8), dt.date(2026, 3, 12)


def _ctx(s: Any, oid: int, first: str, last: str, cached: bool, **kw: Any) -> fg.Ctx:
    c = fg.Ctx(s, s.get(m.Office, oid), make_period("custom", TZ, first, last), **kw)
    return cache.attach(c) if cached else c


def _figures(s: Any, oid: int, first: str, last: str, cached: bool, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"total": tb.totals(_ctx(s, oid, first, last, cached, **kw)),
                           "heat": fg.heatmap(_ctx(s, oid, first, last, cached, **kw)),
                           "bands": fg.wait_bands(_ctx(s, oid, first, last, cached, **kw))}
    for g in ("staff", "counter", "service", "day"):
        out[g] = tb.grouped(_ctx(s, oid, first, last, cached, **kw), g)
    return out


def _same(a: Any, b: Any) -> None:
    """Equal, floats to 1e-9 relative (sums of per-day sums add in another order)."""
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
    elif isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


def _add_done_ticket(s: Any, creds: dict[str, Any], issued: dt.datetime, wait: int, service: int) -> m.Ticket:
    called = issued + dt.timedelta(seconds=wait)
    t = m.Ticket(office_id=creds["office_id"], service_id=creds["services"]["HT"],
                 issued_service_id=creds["services"]["HT"],
                 service_day=(issued + dt.timedelta(hours=7)).date(), number=1900,
                 display_number="1900", status="done", issued_at=issued, called_at=called,
                 started_at=called, finished_at=called + dt.timedelta(seconds=service),
                 counter_id=creds["counters"]["1"], staff_id=creds["users"]["canbo1"]["id"],
                 code=uuid.uuid4().hex)
    s.add(t)
    s.flush()
    return t


def test_cache_matches_live_and_invalidates(db_url: str) -> None:
    creds = seed_database(db_url)
    reports_fixture.build(db_url, creds)
    oid = creds["office_id"]
    canbo2 = creds["users"]["canbo2"]["id"]
    db = Database(db_url, pool_size=2)
    try:
        built = []
        n = cache.refresh(db, oid, FIRST, LAST, progress=lambda d, t: built.append((d, t)))
        assert n == 5 and built[-1] == (5, 5)
        assert cache.refresh(db, oid, FIRST, LAST) == 0  # warm: nothing to do
        with db.read() as s:
            stored = s.scalars(select(ReportDay.day).where(ReportDay.office_id == oid)).all()
            assert sorted(stored) == [FIRST + dt.timedelta(days=i) for i in range(5)]
            variants = [{}, {"include_misuse": True}, {"filters": fg.Filters(staff_id=canbo2)},
                        {"filters": fg.Filters(service_id=creds["services"]["HT"])}]
            for first, last in (("2026-03-10", "2026-03-10"), ("2026-03-08", "2026-03-12")):
                for kw in variants:
                    _same(_figures(s, oid, first, last, True, **kw),
                          _figures(s, oid, first, last, False, **kw))
            t = tb.totals(_ctx(s, oid, "2026-03-10", "2026-03-10", True))
            assert t["issued"] == 7 and t["p90_wait"] == pytest.approx(1500)
            assert t["p90_service"] == pytest.approx(960)
            assert t["misuse"] == {"too_fast": 1}

        # a ticket completed on 10/03 and a rating of 09/03, both with their events
        with db.write() as s:
            t10 = _add_done_ticket(s, creds, dt.datetime(2026, 3, 10, 7, 0), 3000, 120)
            append_event(s, oid, "ticket.completed", ticket=t10)
            t7 = s.scalar(select(m.Ticket).where(m.Ticket.number == 1007))
            s.add(m.Rating(office_id=oid, ticket_id=t7.id, level=1, reasons=[], comment="",
                           channel="tablet", service_id=t7.service_id, counter_id=t7.counter_id,
                           staff_id=t7.staff_id, created_at=dt.datetime(2026, 3, 9, 16, 59, 30),
                           misuse=False, misuse_reason=""))
            append_event(s, oid, "rating.created", ticket=t7,
                         now=dt.datetime(2026, 3, 9, 16, 59, 30))
        with db.read() as s:  # stale until refreshed: the stored day still says 7
            assert tb.totals(_ctx(s, oid, "2026-03-10", "2026-03-10", True))["issued"] == 7
        assert cache.refresh(db, oid, FIRST, LAST) == 2  # exactly 09/03 and 10/03 rebuilt
        with db.read() as s:
            state = s.get(ReportCacheState, oid)
            assert state.last_event_id == s.scalar(select(m.Event.id).order_by(m.Event.id.desc()))
            day10 = tb.totals(_ctx(s, oid, "2026-03-10", "2026-03-10", True))
            assert (day10["issued"], day10["served"]) == (8, 6)
            assert day10["p90_wait"] == pytest.approx(2280)  # [0,300,600,600,1200,1800,3000]: 1800+0.4*1200
            assert tb.totals(_ctx(s, oid, "2026-03-09", "2026-03-09", True))["levels"][1] == 1
            _same(_figures(s, oid, "2026-03-08", "2026-03-12", True),
                  _figures(s, oid, "2026-03-08", "2026-03-12", False))
    finally:
        db.dispose()


def test_today_is_live_and_never_stored(sqlite_url: str) -> None:
    creds = seed_database(sqlite_url)
    oid = creds["office_id"]
    db = Database(sqlite_url, pool_size=2)
    try:
        now = m.utcnow()
        with db.write() as s:
            _add_done_ticket(s, creds, now - dt.timedelta(minutes=10), 60, 60)
        with db.read() as s:
            today = make_period("today", TZ).first
        assert cache.refresh(db, oid, today, today) == 0
        with db.read() as s:
            assert s.scalar(select(ReportDay.day).where(ReportDay.office_id == oid)) is None
            c = cache.attach(fg.Ctx(s, s.get(m.Office, oid), make_period("today", TZ)))
            assert tb.totals(c)["issued"] == 1
    finally:
        db.dispose()
