"""Counters whose console is gone close themselves.

While ``motcua serve`` runs, a daemon thread runs
:func:`engine.close_idle_counters` every ``MOTCUA_IDLE_CHECK_SECONDS``
(default 30): a counter whose officer's console (or API token) has not
reached the server for the office's ``idle_close_minutes`` closes, and its
ticket in hand goes back to the head of the queue.  Every request of a
signed-in officer marks the counter as seen (security.py), and the console
page asks for its state every 30 seconds, so an open console keeps its
counter however quiet the queue is.  Several server processes may run the
check at once: each counter is re-checked under its row lock.
"""
from __future__ import annotations

import logging
import os
import threading

from . import engine as e
from .db import Database

log = logging.getLogger(__name__)


def check_seconds() -> float:
    try:
        return max(0.2, float(os.environ.get("MOTCUA_IDLE_CHECK_SECONDS", "30")))
    except ValueError:
        return 30.0


class IdleCounterWatch:
    def __init__(self, db: Database, every: float | None = None) -> None:
        self.db, self.every = db, every or check_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="idle-counters", daemon=True)

    def start(self) -> "IdleCounterWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> list[int]:
        with self.db.write() as tx:
            closed = e.close_idle_counters(tx)
        if closed:
            log.info("closed idle counters %s", closed)
        return closed

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a failed check is retried on the next tick
                log.exception("idle counter check failed")
