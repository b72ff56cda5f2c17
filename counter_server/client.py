"""HTTP client of the motcua API, shared by the kiosk, the tablet and the display.

Imports nothing heavier than ``requests``: the apps never touch the database.
Errors come back as :class:`ApiError` carrying the server's machine code and
Vietnamese message; a server that cannot be reached is ``ApiError`` with
code ``unreachable`` so the apps can show their reconnecting state.

:func:`follow` is the one way the apps follow the server: a snapshot, then
the event stream (the events carry what the screens show), a snapshot again
only on reconnect, on ``stream.reset`` and on a slow periodic check that the
server answers with 304 when nothing changed.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import requests

from .event_types import RESET_TYPE
from .i18n import _

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    @property
    def unreachable(self) -> bool:
        return self.code in ("unreachable", "timeout")


@dataclass
class Event:
    id: int
    type: str
    data: dict[str, Any] = field(default_factory=dict)


class ApiClient:
    def __init__(self, base_url: str, token: str | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()  # a requests.Session per thread
        self.token = token
        self._snapshots: dict[str, tuple[str, Any]] = {}  # path -> (ETag, body)
        self._snap_lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing
    @property
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            self._local.session = s
        return s

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, *, json_body: Any = None,
                params: dict[str, Any] | None = None, timeout: Any = None) -> Any:
        return self._send(method, path, json_body=json_body, params=params,
                          timeout=timeout)[1]

    def snapshot(self, path: str) -> tuple[Any, bool]:
        """GET a snapshot with ``If-None-Match``: (body, changed).  On 304 the
        body is the one kept from the last 200 and ``changed`` is False."""
        with self._snap_lock:
            tag, body = self._snapshots.get(path, ("", None))
        r, data = self._send("GET", path, headers={"If-None-Match": tag} if tag else None)
        if r.status_code == 304 and body is not None:
            return body, False
        etag = r.headers.get("ETag", "")
        with self._snap_lock:
            if etag:
                self._snapshots[path] = (etag, data)
            else:
                self._snapshots.pop(path, None)
        return data, True

    def _send(self, method: str, path: str, *, json_body: Any = None,
              params: dict[str, Any] | None = None, timeout: Any = None,
              headers: dict[str, str] | None = None) -> tuple[requests.Response, Any]:
        url = f"{self.base_url}/api/v1{path}"
        try:
            r = self.session.request(method, url, json=json_body, params=params,
                                     headers={**self._headers(), **(headers or {})},
                                     timeout=timeout or self.timeout)
        except requests.Timeout as exc:
            raise ApiError(0, "timeout", _("The server is not answering.")) from exc
        except requests.RequestException as exc:
            raise ApiError(0, "unreachable", _("Cannot reach the server.")) from exc
        if r.status_code >= 400:
            try:
                err = r.json()["error"]
                raise ApiError(r.status_code, err.get("code", "error"), err.get("message", ""))
            except (ValueError, KeyError, TypeError):
                raise ApiError(r.status_code, "error", r.text[:200]) from None
        return r, (r.json() if r.content and r.status_code != 304 else None)

    # ------------------------------------------------------------------ endpoints
    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")

    def services(self) -> dict[str, Any]:
        return self.snapshot("/services")[0]

    def issue_ticket(self, service_id: int, priority: str = "",
                     idempotency_key: str | None = None) -> dict[str, Any]:
        """Issue a ticket. Reuse the same ``idempotency_key`` when retrying one
        tap: the server then returns the ticket it already made."""
        body = {"service_id": service_id, "priority": priority,
                "idempotency_key": idempotency_key or uuid.uuid4().hex}
        return self.request("POST", "/tickets", json_body=body)

    def procedures(self) -> dict[str, Any]:
        """The office's whole procedure guide (the kiosk searches it locally)."""
        return self.request("GET", "/procedures")

    def ticket_status(self, code: str) -> dict[str, Any]:
        return self.request("GET", f"/tickets/{code}")

    def display(self) -> dict[str, Any]:
        return self.snapshot("/display")[0]

    def counter(self, counter_id: int) -> dict[str, Any]:
        return self.snapshot(f"/counters/{counter_id}")[0]

    def rate(self, level: int, ticket_code: str | None = None, reasons: list[str] | None = None,
             comment: str = "", client_key: str | None = None,
             pressed_at: str | None = None) -> dict[str, Any]:
        body = {"ticket_code": ticket_code, "level": level, "reasons": reasons or [],
                "comment": comment, "client_key": client_key}
        if pressed_at:
            body["pressed_at"] = pressed_at
        return self.request("POST", "/ratings", json_body=body)

    def report_status(self, status: str, code: str = "", message: str = "") -> dict[str, Any]:
        return self.request("POST", "/device/status",
                            json_body={"status": status, "code": code, "message": message})

    def sign_in(self, username: str, password: str, counter_id: int | None = None) -> dict[str, Any]:
        out = self.request("POST", "/auth/token", json_body={
            "username": username, "password": password, "counter_id": counter_id})
        self.token = out["token"]
        return out

    def counter_action(self, counter_id: int, action: str, **body: Any) -> dict[str, Any]:
        return self.request("POST", f"/counters/{counter_id}/{action}", json_body=body or None)

    def ticket_action(self, ticket_id: int, action: str, **body: Any) -> dict[str, Any]:
        return self.request("POST", f"/tickets/{ticket_id}/{action}", json_body=body or None)

    # ------------------------------------------------------------------ events
    def events(self, last_event_id: int | None = None, read_timeout: float = 40.0,
               stop: threading.Event | None = None) -> Iterator[Event]:
        """Follow the event stream once (no reconnect here: the caller decides).

        Yields events in id order; raises ApiError when the connection fails
        or drops.  ``read_timeout`` must exceed the server's keep-alive period."""
        headers = self._headers()
        headers["Accept"] = "text/event-stream"
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        try:
            r = self.session.get(f"{self.base_url}/api/v1/events", headers=headers, stream=True,
                                 timeout=(self.timeout[0], read_timeout))
        except requests.RequestException as exc:
            raise ApiError(0, "unreachable", _("Cannot reach the server.")) from exc
        with r:
            if r.status_code >= 400:
                raise ApiError(r.status_code, "error", r.text[:200])
            ev_id, ev_type, data, buf = None, "message", [], b""
            try:
                # chunk_size=None: hand over bytes as they arrive, not when a buffer fills.
                for chunk in r.iter_content(chunk_size=None):
                    buf += chunk
                    while b"\n" in buf:
                        raw, buf = buf.split(b"\n", 1)
                        if stop is not None and stop.is_set():
                            return
                        line = raw.decode("utf-8").rstrip("\r")
                        if not line:
                            if data:  # (an event without id: line keeps the last id, as SSE says)
                                yield Event(int(ev_id) if ev_id is not None else
                                            int(last_event_id or 0), ev_type,
                                            json.loads("\n".join(data)))
                            ev_type, data = "message", []
                            continue
                        if line.startswith(":"):
                            continue
                        name, _sep, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if name == "id":
                            ev_id = value
                        elif name == "event":
                            ev_type = value
                        elif name == "data":
                            data.append(value)
            except requests.RequestException as exc:
                raise ApiError(0, "unreachable", _("Connection to the server was lost.")) from exc
        raise ApiError(0, "unreachable", _("Connection to the server was lost."))


# ---------------------------------------------------------------------- follow
BACKOFF = (0.5, 1.0, 2.0, 3.0, 5.0)


class Follower:
    """Follows one snapshot (``path``) and the office's event stream on two
    daemon threads, handing everything over, in order, through
    ``sink(kind, *args)``:

    * ``("snapshot", snap)`` — the first state;
    * ``("resync", snap)`` — after a reconnect, before the events that follow;
    * ``("reset", snap)`` — after ``stream.reset``: the server's events start
      again below what the client had seen (a restored backup); forget it all;
    * ``("refresh", snap)`` — the snapshot changed without an event the
      client follows (the clock crossed opening hours, an administrator's
      change), found by the periodic conditional check (``refresh_seconds``)
      or :meth:`refresh_now`;
    * ``("event", Event)`` — one stream event, in id order;
    * ``("status", connected: bool, error: ApiError | None)``.

    Reconnects with backoff and ``Last-Event-ID``.  With ``replay_missed``
    (the display: it shows and announces missed calls) the stream resumes
    after the last event received; otherwise after the snapshot's
    ``last_event_id``, the snapshot standing for what was missed.
    """

    def __init__(self, client: ApiClient, path: str | Callable[[], str],
                 sink: Callable[..., None], *, replay_missed: bool = False,
                 refresh_seconds: float | None = 30.0, read_timeout: float = 40.0,
                 backoff: tuple[float, ...] = BACKOFF) -> None:
        self.client, self.sink = client, sink
        self._path = path
        self.replay_missed = replay_missed
        self.refresh_seconds, self.read_timeout, self.backoff = refresh_seconds, read_timeout, backoff
        self.last_event_id: int | None = None
        self.connected = False
        self.reconnects = 0
        self._stop = threading.Event()
        self._conn_stop = threading.Event()
        self._hold = threading.Event()  # tests: keep the client away until released
        self._refresh = threading.Event()
        self._lock = threading.Lock()  # one snapshot handed over at a time, in order
        self._threads = [threading.Thread(target=self._follow, name="motcua-follow", daemon=True),
                         threading.Thread(target=self._refresher, name="motcua-refresh",
                                          daemon=True)]

    @property
    def path(self) -> str:
        return self._path() if callable(self._path) else self._path

    # ------------------------------------------------------------- control
    def start(self) -> "Follower":
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._conn_stop.set()
        self._hold.clear()
        self._refresh.set()

    def drop(self) -> None:
        """Close the current stream connection (as a flaky network would); it reconnects."""
        self._conn_stop.set()

    def hold(self, on: bool) -> None:
        """While held, a dropped client does not reconnect (lets tests act while it is away)."""
        if on:
            self._hold.set()
        else:
            self._hold.clear()

    def refresh_now(self) -> None:
        """Check the snapshot soon (a 304 when nothing changed)."""
        self._refresh.set()

    # ------------------------------------------------------------- threads
    def _status(self, connected: bool, error: ApiError | None = None) -> None:
        if connected != self.connected or error is not None:
            self.connected = connected
            self.sink("status", connected, error)

    def _take_snapshot(self, kind: str) -> None:
        with self._lock:
            snap, changed = self.client.snapshot(self.path)
            if kind == "refresh" and not changed:
                return
            newest = int(snap.get("last_event_id") or 0)
            if kind == "reset" or self.last_event_id is None:
                self.last_event_id = newest
            elif not self.replay_missed:
                self.last_event_id = max(self.last_event_id, newest)
            self.sink(kind, snap)

    def _follow(self) -> None:
        failures = 0
        while not self._stop.is_set():
            while self._hold.is_set() and not self._stop.is_set():
                self._stop.wait(0.05)
            try:
                if self.last_event_id is None:
                    self._take_snapshot("snapshot")
                else:
                    self.reconnects += 1
                    self._take_snapshot("resync")
                self._conn_stop.clear()
                self._status(True)
                failures = 0
                for ev in self.client.events(self.last_event_id, read_timeout=self.read_timeout,
                                             stop=self._conn_stop):
                    if ev.type == RESET_TYPE:
                        self._take_snapshot("reset")
                        continue
                    with self._lock:
                        self.last_event_id = ev.id
                        self.sink("event", ev)
                    if self._conn_stop.is_set():
                        break
                if self._stop.is_set():
                    return
                self._status(False)  # dropped on purpose (drop()) or closed by the server
            except ApiError as exc:
                self._status(False, exc)
                log.info("following %s: %s", self.path, exc)
            except Exception as exc:  # noqa: BLE001 - never let the follower thread die
                self._status(False, ApiError(0, "error", str(exc)))
                log.exception("following %s failed", self.path)
            if self._stop.is_set():
                return
            self._stop.wait(self.backoff[min(failures, len(self.backoff) - 1)])
            failures += 1

    def _refresher(self) -> None:
        while not self._stop.is_set():
            self._refresh.wait(self.refresh_seconds)
            self._refresh.clear()
            if self._stop.is_set():
                return
            if self.last_event_id is None or not self.connected:
                continue  # the stream's thread takes the snapshot when it (re)connects
            try:
                self._take_snapshot("refresh")
            except ApiError as exc:
                log.info("refreshing %s: %s", self.path, exc)
            except Exception:  # noqa: BLE001
                log.exception("refreshing %s failed", self.path)


def follow(client: ApiClient, path: str | Callable[[], str], sink: Callable[..., None],
           **options: Any) -> Follower:
    """Start following ``path`` and the event stream (see :class:`Follower`)."""
    return Follower(client, path, sink, **options).start()
