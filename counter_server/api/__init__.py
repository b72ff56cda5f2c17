"""HTTP API v1 (DESIGN.md contract, docs/api.md), documented by APIFlask from the code."""
from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from apiflask import APIBlueprint
from flask import Response, current_app, request
from sqlalchemy.exc import IntegrityError, OperationalError

from ..db import Database, Tx

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="API v1")

T = TypeVar("T")


# What each error status means on an operation (its body is always the Error
# schema: {"error": {"code", "message"}}).  400 applies to every operation:
# any request can carry text that cannot be stored (NUL, a lone surrogate).
ERRORS = {
    400: "Bad input: malformed JSON, a field the schema refuses (detail lists them), "
         "text with NUL or a lone surrogate",
    401: "No credentials, or a token that is not valid (unauthorized, invalid_token)",
    403: "The caller's role may not do this (forbidden), or not at this counter "
         "(not_your_counter, not_your_ticket, no_counter); csrf_failed for cookie sessions",
    404: "Not found (ticket_not_found, counter_not_found, service_not_found, ...)",
    409: "Refused in the current state (queue_empty, ticket_in_progress, ticket_changed, "
         "invalid_transition, counter_paused, service_closed, daily_cap_reached, "
         "no_counter_serves, ...)",
    413: "The request body is over the API's limit (64 KiB)",
    422: "Values the office does not know (unknown_level, unknown_reason, comment_too_long)",
    429: "Too many requests (too_many_requests); try again later",
}


def errors(*statuses: int, **described: str) -> dict[int, str]:
    """``@bp.doc(responses=...)`` for an operation's error statuses (400
    always); ``e409="..."`` says what a status means here."""
    return {code: described.get(f"e{code}", ERRORS[code]) for code in sorted({400, *statuses})}


def get_db() -> Database:
    return current_app.extensions["motcua_db"]


def snapshot(kind: str, office_id: int, build: Callable[[Any, Any], Any]) -> Any:
    """A screen's snapshot with its weak ETag, or 304 when the caller's
    ``If-None-Match`` still holds (``queries.snapshot_tag``: nothing shown
    has changed).  ``build(session, office_row)`` makes the body."""
    from ..queries import snapshot_tag

    with get_db().read() as s:
        tag, office = snapshot_tag(s, office_id, kind)
        if request.if_none_match.contains_weak(tag):
            resp = Response(status=304)
        else:
            resp = None
            body = build(s, office)
    headers = {"ETag": f'W/"{tag}"', "Cache-Control": "no-cache"}
    if resp is not None:
        resp.headers.update(headers)
        return resp
    return body, 200, headers


def run_write(fn: Callable[[Tx], T], retries: int = 4, *, batch: bool = False) -> T:
    """Run ``fn(tx)`` in one write transaction (``db.Tx``: a Session the
    engine emits events through; its commit wakes the event streams of the
    offices it emitted events for).

    ``batch=True`` lets SQLite share the commit (and its disk flush) with
    other requests (see group_commit.py); only for functions that use
    nothing from the request context.  Retried on the rare conflicts a
    concurrent writer can cause (a duplicate idempotency key racing on
    PostgreSQL, a serialisation failure); a DomainError is never retried."""
    db = get_db()
    for attempt in range(retries):
        try:
            if batch:
                return db.batched(fn)
            with db.write() as s:
                return fn(s)
        except (IntegrityError, OperationalError):
            if attempt == retries - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


from . import misc, tickets, counters, live, staff  # noqa: E402,F401  (routes)
from . import procedures  # noqa: E402,F401  (routes: the procedure guide)
from . import ticket_contact  # noqa: E402,F401  (routes: the optional SMS/Zalo number)
