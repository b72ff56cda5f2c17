"""Services (number blocks, prefixes, caps, hours, icons, order) and counters
(which services, with weights)."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import engine as e
from .. import models as m
from ..api import get_db
from ..security import current_principal, require
from . import bp
from .common import Fields, FormError, audit, checkbox, field, form, format_hours, int_field, save
from .validators import check_blocks, service_values, weight

ICONS = ("family", "stamp", "health", "home", "land", "people", "document", "money", "car",
         "school", "tree", "question")


def _services(s: Session, office_id: int) -> list[m.Service]:
    return list(s.scalars(select(m.Service).where(m.Service.office_id == office_id)
                          .order_by(m.Service.sort_order, m.Service.id)))


def apply_service(s: Session, svc: m.Service, office_id: int, f: Fields) -> None:
    """Check one service's fields and its clashes with the office's other services, then
    store them on ``svc`` (the form and the TOML import alike)."""
    values = service_values(f)
    others = [o for o in _services(s, office_id)
              if o is not svc and (svc.id is None or o.id != svc.id)]
    if any(o.code == values["code"] for o in others):
        raise FormError("Another service already uses the code {code}.", code=values["code"])
    for k, v in values.items():
        setattr(svc, k, v)
    check_blocks([svc] + others)


def no_counter(s: Session, office_id: int) -> list[m.Service]:
    """Active services that no active counter serves: kept off the kiosk, shown to the admin."""
    served = set(s.scalars(select(m.CounterService.service_id).join(
        m.Counter, m.Counter.id == m.CounterService.counter_id).where(
        m.Counter.office_id == office_id, m.Counter.active.is_(True))))
    return [sv for sv in _services(s, office_id) if sv.active and sv.id not in served]


def _services_page(s: Session, office_id: int, edit: m.Service | None) -> str:
    return render_template("admin/services.html", services=_services(s, office_id), icons=ICONS,
                           format_hours=format_hours, edit=edit,
                           unserved={sv.id for sv in no_counter(s, office_id)})


@bp.route("/services", methods=["GET", "POST"])
@require("admin", html=True)
def services():
    p = current_principal()
    if request.method == "POST":
        def do(s: Session) -> None:
            svc = m.Service(office_id=p.office_id)
            apply_service(s, svc, p.office_id, form())
            s.add(svc)
            s.flush()
            audit(s, "service_created", service_id=svc.id, code=svc.code, name=svc.name)
        if save(do, "Service saved."):
            return redirect(url_for("admin.services"))
    with get_db().read() as s:
        return _services_page(s, p.office_id, None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@require("admin", html=True)
def service_edit(service_id: int):
    p = current_principal()
    with get_db().read() as s:
        svc = s.get(m.Service, service_id)
        if svc is None or svc.office_id != p.office_id:
            abort(404)
    if request.method == "POST":
        def do(s: Session) -> None:
            row = s.get(m.Service, service_id)
            apply_service(s, row, p.office_id, form())
            audit(s, "service_updated", service_id=row.id, code=row.code, name=row.name,
                  active=row.active)
        if save(do, "Service saved."):
            return redirect(url_for("admin.services"))
    with get_db().read() as s:
        return _services_page(s, p.office_id, svc)


def _counter_rows(s: Session, office_id: int) -> list[dict[str, Any]]:
    names = {sv.id: sv for sv in _services(s, office_id)}
    out = []
    for c in s.scalars(select(m.Counter).where(m.Counter.office_id == office_id)
                       .order_by(m.Counter.number)):
        staff = s.get(m.User, c.staff_id) if c.staff_id else None
        out.append({"c": c, "staff": staff.full_name if staff else "",
                    "services": [(names[cs.service_id].name, cs.weight) for cs in c.services
                                 if cs.service_id in names],
                    "weights": {cs.service_id: cs.weight for cs in c.services}})
    return out


def _counter_from_form(s: Session, c: m.Counter, office_id: int) -> None:

    number = int_field("number", lo=1, hi=999)
    clash = s.scalar(select(m.Counter.id).where(m.Counter.office_id == office_id,
                                                m.Counter.number == number))
    if clash is not None and clash != c.id:
        raise FormError("Counter {number} already exists.", number=number)
    c.number, c.name = number, (field("name") or f"Quầy {number}")[:100]
    c.active = checkbox("active")
    wanted: dict[int, int] = {}
    for svc in _services(s, office_id):
        if request.form.get(f"svc_{svc.id}"):
            wanted[svc.id] = weight(request.form.get(f"weight_{svc.id}", "1"))
    keep = []
    for cs in list(c.services):
        if cs.service_id in wanted:
            cs.weight = wanted.pop(cs.service_id)
            keep.append(cs)
    c.services = keep + [m.CounterService(service_id=sid, weight=w) for sid, w in wanted.items()]


@bp.route("/counters", methods=["GET", "POST"])
@bp.route("/counters/<int:counter_id>", methods=["GET", "POST"])
@require("admin", html=True)
def counters(counter_id: int | None = None):

    p = current_principal()
    edit = None
    if counter_id is not None:
        with get_db().read() as s:
            edit = s.get(m.Counter, counter_id)
            if edit is None or edit.office_id != p.office_id:
                abort(404)
            edit_weights = {cs.service_id: cs.weight for cs in edit.services}
    if request.method == "POST":
        def do(s: Session) -> None:
            c = s.get(m.Counter, counter_id) if counter_id else m.Counter(
                office_id=p.office_id, state="closed")
            _counter_from_form(s, c, p.office_id)
            s.add(c)
            s.flush()
            audit(s, "counter_saved", counter_id=c.id, number=c.number,
                  services={str(cs.service_id): cs.weight for cs in c.services})
        if save(do, "Counter saved."):
            return redirect(url_for("admin.counters"))
    with get_db().read() as s:
        rows, svcs = _counter_rows(s, p.office_id), _services(s, p.office_id)
    return render_template("admin/counters.html", rows=rows, services=svcs, edit=edit,
                           edit_weights=edit_weights if edit else {})


@bp.route("/counters/<int:counter_id>/release", methods=["POST"])
@require("admin", html=True)
def counter_release(counter_id: int):
    """Free a counter an officer left signed in (the browser closed, the officer
    gone home): it closes, its ticket in hand goes back to the head of the queue,
    and that officer's session there ends."""
    p = current_principal()

    def do(s: Session) -> dict[str, Any]:
        c = s.get(m.Counter, counter_id)
        if c is None or c.office_id != p.office_id:
            abort(404)
        staff = s.get(m.User, c.staff_id) if c.staff_id else None
        e.release_counter(s, c.id, p.user_id)
        audit(s, "counter_released", counter_id=c.id, number=c.number,
              staff=staff.full_name if staff else "")
        return {"number": c.number}

    with get_db().read() as s:
        c = s.get(m.Counter, counter_id)
        if c is None or c.office_id != p.office_id:
            abort(404)
        number = c.number
    save(do, "Counter {number} is released.", number=number)
    return redirect(url_for("admin.counters"))
