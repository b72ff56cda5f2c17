"""How long a leader waits for a report the first time: dashboard, Excel, API.

    python bench/reports.py                          # SQLite: one office, two years
    python bench/reports.py --pg                     # PostgreSQL (MOTCUA_TEST_PG or a throw-away cluster)
    python bench/reports.py --reference 78f5800      # the same, with that commit's code side by side
    python bench/reports.py --only "year excel"      # only the requests whose "period request" has it

Builds the history with bench/make_history.py when missing (SQLite file in
bench/out/; PostgreSQL database ``motcua_hist_reports``: office 1 with two
years, nine more offices beside it).  Every figure is a *first* load: each
request runs in a fresh process (app created, nothing warm in it, no report
cache left from before) and only the request is timed; pages go through the
real Flask app (routing, sign-in session, templates, SVG charts, XlsxWriter).

``--reference REV`` extracts that commit into bench/out/ref-REV and times the
same requests with its code on the same database, in the same run.  For code
that still had the report day cache (``counter_server/reports/cache.py``) the
cache tables are created for the run, emptied before every request and
dropped at the end.  Each cell prints the wall time and, in brackets, the
serving process's CPU time (SQLite's work included, PostgreSQL's not), which
says more than the wall time on a shared machine.  Target: every first load
<= 2 s.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
END = "2026-11-25"
TARGET = 2.0
PERIODS = [("month", "2026-10-26", END), ("quarter", "2026-07-01", "2026-09-30"),
           ("year", "2025-11-26", END), ("two years", "2024-11-26", END)]
REQUESTS = {"dashboard": "/reports/?period=custom&from={f}&to={t}",
            "excel": "/reports/export.xlsx?period=custom&from={f}&to={t}",
            "api by day": "/api/v1/reports/summary?from={f}&to={t}&group_by=day"}
PG_DB = "motcua_hist_reports"


def _run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


# ------------------------------------------------------------------ worker side
def _old_cache(url: str) -> Any:
    """The report-cache module of code that still has one (tables made if missing)."""
    try:
        from counter_server.reports import cache  # type: ignore[attr-defined]
        from counter_server.reports.cache_models import ReportCacheState, ReportDay
    except ImportError:
        return None
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    ReportDay.metadata.create_all(engine, tables=[ReportDay.__table__, ReportCacheState.__table__])
    engine.dispose()
    return cache


def worker(url: str, path: str) -> None:
    """One first request in this fresh process; prints JSON {seconds, cpu, status, bytes}
    (cpu: this process's CPU seconds, SQLite's work included; PostgreSQL's is not)."""
    from sqlalchemy import select

    from counter_server import models as m
    from counter_server.app import create_app

    cache = _old_cache(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                      "INSTANCE_DIR": str(OUT / "inst")})
    db = app.extensions["motcua_db"]
    if cache is not None:
        cache.clear(db, 1)
    with db.read() as s:
        leader = s.scalar(select(m.User.id).where(m.User.username == "lanhdao"))
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["sv"] = str(leader), 0
    t0, c0 = time.perf_counter(), time.process_time()
    r = client.get(path)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    db.dispose()
    print(json.dumps({"seconds": took, "cpu": cpu, "status": r.status_code, "bytes": len(r.data)}))


def drop_old_cache(url: str) -> None:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        for table in ("report_cache_state", "report_day"):
            if table in inspect(conn).get_table_names():
                conn.execute(text(f"DROP TABLE {table}"))
    engine.dispose()


# ------------------------------------------------------------------ driver side
def reference_tree(rev: str) -> Path:
    folder = OUT / f"ref-{rev}"
    if not folder.exists():
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                                 capture_output=True).stdout
        _run(["tar", "-x", "-C", str(folder)], input=archive)
    return folder


def first_load(tree: Path, url: str, path: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", url, path],
                         check=True, capture_output=True, text=True, env=env, cwd=str(tree))
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_average() -> str:
    """The machine's 1/5/15-minute load average ('n/a' where the OS has none)."""
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(url: str, label: str, trees: list[tuple[str, Path]], only: list[str]) -> bool:
    print(f"\n{label}: first load of each report, fresh process, nothing warm")
    print(f"  load average at start: {load_average()}")
    names = [n for n, _t in trees]
    print(f"  {'period':<10} {'request':<11} " + " ".join(f"{n + ' (cpu)':>22}" for n in names))
    ok = True
    for pname, first, last in PERIODS:
        for rname, pattern in REQUESTS.items():
            if only and not any(o in f"{pname} {rname}" for o in only):
                continue
            path = pattern.format(f=first, t=last)
            cells = []
            for name, tree in trees:
                r = first_load(tree, url, path)
                assert r["status"] == 200, (name, path, r)
                if name == "this code":
                    ok &= r["seconds"] <= TARGET
                cells.append(f"{r['seconds'] * 1000:9.0f} ms ({r['cpu'] * 1000:5.0f} ms)")
            print(f"  {pname:<10} {rname:<11} " + " ".join(cells), flush=True)
    print(f"  load average at end: {load_average()}")
    return ok


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


def history_url(pg: bool) -> tuple[str, Any]:
    """The history database's URL (made when missing) and a stop function."""
    make = [sys.executable, str(ROOT / "bench" / "make_history.py"), "--end", END]
    if not pg:
        path = OUT / "history.sqlite3"
        url = f"sqlite:///{path.as_posix()}"
        if not path.exists():
            _run(make + ["--url", url])
        return url, None
    admin = os.environ.get("MOTCUA_TEST_PG")
    stop = None
    if not admin:
        admin, stop = throwaway_pg()
    import psycopg

    url = f"{admin.rpartition('/')[0]}/{PG_DB}"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {PG_DB}")
    if not exists:
        _run(make + ["--url", url, "--offices", "10", "--rate-others", "60"])
    return url, stop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", action="store_true", help="PostgreSQL, office 1 among 10")
    ap.add_argument("--reference", metavar="REV", help="also time this commit's code (git rev)")
    ap.add_argument("--only", action="append", default=[], metavar="TEXT",
                    help="only the requests whose 'period request' contains TEXT (repeatable)")
    ap.add_argument("--worker", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    url, stop = history_url(args.pg)
    try:
        from counter_server.migrate import upgrade

        upgrade(url)
        trees = [("this code", ROOT)]
        if args.reference:
            trees.insert(0, (f"ref {args.reference[:10]}", reference_tree(args.reference)))
        label = "PostgreSQL, office 1 of 10" if args.pg else "SQLite, one office"
        try:
            ok = measure(url, f"{label}, history to {END} (target {TARGET:.0f} s)", trees,
                         args.only)
        finally:
            if args.reference:
                drop_old_cache(url)
        print("all first loads within target" if ok else "OVER TARGET")
        return 0 if ok else 1
    finally:
        if stop:
            stop()


if __name__ == "__main__":
    sys.path.insert(0, os.environ.get("PYTHONPATH") or str(ROOT))
    raise SystemExit(main())
