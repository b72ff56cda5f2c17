"""HTTP client of the motcua API, shared by the kiosk and the display.

Imports nothing heavier than ``requests``: the apps never touch the database.
Errors come back as :class:`ApiError` carrying the server's machine code and
Vietnamese message; a server that cannot be reached is ``ApiError`` with
code ``unreachable`` so the apps can show their reconnecting state.
"""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import requests

from .i18n import _

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
        url = f"{self.base_url}/api/v1{path}"
        try:
            r = self.session.request(method, url, json=json_body, params=params,
                                     headers=self._headers(), timeout=timeout or self.timeout)
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
        return r.json() if r.content else None

    # ------------------------------------------------------------------ endpoints
    def health(self) -> dict[str, Any]:
        return self.request("GET", "/health")

    def services(self) -> dict[str, Any]:
        return self.request("GET", "/services")

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
        return self.request("GET", "/display")

    def counter(self, counter_id: int) -> dict[str, Any]:
        return self.request("GET", f"/counters/{counter_id}")

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
                            if data and ev_id is not None:
                                yield Event(int(ev_id), ev_type, json.loads("\n".join(data)))
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
