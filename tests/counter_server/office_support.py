"""Officer steps over real HTTP against a running ``motcua serve`` (LiveServer),
for the officer/counter tests and for the office-day scenario to reuse.

Two ways an officer works, as in an office: a bearer token from
``POST /api/v1/auth/token`` (:class:`ApiOfficer`) and the web console's
session cookie, signed in through the ``/login`` form (:class:`WebOfficer`).
Both answer :class:`requests.Response` objects: the tests check the refusals.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any, Callable

import requests
from sqlalchemy import create_engine, update

from counter_server import models as m
from tests.conftest import bearer

TIMEOUT = 10


def counter_id(server: Any, number: int) -> int:
    return server.creds["counters"][str(number)]


def password(server: Any, username: str) -> str:
    return server.creds["users"][username]["password"]


class ApiOfficer:
    """An officer (or admin) working with a bearer token."""

    def __init__(self, server: Any, username: str, token: str, counter: int | None) -> None:
        self.server, self.username, self.token, self.counter = server, username, token, counter

    @classmethod
    def sign_in(cls, server: Any, username: str, counter: int | None) -> requests.Response:
        body: dict[str, Any] = {"username": username, "password": password(server, username)}
        if counter is not None:
            body["counter_id"] = counter_id(server, counter)
        return requests.post(server.url + "/api/v1/auth/token", json=body, timeout=TIMEOUT)

    @classmethod
    def at(cls, server: Any, username: str, counter: int | None) -> "ApiOfficer":
        r = cls.sign_in(server, username, counter)
        assert r.status_code == 201, r.text
        return cls(server, username, r.json()["token"], counter)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(self.server.url + "/api/v1" + path, json=body,
                             headers=bearer(self.token), timeout=TIMEOUT)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.server.url + "/api/v1" + path, headers=bearer(self.token),
                            timeout=TIMEOUT)

    def call_next(self, counter: int | None = None, **body: Any) -> requests.Response:
        return self.post(f"/counters/{counter_id(self.server, counter or self.counter)}/call-next",
                         body or None)

    def ticket(self, ticket_id: int, action: str, body: Any = None) -> requests.Response:
        return self.post(f"/tickets/{ticket_id}/{action}", body)

    def sign_out(self, ticket: str | None = None) -> requests.Response:
        return self.post("/auth/sign-out", {"ticket": ticket} if ticket else {})


class WebOfficer:
    """A browser-like session of the web console (cookie + CSRF token)."""

    def __init__(self, server: Any) -> None:
        self.server, self.http = server, requests.Session()
        self.csrf = ""

    def _csrf_from(self, html: str) -> str:
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', html)[1]
        return self.csrf

    def sign_in(self, username: str, counter: int | None) -> requests.Response:
        self._csrf_from(self.http.get(self.server.url + "/login", timeout=TIMEOUT).text)
        form = {"csrf_token": self.csrf, "username": username,
                "password": password(self.server, username)}
        if counter is not None:
            form["counter_id"] = str(counter_id(self.server, counter))
        r = self.http.post(self.server.url + "/login", data=form, timeout=TIMEOUT,
                           allow_redirects=False)
        if r.status_code == 302:
            self._csrf_from(self.http.get(self.server.url + "/account", timeout=TIMEOUT).text)
        return r

    @classmethod
    def at(cls, server: Any, username: str, counter: int | None) -> "WebOfficer":
        w = cls(server)
        r = w.sign_in(username, counter)
        assert r.status_code == 302, r.text[:500]
        return w

    def form(self, path: str, data: dict[str, Any]) -> requests.Response:
        return self.http.post(self.server.url + path, data={"csrf_token": self.csrf, **data},
                              timeout=TIMEOUT, allow_redirects=False)

    def api(self, path: str, body: Any = None) -> requests.Response:
        return self.http.post(self.server.url + "/api/v1" + path, json=body, timeout=TIMEOUT,
                              headers={"X-CSRFToken": self.csrf, "Accept": "application/json"})

    def call_next(self, counter: int, **body: Any) -> requests.Response:
        return self.api(f"/counters/{counter_id(self.server, counter)}/call-next", body or None)

    def state(self) -> requests.Response:
        return self.http.get(self.server.url + "/console/state", timeout=TIMEOUT,
                             headers={"Accept": "application/json"})

    def release(self, counter: int) -> requests.Response:
        """(An admin) release a counter from the counters page."""
        return self.form(f"/admin/counters/{counter_id(self.server, counter)}/release", {})


# ----------------------------------------------------------------- what others see
def issue(server: Any, code: str) -> dict[str, Any]:
    r = requests.post(server.url + "/api/v1/tickets", headers=bearer(server.token("kiosk")),
                      json={"service_id": server.creds["services"][code]}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()


def ticket_status(server: Any, code: str) -> dict[str, Any]:
    r = requests.get(server.url + "/api/v1/tickets/" + code, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def display_counter(server: Any, number: int) -> dict[str, Any]:
    """Counter ``number`` as the lobby TV's snapshot shows it."""
    snap = requests.get(server.url + "/api/v1/display", headers=bearer(server.token("display")),
                        timeout=TIMEOUT).json()
    for c in snap["counters"]:
        if c["number"] == number:
            return c
    raise AssertionError(f"counter {number} not on the display")


def events_since(server: Any, last_id: int = 0, until: Callable[[dict], bool] | None = None,
                 timeout: float = 10.0) -> list[dict[str, Any]]:
    """The office's events after ``last_id`` as the admin's stream carries
    them, read until one matches ``until`` (or the backlog is read)."""
    from counter_server.client import ApiClient, ApiError

    admin = ApiOfficer.at(server, "quantri", None)
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        for ev in ApiClient(server.url, admin.token).events(last_id, read_timeout=2.0):
            out.append(ev.data | {"type": ev.type})
            if until is not None and until(out[-1]):
                break
            if time.monotonic() > deadline:
                break
    except ApiError:  # the read timed out: the backlog is all there is
        pass
    return out


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.1)


def console_gone_for(server: Any, number: int, minutes: float) -> None:
    """Make counter ``number``'s console look gone for ``minutes`` (the column
    the idle check reads), as if the officer's browser closed that long ago."""
    engine = create_engine(server.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(m.Counter).where(m.Counter.id == counter_id(server, number))
                         .values(console_seen_at=m.utcnow() - dt.timedelta(minutes=minutes)))
    finally:
        engine.dispose()
