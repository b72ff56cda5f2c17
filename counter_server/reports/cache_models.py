"""Tables of the report cache (migration 0005_report_cache), on the app's ``Base``.

``report_day`` holds, per office and complete local day, the building blocks
of every dashboard/export figure (see ``reports/cache.py``); ``report_cache_state``
remembers the last event id whose changes were applied to it, so new events
say which days to rebuild.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, utcnow


class ReportDay(Base):
    __tablename__ = "report_day"
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # local date
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    built_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReportCacheState(Base):
    __tablename__ = "report_cache_state"
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigId, default=0)
    timezone: Mapped[str] = mapped_column(String(64), default="")
