"""Counter tablet (``motcua kiosk --mode rating --counter N``).

Idle, it shows the counter, the officer signed in there (photo or initials)
and the number being served.  When its counter completes a ticket (SSE
``ticket.completed`` for this counter) it asks the server for that ticket's
code (events never carry codes) and shows the faces for a configurable
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
from typing import Any

# Imported from ``motcua kiosk --mode rating ...``: Kivy must not parse our argv.
os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.config import Config  # noqa: E402
from kivy.properties import (BooleanProperty, DictProperty,  # noqa: E402
                             NumericProperty, ObjectProperty, StringProperty)
from kivy.uix.screenmanager import FadeTransition, Screen, ScreenManager  # noqa: E402

from counter_server.client import ApiClient, ApiError  # noqa: E402

from .rating_flow import RatingFlow, load_kv  # noqa: E402
from .rating_queue import QUEUE_FILE, RatingQueue, RatingSender, data_dir  # noqa: E402
from .rating_widgets import tr  # noqa: E402

log = logging.getLogger(__name__)
IDLE = "idle"
RECONNECT_SECONDS = 2.0


#: Why the tablet cannot do its job ("" when it can).
UNREACHABLE, NOT_REGISTERED, NO_COUNTER = "unreachable", "not_registered", "no_counter"


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
        self.last_event_id: int | None = None
        self.cid = 0  # counter id, read by worker threads (plain attribute)
        self.submitted_codes: set[str] = set()
        self.flow: RatingFlow | None = None
        self.sender: RatingSender | None = None
        self._photo_url: str | None = None

    # ------------------------------------------------------------------ build
    def build(self) -> ScreenManager:
        load_kv("rating.kv")
        load_kv("rating_tablet.kv")
        sm = ScreenManager(transition=FadeTransition(duration=0.15))
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
        threading.Thread(target=self._follow, name="rating-events", daemon=True).start()

    def on_stop(self) -> None:
        self.stop_event.set()
        if self.sender:
            self.sender.stop()

    # ------------------------------------------------------------------ ratings
    def submit(self, rating: dict[str, Any]) -> None:
        """Called by the flow: to disk first, then the sender thread."""
        if rating.get("ticket_code"):
            self.submitted_codes.add(rating["ticket_code"])
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
    def _follow(self) -> None:
        """Worker thread: resolve the counter, then follow the event stream forever."""
        while not self.stop_event.is_set():
            try:
                if not self.cid:
                    self._resolve_counter()
                self._refresh_counter()
                for ev in self.client.events(self.last_event_id, stop=self.stop_event):
                    self._set(online=True)
                    self.last_event_id = ev.id
                    self._on_event(ev.type, ev.data)
            except ApiError as err:
                log.info("event stream: %s", err)
                self._set(online=False, problem=UNREACHABLE)
                if err.status in (401, 403):
                    self._set(serving="", counter_state="error", problem=NOT_REGISTERED)
                elif err.code == "counter_not_found":
                    self._set(problem=NO_COUNTER)
            except Exception:  # noqa: BLE001 - never let the follower thread die
                log.exception("tablet follower failed")
                self._set(online=False, problem=UNREACHABLE)
            self.stop_event.wait(RECONNECT_SECONDS)

    def _resolve_counter(self) -> None:
        """The user gives the counter NUMBER; the API speaks in ids."""
        snap = self.client.display()
        match = [c for c in snap["counters"] if c["number"] == self.counter_number]
        if not match:
            raise ApiError(404, "counter_not_found", tr("Counter not found."))
        self.last_event_id = snap["last_event_id"]
        rating = self.client.services().get("rating") or {}
        cid = match[0]["id"]

        def apply(_dt: float) -> None:
            if getattr(self.args, "rating_timeout", None):
                rating.pop("timeout_seconds", None)  # the command line wins
            self.flow.set_config(rating)
            self.rating = rating
        Clock.schedule_once(apply)
        self.cid = cid

    def _refresh_counter(self) -> None:
        c = self.client.counter(int(self.cid))
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

    def _on_event(self, kind: str, data: dict[str, Any]) -> None:
        ticket = (data.get("payload") or {}).get("ticket") or {}
        mine = self.cid and (data.get("counter_id") == self.cid
                                    or ticket.get("counter_id") == self.cid)
        if kind == "ticket.completed" and ticket.get("counter_id") == self.cid:
            self._refresh_counter()
            self._offer_rating()
        elif mine and (kind.startswith("ticket.") or kind == "counter.updated"):
            self._refresh_counter()

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
