"""Background work of the lobby kiosk: server link, ticket issuing, printer care.

Nothing here touches Kivy: each worker reports through plain callbacks, which
the app wraps so they run on the UI thread.  A slow or absent server or
printer therefore never freezes the screen a citizen is looking at.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from counter_server.client import ApiClient, ApiError
from kiosk.printing import PrinterError, PrinterStatus, TicketData

log = logging.getLogger(__name__)

#: Events after which the people-waiting figures or open states may have changed.
REFRESH_EVENTS = frozenset({
    "ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.completed",
    "ticket.no_show", "ticket.transferred", "ticket.cancelled", "ticket.reactivated",
    "counter.updated",
})


UNREACHABLE, NOT_REGISTERED = "unreachable", "not_registered"


class ServerLink:
    """Keeps the services snapshot fresh and tells whether the server is reachable.

    Two daemon threads: the *refresher* fetches ``/services`` when woken (by an
    event, a lost stream, or its periodic timer — opening hours change with the
    clock, not with events); the *stream* follows ``/events`` and wakes it.
    """

    def __init__(self, client: ApiClient, on_services: Callable[[dict[str, Any]], None],
                 on_online: Callable[[bool, str], None], *, refresh_seconds: float = 30.0,
                 retry_seconds: float = 1.0, stream_read_timeout: float = 40.0) -> None:
        self.client = client
        self.on_services, self.on_online = on_services, on_online
        self.refresh_seconds, self.retry_seconds = refresh_seconds, retry_seconds
        self.stream_read_timeout = stream_read_timeout
        self.online: bool | None = None
        #: Why the server is not usable: "" (it is), UNREACHABLE or NOT_REGISTERED.
        self.problem = ""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, target in (("kiosk-refresh", self._refresh_loop), ("kiosk-events", self._stream_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def refresh_now(self) -> None:
        self._wake.set()

    def _set_online(self, online: bool, problem: str = "") -> None:
        if (online, problem) != (self.online, self.problem):
            self.online, self.problem = online, problem
            self.on_online(online, problem)

    def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                data = self.client.services()
            except ApiError as err:
                log.info("services refresh failed: %s", err)
                # 401/403: the token is wrong or revoked; retrying will not fix it by itself
                # (still retried: an admin may register the token meanwhile).
                self._set_online(False, NOT_REGISTERED if err.status in (401, 403)
                                 else UNREACHABLE)
                self._wake.wait(self.retry_seconds)
                continue
            except Exception:  # noqa: BLE001 - a malformed answer must not kill the kiosk
                log.exception("services refresh failed")
                self._set_online(False, UNREACHABLE)
                self._wake.wait(self.retry_seconds)
                continue
            self.on_services(data)
            self._set_online(True)
            self._wake.wait(self.refresh_seconds)

    def _stream_loop(self) -> None:
        last_id: int | None = None
        while not self._stop.is_set():
            try:
                for event in self.client.events(last_id, read_timeout=self.stream_read_timeout,
                                                stop=self._stop):
                    last_id = event.id
                    if event.type in REFRESH_EVENTS:
                        self._wake.set()
            except ApiError as err:
                log.info("event stream: %s", err)
            except Exception:  # noqa: BLE001
                log.exception("event stream failed")
            if self._stop.is_set():
                return
            self._wake.set()  # the refresher finds out whether the server is still there
            self._stop.wait(self.retry_seconds)


class TicketIssuer:
    """Issues one ticket per tap, whatever happens to the network in between.

    Each tap gets one idempotency key, reused for every retry of that tap: a
    time-out or a lost answer is retried until the server answers, and the
    server hands back the ticket it already made instead of a second one.
    While a tap is in flight, further taps are refused (``issue`` -> False).
    """

    def __init__(self, client: ApiClient, *, retry_seconds: float = 1.0,
                 give_up_seconds: float = 60.0) -> None:
        self.client = client
        self.retry_seconds, self.give_up_seconds = retry_seconds, give_up_seconds
        self._lock = threading.Lock()
        self._busy = False
        # One long-lived thread: its HTTP session (and connection) is reused tap after tap.
        self._jobs: queue.Queue[tuple[Any, ...]] = queue.Queue()
        threading.Thread(target=self._worker, name="kiosk-issue", daemon=True).start()

    @property
    def busy(self) -> bool:
        return self._busy

    def issue(self, service_id: int, priority: str, on_done: Callable[[dict[str, Any]], None],
              on_error: Callable[[ApiError], None],
              on_retrying: Callable[[bool], None] = lambda _retrying: None) -> bool:
        with self._lock:
            if self._busy:
                return False
            self._busy = True
        self._jobs.put((service_id, priority, uuid.uuid4().hex, on_done, on_error, on_retrying))
        return True

    def _worker(self) -> None:
        while True:
            self._run(*self._jobs.get())

    def _run(self, service_id: int, priority: str, key: str, on_done: Callable, on_error: Callable,
             on_retrying: Callable[[bool], None]) -> None:
        deadline = time.monotonic() + self.give_up_seconds
        retrying = False
        try:
            while True:
                try:
                    ticket = self.client.issue_ticket(service_id, priority, idempotency_key=key)
                except ApiError as err:
                    if err.unreachable and time.monotonic() < deadline:
                        if not retrying:
                            retrying = True
                            on_retrying(True)
                        time.sleep(self.retry_seconds)
                        continue
                    if retrying:
                        on_retrying(False)
                    on_error(err)
                    return
                if retrying:
                    on_retrying(False)
                on_done(ticket)
                return
        finally:
            with self._lock:
                self._busy = False


@dataclass(frozen=True)
class PrinterState:
    ok: bool
    code: str
    message: str


class PrintSupervisor:
    """Prints tickets one by one and watches the printer between jobs.

    The ticket already exists on the server when it reaches the printer, so a
    failure only changes what the screen says and what the admin sees: the
    state goes to ``on_state`` and to the server (``device.status``), and a
    periodic :meth:`TicketPrinter.check` notices when the printer is back.
    """

    def __init__(self, printer: Any, client: ApiClient,
                 on_state: Callable[[PrinterState], None], *, check_seconds: float = 10.0,
                 healthy_check_seconds: float = 60.0) -> None:
        self.printer, self.client, self.on_state = printer, client, on_state
        self.check_seconds, self.healthy_check_seconds = check_seconds, healthy_check_seconds
        self.state: PrinterState | None = None
        self._reported: PrinterState | None = None
        self._jobs: queue.Queue[tuple[TicketData, Callable[[PrinterState], None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="kiosk-printer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._jobs.put(None)

    def submit(self, ticket: TicketData | tuple[Callable[[int], Any], str],
               on_result: Callable[[PrinterState], None]) -> None:
        """A ticket, or (draw(width_dots) -> picture, preview file stem)."""
        self._jobs.put((ticket, on_result))

    def _loop(self) -> None:
        self._apply(self._status_state(self.printer.check()))
        last_check = time.monotonic()
        while True:
            wait = self.check_seconds if not (self.state and self.state.ok) else self.healthy_check_seconds
            try:
                job = self._jobs.get(timeout=max(0.05, wait - (time.monotonic() - last_check)))
            except queue.Empty:
                self._apply(self._status_state(self.printer.check()))
                last_check = time.monotonic()
                continue
            if job is None:
                return
            ticket, on_result = job
            try:
                if isinstance(ticket, TicketData):
                    self.printer.print_ticket(ticket)
                else:  # another picture for the ticket printer (kiosk.checklist)
                    self.printer.print_picture(*ticket)
                state = PrinterState(True, "ok", "")
            except PrinterError as err:
                state = PrinterState(False, err.code, err.message)
            except Exception as exc:  # noqa: BLE001 - a printing bug must not stop the kiosk
                log.exception("printing failed")
                err = PrinterError("printer_error", repr(exc))
                state = PrinterState(False, err.code, err.message)
            self._apply(state)
            on_result(state)
            last_check = time.monotonic()

    @staticmethod
    def _status_state(status: PrinterStatus) -> PrinterState:
        return PrinterState(status.ok, status.code, "" if status.ok else status.message)

    def _apply(self, state: PrinterState) -> None:
        """Remember ``state``; tell the screen when it changed and the server until it knows."""
        changed = self.state is None or self.state.ok != state.ok or self.state.code != state.code
        self.state = state
        if changed:
            self.on_state(state)
        if self._reported != state:
            try:
                if state.ok:
                    self.client.report_status("warning" if state.code == "paper_low" else "ok",
                                              "" if state.code == "ok" else state.code, "")
                else:
                    self.client.report_status("error", state.code, state.message)
                self._reported = state
            except ApiError as err:  # server away: report again after the next check
                log.info("could not report printer state: %s", err)
