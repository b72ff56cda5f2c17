"""Rating at the lobby kiosk: find the ticket, then the shared faces flow.

The ticket kiosk's home screen has a "Đánh giá" button leading to the
``rate_entry`` screen added here.  The citizen types the number printed on
the ticket on a big keypad, then the check code printed under the QR (numbers
are sequential: the check code is the proof of holding the ticket), or
holds the ticket's QR code under the barcode reader — which types the
status URL (``http://host/t/<code>``) followed by Enter like a keyboard.  A
typed number and check code are resolved to the ticket's code by
``POST /tickets/lookup``; a scanned code is used as is, so a scanned ticket
can be rated even while the server is unreachable (the rating waits in the
kiosk's on-disk queue).  Every path leads back to ``home``.
"""
from __future__ import annotations

import re
import threading
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen, ScreenManager

from counter_server.client import ApiError

from .rating_flow import RatingFlow, load_kv
from .rating_queue import QUEUE_FILE, RatingQueue, RatingSender, data_dir
from .rating_widgets import tr

ENTRY, HOME = "rate_entry", "home"
ENTRY_TIMEOUT = 60.0
MAX_DIGITS = 8
NUMBER, CHECK = "number", "check"   # the two steps of keypad entry
CODE_IN_URL = re.compile(r"/t/([A-Za-z0-9_\-]{4,32})")
ENTER_KEYS = (13, 271)   # Return and keypad Enter
BACKSPACE = 8


def parse_scan(text: str) -> tuple[str, str] | None:
    """What a barcode reader typed: ("code", c) for a status URL, ("number", n) otherwise."""
    text = text.strip()
    if not text:
        return None
    m = CODE_IN_URL.search(text)
    if m:
        return "code", m.group(1)
    if re.fullmatch(r"[A-Za-z]{0,3}\d{1,6}", text):
        return "number", text.upper()
    return None


class RateEntryScreen(Screen):
    """Big numeric keypad (the ticket's number, then its check code) plus a
    barcode reader listening on the keyboard."""

    entered = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)
    step = StringProperty(NUMBER)
    number = StringProperty("")   # the number typed in the first step

    def __init__(self, controller: "LobbyRating", **kwargs: Any) -> None:
        self.controller = controller
        self._scan = ""
        self._idle = None
        super().__init__(**kwargs)

    def key(self, digit: str) -> None:
        if len(self.entered) < MAX_DIGITS and not self.busy:
            self.entered += digit
            self.message = ""
        self.poke()

    def delete(self) -> None:
        if not self.entered and self.step == CHECK:
            self.step, self.entered = NUMBER, self.number   # back to the number
        else:
            self.entered = self.entered[:-1]
        self.message = ""
        self.poke()

    def submit(self) -> None:
        if self.busy:
            return
        if self.step == NUMBER:
            if not self.entered:
                self.message = tr("Type a ticket number first.")
                return
            self.ask_check(self.entered)
        elif not self.entered:
            self.message = tr("Type the check code printed on your ticket.")
        else:
            self.controller.find(("number", self.number, self.entered))

    def reset(self) -> None:
        """A fresh entry: the number first."""
        self.entered, self.message, self._scan, self.busy = "", "", "", False
        self.step, self.number = NUMBER, ""

    def ask_check(self, number: str) -> None:
        """Second step: the check code printed on the same ticket."""
        self.number, self.step, self.entered, self.message = number, CHECK, "", ""
        self.poke()

    # ------------------------------------------------------------ keyboard / scanner
    def on_pre_enter(self, *_args: Any) -> None:
        from kivy.core.window import Window

        self.reset()
        Window.bind(on_textinput=self._on_text, on_key_down=self._on_key)
        self.poke()

    def on_leave(self, *_args: Any) -> None:
        from kivy.core.window import Window

        Window.unbind(on_textinput=self._on_text, on_key_down=self._on_key)
        if self._idle is not None:
            self._idle.cancel()

    def _on_text(self, _window: Any, text: str) -> None:
        self._scan += text
        self.poke()

    def _on_key(self, _window: Any, key: int, *_args: Any) -> bool:
        if key in ENTER_KEYS:
            scanned = parse_scan(self._scan)
            self._scan = ""
            if scanned is not None and scanned[0] == "number" and self.step == NUMBER:
                self.ask_check(scanned[1])   # a prefixed number (A007) typed on a keyboard
            elif scanned is not None and scanned[0] == "number" and scanned[1].isdigit():
                self.entered = scanned[1][:MAX_DIGITS]   # the check code, typed on a keyboard
                self.submit()
            elif scanned is not None and scanned[0] == "code":
                self.controller.find(scanned)
            else:
                self.submit()
            return True
        if key == BACKSPACE:
            self._scan = self._scan[:-1]
            self.delete()
            return True
        return False

    def poke(self) -> None:
        """Anyone still here? Go home after a minute without a touch."""
        if self._idle is not None:
            self._idle.cancel()
        self._idle = Clock.schedule_once(lambda _dt: self.controller.go_home(), ENTRY_TIMEOUT)


class LobbyRating:
    """Glue between the host kiosk app, the entry screen, the flow and the queue."""

    def __init__(self, manager: ScreenManager, app: App) -> None:
        load_kv("rating.kv")
        load_kv("rating_lobby.kv")
        self.manager, self.app = manager, app
        self.entry = RateEntryScreen(self, name=ENTRY)
        manager.add_widget(self.entry)
        self.flow = RatingFlow(manager, submit=self.submit, on_done=self.go_home,
                               thanks_seconds=float(getattr(app, "rating_thanks_seconds", 4)))
        self._config_loaded = False
        folder = data_dir(getattr(app, "data_dir", None), app.user_data_dir)
        self.sender = RatingSender(RatingQueue(folder / QUEUE_FILE),
                                   lambda body: app.client.rate(**body),
                                   retry_seconds=float(getattr(app, "rating_retry_seconds", 3)))
        self.sender.start()

    def go_home(self) -> None:
        self.manager.current = HOME

    def submit(self, rating: dict[str, Any]) -> None:
        self.sender.submit(**rating)

    # ------------------------------------------------------------ finding the ticket
    def find(self, what: tuple[str, ...]) -> None:
        if self.entry.busy:
            return
        self.entry.busy = True
        self.entry.message = tr("Looking for your ticket…")
        threading.Thread(target=self._find, args=(what,), daemon=True).start()

    def _find(self, what: tuple[str, ...]) -> None:
        kind, value = what[0], what[1]
        client = self.app.client
        ticket: dict[str, Any] | None = None
        message = ""
        try:
            if not self._config_loaded:
                rating = client.services().get("rating") or {}
                Clock.schedule_once(lambda _dt: self.flow.set_config(rating))
                self._config_loaded = True
            if kind == "number":
                found = client.request("POST", "/tickets/lookup", json_body={
                    "display_number": value, "check_code": what[2]})
            else:
                found = dict(client.ticket_status(value), code=value)
            if found.get("rated"):
                message = tr("This ticket has already been rated. Thank you!")
            elif found.get("status") != "done":
                message = tr("This ticket has not been served yet.")
            else:
                ticket = {"code": found["code"], "display_number": found.get("display_number"),
                          "service_name": found.get("service_name", "")}
        except ApiError as err:
            if err.unreachable and kind == "code":
                ticket = {"code": value}   # rated now, checked by the server when it is back
            elif err.unreachable:
                message = tr("Cannot reach the server. Please scan the QR code on your "
                             "ticket, or try again later.")
            elif err.status == 404:
                message = tr("No ticket today with this number and check code.")
            else:
                message = err.message
        Clock.schedule_once(lambda _dt: self._found(ticket, message))

    def _found(self, ticket: dict[str, Any] | None, message: str) -> None:
        self.entry.busy = False
        self.entry.message = message
        if message and self.entry.step == CHECK:
            self.entry.entered = ""   # type the check code again, or go back to the number
        if ticket is not None and self.manager.current == ENTRY:
            self.flow.start(ticket)


def add_lobby_rating_screens(screen_manager: ScreenManager, app: App) -> LobbyRating:
    """Called by the ticket kiosk at build time (contract with ``kiosk/app.py``)."""
    lobby = LobbyRating(screen_manager, app)
    app.lobby_rating = lobby
    return lobby


__all__ = ["CHECK", "ENTRY", "HOME", "NUMBER", "LobbyRating", "RateEntryScreen", "add_lobby_rating_screens",
           "parse_scan"]
