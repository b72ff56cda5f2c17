"""The hot lane: the requests every citizen costs, without Flask's
per-request machinery.

A kiosk issuing a ticket and an officer's "call next" (and, in the two-tap
flow, "start" and "complete") are what the server does all day.  Flask's
request context, routing, session, login, CSRF and limiter hooks and the view
decorators cost about a quarter of such a request's CPU (bench/README.md).
This WSGI middleware answers the plain, successful form of these requests
itself, with the very parts the views use: the token check
(``security.bearer_principal``), the access sets declared on the views, the
input schemas, the write jobs (``issue_job``, ``call_next_job``,
``ticket_action_job``), the group commit and Flask's JSON provider for the
answer.

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

from .. import engine as e
from ..limits import UNLIMITED_HOT_ENDPOINTS
from ..security import access_of, bearer_principal
from . import check_answer, run_write
from .counters import call_next_job
from .schemas import CallNextIn, TicketIn, TicketOut
from .tickets import issue_job, ticket_action_job

_ID = r"([1-9][0-9]{0,17})"  # what BoundedInt accepts, leading zeros aside


_STATUS = {200: "200 OK", 201: "201 CREATED"}


def _ok(result: dict) -> tuple[dict, int]:
    return result, 200


class HotLane:
    """WSGI middleware in front of ``app.wsgi_app`` (see the module's doc)."""

    def __init__(self, app: Any, wsgi_app: Callable, max_body: int) -> None:
        self.app, self.wsgi_app, self.max_body = app, wsgi_app, max_body
        self.db = app.extensions["motcua_db"]
        roles = {name: access_of(view) for name, view in app.view_functions.items()}
        issue_in, call_next_in = TicketIn(), CallNextIn()

        # A handler gives the write job and how its result becomes (answer,
        # status), or None when Flask is to answer (a wrong counter).
        def issue(p: Any, body: dict, _m: Any) -> tuple[Callable, Callable] | None:
            # (200 when an idempotency key found the ticket issued before)
            return issue_job(p, issue_in.load(body)), lambda r: (r[0], 201 if r[1] else 200)

        def call_next(p: Any, body: dict, m: Any) -> tuple[Callable, Callable] | None:
            if p.counter_id != int(m[1]):
                return None
            return call_next_job(p.counter_id, p.user_id, call_next_in.load(body)), _ok

        def action(fn: Callable) -> Callable:
            def handler(p: Any, _body: None, m: Any) -> tuple[Callable, Callable] | None:
                if p.counter_id is None:
                    return None
                return ticket_action_job(fn, int(m[1]), p.counter_id, p.user_id), _ok
            return handler

        # (path, its view's endpoint, handler, whether the view reads a JSON body)
        routes = [
            (r"/api/v1/tickets", "api.issue", issue, True),
            (rf"/api/v1/counters/{_ID}/call-next", "api.call_next", call_next, True),
            (rf"/api/v1/tickets/{_ID}/start", "api.ticket_start", action(e.start), False),
            (rf"/api/v1/tickets/{_ID}/complete", "api.ticket_complete", action(e.complete),
             False),
        ]
        for _path, endpoint, _h, _b in routes:
            # The lane skips the rate limiter: only for endpoints without limits.
            if endpoint not in UNLIMITED_HOT_ENDPOINTS:
                raise RuntimeError(f"{endpoint} has rate limits: it cannot take the hot lane")
        self.routes = [(re.compile(path), roles[endpoint], handler, reads_body)
                       for path, endpoint, handler, reads_body in routes]
        self.served = 0  # answered here (tests check the lane is really taken)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and "HTTP_COOKIE" not in environ:
            path = environ.get("PATH_INFO", "")
            for pattern, allowed, handler, reads_body in self.routes:
                found = pattern.fullmatch(path)
                if found:
                    answered = self._serve(environ, start_response, allowed, handler,
                                           reads_body, found)
                    if answered is not None:
                        return answered
                    break
        return self.wsgi_app(environ, start_response)

    def _serve(self, environ: dict[str, Any], start_response: Callable, allowed: frozenset,
               handler: Callable, reads_body: bool, found: Any) -> Iterable[bytes] | None:
        """The answer, or None for Flask to answer (the body put back)."""
        body: Any = None
        if reads_body:
            raw = self._body(environ)
            if raw is None:
                return None
            environ["wsgi.input"] = io.BytesIO(raw)  # should Flask read it after all
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            if reads_body:
                body = json.loads(raw) if raw else {}
                if not isinstance(body, dict):
                    return None
            p = bearer_principal(self.db, token)
            if p is None or p.role not in allowed:
                return None
            work = handler(p, body, found)
            if work is None:
                return None
            job, to_answer = work
            result = run_write(job, batch=True, db=self.db)
        except Exception:  # noqa: BLE001 - Flask says what was wrong
            return None  # (a refused job stored nothing: safe to run again)
        data, status = to_answer(result)  # (stored: nothing may send it to Flask now)
        self.served += 1
        if self.app.testing:
            check_answer(data, TicketOut)
        # What Flask sends for a view's JSON: compact, a final newline, and
        # "Vary: Cookie" from its session interface.
        body = f"{self.app.json.dumps(data, separators=(',', ':'))}\n".encode()
        start_response(_STATUS[status], [("Content-Type", "application/json"),
                                         ("Content-Length", str(len(body))), ("Vary", "Cookie")])
        return [body]

    def _body(self, environ: dict[str, Any]) -> bytes | None:
        """The JSON body read whole (b"" when the request has none), or None
        (left unread) for anything else."""
        length = environ.get("CONTENT_LENGTH", "")
        ctype = environ.get("CONTENT_TYPE", "")
        if not ctype and length in ("", "0"):
            return b""  # no body: the view's defaults apply
        mimetype = ctype.partition(";")[0].strip().lower()
        if mimetype != "application/json" or not length.isdigit():
            return None
        size = int(length)
        if not 0 < size <= self.max_body:
            return None
        raw = environ["wsgi.input"].read(size)
        return raw if len(raw) == size else None
