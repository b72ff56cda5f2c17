"""Follows the server for the display: one snapshot, then the event stream.

Runs on its own threads (network work never blocks the screen) and hands
everything over, in order, through ``sink(kind, *args)``; the Kivy app queues
those and applies them on its UI thread.  Kinds:

* ``("snapshot", snap)`` — first state, at start-up;
* ``("resync", snap)`` — after a reconnect: the state at ``snap["last_event_id"]``;
  the events up to that id that follow are the ones missed while away;
* ``("event", Event)`` — one stream event, in id order;
* ``("refresh", snap)`` — a fresh snapshot for the waiting counts and notice;
* ``("status", connected: bool, message: str)``.

No Kivy here, so tests and the benchmark can drive it directly.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from counter_server.client import ApiClient, ApiError

log = logging.getLogger(__name__)

BACKOFF = (0.5, 1.0, 2.0, 3.0, 5.0)
REFRESH_DEBOUNCE = 0.3


class Feed:
    """Snapshot + Server-Sent Events with automatic reconnection (``Last-Event-ID``)."""

    def __init__(self, client: ApiClient, sink: Callable[..., None], *,
                 read_timeout: float = 40.0) -> None:
        self.client = client
        self.sink = sink
        self.read_timeout = read_timeout
        self.last_event_id: int | None = None
        self.connected = False
        self.reconnects = 0
        self._stop = threading.Event()
        self._conn_stop = threading.Event()
        self._hold = threading.Event()  # tests: keep the display away until released
        self._refresh = threading.Event()
        self._threads = [threading.Thread(target=self._follow, name="motcua-feed", daemon=True),
                         threading.Thread(target=self._refresher, name="motcua-refresh",
                                          daemon=True)]

    # ------------------------------------------------------------- control
    def start(self) -> "Feed":
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
        """While held, a dropped display does not reconnect (lets tests act while it is away)."""
        if on:
            self._hold.set()
        else:
            self._hold.clear()

    def request_refresh(self) -> None:
        """Ask for a new snapshot soon (several requests within the debounce make one)."""
        self._refresh.set()

    # ------------------------------------------------------------- threads
    def _status(self, connected: bool, message: str = "") -> None:
        if connected != self.connected:
            self.connected = connected
            self.sink("status", connected, message)

    def _follow(self) -> None:
        failures = 0
        while not self._stop.is_set():
            while self._hold.is_set() and not self._stop.is_set():
                self._stop.wait(0.05)
            try:
                snap = self.client.display()
                if self.last_event_id is None:
                    self.last_event_id = int(snap.get("last_event_id") or 0)
                    self.sink("snapshot", snap)
                else:
                    self.reconnects += 1
                    self.sink("resync", snap)
                self._conn_stop.clear()
                self._status(True)
                failures = 0
                for ev in self.client.events(self.last_event_id, read_timeout=self.read_timeout,
                                             stop=self._conn_stop):
                    self.last_event_id = ev.id
                    self.sink("event", ev)
                    if self._conn_stop.is_set():
                        break
                if self._stop.is_set():
                    return
                self._status(False, "")  # dropped on purpose (drop()) or closed by the server
            except ApiError as exc:
                self._status(False, exc.message)
                log.info("display feed: %s", exc)
            except Exception as exc:  # never let the feed thread die
                self._status(False, str(exc))
                log.exception("display feed failed")
            delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
            failures += 1
            self._stop.wait(delay)

    def _refresher(self) -> None:
        while not self._stop.is_set():
            self._refresh.wait()
            if self._stop.is_set():
                return
            self._stop.wait(REFRESH_DEBOUNCE)
            self._refresh.clear()
            try:
                snap: dict[str, Any] = self.client.display()
            except ApiError as exc:
                log.info("display refresh failed: %s", exc)
                continue
            self.sink("refresh", snap)
