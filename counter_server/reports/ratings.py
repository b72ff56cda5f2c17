"""Rating figures: ratings per level, the official three shares, coverage,
misuse presses, satisfaction by waiting time and the list of low ratings.

* A rating counts in the period (and local day, hour) it was given in, with
  the officer, counter and service it was given about (stored on the rating).
* Presses flagged as misuse are left out of every figure unless the report
  asks to include them; they are always counted apart, by reason.
* The official shares fold the office's levels onto "very satisfied /
  satisfied / unsatisfied" (each level's ``official`` setting).
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import func, select

from .. import models as m
from .scope import Scope
from .keys import Group, Keys, grouped
from .tickets import wait_seconds

T, R = m.Ticket, m.Rating
OFFICIAL = ("very_satisfied", "satisfied", "unsatisfied")
WAIT_BANDS = ((0, 5), (5, 15), (15, 30), (30, 60), (60, None))  # minutes
ENTITY_COLUMN = {"staff": R.staff_id, "counter": R.counter_id, "service": R.service_id}


def counts(sc: Scope, groups: Iterable[Group]) -> dict[Group, dict[Any, dict[str, Any]]]:
    """Per grouping and key: ratings per level, ratings tied to a ticket and the
    shares, from one statement (:func:`keys.grouped`)."""
    ks = Keys(sc, groups, R.created_at, ENTITY_COLUMN)
    out = {}
    for g, rows in grouped(sc, ks, (func.count(), func.count(R.ticket_id)), sc.rating_where(),
                           extra=(R.level,)).items():
        acc: dict[Any, list[Any]] = {}  # key -> [counts per level, rated, rated tickets]
        for (k, level), (n, n_tickets) in rows.items():
            a = acc.get(k)
            if a is None:
                a = acc[k] = [{lv["value"]: 0 for lv in sc.levels}, 0, 0]
            a[0][level] = a[0].get(level, 0) + n
            a[1] += n
            a[2] += n_tickets
        out[g] = {k: _shares(sc, {"levels": lv, "rated": n, "rated_tickets": nt})
                  for k, (lv, n, nt) in acc.items()}
    return out


def blank(sc: Scope) -> dict[str, Any]:
    return _shares(sc, {"levels": {lv["value"]: 0 for lv in sc.levels}, "rated": 0,
                        "rated_tickets": 0})


def _shares(sc: Scope, d: dict[str, Any]) -> dict[str, Any]:
    total = d["rated"]
    official_of = {lv["value"]: lv.get("official", "") for lv in sc.levels}
    off = {o: 0 for o in OFFICIAL}
    for v, n in d["levels"].items():
        if official_of.get(v) in off:
            off[official_of[v]] += n
    d["level_share"] = {v: (n / total if total else None) for v, n in d["levels"].items()}
    d["official"] = off
    d["official_share"] = {o: (n / total if total else None) for o, n in off.items()}
    return d


def misuse_counts(sc: Scope) -> dict[str, int]:
    """Presses flagged as misuse in the period, by reason (always counted apart)."""
    q = (select(R.misuse_reason, func.count()).where(*sc.rating_where(misuse=True))
         .group_by(R.misuse_reason))
    out: dict[str, int] = {}
    for reason, n in sc.s.execute(q):
        out[reason or "other"] = out.get(reason or "other", 0) + n
    return out


def wait_bands(sc: Scope) -> list[dict[str, Any]]:
    """Ratings by the rated ticket's waiting time: do long waits drive low ratings?"""
    # grouped by whole minutes of wait (the wait computed once per rating),
    # then put in bands here: the bands' bounds are whole minutes
    minutes = sc.whole_minutes(wait_seconds(sc)).label("m")
    q = (select(minutes, R.level, func.count()).join(T, T.id == R.ticket_id)
         .where(*sc.rating_where(), T.called_at.is_not(None),
                # always true of a rated ticket; lets PostgreSQL read one office's tickets
                T.office_id == sc.office.id, T.issued_at < sc.period.end_utc)
         .group_by(minutes, R.level))
    out = [{"lo": lo, "hi": hi, "levels": {lv["value"]: 0 for lv in sc.levels}, "rated": 0}
           for lo, hi in WAIT_BANDS]
    for mins, level, n in sc.fetch(q):
        b = next(i for i, (_lo, hi) in enumerate(WAIT_BANDS) if hi is None or mins < hi)
        out[b]["levels"][level] = out[b]["levels"].get(level, 0) + n
        out[b]["rated"] += n
    low = set(sc.low_levels)
    for d in out:
        d["low_share"] = (sum(n for v, n in d["levels"].items() if v in low) / d["rated"]
                          if d["rated"] else None)
    return out


def low_count(sc: Scope) -> int:
    return sc.s.scalar(select(func.count()).select_from(R).where(
        *sc.rating_where(), R.level.in_(sc.low_levels))) or 0


def low_ratings(sc: Scope, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Low ratings, newest first, with reasons, comment, officer, counter, service."""
    q = (select(R.created_at, R.level, R.reasons, R.comment, R.channel, T.display_number,
                m.User.full_name, m.Counter.number, m.Service.name)
         .outerjoin(T, T.id == R.ticket_id).outerjoin(m.User, m.User.id == R.staff_id)
         .outerjoin(m.Counter, m.Counter.id == R.counter_id)
         .outerjoin(m.Service, m.Service.id == R.service_id)
         .where(*sc.rating_where(), R.level.in_(sc.low_levels))
         .order_by(R.created_at.desc(), R.id.desc()).offset(offset).limit(limit))
    label_of = {lv["value"]: lv["label"] for lv in sc.levels}
    return [{"created_at": r[0], "level": r[1], "level_label": label_of.get(r[1], str(r[1])),
             "reasons": [sc.reasons.get(x, x) for x in (r[2] or [])], "comment": r[3],
             "channel": r[4], "number": r[5] or "", "staff": r[6] or "", "counter": r[7],
             "service": r[8] or ""} for r in sc.fetch(q)]
