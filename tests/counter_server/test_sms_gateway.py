"""The optional SMS/Zalo message: the admin's gateway settings, the kiosk's phone
number (kept until the end of the service day), the messages posted to a real
loopback HTTP listener when the ticket is near and when it is called, and a dead
gateway that is logged and shown but never stops issuing."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
import requests
from sqlalchemy import func, select

from counter_server import models as m
from counter_server.notify_sms import SmsWatch, phone_number
from tests.conftest import bearer, free_port
from tests.counter_server.test_admin import admin_client
from tests.counter_server.test_admin_validation import _settings_form


class Gateway:
    """A real HTTP listener on loopback that records every POST body."""

    def __init__(self, status: int = 200) -> None:
        received = self.received = []
        self.arrived = threading.Condition()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with gateway.arrived:
                    received.append((self.path, self.headers["Content-Type"],
                                     json.loads(body.decode("utf-8"))))
                    gateway.arrived.notify_all()
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms?key=abc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = 20.0) -> list:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= n, timeout), self.received
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    yield g
    g.close()


def _save_settings(admin: Any, tok: str, **changes: str) -> str:
    data = {**_settings_form(admin, tok), **changes}
    return admin.post("/admin/settings", data=data, follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("changes, message", [
    ({"sms_enabled": "on", "sms_webhook_url": ""}, "Cần nhập địa chỉ cổng gửi tin"),
    ({"sms_webhook_url": "192.168.1.20:9000"}, "Địa chỉ cổng gửi tin phải có dạng"),
    ({"sms_body_template": '{"to": "{phone}", "text": "{tin}"}'},
     "Mẫu tin nhắn chỉ dùng {phone}, {message}, {number}, {counter}, {office}, không có “{tin}”."),
    ({"sms_body_template": '{"text": "{message}"}'}, "Mẫu tin nhắn phải có {phone}"),
    ({"sms_body_template": '{"to": {phone}, "text": "{message}"}'},
     "Mẫu tin nhắn sau khi điền phải là JSON"),
    ({"sms_enabled": "on", "sms_webhook_url": "https://sms.example.vn/send?token=x",
      "sms_body_template": '{"phone": "{phone}", "msg": "{office}: {message}"}'}, None),
])
def test_gateway_settings_are_checked(app, client, creds, changes, message):
    admin, tok = admin_client(app, creds)
    page = _save_settings(admin, tok, **changes)
    if message is None:
        assert "Đã lưu cài đặt." in page
        assert "https://sms.example.vn/send?token=x" in admin.get("/admin/settings").get_data(
            as_text=True)
    else:
        assert message in page and "Đã lưu cài đặt." not in page, \
            re.findall(r'flash-error[^>]*>([^<]*)<', page)


def test_phone_numbers():
    assert phone_number("0912 345 678") == phone_number("+84912345678") == "0912345678"
    assert phone_number("84.912.345.678") == "0912345678"
    for bad in ("", "091234567", "01234567890", "0212345678", "09123456789", "abc"):
        assert phone_number(bad) is None, bad


def _issue(client: Any, kiosk: dict, service: int) -> dict[str, Any]:
    r = client.post("/api/v1/tickets", json={"service_id": service}, headers=kiosk)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def _staff(client: Any, creds: dict) -> dict:
    r = client.post("/api/v1/auth/token", json={
        "username": "canbo1", "password": creds["users"]["canbo1"]["password"],
        "counter_id": creds["counters"]["1"]})
    return bearer(r.get_json()["token"])


def _contacts(app: Any) -> int:
    with app.extensions["motcua_db"].read() as s:
        return s.scalar(select(func.count()).select_from(m.TicketContact))


def test_contact_then_near_and_called_messages_then_purged(app, client, creds, gateway):
    kiosk, staff = bearer(creds["devices"]["kiosk"]["token"]), _staff(client, creds)
    ht = creds["services"]["HT"]
    before = [_issue(client, kiosk, ht) for _ in range(4)]
    mine = _issue(client, kiosk, ht)
    path = f"/api/v1/tickets/{mine['code']}/contact"

    # off by default: the kiosk is told so, nothing is stored
    r = client.put(path, json={"phone": "0912345678"}, headers=kiosk)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "sms_off"
    assert client.get("/api/v1/services", headers=kiosk).get_json()["office"]["sms_contact"] \
        is False
    admin, tok = admin_client(app, creds)
    assert "Đã lưu cài đặt." in _save_settings(admin, tok, sms_enabled="on",
                                                sms_webhook_url=gateway.url)
    assert client.get("/api/v1/services", headers=kiosk).get_json()["office"]["sms_contact"]

    # a wrong number: a clear Vietnamese refusal; staff may not store numbers
    r = client.put(path, json={"phone": "12345"}, headers=kiosk)
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == \
        "Vui lòng nhập số điện thoại di động 10 chữ số, ví dụ 0912345678."
    assert client.put(path, json={"phone": "0912345678"}, headers=staff).status_code == 403
    assert client.put("/api/v1/tickets/khongcovenay/contact", json={"phone": "0912345678"},
                      headers=kiosk).status_code == 404
    r = client.put(path, json={"phone": "0912 345 678"}, headers=kiosk)
    assert r.status_code == 200 and r.get_json() == {
        "display_number": mine["display_number"], "phone": "091****678"}
    assert _contacts(app) == 1

    watch = SmsWatch(app.extensions["motcua_db"], every=60)
    assert watch.tick() == []  # 4 ahead, the office's N is 3
    call = f"/api/v1/counters/{creds['counters']['1']}/call-next"
    assert client.post(call, headers=staff).get_json()["id"] == before[0]["id"]
    [(_cid, kind, error)] = watch.tick()
    assert (kind, error) == ("near", "")
    [(where, ctype, body)] = gateway.received
    assert where == "/sms?key=abc" and ctype == "application/json; charset=utf-8"
    assert body == {"to": "0912345678", "text": f"Vé {mine['display_number']}: còn 3 người "
                                               "trước ông/bà. Xin ông/bà đến gần quầy."}
    assert watch.tick() == []  # once only

    for t in before[1:]:
        assert client.post(call, json={"complete_current": True},
                           headers=staff).get_json()["id"] == t["id"]
    assert watch.tick() == []
    assert client.post(call, json={"complete_current": True},
                       headers=staff).get_json()["id"] == mine["id"]
    assert [k for _c, k, _e in watch.tick()] == ["called"]
    assert gateway.received[-1][2]["text"] == \
        f"Mời ông/bà mang vé {mine['display_number']} đến quầy 1."
    assert watch.tick() == [] and len(gateway.received) == 2

    # a called ticket cannot take a number; the next day the number is gone
    r = client.put(path, json={"phone": "0912345678"}, headers=kiosk)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ticket_not_waiting"
    watch.tick(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    assert _contacts(app) == 1  # still today
    watch._purged_at = -1e9  # (a minute has passed)
    watch.tick(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(days=1))
    assert _contacts(app) == 0


@pytest.mark.slow
def test_dead_gateway_never_blocks_issuing(live_server_sms):
    server, gateway = live_server_sms
    kiosk = bearer(server.token("kiosk"))
    staff = bearer(server.staff_token(1))
    ht = server.creds["services"]["HT"]
    settings = admin_settings(server)

    def issue_with_phone(phone: str) -> dict[str, Any]:
        t = requests.post(server.url + "/api/v1/tickets", json={"service_id": ht},
                          headers=kiosk, timeout=10).json()
        r = requests.put(f"{server.url}/api/v1/tickets/{t['code']}/contact",
                         json={"phone": phone}, headers=kiosk, timeout=10)
        assert r.status_code == 200, r.text
        return t

    call = f"{server.url}/api/v1/counters/{server.creds['counters']['1']}/call-next"
    assert "Đã lưu cài đặt." in settings(sms_enabled="on", sms_webhook_url=gateway.url)
    # the server's own thread posts to the listener: near (1 ahead <= 3), then called
    first = issue_with_phone("0987654321")
    got = gateway.wait_for(1)
    assert got[0][2] == {"to": "0987654321", "text": f"Vé {first['display_number']}: "
                         "ông/bà là người tiếp theo. Xin ông/bà đến gần quầy."}
    assert requests.post(call, headers=staff, timeout=10).json()["id"] == first["id"]
    got = gateway.wait_for(2)
    assert "đến quầy 1" in got[1][2]["text"]

    # the gateway's port closes: issuing goes on, the failure is logged and shown
    dead = f"http://127.0.0.1:{free_port()}/sms"
    assert "Đã lưu cài đặt." in settings(sms_enabled="on", sms_webhook_url=dead)
    second = issue_with_phone("0911222333")
    for _ in range(3):
        r = requests.post(server.url + "/api/v1/tickets", json={"service_id": ht},
                          headers=kiosk, timeout=10)
        assert r.status_code == 201
    page, deadline = "", time.monotonic() + 20
    while 'id="sms-failures"' not in page and time.monotonic() < deadline:
        time.sleep(0.1)  # waits for the state the server's thread leaves
        page = settings.session.get(server.url + "/admin/settings").text
    assert f"vé {second['display_number']} · 091****333" in page
    assert "SMS gateway" in server.log.read_text(errors="replace")
    assert len(gateway.received) == 2


def admin_settings(server: Any):
    """Sign in as the office's admin over HTTP; returns save(**changes) -> the page."""
    admin = requests.Session()
    page = admin.get(server.url + "/login").text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = admin.post(server.url + "/login", data={
        "csrf_token": tok, "username": "quantri",
        "password": server.creds["users"]["quantri"]["password"]})
    assert r.ok

    def save(**changes: str) -> str:
        form = _form_of(admin.get(server.url + "/admin/settings").text)
        return admin.post(server.url + "/admin/settings", data={**form, **changes}).text

    save.session = admin
    return save


def _form_of(page: str) -> dict[str, str]:
    values = dict(re.findall(r'<input name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    values.update(re.findall(r'<textarea name="([a-z_]+)"[^>]*>([^<]*)</textarea>', page))
    values.update({"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
                   "voice_engine": "espeak-ng", "voice_number_mode": "words",
                   "enforce_hours": "on"})
    return {k: v.replace("&#34;", '"').replace("&amp;", "&").replace("&#39;", "'")
            for k, v in values.items()}


@pytest.fixture
def live_server_sms(sqlite_url, tmp_path, gateway):
    from tests.conftest import _live

    for server in _live(sqlite_url, tmp_path, env={"MOTCUA_SMS_CHECK_SECONDS": "0.2"}):
        yield server, gateway
