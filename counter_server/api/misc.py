"""Health, sign-in tokens, services, ratings and device status."""
from __future__ import annotations

import datetime as dt

from flask import request
from sqlalchemy import select, text

from .. import __version__, engine as e, models as m, ratings
from ..limits import RATING_PER_ADDRESS, RATING_PER_DEVICE, device_or_address, limiter
from ..queries import services_view
from ..security import (PUBLIC, TOKEN_TTL, AuthError, auth, current_principal, hash_token,
                        new_token, require, verify_password)
from . import bp, errors, get_db, run_write, snapshot
from .schemas import (DeviceStatusIn, Health, Ok, RatingIn, RatingOut, ServicesOut, TokenIn,
                      TokenOut)

LOCK_AFTER = 5
LOCK_FOR = dt.timedelta(minutes=5)


@bp.get("/health")
@require(PUBLIC)
@bp.output(Health)
@bp.doc(summary="Server and database health", responses=errors())
def health():
    with get_db().read() as s:
        s.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__, "database": get_db().write_engine.dialect.name,
            "time": e.iso(e.utcnow())}


def check_credentials(s, username: str, password: str) -> m.User:
    """Verify a sign-in, locking the account for a while after repeated failures."""
    user = s.scalar(select(m.User).where(m.User.username == username))
    now = m.utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        raise AuthError(429, "too_many_attempts",
                        "Too many failed sign-ins; try again in a few minutes.")
    if user is None or not user.active or not verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= LOCK_AFTER:
                user.locked_until, user.failed_logins = now + LOCK_FOR, 0
        raise AuthError(401, "invalid_credentials", "Wrong username or password.")
    user.failed_logins, user.locked_until = 0, None
    return user


@bp.post("/auth/token")
@require(PUBLIC)
@bp.input(TokenIn)
@bp.output(TokenOut, status_code=201)
@bp.doc(summary="Sign in and get a bearer token (staff tokens are bound to a counter)",
        responses=errors(401, 404, 409, 413, 429, e400="Invalid input, or counter_required "
                         "(a staff member must name the counter)",
                         e401="invalid_credentials", e404="counter_not_found",
                         e429="too_many_attempts, or too many sign-ins from this address"))
@limiter.limit("20/minute")
def auth_token(json_data):
    token = new_token()

    def do(s):
        try:
            user = check_credentials(s, json_data["username"], json_data["password"])
        except AuthError as err:
            return err
        counter_id = json_data.get("counter_id")
        if user.role == "staff":
            if counter_id is None:
                raise e.DomainError("counter_required", "Choose your counter to sign in.", 400)
            c = s.get(m.Counter, counter_id)
            if c is None or c.office_id != user.office_id or not c.active:
                raise e.not_found("counter")
            e.sign_in_counter(s, c.id, user.id)
        elif counter_id is not None:
            counter_id = None
        expires = m.utcnow() + TOKEN_TTL
        s.add(m.ApiToken(user_id=user.id, counter_id=counter_id, token_hash=hash_token(token),
                         expires_at=expires))
        return {"token": token, "role": user.role, "counter_id": counter_id,
                "full_name": user.full_name, "expires_at": e.iso(expires)}

    out = run_write(do)  # failed attempts are counted (committed) before refusing
    if isinstance(out, AuthError):
        raise out
    return out


@bp.get("/services")
@bp.auth_required(auth, roles=["kiosk", "display", "rating", "staff", "leader", "admin"])
@bp.output(ServicesOut)
@bp.doc(summary="Services with open state, people waiting and estimated wait "
                "(ETag; 304 on If-None-Match when nothing shown changed)",
        responses={**errors(401, 403), 304: "Not modified: the snapshot the ETag names holds"})
def services():
    p = current_principal()
    return snapshot("services", p.office_id,
                    lambda s, office: services_view(s, p.office_id, office=office))


@bp.post("/ratings")
@require(PUBLIC)
@bp.input(RatingIn)
@bp.output(RatingOut, status_code=201, description="The rating stored")
@bp.doc(summary="Rate a completed ticket (tablet, kiosk, or the ticket's code holder)",
        # Anonymous (the code holder) or a rating tablet's / kiosk's token.
        security=[{}, {"BearerAuth": ["rating", "kiosk"]}],
        responses={200: {"description": "The same client_key was sent again: the rating "
                                        "already stored",
                         "content": {"application/json": {"schema": {
                             "$ref": "#/components/schemas/RatingOut"}}}},
                   **errors(401, 403, 404, 409, 413, 422, 429,
                            e401="A token that is not valid (anonymous callers send none)",
                            e403="Callers other than rating tablets, kiosks and code holders",
                            e404="Unknown ticket code",
                            e409="already_rated, not_finished, client_key_conflict, or served_elsewhere "
                                 "(a tablet rates only tickets served at its own counter)",
                            e422="unknown_level, unknown_reason, comment_too_long, or "
                                 "ticket_code_required (kiosks and anonymous callers must name "
                                 "the ticket)",
                            e429="Too many ratings from this device or address")})
@limiter.shared_limit(RATING_PER_DEVICE, scope="rating-device", key_func=device_or_address)
@limiter.shared_limit(RATING_PER_ADDRESS, scope="rating-address")
def create_rating(json_data):
    p = current_principal()
    if p is not None and p.role not in ("rating", "kiosk"):
        raise AuthError(403, "forbidden", "You are not allowed to do this.")
    channel = {"rating": "tablet", "kiosk": "kiosk"}.get(p.role if p else "", "web")
    code = json_data.get("ticket_code")
    if p is None and not code:
        raise e.DomainError("ticket_code_required", "A ticket code is required.", 422)

    def do(s):
        if p is not None:
            office_id = p.office_id
        else:
            office_id = s.scalar(select(m.Ticket.office_id).where(m.Ticket.code == code))
            if office_id is None:
                raise e.DomainError("ticket_not_found", "Ticket not found.", 404)
        r, created = ratings.create_rating(
            s, office_id, ticket_code=code, level=json_data["level"],
            reasons=json_data["reasons"], comment=json_data["comment"], channel=channel,
            device_id=p.device_id if p else None, client_key=json_data.get("client_key"),
            now=press_time(json_data.get("pressed_at"), p is not None and p.is_device))
        return {"id": r.id, "ticket_id": r.ticket_id, "level": r.level, "reasons": r.reasons,
                "misuse": r.misuse, "created": created}

    out = run_write(do)
    return out, 201 if out["created"] else 200


def press_time(pressed_at: dt.datetime | None, trusted: bool) -> dt.datetime:
    """A device's own time of the press, so ratings replayed after an outage
    keep their real spacing (and are not all flagged too fast).  Only devices
    may say; a time in the future or over a week old is ignored."""
    now = m.utcnow()
    if not trusted or pressed_at is None:
        return now
    if pressed_at.tzinfo is not None:
        pressed_at = pressed_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if now - dt.timedelta(days=7) <= pressed_at <= now + dt.timedelta(seconds=60):
        return min(pressed_at, now)
    return now


@bp.post("/device/status")
@bp.auth_required(auth, roles=["kiosk", "display", "rating"])
@bp.input(DeviceStatusIn)
@bp.output(Ok)
@bp.doc(summary="A device reports its health (e.g. printer offline)",
        responses=errors(401, 403, 413))
def device_status(json_data):
    p = current_principal()

    def do(s):
        d = s.get(m.Device, p.device_id)
        changed = (d.status, d.last_error) != (json_data["status"], json_data["message"])
        d.status, d.last_error, d.last_seen = json_data["status"], json_data["message"], m.utcnow()
        if changed:
            e.append_event(s, d.office_id, "device.status", payload={"device": {
                "id": d.id, "name": d.name, "kind": d.kind, "status": d.status,
                "code": json_data["code"], "message": d.last_error}})
        return {"ok": True}

    return run_write(do)


def client_addr() -> str:
    return request.remote_addr or ""
