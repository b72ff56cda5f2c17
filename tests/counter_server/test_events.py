"""The event stream over real HTTP: order, resume with Last-Event-ID, keep-alive."""
from __future__ import annotations

import threading

import requests

from counter_server.client import ApiClient, ApiError
from tests.conftest import LiveServer, bearer


def _issue(server: LiveServer, n: int) -> list[dict]:
    with requests.Session() as s:
        return [s.post(server.url + "/api/v1/tickets", headers=bearer(server.token("kiosk")),
                       json={"service_id": server.creds["services"]["CT"]}, timeout=10).json()
                for _ in range(n)]


def test_subscriber_gets_every_event_in_order_and_resumes_without_loss(live_server: LiveServer):
    display = ApiClient(live_server.url, live_server.token("display"))
    start = display.display()["last_event_id"]
    got: list = []
    ready = threading.Event()

    def follow(limit: int) -> None:
        for ev in display.events(last_event_id=start):
            got.append(ev)
            if len(got) >= limit:
                return

    t = threading.Thread(target=follow, args=(20,))
    t.start()
    _issue(live_server, 20)
    t.join(30)
    assert [ev.type for ev in got] == ["ticket.issued"] * 20
    ids = [ev.id for ev in got]
    assert ids == sorted(ids) and len(set(ids)) == 20
    assert [ev.data["payload"]["ticket"]["number"] for ev in got] == list(range(2001, 2021))
    assert "code" not in got[0].data["payload"]["ticket"]  # the public code never leaks

    # The connection "drops" after event 10; events keep coming meanwhile.
    resume_from = ids[9]
    _issue(live_server, 5)
    resumed = []
    for ev in display.events(last_event_id=resume_from):
        resumed.append(ev)
        if len(resumed) == 15:
            break
    assert [ev.id for ev in resumed][:10] == ids[10:]
    rids = [ev.id for ev in resumed]
    assert rids == sorted(rids) and len(set(rids)) == 15 and rids[0] == ids[10]
    ready.set()


def test_resume_after_server_restart_with_last_event_id(live_server: LiveServer):
    display = ApiClient(live_server.url, live_server.token("display"))
    seen: list = []
    first = _issue(live_server, 3)
    for ev in display.events(last_event_id=0):
        seen.append(ev)
        if len(seen) == 3:
            break
    live_server.restart()
    _issue(live_server, 2)
    for ev in display.events(last_event_id=seen[-1].id):
        seen.append(ev)
        if len(seen) == 5:
            break
    numbers = [ev.data["payload"]["ticket"]["number"] for ev in seen]
    assert numbers == [first[0]["number"] + i for i in range(5)]


def test_stream_sends_keepalive_and_needs_a_live_role(live_server: LiveServer):
    r = requests.get(live_server.url + "/api/v1/events", stream=True, timeout=10,
                     headers=bearer(live_server.token("display")))
    assert r.headers["Content-Type"].startswith("text/event-stream")
    buf = b""
    for chunk in r.iter_content(chunk_size=None):
        buf += chunk
        if b": keep-alive" in buf:
            break
    r.close()
    assert b"retry:" in buf and b": keep-alive" in buf
    assert requests.get(live_server.url + "/api/v1/events", timeout=10).status_code == 401
    bad = requests.get(live_server.url + "/api/v1/events", headers=bearer("nope"), timeout=10)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_token"


def test_client_reports_unreachable(tmp_path):
    from tests.conftest import free_port

    c = ApiClient(f"http://127.0.0.1:{free_port()}", "x")
    try:
        list(c.events())
    except ApiError as err:
        assert err.unreachable and err.message
    else:
        raise AssertionError("expected ApiError")
