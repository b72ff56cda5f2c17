"""Local days, hours and weekdays in zones other than Vietnam's.

The report keys a local hour by UTC (the hours that start where local hours
start) and a local day by the UTC time where the day turns over
(``Scope.time_key``).  Offices in zones with half-hour offsets, west of UTC
or at UTC get the same counts per local day, hour and weekday as Python's
own zone conversion of every ticket, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from counter_server import models as m
from counter_server.db import Database
from counter_server.reports.period import make_period
from counter_server.reports.scope import Filters, Scope
from counter_server.reports.tables import Report
from tests.conftest import seed_database

FIRST, LAST = dt.date(2026, 6, 8), dt.date(2026, 6, 12)  # no DST change inside


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "UTC", "Asia/Kathmandu"])
def test_local_keys_in_other_zones(db_url: str, zone: str) -> None:
    creds = seed_database(db_url)
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    db = Database(db_url, pool_size=1)
    try:
        with db.write() as s:
            s.execute(update(m.Office).where(m.Office.id == creds["office_id"]).values(timezone=zone))
            service = list(creds["services"].values())[0]
            start = dt.datetime.combine(FIRST - dt.timedelta(days=1), dt.time(0), tz)
            for n in range(400):
                # every minute of the day is as likely, so edges are crossed often
                local = start + dt.timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
                issued = local.astimezone(dt.timezone.utc).replace(tzinfo=None)
                s.add(m.Ticket(office_id=creds["office_id"], service_id=service,
                               issued_service_id=service, service_day=local.date(), number=n + 1,
                               display_number=str(n + 1), status="cancelled", issued_at=issued,
                               code=uuid.uuid4().hex))
        with db.read() as s:
            office = s.get(m.Office, creds["office_id"])
            period = make_period("custom", zone, FIRST.isoformat(), LAST.isoformat())
            report = Report(Scope(s, office, period, Filters()), ["day", "hour", "weekday"],
                            p90_groups=(), heatmap=True)
            local_times = [t.replace(tzinfo=dt.timezone.utc).astimezone(tz)
                           for t in s.scalars(select(m.Ticket.issued_at))]
            local_times = [t for t in local_times if FIRST <= t.date() <= LAST]
            assert len(local_times) > 200

            def count(key: object) -> dict[object, int]:
                out: dict[object, int] = {}
                for t in local_times:
                    k = key(t)  # type: ignore[operator]
                    out[k] = out.get(k, 0) + 1
                return out

            got = {g: {r["key"]: r["issued"] for r in report.rows(g)} for g in ("day", "hour", "weekday")}
            assert got["day"] == count(lambda t: t.date().isoformat())
            assert got["hour"] == count(lambda t: t.hour)
            assert got["weekday"] == count(lambda t: t.weekday())
            assert report.heatmap() == count(lambda t: (t.weekday(), t.hour))
    finally:
        db.dispose()
