"""SQLAlchemy 2 models: the one source of truth for every office.

Every row belongs to an office so one server can host a whole province.
Times are stored in UTC (naive ``DateTime`` columns holding UTC); the service
day is the office's local date, computed by the queue engine.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# BigInteger ids that still autoincrement on SQLite (where only INTEGER does).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# Ticket states and transitions (see DESIGN.md "Ticket life").
WAITING, CALLED, SERVING, DONE = "waiting", "called", "serving", "done"
NO_SHOW, TRANSFERRED, CANCELLED = "no_show", "transferred", "cancelled"
TICKET_STATES = (WAITING, CALLED, SERVING, DONE, NO_SHOW, TRANSFERRED, CANCELLED)

ROLES = ("admin", "leader", "staff")
DEVICE_KINDS = ("kiosk", "display", "rating")
PRIORITY_CLASSES = ("elderly", "disability", "pregnant", "child", "merit")


class Office(Base):
    __tablename__ = "office"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    # {"mon": [["07:00", "11:30"], ["13:30", "17:00"]], ..., "sun": []}
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # notice text, rating levels and reasons, announcement, priority policy...
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("office_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    icon: Mapped[str] = mapped_column(String(100), default="")
    number_start: Mapped[int] = mapped_column(Integer, default=1)
    number_end: Mapped[int] = mapped_column(Integer, default=999)
    prefix: Mapped[str] = mapped_column(String(5), default="")
    daily_cap: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    # None = the office's opening hours; same shape as Office.opening_hours.
    hours: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fallback minutes per case until real service times exist.
    default_service_minutes: Mapped[int] = mapped_column(Integer, default=8)


class Counter(Base):
    __tablename__ = "counter"
    __table_args__ = (UniqueConstraint("office_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(10), default="closed")  # open|paused|closed
    pause_reason: Mapped[str] = mapped_column(String(200), default="")
    staff_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    current_ticket_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ticket.id", use_alter=True), nullable=True
    )
    # Position in the priority/normal interleave cycle (see engine.call_next).
    cycle_pos: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the signed-in officer's console (or API token) last reached the
    # server: a counter gone for the office's idle_close_minutes closes itself.
    console_seen_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    # When the officer now holding it took it (sessions from before are refused).
    signed_in_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    services: Mapped[list["CounterService"]] = relationship(
        back_populates="counter", cascade="all, delete-orphan", lazy="selectin"
    )


class CounterService(Base):
    __tablename__ = "counter_service"
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    counter: Mapped[Counter] = relationship(back_populates="services")


class User(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(255))
    photo: Mapped[Optional[str]] = mapped_column(String(300), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    # Bumped on password reset / deactivation: invalidates sessions at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """Bearer tokens handed out by POST /api/v1/auth/token (SHA-256 at rest)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    counter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("counter.id"), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Device(Base):
    __tablename__ = "device"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # kiosk|display|rating
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("counter.id"), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # printer, voice...
    last_seen: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="unknown")
    last_error: Mapped[str] = mapped_column(String(500), default="")
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class NumberSequence(Base):
    """Per service and service day: the last number handed out.

    Updated in the issuing transaction (never ``max(number)+1``)."""

    __tablename__ = "number_sequence"
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    service_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


WAITING_PRIORITY = "status = 'waiting' AND priority_class <> ''"
WAITING_TARGETED = "status = 'waiting' AND target_counter_id IS NOT NULL"


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("office_id", "issued_service_id", "service_day", "number"),
        UniqueConstraint("office_id", "idempotency_key"),
        # Queues in arrival order, ties by id (migration 0014_queue_order).
        Index("ix_ticket_queue", "office_id", "status", "service_id", "issued_at", "id"),
        Index("ix_ticket_office_day", "office_id", "service_day"),
        # Reports scan a period of one office (migration 0004_reports): covering.
        Index("ix_ticket_report", "office_id", "issued_at", "status", "service_id", "counter_id",
              "staff_id", "called_at", "started_at", "finished_at"),
        # Heads of the queue for call next (migration 0006_queue_heads).
        Index("ix_ticket_waiting_priority", "office_id", "status", "service_id",
              "target_counter_id", "issued_at", "id",
              sqlite_where=text(WAITING_PRIORITY), postgresql_where=text(WAITING_PRIORITY)),
        Index("ix_ticket_waiting_targeted", "office_id", "status", "target_counter_id", "issued_at",
              "id",
              sqlite_where=text(WAITING_TARGETED), postgresql_where=text(WAITING_TARGETED)),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))  # current queue
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    service_day: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    display_number: Mapped[str] = mapped_column(String(20))
    priority_class: Mapped[str] = mapped_column(String(20), default="")  # "" = normal
    status: Mapped[str] = mapped_column(String(12), default=WAITING)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    called_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    counter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("counter.id"), nullable=True)
    staff_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), nullable=True)
    # A transfer to a specific counter: only that counter may call it.
    target_counter_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("counter.id"), nullable=True
    )
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    transfer_chain: Mapped[list[Any]] = mapped_column(default=list)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[Optional[str]] = mapped_column(String(100), nullable=True)
    device_id: Mapped[Optional[int]] = mapped_column(ForeignKey("device.id"), nullable=True)


class Event(Base):
    """Append-only log: the event stream, the audit trail and every statistic."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_office_id", "office_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    type: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[Optional[int]] = mapped_column(BigId, nullable=True)
    counter_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    staff_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Rating(Base):
    __tablename__ = "rating"
    # One counted rating per ticket; presses flagged as misuse are kept apart.
    __table_args__ = (
        Index(
            "ux_rating_ticket_valid",
            "ticket_id",
            unique=True,
            sqlite_where=text("misuse = 0"),
            postgresql_where=text("misuse = false"),
        ),
        Index("ix_rating_report", "office_id", "created_at", "misuse", "level", "staff_id",
              "counter_id", "service_id", "ticket_id"),
        # A device's latest rating (presses too fast after it are flagged).
        Index("ix_rating_device", "device_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    ticket_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("ticket.id"), nullable=True)
    level: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20))  # tablet|kiosk|web
    service_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    counter_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    staff_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    device_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    misuse: Mapped[bool] = mapped_column(Boolean, default=False)
    misuse_reason: Mapped[str] = mapped_column(String(100), default="")
    client_key: Mapped[Optional[str]] = mapped_column(String(100), nullable=True, unique=True)


class Procedure(Base):
    """One administrative procedure (thủ tục hành chính) of a service: what a
    citizen must bring, what it costs, how long it takes (docs/procedures.md)."""

    __tablename__ = "procedure"
    __table_args__ = (UniqueConstraint("office_id", "service_id", "name"),
                      Index("ix_procedure_office_service", "office_id", "service_id", "sort_order"))
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    #: The code of the national/provincial list (e.g. "1.001193"), "" if none.
    code: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(String(300))
    #: [{"name": "Tờ khai đăng ký khai sinh", "copies": 1, "kind": "original"|"copy"|"either"}]
    papers: Mapped[list[Any]] = mapped_column(default=list)
    #: VND; 0 = free of charge.
    fee_vnd: Mapped[int] = mapped_column(Integer, default=0)
    fee_note: Mapped[str] = mapped_column(String(300), default="")
    time_limit: Mapped[str] = mapped_column(String(200), default="")
    result_place: Mapped[str] = mapped_column(String(300), default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    checked_on: Mapped[Optional[dt.date]] = mapped_column(Date, nullable=True)
    #: Sample data shipped with the demo: to be checked against the province's list.
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    #: Name, code and papers folded (search_text.fold), with a leading space, for LIKE.
    search_key: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class TicketContact(Base):
    """A phone number a citizen typed at the kiosk for an SMS/Zalo message when the
    ticket is near and when it is called (counter_server/notify_sms.py); purged
    once its service day is over (docs/phone.md)."""

    __tablename__ = "ticket_contact"
    __table_args__ = (Index("ix_ticket_contact_office_day", "office_id", "service_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id"), unique=True)
    service_day: Mapped[dt.date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    near_sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    called_sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
    #: The gateway's last refusal (shown on the admin settings page), "" if none.
    last_error: Mapped[str] = mapped_column(String(300), default="")
    failed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, nullable=True)
