"""Group commit (group_commit.GroupCommitter) on a real SQLite file: jobs from many
threads share commits, each caller gets its own result or error, a refused
job changes nothing while its batch-mates are stored."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from counter_server import engine as e
from counter_server import models as m
from counter_server.db import Database
from counter_server.group_commit import GroupCommitter
from tests.conftest import seed_database


def _hammer(db, jobs_per_thread: int, make_job) -> dict[int, object]:
    """16 threads start together; thread ``i`` runs ``make_job(i * 100 + j)``
    through the group committer for each ``j``.  Returns each key's result or
    the code of its refusal."""
    results: dict[int, object] = {}
    start = threading.Barrier(16)

    def worker(i: int) -> None:
        start.wait()
        for j in range(jobs_per_thread):
            key = i * 100 + j
            try:
                results[key] = db.batched(make_job(key))
            except e.DomainError as err:
                results[key] = err.code

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _event_job(office: int, key: int, refused: bool = False):
    """A job that reads, appends one event, then is maybe refused."""
    def fn(s):
        s.execute(select(m.Office.id)).first()  # a real job reads and writes
        e.append_event(s, office, "admin.test", payload={"key": key})
        if refused:
            raise e.DomainError("refused", "Refused after writing.")
        return key
    return fn


def _event_keys(db) -> list[int]:
    with db.read() as s:
        return [ev.payload["key"] for ev in s.scalars(
            select(m.Event).where(m.Event.type == "admin.test").order_by(m.Event.id))]


@pytest.fixture
def db(sqlite_url):
    seed_database(sqlite_url)
    database = Database(sqlite_url, pool_size=4)
    yield database
    database.dispose()


def test_each_caller_gets_its_own_outcome_and_refusals_change_nothing(db, monkeypatch):
    with db.read() as s:
        office_id = s.scalar(select(m.Office.id))
        services = list(s.scalars(select(m.Service.id).order_by(m.Service.id)))
    batches: list[int] = []
    real = GroupCommitter._run_batch

    def counting(self, batch):
        batches.append(len(batch))
        return real(self, batch)

    monkeypatch.setattr(GroupCommitter, "_run_batch", counting)

    def make_job(key: int):
        # Every fifth job asks for a service that does not exist: refused.
        sid = 10_000 + key if key % 100 % 5 == 4 else services[key % len(services)]
        return lambda s: e.issue_ticket(
            s, office_id, sid, idempotency_key=f"k{key}").ticket.idempotency_key

    results = _hammer(db, 25, make_job)
    assert len(results) == 16 * 25
    for key, got in results.items():
        assert got == ("service_not_found" if key % 100 % 5 == 4 else f"k{key}")
    with db.read() as s:
        stored = set(s.scalars(select(m.Ticket.idempotency_key)))
        events = s.scalar(select(func.count()).select_from(m.Event)
                          .where(m.Event.type == "ticket.issued"))
    assert stored == {f"k{k}" for k in results if k % 100 % 5 != 4}
    assert events == len(stored)
    assert sum(batches) == 16 * 25 and max(batches) > 1  # commits were shared


def test_a_lone_job_runs_on_the_callers_thread(db):
    caller = threading.get_ident()
    assert db.batched(lambda s: threading.get_ident()) == caller


def test_commits_wake_the_streams_of_their_office_only(db):
    with db.read() as s:
        office = s.scalar(select(m.Office.id))
    heard: list[set[int]] = []
    db.notifier.listen(heard.append)
    with db.write() as s:
        e.append_event(s, office, "admin.test")
    db.batched(lambda s: e.append_event(s, office, "admin.test"))
    with db.write() as s:
        s.get(m.Office, office)  # a write without events wakes nobody
    assert heard == [{office}, {office}]  # the other offices' readers sleep on
    done = threading.Event()
    db.notifier.listen(lambda offices: done.set())
    threading.Thread(target=lambda: db.batched(
        lambda s: e.append_event(s, office, "admin.test"))).start()
    assert done.wait(10) and heard[-1] == {office}


def _hammer_events(db, office: int, refuse) -> tuple[dict[int, object], list[int]]:
    """16 threads × 20 jobs, each appending one event then maybe refused."""
    results = _hammer(db, 20, lambda key: _event_job(office, key, refuse(key)))
    return results, _event_keys(db)


def test_a_job_refused_after_writing_leaves_no_event_and_others_keep_theirs(db):
    with db.read() as s:
        office = s.scalar(select(m.Office.id))
    results, stored = _hammer_events(db, office, lambda key: key % 7 == 3)
    assert len(results) == 320
    kept = {k for k, v in results.items() if v == k}
    assert {k for k, v in results.items() if v == "refused"} == {k for k in results if k % 7 == 3}
    assert sorted(stored) == sorted(kept)  # each kept job's event once, no refused job's


def test_batches_without_refusals_use_no_savepoint(db):
    from sqlalchemy import event as sa_event

    savepoints = []
    sa_event.listen(db.write_engine, "savepoint", lambda *a: savepoints.append(a))
    with db.read() as s:
        office = s.scalar(select(m.Office.id))
    results, stored = _hammer_events(db, office, lambda key: False)
    assert sorted(stored) == sorted(results) and len(stored) == 320
    assert savepoints == []
    # A refusal in a batch: the batch runs again, each job in its savepoint.
    from concurrent.futures import Future

    batch = [(_event_job(office, key, refused=key == 1002), Future())
             for key in (1001, 1002, 1003)]
    with db._write_lock:
        db._committer._run_batch(batch)
    assert [f.result() for _fn, f in (batch[0], batch[2])] == [1001, 1003]
    assert batch[1][1].exception().code == "refused"
    assert len(savepoints) == 3
    assert _event_keys(db)[-2:] == [1001, 1003]


def test_followers_are_woken_by_the_batch_that_ran_their_job(db):
    """A caller queued behind a running batch returns when the batch that ran
    its job commits: it never waits for the write lock behind the next batch
    (with the lock as the hand-over, some callers waited out several batches)."""
    import time

    committer = db._committer
    gates = {k: threading.Event() for k in ("a", "b", "d")}
    started = {k: threading.Event() for k in gates}
    done: dict[str, object] = {}

    def job(key):
        def work(s):
            if key in gates:
                started[key].set()
                assert gates[key].wait(20)
            return key
        return work

    def call(key):
        t = threading.Thread(target=lambda: done.setdefault(key, db.batched(job(key))))
        t.start()
        return t

    def queued(n):
        for _ in range(2000):
            if len(committer._queue) == n:
                return
            time.sleep(0.005)
        raise AssertionError(f"expected {n} queued jobs")

    ta = call("a")
    assert started["a"].wait(10)  # a leads a batch of its own, held open
    tb, tc = call("b"), None
    queued(1)
    tc = call("c")
    queued(2)
    gates["a"].set()  # b's caller leads the next batch: b and c, held open by b
    assert started["b"].wait(10)
    td = call("d")
    queued(1)
    gates["b"].set()  # b and c commit; d's caller leads next, held open by d
    assert started["d"].wait(10)
    tc.join(10)
    assert not tc.is_alive() and done["c"] == "c"  # while d's batch holds the write lock
    gates["d"].set()
    for t in (ta, tb, td):
        t.join(10)
    assert done == {"a": "a", "b": "b", "c": "c", "d": "d"}
