"""Two tabs (or a double tap) acting on the same counter at the same moment,
and two counters acting on one ticket.

On SQLite writers queue anyway; on PostgreSQL (READ COMMITTED) every counter
transition locks its counter row first, so the second press sees what the
first one did: it never leaves a called ticket that no counter holds."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from counter_server import engine as e
from counter_server import models as m
from tests.counter_server.engine_support import ctr, issue


def test_presses_racing_at_one_counter_leave_no_orphan_ticket(env):
    db, creds = env
    counter = ctr(creds, 1)
    with db.read() as s:
        served = {cs.service_id for cs in s.get(m.Counter, counter).services}
    code = next(k for k, v in creds["services"].items() if v in served)
    tickets = [issue(db, creds, code).id for _ in range(60)]
    start = threading.Barrier(6)
    refused: list[str] = []
    failures: list[BaseException] = []

    def officer_tab(i: int) -> None:
        """Half the tabs press "call next" then "done"; half the one-tap button."""
        start.wait()
        try:
            while True:
                try:
                    with db.write() as s:
                        e.call_next(s, counter, None, complete_current=i % 2 == 0)
                except e.DomainError as exc:
                    refused.append(exc.code)
                    if exc.code == "queue_empty":
                        return
                    if exc.code == "ticket_in_progress":
                        with db.read() as s:
                            held = s.get(m.Counter, counter).current_ticket_id
                        if held is None:  # another tab finished it meanwhile
                            continue
                        try:
                            with db.write() as s:
                                e.complete(s, held, counter, None)
                        except e.DomainError as exc2:  # another tab finished it first
                            refused.append(exc2.code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=officer_tab, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    assert set(refused) <= {"queue_empty", "ticket_in_progress", "invalid_transition"}
    with db.read() as s:
        held = s.get(m.Counter, counter).current_ticket_id
        by_status = dict(s.execute(select(m.Ticket.status, func.count()).where(
            m.Ticket.id.in_(tickets)).group_by(m.Ticket.status)).all())
        open_ids = set(s.scalars(select(m.Ticket.id).where(
            m.Ticket.id.in_(tickets), m.Ticket.status.in_((m.CALLED, m.SERVING)))))
        called_events = s.scalar(select(func.count()).select_from(m.Event).where(
            m.Event.ticket_id.in_(tickets), m.Event.type == "ticket.called"))
    # Every ticket was called once; all are done but the one the counter may
    # still hold (the last tab out may have finished it).
    assert called_events == len(tickets)
    assert open_ids == ({held} if held else set()), (by_status, open_ids, held)
    assert by_status.get(m.DONE, 0) == len(tickets) - len(open_ids), by_status


def test_transfer_of_a_ticket_held_elsewhere_never_deadlocks(env, monkeypatch):
    """Counter 1 transfers (or cancels) the ticket in hand at counter 2 while
    counter 2 completes it.  Every transition locks counters before tickets,
    and one that touches two counters locks them in id order: the two wait for
    each other in a line, never in a circle (PostgreSQL would break a circle
    after a second by failing one of them)."""
    import time

    from counter_server.engine import locks

    db, creds = env
    c1, c2 = ctr(creds, 1), ctr(creds, 2)
    with db.read() as s:
        shared = ({cs.service_id for cs in s.get(m.Counter, c1).services}
                  & {cs.service_id for cs in s.get(m.Counter, c2).services})
    code = next(k for k, v in creds["services"].items() if v in shared)
    for action in ("transfer", "cancel"):
        t = issue(db, creds, code)
        with db.write() as s:
            e.call_next(s, c2, None)
        holding, go_on = threading.Event(), threading.Event()
        real_ticket = locks.lock_ticket

        def slow_ticket(s, ticket_id, real_ticket=real_ticket):
            row = real_ticket(s, ticket_id)  # counter 1 holds the ticket's lock...
            if threading.current_thread().name == "counter-1":
                holding.set()
                go_on.wait(10)  # ...while counter 2 starts completing it
            return row

        monkeypatch.setattr(locks, "lock_ticket", slow_ticket)
        outcome: dict[str, object] = {}

        def at_counter_1(action=action, ticket=t.id):
            try:
                with db.write() as s:
                    if action == "transfer":
                        e.transfer(s, ticket, c1, None, to_service_id=t.service_id)
                    else:
                        e.cancel(s, ticket, c1, None)
                outcome["1"] = "ok"
            except BaseException as exc:  # noqa: BLE001 - checked below
                outcome["1"] = exc

        def at_counter_2(ticket=t.id):
            try:
                with db.write() as s:
                    e.complete(s, ticket, c2, None)
                outcome["2"] = "ok"
            except e.DomainError as exc:
                outcome["2"] = exc.code
            except BaseException as exc:  # noqa: BLE001 - checked below
                outcome["2"] = exc

        one = threading.Thread(target=at_counter_1, name="counter-1")
        one.start()
        if db.is_sqlite:  # one writer at a time: nothing can interleave
            go_on.set()
            one.join(20)
        else:
            assert holding.wait(10)
            two = threading.Thread(target=at_counter_2, name="counter-2")
            two.start()
            time.sleep(0.3)  # counter 2 now waits for a lock (the line or the circle)
            go_on.set()
            one.join(20)
            two.join(20)
            assert outcome["2"] in ("ok", "invalid_transition", "not_your_ticket"), outcome
        monkeypatch.setattr(locks, "lock_ticket", real_ticket)
        assert outcome["1"] == "ok" or getattr(outcome["1"], "code", None) == \
            "invalid_transition", outcome
        with db.read() as s:
            counter2 = s.get(m.Counter, c2)
            ticket = s.get(m.Ticket, t.id)
            assert counter2.current_ticket_id != ticket.id or ticket.status in (m.CALLED,
                                                                                m.SERVING)
