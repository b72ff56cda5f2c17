"""Server load benchmark (not a test): prints figures, asserts nothing.

Starts ``motcua serve`` on a fresh SQLite database and measures over real HTTP:
issue ticket (8 client threads), call next (8 concurrent counters, each
completing what it called), event delivery (call-next returned -> the SSE
client got ``ticket.called``), duplicates, the server's memory, and issuing
with ``--streams`` event streams held open (delivery to all of them).  In the
same run it measures a ceiling: a bare Flask endpoint on the same server
stack (uvicorn, the Flask app through ``asgi.WsgiBridge`` with as many threads) doing one
SQLite sequence update and one insert per request with the same durability
settings, and prints our throughput as a ratio of it.  ``--reference REV``
first measures the server of git revision REV (``git archive``) the same way;
``--group-commit-off`` measures this tree with group commit disabled (a
patched copy), both in the same run.

    .venv/bin/python bench/server_load.py [--tickets 2000] [--clients 8] [--streams 1000]
        [--idle-seconds 0] [--reference REV] [--group-commit-off]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from counter_server.client import ApiClient  # noqa: E402
from light_client import LightSession  # noqa: E402  (bench/, beside this script)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil  # Windows and macOS

        return psutil.Process(pid).memory_info().rss / 2**20
    except Exception:
        return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (the server's cost per
    request is steadier than throughput on a machine whose speed drifts)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        import psutil  # Windows and macOS

        t = psutil.Process(pid).cpu_times()
        return t.user + t.system


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def summary(name: str, lat_ms: list[float], wall: float, extra: str = "") -> dict:
    n = len(lat_ms)
    out = {"name": name, "count": n, "throughput": n / wall if wall else 0.0,
           "p50": pct(lat_ms, 50), "p95": pct(lat_ms, 95), "p99": pct(lat_ms, 99)}
    print(f"{name:<28} {n:>6}  {out['throughput']:>8.1f}/s  p50 {out['p50']:>7.2f} ms  "
          f"p95 {out['p95']:>7.2f} ms  p99 {out['p99']:>7.2f} ms  {extra}")
    return out


def wait_up(url: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("server died")
        try:
            if requests.get(url, timeout=0.5).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("server did not start")


# --------------------------------------------------------------------------- ceiling
CEILING_APP = r'''
import sqlite3, sys, threading
from counter_server.asgi import WsgiBridge
from flask import Flask, jsonify
import uvicorn
path, port, sync = sys.argv[1], int(sys.argv[2]), sys.argv[3]
app = Flask(__name__)
local = threading.local()
def conn():
    c = getattr(local, "c", None)
    if c is None:
        c = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        c.execute("PRAGMA journal_mode=WAL"); c.execute(f"PRAGMA synchronous={sync}")
        c.execute("PRAGMA busy_timeout=30000")
        local.c = c
    return c
c0 = conn()
c0.execute("CREATE TABLE IF NOT EXISTS seq(id INTEGER PRIMARY KEY, n INTEGER)")
c0.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, n INTEGER, code TEXT)")
c0.execute("INSERT OR IGNORE INTO seq VALUES (1, 0)")
@app.post("/issue")
def issue():
    c = conn()
    c.execute("BEGIN IMMEDIATE")
    n = c.execute("UPDATE seq SET n = n + 1 WHERE id = 1 RETURNING n").fetchone()[0]
    c.execute("INSERT INTO t(n, code) VALUES (?, ?)", (n, "x"))
    c.execute("COMMIT")
    return jsonify(number=n)
# The server's stack: uvicorn (httptools), the app in WsgiBridge's 16 threads (serve's default).
uvicorn.run(WsgiBridge(app, 16), host="127.0.0.1", port=port, http="httptools",
            log_level="warning", access_log=False, lifespan="off")
'''


def run_ceiling(tmp: Path, count: int, clients: int, sync: str) -> dict:
    port = free_port()
    script = tmp / "ceiling.py"
    script.write_text(CEILING_APP)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp / f"ceiling-{sync}.db"), str(port),
                             sync])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url + "/issue", proc)
        lat1, wall1, _ = hammer(lambda s, i: s.post(url + "/issue", timeout=30), 300, 1)
        one = summary(f"ceiling 1 client (sync={sync})", lat1, wall1)
        cpu0 = cpu_seconds(proc.pid)
        lat, wall, _ = hammer(lambda s, i: s.post(url + "/issue", timeout=30), count, clients)
        cpu = (cpu_seconds(proc.pid) - cpu0) / len(lat) * 1000
        out = summary(f"ceiling (bare, sync={sync})", lat, wall,
                      f"server CPU {cpu:.2f} ms/request")
        return {**out, "p50_1": one["p50"]}
    finally:
        proc.terminate()
        proc.wait(10)


CLIENTS = {"light": LightSession, "requests": requests.Session}
Session = LightSession  # set from --client in main()


# --------------------------------------------------------------------------- ours
def hammer(fn, count: int, clients: int) -> tuple[list[float], float, list]:
    local = threading.local()
    lat: list[float] = []
    results: list = []
    lock = threading.Lock()

    def one(i: int) -> None:
        s = getattr(local, "s", None) or Session()
        local.s = s
        t0 = time.perf_counter()
        r = fn(s, i)
        dt = (time.perf_counter() - t0) * 1000
        with lock:
            lat.append(dt)
            results.append(r)

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(count)))
    return lat, time.perf_counter() - t0, results


def add_counters(db_url: str, creds: dict, total: int) -> dict[int, str]:
    """Bring the demo office to ``total`` counters serving every service; staff tokens."""
    from counter_server import models as m
    from counter_server.db import Database
    from counter_server.seed import add_user

    db = Database(db_url, pool_size=1)
    with db.write() as s:
        sids = list(creds["services"].values())
        for c in s.query(m.Counter).all():
            c.services = [m.CounterService(service_id=sid) for sid in sids]
        for n in range(5, total + 1):
            c = m.Counter(office_id=creds["office_id"], number=n, name=f"Quầy {n}")
            c.services = [m.CounterService(service_id=sid) for sid in sids]
            s.add(c)
            s.flush()
            creds["counters"][str(n)] = c.id
            add_user(s, creds["office_id"], f"canbo{n}", "staff", f"bench-pass-{n}")
            creds["users"][f"canbo{n}"] = {"password": f"bench-pass-{n}"}
    db.dispose()
    return {}


def measure(args: argparse.Namespace, tmp: Path, root: Path, label: str) -> dict:
    """Run ``motcua serve`` from ``root`` on a fresh database and measure it."""
    name = label.split()[0]
    inst = tmp / f"instance-{name}"
    db_url = f"sqlite:///{(inst / 'motcua.sqlite3').as_posix()}"
    env = {**os.environ, "MOTCUA_DATABASE_URL": db_url, "MOTCUA_SECRET_KEY": "bench",
           "PYTHONPATH": str(root)}
    py = [sys.executable, "-m", "counter_server.cli", "--instance", str(inst)]
    subprocess.run(py + ["init", "--demo", "--always-open", "--credentials-out",
                         str(tmp / f"creds-{name}.json")], env=env, check=True, cwd=root,
                   stdout=subprocess.DEVNULL)
    creds = json.loads((tmp / f"creds-{name}.json").read_text(encoding="utf-8"))
    add_counters(db_url, creds, args.counters)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(py + ["serve", "--port", str(port)], env=env, cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"-- {label} ({root})")
    try:
        wait_up(url + "/api/v1/health", server)
        kiosk = {"Authorization": "Bearer " + creds["devices"]["kiosk"]["token"]}
        requests.get(url + "/api/v1/services", headers=kiosk, timeout=10)
        idle_rss = rss_mb(server.pid)
        sids = list(creds["services"].values())

        # ---- one kiosk alone: the latency a citizen sees (after a warm-up:
        # the first requests of a fresh process compile SQL and fill caches)
        warm, _w, _r0 = hammer(lambda s, i: s.post(
            url + "/api/v1/tickets", headers=kiosk, timeout=60,
            json={"service_id": sids[i % len(sids)]}).json(), 100, 1)
        summary("issue ticket (warm-up)", warm, _w)
        lat1, wall1, _r = hammer(lambda s, i: s.post(
            url + "/api/v1/tickets", headers=kiosk, timeout=60,
            json={"service_id": sids[i % len(sids)]}).json(), 300, 1)
        issue1 = summary("issue ticket (1 client)", lat1, wall1)

        # ---- issue
        cpu0 = cpu_seconds(server.pid)
        lat, wall, res = hammer(lambda s, i: s.post(
            url + "/api/v1/tickets", headers=kiosk, timeout=60,
            json={"service_id": sids[i % len(sids)]}).json(), args.tickets, args.clients)
        cpu_issue = (cpu_seconds(server.pid) - cpu0) / len(lat) * 1000
        keys = [(r["service_id"], r["number"]) for r in res + _r + _r0]
        issue = summary("issue ticket", lat, wall, f"duplicates {len(keys) - len(set(keys))}, "
                        f"server CPU {cpu_issue:.2f} ms/request")

        # ---- the reads every screen repeats: the display board, the kiosk's services
        display_h = {"Authorization": "Bearer " + creds["devices"]["display"]["token"]}
        reads = {}
        for name, path, headers in (("GET /api/v1/display", "/api/v1/display", display_h),
                                    ("GET /api/v1/services", "/api/v1/services", kiosk)):
            cpu0 = cpu_seconds(server.pid)
            lat_r, wall_r, _ = hammer(lambda s, i: s.get(url + path, headers=headers, timeout=60),
                                      args.reads, args.clients)
            reads[name] = (cpu_seconds(server.pid) - cpu0) / len(lat_r) * 1000
            summary(name, lat_r, wall_r, f"server CPU {reads[name]:.2f} ms/request")

        # ---- call next with 8 counters + event delivery
        tokens = {}
        for n in range(1, args.counters + 1):
            r = requests.post(url + "/api/v1/auth/token", timeout=10, json={
                "username": f"canbo{n}", "password": creds["users"][f"canbo{n}"]["password"],
                "counter_id": creds["counters"][str(n)]})
            tokens[n] = r.json()["token"]
        received: dict[int, float] = {}
        stop = threading.Event()
        display = ApiClient(url, creds["devices"]["display"]["token"])
        snapshot = display.display()

        def follow() -> None:
            try:
                for ev in display.events(last_event_id=snapshot["last_event_id"], stop=stop):
                    if ev.type == "ticket.called":
                        received[ev.data["ticket_id"]] = time.perf_counter()
                    if stop.is_set():
                        return
            except Exception:
                pass

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        time.sleep(0.5)
        returned: dict[int, float] = {}
        call_lat: list[float] = []
        lock = threading.Lock()

        def counter_loop(n: int, separate_complete: bool) -> None:
            """Serve until the queue is empty.  The officer's one-tap flow
            completes the ticket in hand with the next call (one request per
            citizen); the two-tap flow completes it with its own request."""
            s = Session()
            h = {"Authorization": "Bearer " + tokens[n]}
            cid = creds["counters"][str(n)]
            body = None if separate_complete else {"complete_current": True}
            tid = None
            while True:
                t0 = time.perf_counter()
                r = s.post(f"{url}/api/v1/counters/{cid}/call-next", headers=h, timeout=60, json=body)
                t1 = time.perf_counter()
                if r.status_code == 409:  # queue empty: the last one is completed by hand
                    if tid is not None and not separate_complete:
                        s.post(f"{url}/api/v1/tickets/{tid}/complete", headers=h, timeout=60)
                    return
                tid = r.json()["id"]
                with lock:
                    call_lat.append((t1 - t0) * 1000)
                    returned[tid] = t1
                if separate_complete:
                    s.post(f"{url}/api/v1/tickets/{tid}/complete", headers=h, timeout=60)

        def drain(separate_complete: bool) -> tuple[list[float], float]:
            call_lat.clear()
            t0 = time.perf_counter()
            with cf.ThreadPoolExecutor(args.counters) as pool:
                list(pool.map(lambda n: counter_loop(n, separate_complete), tokens))
            return list(call_lat), time.perf_counter() - t0

        cpu0 = cpu_seconds(server.pid)
        lat_c, wall = drain(separate_complete=False)
        cpu_call = (cpu_seconds(server.pid) - cpu0) / len(lat_c) * 1000
        called_ids = list(returned)
        call = summary(f"call next ({args.counters} counters)", lat_c, wall,
                       f"duplicates {len(called_ids) - len(set(called_ids))}, "
                       f"called {len(called_ids)}/{args.tickets + 400}, "
                       f"server CPU {cpu_call:.2f} ms/request (event stream included)")
        # The two-tap flow (call next, then complete as its own request), on a
        # smaller queue: twice the requests per citizen.
        hammer(lambda s, i: s.post(url + "/api/v1/tickets", headers=kiosk, timeout=60,
                                   json={"service_id": sids[i % len(sids)]}), 800, args.clients)
        lat_2, wall_2 = drain(separate_complete=True)
        summary("call next + complete (2 req)", lat_2, wall_2,
                f"{2 * len(lat_2) / wall_2:.0f} requests/s")
        time.sleep(1.0)
        stop.set()
        delivery = [(received[t] - returned[t]) * 1000 for t in returned if t in received]
        summary("event delivery (SSE)", [max(0.0, d) for d in delivery], 1.0,
                f"received {len(delivery)}/{len(returned)}")
        held = hold_streams(args, url, creds, kiosk, sids, server.pid) if args.streams else None
        print(f"\nserver memory: idle {idle_rss:.1f} MB, peak {rss_mb(server.pid, 'VmHWM'):.1f} MB")
    finally:
        server.terminate()
        server.wait(10)
    print()
    return {"issue": issue, "issue1": issue1, "call": call, "held": held}


_ISSUED = re.compile(rb'event: ticket\.issued\ndata: \{"id":\d+,"type":"ticket\.issued",'
                     rb'"ticket_id":(\d+)')


def hold_streams(args: argparse.Namespace, url: str, creds: dict, kiosk: dict,
                 sids: list[int], pid: int) -> dict:
    """Open ``args.streams`` event streams (display, kiosk and tablet tokens), then
    issue tickets one at a time: the issue latency, and the delivery from the
    issue's answer to the moment the last of the streams has the event."""
    host, port = url.rsplit(":", 1)[0].split("//")[1], int(url.rsplit(":", 1)[1])
    tokens = [creds["devices"][k]["token"] for k in ("display", "kiosk", "rating1", "rating2")]
    sel = selectors.DefaultSelector()
    bufs: dict[socket.socket, bytearray] = {}
    seen: dict[bytes, list[float]] = {}  # ticket id -> receive times, one per stream
    for i in range(args.streams):
        sock = socket.create_connection((host, port), timeout=30)
        sock.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     f"{tokens[i % len(tokens)]}\r\n\r\n".encode())
        sock.setblocking(False)
        bufs[sock] = bytearray()
        sel.register(sock, selectors.EVENT_READ)
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            for key, _ in sel.select(0.1):
                data = key.fileobj.recv(65536)
                now = time.perf_counter()
                for tid in _ISSUED.findall(data):  # events arrive whole, one per write
                    seen.setdefault(tid, []).append(now)
                if b": connected" not in bufs[key.fileobj]:  # only the head is kept
                    bufs[key.fileobj] += data

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not all(b": connected" in b for b in bufs.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    opened = sum(b": connected" in b for b in bufs.values())
    rss = rss_mb(pid)
    answered: dict[bytes, float] = {}
    asked: dict[bytes, float] = {}
    lat = []
    s = Session()
    cpu0 = cpu_seconds(pid)
    for i in range(args.held_tickets):
        t0 = time.perf_counter()
        r = s.post(url + "/api/v1/tickets", headers=kiosk, timeout=60,
                   json={"service_id": sids[i % len(sids)]}).json()
        t1 = time.perf_counter()
        lat.append((t1 - t0) * 1000)
        answered[str(r["id"]).encode()] = t1
        asked[str(r["id"]).encode()] = t0
        time.sleep(0.05)  # a busy office's pace, not a flood: the streams' delivery is measured
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(len(seen.get(t, [])) >= opened for t in answered):
        time.sleep(0.1)
    cpu = (cpu_seconds(pid) - cpu0) / len(lat) * 1000
    idle_cpu = float("nan")
    if args.idle_seconds:  # the streams open, nothing happening (keep-alives included)
        cpu0 = cpu_seconds(pid)
        time.sleep(args.idle_seconds)
        idle_cpu = (cpu_seconds(pid) - cpu0) / args.idle_seconds * 1000
    stop.set()
    reader.join(5)
    delivery = [(max(seen[t]) - answered[t]) * 1000 for t in answered
                if len(seen.get(t, [])) >= opened]
    from_request = [(max(seen[t]) - asked[t]) * 1000 for t in asked
                    if len(seen.get(t, [])) >= opened]
    complete = len(delivery)
    out = summary(f"issue, {opened} streams open", lat, sum(lat) / 1000,
                  f"server CPU {cpu:.2f} ms/ticket (fan-out included, "
                  f"{cpu * 1000 / max(1, opened):.1f} µs/stream), RSS {rss:.0f} MB")
    summary(f"delivery to all {opened} streams", [max(0.0, d) for d in delivery], 1.0,
            f"tickets every stream got: {complete}/{len(answered)}")
    summary("  same, from the request", [max(0.0, d) for d in from_request], 1.0)
    if args.idle_seconds:
        print(f"{opened} streams idle {args.idle_seconds:.0f} s: server CPU {idle_cpu:.1f} ms/s")
    for sock in bufs:
        sock.close()
    return {**out, "opened": opened, "delivery_p95": pct(delivery, 95), "complete": complete,
            "idle_cpu": idle_cpu}



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--counters", type=int, default=8)
    ap.add_argument("--reads", type=int, default=500, help="requests per read endpoint")
    ap.add_argument("--reference", metavar="REV",
                    help="also measure the server at git revision REV first, in the same run")
    ap.add_argument("--streams", type=int, default=1000,
                    help="event streams held open while issuing (0: skip)")
    ap.add_argument("--held-tickets", type=int, default=100)
    ap.add_argument("--idle-seconds", type=float, default=0,
                    help="then the server's CPU with the streams open and nothing happening")
    ap.add_argument("--group-commit-off", action="store_true",
                    help="also measure this tree with group commit disabled, same run")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="light",
                    help="the load generator's HTTP client (light: http.client)")
    args = ap.parse_args()
    global Session
    Session = CLIENTS[args.client]

    tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    print(f"motcua server load benchmark — {os.cpu_count()} cores, SQLite "
          f"(WAL, synchronous={os.environ.get('MOTCUA_SQLITE_SYNC', 'FULL')}), "
          f"{args.clients} clients ({args.client} HTTP client), {args.tickets} tickets\n")
    ref = None
    if args.reference:
        ref_root = tmp / "reference"
        ref_root.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.reference],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(ref_root)], input=archive, check=True)
        ref = measure(args, tmp, ref_root, f"reference {args.reference}")
    off = None
    if args.group_commit_off:
        off_root = tmp / "no-group-commit"
        shutil.copytree(ROOT / "counter_server", off_root / "counter_server")
        db_py = off_root / "counter_server" / "db.py"
        text = db_py.read_text(encoding="utf-8")
        patched = text.replace("if self.is_sqlite else None)", "if False else None)", 1)
        assert patched != text, "db.py no longer builds its GroupCommitter as expected"
        db_py.write_text(patched, encoding="utf-8")
        off = measure(args, tmp, off_root, "group-commit-off")
    ours = measure(args, tmp, ROOT, "this tree")
    issue, issue1, call = ours["issue"], ours["issue1"], ours["call"]

    print()
    ceil = run_ceiling(tmp, args.tickets, args.clients, os.environ.get("MOTCUA_SQLITE_SYNC", "FULL"))
    ceil_normal = run_ceiling(tmp, args.tickets, args.clients, "NORMAL")
    print(f"\ntargets (8 clients, same run): issue {issue['throughput'] / ceil['throughput']:.0%} "
          f"and call next {call['throughput'] / ceil['throughput']:.0%} of the same-durability "
          f"ceiling (>= 40%); one-client issue p50 {issue1['p50'] / ceil['p50_1']:.2f}x the "
          f"one-client ceiling's (<= 2x)")
    print(f"issue throughput = {issue['throughput'] / ceil['throughput']:.0%} of the same-durability "
          f"ceiling, {issue['throughput'] / ceil_normal['throughput']:.0%} of the no-fsync ceiling; "
          f"call next {call['throughput']:.0f}/s")
    if off is not None:
        print(f"group commit off: issue {off['issue']['throughput'] / ceil['throughput']:.0%} "
              f"and call next {off['call']['throughput'] / ceil['throughput']:.0%} of the ceiling "
              f"(on: {issue['throughput'] / ceil['throughput']:.0%} and "
              f"{call['throughput'] / ceil['throughput']:.0%})")
    if ref is not None:
        print(f"reference {args.reference}: issue {ref['issue']['throughput'] / ceil['throughput']:.0%}"
              f" and call next {ref['call']['throughput'] / ceil['throughput']:.0%} of the ceiling; "
              f"one-client issue p50 {ref['issue1']['p50'] / ceil['p50_1']:.2f}x")


if __name__ == "__main__":
    main()
