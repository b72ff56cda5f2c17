"""Optional SMS or Zalo messages "your turn is near" and "you are called", off by default.

A citizen may type a phone number at the kiosk (``POST /api/v1/tickets/<code>/contact``);
it is stored in ``ticket_contact`` for that ticket only and deleted once the
ticket's service day is over.  While ``motcua serve`` runs, a daemon thread
(:class:`SmsWatch`) looks every ``MOTCUA_SMS_CHECK_SECONDS`` (default 3) at the
numbers whose ticket still waits or has just been called, and posts one message
to the office's gateway when the ticket is ``near_alert_places`` from the front
and one when it is called: an HTTP POST of the office's body template to its
webhook address, with a timeout.  The gateway (an SMS provider, a Zalo OA
relay...) is the office's choice.  A failure is logged and kept on the contact
row for the admin settings page; it never touches issuing or the queue (the
thread only reads the queue).  Each message is claimed in the database before
it is sent, so two server processes never send it twice.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import os
import re
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from . import engine as e
from . import models as m
from .db import Database
from .defaults import office_settings
from .i18n import LOCALE_DIR, translator

log = logging.getLogger(__name__)
#: Texts for citizens live in the phone page's catalog (the page says the same).
_ = translator(LOCALE_DIR, "phone")

PLACEHOLDERS = ("phone", "message", "number", "counter", "office")
SAMPLE = {"phone": "0912345678", "message": "Vé 1001: còn 3 người trước ông/bà.",
          "number": "1001", "counter": "1", "office": "UBND xã"}
DEFAULT_TEMPLATE = '{"to": "{phone}", "text": "{message}"}'
TIMEOUT_SECONDS = 5.0
PURGE_EVERY_SECONDS = 60.0
_SLOT = re.compile(r"\{([A-Za-z_]+)\}")
# Vietnamese mobile numbers: 10 digits from 03, 05, 07, 08 or 09 (+84 / 84 accepted).
_MOBILE = re.compile(r"0[35789]\d{8}")
_SEPARATORS = re.compile(r"[\s.\-()]")


def phone_number(raw: str) -> str | None:
    """The number as stored (0xxxxxxxxx), or None if it is not a Vietnamese mobile."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


def masked(phone: str) -> str:
    """What screens show of a number: 091****678."""
    return phone[:3] + "*" * max(0, len(phone) - 6) + phone[-3:]


def fill(template: str, values: dict[str, Any]) -> str:
    """The body: each ``{name}`` replaced by its value escaped for a JSON string."""
    return _SLOT.sub(lambda mt: json.dumps(str(values[mt.group(1)]), ensure_ascii=False)[1:-1],
                     template)


def template_problem(template: str) -> tuple[str, dict[str, str]] | None:
    """Why the body template cannot be used (message id and its values), or None."""
    unknown = [x for x in _SLOT.findall(template) if x not in PLACEHOLDERS]
    if unknown:
        return ("The message template knows only {known}, not “{slot}”.",
                {"known": ", ".join("{" + p + "}" for p in PLACEHOLDERS),
                 "slot": "{" + unknown[0] + "}"})
    if "{phone}" not in template:
        return ("The message template must contain {slot} (the citizen's number).",
                {"slot": "{phone}"})
    try:
        json.loads(fill(template, SAMPLE))
    except ValueError:
        return ("The message template must be JSON once filled in, e.g. "
                "{example}.", {"example": DEFAULT_TEMPLATE})
    return None


def message(kind: str, number: str, ahead: int, counter: Any) -> str:
    if kind == "called":
        return _("Please bring ticket {number} to counter {counter}.").format(
            number=number, counter=counter)
    if ahead == 0:
        return _("Ticket {number}: you are next. Please come close to the counter.").format(
            number=number)
    return _("Ticket {number}: {ahead} people ahead of you. Please come close to the counter."
             ).format(number=number, ahead=ahead)


def post(url: str, body: str, timeout: float) -> None:
    """POST the body; raises OSError (refused, timed out, an HTTP error status)."""
    req = urllib.request.Request(url, data=body.encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8",
                                          "User-Agent": "motcua"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the office's URL
        resp.read(4096)


@dataclass
class Due:
    contact_id: int
    kind: str  # "near" or "called"
    url: str
    body: str


def due_messages(s: Session) -> list[Due]:
    """Messages to send now: one per contact whose ticket is near or called and has not had it."""
    out = []
    rows = s.execute(select(m.TicketContact, m.Ticket)
                     .join(m.Ticket, m.Ticket.id == m.TicketContact.ticket_id)
                     .where(m.TicketContact.called_sent_at.is_(None),
                            m.Ticket.status.in_((m.WAITING, m.CALLED)))).all()
    offices: dict[int, tuple[dict[str, Any], str]] = {}
    for contact, t in rows:
        if t.office_id not in offices:
            office = s.get(m.Office, t.office_id)
            offices[t.office_id] = (office_settings(office.settings), office.name)
        st, office_name = offices[t.office_id]
        if not st["sms_enabled"] or not st["sms_webhook_url"]:
            continue
        counter: Any = ""
        if t.status == m.CALLED:
            kind, ahead = "called", 0
            if t.counter_id is not None:
                counter = s.get(m.Counter, t.counter_id).number
        else:
            near = st["near_alert_places"]
            ahead = e.waiting_before(s, t)
            if contact.near_sent_at is not None or near <= 0 or ahead > near:
                continue
            kind = "near"
        text = message(kind, t.display_number, ahead, counter)
        body = fill(st["sms_body_template"], {
            "phone": contact.phone, "message": text, "number": t.display_number,
            "counter": counter, "office": office_name})
        out.append(Due(contact.id, kind, st["sms_webhook_url"], body))
    return out


class SmsWatch:
    def __init__(self, db: Database, every: float | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.db, self.timeout = db, timeout
        self.every = every or check_seconds()
        self._purged_at = -PURGE_EVERY_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sms-gateway", daemon=True)

    def start(self) -> "SmsWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def tick(self, now: dt.datetime | None = None) -> list[tuple[int, str, str]]:
        """Purge past days, then send what is due: [(contact id, kind, error or "")]."""
        now = now or e.utcnow()
        with self.db.lookup() as conn:  # most offices take no numbers: one small read
            if conn.execute(select(m.TicketContact.id).limit(1)).first() is None:
                return []
        if time.monotonic() - self._purged_at >= PURGE_EVERY_SECONDS:
            purge(self.db, now)
            self._purged_at = time.monotonic()
        with self.db.read() as s:
            due = due_messages(s)
        return [(d.contact_id, d.kind, self._send(d)) for d in due if self._claim(d)]

    def _claim(self, d: Due) -> bool:
        column = m.TicketContact.called_sent_at if d.kind == "called" else \
            m.TicketContact.near_sent_at
        with self.db.write() as tx:
            done = tx.execute(update(m.TicketContact)
                              .where(m.TicketContact.id == d.contact_id, column.is_(None))
                              .values({column: e.utcnow()}))
        return done.rowcount == 1

    def _send(self, d: Due) -> str:
        try:
            post(d.url, d.body, self.timeout)
            return ""
        except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, timed out,
            # an HTTP error status, a bad URL or answer
            error = str(getattr(exc, "reason", None) or exc)[:300]
            log.warning("SMS gateway %s failed for contact %s (%s): %s",
                        d.url, d.contact_id, d.kind, error)
            with self.db.write() as tx:
                tx.execute(update(m.TicketContact).where(m.TicketContact.id == d.contact_id)
                           .values(last_error=error, failed_at=e.utcnow()))
            return error

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - retried on the next tick
                log.exception("SMS gateway check failed")


def purge(db: Database, now: dt.datetime) -> int:
    """Delete the numbers of service days that are over (each office's own calendar)."""
    with db.read() as s:
        oldest = dict(s.execute(select(m.TicketContact.office_id, func.min(m.TicketContact.service_day))
                                .group_by(m.TicketContact.office_id)).all())
        stale = {o.id: e.service_day(o, now) for o in s.scalars(
            select(m.Office).where(m.Office.id.in_(oldest)))}
        stale = {oid: day for oid, day in stale.items() if oldest[oid] < day}
    if not stale:
        return 0
    removed = 0
    with db.write() as tx:
        for oid, day in stale.items():
            removed += tx.execute(delete(m.TicketContact).where(
                m.TicketContact.office_id == oid, m.TicketContact.service_day < day)).rowcount
    if removed:
        log.info("purged %s phone numbers of past service days", removed)
    return removed


def recent_failures(s: Session, office: Any, limit: int = 20) -> list[dict[str, Any]]:
    """Today's gateway failures for the admin page (numbers masked, office time)."""
    rows = s.execute(select(m.TicketContact, m.Ticket.display_number)
                     .join(m.Ticket, m.Ticket.id == m.TicketContact.ticket_id)
                     .where(m.TicketContact.office_id == office.id,
                            m.TicketContact.failed_at.is_not(None))
                     .order_by(m.TicketContact.failed_at.desc()).limit(limit)).all()
    return [{"at": e.local_time(office, c.failed_at).strftime("%H:%M:%S"), "number": number,
             "phone": masked(c.phone), "error": c.last_error} for c, number in rows]


def check_seconds() -> float:
    try:
        return max(0.1, float(os.environ.get("MOTCUA_SMS_CHECK_SECONDS", "3")))
    except ValueError:
        return 3.0
