"""The Kivy side of the lobby display: widgets fed by :class:`~display.controller.Controller`.

Network work runs in :class:`~display.feed.Feed` threads; their items are
queued and applied here on the Kivy thread in one batch per frame, so a slow
or absent server never freezes the screen.  Sizes derive from the window
height (``app.u`` is 1 % of it), so the layout holds from 1366×768 to 4K.
"""
from __future__ import annotations

import argparse
import gc
import datetime as dt
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.stencilview import StencilView

from counter_server.client import ApiClient
from counter_server.kivy_window import FinishedFrames
from display.voice import Announcer, VoiceError, VoiceSettings
from display.voice.player import KivySoundPlayer

from ._i18n import _
from .controller import Controller
from .feed import Feed
from .state import Call, DisplayState, voice_overrides

log = logging.getLogger(__name__)
KV = Path(__file__).resolve().parent / "display.kv"
BLINK_SECONDS = 0.5
RECENT_ROWS = 4  # what fits at the size read from 5 m
TICKER_STEP_SECONDS = 1 / 3  # 3 steps a second: what a software-rendered 1080p frame affords
TICKER_SPEED = 12  # in app.u (1 % of the height) per second
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CounterCard(BoxLayout):
    """One counter: "QUẦY 3", the number it serves in huge numerals, the service."""

    counter_text = StringProperty("")
    number = StringProperty("")
    service = StringProperty("")
    status = StringProperty("")
    highlighted = BooleanProperty(False)
    paused = BooleanProperty(False)
    band = StringProperty("")  # "TẠM DỪNG" across a paused counter's card


class Marquee(StencilView):
    """The admin's notice scrolling right to left along the bottom of the screen."""

    text = StringProperty("")
    offset = NumericProperty(0.0)
    moving = BooleanProperty(True)


def _local_now(office: dict[str, Any]) -> dt.datetime:
    try:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(office.get("timezone") or "Asia/Ho_Chi_Minh"))
    except Exception:  # no tz database (Windows without tzdata): the PC's clock
        return dt.datetime.now()


class DisplayApp(App):
    u = NumericProperty(7.68)
    office_name = StringProperty("")
    date_text = StringProperty("")
    clock_text = StringProperty("")
    connected = BooleanProperty(False)
    status_text = StringProperty("")
    notice = StringProperty("")
    blink = BooleanProperty(False)
    empty_text = StringProperty("")

    def __init__(self, args: argparse.Namespace, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.args = args
        self.kv_file = str(KV)
        self.title = "motcua — " + _("Lobby display")
        self.state = DisplayState(highlight_seconds=args.highlight_seconds)
        self.player = KivySoundPlayer()
        self.announcer: Announcer | None = None
        self.voice_error = ""
        self.controller = Controller(self.state, announce=self._announce,
                                     on_voice=self._voice_settings)
        self.client = ApiClient(args.server, args.token)
        self.feed = Feed(self.client, self._sink)
        self._items: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._lock = threading.Lock()
        self._cards: dict[int, CounterCard] = {}
        self._side_trigger = Clock.create_trigger(self._update_side, 0.05)
        self.card_listeners: list[Callable[[int, str, float], None]] = []
        self.status_text = _("Connecting to the server…")
        self.frames: FinishedFrames | None = None  # (the soak bench reads frames.drawn)
        self.announce_requests = 0  # calls handed to the announcer (said or skipped, logged)
        self._ticker: Any = None

    def i18n(self, message: str) -> str:
        """``app.i18n(...)`` in the .kv file: the display's Vietnamese catalog."""
        return _(message)

    # ------------------------------------------------------------- lifecycle
    def build(self) -> Any:
        root = Factory.DisplayRoot()  # display.kv is loaded by App.load_kv (kv_file)
        self.frames = FinishedFrames()
        Window.bind(size=self._resized)
        self._resized(Window, Window.size)
        return root

    def on_start(self) -> None:
        self._tick_clock(0)
        # Every tick below changes what is drawn only when its text or colour
        # changes: the clock once a minute, the blink while a call is lit.
        Clock.schedule_interval(self._tick_clock, 1.0)
        Clock.schedule_interval(self._tick_blink, BLINK_SECONDS)
        self.feed.start()
        self.update_view()
        # Everything built so far lives as long as the app: keep it out of the
        # collector's full passes, which otherwise stall the UI thread for
        # tens of milliseconds at random moments (a call would wait for them).
        gc.collect()
        gc.freeze()

    def on_stop(self) -> None:
        self.feed.stop()
        if self.announcer is not None:
            self.announcer.stop(timeout=1.0)

    def _resized(self, _win: Any, size: tuple[int, int]) -> None:
        self.u = size[1] / 100.0

    # ------------------------------------------------------------- feed → UI
    def _sink(self, kind: str, *args: Any) -> None:
        """Called from feed threads: queue and wake the Kivy thread."""
        with self._lock:
            self._items.append((kind, args))
        Clock.schedule_once(self._drain, -1)

    def _drain(self, _dt: float) -> None:
        with self._lock:
            items, self._items = list(self._items), deque()
        if not items:
            return
        for kind, args in items:
            self.controller.handle(kind, *args)
        self.update_view()

    # ------------------------------------------------------------- voice
    def _voice_settings(self, block: dict[str, Any]) -> None:
        if self.args.no_voice:
            return
        fields = voice_overrides(block)
        if self.args.voice_engine:
            fields["engine"] = self.args.voice_engine
        if self.args.clips_dir:
            fields["clips_dir"] = self.args.clips_dir
        try:
            settings = VoiceSettings.from_dict(fields)
        except (ValueError, VoiceError) as exc:
            self.voice_error = str(exc)
            log.warning("voice disabled: %s", exc)
            return
        self.voice_error = ""
        if self.announcer is None:
            self.announcer = Announcer(settings, play=self.player, on_error=self._voice_failed)
        else:
            self.announcer.set_settings(settings)

    def _voice_failed(self, exc: BaseException) -> None:
        self.voice_error = str(getattr(exc, "message", None) or exc)

    def _announce(self, call: Call) -> None:
        if self.announcer is not None:
            self.announce_requests += 1
            self.announcer.announce(call.display_number, call.counter_number)

    # ------------------------------------------------------------- view
    def update_view(self) -> None:
        root = self.root
        if root is None:
            return
        st = self.state
        self.office_name = st.office.get("name") or ""
        self.notice = (st.office.get("notice") or "").strip()
        self._set_ticker(st.ticker and bool(self.notice))
        self.connected = self.controller.connected
        if not self.connected and self.controller.not_registered:
            self.status_text = _("This display is not registered: the server refuses its "
                                 "device token. Ask the administrator for a display token.")
        elif not self.connected:
            self.status_text = _("Disconnected from the server — reconnecting…")
        lit = st.highlighted()
        shown = st.shown_counters()
        grid = root.ids.grid
        if [c.number for c in shown] != list(self._cards):
            grid.clear_widgets()
            self._cards = {}
            n = len(shown)
            grid.cols = 1 if n <= 1 else 2 if n <= 4 else 3 if n <= 9 else 4
            for c in shown:
                card = Factory.CounterCard()
                self._cards[c.number] = card
                grid.add_widget(card)
        self.empty_text = "" if shown else _("No counter is open yet")
        for c in shown:
            card = self._cards[c.number]
            card.counter_text = _("COUNTER") + f" {c.number}"
            card.paused = c.state == "paused"
            card.status = _("Paused") if card.paused else ""
            card.band = card.status.upper()
            changed = card.number != (c.display_number or "—")
            card.number = c.display_number or "—"
            card.service = (c.pause_reason or "") if card.paused else c.service_name
            card.highlighted = c.number in lit
            if changed:
                now = time.perf_counter()
                for listener in self.card_listeners:
                    listener(c.number, card.number, now)
        # The side panel re-renders several texts: one frame later, so the
        # new number reaches the screen first.
        self._side_trigger()

    def _update_side(self, _dt: float = 0) -> None:
        root, st = self.root, self.state
        calls = list(st.recent)[:RECENT_ROWS]
        self._fill(root.ids.recent_box, "RecentRow", len(calls))
        for row, call in zip(reversed(root.ids.recent_box.children), calls):
            row.number = call.display_number
            row.counter = _("Counter") + f" {call.counter_number}"
        self._fill(root.ids.waiting_box, "WaitingRow", len(st.services))
        for row, svc in zip(reversed(root.ids.waiting_box.children), st.services):
            row.service, row.count = svc.get("name") or "", str(svc.get("waiting", 0))

    @staticmethod
    def _fill(box: Any, rule: str, count: int) -> None:
        """Keep exactly ``count`` rows, reusing the existing widgets.

        Setting a Kivy property to the value it already has costs nothing,
        while building a row re-renders every text: reuse keeps a call's
        path to the screen short.
        """
        while len(box.children) > count:
            box.remove_widget(box.children[0])
        while len(box.children) < count:
            box.add_widget(getattr(Factory, rule)())

    def _tick_clock(self, _dt: float) -> None:
        now = _local_now(self.state.office)
        self.date_text = f"{_(WEEKDAYS[now.weekday()])}, {now:%d/%m/%Y}"
        self.clock_text = f"{now:%H:%M}"

    def _tick_blink(self, _dt: float) -> None:
        lit = self.state.highlighted()
        self.blink = not self.blink if lit else False
        for number, card in self._cards.items():
            card.highlighted = number in lit

    def _set_ticker(self, on: bool) -> None:
        """Scroll the notice (office setting ``display_ticker``) or show it still.

        Every step of the ticker redraws the whole window; with software
        OpenGL a 1920x1080 frame costs the PC tens of milliseconds, so the
        notice moves in 3 steps a second, not at 30 frames.
        """
        marquee = self.root.ids.marquee
        marquee.moving = on
        if on and self._ticker is None:
            self._ticker = Clock.schedule_interval(self._tick_marquee, TICKER_STEP_SECONDS)
        elif not on and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
            marquee.offset = 0

    def _tick_marquee(self, dt_: float) -> None:
        if self.root is None:
            return
        marquee = self.root.ids.marquee
        label = marquee.ids.label
        if not marquee.text:
            return
        marquee.offset -= self.u * TICKER_SPEED * dt_
        if marquee.offset < -label.texture_size[0]:
            marquee.offset = marquee.width

    # ------------------------------------------------------------- tests
    def visible_texts(self) -> list[str]:
        """Every label text on screen (for tests reading what people would read)."""
        out: list[str] = []
        stack = [self.root] if self.root is not None else []
        while stack:
            w = stack.pop()
            text = getattr(w, "text", None)
            if isinstance(text, str) and text and w.opacity > 0:
                out.append(text)
            stack.extend(w.children)
        return out
