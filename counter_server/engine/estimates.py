"""What a citizen is told while waiting: tickets ahead, the expected wait,
and the per-service counts the kiosk and the display show."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy.orm import Session

from .. import statements as st
from ..defaults import office_settings
from .hours import service_day, service_open_state


PACE_SAMPLES = 20  # completed cases a service's pace is the mean of


def waiting_before(s: Session, t: Any) -> int:
    """Tickets ahead of ``t`` in its service's queue."""
    return s.connection().execute(st.WAITING_BEFORE, {
        "b_office": t.office_id, "b_service": t.service_id, "b_at": t.issued_at,
        "b_id": t.id}).scalar() or 0


def pace(conn: Any, office_id: int, service_ids: tuple[int, ...]) -> dict[int, float]:
    """Mean length in minutes of each service's latest PACE_SAMPLES completed
    cases; services with none are left out."""
    rows = conn.execute(st.pace(service_ids, PACE_SAMPLES), {"b_office": office_id})
    return {sid: round(float(minutes), 6) for sid, minutes in rows if minutes is not None}


def average_service_minutes(s: Session, service: Any) -> float:
    """Mean length of the service's latest completed cases (fallback: its default)."""
    return pace(s.connection(), service.office_id, (service.id,)).get(
        service.id, float(service.default_service_minutes))


def open_counters_for(s: Session, service_id: int) -> int:
    return s.connection().execute(st.OPEN_COUNTERS, {"b_service": service_id}).scalar() or 0


def estimate_wait_minutes(s: Session, service: Any, ahead: int,
                          open_counters: int | None = None, pace: float | None = None) -> int:
    """``ahead`` tickets shared by the service's open counters at its recent
    pace (``open_counters`` and ``pace`` when the caller has them)."""
    avg = average_service_minutes(s, service) if pace is None else pace
    if open_counters is None:
        open_counters = open_counters_for(s, service.id)
    counters = max(1, open_counters)
    return int(math.ceil(ahead * avg / counters))


def office_queue(conn: Any, office_id: int, now: dt.datetime, office: Any = None
                 ) -> tuple[Any, list[Any], list[dict[str, Any]], dict[int, float]]:
    """The office row (with ``last_event_id``), its active services' rows,
    per service what the kiosk and the display show of its queue (people
    waiting, the expected wait, whether it takes tickets now) and the pace
    (minutes per case) of each service with someone waiting.  Three
    statements, whatever the number of services (two when ``office`` is given:
    a row of ``st.OFFICE_STATE``, or for the events any row with the office's
    timezone, settings and opening hours); the events carry the same list
    (``services``) as the snapshots."""
    if office is None:
        office = conn.execute(st.OFFICE_STATE, {"b_office": office_id}).one()
    rows = conn.execute(st.SERVICES_STATE, {"b_office": office_id,
                                            "b_day": service_day(office, now)}).all()
    busy = tuple(r.id for r in rows if r.waiting)  # nobody waiting: nothing to estimate
    paces = pace(conn, office_id, busy) if busy else {}
    enforce = bool(office_settings(office.settings)["enforce_hours"])
    queue = []
    for r in rows:
        issued = r.issued_today or 0
        is_open, reason = service_open_state(office, r, now, issued, enforce_hours=enforce)
        avg = paces.setdefault(r.id, float(r.default_service_minutes)) if r.waiting else 0.0
        queue.append({"id": r.id, "waiting": r.waiting,
                      "estimated_wait_minutes": int(math.ceil(r.waiting * avg
                                                              / max(1, r.open_counters or 0))),
                      "open": is_open, "closed_reason": reason, "issued_today": issued})
    return office, rows, queue, paces
