"""The counter page and its one authoritative JSON view.

``GET /console/state`` is what the page shows, computed fresh from the
database: the counter, the ticket in hand, the waiting list for this
counter's services and the officer's figures for today.  The page fetches
it when its event stream (re)connects and then keeps it up to date from the
events' payloads alone (static/console/console.js); every 30 seconds it
asks again with ``If-None-Match`` (its heartbeat for the idle-counter check,
a 304 while no event of the office has happened since).
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import redirect, render_template, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import engine as e
from .. import event_types
from .. import models as m
from ..api import get_db, snapshot
from ..defaults import office_settings
from ..queries import counter_view
from ..security import AuthError, current_principal, require
from . import bp

WAITING_LIMIT = 100
#: The events the officer's day figures count.
FIGURE_TYPES = ("ticket.called", "ticket.completed", "ticket.no_show", "ticket.transferred")
PAUSE_REASONS = ("Lunch break", "Meeting", "Fetching documents", "Technical problem", "Other")


def day_start_utc(office: m.Office, now: dt.datetime) -> dt.datetime:
    """Midnight of the office's local day, as naive UTC (the storage convention)."""
    local = e.local_time(office, now)
    midnight = dt.datetime.combine(local.date(), dt.time(), ZoneInfo(office.timezone))
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _seconds(a: dt.datetime | None, b: dt.datetime | None) -> int | None:
    return None if a is None or b is None else max(0, int((b - a).total_seconds()))


def service_names(s: Session, office_id: int) -> dict[int, str]:
    return {sv.id: sv.name for sv in s.scalars(select(m.Service).where(
        m.Service.office_id == office_id))}


def waiting_list(s: Session, c: m.Counter, now: dt.datetime,
                 names: dict[int, str]) -> list[dict[str, Any]]:
    """The tickets this counter may call (the page then keeps it from the
    ticket events: ``console.js`` applies the same rule)."""
    service_ids = [cs.service_id for cs in c.services]
    rows = s.scalars(select(m.Ticket).where(
        m.Ticket.office_id == c.office_id, m.Ticket.status == m.WAITING,
        or_(m.Ticket.target_counter_id == c.id,
            m.Ticket.service_id.in_(service_ids) & m.Ticket.target_counter_id.is_(None)))
        .order_by(m.Ticket.issued_at, m.Ticket.id).limit(WAITING_LIMIT))
    return [{"id": t.id, "display_number": t.display_number, "service_id": t.service_id,
             "service_name": names.get(t.service_id, ""), "priority_class": t.priority_class,
             "issued_at": e.iso(t.issued_at), "wait_seconds": _seconds(t.issued_at, now),
             "for_this_counter": t.target_counter_id == c.id,
             "transferred": bool(t.transfer_chain)} for t in rows]


def no_show_list(s: Session, c: m.Counter, office: m.Office,
                 now: dt.datetime, names: dict[int, str]) -> list[dict[str, Any]]:
    """Today's no-shows this counter may bring back: marked here, or of its services."""
    service_ids = [cs.service_id for cs in c.services]
    rows = s.scalars(select(m.Ticket).where(
        m.Ticket.office_id == c.office_id, m.Ticket.status == m.NO_SHOW,
        m.Ticket.service_day == e.service_day(office, now),
        or_(m.Ticket.counter_id == c.id, m.Ticket.service_id.in_(service_ids)))
        .order_by(m.Ticket.finished_at.desc(), m.Ticket.id.desc()).limit(WAITING_LIMIT))
    return [{"id": t.id, "display_number": t.display_number, "service_id": t.service_id,
             "service_name": names.get(t.service_id, ""), "marked_at": e.iso(t.finished_at),
             "here": t.counter_id == c.id} for t in rows]


def device_faults(s: Session, office_id: int) -> list[dict[str, Any]]:
    """The office's devices reporting a fault (a kiosk's printer out of paper...)."""
    return [{"id": d.id, "name": d.name, "kind": d.kind, "message": d.last_error}
            for d in s.scalars(select(m.Device).where(
                m.Device.office_id == office_id, m.Device.revoked.is_(False),
                m.Device.status == "error").order_by(m.Device.id))]


def today_figures(s: Session, office: m.Office, staff_id: int, now: dt.datetime) -> dict[str, Any]:
    """The officer's own day, read from the event log and the tickets it produced."""
    since = day_start_utc(office, now)
    counts = dict(s.execute(select(m.Event.type, func.count()).where(
        m.Event.office_id == office.id, m.Event.staff_id == staff_id, m.Event.created_at >= since,
        m.Event.type.in_(FIGURE_TYPES)).group_by(m.Event.type)).all())
    done = s.execute(select(m.Ticket.issued_at, m.Ticket.called_at, m.Ticket.started_at,
                            m.Ticket.finished_at).where(
        m.Ticket.office_id == office.id, m.Ticket.staff_id == staff_id,
        m.Ticket.status == m.DONE, m.Ticket.finished_at >= since)).all()
    serve = [_seconds(r.started_at, r.finished_at) for r in done]
    waits = [_seconds(r.issued_at, r.called_at) for r in done]
    serve = [x for x in serve if x is not None]
    waits = [x for x in waits if x is not None]
    levels = office_settings(office.settings)["rating_levels"]
    good = {lv["value"] for lv in levels if lv.get("official") in ("very_satisfied", "satisfied")}
    ratings = [lv for (lv,) in s.execute(select(m.Rating.level).where(
        m.Rating.office_id == office.id, m.Rating.staff_id == staff_id,
        m.Rating.created_at >= since, m.Rating.misuse.is_(False)))]
    return {"called": counts.get("ticket.called", 0), "completed": counts.get("ticket.completed", 0),
            "no_show": counts.get("ticket.no_show", 0),
            "transferred": counts.get("ticket.transferred", 0),
            "avg_service_minutes": round(sum(serve) / len(serve) / 60, 1) if serve else None,
            "avg_wait_minutes": round(sum(waits) / len(waits) / 60, 1) if waits else None,
            # The sums behind the averages: the page adds each completed ticket.
            "serve_seconds": [sum(serve), len(serve)], "wait_seconds": [sum(waits), len(waits)],
            "ratings": len(ratings),
            "satisfied_percent": round(100 * sum(1 for r in ratings if r in good) / len(ratings))
            if ratings else None}


def console_state(s: Session, counter_id: int, staff_id: int) -> dict[str, Any]:
    now = e.utcnow()
    c = s.get(m.Counter, counter_id)
    office = s.get(m.Office, c.office_id)
    view = counter_view(s, c)
    current = None
    if view["current"]:
        t = s.get(m.Ticket, view["current"]["ticket_id"])
        current = dict(view["current"])
        current.update({"wait_seconds": _seconds(t.issued_at, t.called_at or now),
                        "serving_seconds": _seconds(t.started_at, now),
                        "transfers": e.transfer_history(s.connection(), t.transfer_chain)})
    last_id = s.scalar(select(func.max(m.Event.id)).where(m.Event.office_id == office.id)) or 0
    names = service_names(s, office.id)
    return {"now": e.iso(now), "last_event_id": last_id, "me": staff_id,
            "counter": {k: view[k] for k in ("id", "number", "name", "state", "pause_reason",
                                             "services", "staff")},
            "someone_else": bool(view["staff"] and view["staff"]["id"] != staff_id),
            "current": current, "waiting": waiting_list(s, c, now, names),
            "waiting_limit": WAITING_LIMIT, "service_names": names,
            "figure_types": list(FIGURE_TYPES),
            "service_day": e.service_day(office, now).isoformat(),
            "no_shows": no_show_list(s, c, office, now, names),
            "device_faults": device_faults(s, office.id),
            "figures": today_figures(s, office, staff_id, now)}


@bp.route("/console")
@require("staff", html=True)
def index():
    p = current_principal()
    if p.counter_id is None:
        return redirect(url_for("console.choose_counter"))
    with get_db().read() as s:
        c = s.get(m.Counter, p.counter_id)
        if c is None or not c.active:
            return redirect(url_for("console.choose_counter"))
        services = [{"id": sv.id, "name": sv.name, "code": sv.code} for sv in s.scalars(
            select(m.Service).where(m.Service.office_id == p.office_id, m.Service.active.is_(True))
            .order_by(m.Service.sort_order, m.Service.id))]
        counters = [{"id": x.id, "number": x.number, "name": x.name} for x in s.scalars(
            select(m.Counter).where(m.Counter.office_id == p.office_id, m.Counter.active.is_(True),
                                    m.Counter.id != c.id).order_by(m.Counter.number))]
        state = console_state(s, c.id, p.user_id)
    return render_template("console/index.html", counter=state["counter"], services=services,
                           counters=counters, state=state, pause_reasons=PAUSE_REASONS,
                           event_types=event_types.for_web())


@bp.route("/console/state")
@require("staff")
def state():
    p = current_principal()
    if p.counter_id is None:
        raise AuthError(403, "no_counter", "Sign in at a counter first.")
    with get_db().read() as s:
        c = s.get(m.Counter, p.counter_id)
        if c is None or c.office_id != p.office_id:
            raise e.not_found("counter")
        counter_id = c.id
    # What the page shows changes with the office's events (and the day):
    # the same weak ETag as the screens' snapshots, kept per counter and officer.
    return snapshot(f"console-{counter_id}-{p.user_id}", p.office_id,
                    lambda s, _office: console_state(s, counter_id, p.user_id))
