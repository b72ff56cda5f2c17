"""Queue order on a real SQLite file and PostgreSQL: priority interleave,
aging, counter weights, and the lane heads call next reads."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from counter_server import engine as e
from counter_server import models as m
from counter_server.db import Database
from tests.conftest import seed_database
from tests.counter_server.engine_support import T0, call, ctr, issue, svc


def _calls(db, creds, n, counter=1, start=T0):
    out = []
    for i in range(n):
        t = call(db, creds, counter, at=start + dt.timedelta(minutes=i))
        out.append(t.priority_class or "normal")
        with db.write() as s:
            e.complete(s, t.id, ctr(creds, counter), None, now=start + dt.timedelta(minutes=i))
    return out


def test_priority_interleave_one_priority_for_two_normal(env):
    db, creds = env
    for i in range(6):
        issue(db, creds, "HT", at=T0 + dt.timedelta(seconds=i))
    for i in range(3):
        issue(db, creds, "HT", at=T0 + dt.timedelta(seconds=10 + i), priority_class="elderly")
    order = _calls(db, creds, 9, start=T0 + dt.timedelta(minutes=1))
    assert order == ["elderly", "normal", "normal"] * 3


def test_interleave_is_configurable(env):
    db, creds = env
    with db.write() as s:
        office = s.get(m.Office, creds["office_id"])
        office.settings = {**office.settings, "priority_run": 2, "normal_run": 1}
    for i in range(3):
        issue(db, creds, "HT", at=T0 + dt.timedelta(seconds=i))
    for i in range(4):
        issue(db, creds, "HT", at=T0 + dt.timedelta(seconds=10 + i), priority_class="merit")
    assert _calls(db, creds, 6, start=T0 + dt.timedelta(minutes=1)) == \
        ["merit", "merit", "normal", "merit", "merit", "normal"]


def test_aging_lets_old_normal_tickets_through(env):
    db, creds = env
    old = issue(db, creds, "HT", at=T0)
    with db.write() as s:
        office = s.get(m.Office, creds["office_id"])
        office.settings = {**office.settings, "normal_run": 0, "priority_run": 1}  # priority only
    for i in range(3):
        issue(db, creds, "HT", at=T0 + dt.timedelta(minutes=5 + i), priority_class="pregnant")
    # 10 minutes in: priority tickets first...
    assert call(db, creds, 1, at=T0 + dt.timedelta(minutes=10)).priority_class == "pregnant"
    with db.write() as s:
        e.complete(s, s.scalar(select(m.Ticket.id).where(m.Ticket.status == m.CALLED)),
                   ctr(creds, 1), None)
    # ...but past the aging limit (30 min) the old normal ticket outranks newer priority ones.
    assert call(db, creds, 1, at=T0 + dt.timedelta(minutes=31)).id == old.id


def test_counter_weights_prefer_a_service(env):
    db, creds = env
    with db.write() as s:
        c = s.get(m.Counter, ctr(creds, 1))
        for cs in c.services:
            cs.weight = 5 if cs.service_id == svc(creds, "BHYT") else 1
    ht = issue(db, creds, "HT", at=T0)
    bh = issue(db, creds, "BHYT", at=T0 + dt.timedelta(minutes=2))
    assert call(db, creds, 1, at=T0 + dt.timedelta(minutes=4)).id == bh.id
    assert ht.id != bh.id


def test_a_counter_serving_no_service_calls_nobody(env):
    """Call next reads the counter and its services' weights in one joined
    statement: a counter left with no service still gets its one row and
    answers that nobody waits for it, while other counters' queue is intact."""
    db, creds = env
    waiting = issue(db, creds, "HT", at=T0)
    with db.write() as s:
        s.execute(delete(m.CounterService).where(m.CounterService.counter_id == ctr(creds, 1)))
    with pytest.raises(e.DomainError) as err:
        call(db, creds, 1, at=T0 + dt.timedelta(minutes=1))
    assert err.value.code == "queue_empty"
    with db.read() as s:
        assert s.get(m.Ticket, waiting.id).status == m.WAITING
        assert s.get(m.Counter, ctr(creds, 1)).current_ticket_id is None


def test_lane_heads_are_found_behind_a_long_queue(env):
    """Call next reads only the first rows of each lane: a priority ticket, a
    transferred ticket and a weighted service's ticket far down the queue are
    still found."""
    db, creds = env
    for i in range(30):
        issue(db, creds, "HT", at=T0 + dt.timedelta(seconds=i))
    elderly = issue(db, creds, "HT", at=T0 + dt.timedelta(minutes=1), priority_class="elderly")
    assert call(db, creds, 1, at=T0 + dt.timedelta(minutes=2)).id == elderly.id
    # A ticket moved to counter 1 from a service it does not serve (DD); it was
    # issued before the 30 HT tickets, so it comes first.
    moved = issue(db, creds, "DD", at=T0 - dt.timedelta(minutes=1))
    call(db, creds, 4, at=T0 + dt.timedelta(minutes=2))
    with db.write() as s:
        e.transfer(s, moved.id, ctr(creds, 4), None, to_counter_id=ctr(creds, 1))
        e.complete(s, elderly.id, ctr(creds, 1), None)
        office = s.get(m.Office, creds["office_id"])
        office.settings = {**office.settings, "aging_minutes": 240}
        for cs in s.get(m.Counter, ctr(creds, 1)).services:
            cs.weight = 50 if cs.service_id == svc(creds, "BHYT") else 1
    bh = issue(db, creds, "BHYT", at=T0 + dt.timedelta(minutes=3))
    later = T0 + dt.timedelta(minutes=4)
    # Weight 50 for BHYT: one minute of waiting outranks the others' four or five.
    assert call(db, creds, 1, at=later).id == bh.id
    with db.write() as s:
        e.complete(s, bh.id, ctr(creds, 1), None)
        for cs in s.get(m.Counter, ctr(creds, 1)).services:
            cs.weight = 1
    assert call(db, creds, 1, at=later).id == moved.id


def test_queue_head_queries_use_the_waiting_indexes(sqlite_url):
    """With years of history, call next must not walk the office's tickets:
    every head query is answered from an index of the waiting queue (SQLite's
    plan; PostgreSQL plans by statistics)."""
    from counter_server import statements as st

    seed_database(sqlite_url)
    db = Database(sqlite_url, pool_size=1)
    with db.read() as s:
        conn = s.connection()
        raw = conn.connection.dbapi_connection
        for stmt in (st.lane_heads(1, (1,), 1), st.lane_heads(1, (1, 2, 3), 2)):
            sql = str(stmt.compile(dialect=conn.dialect))
            plan = [r[3] for r in raw.execute("EXPLAIN QUERY PLAN " + sql, [1] * sql.count("?"))]
            searches = [step for step in plan if step.startswith(("SEARCH", "SCAN ticket"))]
            assert searches and all("ix_ticket_queue" in step or "ix_ticket_waiting" in step
                                    for step in searches), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan
    db.dispose()
