"""The display snapshot and the admission of the Server-Sent Events streams.

The streams themselves run on the event loop (``counter_server/asgi.py``);
these views are how they are opened: the app's own authentication, role
checks, input validation and error answers decide who gets a stream, and the
view's answer is the stream's first bytes.  The ASGI layer reads what the view
admitted from ``request.environ[STREAM_KEY]`` and goes on streaming; called
directly (WSGI alone) a view answers only these first bytes."""
from __future__ import annotations

import json
import re

from flask import Response, request
from sqlalchemy import select

from .. import engine as e, models as m
from ..errors import bad_input
from ..event_types import RESET_TYPE
from ..events import newest_id
from ..queries import display_snapshot
from ..security import PUBLIC, auth, current_principal, require
from . import bp, errors, get_db, snapshot
from .schemas import DisplayOut, EventsQuery

LIVE_ROLES = ("display", "kiosk", "rating", "staff", "leader", "admin")
#: Where a stream view leaves what it admitted, for the ASGI layer.
STREAM_KEY = "motcua.stream"
MAX_EVENT_ID = 2**63 - 1
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_SSE = {200: {"description": "text/event-stream",
              "content": {"text/event-stream": {"schema": {"type": "string"}}}}}


@bp.get("/display")
@bp.auth_required(auth, roles=list(LIVE_ROLES))
@bp.output(DisplayOut)
@bp.doc(summary="Snapshot for displays: counters, recent calls, waiting, last_event_id "
                "(ETag; 304 on If-None-Match when nothing shown changed)",
        responses={**errors(401, 403), 304: "Not modified: the snapshot the ETag names holds"})
def display():
    p = current_principal()
    return snapshot("display", p.office_id,
                    lambda s, office: display_snapshot(s, p.office_id, office=office))


def _last_event_id(query_data: dict) -> int | None:
    header = request.headers.get("Last-Event-ID", "").strip()
    if not header:
        return query_data.get("last_event_id")
    if not re.fullmatch(r"[0-9]{1,19}", header) or int(header) > MAX_EVENT_ID:
        raise bad_input("Last-Event-ID must be a whole number from 0 to 9223372036854775807.")
    return int(header)


@bp.get("/events")
@bp.auth_required(auth, roles=list(LIVE_ROLES))
@bp.input(EventsQuery, location="query")
@bp.doc(summary="Server-Sent Events of the office; resumes after Last-Event-ID; keep-alive "
                "comments",
        description="Carries the event types the caller's role needs (no admin events to "
                    "devices).  `Last-Event-ID` (header, or `last_event_id`) must be a whole "
                    "number; one ahead of the newest event starts the stream at the newest "
                    "with a `stream.reset` event.  The stream ends when the credentials stop "
                    "being valid (device revoked, signed out).",
        responses={**_SSE, **errors(400, 401, 403, 409)})
def events(query_data):
    p = current_principal()
    last_id = _last_event_id(query_data)
    newest = newest_id(get_db(), p.office_id)
    reset = last_id is not None and last_id > newest
    start = newest if last_id is None or reset else last_id
    head = f"retry: 2000\nid: {start}\n: connected\n\n"
    if reset:
        head += f"id: {newest}\nevent: {RESET_TYPE}\ndata: {json.dumps({'last_event_id': newest})}\n\n"
    admitted = request.environ.get(STREAM_KEY)
    if admitted is not None:
        admitted.update(kind="office", office_id=p.office_id, role=p.role, start=start)
    return Response(head, mimetype="text/event-stream", headers=STREAM_HEADERS)


@bp.get("/tickets/<ticket_code:code>/events")
@require(PUBLIC)
@bp.doc(summary="Server-Sent Events of one ticket, for whoever holds its code",
        description="On connect and whenever the ticket or its service's queue changes: "
                    "`event: ticket.status` with `data` = what GET /api/v1/tickets/{code} "
                    "answers, `id` = the newest event id.  Ends after the status `done` or "
                    "`cancelled`.",
        responses={**_SSE, **errors(404)})
def ticket_events(code: str):
    with get_db().read() as s:
        t = s.execute(select(m.Ticket.id, m.Ticket.office_id, m.Ticket.service_id)
                      .where(m.Ticket.code == code)).first()
    if t is None:
        raise e.not_found("ticket")
    admitted = request.environ.get(STREAM_KEY)
    if admitted is not None:
        admitted.update(kind="ticket", office_id=t.office_id, ticket_id=t.id,
                        service_id=t.service_id)
    return Response("retry: 2000\n\n", mimetype="text/event-stream", headers=STREAM_HEADERS)
