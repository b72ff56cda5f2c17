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

from counter_server.client import BACKOFF, ApiClient, ApiError, Event, Follower
from kiosk.printing import PrinterError, PrinterStatus, TicketData

log = logging.getLogger(__name__)

UNREACHABLE, NOT_REGISTERED = "unreachable", "not_registered"


def merge_services(data: dict[str, Any], counts: list[dict[str, Any]]) -> dict[str, Any]:
    """``GET /services`` with an event's ``services`` (the office's new
    waiting counts, expected waits and open states) folded in."""
    by_id = {q["id"]: q for q in counts}
    services = []
    for sv in data.get("services", []):
        q = by_id.get(sv.get("id"))
        if q is not None:
            sv = {**sv, **q}
            if q.get("open"):
                sv["closed_message"] = ""
        services.append(sv)
    return {**data, "services": services}


class ServerLink:
    """Keeps the kiosk's services fresh and tells whether the server is reachable.

    Follows ``/services`` and the event stream with the shared
    :func:`~counter_server.client.follow`: each queue event carries the new
    waiting counts, so the services are fetched only on (re)connect, after
    ``stream.reset``, and by the periodic conditional check (opening hours
    change with the clock, not with events; the server answers 304 when
    nothing changed).
    """

    def __init__(self, client: ApiClient, on_services: Callable[[dict[str, Any]], None],
                 on_online: Callable[[bool, str], None], *, refresh_seconds: float = 30.0,
                 retry_seconds: float = 1.0, stream_read_timeout: float = 40.0,
                 on_event: Callable[[Any], None] | None = None) -> None:
        self.client = client
        self.on_services, self.on_online = on_services, on_online
        self.on_event = on_event  # every event of the stream, on its thread (reprints)
        self.online: bool | None = None
        #: Why the server is not usable: "" (it is), UNREACHABLE or NOT_REGISTERED.
        self.problem = ""
        self.data: dict[str, Any] = {}
        self._shown_id = 0  # the newest event (or snapshot) the services shown reflect
        self.follower = Follower(client, "/services", self._sink, refresh_seconds=refresh_seconds,
                                 read_timeout=stream_read_timeout,
                                 backoff=(retry_seconds,) if retry_seconds else BACKOFF)

    def start(self) -> None:
        self.follower.start()

    def stop(self) -> None:
        self.follower.stop()

    def refresh_now(self) -> None:
        self.follower.refresh_now()

    def _set_online(self, online: bool, problem: str = "") -> None:
        if (online, problem) != (self.online, self.problem):
            self.online, self.problem = online, problem
            self.on_online(online, problem)

    def _sink(self, kind: str, *args: Any) -> None:
        if kind == "status":
            connected, err = args
            if connected:
                self._set_online(True)
            elif err is not None:
                # 401/403: the token is wrong or revoked; retried anyway (an admin
                # may register it meanwhile).
                self._set_online(False, NOT_REGISTERED if err.status in (401, 403)
                                 else UNREACHABLE)
            return
        if kind == "event":
            ev: Event = args[0]
            if self.on_event is not None:
                self.on_event(ev)
            counts = (ev.data.get("payload") or {}).get("services")
            if counts is None or ev.id <= self._shown_id or not self.data:
                return
            self._shown_id = ev.id
            self.data = merge_services(self.data, counts)
        else:  # a snapshot: snapshot, resync, reset or refresh
            self.data = args[0]
            newest = int(self.data.get("last_event_id") or 0)
            self._shown_id = newest if kind == "reset" else max(self._shown_id, newest)
        self.on_services(self.data)
        self._set_online(True)


#: Why the counter tablet cannot do its job ("" when it can).
NO_COUNTER = "no_counter"


def apply_counter_event(view: dict[str, Any], type_: str, data: dict[str, Any]) -> bool:
    """Fold an event into a counter's view (``GET /counters/{id}``) if it is
    about that counter; True when it was."""
    payload = data.get("payload") or {}
    counter, ticket = payload.get("counter") or {}, payload.get("ticket") or {}
    if counter.get("id") != view.get("id"):
        return False
    for key in ("number", "name", "state", "pause_reason", "staff"):
        if key in counter:
            view[key] = counter[key]
    current = counter.get("current_ticket_id")
    if current is None:
        view["current"] = None
    elif ticket.get("id") == current:
        view["current"] = {**(view.get("current") or {}), "ticket_id": current,
                           "display_number": ticket.get("display_number"),
                           "status": ticket.get("status"), "service_id": ticket.get("service_id")}
    return True


class CounterLink:
    """What a counter tablet follows: its counter (officer, state, number in
    hand) and the completions there, through the shared
    :func:`~counter_server.client.follow`.  The tablet is given the counter's
    NUMBER; the API speaks in ids, so the display snapshot resolves it once.

    ``on_counter(view)`` gets the counter's view after every change;
    ``on_completed(event)`` a ticket completed at this counter;
    ``on_config(rating)`` the office's rating set-up, once;
    ``on_problem(online, problem)`` the link's state ("" / UNREACHABLE /
    NOT_REGISTERED / NO_COUNTER).
    """

    def __init__(self, client: ApiClient, counter_number: int, *,
                 on_counter: Callable[[dict[str, Any]], None],
                 on_completed: Callable[[Event], None],
                 on_config: Callable[[dict[str, Any]], None],
                 on_problem: Callable[[bool, str], None], retry_seconds: float = 2.0,
                 refresh_seconds: float | None = 300.0) -> None:
        self.client, self.counter_number = client, counter_number
        self.on_counter, self.on_completed = on_counter, on_completed
        self.on_config, self.on_problem = on_config, on_problem
        self.retry_seconds = retry_seconds
        self.counter_id = 0
        self.view: dict[str, Any] = {}
        self._stop = threading.Event()
        self.follower = Follower(client, lambda: f"/counters/{self.counter_id}", self._sink,
                                 refresh_seconds=refresh_seconds,
                                 backoff=(retry_seconds,))

    def start(self) -> None:
        threading.Thread(target=self._resolve, name="tablet-resolve", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.follower.stop()

    def _resolve(self) -> None:
        while not self._stop.is_set():
            try:
                snap = self.client.display()
                match = [c for c in snap["counters"] if c["number"] == self.counter_number]
                if not match:
                    raise ApiError(404, "counter_not_found", "")
                self.on_config(self.client.services().get("rating") or {})
                self.counter_id = int(match[0]["id"])
                self.follower.start()
                return
            except ApiError as err:
                log.info("tablet: %s", err)
                self.on_problem(False, NOT_REGISTERED if err.status in (401, 403) else
                                NO_COUNTER if err.code == "counter_not_found" else UNREACHABLE)
            except Exception:  # noqa: BLE001 - never let the thread die
                log.exception("tablet: resolving the counter failed")
                self.on_problem(False, UNREACHABLE)
            self._stop.wait(self.retry_seconds)

    def _sink(self, kind: str, *args: Any) -> None:
        if kind == "status":
            connected, err = args
            if connected:
                self.on_problem(True, "")
            elif err is not None:
                self.on_problem(False, NOT_REGISTERED if err.status in (401, 403) else
                                NO_COUNTER if err.status == 404 else UNREACHABLE)
            return
        if kind == "event":
            ev: Event = args[0]
            if not self.view or not apply_counter_event(self.view, ev.type, ev.data):
                return
            self.on_counter(dict(self.view))
            ticket = (ev.data.get("payload") or {}).get("ticket") or {}
            if ev.type == "ticket.completed" and ticket.get("counter_id") == self.counter_id:
                self.on_completed(ev)
            return
        self.view = dict(args[0])
        self.on_counter(dict(self.view))


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
