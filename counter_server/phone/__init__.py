"""The citizen's phone page: the QR on the ticket opens ``/t/<code>``.

A light server-rendered page (no build step, no CDN, no framework) so the
cheapest phone shows the status even without JavaScript; a few lines of JS
then follow the ticket's own event stream (``/api/v1/tickets/<code>/events``,
one ``ticket.status`` event per change, no polling), ring, vibrate and show a
notification when the ticket is near the front and when it is called
(``static/phone/alerts.js``), and post the rating to the JSON API.  With JS
off (or a browser without EventSource) the page reloads itself every
``REFRESH_SECONDS`` and the rating form posts here as a plain HTML form (with
its CSRF token).  The page shows only the ticket whose code is in the
address: the code is the only key.
"""
from __future__ import annotations

from typing import Any

from flask import (Blueprint, Response, current_app, make_response, redirect, render_template,
                   request, url_for)
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from .. import engine as e
from .. import models as m
from ..api.tickets import status_view
from ..limits import RATING_PER_ADDRESS, RATING_PER_DEVICE, device_or_address, limiter
from ..ratings import MAX_COMMENT, create_rating, levels_and_reasons
from ..security import PUBLIC, require

bp = Blueprint("phone", __name__)

REFRESH_SECONDS = 15  # without JS or EventSource only
LIVE_STATES = (m.WAITING, m.CALLED, m.SERVING, m.NO_SHOW)  # may still change

# Error codes the page explains itself (phone catalog), whatever the server's language.
MESSAGES = {
    "already_rated": "This ticket has already been rated. Each ticket can be rated only once.",
    "not_finished": "You can rate once your case has been handled.",
    "unknown_level": "Please choose one of the faces.",
    "unknown_reason": "Please choose reasons from the list.",
    "comment_too_long": "The comment is too long.",
    "ticket_not_found": "Ticket not found.",
    "too_many_requests": "Too many attempts; please wait a minute and try again.",
    "csrf_failed": "The form has expired; please reload the page.",
    "network": "Could not send. Check your connection and try again.",
    "error": "Something went wrong; please try again.",
    # alerts (placeholders filled in by the page: {number}, {ahead}, {counter})
    "near_title": "Your turn is near",
    "near_body": "Ticket {number}: {ahead} people ahead of you. Please come close to the counter.",
    "next_body": "Ticket {number}: you are next. Please come close to the counter.",
    "called_title": "It is your turn!",
    "called_body": "Please bring ticket {number} to counter {counter}.",
    "alerts_on": "Alerts are on. Please keep this page open.",
    "alerts_no_notice": ("Alerts are on (sound and vibration). This phone does not show "
                         "notifications for this page; please keep it open."),
}


def _gettext(msg: str) -> str:
    return current_app.extensions["motcua_gettext"](msg)


def _db():
    return current_app.extensions["motcua_db"]


def _page_data(code: str) -> dict[str, Any] | None:
    """Everything the page shows about this one ticket (never another's)."""
    with _db().read() as s:
        t = s.scalar(select(m.Ticket).where(m.Ticket.code == code))
        if t is None:
            return None
        office = s.get(m.Office, t.office_id)
        levels, reasons = levels_and_reasons(office)
        return {"t": status_view(s, t, office), "office_id": office.id, "office_name": office.name,
                "levels": levels, "reasons": reasons}


def _render(code: str, data: dict[str, Any], status: int = 200, error: str = "",
            form: dict[str, Any] | None = None) -> Response:
    t = data["t"]
    resp = make_response(render_template(
        "phone/ticket.html", code=code, t=t, office_name=data["office_name"],
        levels=data["levels"], reasons=data["reasons"], error=error, form=form or {},
        live=t["status"] in LIVE_STATES, refresh_seconds=REFRESH_SECONDS, max_comment=MAX_COMMENT,
        messages={k: _gettext(v) for k, v in MESSAGES.items()}), status)
    return _harden(resp)


def _harden(resp: Response) -> Response:
    # The code in the address is the key to this ticket: keep it out of
    # caches, referrers and search engines.
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Robots-Tag"] = "noindex"
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'")
    return resp


def _not_found() -> Response:
    return _harden(make_response(render_template("phone/not_found.html"), 404))


@bp.get("/t/<string:code>")
@require(PUBLIC)
def ticket_page(code: str) -> Response:
    data = _page_data(code)
    if data is None:
        return _not_found()
    return _render(code, data)


@bp.post("/t/<string:code>")
@require(PUBLIC)
@limiter.shared_limit(RATING_PER_DEVICE, scope="rating-device", key_func=device_or_address)
@limiter.shared_limit(RATING_PER_ADDRESS, scope="rating-address")
def rate_form(code: str) -> Response:
    """The rating form without JavaScript (the JS path posts to /api/v1/ratings)."""
    data = _page_data(code)
    if data is None:
        return _not_found()
    form = {"level": request.form.get("level", ""), "reasons": request.form.getlist("reasons"),
            "comment": request.form.get("comment", "")}
    try:
        level = int(form["level"])
    except ValueError:
        return _render(code, data, 422, _gettext(MESSAGES["unknown_level"]), form)

    def do(s: Any) -> None:
        create_rating(s, data["office_id"], ticket_code=code, level=level, reasons=form["reasons"],
                      comment=form["comment"], channel="web")

    from ..api import run_write  # the API's retrying write transaction

    try:
        run_write(do)
    except e.DomainError as err:
        data = _page_data(code) or data
        return _render(code, data, err.status,
                       _gettext(MESSAGES.get(err.code, MESSAGES["error"])), form)
    return redirect(url_for("phone.ticket_page", code=code), code=303)


@bp.errorhandler(CSRFError)
def _csrf(_err: CSRFError) -> Response:
    return _form_error(400, "csrf_failed")


@bp.errorhandler(RateLimitExceeded)
def _too_many(_err: RateLimitExceeded) -> Response:
    return _form_error(429, "too_many_requests")


def _form_error(status: int, code_: str) -> Response:
    code = (request.view_args or {}).get("code", "")
    data = _page_data(code) if code else None
    if data is None:
        return _not_found()
    return _render(code, data, status, _gettext(MESSAGES[code_]))
