"""Satisfaction ratings: one counted rating per completed ticket, by its holder.

Every rating names its ticket: a phone by the ticket's secret code, a kiosk
by the code it found from the number and check code printed on the ticket
(:func:`check_code`), a counter tablet by the code of the ticket its own
counter just completed.  A tablet cannot rate a ticket served at another
counter.  Presses that come too fast one after another from the same device
are kept but flagged as misuse (as smiley terminals do) and left out of
reports by default.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from . import models as m
from . import statements as st
from .db import Tx
from .defaults import office_settings
from .engine import DomainError, append_event, ticket_summary, utcnow

MAX_COMMENT = 1000
CHECK_DIGITS = 4


def check_code(ticket_code: str) -> str:
    """The short check code printed on a ticket beside its number: 4 digits
    derived from the ticket's secret code, so only the holder of the paper
    (or of its QR) can name the ticket at the lobby keypad.  Staff answers
    never carry the secret code, so they cannot derive it either."""
    digest = hashlib.sha256(b"motcua-check:" + ticket_code.encode()).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** CHECK_DIGITS:0{CHECK_DIGITS}d}"


def levels_and_reasons(office: m.Office) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    st = office_settings(office.settings)
    return st["rating_levels"], st["rating_reasons"]


def create_rating(s: Tx, office_id: int, *, ticket_code: str | None, level: int,
                  reasons: list[str] | None = None, comment: str = "", channel: str = "web",
                  device_id: int | None = None, client_key: str | None = None,
                  now: dt.datetime | None = None) -> tuple[Any, bool]:
    """Store a rating; returns (its row, created).  ``client_key`` makes a
    device's offline re-send idempotent."""
    now = now or utcnow()
    conn = s.connection()
    if client_key:
        old = conn.execute(st.RATING_BY_KEY, {"b_key": client_key}).first()
        if old is not None:
            return _same_sender(conn, old, office_id, device_id, ticket_code), False
    ticket_code = ticket_code or None
    ctx = conn.execute(st.RATING_CONTEXT, {"b_office": office_id, "b_code": ticket_code,
                                           "b_device": device_id}).first()
    if ctx is None:
        raise DomainError("ticket_not_found", "Ticket not found.", 404)
    settings = office_settings(ctx.office_settings)
    levels, reason_list = settings["rating_levels"], settings["rating_reasons"]
    if level not in {lv["value"] for lv in levels}:
        raise DomainError("unknown_level", "Unknown rating level.", 422)
    reasons = list(dict.fromkeys(reasons or []))
    known = {r["code"] for r in reason_list}
    if any(r not in known for r in reasons):
        raise DomainError("unknown_reason", "Unknown rating reason.", 422)
    if not next(lv for lv in levels if lv["value"] == level).get("low"):
        reasons = []  # reasons explain a low rating; keep reports of low ratings clean
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError("comment_too_long", "The comment is too long.", 422)
    if ticket_code is None:
        # A tablet shows faces only for a ticket its counter completed, so it
        # always names one; a press for "nobody" is not a rating.
        raise DomainError("ticket_code_required", "A ticket code is required.", 422)
    if ctx.id is None:  # no ticket of this office has that code
        raise DomainError("ticket_not_found", "Ticket not found.", 404)
    if ctx.status != m.DONE:
        raise DomainError("not_finished", "This ticket has not been served yet.", 409)
    if channel == "tablet" and (ctx.device_counter_id is None
                                or ctx.counter_id != ctx.device_counter_id):
        raise DomainError("served_elsewhere", "This ticket was served at another counter; "
                          "it can be rated there or on the phone.", 409)

    misuse_reason = ""
    min_gap = dt.timedelta(seconds=settings["rating_min_interval_seconds"])
    if ctx.device_last_at is not None and now - ctx.device_last_at < min_gap:
        misuse_reason = "too_fast"
    if ctx.counted_id is not None:
        if channel == "tablet" and device_id is not None:
            misuse_reason = misuse_reason or "repeat"
        else:
            raise DomainError("already_rated", "This ticket has already been rated.", 409)

    rating = conn.execute(st.RATING_INSERT, {
        "office_id": office_id, "ticket_id": ctx.id, "level": level, "reasons": reasons,
        "comment": comment, "channel": channel, "service_id": ctx.service_id,
        "counter_id": ctx.counter_id, "staff_id": ctx.staff_id, "device_id": device_id,
        "created_at": now, "misuse": bool(misuse_reason), "misuse_reason": misuse_reason,
        "client_key": client_key or None}).one()
    counter = SimpleNamespace(id=ctx.counter_id, number=ctx.counter_number)
    append_event(s, office_id, "rating.created", ticket=ctx, staff_id=rating.staff_id, now=now,
                 payload={"ticket": ticket_summary(s, ctx, counter), "rating": {
                     "id": rating.id, "level": level, "ticket_id": rating.ticket_id,
                     "counter_id": rating.counter_id, "staff_id": rating.staff_id,
                     "misuse": rating.misuse, "channel": channel}})
    return rating, True


def _same_sender(conn: Any, old: Any, office_id: int, device_id: int | None,
                 ticket_code: str | None) -> Any:
    """An idempotent re-send must come from the sender of the first one: a
    client key is not a way to read (or overwrite) somebody else's rating."""
    ticket_id = None
    if ticket_code:
        ticket_id = conn.execute(select(m.Ticket.id).where(m.Ticket.code == ticket_code)).scalar()
    if (old.office_id != office_id or old.device_id != device_id
            or (ticket_code and old.ticket_id != ticket_id)):
        raise DomainError("client_key_conflict", "This client key was used for another rating.",
                          409)
    return old
