"""Report tables: one row per group (staff, counter, service, day, hour) or the
period's total, combining the ticket and rating figures of figures.py with
the groups' names."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select

from .. import models as m
from .figures import Ctx, empty_rating, misuse_stats, rating_stats, ticket_stats


def labels(c: Ctx, group: str | None, keys: Iterable[Any]) -> dict[Any, str]:
    """Human labels for group keys (names, counter numbers, dd/mm/yyyy, HH:00)."""
    keys = [k for k in keys if k is not None]
    if group == "staff":
        rows = c.s.execute(select(m.User.id, m.User.full_name).where(m.User.id.in_(keys)))
        return {i: n for i, n in rows}
    if group == "counter":
        rows = c.s.execute(select(m.Counter.id, m.Counter.number, m.Counter.name)
                           .where(m.Counter.id.in_(keys)))
        return {i: (name or f"Quầy {num}") for i, num, name in rows}
    if group == "service":
        rows = c.s.execute(select(m.Service.id, m.Service.name).where(m.Service.id.in_(keys)))
        return {i: n for i, n in rows}
    if group == "day":
        return {k: f"{k[8:10]}/{k[5:7]}/{k[0:4]}" for k in keys}
    if group == "hour":
        return {k: f"{int(k):02d}:00" for k in keys}
    return {k: "" for k in keys}


def grouped(c: Ctx, group: str | None, percentiles: bool = True) -> list[dict[str, Any]]:
    """One row per group key: ticket figures, rating figures and coverage."""
    ts, rs = ticket_stats(c, group, percentiles), rating_stats(c, group)
    keys = set(ts) | set(rs)
    names = labels(c, group, keys)
    blank_t = {"issued": 0, "served": 0, "no_show": 0, "cancelled": 0, "avg_wait": None,
               "p90_wait": None, "avg_service": None, "p90_service": None}
    rows = []
    for k in keys:
        row = {"key": k, "label": names.get(k, "—" if k is None else str(k))}
        row.update(ts.get(k, blank_t))
        row.update(rs.get(k, empty_rating()))
        row["coverage"] = (row["rated_tickets"] / row["served"]) if row["served"] else None
        rows.append(row)
    if group in ("day", "hour"):
        rows.sort(key=lambda r: (r["key"] is None, r["key"] if r["key"] is not None else 0))
    else:
        rows.sort(key=lambda r: (r["key"] is None, r["label"]))
    return rows


def totals(c: Ctx) -> dict[str, Any]:
    rows = grouped(c, None)
    row = rows[0] if rows else grouped_blank(c)
    row["misuse"] = misuse_stats(c)
    row["misuse_total"] = sum(row["misuse"].values())
    return row


def grouped_blank(c: Ctx) -> dict[str, Any]:
    row = {"key": 0, "label": "", "issued": 0, "served": 0, "no_show": 0, "cancelled": 0,
           "avg_wait": None, "p90_wait": None, "avg_service": None, "p90_service": None}
    row.update(empty_rating())
    row["coverage"] = None
    return row
