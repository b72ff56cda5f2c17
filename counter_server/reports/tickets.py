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

from sqlalchemy import case, func, literal, select, tuple_

from .. import models as m
from .scope import ENTITIES, Scope

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

    def __init__(self, sc: Scope, groups: Iterable[str | None]) -> None:
        groups = set(groups)
        self.sc = sc
        self.entities = [g for g in ENTITIES if g in groups]
        self.time = ("day_hour" if groups & {"hour", "weekday"}
                     else "day" if "day" in groups else None)

    def columns(self, time_col: Any, entity_cols: dict[str, Any]) -> list[Any]:
        cols = [entity_cols[g] for g in self.entities]
        if self.time is not None:
            cols.append(self.sc.time_key(time_col, hourly=self.time == "day_hour"))
        return cols or [literal(0)]

    def key_of(self, group: str | None) -> Any:
        """A function from a grouped row's leading values to the group's key."""
        if group is None:
            return lambda row: 0
        if group in ENTITIES:
            i = self.entities.index(group)
            return lambda row: row[i]
        i, local = len(self.entities), self.sc.local_text
        if group == "day":
            return lambda row: local(row[i])[:10]
        if group == "hour":
            return lambda row: int(local(row[i])[11:13])
        weekdays: dict[str, int] = {}

        def weekday(row: Any) -> int:
            day = local(row[i])[:10]
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
    keys = grain.columns(T.issued_at, ENTITY_COLUMN)
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


def _pg_key(sc: Scope, group: str) -> Any:
    if group in ENTITIES:
        return ENTITY_COLUMN[group]
    if group == "day":
        return sc.time_key(T.issued_at, hourly=False)
    return {"hour": sc.local_hour, "weekday": sc.local_weekday}[group](T.issued_at)


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def p90(sc: Scope, groups: Iterable[str | None]) -> dict[str | None, dict[Any, tuple[Any, Any]]]:
    """(p90 waiting, p90 service) seconds per key, for each grouping asked.

    PostgreSQL: ``percentile_cont`` over ``GROUPING SETS`` of the groupings,
    one query.  SQLite: the called tickets' two columns of seconds with the
    groupings' keys, one fetch, one pass."""
    groups = list(dict.fromkeys(groups))
    out: dict[str | None, dict[Any, tuple[Any, Any]]] = {g: {} for g in groups}
    if not groups:
        return out
    wait, serv = wait_seconds(sc), service_seconds(sc)
    where = (*sc.ticket_where(), T.called_at.is_not(None))
    if sc.pg:
        keyed = [g for g in groups if g is not None]
        keys = [_pg_key(sc, g) for g in keyed]
        sets = [tuple_(k) for k in keys] + ([tuple_()] if None in groups else [])
        # GROUPING() has bit n-1-i set when key i is not in the row's set
        which = func.grouping(*keys) if keys else literal(0)
        full = (1 << len(keys)) - 1
        mask = {full ^ (1 << (len(keys) - 1 - i)): i for i in range(len(keys))}
        q = (select(which, *keys, func.percentile_cont(0.9).within_group(wait),
                    func.percentile_cont(0.9).within_group(serv))
             .where(*where).group_by(func.grouping_sets(*sets)))
        for row in sc.fetch(q):
            i = mask.get(row[0])
            if i is None:
                out[None][0] = (_float(row[-2]), _float(row[-1]))
                continue
            g, k = keyed[i], row[1 + i]
            out[g][sc.local_text(k)[:10] if g == "day" else k] = (_float(row[-2]), _float(row[-1]))
        return out
    grain = Grain(sc, groups)
    rows = sc.fetch(select(*grain.columns(T.issued_at, ENTITY_COLUMN), wait, serv).where(*where))
    if not rows:
        return out
    cols = list(zip(*rows))
    waits, servs = cols[-2], cols[-1]
    for g in groups:
        if g is None:
            out[g][0] = (percentile(waits, 0.9),
                         percentile([x for x in servs if x is not None], 0.9))
            continue
        key_of = grain.key_of(g)
        acc: dict[Any, tuple[list[float], list[float]]] = {}
        for row, sw, ss in zip(rows, waits, servs):
            k = key_of(row)
            lists = acc.get(k)
            if lists is None:
                lists = acc[k] = ([], [])
            lists[0].append(sw)
            if ss is not None:
                lists[1].append(ss)
        out[g] = {k: (percentile(ws, 0.9), percentile(ss, 0.9)) for k, (ws, ss) in acc.items()}
    return out


def heatmap(rows: list[tuple[Any, ...]], grain: Grain) -> dict[tuple[int, int], int]:
    """Tickets issued per (weekday 0 = Monday, local hour), from an hourly grain."""
    weekday, hour = grain.key_of("weekday"), grain.key_of("hour")
    out: dict[tuple[int, int], int] = {}
    for row in rows:
        k = (weekday(row), hour(row))
        out[k] = out.get(k, 0) + int(row[grain.width])
    return out
