"""Sign-in, sign-out, counter choice and password change for web users.

Sign-in reuses the API's :func:`check_credentials` so the account lock after
repeated failures is one rule for tokens and cookies alike; the failure count
is committed before the refusal is shown.  The session is rebuilt on sign-in
(no fixation), made permanent (PERMANENT_SESSION_LIFETIME expires it) and
carries ``sv`` = User.session_version so a password reset or deactivation
ends it at once.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select

from .. import engine as e
from .. import models as m
from ..api import get_db, run_write
from ..api.misc import check_credentials
from ..limits import limiter
from ..security import (PUBLIC, AuthError, current_principal, displaced_error, hash_password,
                        require, verify_password)
from . import bp, t

MIN_PASSWORD = 8


def counters_for_choice(s: Any, office_id: int | None = None) -> list[dict[str, Any]]:
    """Active counters with their services and who sits there, for the picker."""
    q = select(m.Counter).where(m.Counter.active.is_(True)).order_by(m.Counter.office_id,
                                                                      m.Counter.number)
    if office_id is not None:
        q = q.where(m.Counter.office_id == office_id)
    names = {sv.id: sv.name for sv in s.scalars(select(m.Service))}
    out = []
    for c in s.scalars(q):
        staff = s.get(m.User, c.staff_id) if c.staff_id else None
        out.append({"id": c.id, "number": c.number, "name": c.name, "state": c.state,
                    "office_id": c.office_id,
                    "services": [names.get(cs.service_id, "?") for cs in c.services],
                    "staff_id": c.staff_id, "staff_name": staff.full_name if staff else ""})
    return out


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never bounce a signed-in user to another host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def home_for(role: str) -> str:
    if role == "staff":
        return url_for("console.index")
    if role == "admin":
        return url_for("admin.index")
    from flask import current_app

    if "reports.dashboard" in current_app.view_functions:
        return url_for("reports.dashboard")
    return url_for("console.account")


@bp.route("/")
@require("staff", "leader", "admin", html=True)
def home():
    return redirect(home_for(current_principal().role))


@bp.route("/login", methods=["GET", "POST"])
@require(PUBLIC)
@limiter.limit("30/minute", methods=["POST"])
def login():
    with get_db().read() as s:
        counters = counters_for_choice(s)
    form = {"username": "", "counter_id": request.args.get("counter", "")}
    if request.method == "POST":
        form["username"] = request.form.get("username", "").strip()
        form["counter_id"] = request.form.get("counter_id", "").strip()
        password = request.form.get("password", "")
        counter_id = int(form["counter_id"]) if form["counter_id"].isdigit() else None

        def do(s: Any) -> Any:
            try:
                user = check_credentials(s, form["username"], password)
            except AuthError as err:
                return err  # keep the counted failure: commit, then refuse
            seat = None
            if user.role == "staff":
                c = s.get(m.Counter, counter_id) if counter_id else None
                if c is None or c.office_id != user.office_id or not c.active:
                    return AuthError(400, "counter_required", "Choose your counter to sign in.")
                try:
                    seat = e.sign_in_counter(s, c.id, user.id).signed_in_at.isoformat()
                except e.DomainError as err:  # held by another officer
                    return AuthError(409, err.code, err.message, **err.params)
            return {"id": user.id, "sv": user.session_version, "role": user.role,
                    "username": user.username, "full_name": user.full_name,
                    "office_id": user.office_id, "photo": user.photo, "seat": seat}

        out = run_write(do)
        if isinstance(out, AuthError):
            flash(message_of(out), "error")
            status = out.status if out.status in (400, 409, 429) else 200  # the form, again
            return render_template("console/login.html", counters=counters, form=form), status
        from ..app import SessionUser

        session.clear()  # a fresh session: no fixation, no leftovers
        login_user(SessionUser(out["id"], out["username"], out["full_name"], out["role"],
                               out["office_id"], out["photo"]))
        session.permanent = True
        session["sv"] = out["sv"]
        if out["role"] == "staff":
            session["counter_id"], session["seat_at"] = counter_id, out["seat"]
        return redirect(_safe_next(request.args.get("next")) or home_for(out["role"]))
    return render_template("console/login.html", counters=counters, form=form)


def message_of(err: Any) -> str:
    """An AuthError's or DomainError's sentence in the page's language."""
    text = t(err.message)
    params = getattr(err, "params", None) or {}
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def _ticket_choice() -> str | None:
    choice = request.form.get("ticket", "")
    return choice if choice in e.TICKET_CHOICES else None


def _ask_about_ticket(err: e.DomainError, action: str, **hidden: Any) -> Any:
    """The question a sign-out or counter change with a ticket in hand asks."""
    return render_template("console/ticket_in_hand.html", number=err.params.get("number"),
                           action=action, hidden=hidden), 409


@bp.route("/logout", methods=["POST"])
@require(PUBLIC)
def logout():
    """Sign out; the counter closes.  With a ticket in hand the officer is asked
    first whether to finish it or put it back at the head of the queue."""
    p = current_principal()
    if p is not None and p.role == "staff" and p.counter_id:
        choice = _ticket_choice()

        def do(s: Any) -> None:
            c = s.get(m.Counter, p.counter_id)
            if c is not None and c.staff_id == p.user_id:
                e.sign_out_counter(s, c.id, p.user_id, ticket=choice)
        try:
            run_write(do)
        except e.DomainError as err:
            if err.code != "ticket_in_hand":
                raise
            return _ask_about_ticket(err, url_for("console.logout"))
    logout_user()
    session.clear()
    flash(t("You have signed out."), "info")
    return redirect(url_for("console.login"))


@bp.route("/console/counter", methods=["GET", "POST"])
@require("staff", html=True)
def choose_counter():
    """Change counter: the one left closes (a ticket in hand there: asked first);
    a counter another officer holds is refused."""
    p = current_principal()
    with get_db().read() as s:
        counters = counters_for_choice(s, p.office_id)
    if request.method == "POST":
        raw = request.form.get("counter_id", "")
        cid = int(raw) if raw.isdigit() else None
        if cid is None or cid not in {c["id"] for c in counters}:
            flash(t("Choose your counter to sign in."), "error")
        else:
            choice = _ticket_choice()
            try:
                seat = run_write(lambda s: e.sign_in_counter(
                    s, cid, p.user_id, ticket=choice).signed_in_at.isoformat())
            except e.DomainError as err:
                if err.code == "ticket_in_hand":
                    return _ask_about_ticket(err, url_for("console.choose_counter"),
                                             counter_id=cid)
                flash(message_of(err), "error")
            else:
                session["counter_id"], session["seat_at"] = cid, seat
                return redirect(url_for("console.index"))
    elif p.displaced_from is not None:
        flash(message_of(displaced_error(p)), "error")
    return render_template("console/counter.html", counters=counters, current=p.counter_id,
                           me=p.user_id)


@bp.route("/account", methods=["GET", "POST"])
@require("staff", "leader", "admin", html=True)
def account():
    """Change one's own password (the session survives; other sessions end)."""
    p = current_principal()
    if request.method == "POST":
        old, new = request.form.get("old_password", ""), request.form.get("new_password", "")
        if len(new) < MIN_PASSWORD:
            flash(t("The password must have at least 8 characters."), "error")
        elif new != request.form.get("confirm_password", ""):
            flash(t("The two new passwords differ."), "error")
        else:
            def do(s: Any) -> int | None:
                u = s.get(m.User, p.user_id)
                if not verify_password(u.password_hash, old):
                    return None
                u.password_hash = hash_password(new)
                u.session_version += 1
                # the other sessions' open streams end (no screen sees this event)
                e.append_event(s, u.office_id, "session.ended", staff_id=u.id,
                               payload={"reason": "password_changed"})
                return u.session_version
            sv = run_write(do)
            if sv is None:
                flash(t("Wrong username or password."), "error")
            else:
                session["sv"] = sv
                flash(t("Password changed."), "info")
                return redirect(url_for("console.account"))
    return render_template("console/account.html")
