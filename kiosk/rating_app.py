"""Counter tablet (``motcua kiosk --mode rating --counter N``).

Idle, it shows the counter, the officer signed in there (photo or initials)
and the number being served, all kept up to date from the event stream
(``kiosk.live.CounterLink`` on the shared ``follow()``).  When its counter
completes a ticket (``ticket.completed`` for this counter) it asks the server
for that ticket's code (events never carry codes) and shows the faces for a configurable
time; a low level asks for reasons; then a thank-you, then idle again.
The idle screen has no faces: a rating belongs to a finished case of this
counter, so there is nothing to press while the citizen is still being served.

Network work happens in worker threads and reaches the UI through
``Clock.schedule_once``; ratings go through the on-disk queue first, so a
press made while the server is unreachable is sent, once, when it is back.
When something is missing (the tablet is not registered, its counter does
not exist, no officer is signed in there) the idle screen says so.
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import threading
from collections import deque
from typing import Any

# Imported from ``motcua kiosk --mode rating ...``: Kivy must not parse our argv.
os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.config import Config  # noqa: E402
from kivy.properties import (BooleanProperty, DictProperty,  # noqa: E402
                             NumericProperty, ObjectProperty, StringProperty)
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager  # noqa: E402

from counter_server.client import ApiClient, ApiError  # noqa: E402
from counter_server.kivy_window import FinishedFrames, no_multisampling  # noqa: E402

from .live import NOT_REGISTERED, CounterLink  # noqa: E402
from .rating_flow import RatingFlow, load_kv  # noqa: E402
from .rating_queue import QUEUE_FILE, RatingQueue, RatingSender, data_dir  # noqa: E402
from .rating_widgets import tr  # noqa: E402

log = logging.getLogger(__name__)
IDLE = "idle"
RECONNECT_SECONDS = 2.0
# Codes of the last ratings made here.  ``last-completed`` names the counter's
# latest completed ticket, so only the newest code can come back (an event seen
# again after a reconnect); a few are kept, never one per rating of the day.
RECENT_CODES = 8


class TabletIdleScreen(Screen):
    """What the citizen sees while being served: who serves them, which number."""


class RatingTabletApp(App):
    counter_number = NumericProperty(0)
    counter_name = StringProperty("")
    officer_name = StringProperty("")
    photo = ObjectProperty(None, allownone=True)
    serving = StringProperty("")
    counter_state = StringProperty("")
    online = BooleanProperty(False)
    problem = StringProperty("")
    pending = NumericProperty(0)
    rating = DictProperty({})
    title = StringProperty("")

    def __init__(self, args: argparse.Namespace, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.args = args
        self.title = tr("Satisfaction rating")
        self.counter_number = int(args.counter)
        self.client = ApiClient(args.server, args.token)
        self.stop_event = threading.Event()
        self.link: CounterLink | None = None
        self.cid = 0  # counter id, read by worker threads (plain attribute)
        self.submitted_codes: deque[str] = deque(maxlen=RECENT_CODES)
        self.flow: RatingFlow | None = None
        self.sender: RatingSender | None = None
        self.frames: FinishedFrames | None = None
        self._photo_url: str | None = None

    # ------------------------------------------------------------------ build
    def build(self) -> ScreenManager:
        load_kv("rating.kv")
        load_kv("rating_tablet.kv")
        self.frames = FinishedFrames()  # software OpenGL: see counter_server/kivy_window.py
        # Instant, as the kiosk's: a fade draws both screens into two
        # window-sized framebuffers per change of screen (three per rating),
        # which software OpenGL allocates and frees each time: the tablet
        # grew by ~190 MB over a day's ratings (issue #18).
        sm = ScreenManager(transition=NoTransition())
        sm.add_widget(TabletIdleScreen(name=IDLE))
        self.flow = RatingFlow(
            sm, submit=self.submit, on_done=lambda: setattr(sm, "current", IDLE),
            faces_timeout=float(getattr(self.args, "rating_timeout", None) or 30),
            reasons_timeout=float(getattr(self.args, "reasons_timeout", None) or 45),
            thanks_seconds=float(getattr(self.args, "thanks_seconds", None) or 4))
        folder = data_dir(getattr(self.args, "data_dir", None), self.user_data_dir)
        self.sender = RatingSender(RatingQueue(folder / QUEUE_FILE), lambda b: self.client.rate(**b),
                                   retry_seconds=float(getattr(self.args, "retry_seconds", 0) or 3),
                                   on_result=self._sent)
        self.pending = len(self.sender.queue)
        return sm

    def on_start(self) -> None:
        self.sender.start()
        self.link = self._start_link()

    def on_stop(self) -> None:
        self.stop_event.set()
        if self.link:
            self.link.stop()
        if self.sender:
            self.sender.stop()

    # ------------------------------------------------------------------ ratings
    def submit(self, rating: dict[str, Any]) -> None:
        """Called by the flow: to disk first, then the sender thread."""
        if rating.get("ticket_code"):
            self.submitted_codes.append(rating["ticket_code"])
        self.sender.submit(**rating)
        self.pending = len(self.sender.queue)

    def _sent(self, item: dict[str, Any], response: dict[str, Any] | None,
              error: Exception | None) -> None:
        online = error is None or not getattr(error, "unreachable", False)

        def apply(_dt: float) -> None:
            self.pending = len(self.sender.queue)
            if not online:
                self.online = False
        Clock.schedule_once(apply)

    # ------------------------------------------------------------------ server
    def _start_link(self) -> CounterLink:
        """The counter and its completions, followed by the shared client loop."""
        link = CounterLink(self.client, self.counter_number, on_counter=self._show_counter,
                           on_completed=lambda _ev: self._offer_rating(),
                           on_config=self._config, on_problem=self._problem,
                           retry_seconds=RECONNECT_SECONDS)
        link.start()
        return link

    def _problem(self, online: bool, problem: str) -> None:
        if problem == NOT_REGISTERED:
            self._set(online=False, serving="", counter_state="error", problem=problem)
        else:
            self._set(online=online, problem=problem)

    def _config(self, rating: dict[str, Any]) -> None:
        def apply(_dt: float) -> None:
            if getattr(self.args, "rating_timeout", None):
                rating.pop("timeout_seconds", None)  # the command line wins
            self.flow.set_config(rating)
            self.rating = rating
        Clock.schedule_once(apply)

    def _show_counter(self, c: dict[str, Any]) -> None:
        self.cid = c.get("id") or self.cid
        staff = c.get("staff") or {}
        current = c.get("current") or {}
        self._set(online=True, problem="", counter_name=c.get("name") or "",
                  counter_state=c.get("state", ""),
                  officer_name=staff.get("full_name", ""),
                  serving=current.get("display_number") or "")
        url = staff.get("photo_url")
        if url != self._photo_url:
            self._photo_url = url
            self._load_photo(url)

    def _load_photo(self, url: str | None) -> None:
        data = None
        if url:
            try:
                r = self.client.session.get(self.client.base_url + url,
                                            headers=self.client._headers(), timeout=5)
                data = r.content if r.ok and r.content else None
            except Exception:  # noqa: BLE001 - initials instead of a photo
                data = None

        def apply(_dt: float) -> None:
            from kivy.core.image import Image as CoreImage

            self.photo = None
            if data:
                try:
                    self.photo = CoreImage(io.BytesIO(data), ext="png" if data[:4] == b"\x89PNG"
                                           else "jpg").texture
                except Exception:  # noqa: BLE001 - a broken photo shows initials
                    self.photo = None
        Clock.schedule_once(apply)

    def _offer_rating(self) -> None:
        cid = int(self.cid)
        try:
            t = self.client.request("GET", f"/counters/{cid}/last-completed")
        except ApiError as err:
            if err.status != 404:
                log.warning("last-completed: %s", err)
            return
        if t["code"] in self.submitted_codes:
            return  # one rating per ticket, even while it still sits in our queue
        ticket = {"code": t["code"], "display_number": t.get("display_number"),
                  "staff_name": (t.get("staff") or {}).get("full_name", "")}
        Clock.schedule_once(lambda _dt: self.flow.start(ticket))

    def _set(self, **values: Any) -> None:
        Clock.schedule_once(lambda _dt: [setattr(self, k, v) for k, v in values.items()])


def configure_window(size: str | tuple[int, int] | None, windowed: bool) -> None:
    """Window size and full screen must be chosen before Kivy opens the window."""
    if size:
        # "1280x800" from our own parser, (1280, 800) from kiosk.app's.
        w, h = size if isinstance(size, (tuple, list)) else (int(x) for x in size.lower().split("x"))
        Config.set("graphics", "width", str(w))
        Config.set("graphics", "height", str(h))
    Config.set("graphics", "fullscreen", "0" if windowed or size else "auto")
    Config.set("kivy", "exit_on_escape", "0")
    no_multisampling()


def run_rating(args: argparse.Namespace) -> None:
    """Entry point used by ``kiosk.app main()`` for ``--mode rating``."""
    if getattr(args, "counter", None) in (None, ""):
        raise SystemExit(tr("A rating tablet needs --counter N (the counter number)."))
    configure_window(getattr(args, "size", None), bool(getattr(args, "windowed", False)))
    RatingTabletApp(args).run()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=tr("Satisfaction rating"))
    p.add_argument("--server", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--counter", required=True, type=int)
    p.add_argument("--size", default=None)
    p.add_argument("--windowed", action="store_true")
    p.add_argument("--rating-timeout", type=float, default=None)
    p.add_argument("--data-dir", default=None)
    return p.parse_args(argv)


if __name__ == "__main__":
    run_rating(parse_args())
