"""The announcement policy: which calls are said, how often, and which are skipped.

An announcement (chime, then the sentence twice) takes 10-14 s; a busy office
calls faster than that.  Without a policy the queue grows without bound and
the lobby hears numbers minutes after they were called.  The rules, here once
(the web TV's display.js follows the same ones):

* a call to a counter that already has a call waiting replaces it: the older
  number is *dropped* (the counter has moved on), or *merged* when it is the
  same number (a recall of a call not yet said is said once);
* when other calls wait behind it, a call is *shortened*: said once, not
  ``repeat`` times;
* the queue holds at most ``max_waiting`` calls; beyond that the oldest is
  *dropped*;
* every skip is logged with its reason (logger ``display.voice.queue``), and
  counted.

Pure data, no threads and no sound: :class:`~display.voice.announce.Announcer`
drives it from its worker thread, tests drive it directly.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

MAX_WAITING = 4


@dataclass(frozen=True)
class Call:
    """A number to announce at a counter; ``counter`` None for a free sentence."""

    number: str | int
    counter: int | str | None
    text: str | None = None  # a free sentence (already in words) instead of a call


@dataclass(frozen=True)
class Turn:
    """What the player says next: ``call``, ``repeat`` times."""

    call: Call
    repeat: int
    shortened: bool


@dataclass
class AnnouncementQueue:
    """Calls waiting to be said, under the policy of this module."""

    max_waiting: int = MAX_WAITING
    items: deque = field(default_factory=deque)
    said: int = 0
    shortened: int = 0
    merged: int = 0
    dropped: int = 0
    skips: list[tuple[str, Call, str]] = field(default_factory=list)  # (kind, call, reason), last 100

    def __len__(self) -> int:
        return len(self.items)

    def put(self, call: Call) -> None:
        """Queue ``call``, replacing or merging a waiting call at the same counter."""
        if call.counter is not None:
            for old in list(self.items):
                if old.counter is None or str(old.counter) != str(call.counter):
                    continue
                self.items.remove(old)
                if str(old.number) == str(call.number):
                    self._skip("merged", old, f"called again at counter {call.counter} before it was said")
                else:
                    self._skip("dropped", old, f"replaced by {call.number} at counter {call.counter}")
        self.items.append(call)
        while len(self.items) > self.max_waiting:
            self._skip("dropped", self.items.popleft(),
                       f"queue full ({self.max_waiting} calls waiting)")

    def take(self, repeat: int) -> Turn | None:
        """The next call to say, said once (shortened) when others wait behind it."""
        if not self.items:
            return None
        call = self.items.popleft()
        short = repeat > 1 and bool(self.items)
        if short:
            self._skip("shortened", call, f"said once: {len(self.items)} more waiting")
        self.said += 1
        return Turn(call, 1 if short else repeat, short)

    def clear(self, reason: str) -> None:
        while self.items:
            self._skip("dropped", self.items.popleft(), reason)

    def counts(self) -> dict[str, Any]:
        return {"said": self.said, "shortened": self.shortened, "merged": self.merged,
                "dropped": self.dropped, "waiting": len(self.items)}

    def _skip(self, kind: str, call: Call, reason: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.skips.append((kind, call, reason))
        del self.skips[:-100]
        what = call.text if call.text is not None else f"{call.number} at counter {call.counter}"
        log.log(logging.WARNING if kind == "dropped" else logging.INFO,
                "announcement %s %s: %s", what, kind, reason)
