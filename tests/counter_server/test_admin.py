"""Administration pages through the Flask test client on a seeded database."""
from __future__ import annotations

import io
import re
import tomllib

import tomli_w
from PIL import Image

from tests.conftest import bearer
from tests.counter_server.test_access_matrix import csrf_of, web_login


def admin_client(app, creds):
    c = app.test_client()
    return c, web_login(c, creds, "quantri")


def test_counter_services_and_weights(app, client, creds):
    admin, tok = admin_client(app, creds)
    cid = creds["counters"]["3"]
    sv = creds["services"]
    r = admin.post(f"/admin/counters/{cid}", data={
        "csrf_token": tok, "number": "3", "name": "Quầy 3 (Cư trú)", "active": "on",
        f"svc_{sv['CU']}": "on", f"weight_{sv['CU']}": "3", f"svc_{sv['DD']}": "on",
        f"weight_{sv['DD']}": "1"})
    assert r.status_code == 302
    counter = client.get(f"/api/v1/counters/{cid}",
                         headers=bearer(creds["devices"]["display"]["token"])).get_json()
    assert sorted(counter["services"]) == sorted([sv["CU"], sv["DD"]])
    assert counter["name"] == "Quầy 3 (Cư trú)"
    # A clash is refused with a Vietnamese reason and changes nothing.
    r = admin.post(f"/admin/counters/{cid}", data={"csrf_token": tok, "number": "1", "active": "on"},
                   follow_redirects=True)
    assert "Quầy 1 đã tồn tại." in r.get_data(as_text=True)


def test_service_validation_is_vietnamese(app, creds):
    admin, tok = admin_client(app, creds)
    r = admin.post("/admin/services", data={
        "csrf_token": tok, "code": "HT", "name": "Trùng mã", "number_start": "1",
        "number_end": "9", "sort_order": "0", "default_service_minutes": "5"})
    assert "Mã HT đã được lĩnh vực khác sử dụng." in r.get_data(as_text=True)
    r = admin.post("/admin/services", data={
        "csrf_token": tok, "code": "NEW", "name": "Mới", "number_start": "9",
        "number_end": "1", "sort_order": "0", "default_service_minutes": "5"})
    assert "Số cuối không được nhỏ hơn số đầu." in r.get_data(as_text=True)
    r = admin.post("/admin/services", data={
        "csrf_token": tok, "code": "NEW", "name": "Mới", "number_start": "1", "number_end": "9",
        "sort_order": "0", "default_service_minutes": "5", "hours": "mon: 7h-11h"})
    assert "Giờ phải có dạng 07:00-11:30" in r.get_data(as_text=True)


def test_accounts_photo_and_devices(app, client, creds):
    admin, tok = admin_client(app, creds)
    r = admin.post("/admin/users", data={"csrf_token": tok, "username": "canbo9",
                                         "full_name": "Đinh Thị Mai", "role": "staff",
                                         "password": "mat-khau-123"})
    assert r.status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Đinh Thị Mai" in page and "mat-khau-123" not in page
    uid = int(re.search(r'data-username="canbo9"[\s\S]*?/admin/users/(\d+)', page)[1])

    # Photo: anything but a picture is refused; a picture is re-encoded and served.
    r = admin.post(f"/admin/users/{uid}", data={
        "csrf_token": tok, "action": "photo", "photo": (io.BytesIO(b"not an image"), "x.png")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Tệp không phải là ảnh" in r.get_data(as_text=True)
    buf = io.BytesIO()
    Image.new("RGB", (1200, 800), (200, 30, 30)).save(buf, "PNG")
    buf.seek(0)
    r = admin.post(f"/admin/users/{uid}", data={
        "csrf_token": tok, "action": "photo", "photo": (buf, "mai.png")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Đã lưu ảnh." in r.get_data(as_text=True)
    img = admin.get(f"/photos/{uid}")
    assert img.status_code == 200 and img.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(img.data)).size) <= 600
    rating = bearer(creds["devices"]["rating1"]["token"])
    assert client.get(f"/photos/{uid}", headers=rating).status_code == 200
    assert client.get(f"/photos/{uid}", headers=bearer(creds["devices"]["kiosk"]["token"])
                      ).status_code == 403

    # A new device: the token is shown once, works, and is stored only as a hash.
    r = admin.post("/admin/devices", data={"csrf_token": tok, "name": "Kiosk 2", "kind": "kiosk"})
    token = re.search(r'id="new-token">.*?<code>([^<]+)</code>', r.get_data(as_text=True), re.S)[1]
    assert client.get("/api/v1/services", headers=bearer(token)).status_code == 200
    assert token not in admin.get("/admin/devices").get_data(as_text=True)
    # Reported status (e.g. printer error) shows on the device list.
    client.post("/api/v1/device/status", headers=bearer(token), json={
        "status": "error", "code": "printer_offline", "message": "Máy in mất kết nối"})
    page = admin.get("/admin/devices").get_data(as_text=True)
    assert "Máy in mất kết nối" in page and "badge-error" in page


def test_settings_save_and_reach_the_display(app, client, creds):
    admin, tok = admin_client(app, creds)
    form = admin.get("/admin/settings").get_data(as_text=True)
    levels = re.search(r'name="rating_levels"[^>]*>([^<]*)<', form)[1]
    data = {"csrf_token": tok, "name": "UBND xã Quảng Khê", "address": "Lâm Đồng",
            "timezone": "Asia/Ho_Chi_Minh", "opening_hours": "mon: 07:00-11:30, 13:30-17:00",
            "notice": "Chiều thứ Sáu nghỉ họp.", "rating_levels": levels,
            "rating_reasons": "long_wait | Thời gian chờ lâu\nother | Khác",
            "rating_timeout_seconds": "30", "rating_min_interval_seconds": "3",
            "announcement_template": "Kính mời công dân số {so} đến quầy {quay}",
            "voice_engine": "espeak-ng", "voice_number_mode": "digits", "voice_repeat": "2",
            "priority_run": "1", "normal_run": "3", "aging_minutes": "20"}
    r = admin.post("/admin/settings", data=data, follow_redirects=True)
    assert "Đã lưu cài đặt." in r.get_data(as_text=True)
    snap = client.get("/api/v1/display", headers=bearer(creds["devices"]["display"]["token"])
                      ).get_json()
    assert snap["office"]["notice"] == "Chiều thứ Sáu nghỉ họp."
    assert snap["voice"]["announcement_template"] == "Kính mời công dân số {so} đến quầy {quay}"
    assert snap["voice"]["voice_number_mode"] == "digits"
    bad = dict(data, announcement_template="Mời số {so}")
    r = admin.post("/admin/settings", data=bad)
    assert "Mẫu câu mời phải chứa {số}" in r.get_data(as_text=True)


def test_toml_export_import_round_trip(app, client, creds):
    admin, tok = admin_client(app, creds)
    r = admin.get("/admin/config.toml")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    text = r.get_data(as_text=True)
    assert "password" not in text and "token" not in text
    data = tomllib.loads(text)
    assert {s["code"] for s in data["services"]} >= {"HT", "CT", "BHYT", "CU", "DD", "LDXH"}
    # Change it and import it back.
    for s in data["services"]:
        if s["code"] == "CT":
            s["name"], s["daily_cap"] = "Chứng thực bản sao", 40
    data["services"].append({"code": "XD", "name": "Xây dựng", "number_start": 8001,
                             "number_end": 8999, "sort_order": 9, "active": True})
    data["counters"][0]["services"].append({"code": "XD", "weight": 2})
    data["users"].append({"username": "canbo5", "full_name": "Võ Văn Nam", "role": "staff"})
    data["office"]["settings"]["notice"] = "Nhập từ tệp cấu hình."
    upload = io.BytesIO(tomli_w.dumps(data).encode("utf-8"))
    r = admin.post("/admin/config/import", data={"csrf_token": tok, "file": (upload, "c.toml")},
                   content_type="multipart/form-data", follow_redirects=True)
    assert "Đã nhập cấu hình." in r.get_data(as_text=True)
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    services = {s["code"]: s for s in client.get("/api/v1/services", headers=kiosk
                                                 ).get_json()["services"]}
    assert services["CT"]["name"] == "Chứng thực bản sao" and services["CT"]["daily_cap"] == 40
    assert services["XD"]["counters"] == [1]
    assert "Võ Văn Nam" in admin.get("/admin/users").get_data(as_text=True)
    # A broken file changes nothing and says why in Vietnamese.
    r = admin.post("/admin/config/import", data={
        "csrf_token": tok, "file": (io.BytesIO(b"format = [broken"), "c.toml")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Tệp TOML không hợp lệ" in r.get_data(as_text=True)
    data["counters"][0]["services"].append({"code": "NOPE", "weight": 1})
    data["services"][0]["name"] = "Không được lưu"
    r = admin.post("/admin/config/import", data={
        "csrf_token": tok, "file": (io.BytesIO(tomli_w.dumps(data).encode()), "c.toml")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "lĩnh vực không tồn tại NOPE" in r.get_data(as_text=True)
    names = [s["name"] for s in client.get("/api/v1/services", headers=kiosk).get_json()["services"]]
    assert "Không được lưu" not in names


def test_audit_shows_who_did_what(app, creds):
    admin, tok = admin_client(app, creds)
    client = app.test_client()
    client.post("/api/v1/tickets", headers=bearer(creds["devices"]["kiosk"]["token"]),
                json={"service_id": creds["services"]["HT"]})
    staff = app.test_client()
    stok = web_login(staff, creds, "canbo1", counter=1)
    staff.post(f"/api/v1/counters/{creds['counters']['1']}/pause", json={"reason": "Nghỉ trưa"},
               headers={"X-CSRFToken": stok})
    admin.post("/admin/services", data={"csrf_token": tok, "code": "AU", "name": "Kiểm tra",
                                        "number_start": "1", "number_end": "9",
                                        "sort_order": "0", "default_service_minutes": "5",
                                        "active": "on"})
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "admin.service_created" in page and "Quản trị hệ thống" in page
    assert "counter.updated" in page and "Nguyễn Thị Hoa" in page and "Nghỉ trưa" in page
    only = admin.get(f"/admin/audit?staff={creds['users']['canbo1']['id']}").get_data(as_text=True)
    assert ">admin.service_created</code>" not in only and ">counter.updated</code>" in only
    assert "Thêm lĩnh vực" in page and "Cấp số" in page and "Kiosk sảnh" in page
    assert "Kiosk sảnh" not in only


def test_staff_and_leader_cannot_administer(app, creds):
    for user, counter in (("canbo1", 1), ("lanhdao", None)):
        c = app.test_client()
        tok = web_login(c, creds, user, counter)
        assert c.get("/admin/").status_code == 403
        r = c.post("/admin/users", data={"csrf_token": tok, "username": "hacker",
                                         "role": "admin", "password": "12345678910"})
        assert r.status_code == 403


def test_no_account_exists_until_user_add(tmp_path):
    """A fresh install has no account at all; `motcua user add` makes the first admin."""
    import subprocess
    import sys

    from counter_server.app import create_app

    inst = tmp_path / "inst"
    env = {"MOTCUA_LANG": "vi", "PATH": "/usr/bin:/bin"}
    run = lambda *a, **kw: subprocess.run([sys.executable, "-m", "counter_server.cli",  # noqa: E731
                                           "--instance", str(inst), *a], capture_output=True,
                                          text=True, env={**__import__("os").environ, **env}, **kw)
    assert run("init", "--office-name", "UBND xã Thử").returncode == 0
    app = create_app({"INSTANCE_DIR": str(inst), "SECRET_KEY": "t"})
    c = app.test_client()
    tok = csrf_of(c.get("/login").get_data(as_text=True))
    for name, pw in (("admin", "admin"), ("admin", "password"), ("quantri", "quantri")):
        r = c.post("/login", data={"csrf_token": tok, "username": name, "password": pw})
        assert r.status_code == 200 and "Sai tên đăng nhập" in r.get_data(as_text=True)
    out = run("user", "add", "chutich", "--role", "admin", "--password-stdin",
              input="mat-khau-dau-tien\n")
    assert out.returncode == 0, out.stderr
    r = c.post("/login", data={"csrf_token": tok, "username": "chutich",
                               "password": "mat-khau-dau-tien"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/")
    app.extensions["motcua_db"].dispose()
