"""Request and response schemas: they validate input and document the API."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from ..models import PRIORITY_CLASSES


# Ids fit a 64-bit column; anything larger is refused as bad input here, before
# it can reach (and overflow) a database driver.
MAX_ID = 2**63 - 1


def Id(**kwargs: object) -> Integer:
    """An id in a request: a non-negative integer that fits the widest id column."""
    return Integer(validate=Range(0, MAX_ID), **kwargs)


class Error(Schema):
    error = Dict(required=True, metadata={"description": "{code, message}"})


class Health(Schema):
    status = String()
    version = String()
    database = String()
    time = String()


class TokenIn(Schema):
    username = String(required=True, validate=Length(1, 80))
    password = String(required=True, validate=Length(1, 200))
    counter_id = Id(load_default=None, allow_none=True)


class TokenOut(Schema):
    token = String()
    role = String()
    counter_id = Integer(allow_none=True)
    full_name = String()
    expires_at = String()


class TicketIn(Schema):
    service_id = Id(required=True, strict=True)
    priority = String(load_default="", validate=OneOf(("", *PRIORITY_CLASSES)))
    idempotency_key = String(load_default=None, allow_none=True, validate=Length(1, 100))


class TicketOut(Schema):
    id = Integer()
    number = Integer()
    display_number = String()
    code = String()
    status = String()
    service_id = Integer()
    service_code = String()
    service_name = String()
    priority_class = String()
    issued_at = String()
    called_at = String(allow_none=True)
    counter_id = Integer(allow_none=True)
    counter_number = Integer(allow_none=True)
    counters = List(Integer())
    waiting_before = Integer()
    estimated_wait_minutes = Integer()
    status_path = String()
    recall_count = Integer()
    transfer_chain = List(Dict())
    rated = Boolean()


class TransferIn(Schema):
    service_id = Id(load_default=None, allow_none=True, strict=True)
    counter_id = Id(load_default=None, allow_none=True, strict=True)


class CallNextIn(Schema):
    complete_current = Boolean(
        load_default=False,
        metadata={"description": "Complete the ticket in hand first, in the same transaction "
                                 "(nothing changes when nobody is waiting)."})
    current_ticket_id = Id(
        load_default=None, allow_none=True, strict=True,
        metadata={"description": "With complete_current: the ticket the caller believes is in "
                                 "hand; 409 ticket_changed if it is not."})


class PauseIn(Schema):
    reason = String(load_default="", validate=Length(0, 200))


class CounterOut(Schema):
    id = Integer()
    number = Integer()
    name = String()
    state = String()
    pause_reason = String()
    services = List(Integer())
    staff = Dict(allow_none=True)
    current = Dict(allow_none=True)


class RatingIn(Schema):
    ticket_code = String(load_default=None, allow_none=True, validate=Length(1, 32))
    level = Integer(required=True, strict=True, validate=Range(-1000, 1000))
    reasons = List(String(validate=Length(1, 50)), load_default=list, validate=Length(0, 20))
    comment = String(load_default="", validate=Length(0, 5000))
    client_key = String(load_default=None, allow_none=True, validate=Length(1, 100))
    # When the citizen pressed (devices queue ratings offline and send them later).
    pressed_at = DateTime(load_default=None, allow_none=True)


class RatingOut(Schema):
    id = Integer()
    ticket_id = Integer(allow_none=True)
    level = Integer()
    reasons = List(String())
    misuse = Boolean()
    created = Boolean()


class DeviceStatusIn(Schema):
    status = String(required=True, validate=OneOf(("ok", "error", "warning")))
    code = String(load_default="", validate=Length(0, 50))
    message = String(load_default="", validate=Length(0, 500))


class ServicesOut(Schema):
    office = Dict()
    services = List(Dict())
    rating = Dict()


class DisplayOut(Schema):
    office = Dict()
    counters = List(Dict())
    recent_calls = List(Dict())
    services = List(Dict())
    last_event_id = Integer()
    voice = Dict()


class EventsQuery(Schema):
    last_event_id = Id(load_default=None, allow_none=True)


class Ok(Schema):
    ok = Boolean()


__all__ = ["Nested"]
