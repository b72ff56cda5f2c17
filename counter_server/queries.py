"""Read-side views shared by the API, the phone page and the web display."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import engine as e
from . import models as m
from . import statements as st
from .defaults import office_settings
from .i18n import _


def counters_by_service(s: Session, office_id: int) -> dict[int, list[int]]:
    rows = s.execute(select(m.CounterService.service_id, m.Counter.number)
                     .join(m.Counter, m.Counter.id == m.CounterService.counter_id)
                     .where(m.Counter.office_id == office_id, m.Counter.active.is_(True))
                     .order_by(m.Counter.number)).all()
    out: dict[int, list[int]] = {}
    for sid, num in rows:
        out.setdefault(sid, []).append(num)
    return out


def office_info(office: m.Office) -> dict[str, Any]:
    st = office_settings(office.settings)
    return {"id": office.id, "name": office.name, "address": office.address,
            "timezone": office.timezone, "opening_hours": office.opening_hours,
            "enforce_hours": st["enforce_hours"], "notice": st["notice"],
            "kiosk_priority_step": st["kiosk_priority_step"],
            "public_url": st["public_url"], "wifi_hint": st["wifi_hint"]}


def services_view(s: Session, office_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or e.utcnow()
    office = s.get(m.Office, office_id)
    waiting = e.waiting_counts(s, office_id)
    issued = e.issued_today(s, office, now)
    serving = counters_by_service(s, office_id)
    services = []
    for svc in s.scalars(select(m.Service).where(m.Service.office_id == office_id,
                                                 m.Service.active.is_(True))
                         .order_by(m.Service.sort_order, m.Service.id)):
        is_open, reason = e.service_open_state(office, svc, now, issued.get(svc.id, 0))
        n = waiting.get(svc.id, 0)
        services.append({
            "id": svc.id, "code": svc.code, "name": svc.name, "icon": svc.icon,
            "prefix": svc.prefix, "sort_order": svc.sort_order,
            "open": is_open, "closed_reason": reason,
            "closed_message": _(e.CLOSED_MESSAGES[reason]) if reason else "",
            "waiting": n, "estimated_wait_minutes": e.estimate_wait_minutes(s, svc, n),
            "counters": serving.get(svc.id, []), "daily_cap": svc.daily_cap,
            "issued_today": issued.get(svc.id, 0), "hours": svc.hours,
        })
    st = office_settings(office.settings)
    office_open = not st["enforce_hours"] or e.within_hours(office.opening_hours,
                                                            e.local_time(office, now))
    info = office_info(office)
    info["open"] = office_open
    info["local_time"] = e.local_time(office, now).isoformat()
    return {"office": info, "services": services,
            "rating": {"levels": st["rating_levels"], "reasons": st["rating_reasons"],
                       "timeout_seconds": st["rating_timeout_seconds"]}}


def ticket_view(s: Session, t: Any, *, with_code: bool = False,
                service: Any = None) -> dict[str, Any]:
    """A ticket as the API shows it; ``t`` is an ORM object or a ticket row,
    ``service`` its service's row if the caller has it (a waiting ticket at no
    counter then needs nothing more of the ticket view statement)."""
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
            s, svc, ahead, sum(c.state == "open" for c in serving)) if waiting else 0,
        "status_path": f"/t/{t.code}", "transfer_chain": t.transfer_chain,
        "rated": t.status == m.DONE and svc.ratings > 0,
    })
    if with_code:
        base["code"] = t.code
    return base


def counter_view(s: Session, c: m.Counter) -> dict[str, Any]:
    staff = s.get(m.User, c.staff_id) if c.staff_id else None
    cur = s.get(m.Ticket, c.current_ticket_id) if c.current_ticket_id else None
    current = None
    if cur is not None and cur.status in (m.CALLED, m.SERVING):
        svc = s.get(m.Service, cur.service_id)
        current = {"ticket_id": cur.id, "display_number": cur.display_number,
                   "status": cur.status, "service_id": cur.service_id,
                   "service_code": svc.code, "service_name": svc.name,
                   "called_at": e.iso(cur.called_at), "started_at": e.iso(cur.started_at),
                   "issued_at": e.iso(cur.issued_at), "priority_class": cur.priority_class,
                   "transfer_chain": cur.transfer_chain, "recall_count": cur.recall_count}
    return {"id": c.id, "number": c.number, "name": c.name, "state": c.state,
            "pause_reason": c.pause_reason,
            "services": [cs.service_id for cs in c.services],
            "staff": {"id": staff.id, "full_name": staff.full_name,
                      "photo_url": f"/photos/{staff.id}" if staff.photo else None}
            if staff else None,
            "current": current}


def display_snapshot(s: Session, office_id: int, recent: int = 10) -> dict[str, Any]:
    office = s.get(m.Office, office_id)
    last_id = s.scalar(select(func.max(m.Event.id)).where(m.Event.office_id == office_id)) or 0
    counters = [counter_view(s, c) for c in s.scalars(
        select(m.Counter).where(m.Counter.office_id == office_id, m.Counter.active.is_(True))
        .order_by(m.Counter.number))]
    calls = []
    # Recent calls of today's service day only: a TV never starts the day with yesterday's.
    local = e.local_time(office, e.utcnow())
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0) \
        .astimezone(dt.timezone.utc).replace(tzinfo=None)
    for ev in s.scalars(select(m.Event).where(
            m.Event.office_id == office_id, m.Event.id <= last_id,
            m.Event.created_at >= day_start,
            m.Event.type.in_(("ticket.called", "ticket.recalled")))
            .order_by(m.Event.id.desc()).limit(recent)):
        tk = ev.payload.get("ticket", {})
        calls.append({"event_id": ev.id, "type": ev.type,
                      "display_number": tk.get("display_number"),
                      "counter_number": tk.get("counter_number"),
                      "service_id": tk.get("service_id"), "at": e.iso(ev.created_at)})
    view = services_view(s, office_id)
    # The TV scrolls the notice or shows it still (office setting display_ticker).
    office_block = {**view["office"],
                    "display_ticker": bool(office_settings(office.settings)["display_ticker"])}
    return {"office": office_block, "counters": counters, "recent_calls": calls,
            "services": [{k: sv[k] for k in ("id", "code", "name", "waiting",
                                             "estimated_wait_minutes", "open")}
                         for sv in view["services"]],
            "last_event_id": last_id,
            "voice": {k: office_settings(office.settings)[k] for k in
                      ("announcement_template", "voice_engine", "voice_number_mode",
                       "voice_repeat")}}
