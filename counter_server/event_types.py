"""The one list of event types, and which roles' streams carry each.

Every event the server stores has one of these types (``admin.*`` audit
events carry the action after the dot).  Screens and the stream filter use
these names; nothing else spells them out.
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
DEVICE_TYPES = ("device.status",)
#: Staff or an admin asked for a ticket to be printed again: the kiosk named in
#: the payload (``device_id``) fetches the ticket and prints it.
PRINT_TYPES = ("ticket.reprint",)
ADMIN_PREFIX = "admin."

_QUEUE = frozenset(QUEUE_TYPES)
#: Role -> the event types its streams carry (admin: every event).
AUDIENCE: dict[str, frozenset[str]] = {
    "display": _QUEUE,
    "kiosk": _QUEUE | frozenset(PRINT_TYPES),
    "rating": _QUEUE,
    "staff": _QUEUE | frozenset(DEVICE_TYPES),
    "leader": _QUEUE | frozenset(RATING_TYPES) | frozenset(DEVICE_TYPES),
}


def visible_to(role: str, type_: str) -> bool:
    """Whether a stream opened with ``role`` carries an event of ``type_``."""
    if role == "admin":
        return True
    return type_ in AUDIENCE.get(role, frozenset())
