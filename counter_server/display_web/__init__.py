"""The web lobby display for smart-TV browsers, and the announcement audio it plays.

A TV cannot send an ``Authorization`` header from ``EventSource``; so the
office gives it a link carrying the display device token once,
``/display?token=...``: the server checks it, keeps it in an HttpOnly cookie
(``security.DEVICE_COOKIE``) and redirects to ``/display`` without the token,
so the token never stays in the address bar, history or logs.  The page then
reads ``/api/v1/display`` and follows ``/api/v1/events`` with that cookie.

``/display/announce.wav`` renders the same announcement as the Kivy display,
with the same :mod:`display.voice` module and the office's voice settings,
cached in memory and in the instance folder (every TV asks for the same WAV).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import (Blueprint, Response, current_app, jsonify, make_response, redirect,
                   render_template, request, url_for)
from sqlalchemy import select

from .. import event_types, models as m
from ..defaults import office_settings
from ..i18n import translator
from ..security import DEVICE_COOKIE, current_principal, hash_token, require

bp = Blueprint("display_web", __name__)
_ = translator(Path(__file__).resolve().parents[1] / "locale", "display_web")

VIEW_ROLES = ("display", "staff", "leader", "admin")
COOKIE_MAX_AGE = 400 * 24 * 3600  # a TV stays signed in; revoking the device ends it
NUMBER_RE = re.compile(r"^[A-Za-z0-9-]{1,12}$")


def _db() -> Any:
    return current_app.extensions["motcua_db"]


@bp.before_request
def _exchange_display_token() -> Response | None:
    """``/display?token=`` → HttpOnly cookie + redirect to the bare address.

    A blueprint hook runs before the view, and so before its access check
    (the view's ``security.require``): the token in the link
    is what signs the TV in.  A wrong or revoked token gets a Vietnamese error
    page.
    """
    if request.path != "/display" or "token" not in request.args:
        return None
    token = request.args.get("token", "").strip()
    with _db().read() as s:
        device = s.scalar(select(m.Device).where(m.Device.token_hash == hash_token(token))) \
            if token else None
        ok = device is not None and not device.revoked and device.kind == "display"
    if not ok:
        return make_response(render_template(
            "display_web/message.html", title=_("This display link is not valid"),
            message=_("Ask the administrator for a new display link "
                      "(Administration → Devices).")), 403)
    resp = redirect(url_for("display_web.page"))
    resp.set_cookie(DEVICE_COOKIE, token, max_age=COOKIE_MAX_AGE, httponly=True,
                    samesite="Lax", secure=request.is_secure, path="/")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.get("/display")
@require(*VIEW_ROLES, html=True)
def page() -> Any:
    """The lobby screen; everything live comes from the API through JavaScript."""
    resp = make_response(render_template("display_web/display.html",
                                         event_types=event_types.for_web()))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _voice_error(status: int, code: str, message: str) -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


@bp.get("/display/announce.wav")
@require(*VIEW_ROLES)
def announce_wav() -> Response:
    """``?number=1005&counter=3[&once=1]`` → the announcement WAV (chime + sentence, repeated)."""
    from display.state import voice_overrides
    from display.voice import VoiceError, VoiceSettings, WavCache, synthesize

    number = request.args.get("number", "").strip()
    counter = request.args.get("counter", "").strip()
    if not NUMBER_RE.match(number) or not counter.isdigit() or not 0 < int(counter) < 1000:
        return _voice_error(400, "invalid_input",
                            _("Give a ticket number and a counter number."))
    p = current_principal()
    with _db().read() as s:
        office = s.get(m.Office, p.office_id)
        st = office_settings(office.settings if office else None)
    block = {k: st.get(k) for k in ("announcement_template", "voice_engine",
                                    "voice_number_mode", "voice_repeat")}
    cache = current_app.extensions.get("motcua_wavcache")
    if cache is None:
        folder = Path(current_app.config["INSTANCE_DIR"]) / "voice-cache"
        cache = current_app.extensions.setdefault("motcua_wavcache",
                                                  WavCache(max_items=128, directory=folder))
    try:
        settings = VoiceSettings.from_dict(voice_overrides(block))
        if request.args.get("once") == "1":  # the TV is behind: say it once (display/voice/queue.py)
            settings = settings.replace(repeat=1)
        wav = synthesize(settings, number, int(counter), cache=cache)
    except (VoiceError, ValueError) as exc:
        current_app.logger.warning("announcement audio failed: %s", exc)
        return _voice_error(503, "voice_unavailable",
                            _("The announcement cannot be spoken: %s") % exc)
    resp = Response(wav, mimetype="audio/wav")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp
