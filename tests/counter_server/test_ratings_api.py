"""POST /api/v1/ratings: every refusal, channels, misuse flags, idempotency, events."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from counter_server import models as m
from tests.conftest import bearer

RATE = "/api/v1/ratings"


class Office:
    """Drive the seeded office through the real API (kiosk issues, staff call and complete)."""

    def __init__(self, client: Any, creds: dict[str, Any]) -> None:
        self.c, self.creds = client, creds
        self.kiosk = bearer(creds["devices"]["kiosk"]["token"])
        self._staff: dict[int, dict[str, str]] = {}
        svcs = client.get("/api/v1/services", headers=self.kiosk).get_json()["services"]
        self.service = {s["code"]: s["id"] for s in svcs}

    def staff(self, counter: int) -> dict[str, str]:
        if counter not in self._staff:
            name = f"canbo{counter}"
            r = self.c.post("/api/v1/auth/token", json={
                "username": name, "password": self.creds["users"][name]["password"],
                "counter_id": self.creds["counters"][str(counter)]})
            assert r.status_code == 201, r.get_json()
            self._staff[counter] = bearer(r.get_json()["token"])
        return self._staff[counter]

    def issue(self, code: str = "HT") -> dict[str, Any]:
        r = self.c.post("/api/v1/tickets", json={"service_id": self.service[code]},
                        headers=self.kiosk)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def serve(self, counter: int = 1, code: str = "HT") -> dict[str, Any]:
        """Issue one ticket, call it at ``counter`` and complete it."""
        t = self.issue(code)
        cid = self.creds["counters"][str(counter)]
        r = self.c.post(f"/api/v1/counters/{cid}/call-next", headers=self.staff(counter))
        assert r.status_code == 200 and r.get_json()["id"] == t["id"], r.get_json()
        r = self.c.post(f"/api/v1/tickets/{t['id']}/complete", headers=self.staff(counter))
        assert r.get_json()["status"] == "done"
        return t


@pytest.fixture
def office(client, creds) -> Office:
    return Office(client, creds)


def rows(app, model, *where) -> list[Any]:
    with app.extensions["motcua_db"].read() as s:
        out = list(s.scalars(select(model).where(*where).order_by(model.id)))
        s.expunge_all()
        return out


def err(r) -> str:
    body = r.get_json()
    assert body["error"]["message"], body
    return body["error"]["code"]


def test_phone_rating_is_attached_to_service_counter_officer_and_logged(app, client, creds, office):
    t = office.serve(counter=2, code="CT")
    r = client.post(RATE, json={"ticket_code": t["code"], "level": 1,
                                "reasons": ["long_wait", "unclear", "long_wait"],
                                "comment": "  Chờ hơi lâu  "})
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["created"] is True and out["misuse"] is False and out["ticket_id"] == t["id"]
    [rating] = rows(app, m.Rating)
    assert (rating.channel, rating.level, rating.reasons, rating.comment) == (
        "web", 1, ["long_wait", "unclear"], "Chờ hơi lâu")
    assert rating.service_id == office.service["CT"]
    assert rating.counter_id == creds["counters"]["2"]
    assert rating.staff_id == creds["users"]["canbo2"]["id"]
    assert rating.device_id is None
    [ev] = rows(app, m.Event, m.Event.type == "rating.created")
    assert ev.staff_id == creds["users"]["canbo2"]["id"]
    assert ev.ticket_id == t["id"] and ev.counter_id == creds["counters"]["2"]
    assert ev.payload["rating"]["id"] == out["id"] and ev.payload["rating"]["level"] == 1
    assert "code" not in ev.payload["ticket"]  # the event stream never carries ticket codes
    # the public status now says so
    assert client.get(f"/api/v1/tickets/{t['code']}").get_json()["rated"] is True


def test_reasons_are_dropped_on_a_high_level(app, client, office):
    t = office.serve()
    r = client.post(RATE, json={"ticket_code": t["code"], "level": 4, "reasons": ["attitude"]})
    assert r.status_code == 201 and r.get_json()["reasons"] == []


def test_unknown_code_is_404(client):
    r = client.post(RATE, json={"ticket_code": "doesnotexist", "level": 4})
    assert r.status_code == 404 and err(r) == "ticket_not_found"


def test_already_rated_is_409_and_nothing_is_added(app, client, office):
    t = office.serve()
    assert client.post(RATE, json={"ticket_code": t["code"], "level": 4}).status_code == 201
    r = client.post(RATE, json={"ticket_code": t["code"], "level": 1})
    assert r.status_code == 409 and err(r) == "already_rated"
    kiosk = client.post(RATE, json={"ticket_code": t["code"], "level": 1}, headers=office.kiosk)
    assert kiosk.status_code == 409 and err(kiosk) == "already_rated"
    assert [x.level for x in rows(app, m.Rating)] == [4]


def test_not_finished_is_409(client, office):
    t = office.issue()
    r = client.post(RATE, json={"ticket_code": t["code"], "level": 4})
    assert r.status_code == 409 and err(r) == "not_finished"


@pytest.mark.parametrize("body, status, code", [
    ({"level": 9}, 422, "unknown_level"),
    ({"level": 1, "reasons": ["no_such_reason"]}, 422, "unknown_reason"),
    ({"level": 1, "comment": "x" * 1001}, 422, "comment_too_long"),
    ({"level": 1, "comment": "x" * 5001}, 400, "invalid_input"),
    ({"level": "4"}, 400, "invalid_input"),
    ({}, 400, "invalid_input"),
    ({"level": 4, "reasons": "long_wait"}, 400, "invalid_input"),
])
def test_invalid_ratings_are_refused(app, client, office, body, status, code):
    t = office.serve()
    r = client.post(RATE, json={"ticket_code": t["code"], **body})
    assert r.status_code == status and err(r) == code, r.get_json()
    assert rows(app, m.Rating) == []


def test_malformed_bodies_are_400(client):
    r = client.post(RATE, data="{not json", content_type="application/json")
    assert r.status_code == 400 and err(r)
    r = client.post(RATE, data="level=4", content_type="application/x-www-form-urlencoded")
    assert r.status_code in (400, 415) and err(r)
    r = client.post(RATE, json={"level": 4})  # anonymous callers must name the ticket
    assert r.status_code == 422 and err(r) == "ticket_code_required"


def test_channels_follow_the_caller(app, client, creds, office):
    tablet = bearer(creds["devices"]["rating1"]["token"])
    by = {"tablet": tablet, "kiosk": office.kiosk, "web": {}}
    for channel, headers in by.items():
        t = office.serve()
        r = client.post(RATE, json={"ticket_code": t["code"], "level": 3}, headers=headers)
        assert r.status_code == 201, r.get_json()
        [rating] = rows(app, m.Rating, m.Rating.ticket_id == t["id"])
        assert rating.channel == channel and rating.misuse is False
        assert rating.device_id == ({"tablet": creds["devices"]["rating1"]["id"],
                                     "kiosk": creds["devices"]["kiosk"]["id"]}.get(channel))
    display = bearer(creds["devices"]["display"]["token"])
    t = office.serve()
    for headers in (display, office.staff(1)):
        r = client.post(RATE, json={"ticket_code": t["code"], "level": 3}, headers=headers)
        assert r.status_code == 403 and err(r) == "forbidden"


def test_too_fast_presses_are_kept_but_flagged(app, client, creds, office):
    tablet = bearer(creds["devices"]["rating1"]["token"])
    first, second = office.serve(), office.serve()
    r1 = client.post(RATE, json={"ticket_code": first["code"], "level": 4}, headers=tablet)
    r2 = client.post(RATE, json={"ticket_code": second["code"], "level": 1}, headers=tablet)
    assert (r1.status_code, r1.get_json()["misuse"]) == (201, False)
    assert (r2.status_code, r2.get_json()["misuse"]) == (201, True)
    assert rows(app, m.Rating, m.Rating.id == r2.get_json()["id"])[0].misuse_reason == "too_fast"


def test_a_tablet_press_without_a_ticket_is_refused_not_stored(app, client, creds, office):
    """Issue #15: a press while the citizen was still being served was thanked and
    stored as misuse (no_ticket).  The tablet shows faces only for a ticket its
    counter completed, so every tablet rating names that ticket."""
    office.staff(2)  # canbo2 signs in at counter 2, where tablet rating2 stands
    lonely = client.post(RATE, json={"level": 2},
                         headers=bearer(creds["devices"]["rating2"]["token"]))
    assert lonely.status_code == 422 and err(lonely) == "ticket_code_required"
    assert "mã" in lonely.get_json()["error"]["message"].lower()
    r = client.post(RATE, json={"level": 2}, headers=office.kiosk)  # a kiosk, too
    assert r.status_code == 422 and err(r) == "ticket_code_required"
    assert rows(app, m.Rating) == []


def test_a_tablet_rates_only_tickets_served_at_its_own_counter(app, client, creds, office):
    """Issue #15: the counter-1 tablet rated a ticket served at counter 2 (201, counted)."""
    at_two = office.serve(counter=2)
    tablet1 = bearer(creds["devices"]["rating1"]["token"])
    r = client.post(RATE, json={"ticket_code": at_two["code"], "level": 1}, headers=tablet1)
    assert r.status_code == 409 and err(r) == "served_elsewhere", r.get_json()
    assert "quầy khác" in r.get_json()["error"]["message"]
    assert rows(app, m.Rating) == []
    # its own tablet, and the holder's phone, still can
    tablet2 = bearer(creds["devices"]["rating2"]["token"])
    r = client.post(RATE, json={"ticket_code": at_two["code"], "level": 4}, headers=tablet2)
    assert r.status_code == 201 and r.get_json()["misuse"] is False
    [rating] = rows(app, m.Rating)
    assert rating.counter_id == creds["counters"]["2"] == at_two_counter(app, at_two["id"])


def at_two_counter(app, ticket_id: int) -> int:
    return rows(app, m.Ticket, m.Ticket.id == ticket_id)[0].counter_id


def test_client_key_makes_resends_idempotent(app, client, creds, office):
    tablet = bearer(creds["devices"]["rating3"]["token"])
    t = office.serve(counter=3, code="CU")
    body = {"ticket_code": t["code"], "level": 4, "client_key": "tab3-0001"}
    a = client.post(RATE, json=body, headers=tablet)
    b = client.post(RATE, json=body, headers=tablet)
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.get_json()["id"] == b.get_json()["id"] and b.get_json()["created"] is False
    assert len(rows(app, m.Rating)) == 1
    assert len(rows(app, m.Event, m.Event.type == "rating.created")) == 1
    # the same key from somebody else neither reveals nor reuses that rating
    other = client.post(RATE, json=body)
    assert other.status_code == 409 and err(other) == "client_key_conflict"
    other_ticket = office.serve()
    r = client.post(RATE, json={**body, "ticket_code": other_ticket["code"]}, headers=tablet)
    assert r.status_code == 409 and err(r) == "client_key_conflict"
    assert len(rows(app, m.Rating)) == 1


def test_rate_limits_per_device_and_per_address(app, client, creds):
    codes = [client.post(RATE, json={"ticket_code": f"nope{i}", "level": 4}).status_code
             for i in range(21)]
    assert codes[:20] == [404] * 20 and codes[20] == 429
    r = client.post(RATE, json={"ticket_code": "nope", "level": 4})
    assert r.status_code == 429 and err(r) == "too_many_requests"
    # a tablet at the same address has its own per-device bucket
    tablet = bearer(creds["devices"]["rating4"]["token"])
    assert client.post(RATE, json={"ticket_code": "nope", "level": 4},
                       headers=tablet).status_code == 404
    # ... and another address is not affected by this one
    r = client.post(RATE, json={"ticket_code": "nope", "level": 4},
                    environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert r.status_code == 404


def test_replayed_device_ratings_keep_their_press_time(live_server):
    """Ratings a tablet queued offline and sends in a burst are not flagged
    too fast: the device's press time is used (bounded to the last week)."""
    import datetime as dt

    import requests

    from tests.conftest import bearer

    kiosk, staff = bearer(live_server.token("kiosk")), bearer(live_server.staff_token(1))
    c1 = live_server.creds["counters"]["1"]
    codes = []
    for _ in range(2):
        t = requests.post(live_server.url + "/api/v1/tickets", headers=kiosk, timeout=10,
                          json={"service_id": live_server.creds["services"]["HT"]}).json()
        called = requests.post(f"{live_server.url}/api/v1/counters/{c1}/call-next", headers=staff,
                               timeout=10).json()
        requests.post(f"{live_server.url}/api/v1/tickets/{called['id']}/complete", headers=staff,
                      timeout=10)
        codes.append(t["code"])
    tablet = bearer(live_server.token("rating1"))
    base = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    out = [requests.post(live_server.url + "/api/v1/ratings", headers=tablet, timeout=10, json={
        "ticket_code": code, "level": 4, "client_key": f"replay-{i}",
        "pressed_at": (base + dt.timedelta(minutes=i)).isoformat()}).json()
        for i, code in enumerate(codes)]
    assert [r["misuse"] for r in out] == [False, False]
