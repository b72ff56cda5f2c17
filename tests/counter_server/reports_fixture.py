"""A small hand-computed history for the report tests (times are naive UTC).

Office zone Asia/Ho_Chi_Minh (UTC+7).  Local day 10/03/2026 (a Tuesday) runs
from 2026-03-09 17:00 UTC to 2026-03-10 17:00 UTC.

in the day:   t1 00:30 local (17:30 UTC the day before) wait 300 s, service 600 s, done, canbo1
              t2 08:00 wait 600, service 1200, done, canbo1
              t3 09:00 wait 1200, service 300, done, canbo2
              t4 10:00 wait 1800, no-show, canbo2
              t5 11:00 cancelled, never called
              t8 12:00 wait 0, service 60, done, canbo1
              t9 13:00 wait 600, service 600 (no start: from call), done, canbo2, not rated
outside:      t6 00:30 on 11/03 local (done, rated 4), t7 23:59 on 09/03 local (done)
ratings:      t1 -> 4, t2 -> 2 (low, reason long_wait, comment), t3 -> 1 (low, attitude),
              t8 -> 3, plus one misuse press (level 1 on t3, too_fast).

Hand-computed for 10/03: issued 7, served 5, no-show 1, cancelled 1;
waits [0,300,600,600,1200,1800]: avg 750, p90 1500;
service [60,300,600,600,1200]: avg 552, p90 960;
levels 4:1 3:1 2:1 1:1 -> official very_satisfied 1/4, satisfied 2/4, unsatisfied 1/4;
coverage 4/5; misuse 1.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from counter_server import models as m
from counter_server.db import Database

D = dt.datetime


def _ticket(s: Any, creds: dict[str, Any], n: int, issued: D, *, status: str, wait: int | None = None,
            service: int | None = None, staff: str | None = None, counter: int | None = None,
            svc: str = "HT", started: bool = True) -> m.Ticket:
    called = issued + dt.timedelta(seconds=wait) if wait is not None else None
    t = m.Ticket(office_id=creds["office_id"], service_id=creds["services"][svc],
                 issued_service_id=creds["services"][svc],
                 service_day=(issued + dt.timedelta(hours=7)).date(), number=1000 + n,
                 display_number=str(1000 + n), status=status, issued_at=issued, called_at=called,
                 started_at=called if (started and service is not None) else None,
                 finished_at=called + dt.timedelta(seconds=service) if service is not None else None,
                 counter_id=creds["counters"][str(counter)] if counter else None,
                 staff_id=creds["users"][staff]["id"] if staff else None,
                 code=uuid.uuid4().hex)
    s.add(t)
    s.flush()
    return t


def _rating(s: Any, t: m.Ticket, level: int, at: D, *, reasons: list[str] | None = None,
            comment: str = "", misuse: str = "") -> None:
    s.add(m.Rating(office_id=t.office_id, ticket_id=t.id, level=level, reasons=reasons or [],
                   comment=comment, channel="tablet", service_id=t.service_id,
                   counter_id=t.counter_id, staff_id=t.staff_id, created_at=at,
                   misuse=bool(misuse), misuse_reason=misuse))


def build(url: str, creds: dict[str, Any]) -> None:
    db = Database(url, pool_size=1)
    try:
        with db.write() as s:
            t1 = _ticket(s, creds, 1, D(2026, 3, 9, 17, 30), status="done", wait=300, service=600,
                         staff="canbo1", counter=1)
            t2 = _ticket(s, creds, 2, D(2026, 3, 10, 1, 0), status="done", wait=600, service=1200,
                         staff="canbo1", counter=1)
            t3 = _ticket(s, creds, 3, D(2026, 3, 10, 2, 0), status="done", wait=1200, service=300,
                         staff="canbo2", counter=2, svc="CT")
            _ticket(s, creds, 4, D(2026, 3, 10, 3, 0), status="no_show", wait=1800,
                    staff="canbo2", counter=2, svc="CT")
            _ticket(s, creds, 5, D(2026, 3, 10, 4, 0), status="cancelled")
            t6 = _ticket(s, creds, 6, D(2026, 3, 10, 17, 30), status="done", wait=60, service=60,
                         staff="canbo1", counter=1)
            _ticket(s, creds, 7, D(2026, 3, 9, 16, 59), status="done", wait=60, service=60,
                    staff="canbo1", counter=1)
            t8 = _ticket(s, creds, 8, D(2026, 3, 10, 5, 0), status="done", wait=0, service=60,
                         staff="canbo1", counter=1)
            _ticket(s, creds, 9, D(2026, 3, 10, 6, 0), status="done", wait=600, service=600,
                    staff="canbo2", counter=2, svc="CT", started=False)
            _rating(s, t1, 4, D(2026, 3, 9, 17, 50))
            _rating(s, t2, 2, D(2026, 3, 10, 1, 35), reasons=["long_wait"], comment="Chờ lâu quá")
            _rating(s, t3, 1, D(2026, 3, 10, 2, 30), reasons=["attitude"])
            _rating(s, t3, 1, D(2026, 3, 10, 2, 30, 1), misuse="too_fast")
            _rating(s, t8, 3, D(2026, 3, 10, 5, 2))
            _rating(s, t6, 4, D(2026, 3, 10, 17, 45))
    finally:
        db.dispose()
