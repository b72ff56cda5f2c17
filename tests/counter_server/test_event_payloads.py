"""What each event carries: the ticket and the counter as screens show them
and the office's new waiting counts; never the ticket's public code."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from counter_server import engine as e
from counter_server import models as m
from counter_server.event_types import PAYLOADS
from counter_server.queries import services_view
from tests.counter_server.engine_support import T0, ctr, svc

TICKET_KEYS = {"id", "number", "display_number", "service_id", "status", "priority_class",
               "counter_id", "counter_number", "target_counter_id", "recall_count",
               "issued_at", "called_at", "started_at", "finished_at", "transfers"}
COUNTER_KEYS = {"id", "number", "name", "state", "pause_reason", "staff_id",
                "current_ticket_id", "staff"}
SERVICE_KEYS = {"id", "waiting", "estimated_wait_minutes", "open", "closed_reason",
                "issued_today"}


def _events_after(db, last: int) -> list[m.Event]:
    with db.read() as s:
        return list(s.scalars(select(m.Event).where(m.Event.id > last).order_by(m.Event.id)))


def _last(db) -> int:
    with db.read() as s:
        return max(s.scalars(select(m.Event.id)), default=0)


def test_every_queue_event_carries_ticket_counter_and_waiting_counts(env) -> None:
    db, creds = env
    office, staff = creds["office_id"], creds["users"]["canbo1"]["id"]
    start = _last(db)
    codes = []
    t = [None] * 3
    with db.write() as s:
        for i, code in enumerate(("HT", "HT", "BHYT")):
            issued = e.issue_ticket(s, office, svc(creds, code), now=T0 + dt.timedelta(seconds=i))
            t[i] = issued.ticket
            codes.append(issued.ticket.code)
    later = T0 + dt.timedelta(minutes=5)
    with db.write() as s:
        first = e.call_next(s, ctr(creds, 1), staff, now=later)
    with db.write() as s:
        e.recall(s, ctr(creds, 1), staff, now=later)
    with db.write() as s:
        e.start(s, first.id, ctr(creds, 1), staff, now=later)
    with db.write() as s:
        e.complete(s, first.id, ctr(creds, 1), staff, now=later + dt.timedelta(minutes=6))
    with db.write() as s:
        e.pause(s, ctr(creds, 1), staff, "Họp", now=later)
    with db.write() as s:
        e.transfer(s, t[1].id, ctr(creds, 2), None, to_service_id=svc(creds, "CT"), now=later)
    with db.write() as s:
        e.cancel(s, t[2].id, ctr(creds, 1), staff, now=later)
    events = _events_after(db, start)
    assert [ev.type for ev in events] == [
        "ticket.issued", "ticket.issued", "ticket.issued", "ticket.called", "ticket.recalled",
        "ticket.started", "ticket.completed", "counter.updated", "ticket.transferred",
        "ticket.cancelled"]
    for ev in events:
        body = ev.payload
        assert set(body) == set(PAYLOADS[ev.type]), (ev.type, set(body))
        text = json.dumps(body)
        assert "code" not in body.get("ticket", {}) and not any(c in text for c in codes)
        if "ticket" in body:
            assert set(body["ticket"]) == TICKET_KEYS
        if "counter" in body:
            assert set(body["counter"]) == COUNTER_KEYS
        assert all(set(q) == SERVICE_KEYS for q in body["services"])
        # The console shows where a transferred citizen has been, by name.
        hops = body["ticket"]["transfers"] if "ticket" in body else []
        if ev.type == "ticket.transferred":
            assert [(h["from_service"], h["to_service"]) for h in hops] == [
                ("Tư pháp – Hộ tịch", "Chứng thực")], hops
        else:
            assert hops == []

    def waiting(ev, code):
        return next(q["waiting"] for q in ev.payload["services"] if q["id"] == svc(creds, code))

    assert [waiting(ev, "HT") for ev in events[:3]] == [1, 2, 2]
    assert waiting(events[2], "BHYT") == 1
    called = events[3].payload
    assert waiting(events[3], "HT") == 1  # the first HT ticket left the queue
    assert called["ticket"]["display_number"] == t[0].display_number
    assert called["counter"]["current_ticket_id"] == t[0].id
    assert called["counter"]["staff"]["full_name"] == "Nguyễn Thị Hoa"
    assert events[4].payload["ticket"]["recall_count"] == 1
    assert events[6].payload["counter"]["current_ticket_id"] is None
    assert events[7].payload["counter"]["state"] == "paused"
    assert events[7].payload["action"] == "paused"
    assert waiting(events[8], "HT") == 0 and waiting(events[8], "CT") == 1
    assert waiting(events[9], "BHYT") == 0
    # The counts are the kiosk's: the last event says what GET /services says now.
    with db.read() as s:
        shown = services_view(s, office, later)
    assert [{k: q[k] for k in SERVICE_KEYS} for q in shown["services"]] == \
        events[-1].payload["services"]
    assert shown["last_event_id"] == events[-1].id
    # The expected waits are those a ticket's own view computes (ticket_view).
    with db.write() as s:  # one more waiting for HT, whose pace is the 6-minute case
        e.issue_ticket(s, office, svc(creds, "HT"), now=later)
    with db.read() as s:
        queue = e.office_queue(s.connection(), office, later)[2]
        for q in queue:
            service = s.get(m.Service, q["id"])
            assert q["estimated_wait_minutes"] == e.estimate_wait_minutes(s, service, q["waiting"])
        ht = next(q for q in queue if q["id"] == svc(creds, "HT"))
        assert ht["waiting"] == 1 and ht["estimated_wait_minutes"] == 6


def test_daily_cap_closes_the_service_in_the_event(env) -> None:
    db, creds = env
    with db.write() as s:
        s.get(m.Service, svc(creds, "CU")).daily_cap = 1
    start = _last(db)
    with db.write() as s:
        e.issue_ticket(s, creds["office_id"], svc(creds, "CU"), now=T0)
    (ev,) = _events_after(db, start)
    cu = next(q for q in ev.payload["services"] if q["id"] == svc(creds, "CU"))
    assert cu == {"id": svc(creds, "CU"), "waiting": 1, "estimated_wait_minutes": cu[
        "estimated_wait_minutes"], "open": False, "closed_reason": "daily_cap_reached",
        "issued_today": 1}
