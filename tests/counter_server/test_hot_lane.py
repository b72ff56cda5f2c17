"""The hot lane (api/hot_lane.py): issuing and call next answered without
Flask's per-request machinery, exactly as Flask answers them, and every
other case left to Flask."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from counter_server import models as m
from tests.conftest import bearer


def count(app, model) -> int:
    with app.extensions["motcua_db"].read() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def lane(app):
    return app.wsgi_app


@pytest.fixture
def flask_only(app, lane):
    """A client of the same app behind the lane: Flask answers everything."""
    return Client(lane.wsgi_app)


@pytest.fixture
def kiosk(creds):
    return bearer(creds["devices"]["kiosk"]["token"])


def staff_token(client, creds, counter: int) -> dict:
    r = client.post("/api/v1/auth/token", json={
        "username": f"canbo{counter}", "password": creds["users"][f"canbo{counter}"]["password"],
        "counter_id": creds["counters"][str(counter)]})
    assert r.status_code == 201, r.get_data(as_text=True)
    return bearer(r.get_json()["token"])


def same_answer(a, b) -> None:
    """Status, headers and JSON shape agree; the values that name the ticket
    itself (its id, number, code, times) may differ."""
    assert a.status == b.status
    assert sorted(a.headers.keys()) == sorted(b.headers.keys())
    assert a.headers["Content-Type"] == b.headers["Content-Type"] == "application/json"
    ja, jb = a.get_json(), b.get_json()
    assert sorted(ja) == sorted(jb)
    for r, j in ((a, ja), (b, jb)):  # the same bytes for the same data: compact, sorted, UTF-8
        assert r.get_data() == (json.dumps(j, ensure_ascii=False, sort_keys=True,
                                           separators=(",", ":")) + "\n").encode()
    for key in ("status", "service_id", "service_name", "counter_id", "counter_number"):
        assert ja.get(key) == jb.get(key), key


def test_issue_and_call_next_are_answered_by_the_lane_as_flask_would(
        app, client, flask_only, lane, creds, kiosk):
    hs = creds["services"]["HT"]
    served = lane.served
    by_lane = client.post("/api/v1/tickets", json={"service_id": hs}, headers=kiosk)
    assert lane.served == served + 1
    by_flask = flask_only.post("/api/v1/tickets", json={"service_id": hs}, headers=kiosk)
    assert lane.served == served + 1
    assert by_lane.status_code == 201
    same_answer(by_lane, by_flask)
    assert by_flask.get_json()["number"] == by_lane.get_json()["number"] + 1

    # The idempotency key finds the same ticket whichever way it comes (200).
    keyed = {"service_id": hs, "idempotency_key": "tap-7"}
    first = client.post("/api/v1/tickets", json=keyed, headers=kiosk)
    again = flask_only.post("/api/v1/tickets", json=keyed, headers=kiosk)
    third = client.post("/api/v1/tickets", json=keyed, headers=kiosk)
    assert (first.status_code, again.status_code, third.status_code) == (201, 200, 200)
    assert first.get_json()["id"] == again.get_json()["id"] == third.get_json()["id"]

    staff = staff_token(client, creds, 1)
    c1 = creds["counters"]["1"]
    served = lane.served
    called = client.post(f"/api/v1/counters/{c1}/call-next", json={}, headers=staff)
    assert lane.served == served + 1
    flask_called = flask_only.post(f"/api/v1/counters/{c1}/call-next",
                                   json={"complete_current": True}, headers=staff)
    same_answer(called, flask_called)
    assert called.get_json()["id"] == by_lane.get_json()["id"]  # first come, first called
    assert flask_called.get_json()["id"] == by_flask.get_json()["id"]
    done_next = client.post(f"/api/v1/counters/{c1}/call-next",
                            json={"complete_current": True}, headers=staff)
    assert done_next.status_code == 200 and lane.served == served + 2
    with app.extensions["motcua_db"].read() as s:
        assert s.get(m.Ticket, by_flask.get_json()["id"]).status == m.DONE
        assert s.get(m.Counter, c1).current_ticket_id == done_next.get_json()["id"]
        types = s.scalars(select(m.Event.type).order_by(m.Event.id)).all()
    assert types.count("ticket.issued") == 3 and types.count("ticket.called") == 3
    assert types.count("ticket.completed") == 2


@pytest.mark.parametrize("body,ctype,token,status,code", [
    ("{not json", "application/json", "kiosk", 400, None),
    ("[1, 2]", "application/json", "kiosk", 400, None),
    ('{"service_id": "1"}', "application/json", "kiosk", 400, "invalid_input"),
    ('{"service_id": 1, "extra": 1}', "application/json", "kiosk", 400, "invalid_input"),
    ('{"service_id": 999999}', "application/json", "kiosk", 404, "service_not_found"),
    ('{"service_id": 1}', "text/plain", "kiosk", 400, None),
    ('{"service_id": 1}', "application/json", None, 401, "unauthorized"),
    ('{"service_id": 1}', "application/json", "wrong", 401, "invalid_token"),
    ('{"service_id": 1}', "application/json", "display", 403, "forbidden"),
])
def test_refused_issues_are_answered_by_flask_and_change_nothing(
        app, client, lane, creds, body, ctype, token, status, code):
    if body == '{"service_id": 1}' and status != 400:
        body = json.dumps({"service_id": creds["services"]["HT"]})
    headers = {} if token is None else bearer(
        "not-a-token" if token == "wrong" else creds["devices"][token]["token"])
    before = count(app, m.Ticket), count(app, m.Event), lane.served
    r = client.post("/api/v1/tickets", data=body, content_type=ctype, headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)
    error = r.get_json()["error"]
    assert error["message"] and (code is None or error["code"] == code)
    assert (count(app, m.Ticket), count(app, m.Event), lane.served) == before


def test_refused_calls_are_answered_by_flask(app, client, lane, creds, kiosk):
    c1, c2 = creds["counters"]["1"], creds["counters"]["2"]
    staff = staff_token(client, creds, 1)
    served = lane.served

    def refused(path, status, code, headers=staff, body="{}"):
        r = client.post(path, data=body, content_type="application/json", headers=headers)
        assert r.status_code == status, r.get_data(as_text=True)
        assert r.get_json()["error"]["code"] == code

    refused(f"/api/v1/counters/{c1}/call-next", 409, "queue_empty")  # the job refused
    refused(f"/api/v1/counters/{c2}/call-next", 403, "not_your_counter")
    refused(f"/api/v1/counters/{c1}/call-next", 403, "forbidden", headers=kiosk)
    refused(f"/api/v1/counters/{c1}/call-next", 400, "invalid_input",
            body='{"complete_current": "maybe"}')
    refused(f"/api/v1/counters/{c1}/call-next", 413, "too_large",
            body=json.dumps({"current_ticket_id": 1, "x": "y" * 100_000}))
    refused("/api/v1/counters/99999999999999999999/call-next", 404, "not_found")
    assert lane.served == served


def test_two_tap_flow_through_the_lane(app, client, flask_only, lane, creds, kiosk):
    """Call next without a body, then start and complete: all answered by the
    lane, like Flask; a wrong ticket or counter goes to Flask."""
    hs, c1 = creds["services"]["HT"], creds["counters"]["1"]
    staff, other = staff_token(client, creds, 1), staff_token(client, creds, 2)
    t1, t2 = (client.post("/api/v1/tickets", json={"service_id": hs}, headers=kiosk).get_json()
              for _ in range(2))
    served = lane.served
    called = client.post(f"/api/v1/counters/{c1}/call-next", headers=staff)  # no body at all
    assert called.status_code == 200 and called.get_json()["id"] == t1["id"]
    started = client.post(f"/api/v1/tickets/{t1['id']}/start", headers=staff)
    assert started.get_json()["status"] == "serving"
    assert lane.served == served + 2

    def refused(path, headers, status, code):
        before = lane.served
        r = client.post(path, headers=headers)
        assert r.status_code == status, r.get_data(as_text=True)
        assert r.get_json()["error"]["code"] == code and lane.served == before

    refused(f"/api/v1/tickets/{t1['id']}/complete", other, 403, "not_your_ticket")
    refused(f"/api/v1/tickets/{t1['id']}/complete", kiosk, 403, "forbidden")
    refused(f"/api/v1/tickets/{t2['id']}/start", staff, 403, "not_your_ticket")
    refused("/api/v1/tickets/99999999/complete", staff, 404, "ticket_not_found")

    done = client.post(f"/api/v1/tickets/{t1['id']}/complete", headers=staff)
    assert done.get_json()["status"] == "done" and lane.served == served + 3
    refused(f"/api/v1/tickets/{t1['id']}/complete", staff, 409, "invalid_transition")
    # Flask's answer to the same two taps has the same shape.
    flask_called = flask_only.post(f"/api/v1/counters/{c1}/call-next", headers=staff)
    same_answer(called, flask_called)
    same_answer(started, flask_only.post(f"/api/v1/tickets/{t2['id']}/start", headers=staff))
    same_answer(done, flask_only.post(f"/api/v1/tickets/{t2['id']}/complete", headers=staff))
    with app.extensions["motcua_db"].read() as s:
        assert {s.get(m.Ticket, t["id"]).status for t in (t1, t2)} == {m.DONE}


def test_a_cookie_sends_the_request_to_flask(app, client, lane, creds, kiosk):
    """A console session (cookie) gets Flask's CSRF and login checks."""
    client.set_cookie("session", "whatever")
    served = lane.served
    r = client.post("/api/v1/tickets", json={"service_id": creds["services"]["HT"]},
                    headers=kiosk)
    assert r.status_code == 201 and lane.served == served


def test_lane_can_be_switched_off(sqlite_url, creds, tmp_path):
    from counter_server.app import create_app

    app = create_app({"DATABASE_URL": sqlite_url, "INSTANCE_DIR": str(tmp_path),
                      "TESTING": True, "SECRET_KEY": "test", "HOT_LANE": False})
    try:
        assert not hasattr(app.wsgi_app, "served")
        r = app.test_client().post("/api/v1/tickets", json={"service_id": creds["services"]["HT"]},
                                   headers=bearer(creds["devices"]["kiosk"]["token"]))
        assert r.status_code == 201
    finally:
        app.extensions["motcua_db"].dispose()
