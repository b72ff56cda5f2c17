"""A province server: four ``motcua serve`` processes on one real PostgreSQL,
ten offices, 16 client threads issuing and calling tickets through all four
processes round-robin (issue #14).

Checked from the answers and the database: numbers are unique per office and
service, every ticket is called exactly once and none is left waiting, no
office sees another's tickets or events, and each office's display stream,
connected to one process, receives in id order every event of its office
that a display gets, whichever process produced it.

``MOTCUA_PROVINCE_TICKETS`` (default 5000) sets the number of tickets."""
from __future__ import annotations

import collections
import concurrent.futures as cf
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from counter_server import models as m
from counter_server.db import Database
from counter_server.defaults import ALWAYS_OPEN
from counter_server.event_types import visible_to
from counter_server.migrate import upgrade
from counter_server.seed import add_device, add_user, new_password
from tests.conftest import LiveServer, bearer
from tests.counter_server.test_streams import RawStreams

OFFICES, COUNTERS, PROCESSES, THREADS = 10, 2, 4, 16
TICKETS = int(os.environ.get("MOTCUA_PROVINCE_TICKETS", "5000"))
SERVICES = (("HT", "Tư pháp – Hộ tịch", "family"), ("CT", "Chứng thực", "stamp"))


def add_office(s: Any, k: int) -> dict[str, Any]:
    """Office ``k``: two services, two counters serving both, an officer per
    counter, a kiosk and a lobby display; the credentials to use it."""
    office = m.Office(name=f"UBND xã Thử Nghiệm {k}", timezone="Asia/Ho_Chi_Minh",
                      opening_hours=ALWAYS_OPEN, settings={"enforce_hours": False})
    s.add(office)
    s.flush()
    services = []
    for order, (code, name, icon) in enumerate(SERVICES):
        svc = m.Service(office_id=office.id, code=code, name=name, icon=icon,
                        number_start=1, number_end=999, sort_order=order)
        s.add(svc)
        services.append(svc)
    s.flush()
    creds: dict[str, Any] = {"office_id": office.id, "services": [x.id for x in services],
                             "counters": {}, "users": {}}
    for num in range(1, COUNTERS + 1):
        c = m.Counter(office_id=office.id, number=num, name=f"Quầy {num}", state="closed")
        c.services = [m.CounterService(service_id=x.id, weight=1) for x in services]
        s.add(c)
        s.flush()
        pw = new_password()
        add_user(s, office.id, f"canbo{k}_{num}", "staff", pw)
        creds["counters"][num] = c.id
        creds["users"][num] = (f"canbo{k}_{num}", pw)
    for kind in ("kiosk", "display"):
        _d, creds[kind] = add_device(s, office.id, f"{kind} {k}", kind)
    return creds


@pytest.mark.postgres
@pytest.mark.slow
def test_four_processes_ten_offices_every_ticket_called_once(pg_url: str, tmp_path: Path):
    upgrade(pg_url)
    db = Database(pg_url, pool_size=2)
    with db.write() as s:
        offices = [add_office(s, k) for k in range(OFFICES)]
    servers = []
    raws = []
    try:
        for p in range(PROCESSES):
            servers.append(LiveServer(pg_url, tmp_path / f"p{p}", {}).start())
        with db.read() as s:
            start = s.scalar(select(func.coalesce(func.max(m.Event.id), 0)))
        # Office k's display follows process k % 4; tickets go through all four.
        for k, office in enumerate(offices):
            raw = RawStreams(servers[k % PROCESSES].port)
            raw.open(office["display"])
            raw.pump(lambda: b": connected" in next(iter(raw.bufs.values())), 60)
            raws.append(raw)

        staff: dict[tuple[int, int], str] = {}
        for k, office in enumerate(offices):
            for num, (username, pw) in office["users"].items():
                r = requests.post(servers[(k + num) % PROCESSES].url + "/api/v1/auth/token",
                                  json={"username": username, "password": pw,
                                        "counter_id": office["counters"][num]}, timeout=30)
                assert r.status_code == 201, r.text
                staff[k, num] = r.json()["token"]

        local = threading.local()
        at_counter = {key: threading.Lock() for key in staff}  # one officer, one click at a time
        issued: list[dict] = []
        called: list[tuple[int, int, dict]] = []
        in_hand: dict[tuple[int, int], int] = {}

        def http() -> requests.Session:
            if not hasattr(local, "http"):
                local.http = requests.Session()
            return local.http

        def issue(j: int) -> None:
            k, office = j % OFFICES, offices[j % OFFICES]
            r = http().post(servers[j % PROCESSES].url + "/api/v1/tickets",
                            headers=bearer(office["kiosk"]), timeout=60,
                            json={"service_id": office["services"][(j // OFFICES) % 2]})
            assert r.status_code == 201, r.text
            issued.append({**r.json(), "office": k})

        def call(j: int, key: tuple[int, int]) -> bool:
            """Counter ``key`` calls the next ticket, completing the one in hand;
            False when its queue is empty."""
            k, num = key
            with at_counter[key]:
                r = http().post(servers[j % PROCESSES].url +
                                f"/api/v1/counters/{offices[k]['counters'][num]}/call-next",
                                headers=bearer(staff[key]), json={"complete_current": True},
                                timeout=60)
                if r.status_code == 409 and r.json()["error"]["code"] == "queue_empty":
                    return False
                assert r.status_code == 200, r.text
                called.append((k, num, r.json()))
                in_hand[key] = r.json()["id"]
                return True

        def job(j: int) -> None:
            issue(j)
            call(j + 1, (j % OFFICES, (j // OFFICES) % COUNTERS + 1))

        def drain(key: tuple[int, int]) -> None:
            j = key[0] + key[1]
            while call(j, key):
                j += 1
            if key in in_hand:
                r = http().post(servers[j % PROCESSES].url +
                                f"/api/v1/tickets/{in_hand[key]}/complete",
                                headers=bearer(staff[key]), timeout=60)
                assert r.status_code == 200, r.text

        with cf.ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(job, range(TICKETS)))
            list(pool.map(drain, staff))

        # Numbers: unique per office and service, from the answers and the database.
        assert len(issued) == TICKETS
        assert len({(t["office"], t["service_id"], t["number"]) for t in issued}) == TICKETS
        with db.read() as s:
            rows = s.execute(select(m.Ticket.id, m.Ticket.office_id, m.Ticket.issued_service_id,
                                    m.Ticket.number, m.Ticket.status, m.Ticket.counter_id)).all()
            events = s.execute(select(m.Event.id, m.Event.office_id, m.Event.type,
                                      m.Event.ticket_id).where(m.Event.id > start)
                               .order_by(m.Event.id)).all()
        assert len(rows) == TICKETS
        assert len({(r.office_id, r.issued_service_id, r.number) for r in rows}) == TICKETS
        office_id = {r.id: r.office_id for r in rows}
        for t in issued:  # each ticket in the office whose kiosk issued it
            assert office_id[t["id"]] == offices[t["office"]]["office_id"]
        # Called exactly once, none left, each at a counter of its own office.
        called_ids = [t["id"] for _k, _n, t in called]
        assert len(called_ids) == len(set(called_ids)) == TICKETS
        assert set(called_ids) == {r.id for r in rows}
        assert all(r.status == m.DONE for r in rows)
        own = {o["office_id"]: set(o["counters"].values()) for o in offices}
        assert all(r.counter_id in own[r.office_id] for r in rows)
        for k, num, t in called:
            assert t["counter_id"] == offices[k]["counters"][num]
        calls = collections.Counter(ev.ticket_id for ev in events if ev.type == "ticket.called")
        assert set(calls.values()) == {1} and len(calls) == TICKETS

        # Each display stream: every event of its office a display gets, in order,
        # and nothing of another office (event ids are global).
        for k, raw in enumerate(raws):
            expected = [ev.id for ev in events if ev.office_id == offices[k]["office_id"]
                        and visible_to("display", ev.type)]
            sock = next(iter(raw.bufs))

            def got() -> list[int]:
                return [int(i) for i, _t in raw.EVENT.findall(bytes(raw.bufs[sock]))]

            raw.pump(lambda: len(got()) >= len(expected), 120)
            assert got() == expected, f"office {k}"

        # One office's tokens do not reach another's tickets or counters.
        a, b = offices[0], offices[1]
        b_ticket = requests.post(servers[1].url + "/api/v1/tickets", headers=bearer(b["kiosk"]),
                                 json={"service_id": b["services"][0]}, timeout=30).json()
        for action in ("complete", "cancel"):
            r = requests.post(servers[0].url + f"/api/v1/tickets/{b_ticket['id']}/{action}",
                              headers=bearer(staff[0, 1]), timeout=30)
            assert r.status_code in (403, 404), r.text
        status = requests.get(servers[2].url + f"/api/v1/tickets/{b_ticket['code']}", timeout=30)
        assert status.json()["status"] == "waiting"  # untouched by the refusals
        r = requests.post(servers[0].url + f"/api/v1/counters/{b['counters'][1]}/call-next",
                          headers=bearer(staff[0, 1]), json={"complete_current": True},
                          timeout=30)
        assert r.status_code in (403, 404), r.text
        r = requests.get(servers[1].url + f"/api/v1/counters/{b['counters'][1]}",
                         headers=bearer(a["display"]), timeout=30)
        assert r.status_code == 404, r.text
        r = requests.post(servers[2].url + "/api/v1/tickets", headers=bearer(a["kiosk"]),
                          json={"service_id": b["services"][0]}, timeout=30)
        assert r.status_code in (400, 404, 422), r.text
        snap = requests.get(servers[3].url + "/api/v1/display", headers=bearer(a["display"]),
                            timeout=30).json()
        assert {c["id"] for c in snap["counters"]} == set(a["counters"].values())
        print(f"{TICKETS} tickets, {len(events)} events over {PROCESSES} processes, "
              f"{OFFICES} offices")
    finally:
        for raw in raws:
            raw.close()
        for server in servers:
            server.stop()
        db.dispose()
