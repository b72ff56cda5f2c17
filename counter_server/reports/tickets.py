"""Ticket figures: issued, served, no-show, cancelled, waiting and service times.

* A ticket counts in the period (and local day, hour, weekday) it was issued in.
* Waiting time = called_at - issued_at, over the tickets that were called.
* Service time = finished_at - started_at (called_at when the officer never
  pressed start), over the served tickets.
* Counts and sums come from one GROUP BY of the period's tickets at the grain
  the page needs (officer, counter, service, local day or hour); each
  grouping adds up those rows, so a page scans the tickets once.
* The 90th percentiles are continuous (linear interpolation): PostgreSQL's
  ``percentile_cont(0.9) WITHIN GROUP``; on SQLite, which has none, the one
  narrow column of seconds is fetched and :func:`percentile` computes it.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Iterable, Sequence

from sqlalchemy import case, func, literal, select

from .. import models as m
from .scope import ENTITIES, Scope, key_text

T = m.Ticket
ENTITY_COLUMN = {"staff": T.staff_id, "counter": T.counter_id, "service": T.service_id}
COUNTS = ("issued", "served", "no_show", "cancelled")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Continuous percentile, the same as PostgreSQL's percentile_cont."""
    if not values:
        return None
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def wait_seconds(sc: Scope) -> Any:
    return sc.seconds(T.issued_at, T.called_at)


def service_seconds(sc: Scope) -> Any:
    """Seconds of service of a served ticket, NULL for the others."""
    return case((T.status == m.DONE, sc.seconds(func.coalesce(T.started_at, T.called_at),
                                                 T.finished_at)))


class Grain:
    """The columns a page groups tickets (or ratings) by, and how each grouping's
    key is read back from one grouped row."""

    def __init__(self, groups: Iterable[str | None]) -> None:
        groups = set(groups)
        self.entities = [g for g in ENTITIES if g in groups]
        self.time = ("day_hour" if groups & {"hour", "weekday"}
                     else "day" if "day" in groups else None)

    def columns(self, sc: Scope, time_col: Any, entity_cols: dict[str, Any]) -> list[Any]:
        cols = [entity_cols[g] for g in self.entities]
        if self.time == "day":
            cols.append(sc.local_day(time_col))
        elif self.time == "day_hour":
            cols.append(sc.local_day_hour(time_col))
        return cols or [literal(0)]

    def key_of(self, group: str | None) -> Any:
        """A function from a grouped row's leading values to the group's key."""
        if group is None:
            return lambda row: 0
        if group in ENTITIES:
            i = self.entities.index(group)
            return lambda row: row[i]
        i = len(self.entities)
        if group == "day":
            return lambda row: key_text(row[i])[:10]
        if group == "hour":
            return lambda row: int(key_text(row[i])[11:13])
        weekdays: dict[str, int] = {}

        def weekday(row: Any) -> int:
            day = key_text(row[i])[:10]
            if day not in weekdays:
                weekdays[day] = dt.date.fromisoformat(day).weekday()
            return weekdays[day]

        return weekday

    @property
    def width(self) -> int:
        return max(1, len(self.entities) + (self.time is not None))


def grouped_counts(sc: Scope, grain: Grain) -> list[tuple[Any, ...]]:
    """Per grain cell: issued, served, no-show, cancelled, sum and count of
    waiting seconds, sum and count of service seconds."""
    keys = grain.columns(sc, T.issued_at, ENTITY_COLUMN)
    wait, serv = wait_seconds(sc), service_seconds(sc)
    q = (select(*keys, func.count(), func.sum(case((T.status == m.DONE, 1), else_=0)),
                func.sum(case((T.status == m.NO_SHOW, 1), else_=0)),
                func.sum(case((T.status == m.CANCELLED, 1), else_=0)),
                func.sum(wait), func.count(wait), func.sum(serv), func.count(serv))
         .where(*sc.ticket_where()).group_by(*keys))
    return sc.fetch(q)


def roll_up(rows: list[tuple[Any, ...]], grain: Grain, group: str | None) -> dict[Any, dict[str, Any]]:
    """One grouping's counts and averages, added up from the grain's rows."""
    key_of, w = grain.key_of(group), grain.width
    acc: dict[Any, list[float]] = {}
    for row in rows:
        k = key_of(row)
        a = acc.get(k)
        if a is None:
            a = acc[k] = [0.0] * 8
        for i, v in enumerate(row[w:]):
            if v is not None:
                a[i] += float(v)
    return {k: {"issued": int(a[0]), "served": int(a[1]), "no_show": int(a[2]),
                "cancelled": int(a[3]), "avg_wait": a[4] / a[5] if a[5] else None,
                "avg_service": a[6] / a[7] if a[7] else None,
                "p90_wait": None, "p90_service": None}
            for k, a in acc.items()}


def _pg_key(sc: Scope, group: str | None) -> Any:
    if group is None:
        return literal(0)
    if group in ENTITIES:
        return ENTITY_COLUMN[group]
    return {"day": sc.local_day, "hour": sc.local_hour,
            "weekday": sc.local_weekday}[group](T.issued_at)


def p90(sc: Scope, groups: Iterable[str | None]) -> dict[str | None, dict[Any, tuple[Any, Any]]]:
    """(p90 waiting, p90 service) seconds per key, for each grouping asked."""
    groups = list(dict.fromkeys(groups))
    out: dict[str | None, dict[Any, tuple[Any, Any]]] = {}
    if not groups:
        return out
    wait, serv = wait_seconds(sc), service_seconds(sc)
    if sc.pg:
        for g in groups:
            key = _pg_key(sc, g).label("k")
            q = (select(key, func.percentile_cont(0.9).within_group(wait),
                        func.percentile_cont(0.9).within_group(serv))
                 .where(*sc.ticket_where(), T.called_at.is_not(None)).group_by(key))
            out[g] = {key_text(k)[:10] if g == "day" else k:
                      (None if pw is None else float(pw), None if ps is None else float(ps))
                      for k, pw, ps in sc.fetch(q)}
        return out
    grain = Grain(groups)
    cols = grain.columns(sc, T.issued_at, ENTITY_COLUMN)
    rows = sc.fetch(select(*cols, wait, serv).where(*sc.ticket_where(), T.called_at.is_not(None)))
    w = grain.width
    for g in groups:
        key_of = grain.key_of(g)
        waits: dict[Any, list[float]] = {}
        servs: dict[Any, list[float]] = {}
        for row in rows:
            k = key_of(row)
            waits.setdefault(k, []).append(row[w])
            if row[w + 1] is not None:
                servs.setdefault(k, []).append(row[w + 1])
        out[g] = {k: (percentile(ws, 0.9), percentile(servs.get(k, []), 0.9))
                  for k, ws in waits.items()}
    return out


def heatmap(rows: list[tuple[Any, ...]], grain: Grain) -> dict[tuple[int, int], int]:
    """Tickets issued per (weekday 0 = Monday, local hour), from an hourly grain."""
    weekday, hour = grain.key_of("weekday"), grain.key_of("hour")
    out: dict[tuple[int, int], int] = {}
    for row in rows:
        k = (weekday(row), hour(row))
        out[k] = out.get(k, 0) + int(row[grain.width])
    return out
