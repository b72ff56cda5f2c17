"""Printing a ticket again when an officer or administrator asks for it.

The server emits ``ticket.reprint`` naming one kiosk; every kiosk of the
office sees the event and asks for the ticket (``GET
/api/v1/tickets/{id}/print``), which the server answers only to the kiosk it
named (the others get 404 and print nothing).  The ticket is then printed
like a new one, through the same printer queue.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Callable

from counter_server.client import ApiClient, ApiError, Event

log = logging.getLogger(__name__)

REPRINT_EVENT = "ticket.reprint"


class Reprinter:
    """Fetches the tickets to print again off the stream thread and hands
    each to ``print_ticket`` (the app builds and queues the print)."""

    def __init__(self, client: ApiClient, print_ticket: Callable[[dict[str, Any]], None]) -> None:
        self.client, self.print_ticket = client, print_ticket
        self._jobs: queue.Queue[int] = queue.Queue()
        threading.Thread(target=self._worker, name="kiosk-reprint", daemon=True).start()

    def on_event(self, event: Event) -> None:
        """For ServerLink: called on the stream thread for every event."""
        if event.type != REPRINT_EVENT:
            return
        ticket_id = event.data.get("ticket_id") or (event.data.get("payload", {})
                                                    .get("ticket", {}).get("id"))
        if isinstance(ticket_id, int):
            self._jobs.put(ticket_id)

    def fetch(self, ticket_id: int) -> dict[str, Any] | None:
        """The ticket with its code if this kiosk is the one asked to print it."""
        try:
            return self.client.request("GET", f"/tickets/{ticket_id}/print")
        except ApiError as err:
            if err.status != 404:  # 404: another kiosk of the office prints it
                log.warning("ticket %s to print again: %s", ticket_id, err)
            return None

    def _worker(self) -> None:
        while True:
            ticket = self.fetch(self._jobs.get())
            if ticket is not None:
                self.print_ticket(ticket)
