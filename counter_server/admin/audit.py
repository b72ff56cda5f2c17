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


#: One sentence per event (English msgids; ``{number}`` the ticket, ``{counter}`` the counter).
TICKET_SENTENCES = {
    "ticket.issued": "Ticket {number} issued.",
    "ticket.called": "Ticket {number} called to counter {counter}.",
    "ticket.recalled": "Ticket {number} called again to counter {counter}.",
    "ticket.started": "Counter {counter} started serving ticket {number}.",
    "ticket.completed": "Ticket {number} done at counter {counter}.",
    "ticket.no_show": "Ticket {number} did not come to counter {counter}.",
    "ticket.transferred": "Ticket {number} transferred from counter {counter}.",
    "ticket.cancelled": "Ticket {number} cancelled.",
    "ticket.reactivated": "Ticket {number} back in the queue.",
    "ticket.requeued": "Ticket {number} put back at the head of the queue from counter {counter}.",
    "ticket.reprint": "Ticket {number} sent to the kiosk to print again.",
}
COUNTER_SENTENCES = {
    "signed_in": "Counter {counter} opened: officer signed in.",
    "signed_out": "Counter {counter} closed: officer signed out.",
    "moved": "Counter {counter} closed: its officer signed in at another counter.",
    "released": "Counter {counter} closed: released by an administrator.",
    "timed_out": "Counter {counter} closed: its console was gone too long.",
    "paused": "Counter {counter} paused.",
    "resumed": "Counter {counter} open again.",
    "": "Counter {counter} is now {state}.",
}
ADMIN_SENTENCES = {
    "service_created": "Service {code} – {name} created.",
    "service_updated": "Service {code} – {name} changed.",
    "counter_saved": "Counter {number} saved.",
    "counter_released": "Counter {number} released (officer: {staff}).",
    "user_created": "Account {username} created ({role}).",
    "user_updated": "Account {username} changed ({role}).",
    "user_password_reset": "Password of account {username} reset.",
    "user_deactivated": "Account {username} deactivated.",
    "user_activated": "Account {username} activated again.",
    "user_photo": "New photo for account {username}.",
    "device_created": "Device {name} ({kind}) added.",
    "device_revoked": "Token of device {name} ({kind}) revoked.",
    "settings_updated": "Office settings saved.",
    "config_imported": "Configuration file imported: {services} services, {counters} counters, "
                       "{users} accounts.",
    "procedure_saved": "Procedure “{name}” saved.",
    "procedure_deleted": "Procedure “{name}” deleted.",
    "procedures_imported": "Procedures imported from a spreadsheet: {created} new, {updated} "
                           "updated, {refused} rows refused.",
}
SESSION_SENTENCES = {
    "signed_out": "Signed out: the sign-in token no longer works.",
    "password_changed": "Own password changed: the account's other sessions ended.",
}
STATES = {"open": "Open", "paused": "Paused", "closed": "Closed"}


def _say(message: str, **params: Any) -> str:
    return t(message).format(**params)


def describe(ev: m.Event) -> str:
    """The event as a sentence for the admin; details without a sentence as "key: value"."""
    p: dict[str, Any] = ev.payload or {}
    ticket, counter = p.get("ticket") or {}, p.get("counter") or {}
    number = ticket.get("display_number", "")
    where = counter.get("number") or ticket.get("counter_number") or "—"
    bits = []
    if ev.type in TICKET_SENTENCES:
        bits.append(_say(TICKET_SENTENCES[ev.type], number=number, counter=where))
    elif ev.type == "counter.updated":
        action = str(p.get("action") or "")
        state = t(STATES.get(counter.get("state", ""), counter.get("state", "")))
        bits.append(_say(COUNTER_SENTENCES.get(action, COUNTER_SENTENCES[""]),
                         counter=where, state=state.lower()))
        if counter.get("state") == "paused" and counter.get("pause_reason"):
            bits.append(_say("Reason: {reason}", reason=counter["pause_reason"]))
    elif ev.type == "rating.created":
        r = p.get("rating") or {}
        bits.append(_say("Rating {level} for ticket {number}.", level=r.get("level"),
                         number=number or "—") if number else
                    _say("Rating {level} with no ticket.", level=r.get("level")))
        if r.get("misuse"):
            bits.append(t("Flagged as misuse, left out of reports."))
    elif ev.type == "device.status":
        d = p.get("device") or {}
        status = d.get("status", "")
        bits.append(_say("Device {name} reports: {status}.", name=d.get("name", ""),
                         status=t("status_" + status) if status in (
                             "ok", "error", "unknown", "warning") else status))
        if d.get("message"):
            bits.append(str(d["message"]))
    elif ev.type == "session.ended":
        reason = str(p.get("reason") or "")
        if reason in SESSION_SENTENCES:
            bits.append(t(SESSION_SENTENCES[reason]))
    elif ev.type.startswith("admin."):
        bits.append(_admin_sentence(ev.type.split(".", 1)[1], p.get("admin") or {}))
    elif number or counter:
        bits.append(" ".join(str(x) for x in (number, counter.get("number") or "") if x))
    return " ".join(b for b in bits if b)


def _admin_sentence(action: str, details: dict[str, Any]) -> str:
    values = dict(details)
    if "role" in values:
        values["role"] = t("role_" + str(values["role"]))
    if "kind" in values:
        values["kind"] = t("device_" + str(values["kind"]))
    sentence = ADMIN_SENTENCES.get(action)
    if sentence is not None:
        try:
            text_ = t(sentence).format(**values)
        except (KeyError, IndexError):
            sentence = None
        else:
            if action == "service_updated" and details.get("active") is False:
                text_ += " " + t("It is inactive (not on the kiosk).")
            return text_
    return "; ".join(f"{k}: {v}" for k, v in details.items() if not k.endswith("_id"))


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
