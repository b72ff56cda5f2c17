"""Report tables: one row per group (officer, counter, service, day, hour,
weekday) or the period's total, with the ticket and rating figures side by
side and the groups' names.

A :class:`Report` reads the tickets and the ratings of its scope in one
statement each, every grouping it shows at once (:mod:`.keys`); the 90th
percentiles are read only for the groupings that show them.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select

from .. import models as m
from . import ratings as rt
from . import tickets as tk
from .scope import Scope

WEEKDAY_LABELS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
BLANK_TICKETS = {"issued": 0, "served": 0, "no_show": 0, "cancelled": 0, "avg_wait": None,
                 "p90_wait": None, "avg_service": None, "p90_service": None}


def labels(sc: Scope, group: str | None, keys: Iterable[Any]) -> dict[Any, str]:
    """Human labels for group keys (names, counters, dd/mm/yyyy, HH:00, weekdays)."""
    keys = [k for k in keys if k is not None]
    if group == "staff":
        rows = sc.s.execute(select(m.User.id, m.User.full_name).where(m.User.id.in_(keys)))
        return {i: n for i, n in rows}
    if group == "counter":
        rows = sc.s.execute(select(m.Counter.id, m.Counter.number, m.Counter.name)
                            .where(m.Counter.id.in_(keys)))
        return {i: (name or f"Quầy {num}") for i, num, name in rows}
    if group == "service":
        rows = sc.s.execute(select(m.Service.id, m.Service.name).where(m.Service.id.in_(keys)))
        return {i: n for i, n in rows}
    if group == "day":
        return {k: f"{k[8:10]}/{k[5:7]}/{k[0:4]}" for k in keys}
    if group == "hour":
        return {k: f"{int(k):02d}:00" for k in keys}
    if group == "weekday":
        return {k: WEEKDAY_LABELS[k] for k in keys}
    return {k: "" for k in keys}


class Report:
    """The figures of one scope for the groupings a page or an export shows.

    ``groups`` get ticket and rating figures; ``rating_groups`` (default: the
    same) the rating figures alone, for charts of shares; ``p90_groups`` the
    90th percentiles; ``heatmap`` the tickets per weekday and hour.  Tickets
    and ratings are each read in one statement for all their groupings."""

    def __init__(self, sc: Scope, groups: Iterable[str | None],
                 p90_groups: Iterable[str | None] = (None,),
                 rating_groups: Iterable[str | None] | None = None,
                 heatmap: bool = False) -> None:
        self.sc = sc
        self.groups = list(dict.fromkeys([None, *groups]))
        self.rating_groups = (self.groups if rating_groups is None
                              else list(dict.fromkeys([None, *rating_groups])))
        self.tickets = tk.counts(sc, self.groups + (["heat"] if heatmap else []))
        self.ratings_by = rt.counts(sc, self.rating_groups)
        self.p90 = tk.p90(sc, p90_groups)

    def ratings(self, group: str | None) -> list[dict[str, Any]]:
        """Rating figures alone, one row per key of ``group``, by label."""
        rs = self.ratings_by[group]
        names = labels(self.sc, group, rs)
        return sorted(({"key": k, "label": names.get(k, "—"), **v} for k, v in rs.items()),
                      key=lambda r: (r["key"] is None, r["label"]))

    def rows(self, group: str | None) -> list[dict[str, Any]]:
        """One row per key of ``group``: ticket figures, rating figures, coverage."""
        assert group in self.groups and group in self.rating_groups, group
        ts, rs = self.tickets[group], self.ratings_by[group]
        p90 = self.p90.get(group, {})
        keys = set(ts) | set(rs)
        names = labels(self.sc, group, keys)
        out = []
        for k in keys:
            row: dict[str, Any] = {"key": k, "label": names.get(k, "—" if k is None else str(k))}
            row.update(ts.get(k, BLANK_TICKETS))
            if k in p90:
                row["p90_wait"], row["p90_service"] = p90[k]
            row.update(rs.get(k) or rt.blank(self.sc))
            row["coverage"] = (row["rated_tickets"] / row["served"]) if row["served"] else None
            out.append(row)
        if group in ("day", "hour", "weekday"):
            out.sort(key=lambda r: (r["key"] is None, r["key"] if r["key"] is not None else 0))
        else:
            out.sort(key=lambda r: (r["key"] is None, r["label"]))
        return out

    def total(self) -> dict[str, Any]:
        """The whole period in one row, with the misuse presses counted apart."""
        rows = self.rows(None)
        row = rows[0] if rows else {"key": 0, "label": "", **BLANK_TICKETS,
                                    **rt.blank(self.sc), "coverage": None}
        row["misuse"] = rt.misuse_counts(self.sc)
        row["misuse_total"] = sum(row["misuse"].values())
        return row

    def heatmap(self) -> dict[tuple[int, int], int]:
        """Tickets per (weekday 0 = Monday, local hour); needs ``heatmap=True``."""
        return {k: v["issued"] for k, v in self.tickets["heat"].items()}
