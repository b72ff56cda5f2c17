"""CSRF on cookie-authenticated posts, sign-in throttling, session death on
deactivation or password reset, immediate refusal of a revoked device token."""
from __future__ import annotations

import re

from tests.conftest import bearer
from tests.counter_server.test_access_matrix import csrf_of, web_login


def test_form_post_without_csrf_token_is_refused(client, creds):
    web_login(client, creds, "quantri")
    r = client.post("/admin/services", data={"code": "XX", "name": "Không token",
                                             "number_start": "1", "number_end": "99",
                                             "sort_order": "0", "default_service_minutes": "5"})
    assert r.status_code == 400
    assert "XX" not in client.get("/admin/services").get_data(as_text=True)


def test_api_post_with_session_cookie_needs_csrf_header(client, creds):
    token = web_login(client, creds, "canbo1", counter=1)
    cid = creds["counters"]["1"]
    r = client.post(f"/api/v1/counters/{cid}/pause", json={"reason": "Họp"})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "csrf_failed"
    assert r.get_json()["error"]["message"] == "Biểu mẫu đã hết hạn; vui lòng tải lại trang."
    r = client.post(f"/api/v1/counters/{cid}/pause", json={"reason": "Họp"},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 200 and r.get_json()["state"] == "paused"


def test_sign_in_throttling_engages(client, creds):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for _ in range(5):
        r = client.post("/login", data={"csrf_token": token, "username": "lanhdao",
                                        "password": "sai-mat-khau"})
        assert r.status_code == 200
        assert "Sai tên đăng nhập hoặc mật khẩu." in r.get_data(as_text=True)
    # Locked now: even the right password is refused for a while.
    r = client.post("/login", data={"csrf_token": token, "username": "lanhdao",
                                    "password": creds["users"]["lanhdao"]["password"]})
    assert r.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in r.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # still signed out


def test_staff_must_choose_a_counter(client, creds):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"csrf_token": token, "username": "canbo2",
                                    "password": creds["users"]["canbo2"]["password"]})
    assert r.status_code == 400
    assert "Vui lòng chọn quầy làm việc để đăng nhập." in r.get_data(as_text=True)


def test_deactivated_user_session_dies_at_once(app, creds):
    staff, admin = app.test_client(), app.test_client()
    web_login(staff, creds, "canbo1", counter=1)
    assert staff.get("/console/state").status_code == 200
    token = web_login(admin, creds, "quantri")
    uid = creds["users"]["canbo1"]["id"]
    r = admin.post(f"/admin/users/{uid}", data={"csrf_token": token, "action": "deactivate"})
    assert r.status_code == 302
    assert staff.get("/console/state").status_code == 401
    assert staff.get("/console").status_code == 302  # back to the sign-in page
    # ... and cannot sign in again.
    t2 = csrf_of(staff.get("/login").get_data(as_text=True))
    r = staff.post("/login", data={"csrf_token": t2, "username": "canbo1",
                                   "password": creds["users"]["canbo1"]["password"],
                                   "counter_id": creds["counters"]["1"]})
    assert r.status_code == 200 and "Sai tên đăng nhập" in r.get_data(as_text=True)
    # The counter was closed with the account.
    r = admin.get(f"/admin/audit?type=admin.user_deactivated")
    assert "canbo1" in r.get_data(as_text=True)


def test_password_reset_ends_sessions_and_tokens(app, client, creds):
    leader = app.test_client()
    web_login(leader, creds, "lanhdao")
    api_token = client.post("/api/v1/auth/token", json={
        "username": "lanhdao", "password": creds["users"]["lanhdao"]["password"]}).get_json()["token"]
    assert client.get("/api/v1/display", headers=bearer(api_token)).status_code == 200
    admin = app.test_client()
    token = web_login(admin, creds, "quantri")
    uid = creds["users"]["lanhdao"]["id"]
    admin.post(f"/admin/users/{uid}", data={"csrf_token": token, "action": "password",
                                            "password": "mat-khau-moi-123"})
    assert leader.get("/account").status_code == 302
    assert client.get("/api/v1/display", headers=bearer(api_token)).status_code == 401
    t2 = csrf_of(leader.get("/login").get_data(as_text=True))
    r = leader.post("/login", data={"csrf_token": t2, "username": "lanhdao",
                                    "password": "mat-khau-moi-123"})
    assert r.status_code == 302


def test_revoked_device_token_is_refused_at_once(app, client, creds):
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    assert client.get("/api/v1/services", headers=kiosk).status_code == 200
    admin = app.test_client()
    token = web_login(admin, creds, "quantri")
    did = creds["devices"]["kiosk"]["id"]
    r = admin.post(f"/admin/devices/{did}/revoke", data={"csrf_token": token})
    assert r.status_code == 302
    r = client.get("/api/v1/services", headers=kiosk)
    assert r.status_code == 401
    assert r.get_json()["error"]["message"] == "Thông tin xác thực không hợp lệ hoặc đã hết hạn."


def test_token_revoked_by_another_process_is_refused_at_its_next_request(app, client, creds,
                                                                       sqlite_url):
    """Tokens are looked up on every request (no cache): a revocation written
    by another process (a second server, the CLI) holds from the next one."""
    import sqlite3

    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    assert client.get("/api/v1/services", headers=kiosk).status_code == 200
    raw = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    with raw:  # not through this process's Database
        raw.execute("UPDATE device SET revoked = 1 WHERE id = ?", (creds["devices"]["kiosk"]["id"],))
    raw.close()
    r = client.get("/api/v1/services", headers=kiosk)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"


def test_sessions_are_permanent_with_a_lifetime(app, client, creds):
    web_login(client, creds, "canbo1", counter=1)
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None and cookie.expires is not None  # expires, not a browser-long session
    assert app.permanent_session_lifetime.total_seconds() <= 12 * 3600


def test_login_never_redirects_off_site(client, creds):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login?next=//evil.example/x", data={
        "csrf_token": token, "username": "lanhdao",
        "password": creds["users"]["lanhdao"]["password"]})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]


def test_server_messages_are_vietnamese():
    """Every message id the server can answer with has a Vietnamese translation."""
    import ast
    from pathlib import Path

    from counter_server import i18n

    root = Path(__file__).resolve().parents[2] / "counter_server"
    files = [*root.glob("api/*.py"), *root.glob("engine/*.py"), *root.glob("cli/*.py")] + [
        root / n for n in ("ratings.py", "security.py", "demo.py", "client.py", "queries.py",
                           "app.py", "errors.py", "limits.py", "backup.py", "checks.py")]
    trans = i18n.load(i18n.LOCALE_DIR, "server", "vi")
    missing = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ("_", "DomainError", "AuthError", "error_response", "ApiError",
                            "bad_input", "error_page"):
                continue
            for a in node.args:
                if (isinstance(a, ast.Constant) and isinstance(a.value, str)
                        and re.search(r"[a-z] [a-z]", a.value) and trans.gettext(a.value) == a.value):
                    missing.append(f"{f.name}: {a.value}")
    from counter_server import engine
    from counter_server.app import HTTP_CODES
    for msg in [*engine.CLOSED_MESSAGES.values(), *(v[1] for v in HTTP_CODES.values())]:
        if trans.gettext(msg) == msg:
            missing.append(msg)
    for what in ("counter", "ticket", "service", "office"):
        msg = engine.not_found(what).message
        if trans.gettext(msg) == msg:
            missing.append(msg)
    assert not missing, "untranslated server messages:\n" + "\n".join(missing)
