"""The two endpoints rating devices need to find a ticket's code.

Events never carry ticket codes, so the counter tablet asks for its
counter's latest completed ticket and the lobby kiosk looks a typed number up.
"""
from __future__ import annotations

from typing import Any

from tests.conftest import bearer


def staff_headers(client, creds: dict[str, Any], counter: int) -> dict[str, str]:
    name = f"canbo{counter}"
    r = client.post("/api/v1/auth/token", json={
        "username": name, "password": creds["users"][name]["password"],
        "counter_id": creds["counters"][str(counter)]})
    assert r.status_code == 201, r.get_json()
    return bearer(r.get_json()["token"])


def serve_one(client, creds: dict[str, Any], counter: int, service: str) -> dict[str, Any]:
    """Issue a ticket at the kiosk, call it at ``counter`` and complete it."""
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    t = client.post("/api/v1/tickets", json={"service_id": creds["services"][service]},
                    headers=kiosk).get_json()
    staff = staff_headers(client, creds, counter)
    called = client.post(f"/api/v1/counters/{creds['counters'][str(counter)]}/call-next",
                         headers=staff)
    assert called.status_code == 200, called.get_json()
    assert called.get_json()["id"] == t["id"]
    done = client.post(f"/api/v1/tickets/{t['id']}/complete", headers=staff)
    assert done.status_code == 200, done.get_json()
    return t


def test_last_completed_for_the_bound_tablet_only(client, creds):
    c1 = creds["counters"]["1"]
    tablet = bearer(creds["devices"]["rating1"]["token"])
    r = client.get(f"/api/v1/counters/{c1}/last-completed", headers=tablet)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "nothing_to_rate"

    first = serve_one(client, creds, 1, "HT")
    second = serve_one(client, creds, 1, "BHYT")
    r = client.get(f"/api/v1/counters/{c1}/last-completed", headers=tablet)
    assert r.status_code == 200
    body = r.get_json()
    assert body["code"] == second["code"] != first["code"]
    assert body["ticket_id"] == second["id"]
    assert body["display_number"] == second["display_number"]
    assert body["staff"]["full_name"] == "Nguyễn Thị Hoa"
    assert body["completed_at"]

    # Another counter's tablet, the kiosk, the display and staff are refused.
    other = bearer(creds["devices"]["rating2"]["token"])
    assert client.get(f"/api/v1/counters/{c1}/last-completed", headers=other).status_code == 403
    for key in ("kiosk", "display"):
        h = bearer(creds["devices"][key]["token"])
        assert client.get(f"/api/v1/counters/{c1}/last-completed", headers=h).status_code == 403
    assert client.get(f"/api/v1/counters/{c1}/last-completed").status_code == 401

    # Once rated, there is nothing left to rate.
    r = client.post("/api/v1/ratings", json={"ticket_code": body["code"], "level": 4},
                    headers=tablet)
    assert r.status_code == 201
    r = client.get(f"/api/v1/counters/{c1}/last-completed", headers=tablet)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "nothing_to_rate"


def lookup(client, kiosk, number: str, check: str | None):
    body = {"display_number": number} if check is None else {"display_number": number,
                                                             "check_code": check}
    return client.post("/api/v1/tickets/lookup", json=body, headers=kiosk)


def test_lookup_finds_todays_ticket_by_number_and_check_code(client, creds):
    """Issue #15: the keypad rated any served ticket by its (sequential) number.
    Now the check code printed on the ticket is the proof of holding it; a
    waiting ticket is found (to say "not served yet") but without its code."""
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    waiting = client.post("/api/v1/tickets", json={"service_id": creds["services"]["CT"]},
                          headers=kiosk).get_json()
    assert len(waiting["check_code"]) == 4 and waiting["check_code"].isdigit()
    r = lookup(client, kiosk, waiting["display_number"], waiting["check_code"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "waiting" and r.get_json()["code"] is None

    served = serve_one(client, creds, 1, "HT")
    r = lookup(client, kiosk, served["display_number"], None)
    assert r.status_code == 400  # no check code: nothing found, nothing said
    wrong = f"{(int(served['check_code']) + 1) % 10000:04d}"
    r = lookup(client, kiosk, served["display_number"], wrong)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "ticket_not_found"
    assert "mã kiểm tra" in r.get_json()["error"]["message"]
    r = lookup(client, kiosk, served["display_number"], served["check_code"])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body == {"code": served["code"], "display_number": served["display_number"],
                    "service_name": "Tư pháp – Hộ tịch", "status": "done", "rated": False}

    assert client.post("/api/v1/ratings", json={"ticket_code": body["code"], "level": 1,
                                                "reasons": ["long_wait"]},
                       headers=kiosk).status_code == 201
    again = lookup(client, kiosk, served["display_number"], served["check_code"])
    assert again.get_json()["rated"] is True

    assert lookup(client, kiosk, "9999", "1234").status_code == 404
    assert lookup(client, kiosk, "abc-1", "1234").status_code == 404
    assert client.post("/api/v1/tickets/lookup", json={}, headers=kiosk).status_code == 400
    tablet = bearer(creds["devices"]["rating1"]["token"])
    assert client.post("/api/v1/tickets/lookup", json={"display_number": "1001"},
                       headers=tablet).status_code == 403
