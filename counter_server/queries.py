"""Read-side views shared by the API, the phone page and the web display.

The screens' snapshots (``GET /services``, ``/display``, ``/counters/{id}``)
are a few prebuilt Core statements each (statements.py) and carry a weak
ETag (:func:`snapshot_tag`): a screen that asks again with ``If-None-Match``
gets 304 when nothing it shows has changed.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from . import engine as e
from . import models as m
from . import statements as st
from .defaults import office_settings
from .i18n import _, current_lang
from .ratings import check_code

RECENT_CALLS = 10


def snapshot_tag(s: Session, office_id: int, kind: str,
                 now: dt.datetime | None = None) -> tuple[str, Any]:
    """(weak ETag value, office row) of a snapshot of ``kind`` for the office.

    What a snapshot shows changes with an event of the office (every queue,
    counter, device and admin change appends one), with the service day
    (numbers and today's calls start again) and with the clock crossing
    opening hours (the kiosk's open and closed buttons): the tag is made of
    exactly those, so it is two small statements, not the snapshot."""
    now = now or e.utcnow()
    conn = s.connection()
    office = conn.execute(st.OFFICE_STATE, {"b_office": office_id}).one()
    bits = ""
    if office_settings(office.settings)["enforce_hours"]:
        local = e.local_time(office, now)
        bits = "".join("1" if e.within_hours(h, local) else "0" for h in (
            office.opening_hours, *conn.execute(st.SERVICE_HOURS,
                                                {"b_office": office_id}).scalars()))
    day = e.service_day(office, now).isoformat()
    return f"{kind}-{office_id}-{office.last_event_id}-{day}-{bits}-{current_lang()}", office


def office_info(office: Any) -> dict[str, Any]:
    st_ = office_settings(office.settings)
    return {"id": office.id, "name": office.name, "address": office.address,
            "timezone": office.timezone, "opening_hours": office.opening_hours,
            "enforce_hours": st_["enforce_hours"], "notice": st_["notice"],
            "kiosk_priority_step": st_["kiosk_priority_step"],
            "kiosk_speech_default": st_["kiosk_speech_default"],
            "voice_engine": st_["voice_engine"], "voice_number_mode": st_["voice_number_mode"],
            "public_url": st_["public_url"], "wifi_hint": st_["wifi_hint"],
            "sms_contact": bool(st_["sms_enabled"] and st_["sms_webhook_url"])}


def _counter_numbers(conn: Any, office_id: int) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """(counter numbers per service, service ids per counter), active counters only."""
    by_service: dict[int, list[int]] = {}
    by_counter: dict[int, list[int]] = {}
    for sid, cid, number in conn.execute(st.SERVICE_COUNTER_NUMBERS, {"b_office": office_id}):
        by_service.setdefault(sid, []).append(number)
        by_counter.setdefault(cid, []).append(sid)
    return by_service, by_counter


def services_view(s: Session, office_id: int, now: dt.datetime | None = None,
                  office: Any = None, numbers: Any = None) -> dict[str, Any]:
    """``GET /services``: the office, its services as the kiosk shows them,
    the rating set-up and ``last_event_id`` (where a stream resumes).
    ``numbers``: ``_counter_numbers`` when the caller has read them."""
    now = now or e.utcnow()
    conn = s.connection()
    office, rows, queue, _paces = e.office_queue(conn, office_id, now, office)
    serving, _by_counter = numbers or _counter_numbers(conn, office_id)
    services = []
    for svc, q in zip(rows, queue):
        reason = q["closed_reason"]
        services.append({
            "id": svc.id, "code": svc.code, "name": svc.name, "icon": svc.icon,
            "prefix": svc.prefix, "sort_order": svc.sort_order,
            "open": q["open"], "closed_reason": reason,
            "closed_message": _(e.CLOSED_MESSAGES[reason]) if reason else "",
            "waiting": q["waiting"], "estimated_wait_minutes": q["estimated_wait_minutes"],
            "counters": serving.get(svc.id, []), "daily_cap": svc.daily_cap,
            "issued_today": q["issued_today"], "hours": svc.hours,
        })
    settings = office_settings(office.settings)
    local = e.local_time(office, now)
    info = office_info(office)
    info["open"] = not settings["enforce_hours"] or e.within_hours(office.opening_hours, local)
    info["local_time"] = local.isoformat()
    return {"office": info, "services": services, "last_event_id": office.last_event_id,
            "rating": {"levels": settings["rating_levels"], "reasons": settings["rating_reasons"],
                       "timeout_seconds": settings["rating_timeout_seconds"]}}


def ticket_view(s: Session, t: Any, *, with_code: bool = False,
                service: Any = None, pace: float | None = None) -> dict[str, Any]:
    """A ticket as the API shows it; ``t`` is an ORM object or a ticket row,
    ``service`` its service's row if the caller has it (a waiting ticket at no
    counter then needs nothing more of the ticket view statement), ``pace``
    the service's minutes per case if the caller has counted it."""
    conn = s.connection()
    svc = service if service is not None and service.id == t.service_id else None
    counter = None
    if svc is None or t.counter_id is not None or t.status == m.DONE:
        svc = conn.execute(st.TICKET_VIEW, {"b_service": t.service_id, "b_id": t.id,
                                            "b_counter": t.counter_id}).one()
        counter = SimpleNamespace(id=t.counter_id, number=svc.counter_number)
    base = e.ticket_summary(s, t, counter)
    serving = conn.execute(st.SERVICE_COUNTERS, {"b_service": t.service_id}).all()
    waiting = t.status == m.WAITING
    ahead = e.waiting_before(s, t) if waiting else 0
    base.update({
        "service_code": svc.code, "service_name": svc.name,
        "counters": [c.number for c in serving],
        "waiting_before": ahead,
        "estimated_wait_minutes": e.estimate_wait_minutes(
            s, svc, ahead, sum(c.state == "open" for c in serving), pace) if waiting else 0,
        "transfer_chain": t.transfer_chain,
        "rated": t.status == m.DONE and svc.ratings > 0,
    })
    if with_code:
        # Only the kiosk printing the ticket gets its secret: staff answers
        # carry neither the code nor anything derived from it.
        base.update({"code": t.code, "status_path": f"/t/{t.code}",
                     "check_code": check_code(t.code)})
    return base


def _counter_block(row: Any, services: list[int]) -> dict[str, Any]:
    """A counter row of ``st.COUNTER_VIEW`` as the API shows it."""
    current = None
    if row.current_ticket_id is not None and row.current_status in (m.CALLED, m.SERVING):
        current = {"ticket_id": row.current_ticket_id, "display_number": row.display_number,
                   "status": row.current_status, "service_id": row.current_service_id,
                   "service_code": row.service_code, "service_name": row.service_name,
                   "called_at": e.iso(row.called_at), "started_at": e.iso(row.started_at),
                   "issued_at": e.iso(row.issued_at), "priority_class": row.priority_class,
                   "transfer_chain": row.transfer_chain, "recall_count": row.recall_count}
    return {"id": row.id, "number": row.number, "name": row.name, "state": row.state,
            "pause_reason": row.pause_reason, "services": services,
            "staff": e.staff_brief(row.staff_id, row.staff_name, row.staff_photo),
            "current": current}


def counter_view(s: Session, c: Any, last_event_id: int | None = None) -> dict[str, Any]:
    """A counter (``c``: its ORM object or anything with its ``id``) with its
    officer and the ticket in hand."""
    conn = s.connection()
    row = conn.execute(st.COUNTER_VIEW, {"b_id": c.id}).one()
    services = [sid for sid, _w in conn.execute(st.COUNTER_SERVICES, {"b_id": c.id})]
    view = _counter_block(row, services)
    if last_event_id is not None:
        view["last_event_id"] = last_event_id
    return view


def display_snapshot(s: Session, office_id: int, recent: int = RECENT_CALLS,
                     office: Any = None) -> dict[str, Any]:
    """``GET /display``: counters, today's latest calls, waiting per service,
    the notice and voice settings, and ``last_event_id``."""
    now = e.utcnow()
    conn = s.connection()
    if office is None:
        office = conn.execute(st.OFFICE_STATE, {"b_office": office_id}).one()
    numbers = _counter_numbers(conn, office_id)
    view = services_view(s, office_id, now, office, numbers)
    last_id = view["last_event_id"]
    _serving, by_counter = numbers
    counters = [_counter_block(row, by_counter.get(row.id, []))
                for row in conn.execute(st.COUNTERS_VIEW, {"b_office": office_id})]
    # Recent calls of today's service day only: a TV never starts the day with yesterday's.
    today = e.service_day(office, now)
    calls = []
    for ev in conn.execute(st.RECENT_CALLS, {"b_office": office_id, "b_last": last_id,
                                             "b_limit": recent}):
        if e.service_day(office, ev.created_at) != today:
            continue
        calls.append({"event_id": ev.id, "type": ev.type, "display_number": ev.display_number,
                      "counter_number": ev.counter_number, "service_id": ev.service_id,
                      "at": e.iso(ev.created_at)})
    settings = office_settings(office.settings)
    # The TV scrolls the notice or shows it still (office setting display_ticker).
    office_block = {**view["office"], "display_ticker": bool(settings["display_ticker"])}
    return {"office": office_block, "counters": counters, "recent_calls": calls,
            "services": [{k: sv[k] for k in ("id", "code", "name", "waiting",
                                             "estimated_wait_minutes", "open")}
                         for sv in view["services"]],
            "last_event_id": last_id,
            "voice": {k: settings[k] for k in ("announcement_template", "voice_engine",
                                               "voice_number_mode", "voice_repeat")}}
