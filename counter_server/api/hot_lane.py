"""The hot lane: the two requests every citizen costs, without Flask's
per-request machinery.

A kiosk issuing a ticket and an officer's "call next" are what the server
does all day.  Flask's request context, routing, session, login, CSRF and
limiter hooks and the view decorators cost about a third of such a request's
CPU (bench/README.md).  This WSGI middleware answers the plain, successful
form of these two requests itself, with the very parts the views use: the
token check (``security._bearer_principal``), the access sets declared on the
views, the input schemas, the write jobs (``issue_job``, ``call_next_job``),
the group commit and Flask's JSON provider for the answer.

Everything else goes to Flask as it came: another path or method, a cookie
(a console session: CSRF and Flask-Login apply), a body that is not a small
JSON object, a missing or unknown token, a wrong role or counter, input the
schema refuses, and any refusal or failure of the job (its transaction rolled
back: nothing was stored).  Flask then answers as it always does, with its
error JSON and Vietnamese message, so the lane has no error answers of its
own and cannot drift from the documented API.
"""
from __future__ import annotations

import io
import json
import re
from typing import Any, Callable, Iterable

from ..security import _bearer_principal, access_of
from . import check_answer, run_write
from .counters import call_next_job
from .schemas import CallNextIn, TicketIn, TicketOut
from .tickets import issue_job

_CALL_NEXT = re.compile(r"/api/v1/counters/([1-9][0-9]{0,17})/call-next")


class HotLane:
    """WSGI middleware in front of ``app.wsgi_app`` (see the module's doc)."""

    def __init__(self, app: Any, wsgi_app: Callable, max_body: int) -> None:
        self.app, self.wsgi_app, self.max_body = app, wsgi_app, max_body
        self.db = app.extensions["motcua_db"]
        views = app.view_functions
        self.issue_roles = access_of(views["api.issue"])
        self.call_next_roles = access_of(views["api.call_next"])
        self.issue_in, self.call_next_in = TicketIn(), CallNextIn()
        self.served = 0  # answered here (tests check the lane is really taken)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and "HTTP_COOKIE" not in environ:
            path = environ.get("PATH_INFO", "")
            if path == "/api/v1/tickets":
                return self._serve(environ, start_response, self._issue, None)
            found = _CALL_NEXT.fullmatch(path)
            if found:
                return self._serve(environ, start_response, self._call_next, int(found[1]))
        return self.wsgi_app(environ, start_response)

    def _serve(self, environ: dict[str, Any], start_response: Callable,
               handler: Callable, arg: Any) -> Iterable[bytes]:
        raw = self._body(environ)
        if raw is not None:
            auth = environ.get("HTTP_AUTHORIZATION", "")
            scheme, _, token = auth.partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                try:
                    body = json.loads(raw)
                    answer = handler(_bearer_principal(self.db, token), body, arg) \
                        if isinstance(body, dict) else None
                except Exception:  # noqa: BLE001 - Flask says what was wrong
                    answer = None  # (a refused job stored nothing: safe to run again)
                if answer is not None:
                    self.served += 1
                    data, status = answer
                    if self.app.testing:
                        check_answer(data, TicketOut)
                    response = self.app.json.response(data)
                    response.status_code = status
                    response.vary.add("Cookie")  # as Flask's session interface says
                    return response(environ, start_response)
            environ["wsgi.input"] = io.BytesIO(raw)  # Flask reads the body again
        return self.wsgi_app(environ, start_response)

    def _body(self, environ: dict[str, Any]) -> bytes | None:
        """The JSON body, read whole, or None (left unread) for anything else."""
        mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        length = environ.get("CONTENT_LENGTH", "")
        if mimetype != "application/json" or not length.isdigit():
            return None
        size = int(length)
        if not 0 < size <= self.max_body:
            return None
        raw = environ["wsgi.input"].read(size)
        return raw if len(raw) == size else None

    # Each handler: the answer and its status, or None to let Flask answer.
    # Any exception means the same (the job's transaction rolled back).
    def _issue(self, p: Any, body: dict, _arg: None) -> tuple[dict, int] | None:
        if p is None or p.role not in self.issue_roles:
            return None
        data = self.issue_in.load(body)
        view, created = run_write(issue_job(p, data), batch=True, db=self.db)
        return view, 201 if created else 200

    def _call_next(self, p: Any, body: dict, counter_id: int) -> tuple[dict, int] | None:
        if p is None or p.role not in self.call_next_roles or p.counter_id != counter_id:
            return None
        data = self.call_next_in.load(body)
        return run_write(call_next_job(counter_id, p.user_id, data), batch=True,
                         db=self.db), 200

