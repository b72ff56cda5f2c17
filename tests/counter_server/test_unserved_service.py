"""Issue #15: a new service with no counter stayed off the kiosk, but the server
still issued its tickets when asked directly; nobody could ever call them."""
from __future__ import annotations

from sqlalchemy import select

from counter_server import models as m
from tests.conftest import bearer


def test_a_service_no_counter_serves_issues_nothing_until_one_does(app, client, creds):
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    db = app.extensions["motcua_db"]
    with db.write() as s:
        svc = m.Service(office_id=creds["office_id"], code="KT", name="Kinh tế", icon="service",
                        number_start=7001, number_end=7999, sort_order=9)
        s.add(svc)
        s.flush()
        sid = svc.id
    listed = {x["id"]: x for x in client.get("/api/v1/services", headers=kiosk)
              .get_json()["services"]}
    assert listed[sid]["counters"] == []  # what keeps it off the kiosk's home screen

    r = client.post("/api/v1/tickets", json={"service_id": sid}, headers=kiosk)
    assert r.status_code == 409, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "no_counter_serves"
    assert error["message"] == ("Chưa có quầy nào phục vụ lĩnh vực này; "
                                "mời ông/bà hỏi cán bộ tại quầy.")
    with db.read() as s:
        assert s.scalar(select(m.Ticket.id).where(m.Ticket.service_id == sid)) is None

    # an inactive counter does not count; an active one does
    with db.write() as s:
        c4 = s.get(m.Counter, creds["counters"]["4"])
        c4.active = False
        c4.services.append(m.CounterService(service_id=sid, weight=1))
    assert client.post("/api/v1/tickets", json={"service_id": sid},
                       headers=kiosk).status_code == 409
    with db.write() as s:
        s.get(m.Counter, creds["counters"]["4"]).active = True
    r = client.post("/api/v1/tickets", json={"service_id": sid}, headers=kiosk)
    assert r.status_code == 201 and r.get_json()["display_number"] == "7001"
