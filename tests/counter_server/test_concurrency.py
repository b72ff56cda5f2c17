"""Hammer a running server over real HTTP, on SQLite and on PostgreSQL.

* 1,000 tickets issued from 8 threads get unique numbers.
* 6 counters calling next at once until the queue is empty call every
  ticket exactly once and none twice.
* The same from several processes (two client processes; on PostgreSQL also
  two server processes sharing one database).
"""
from __future__ import annotations

import collections
import concurrent.futures as cf
import multiprocessing as mp
import threading

import pytest
import requests
from sqlalchemy import func, select

from counter_server import models as m
from counter_server.db import Database
from tests.conftest import LiveServer, bearer

pytestmark = pytest.mark.slow

# Six counters; the demo office has four, so two more serving HT/CT are added.
EXTRA_COUNTERS = (5, 6)


def _add_counters(server: LiveServer) -> dict[int, str]:
    """Open 6 counters serving HT and CT; returns counter number -> staff token."""
    from counter_server.seed import add_user

    db = Database(server.db_url, pool_size=1)
    try:
        with db.write() as s:
            office_id = server.creds["office_id"]
            ht, ct = server.creds["services"]["HT"], server.creds["services"]["CT"]
            for n in EXTRA_COUNTERS:
                c = m.Counter(office_id=office_id, number=n, name=f"Quầy {n}", state="closed")
                c.services = [m.CounterService(service_id=ht), m.CounterService(service_id=ct)]
                s.add(c)
                s.flush()
                server.creds["counters"][str(n)] = c.id
                add_user(s, office_id, f"canbo{n}", "staff", f"pw-canbo{n}-secret")
                server.creds["users"][f"canbo{n}"] = {"password": f"pw-canbo{n}-secret"}
            for c in s.scalars(select(m.Counter)):
                if c.number in (1, 2, 3, 4):
                    c.services = [m.CounterService(service_id=ht), m.CounterService(service_id=ct)]
    finally:
        db.dispose()
    return {n: server.staff_token(n) for n in range(1, 7)}


def _issue_many(url: str, token: str, service_ids: list[int], count: int, threads: int) -> list[dict]:
    local = threading.local()

    def one(i: int) -> dict:
        sess = getattr(local, "s", None) or requests.Session()
        local.s = sess
        r = sess.post(url + "/api/v1/tickets", headers=bearer(token), timeout=30,
                      json={"service_id": service_ids[i % len(service_ids)]})
        assert r.status_code == 201, r.text
        return r.json()

    with cf.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def _drain(url: str, tokens: dict[int, str], counter_ids: dict[str, int]) -> dict[int, list[int]]:
    """Every counter calls next until the queue is empty: odd counters press
    "call next" then "complete", even ones the one-tap "done, next" (which
    completes the ticket in hand in the same transaction)."""
    barrier = threading.Barrier(len(tokens))

    def counter_loop(n: int) -> list[int]:
        sess, got = requests.Session(), []
        cid, auth, one_tap = counter_ids[str(n)], bearer(tokens[n]), n % 2 == 0
        barrier.wait()
        while True:
            r = sess.post(f"{url}/api/v1/counters/{cid}/call-next", headers=auth, timeout=30,
                          json={"complete_current": True} if one_tap else None)
            if r.status_code == 409 and r.json()["error"]["code"] == "queue_empty":
                if one_tap and got:  # the last ticket stays in hand: finish it
                    done = sess.post(f"{url}/api/v1/tickets/{got[-1]}/complete", headers=auth,
                                     timeout=30)
                    assert done.status_code == 200, done.text
                return got
            assert r.status_code == 200, r.text
            tid = r.json()["id"]
            got.append(tid)
            if not one_tap:
                done = sess.post(f"{url}/api/v1/tickets/{tid}/complete", headers=auth, timeout=30)
                assert done.status_code == 200, done.text

    with cf.ThreadPoolExecutor(len(tokens)) as pool:
        futures = {n: pool.submit(counter_loop, n) for n in tokens}
        return {n: f.result() for n, f in futures.items()}


def _check_db(db_url: str, expected: int) -> None:
    db = Database(db_url, pool_size=1)
    try:
        with db.read() as s:
            rows = s.execute(select(m.Ticket.issued_service_id, m.Ticket.number)).all()
            assert len(rows) == expected == len(set(rows))
            assert s.scalar(select(func.count()).select_from(m.Ticket)
                            .where(m.Ticket.status != m.DONE)) == 0
            called = s.scalars(select(m.Event.ticket_id).where(m.Event.type == "ticket.called")).all()
            assert len(called) == len(set(called)) == expected
    finally:
        db.dispose()


def test_issue_1000_from_8_threads_then_6_counters_drain(any_live_server: LiveServer):
    server = any_live_server
    tokens = _add_counters(server)
    services = [server.creds["services"]["HT"], server.creds["services"]["CT"]]
    tickets = _issue_many(server.url, server.token("kiosk"), services, 1000, 8)

    numbers = collections.Counter((t["service_id"], t["number"]) for t in tickets)
    assert len(tickets) == 1000 and max(numbers.values()) == 1
    for sid in services:  # numbers are dense: no gap, no reuse
        mine = sorted(t["number"] for t in tickets if t["service_id"] == sid)
        assert mine == list(range(mine[0], mine[0] + len(mine)))

    calls = _drain(server.url, tokens, server.creds["counters"])
    every = [tid for got in calls.values() for tid in got]
    assert len(every) == len(set(every)) == 1000
    assert set(every) == {t["id"] for t in tickets}
    assert sum(1 for got in calls.values() if got) >= 2  # the counters really competed
    _check_db(server.db_url, 1000)


def _process_issue(url: str, token: str, service_id: int, count: int, out: mp.Queue) -> None:
    sess = requests.Session()
    got = []
    for _ in range(count):
        r = sess.post(url + "/api/v1/tickets", headers=bearer(token), json={"service_id": service_id},
                      timeout=30)
        got.append((r.status_code, r.json().get("number")))
    out.put(got)


def test_many_processes_issue_unique_numbers(live_server: LiveServer):
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    sid = live_server.creds["services"]["HT"]
    procs = [ctx.Process(target=_process_issue,
                         args=(live_server.url, live_server.token("kiosk"), sid, 100, out))
             for _ in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    flat = [n for res in results for code, n in res if code == 201]
    assert len(flat) == 300 and len(set(flat)) == 300


@pytest.mark.postgres
def test_two_server_processes_on_one_postgres(live_server_pg: LiveServer, tmp_path):
    """A province runs several server processes on one database: the claim is
    a conditional update, so counters on different servers still never share a ticket."""
    first = live_server_pg
    tokens = _add_counters(first)
    second = LiveServer(first.db_url, tmp_path / "second", first.creds).start()
    try:
        services = [first.creds["services"]["HT"], first.creds["services"]["CT"]]
        a = _issue_many(first.url, first.token("kiosk"), services, 150, 4)
        b = _issue_many(second.url, first.token("kiosk"), services, 150, 4)
        nums = [(t["service_id"], t["number"]) for t in a + b]
        assert len(set(nums)) == 300
        half = {n: tok for n, tok in tokens.items() if n <= 3}
        rest = {n: tok for n, tok in tokens.items() if n > 3}
        with cf.ThreadPoolExecutor(2) as pool:
            f1 = pool.submit(_drain, first.url, half, first.creds["counters"])
            f2 = pool.submit(_drain, second.url, rest, first.creds["counters"])
            every = [t for got in (*f1.result().values(), *f2.result().values()) for t in got]
        assert len(every) == len(set(every)) == 300
        _check_db(first.db_url, 300)
    finally:
        second.stop()
