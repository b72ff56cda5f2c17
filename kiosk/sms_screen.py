"""The kiosk's optional "text me when my turn is near" offer (off unless the office set up
an SMS/Zalo gateway: ``sms_contact`` in the services answer).

On the ticket screen a button opens ``sms_phone``: a large number pad for the
citizen's mobile number, sent to ``PUT /api/v1/tickets/<code>/contact`` on a worker
thread.  The server keeps the number until the end of the day and sends the
messages (counter_server/notify_sms.py); nothing here touches issuing.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from kivy.clock import mainthread
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.utils import get_color_from_hex

from counter_server.client import ApiError
from counter_server.i18n import translator
from kiosk.widgets import BigButton, GuardedScreen

_ = translator(Path(__file__).resolve().parent / "locale", "sms")
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "ok")
MAX_DIGITS = 11
IDLE_SECONDS = 60.0  # back home when nobody types
DONE_SECONDS = 6.0

KV = '''
<SmsPhoneScreen>:
    canvas.before:
        Color:
            rgba: 1, 1, 1, 1
        Rectangle:
            pos: self.pos
            size: self.size
    BoxLayout:
        orientation: "vertical"
        padding: app.u * 2.5
        spacing: app.u * 1.2
        Label:
            text: root.title
            bold: True
            color: INK
            font_size: app.u * 4.2
            size_hint_y: 0.14
            text_size: self.width, None
            halign: "center"
        Label:
            id: typed
            text: root.typed or "_"
            bold: True
            color: HEAD
            font_size: app.u * 8
            size_hint_y: 0.14
        Label:
            id: message
            text: root.message
            color: (0.7, 0.1, 0.1, 1) if root.failed else INK
            font_size: app.u * 3.4
            size_hint_y: 0.12
            text_size: self.width, None
            halign: "center"
        GridLayout:
            id: pad
            cols: 3
            spacing: app.u * 1.2
            size_hint_x: 0.6 if root.width > root.height else 1
            pos_hint: {"center_x": 0.5}
'''


class SmsPhoneScreen(GuardedScreen):
    title = StringProperty("")
    typed = StringProperty("")
    message = StringProperty("")
    failed = BooleanProperty(False)
    sending = BooleanProperty(False)


class OfferButton(BigButton):
    """On the ticket screen, whose every other tap goes back home: a tap here stays here."""

    def on_touch_up(self, touch: Any) -> bool:
        if super().on_touch_up(touch):
            return True
        return not self.disabled and self.collide_point(*touch.pos)


class SmsOffer:
    """The ticket screen's button and the number pad screen."""

    def __init__(self, sm: Any, app: Any) -> None:
        self.sm, self.app = sm, app
        self.enabled = False
        self.code = ""
        self.screen = SmsPhoneScreen(name="sms_phone", title=_(
            "Type your mobile number: we will text you when your turn is near"))
        self.keys: dict[str, BigButton] = {}
        for key in KEYS:
            label = {"back": _("Delete"), "ok": _("Send")}.get(key, key)
            colour = {"back": "#546e7a", "ok": "#2e7d32"}.get(key, "#1565c0")
            button = BigButton(text=label, value=key, colour=get_color_from_hex(colour))
            button.bind(on_release=lambda b: self.press(b.value))
            self.screen.ids.pad.add_widget(button)
            self.keys[key] = button
        sm.add_widget(self.screen)
        self.button = OfferButton(text=_("Get a text message when your turn is near"),
                                colour=get_color_from_hex("#00838f"), size_hint_y=None,
                                height=0, opacity=0, disabled=True)
        self.button.bind(on_release=lambda _b: self.open())
        sm.get_screen("ticket").children[0].add_widget(self.button, index=0)

    def office_changed(self, office: dict[str, Any]) -> None:
        """The services answer: offered only when the office has a gateway."""
        self.enabled = bool(office.get("sms_contact"))
        self.button.disabled = not self.enabled
        self.button.opacity = 1 if self.enabled else 0
        self.button.height = max(self.app.u * 10, 60) if self.enabled else 0

    def open(self) -> None:
        ticket = self.app.ticket or {}
        if not self.enabled or not ticket.get("code"):
            return
        self.code = ticket["code"]
        self.screen.typed, self.screen.message, self.screen.failed = "", "", False
        self.sm.current = "sms_phone"
        self.app._schedule_home(IDLE_SECONDS)

    def press(self, key: str) -> None:
        s = self.screen
        if s.sending:
            return
        self.app._schedule_home(IDLE_SECONDS)
        if key == "back":
            s.typed = s.typed[:-1]
        elif key == "ok":
            self.send()
        elif len(s.typed) < MAX_DIGITS:
            s.typed += key

    def send(self) -> None:
        s = self.screen
        if not re.fullmatch(r"\d{10,11}", s.typed):
            s.failed, s.message = True, _("Please type a mobile number of 10 digits.")
            return
        s.sending, s.failed, s.message = True, False, _("Sending...")
        code, phone = self.code, s.typed
        threading.Thread(target=self._put, args=(code, phone), name="kiosk-sms",
                         daemon=True).start()

    def _put(self, code: str, phone: str) -> None:
        try:
            answer = self.app.client.request("PUT", f"/tickets/{code}/contact",
                                             json_body={"phone": phone})
        except ApiError as err:
            self._done(None, _("Cannot reach the server. Please try again.")
                       if err.unreachable else err.message)
            return
        self._done(answer, "")

    @mainthread
    def _done(self, answer: dict[str, Any] | None, error: str) -> None:
        s = self.screen
        s.sending = False
        if answer is None:
            s.failed, s.message = True, error
            return
        s.failed, s.typed = False, ""
        s.message = _("Done. A text message will go to {phone} when your turn is near.").format(
            phone=answer["phone"])
        self.app._schedule_home(DONE_SECONDS)


def add_sms_screen(sm: Any, app: Any) -> SmsOffer:
    """Add ``sms_phone`` and the ticket screen's offer (hidden until the office has a gateway)."""
    Builder.load_string(KV)
    app.sms_offer = SmsOffer(sm, app)
    return app.sms_offer
