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
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import BaseConverter, IntegerConverter

from . import __version__, i18n
from . import models as m
from .db import Database, default_sqlite_url
from .api.schemas import MAX_ID, TICKET_CODE, Error
from .errors import HTTP_CODES, error_response  # noqa: F401  (the server's error shapes)
from .limits import WEB_MAX_BODY

_ = i18n._

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
    """``<int:...>`` up to the database's integer range (a larger id is
    simply "not found", never handed to the driver)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class TicketCode(BaseConverter):
    """A ticket's code in a path (``secrets.token_urlsafe``): never a word
    like ``lookup``, so ``/tickets/lookup`` is only the lookup."""

    regex = TICKET_CODE


@dataclass
class SessionUser(UserMixin):
    id: int
    username: str
    full_name: str
    role: str
    office_id: int
    photo: str | None = None


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
        SSE_POLL_SECONDS=1.0,  # SQLite: PRAGMA data_version, for writes of other processes
        SSE_RECHECK_SECONDS=float(os.environ.get("MOTCUA_SSE_RECHECK", "60")),  # open streams: all credentials checked again (expiry)
        VALIDATION_ERROR_STATUS_CODE=400,
        VALIDATION_ERROR_DESCRIPTION="Bad input: the fields at fault are in error.detail",
        VALIDATION_ERROR_SCHEMA=Error,
        HTTP_ERROR_SCHEMA=Error,
        AUTH_ERROR_DESCRIPTION="No credentials, or a token that is not valid",
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        DB_POOL_SIZE=int(os.environ.get("MOTCUA_DB_POOL", "20")),
    )
    app.config.update(config)
    app.json.ensure_ascii = False  # Vietnamese as UTF-8, not \u escapes
    app.session_interface = CookieSessionOnDemand()
    # Ids in paths fit the id columns; a larger number is simply "not found".
    app.url_map.converters["int"] = BoundedInt
    app.url_map.converters["ticket_code"] = TicketCode
    from .api.document import complete_the_document

    app.spec_processor(complete_the_document)

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
    from . import errors

    errors.install(app)

    from .api import bp as api_bp
    from .console import bp as console_bp
    from .admin import bp as admin_bp
    from .reports import bp as reports_bp
    from .phone import bp as phone_bp
    from .display_web import bp as display_bp

    from .reports.api import reports_api

    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie callers (security.auth)
    csrf.exempt(reports_api)
    app.register_blueprint(api_bp)
    app.register_blueprint(reports_api)
    for bp in (console_bp, admin_bp, reports_bp, phone_bp, display_bp):
        # HTML pages are not part of the API document; APIFlask also needs this
        # attribute on plain blueprints that have before_request hooks.
        bp.enable_openapi = False
        app.register_blueprint(bp)

    from .limits import check_request

    app.before_request(check_request)
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
