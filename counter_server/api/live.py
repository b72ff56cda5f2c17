"""The display snapshot and the Server-Sent Events stream."""
from __future__ import annotations

from flask import Response, current_app, request

from ..events import event_stream
from ..queries import display_snapshot
from ..security import auth, current_principal
from . import bp, errors, get_db, snapshot
from .schemas import DisplayOut, EventsQuery

LIVE_ROLES = ("display", "kiosk", "rating", "staff", "leader", "admin")


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


@bp.get("/events")
@bp.auth_required(auth, roles=list(LIVE_ROLES))
@bp.input(EventsQuery, location="query")
@bp.doc(summary="Server-Sent Events; resumes after Last-Event-ID; keep-alive comments",
        responses={200: {"description": "text/event-stream",
                         "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                   **errors(401, 403)})
def events(query_data):
    p = current_principal()
    last = request.headers.get("Last-Event-ID", "").strip()
    last_id = int(last) if last.isdigit() else query_data.get("last_event_id")
    cfg = current_app.config
    gen = event_stream(get_db(), p.office_id, last_id,
                       keepalive=cfg["SSE_KEEPALIVE_SECONDS"], poll=cfg["SSE_POLL_SECONDS"])
    return Response(gen, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
