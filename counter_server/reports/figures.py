"""Report figures computed by the database (GROUP BY), not row by row in Python.

Semantics, consistent with the event log (each status below is reached by
exactly one kind of event):

* a ticket belongs to the period of its issue time (``ticket.issued`` event);
  *issued* counts them, *served* those that reached ``done``
  (``ticket.completed``), *no-show* / *cancelled* the final statuses;
* waiting time = called_at - issued_at (first ``ticket.called``), over tickets
  that were called; service time = finished_at - (started_at or called_at)
  over served tickets;
* ratings belong to the period of their own time (``rating.created``);
  ratings flagged as misuse are left out of every figure unless asked for
  and are counted apart;
* percentiles are continuous (linear interpolation, PostgreSQL's
  ``percentile_cont``): in SQL on PostgreSQL, in Python on SQLite over one
  narrow column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session

from .. import models as m
from ..defaults import office_settings
from . import blockfig as bf
from .period import Period

T, R = m.Ticket, m.Rating
GROUPS = ("staff", "counter", "service", "day", "hour")
OFFICIAL = ("very_satisfied", "satisfied", "unsatisfied")
WAIT_BANDS = ((0, 5), (5, 15), (15, 30), (30, 60), (60, None))  # minutes


@dataclass(frozen=True)
class Filters:
    service_id: int | None = None
    counter_id: int | None = None
    staff_id: int | None = None


class Ctx:
    """One report request: office, period, filters and the SQL dialect helpers."""

    def __init__(self, s: Session, office: m.Office, period: Period,
                 filters: Filters = Filters(), include_misuse: bool = False) -> None:
        self.s, self.office, self.period, self.f = s, office, period, filters
        self.include_misuse = include_misuse
        self.pg = s.get_bind().dialect.name == "postgresql"
        self.tz = office.timezone
        self.mod = f"{period.offset_minutes():+d} minutes"
        st = office_settings(office.settings)
        self.levels: list[dict[str, Any]] = sorted(st["rating_levels"], key=lambda lv: -lv["value"])
        self.reasons = {r["code"]: r["label"] for r in st["rating_reasons"]}
        # Day blocks from the report cache (cache.attach); None = scan tickets/ratings.
        self.blocks: list[dict[str, Any]] | None = None

    # ----------------------------------------------------------- SQL helpers
    def local_ts(self, col: Any) -> Any:
        if self.pg:
            return func.timezone(self.tz, func.timezone("UTC", col))
        return func.datetime(col, self.mod)

    def local_date(self, col: Any) -> Any:
        if self.pg:
            return func.to_char(self.local_ts(col), "YYYY-MM-DD")
        return func.date(col, self.mod)

    def local_hour(self, col: Any) -> Any:
        if self.pg:
            return cast(func.extract("hour", self.local_ts(col)), Integer)
        return cast(func.strftime("%H", col, self.mod), Integer)

    def local_dow(self, col: Any) -> Any:
        """0 = Monday ... 6 = Sunday."""
        if self.pg:
            return cast(func.extract("isodow", self.local_ts(col)), Integer) - 1
        return (cast(func.strftime("%w", col, self.mod), Integer) + 6) % 7

    def seconds(self, a: Any, b: Any) -> Any:
        if self.pg:
            return func.extract("epoch", b - a)
        return (func.julianday(b) - func.julianday(a)) * 86400.0

    def ticket_where(self) -> list[Any]:
        p = self.period
        return [T.office_id == self.office.id, T.issued_at >= p.start_utc,
                T.issued_at < p.end_utc, *self._filter_clauses(T)]

    def _filter_clauses(self, model: Any) -> list[Any]:
        """The service / counter / officer filters, on tickets or ratings alike."""
        f = self.f
        return [getattr(model, col) == value for col, value in
                (("service_id", f.service_id), ("counter_id", f.counter_id),
                 ("staff_id", f.staff_id)) if value]

    def rating_where(self, misuse: bool | None = None) -> list[Any]:
        p = self.period
        w = [R.office_id == self.office.id, R.created_at >= p.start_utc, R.created_at < p.end_utc]
        if misuse is None:
            misuse = None if self.include_misuse else False
        if misuse is not None:
            w.append(R.misuse.is_(misuse))
        return w + self._filter_clauses(R)

    def ticket_key(self, group: str | None) -> Any:
        return {None: literal(0), "staff": T.staff_id, "counter": T.counter_id,
                "service": T.service_id, "day": self.local_date(T.issued_at),
                "hour": self.local_hour(T.issued_at)}[group]

    def rating_key(self, group: str | None) -> Any:
        return {None: literal(0), "staff": R.staff_id, "counter": R.counter_id,
                "service": R.service_id, "day": self.local_date(R.created_at),
                "hour": self.local_hour(R.created_at)}[group]

    def wait_expr(self) -> Any:
        return self.seconds(T.issued_at, T.called_at)

    def service_expr(self) -> Any:
        return self.seconds(func.coalesce(T.started_at, T.called_at), T.finished_at)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Continuous percentile, identical to PostgreSQL's percentile_cont."""
    if not values:
        return None
    xs = sorted(values)
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _norm_key(k: Any) -> Any:
    return int(k) if isinstance(k, float) and k.is_integer() else k


# ----------------------------------------------------------------- tickets
CUBE_GROUPS = ("staff", "counter", "service", "day")


def ticket_cube(c: Ctx) -> list[tuple[Any, ...]]:
    """One scan grouped by (staff, counter, service, local day) with counts and
    sums; every grouping without percentiles is rolled up from it in Python
    (a year of one office is a few thousand rows), instead of one scan each."""
    cached = getattr(c, "_cube", None)
    if cached is not None:
        return cached
    if c.blocks is not None:
        c._cube = bf.ticket_cube(c)  # type: ignore[attr-defined]
        return c._cube  # type: ignore[attr-defined]
    done = T.status == m.DONE
    wait, serv = c.wait_expr(), case((done, c.service_expr()))
    day = c.local_date(T.issued_at)
    q = (select(T.staff_id, T.counter_id, T.service_id, day, func.count(),
                func.sum(case((done, 1), else_=0)),
                func.sum(case((T.status == m.NO_SHOW, 1), else_=0)),
                func.sum(case((T.status == m.CANCELLED, 1), else_=0)),
                func.sum(wait), func.count(wait), func.sum(serv), func.count(serv))
         .where(*c.ticket_where()).group_by(T.staff_id, T.counter_id, T.service_id, day))
    c._cube = [tuple(r) for r in c.s.execute(q)]  # type: ignore[attr-defined]
    return c._cube  # type: ignore[attr-defined]


def _rollup(c: Ctx, group: str | None) -> dict[Any, dict[str, Any]]:
    pos = {None: None, "staff": 0, "counter": 1, "service": 2, "day": 3}[group]
    acc: dict[Any, list[float]] = {}
    for row in ticket_cube(c):
        k = 0 if pos is None else row[pos]
        a = acc.setdefault(k, [0.0] * 8)
        for i, v in enumerate(row[4:]):
            a[i] += float(v or 0)
    return {k: {"issued": int(a[0]), "served": int(a[1]), "no_show": int(a[2]),
                "cancelled": int(a[3]), "avg_wait": a[4] / a[5] if a[5] else None,
                "avg_service": a[6] / a[7] if a[7] else None, "p90_wait": None,
                "p90_service": None, "_n_wait": int(a[5]), "_n_service": int(a[7])}
            for k, a in acc.items()}


def _narrow(c: Ctx, group: str) -> tuple[dict[Any, list[float]], dict[Any, list[float]]]:
    """SQLite, per-group p90 (exports): one fetch of the narrow columns, shared by
    every grouping of the workbook, then sorted per group in Python."""
    rows = getattr(c, "_narrow_rows", None)
    if rows is None:
        q = select(T.staff_id, T.counter_id, T.service_id, c.local_date(T.issued_at),
                   c.wait_expr(), case((T.status == m.DONE, c.service_expr()))).where(
            *c.ticket_where(), T.called_at.is_not(None))
        rows = c._narrow_rows = c.s.execute(q).all()  # type: ignore[attr-defined]
    pos = {"staff": 0, "counter": 1, "service": 2, "day": 3}[group]
    waits: dict[Any, list[float]] = {}
    servs: dict[Any, list[float]] = {}
    for r in rows:
        waits.setdefault(r[pos], []).append(r[4])
        if r[5] is not None:
            servs.setdefault(r[pos], []).append(r[5])
    return waits, servs


def sorted_percentile(c: Ctx, expr: Any, cond: Any, n: int, q: float) -> float | None:
    """Exact percentile_cont of one period on SQLite: the database sorts, and only
    the two values around the position (known from the count) come back."""
    if n <= 0:
        return None
    pos = q * (n - 1)
    lo = math.floor(pos)
    vals = [float(v) for (v,) in c.s.execute(
        select(expr.label("v")).where(*c.ticket_where(), cond).order_by(expr).limit(2).offset(lo))]
    if not vals:
        return None
    b = vals[1] if len(vals) > 1 else vals[0]
    return vals[0] + (b - vals[0]) * (pos - lo)


def ticket_stats(c: Ctx, group: str | None = None,
                 percentiles: bool = True) -> dict[Any, dict[str, Any]]:
    """Counts, average and (optionally) p90 waiting/service seconds per group key."""
    if group is None or group in CUBE_GROUPS:
        out = _rollup(c, group)
        if percentiles and out and c.blocks is not None:
            waits, servs = bf.values(c, None if group is None else CUBE_GROUPS.index(group))
            for k, d in out.items():
                d["p90_wait"] = percentile(waits.get(k, []), 0.9)
                d["p90_service"] = percentile(servs.get(k, []), 0.9)
        elif percentiles and out:
            key = c.ticket_key(group).label("k")
            if c.pg:
                q = select(key, func.percentile_cont(0.9).within_group(c.wait_expr()),
                           func.percentile_cont(0.9).within_group(
                               case((T.status == m.DONE, c.service_expr())))).where(
                    *c.ticket_where()).group_by(key)
                for k, pw, ps in c.s.execute(q):
                    if _norm_key(k) in out:
                        out[_norm_key(k)].update(
                            p90_wait=None if pw is None else float(pw),
                            p90_service=None if ps is None else float(ps))
            elif group is None:
                d = out[0]
                for name, expr, cond, n in (
                        ("p90_wait", c.wait_expr(), T.called_at.is_not(None), d["_n_wait"]),
                        ("p90_service", c.service_expr(), T.status == m.DONE, d["_n_service"])):
                    d[name] = sorted_percentile(c, expr, cond, n, 0.9)
            else:
                waits, servs = _narrow(c, group)
                for k, d in out.items():
                    d["p90_wait"] = percentile(waits.get(k, []), 0.9)
                    d["p90_service"] = percentile(servs.get(k, []), 0.9)
        return out
    key = c.ticket_key(group).label("k")
    done = T.status == m.DONE
    wait, serv = c.wait_expr(), c.service_expr()
    served_serv = case((done, serv))
    cols = [key, func.count().label("issued"),
            func.sum(case((done, 1), else_=0)).label("served"),
            func.sum(case((T.status == m.NO_SHOW, 1), else_=0)).label("no_show"),
            func.sum(case((T.status == m.CANCELLED, 1), else_=0)).label("cancelled"),
            func.avg(wait).label("avg_wait"), func.avg(served_serv).label("avg_service")]
    if c.pg and percentiles:
        cols += [func.percentile_cont(0.9).within_group(wait).label("p90_wait"),
                 func.percentile_cont(0.9).within_group(served_serv).label("p90_service")]
    rows = c.s.execute(select(*cols).where(*c.ticket_where()).group_by(key)).mappings().all()
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        d = {k: r[k] for k in r.keys() if k != "k"}
        for k in ("served", "no_show", "cancelled"):
            d[k] = int(d[k] or 0)
        for k in ("avg_wait", "avg_service", "p90_wait", "p90_service"):
            d[k] = float(d[k]) if d.get(k) is not None else None
        out[_norm_key(r["k"])] = d
    if not c.pg and percentiles and rows:  # the hour grouping on SQLite
        waits: dict[Any, list[float]] = {}
        servs: dict[Any, list[float]] = {}
        q = select(key, wait, served_serv).where(*c.ticket_where(), T.called_at.is_not(None))
        for k, w, sv in c.s.execute(q):
            waits.setdefault(_norm_key(k), []).append(w)
            if sv is not None:
                servs.setdefault(_norm_key(k), []).append(sv)
        for k, d in out.items():
            d["p90_wait"] = percentile(waits.get(k, []), 0.9)
            d["p90_service"] = percentile(servs.get(k, []), 0.9)
    return out


# ----------------------------------------------------------------- ratings
def rating_stats(c: Ctx, group: str | None = None) -> dict[Any, dict[str, Any]]:
    """Counts per level, folded official shares and rated tickets per group key."""
    if group is None or group in CUBE_GROUPS:
        cube = getattr(c, "_rcube", None)
        if cube is None and c.blocks is not None:
            cube = c._rcube = bf.rating_cube(c)  # type: ignore[attr-defined]
        if cube is None:
            day = c.local_date(R.created_at)
            cube = c._rcube = [tuple(r) for r in c.s.execute(  # type: ignore[attr-defined]
                select(R.staff_id, R.counter_id, R.service_id, day, R.level, func.count(),
                       func.count(R.ticket_id)).where(*c.rating_where())
                .group_by(R.staff_id, R.counter_id, R.service_id, day, R.level))]
        pos = {None: None, "staff": 0, "counter": 1, "service": 2, "day": 3}[group]
        acc: dict[tuple[Any, int], list[int]] = {}
        for row in cube:
            a = acc.setdefault((0 if pos is None else row[pos], row[4]), [0, 0])
            a[0] += row[5]
            a[1] += row[6]
        rows: Iterable[tuple[Any, ...]] = [(k, lv, n, wt) for (k, lv), (n, wt) in acc.items()]
    else:
        key = c.rating_key(group).label("k")
        rows = c.s.execute(select(key, R.level, func.count(), func.count(R.ticket_id))
                           .where(*c.rating_where()).group_by(key, R.level))
    official_of = {lv["value"]: lv.get("official", "") for lv in c.levels}
    out: dict[Any, dict[str, Any]] = {}
    for k, level, n, with_ticket in rows:
        d = out.setdefault(_norm_key(k), {"levels": {lv["value"]: 0 for lv in c.levels},
                                          "rated": 0, "rated_tickets": 0})
        d["levels"][level] = d["levels"].get(level, 0) + n
        d["rated"] += n
        d["rated_tickets"] += with_ticket
    for d in out.values():
        total = d["rated"]
        d["level_share"] = {v: (n / total if total else None) for v, n in d["levels"].items()}
        off = {o: 0 for o in OFFICIAL}
        for v, n in d["levels"].items():
            if official_of.get(v) in off:
                off[official_of[v]] += n
        d["official"] = off
        d["official_share"] = {o: (n / total if total else None) for o, n in off.items()}
    return out


def empty_rating() -> dict[str, Any]:
    return {"levels": {}, "rated": 0, "rated_tickets": 0, "level_share": {},
            "official": {o: 0 for o in OFFICIAL}, "official_share": {o: None for o in OFFICIAL}}


def misuse_stats(c: Ctx) -> dict[str, int]:
    if c.blocks is not None:
        return bf.misuse_stats(c)
    q = (select(R.misuse_reason, func.count()).where(*c.rating_where(misuse=True))
         .group_by(R.misuse_reason))
    return {reason or "other": n for reason, n in c.s.execute(q)}


def heatmap(c: Ctx) -> dict[tuple[int, int], int]:
    """Tickets issued per (weekday 0=Mon, local hour)."""
    if c.blocks is not None:
        return bf.heatmap(c)
    dow, hour = c.local_dow(T.issued_at).label("d"), c.local_hour(T.issued_at).label("h")
    q = select(dow, hour, func.count()).where(*c.ticket_where()).group_by(dow, hour)
    return {(int(d), int(h)): n for d, h, n in c.s.execute(q)}


def wait_bands(c: Ctx) -> list[dict[str, Any]]:
    """Ratings by the rated ticket's waiting time: do long waits drive low ratings?"""
    secs = c.seconds(T.issued_at, T.called_at)
    whens = [(secs < hi * 60, i) for i, (_lo, hi) in enumerate(WAIT_BANDS) if hi is not None]
    band = case(*whens, else_=len(WAIT_BANDS) - 1).label("b")
    q = (select(band, R.level, func.count()).join(T, T.id == R.ticket_id)
         .where(*c.rating_where(), T.called_at.is_not(None)).group_by(band, R.level))
    out = [{"lo": lo, "hi": hi, "levels": {lv["value"]: 0 for lv in c.levels}, "rated": 0}
           for lo, hi in WAIT_BANDS]
    for b, level, n in (bf.band_counts(c) if c.blocks is not None else c.s.execute(q)):
        out[int(b)]["levels"][level] = out[int(b)]["levels"].get(level, 0) + n
        out[int(b)]["rated"] += n
    low = {lv["value"] for lv in c.levels if lv.get("low")}
    for d in out:
        d["low_share"] = (sum(n for v, n in d["levels"].items() if v in low) / d["rated"]
                          if d["rated"] else None)
    return out


def low_ratings(c: Ctx, limit: int = 200) -> list[dict[str, Any]]:
    """The newest low ratings with reasons and comments (misuse left out)."""
    low = [lv["value"] for lv in c.levels if lv.get("low")]
    q = (select(R.created_at, R.level, R.reasons, R.comment, R.channel, T.display_number,
                m.User.full_name, m.Counter.number, m.Service.name)
         .outerjoin(T, T.id == R.ticket_id).outerjoin(m.User, m.User.id == R.staff_id)
         .outerjoin(m.Counter, m.Counter.id == R.counter_id)
         .outerjoin(m.Service, m.Service.id == R.service_id)
         .where(*c.rating_where(), R.level.in_(low))
         .order_by(R.created_at.desc()).limit(limit))
    label_of = {lv["value"]: lv["label"] for lv in c.levels}
    return [{"created_at": r[0], "level": r[1], "level_label": label_of.get(r[1], str(r[1])),
             "reasons": [c.reasons.get(x, x) for x in (r[2] or [])], "comment": r[3],
             "channel": r[4], "number": r[5] or "", "staff": r[6] or "", "counter": r[7],
             "service": r[8] or ""} for r in c.s.execute(q)]


