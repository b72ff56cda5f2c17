"""The console's JSON state and its sign-in rules, through the Flask test client."""
from __future__ import annotations

from tests.conftest import bearer
from tests.counter_server.test_access_matrix import csrf_of, web_login


def issue(client, creds, code: str) -> dict:
    r = client.post("/api/v1/tickets", headers=bearer(creds["devices"]["kiosk"]["token"]),
                    json={"service_id": creds["services"][code]})
    assert r.status_code == 201
    return r.get_json()


def test_state_follows_the_counter(app, client, creds):
    staff = app.test_client()
    tok = web_login(staff, creds, "canbo1", counter=1)
    h = {"X-CSRFToken": tok}
    cid = creds["counters"]["1"]
    st = staff.get("/console/state").get_json()
    assert st["counter"]["number"] == 1 and st["counter"]["state"] == "open"
    assert st["current"] is None and st["waiting"] == []
    a, b, other = issue(client, creds, "HT"), issue(client, creds, "BHYT"), issue(client, creds, "CU")
    st = staff.get("/console/state").get_json()
    # Only this counter's services (HT, BHYT), oldest first, with their waiting time.
    assert [w["display_number"] for w in st["waiting"]] == [a["display_number"], b["display_number"]]
    assert all(w["wait_seconds"] >= 0 for w in st["waiting"])
    assert other["display_number"] not in {w["display_number"] for w in st["waiting"]}

    assert staff.post(f"/api/v1/counters/{cid}/call-next", headers=h).status_code == 200
    st = staff.get("/console/state").get_json()
    assert st["current"]["display_number"] == a["display_number"]
    assert st["current"]["service_name"] == "Tư pháp – Hộ tịch" and st["current"]["wait_seconds"] >= 0
    assert len(st["waiting"]) == 1 and st["figures"]["called"] == 1

    # Transfer to counter 3 (by canbo1), then counter 3's officer sees its history.
    r = staff.post(f"/api/v1/tickets/{st['current']['ticket_id']}/transfer", headers=h,
                   json={"counter_id": creds["counters"]["3"]})
    assert r.status_code == 200
    st = staff.get("/console/state").get_json()
    assert st["current"] is None and st["figures"]["transferred"] == 1
    c3 = app.test_client()
    tok3 = web_login(c3, creds, "canbo3", counter=3)
    st3 = c3.get("/console/state").get_json()
    assert st3["waiting"][0]["display_number"] == a["display_number"]
    assert st3["waiting"][0]["for_this_counter"] and st3["waiting"][0]["transferred"]
    c3.post(f"/api/v1/counters/{creds['counters']['3']}/call-next", headers={"X-CSRFToken": tok3})
    hist = c3.get("/console/state").get_json()["current"]["transfers"]
    assert hist[0]["from_service"] == "Tư pháp – Hộ tịch" and hist[0]["to_counter"] == 3
    assert hist[0]["by"] == "Nguyễn Thị Hoa"

    # Figures: served and waiting minutes after completing.
    staff.post(f"/api/v1/counters/{cid}/call-next", headers=h)
    cur = staff.get("/console/state").get_json()["current"]
    staff.post(f"/api/v1/tickets/{cur['ticket_id']}/complete", headers=h)
    f = staff.get("/console/state").get_json()["figures"]
    assert f["completed"] == 1 and f["avg_service_minutes"] is not None


def test_staff_need_a_counter_and_others_no_console(app, creds):
    leader = app.test_client()
    web_login(leader, creds, "lanhdao")
    assert leader.get("/console/state").status_code == 403
    assert leader.get("/console").status_code == 403
    assert leader.get("/").status_code == 302


def test_change_counter_and_sign_out_close_counters(app, client, creds):
    staff = app.test_client()
    tok = web_login(staff, creds, "canbo4", counter=4)
    display = bearer(creds["devices"]["display"]["token"])
    state = lambda n: client.get(f"/api/v1/counters/{creds['counters'][str(n)]}",  # noqa: E731
                                 headers=display).get_json()
    assert state(4)["state"] == "open"
    page = staff.get("/console/counter").get_data(as_text=True)
    assert "Chọn quầy làm việc" in page
    r = staff.post("/console/counter", data={"csrf_token": tok, "counter_id": creds["counters"]["2"]})
    assert r.status_code == 302 and r.headers["Location"].endswith("/console")
    assert state(4)["state"] == "closed" and state(2)["state"] == "open"
    assert staff.get("/console/state").get_json()["counter"]["number"] == 2
    r = staff.post("/logout", data={"csrf_token": tok})
    assert r.status_code == 302 and state(2)["state"] == "closed"
    assert staff.get("/console/state").status_code == 401


def test_pages_are_vietnamese(app, creds):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and "Tên đăng nhập" in page and "UBND xã Quảng Khê" in page
    web_login(c, creds, "canbo1", counter=1)
    page = c.get("/console").get_data(as_text=True)
    for text in ("Gọi số tiếp", "Gọi lại", "Hoàn thành", "Vắng mặt", "Tạm dừng", "Chuyển",
                 "Số liệu của tôi hôm nay", "Đang chờ"):
        assert text in page
    assert csrf_of(page)


def test_state_answers_304_until_an_event_of_the_office(app, client, creds):
    """The page's 30-second heartbeat: 304 while nothing happened, the fresh
    state after any event of the office (here a ticket of another service)."""
    staff = app.test_client()
    web_login(staff, creds, "canbo1", counter=1)
    r = staff.get("/console/state")
    tag = r.headers["ETag"]
    assert r.status_code == 200 and tag.startswith('W/"console-')
    again = staff.get("/console/state?beat=1", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["ETag"] == tag
    issue(client, creds, "CU")
    fresh = staff.get("/console/state?beat=1", headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != tag
    assert fresh.get_json()["last_event_id"] > r.get_json()["last_event_id"]
    # Another officer's state is not this one's, even at the same event.
    other = app.test_client()
    web_login(other, creds, "canbo2", counter=2)
    assert other.get("/console/state", headers={"If-None-Match": fresh.headers["ETag"]}
                     ).status_code == 200
