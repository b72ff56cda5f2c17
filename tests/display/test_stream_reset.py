"""``stream.reset`` (the server's events went back, e.g. a restored backup):
the display and the kiosk start again from a fresh snapshot and then apply
the events that follow, although their ids are below what they had seen."""
from __future__ import annotations

import requests

from counter_server.client import ApiClient, Event
from display.controller import Controller
from display.state import DisplayState
from kiosk.live import ServerLink
from tests.conftest import LiveServer, bearer


def _events(client: ApiClient, after: int, n: int) -> list[Event]:
    out = []
    for ev in client.events(after):
        out.append(ev)
        if len(out) == n:
            return out
    return out


def test_reset_then_lower_ids_are_applied(live_server: LiveServer) -> None:
    display = ApiClient(live_server.url, live_server.token("display"))
    kiosk = ApiClient(live_server.url, live_server.token("kiosk"))
    counter = live_server.creds["counters"]["1"]
    staff = ApiClient(live_server.url, live_server.staff_token(1))
    start = display.display()["last_event_id"]
    service = live_server.creds["services"]["HT"]
    requests.post(live_server.url + "/api/v1/tickets", headers=bearer(live_server.token("kiosk")),
                  json={"service_id": service}, timeout=10).raise_for_status()
    staff.counter_action(counter, "call-next")
    issued, called = _events(display, start, 2)

    state = DisplayState()
    controller = Controller(state)
    snap = display.display()
    # What the display knew before the backup was restored: far ahead of the server.
    ahead = dict(snap, last_event_id=snap["last_event_id"] + 1000)
    controller.handle("snapshot", ahead)
    controller.handle("event", Event(called.id + 1000, called.type, called.data))
    assert state.last_event_id == called.id + 1000 and len(state.recent) >= 1

    before = display.display()
    controller.handle("reset", before)
    assert state.last_event_id == before["last_event_id"]
    assert all(c.event_id <= before["last_event_id"] for c in state.recent)
    staff.counter_action(counter, "recall")
    (recall,) = _events(display, before["last_event_id"], 1)
    controller.handle("event", recall)
    call = state.recent[0]
    assert call.recall and state.last_event_id == recall.id
    assert controller.announced[-1].event_id == recall.id

    # The kiosk: same rule (its link folds events in only past what it shows).
    shown: list[dict] = []
    link = ServerLink(kiosk, shown.append, lambda *_a: None, refresh_seconds=None)
    services = kiosk.services()
    link._sink("snapshot", dict(services, last_event_id=services["last_event_id"] + 1000))
    link._sink("event", issued)
    assert len(shown) == 1  # an old id: ignored
    link._sink("reset", services)
    link._sink("event", Event(services["last_event_id"] + 1, issued.type, issued.data))
    assert len(shown) == 3
