"""How long a leader waits for the dashboard and the Excel file.

    python bench/reports.py                 # SQLite: one office, two years
    python bench/reports.py --pg            # PostgreSQL: one office's year among 100 offices

Builds the history with bench/make_history.py when missing (SQLite file in
bench/out/; PostgreSQL database ``motcua_hist`` on MOTCUA_TEST_PG, or on a
throw-away cluster started here with initdb/pg_ctl).  Pages are fetched
through the real Flask app (routing, templates, SVG charts) signed in as the
office's leader.  Targets: <= 300 ms per dashboard page, <= 2 s per export.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
END = "2026-11-25"
PAGE_TARGET, EXPORT_TARGET = 0.300, 2.0


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True)


def throwaway_pg() -> tuple[str, Any]:
    """Start a PostgreSQL cluster in a temp dir (as user postgres when root)."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    folder = Path(tempfile.mkdtemp(prefix="motcua-bench-pg-"))
    port = 55000 + os.getpid() % 400
    as_pg = ["su", "postgres", "-s", "/bin/sh", "-c"] if os.geteuid() == 0 else None
    if as_pg:
        shutil.chown(folder, "postgres")

    def pg(*args: str) -> None:
        cmd = [str(pgbin / args[0]), *args[1:]]
        _run(as_pg + [" ".join(cmd)] if as_pg else cmd)

    pg("initdb", "-D", f"{folder}/data", "-A", "trust", "-U", "postgres", "-E", "UTF8")
    pg("pg_ctl", "-D", f"{folder}/data", "-l", f"{folder}/pg.log", "-w", "-o",
       f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off'", "start")

    def stop() -> None:
        pg("pg_ctl", "-D", f"{folder}/data", "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def time_it(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench(url: str, label: str, periods: list[tuple[str, str, str]], repeat: int) -> bool:
    from sqlalchemy import select

    from counter_server import models as m
    from counter_server.app import create_app
    from counter_server.migrate import upgrade
    from counter_server.reports import cache

    upgrade(url)  # the history may predate the report_day table (0005_report_cache)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_DIR": str(OUT / "inst")})
    db = app.extensions["motcua_db"]
    with db.read() as s:
        leader = s.scalar(select(m.User.id).where(m.User.username == "lanhdao"))
        offices = s.scalar(select(m.Office.id).order_by(m.Office.id.desc()).limit(1))
        tickets = s.execute(select(m.Ticket.id).where(m.Ticket.office_id == 1).limit(1)).first()
    if tickets is None:
        raise SystemExit(f"{label}: no history in the database; run bench/make_history.py")
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["sv"] = str(leader), 0
    ok = True
    print(f"\n{label}  (offices in the database: {offices})")
    first_all = min(dt.date.fromisoformat(f) for _n, f, _l in periods)
    last_all = max(dt.date.fromisoformat(x) for _n, _f, x in periods)
    cache.clear(db, 1)

    def progress(done: int, total: int) -> None:
        print(f"\r  cold cache build: {done}/{total} days", end="", flush=True)

    t0 = time.perf_counter()
    built = cache.refresh(db, 1, first_all, last_all, progress)
    cold = time.perf_counter() - t0
    print(f"\n  cold cache build of {built} days: {cold:.1f} s "
          f"({cold / max(1, built) * 1000:.1f} ms/day)")
    q0 = f"period=custom&from={periods[0][1]}&to={periods[0][2]}"
    cache.clear(db, 1)
    t0 = time.perf_counter()
    client.get("/reports/?" + q0)
    print(f"  cold dashboard ({periods[0][0]}, builds its days): "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms")
    cache.refresh(db, 1, first_all, last_all)
    for name, first, last in periods:
        q = f"period=custom&from={first}&to={last}"
        client.get("/reports/?" + q)  # warm caches as a leader's second click would
        page_t, r = time_it(lambda: client.get("/reports/?" + q), repeat)
        assert r.status_code == 200, r.status_code
        xls_t, x = time_it(lambda: client.get("/reports/export.xlsx?" + q), repeat)
        assert x.status_code == 200
        api_t, _ = time_it(lambda: client.get(f"/api/v1/reports/summary?from={first}&to={last}"
                                              "&group_by=day"), repeat)
        good = page_t <= PAGE_TARGET and xls_t <= EXPORT_TARGET
        ok &= good
        print(f"  {name:<22} dashboard {page_t * 1000:7.0f} ms   excel {xls_t * 1000:7.0f} ms "
              f"({len(x.data) // 1024} KiB)   api/day {api_t * 1000:6.0f} ms   "
              f"{'OK' if good else 'OVER TARGET'}")
    app.extensions["motcua_db"].dispose()
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", action="store_true", help="PostgreSQL with 100 offices")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    periods = [("month (11/2026)", "2026-10-26", END), ("quarter (Q3 2026)", "2026-07-01", "2026-09-30"),
               ("year", "2025-11-26", END)]
    if not args.pg:
        path = OUT / "history.sqlite3"
        url = f"sqlite:///{path.as_posix()}"
        if not path.exists():
            _run([sys.executable, str(ROOT / "bench" / "make_history.py"), "--url", url, "--end", END])
        periods.append(("two years", "2024-11-26", END))
        return 0 if bench(url, "SQLite, one office, two years of history", periods, args.repeat) else 1
    admin = os.environ.get("MOTCUA_TEST_PG")
    stop = None
    if not admin:
        admin, stop = throwaway_pg()
    try:
        import psycopg

        base = admin.rpartition("/")[0]
        url = f"{base}/motcua_hist"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'motcua_hist'").fetchone()
            if not exists:
                conn.execute("CREATE DATABASE motcua_hist")
        if not exists:
            _run([sys.executable, str(ROOT / "bench" / "make_history.py"), "--url", url,
                  "--offices", "100", "--days", "365", "--end", END])
        return 0 if bench(url, "PostgreSQL, one office's year", periods, args.repeat) else 1
    finally:
        if stop:
            stop()


if __name__ == "__main__":
    raise SystemExit(main())
