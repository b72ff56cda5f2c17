"""Request and response schemas: they validate input and document the API."""
from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError

from ..models import PRIORITY_CLASSES


# Ids fit the database's integer column (32-bit on PostgreSQL); anything
# larger is refused as bad input here, before it can reach a database driver.
MAX_ID = 2**31 - 1
# A ticket's code (secrets.token_urlsafe(9)) as paths carry it.
TICKET_CODE = "[A-Za-z0-9_-]{8,32}"


class WholeNumber(Integer):
    """In a JSON body (strict), JSON Schema's integer: ``3`` and ``3.0``; not
    ``"3"``, ``3.5`` or ``true``.  In a query string (``strict=False``) digits."""

    def __init__(self, *, strict: bool = True, **kwargs: Any) -> None:
        super().__init__(strict=strict, **kwargs)

    def _validated(self, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class StrictBoolean(Boolean):
    """``true`` or ``false`` only (marshmallow's Boolean also takes "yes", 1, "on"...)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


def Id(*, strict: bool = False, **kwargs: Any) -> Integer:
    """An id in a request: a non-negative integer that fits an id column
    (``strict=True`` in JSON bodies, where "3" is not a number)."""
    return WholeNumber(strict=strict, validate=Range(0, MAX_ID), **kwargs)


class ErrorBody(Schema):
    code = String(required=True, metadata={"description": "For programs, e.g. queue_empty"})
    message = String(required=True, metadata={
        "description": "For people: Vietnamese (English with MOTCUA_LANG=en)"})
    detail = Dict(metadata={"description": "Validation errors: the fields at fault"})


class Error(Schema):
    """Every 4xx/5xx answer of the API."""

    error = Nested(ErrorBody, required=True)


class Health(Schema):
    status = String()
    version = String()
    database = String()
    time = String()


class TokenIn(Schema):
    username = String(required=True, validate=Length(1, 80))
    password = String(required=True, validate=Length(1, 200))
    counter_id = Id(load_default=None, allow_none=True, strict=True)


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
    status_path = String(metadata={"description": "Kiosk only (the printed QR): /t/<code>"})
    check_code = String(metadata={"description": "Kiosk only: the short check code printed "
                                                 "on the ticket (proof at the lobby keypad)"})
    recall_count = Integer()
    transfer_chain = List(Dict())
    rated = Boolean()


class TicketStatusOut(TicketOut):
    near_alert_places = Integer(metadata={
        "description": "The office's setting: the phone page alerts when waiting_before "
                       "falls to this many places (0: only when called)"})


class ContactIn(Schema):
    phone = String(required=True, validate=Length(1, 30), metadata={
        "description": "A Vietnamese mobile number (0912 345 678, +84912345678)"})


class ContactOut(Schema):
    display_number = String()
    phone = String(metadata={"description": "Masked: 091****678"})


class TransferIn(Schema):
    service_id = Id(load_default=None, allow_none=True, strict=True)
    counter_id = Id(load_default=None, allow_none=True, strict=True)


class CallNextIn(Schema):
    complete_current = StrictBoolean(
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
    last_event_id = Integer(metadata={"description": "GET only: where an event stream resumes"})


class RatingIn(Schema):
    ticket_code = String(load_default=None, allow_none=True, validate=Length(1, 32))
    level = WholeNumber(required=True, metadata={
        "description": "One of the office's configured levels (GET /services: rating.levels); "
                       "any other is 422 unknown_level"})
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
    last_event_id = Integer()


class DisplayOut(Schema):
    office = Dict()
    counters = List(Dict())
    recent_calls = List(Dict())
    services = List(Dict())
    last_event_id = Integer()
    voice = Dict()


class LookupIn(Schema):
    display_number = String(required=True, validate=Length(1, 20), metadata={
        "description": "The number printed on the ticket, e.g. 1005, A007 (or 7 for A007)"})
    check_code = String(required=True, validate=Length(1, 10), metadata={
        "description": "The check code printed beside the number: proof of holding the ticket"})


class LookupOut(Schema):
    code = String(allow_none=True, metadata={"description": "Only once the ticket is served"})
    display_number = String()
    service_name = String()
    status = String()
    rated = Boolean()


class LastCompletedOut(Schema):
    ticket_id = Integer()
    code = String()
    display_number = String()
    completed_at = String()
    staff = Dict(allow_none=True)


class EventsQuery(Schema):
    last_event_id = Id(load_default=None, allow_none=True)


class Ok(Schema):
    ok = Boolean()


__all__ = ["Nested"]
