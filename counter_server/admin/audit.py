"""Who did what, read from the event log (ticket, counter, device and admin events)."""
from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import func, select

from .. import engine as e
from .. import models as m
from ..api import get_db
from ..console import t
from ..security import current_principal, require
from . import bp

PAGE = 100


def describe(ev: m.Event) -> str:
    """A short human summary of the payload (number, counter, admin details)."""
    p: dict[str, Any] = ev.payload or {}
    bits = []
    if p.get("ticket"):
        bits.append(str(p["ticket"].get("display_number", "")))
    if p.get("counter"):
        c = p["counter"]
        bits.append(f"#{c.get('number')} {c.get('state', '')} {c.get('pause_reason', '')}".strip())
    if p.get("action"):
        bits.append(str(p["action"]))
    if p.get("admin"):
        bits.append(", ".join(f"{k}={v}" for k, v in p["admin"].items()))
    if p.get("device"):
        d = p["device"]
        bits.append(f"{d.get('name')}: {d.get('status')} {d.get('message', '')}".strip())
    if p.get("rating"):
        bits.append(f"level={p['rating'].get('level')}")
    return " · ".join(b for b in bits if b)


def label(type_: str) -> str:
    """Vietnamese name of an event type (the raw type when none is known)."""
    text_ = t("event:" + type_)
    return type_ if text_.startswith("event:") else text_


def who_did(ev: m.Event, users: dict, devices: dict[int, str], by_device: dict) -> str:
    """The officer or admin, else the device (a kiosk issuing, a tablet rating)."""
    if ev.staff_id in users:
        return users[ev.staff_id].full_name
    dev = (ev.payload or {}).get("device", {}).get("id") or by_device.get(ev.ticket_id)
    return devices.get(dev, "") if dev else ""


@bp.route("/audit")
@require("admin", html=True)
def audit():
    p = current_principal()
    kind = request.args.get("type", "").strip()
    who = request.args.get("staff", "").strip()
    before = request.args.get("before", "").strip()
    with get_db().read() as s:
        q = select(m.Event).where(m.Event.office_id == p.office_id)
        if kind:
            q = q.where(m.Event.type.startswith(kind))
        if who.isdigit():
            q = q.where(m.Event.staff_id == int(who))
        if before.isdigit():
            q = q.where(m.Event.id < int(before))
        events = list(s.scalars(q.order_by(m.Event.id.desc()).limit(PAGE)))
        users = {u.id: u for u in s.scalars(select(m.User).where(m.User.office_id == p.office_id))}
        types = [r for (r,) in s.execute(select(m.Event.type).where(
            m.Event.office_id == p.office_id).group_by(m.Event.type).order_by(m.Event.type))]
        total = s.scalar(select(func.count()).select_from(m.Event).where(
            m.Event.office_id == p.office_id))
        office = s.get(m.Office, p.office_id)
        devices = {d.id: d.name for d in s.scalars(select(m.Device).where(
            m.Device.office_id == p.office_id))}
        ticket_ids = {ev.ticket_id for ev in events if ev.staff_id is None and ev.ticket_id}
        by_device = {tid: dev for tid, dev in s.execute(
            select(m.Ticket.id, m.Ticket.device_id).where(m.Ticket.id.in_(sorted(ticket_ids))))}
        rows = [{"id": ev.id, "type": ev.type, "label": label(ev.type),
                 "at": e.local_time(office, ev.created_at).strftime("%d/%m/%Y %H:%M:%S"),
                 "who": who_did(ev, users, devices, by_device), "what": describe(ev)}
                for ev in events]
    return render_template("admin/audit.html", rows=rows, types=types, users=users.values(),
                           kind=kind, who=who, total=total,
                           next_before=events[-1].id if len(events) == PAGE else None)
