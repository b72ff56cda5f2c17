"""The admin set-up checklist and backup status (/admin/setup) on a real
SQLite file: a new office opens on the checklist, the defaults fill it, and
a missing or failing backup folder shows on the page."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from counter_server import backup as b
from counter_server import models as m
from counter_server.app import create_app
from counter_server.db import Database
from counter_server.defaults import DEMO_SERVICES
from counter_server.migrate import upgrade
from counter_server.seed import add_device, add_user
from tests.counter_server.test_access_matrix import csrf_of


@pytest.fixture
def new_office(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MOTCUA_LANG", "vi")
    url = f"sqlite:///{(tmp_path / 'motcua.sqlite3').as_posix()}"
    upgrade(url)
    db = Database(url, pool_size=2)
    with db.write() as s:
        office = m.Office(name="UBND xã Thử", opening_hours={}, settings={})
        s.add(office)
        s.flush()
        add_user(s, office.id, "quantri", "admin", "mat-khau-quan-tri")
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "t"})
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"csrf_token": token, "username": "quantri",
                                    "password": "mat-khau-quan-tri"})
    assert r.status_code == 302
    yield client, db, tmp_path
    app.extensions["motcua_db"].dispose()
    db.dispose()


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_checklist_until_the_office_is_set_up(new_office):
    client, db, _folder = new_office
    r = client.get("/admin/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/setup")
    html = client.get("/admin/setup").get_data(as_text=True)
    assert html.count('class="step todo"') == 4 and "Tạo các lĩnh vực mặc định" in html
    assert 'id="nav-setup"' in html and 'badge badge-error">!' in html
    token = form_token(html)

    assert client.post("/admin/setup/default-counters", data={"csrf_token": token,
                                                              "counters": "2"}).status_code == 302
    with db.read() as s:
        assert s.scalar(select(m.Counter.id)) is None  # no services yet: refused
    client.post("/admin/setup/default-services", data={"csrf_token": token})
    client.post("/admin/setup/default-counters", data={"csrf_token": token, "counters": "2"})
    with db.read() as s:
        services = list(s.scalars(select(m.Service).order_by(m.Service.sort_order)))
        assert [(x.code, x.name, x.number_start) for x in services] == [
            (code, name, start) for code, name, _icon, start in DEMO_SERVICES]
        counters = list(s.scalars(select(m.Counter).order_by(m.Counter.number)))
        assert [(c.number, len(c.services)) for c in counters] == [(1, 6), (2, 6)]
    again = client.post("/admin/setup/default-services", data={"csrf_token": token},
                        follow_redirects=True).get_data(as_text=True)
    assert "Các lĩnh vực mặc định đã có rồi." in again
    # each default stays editable on the services page
    assert client.get(f"/admin/services/{services[0].id}").status_code == 200

    with db.write() as s:
        add_user(s, services[0].office_id, "canbo1", "staff", "mat-khau-can-bo")
        add_device(s, services[0].office_id, "Kiosk sảnh", "kiosk")
    assert client.get("/admin/").status_code == 200  # set up: the overview again
    html = client.get("/admin/setup").get_data(as_text=True)
    assert html.count('class="step done"') == 4
    assert client.post("/admin/setup/default-services", data={}).status_code == 400  # CSRF


def test_backup_problems_show_on_the_page(new_office, monkeypatch):
    client, _db, folder = new_office
    usb = folder / "usb-khong-cam"
    monkeypatch.setenv("MOTCUA_BACKUP_DIR", str(usb))
    html = client.get("/admin/setup").get_data(as_text=True)
    problems = re.findall(r'backup-problem" role="alert">([^<]+)<', html)
    assert problems and str(usb) in problems[0] and "không tồn tại" in problems[0]
    usb.mkdir()
    (folder / "backup-status.json").write_text(
        '{"error": "đĩa đầy", "error_at": "2026-11-26T12:30"}', encoding="utf-8")
    html = client.get("/admin/setup").get_data(as_text=True)
    assert "đĩa đầy" in html and "2026-11-26T12:30" in html
    (folder / "backup-status.json").unlink()
    html = client.get("/admin/setup").get_data(as_text=True)
    assert 'id="backup-ok"' in html and str(usb) in html
    # a folder whose newest backup is days old (the server has not run since)
    old = usb / b.backup_name(dt.datetime.now() - dt.timedelta(days=3))
    old.write_bytes(b"")
    html = client.get("/admin/setup").get_data(as_text=True)
    problems = re.findall(r'backup-problem" role="alert">([^<]+)<', html)
    assert problems == ["Đã 3 ngày không có bản sao lưu."], problems
    assert old.name in html
