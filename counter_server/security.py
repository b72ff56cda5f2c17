"""Who is asking, and may they?

Three ways in: ``Authorization: Bearer`` (devices and API tokens), the web
console's Flask-Login session cookie (with CSRF on every unsafe method), and
a display's device cookie set from a one-time ``/display?token=`` link.
Every view declares the roles it admits with :func:`require`; the access
matrix test walks the app's route table and fails on any view that declares
nothing, so a new route cannot slip past.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import bindparam, select

from . import models as m
from .db import write_generation

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

    @property
    def is_device(self) -> bool:
        return self.device_id is not None


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


_last_seen: dict[int, float] = {}
# Built once: these run on every authenticated request.
_DEVICE_BY_TOKEN = select(m.Device.kind, m.Device.office_id, m.Device.id, m.Device.counter_id,
                          m.Device.name, m.Device.revoked
                          ).where(m.Device.token_hash == bindparam("b_hash"))
_STAFF_BY_TOKEN = (select(m.ApiToken.revoked, m.ApiToken.expires_at, m.ApiToken.counter_id,
                          m.User.active, m.User.role, m.User.office_id, m.User.id,
                          m.User.full_name)
                   .join(m.User, m.User.id == m.ApiToken.user_id)
                   .where(m.ApiToken.token_hash == bindparam("b_hash")))


def _device_principal(db: Any, token: str, via: str) -> Principal | None:
    with db.lookup() as conn:  # one indexed lookup, no ORM round trip
        d = conn.execute(_DEVICE_BY_TOKEN, {"b_hash": hash_token(token)}).first()
    return _from_device(db, d, via)


TOKEN_CACHE_SECONDS = 1.0
_token_cache: dict[str, tuple[float, int, Principal, Any]] = {}


def bearer_principal(db: Any, token: str) -> Principal | None:
    """A device's or a staff member's token, looked up on one connection (this
    runs on every kiosk and counter request).

    An accepted token is remembered for a second, and forgotten at once when
    anything is written outside the ticket hot paths in this process (a
    revocation, a deactivation, a sign-out...); another server process on the
    same database sees a revocation within that second."""
    key = hash_token(token)
    now = time.monotonic()
    hit = _token_cache.get(key)
    if hit is not None and now - hit[0] < TOKEN_CACHE_SECONDS and hit[1] == write_generation() \
            and (hit[3] is None or hit[3] > m.utcnow()):
        return hit[2]
    generation = write_generation()
    p, expires = _lookup_bearer(db, key)
    if p is not None:
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[key] = (now, generation, p, expires)
    return p


def _lookup_bearer(db: Any, key: str) -> tuple[Principal | None, Any]:
    th = {"b_hash": key}
    with db.lookup() as conn:
        d = conn.execute(_DEVICE_BY_TOKEN, th).first()
        staff = conn.execute(_STAFF_BY_TOKEN, th).first() if d is None else None
    if d is not None:
        return _from_device(db, d, "bearer"), None
    if staff is None or staff.revoked or not staff.active or staff.expires_at < m.utcnow():
        return None, None
    return Principal(role=staff.role, office_id=staff.office_id, user_id=staff.id,
                     counter_id=staff.counter_id, via="bearer", name=staff.full_name), \
        staff.expires_at


def _from_device(db: Any, d: Any, via: str) -> Principal | None:
    if d is None or d.revoked:
        return None
    p = Principal(role=d.kind, office_id=d.office_id, device_id=d.id,
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
    return Principal(role=current_user.role, office_id=current_user.office_id,
                     user_id=current_user.id, counter_id=session.get("counter_id"),
                     via="session", name=current_user.full_name)


def current_principal() -> Principal | None:
    """Resolve (once per request) who is calling."""
    if "principal" in g:
        return g.principal
    db = current_app.extensions["motcua_db"]
    p: Principal | None = None
    auth = request.headers.get("Authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "invalid_token", "Invalid or expired credentials.")
        token = token.strip()
        p = bearer_principal(db, token)
        if p is None:
            raise AuthError(401, "invalid_token", "Invalid or expired credentials.")
    else:
        p = session_principal()
        if p is None and request.cookies.get(DEVICE_COOKIE):
            p = _device_principal(db, request.cookies[DEVICE_COOKIE], "device_cookie")
    g.principal = p
    return p


def _check_csrf(p: Principal) -> None:
    if p.via in ("session", "device_cookie") and request.method not in ("GET", "HEAD", "OPTIONS"):
        from flask_wtf.csrf import CSRFError, validate_csrf

        try:
            validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
        except (CSRFError, Exception):  # ValidationError carries the reason
            raise AuthError(403, "csrf_failed", "The form has expired; reload the page.")


def require(*roles: str, html: bool = False) -> Callable:
    """Admit only ``roles`` (or everybody with ``PUBLIC``).

    The allowed set is stored on the view as ``_motcua_access`` for the
    access-matrix test.  ``html=True`` views send anonymous people to the
    sign-in page instead of answering 401 JSON."""
    allowed = frozenset(roles)
    unknown = allowed - set(ALL_ROLES) - {PUBLIC}
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def deco(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refusal = _enforce(allowed, html)
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        wrapper._motcua_access = allowed  # type: ignore[attr-defined]
        wrapper._motcua_html = html  # type: ignore[attr-defined]
        return wrapper

    return deco


def _enforce(allowed: frozenset[str], html: bool) -> Any:
    """The role, device-cookie and CSRF checks of :func:`require`; a redirect
    for anonymous HTML callers, an AuthError for the rest, None to go on."""
    if PUBLIC in allowed or g.get("_motcua_admitted") is allowed:
        return None  # public, or this view's guard already admitted the request
    p = current_principal()
    if p is None:
        if html:
            return redirect(url_for("console.login", next=request.full_path))
        raise AuthError(401, "unauthorized", "Please sign in.")
    if p.role not in allowed:
        raise AuthError(403, "forbidden", "You are not allowed to do this.")
    # Device cookies only ever open read-only display views.
    if p.via == "device_cookie" and request.method not in ("GET", "HEAD"):
        raise AuthError(403, "forbidden", "You are not allowed to do this.")
    _check_csrf(p)
    g._motcua_admitted = allowed
    return None


def guard_views(app: Any) -> None:
    """Wrap every declared view once more, outermost, with its own access check.

    ``@require`` sits under other decorators (APIFlask's input validation
    would otherwise answer an anonymous caller 400 before the role check says
    401).  Done after all blueprints are registered and as part of the view,
    so blueprint ``before_request`` hooks (e.g. a display link turning its
    token into a cookie) still run first."""
    for endpoint, view in list(app.view_functions.items()):
        allowed = access_of(view)
        if allowed is None or PUBLIC in allowed or getattr(view, "_motcua_guarded", False):
            continue

        def make(view: Callable, allowed: frozenset[str]) -> Callable:
            html = bool(getattr(view, "_motcua_html", False))

            @functools.wraps(view)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                refusal = _enforce(allowed, html)
                if refusal is not None:
                    return refusal
                return view(*args, **kwargs)

            guarded._motcua_guarded = True  # type: ignore[attr-defined]
            return guarded

        app.view_functions[endpoint] = make(view, allowed)


def access_of(view: Callable) -> frozenset[str] | None:
    return getattr(view, "_motcua_access", None)


def roles(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(r for grp in groups for r in grp)
