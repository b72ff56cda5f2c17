"""Issue #15: the call-next answer gave staff the citizen's secret code
(``status_path``), and staff rated their own case with it.  No answer to a
staff member or a leader carries a ticket's code or anything derived from it
(``status_path``, ``check_code``); only the kiosk printing the ticket does."""
from __future__ import annotations

from typing import Any

from counter_server.ratings import check_code
from tests.conftest import bearer
from tests.counter_server.test_access_matrix import web_login

SECRET_KEYS = ("status_path", "check_code")


def assert_no_secret(answer: Any, codes: list[str], where: str) -> None:
    text = answer.get_data(as_text=True)
    for code in codes:
        assert code not in text, f"{where} carries a ticket code"
        assert f'"{check_code(code)}"' not in text, f"{where} carries a check code"
    for key in SECRET_KEYS:
        assert f'"{key}"' not in text, f"{where} carries {key}"


def test_no_staff_or_leader_answer_carries_a_ticket_code(app, client, creds):
    kiosk = bearer(creds["devices"]["kiosk"]["token"])
    issued = [client.post("/api/v1/tickets", json={"service_id": creds["services"][code]},
                          headers=kiosk) for code in ("HT", "HT", "HT", "BHYT", "CT")]
    assert all(r.status_code == 201 for r in issued)
    assert all({"code", "status_path", "check_code"} <= r.get_json().keys() for r in issued)
    codes = [r.get_json()["code"] for r in issued]

    r = client.post("/api/v1/auth/token", json={
        "username": "canbo1", "password": creds["users"]["canbo1"]["password"],
        "counter_id": creds["counters"]["1"]})
    staff = bearer(r.get_json()["token"])
    c1 = creds["counters"]["1"]
    answers: list[tuple[str, Any]] = [("token", r)]

    def post(path: str, **body: Any) -> Any:
        out = client.post("/api/v1" + path, json=body, headers=staff)
        assert out.status_code < 500, (path, out.get_json())
        answers.append((path, out))
        return out.get_json()

    first = post(f"/counters/{c1}/call-next")
    post(f"/counters/{c1}/recall")
    post(f"/tickets/{first['id']}/start")
    post(f"/tickets/{first['id']}/complete")
    second = post(f"/counters/{c1}/call-next")
    post(f"/tickets/{second['id']}/no-show")
    post(f"/tickets/{second['id']}/reactivate")
    third = post(f"/counters/{c1}/call-next", complete_current=True)
    post(f"/tickets/{third['id']}/transfer", service_id=creds["services"]["CT"])
    fourth = post(f"/counters/{c1}/call-next")
    post(f"/tickets/{fourth['id']}/cancel")
    post(f"/counters/{c1}/pause", reason="Họp")
    post(f"/counters/{c1}/resume")
    for path in (f"/counters/{c1}", "/services", "/reports/summary"):
        answers.append((path, client.get("/api/v1" + path, headers=staff)))
    assert {p for p, a in answers if a.status_code >= 400} <= {"/reports/summary"}

    console = app.test_client()
    web_login(console, creds, "canbo2", counter=2)
    for path in ("/console", "/console/state"):
        answers.append((path, console.get(path)))
    leader = app.test_client()
    web_login(leader, creds, "lanhdao")
    for path in ("/reports/", "/reports/export.csv", "/api/v1/reports/summary"):
        answers.append((path, leader.get(path)))
    token = client.post("/api/v1/auth/token", json={
        "username": "lanhdao", "password": creds["users"]["lanhdao"]["password"]}).get_json()
    answers.append(("leader summary", client.get("/api/v1/reports/summary",
                                                 headers=bearer(token["token"]))))
    for where, answer in answers:
        assert_no_secret(answer, codes, where)
