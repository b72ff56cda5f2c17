"""Fill a database with realistic history for the report benchmarks.

    python bench/make_history.py --url sqlite:///bench/out/history.sqlite3           # 1 office, 2 years
    python bench/make_history.py --url postgresql://... --offices 100 --days 365      # a province

Rows go in with bulk writes (driver executemany on SQLite, COPY on
PostgreSQL), never through the ORM row by row.  Tickets, ratings and the
event log are written together, so figures read from tickets+ratings match
what the event log says (one issued/called/started/completed/no_show/
cancelled/rating.created event per state change).  Office 1 is the seeded
demo office (its credentials are written next to the database).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any, Iterable
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from counter_server import models as m  # noqa: E402
from counter_server.defaults import DEMO_COUNTERS, DEMO_SERVICES, DEMO_STAFF  # noqa: E402
from counter_server.migrate import upgrade  # noqa: E402
from counter_server.security import hash_password  # noqa: E402
from history_sim import OfficeShape, simulate_day  # noqa: E402

T_COLS = ("id", "office_id", "service_id", "issued_service_id", "service_day", "number",
          "display_number", "priority_class", "status", "issued_at", "called_at", "started_at",
          "finished_at", "counter_id", "staff_id", "recall_count", "transfer_chain", "code")
R_COLS = ("office_id", "ticket_id", "level", "reasons", "comment", "channel", "service_id",
          "counter_id", "staff_id", "created_at", "misuse", "misuse_reason")
E_COLS = ("office_id", "type", "ticket_id", "counter_id", "staff_id", "created_at", "payload")


def _engine_url(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


def add_office(conn: Any, index: int, pw_hash: str) -> None:
    """Office ``index`` (2, 3, ...) shaped like the demo office, with Core inserts."""
    oid = conn.execute(insert(m.Office).values(
        name=f"UBND xã Lịch Sử {index:03d}", address="", timezone="Asia/Ho_Chi_Minh",
        opening_hours={}, settings={}, created_at=m.utcnow())).inserted_primary_key[0]
    sids = {}
    for order, (code, name, icon, start) in enumerate(DEMO_SERVICES):
        sids[code] = conn.execute(insert(m.Service).values(
            office_id=oid, code=code, name=name, icon=icon, number_start=start,
            number_end=start + 998, prefix="", sort_order=order, active=True,
            default_service_minutes=8)).inserted_primary_key[0]
    for num, (cname, codes) in DEMO_COUNTERS.items():
        cid = conn.execute(insert(m.Counter).values(
            office_id=oid, number=num, name=cname, state="closed", pause_reason="",
            cycle_pos=0, active=True)).inserted_primary_key[0]
        conn.execute(insert(m.CounterService), [{"counter_id": cid, "service_id": sids[c],
                                                 "weight": 1} for c in codes])
        conn.execute(insert(m.User).values(
            office_id=oid, username=f"{DEMO_STAFF[num][0]}_{index:03d}",
            full_name=f"{DEMO_STAFF[num][1]} ({index:03d})", role="staff", password_hash=pw_hash,
            active=True, failed_logins=0, session_version=0, created_at=m.utcnow()))
    conn.execute(insert(m.User).values(
        office_id=oid, username=f"lanhdao_{index:03d}", full_name=f"Lãnh đạo {index:03d}",
        role="leader", password_hash=pw_hash, active=True, failed_logins=0, session_version=0,
        created_at=m.utcnow()))


def office_shape(conn: Any, oid: int) -> OfficeShape:
    svc = {code: (sid, start) for sid, code, start in conn.execute(
        select(m.Service.id, m.Service.code, m.Service.number_start).where(m.Service.office_id == oid))}
    staff = {}
    for uid, uname in conn.execute(select(m.User.id, m.User.username)
                                   .where(m.User.office_id == oid, m.User.role == "staff")):
        staff[int(uname[5])] = uid  # canboN...
    counters = []
    for cid, num in conn.execute(select(m.Counter.id, m.Counter.number).where(m.Counter.office_id == oid)
                                 .order_by(m.Counter.number)):
        codes = [c for c, (sid, _s) in svc.items() if conn.execute(
            select(m.CounterService.service_id).where(m.CounterService.counter_id == cid,
                                                      m.CounterService.service_id == sid)).first()]
        counters.append((cid, staff.get(num), codes))
    return OfficeShape(oid, {c: v[0] for c, v in svc.items()}, counters,
                       {c: v[1] for c, v in svc.items()})


def _ts(t: dt.datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%d %H:%M:%S.%f")


def rows_for(day_data: Any, oid: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    tickets = [(tid, o, s, s, d.isoformat(), num, disp, prio, st, _ts(i), _ts(c), _ts(sa), _ts(f),
                cid, sid, 0, "[]", f"h{tid:x}{random.getrandbits(32):08x}")
               for (tid, o, s, d, num, disp, prio, st, i, c, sa, f, cid, sid) in day_data.tickets]
    ratings = [(oid, tid, lvl, json.dumps(rs, ensure_ascii=False), com, "tablet", svc, cid, sid,
                _ts(when), mis, mr)
               for (tid, lvl, rs, com, svc, cid, sid, when, mis, mr) in day_data.ratings]
    events = [(oid, typ, tid, cid, sid, _ts(when), '{"ticket": {"id": %d}}' % tid)
              for (when, typ, tid, cid, sid) in day_data.events]
    return tickets, ratings, events


class Writer:
    """Bulk rows into one database: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, engine: Any) -> None:
        self.pg = engine.dialect.name == "postgresql"
        self.conn = engine.raw_connection()

    def put(self, table: str, cols: Iterable[str], rows: list[tuple]) -> None:
        if not rows:
            return
        cols = list(cols)
        cur = self.conn.cursor()
        if self.pg:
            with cur.copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as cp:
                for r in rows:
                    cp.write_row(r)
        else:
            marks = ", ".join("?" for _ in cols)
            if table == "rating":
                rows = [r[:10] + (int(r[10]),) + r[11:] for r in rows]
            cur.executemany(f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({marks})', rows)
        cur.close()

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--offices", type=int, default=1)
    ap.add_argument("--days", type=int, default=730, help="days of history ending yesterday")
    ap.add_argument("--rate", type=float, default=280.0, help="mean tickets per working day")
    ap.add_argument("--rate-others", type=float, default=None,
                    help="mean tickets per working day for offices 2.. (default: --rate)")
    ap.add_argument("--end", default=None, help="last day (YYYY-MM-DD), default yesterday")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    random.seed(args.seed)
    upgrade(args.url)
    engine = create_engine(_engine_url(args.url))
    creds_path = None
    with engine.begin() as conn:
        if conn.execute(select(m.Office.id)).first() is None:
            from sqlalchemy.orm import Session

            from counter_server.seed import seed_demo
            with Session(bind=conn) as s:
                creds = seed_demo(s, always_open=True)
                s.flush()
            if args.url.startswith("sqlite:///"):
                creds_path = Path(args.url[len("sqlite:///"):]).with_suffix(".creds.json")
                creds_path.write_text(json.dumps(creds, ensure_ascii=False), encoding="utf-8")
        have = conn.execute(select(m.Office.id).order_by(m.Office.id)).scalars().all()
        pw_hash = hash_password(random.randbytes(16).hex())  # nobody signs in as history staff
        for i in range(len(have) + 1, args.offices + 1):
            add_office(conn, i, pw_hash)
        offices = conn.execute(select(m.Office.id).order_by(m.Office.id)).scalars().all()[: args.offices]
        shapes = [office_shape(conn, oid) for oid in offices]
        next_id = (conn.execute(text("SELECT max(id) FROM ticket")).scalar() or 0) + 1

    end = dt.date.fromisoformat(args.end) if args.end else dt.date.today() - dt.timedelta(days=1)
    first = end - dt.timedelta(days=args.days - 1)
    offset = ZoneInfo("Asia/Ho_Chi_Minh").utcoffset(dt.datetime(2026, 1, 1))
    rng = random.Random(args.seed)
    writer = Writer(engine)
    started = time.perf_counter()
    totals = {"tickets": 0, "ratings": 0, "events": 0}
    try:
        for shape in shapes:
            day = first
            while day <= end:
                batch_t: list[tuple] = []
                batch_r: list[tuple] = []
                batch_e: list[tuple] = []
                month_end = min(end, (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                                - dt.timedelta(days=1))
                while day <= month_end:
                    rate = args.rate if shape is shapes[0] or args.rate_others is None \
                        else args.rate_others
                    data = simulate_day(rng, shape, day, offset, rate, next_id)
                    next_id += len(data.tickets)
                    t, r, e = rows_for(data, shape.office_id)
                    batch_t += t
                    batch_r += r
                    batch_e += e
                    day += dt.timedelta(days=1)
                writer.put("ticket", T_COLS, batch_t)
                writer.put("rating", R_COLS, batch_r)
                writer.put("event", E_COLS, batch_e)
                writer.commit()
                totals["tickets"] += len(batch_t)
                totals["ratings"] += len(batch_r)
                totals["events"] += len(batch_e)
                if shape.office_id == shapes[0].office_id or month_end == end:
                    print(f"office {shape.office_id} up to {month_end}: {totals['tickets']:,} tickets, "
                          f"{totals['ratings']:,} ratings, {totals['events']:,} events "
                          f"({time.perf_counter() - started:.1f} s)", flush=True)
        if writer.pg:
            cur = writer.conn.cursor()
            cur.execute("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))")
            cur.execute("ANALYZE")
            writer.commit()
        else:
            writer.conn.cursor().execute("ANALYZE")
            writer.commit()
    finally:
        writer.close()
        engine.dispose()
    took = time.perf_counter() - started
    print(f"done: {len(shapes)} office(s), {first} .. {end}: {totals['tickets']:,} tickets, "
          f"{totals['ratings']:,} ratings, {totals['events']:,} events in {took:.1f} s "
          f"({totals['tickets'] / max(took, 1e-9):,.0f} tickets/s)")
    if creds_path:
        print(f"demo office credentials: {creds_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
