"""One officer at one counter, decided by the server, over real HTTP to
``motcua serve`` on SQLite and PostgreSQL (issue 15, "Officers and counters").

Each test is a defect of the issue: on the code before it, counter 3 stayed
open after its officer moved, a second officer got a token for a held
counter, a displaced console still called tickets, signing out left the
ticket "called" at a closed counter, and a counter left alone stayed open.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from tests.conftest import LiveServer, bearer, seed_database
from tests.counter_server.office_support import (ApiOfficer, WebOfficer, console_gone_for,
                                                 counter_id, display_counter, events_since,
                                                 issue, ticket_status, wait_for)

pytestmark = pytest.mark.slow  # real server processes


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose idle-counter check runs every half second."""
    creds = seed_database(db_url)
    s = LiveServer(db_url, tmp_path / "instance", creds, threads=8,
                   env={"MOTCUA_IDLE_CHECK_SECONDS": "0.5"}).start()
    try:
        yield s
    finally:
        s.stop()


def error_of(r: requests.Response) -> dict[str, Any]:
    assert r.headers["Content-Type"].startswith("application/json"), r.text[:300]
    return r.json()["error"]


def test_moving_counter_closes_the_old_one_and_ends_its_token(server):
    """canbo3 at counter 3 with a ticket in hand signs in at counter 4: counter 3
    closes (its TV card goes, the ticket back at the head of the queue), the old
    token is refused with a clear reason; nobody else can take counter 4."""
    first = issue(server, "CU")
    old = ApiOfficer.at(server, "canbo3", 3)
    assert old.call_next().status_code == 200
    assert display_counter(server, 3)["current"]["display_number"] == first["display_number"]

    new = ApiOfficer.at(server, "canbo3", 4)
    three, four = display_counter(server, 3), display_counter(server, 4)
    assert three["state"] == "closed" and three["staff"] is None and three["current"] is None
    assert four["state"] == "open" and four["staff"]["full_name"] == "Lê Thị Thu Hà"
    t = ticket_status(server, first["code"])
    assert t["status"] == "waiting" and t["counter_id"] is None and t["waiting_before"] == 0
    evs = events_since(server, 0, until=lambda ev: ev["type"] == "counter.updated"
                       and ev["payload"].get("action") == "moved")
    moved = evs[-1]
    assert moved["counter_id"] == counter_id(server, 3)
    assert moved["payload"]["counter"]["state"] == "closed"
    assert "ticket.requeued" in [ev["type"] for ev in evs]

    # The token bound to counter 3 is refused, saying why, in Vietnamese.
    r = old.call_next(3)
    assert r.status_code == 409
    err = error_of(r)
    assert err["code"] == "session_ended" and "Quầy 3" in err["message"]
    assert "đăng nhập lại" in err["message"]
    assert old.get("/services").status_code == 409

    # Counter 4 is canbo3's: canbo4 is refused a token (and a console session) there.
    r = ApiOfficer.sign_in(server, "canbo4", 4)
    assert r.status_code == 409
    err = error_of(r)
    assert err["code"] == "counter_taken" and "Lê Thị Thu Hà" in err["message"]
    web = WebOfficer(server)
    r = web.sign_in("canbo4", 4)
    assert r.status_code == 409 and "Lê Thị Thu Hà" in r.text
    assert display_counter(server, 4)["staff"]["full_name"] == "Lê Thị Thu Hà"

    # canbo3's new token works and calls the requeued ticket first... at counter 4
    # only for its own services; counter 3's queue keeps it at the head.
    assert new.get("/services").status_code == 200
    again = ApiOfficer.at(server, "canbo3", 3)
    r = again.call_next()
    assert r.status_code == 200 and r.json()["display_number"] == first["display_number"]
    assert display_counter(server, 4)["state"] == "closed"
    assert new.get("/services").status_code == 409


def test_displaced_console_cannot_call_after_takeover(server):
    """canbo1's console at counter 1 left open; an admin releases the counter
    and canbo2 signs in there: canbo1's stale console pressing "next" is
    refused, and nothing is completed, called or credited in canbo1's name."""
    t1, t2 = issue(server, "HT"), issue(server, "HT")
    canbo1 = WebOfficer.at(server, "canbo1", 1)
    r = canbo1.call_next(1)
    assert r.status_code == 200 and r.json()["display_number"] == t1["display_number"]

    # Taken: canbo2 is refused until canbo1 signs out or an admin releases it.
    canbo2 = WebOfficer(server)
    r = canbo2.sign_in("canbo2", 1)
    assert r.status_code == 409 and "Nguyễn Thị Hoa" in r.text
    admin = WebOfficer.at(server, "quantri", None)
    r = admin.release(1)
    assert r.status_code == 302
    assert "Đã giải phóng quầy 1." in admin.http.get(server.url + "/admin/counters").text
    assert ticket_status(server, t1["code"])["status"] == "waiting"
    assert display_counter(server, 1)["state"] == "closed"

    assert canbo2.sign_in("canbo2", 1).status_code == 302
    # canbo1's stale console: refused, with the reason the console shows.
    r = canbo1.call_next(1, complete_current=True, current_ticket_id=t1["id"])
    assert r.status_code == 409
    err = error_of(r)
    assert err["code"] == "session_ended" and "Trần Văn Minh" in err["message"]
    r = canbo1.state()
    assert r.status_code == 409 and error_of(r)["code"] == "session_ended"
    assert ticket_status(server, t1["code"])["status"] == "waiting"
    assert ticket_status(server, t2["code"])["status"] == "waiting"
    # The console page itself sends canbo1 to choose a counter, saying why.
    page = canbo1.http.get(server.url + "/console", timeout=10)
    assert page.url.endswith("/console/counter") and "Trần Văn Minh" in page.text

    # canbo2 calls t1 (head of the queue again), credited to canbo2.
    r = canbo2.call_next(1)
    assert r.status_code == 200 and r.json()["display_number"] == t1["display_number"]
    assert display_counter(server, 1)["staff"]["full_name"] == "Trần Văn Minh"
    evs = events_since(server, 0, until=lambda ev: ev["type"] == "ticket.called"
                       and ev["ticket_id"] == t1["id"] and ev["staff_id"] != (
                           server.creds["users"]["canbo1"]["id"]))
    calls = [ev for ev in evs if ev["type"] == "ticket.called"]
    assert [ev["staff_id"] for ev in calls] == [server.creds["users"]["canbo1"]["id"],
                                                server.creds["users"]["canbo2"]["id"]]


def test_sign_out_with_a_ticket_in_hand_asks_what_to_do(server):
    """The API refuses a sign-out that would strand the ticket; with an answer
    it finishes it or puts it back at the head of the queue, and the counter
    closes (no card on the TV, no ticket left "called")."""
    t1, t2 = issue(server, "HT"), issue(server, "HT")
    o = ApiOfficer.at(server, "canbo1", 1)
    assert o.call_next().status_code == 200
    r = o.sign_out()
    assert r.status_code == 409
    err = error_of(r)
    assert err["code"] == "ticket_in_hand" and t1["display_number"] in err["message"]
    assert ticket_status(server, t1["code"])["status"] == "called"
    assert display_counter(server, 1)["state"] == "open"

    r = o.sign_out("requeue")
    assert r.status_code == 200 and r.json() == {"ok": True, "counter_id": counter_id(server, 1)}
    t = ticket_status(server, t1["code"])
    assert t["status"] == "waiting" and t["waiting_before"] == 0
    c = display_counter(server, 1)
    assert c["state"] == "closed" and c["current"] is None and c["staff"] is None
    assert o.get("/services").status_code == 401  # the token ended with the sign-out

    o = ApiOfficer.at(server, "canbo1", 1)
    assert o.call_next().json()["display_number"] == t1["display_number"]
    assert o.sign_out("complete").status_code == 200
    assert ticket_status(server, t1["code"])["status"] == "done"
    assert ticket_status(server, t2["code"])["status"] == "waiting"

    # The web console asks the same question (finish / put back) on sign-out.
    w = WebOfficer.at(server, "canbo1", 1)
    assert w.call_next(1).json()["display_number"] == t2["display_number"]
    r = w.form("/logout", {})
    assert r.status_code == 409 and "Đưa vé trở lại đầu hàng chờ" in r.text
    assert ticket_status(server, t2["code"])["status"] == "called"
    r = w.form("/logout", {"ticket": "requeue"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert ticket_status(server, t2["code"])["status"] == "waiting"
    assert display_counter(server, 1)["state"] == "closed"

    spec = requests.get(server.url + "/api/v1/openapi.json", timeout=10).json()
    op = spec["paths"]["/api/v1/auth/sign-out"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert {"complete", "requeue"} <= set(schema["properties"]["ticket"]["enum"])
    assert "409" in op["responses"]


def test_counter_left_alone_closes_itself(server):
    """A counter whose console has been gone for the office's idle_close_minutes
    closes and gives its ticket back to the queue; one still in use stays open."""
    t1 = issue(server, "CT")
    gone = ApiOfficer.at(server, "canbo2", 2)
    here = ApiOfficer.at(server, "canbo4", 4)
    assert gone.call_next().status_code == 200
    console_gone_for(server, 2, 16)  # the office default is 15 minutes
    console_gone_for(server, 4, 5)

    wait_for(lambda: display_counter(server, 2)["state"] == "closed", what="counter 2 closed")
    t = ticket_status(server, t1["code"])
    assert t["status"] == "waiting" and t["waiting_before"] == 0
    assert display_counter(server, 2)["current"] is None
    assert display_counter(server, 4)["state"] == "open"
    r = gone.call_next()
    assert r.status_code == 409 and error_of(r)["code"] == "session_ended"
    assert "Quầy 2" in error_of(r)["message"]
    evs = events_since(server, 0, until=lambda ev: ev["type"] == "counter.updated"
                       and ev["payload"].get("action") == "timed_out")
    assert evs[-1]["counter_id"] == counter_id(server, 2)

    # The setting is the admin's: 0 turns the closing off.
    admin = WebOfficer.at(server, "quantri", None)
    page = admin.http.get(server.url + "/admin/settings", timeout=10).text
    assert 'name="idle_close_minutes"' in page and 'value="15"' in page
    assert here.call_next().status_code == 200  # (counter 4 is in use: seen now)


def test_reprint_reaches_the_kiosk_named_in_the_event(server):
    """An officer asks for a ticket to be printed again: one ticket.reprint
    event names the kiosk; only that kiosk may fetch the ticket (with its code)."""
    t1 = issue(server, "HT")
    o = ApiOfficer.at(server, "canbo1", 1)
    r = o.ticket(t1["id"], "reprint")
    assert r.status_code == 202, r.text
    assert r.json()["display_number"] == t1["display_number"]
    ev = events_since(server, 0, until=lambda ev: ev["type"] == "ticket.reprint")[-1]
    assert ev["ticket_id"] == t1["id"] and "code" not in ev["payload"]["ticket"]
    kiosk = requests.get(f"{server.url}/api/v1/tickets/{t1['id']}/print",
                         headers=bearer(server.token("kiosk")), timeout=10)
    assert kiosk.status_code == 200 and kiosk.json()["code"] == t1["code"]
    other = requests.get(f"{server.url}/api/v1/tickets/{issue(server, 'HT')['id']}/print",
                         headers=bearer(server.token("kiosk")), timeout=10)
    assert other.status_code == 404
    # A kiosk whose printer reports a fault: refused, saying so.
    requests.post(server.url + "/api/v1/device/status", headers=bearer(server.token("kiosk")),
                  json={"status": "error", "code": "paper_out", "message": "Hết giấy"},
                  timeout=10).raise_for_status()
    r = o.ticket(t1["id"], "reprint")
    assert r.status_code == 409 and "Hết giấy" in error_of(r)["message"]

    # An administrator reprints by the ticket's number from the devices page.
    requests.post(server.url + "/api/v1/device/status", headers=bearer(server.token("kiosk")),
                  json={"status": "ok", "code": "", "message": ""}, timeout=10).raise_for_status()
    admin = WebOfficer.at(server, "quantri", None)
    r = admin.form("/admin/devices/reprint", {"display_number": t1["display_number"]})
    assert r.status_code == 302
    page = admin.http.get(server.url + "/admin/devices", timeout=10).text
    assert f"Đang in lại vé {t1['display_number']} tại máy lấy số." in page
    r = admin.form("/admin/devices/reprint", {"display_number": "9999"})
    assert "Hôm nay không có vé số 9999." in admin.http.get(server.url + "/admin/devices",
                                                           timeout=10).text
    evs = events_since(server, 0, until=lambda ev: ev["type"] == "ticket.reprint"
                       and ev["staff_id"] == server.creds["users"]["quantri"]["id"])
    assert evs[-1]["payload"]["requested_by"]
