"""Every report figure against a count made from the tickets and ratings themselves.

A random history (several local days, midnights in the office's zone, every
final status, ratings with and without misuse, some given the day after)
is written to the real database; then each grouping of the report, the
heatmap, the waiting bands, the misuse counts and the low-rating list are
compared with what plain Python counts from the same rows.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from counter_server import models as m
from counter_server.db import Database
from counter_server.reports import ratings as rt
from counter_server.reports.period import make_period
from counter_server.reports.scope import GROUPS, Filters, Scope
from counter_server.reports.tables import Report
from tests.conftest import seed_database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST, LAST = dt.date(2026, 3, 9), dt.date(2026, 3, 13)


def _history(url: str, creds: dict[str, Any], seed: int = 11) -> None:
    rng = random.Random(seed)
    staff = [creds["users"][u]["id"] for u in ("canbo1", "canbo2", "canbo3")]
    counters = list(creds["counters"].values())[:3]
    services = list(creds["services"].values())[:3]
    db = Database(url, pool_size=1)
    try:
        with db.write() as s:
            n = 0
            # a day before and after the period, to check its edges
            for day in range(-1, (LAST - FIRST).days + 2):
                base = dt.datetime.combine(FIRST + dt.timedelta(days=day), dt.time(0), TZ)
                for _ in range(40):
                    n += 1
                    local = base + dt.timedelta(minutes=rng.randrange(0, 24 * 60))
                    issued = local.astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
                    status = rng.choice(["done"] * 5 + ["no_show", "cancelled", "waiting"])
                    called = started = finished = None
                    if status in ("done", "no_show"):
                        called = issued + dt.timedelta(seconds=rng.randrange(0, 5400))
                    if status == "done":
                        started = called + dt.timedelta(seconds=rng.randrange(0, 60)) \
                            if rng.random() < 0.8 else None
                        finished = (started or called) + dt.timedelta(seconds=rng.randrange(30, 2400))
                    who = rng.randrange(3)
                    t = m.Ticket(office_id=creds["office_id"], service_id=services[rng.randrange(3)],
                                 issued_service_id=services[0], service_day=local.date(),
                                 number=n, display_number=str(n), status=status, issued_at=issued,
                                 called_at=called, started_at=started, finished_at=finished,
                                 counter_id=counters[who] if called else None,
                                 staff_id=staff[who] if called else None, code=uuid.uuid4().hex)
                    s.add(t)
                    s.flush()
                    if status == "done" and rng.random() < 0.7:
                        level = rng.choice([1, 2, 3, 4])
                        misuse = rng.random() < 0.1
                        s.add(m.Rating(office_id=t.office_id, ticket_id=t.id, level=level,
                                       reasons=["long_wait"] if level <= 2 else [], comment="",
                                       channel="tablet", service_id=t.service_id,
                                       counter_id=t.counter_id, staff_id=t.staff_id,
                                       created_at=finished + dt.timedelta(minutes=rng.choice([1, 1, 600])),
                                       misuse=misuse, misuse_reason="too_fast" if misuse else ""))
    finally:
        db.dispose()


def _pct(xs: list[float], q: float = 0.9) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _local(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.timezone.utc).astimezone(TZ)


def _key(group: str | None, entity: Any, when: dt.datetime) -> Any:
    local = _local(when)
    return {None: 0, "staff": entity.staff_id, "counter": entity.counter_id,
            "service": entity.service_id, "day": local.date().isoformat(), "hour": local.hour,
            "weekday": local.weekday()}[group]


def _expected(tickets: list[m.Ticket], ratings: list[m.Rating], group: str | None,
              levels: list[int], include_misuse: bool) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}

    def row(k: Any) -> dict[str, Any]:
        return out.setdefault(k, {"issued": 0, "served": 0, "no_show": 0, "cancelled": 0,
                                  "waits": [], "servs": [], "levels": {v: 0 for v in levels},
                                  "rated": 0, "rated_tickets": 0})

    for t in tickets:
        r = row(_key(group, t, t.issued_at))
        r["issued"] += 1
        r["served"] += t.status == "done"
        r["no_show"] += t.status == "no_show"
        r["cancelled"] += t.status == "cancelled"
        if t.called_at:
            r["waits"].append((t.called_at - t.issued_at).total_seconds())
        if t.status == "done":
            r["servs"].append((t.finished_at - (t.started_at or t.called_at)).total_seconds())
    for x in ratings:
        if x.misuse and not include_misuse:
            continue
        r = row(_key(group, x, x.created_at))
        r["levels"][x.level] += 1
        r["rated"] += 1
        r["rated_tickets"] += x.ticket_id is not None
    return out


def _check(report: Report, group: str | None, want: dict[Any, dict[str, Any]]) -> None:
    got = {r["key"]: r for r in report.rows(group)}
    assert set(got) == set(want), group
    for k, w in want.items():
        g = got[k]
        where = (group, k)
        for name in ("issued", "served", "no_show", "cancelled", "rated", "rated_tickets"):
            assert g[name] == w[name], (where, name)
        assert g["levels"] == w["levels"], where
        for name, xs in (("wait", w["waits"]), ("service", w["servs"])):
            avg = sum(xs) / len(xs) if xs else None
            assert g[f"avg_{name}"] == pytest.approx(avg, abs=1e-3), (where, name)
            assert g[f"p90_{name}"] == pytest.approx(_pct(xs), abs=1e-3), (where, name)
        assert g["coverage"] == (pytest.approx(w["rated_tickets"] / w["served"])
                                 if w["served"] else None), where
        for official in ("very_satisfied", "satisfied", "unsatisfied"):
            n = sum(w["levels"][lv["value"]] for lv in report.sc.levels
                    if lv.get("official") == official)
            assert g["official"][official] == n, where
            assert g["official_share"][official] == (pytest.approx(n / w["rated"])
                                                     if w["rated"] else None), where


@pytest.mark.parametrize("include_misuse", [False, True])
def test_every_figure_matches_a_count_from_the_rows(db_url: str, include_misuse: bool) -> None:
    creds = seed_database(db_url)
    _history(db_url, creds)
    db = Database(db_url, pool_size=1)
    try:
        with db.read() as s:
            office = s.get(m.Office, creds["office_id"])
            period = make_period("custom", office.timezone, FIRST.isoformat(), LAST.isoformat())
            sc = Scope(s, office, period, Filters(), include_misuse)
            tickets = [t for t in s.scalars(select(m.Ticket))
                       if FIRST <= _local(t.issued_at).date() <= LAST]
            all_ratings = [x for x in s.scalars(select(m.Rating))
                           if FIRST <= _local(x.created_at).date() <= LAST]
            assert len(tickets) == 200 and len(all_ratings) > 50
            levels = [lv["value"] for lv in sc.levels]
            report = Report(sc, GROUPS, p90_groups=[None, *GROUPS], heatmap=True)
            for group in (None, *GROUPS):
                _check(report, group, _expected(tickets, all_ratings, group, levels, include_misuse))
            # one page's grain (as the dashboard) gives the same totals as the finest
            _check(Report(sc, ()), None, _expected(tickets, all_ratings, None, levels, include_misuse))

            heat: dict[tuple[int, int], int] = {}
            for t in tickets:
                k = (_local(t.issued_at).weekday(), _local(t.issued_at).hour)
                heat[k] = heat.get(k, 0) + 1
            assert report.heatmap() == heat

            counted = [x for x in all_ratings if include_misuse or not x.misuse]
            misuse = sum(x.misuse for x in all_ratings)
            assert report.total()["misuse"] == ({"too_fast": misuse} if misuse else {})

            by_id = {t.id: t for t in s.scalars(select(m.Ticket))}
            bands = [0] * 5
            for x in counted:
                t = by_id[x.ticket_id]
                if t.called_at:
                    mins = (t.called_at - t.issued_at).total_seconds() / 60
                    bands[next((i for i, hi in enumerate((5, 15, 30, 60)) if mins < hi), 4)] += 1
            assert [b["rated"] for b in rt.wait_bands(sc)] == bands

            low = [x for x in counted if x.level in sc.low_levels]
            assert rt.low_count(sc) == len(low)
            listed = rt.low_ratings(sc)
            assert len(listed) == len(low)
            assert [r["created_at"] for r in listed] == sorted((x.created_at for x in low), reverse=True)

            # a filter is the same count over the filtered rows
            one = creds["users"]["canbo2"]["id"]
            only = Report(Scope(s, office, period, Filters(staff_id=one), include_misuse), ["day"],
                          p90_groups=["day"])
            _check(only, "day", _expected([t for t in tickets if t.staff_id == one],
                                          [x for x in all_ratings if x.staff_id == one],
                                          "day", levels, include_misuse))
    finally:
        db.dispose()
