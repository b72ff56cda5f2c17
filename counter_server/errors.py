"""Every error the server sends, in one shape.

The API (``/api/...``) and callers that ask for JSON get
``{"error": {"code": ..., "message": ...}}`` with the message in the
server's language (Vietnamese unless ``MOTCUA_LANG=en``); validation errors
add the fields at fault under ``detail``.  Web pages answer browsers with a
small Vietnamese page (``templates/errors/error.html``).
"""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from . import i18n

_ = i18n._

HTTP_CODES = {400: ("bad_request", "The request is not valid."),
              401: ("unauthorized", "Please sign in."),
              403: ("forbidden", "You are not allowed to do this."),
              404: ("not_found", "Not found."),
              405: ("method_not_allowed", "This method is not allowed here."),
              413: ("too_large", "The request is too large."),
              415: ("bad_request", "The request is not valid."),
              422: ("invalid_input", "The data sent is not valid."),
              429: ("too_many_requests", "Too many requests; please wait a moment."),
              431: ("headers_too_large", "The request headers are too large."),
              500: ("internal_error", "Something went wrong on the server.")}
OTHER = ("bad_request", "The request is not valid.")


def message(text: str, **params: Any) -> str:
    out = _(text)
    if params:
        try:
            out = out.format(**params)
        except (KeyError, IndexError, ValueError):
            pass
    return out


def error_response(status: int, code: str, text: str, **params: Any) -> Response:
    resp = jsonify({"error": {"code": code, "message": message(text, **params)}})
    resp.status_code = status
    return resp


def error_page(status: int, code: str, text: str) -> Response:
    """A web page's error, for people (a Vietnamese page extending base.html)."""
    title = message(HTTP_CODES.get(status, OTHER)[1])
    body = render_template("errors/error.html", status=status, code=code, title=title,
                           message=message(text))
    resp = current_app.make_response((body, status))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def wants_json() -> bool:
    """The API, and web callers (scripts, the console's fetch) that ask for JSON."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def install(app: Any) -> None:
    from .engine import DomainError
    from .security import AuthError

    @app.errorhandler(DomainError)
    def _domain(e: DomainError) -> Response:
        return error_response(e.status, e.code, e.message, **e.params)

    @app.errorhandler(AuthError)
    def _auth(e: AuthError) -> Response:
        resp = error_response(e.status, e.code, e.message, **getattr(e, "params", {}))
        if e.status == 401:
            resp.headers["WWW-Authenticate"] = "Bearer"
        return resp

    @app.error_processor
    def _apiflask_error(e: Any) -> Response:
        # Validation errors and abort() from APIFlask views.
        code, text = HTTP_CODES.get(e.status_code, OTHER)
        if e.status_code == 400 and e.detail:
            code, text = "invalid_input", "The data sent is not valid."
        resp = error_response(e.status_code, code, text)
        if e.detail:
            body = resp.get_json()
            body["error"]["detail"] = e.detail
            resp.set_data(app.json.dumps(body))
        for name, value in (e.headers or {}).items():
            resp.headers[name] = value
        return resp

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Any:
        status = e.code or 500
        if status < 400:
            return e  # a routing redirect (a missing trailing slash)
        code, text = HTTP_CODES.get(status, OTHER)
        if getattr(e, "motcua_code", None):
            code, text = e.motcua_code, e.motcua_message  # type: ignore[attr-defined]
        elif e.__class__.__name__ == "CSRFError":
            code, text = "csrf_failed", "The form has expired; reload the page."
        resp = error_response(status, code, text) if wants_json() \
            else error_page(status, code, text)
        allow = dict(e.get_headers()).get("Allow")
        if allow:
            resp.headers["Allow"] = allow
        return resp

    @app.errorhandler(Exception)
    def _crash(e: Exception) -> Any:
        if isinstance(e, HTTPException):
            return _http(e)
        app.logger.exception("unhandled error")
        code, text = HTTP_CODES[500]
        return error_response(500, code, text) if wants_json() else error_page(500, code, text)


def bad_input(text: str = "The data sent is not valid.", code: str = "invalid_input",
              status: int = 400) -> HTTPException:
    """An HTTPException that answers in the shape above with this code and text."""
    from werkzeug.exceptions import BadRequest

    exc = BadRequest()
    exc.code = status
    exc.motcua_code, exc.motcua_message = code, text  # type: ignore[attr-defined]
    return exc
