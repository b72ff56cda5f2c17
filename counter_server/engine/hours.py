"""Time in the office: its local clock, its service day, its opening hours
and whether a service is taking tickets.

Times are stored in UTC without a zone; the service day and the opening
hours are the office's local ones (``zoneinfo``); the hours themselves
(parsing, checking, next opening) are ``counter_server.hours``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional
from zoneinfo import ZoneInfo

from .. import models as m
from ..defaults import office_settings
from ..hours import within_hours


def utcnow() -> dt.datetime:
    return m.utcnow()


def local_time(office: Any, when_utc: dt.datetime) -> dt.datetime:
    """``when_utc`` on the office's clock (``office``: anything with ``timezone``)."""
    return when_utc.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(office.timezone))


def service_day(office: Any, when_utc: dt.datetime) -> dt.date:
    return local_time(office, when_utc).date()


def service_open_state(office: Any, service: Any, now: dt.datetime,
                       issued_today: Optional[int] = None, *,
                       enforce_hours: Optional[bool] = None) -> tuple[bool, str]:
    """(open, reason code) for a service at ``now``; reason "" when open.
    ``office`` and ``service`` are ORM objects or rows with their columns;
    ``enforce_hours``, the office's setting when the caller has read it."""
    if not service.active:
        return False, "service_closed"
    if enforce_hours is None:
        enforce_hours = office_settings(office.settings)["enforce_hours"]
    if enforce_hours:
        local = local_time(office, now)
        if not within_hours(office.opening_hours, local):
            return False, "office_closed"
        if service.hours and not within_hours(service.hours, local):
            return False, "outside_hours"
    if issued_today is not None:
        if service.daily_cap is not None and issued_today >= service.daily_cap:
            return False, "daily_cap_reached"
        if service.number_start + issued_today > service.number_end:
            return False, "daily_cap_reached"
    return True, ""


CLOSED_MESSAGES = {
    "service_closed": "This service is not available.",
    "office_closed": "The office is closed now.",
    "outside_hours": "This service is not taking tickets at this time.",
    "daily_cap_reached": "No more tickets for this service today.",
}
