"""HTTP API v1 (DESIGN.md contract), documented by APIFlask from the code."""
from __future__ import annotations

import time
from typing import Any, Callable, TypeVar

from apiflask import APIBlueprint
from flask import Response, current_app
from sqlalchemy.exc import IntegrityError, OperationalError

from ..db import Database, Tx

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="API v1")

T = TypeVar("T")


def get_db() -> Database:
    return current_app.extensions["motcua_db"]


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


def answer(data: dict[str, Any], schema: type, status: int = 200) -> Response:
    """JSON for the hot paths without marshmallow's dump (a large share of a
    ticket's CPU time).  The view stays declared with ``@bp.output(schema)``
    for the OpenAPI document; ``data`` must already be exactly what the schema
    would dump, and under TESTING every such answer is checked against it."""
    if current_app.testing:
        check_answer(data, schema)
    response = current_app.json.response(data)
    response.status_code = status
    return response


def check_answer(data: dict[str, Any], schema: type) -> None:
    """Under TESTING: ``data`` is exactly what ``schema`` dumps of it."""
    dumped = schema().dump(data)
    if dumped != data:
        raise AssertionError(f"answer differs from {schema.__name__}: {dumped} != {data}")


from . import misc, tickets, counters, live  # noqa: E402,F401  (routes)
