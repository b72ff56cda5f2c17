"""Event streams on the event loop, over real HTTP to ``motcua serve``: role
scoping, streams closed when their credentials end (device revoked, signed
out, password reset or changed, account deactivated, officer displaced; on
the event that says so, in this process, from the command line and from
another process on PostgreSQL; the rest by the periodic recheck), the
internal ``session.ended`` event on no stream, ``Last-Event-ID`` validation
and ``stream.reset``, the ticket stream of the phone page, 1,000 open streams
on one process, and several processes on one PostgreSQL."""
from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import re
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from sqlalchemy import select, update

from counter_server import engine as e, models as m
from counter_server.db import Database
from tests.conftest import LiveServer, _live, bearer, seed_database
from tests.counter_server.office_support import ApiOfficer, WebOfficer

LAST_ID_MESSAGE = "Last-Event-ID phải là số nguyên từ 0 đến 9223372036854775807."


class Stream:
    """One open SSE response, read through a single line iterator."""

    def __init__(self, r: requests.Response) -> None:
        self.r = r
        self.status_code, self.headers = r.status_code, r.headers
        self.lines = r.iter_lines(chunk_size=None) if r.status_code == 200 else iter(())

    def head(self) -> list[str]:
        """The stream's opening lines (its admission), up to the first blank line."""
        out = []
        for raw in self.lines:
            if not raw:
                return out
            out.append(raw.decode("utf-8"))
        raise AssertionError("the stream ended before its head")

    def __iter__(self) -> Iterator[tuple[int | None, str, str]]:
        """(id, event, data) of each message (comments skipped)."""
        ev_id, ev_type, data = None, "message", []
        for raw in self.lines:
            line = raw.decode("utf-8")
            if not line:
                if data:
                    yield ev_id, ev_type, "\n".join(data)
                ev_type, data = "message", []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            if name == "id":
                ev_id = int(value)
            elif name == "event":
                ev_type = value
            elif name == "data":
                data.append(value)

    def closes(self, within: float = 15) -> float:
        """Read to the end (a read timeout fails the test); the time taken.
        ``within`` bounds a hang: the periodic recheck (every 60 s) would
        close a stream the event did not."""
        t0 = time.monotonic()
        for _ in self.lines:  # keep-alive comments come every second: bound the wait
            if time.monotonic() - t0 > within:
                raise AssertionError("the stream stayed open")
        return time.monotonic() - t0

    def close(self) -> None:
        self.r.close()


def stream(server: LiveServer, headers: dict[str, str], path: str = "/api/v1/events",
           **kw: Any) -> Stream:
    return Stream(requests.get(server.url + path, headers=headers, stream=True,
                               timeout=(5, 10), **kw))


def issue(server: LiveServer, service: str = "CT") -> dict:
    r = requests.post(server.url + "/api/v1/tickets", headers=bearer(server.token("kiosk")),
                      json={"service_id": server.creds["services"][service]}, timeout=10)
    r.raise_for_status()
    return r.json()


def write(server: LiveServer, fn: Any) -> None:
    """A change made by another process on the same database, with no event
    (a direct edit)."""
    db = Database(server.db_url, pool_size=1)
    try:
        with db.write() as s:
            fn(s)
    finally:
        db.dispose()


def cli(server: LiveServer, *args: str, stdin: str | None = None) -> None:
    """``motcua ...`` (the command line: another process on the server's database)."""
    r = subprocess.run([sys.executable, "-m", "counter_server.cli", *args], input=stdin,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "MOTCUA_DATABASE_URL": server.db_url})
    assert r.returncode == 0, r.stderr


def admin_page(server: LiveServer) -> WebOfficer:
    return WebOfficer.at(server, "quantri", None)


def user_id(server: LiveServer, username: str) -> int:
    return server.creds["users"][username]["id"]


def test_device_streams_carry_no_admin_events(live_server: LiveServer):
    office = live_server.creds["office_id"]
    admin = live_server.login("quantri")
    streams = {who: stream(live_server, bearer(token)) for who, token in (
        ("kiosk", live_server.token("kiosk")), ("display", live_server.token("display")),
        ("rating", live_server.token("rating1")), ("admin", admin))}
    write(live_server, lambda s: e.append_event(s, office, "admin.user_deactivated",
                                                payload={"admin": {"username": "x"}}))
    ticket = issue(live_server)
    for who, r in streams.items():
        types = []
        for _id, kind, data in r:
            types.append(kind)
            if kind == "ticket.issued":
                assert json.loads(data)["payload"]["ticket"]["number"] == ticket["number"]
                break
        r.close()
        if who == "admin":
            assert types == ["admin.user_deactivated", "ticket.issued"], types
        else:
            assert types == ["ticket.issued"], (who, types)


@pytest.mark.parametrize("where", ["admin page", "command line"])
def test_revoking_a_device_closes_its_open_stream(live_server: LiveServer, where: str):
    kiosk_stream = stream(live_server, bearer(live_server.token("kiosk")))
    display_stream = stream(live_server, bearer(live_server.token("display")))
    assert kiosk_stream.head() and display_stream.head()
    display = live_server.creds["devices"]["display"]
    if where == "admin page":
        r = admin_page(live_server).form(f"/admin/devices/{display['id']}/revoke", {})
        assert r.status_code == 302
    else:
        cli(live_server, "device", "revoke", str(display["id"]))
    took = display_stream.closes()
    print(f"revoked display's stream ({where}) closed after {took:.2f} s")
    # The kiosk's stream goes on and still gets the office's events.
    issue(live_server)
    assert any(kind == "ticket.issued" for _i, kind, _d in _until(kiosk_stream,
                                                                    "ticket.issued"))
    kiosk_stream.close()
    r = requests.get(live_server.url + "/api/v1/events", timeout=10,
                     headers=bearer(live_server.token("display")))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def _until(events: Iterator, kind: str) -> list:
    out = []
    for ev in events:
        out.append(ev)
        if ev[1] == kind:
            return out
    return out


@pytest.mark.parametrize("who", ["canbo1", "lanhdao"])
def test_signing_out_closes_the_stream(live_server: LiveServer, who: str):
    """A staff token (its counter closes) and a leader's (no counter:
    ``session.ended`` says so)."""
    token = live_server.staff_token(1) if who == "canbo1" else live_server.login(who)
    mine = stream(live_server, bearer(token))
    assert mine.head()
    requests.post(live_server.url + "/api/v1/auth/sign-out", headers=bearer(token), json={},
                  timeout=10).raise_for_status()
    print(f"signed-out {who} stream closed after {mine.closes():.2f} s")
    r = requests.get(live_server.url + "/api/v1/events", headers=bearer(token), timeout=10)
    assert r.status_code == 401


def test_a_displaced_officers_stream_closes(live_server: LiveServer):
    """The token and the web console of counter 1 are displaced when their
    officer signs in at counter 2, and when an admin releases the counter."""
    at1 = ApiOfficer.at(live_server, "canbo1", 1)
    web1 = WebOfficer.at(live_server, "canbo2", 2)
    by_token = stream(live_server, bearer(at1.token))
    by_cookie = stream(live_server, {}, cookies=web1.http.cookies.get_dict())
    assert by_token.head() and by_cookie.head()
    at3 = ApiOfficer.at(live_server, "canbo1", 3)  # counter 1 closes ("moved")
    print(f"displaced token's stream closed after {by_token.closes():.2f} s")
    assert admin_page(live_server).release(2).status_code == 302
    print(f"released counter's console stream closed after {by_cookie.closes():.2f} s")
    r = requests.get(live_server.url + "/api/v1/events", headers=bearer(at1.token), timeout=10)
    assert r.status_code == 409 and r.json()["error"]["code"] == "session_ended"
    later = stream(live_server, bearer(at3.token))  # the token at counter 3 goes on
    assert later.head()
    later.close()


@pytest.mark.parametrize("where, action", [("admin page", "password"),
                                           ("admin page", "deactivate"),
                                           ("command line", "passwd"),
                                           ("command line", "deactivate")])
def test_resetting_or_deactivating_an_account_closes_its_streams(
        live_server: LiveServer, where: str, action: str):
    """The account's token and its web session both lose their streams."""
    token = live_server.login("lanhdao")
    web = WebOfficer.at(live_server, "lanhdao", None)
    streams = [stream(live_server, bearer(token)),
               stream(live_server, {}, cookies=web.http.cookies.get_dict())]
    assert all(r.head() for r in streams)
    other = stream(live_server, bearer(live_server.token("display")))
    assert other.head()
    if where == "admin page":
        form = {"action": action, "password": "mat-khau-moi-1"}
        r = admin_page(live_server).form(f"/admin/users/{user_id(live_server, 'lanhdao')}", form)
        assert r.status_code == 302
    else:
        cli(live_server, "user", action, "lanhdao", *(("--password-stdin",) * (action == "passwd")),
            stdin="mat-khau-moi-1\n" if action == "passwd" else None)
    for r in streams:
        print(f"{action} ({where}): the account's stream closed after {r.closes():.2f} s")
    issue(live_server)  # the display's stream goes on
    assert _until(other, "ticket.issued")[-1][1] == "ticket.issued"
    other.close()


def test_changing_ones_own_password_closes_the_other_sessions_streams(live_server: LiveServer):
    elsewhere = WebOfficer.at(live_server, "lanhdao", None)
    here = WebOfficer.at(live_server, "lanhdao", None)
    theirs = stream(live_server, {}, cookies=elsewhere.http.cookies.get_dict())
    assert theirs.head()
    old = live_server.creds["users"]["lanhdao"]["password"]
    r = here.form("/account", {"old_password": old, "new_password": "mat-khau-moi-2",
                               "confirm_password": "mat-khau-moi-2"})
    assert r.status_code == 302
    print(f"the other session's stream closed after {theirs.closes():.2f} s")
    mine = stream(live_server, {}, cookies=here.http.cookies.get_dict())  # this one goes on
    assert mine.head()
    mine.close()


def test_session_ended_reaches_no_stream(live_server: LiveServer):
    """The internal event is stored (the audit page shows it) and carried by
    no stream, not even an admin's."""
    office = live_server.creds["office_id"]
    streams = {who: stream(live_server, bearer(token)) for who, token in (
        ("kiosk", live_server.token("kiosk")), ("display", live_server.token("display")),
        ("rating", live_server.token("rating1")), ("staff", live_server.staff_token(2)),
        ("leader", live_server.login("lanhdao")), ("admin", live_server.login("quantri")))}
    assert all(r.head() for r in streams.values())
    leaving = live_server.login("lanhdao")
    requests.post(live_server.url + "/api/v1/auth/sign-out", headers=bearer(leaving), json={},
                  timeout=10).raise_for_status()
    db = Database(live_server.db_url, pool_size=1)
    with db.read() as s:
        ended = s.scalars(select(m.Event).where(m.Event.office_id == office,
                                                m.Event.type == "session.ended")).all()
    db.dispose()
    assert [(ev.staff_id, ev.payload) for ev in ended] == [
        (user_id(live_server, "lanhdao"), {"reason": "signed_out"})]
    issue(live_server)
    for who, r in streams.items():
        types = [kind for _i, kind, _d in _until(r, "ticket.issued")]
        r.close()
        assert types == ["ticket.issued"], (who, types)
    audit = admin_page(live_server).http.get(live_server.url + "/admin/audit", timeout=10).text
    assert "Đã đăng xuất: mã đăng nhập không còn dùng được." in audit


@pytest.fixture
def quick_recheck_server(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server that rechecks its open streams every 2 s (60 s in an office)."""
    yield from _live(sqlite_url, tmp_path, env={"MOTCUA_SSE_RECHECK": "2"})


def test_the_periodic_recheck_ends_what_no_event_announces(quick_recheck_server: LiveServer):
    """A token that expired and a device revoked by a direct database edit:
    no event, so the recheck of every open stream (``MOTCUA_SSE_RECHECK``)
    ends them."""
    live_server = quick_recheck_server
    token = live_server.staff_token(1)
    mine = stream(live_server, bearer(token))
    kiosk = stream(live_server, bearer(live_server.token("kiosk")))
    assert mine.head() and kiosk.head()
    write(live_server, lambda s: s.execute(update(m.ApiToken).values(
        expires_at=m.utcnow() - dt.timedelta(minutes=1))))
    write(live_server, lambda s: s.execute(update(m.Device).where(
        m.Device.id == live_server.creds["devices"]["kiosk"]["id"]).values(revoked=True)))
    for r in (mine, kiosk):
        print(f"closed by the periodic recheck after {r.closes(within=30):.2f} s")


@pytest.mark.parametrize("value", ["abc", "-5", "1" * 23, str(2**63), "1.5", "0x10"])
def test_last_event_id_must_be_a_whole_number(live_server: LiveServer, value: str):
    r = requests.get(live_server.url + "/api/v1/events", timeout=10, headers={
        **bearer(live_server.token("display")), "Last-Event-ID": value})
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"] == {"code": "invalid_input", "message": LAST_ID_MESSAGE}


def test_last_event_id_in_the_query_is_checked_too(live_server: LiveServer):
    for value in ("abc", "-5", "1" * 23):
        r = requests.get(live_server.url + "/api/v1/events", params={"last_event_id": value},
                         headers=bearer(live_server.token("display")), timeout=10)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"


def test_an_id_ahead_of_the_newest_restarts_at_the_newest_with_stream_reset(
        live_server: LiveServer):
    first = issue(live_server)
    db = Database(live_server.db_url, pool_size=1)
    with db.read() as s:
        newest = s.scalar(select(m.Event.id).order_by(m.Event.id.desc()).limit(1))
    db.dispose()
    for ahead in (newest + 1, 2**63 - 1):
        r = stream(live_server, {**bearer(live_server.token("display")),
                                 "Last-Event-ID": str(ahead)})
        events = iter(r)
        assert next(events) == (newest, "stream.reset", json.dumps({"last_event_id": newest}))
        second = issue(live_server)
        ev_id, kind, data = next(events)
        assert (kind, json.loads(data)["payload"]["ticket"]["number"]) == (
            "ticket.issued", second["number"])
        assert ev_id > newest
        newest = ev_id
        r.close()
    assert second["number"] > first["number"]


def test_resuming_reads_the_gap_then_follows(live_server: LiveServer):
    start = requests.get(live_server.url + "/api/v1/display", timeout=10, headers=bearer(
        live_server.token("display"))).json()["last_event_id"]
    # A stream open now keeps the office's reader ahead of the resuming one.
    live = stream(live_server, bearer(live_server.token("kiosk")))
    assert live.head()
    numbers = [issue(live_server)["number"] for _ in range(5)]
    got = []
    for _id, kind, data in live:
        got.append(json.loads(data)["payload"]["ticket"]["number"])
        if len(got) == 5:
            break
    resumed = stream(live_server, {**bearer(live_server.token("display")),
                                   "Last-Event-ID": str(start)})
    later = [issue(live_server)["number"] for _ in range(2)]
    seen = []
    for _id, kind, data in resumed:
        seen.append(json.loads(data)["payload"]["ticket"]["number"])
        if len(seen) == 7:
            break
    assert got == numbers and seen == numbers + later
    live.close()
    resumed.close()


# ------------------------------------------------------------------ ticket stream
def test_ticket_stream_sends_the_status_until_done(live_server: LiveServer):
    other = issue(live_server, "HT")  # served at counter 1 before ours
    mine = issue(live_server, "HT")
    status_url = live_server.url + f"/api/v1/tickets/{mine['code']}"
    r = stream(live_server, {}, f"/api/v1/tickets/{mine['code']}/events")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    events = iter(r)
    ev_id, kind, data = next(events)
    assert kind == "ticket.status" and json.loads(data) == requests.get(status_url, timeout=10).json()
    assert json.loads(data)["status"] == "waiting"
    staff = bearer(live_server.staff_token(1))
    counter = live_server.creds["counters"]["1"]
    seen = [json.loads(data)]

    def call_next() -> dict:
        c = requests.post(live_server.url + f"/api/v1/counters/{counter}/call-next",
                          headers=staff, json={"complete_current": True}, timeout=10)
        c.raise_for_status()
        return c.json()

    assert call_next()["id"] == other["id"]  # the queue ahead of ours moved
    seen.append(json.loads(next(events)[2]))
    assert call_next()["id"] == mine["id"]
    while seen[-1]["status"] != "called":
        ev_id2, kind, data = next(events)
        assert kind == "ticket.status" and ev_id2 >= ev_id
        seen.append(json.loads(data))
    assert seen[-1] == requests.get(status_url, timeout=10).json()
    assert all(a != b for a, b in zip(seen, seen[1:]))  # sent only when it changed
    requests.post(live_server.url + f"/api/v1/tickets/{mine['id']}/complete", headers=staff,
                  timeout=10).raise_for_status()
    rest = [json.loads(d) for _i, _k, d in events]  # the stream ends after "done"
    assert rest[-1]["status"] == "done" and rest[-1] == requests.get(status_url, timeout=10).json()


def test_a_ticket_stream_recomputes_only_on_events_that_can_change_it():
    from counter_server.asgi import _concerns
    from counter_server.events import Item

    def item(kind: str, ticket: int | None, service: int | None = 1) -> Item:
        return Item(1, kind, ticket, service, "")

    mine, svc = 7, 1
    assert _concerns(item("ticket.called", mine), mine, svc, waiting=False)
    assert _concerns(item("counter.updated", None, None), mine, svc, waiting=False)
    # another ticket of the service leaving the queue moves it, while it waits
    assert _concerns(item("ticket.called", 8), mine, svc, waiting=True)
    assert _concerns(item("ticket.completed", 8), mine, svc, waiting=True)  # the pace
    assert not _concerns(item("ticket.called", 8), mine, svc, waiting=False)
    # a ticket issued after it, or of another service, never changes it
    assert not _concerns(item("ticket.issued", 8), mine, svc, waiting=True)
    assert not _concerns(item("ticket.called", 8, 2), mine, svc, waiting=True)
    assert not _concerns(item("rating.created", 8), mine, svc, waiting=True)


def test_ticket_stream_of_an_unknown_code_is_404(live_server: LiveServer):
    r = requests.get(live_server.url + "/api/v1/tickets/khongcove/events", timeout=10)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ticket_not_found"
    assert r.json()["error"]["message"] == "Không tìm thấy vé."


# ------------------------------------------------------------------ many streams
class RawStreams:
    """Many SSE connections on plain sockets, read by one selector loop."""

    EVENT = re.compile(rb"id: (\d+)\nevent: ([\w.]+)\n")

    def __init__(self, port: int) -> None:
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.bufs: dict[socket.socket, bytearray] = {}

    def open(self, token: str) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        s.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}"
                  "\r\nAccept: text/event-stream\r\n\r\n".encode())
        s.setblocking(False)
        self.bufs[s] = bytearray()
        self.sel.register(s, selectors.EVENT_READ)

    def pump(self, until: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise AssertionError("streams did not receive everything in time")
            for key, _ in self.sel.select(0.2):
                data = key.fileobj.recv(65536)
                if not data:
                    raise AssertionError("a stream was closed by the server")
                self.bufs[key.fileobj] += data

    def events(self, s: socket.socket, kind: bytes) -> list[int]:
        return [int(i) for i, k in self.EVENT.findall(bytes(self.bufs[s])) if k == kind]

    def close(self) -> None:
        for s in self.bufs:
            self.sel.unregister(s)
            s.close()


@pytest.mark.slow
def test_one_process_holds_1000_streams_and_every_one_gets_every_event(
        live_server: LiveServer):
    tokens = [live_server.token(k) for k in ("kiosk", "display", "rating1", "rating2")]
    tokens += [live_server.staff_token(n) for n in (1, 2, 3)] + [live_server.login("lanhdao")]
    raw = RawStreams(live_server.port)
    try:
        for i in range(1000):
            raw.open(tokens[i % len(tokens)])
        raw.pump(lambda: all(b": connected" in b for b in raw.bufs.values()), 180)
        health = []
        numbers = []
        with requests.Session() as http:
            for _ in range(20):
                t0 = time.perf_counter()
                assert http.get(live_server.url + "/api/v1/health", timeout=30).ok
                health.append(time.perf_counter() - t0)
                numbers.append(http.post(live_server.url + "/api/v1/tickets",
                                         headers=bearer(live_server.token("kiosk")),
                                         json={"service_id": live_server.creds["services"]["CT"]},
                                         timeout=30).json()["number"])
        assert numbers == list(range(numbers[0], numbers[0] + 20))
        raw.pump(lambda: all(len(raw.events(s, b"ticket.issued")) >= 20 for s in raw.bufs), 180)
        expected = raw.events(next(iter(raw.bufs)), b"ticket.issued")
        assert expected == sorted(expected) and len(set(expected)) == 20
        for s in raw.bufs:
            assert raw.events(s, b"ticket.issued") == expected
        print(f"1000 streams: health p50 {sorted(health)[10] * 1000:.1f} ms, "
              f"max {max(health) * 1000:.1f} ms")
    finally:
        raw.close()


# ------------------------------------------------------------------ PostgreSQL
@pytest.mark.postgres
@pytest.mark.slow
def test_processes_on_one_postgresql_reach_each_others_streams(pg_url: str, tmp_path: Path):
    creds = seed_database(pg_url)
    a = LiveServer(pg_url, tmp_path / "a", creds, args=("--workers", "2")).start()
    b = LiveServer(pg_url, tmp_path / "b", creds).start()
    raw_a, raw_b = RawStreams(a.port), RawStreams(b.port)
    try:
        display = creds["devices"]["display"]["token"]
        for _ in range(8):  # the kernel spreads them over a's two workers
            raw_a.open(display)
        for _ in range(2):
            raw_b.open(display)
        for raw in (raw_a, raw_b):
            raw.pump(lambda: all(b": connected" in x for x in raw.bufs.values()), 60)
        services = list(creds["services"].values())
        kiosk = bearer(creds["devices"]["kiosk"]["token"])
        local = threading.local()

        def one(i: int) -> tuple[int, int]:
            http = getattr(local, "http", None) or requests.Session()
            local.http = http
            server = (a, b)[i % 2]
            r = http.post(server.url + "/api/v1/tickets", headers=kiosk, timeout=60,
                          json={"service_id": services[i % len(services)]})
            r.raise_for_status()
            return r.json()["service_id"], r.json()["number"]

        with cf.ThreadPoolExecutor(16) as pool:
            issued = list(pool.map(one, range(300)))
        assert len(set(issued)) == 300  # no number given twice
        for raw in (raw_a, raw_b):
            raw.pump(lambda: all(len(raw.events(s, b"ticket.issued")) >= 300
                                 for s in raw.bufs), 120)
        db = Database(pg_url, pool_size=1)
        with db.read() as s:
            ids = list(s.scalars(select(m.Event.id).where(m.Event.type == "ticket.issued")
                                 .order_by(m.Event.id)))
        db.dispose()
        assert len(ids) == 300
        for raw in (raw_a, raw_b):
            for s in raw.bufs:
                assert raw.events(s, b"ticket.issued") == ids  # all of them, in order
    finally:
        raw_a.close()
        raw_b.close()
        a.stop()
        b.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_closing_reaches_the_streams_of_every_process(pg_url: str, tmp_path: Path):
    """Streams held by one server (two workers) close when the change is made
    through another: a device revoked on the admin page, an officer displaced
    by signing in at another counter, a leader's token signed out."""
    creds = seed_database(pg_url)
    a = LiveServer(pg_url, tmp_path / "a", creds, args=("--workers", "2")).start()
    b = LiveServer(pg_url, tmp_path / "b", creds).start()
    try:
        display = [stream(a, bearer(creds["devices"]["display"]["token"])) for _ in range(4)]
        officer = ApiOfficer.at(b, "canbo1", 1)
        leader = b.login("lanhdao")
        held = [stream(a, bearer(officer.token)) for _ in range(2)]
        held += [stream(a, bearer(leader)) for _ in range(2)]
        kiosk = stream(a, bearer(creds["devices"]["kiosk"]["token"]))
        assert all(r.head() for r in display + held + [kiosk])
        r = admin_page(b).form(f"/admin/devices/{creds['devices']['display']['id']}/revoke", {})
        assert r.status_code == 302
        for r in display:
            print(f"revoked on b: display stream on a closed after {r.closes():.2f} s")
        ApiOfficer.at(b, "canbo1", 2)  # counter 1 closes: the first token is displaced
        requests.post(b.url + "/api/v1/auth/sign-out", headers=bearer(leader), json={},
                      timeout=10).raise_for_status()
        for r in held:
            print(f"displaced / signed out on b: stream on a closed after {r.closes():.2f} s")
        issue(b)  # the kiosk's stream on a goes on
        assert _until(kiosk, "ticket.issued")[-1][1] == "ticket.issued"
        kiosk.close()
    finally:
        a.stop()
        b.stop()
