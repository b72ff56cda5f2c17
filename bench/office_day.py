"""Office day benchmark (not a test): one office's screens on a real server.

Starts ``motcua serve`` (SQLite, the demo office brought to 6 counters) and
connects the screens of an office as the apps do: each takes its snapshot
once on connect, then holds the office's event stream
(``GET /api/v1/events``): 1 kiosk (``/services``), 2 displays
(``/display``), 6 staff consoles and 6 rating tablets (``/counters/{id}``).
Every citizen's phone follows its ticket (``GET /api/v1/tickets/{code}/events``)
for one citizen in ``--phone-every``.  Citizens arrive at the kiosk, each
counter calls the next one (completing the one it served) and its rating
tablet sends the served citizen's rating.  The streams are plain sockets read
by one selector loop (many streams, one thread); the writes are HTTP.

Pace 1 is a busy day: each counter serves a citizen in ``SERVICE_SECONDS`` on
average (exponential), citizens arrive as fast as the counters serve them;
``--pace 10`` is ten times that.  ``--streams N`` adds idle office streams
(round-robin over the screens' tokens) up to N in all, e.g. 2000.

It prints: the streams the server process holds, event delivery p50/p95 from
the event's ``created_at`` (taken in the write's transaction) to every screen
(and from the call's answer to the phone), the server's CPU time per citizen
served (every request of every screen in the window included), its peak RSS,
with the targets beside them.  Only one office for now (the demo seed creates
one; a second office needs its own seed, not yet written).

    .venv/bin/python bench/office_day.py [--pace 1|10] [--duration 60] [--streams 2000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import selectors
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import support  # noqa: F401  (first: sys.path and the headless environment)
from support import load_average, widen_numbers

sys.path.append(str(Path(__file__).resolve().parent))  # after the repository (see support)
from server_load import cpu_seconds, pct, rss_mb  # noqa: E402

import requests  # noqa: E402

COUNTERS = 6
DISPLAYS = 2
#: Mean seconds of one citizen at a counter at pace 1 (a busy commune office).
SERVICE_SECONDS = 90.0
TARGET_P95_MS = 100.0
TARGET_CPU_MS = 20.0


def extend_office(db_url: str, creds: dict) -> None:
    """The demo office brought to :data:`COUNTERS` counters (each with its
    staff account and rating tablet; the new ones serve every service) and
    :data:`DISPLAYS` displays, as an admin would set it up."""
    from counter_server import models as m
    from counter_server.db import Database
    from counter_server.seed import add_device, add_user

    db = Database(db_url, pool_size=1)
    try:
        with db.write() as s:
            office = creds["office_id"]
            sids = list(creds["services"].values())
            for n in range(len(creds["counters"]) + 1, COUNTERS + 1):
                c = m.Counter(office_id=office, number=n, name=f"Quầy {n}")
                c.services = [m.CounterService(service_id=sid) for sid in sids]
                s.add(c)
                s.flush()
                creds["counters"][str(n)] = c.id
                add_user(s, office, f"canbo{n}", "staff", f"bench-pass-{n}")
                creds["users"][f"canbo{n}"] = {"password": f"bench-pass-{n}"}
                _d, token = add_device(s, office, f"Máy đánh giá quầy {n}", "rating", c.id)
                creds["devices"][f"rating{n}"] = {"token": token}
            for n in range(2, DISPLAYS + 1):
                _d, token = add_device(s, office, f"Màn hình {n}", "display")
                creds["devices"][f"display{n}"] = {"token": token}
    finally:
        db.dispose()


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


class Day:
    """Citizens arriving at the kiosk and served at the counters."""

    def __init__(self, server, streams: Streams, tokens: dict, pace: float,
                 phone_every: int, seed: int = 14) -> None:
        self.url, self.streams, self.tokens = server.url, streams, tokens
        self.creds = server.creds
        self.pace, self.phone_every = pace, phone_every
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.issued = self.served = self.rated = self.errors = 0
        self.refused: dict[str, int] = {}  # ratings refused, by status
        self.codes: dict[int, str] = {}  # ticket id -> code (the tablet learns it from its counter)
        self.lock = threading.Lock()

    def kiosk(self) -> None:
        http = requests.Session()
        head = {"Authorization": f"Bearer {self.tokens['kiosk']}"}
        sids = list(self.creds["services"].values())
        rate = COUNTERS / SERVICE_SECONDS * self.pace  # citizens per second
        while not self.stop.wait(self.rng.expovariate(rate)):
            r = http.post(self.url + "/api/v1/tickets", json={"service_id": self.rng.choice(sids)},
                          headers=head, timeout=30)
            with self.lock:
                if r.status_code != 201 and r.status_code != 200:
                    self.errors += 1
                    continue
                self.issued += 1
                self.codes[r.json()["id"]] = r.json()["code"]
                follow = self.issued % self.phone_every == 0
            if follow:
                self.streams.open(f"/api/v1/tickets/{r.json()['code']}/events", "phone")

    def counter(self, number: int) -> None:
        http = requests.Session()
        cid = self.creds["counters"][str(number)]
        staff = {"Authorization": f"Bearer {self.tokens[f'staff{number}']}"}
        tablet = {"Authorization": f"Bearer {self.tokens[f'rating{number}']}"}
        rng = random.Random(number)
        serving = 0
        while not self.stop.is_set():
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
            elif r.status_code == 409:  # queue empty: the staff looks again a moment later
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
                key = f"{r.status_code} {r.json().get('code', '')}"
                self.refused[key] = self.refused.get(key, 0) + 1

    def run(self, seconds: float) -> None:
        threads = [threading.Thread(target=self.kiosk, daemon=True)]
        threads += [threading.Thread(target=self.counter, args=(n,), daemon=True)
                    for n in range(1, COUNTERS + 1)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in threads:
            t.join(40)


def screens(server, tokens: dict) -> list[tuple[str, str, str]]:
    """(kind, snapshot path, token) of every screen of the office."""
    out = [("kiosk", "/services", tokens["kiosk"])]
    out += [("display", "/display", tokens[k]) for k in ("display", "display2")]
    for n in range(1, COUNTERS + 1):
        cid = server.creds["counters"][str(n)]
        out.append(("staff", f"/counters/{cid}", tokens[f"staff{n}"]))
        out.append(("rating", f"/counters/{cid}", tokens[f"rating{n}"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pace", type=float, default=1.0, help="1 = a busy day, 10 = ten times")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of the day simulated")
    ap.add_argument("--streams", type=int, default=0,
                    help="hold this many office streams in all (idle extra screens)")
    ap.add_argument("--phone-every", type=int, default=4,
                    help="one citizen in N follows the ticket on the phone")
    args = ap.parse_args()

    from tests.conftest import LiveServer, seed_database

    with tempfile.TemporaryDirectory(prefix="motcua-officeday-") as tmp:
        folder = Path(tmp)
        db_url = f"sqlite:///{(folder / 'bench.sqlite3').as_posix()}"
        creds = seed_database(db_url)
        widen_numbers(db_url)
        extend_office(db_url, creds)
        # the keep-alive of production (the tests' LiveServer sends one a second)
        server = LiveServer(db_url, folder / "instance", creds,
                            env={"MOTCUA_SSE_KEEPALIVE": "15"}).start()
        streams = Streams(server.port)
        try:
            pid = server.proc.pid
            tokens = {k: v["token"] for k, v in creds["devices"].items()}
            tokens.update({f"staff{n}": server.staff_token(n) for n in range(1, COUNTERS + 1)})
            office = screens(server, tokens)
            streams.thread.start()
            cpu0, t0 = cpu_seconds(pid), time.monotonic()
            for kind, path, token in office:  # each app: its snapshot, then the stream
                r = requests.get(server.url + "/api/v1" + path,
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
                if r.status_code != 200:
                    raise SystemExit(f"{kind} snapshot {path}: {r.status_code} {r.text[:200]}")
                streams.open("/api/v1/events", kind, token)
            for i in range(max(0, args.streams - len(office))):
                kind, _path, token = office[i % len(office)]
                streams.open("/api/v1/events", "extra", token)
            deadline = time.monotonic() + 180
            while len(streams.connected) < streams.open_count():
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(streams.connected)} of "
                                     f"{streams.open_count()} streams connected")
                time.sleep(0.05)
            held = streams.open_count()
            print(f"office: 1 kiosk, {DISPLAYS} displays, {COUNTERS} staff consoles, {COUNTERS} "
                  f"rating tablets, phones for 1 citizen in {args.phone_every}; "
                  f"{held} office streams open ({time.monotonic() - t0:.1f} s to connect)")
            day = Day(server, streams, tokens, args.pace, args.phone_every)
            day.run(args.duration)
            time.sleep(1.0)  # the last events reach the screens
            peak_phones = sum(1 for k in streams.kind.values() if k == "phone")
            cpu = cpu_seconds(pid) - cpu0
            wall = time.monotonic() - t0
            hwm = rss_mb(pid, "VmHWM")
        finally:
            streams.close()
            server.stop()

    print(f"pace {args.pace:g}: {day.issued} citizens issued, {day.served} served, "
          f"{day.rated} rated (refused: {day.refused or 'none'}), {day.errors} errors in "
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
    per = cpu * 1000 / max(1, day.served)
    print(f"server CPU {cpu:.2f} s over {wall:.0f} s = {per:.1f} ms per citizen served "
          f"(every screen's requests included) — target <= {TARGET_CPU_MS:.0f} ms: "
          f"{'OK' if per <= TARGET_CPU_MS else 'MISSED'}")
    print(f"server peak RSS {hwm:.1f} MB")


if __name__ == "__main__":
    main()
