"""Several groupings of one table in one statement, and their keys read back.

A report shows the same figures per officer, counter, service, local day,
hour and weekday (``None``: the whole period; ``"heat"``: weekday x hour).
:class:`Keys` holds the SQL key columns those groupings need, each once,
and turns the values of a row back into each grouping's key.
:func:`grouped` asks the aggregates for every grouping in one statement:
``GROUP BY GROUPING SETS`` on PostgreSQL; on SQLite, which has none, one
``GROUP BY`` at the finest grain the groupings need (e.g. officer x local
hour), each row then counted in every grouping, so its aggregates must add
up (counts and sums).  On SQLite local hours and weekdays are read from
the local hour of each day (:meth:`Scope.time_key`); PostgreSQL groups by
the local hour or weekday itself.
"""
from __future__ import annotations

import datetime as dt
from operator import add
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import func, literal, select, tuple_

from .scope import ENTITIES, Scope

Group = str | None


class Keys:
    """The key columns of some groupings of one table (``time_col``: the time a
    row counts at; ``entity_cols``: its officer, counter and service columns).

    ``additive``: the aggregates add up (counts, sums), so local hours,
    weekdays and, when one of those is asked, days are all read from one key
    per local hour of each day.  Percentiles do not add up: on PostgreSQL
    they group by the local day, hour or weekday itself."""

    def __init__(self, sc: Scope, groups: Iterable[Group], time_col: Any,
                 entity_cols: dict[str, Any], additive: bool = True) -> None:
        self.sc = sc
        self.groups: list[Group] = list(dict.fromkeys(groups))
        self.exact = sc.pg and not additive
        self._hourly = not self.exact and bool({"hour", "weekday", "heat"} & set(self.groups))
        self.columns: list[Any] = []
        self.slots: dict[Group, tuple[int, ...]] = {}
        index: dict[str, int] = {}
        for g in self.groups:
            slots = []
            for name, expr in self._parts(g, time_col, entity_cols):
                if name not in index:
                    index[name] = len(self.columns)
                    self.columns.append(expr)
                slots.append(index[name])
            self.slots[g] = tuple(slots)

    def _parts(self, g: Group, time_col: Any, entity_cols: dict[str, Any]) -> list[tuple[str, Any]]:
        sc = self.sc
        if g is None:
            return []
        if g in ENTITIES:
            return [(g, entity_cols[g])]
        if g == "day" and not self._hourly:
            return [("day", sc.time_key(time_col, hourly=False))]
        if not self.exact:
            return [("hourly", sc.time_key(time_col, hourly=True))]
        hour, weekday = ("hour", sc.local_hour(time_col)), ("weekday", sc.local_weekday(time_col))
        return {"hour": [hour], "weekday": [weekday], "heat": [weekday, hour]}[g]

    def reader(self, g: Group) -> Callable[[Sequence[Any]], Any]:
        """A function from a row starting with :attr:`columns` to the key of grouping ``g``."""
        slots = self.slots[g]
        if g is None:
            return lambda row: 0
        i, local = slots[0], self.sc.local_text
        if g == "day" and not self._hourly:
            return lambda row: local(row[i], False)
        if g in ENTITIES or self.exact:
            if len(slots) == 1:
                return lambda row: row[i]
            return lambda row: tuple(row[j] for j in slots)
        keys: dict[Any, Any] = {}

        def key(row: Sequence[Any]) -> Any:  # local day, hour, weekday or both, by local hour key
            v = row[i]
            k = keys.get(v)
            if k is None:
                text = local(v, True)
                if g == "day":
                    k = text[:10]
                else:
                    hour, weekday = int(text[11:13]), dt.date.fromisoformat(text[:10]).weekday()
                    k = {"hour": hour, "weekday": weekday, "heat": (weekday, hour)}[g]
                keys[v] = k
            return k

        return key


def grouped(sc: Scope, keys: Keys, aggregates: Sequence[Any], where: Sequence[Any],
            extra: Sequence[Any] = ()) -> dict[Group, dict[Any, list[Any]]]:
    """Per grouping, ``{key: [aggregates...]}`` from one statement; with
    ``extra`` columns (grouped by in every grouping) the key is ``(key,
    *extra values)``.  Rows of one key are added up (additive :class:`Keys`),
    so their aggregates must never be NULL (``coalesce`` a sum)."""
    n, e = len(keys.columns), len(extra)
    if sc.pg:
        sets: dict[tuple[int, ...], list[Group]] = {}
        for g in keys.groups:
            sets.setdefault(keys.slots[g], []).append(g)
        layouts = list(sets)
        # GROUPING(...) has bit n-1-j set when key column j is not in the row's set
        full = (1 << n) - 1
        tag_of = {full ^ sum(1 << (n - 1 - j) for j in slots): i for i, slots in enumerate(layouts)}
        which = func.grouping(*keys.columns) if n else literal(0)
        q = (select(which, *keys.columns, *extra, *aggregates).where(*where)
             .group_by(func.grouping_sets(*(tuple_(*(keys.columns[j] for j in slots), *extra)
                                            for slots in layouts))))
        readers = [[(g, keys.reader(g)) for g in sets[slots]] for slots in layouts]
        rows = [(readers[tag_of[row[0]]], row[1:]) for row in sc.fetch(q)]
    else:
        # one GROUP BY at the finest grain, each row added to every grouping
        # (a UNION ALL of one GROUP BY per grouping would scan the period each time)
        q = select(*keys.columns, *extra, *aggregates).where(*where)
        if n or e:
            q = q.group_by(*keys.columns, *extra)
        every = [(g, keys.reader(g)) for g in keys.groups]
        rows = [(every, row) for row in sc.fetch(q)]
    out: dict[Group, dict[Any, list[Any]]] = {g: {} for g in keys.groups}
    for readers_of_row, row in rows:
        ex, values = tuple(row[n:n + e]), row[n + e:]
        for g, read in readers_of_row:
            acc = out[g]
            k = (read(row), *ex) if e else read(row)
            a = acc.get(k)
            acc[k] = list(values) if a is None else list(map(add, a, values))
    return out
