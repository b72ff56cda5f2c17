"""Prebuilt Core statements for the paths every ticket takes.

Issuing, calling, completing and showing a ticket run a handful of small
statements each; building them with the expression language on every request
cost more CPU than executing them.  Built once here with bound parameters,
SQLAlchemy compiles each once per dialect and then only binds values.

Bound parameter names start with ``b_``: SQLAlchemy reserves the plain column
names for the SET clause of UPDATE statements.
"""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (Float, and_, bindparam, case, false, func, insert, literal_column, or_,
                        select, union_all, update)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from . import models as m
from .event_types import CALL_TYPES

TICKET = m.Ticket.__table__
OFFICE = m.Office.__table__
SERVICE = m.Service.__table__
COUNTER = m.Counter.__table__
COUNTER_SERVICE = m.CounterService.__table__
SEQUENCE = m.NumberSequence.__table__
RATING = m.Rating.__table__
# A counted rating, written as the predicate of the partial index
# ux_rating_ticket_valid (``misuse = 0``): ``IS 0`` would make SQLite scan.
COUNTED = RATING.c.misuse == false()

# ------------------------------------------------------------------ config rows
# A service with what issuing needs of its office (one row serves as both).
# ``served``: some active counter serves it (a service no counter serves issues nothing).
_SERVED = (select(COUNTER_SERVICE.c.counter_id)
           .join(COUNTER, COUNTER.c.id == COUNTER_SERVICE.c.counter_id)
           .where(COUNTER_SERVICE.c.service_id == SERVICE.c.id, COUNTER.c.active.is_(True))
           .exists().label("served"))
SERVICE_IN_OFFICE = (select(SERVICE, OFFICE.c.timezone, OFFICE.c.settings, OFFICE.c.opening_hours,
                            _SERVED)
                     .join(OFFICE, OFFICE.c.id == SERVICE.c.office_id)
                     .where(SERVICE.c.id == bindparam("b_id"),
                            SERVICE.c.office_id == bindparam("b_office")))
COUNTER_ROW = select(COUNTER.c.id, COUNTER.c.office_id, COUNTER.c.number, COUNTER.c.name,
                     COUNTER.c.state, COUNTER.c.pause_reason, COUNTER.c.staff_id,
                     COUNTER.c.current_ticket_id, COUNTER.c.cycle_pos, COUNTER.c.active,
                     ).where(COUNTER.c.id == bindparam("b_id"))
_IN_HAND = TICKET.alias("in_hand")
_STAFF = m.User.__table__.alias("staff")
# The counter with the state of its ticket in hand, its office's settings,
# timezone and opening hours, its officer (what call next checks first, and
# what its events need: the waiting counts, the officer's brief), one row
# per service it serves with the service's weight (one row with ``weight``
# NULL for a counter that serves none).
COUNTER_ROW_IN_HAND = (
    select(*COUNTER_ROW.selected_columns, _IN_HAND.c.status.label("in_hand_status"),
           _IN_HAND.c.display_number.label("in_hand_number"),
           OFFICE.c.settings.label("office_settings"), OFFICE.c.timezone,
           OFFICE.c.opening_hours, _STAFF.c.full_name.label("staff_name"),
           _STAFF.c.photo.label("staff_photo"),
           COUNTER_SERVICE.c.service_id.label("serves"), COUNTER_SERVICE.c.weight)
    .select_from(COUNTER.join(OFFICE, OFFICE.c.id == COUNTER.c.office_id)
                 .outerjoin(_IN_HAND, _IN_HAND.c.id == COUNTER.c.current_ticket_id)
                 .outerjoin(_STAFF, _STAFF.c.id == COUNTER.c.staff_id)
                 .outerjoin(COUNTER_SERVICE, COUNTER_SERVICE.c.counter_id == COUNTER.c.id))
    .where(COUNTER.c.id == bindparam("b_id")))
# Every counter transition locks its counter row first (db.lock_rows): two
# presses at one counter (two tabs, a double tap) run one after the other and
# the second sees what the first did.  (A join read FOR UPDATE would re-check
# only the locked row after waiting, not the joined ticket: call next locks
# first, then reads in a new statement.)
COUNTER_ROW_LOCKED = COUNTER_ROW.with_for_update()
COUNTER_LOCK = select(COUNTER.c.id).where(COUNTER.c.id == bindparam("b_id")).with_for_update()
COUNTER_NUMBER = select(COUNTER.c.number).where(COUNTER.c.id == bindparam("b_id"))
# The active counters serving a service, in number order, with their state
# (a ticket's view: their numbers, and how many are open for its estimate).
SERVICE_COUNTERS = (select(COUNTER.c.number, COUNTER.c.state)
                    .join(COUNTER_SERVICE, COUNTER_SERVICE.c.counter_id == COUNTER.c.id)
                    .where(COUNTER_SERVICE.c.service_id == bindparam("b_service"),
                           COUNTER.c.active.is_(True))
                    .order_by(COUNTER.c.number))
COUNTER_SERVICES = select(COUNTER_SERVICE.c.service_id, COUNTER_SERVICE.c.weight).where(
    COUNTER_SERVICE.c.counter_id == bindparam("b_id"))

# ----------------------------------------------------------------------- issue
TICKET_ROW = select(TICKET).where(TICKET.c.id == bindparam("b_id"))
TICKET_BY_KEY = select(TICKET).where(TICKET.c.office_id == bindparam("b_office"),
                                    TICKET.c.idempotency_key == bindparam("b_key"))
SEQUENCE_BUMP = (update(SEQUENCE)
                 .where(SEQUENCE.c.service_id == bindparam("b_service"),
                        SEQUENCE.c.service_day == bindparam("b_day"))
                 .values(last_number=SEQUENCE.c.last_number + 1)
                 .returning(SEQUENCE.c.last_number))
TICKET_INSERT = insert(TICKET).returning(*TICKET.c)

# -------------------------------------------------------------- counter side
# Literals, not an expanding IN: its list would be re-rendered on every call.
_IN_HAND_STATES = (literal_column(f"'{m.CALLED}'"), literal_column(f"'{m.SERVING}'"))
_CANDIDATE_COLS = (TICKET.c.id, TICKET.c.issued_at, TICKET.c.priority_class, TICKET.c.service_id)
# Literals, not parameters: the planner must see them to use the partial index.
_WAITING = TICKET.c.status == literal_column(f"'{m.WAITING}'")
_ARRIVAL = (TICKET.c.issued_at, TICKET.c.id)


def _in_service_queue(office: Any, service: Any) -> Any:
    return and_(TICKET.c.office_id == office, _WAITING,
                TICKET.c.service_id == service, TICKET.c.target_counter_id.is_(None))


def _head(limit: Any, *where: Any) -> Any:
    # (SQLite's compiler adds an OFFSET to every LIMIT: a literal one, not a parameter.)
    return select(*_CANDIDATE_COLS).where(*where).order_by(*_ARRIVAL).limit(limit).offset(
        literal_column("0"))


def _service_heads(office: Any, service: Any, limit: Any) -> list[Any]:
    """The first tickets of one service's queue that can head each lane: a few
    rows each, read in arrival order straight from an index, whatever the
    queue's length or the office's history."""
    queue = _in_service_queue(office, service)
    return [_head(limit, queue, TICKET.c.priority_class != literal_column("''")),  # priority
            # The queue's first: aged when issued at or before the cutoff (then no
            # earlier ticket is younger), else a priority or a normal head anyway.
            _head(limit, queue),
            _head(limit, queue, TICKET.c.priority_class == literal_column("''"),  # normal
                  TICKET.c.issued_at > bindparam("b_cutoff"))]


def _int(value: int) -> Any:
    return literal_column(str(int(value)))


@functools.lru_cache(maxsize=1024)  # built once per counter set-up
def lane_heads(office_id: int, service_ids: tuple[int, ...], limit: int) -> Any:
    """One statement for call next: the tickets transferred to the counter
    (parameter ``b_counter``) and the heads of its services' queues, each part
    still answered from an index with an early stop.

    The office, the services and the row limit are written into the statement
    (integers, one statement per counter set-up): bound, they made SQLAlchemy
    bind and convert some seventy parameters per call, several times the cost
    of running the query."""
    office, rows = _int(office_id), _int(limit)
    parts = [_head(rows, TICKET.c.office_id == office, _WAITING,  # transferred here: both lanes
                   TICKET.c.target_counter_id == bindparam("b_counter"))]
    for sid in service_ids:
        parts += _service_heads(office, _int(sid), rows)
    wrapped = [select(*sub.c).select_from(sub) for sub in (p.subquery() for p in parts)]
    return union_all(*wrapped)


# The row is locked first with FOR UPDATE SKIP LOCKED: on PostgreSQL a head
# another counter is claiming right now is skipped, not waited for (measured:
# bench/README.md "Offices and processes"); SQLite renders no FOR UPDATE.
CLAIM = (update(TICKET)
         .where(TICKET.c.id == select(TICKET.c.id).where(
                    TICKET.c.id == bindparam("b_id"), TICKET.c.status == m.WAITING)
                .with_for_update(skip_locked=True).scalar_subquery(),
                TICKET.c.status == m.WAITING)
         .values(status=m.CALLED, counter_id=bindparam("b_counter"),
                 staff_id=bindparam("b_staff"), called_at=bindparam("b_now"),
                 target_counter_id=None)
         .returning(*TICKET.c))
# The counter rows after a change, for the event (what COUNTER_ROW reads).
COUNTER_TAKE = (update(COUNTER).where(COUNTER.c.id == bindparam("b_id"))
                .values(current_ticket_id=bindparam("b_ticket"), cycle_pos=bindparam("b_cycle"))
                .returning(*COUNTER_ROW.selected_columns))
_COMPLETE = (update(TICKET)
             .where(TICKET.c.id == bindparam("b_id"), TICKET.c.office_id == bindparam("b_office"),
                    TICKET.c.counter_id == bindparam("b_counter"),
                    TICKET.c.status.in_(_IN_HAND_STATES))
             .values(status=m.DONE, finished_at=bindparam("b_now"),
                     started_at=func.coalesce(TICKET.c.started_at, TICKET.c.called_at,
                                              bindparam("b_now"))))
COMPLETE = _COMPLETE.returning(*TICKET.c)
# What the event needs (engine.ticket_summary), when nobody shows the ticket.
COMPLETE_BRIEF = _COMPLETE.returning(*(TICKET.c[n] for n in (
    "id", "office_id", "number", "display_number", "service_id", "status", "priority_class",
    "counter_id", "target_counter_id", "recall_count", "issued_at", "called_at", "started_at",
    "finished_at", "transfer_chain")))
COUNTER_RELEASE = (update(COUNTER)
                   .where(COUNTER.c.id == bindparam("b_id"),
                          COUNTER.c.current_ticket_id == bindparam("b_ticket"))
                   .values(current_ticket_id=None)
                   .returning(*COUNTER_ROW.selected_columns))

# ----------------------------------------------------------------------- views
# Tickets ahead in the service's queue: a range of the queue index (the
# status a literal, the arrival bound a range the index can stop at).
WAITING_BEFORE = select(func.count()).select_from(TICKET).where(
    TICKET.c.office_id == bindparam("b_office"), _WAITING,
    TICKET.c.service_id == bindparam("b_service"), TICKET.c.issued_at <= bindparam("b_at"),
    or_(TICKET.c.issued_at < bindparam("b_at"), TICKET.c.id < bindparam("b_id")))
OPEN_COUNTERS = (select(func.count()).select_from(COUNTER)
                 .join(COUNTER_SERVICE, COUNTER_SERVICE.c.counter_id == COUNTER.c.id)
                 .where(COUNTER_SERVICE.c.service_id == bindparam("b_service"),
                        COUNTER.c.state == literal_column("'open'"), COUNTER.c.active.is_(True)))

# ----------------------------------------------------------------------- ratings
# What a rating checks, in one row: the office's settings and, when the code
# names a ticket of that office, the ticket, its counter's number, the counter
# the rating device is bound to, the device's last rating and the ticket's
# counted rating (None where there is none).
_RATED_TICKET = TICKET.alias("rated")
RATING_CONTEXT = (
    select(OFFICE.c.settings.label("office_settings"), *_RATED_TICKET.c,
           select(COUNTER.c.number).where(COUNTER.c.id == _RATED_TICKET.c.counter_id)
           .scalar_subquery().label("counter_number"),
           select(m.Device.__table__.c.counter_id)
           .where(m.Device.__table__.c.id == bindparam("b_device"))
           .scalar_subquery().label("device_counter_id"),
           select(func.max(RATING.c.created_at)).where(RATING.c.device_id == bindparam("b_device"))
           .scalar_subquery().label("device_last_at"),
           select(RATING.c.id).where(RATING.c.ticket_id == _RATED_TICKET.c.id,
                                     COUNTED).limit(1)
           .scalar_subquery().label("counted_id"))
    .select_from(OFFICE.outerjoin(_RATED_TICKET, and_(
        _RATED_TICKET.c.code == bindparam("b_code"),
        _RATED_TICKET.c.office_id == OFFICE.c.id)))
    .where(OFFICE.c.id == bindparam("b_office")))
RATING_INSERT = insert(RATING).returning(*RATING.c)
RATING_BY_KEY = select(RATING).where(RATING.c.client_key == bindparam("b_key"))

# ------------------------------------------------------------ screen snapshots
# What the kiosk, the display and the events show of an office's queue: a
# handful of statements per snapshot or event, whatever the office's history.
EVENT = m.Event.__table__
USER = m.User.__table__
_NEWEST_EVENT = (select(func.coalesce(func.max(EVENT.c.id), 0))
                 .where(EVENT.c.office_id == OFFICE.c.id).scalar_subquery())
# The office with its newest event id (every change a screen shows appends one).
OFFICE_STATE = select(OFFICE, _NEWEST_EVENT.label("last_event_id")).where(
    OFFICE.c.id == bindparam("b_office"))
_WAITING_N = (select(func.count()).select_from(TICKET)
              .where(TICKET.c.office_id == SERVICE.c.office_id, _WAITING,
                     TICKET.c.service_id == SERVICE.c.id).scalar_subquery())
_ISSUED_N = (select(SEQUENCE.c.last_number)
             .where(SEQUENCE.c.service_id == SERVICE.c.id,
                    SEQUENCE.c.service_day == bindparam("b_day")).scalar_subquery())
_OPEN_N = (select(func.count()).select_from(COUNTER)
           .join(COUNTER_SERVICE, COUNTER_SERVICE.c.counter_id == COUNTER.c.id)
           .where(COUNTER_SERVICE.c.service_id == SERVICE.c.id,
                  COUNTER.c.state == literal_column("'open'"), COUNTER.c.active.is_(True))
           .scalar_subquery())
# The office's active services with their people waiting, tickets issued on
# the service day ``b_day`` and open counters, in the kiosk's order.
SERVICES_STATE = (select(SERVICE, _WAITING_N.label("waiting"), _ISSUED_N.label("issued_today"),
                         _OPEN_N.label("open_counters"))
                  .where(SERVICE.c.office_id == bindparam("b_office"),
                         SERVICE.c.active.is_(True))
                  .order_by(SERVICE.c.sort_order, SERVICE.c.id))
# Counter numbers per service (active counters), for "served at counters ...".
SERVICE_COUNTER_NUMBERS = (select(COUNTER_SERVICE.c.service_id, COUNTER_SERVICE.c.counter_id,
                                  COUNTER.c.number)
                           .join(COUNTER, COUNTER.c.id == COUNTER_SERVICE.c.counter_id)
                           .where(COUNTER.c.office_id == bindparam("b_office"),
                                  COUNTER.c.active.is_(True))
                           .order_by(COUNTER.c.number))
_CURRENT = TICKET.alias("current")
_CURRENT_SERVICE = SERVICE.alias("current_service")
_COUNTER_VIEW = (
    select(COUNTER.c.id, COUNTER.c.office_id, COUNTER.c.number, COUNTER.c.name, COUNTER.c.state,
           COUNTER.c.pause_reason, COUNTER.c.staff_id, COUNTER.c.current_ticket_id,
           USER.c.full_name.label("staff_name"), USER.c.photo.label("staff_photo"),
           _CURRENT.c.display_number, _CURRENT.c.status.label("current_status"),
           _CURRENT.c.service_id.label("current_service_id"),
           _CURRENT.c.called_at, _CURRENT.c.started_at, _CURRENT.c.issued_at,
           _CURRENT.c.priority_class, _CURRENT.c.transfer_chain, _CURRENT.c.recall_count,
           _CURRENT_SERVICE.c.code.label("service_code"),
           _CURRENT_SERVICE.c.name.label("service_name"))
    .select_from(COUNTER.outerjoin(USER, USER.c.id == COUNTER.c.staff_id)
                 .outerjoin(_CURRENT, _CURRENT.c.id == COUNTER.c.current_ticket_id)
                 .outerjoin(_CURRENT_SERVICE, _CURRENT_SERVICE.c.id == _CURRENT.c.service_id)))
# Counters as screens show them: officer, ticket in hand and its service.
COUNTERS_VIEW = _COUNTER_VIEW.where(COUNTER.c.office_id == bindparam("b_office"),
                                    COUNTER.c.active.is_(True)).order_by(COUNTER.c.number)
COUNTER_VIEW = _COUNTER_VIEW.where(COUNTER.c.id == bindparam("b_id"))
# The officer signed in at a counter, as events carry them.
# The names a transfer hop shows (engine.transfer_history): null where the hop has none.
_S2 = SERVICE.alias("to_service")
_C2 = COUNTER.alias("to_counter")
TRANSFER_NAMES = select(
    select(SERVICE.c.name).where(SERVICE.c.id == bindparam("b_from_service"))
    .scalar_subquery().label("from_service"),
    select(_S2.c.name).where(_S2.c.id == bindparam("b_to_service"))
    .scalar_subquery().label("to_service"),
    select(COUNTER.c.number).where(COUNTER.c.id == bindparam("b_from_counter"))
    .scalar_subquery().label("from_counter"),
    select(_C2.c.number).where(_C2.c.id == bindparam("b_to_counter"))
    .scalar_subquery().label("to_counter"),
    select(USER.c.full_name).where(USER.c.id == bindparam("b_staff"))
    .scalar_subquery().label("by"))
STAFF_BRIEF = select(USER.c.id, USER.c.full_name, USER.c.photo).where(
    USER.c.id == bindparam("b_id"))
# The latest calls (today's are kept by the caller): the event index read
# backwards, stopping after ``b_limit`` calls.
RECENT_CALLS = (select(EVENT.c.id, EVENT.c.type, EVENT.c.created_at,
                       EVENT.c.payload[("ticket", "display_number")].as_string()
                       .label("display_number"),
                       EVENT.c.payload[("ticket", "counter_number")].as_integer()
                       .label("counter_number"),
                       EVENT.c.payload[("ticket", "service_id")].as_integer()
                       .label("service_id"))
                .where(EVENT.c.office_id == bindparam("b_office"),
                       EVENT.c.id <= bindparam("b_last"),
                       EVENT.c.type.in_([literal_column(f"'{t}'") for t in CALL_TYPES]))
                .order_by(EVENT.c.id.desc()).limit(bindparam("b_limit")))

class minutes_between(FunctionElement):
    """Minutes from the first datetime argument to the second, as a float,
    in the database's own date arithmetic."""

    type = Float()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 1440.0)"


@compiles(minutes_between, "postgresql")
def _minutes_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 60.0)"


# ``number`` is selected (and unused) in each service's part of ``pace`` so
# that the report index does not cover it: SQLite prefers a covering index,
# and that one is ordered by issue time for the whole office, so it walked
# every newer ticket (the whole waiting queue) to find the service's done ones.
_NOT_COVERED = TICKET.c.number


@functools.lru_cache(maxsize=1024)  # built once per office's set of services
def pace(service_ids: tuple[int, ...], samples: int) -> Any:
    """One statement for the pace of several services: the mean length in
    minutes of each one's latest ``samples`` completed cases (each service's
    part a range of the queue index read backwards, stopping after
    ``samples`` rows), with parameter ``b_office``.  Rows ``(service_id,
    minutes)``; a service without a completed case has no row, one whose
    cases all end before they start has ``minutes`` null."""
    parts = []
    for sid in service_ids:
        sub = (select(literal_column(str(int(sid))).label("service_id"),
                      TICKET.c.started_at, TICKET.c.finished_at, _NOT_COVERED)
               .where(TICKET.c.office_id == bindparam("b_office"),
                      TICKET.c.status == literal_column(f"'{m.DONE}'"),
                      TICKET.c.service_id == _int(sid), TICKET.c.started_at.is_not(None))
               .order_by(TICKET.c.issued_at.desc()).limit(_int(samples))
               .offset(literal_column("0")).subquery())
        parts.append(select(*sub.c).select_from(sub))
    cases = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    span = minutes_between(cases.c.started_at, cases.c.finished_at)
    return (select(cases.c.service_id, func.avg(case((span >= 0, span))).label("minutes"))
            .group_by(cases.c.service_id))


# Opening hours of the office's active services (the snapshots' ETag).
SERVICE_HOURS = select(SERVICE.c.hours).where(
    SERVICE.c.office_id == bindparam("b_office"), SERVICE.c.active.is_(True)).order_by(
    SERVICE.c.id)

# What a ticket's view shows beyond the ticket row, in one statement: its
# service, the number of the counter it is at and whether it was rated.
TICKET_VIEW = select(
    SERVICE.c.id, SERVICE.c.office_id, SERVICE.c.code, SERVICE.c.name,
    SERVICE.c.default_service_minutes,
    select(COUNTER.c.number).where(COUNTER.c.id == bindparam("b_counter"))
    .scalar_subquery().label("counter_number"),
    select(func.count()).select_from(RATING).where(
        RATING.c.ticket_id == bindparam("b_id"), COUNTED)
    .scalar_subquery().label("ratings"),
).where(SERVICE.c.id == bindparam("b_service"))
