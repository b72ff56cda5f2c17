"""Bad input through the real server (uvicorn + the app) on SQLite and on
PostgreSQL: text with NUL, lone surrogates, integers past the id columns,
deep and non-object JSON, oversized bodies and bad headers.  Each is a 4xx
JSON error with its code and Vietnamese message, and stores nothing."""
from __future__ import annotations

import json
import socket
from typing import Any, Iterator

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from sqlalchemy import func, select

from counter_server import models as m
from counter_server.db import Database
from tests.conftest import LiveServer, bearer, module_live_server

BAD_TEXT = "Văn bản gửi lên chứa ký tự không lưu được."
BAD_DATA = "Dữ liệu gửi lên không hợp lệ."
TOO_DEEP = "Dữ liệu gửi lên lồng nhau quá sâu."
TOO_LARGE = "Yêu cầu quá lớn."
NOT_FOUND = "Không tìm thấy."
BAD_REQUEST = "Yêu cầu không hợp lệ."
STORED = (m.Ticket, m.Event, m.Rating, m.ApiToken)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    for srv in module_live_server(request.param, folder):
        srv.kiosk = bearer(srv.token("kiosk"))  # type: ignore[attr-defined]
        srv.staff = bearer(srv.staff_token(1))  # type: ignore[attr-defined]
        srv.db = Database(srv.db_url, pool_size=1)  # type: ignore[attr-defined]
        try:
            yield srv
        finally:
            srv.db.dispose()  # type: ignore[attr-defined]


def stored(srv: Any) -> tuple[int, ...]:
    with srv.db.read() as s:
        # Device status lives on the device row: its last error is compared too.
        errors = tuple(s.scalars(select(m.Device.last_error).order_by(m.Device.id)))
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in STORED) + errors


def refused(resp: requests.Response, status: int, code: str, message: str) -> None:
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"] == message, body


def post_raw(srv: LiveServer, path: str, raw: str | bytes, headers: dict[str, str]) -> requests.Response:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return requests.post(srv.url + path, data=data, timeout=20,
                         headers={**headers, "Content-Type": "application/json"})


NUL_BODIES = [
    ("/api/v1/auth/token", "none", {"username": "canbo1\x00", "password": "x"}),
    ("/api/v1/auth/token", "none", {"username": "canbo1", "password": "a\x00b",
                                    "counter_id": 1}),
    ("/api/v1/ratings", "none", {"ticket_code": "abc\x00def", "level": 4}),
    ("/api/v1/ratings", "kiosk", {"ticket_code": "abcdefgh", "level": 4, "comment": "\x00"}),
    ("/api/v1/ratings", "kiosk", {"ticket_code": "abcdefgh", "level": 4,
                                  "client_key": "k\x00"}),
    ("/api/v1/tickets", "kiosk", {"service_id": "HT", "idempotency_key": "tap\x00"}),
    ("/api/v1/tickets/lookup", "kiosk", {"display_number": "10\x0001"}),
    ("/api/v1/device/status", "kiosk", {"status": "error", "message": "giấy\x00"}),
    ("/api/v1/device/status", "kiosk", {"status": "error", "code": "x", "\x00": 1}),
]


def _resolve(srv: Any, body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    if out.get("service_id") == "HT":
        out["service_id"] = srv.creds["services"]["HT"]
    if out.get("counter_id") == 1:
        out["counter_id"] = srv.creds["counters"]["1"]
    return out


@pytest.mark.parametrize("path,who,body", NUL_BODIES)
def test_text_with_nul_is_refused(server, path, who, body):
    before = stored(server)
    headers = server.kiosk if who == "kiosk" else {}
    refused(post_raw(server, path, json.dumps(_resolve(server, body)), headers), 400,
            "invalid_input", BAD_TEXT)
    assert stored(server) == before


@pytest.mark.parametrize("path,who,body", NUL_BODIES[:7])
def test_lone_surrogates_are_refused(server, path, who, body):
    """``"\\ud800"`` is valid JSON but no UTF-8 text: no column can hold it."""
    before = stored(server)
    raw = json.dumps(_resolve(server, body)).replace("\\u0000", "\\ud800")
    assert "\\ud800" in raw
    headers = server.kiosk if who == "kiosk" else {}
    refused(post_raw(server, path, raw, headers), 400, "invalid_input", BAD_TEXT)
    assert stored(server) == before


def test_nul_in_paths_and_queries(server):
    before = stored(server)
    refused(requests.get(server.url + "/api/v1/tickets/ab%00cd", timeout=10), 400,
            "invalid_input", BAD_TEXT)
    refused(requests.get(server.url + "/api/v1/tickets/abcdefgh%00ijkl", timeout=10), 400,
            "invalid_input", BAD_TEXT)
    refused(requests.get(server.url + "/api/v1/services?x=%00", headers=server.kiosk,
                         timeout=10), 400, "invalid_input", BAD_TEXT)
    refused(requests.get(server.url + "/api/v1/procedures?q=a%00b", headers=server.kiosk,
                         timeout=10), 400, "invalid_input", BAD_TEXT)
    # ... and the document says so for every text in a query string.
    spec = requests.get(server.url + "/api/v1/openapi.json", timeout=10).json()
    texts = [(path, p["name"], p["schema"]) for path, ops in spec["paths"].items()
             for op in ops.values() if isinstance(op, dict) for p in op.get("parameters", [])
             if p["in"] == "query" and p["schema"].get("type") == "string"]
    assert ("/api/v1/procedures", "q") in {(path, name) for path, name, _s in texts}
    for path, name, schema in texts:
        assert schema.get("pattern") or schema.get("enum") or schema.get("format"), (path, name)
    # Invalid UTF-8 (an encoded surrogate) is read as U+FFFD: no ticket code.
    refused(requests.get(server.url + "/api/v1/tickets/%ED%A0%80abcdefgh", timeout=10), 404,
            "not_found", NOT_FOUND)
    assert stored(server) == before


@pytest.mark.parametrize("value", [2**31, 2**31 + 1, 2**63, 10**30])
def test_integers_past_the_id_columns(server, value):
    before = stored(server)
    for path, headers, body in [
            ("/api/v1/tickets", server.kiosk, {"service_id": value}),
            ("/api/v1/auth/token", {}, {"username": "canbo2", "password": "x",
                                        "counter_id": value}),
            (f"/api/v1/counters/{server.creds['counters']['1']}/call-next", server.staff,
             {"complete_current": True, "current_ticket_id": value}),
            ("/api/v1/tickets/1/transfer", server.staff, {"counter_id": value})]:
        r = post_raw(server, path, json.dumps(body), headers)
        refused(r, 400, "invalid_input", BAD_DATA)
        assert list(r.json()["error"]["detail"]["json"]) == [next(
            k for k, v in body.items() if v == value)]
    for url in (f"/api/v1/counters/{value}", f"/api/v1/tickets/{value}/complete"):
        method = requests.get if url.startswith("/api/v1/counters") else requests.post
        refused(method(server.url + url, headers=server.staff, timeout=10), 404,
                "not_found", NOT_FOUND)
    refused(requests.get(server.url + "/api/v1/events", params={"last_event_id": str(value)},
                         headers=server.kiosk, timeout=10), 400, "invalid_input", BAD_DATA)
    assert stored(server) == before


def test_rating_levels_are_the_configured_ones(server):
    """``level`` is any integer in the document; only the office's levels are
    stored, others are 422 whatever their size."""
    before = stored(server)
    for level in (2**31, -2**40, 99):
        r = post_raw(server, "/api/v1/ratings", json.dumps(
            {"ticket_code": "abcdefgh", "level": level}), server.kiosk)
        refused(r, 422, "unknown_level", "Mức đánh giá không hợp lệ.")
    assert stored(server) == before


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [True]])
def test_complete_current_is_a_strict_boolean(server, value):
    """Only JSON ``true``/``false``: anything else is refused as bad input
    (not read as true) and changes nothing."""
    path = f"/api/v1/counters/{server.creds['counters']['1']}/call-next"
    before = stored(server)
    r = post_raw(server, path, json.dumps({"complete_current": value}), server.staff)
    refused(r, 400, "invalid_input", BAD_DATA)
    assert list(r.json()["error"]["detail"]["json"]) == ["complete_current"]
    assert stored(server) == before


def test_a_ticket_on_screen_that_is_no_longer_in_hand(server):
    """``complete_current`` with the ``current_ticket_id`` the screen shows,
    while nothing is in hand (that ticket was finished elsewhere): 409
    ticket_changed, and nobody is called."""
    counter = server.creds["counters"]["1"]
    issue = {"service_id": server.creds["services"]["HT"]}
    shown = requests.post(server.url + "/api/v1/tickets", json=issue, headers=server.kiosk,
                          timeout=10).json()
    current = requests.get(f"{server.url}/api/v1/counters/{counter}", headers=server.staff,
                           timeout=10).json()["current"]
    if current is not None:  # (another test's ticket: finish it)
        requests.post(f"{server.url}/api/v1/tickets/{current['ticket_id']}/complete",
                      headers=server.staff, timeout=10).raise_for_status()
    waiting = requests.post(server.url + "/api/v1/tickets", json=issue, headers=server.kiosk,
                            timeout=10).json()
    before = stored(server)
    r = post_raw(server, f"/api/v1/counters/{counter}/call-next", json.dumps(
        {"complete_current": True, "current_ticket_id": shown["id"]}), server.staff)
    refused(r, 409, "ticket_changed",
            "Hiện không có vé nào đang phục vụ; vui lòng xem lại màn hình và thử lại.")
    assert stored(server) == before
    for t in (shown, waiting):
        assert requests.get(f"{server.url}/api/v1/tickets/{t['code']}",
                            timeout=10).json()["status"] == "waiting"


@pytest.mark.parametrize("raw", [
    '{"service_id": ' + "[" * 2000 + "]" * 2000 + "}",
    "[" * 2000 + "]" * 2000,
    '{"a": ' * 2000 + "1" + "}" * 2000,
    '{"service_id": 1, "x": ' + "[" * 20 + "]" * 20 + "}",
])
def test_deeply_nested_json_is_refused(server, raw):
    before = stored(server)
    refused(post_raw(server, "/api/v1/tickets", raw, server.kiosk), 400, "invalid_input",
            TOO_DEEP)
    assert stored(server) == before


@pytest.mark.parametrize("raw", ["[1, 2]", '"service_id"', "5", "null", "true", "{not json",
                                 b"\xff\xfe{}"])
def test_bodies_that_are_not_json_objects(server, raw):
    before = stored(server)
    r = post_raw(server, "/api/v1/tickets", raw, server.kiosk)
    assert r.status_code == 400 and r.json()["error"]["code"] in ("invalid_input", "bad_request")
    assert r.json()["error"]["message"] in (BAD_DATA, BAD_REQUEST)
    assert stored(server) == before


def raw_http(srv: LiveServer, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request on a plain socket (for what HTTP clients refuse to send)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as sock:
        sock.sendall(head)
        try:
            for i in range(0, len(body), 65536):
                sock.sendall(body[i:i + 65536])
        except OSError:
            pass  # the server answered and closed before reading it all
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head_part, _, rest = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head_part.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(rest) >= length:
                    break
    head_part, _, rest = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    headers = CaseInsensitiveDict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, rest


def json_error(status_headers_body: tuple[int, dict[str, str], bytes], status: int,
               code: str, message: str) -> None:
    got, headers, body = status_headers_body
    assert got == status, body[:300]
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert (error["code"], error["message"]) == (code, message)


def test_bodies_over_the_limits(server):
    before = stored(server)
    token = server.kiosk["Authorization"]
    # Over the API's limit, under the server's: the app answers.
    refused(post_raw(server, "/api/v1/tickets", json.dumps(
        {"service_id": 1, "idempotency_key": "x" * 100_000}), server.kiosk), 413, "too_large",
        TOO_LARGE)
    # 20 MB, and a Content-Length no body follows: the server answers, in the same shape.
    big = b"x" * (20 * 1024 * 1024)
    json_error(raw_http(server, (
        "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {token}\r\nContent-Length: {len(big)}\r\n\r\n").encode(), big),
        413, "too_large", TOO_LARGE)
    json_error(raw_http(server, (
        "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {token}\r\nContent-Length: 999999999\r\n\r\n").encode()),
        413, "too_large", TOO_LARGE)
    # 20 MB in chunks, its length never said: refused once it is past the limit.
    chunk = b"x" * 65536
    chunked = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 320 + b"0\r\n\r\n"
    json_error(raw_http(server, (
        "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {token}\r\nTransfer-Encoding: chunked\r\n\r\n").encode(), chunked),
        413, "too_large", TOO_LARGE)
    assert stored(server) == before


def test_bad_headers(server):
    before = stored(server)
    json_error(raw_http(server, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
                                b"X-Note: a\x00b\r\n\r\n"), 400, "bad_request", BAD_REQUEST)
    token = server.kiosk["Authorization"].encode()
    json_error(raw_http(server, b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\n"
                                b"Authorization: " + token + b"\x00\r\n"
                                b"Content-Length: 2\r\n\r\n", b"{}"), 400, "bad_request",
               BAD_REQUEST)
    # A head that never ends (one header of 100 KB, still no blank line): refused.
    json_error(raw_http(server, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: "
                                + b"a" * 100_000), 400, "bad_request", BAD_REQUEST)
    # Garbage instead of a request line.
    json_error(raw_http(server, b"\x16\x03\x01 hello\r\n\r\n"), 400, "bad_request",
               BAD_REQUEST)
    # The server still answers everyone else.
    assert requests.get(server.url + "/api/v1/health", timeout=10).status_code == 200
    assert stored(server) == before


# ------------------------------------------------------------- web pages, JSON callers
def test_web_pages_answer_browsers_in_vietnamese(server):
    page = requests.get(server.url + "/khong-co-trang-nay", timeout=10)
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert "Không tìm thấy." in page.text and '<html lang="vi">' in page.text
    page = requests.post(server.url + "/console", timeout=10)
    assert page.status_code == 405 and "Phương thức này không được phép ở đây." in page.text
    assert "GET" in page.headers["Allow"]
    page = requests.get(server.url + "/t/ab%00cd", timeout=10)
    assert page.status_code == 400 and BAD_TEXT in page.text
    # The API answers JSON, whatever the client accepts.
    refused(requests.get(server.url + "/api/v1/khong-co", timeout=10,
                         headers={"Accept": "text/html"}), 404, "not_found", NOT_FOUND)
    r = requests.delete(server.url + "/api/v1/tickets", timeout=10)
    refused(r, 405, "method_not_allowed", "Phương thức này không được phép ở đây.")
    assert "POST" in r.headers["Allow"]
    r = requests.options(server.url + "/api/v1/tickets/lookup", timeout=10)
    assert set(r.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_a_wrong_role_on_a_web_page_is_a_vietnamese_page(server):
    session = requests.Session()
    from tests.counter_server.test_access_matrix import csrf_of

    token = csrf_of(session.get(server.url + "/login", timeout=10).text)
    r = session.post(server.url + "/login", timeout=10, data={
        "csrf_token": token, "username": "lanhdao",
        "password": server.creds["users"]["lanhdao"]["password"]})
    assert r.status_code == 200  # followed to the leader's start page
    page = session.get(server.url + "/admin/", timeout=10)
    assert page.status_code == 403 and page.headers["Content-Type"].startswith("text/html")
    assert "Bạn không có quyền thực hiện thao tác này." in page.text
    # ... and JSON for a script that asks for it.
    refused(session.get(server.url + "/admin/", timeout=10,
                        headers={"Accept": "application/json"}), 403, "forbidden",
            "Bạn không có quyền thực hiện thao tác này.")


def test_messages_follow_motcua_lang(client, creds, monkeypatch):
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    monkeypatch.setenv("MOTCUA_LANG", "en")
    r = client.post("/api/v1/tickets", data='{"service_id": "x\\u0000"}',
                    content_type="application/json", headers=kiosk)
    assert r.status_code == 400 and r.get_json()["error"]["message"] == \
        "The text sent contains characters that cannot be stored."
    page = client.get("/khong-co")
    assert page.status_code == 404 and "Not found." in page.get_data(as_text=True)
