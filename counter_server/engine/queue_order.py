"""Which waiting ticket a counter calls next.

Two lanes: the priority lane (priority classes, plus normal tickets waiting
longer than the office's aging limit) by arrival, and the normal lane by
arrival scaled by the counter's weight for each service.  While both lanes
have people, the counter alternates ``priority_run`` priority calls with
``normal_run`` normal ones (its position in that cycle is stored on the
counter row).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Connection

from .. import statements as st

# Rows read from the head of each part of each lane: the first decides.  A
# second is there when another counter took the first meanwhile (PostgreSQL;
# if every row read was taken, the caller reads the heads again).
HEAD_ROWS = 2


def lanes(conn: Connection, counter: Any, weights: dict[int, int], cutoff: dt.datetime,
          now: dt.datetime) -> tuple[list[Any], list[Any]]:
    """The heads of the counter's two lanes, each in the order to try them.

    Within one service both orders are arrival order, so the first few
    tickets of each service's queue (and of the tickets transferred to this
    counter) hold the heads of both lanes: one statement reads them, each
    part from an index with an early stop."""
    stmt = st.lane_heads(counter.office_id, tuple(weights), HEAD_ROWS)
    rows = conn.execute(stmt, {"b_counter": counter.id, "b_cutoff": cutoff}).all()
    prio, normal, seen = [], [], set()
    for t in rows:
        if t.id not in seen:
            seen.add(t.id)
            (prio if t.priority_class or t.issued_at <= cutoff else normal).append(t)
    prio.sort(key=lambda t: (t.issued_at, t.id))
    normal.sort(key=lambda t: (-(now - t.issued_at).total_seconds() * weights.get(t.service_id, 1),
                               t.id))
    return prio, normal


def interleave(prio: list[Any], normal: list[Any], cycle_pos: int,
               settings: dict[str, Any]) -> tuple[list[Any], int]:
    """Candidates in the order to claim them, and the counter's next position
    in its cycle."""
    p_run, n_run = max(0, int(settings["priority_run"])), max(0, int(settings["normal_run"]))
    if prio and normal and p_run + n_run > 0:
        take_prio = cycle_pos < p_run
        nxt = (cycle_pos + 1) % (p_run + n_run)
        return (prio + normal if take_prio else normal + prio), nxt
    if not prio:
        cycle_pos = 0  # a newly arriving priority ticket goes first
    return prio + normal, cycle_pos
