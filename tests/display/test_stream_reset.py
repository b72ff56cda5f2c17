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


def test_a_snapshot_after_the_day_turns_drops_yesterdays_calls(live_server: LiveServer) -> None:
    """The Kivy display left on overnight: the calls it gathered yesterday leave
    "recently called" once it reads a snapshot of the new service day; calls the
    stream brought after that snapshot stay."""
    import datetime as dt

    from counter_server import models as m
    from counter_server.db import Database

    display = ApiClient(live_server.url, live_server.token("display"))
    staff = ApiClient(live_server.url, live_server.staff_token(1))
    counter = live_server.creds["counters"]["1"]
    service = live_server.creds["services"]["HT"]
    for _ in range(3):
        requests.post(live_server.url + "/api/v1/tickets",
                      headers=bearer(live_server.token("kiosk")),
                      json={"service_id": service}, timeout=10).raise_for_status()
    staff.counter_action(counter, "call-next")
    staff.counter_action(counter, "call-next", complete_current=True)
    state = DisplayState()
    controller = Controller(state)
    controller.handle("snapshot", display.display())
    assert len(state.recent) == 2

    db = Database(live_server.db_url, pool_size=1)
    try:
        with db.write() as s:  # the night passes: those calls are yesterday's
            for ev in s.query(m.Event).filter(m.Event.type.like("ticket.%")):
                ev.created_at = ev.created_at - dt.timedelta(days=1)
            for t in s.query(m.Ticket):
                t.issued_at = t.issued_at - dt.timedelta(days=1)
                t.called_at = t.called_at and t.called_at - dt.timedelta(days=1)
    finally:
        db.dispose()
    # A new client: the day has not really turned, so the same ETag would give 304.
    morning = ApiClient(live_server.url, live_server.token("display")).display()
    assert morning["recent_calls"] == []
    controller.handle("snapshot", morning)
    assert list(state.recent) == []
