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

import pytest
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
        # ``connected`` is set as the stream is requested: wait for each stream's answer.
        wait_for(lambda: shown and views and feed.connected and link.follower.connected
                 and counter_link.follower.connected
                 and all(("GET", "/api/v1/events", 200) in c.sent for c in (kiosk, tablet, display)),
                 what="every screen connected")
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


# ---------------------------------------------------------------- the console
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _page_view(page: Any) -> dict[str, Any]:
    """What the console page shows, read from its DOM."""
    return page.evaluate("""() => ({
        waiting: [...document.querySelectorAll('#waiting-list tr[data-ticket-id]')]
                 .map(tr => Number(tr.dataset.ticketId)),
        no_shows: [...document.querySelectorAll('#no-show-list tr[data-ticket-id]')]
                  .map(tr => Number(tr.dataset.ticketId)),
        current: document.getElementById('ticket-number').textContent,
        transfers: document.getElementById('ticket-transfers').textContent,
        faults: document.getElementById('device-faults').hidden ? ''
                : document.getElementById('device-faults').textContent,
        figures: Object.fromEntries([...document.querySelectorAll('[data-fig]')]
                                    .map(dd => [dd.dataset.fig, dd.textContent])),
    })""")


def _expected_view(state: dict[str, Any], faults: str) -> dict[str, Any]:
    """What the page should show of a fresh ``/console/state``."""
    cur = state["current"]
    return {"waiting": [w["id"] for w in state["waiting"]],
            "no_shows": [n["id"] for n in state["no_shows"]],
            "current": cur["display_number"] if cur else "—",
            "figures": {k: "—" if v is None else f"{v:g}" for k, v in state["figures"].items()
                        if k not in ("serve_seconds", "wait_seconds")},
            "faults": faults}


@pytest.mark.slow
def test_the_console_page_updates_from_events_alone(live_server: LiveServer) -> None:
    """A real Chromium console at counter 1 while the kiosk issues, another
    officer calls and transfers, and the page's own officer calls, starts,
    completes and marks a no-show: the page asks for /console/state once when
    its stream opens and never again, and what it shows equals a fresh state."""
    pw = pytest.importorskip("playwright.sync_api")
    url = live_server.url
    kiosk = ApiClient(url, live_server.token("kiosk"))
    other = ApiClient(url, live_server.staff_token(2))  # counter 2 serves CT and HT
    svc = live_server.creds["services"]
    c1, c2 = live_server.creds["counters"]["1"], live_server.creds["counters"]["2"]
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 850})
            page = ctx.new_page()
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url) if "/console/state" in r.url
                    and "beat=1" not in r.url else None)
            page.goto(url + "/login")
            page.fill("input[name=username]", "canbo1")
            page.fill("input[name=password]", live_server.creds["users"]["canbo1"]["password"])
            page.select_option("select[name=counter_id]", str(c1))
            page.click("button[type=submit]")
            page.wait_for_url("**/console")
            expect = pw.expect
            expect(page.locator("#live")).to_have_text("Trực tiếp", timeout=20_000)
            expect(page.locator("#counter-state")).not_to_have_text("", timeout=20_000)
            wait_for(lambda: asked, what="the page's first state")
            page.wait_for_load_state("networkidle")
            asked.clear()

            seen: list[dict[str, Any]] = [{}]

            def shows(pred: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
                def check() -> dict[str, Any] | None:
                    seen[0] = _page_view(page)
                    return seen[0] if pred(seen[0]) else None
                try:
                    return wait_for(check, what=what)
                except AssertionError as exc:
                    raise AssertionError(f"{exc}; the page shows {seen[0]}") from None

            a = kiosk.issue_ticket(svc["HT"])
            b = kiosk.issue_ticket(svc["BHYT"])
            elsewhere = kiosk.issue_ticket(svc["CU"])  # not this counter's services
            d = kiosk.issue_ticket(svc["HT"])
            shows(lambda v: v["waiting"] == [a["id"], b["id"], d["id"]], "three waiting here")

            page.click("#btn-call-next")  # the page's officer calls A
            shows(lambda v: v["current"] == a["display_number"]
                  and v["waiting"] == [b["id"], d["id"]], "A in hand")
            other.counter_action(c2, "call-next")  # counter 2 calls the next HT: D
            shows(lambda v: v["waiting"] == [b["id"]], "D taken by counter 2")
            page.click("#btn-start")
            expect(page.locator("#ticket-status")).to_have_text("Đang xử lý", timeout=20_000)
            page.click("#btn-complete")
            shows(lambda v: v["current"] == "—" and v["figures"]["completed"] == "1",
                  "A completed, counted")
            page.click("#btn-call-next")
            shows(lambda v: v["current"] == b["display_number"] and v["waiting"] == [], "B in hand")
            page.click("#btn-call-next")  # with B in hand: done, and nobody is waiting
            page.click("#btn-complete")
            shows(lambda v: v["current"] == "—" and v["figures"]["completed"] == "2",
                  "B completed, counted")
            # Counter 2 sends D to counter 1: it waits here, marked for this counter.
            other.ticket_action(d["id"], "transfer", counter_id=c1)
            shows(lambda v: d["id"] in v["waiting"], "D transferred here")
            expect(page.locator(f'#waiting-list tr[data-ticket-id="{d["id"]}"]')) \
                .to_contain_text("chuyển", timeout=20_000)
            page.click("#btn-call-next")  # a ticket sent to this counter comes first
            shows(lambda v: v["current"] == d["display_number"] and v["transfers"], "D in hand")
            page.click("#btn-no-show")
            shows(lambda v: v["current"] == "—" and v["no_shows"] == [d["id"]], "D a no-show")
            kiosk.report_status("error", "paper_out", "Hết giấy")
            shows(lambda v: "Hết giấy" in v["faults"], "the kiosk's fault")

            # Caught up with the newest event: the page equals a fresh state.
            fresh = ctx.request.get(url + "/console/state").json()
            view = shows(lambda v: v["waiting"] == [w["id"] for w in fresh["waiting"]],
                         "the newest event")
            want = _expected_view(fresh, view["faults"])
            assert {k: view[k] for k in want} == want
            assert elsewhere["id"] not in view["waiting"]
            assert asked == [], asked
        finally:
            browser.close()
