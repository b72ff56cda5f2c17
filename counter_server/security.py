"""Who is asking, and may they?

Three ways in, each an APIFlask (Flask-HTTPAuth) scheme, so the OpenAPI
document names them: ``Authorization: Bearer`` (devices and API tokens), the
web console's Flask-Login session cookie (CSRF on every unsafe method) and a
display's device cookie set from a one-time ``/display?token=`` link (read
only).  :data:`auth` tries them in that order.

Every view declares who may call it once: API views with
``@bp.auth_required(auth, roles=[...])``, web pages with :func:`require`
(the same check, with a sign-in redirect and a Vietnamese page for browsers),
public views with ``@require(PUBLIC)``.  The access matrix test reads the
declaration with :func:`access_of` and fails on any view that has none.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from apiflask import APIKeyCookieAuth, HTTPTokenAuth, MultiAuth
from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import Integer, bindparam, null, select, true, type_coerce, union_all, update

from . import models as m

DEVICE_COOKIE = "motcua_device"
TOKEN_TTL = dt.timedelta(hours=12)
LAST_SEEN_EVERY = 60.0  # seconds between last_seen writes per device

ALL_ROLES = ("kiosk", "display", "rating", "staff", "leader", "admin")
PUBLIC = "public"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    """Random URL-safe text that never starts with "-": tokens are passed on
    command lines (``motcua kiosk --token ...``), where a leading dash reads
    as an option (one token in 64 did)."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    role: str
    office_id: int
    user_id: int | None = None
    device_id: int | None = None
    counter_id: int | None = None
    via: str = "bearer"  # bearer | session | device_cookie
    name: str = ""
    #: A staff session or token whose counter is no longer this officer's
    #: (another took it, it was released or closed): the counter it was bound to.
    displaced_from: int | None = None

    @property
    def is_device(self) -> bool:
        return self.device_id is not None


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str, **params: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.params = status, code, message, params


_last_seen: dict[int, float] = {}
# Who holds a token, in one statement on every authenticated request: a staff
# member's API token (first part, with the holder of the counter it was given)
# or a device (second part); both tables keep the token's SHA-256 in a unique,
# indexed column.
_BY_TOKEN = union_all(
    select(m.User.role, m.User.office_id, m.User.id.label("user_id"),
           type_coerce(null(), Integer).label("device_id"), m.ApiToken.counter_id,
           m.User.full_name.label("name"), m.ApiToken.revoked, m.ApiToken.expires_at,
           m.User.active, m.ApiToken.created_at,
           m.Counter.staff_id.label("holder_id"), m.Counter.signed_in_at.label("holder_since"))
    .select_from(m.ApiToken).join(m.User, m.User.id == m.ApiToken.user_id)
    .outerjoin(m.Counter, m.Counter.id == m.ApiToken.counter_id)
    .where(m.ApiToken.token_hash == bindparam("b_hash")),
    select(m.Device.kind, m.Device.office_id, null(), m.Device.id, m.Device.counter_id,
           m.Device.name, m.Device.revoked, null(), true(), null(), null(), null())
    .where(m.Device.token_hash == bindparam("b_hash")))
_COUNTER_HOLDER = select(m.Counter.staff_id.label("holder_id"),
                         m.Counter.signed_in_at.label("holder_since")
                         ).where(m.Counter.id == bindparam("b_id"))
_TOUCH = (update(m.Counter).where(m.Counter.id == bindparam("b_id"),
                                  m.Counter.staff_id == bindparam("b_staff"))
          .values(console_seen_at=bindparam("b_now")))
TOUCH_EVERY = 30.0  # seconds between console_seen_at writes per counter and process
_touched: dict[int, float] = {}


def _db() -> Any:
    return current_app.extensions["motcua_db"]


def _holder(db: Any, token: str) -> Any:
    """The row of whoever holds ``token`` (see ``_BY_TOKEN``), or None."""
    with db.lookup() as conn:
        return conn.execute(_BY_TOKEN, {"b_hash": hash_token(token)}).first()


def bearer_principal(db: Any, token: str) -> Principal | None:
    """A device's or a staff member's token, looked up on every request (a
    revoked token is refused on its next one).  A staff token carries the
    counter the server assigned at sign-in."""
    row = _holder(db, token) if token else None
    if row is None or row.revoked or not row.active:
        return None
    if row.device_id is not None:
        return _from_device(db, row, "bearer")
    if row.expires_at < m.utcnow():
        return None
    return _seated(db, Principal(role=row.role, office_id=row.office_id, user_id=row.user_id,
                                 counter_id=row.counter_id, via="bearer", name=row.name),
                   row, row.created_at)


def _seated(db: Any, p: Principal, holder: Any, since: dt.datetime | None) -> Principal:
    """``p`` as it stands at its counter: still there (the counter's console
    is marked as seen, at most every TOUCH_EVERY seconds), or displaced, when
    the counter's holder or their sign-in time is not this session's."""
    if p.counter_id is None or p.role != "staff":
        return p
    if (holder is None or holder.holder_id != p.user_id or holder.holder_since is None
            or since is None or since < holder.holder_since):
        return Principal(role=p.role, office_id=p.office_id, user_id=p.user_id, via=p.via,
                         name=p.name, displaced_from=p.counter_id)
    now = time.monotonic()
    if now - _touched.get(p.counter_id, 0.0) > TOUCH_EVERY:
        _touched[p.counter_id] = now
        with db.write() as s:
            s.execute(_TOUCH, {"b_id": p.counter_id, "b_staff": p.user_id, "b_now": m.utcnow()})
    return p


def displaced_error(p: Principal) -> AuthError:
    """The refusal a displaced session or token gets, saying what happened."""
    with _db().read() as s:
        c = s.get(m.Counter, p.displaced_from)
        holder = s.get(m.User, c.staff_id) if c is not None and c.staff_id else None
        number = c.number if c is not None else p.displaced_from
        if holder is not None and holder.id != p.user_id:
            return AuthError(409, "session_ended",
                             "Counter {number} is now held by {name}: your session there has "
                             "ended. Sign in again to continue.",
                             number=number, name=holder.full_name or holder.username)
    return AuthError(409, "session_ended",
                     "Counter {number} was closed (signed out or in elsewhere, released by an "
                     "administrator, or idle too long): your session there has ended. Sign in "
                     "again to continue.", number=number)


def _device_principal(db: Any, token: str, via: str) -> Principal | None:
    row = _holder(db, token) if token else None
    if row is None or row.device_id is None or row.revoked:
        return None
    return _from_device(db, row, via)


def _from_device(db: Any, d: Any, via: str) -> Principal:
    p = Principal(role=d.role, office_id=d.office_id, device_id=d.device_id,
                  counter_id=d.counter_id, via=via, name=d.name)
    now = time.monotonic()
    if now - _last_seen.get(p.device_id, 0.0) > LAST_SEEN_EVERY:
        _last_seen[p.device_id] = now
        with db.write() as s:
            dev = s.get(m.Device, p.device_id)
            if dev is not None:
                dev.last_seen = m.utcnow()
    return p


def session_principal() -> Principal | None:
    """The signed-in console user (Flask-Login), if any."""
    from flask_login import current_user

    if not getattr(current_user, "is_authenticated", False):
        return None
    if "session_principal" in g:
        return g.session_principal
    p = Principal(role=current_user.role, office_id=current_user.office_id,
                  user_id=current_user.id, counter_id=session.get("counter_id"),
                  via="session", name=current_user.full_name)
    if p.role == "staff" and p.counter_id is not None:
        db = _db()
        with db.lookup() as conn:
            holder = conn.execute(_COUNTER_HOLDER, {"b_id": p.counter_id}).first()
        seat = session.get("seat_at")
        try:
            since = dt.datetime.fromisoformat(seat) if seat else None
        except (TypeError, ValueError):
            since = None
        p = _seated(db, p, holder, since)
    g.session_principal = p
    return p


# ------------------------------------------------------------------ the schemes
class _BearerAuth(HTTPTokenAuth):
    """Bearer tokens.  Any ``Authorization`` header selects this scheme, so a
    malformed one is refused (401) rather than passed over for a cookie."""

    def is_compatible_auth(self, headers: Any) -> bool:
        return "Authorization" in headers


class _CookieAuth(APIKeyCookieAuth):
    """A cookie scheme: after the role check, cookies (which browsers send
    on their own) also need the CSRF token on unsafe methods."""

    def authorize(self, role: Any, user: Any, auth: Any) -> bool | None:
        if not super().authorize(role, user, auth):
            return False
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            from flask_wtf.csrf import validate_csrf

            try:
                validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
            except Exception:  # noqa: BLE001 - a ValidationError carries the reason
                raise AuthError(403, "csrf_failed", "The form has expired; reload the page.")
        return True


class _SessionAuth(_CookieAuth):
    def is_compatible_auth(self, headers: Any) -> bool:
        return session_principal() is not None

    def authenticate(self, auth: Any, stored_password: Any) -> Principal | None:
        p = session_principal()
        if p is not None and p.displaced_from is not None:
            view = current_app.view_functions.get(request.endpoint or "")
            if not getattr(view, "_motcua_html", False):
                raise displaced_error(p)  # pages let it choose a counter again
        return _remember(p)


class _DeviceCookieAuth(_CookieAuth):
    def authorize(self, role: Any, user: Any, auth: Any) -> bool | None:
        # Device cookies only ever open read-only display views.
        if request.method not in ("GET", "HEAD"):
            return False
        return super().authorize(role, user, auth)


bearer_auth = _BearerAuth(
    "Bearer", name="BearerAuth",
    description="A device token (kiosk, display, rating tablet) or a token from "
                "POST /api/v1/auth/token (staff tokens are bound to their counter).")
session_auth = _SessionAuth(
    name="SessionCookie", param_name="session",
    description="The web console's sign-in session; unsafe methods also need the "
                "X-CSRFToken header (the page's csrf-token meta tag).")
device_auth = _DeviceCookieAuth(
    name="DeviceCookie", param_name=DEVICE_COOKIE,
    description="A display's cookie, set from its one-time /display?token= link (read only).")
auth = MultiAuth(bearer_auth, session_auth, device_auth)


@bearer_auth.verify_token
def _verify_bearer(token: str) -> Principal | None:
    p = bearer_principal(_db(), token.strip())
    if p is not None and p.displaced_from is not None:
        raise displaced_error(p)
    return _remember(p)


@device_auth.verify_token
def _verify_device(token: str) -> Principal | None:
    return _remember(_device_principal(_db(), token, "device_cookie"))


def _remember(p: Principal | None) -> Principal | None:
    if p is not None:
        g.principal = p
    return p


for _scheme in (bearer_auth, session_auth, device_auth):
    _scheme.get_user_roles(lambda p: [p.role])

    @_scheme.error_handler
    def _refuse(status: int) -> Any:
        """401/403 as the view declared: JSON, or for a web page the sign-in
        page (401) and a Vietnamese error page (403)."""
        from .errors import wants_json

        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "_motcua_html", False) and not wants_json():
            if status == 401:
                return redirect(url_for("console.login", next=request.full_path))
            from .errors import error_page

            return error_page(403, "forbidden", "You are not allowed to do this.")
        if status == 403:
            raise AuthError(403, "forbidden", "You are not allowed to do this.")
        if "Authorization" in request.headers:
            raise AuthError(401, "invalid_token", "Invalid or expired credentials.")
        raise AuthError(401, "unauthorized", "Please sign in.")


def current_principal() -> Principal | None:
    """Who is calling: whom the view's auth admitted, or (public views)
    resolved once per request the same way; a bad bearer token is refused."""
    if "principal" in g:
        return g.principal
    p: Principal | None = None
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        p = bearer_principal(_db(), token.strip()) if scheme.lower() == "bearer" else None
        if p is None:
            raise AuthError(401, "invalid_token", "Invalid or expired credentials.")
    else:
        p = session_principal()
        if p is None and request.cookies.get(DEVICE_COOKIE):
            p = _device_principal(_db(), request.cookies[DEVICE_COOKIE], "device_cookie")
    g.principal = p
    return p


def require(*roles: str, html: bool = False) -> Callable:
    """A web page's (or public view's) one declaration of who may call it.

    ``require(PUBLIC)`` only marks the view.  Otherwise the view is wrapped
    once by :data:`auth` with these roles (Flask-HTTPAuth's
    ``login_required``, what ``auth_required`` does on API views);
    ``html=True`` sends anonymous browsers to the sign-in page and wrong roles
    to a Vietnamese error page instead of JSON."""
    allowed = frozenset(roles)
    unknown = allowed - set(ALL_ROLES) - {PUBLIC}
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def deco(view: Callable) -> Callable:
        if PUBLIC not in allowed:
            view = auth.login_required(role=sorted(allowed))(view)
        view._motcua_access = allowed  # type: ignore[attr-defined]
        view._motcua_html = html  # type: ignore[attr-defined]
        return view

    return deco


def access_of(view: Callable) -> frozenset[str] | None:
    """The roles a view admits: its ``auth_required`` roles or its
    :func:`require` declaration (None: it declares nothing)."""
    spec = getattr(view, "_spec", None) or {}
    if spec.get("auth") is not None:
        return frozenset(spec.get("roles") or ALL_ROLES)
    return getattr(view, "_motcua_access", None)


def roles(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(r for grp in groups for r in grp)
