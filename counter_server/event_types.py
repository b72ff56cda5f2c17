"""The one list of event types, their payloads, and which roles' streams carry each.

Every event the server stores has one of these types (``admin.*`` audit
events carry the action after the dot).  Screens and the stream filter use
these names; nothing else spells them out: the Python clients import this
module and the web pages get :func:`for_web` embedded as JSON.
"""
from __future__ import annotations

#: A ticket changed: its payload holds the ticket as screens show it.
TICKET_TYPES = (
    "ticket.issued", "ticket.called", "ticket.recalled", "ticket.started",
    "ticket.completed", "ticket.no_show", "ticket.transferred", "ticket.cancelled",
    "ticket.reactivated", "ticket.requeued",
)
#: Calls the lobby announces.
CALL_TYPES = ("ticket.called", "ticket.recalled")
COUNTER_TYPES = ("counter.updated",)
#: Everything that changes the queue, the counters or the waiting counts.
QUEUE_TYPES = TICKET_TYPES + COUNTER_TYPES
RATING_TYPES = ("rating.created",)
#: Sent by the stream itself, never stored: ``Last-Event-ID`` was ahead of the
#: newest event (a restored backup); the stream goes on from the newest, and a
#: client throws away what it knew and fetches a fresh snapshot.
RESET_TYPE = "stream.reset"
#: A ticket's status once it has left its counter (the counter no longer shows it).
ENDED_STATUSES = ("done", "no_show", "cancelled", "transferred", "waiting")
DEVICE_TYPES = ("device.status",)
#: Staff or an admin asked for a ticket to be printed again: the kiosk named in
#: the payload (``device_id``) fetches the ticket and prints it.
PRINT_TYPES = ("ticket.reprint",)
ADMIN_PREFIX = "admin."
#: Stored, never carried by a stream (not even an admin's): a sign-in ended
#: where nothing else says so (a token signed out, one's own password
#: changed).  The payload's ``reason`` says which.
INTERNAL_TYPES = ("session.ended",)

_QUEUE = frozenset(QUEUE_TYPES)
#: Role -> the event types its streams carry (admin: every event but the
#: internal ones).
AUDIENCE: dict[str, frozenset[str]] = {
    "display": _QUEUE,
    "kiosk": _QUEUE | frozenset(PRINT_TYPES),
    "rating": _QUEUE,
    "staff": _QUEUE | frozenset(DEVICE_TYPES),
    "leader": _QUEUE | frozenset(RATING_TYPES) | frozenset(DEVICE_TYPES),
}


#: What each event's ``payload`` holds (besides the event's own id, type,
#: ticket_id, counter_id, staff_id and created_at).  Never a ticket's code.
#:
#: ``ticket``   id, number, display_number, service_id, status, priority_class,
#:              counter_id, counter_number, target_counter_id, recall_count,
#:              issued_at, called_at, started_at, finished_at, transfers (the
#:              transfer chain with names: at, from_service, from_counter,
#:              to_service, to_counter, by; [] for a ticket never transferred,
#:              so nothing is read for it).  The consoles keep their waiting
#:              and no-show lists, the ticket in hand and the officer's
#:              figures from these fields (static/console/console.js).
#: ``counter``  id, number, name, state, pause_reason, staff_id,
#:              current_ticket_id, staff ({id, full_name, photo_url} or null)
#: ``services`` every active service of the office after the change:
#:              id, waiting, estimated_wait_minutes, open, closed_reason,
#:              issued_today (what the kiosk and the display show)
PAYLOADS: dict[str, tuple[str, ...]] = {
    **{t: ("ticket", "services") for t in TICKET_TYPES},
    **{t: ("ticket", "counter", "services") for t in TICKET_TYPES if t != "ticket.issued"},
    "ticket.transferred": ("ticket", "counter", "services", "transfer"),
    "counter.updated": ("counter", "services", "action"),
    "rating.created": ("ticket", "counter", "rating"),
    "device.status": ("device",),
    "session.ended": ("reason",),
}


def for_web() -> dict[str, object]:
    """The same definitions for the web pages (embedded in them as JSON)."""
    return {"ticket": list(TICKET_TYPES), "call": list(CALL_TYPES),
            "counter": list(COUNTER_TYPES), "queue": list(QUEUE_TYPES),
            "rating": list(RATING_TYPES), "device": list(DEVICE_TYPES),
            "reset": RESET_TYPE, "ended": list(ENDED_STATUSES)}


def visible_to(role: str, type_: str) -> bool:
    """Whether a stream opened with ``role`` carries an event of ``type_``."""
    if type_ in INTERNAL_TYPES:
        return False
    if role == "admin":
        return True
    return type_ in AUDIENCE.get(role, frozenset())


def ends_access(type_: str) -> bool:
    """Whether an event of ``type_`` may end someone's access, so the
    office's open streams check their credentials again: an admin action (a
    device revoked, an account reset, deactivated or changed), a counter's
    officer changing (signed out, moved, released, timed out: the old
    session is displaced), or an internal ``session.ended``."""
    return type_.startswith(ADMIN_PREFIX) or type_ in COUNTER_TYPES or type_ in INTERNAL_TYPES
