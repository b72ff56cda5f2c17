"""Application factory: ``create_app(config)`` (the flaskr shape).

Blueprints follow the people who use them: ``api`` (devices and scripts),
``console`` (staff), ``admin``, ``reports`` (leaders), ``phone`` (the
citizen's /t/<code> page) and ``display_web`` (smart-TV browsers).
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Response, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import __version__, i18n
from . import models as m
from .db import Database, default_sqlite_url
from .engine import DomainError
from .security import AuthError

_ = i18n._
API_MAX_BODY = 64 * 1024
WEB_MAX_BODY = 4 * 1024 * 1024  # photo uploads and configuration imports

WEB_DOMAINS = ("server", "console", "admin", "reports", "phone", "display_web")


def instance_dir(config: dict[str, Any] | None = None) -> Path:
    if config and config.get("INSTANCE_DIR"):
        return Path(config["INSTANCE_DIR"])
    return Path(os.environ.get("MOTCUA_INSTANCE", Path.cwd() / "instance"))


def database_url(config: dict[str, Any] | None = None) -> str:
    if config and config.get("DATABASE_URL"):
        return config["DATABASE_URL"]
    return os.environ.get("MOTCUA_DATABASE_URL") or default_sqlite_url(instance_dir(config))


def _secret_key(folder: Path) -> str:
    """MOTCUA_SECRET_KEY, else a random key kept in the instance folder (never a default)."""
    if os.environ.get("MOTCUA_SECRET_KEY"):
        return os.environ["MOTCUA_SECRET_KEY"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


class BoundedInt(IntegerConverter):
    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


@dataclass
class SessionUser(UserMixin):
    id: int
    username: str
    full_name: str
    role: str
    office_id: int
    photo: str | None = None


def error_response(status: int, code: str, message: str, **params: Any) -> Response:
    text = _(message)
    if params:
        try:
            text = text.format(**params)
        except (KeyError, IndexError, ValueError):
            pass
    resp = jsonify({"error": {"code": code, "message": text}})
    resp.status_code = status
    return resp


HTTP_CODES = {400: ("bad_request", "The request is not valid."),
              401: ("unauthorized", "Please sign in."),
              403: ("forbidden", "You are not allowed to do this."),
              404: ("not_found", "Not found."),
              405: ("method_not_allowed", "This method is not allowed here."),
              413: ("too_large", "The request is too large."),
              415: ("bad_request", "The request is not valid."),
              422: ("invalid_input", "The data sent is not valid."),
              429: ("too_many_requests", "Too many requests; please wait a moment."),
              500: ("internal_error", "Something went wrong on the server.")}


class CookieSessionOnDemand(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without building the signer for the
    API calls that carry no session cookie (kiosks, displays, staff tokens)."""

    def open_session(self, app: Any, request: Any) -> Any:
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def create_app(config: dict[str, Any] | None = None) -> APIFlask:
    config = dict(config or {})
    app = APIFlask(__name__, title="motcua API", version=__version__,
                   spec_path="/api/v1/openapi.json", docs_path=None,
                   json_errors=False)
    folder = instance_dir(config)
    app.config.update(
        SECRET_KEY=config.pop("SECRET_KEY", None) or _secret_key(folder),
        DATABASE_URL=database_url(config),
        INSTANCE_DIR=str(folder),
        MAX_CONTENT_LENGTH=WEB_MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=60 * 60 * 10,
        SSE_KEEPALIVE_SECONDS=float(os.environ.get("MOTCUA_SSE_KEEPALIVE", "15")),
        SSE_POLL_SECONDS=1.0,
        VALIDATION_ERROR_STATUS_CODE=400,
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        DB_POOL_SIZE=int(os.environ.get("MOTCUA_DB_POOL", "20")),
    )
    app.config.update(config)
    app.json.ensure_ascii = False  # Vietnamese as UTF-8, not \u escapes
    app.session_interface = CookieSessionOnDemand()
    # Ids in paths fit a 64-bit column; a larger number is simply "not found".
    app.url_map.converters["int"] = BoundedInt

    db = Database(app.config["DATABASE_URL"], pool_size=app.config["DB_POOL_SIZE"])
    app.extensions["motcua_db"] = db

    csrf = CSRFProtect(app)
    app.extensions["motcua_csrf"] = csrf
    from .limits import limiter

    limiter.init_app(app)

    login = LoginManager(app)
    login.login_view = "console.login"
    login.login_message = None

    @login.user_loader
    def _load_user(user_id: str) -> SessionUser | None:
        from flask import session

        with db.read() as s:
            u = s.get(m.User, int(user_id)) if user_id.isdigit() else None
            if u is None or not u.active or session.get("sv") != u.session_version:
                return None
            return SessionUser(u.id, u.username, u.full_name, u.role, u.office_id, u.photo)

    _install_i18n(app)
    _install_errors(app)

    from .api import bp as api_bp
    from .console import bp as console_bp
    from .admin import bp as admin_bp
    from .reports import bp as reports_bp
    from .phone import bp as phone_bp
    from .display_web import bp as display_bp

    from .reports.api import reports_api

    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie callers (security.require)
    csrf.exempt(reports_api)
    app.register_blueprint(api_bp)
    app.register_blueprint(reports_api)
    for bp in (console_bp, admin_bp, reports_bp, phone_bp, display_bp):
        # HTML pages are not part of the API document; APIFlask also needs this
        # attribute on plain blueprints that have before_request hooks.
        bp.enable_openapi = False
        app.register_blueprint(bp)

    @app.before_request
    def _limit_api_body() -> None:
        if request.path.startswith("/api/"):
            request.max_content_length = API_MAX_BODY

    from .security import guard_views

    guard_views(app)  # declared access before any other view decorator (input validation)
    if app.config.get("HOT_LANE", True):
        from .api.hot_lane import HotLane

        app.wsgi_app = HotLane(app, app.wsgi_app, API_MAX_BODY)  # type: ignore[method-assign]
    return app


def _install_i18n(app: APIFlask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")

    class _Chain:
        """gettext over the web domains, looked up at call time (MOTCUA_LANG)."""

        def _first(self, msg: str) -> str:
            for dom in WEB_DOMAINS:
                out = i18n.load(i18n.LOCALE_DIR, dom).gettext(msg)
                if out != msg:
                    return out
            return msg

        def gettext(self, msg: str) -> str:
            return self._first(msg)

        def ngettext(self, s: str, p: str, n: int) -> str:
            return self._first(s if n == 1 else p)

    chain = _Chain()
    app.jinja_env.install_gettext_callables(chain.gettext, chain.ngettext, newstyle=True)
    app.extensions["motcua_gettext"] = chain.gettext
    app.jinja_env.globals["html_lang"] = i18n.current_lang  # <html lang> of every page


def _install_errors(app: APIFlask) -> None:
    @app.errorhandler(DomainError)
    def _domain(e: DomainError) -> Response:
        return error_response(e.status, e.code, e.message, **e.params)

    @app.errorhandler(AuthError)
    def _auth(e: AuthError) -> Response:
        resp = error_response(e.status, e.code, e.message)
        if e.status == 401:
            resp.headers["WWW-Authenticate"] = "Bearer"
        return resp

    @app.error_processor
    def _apiflask_error(e: Any) -> Response:
        # Validation errors and abort() from APIFlask views.
        code, message = HTTP_CODES.get(e.status_code, ("error", "The request is not valid."))
        if e.status_code == 400 and e.detail:
            code, message = "invalid_input", "The data sent is not valid."
        resp = error_response(e.status_code, code, message)
        if e.detail:
            body = resp.get_json()
            body["error"]["detail"] = e.detail
            resp.set_data(app.json.dumps(body))
        return resp

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Any:
        if not request.path.startswith("/api/") and e.code not in (413, 429):
            return e
        code, message = HTTP_CODES.get(e.code or 500, ("error", "The request is not valid."))
        return error_response(e.code or 500, code, message)

    @app.errorhandler(Exception)
    def _crash(e: Exception) -> Any:  # pragma: no cover - logged, never expected
        if isinstance(e, HTTPException):
            return _http(e)
        app.logger.exception("unhandled error")
        return error_response(500, *HTTP_CODES[500])
