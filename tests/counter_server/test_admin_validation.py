"""Settings an administrator can get wrong: the admin forms and the TOML import refuse
them with the same Vietnamese reason (one set of validators)."""
from __future__ import annotations

import io
import re
import tomllib

import pytest
import tomli_w

from tests.conftest import bearer
from tests.counter_server.test_admin import admin_client

SERVICE = {"code": "NEW", "name": "Lĩnh vực mới", "number_start": "7001", "number_end": "7999",
           "sort_order": "0", "default_service_minutes": "5", "active": "on"}


def _post_service(admin, tok, **changes):
    r = admin.post("/admin/services", data={"csrf_token": tok, **SERVICE, **changes},
                   follow_redirects=True)
    return r.get_data(as_text=True)


def _import(admin, tok, data):
    r = admin.post("/admin/config/import", data={
        "csrf_token": tok, "file": (io.BytesIO(tomli_w.dumps(data).encode()), "c.toml")},
        content_type="multipart/form-data", follow_redirects=True)
    return r.get_data(as_text=True)


def _services(client, creds):
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    return {s["code"]: s for s in client.get("/api/v1/services", headers=kiosk).get_json()["services"]}


@pytest.mark.parametrize("changes, message", [
    ({"number_start": "1001", "number_end": "1999"},
     "Dãy số 1001–1999 của NEW trùng với dãy số của HT (1001–1999)"),
    ({"number_start": "1500", "number_end": "1600"}, "trùng với dãy số của HT"),
    ({"prefix": "A", "number_start": "1", "number_end": "99", "code": "PA"}, None),
    ({"hours": "mon: 07:00-11:30, 11:00-12:00"},
     "hai khoảng giờ 07:00-11:30 và 11:00-12:00 chồng lên nhau"),
    ({"hours": "mon: 07:00-24:59"}, "“24:59” không phải là giờ trong ngày"),
    ({"hours": "tue: 11:00-07:00"}, "Trong “11:00-07:00”, giờ kết thúc không sau giờ bắt đầu."),
    ({"hours": "xyz: 07:00-11:00"}, "Không rõ ngày “xyz”"),
    ({"daily_cap": "-4"}, "“Giới hạn số mỗi ngày” phải là số nguyên"),
])
def test_service_form_refuses(app, client, creds, changes, message):
    admin, tok = admin_client(app, creds)
    page = _post_service(admin, tok, **changes)
    if message is None:
        assert "Đã lưu lĩnh vực." in page
    else:
        assert message in page, re.findall(r'flash-error[^>]*>([^<]*)<', page)
        assert changes.get("code", "NEW") not in _services(client, creds)


def test_letter_prefixes_do_not_overlap(app, client, creds):
    admin, tok = admin_client(app, creds)
    assert "Đã lưu lĩnh vực." in _post_service(admin, tok, code="PA", prefix="A",
                                                number_start="1", number_end="999")
    # Same prefix, overlapping block: refused; same prefix, other block: fine.
    page = _post_service(admin, tok, code="PB", prefix="A", number_start="500", number_end="600")
    assert "Dãy số A500–A600 của PB trùng với dãy số của PA (A1–A999)" in page
    assert "Đã lưu lĩnh vực." in _post_service(admin, tok, code="PC", prefix="A",
                                                number_start="1000", number_end="1999")
    # "A1" + 001 would print A1001, like "A" + 1001.
    page = _post_service(admin, tok, code="PD", prefix="A1", number_start="1", number_end="9")
    assert "Tiền tố “A1” của PD dễ lẫn với tiền tố “A”" in page
    # Editing a service into another's block is refused as well.
    sid = creds["services"]["CT"]
    r = admin.post(f"/admin/services/{sid}", data={"csrf_token": tok, **SERVICE, "code": "CT",
                                                   "number_start": "1990", "number_end": "2500"},
                   follow_redirects=True)
    assert "trùng với dãy số của HT (1001–1999)" in r.get_data(as_text=True)


def test_vietnamese_day_names(app, client, creds):
    admin, tok = admin_client(app, creds)
    page = _post_service(admin, tok, hours="T2: 07:00-11:30, 13:30-17:00\nT7: 7:30-11:00\nCN:")
    assert "Đã lưu lĩnh vực." in page
    hours = _services(client, creds)["NEW"]["hours"]
    assert hours["mon"] == [["07:00", "11:30"], ["13:30", "17:00"]]
    assert hours["sat"] == [["07:30", "11:00"]] and hours["sun"] == [] and hours["tue"] == []


def _settings_form(admin, tok):
    page = admin.get("/admin/settings").get_data(as_text=True)
    values = dict(re.findall(r'<input name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    values.update(re.findall(r'<textarea name="([a-z_]+)"[^>]*>([^<]*)</textarea>', page))
    values.update(re.findall(r'<select name="([a-z_]+)">.*?<option(?: value="([^"]*)")? selected',
                             page))
    values.update({"csrf_token": tok, "voice_engine": "espeak-ng", "voice_number_mode": "words",
                   "enforce_hours": "on"})
    return {k: v.replace("&#34;", '"').replace("&amp;", "&") for k, v in values.items()}


@pytest.mark.parametrize("changes, message", [
    ({"announcement_template": "Mời số {số} đến quầy {quầy}"}, None),
    ({"announcement_template": "Mời số {so} đến quầy {quay}"}, None),
    ({"announcement_template": "Mời số {so} đến quầy {quay} {x}"},
     "Mẫu câu mời chỉ dùng {số} (số thứ tự) và {quầy} (quầy), không có “{x}”."),
    ({"priority_run": "0", "normal_run": "0"}, "Chính sách ưu tiên cần ít nhất một vé mỗi lượt"),
    ({"rating_levels": "4 | Rất hài lòng | green\n1 | Không hài lòng | #d32f2f | unsatisfied | low"},
     "“green” ở Rất hài lòng không phải là mã màu dạng #1b9e3e."),
    ({"rating_levels": "4 | Rất hài lòng | #1b9e3\n1 | Không hài lòng | #d32f2f"},
     "không phải là mã màu"),
    ({"opening_hours": "mon: 07:00-11:30, 11:00-12:00"}, "chồng lên nhau"),
    ({"public_url": "192.168.1.10:8080"}, "Địa chỉ cho điện thoại phải có dạng"),
    ({"public_url": "http://192.168.1.10:8080/", "wifi_hint": "Wi-Fi: MotCua-Khach"}, None),
])
def test_settings_form_refuses(app, client, creds, changes, message):
    admin, tok = admin_client(app, creds)
    data = {**_settings_form(admin, tok), **changes}
    page = admin.post("/admin/settings", data=data, follow_redirects=True).get_data(as_text=True)
    if message is None:
        assert "Đã lưu cài đặt." in page, re.findall(r'flash-error[^>]*>([^<]*)<', page)
    else:
        assert message in page, re.findall(r'flash-error[^>]*>([^<]*)<', page)
        assert "Đã lưu cài đặt." not in page


def test_settings_new_keys_reach_the_kiosk(app, client, creds):
    admin, tok = admin_client(app, creds)
    data = {**_settings_form(admin, tok), "public_url": "http://192.168.1.10:8080/",
            "wifi_hint": "Wi-Fi: MotCua-Khach"}
    admin.post("/admin/settings", data=data)
    office = client.get("/api/v1/services", headers=bearer(creds["devices"]["kiosk"]["token"])
                        ).get_json()["office"]
    assert office["public_url"] == "http://192.168.1.10:8080"
    assert office["wifi_hint"] == "Wi-Fi: MotCua-Khach"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["services"][0].update(daily_cap=-4), "“Giới hạn số mỗi ngày” phải là số nguyên"),
    (lambda d: d["services"][1].update(number_start=1001, number_end=1999),
     "trùng với dãy số của"),
    (lambda d: d["services"][0].update(hours={"mon": [["07:00", "11:30"], ["11:00", "12:00"]]}),
     "chồng lên nhau"),
    (lambda d: d["services"][0].update(hours={"T2": [["07:00", "24:59"]]}),
     "“24:59” không phải là giờ trong ngày"),
    (lambda d: d["office"]["settings"].update(priority_run=0, normal_run=0),
     "Chính sách ưu tiên cần ít nhất một vé mỗi lượt"),
    (lambda d: d["office"]["settings"].update(announcement_template="Số {x}"), "không có “{x}”"),
    (lambda d: d["office"].update(opening_hours={"mon": [["11:00", "07:00"]]}),
     "giờ kết thúc không sau giờ bắt đầu"),
    (lambda d: d["counters"][0]["services"][0].update(weight=0), "Trọng số là số nguyên từ 1 đến 10."),
    (lambda d: d["office"]["settings"].update(rating_levels=[
        {"value": 4, "label": "Rất hài lòng", "color": "green", "official": "very_satisfied"},
        {"value": 1, "label": "Không hài lòng", "color": "#d32f2f", "official": "unsatisfied",
         "low": True}]), "“green” ở Rất hài lòng không phải là mã màu dạng #1b9e3e."),
    (lambda d: d["office"]["settings"].update(public_url="192.168.1.10:8080"),
     "Địa chỉ cho điện thoại phải có dạng"),
    (lambda d: d["office"]["settings"].update(idle_close_minutes=-1),
     "“Số phút mất liên lạc trước khi quầy tự đóng” phải là số nguyên từ 0 đến 480."),
])
def test_toml_import_runs_the_form_validators(app, client, creds, edit, message):
    admin, tok = admin_client(app, creds)
    data = tomllib.loads(admin.get("/admin/config.toml").get_data(as_text=True))
    before = _services(client, creds)
    edit(data)
    data["services"][0]["name"] = "Không được lưu"
    page = _import(admin, tok, data)
    assert message in page, re.findall(r'flash-error[^>]*>([^<]*)<', page)
    assert _services(client, creds) == before  # nothing changed


def test_toml_import_accepts_vietnamese_days_and_keeps_other_settings(app, client, creds):
    admin, tok = admin_client(app, creds)
    data = tomllib.loads(admin.get("/admin/config.toml").get_data(as_text=True))
    data["services"][0]["hours"] = {"T2": [["07:00", "11:30"]], "CN": []}
    data["office"]["settings"]["another_part_setting"] = "Chào mừng"
    assert "Đã nhập cấu hình." in _import(admin, tok, data)
    again = tomllib.loads(admin.get("/admin/config.toml").get_data(as_text=True))
    assert again["services"][0]["hours"]["mon"] == [["07:00", "11:30"]]
    assert again["office"]["settings"]["another_part_setting"] == "Chào mừng"


def test_service_without_counter_is_flagged_and_kept_off_the_kiosk(app, client, creds):
    admin, tok = admin_client(app, creds)
    assert "Đã lưu lĩnh vực." in _post_service(admin, tok)
    page = admin.get("/admin/services").get_data(as_text=True)
    warning = re.search(r'id="no-counter-warning"[\s\S]*?</div>', page)[0]
    assert "Chưa có quầy nào phục vụ" in warning and "<b>NEW</b>" in warning
    assert "<b>HT</b>" not in warning
    # The services answer says no counter serves it: the kiosk leaves it out.
    assert _services(client, creds)["NEW"]["counters"] == []
