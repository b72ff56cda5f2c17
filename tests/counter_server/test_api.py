"""The HTTP API contract: every bad input is a 4xx JSON error with a
Vietnamese message and changes nothing; roles and counters are enforced."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from counter_server import models as m
from tests.conftest import bearer


def count(app, model) -> int:
    with app.extensions["motcua_db"].read() as s:
        return s.scalar(select(func.count()).select_from(model))


def err(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error"} and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def kiosk(creds):
    return bearer(creds["devices"]["kiosk"]["token"])


@pytest.fixture
def staff(client, creds):
    def token(counter: int) -> dict:
        r = client.post("/api/v1/auth/token", json={
            "username": f"canbo{counter}", "password": creds["users"][f"canbo{counter}"]["password"],
            "counter_id": creds["counters"][str(counter)]})
        assert r.status_code == 201, r.get_data(as_text=True)
        return bearer(r.get_json()["token"])
    return token


def test_health_and_openapi(client):
    assert client.get("/api/v1/health").get_json()["status"] == "ok"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")


def test_every_api_route_is_in_the_openapi_document(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} missing from openapi.json"
    for path, method in documented:  # and nothing documented that does not exist
        adapter = app.url_map.bind("localhost")
        concrete = path.replace("{code}", "abcdefgh1234").replace("{counter_id}", "1") \
            .replace("{ticket_id}", "1")
        concrete = re.sub(r"\{[a-z_]+\}", "1", concrete)
        adapter.match(concrete, method=method)


def test_contract_routes_exist(client):
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in [("/api/v1/health", "get"), ("/api/v1/auth/token", "post"),
                         ("/api/v1/services", "get"), ("/api/v1/tickets", "post"),
                         ("/api/v1/tickets/{code}", "get"),
                         ("/api/v1/counters/{counter_id}/call-next", "post"),
                         ("/api/v1/counters/{counter_id}/recall", "post"),
                         ("/api/v1/counters/{counter_id}/pause", "post"),
                         ("/api/v1/counters/{counter_id}/resume", "post"),
                         ("/api/v1/tickets/{ticket_id}/start", "post"),
                         ("/api/v1/tickets/{ticket_id}/complete", "post"),
                         ("/api/v1/tickets/{ticket_id}/no-show", "post"),
                         ("/api/v1/tickets/{ticket_id}/transfer", "post"),
                         ("/api/v1/tickets/{ticket_id}/cancel", "post"),
                         ("/api/v1/ratings", "post"), ("/api/v1/display", "get"),
                         ("/api/v1/events", "get"), ("/api/v1/reports/summary", "get")]:
        assert method in spec.get(path, {}), (method, path)


@pytest.mark.parametrize("body,ctype,status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ('{"service_id": "1"}', "application/json", 400),
    ('{"service_id": 1.5}', "application/json", 400),
    ('{"service_id": null}', "application/json", 400),
    ('{}', "application/json", 400),
    ('{"service_id": 1, "priority": "vip"}', "application/json", 400),
    ('{"service_id": 1, "idempotency_key": ""}', "application/json", 400),
    ('{"service_id": 999999}', "application/json", 404),
    ("service_id=1", "application/x-www-form-urlencoded", 400),
])
def test_bad_ticket_requests_change_nothing(app, client, kiosk, body, ctype, status):
    before = count(app, m.Ticket), count(app, m.Event)
    err(client.post("/api/v1/tickets", data=body, content_type=ctype, headers=kiosk), status)
    assert (count(app, m.Ticket), count(app, m.Event)) == before


def test_messages_are_vietnamese(client, kiosk):
    e = err(client.post("/api/v1/tickets", json={"service_id": 999999}, headers=kiosk), 404,
            "service_not_found")
    assert e["message"] == "Không tìm thấy lĩnh vực."
    e = err(client.get("/api/v1/services"), 401, "unauthorized")
    assert "đăng nhập" in e["message"]


def test_body_over_the_limit_is_413(client, kiosk):
    big = json.dumps({"service_id": 1, "idempotency_key": "x" * 200_000})
    err(client.post("/api/v1/tickets", data=big, content_type="application/json", headers=kiosk), 413)


def test_closed_service_and_cap(app, client, creds, kiosk):
    with app.extensions["motcua_db"].write() as s:
        s.get(m.Service, creds["services"]["CT"]).daily_cap = 1
        s.get(m.Service, creds["services"]["DD"]).active = False
    assert client.post("/api/v1/tickets", json={"service_id": creds["services"]["CT"]},
                       headers=kiosk).status_code == 201
    err(client.post("/api/v1/tickets", json={"service_id": creds["services"]["CT"]}, headers=kiosk),
        409, "daily_cap_reached")
    err(client.post("/api/v1/tickets", json={"service_id": creds["services"]["DD"]}, headers=kiosk),
        409, "service_closed")
    services = {s["code"]: s for s in client.get("/api/v1/services", headers=kiosk)
                .get_json()["services"]}
    assert services["CT"]["open"] is False and services["CT"]["closed_reason"] == "daily_cap_reached"
    assert services["CT"]["closed_message"]
    assert "DD" not in services  # inactive services are not offered at all


def test_idempotent_issue_over_http(client, creds, kiosk):
    body = {"service_id": creds["services"]["HT"], "idempotency_key": "tap-42"}
    a, b = client.post("/api/v1/tickets", json=body, headers=kiosk), \
        client.post("/api/v1/tickets", json=body, headers=kiosk)
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.get_json()["id"] == b.get_json()["id"] and a.get_json()["code"] == b.get_json()["code"]


def test_roles_and_counters_are_enforced(client, creds, kiosk, staff):
    display = bearer(creds["devices"]["display"]["token"])
    err(client.post("/api/v1/tickets", json={"service_id": 1}, headers=display), 403, "forbidden")
    err(client.post("/api/v1/tickets", json={"service_id": 1}), 401)
    err(client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer("wrong")), 401,
        "invalid_token")
    err(client.post("/api/v1/counters/1/call-next", headers=kiosk), 403)
    s1 = staff(1)
    c2 = creds["counters"]["2"]
    err(client.post(f"/api/v1/counters/{c2}/call-next", headers=s1), 403, "not_your_counter")
    leader = client.post("/api/v1/auth/token", json={
        "username": "lanhdao", "password": creds["users"]["lanhdao"]["password"]}).get_json()
    err(client.post(f"/api/v1/counters/{c2}/call-next", headers=bearer(leader["token"])), 403)


def test_staff_flow_and_state_machine_errors(app, client, creds, kiosk, staff):
    s1 = staff(1)
    c1 = creds["counters"]["1"]
    err(client.post(f"/api/v1/counters/{c1}/call-next", headers=s1), 409, "queue_empty")
    t = client.post("/api/v1/tickets", json={"service_id": creds["services"]["HT"]},
                    headers=kiosk).get_json()
    err(client.post(f"/api/v1/tickets/{t['id']}/complete", headers=s1), 403, "not_your_ticket")
    called = client.post(f"/api/v1/counters/{c1}/call-next", headers=s1).get_json()
    assert called["id"] == t["id"] and called["counter_number"] == 1
    err(client.post(f"/api/v1/counters/{c1}/call-next", headers=s1), 409, "ticket_in_progress")
    assert client.post(f"/api/v1/counters/{c1}/recall", headers=s1).get_json()["recall_count"] == 1
    assert client.post(f"/api/v1/tickets/{t['id']}/start", headers=s1).get_json()["status"] == "serving"
    err(client.post(f"/api/v1/tickets/{t['id']}/start", headers=s1), 409, "invalid_transition")
    err(client.post(f"/api/v1/tickets/{t['id']}/transfer", json={}, headers=s1), 400)
    err(client.post(f"/api/v1/tickets/{t['id']}/transfer", json={"service_id": 99999}, headers=s1), 404)
    assert client.post(f"/api/v1/tickets/{t['id']}/complete", headers=s1).get_json()["status"] == "done"
    err(client.post("/api/v1/tickets/99999/complete", headers=s1), 404, "ticket_not_found")
    paused = client.post(f"/api/v1/counters/{c1}/pause", json={"reason": "Họp"}, headers=s1).get_json()
    assert paused["state"] == "paused" and paused["pause_reason"] == "Họp"
    err(client.post(f"/api/v1/counters/{c1}/call-next", headers=s1), 409, "counter_paused")
    err(client.post(f"/api/v1/counters/{c1}/pause", json={"reason": 5}, headers=s1), 400)
    assert client.post(f"/api/v1/counters/{c1}/resume", headers=s1).get_json()["state"] == "open"
    status = client.get(f"/api/v1/tickets/{t['code']}").get_json()
    assert status["status"] == "done" and "code" not in status
    err(client.get("/api/v1/tickets/nope"), 404)


def test_call_next_completing_the_ticket_in_hand(client, creds, kiosk, staff):
    s1, c1 = staff(1), creds["counters"]["1"]
    a, b = (client.post("/api/v1/tickets", json={"service_id": creds["services"]["HT"]},
                        headers=kiosk).get_json() for _ in range(2))
    url = f"/api/v1/counters/{c1}/call-next"
    assert client.post(url, json={"complete_current": True}, headers=s1).get_json()["id"] == a["id"]
    nxt = client.post(url, json={"complete_current": True}, headers=s1).get_json()
    assert nxt["id"] == b["id"] and nxt["status"] == "called"
    assert client.get(f"/api/v1/tickets/{a['code']}").get_json()["status"] == "done"
    err(client.post(url, json={"complete_current": True}, headers=s1), 409, "queue_empty")
    assert client.get(f"/api/v1/tickets/{b['code']}").get_json()["status"] == "called"
    err(client.post(url, json={"complete_current": "yes please"}, headers=s1), 400)
    # The screen still shows ticket a while b is in hand (another tab moved on): refused.
    c = client.post("/api/v1/tickets", json={"service_id": creds["services"]["HT"]},
                    headers=kiosk).get_json()
    r = err(client.post(url, json={"complete_current": True, "current_ticket_id": a["id"]},
                        headers=s1), 409, "ticket_changed")
    assert b["display_number"] in r["message"]
    assert client.get(f"/api/v1/tickets/{b['code']}").get_json()["status"] == "called"
    nxt = client.post(url, json={"complete_current": True, "current_ticket_id": b["id"]},
                      headers=s1).get_json()
    assert nxt["id"] == c["id"]


def test_sign_in_errors_and_throttling(client, creds):
    err(client.post("/api/v1/auth/token", json={"username": "canbo1", "password": "x",
                                                 "counter_id": 1}), 401, "invalid_credentials")
    err(client.post("/api/v1/auth/token", json={
        "username": "canbo1", "password": creds["users"]["canbo1"]["password"]}), 400,
        "counter_required")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "canbo2", "password": "wrong"})
    err(client.post("/api/v1/auth/token", json={
        "username": "canbo2", "password": creds["users"]["canbo2"]["password"], "counter_id": 2}),
        429, "too_many_attempts")


def test_display_snapshot(client, creds, kiosk, staff):
    t = client.post("/api/v1/tickets", json={"service_id": creds["services"]["HT"]},
                    headers=kiosk).get_json()
    client.post(f"/api/v1/counters/{creds['counters']['1']}/call-next", headers=staff(1))
    snap = client.get("/api/v1/display", headers=bearer(creds["devices"]["display"]["token"])).get_json()
    c1 = next(c for c in snap["counters"] if c["number"] == 1)
    assert c1["current"]["display_number"] == t["display_number"]
    assert c1["staff"]["full_name"] == "Nguyễn Thị Hoa"
    assert snap["recent_calls"][0]["display_number"] == t["display_number"]
    assert snap["last_event_id"] > 0 and snap["office"]["name"]


def test_huge_ids_are_bad_input_on_both_databases(any_live_server):
    """An id beyond a 64-bit column is refused by validation (400), never
    handed to the database driver (SQLite overflows, PostgreSQL refuses)."""
    import requests

    srv = any_live_server
    huge = 2**70
    kiosk = bearer(srv.token("kiosk"))
    r = requests.post(srv.url + "/api/v1/tickets", json={"service_id": huge}, headers=kiosk,
                      timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"
    r = requests.post(srv.url + "/api/v1/auth/token", timeout=10, json={
        "username": "canbo1", "password": srv.creds["users"]["canbo1"]["password"],
        "counter_id": huge})
    assert r.status_code == 400
    staff = bearer(srv.staff_token(1))
    t = requests.post(srv.url + "/api/v1/tickets", headers=kiosk, timeout=10,
                      json={"service_id": srv.creds["services"]["HT"]}).json()
    r = requests.post(f"{srv.url}/api/v1/tickets/{t['id']}/transfer", headers=staff, timeout=10,
                      json={"counter_id": huge})
    assert r.status_code == 400
    r = requests.get(srv.url + "/api/v1/reports/summary", headers=bearer(srv.login("lanhdao")),
                     params={"staff_id": str(huge)}, timeout=10)
    assert r.status_code == 400
    assert requests.get(f"{srv.url}/api/v1/counters/{huge}", headers=staff,
                        timeout=10).status_code == 404


def test_the_document_states_the_auth_each_view_enforces(app, client):
    """Security schemes, each operation's roles and its error statuses in the
    OpenAPI document come from the same declaration the server enforces."""
    from counter_server.security import PUBLIC, access_of

    spec = client.get("/api/v1/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {**schemes["BearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["SessionCookie"]["in"] == schemes["DeviceCookie"]["in"] == "cookie"
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "message"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "openapi.spec":
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        allowed = access_of(app.view_functions[rule.endpoint])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = spec["paths"][path][method.lower()]
            statuses = set(op["responses"])
            assert "400" in statuses, (path, method)
            for status, response in op["responses"].items():
                if status >= "400":
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (path, method, status)
            if PUBLIC in allowed:
                assert all(not s for s in op.get("security", [{}])[:1]), (path, method)
            else:
                assert {"401", "403"} <= statuses, (path, method)
                for requirement in op["security"]:
                    (roles,) = requirement.values()
                    assert frozenset(roles) == allowed, (path, method)
            if "requestBody" in op and op["requestBody"].get("required"):
                assert "413" in statuses, (path, method)
            checked += 1
    assert checked >= 20
    lookup = spec["paths"]["/api/v1/tickets/lookup"]["post"]
    assert lookup["requestBody"]["required"] is True
    level = spec["components"]["schemas"]["RatingIn"]["properties"]["level"]
    assert level["type"] == "integer" and "minimum" not in level and "maximum" not in level
    call_next = spec["components"]["schemas"]["CallNextIn"]["properties"]
    assert call_next["complete_current"]["type"] == "boolean"
