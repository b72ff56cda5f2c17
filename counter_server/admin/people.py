"""Staff accounts (create, reset password, deactivate, photo) and devices
(create and revoke tokens, last seen, reported status).

Resetting a password or deactivating bumps ``User.session_version``: the
account's open sessions and API tokens stop working on their next request.
"""
from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import engine as e
from .. import models as m
from .. import reprint
from ..api import get_db
from ..console import t
from ..console.photos import PhotoError, save_photo
from ..security import current_principal, hash_password, hash_token, new_token, require
from . import bp
from .common import FormError, audit, field, save

MIN_PASSWORD = 8
USERNAME = re.compile(r"^[a-z0-9_.-]{2,80}$")


def _kill_sessions(s: Session, u: m.User) -> None:
    u.session_version += 1
    s.execute(update(m.ApiToken).where(m.ApiToken.user_id == u.id).values(revoked=True))


def _password() -> str:
    pw = request.form.get("password", "")
    if len(pw) < MIN_PASSWORD:
        raise FormError("The password must have at least 8 characters.")
    return pw


@bp.route("/users", methods=["GET", "POST"])
@require("admin", html=True)
def users():
    p = current_principal()
    if request.method == "POST":
        def do(s: Session) -> None:
            username = field("username").lower()
            if not USERNAME.match(username):
                raise FormError("A username has 2–80 lower-case letters, digits, dots or dashes.")
            if s.scalar(select(m.User.id).where(m.User.username == username)) is not None:
                raise FormError("User {name} already exists.", name=username)
            role = field("role")
            if role not in m.ROLES:
                raise FormError("Choose a role.")
            u = m.User(office_id=p.office_id, username=username, role=role,
                       full_name=field("full_name")[:200] or username,
                       password_hash=hash_password(_password()))
            s.add(u)
            s.flush()
            audit(s, "user_created", user_id=u.id, username=username, role=role)
        if save(do, "Account created."):
            return redirect(url_for("admin.users"))
    with get_db().read() as s:
        rows = list(s.scalars(select(m.User).where(m.User.office_id == p.office_id)
                              .order_by(m.User.active.desc(), m.User.role, m.User.username)))
    return render_template("admin/users.html", users=rows, roles=m.ROLES)


def _user(s: Session, user_id: int) -> m.User:
    u = s.get(m.User, user_id)
    if u is None or u.office_id != current_principal().office_id:
        abort(404)
    return u


@bp.route("/users/<int:user_id>", methods=["POST"])
@require("admin", html=True)
def user_update(user_id: int):
    """One form per action: details, password reset, (de)activation, photo."""
    p = current_principal()
    action = field("action")
    if action == "photo":
        upload = request.files.get("photo")
        data = upload.read(3 * 1024 * 1024) if upload else b""
        try:
            name = save_photo(user_id, data)
        except PhotoError as err:
            flash(t(str(err)), "error")
            return redirect(url_for("admin.users"))

        def do_photo(s: Session) -> None:
            u = _user(s, user_id)
            u.photo = name
            audit(s, "user_photo", user_id=u.id, username=u.username)
        save(do_photo, "Photo saved.")
        return redirect(url_for("admin.users"))

    def do(s: Session) -> None:
        u = _user(s, user_id)
        if action == "details":
            role = field("role")
            if role not in m.ROLES:
                raise FormError("Choose a role.")
            if u.id == p.user_id and role != "admin":
                raise FormError("You cannot remove your own administrator role.")
            if role != u.role:
                _kill_sessions(s, u)
            u.full_name, u.role = field("full_name")[:200] or u.username, role
            audit(s, "user_updated", user_id=u.id, username=u.username, role=role)
        elif action == "password":
            u.password_hash = hash_password(_password())
            u.failed_logins, u.locked_until = 0, None
            _kill_sessions(s, u)
            audit(s, "user_password_reset", user_id=u.id, username=u.username)
        elif action in ("deactivate", "activate"):
            if u.id == p.user_id:
                raise FormError("You cannot deactivate your own account.")
            u.active = action == "activate"
            _kill_sessions(s, u)
            if not u.active:
                for c in s.scalars(select(m.Counter).where(m.Counter.staff_id == u.id)):
                    e.sign_out_counter(s, c.id, p.user_id, ticket="requeue")
            audit(s, "user_" + action + "d", user_id=u.id, username=u.username)
        else:
            raise FormError("Unknown action.")
    if save(do, "Account saved.") and user_id == p.user_id and action == "password":
        session.clear()  # own password reset: sign in again with the new one
        return redirect(url_for("console.login"))
    return redirect(url_for("admin.users"))


@bp.route("/devices", methods=["GET", "POST"])
@require("admin", html=True)
def devices():
    p = current_principal()
    token = None
    if request.method == "POST":
        new = new_token()

        def do(s: Session) -> int:
            name, kind = field("name")[:100], field("kind")
            if not name:
                raise FormError("The name is required.")
            if kind not in m.DEVICE_KINDS:
                raise FormError("Choose a device kind.")
            counter_id = None
            if kind == "rating":
                raw = field("counter_id")
                c = s.get(m.Counter, int(raw)) if raw.isdigit() else None
                if c is None or c.office_id != p.office_id:
                    raise FormError("A rating tablet needs a counter.")
                counter_id = c.id
            d = m.Device(office_id=p.office_id, name=name, kind=kind, counter_id=counter_id,
                         token_hash=hash_token(new))
            s.add(d)
            s.flush()
            audit(s, "device_created", device_id=d.id, name=name, kind=kind)
            return d.id
        if save(do, "Device created. Copy its token now: it is shown only once."):
            token = new
    with get_db().read() as s:
        rows = list(s.scalars(select(m.Device).where(m.Device.office_id == p.office_id)
                              .order_by(m.Device.revoked, m.Device.kind, m.Device.name)))
        counters = {c.id: c.number for c in s.scalars(
            select(m.Counter).where(m.Counter.office_id == p.office_id))}
        office = s.get(m.Office, p.office_id)
        seen = {d.id: e.local_time(office, d.last_seen).strftime("%d/%m/%Y %H:%M")
                for d in rows if d.last_seen}
    return render_template("admin/devices.html", devices=rows, counters=counters, token=token,
                           kinds=m.DEVICE_KINDS, seen=seen)


@bp.route("/devices/<int:device_id>/revoke", methods=["POST"])
@require("admin", html=True)
def device_revoke(device_id: int):
    p = current_principal()

    def do(s: Session) -> None:
        d = s.get(m.Device, device_id)
        if d is None or d.office_id != p.office_id:
            raise FormError("Device not found.")
        d.revoked = True
        audit(s, "device_revoked", device_id=d.id, name=d.name, kind=d.kind)
    save(do, "Device token revoked.")
    return redirect(url_for("admin.devices"))


@bp.route("/devices/reprint", methods=["POST"])
@require("admin", html=True)
def device_reprint():
    """Have the kiosk print one of today's tickets again, by its number."""
    p = current_principal()
    number = field("display_number").upper()[:20]

    def do(s: Session) -> dict[str, Any]:
        office = s.get(m.Office, p.office_id)
        t = s.scalar(select(m.Ticket).where(
            m.Ticket.office_id == p.office_id,
            m.Ticket.service_day == e.service_day(office, e.utcnow()),
            func.upper(m.Ticket.display_number) == number)
            .order_by(m.Ticket.issued_at.desc(), m.Ticket.id.desc()).limit(1))
        if t is None:
            raise FormError("No ticket {number} today.", number=number)
        return reprint.request_reprint(s, p.office_id, t.id, p.user_id, p.name)

    save(do, "Ticket {number} is being printed again at the kiosk.", number=number)
    return redirect(url_for("admin.devices"))
