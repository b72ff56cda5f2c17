"""What the lobby display shows, as plain data, kept apart from Kivy.

The snapshot (``GET /api/v1/display``) and each event of the stream are
folded into one :class:`DisplayState`.  Keeping this free of widgets lets the
same rules run in tests, in the benchmark (an hour of events without a
window) and behind the Kivy screen, and keeps memory bounded: the recent-call
list and the highlight table never grow past a fixed size.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from counter_server.event_types import CALL_TYPES, ENDED_STATUSES

ENDED = frozenset(ENDED_STATUSES)
SHOWN_STATES = ("open", "paused")


@dataclass
class CounterRow:
    """One counter as the lobby sees it."""

    id: int
    number: int
    name: str = ""
    state: str = "closed"
    pause_reason: str | None = None
    ticket_id: int | None = None
    display_number: str = ""
    service_name: str = ""


@dataclass(frozen=True)
class Call:
    """A number called (or called again) to a counter."""

    event_id: int
    display_number: str
    counter_number: int
    recall: bool = False


@dataclass
class DisplayState:
    """Counters, recent calls, waiting per service and highlights, from snapshot + events.

    ``highlight_seconds`` is how long a counter stays highlighted after a
    call; ``clock`` is injectable so the benchmark and tests need not sleep.
    """

    highlight_seconds: float = 8.0
    recent_size: int = 8
    clock: Callable[[], float] = time.monotonic
    office: dict[str, Any] = field(default_factory=dict)
    counters: dict[int, CounterRow] = field(default_factory=dict)  # by counter id
    services: list[dict[str, Any]] = field(default_factory=list)
    recent: deque = field(default_factory=deque)
    highlights: dict[int, float] = field(default_factory=dict)  # counter number -> until
    last_event_id: int = 0
    voice: dict[str, Any] = field(default_factory=dict)
    ticker: bool = True  # office setting display_ticker: scroll the notice

    # ------------------------------------------------------------- snapshot
    def apply_snapshot(self, snap: dict[str, Any], *, advance: bool = True,
                       reset: bool = False) -> None:
        """Replace everything by the server's view (the authority), keeping highlights.

        ``advance=False`` for a refresh taken while following the stream: the
        stream, not the snapshot, decides which event comes next, so events
        committed between the two are still applied (and announced).
        ``reset`` after ``stream.reset`` (the server's events went back, e.g.
        a restored backup): the recent calls and the last event id are the
        snapshot's only.
        """
        if reset:
            self.recent.clear()
            self.last_event_id = 0
        self.office = dict(snap.get("office") or {})
        self.services = list(snap.get("services") or [])
        self.voice = dict(snap.get("voice") or {})
        self.ticker = bool(self.office.get("display_ticker", True))
        counters: dict[int, CounterRow] = {}
        for c in snap.get("counters") or []:
            cur = c.get("current") or {}
            counters[c["id"]] = CounterRow(
                id=c["id"], number=c["number"], name=c.get("name") or "",
                state=c.get("state") or "closed", pause_reason=c.get("pause_reason"),
                ticket_id=cur.get("ticket_id"), display_number=cur.get("display_number") or "",
                service_name=cur.get("service_name") or "")
        self.counters = counters
        # The snapshot is the truth up to its last event (yesterday's calls are
        # no longer in it once the service day turns); calls applied from the
        # stream after it stay.
        snap_last = int(snap.get("last_event_id") or 0)
        newer = [call for call in self.recent if call.event_id > snap_last]
        known = {call.event_id for call in newer}
        calls = [Call(rc["event_id"], str(rc.get("display_number") or ""),
                      int(rc.get("counter_number") or 0), rc.get("type") == "ticket.recalled")
                 for rc in snap.get("recent_calls") or [] if rc.get("event_id") not in known]
        merged = sorted([*newer, *calls], key=lambda c: c.event_id, reverse=True)
        self.recent = deque(merged[: self.recent_size])
        if advance:
            self.last_event_id = max(self.last_event_id, int(snap.get("last_event_id") or 0))

    # ------------------------------------------------------------- events
    def service_name(self, service_id: int | None) -> str:
        for svc in self.services:
            if svc.get("id") == service_id:
                return svc.get("name") or ""
        return ""

    def _counter(self, counter_id: int | None, number: int | None = None) -> CounterRow | None:
        if counter_id is None:
            return None
        row = self.counters.get(counter_id)
        if row is None and number is not None:
            row = self.counters[counter_id] = CounterRow(id=counter_id, number=number)
        return row

    def apply_event(self, event_id: int, type_: str, data: dict[str, Any]) -> Call | None:
        """Fold one stream event in; returns the :class:`Call` when it calls a number."""
        if event_id <= self.last_event_id:
            return None  # already applied (a stream resumes strictly after last_event_id)
        self.last_event_id = max(self.last_event_id, event_id)
        payload = data.get("payload") or {}
        ticket = payload.get("ticket") or {}
        counter = payload.get("counter") or {}
        self.apply_waiting(payload.get("services"))
        if counter.get("id") is not None:
            row = self._counter(counter["id"], counter.get("number"))
            if row is not None:
                row.state = counter.get("state") or row.state
                row.name = counter.get("name") or row.name
                row.pause_reason = counter.get("pause_reason")
                if "current_ticket_id" in counter and counter["current_ticket_id"] is None \
                        and type_ not in CALL_TYPES:
                    row.ticket_id, row.display_number, row.service_name = None, "", ""
        if type_ in CALL_TYPES and ticket:
            number = str(ticket.get("display_number") or "")
            row = self._counter(ticket.get("counter_id") or data.get("counter_id"),
                                ticket.get("counter_number"))
            counter_number = int(ticket.get("counter_number") or (row.number if row else 0))
            if row is not None:
                row.ticket_id, row.display_number = ticket.get("id"), number
                row.service_name = self.service_name(ticket.get("service_id"))
                if row.state == "closed":
                    row.state = "open"
            call = Call(event_id, number, counter_number, type_ == "ticket.recalled")
            if any(c.event_id == event_id for c in self.recent):  # already in a refresh
                self.recent = deque(c for c in self.recent if c.event_id != event_id)
            self.recent.appendleft(call)
            while len(self.recent) > self.recent_size:
                self.recent.pop()
            self.highlights[counter_number] = self.clock() + self.highlight_seconds
            return call
        if ticket and ticket.get("status") in ENDED:
            for row in self.counters.values():
                if row.ticket_id is not None and row.ticket_id == ticket.get("id"):
                    row.ticket_id, row.display_number, row.service_name = None, "", ""
        return None

    def apply_waiting(self, counts: list[dict[str, Any]] | None) -> None:
        """An event's ``services`` (the office's new waiting counts) folded in."""
        if not counts:
            return
        by_id = {q.get("id"): q for q in counts}
        self.services = [{**sv, **{k: by_id[sv.get("id")][k] for k in
                                   ("waiting", "estimated_wait_minutes", "open")
                                   if k in by_id[sv.get("id")]}}
                         if sv.get("id") in by_id else sv for sv in self.services]

    # ------------------------------------------------------------- views
    def shown_counters(self) -> list[CounterRow]:
        """Open (and paused) counters in number order: the ones people can go to."""
        return sorted((c for c in self.counters.values() if c.state in SHOWN_STATES),
                      key=lambda c: c.number)

    def highlighted(self) -> set[int]:
        """Counter numbers still highlighted; expired entries are dropped here."""
        now = self.clock()
        for number in [n for n, until in self.highlights.items() if until <= now]:
            del self.highlights[number]
        return set(self.highlights)


def voice_overrides(voice: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's ``voice`` block as :class:`~display.voice.VoiceSettings` fields."""
    mapping = {"announcement_template": "template", "voice_engine": "engine",
               "voice_number_mode": "number_mode", "voice_repeat": "repeat"}
    return {mapping[k]: v for k, v in (voice or {}).items() if k in mapping and v not in (None, "")}
