"""The display's event handler: feed items in, state changes and announcements out.

Separate from the Kivy widgets so the benchmark can push an hour of events
through exactly the code the screen uses.  Decides what is *said*: every
live call and recall; after a reconnect, of the calls missed, only the most
recent few (nobody wants 50 numbers read out at once — they are all shown).
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable

from .state import Call, DisplayState

MAX_BACKLOG_ANNOUNCE = 3


class Controller:
    """Applies ``Feed`` items to a :class:`DisplayState`.

    ``announce(call)`` is called for each call to read out;
    ``on_voice(voice_block)`` when the snapshot's voice settings arrive or
    change.  Events carry the waiting counts: nothing here asks for a
    snapshot; the feed takes one on reconnect and on ``stream.reset``.

    The catch-up rule (the web display's display.js keeps the same one):
    after a reconnect the snapshot is held until the stream has replayed
    every event up to the snapshot's ``last_event_id``; the calls among them
    are all shown and only the last ``max_backlog_announce`` are read out.
    """

    def __init__(self, state: DisplayState, *,
                 announce: Callable[[Call], None] | None = None,
                 on_voice: Callable[[dict[str, Any]], None] | None = None,
                 max_backlog_announce: int = MAX_BACKLOG_ANNOUNCE) -> None:
        self.state = state
        self.announce = announce
        self.on_voice = on_voice
        self.max_backlog_announce = max_backlog_announce
        self.connected = False
        self.message = ""
        self.not_registered = False  # the server refuses the device token (401/403)
        self.announced: deque[Call] = deque(maxlen=50)  # what was queued for the voice
        self.missed_calls = 0  # calls received in the last catch-up
        self._pending: dict[str, Any] | None = None  # resync snapshot awaiting its events
        self._backlog: list[Call] = []
        self._voice: dict[str, Any] | None = None

    def handle(self, kind: str, *args: Any) -> None:
        if kind == "snapshot":
            self._apply_snapshot(args[0], advance=True)
        elif kind == "resync":
            snap = args[0]
            if int(snap.get("last_event_id") or 0) <= self.state.last_event_id:
                self._apply_snapshot(snap, advance=True)  # nothing was missed
            else:
                self._pending, self._backlog = snap, []
        elif kind == "reset":
            self._pending, self._backlog = None, []
            self._apply_snapshot(args[0], advance=True, reset=True)
        elif kind == "event":
            self._event(args[0])
        elif kind == "refresh":
            self._apply_snapshot(args[0], advance=False)
        elif kind == "status":
            err = args[1] if len(args) > 1 else None
            self.connected = bool(args[0])
            self.message = getattr(err, "message", None) or (str(err) if err else "")
            if self.connected or err is not None:
                self.not_registered = getattr(err, "status", None) in (401, 403)

    def _apply_snapshot(self, snap: dict[str, Any], *, advance: bool, reset: bool = False) -> None:
        self.state.apply_snapshot(snap, advance=advance, reset=reset)
        voice = snap.get("voice") or {}
        if voice != self._voice:
            self._voice = dict(voice)
            if self.on_voice is not None:
                self.on_voice(self._voice)

    def _event(self, ev: Any) -> None:
        call = self.state.apply_event(ev.id, ev.type, ev.data)
        if self._pending is not None:
            if call is not None:
                self._backlog.append(call)
            if ev.id >= int(self._pending.get("last_event_id") or 0):
                self._catch_up_done()
        elif call is not None:
            self._say(call)

    def _catch_up_done(self) -> None:
        snap, self._pending = self._pending, None
        assert snap is not None
        self._apply_snapshot(snap, advance=True)
        self.missed_calls = len(self._backlog)
        for call in self._backlog[-self.max_backlog_announce:]:
            self._say(call)
        self._backlog = []

    def _say(self, call: Call) -> None:
        self.announced.append(call)
        if self.announce is not None:
            self.announce(call)
