"""The queue engine: every ticket and counter transition, no HTTP in sight.

Each transition runs inside the caller's write transaction (``db.Tx``, from
``Database.write()``) and emits exactly one event per state change through
it, so the event stream, the audit trail and the statistics all agree with
the tickets.  A refused action raises :class:`DomainError`; the caller's
transaction rolls back and nothing changes.

    issuing        a ticket's number, row and event
    calling        call next, recall, start, complete, no-show, reactivate,
                   transfer, cancel
    queue_order    which waiting ticket a counter calls next
    counter_state  who sits where: sign in and out, release, idle close; pause,
                   resume
    locks          the rows a transition changes, locked in the one order
    estimates      tickets ahead, expected wait, per-service counts
    hours          the office's clock, service day, opening hours
    events         event payloads, emitted through the transaction
    errors         DomainError
"""
from .calling import call_next, cancel, complete, no_show, reactivate, recall, start, transfer
from .counter_state import (TICKET_CHOICES, close_idle_counters, pause, release_counter, requeue,
                            resume, sign_in_counter, sign_out_counter)
from .errors import DomainError, not_found
from .estimates import (average_service_minutes, estimate_wait_minutes, office_queue,
                        open_counters_for, waiting_before)
from .events import (append_event, counter_summary, iso, staff_brief, ticket_summary,
                     transfer_history)
from .hours import (CLOSED_MESSAGES, local_time, service_day, service_open_state, utcnow,
                    within_hours)
from .issuing import Issued, format_number, issue_ticket

__all__ = [
    "CLOSED_MESSAGES", "TICKET_CHOICES", "DomainError", "close_idle_counters",
    "release_counter", "requeue", "Issued", "append_event", "average_service_minutes",
    "call_next", "cancel", "complete", "counter_summary", "estimate_wait_minutes",
    "format_number", "iso", "issue_ticket", "local_time", "no_show", "office_queue",
    "not_found", "open_counters_for", "pause", "reactivate", "recall", "resume",
    "service_day", "service_open_state", "sign_in_counter", "sign_out_counter", "staff_brief",
    "start",
    "ticket_summary", "transfer", "transfer_history", "utcnow", "waiting_before", "within_hours",
]
