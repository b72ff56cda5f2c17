"""Follows the server for the display: the shared ``follow()`` on ``/display``.

Runs on its own threads (network work never blocks the screen) and hands
everything over, in order, through ``sink(kind, *args)`` (the kinds of
:class:`counter_server.client.Follower`); the Kivy app queues those and
applies them on its UI thread through :class:`display.controller.Controller`.
The display replays the events it missed while away (it shows and
announces missed calls), so it resumes after the last event it received.

No Kivy here, so tests and the benchmark can drive it directly.
"""
from __future__ import annotations

from typing import Any, Callable

from counter_server.client import ApiClient, Follower


class Feed(Follower):
    """``/display`` snapshot + Server-Sent Events with automatic reconnection."""

    def __init__(self, client: ApiClient, sink: Callable[..., None], **options: Any) -> None:
        super().__init__(client, "/display", sink, replay_missed=True, **options)

    def request_refresh(self) -> None:
        """Check the snapshot now (a 304 when nothing changed)."""
        self.refresh_now()
