"""Ticket figures: issued, served, no-show, cancelled, waiting and service times.

* A ticket counts in the period (and local day, hour, weekday) it was issued in.
* Waiting time = called_at - issued_at, over the tickets that were called.
* Service time = finished_at - started_at (called_at when the officer never
  pressed start), over the served tickets.
* Counts and sums of every grouping a page shows come from one statement
  over the period's tickets (:func:`.keys.grouped`), so a page scans them once.
* The 90th percentiles are continuous (linear interpolation): PostgreSQL's
  ``percentile_cont(0.9) WITHIN GROUP``; on SQLite, which has none, the
  narrow columns of seconds are fetched and :func:`percentile` computes it.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

from sqlalchemy import case, func, select

from .. import models as m
from .keys import Group, Keys, grouped
from .scope import Scope

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


def counts(sc: Scope, groups: Iterable[Group]) -> dict[Group, dict[Any, dict[str, Any]]]:
    """Per grouping and key: issued, served, no-show, cancelled and the average
    waiting and service times, from one statement (:func:`keys.grouped`)."""
    wait, serv = wait_seconds(sc), service_seconds(sc)
    ks = Keys(sc, groups, T.issued_at, ENTITY_COLUMN)
    aggregates = (func.count(), func.sum(case((T.status == m.DONE, 1), else_=0)),
                  func.sum(case((T.status == m.NO_SHOW, 1), else_=0)),
                  func.sum(case((T.status == m.CANCELLED, 1), else_=0)),
                  func.coalesce(func.sum(wait), 0), func.count(wait),
                  func.coalesce(func.sum(serv), 0), func.count(serv))
    return {g: {k: {"issued": a[0], "served": a[1], "no_show": a[2], "cancelled": a[3],
                    "avg_wait": float(a[4]) / a[5] if a[5] else None,
                    "avg_service": float(a[6]) / a[7] if a[7] else None,
                    "p90_wait": None, "p90_service": None}
                for k, a in rows.items() if a[0]}
            for g, rows in grouped(sc, ks, aggregates, sc.ticket_where()).items()}


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def p90(sc: Scope, groups: Iterable[Group]) -> dict[Group, dict[Any, tuple[Any, Any]]]:
    """(p90 waiting, p90 service) seconds per key, for each grouping asked.

    PostgreSQL: ``percentile_cont`` for every grouping in one statement
    (:func:`keys.grouped`).  SQLite: the called tickets' two columns of
    seconds with the groupings' keys in one fetch; :func:`percentile` per key."""
    groups = list(dict.fromkeys(groups))
    out: dict[Group, dict[Any, tuple[Any, Any]]] = {g: {} for g in groups}
    if not groups:
        return out
    wait, serv = wait_seconds(sc), service_seconds(sc)
    where = (*sc.ticket_where(), T.called_at.is_not(None))
    ks = Keys(sc, groups, T.issued_at, ENTITY_COLUMN, additive=False)
    if sc.pg:
        aggregates = (func.percentile_cont(0.9).within_group(wait),
                      func.percentile_cont(0.9).within_group(serv))
        for g, rows in grouped(sc, ks, aggregates, where).items():
            out[g] = {k: (_float(pw), _float(ps)) for k, (pw, ps) in rows.items()}
        return out
    rows = sc.fetch(select(*ks.columns, wait, serv).where(*where))
    if not rows:
        return out
    for g in groups:
        if g is None:
            out[g][0] = (percentile([r[-2] for r in rows], 0.9),
                         percentile([r[-1] for r in rows if r[-1] is not None], 0.9))
            continue
        key_of = ks.reader(g)
        acc: dict[Any, tuple[list[float], list[float]]] = {}
        for row in rows:
            k, sw, ss = key_of(row), row[-2], row[-1]
            lists = acc.get(k)
            if lists is None:
                lists = acc[k] = ([], [])
            lists[0].append(sw)
            if ss is not None:
                lists[1].append(ss)
        out[g] = {k: (percentile(ws, 0.9), percentile(ss, 0.9)) for k, (ws, ss) in acc.items()}
    return out
