"""Queue engine unit tests on a real SQLite file (and PostgreSQL via db_url)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from counter_server import engine as e
from counter_server import models as m
from counter_server.engine import DomainError
from tests.counter_server.engine_support import T0, call, ctr, events_of, issue, svc


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


def test_another_offices_ticket_is_not_found(env):
    """An officer of one office acting on a ticket id of another office gets
    404 ``ticket_not_found``, as for an id that does not exist: nothing says
    the ticket is there."""
    from tests.counter_server.test_province import add_office

    db, creds = env
    with db.write() as s:
        other = add_office(s, 7)
    with db.write() as s:
        theirs = e.issue_ticket(s, other["office_id"], other["services"][0], now=T0).ticket
    for act in (lambda s: e.start(s, theirs.id, ctr(creds, 1), None),
                lambda s: e.complete(s, theirs.id, ctr(creds, 1), None),
                lambda s: e.cancel(s, theirs.id, ctr(creds, 1), None)):
        with pytest.raises(DomainError) as err, db.write() as s:
            act(s)
        assert (err.value.code, err.value.status) == ("ticket_not_found", 404)
