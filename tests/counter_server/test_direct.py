"""direct.execute: the hot statements run on SQLite's own connection store
and read exactly what SQLAlchemy stores and reads, statement by statement."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy import exc, insert, select

from counter_server import direct
from counter_server import models as m
from counter_server import statements as st
from counter_server.db import Database
from tests.conftest import seed_database

NOW = dt.datetime(2026, 11, 27, 2, 30, 15, 250000)
DAY = dt.date(2026, 11, 27)


def _ticket_params(office: int, service: int, number: int, **kw) -> dict:
    return {"office_id": office, "service_id": service, "issued_service_id": service,
            "service_day": DAY, "number": number, "display_number": f"{number:03d}",
            "priority_class": "", "status": m.WAITING,
            "issued_at": NOW + dt.timedelta(seconds=number), "called_at": None,
            "started_at": None, "finished_at": None, "counter_id": None, "staff_id": None,
            "target_counter_id": None, "recall_count": 0,
            "transfer_chain": [{"from": "Hộ tịch", "at": NOW.isoformat()}],
            "code": f"code-{number}", "idempotency_key": f"k{number}" if number % 2 else None,
            "device_id": None, **kw}


def _script(run, conn, office: int, service: int, counter: int) -> list:
    """Every hot statement once or more; what each returned."""
    out = []
    conn.execute(insert(m.NumberSequence).values(service_id=service, service_day=DAY,
                                                 last_number=0))
    for n in range(1, 6):
        out.append(tuple(run(conn, st.SEQUENCE_BUMP, {"b_service": service, "b_day": DAY}).one()))
        out.append(tuple(run(conn, st.TICKET_INSERT, _ticket_params(
            office, service, n, priority_class="elderly" if n == 4 else "")).one()))
    first = out[1][0]
    out.append(tuple(run(conn, st.TICKET_BY_KEY, {"b_office": office, "b_key": "k3"}).first()))
    out.append(run(conn, st.WAITING_BEFORE, {"b_office": office, "b_service": service,
                                             "b_at": NOW + dt.timedelta(seconds=4),
                                             "b_id": first + 3}).scalar())
    lanes = st.lane_heads(office, (service,), 1)
    out.append(sorted(map(tuple, run(conn, lanes, {"b_counter": counter, "b_cutoff": NOW}).all())))
    out.append(tuple(run(conn, st.COUNTER_ROW_IN_HAND, {"b_id": counter}).first()))
    claimed = run(conn, st.CLAIM, {"b_id": first, "b_counter": counter, "b_staff": None,
                                   "b_now": NOW}).first()
    out.append(tuple(claimed))
    out.append(run(conn, st.CLAIM, {"b_id": first, "b_counter": counter, "b_staff": None,
                                    "b_now": NOW}).first())  # taken: no row
    run(conn, st.COUNTER_TAKE, {"b_id": counter, "b_ticket": first, "b_cycle": 1})
    out.append(tuple(run(conn, st.COUNTER_ROW_IN_HAND, {"b_id": counter}).first()._mapping
                     .values()))
    later = NOW + dt.timedelta(minutes=7)
    out.append(tuple(run(conn, st.COMPLETE_BRIEF, {"b_id": first, "b_office": office,
                                                   "b_counter": counter, "b_now": later}).first()))
    out.append(run(conn, st.COMPLETE, {"b_id": first, "b_office": office, "b_counter": counter,
                                       "b_now": later}).first())  # done already: no row
    run(conn, st.COUNTER_RELEASE, {"b_id": counter, "b_ticket": first})
    out.append(run(conn, st.RATED, {"b_id": first}).scalar())
    run(conn, st.EVENT_INSERT, [
        {"office_id": office, "type": "ticket.called", "ticket_id": first, "counter_id": counter,
         "staff_id": None, "created_at": NOW, "payload": {"ticket": {"number": 1, "tên": "Ánh"}}},
        {"office_id": office, "type": "ticket.completed", "ticket_id": first,
         "counter_id": counter, "staff_id": None, "created_at": later, "payload": {}}])
    return out


def _dump(path: str) -> dict:
    """Every table's rows as SQLite stores them (text, not Python values)."""
    raw = sqlite3.connect(path)
    try:
        tables = [r[0] for r in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: raw.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
    finally:
        raw.close()


def test_direct_and_sqlalchemy_store_and_read_the_same(tmp_path):
    urls, results, dumps = {}, {}, {}
    for way, run in (("direct", direct.execute), ("sqlalchemy", lambda c, s, p: c.execute(s, p))):
        path = tmp_path / f"{way}.sqlite3"
        urls[way] = f"sqlite:///{path.as_posix()}"
        creds = seed_database(urls[way])
        db = Database(urls[way], pool_size=1)
        with db.write() as s:
            conn = s.connection()
            counter = int(creds["counters"]["1"])
            results[way] = _script(run, conn, creds["office_id"], creds["services"]["HT"], counter)
        db.dispose()
        dumps[way] = _dump(str(path))
    assert results["direct"] == results["sqlalchemy"]
    assert dumps["direct"] == dumps["sqlalchemy"]
    # The values are Python's, not SQLite's text: what the engine reads.
    ticket = dict(zip((c.key for c in st.TICKET.c), results["direct"][1]))
    assert ticket["service_day"] == DAY and ticket["issued_at"] == NOW + dt.timedelta(seconds=1)
    assert ticket["transfer_chain"] == [{"from": "Hộ tịch", "at": NOW.isoformat()}]


def test_rows_read_like_sqlalchemy_rows(sqlite_url):
    creds = seed_database(sqlite_url)
    db = Database(sqlite_url, pool_size=1)
    with db.read() as s:
        conn = s.connection()
        params = {"b_id": int(creds["counters"]["1"])}
        ours = direct.execute(conn, st.COUNTER_ROW_IN_HAND, params).first()
        theirs = conn.execute(st.COUNTER_ROW_IN_HAND, params).first()
        assert ours.state == theirs.state and ours.number == theirs.number
        assert dict(ours._mapping) == dict(theirs._mapping)
        assert direct.execute(conn, st.COUNTER_ROW_IN_HAND, {"b_id": 10**9}).first() is None
        with pytest.raises(exc.NoResultFound):
            direct.execute(conn, st.COUNTER_ROW_IN_HAND, {"b_id": 10**9}).one()
        with pytest.raises(exc.InvalidRequestError):
            direct.execute(conn, st.COUNTER_ROW_IN_HAND, {})  # a parameter missing
    db.dispose()


def test_errors_are_sqlalchemys_and_python_defaults_go_through_sqlalchemy(sqlite_url):
    creds = seed_database(sqlite_url)
    db = Database(sqlite_url, pool_size=1)
    office, service = creds["office_id"], creds["services"]["HT"]
    with pytest.raises(exc.IntegrityError):  # run_write retries these, as before
        with db.write() as s:
            conn = s.connection()
            for _ in range(2):  # the same code twice: unique
                direct.execute(conn, st.TICKET_INSERT, _ticket_params(office, service, 1))
    # Without issued_at and status the model's Python defaults apply: SQLAlchemy
    # computes them, so such a statement is not run directly.
    params = _ticket_params(office, service, 2)
    del params["issued_at"], params["status"]
    with db.write() as s:
        direct.execute(s.connection(), st.TICKET_INSERT, params)
    with db.read() as s:
        t = s.scalar(select(m.Ticket).where(m.Ticket.code == "code-2"))
        assert t.status == m.WAITING and t.issued_at is not None
    db.dispose()
