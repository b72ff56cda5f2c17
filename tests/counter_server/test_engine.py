"""Queue engine unit tests on a real SQLite file (and PostgreSQL via db_url)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from counter_server import engine as e
from counter_server import models as m
from counter_server.db import Database
from counter_server.engine import DomainError
from tests.conftest import seed_database

T0 = dt.datetime(2026, 11, 26, 2, 0, 0)  # 09:00 in Asia/Ho_Chi_Minh, a Thursday


@pytest.fixture
def env(db_url):
    creds = seed_database(db_url)
    db = Database(db_url, pool_size=2)
    with db.write() as s:
        for c in s.scalars(select(m.Counter)):
            e.sign_in_counter(s, c.id, creds["users"][f"canbo{c.number}"]["id"], now=T0)
    yield db, creds
    db.dispose()


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


def test_numbers_are_sequential_per_service_and_block(env):
    db, creds = env
    a, b = issue(db, creds, "HT"), issue(db, creds, "HT")
    c = issue(db, creds, "CT")
    assert (a.number, b.number, c.number) == (1001, 1002, 2001)
    assert a.display_number == "1001" and a.code != b.code and len(a.code) >= 12
    assert events_of(db, a.id) == ["ticket.issued"]


def test_prefix_numbering_and_daily_cap(env):
    db, creds = env
    with db.write() as s:
        service = s.get(m.Service, svc(creds, "CU"))
        service.prefix, service.number_start, service.number_end, service.daily_cap = "A", 1, 999, 2
    assert issue(db, creds, "CU").display_number == "A001"
    assert issue(db, creds, "CU").display_number == "A002"
    with pytest.raises(DomainError) as err:
        issue(db, creds, "CU")
    assert err.value.code == "daily_cap_reached"
    with db.read() as s:  # the refused ticket left nothing behind
        assert s.scalar(select(func.count()).select_from(m.Ticket)) == 2
        assert s.scalar(select(m.NumberSequence.last_number)) == 2


def test_number_block_exhausted(env):
    db, creds = env
    with db.write() as s:
        s.get(m.Service, svc(creds, "DD")).number_end = 5001
    issue(db, creds, "DD")
    with pytest.raises(DomainError) as err:
        issue(db, creds, "DD")
    assert err.value.code == "daily_cap_reached"


def test_numbers_restart_each_service_day_and_history_is_kept(env):
    db, creds = env
    first = issue(db, creds, "HT", at=T0)
    issue(db, creds, "HT", at=T0)
    # 16:59 UTC is 23:59 local; 17:01 UTC is already the next local day.
    late = issue(db, creds, "HT", at=dt.datetime(2026, 11, 26, 16, 59))
    next_day = issue(db, creds, "HT", at=dt.datetime(2026, 11, 26, 17, 1))
    assert late.number == 1003 and late.service_day == dt.date(2026, 11, 26)
    assert next_day.number == 1001 and next_day.service_day == dt.date(2026, 11, 27)
    with db.read() as s:
        assert s.get(m.Ticket, first.id) is not None
        assert s.scalar(select(func.count()).select_from(m.Ticket)) == 4


def test_idempotency_key_returns_the_same_ticket(env):
    db, creds = env
    with db.write() as s:
        one = e.issue_ticket(s, creds["office_id"], svc(creds, "HT"), idempotency_key="tap-1", now=T0)
    with db.write() as s:
        two = e.issue_ticket(s, creds["office_id"], svc(creds, "HT"), idempotency_key="tap-1", now=T0)
    assert one.created and not two.created and one.ticket.id == two.ticket.id
    assert issue(db, creds, "HT", idempotency_key="tap-2").number == 1002


def test_opening_hours_and_closed_service(env):
    db, creds = env
    with db.write() as s:
        office = s.get(m.Office, creds["office_id"])
        office.opening_hours = {"thu": [["07:00", "11:30"]]}
        office.settings = {**office.settings, "enforce_hours": True}
        s.get(m.Service, svc(creds, "CT")).hours = {"thu": [["07:00", "08:00"]]}
        s.get(m.Service, svc(creds, "BHYT")).active = False
    issue(db, creds, "HT", at=T0)  # 09:00 Thursday: open
    for code, at, expected in (("HT", dt.datetime(2026, 11, 26, 5, 0), "office_closed"),   # 12:00
                               ("CT", T0, "outside_hours"),
                               ("BHYT", T0, "service_closed"),
                               ("HT", dt.datetime(2026, 11, 27, 2, 0), "office_closed")):  # Friday
        with pytest.raises(DomainError) as err:
            issue(db, creds, code, at=at)
        assert err.value.code == expected


def test_full_life_and_events(env):
    db, creds = env
    t = issue(db, creds, "HT")
    called = call(db, creds, 1, at=T0 + dt.timedelta(minutes=5))
    assert called.id == t.id and called.status == m.CALLED
    cid = ctr(creds, 1)
    with db.write() as s:
        e.recall(s, cid, None)
    with db.write() as s:
        e.start(s, t.id, cid, None, now=T0 + dt.timedelta(minutes=6))
    with db.write() as s:
        done = e.complete(s, t.id, cid, None, now=T0 + dt.timedelta(minutes=16))
    assert done.status == m.DONE and done.recall_count == 1
    assert events_of(db, t.id) == ["ticket.issued", "ticket.called", "ticket.recalled",
                                   "ticket.started", "ticket.completed"]
    with db.read() as s:
        assert s.get(m.Counter, cid).current_ticket_id is None


@pytest.mark.parametrize("action", ["start", "complete", "no_show"])
def test_forbidden_transitions_change_nothing(env, action):
    db, creds = env
    t = issue(db, creds, "HT")
    with pytest.raises(DomainError) as err:
        with db.write() as s:
            getattr(e, action)(s, t.id, ctr(creds, 1), None)
    assert err.value.code in ("invalid_transition", "not_your_ticket")
    with db.read() as s:
        assert s.get(m.Ticket, t.id).status == m.WAITING
    assert events_of(db, t.id) == ["ticket.issued"]


def test_cannot_act_on_another_counters_ticket(env):
    db, creds = env
    t = issue(db, creds, "HT")
    call(db, creds, 1)
    with pytest.raises(DomainError) as err, db.write() as s:
        e.complete(s, t.id, ctr(creds, 2), None)
    assert err.value.code == "not_your_ticket" and err.value.status == 403


def test_call_next_needs_open_counter_and_free_hands(env):
    db, creds = env
    issue(db, creds, "HT")
    issue(db, creds, "HT")
    with db.write() as s:
        e.pause(s, ctr(creds, 1), None, "Đi lấy hồ sơ")
    with pytest.raises(DomainError) as err:
        call(db, creds, 1)
    assert err.value.code == "counter_paused"
    with db.write() as s:
        e.resume(s, ctr(creds, 1), None)
    call(db, creds, 1)
    with pytest.raises(DomainError) as err:
        call(db, creds, 1)
    assert err.value.code == "ticket_in_progress"


def test_call_next_can_complete_the_ticket_in_hand_first(env):
    db, creds = env
    cid = ctr(creds, 1)
    first, second = issue(db, creds, "HT"), issue(db, creds, "BHYT")
    call(db, creds, 1, at=T0 + dt.timedelta(minutes=1))
    with db.write() as s:
        e.start(s, first.id, cid, None, now=T0 + dt.timedelta(minutes=2))
    with db.write() as s:
        nxt = e.call_next(s, cid, None, now=T0 + dt.timedelta(minutes=9), complete_current=True)
    assert nxt.id == second.id and nxt.status == m.CALLED
    with db.read() as s:
        done = s.get(m.Ticket, first.id)
        assert done.status == m.DONE and done.finished_at == T0 + dt.timedelta(minutes=9)
        assert done.started_at == T0 + dt.timedelta(minutes=2)
        assert s.get(m.Counter, cid).current_ticket_id == second.id
        # One event each, completion before the call.
        kinds = [(ev.type, ev.ticket_id) for ev in s.scalars(
            select(m.Event).where(m.Event.counter_id == cid,
                                  m.Event.type.in_(("ticket.completed", "ticket.called")))
            .order_by(m.Event.id))]
    assert kinds == [("ticket.called", first.id), ("ticket.completed", first.id),
                     ("ticket.called", second.id)]
    # Nobody left: refused, and the ticket in hand stays in hand.
    with pytest.raises(DomainError) as err, db.write() as s:
        e.call_next(s, cid, None, complete_current=True)
    assert err.value.code == "queue_empty"
    with db.read() as s:
        assert s.get(m.Ticket, second.id).status == m.CALLED
        assert s.get(m.Counter, cid).current_ticket_id == second.id
    assert events_of(db, second.id) == ["ticket.issued", "ticket.called"]


def test_queue_empty_and_services_respected(env):
    db, creds = env
    issue(db, creds, "DD")  # counter 1 serves HT and BHYT only
    with pytest.raises(DomainError) as err:
        call(db, creds, 1)
    assert err.value.code == "queue_empty"
    assert call(db, creds, 4).display_number == "5001"


def test_no_show_and_reactivate_keep_issue_time(env):
    db, creds = env
    t = issue(db, creds, "HT", at=T0)
    issue(db, creds, "HT", at=T0 + dt.timedelta(minutes=1))
    call(db, creds, 1)
    with db.write() as s:
        e.no_show(s, t.id, ctr(creds, 1), None)
    with db.write() as s:
        back = e.reactivate(s, t.id, ctr(creds, 1), None)
    assert back.status == m.WAITING and back.issued_at == T0
    # Back at the head of the queue, before the later ticket.
    assert call(db, creds, 1, at=T0 + dt.timedelta(minutes=3)).id == t.id
    assert events_of(db, t.id)[-3:] == ["ticket.no_show", "ticket.reactivated", "ticket.called"]


def test_transfer_to_service_keeps_number_and_place(env):
    db, creds = env
    t = issue(db, creds, "HT", at=T0)
    later = issue(db, creds, "BHYT", at=T0 + dt.timedelta(minutes=10))
    call(db, creds, 1)
    with db.write() as s:
        moved = e.transfer(s, t.id, ctr(creds, 1), None, to_service_id=svc(creds, "BHYT"))
    assert moved.display_number == "1001" and moved.status == m.WAITING
    assert moved.transfer_chain[0]["from_service_id"] == svc(creds, "HT")
    # Same original issue time: it is called before the later BHYT ticket.
    assert call(db, creds, 1, at=T0 + dt.timedelta(minutes=11)).id == t.id
    assert later.id != t.id


def test_transfer_to_counter_only_that_counter_calls_it(env):
    db, creds = env
    t = issue(db, creds, "HT")
    call(db, creds, 1)
    with db.write() as s:
        e.transfer(s, t.id, ctr(creds, 1), None, to_counter_id=ctr(creds, 3))
    with pytest.raises(DomainError):
        call(db, creds, 2)  # counter 2 serves HT but the ticket is for counter 3
    assert call(db, creds, 3).id == t.id


def test_transfer_needs_exactly_one_target(env):
    db, creds = env
    t = issue(db, creds, "HT")
    with pytest.raises(DomainError) as err, db.write() as s:
        e.transfer(s, t.id, ctr(creds, 1), None)
    assert err.value.status == 400


def test_cancel(env):
    db, creds = env
    t = issue(db, creds, "HT")
    with db.write() as s:
        assert e.cancel(s, t.id, ctr(creds, 1), None).status == m.CANCELLED
    with pytest.raises(DomainError), db.write() as s:
        e.cancel(s, t.id, ctr(creds, 1), None)


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
        for stmt in (st.lane_heads(1), st.lane_heads(3)):
            sql = str(stmt.compile(dialect=conn.dialect))
            plan = [r[3] for r in raw.execute("EXPLAIN QUERY PLAN " + sql, [1] * sql.count("?"))]
            searches = [step for step in plan if step.startswith(("SEARCH", "SCAN ticket"))]
            assert searches and all("ix_ticket_queue" in step or "ix_ticket_waiting" in step
                                    for step in searches), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan
    db.dispose()


def test_estimate_uses_recent_service_times_and_open_counters(env):
    db, creds = env
    for i in range(2):
        t = issue(db, creds, "CU", at=T0)
        call(db, creds, 3, at=T0)
        with db.write() as s:
            e.start(s, t.id, ctr(creds, 3), None, now=T0)
            e.complete(s, t.id, ctr(creds, 3), None, now=T0 + dt.timedelta(minutes=12))
    for _ in range(3):
        issue(db, creds, "CU")
    with db.read() as s:
        service = s.get(m.Service, svc(creds, "CU"))
        assert e.average_service_minutes(s, service) == pytest.approx(12.0)
        assert e.estimate_wait_minutes(s, service, 3) == 36  # one open counter serves CU


def test_sign_out_closes_counter(env):
    db, creds = env
    issue(db, creds, "HT")
    with db.write() as s:
        e.sign_out_counter(s, ctr(creds, 1), None)
    with pytest.raises(DomainError) as err:
        call(db, creds, 1)
    assert err.value.code == "counter_closed"
