"""The set-up checklist and the backup status (``/admin/setup``).

A new office has no services, counters, staff or devices, and a kiosk with
nothing to show looks broken.  Until all four exist, the admin home page
opens this checklist instead, with one-click defaults (the commune services
of DOMAIN.md, counters serving them), each editable afterwards.  The same
page reports the backups: folder missing, not writable or full, the last
automatic backup failed or is too old; the admin menu marks it while
something needs attention.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .. import backup as b
from .. import engine as e
from .. import models as m
from ..api import get_db
from ..defaults import DEMO_SERVICES
from ..security import current_principal, require
from . import bp
from .common import FormError, audit, int_field, save

MAX_DEFAULT_COUNTERS = 20


@dataclass
class Step:
    key: str
    title: str  # msgid
    done: bool
    detail: str  # msgid with {n}
    count: int
    endpoint: str


def steps(s: Session, office_id: int) -> list[Step]:
    def count(model: Any, *where: Any) -> int:
        return s.scalar(select(func.count()).select_from(model).where(
            model.office_id == office_id, *where)) or 0

    services = count(m.Service, m.Service.active.is_(True))
    counters = s.scalar(select(func.count(func.distinct(m.Counter.id))).select_from(m.Counter).join(
        m.CounterService, m.CounterService.counter_id == m.Counter.id).where(
        m.Counter.office_id == office_id, m.Counter.active.is_(True))) or 0
    staff = count(m.User, m.User.active.is_(True), m.User.role == "staff")
    devices = count(m.Device, m.Device.revoked.is_(False))
    return [
        Step("services", "Services (lĩnh vực) citizens choose on the kiosk", services > 0,
             "{n} active services", services, "admin.services"),
        Step("counters", "Counters, each serving at least one service", counters > 0,
             "{n} counters with services", counters, "admin.counters"),
        Step("staff", "Staff accounts for the officers at the counters", staff > 0,
             "{n} staff accounts", staff, "admin.users"),
        Step("devices", "Devices: the lobby kiosk, the TV, the counter tablets", devices > 0,
             "{n} devices", devices, "admin.devices"),
    ]


def setup_complete(s: Session, office_id: int) -> bool:
    return all(step.done for step in steps(s, office_id))


def _db_file() -> Path | None:
    u = make_url(current_app.config["DATABASE_URL"])
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def backup_state(office: m.Office) -> dict[str, Any]:
    """What the backup card shows: settings, problems, the newest backups."""
    db_file = _db_file()
    if db_file is None:
        return {"postgres": True}
    try:
        settings = b.BackupSettings.from_env(Path(current_app.config["INSTANCE_DIR"]))
    except b.BackupError as exc:
        return {"postgres": False, "settings": None, "problems": [exc.text()], "recent": []}
    now = e.local_time(office, e.utcnow()).replace(tzinfo=None)
    found = b.backups(settings.folder)
    return {"postgres": False, "settings": settings,
            "problems": [p.text() for p in b.problems(settings, db_file, now)],
            "recent": [(when.strftime("%d/%m/%Y %H:%M"), reason, path.name,
                        b.human_bytes(path.stat().st_size)) for when, reason, path in found[-5:][::-1]],
            "status": b.read_status(settings)}


@bp.before_request
def _checklist_first():
    """The admin home opens on the checklist until the office is set up."""
    if request.endpoint != "admin.index" or request.args.get("overview"):
        return None
    p = current_principal()
    if p is None or p.role != "admin":
        return None  # the view refuses it as usual
    with get_db().read() as s:
        if setup_complete(s, p.office_id):
            return None
    return redirect(url_for("admin.setup"))


@bp.context_processor
def _setup_alert() -> dict[str, Any]:
    """``setup_alert``: the admin menu marks the checklist while it needs attention."""
    def alert() -> bool:
        p = current_principal()
        if p is None or p.role != "admin" or not (request.endpoint or "").startswith("admin."):
            return False
        with get_db().read() as s:
            office = s.get(m.Office, p.office_id)
            if not setup_complete(s, p.office_id):
                return True
        return bool(backup_state(office).get("problems"))
    return {"setup_alert": alert}


@bp.route("/setup")
@require("admin", html=True)
def setup():
    p = current_principal()
    with get_db().read() as s:
        office = s.get(m.Office, p.office_id)
        items = steps(s, p.office_id)
        codes = set(s.scalars(select(m.Service.code).where(m.Service.office_id == p.office_id)))
        service_count = len(codes)
        office_info = {"name": office.name, "timezone": office.timezone}
        backups_info = backup_state(office)
    missing_defaults = [(code, name) for code, name, _icon, _start in DEMO_SERVICES if code not in codes]
    return render_template("admin/setup.html", steps=items, office=office_info,
                           complete=all(i.done for i in items), missing_defaults=missing_defaults,
                           service_count=service_count, backups=backups_info,
                           max_counters=MAX_DEFAULT_COUNTERS)


@bp.route("/setup/default-services", methods=["POST"])
@require("admin", html=True)
def setup_default_services():
    p = current_principal()

    def do(s: Session) -> None:
        existing = {svc.code: svc for svc in s.scalars(
            select(m.Service).where(m.Service.office_id == p.office_id))}
        order = len(existing)
        made = []
        for code, name, icon, start in DEMO_SERVICES:
            if code in existing:
                continue
            s.add(m.Service(office_id=p.office_id, code=code, name=name, icon=icon,
                            number_start=start, number_end=start + 998, sort_order=order))
            order += 1
            made.append(code)
        if not made:
            raise FormError("The default services exist already.")
        s.flush()
        audit(s, "service_created", codes=made, via="setup")
    save(do, "Default services created: edit them under Services.")
    return redirect(url_for("admin.setup"))


@bp.route("/setup/default-counters", methods=["POST"])
@require("admin", html=True)
def setup_default_counters():
    p = current_principal()

    def do(s: Session) -> None:
        wanted = int_field("counters", lo=1, hi=MAX_DEFAULT_COUNTERS)
        services = list(s.scalars(select(m.Service.id).where(
            m.Service.office_id == p.office_id, m.Service.active.is_(True))))
        if not services:
            raise FormError("Create the services first.")
        taken = set(s.scalars(select(m.Counter.number).where(m.Counter.office_id == p.office_id)))
        number, made = 1, []
        while len(made) < wanted:
            if number not in taken:
                c = m.Counter(office_id=p.office_id, number=number, name=f"Quầy {number}",
                              state="closed")
                c.services = [m.CounterService(service_id=sid, weight=1) for sid in services]
                s.add(c)
                made.append(number)
            number += 1
        s.flush()
        audit(s, "counter_created", numbers=made, via="setup")
    save(do, "Counters created, each serving every service: edit them under Counters.")
    return redirect(url_for("admin.setup"))
