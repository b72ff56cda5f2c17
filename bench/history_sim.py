"""Simulated office days for bench/make_history.py (pure Python, no database).

A day is simulated, not drawn at random per column, so the figures hang
together: tickets arrive (busy mornings, Monday peaks), each goes to the
counter of its service that frees up first, waits follow the load, service
times follow the field, and the rating given depends on the wait.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

# service code -> (mix weight, mean service minutes)
SERVICE_MIX = {"HT": (30, 5.0), "CT": (30, 2.5), "BHYT": (10, 4.0), "CU": (12, 4.5),
               "DD": (10, 8.0), "LDXH": (8, 6.0)}
WEEKDAY_LOAD = (1.25, 1.05, 1.0, 0.95, 0.8)  # Mon..Fri
SESSIONS = ((7 * 60, 11 * 60 + 30, 0.65), (13 * 60 + 30, 17 * 60, 0.35))  # local minutes
PRIORITY = ("elderly", "disability", "pregnant", "child", "merit")
COMMENTS = ("Chờ lâu quá", "Cán bộ hướng dẫn chưa rõ", "Phải đi lại nhiều lần",
            "Nên có thêm quầy buổi sáng", "")


@dataclass
class OfficeShape:
    office_id: int
    services: dict[str, int]  # code -> id
    counters: list[tuple[int, int | None, list[str]]]  # (counter id, staff id, service codes)
    numbers: dict[str, int] = field(default_factory=dict)  # code -> number_start


@dataclass
class Day:
    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    ratings: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)  # (time, type, ticket id, counter, staff, payload)


def _arrival_minute(rng: random.Random) -> float:
    lo, hi, _w = SESSIONS[0] if rng.random() < SESSIONS[0][2] else SESSIONS[1]
    # triangular: most people come in the first hour and a half of a session
    return rng.triangular(lo, hi, lo + 75)


def _level(rng: random.Random, wait_min: float) -> int:
    """Long waits drive low ratings: the chance of levels 1-2 grows with the wait."""
    bad = min(0.6, 0.04 + 0.012 * wait_min)
    r = rng.random()
    if r < bad * 0.45:
        return 1
    if r < bad:
        return 2
    return 3 if rng.random() < 0.35 else 4


def simulate_day(rng: random.Random, shape: OfficeShape, day: dt.date, utc_offset: dt.timedelta,
                 rate: float, next_id: int) -> Day:
    out = Day()
    if day.weekday() >= 5:
        return out
    season = 1.0 + 0.15 * math.sin(2 * math.pi * (day.timetuple().tm_yday / 365.0))
    n = max(0, int(rng.gauss(rate * WEEKDAY_LOAD[day.weekday()] * season, rate * 0.08)))
    codes = list(SERVICE_MIX)
    weights = [SERVICE_MIX[c][0] for c in codes]
    arrivals = sorted((_arrival_minute(rng), rng.choices(codes, weights)[0]) for _ in range(n))
    free_at = {cid: SESSIONS[0][0] for cid, _s, _c in shape.counters}
    by_service = {c: [x for x in shape.counters if c in x[2]] for c in codes}
    numbers = {c: 0 for c in codes}
    base = dt.datetime.combine(day, dt.time(0)) - utc_offset  # local midnight in UTC

    def at(minute: float) -> dt.datetime:
        return base + dt.timedelta(seconds=round(minute * 60))

    for arrive, code in arrivals:
        tid = next_id
        next_id += 1
        numbers[code] += 1
        number = shape.numbers.get(code, 1) + numbers[code] - 1
        counter_id, staff_id, _c = min(by_service[code], key=lambda x: free_at[x[0]])
        start = max(arrive, free_at[counter_id])
        if SESSIONS[0][1] < start < SESSIONS[1][0]:
            start = SESSIONS[1][0] + (start - SESSIONS[0][1]) * 0.2  # after lunch
        issued = at(arrive)
        prio = rng.choice(PRIORITY) if rng.random() < 0.06 else ""
        ev = [(issued, "ticket.issued", tid, None, None)]
        called = started = finished = None
        cid = sid = None
        if start > SESSIONS[1][1] + 10 or rng.random() < 0.01:
            status = "cancelled"
            ev.append((at(min(start, SESSIONS[1][1] + 15)), "ticket.cancelled", tid, None, None))
        else:
            cid, sid = counter_id, staff_id
            called = at(start)
            ev.append((called, "ticket.called", tid, cid, sid))
            if rng.random() < 0.04:
                status = "no_show"
                free_at[counter_id] = start + 2.0
                ev.append((at(start + 2.0), "ticket.no_show", tid, cid, sid))
            else:
                status = "done"
                mean = SERVICE_MIX[code][1]
                length = rng.lognormvariate(math.log(mean), 0.5)
                started = at(start + 0.5)
                finished = at(start + 0.5 + length)
                free_at[counter_id] = start + 0.5 + length + 0.3
                ev.append((started, "ticket.started", tid, cid, sid))
                ev.append((finished, "ticket.completed", tid, cid, sid))
                wait = start - arrive
                if rng.random() < 0.7:
                    level = _level(rng, wait)
                    when = finished + dt.timedelta(seconds=rng.randint(4, 40))
                    reasons: list[str] = []
                    comment = ""
                    if level <= 2:
                        reasons = ["long_wait"] if wait > 20 and rng.random() < 0.8 else [
                            rng.choice(("attitude", "unclear", "resubmit", "other"))]
                        comment = rng.choice(COMMENTS) if rng.random() < 0.3 else ""
                    out.ratings.append((tid, level, reasons, comment, shape.services[code], cid,
                                        sid, when, False, ""))
                    ev.append((when, "rating.created", tid, cid, sid))
                    if rng.random() < 0.02:  # a child pressing again: misuse, kept apart
                        again = when + dt.timedelta(seconds=1)
                        out.ratings.append((tid, rng.choice((1, 4)), [], "", shape.services[code],
                                            cid, sid, again, True, "too_fast"))
                        ev.append((again, "rating.created", tid, cid, sid))
        out.tickets.append((tid, shape.office_id, shape.services[code], day, number, str(number),
                            prio, status, issued, called, started, finished, cid, sid))
        out.events.extend(ev)
    out.events.sort(key=lambda e: e[0])
    return out
