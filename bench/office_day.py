"""Office day benchmark (not a test): offices' screens on a real server.

Starts ``motcua serve`` (SQLite, or PostgreSQL with ``--pg``) with
``--offices`` offices (bench/province_seed.py: 6 counters serving the demo's
6 services, an officer signed in at each) and connects the screens of every
office as the apps do: each takes its snapshot once on connect, then holds
its office's event stream (``GET /api/v1/events``): 1 kiosk (``/services``),
2 displays (``/display``), 6 staff consoles and 6 rating tablets
(``/counters/{id}``).  Every citizen's phone follows its ticket
(``GET /api/v1/tickets/{code}/events``) for one citizen in ``--phone-every``.
Citizens arrive at each kiosk, each counter calls the next one (completing
the one it served) and its rating tablet sends the served citizen's rating.
The streams are plain sockets read by one selector loop (many streams, one
thread); the writes are HTTP.

The offices have a year behind them: ``--past-ratings`` ratings (50,000 by
default, spread over the offices) from their tablets.

Pace 1 is a busy day: each counter serves a citizen in ``SERVICE_SECONDS`` on
average (exponential), citizens arrive as fast as the counters serve them;
``--pace 10`` is ten times that.  ``--streams N`` adds idle office streams
(round-robin over the screens' tokens) up to N in all, e.g. 2000.

It prints: the streams the server process holds, event delivery p50/p95 from
the event's ``created_at`` (taken in the write's transaction) to every screen
(and from the call's answer to the phone), the server's CPU time per citizen
served (every request of every screen in the window included; on PostgreSQL
the database backends' CPU beside it), the idle cost with every stream open,
its peak RSS, with the targets beside them.

``--pg --workers 1,2,4`` is the province throughput run instead:
``motcua serve --workers N`` on a new PostgreSQL database, a closed loop of
issue and call next from client processes (bench/province_load.py), every
ticket checked.

    .venv/bin/python bench/office_day.py [--offices 100] [--pg [URL]] [--pace 1|10]
        [--duration 60] [--streams 2000]
    .venv/bin/python bench/office_day.py --pg --workers 1,2,4 [--rounds 2] [--seconds 20]
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import selectors
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import support  # noqa: F401  (first: sys.path and the headless environment)
from support import load_average

sys.path.append(str(Path(__file__).resolve().parent))  # after the repository (see support)
import province_load  # noqa: E402
from province_seed import COUNTERS, DISPLAYS, seed_offices  # noqa: E402
from server_load import cpu_seconds, pct, rss_mb  # noqa: E402
from snapshots import add_past_ratings  # noqa: E402

import requests  # noqa: E402

#: Mean seconds of one citizen at a counter at pace 1 (a busy commune office).
SERVICE_SECONDS = 90.0
TARGET_P95_MS = 100.0
TARGET_CPU_MS = 20.0


class Streams:
    """SSE connections on plain sockets, read by one selector thread; every
    event's delivery delay is recorded as it arrives.

    The arrival time is taken once per ``select`` (when the data was already
    there), not per socket after the ones before it were parsed, and an
    office event's ``created_at`` is cut out of its head without parsing the
    whole payload: with 2,000 streams the bench's own parsing otherwise adds
    hundreds of milliseconds to the last sockets of a fan-out."""

    EVENT = re.compile(rb"id: (\d+)\nevent: ([\w.]+)\ndata: (.*)\n\n")
    #: The head the server writes first in every office event's data (events.format_event).
    CREATED = re.compile(rb'\ndata: \{"id":\d+,"type":"[^"]*","ticket_id":[^,]*,"counter_id":'
                         rb'[^,]*,"staff_id":[^,]*,"created_at":"([^"]*)"')

    def __init__(self, port: int) -> None:
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.bufs: dict[socket.socket, bytearray] = {}
        self.kind: dict[socket.socket, str] = {}
        self.connected: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.delays: dict[str, list[float]] = {}  # screen kind -> ms
        self.called_at: dict[int, float] = {}  # ticket id -> wall time call-next answered
        self.closed_by_server = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def open(self, path: str, kind: str, token: str | None = None) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Accept: text/event-stream\r\n\r\n"
                  .encode())
        s.setblocking(False)
        with self.lock:
            self.bufs[s], self.kind[s] = bytearray(), kind
            self.sel.register(s, selectors.EVENT_READ)

    def open_count(self) -> int:
        with self.lock:
            return len(self.bufs)

    def _run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                ready = self.sel.select(0) if self.bufs else []
            if not ready:
                time.sleep(0.002)
                continue
            now = time.time()
            for key, _ in ready:
                self._read(key.fileobj, now)

    def _read(self, s: socket.socket, now: float) -> None:
        try:
            data = s.recv(65536)
        except BlockingIOError:
            return
        if not data:
            with self.lock:
                self.sel.unregister(s)
                del self.bufs[s]
                self.connected.discard(s)
                kind = self.kind.pop(s)
            s.close()
            if kind != "phone":  # a phone's stream ends after its ticket's last status
                self.closed_by_server += 1
            return
        buf = self.bufs[s]
        buf += data
        if s not in self.connected and (b": connected" in buf or b"retry:" in buf):
            self.connected.add(s)
        end = buf.rfind(b"\n\n")
        if end < 0:
            return
        chunk = bytes(buf[:end + 2])
        del buf[:end + 2]
        kind = self.kind[s]
        if kind != "phone":
            delays = self.delays.setdefault(kind, [])
            for created in self.CREATED.findall(chunk):
                delays.append((now - dt.datetime.fromisoformat(created.decode()).timestamp())
                              * 1000)
            return
        for _id, etype, payload in self.EVENT.findall(chunk):
            body = json.loads(payload)
            if etype == b"ticket.status" and body.get("status") == "called":
                sent = self.called_at.get(body.get("id", 0))
                if sent is not None:
                    self.delays.setdefault(kind, []).append((now - sent) * 1000)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        with self.lock:
            for s in list(self.bufs):
                self.sel.unregister(s)
                s.close()
            self.bufs.clear()


class FromAddress(requests.adapters.HTTPAdapter):
    """Connections from one loopback address (127.0.0.0/8 is all local), so
    that each office's devices come from their own address, as on a
    province's network, and meet the per-address limits as they would."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        kw["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kw)


class Day:
    """Citizens arriving at the kiosk and served at the counters of office
    number ``k`` (its devices' requests come from 127.0.0.``k + 2``)."""

    def __init__(self, server, streams: Streams, tokens: dict, pace: float,
                 phone_every: int, k: int = 0) -> None:
        self.address = f"127.0.{(k + 2) // 256}.{(k + 2) % 256}"
        self.url, self.streams, self.tokens = server.url, streams, tokens
        self.creds = server.creds
        self.pace, self.phone_every = pace, phone_every
        self.rng = random.Random(14 + k)
        self.doors_closed = threading.Event()  # no more arrivals; the queue is still served
        self.stop = threading.Event()
        self.issued = self.served = self.rated = self.errors = 0
        self.refused: dict[str, int] = {}  # ratings refused, by status
        self.codes: dict[int, str] = {}  # ticket id -> code (the tablet learns it from its counter)
        self.lock = threading.Lock()
        # What a console shows from the events: someone is waiting. An officer calls
        # only then (``taken`` counts the calls made for the tickets issued so far).
        self.someone_waiting = threading.Condition(self.lock)
        self.taken = 0

    def session(self) -> requests.Session:
        http = requests.Session()
        http.mount("http://", FromAddress(self.address))
        return http

    def kiosk(self) -> None:
        http = self.session()
        head = {"Authorization": f"Bearer {self.tokens['kiosk']}"}
        sids = list(self.creds["services"].values())
        rate = COUNTERS / SERVICE_SECONDS * self.pace  # citizens per second
        while not self.doors_closed.wait(self.rng.expovariate(rate)):
            r = http.post(self.url + "/api/v1/tickets", json={"service_id": self.rng.choice(sids)},
                          headers=head, timeout=30)
            with self.lock:
                if r.status_code != 201 and r.status_code != 200:
                    self.errors += 1
                    continue
                self.issued += 1
                self.codes[r.json()["id"]] = r.json()["code"]
                self.someone_waiting.notify()
                follow = self.issued % self.phone_every == 0
            if follow:
                self.streams.open(f"/api/v1/tickets/{r.json()['code']}/events", "phone")

    def counter(self, number: int) -> None:
        http = self.session()
        cid = self.creds["counters"][str(number)]
        staff = {"Authorization": f"Bearer {self.tokens[f'staff{number}']}"}
        tablet = {"Authorization": f"Bearer {self.tokens[f'rating{number}']}"}
        rng = random.Random(number)
        serving = 0
        while not self.stop.is_set():
            with self.someone_waiting:
                if not self.someone_waiting.wait_for(lambda: self.issued > self.taken, 0.5):
                    continue
                self.taken += 1
            r = http.post(f"{self.url}/api/v1/counters/{cid}/call-next",
                          json={"complete_current": True}, headers=staff, timeout=30)
            if r.status_code == 200:
                ticket = r.json()["id"]
                self.streams.called_at[ticket] = time.time()
                with self.lock:
                    self.served += 1
                if serving:  # the one served before was completed: its citizen rates
                    self._rate(http, tablet, self.codes.get(serving), rng)
                serving = ticket
                self.stop.wait(rng.expovariate(self.pace / SERVICE_SECONDS))
            elif r.status_code == 409:  # not expected: every call is for a waiting ticket
                with self.lock:
                    self.refused["call-next 409"] = self.refused.get("call-next 409", 0) + 1
                    self.taken -= 1
                self.stop.wait(2.0 / self.pace)
            else:
                with self.lock:
                    self.errors += 1
                self.stop.wait(1.0)

    def _rate(self, http, tablet: dict, code: str | None, rng: random.Random) -> None:
        """The tablet's rating of the ticket its counter completed."""
        r = http.post(self.url + "/api/v1/ratings", headers=tablet, timeout=30,
                      json={"ticket_code": code, "level": rng.choice([4, 4, 4, 3, 3, 2]),
                            "reasons": [],
                            "comment": "", "client_key": None})
        with self.lock:
            if r.status_code in (200, 201):
                self.rated += 1
            else:
                key = f"{r.status_code} {r.json().get('error', {}).get('code', '')}"
                self.refused[key] = self.refused.get(key, 0) + 1

    def threads(self) -> list[threading.Thread]:
        out = [threading.Thread(target=self.kiosk, daemon=True)]
        return out + [threading.Thread(target=self.counter, args=(n,), daemon=True)
                      for n in range(1, COUNTERS + 1)]


def run_days(days: list[Day], seconds: float, pace: float) -> float:
    """Every office's day at once: citizens arrive for ``seconds``, then the
    doors close and the counters call everyone still waiting, so every
    citizen issued is served (as at the end of a real day).  Returns the
    seconds the queues took to empty."""
    threads = [t for day in days for t in day.threads()]
    for t in threads:
        t.start()
    time.sleep(seconds)
    for day in days:
        day.doors_closed.set()
    t0, limit = time.monotonic(), 20 * SERVICE_SECONDS / pace
    while any(d.served < d.issued for d in days) and time.monotonic() - t0 < limit:
        time.sleep(0.1)
    drained = time.monotonic() - t0
    for day in days:
        day.stop.set()
    for t in threads:
        t.join(40)
    return drained


def screens(server, tokens: dict) -> list[tuple[str, str, str]]:
    """(kind, snapshot path, token) of every screen of the office."""
    out = [("kiosk", "/services", tokens["kiosk"])]
    out += [("display", "/display", tokens[k]) for k in ("display", "display2")]
    for n in range(1, COUNTERS + 1):
        cid = server.creds["counters"][str(n)]
        out.append(("staff", f"/counters/{cid}", tokens[f"staff{n}"]))
        out.append(("rating", f"/counters/{cid}", tokens[f"rating{n}"]))
    return out


def office_tokens(office: dict) -> dict[str, str]:
    """The tokens of one seeded office's screens, by the keys :func:`screens`
    and :class:`Day` use."""
    tokens = dict(office["devices"])
    tokens.update({f"staff{n}": t for n, t in office["staff"].items()})
    return tokens


def office_day(args: argparse.Namespace) -> None:
    """``--offices`` offices' screens and citizens on one server process."""
    from types import SimpleNamespace

    from tests.conftest import LiveServer

    with tempfile.TemporaryDirectory(prefix="motcua-officeday-") as tmp, \
            database(args.pg, Path(tmp)) as db_url:
        folder = Path(tmp)
        t_seed = time.monotonic()
        offices = seed_offices(db_url, args.offices)
        for creds in offices:  # the year behind each office: its tablets' ratings
            add_past_ratings(db_url, creds, args.past_ratings // args.offices)
        seeded = time.monotonic() - t_seed
        # the keep-alive of production (the tests' LiveServer sends one a second)
        server = LiveServer(db_url, folder / "instance", {},
                            env={"MOTCUA_SSE_KEEPALIVE": "15"}).start()
        streams = Streams(server.port)
        try:
            pid = server.proc.pid
            days, every_screen = [], []
            for k, office in enumerate(offices):
                tokens = office_tokens(office)
                place = SimpleNamespace(url=server.url, creds=office)
                every_screen += screens(place, tokens)
                days.append(Day(place, streams, tokens, args.pace, args.phone_every, k))
            streams.thread.start()
            db_cpu0 = db_cpu_seconds(args.pg, db_url)
            cpu0, t0 = cpu_seconds(pid), time.monotonic()
            http = requests.Session()
            for kind, path, token in every_screen:  # each app: its snapshot, then the stream
                r = http.get(server.url + "/api/v1" + path,
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
                if r.status_code != 200:
                    raise SystemExit(f"{kind} snapshot {path}: {r.status_code} {r.text[:200]}")
                streams.open("/api/v1/events", kind, token)
            for i in range(max(0, args.streams - len(every_screen))):
                kind, _path, token = every_screen[i % len(every_screen)]
                streams.open("/api/v1/events", "extra", token)
            deadline = time.monotonic() + 300
            while len(streams.connected) < streams.open_count():
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(streams.connected)} of "
                                     f"{streams.open_count()} streams connected")
                time.sleep(0.05)
            held = streams.open_count()
            print(f"{args.offices} office(s) on {'PostgreSQL' if args.pg else 'SQLite'}, one "
                  f"server process (seeded in {seeded:.0f} s, {args.past_ratings} past "
                  f"ratings), each: 1 kiosk, {DISPLAYS} displays, "
                  f"{COUNTERS} staff consoles, {COUNTERS} rating tablets, phones for 1 citizen in "
                  f"{args.phone_every}; {held} office streams open "
                  f"({time.monotonic() - t0:.1f} s to connect)")
            idle0, db_idle0, bench0 = cpu_seconds(pid), db_cpu_seconds(args.pg, db_url), \
                sum(os.times()[:2])
            time.sleep(args.idle)  # every stream open, nobody arriving
            idle = cpu_seconds(pid) - idle0
            db_idle = db_cpu_seconds(args.pg, db_url) - db_idle0
            day0, db_day0 = cpu_seconds(pid), db_cpu_seconds(args.pg, db_url)
            drained = run_days(days, args.duration, args.pace)
            time.sleep(1.0)  # the last events reach the screens
            peak_phones = sum(1 for k in streams.kind.values() if k == "phone")
            cpu = cpu_seconds(pid) - cpu0
            day_cpu = cpu_seconds(pid) - day0
            db_cpu = db_cpu_seconds(args.pg, db_url) - db_cpu0
            db_day = db_cpu_seconds(args.pg, db_url) - db_day0
            bench_cpu = sum(os.times()[:2]) - bench0
            wall = time.monotonic() - t0
            hwm = rss_mb(pid, "VmHWM")
        finally:
            streams.close()
            server.stop()

    issued, served = sum(d.issued for d in days), sum(d.served for d in days)
    rated, errors = sum(d.rated for d in days), sum(d.errors for d in days)
    refused: dict[str, int] = {}
    for d in days:
        for key, n in d.refused.items():
            refused[key] = refused.get(key, 0) + n
    print(f"pace {args.pace:g}: {issued} citizens issued, {served} served, "
          f"{rated} rated (refused: {refused or 'none'}), {errors} errors in "
          f"{args.duration:.0f} s; load average {load_average():.2f}")
    print(f"streams held by the server process: {held} office streams + {peak_phones} phone "
          f"streams open at the end ({streams.closed_by_server} office streams closed by the "
          f"server)")
    every = [d for k, v in streams.delays.items() if k != "phone" for d in v]
    for kind in ("kiosk", "display", "staff", "rating", "extra", "phone"):
        v = streams.delays.get(kind, [])
        if v:
            what = "call answered -> phone" if kind == "phone" else "created_at -> screen"
            print(f"  delivery {kind:<8} {len(v):>7} events  p50 {pct(v, 50):7.1f} ms  "
                  f"p95 {pct(v, 95):7.1f} ms  max {max(v):7.1f} ms  ({what})")
    p95 = pct(every, 95)
    print(f"delivery to every office screen: {len(every)} events, p50 {pct(every, 50):.1f} ms, "
          f"p95 {p95:.1f} ms — target <= {TARGET_P95_MS:.0f} ms: "
          f"{'OK' if p95 <= TARGET_P95_MS else 'MISSED'}")
    per = cpu * 1000 / max(1, served)
    print(f"server CPU {cpu:.2f} s over {wall:.0f} s = {per:.1f} ms per citizen served "
          f"(every screen's requests included) — target <= {TARGET_CPU_MS:.0f} ms: "
          f"{'OK' if per <= TARGET_CPU_MS else 'MISSED'}"
          + (f"; PostgreSQL backends {db_cpu:.2f} s = {db_cpu * 1000 / max(1, served):.1f} ms "
             f"per citizen" if args.pg else ""))
    print(f"  of which the day alone ({args.duration:.0f} s of arrivals + {drained:.0f} s until "
          f"the last citizen was called, after every screen connected): "
          f"{day_cpu:.2f} s = {day_cpu * 1000 / max(1, served):.1f} ms per citizen"
          + (f", PostgreSQL {db_day * 1000 / max(1, served):.1f} ms" if args.pg else ""))
    print(f"idle, every stream open and nobody arriving: server {idle * 1000 / args.idle:.0f} ms "
          f"CPU per second" + (f", PostgreSQL {db_idle * 1000 / args.idle:.0f} ms per second"
                               if args.pg else "")
          + f" ({args.idle:.0f} s); the bench process itself used {bench_cpu:.1f} s CPU "
          f"(idle + day)")
    print(f"server peak RSS {hwm:.1f} MB")


# ---------------------------------------------------------------- a province
@contextlib.contextmanager
def database(pg_admin: str | None, folder: Path) -> Iterator[str]:
    """A new SQLite file in ``folder``, or a new database on the PostgreSQL
    cluster ``pg_admin`` names (dropped at the end)."""
    if not pg_admin:
        yield f"sqlite:///{(folder / 'bench.sqlite3').as_posix()}"
        return
    import psycopg

    name = "motcua_bench_" + os.urandom(5).hex()
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_admin.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def db_cpu_seconds(pg_admin: str | None, db_url: str) -> float:
    """CPU time of the PostgreSQL backends now connected to ``db_url``'s
    database (Linux /proc; the cluster runs on this machine); 0 on SQLite."""
    if not pg_admin:
        return 0.0
    import psycopg

    with psycopg.connect(pg_admin, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("select pid from pg_stat_activity where datname = %s",
                                           (db_url.rpartition("/")[2],))]
    return sum(cpu_seconds(p) for p in pids if Path(f"/proc/{p}").exists())


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``--workers``: the supervisor and its workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def tree_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in process_tree(pid))


def check_run(db_url: str, offices: list[dict], issued: list[dict], called: list[dict]) -> str:
    """Every ticket checked, from the answers and the database: no duplicate
    number, none called twice, none left uncalled, each called at a counter of
    its own office.  Raises SystemExit with the first violation."""
    from sqlalchemy import func, select

    from counter_server import models as m
    from counter_server.db import Database

    numbers = {(t["office"], t["service_id"], t["number"]) for t in issued}
    ids = [t["id"] for t in called]
    problems = []
    if len(numbers) != len(issued):
        problems.append(f"{len(issued) - len(numbers)} duplicate numbers")
    if len(ids) != len(set(ids)):
        problems.append(f"{len(ids) - len(set(ids))} tickets called twice")
    if set(ids) != {t["id"] for t in issued}:
        problems.append(f"{len({t['id'] for t in issued} - set(ids))} tickets never called")
    own = {k: set(o["counters"].values()) for k, o in enumerate(offices)}
    if any(t["counter_id"] not in own[t["office"]] for t in called):
        problems.append("a ticket called at another office's counter")
    db = Database(db_url, pool_size=1)
    try:
        with db.read() as s:
            rows = s.execute(select(m.Ticket.office_id, m.Ticket.issued_service_id,
                                    m.Ticket.number, m.Ticket.status)).all()
            calls = s.execute(select(m.Event.ticket_id, func.count())
                              .where(m.Event.type == "ticket.called")
                              .group_by(m.Event.ticket_id)).all()
    finally:
        db.dispose()
    if len({(r.office_id, r.issued_service_id, r.number) for r in rows}) != len(rows):
        problems.append("duplicate numbers in the database")
    if len(rows) != len(issued) or any(r.status == m.WAITING for r in rows):
        problems.append("database tickets differ from the answers, or some still wait")
    if len(calls) != len(rows) or any(n != 1 for _t, n in calls):
        problems.append("a ticket.called count per ticket other than 1")
    if problems:
        raise SystemExit("CHECK FAILED: " + "; ".join(problems))
    return f"{len(rows)} tickets: 0 duplicate numbers, 0 called twice, 0 left, all in own office"


def load_phase(pool: Any, port: int, phase: str, jobs: list[dict], clients: int,
               seconds: float) -> tuple[list, float, float]:
    """Run ``phase`` in the client processes; (answers, wall seconds, client CPU)."""
    start_at = time.time() + 2.0  # every client process is ready by then
    parts = [jobs[i::clients] for i in range(clients)]
    futures = [pool.submit(province_load.run, port, phase, part, start_at, seconds)
               for part in parts if part]
    results = [f.result() for f in futures]
    answers = [a for r in results for a in r["answers"]]
    wall = max(r["ended"] for r in results) - start_at
    return answers, wall, sum(r["cpu"] for r in results)


def throughput(args: argparse.Namespace) -> None:
    """Issue and call-next throughput for each ``--workers`` count (and each
    of ``--rounds``) on PostgreSQL, a closed loop from client processes:
    each thread is one counter of one office and its share of the kiosk.
    The queue is first filled to ``--backlog`` tickets per office (a busy
    morning's queue), then every thread issues a ticket and calls the next one
    in turn for ``--seconds``, so the queue stays that long and every counter
    of an office claims from the same heads at once; at the end the counters
    call until every queue is empty, and every ticket is checked."""
    import concurrent.futures as cf
    import multiprocessing

    from tests.conftest import LiveServer

    pool = cf.ProcessPoolExecutor(args.clients, mp_context=multiprocessing.get_context("spawn"))
    rows = []
    print(f"throughput on PostgreSQL: {args.load_offices} offices, {args.callers} counters of "
          f"each calling at once ({args.load_offices * args.callers} threads) in "
          f"{args.clients} client processes; {args.backlog} waiting per office, then each "
          f"thread issues and calls next (completing the ticket in hand) in turn for "
          f"{args.seconds:.0f} s")
    for workers in args.workers:
        for _round in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="motcua-province-") as tmp, \
                    database(args.pg, Path(tmp)) as db_url:
                offices = seed_offices(db_url, args.load_offices)
                server = LiveServer(db_url, Path(tmp) / "instance", {},
                                    env={"MOTCUA_SSE_KEEPALIVE": "15"},
                                    args=("--workers", str(workers))).start()
                try:
                    jobs = [{"office": k, "kiosk": o["devices"]["kiosk"], "seed": k * 10 + n,
                             "services": list(o["services"].values()),
                             "counter": o["counters"][str(n)], "staff": o["staff"][str(n)],
                             "count": -(-args.backlog // args.callers)}
                            for n in range(1, args.callers + 1) for k, o in enumerate(offices)]
                    # the backlog, which also warms every worker process up
                    fill, _w, _c = load_phase(pool, server.port, "fill", jobs, args.clients, 600)
                    pid = server.proc.pid
                    s_cpu0, d_cpu0 = tree_cpu(pid), db_cpu_seconds(args.pg, db_url)
                    got, wall, client_cpu = load_phase(pool, server.port, "mixed", jobs,
                                                       args.clients, args.seconds)
                    s_cpu = tree_cpu(pid) - s_cpu0
                    d_cpu = db_cpu_seconds(args.pg, db_url) - d_cpu0
                    load = load_average()
                    drain, _w, _c = load_phase(pool, server.port, "drain", jobs, args.clients, 600)
                    procs = len(process_tree(pid))
                    hwm = max(rss_mb(p, "VmHWM") for p in process_tree(pid))
                finally:
                    server.stop()
                answers = fill + got + drain
                errors = [a for a in answers if a[0] == "error"]
                if errors:
                    raise SystemExit(f"{len(errors)} errors, first: {errors[0]}")
                checked = check_run(db_url, offices, [a[2] for a in answers if a[0] == "issue"],
                                    [a[2] for a in answers if a[0] == "call"])
            lat_i = [a[1] for a in got if a[0] == "issue"]
            lat_c = [a[1] for a in got if a[0] == "call"]
            empty = sum(1 for a in got if a[0] == "empty")
            ops = len(lat_i) + len(lat_c)
            row = {"workers": workers, "issue": len(lat_i) / wall,
                   "call": len(lat_c) / wall}
            rows.append(row)
            used = (s_cpu + d_cpu + client_cpu) / wall
            print(f"--workers {workers} ({procs} processes in the server's tree): "
                  f"issue {row['issue']:.1f}/s (p50 {pct(lat_i, 50):.0f} / p95 "
                  f"{pct(lat_i, 95):.0f} ms), call next {row['call']:.1f}/s (p50 "
                  f"{pct(lat_c, 50):.0f} / p95 {pct(lat_c, 95):.0f} ms; {empty} found the "
                  f"queue empty) in {wall:.1f} s")
            print(f"    CPU per request (issue or call): server {s_cpu * 1000 / ops:.1f} ms, "
                  f"PostgreSQL {d_cpu * 1000 / ops:.1f} ms, clients "
                  f"{client_cpu * 1000 / ops:.1f} ms; they used {used:.2f} of the machine's "
                  f"{os.cpu_count()} cores; load average {load:.1f}; peak RSS per process "
                  f"{hwm:.0f} MB")
            print(f"    checked: {checked}")
    pool.shutdown()

    def mean(workers: int) -> float:
        calls = [r["call"] for r in rows if r["workers"] == workers]
        return sum(calls) / len(calls)

    print("issued and called per second (each thread issues one, then calls one: the two "
          "rates are equal), mean over the rounds, and the ratio to one process "
          "(target: 2 processes >= 1.6x):")
    for workers in args.workers:
        each = [f"{r['call']:.1f}" for r in rows if r["workers"] == workers]
        ratio = f", {mean(workers) / mean(1):.2f}x one process" if 1 in args.workers else ""
        print(f"  --workers {workers}: {mean(workers):.1f}/s (rounds: {', '.join(each)}){ratio}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pace", type=float, default=1.0, help="1 = a busy day, 10 = ten times")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of the day simulated")
    ap.add_argument("--streams", type=int, default=0,
                    help="hold this many office streams in all (idle extra screens)")
    ap.add_argument("--phone-every", type=int, default=4,
                    help="one citizen in N follows the ticket on the phone")
    ap.add_argument("--offices", type=int, default=1, help="offices, each with all its screens")
    ap.add_argument("--past-ratings", type=int, default=50_000,
                    help="ratings from the year before, spread over the offices")
    ap.add_argument("--idle", type=float, default=10.0,
                    help="seconds with every stream open before the day starts (idle cost)")
    ap.add_argument("--pg", nargs="?", const=os.environ.get("MOTCUA_TEST_PG", ""), default=None,
                    metavar="URL", help="PostgreSQL instead of SQLite: a URL of the cluster "
                    "(default $MOTCUA_TEST_PG); the bench creates and drops its own database")
    ap.add_argument("--workers", type=lambda v: [int(x) for x in v.split(",")], default=None,
                    help="throughput run instead of the office day: e.g. 1,2,4 server "
                         "processes (PostgreSQL)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="throughput run: rounds per --workers count (the machine drifts)")
    ap.add_argument("--seconds", type=float, default=20.0,
                    help="throughput run: seconds of issuing and calling")
    ap.add_argument("--backlog", type=int, default=30,
                    help="throughput run: tickets waiting per office throughout")
    ap.add_argument("--load-offices", type=int, default=4, help="throughput run: offices")
    ap.add_argument("--callers", type=int, default=4,
                    help="throughput run: counters of each office calling at once (<= 6)")
    ap.add_argument("--clients", type=int, default=2, help="throughput run: client processes")
    args = ap.parse_args()
    if args.pg == "":
        raise SystemExit("--pg needs a URL (or MOTCUA_TEST_PG set)")
    if args.workers:
        if not args.pg:
            raise SystemExit("--workers needs --pg: several processes run on PostgreSQL only")
        throughput(args)
    else:
        office_day(args)


if __name__ == "__main__":
    main()
