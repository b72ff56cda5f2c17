"""What a citizen is told while waiting: tickets ahead, the expected wait,
and the per-service counts the kiosk and the display show."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import models as m
from .. import statements as st
from .hours import service_day


def waiting_before(s: Session, t: Any) -> int:
    """Tickets ahead of ``t`` in its service's queue."""
    return s.connection().execute(st.WAITING_BEFORE, {
        "b_office": t.office_id, "b_service": t.service_id, "b_at": t.issued_at,
        "b_id": t.id}).scalar() or 0


def average_service_minutes(s: Session, service: Any, samples: int = 20) -> float:
    """Mean length of the service's latest completed cases (fallback: its default)."""
    rows = s.connection().execute(st.RECENT_CASES, {
        "b_office": service.office_id, "b_service": service.id, "b_limit": samples}).all()
    spans = [(b - a).total_seconds() / 60 for a, b in rows if a and b and b >= a]
    return sum(spans) / len(spans) if spans else float(service.default_service_minutes)


def open_counters_for(s: Session, service_id: int) -> int:
    return s.connection().execute(st.OPEN_COUNTERS, {"b_service": service_id}).scalar() or 0


def estimate_wait_minutes(s: Session, service: Any, ahead: int,
                          open_counters: int | None = None) -> int:
    """``ahead`` tickets shared by the service's open counters (``open_counters``
    when the caller has counted them) at its recent pace."""
    avg = average_service_minutes(s, service)
    if open_counters is None:
        open_counters = open_counters_for(s, service.id)
    counters = max(1, open_counters)
    return int(math.ceil(ahead * avg / counters))


def waiting_counts(s: Session, office_id: int) -> dict[int, int]:
    rows = s.execute(select(m.Ticket.service_id, func.count()).where(
        m.Ticket.office_id == office_id, m.Ticket.status == m.WAITING)
        .group_by(m.Ticket.service_id)).all()
    return {sid: n for sid, n in rows}


def issued_today(s: Session, office: m.Office, now: dt.datetime) -> dict[int, int]:
    day = service_day(office, now)
    rows = s.execute(select(m.NumberSequence.service_id, m.NumberSequence.last_number)
                     .join(m.Service).where(m.Service.office_id == office.id,
                                            m.NumberSequence.service_day == day)).all()
    return {sid: n for sid, n in rows}
