"""What each screen asks the server for one citizen, against a real server.

The kiosk (``kiosk.live.ServerLink``), the counter tablet
(``kiosk.live.CounterLink``) and the display (``display.feed.Feed`` with its
controller) run on the shared ``counter_server.client.follow()``, exactly as
in the apps (no Kivy needed: the apps wrap these).  A citizen is issued a
ticket, called, served and rates; every screen must show it from the events
alone: a snapshot fetched on a plain event fails the test.
"""
from __future__ import annotations

import re
import threading
import time
from collections import Counter
from typing import Any, Callable

import requests

from sqlalchemy import func, select

from counter_server import models as m
from counter_server.client import ApiClient
from counter_server.db import Database
from counter_server.event_types import QUEUE_TYPES
from display.controller import Controller
from display.feed import Feed
from display.state import DisplayState
from kiosk.live import CounterLink, ServerLink
from tests.conftest import LiveServer

SNAPSHOT = re.compile(r"^/api/v1/(services|display|counters/\d+)$")


class CountingClient(ApiClient):
    """The apps' client, recording every HTTP request it really sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, str, int]] = []
        self._sent_lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.hooks["response"].append(self._record)
            self._local.session = s
        return s

    def _record(self, r: requests.Response, *_a: Any, **_kw: Any) -> None:
        path = requests.utils.urlparse(r.request.url).path
        with self._sent_lock:
            self.sent.append((r.request.method, path, r.status_code))

    def snapshot_requests(self) -> list[tuple[str, str, int]]:
        with self._sent_lock:
            return [x for x in self.sent if x[0] == "GET" and SNAPSHOT.match(x[1])]

    def reset(self) -> None:
        with self._sent_lock:
            self.sent.clear()


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or check}")


def caught_up(server: LiveServer, *followers: Any) -> None:
    """Wait until each follower has handled the office's newest queue event,
    the newest its screen's stream carries (the follower hands an event to
    its screen under its lock: holding the lock after its id is set means the
    screen is done with it)."""
    db = Database(server.db_url, pool_size=1)
    with db.read() as s:
        newest = s.scalar(select(func.max(m.Event.id)).where(m.Event.type.in_(QUEUE_TYPES)))
    db.dispose()

    def done(f: Any) -> bool:
        with f._lock:
            return (f.last_event_id or 0) >= newest
    wait_for(lambda: all(done(f) for f in followers), what=f"every screen at event {newest}")


def test_one_citizen_costs_no_snapshot_on_any_screen(live_server: LiveServer) -> None:
    url = live_server.url
    staff = ApiClient(url, live_server.staff_token(1))
    counter_id = live_server.creds["counters"]["1"]
    service_id = live_server.creds["services"]["HT"]  # served at counter 1

    # ---- the kiosk
    kiosk = CountingClient(url, live_server.token("kiosk"))
    shown: list[dict[str, Any]] = []
    link = ServerLink(kiosk, shown.append, lambda *_a: None, refresh_seconds=None)
    # ---- the counter tablet
    tablet = CountingClient(url, live_server.token("rating1"))
    views: list[dict[str, Any]] = []
    rated: list[dict[str, Any]] = []
    config: list[dict[str, Any]] = []

    def completed(_ev: Any) -> None:  # what the tablet app does: code, then the citizen's press
        t = tablet.request("GET", f"/counters/{counter_id}/last-completed")
        level = config[0]["levels"][0]["value"]
        rated.append(tablet.rate(level, ticket_code=t["code"], client_key="press-1"))

    counter_link = CounterLink(tablet, 1, on_counter=views.append, on_completed=completed,
                               on_config=config.append, on_problem=lambda *_a: None,
                               refresh_seconds=None)
    # ---- the display
    display = CountingClient(url, live_server.token("display"))
    state = DisplayState()
    controller = Controller(state)
    lock = threading.Lock()

    def sink(kind: str, *args: Any) -> None:
        with lock:
            controller.handle(kind, *args)

    feed = Feed(display, sink, refresh_seconds=None)
    link.start()
    counter_link.start()
    feed.start()
    try:
        wait_for(lambda: shown and views and feed.connected and link.follower.connected
                 and counter_link.follower.connected, what="every screen connected")
        caught_up(live_server, link.follower, counter_link.follower, feed)
        for c in (kiosk, tablet, display):
            c.reset()
        before = {sv["id"]: sv["waiting"] for sv in shown[-1]["services"]}

        ticket = kiosk.issue_ticket(service_id)
        wait_for(lambda: {sv["id"]: sv["waiting"] for sv in shown[-1]["services"]}[service_id]
                 == before[service_id] + 1, what="the kiosk shows one more waiting")
        wait_for(lambda: next(sv for sv in state.services if sv["id"] == service_id)["waiting"]
                 == before[service_id] + 1, what="the display shows one more waiting")

        staff.counter_action(counter_id, "call-next")
        wait_for(lambda: any(c.display_number == ticket["display_number"]
                             for c in state.shown_counters()), what="the display shows the call")
        assert [c.display_number for c in controller.announced] == [ticket["display_number"]]
        wait_for(lambda: (views[-1].get("current") or {}).get("display_number")
                 == ticket["display_number"], what="the tablet shows the number served")
        wait_for(lambda: {sv["id"]: sv["waiting"] for sv in shown[-1]["services"]}[service_id]
                 == before[service_id], what="the kiosk shows one less waiting")

        staff.ticket_action(ticket["id"], "complete")
        wait_for(lambda: rated, what="the tablet took the rating")
        assert rated[0]["created"] is True
        wait_for(lambda: views[-1].get("current") is None, what="the tablet shows nobody served")
        wait_for(lambda: all(c.display_number != ticket["display_number"]
                             for c in state.shown_counters()), what="the display clears it")
        # Every screen has handled the office's last event: what it would fetch
        # in answer to an event, it has asked for by now.
        caught_up(live_server, link.follower, counter_link.follower, feed)

        assert kiosk.snapshot_requests() == [], kiosk.sent
        assert display.snapshot_requests() == [], display.sent
        assert tablet.snapshot_requests() == [], tablet.sent
        counts = {name: Counter(f"{m} {p}" for m, p, _s in c.sent)
                  for name, c in (("kiosk", kiosk), ("tablet", tablet), ("display", display))}
        assert counts["kiosk"] == {"POST /api/v1/tickets": 1}
        assert counts["tablet"] == {f"GET /api/v1/counters/{counter_id}/last-completed": 1,
                                    "POST /api/v1/ratings": 1}
        assert counts["display"] == {}
    finally:
        link.stop()
        counter_link.stop()
        feed.stop()


def test_a_reconnect_takes_one_snapshot_answered_304(live_server: LiveServer) -> None:
    """After a dropped stream the display asks again; nothing changed: 304,
    and the state it keeps is the one it had."""
    display = CountingClient(live_server.url, live_server.token("display"))
    state = DisplayState()
    controller = Controller(state)
    feed = Feed(display, controller.handle, refresh_seconds=None)
    feed.start()
    try:
        wait_for(lambda: feed.connected, what="connected")
        first = state.last_event_id
        display.reset()
        feed.drop()
        wait_for(lambda: feed.reconnects == 1 and feed.connected, what="reconnected")
        assert display.snapshot_requests() == [("GET", "/api/v1/display", 304)]
        assert state.last_event_id == first and state.office.get("name")
    finally:
        feed.stop()
