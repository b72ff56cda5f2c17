"""One simulated office day on the real server, over HTTP, with the real clients.

``motcua serve`` runs in its own process.  :func:`test_an_office_day_with_the_real_clients`
has the office's own clients take part (``tests/office_clients.py``): the Kivy
lobby kiosk issues every ticket by touches on its screen and takes ratings at
its keypad, the Kivy tablets of counters 1-3 show what their counter serves and
take the faces touched (too early, and on time), the citizen's phone page and
canbo4's web console run in Chromium.  :func:`test_an_office_day` is the same day
with those clients' requests sent straight over HTTP, on SQLite and PostgreSQL.
The other officers work through API tokens, the admin through the admin pages
and the leader through the report API; the officers' steps (moving counters, a
released counter and a displaced session, signing out with a ticket in hand, a
console left alone, no-shows brought back) use ``tests/counter_server/office_support.py``
as the officer tests do.  Requests no real client would make (a tablet rating
another counter's ticket, a press naming no ticket) are forged with the
devices' tokens.

The day is a list of step functions on :class:`OfficeDay`, each a short piece
of the day that keeps a model of what should have happened (``expected_*``);
:meth:`OfficeDay.check_end_of_day` compares the database and the report with
that model.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter as Tally
from pathlib import Path
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from counter_server import models as m
from counter_server.client import ApiClient, ApiError
from counter_server.defaults import DEMO_STAFF
from tests.conftest import LiveServer, bearer, seed_database
from tests.office_clients import FOUND, NOT_FOUND, NOT_SERVED, HttpClients, RealClients
from tests.counter_server.office_support import (ApiOfficer, WebOfficer, console_gone_for,
                                                 display_counter, ticket_status, wait_for)

pytestmark = pytest.mark.slow

FINAL = {m.DONE: "ticket.completed", m.NO_SHOW: "ticket.no_show",
         m.CANCELLED: "ticket.cancelled"}
FULL_NAME = dict(DEMO_STAFF.values())


class OfficeDay:
    def __init__(self, live: Any, clients: HttpClients | RealClients) -> None:
        self.live, self.creds, self.url = live, live.creds, live.url
        self.clients = clients
        self.seconds: dict[str, float] = {}            # step -> wall time (printed)
        # The devices' tokens: reading what the server lists, and forged requests.
        self.kiosk = ApiClient(self.url, live.token("kiosk"))
        self.tablets = {n: ApiClient(self.url, live.token(f"rating{n}")) for n in (1, 2, 3, 4)}
        self.staff: dict[int, ApiClient] = {}          # counter number -> officer's client
        self.tokens: dict[int, str] = {}               # counter number -> officer's token
        self.signed_in: dict[int, str] = {}            # counter number -> username
        self.tickets: dict[int, dict[str, Any]] = {}   # ticket id -> kiosk answer
        self.in_hand: dict[int, dict[str, Any]] = {}   # counter number -> ticket called
        self.expected_counted: dict[int, str] = {}     # ticket id -> channel of its rating
        self.done_by: dict[int, tuple[int, str]] = {}  # ticket id -> (counter, officer)
        self.services = {s["code"]: s["id"] for s in self.kiosk.services()["services"]}

    # ------------------------------------------------------------------ helpers
    def cid(self, counter: int) -> int:
        return self.creds["counters"][str(counter)]

    def sign_in(self, counter: int, username: str | None = None) -> None:
        """``username`` takes a token at ``counter``; the counter they held before
        closes and its ticket goes back to the queue (one counter per officer)."""
        username = username or f"canbo{counter}"
        r = ApiOfficer.sign_in(self.live, username, counter)
        assert r.status_code == 201, r.text
        for n, who in list(self.signed_in.items()):
            if who == username:
                self.signed_out(n)
        self.tokens[counter] = r.json()["token"]
        self.staff[counter] = ApiClient(self.url, self.tokens[counter])
        self.signed_in[counter] = username

    def signed_out(self, counter: int) -> None:
        """Counter ``counter`` closed (sign-out, move, release, idle): nobody there,
        nothing in hand."""
        self.signed_in.pop(counter)
        self.staff.pop(counter)
        self.tokens.pop(counter)
        self.in_hand.pop(counter, None)

    def code_of(self, ticket: dict[str, Any]) -> str:
        """The ticket's secret code: only the printed ticket (and its phone page) has it."""
        return self.tickets[ticket["id"]]["code"]

    def check_code_of(self, ticket: dict[str, Any]) -> str:
        """The 4-digit check code printed on the ticket, for the lobby keypad."""
        return self.tickets[ticket["id"]]["check_code"]

    def console_state(self, counter: int) -> dict[str, Any]:
        r = requests.get(self.url + "/console/state", headers=bearer(self.tokens[counter]),
                         timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def refused(self, client: ApiClient, path: str, body: Any = None) -> ApiError:
        with pytest.raises(ApiError) as refused:
            client.request("POST", path, json_body=body)
        return refused.value

    def officer(self, counter: int) -> str:
        return FULL_NAME[self.signed_in[counter]]

    def issue(self, service: str) -> dict[str, Any]:
        t = self.clients.issue(service)
        assert {"code", "status_path", "check_code"} <= t.keys()
        assert t["service_code"] == service, t
        self.tickets[t["id"]] = t
        return t

    def call(self, counter: int, **body: Any) -> dict[str, Any]:
        t = self.staff[counter].request("POST", f"/counters/{self.cid(counter)}/call-next",
                                        json_body=body)
        assert "code" not in t and "status_path" not in t and "check_code" not in t
        self.in_hand[counter] = t
        return t

    def act(self, counter: int, action: str, **body: Any) -> dict[str, Any]:
        t = self.in_hand[counter]
        out = self.staff[counter].request("POST", f"/tickets/{t['id']}/{action}",
                                          json_body=body or None)
        assert "code" not in out and "status_path" not in out
        if action == "complete":
            self.done_by[t["id"]] = (counter, self.signed_in[counter])
        if action in ("complete", "no-show", "transfer", "cancel"):
            self.in_hand.pop(counter)
        return out

    def serve(self, counter: int) -> dict[str, Any]:
        t = self.call(counter)
        self.act(counter, "start")
        self.act(counter, "complete")
        return self.tickets[t["id"]]

    def tablet_rate(self, counter: int, ticket: dict[str, Any], level: int,
                    reasons: tuple[str, ...] = ()) -> None:
        """The tablet at ``counter`` offers ``ticket`` (just completed there, by the
        officer signed in) and its holder touches a face: it counts."""
        self.clients.tablet_rate(counter, ticket, level, self.officer(counter), reasons)
        self.expected_counted[ticket["id"]] = "tablet"

    def server_offers_nothing(self, counter: int) -> None:
        """``last-completed`` for the tablet at ``counter``: nothing (left) to rate."""
        with pytest.raises(ApiError) as nothing:
            self.tablets[counter].request("GET", f"/counters/{self.cid(counter)}/last-completed")
        assert (nothing.value.status, nothing.value.code) == (404, "nothing_to_rate")

    # ------------------------------------------------------------------ the day
    def morning(self) -> None:
        """Officers at counters 1-3 sign in; citizens take tickets.

        Presses seconds apart from one device would be flagged too fast (tested on
        their own in the rating tests); this day is about whose ratings count."""
        engine = create_engine(self.live.db_url)
        with Session(engine) as s, s.begin():
            office = s.get(m.Office, self.creds["office_id"])
            office.settings = {**office.settings, "rating_min_interval_seconds": 0}
        engine.dispose()
        for n in (1, 2, 3):
            self.sign_in(n)
        for code in ("HT", "HT", "HT", "CT", "CT", "CU", "CU", "BHYT"):
            self.issue(code)

    def tablet_pressed_early_and_on_time(self) -> None:
        """Counter 1 calls a ticket: while it is served the tablet has nothing to rate
        (no faces: touches change nothing), and a press naming no ticket is refused;
        once completed, the tablet offers that ticket and its rating counts."""
        t = self.tickets[self.call(1)["id"]]
        self.act(1, "start")
        self.clients.tablet_press_early(1, t, self.officer(1))
        self.server_offers_nothing(1)
        with pytest.raises(ApiError) as refused:
            self.tablets[1].rate(level=4)
        assert refused.value.code == "ticket_code_required"
        self.act(1, "complete")
        self.tablet_rate(1, t, 4)
        self.server_offers_nothing(1)  # rated: nothing left to rate
        self.clients.tablet_idle(1)

    def pause_and_resume(self) -> None:
        c = self.staff[2].request("POST", f"/counters/{self.cid(2)}/pause",
                                  json_body={"reason": "Họp giao ban"})
        assert c["state"] == "paused"
        with pytest.raises(ApiError) as paused:
            self.call(2)
        assert paused.value.status == 409
        assert self.staff[2].request("POST", f"/counters/{self.cid(2)}/resume")["state"] == "open"

    def officer_moves_counters(self) -> None:
        """canbo3, a CU ticket in hand at counter 3, closes the browser and signs in
        at counter 4: counter 3 closes (its TV card goes), the ticket is back at the
        head of the queue, the counter-3 token is refused saying why, and canbo4
        cannot take counter 4 while canbo3 holds it.  canbo3 goes back to counter 3
        (counter 4 closes) and calls the same ticket first."""
        self.issue("CU")
        t = self.call(3)
        old = self.staff[3]
        self.sign_in(4, "canbo3")
        three, four = display_counter(self.live, 3), display_counter(self.live, 4)
        assert three["state"] == "closed" and three["staff"] is None and three["current"] is None
        assert four["state"] == "open" and four["staff"]["full_name"] == "Lê Thị Thu Hà"
        status = ticket_status(self.live, self.code_of(t))
        assert status["status"] == m.WAITING and status["waiting_before"] == 0
        ended = self.refused(old, f"/counters/{self.cid(3)}/call-next")
        assert (ended.status, ended.code) == (409, "session_ended") and "Quầy 3" in ended.message
        taken = ApiOfficer.sign_in(self.live, "canbo4", 4)
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "counter_taken"
        self.sign_in(3)
        assert display_counter(self.live, 4)["state"] == "closed"
        assert self.call(3)["id"] == t["id"]
        self.act(3, "start")
        self.act(3, "complete")

    def a_released_counter_and_a_displaced_session(self) -> None:
        """canbo1 leaves counter 1 with a ticket in hand and the console open; an admin
        releases the counter (the ticket goes back to the queue) and canbo2 moves
        there from counter 2.  canbo1's stale session pressing "done, call next" is
        refused: nothing is completed, called or credited in canbo1's name.  canbo2
        serves the ticket at counter 1, the counter-1 tablet rates it (credited to
        canbo2); then both go back to their own counters."""
        self.issue("HT")
        t = self.call(1)
        stale = self.staff[1]
        admin = WebOfficer.at(self.live, "quantri", None)
        assert admin.release(1).status_code == 302
        self.signed_out(1)
        assert ticket_status(self.live, self.code_of(t))["status"] == m.WAITING
        assert display_counter(self.live, 1)["state"] == "closed"
        self.sign_in(1, "canbo2")
        assert display_counter(self.live, 2)["state"] == "closed"
        ended = self.refused(stale, f"/counters/{self.cid(1)}/call-next",
                             {"complete_current": True, "current_ticket_id": t["id"]})
        assert ended.code == "session_ended" and "Trần Văn Minh" in ended.message
        assert ticket_status(self.live, self.code_of(t))["status"] == m.WAITING
        assert self.serve(1)["id"] == t["id"]
        assert self.officer(1) == "Trần Văn Minh"
        self.tablet_rate(1, self.tickets[t["id"]], 4)
        self.sign_in(2)
        self.sign_in(1)

    def leaving_with_a_ticket_in_hand(self) -> None:
        """canbo2 signs out with a ticket called: asked what to do; "put back" leaves
        the ticket at the head of the queue, the counter closed on the TV and the
        citizen's phone no longer sending them to counter 2.  Back at the counter,
        canbo2 calls it again and signs out with "finish"."""
        self.issue("CT")
        t = self.call(2)
        self.clients.phone_open(self.code_of(t))
        self.clients.phone_shows(self.code_of(t), "called", counter=2)
        asked = self.refused(self.staff[2], "/auth/sign-out", {})
        assert (asked.status, asked.code) == (409, "ticket_in_hand")
        assert t["display_number"] in asked.message
        assert ticket_status(self.live, self.code_of(t))["status"] == m.CALLED
        self.staff[2].request("POST", "/auth/sign-out", json_body={"ticket": "requeue"})
        self.signed_out(2)
        card = display_counter(self.live, 2)
        assert card["state"] == "closed" and card["current"] is None and card["staff"] is None
        status = ticket_status(self.live, self.code_of(t))
        assert status["status"] == m.WAITING and status["waiting_before"] == 0
        self.clients.phone_shows(self.code_of(t), "waiting")  # no longer sent to counter 2
        self.sign_in(2)
        assert self.call(2)["id"] == t["id"]
        self.staff[2].request("POST", "/auth/sign-out", json_body={"ticket": "complete"})
        self.done_by[t["id"]] = (2, "canbo2")
        self.signed_out(2)
        assert ticket_status(self.live, self.code_of(t))["status"] == m.DONE
        assert display_counter(self.live, 2)["state"] == "closed"
        self.sign_in(2)

    def a_console_left_alone_closes(self) -> None:
        """canbo3's console is gone (browser closed, network down) for longer than
        the office's idle_close_minutes: counter 3 closes by itself and its ticket
        goes back to the head of the queue; canbo3 signs in again."""
        self.issue("CU")
        t = self.call(3)
        stale = self.staff[3]
        console_gone_for(self.live, 3, 16)  # the office default is 15 minutes
        wait_for(lambda: display_counter(self.live, 3)["state"] == "closed",
                 what="counter 3 closed by the idle check")
        self.signed_out(3)
        status = ticket_status(self.live, self.code_of(t))
        assert status["status"] == m.WAITING and status["waiting_before"] == 0
        assert self.refused(stale, f"/counters/{self.cid(3)}/call-next").code == "session_ended"
        for n in (1, 2):
            assert display_counter(self.live, n)["state"] == "open"
        self.sign_in(3)

    def a_tablet_cannot_rate_another_counters_ticket(self) -> None:
        t = self.serve(2)   # a CT ticket, served at counter 2
        with pytest.raises(ApiError) as refused:
            self.tablets[1].rate(level=1, ticket_code=t["code"])
        assert refused.value.status == 409 and refused.value.code == "served_elsewhere"
        assert "quầy khác" in refused.value.message
        # the citizen rates it on the phone instead
        assert self.clients.phone_rate(t["code"], 3) == "rated"
        self.expected_counted[t["id"]] = "web"

    def transfer(self) -> None:
        """Counter 1 sends an HT ticket to Chứng thực; counter 2 serves it there."""
        t = self.call(1)
        self.act(1, "transfer", service_id=self.services["CT"])
        served = self.serve(2)
        if served["id"] != t["id"]:          # a CT ticket was ahead of it
            served = self.serve(2)
        assert served["id"] == t["id"]
        self.tablet_rate(2, served, 1, reasons=("long_wait",))

    def no_shows_brought_back(self) -> None:
        """Counter 3 calls, recalls and marks a no-show; the lobby keypad says so
        (no code to rate with).  The citizen comes to the counter: the console's
        list of today's no-shows has the ticket, the officer brings it back and
        serves it.  A second no-show is cancelled from the same list."""
        self.issue("CU")
        t = self.call(3)
        self.staff[3].request("POST", f"/counters/{self.cid(3)}/recall")
        self.act(3, "no-show")
        assert ticket_status(self.live, self.code_of(t))["status"] == m.NO_SHOW
        found = self.clients.lobby_find(t["display_number"], self.check_code_of(t))
        assert found["kind"] == NOT_SERVED, found
        self.clients.lobby_back()
        listed = self.console_state(3)["no_shows"]
        assert [n["id"] for n in listed if n["here"]] == [t["id"]]
        self.staff[3].request("POST", f"/tickets/{t['id']}/reactivate")
        assert ticket_status(self.live, self.code_of(t))["status"] == m.WAITING
        assert self.console_state(3)["no_shows"] == []
        assert self.serve(3)["id"] == t["id"]

        self.issue("CU")
        gone = self.call(3)
        self.act(3, "no-show")
        assert [n["id"] for n in self.console_state(3)["no_shows"]] == [gone["id"]]
        self.staff[3].request("POST", f"/tickets/{gone['id']}/cancel")
        assert self.console_state(3)["no_shows"] == []
        assert ticket_status(self.live, self.code_of(gone))["status"] == m.CANCELLED

    def lobby_with_and_without_proof(self) -> None:
        """At the kiosk's keypad: a waiting ticket is "not served yet"; a served one
        is found only with the check code printed on it, and rated there.  The
        citizen's phone page, open meanwhile, then cannot rate it again."""
        waiting = self.issue("CU")
        found = self.clients.lobby_find(waiting["display_number"], waiting["check_code"])
        assert found["kind"] == NOT_SERVED, found
        self.clients.lobby_back()
        t = self.serve(3)
        assert t["id"] != waiting["id"]
        self.clients.phone_open(t["code"])
        wrong = f"{(int(t['check_code']) + 1) % 10000:04d}"
        found = self.clients.lobby_find(t["display_number"], wrong)     # no proof: nothing
        assert found["kind"] == NOT_FOUND, found
        self.clients.lobby_back()
        found = self.clients.lobby_find(t["display_number"], t["check_code"])
        assert found == {"kind": FOUND, "number": t["display_number"]}, found
        self.clients.lobby_rate(2, ("long_wait",))
        self.expected_counted[t["id"]] = "kiosk"
        assert self.clients.phone_rate(t["code"], 4) == "already_rated"  # one rating per ticket

    def admin_changes_a_service(self) -> None:
        """Mid-day the admin adds a prefixed service: off the kiosk and refused until a
        counter serves it; then counter 4 serves it and its first ticket is rated at the
        lobby by its short number."""
        admin = WebOfficer.at(self.live, "quantri", None)
        r = admin.form("/admin/services", {
            "code": "KT", "name": "Kinh tế", "icon": "service", "prefix": "A",
            "number_start": "1", "number_end": "999", "sort_order": "9",
            "default_service_minutes": "8", "hours": "", "active": "on", "daily_cap": ""})
        assert r.status_code == 302, r.text[:500]
        listed = {s["code"]: s for s in self.kiosk.services()["services"]}
        self.services["KT"] = listed["KT"]["id"]
        assert listed["KT"]["counters"] == []
        self.clients.kiosk_offers("KT", sent=True, button=False)
        with pytest.raises(ApiError) as refused:    # forged: the kiosk has no button for it
            self.kiosk.request("POST", "/tickets", json_body={"service_id": self.services["KT"]})
        assert refused.value.code == "no_counter_serves"
        fields = {"number": "4", "name": "Quầy 4", "active": "on"}
        for code in ("DD", "KT"):        # and no longer Chứng thực
            fields[f"svc_{self.services[code]}"] = "on"
            fields[f"weight_{self.services[code]}"] = "1"
        r = admin.form(f"/admin/counters/{self.cid(4)}", fields)
        assert r.status_code == 302, r.text[:500]
        self.clients.kiosk_offers("KT", sent=True, button=True)
        t = self.issue("KT")
        assert t["display_number"] == "A001"
        self.admin_edits_a_service_in_use(admin)
        self.clients.console_sign_in("canbo4", 4)          # through the console's sign-in
        self.signed_in[4] = "canbo4"
        called = self.clients.console_call_next(t["code"])
        assert called["id"] == t["id"]
        self.clients.console_complete(called)
        self.done_by[t["id"]] = (4, "canbo4")
        found = self.clients.lobby_find("1", t["check_code"])   # typed without its letter
        assert found == {"kind": FOUND, "number": "A001"}, found
        self.clients.lobby_rate(4)
        self.expected_counted[t["id"]] = "kiosk"

    def admin_edits_a_service_in_use(self, admin: WebOfficer) -> None:
        """Chứng thực has tickets waiting: a block overlapping Hộ tịch's is refused
        (both would print 1001 the same day) and changes nothing; a new name and pace
        reach the kiosk at once, and the next ticket stays in the service's block."""
        path = f"/admin/services/{self.services['CT']}"
        fields = service_form(admin.http.get(self.url + path, timeout=10).text)
        before = {s["code"]: s for s in self.kiosk.services()["services"]}["CT"]
        r = admin.form(path, {**fields, "number_start": "1500", "number_end": "2500"})
        page = admin.http.get(self.url + r.headers["Location"], timeout=10).text \
            if r.status_code == 302 else r.text
        assert "trùng với dãy số của HT (1001–1999)" in page, page[:600]
        assert {s["code"]: s for s in self.kiosk.services()["services"]}["CT"] == before
        r = admin.form(path, {**fields, "name": "Chứng thực bản sao",
                              "default_service_minutes": "4"})
        assert r.status_code == 302, r.text[:500]
        after = {s["code"]: s for s in self.kiosk.services()["services"]}["CT"]
        assert after["name"] == "Chứng thực bản sao"
        t = self.issue("CT")
        assert 2001 <= int(t["display_number"]) <= 2999, t["display_number"]

    def afternoon(self) -> None:
        """The queues empty: everything waiting is served or cancelled."""
        for n in (1, 2, 3):
            while True:
                try:
                    t = self.call(n)
                except ApiError as err:
                    assert err.code == "queue_empty", err
                    break
                if t["service_code"] == "BHYT":
                    self.act(n, "cancel")
                else:
                    self.act(n, "complete")
                    if t["id"] % 2:
                        self.tablet_rate(n, self.tickets[t["id"]], 3)

    def closing(self) -> None:
        """canbo4 signs out of the console: counter 4 closes."""
        self.clients.console_sign_out()
        self.signed_in.pop(4)

    # ------------------------------------------------------------------ the checks
    def check_end_of_day(self) -> None:
        engine = create_engine(self.live.db_url)
        try:
            with Session(engine) as s:
                self._check(s)
        finally:
            engine.dispose()

    def _check(self, s: Session) -> None:
        office = s.get(m.Office, self.creds["office_id"])
        tickets = {t.id: t for t in s.scalars(select(m.Ticket))}
        assert set(tickets) == set(self.tickets)
        # 1. every ticket ends in exactly one final state, the one its events end with
        for t in tickets.values():
            assert t.status in FINAL, (t.display_number, t.status)
            types = [ev.type for ev in s.scalars(select(m.Event).where(
                m.Event.ticket_id == t.id, m.Event.type.like("ticket.%")).order_by(m.Event.id))]
            assert types[-1] == FINAL[t.status], (t.display_number, types)
            last_back = max((i for i, ty in enumerate(types)
                             if ty in ("ticket.reactivated", "ticket.transferred")), default=-1)
            finals = [ty for ty in types[last_back + 1:] if ty in FINAL.values()]
            # one final state since it was last back in a queue; a no-show may be
            # cancelled from the console's list afterwards (then it is cancelled only)
            assert finals in ([FINAL[t.status]], ["ticket.no_show", "ticket.cancelled"]), types
        # ... completed at the counter, by the officer, it was completed by (moves,
        # releases and stale sessions credit nobody else)
        users = {u.username: u.id for u in s.scalars(select(m.User))}
        done = {i: (t.counter_id, t.staff_id) for i, t in tickets.items() if t.status == m.DONE}
        assert done == {i: (self.cid(n), users[who]) for i, (n, who) in self.done_by.items()}
        # 2. every counter's state matches who is signed in
        for c in s.scalars(select(m.Counter)):
            who = self.signed_in.get(c.number)
            if who is None:
                assert (c.state, c.staff_id) == ("closed", None), (c.number, c.state)
            else:
                assert c.state in ("open", "paused") and c.staff_id == users[who], c.number
        # ... and the lobby TV shows each counter as it is
        for c in s.scalars(select(m.Counter)):
            card = display_counter(self.live, c.number)
            who = self.signed_in.get(c.number)
            assert card["state"] == c.state and card["current"] is None, card
            assert (card["staff"] or {}).get("id", None) == (users[who] if who else None), card
        # 3. every counted rating belongs to the ticket's own counter, made by its holder
        counted = list(s.scalars(select(m.Rating).where(m.Rating.misuse.is_(False))))
        # nothing stored as misuse either: a press with no ticket is refused, not kept
        assert s.scalar(select(func.count()).select_from(m.Rating)) == len(counted)
        assert {r.ticket_id: r.channel for r in counted} == self.expected_counted
        devices = {d.id: d for d in s.scalars(select(m.Device))}
        for r in counted:
            t = tickets[r.ticket_id]
            assert (r.counter_id, r.staff_id, r.service_id) == (t.counter_id, t.staff_id,
                                                                 t.service_id)
            if r.channel == "tablet":
                assert devices[r.device_id].counter_id == t.counter_id
        # 4. the report's figures equal a count made from the tickets
        today = dt.datetime.now(ZoneInfo(office.timezone)).date().isoformat()
        leader = requests.post(self.url + "/api/v1/auth/token", timeout=10, json={
            "username": "lanhdao", "password": self.creds["users"]["lanhdao"]["password"]})
        headers = {"Authorization": "Bearer " + leader.json()["token"]}
        report = requests.get(self.url + "/api/v1/reports/summary", headers=headers, timeout=10,
                              params={"from": today, "to": today, "group_by": "counter"}).json()
        status = Tally(t.status for t in tickets.values())
        total = report["total"]
        assert (total["issued"], total["served"], total["no_show"], total["cancelled"]) == (
            len(tickets), status[m.DONE], status[m.NO_SHOW], status[m.CANCELLED]), total
        assert total["rated"] == len(counted)
        assert nonzero(total["levels"]) == {str(k): v for k, v in
                                            Tally(r.level for r in counted).items()}
        numbers = {c.id: c.number for c in s.scalars(select(m.Counter))}
        by_counter = {row["key"]: row for row in report["rows"]}
        for cid, row in by_counter.items():
            if cid is None:
                continue
            mine = [t for t in tickets.values() if t.counter_id == cid]
            levels = Tally(str(r.level) for r in counted if r.counter_id == cid)
            assert (row["served"], row["no_show"], row["cancelled"], row["rated"]) == (
                sum(t.status == m.DONE for t in mine), sum(t.status == m.NO_SHOW for t in mine),
                sum(t.status == m.CANCELLED for t in mine), sum(levels.values())), row
            assert nonzero(row["levels"]) == dict(levels), row
        served = {numbers[t.counter_id] for t in tickets.values() if t.status == m.DONE}
        assert {numbers[k] for k in by_counter if k is not None} >= served


def service_form(html: str) -> dict[str, str]:
    """The fields of an admin service form as the page shows them."""
    fields = dict(re.findall(r'<input name="([a-z_]+)"[^>]*?value="([^"]*)"', html))
    fields.update(re.findall(r'<textarea name="([a-z_]+)"[^>]*>([^<]*)</textarea>', html))
    fields["icon"] = re.search(r'<select name="icon">.*?<option selected>([^<]+)<', html, re.S)[1]
    if re.search(r'name="active" checked', html):
        fields["active"] = "on"
    return {k: v.replace("&amp;", "&") for k, v in fields.items()}


def nonzero(levels: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in levels.items() if v}


#: The day, in order.  Each step is independent enough to insert new ones between.
DAY: list[Callable[[OfficeDay], None]] = [
    OfficeDay.morning,
    OfficeDay.tablet_pressed_early_and_on_time,
    OfficeDay.pause_and_resume,
    OfficeDay.officer_moves_counters,
    OfficeDay.a_released_counter_and_a_displaced_session,
    OfficeDay.leaving_with_a_ticket_in_hand,
    OfficeDay.a_console_left_alone_closes,
    OfficeDay.a_tablet_cannot_rate_another_counters_ticket,
    OfficeDay.transfer,
    OfficeDay.no_shows_brought_back,
    OfficeDay.lobby_with_and_without_proof,
    OfficeDay.admin_changes_a_service,
    OfficeDay.afternoon,
    OfficeDay.closing,
]


def started_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """``motcua serve`` whose idle-counter check runs every half second (the
    office's idle_close_minutes stays the default 15)."""
    server = LiveServer(db_url, tmp_path / "instance", seed_database(db_url), threads=8,
                        env={"MOTCUA_IDLE_CHECK_SECONDS": "0.5"}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def office_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """On SQLite and on PostgreSQL."""
    yield from started_server(db_url, tmp_path)


@pytest.fixture
def sqlite_office_server(sqlite_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """On SQLite: the real clients' day is as long on PostgreSQL (the clients, not
    the database, set its pace), the same day over HTTP runs on both."""
    yield from started_server(sqlite_url, tmp_path)


def run_day(live: LiveServer, clients: HttpClients | RealClients) -> OfficeDay:
    clients.start()
    try:
        day = OfficeDay(live, clients)
        for step in DAY:
            started = time.monotonic()
            step(day)
            day.seconds[step.__name__] = round(time.monotonic() - started, 1)
        day.check_end_of_day()
        print("seconds per step:", day.seconds)
        return day
    finally:
        clients.close()


def test_an_office_day(office_server, tmp_path) -> None:
    """The clients' requests sent straight over HTTP (SQLite and PostgreSQL)."""
    run_day(office_server, HttpClients(office_server, tmp_path))


def test_an_office_day_with_the_real_clients(sqlite_office_server, tmp_path) -> None:
    """The Kivy kiosk and tablets, the phone page and a console in Chromium."""
    clients = RealClients(sqlite_office_server, tmp_path)
    run_day(sqlite_office_server, clients)
    for name, shot in clients.shots.items():   # what people saw, kept as artifacts
        assert Path(shot).stat().st_size > 5000, name
