"""Per-office, per-local-day cache of the report figures' building blocks.

A year of one office is ~75,000 tickets; scanning them for every dashboard
click costs ~0.5-1 s.  The figures only ever need, per local day:

* ``t``: counts and sums per (officer, counter, service) - the ticket cube;
* ``h``: tickets per (officer, counter, service, local hour) - the heatmap
  (the weekday follows from the day);
* ``r``: ratings per (officer, counter, service, level, misuse, misuse reason);
* ``b``: ratings per (officer, counter, service, misuse, waiting band, level);
* ``v``: the exact waiting and service seconds per (officer, counter, service),
  so that p90 over any set of days and any filter is *exact* (a day is a few
  hundred numbers; a histogram would make percentiles approximate).

Complete days (before today in the office's zone) are stored in
``report_day``; today and later days are always computed live, and so is any
day missing from the table.  Every state change writes an Event row, so
``refresh`` reads the events newer than ``report_cache_state.last_event_id``
and drops the days they touch (a ticket event touches its issue day, any
event its own day) before rebuilding missing days, one month per write
transaction (a cold build never holds the SQLite write lock for long).
Rows written without an event (bulk imports) need ``clear(db, office_id)``.
"""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from .. import models as m
from . import figures as fg
from .blockfig import pack, unpack  # noqa: F401  (unpack: the other half)
from .cache_models import ReportCacheState, ReportDay
from .period import Period, local_today

T, R = m.Ticket, m.Rating
CHUNK_DAYS = 31
ONE = dt.timedelta(days=1)
Progress = Callable[[int, int], None]


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _blank(day: str) -> dict[str, Any]:
    return {"day": day, "t": [], "h": [], "r": [], "b": [], "v": []}


def build_blocks(s: Session, office: m.Office, first: dt.date, last: dt.date) -> dict[str, dict[str, Any]]:
    """The building blocks of every local day in [first, last], from tickets and ratings
    (five GROUP BY scans of the range; no filters, misuse kept apart)."""
    c = fg.Ctx(s, office, Period("custom", first, last, office.timezone), fg.Filters(),
               include_misuse=True)
    out = {d.isoformat(): _blank(d.isoformat()) for d in _days(first, last)}

    def day(k: Any) -> dict[str, Any]:
        return out.setdefault(str(k), _blank(str(k)))

    for st, co, se, d, n, sv, ns, cn, sw, nw, ss, nsv in fg.ticket_cube(c):
        day(d)["t"].append([st, co, se, int(n), int(sv or 0), int(ns or 0), int(cn or 0),
                            float(sw or 0), int(nw or 0), float(ss or 0), int(nsv or 0)])
    tday, hour = c.local_date(T.issued_at), c.local_hour(T.issued_at)
    for st, co, se, d, h, n in s.execute(
            select(T.staff_id, T.counter_id, T.service_id, tday, hour, func.count())
            .where(*c.ticket_where()).group_by(T.staff_id, T.counter_id, T.service_id, tday, hour)):
        day(d)["h"].append([st, co, se, int(h), int(n)])
    rday = c.local_date(R.created_at)
    for st, co, se, d, lv, mis, why, n, nt in s.execute(
            select(R.staff_id, R.counter_id, R.service_id, rday, R.level, R.misuse,
                   R.misuse_reason, func.count(), func.count(R.ticket_id))
            .where(*c.rating_where(misuse=None))
            .group_by(R.staff_id, R.counter_id, R.service_id, rday, R.level, R.misuse,
                      R.misuse_reason)):
        day(d)["r"].append([st, co, se, int(lv), bool(mis), why or "", int(n), int(nt)])
    secs = c.seconds(T.issued_at, T.called_at)
    band = case(*[(secs < hi * 60, i) for i, (_lo, hi) in enumerate(fg.WAIT_BANDS) if hi is not None],
                else_=len(fg.WAIT_BANDS) - 1)
    for st, co, se, d, mis, b, lv, n in s.execute(
            select(R.staff_id, R.counter_id, R.service_id, rday, R.misuse, band, R.level, func.count())
            .join(T, T.id == R.ticket_id).where(*c.rating_where(misuse=None), T.called_at.is_not(None))
            .group_by(R.staff_id, R.counter_id, R.service_id, rday, R.misuse, band, R.level)):
        day(d)["b"].append([st, co, se, bool(mis), int(b), int(lv), int(n)])
    vals: dict[tuple[Any, ...], tuple[list[float], list[float]]] = {}
    q = select(T.staff_id, T.counter_id, T.service_id, tday, c.wait_expr(),
               case((T.status == m.DONE, c.service_expr()))).where(
        *c.ticket_where(), T.called_at.is_not(None))
    for st, co, se, d, w, sv in s.execute(q):
        ws, ss = vals.setdefault((str(d), st, co, se), ([], []))
        ws.append(float(w))
        if sv is not None:
            ss.append(float(sv))
    for (d, st, co, se), (ws, ss) in vals.items():
        day(d)["v"].append([st, co, se, pack(ws), pack(ss)])
    return out


# Decoded days of this process, keyed (office, day) -> (built_at, data): a warm
# dashboard reads only (day, built_at) and decodes just the days rebuilt since.
_MEMO: dict[tuple[str, int, dt.date], tuple[dt.datetime, dict[str, Any]]] = {}
_MEMO_LOCK = threading.Lock()
MEMO_MAX = 20_000


def attach(c: fg.Ctx) -> fg.Ctx:
    """Give ``c`` the blocks of its period: stored complete days, the rest live."""
    p, oid = c.period, c.office.id
    upto = min(p.last, local_today(c.tz) - ONE)
    have: dict[str, dict[str, Any]] = {}
    if p.first <= upto:
        in_range = (ReportDay.office_id == oid, ReportDay.day >= p.first, ReportDay.day <= upto)
        stamps = dict(c.s.execute(select(ReportDay.day, ReportDay.built_at).where(*in_range)).all())
        where = str(c.s.get_bind().url)  # one process may serve several databases (tests)
        with _MEMO_LOCK:
            for d, at in stamps.items():
                hit = _MEMO.get((where, oid, d))
                if hit is not None and hit[0] == at:
                    have[d.isoformat()] = hit[1]
        todo = {d for d in stamps if d.isoformat() not in have}
        if todo:
            few = ReportDay.day.in_(sorted(todo)) if len(todo) < 500 else ReportDay.day.is_not(None)
            fresh = c.s.execute(select(ReportDay.day, ReportDay.built_at, ReportDay.data)
                                .where(*in_range, few)).all()
            with _MEMO_LOCK:
                if len(_MEMO) > MEMO_MAX:
                    _MEMO.clear()
                for d, at, data in fresh:
                    if d in todo:
                        _MEMO[(where, oid, d)] = (at, data)
                        have[d.isoformat()] = data
    missing = [d for d in _days(p.first, p.last) if d.isoformat() not in have]
    if missing:
        have.update(build_blocks(c.s, c.office, missing[0], missing[-1]))
    c.blocks = [have[k] for k in sorted(have) if p.first.isoformat() <= k <= p.last.isoformat()]
    return c


def _local_day(t: dt.datetime, zone: ZoneInfo) -> dt.date:
    return t.replace(tzinfo=dt.timezone.utc).astimezone(zone).date()


def _apply_events(s: Session, office: m.Office, today: dt.date) -> None:
    """Drop the stored days touched by events newer than the state's last id."""
    oid = office.id
    maxid = s.scalar(select(func.max(m.Event.id)).where(m.Event.office_id == oid)) or 0
    state = s.get(ReportCacheState, oid)
    if state is None or state.timezone != office.timezone:
        s.execute(delete(ReportDay).where(ReportDay.office_id == oid))
        if state is None:
            s.add(ReportCacheState(office_id=oid, last_event_id=maxid, timezone=office.timezone))
        else:
            state.last_event_id, state.timezone = maxid, office.timezone
        return
    if maxid <= state.last_event_id:
        return
    zone = ZoneInfo(office.timezone)
    newer = (m.Event.office_id == oid, m.Event.id > state.last_event_id, m.Event.id <= maxid)
    stamps: set[dt.datetime] = set(s.scalars(select(m.Event.created_at).where(*newer).distinct()))
    stamps |= set(s.scalars(select(T.issued_at).where(
        T.id.in_(select(m.Event.ticket_id).where(*newer, m.Event.ticket_id.is_not(None))))))
    stale = {d for d in (_local_day(t, zone) for t in stamps) if d < today}
    if stale:
        s.execute(delete(ReportDay).where(ReportDay.office_id == oid, ReportDay.day.in_(sorted(stale))))
    state.last_event_id = maxid


def refresh(db: Any, office_id: int, first: dt.date, last: dt.date,
            progress: Progress | None = None) -> int:
    """Bring the stored days of [first, last] up to date; returns days (re)built.

    The warm case is one small read (state, max event id, stored-day count)."""
    with db.read() as s:
        tz = s.scalar(select(m.Office.timezone).where(m.Office.id == office_id))
        today = local_today(tz)
        upto = min(last, today - ONE)
        if first > upto:
            return 0
        state = s.get(ReportCacheState, office_id)
        maxid = s.scalar(select(func.max(m.Event.id)).where(m.Event.office_id == office_id)) or 0
        stored = s.scalar(select(func.count()).select_from(ReportDay).where(
            ReportDay.office_id == office_id, ReportDay.day >= first, ReportDay.day <= upto))
        if (state is not None and state.timezone == tz and state.last_event_id >= maxid
                and stored == (upto - first).days + 1):
            return 0
    built = 0
    while True:
        with db.write() as s:
            if s.get_bind().dialect.name == "postgresql":  # one refresher per office at a time
                s.execute(select(func.pg_advisory_xact_lock(7_100_000 + office_id)))
            office = s.get(m.Office, office_id)
            _apply_events(s, office, today)
            have = set(s.scalars(select(ReportDay.day).where(
                ReportDay.office_id == office_id, ReportDay.day >= first, ReportDay.day <= upto)))
            missing = [d for d in _days(first, upto) if d not in have]
            if not missing:
                return built
            chunk = [d for d in missing if d < missing[0] + dt.timedelta(days=CHUNK_DAYS)]
            blocks = build_blocks(s, office, chunk[0], chunk[-1])
            s.add_all(ReportDay(office_id=office_id, day=d, data=blocks[d.isoformat()])
                      for d in chunk)
        built += len(chunk)
        if progress:
            progress(built, built + len(missing) - len(chunk))


def clear(db: Any, office_id: int) -> None:
    """Forget every stored day of an office (after writes that bypassed the event log)."""
    with db.write() as s:
        s.execute(delete(ReportDay).where(ReportDay.office_id == office_id))
        s.execute(delete(ReportCacheState).where(ReportCacheState.office_id == office_id))

