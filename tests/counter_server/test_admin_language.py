"""What the admin reads: audit details as sentences, and English mode without raw keys."""
from __future__ import annotations

import re

import pytest

from tests.conftest import bearer
from tests.counter_server.test_access_matrix import web_login
from tests.counter_server.test_admin import admin_client

RAW_KEY = re.compile(r"\b(?:role|device|field|status|numbers|misuse)_[a-z_]+\b|\bevent:[a-z_.]+")


def _day_of_events(app, creds):
    """A ticket issued, a counter opened and paused, a service and a device added."""
    admin, tok = admin_client(app, creds)
    app.test_client().post("/api/v1/tickets", headers=bearer(creds["devices"]["kiosk"]["token"]),
                           json={"service_id": creds["services"]["HT"]})
    staff = app.test_client()
    stok = web_login(staff, creds, "canbo1", counter=1)
    staff.post(f"/api/v1/counters/{creds['counters']['1']}/pause", json={"reason": "Nghỉ trưa"},
               headers={"X-CSRFToken": stok})
    admin.post("/admin/services", data={"csrf_token": tok, "code": "AU", "name": "Kiểm tra",
                                        "number_start": "9001", "number_end": "9009",
                                        "sort_order": "0", "default_service_minutes": "5",
                                        "active": "on"})
    admin.post("/admin/devices", data={"csrf_token": tok, "name": "Kiosk 2", "kind": "kiosk"})
    admin.post("/admin/users", data={"csrf_token": tok, "username": "canbo9", "role": "staff",
                                     "full_name": "Đinh Thị Mai", "password": "mat-khau-123"})
    return admin


def _visible(html: str) -> str:
    # <code> holds the event type for whoever searches the log: a code on purpose.
    html = re.sub(r"<(script|style|code)[\s\S]*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_audit_details_are_sentences(app, creds):
    admin = _day_of_events(app, creds)
    page = admin.get("/admin/audit").get_data(as_text=True)
    details = re.findall(r'<td class="small">([^<]*)</td>', page)
    text = " | ".join(details)
    assert "Quầy 1 mở: cán bộ đã đăng nhập." in text
    assert "Quầy 1 tạm dừng. Lý do: Nghỉ trưa" in text
    assert "Cấp vé 1001." in text
    assert "Thêm lĩnh vực AU – Kiểm tra." in text
    assert "Thêm thiết bị Kiosk 2 (Kiosk lấy số)." in text
    assert "Tạo tài khoản canbo9 (Cán bộ" in text
    # No raw codes: "#1 open · signed_in", "code=AU", "role=staff".
    assert not re.search(r"#\d+ |signed_in|=|·|\bopen\b|\bpaused\b", text), text


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_pages_have_no_raw_keys_and_the_right_lang(app, creds, monkeypatch, lang):
    monkeypatch.setenv("MOTCUA_LANG", lang)
    admin = _day_of_events(app, creds)
    pages = ["/admin/", "/admin/services", "/admin/counters", "/admin/users", "/admin/devices",
             "/admin/settings", "/admin/audit", f"/admin/services/{creds['services']['HT']}"]
    for url in pages:
        r = admin.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html, url
        raw = RAW_KEY.findall(_visible(html))
        assert not raw, (url, raw)
    if lang == "en":
        audit = _visible(admin.get("/admin/audit").get_data(as_text=True))
        assert "Counter 1 paused. Reason: Nghỉ trưa" in audit
        assert "Device Kiosk 2 (Lobby kiosk) added." in audit
        assert "Service created" in audit  # the event's name, not event:admin.service_created


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_reports_console_and_refusals_have_no_raw_keys_and_the_right_lang(app, creds,
                                                                           monkeypatch, lang):
    """The leader's report pages, the officer's console and account page, and the
    page a wrong role gets: in the chosen language, no raw keys."""
    monkeypatch.setenv("MOTCUA_LANG", lang)
    _day_of_events(app, creds)
    leader, officer = app.test_client(), app.test_client()
    web_login(leader, creds, "lanhdao")
    web_login(officer, creds, "canbo2", counter=2)
    staff_id = creds["users"]["canbo1"]["id"]
    pages = [(leader, "/reports/", 200), (leader, "/reports/?period=custom&from=2026-01-01", 200),
             (leader, f"/reports/staff/{staff_id}", 200), (leader, "/account", 200),
             (leader, "/admin/", 403), (officer, "/console", 200), (officer, "/account", 200),
             (officer, "/reports/", 403), (app.test_client(), "/login", 200)]
    refused = {"en": "You are not allowed to do this.",
               "vi": "Bạn không có quyền thực hiện thao tác này."}[lang]
    for who, url, status in pages:
        r = who.get(url, headers={"Accept": "text/html"})
        assert r.status_code == status, url
        html = r.get_data(as_text=True)
        assert r.headers["Content-Type"].startswith("text/html"), url
        assert f'<html lang="{lang}">' in html, url
        raw = RAW_KEY.findall(_visible(html))
        assert not raw, (url, raw)
        if status == 403:
            assert refused in html, url


def test_form_errors_name_their_field_in_english(app, creds, monkeypatch):
    """A refused form in English names the field by its label, not its key
    (``field_daily_cap``)."""
    monkeypatch.setenv("MOTCUA_LANG", "en")
    admin, tok = admin_client(app, creds)
    page = admin.post("/admin/services", data={
        "csrf_token": tok, "code": "NEW", "name": "N", "number_start": "7001",
        "number_end": "7999", "sort_order": "0", "default_service_minutes": "5", "active": "on",
        "daily_cap": "-4"}, follow_redirects=True).get_data(as_text=True)
    errors = re.findall(r'flash-error[^>]*>([^<]*)<', page)
    assert errors == ["“Daily cap” must be a whole number between 1 and 999999."], errors
    assert not RAW_KEY.findall(_visible(page))
