"""The rating sequence both devices share: faces → reasons (low level) → thank-you.

The counter tablet starts it when its counter completes a ticket; the lobby
kiosk starts it once the citizen has found their ticket.  The flow owns the
time-outs (an unattended screen goes back by itself) and hands the finished
rating to ``submit`` — in practice the on-disk queue, so a press is never
lost.  A low level still counts when its reasons screen times out.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, DictProperty, ListProperty, NumericProperty,
                             ObjectProperty, StringProperty)
from kivy.uix.screenmanager import Screen, ScreenManager

from . import vi_keyboard  # noqa: F401  (VietKeyboard, used by rating.kv)
from .rating_widgets import FaceButton, hex_color, readable_on, tr

KV_DIR = Path(__file__).resolve().parent
FACES, REASONS, THANKS = "rate_faces", "rate_reasons", "rate_thanks"


def load_kv(name: str) -> None:
    """Load one of this package's .kv files once per process."""
    path = str(KV_DIR / name)
    if path not in Builder.files:
        Builder.load_file(path)


class RateFacesScreen(Screen):
    flow = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    subtitle = StringProperty("")
    seconds_left = NumericProperty(0)
    levels = ListProperty([])
    buttons = ListProperty([])

    def on_levels(self, _screen: Screen, levels: list[dict[str, Any]]) -> None:
        from kivy.factory import Factory

        self.buttons = face_widgets(levels, lambda v: self.flow.choose(v), self.ids.faces,
                                    Factory.RateFaceCaption)


class RateReasonsScreen(Screen):
    flow = ObjectProperty(None, allownone=True)
    reasons = ListProperty([])
    chosen = ListProperty([])
    level_label = StringProperty("")
    seconds_left = NumericProperty(0)

    def on_reasons(self, _screen: Screen, reasons: list[dict[str, Any]]) -> None:
        from kivy.factory import Factory

        grid = self.ids.reasons_grid
        grid.clear_widgets()
        for r in reasons:
            btn = Factory.RateReasonToggle(text=r["label"])
            btn.code = r["code"]  # a kv-declared property exists only after construction
            btn.bind(on_release=lambda b: self.flow.toggle_reason(b.code, b.state == "down"))
            grid.add_widget(btn)

    def on_chosen(self, _screen: Screen, chosen: list[str]) -> None:
        for btn in self.ids.reasons_grid.children:
            btn.state = "down" if btn.code in chosen else "normal"

    def on_leave(self, *_args: Any) -> None:
        self.ids.comment.focus = False  # (the comment keeps it: see rating.kv)


class RateThanksScreen(Screen):
    flow = ObjectProperty(None, allownone=True)
    level = DictProperty({})
    note = StringProperty("")


class RatingFlow(EventDispatcher):
    """Drives the three shared screens inside the caller's ScreenManager.

    ``submit(rating)`` receives ``{level, ticket_code, reasons, comment}``;
    ``on_done()`` is called when the flow leaves its screens (after the
    thank-you, or when nobody pressed anything in time)."""

    active = BooleanProperty(False)
    ticket = DictProperty({})
    levels = ListProperty([])
    reasons = ListProperty([])

    def __init__(self, manager: ScreenManager, *, submit: Callable[[dict[str, Any]], None],
                 on_done: Callable[[], None], faces_timeout: float = 30.0,
                 reasons_timeout: float = 45.0, thanks_seconds: float = 4.0) -> None:
        super().__init__()
        load_kv("rating.kv")
        self.manager, self.submit, self.on_done = manager, submit, on_done
        self.faces_timeout, self.reasons_timeout = faces_timeout, reasons_timeout
        self.thanks_seconds = thanks_seconds
        self.faces = RateFacesScreen(name=FACES)
        self.reasons_screen = RateReasonsScreen(name=REASONS)
        self.thanks = RateThanksScreen(name=THANKS)
        for sc in (self.faces, self.reasons_screen, self.thanks):
            manager.add_widget(sc)
        self.faces.flow = self.reasons_screen.flow = self.thanks.flow = self
        self._tick = None
        self._level: dict[str, Any] = {}
        self.set_config({})

    # --------------------------------------------------------------- settings
    def set_config(self, rating: dict[str, Any]) -> None:
        """Levels and reasons as GET /services returns them (office settings)."""
        from counter_server.defaults import DEFAULT_RATING_LEVELS, DEFAULT_RATING_REASONS

        self.levels = list(rating.get("levels") or DEFAULT_RATING_LEVELS)
        self.reasons = list(rating.get("reasons") or DEFAULT_RATING_REASONS)
        if rating.get("timeout_seconds"):
            self.faces_timeout = float(rating["timeout_seconds"])
        self.faces.levels = self.levels
        self.reasons_screen.reasons = self.reasons

    # --------------------------------------------------------------- steps
    def start(self, ticket: dict[str, Any]) -> None:
        """Show the faces for one ticket (``code`` may be None: a press to be flagged)."""
        if self.active and self._level:
            self.send()  # a level chosen on the reasons screen still counts
        self.ticket = dict(ticket)
        self.active = True
        number = ticket.get("display_number")
        self.faces.title = tr("How satisfied are you with the handling of your case?")
        parts = []
        if number:
            parts.append(tr("Ticket {number}").format(number=number))
        if ticket.get("staff_name"):
            parts.append(tr("Officer: {name}").format(name=ticket["staff_name"]))
        if ticket.get("service_name"):
            parts.append(ticket["service_name"])
        self.faces.subtitle = "  ·  ".join(parts)
        self._countdown(self.faces, self.faces_timeout, self.give_up)
        self.manager.current = FACES

    def choose(self, value: Any) -> None:
        """A face was pressed."""
        level = next((lv for lv in self.levels if lv["value"] == value), None)
        if level is None or not self.active or self.manager.current != FACES:
            return
        self._level = level
        if level.get("low") and self.reasons:
            rs = self.reasons_screen
            rs.chosen = []
            rs.level_label = level["label"]
            if "comment" in rs.ids:
                rs.ids.comment.text = ""
            self._countdown(rs, self.reasons_timeout, self.send)
            self.manager.current = REASONS
        else:
            self.send()

    def toggle_reason(self, code: str, down: bool) -> None:
        chosen = [c for c in self.reasons_screen.chosen if c != code]
        self.reasons_screen.chosen = chosen + [code] if down else chosen
        self.poke()

    def poke(self) -> None:
        """Someone is still filling in the reasons: restart their time-out."""
        if self.active and self.manager.current == REASONS:
            self._countdown(self.reasons_screen, self.reasons_timeout, self.send)

    def send(self, *_args: Any) -> None:
        """Hand the rating over (to the queue) and thank the citizen."""
        if not self.active or not self._level:
            return
        rs = self.reasons_screen
        low = bool(self._level.get("low"))
        comment = rs.ids.comment.text.strip() if low and "comment" in rs.ids else ""
        rating = {"level": self._level["value"], "ticket_code": self.ticket.get("code"),
                  "reasons": list(rs.chosen) if low else [], "comment": comment}
        self.submit(rating)
        self.thanks.level = self._level
        self.thanks.note = ""
        self._level = {}
        self._countdown(self.thanks, self.thanks_seconds, self.finish, show=False)
        self.manager.current = THANKS

    def give_up(self, *_args: Any) -> None:
        """Nobody pressed in time: back to the caller's screen, nothing stored."""
        self.finish()

    def finish(self, *_args: Any) -> None:
        self._stop_tick()
        self.active = False
        self._level = {}
        self.ticket = {}
        self.on_done()

    # --------------------------------------------------------------- timing
    def _countdown(self, screen: Screen, seconds: float, then: Callable, show: bool = True) -> None:
        self._stop_tick()
        screen.seconds_left = int(seconds) if show else 0
        state = {"left": float(seconds)}

        def tick(dt: float) -> bool:
            state["left"] -= dt
            if show:
                screen.seconds_left = max(0, int(state["left"] + 0.999))
            if state["left"] <= 0:
                self._tick = None
                then()
                return False
            return True

        self._tick = Clock.schedule_interval(tick, 0.25)

    def _stop_tick(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None


def face_widgets(levels: list[dict[str, Any]], on_press: Callable[[Any], None],
                 container: Any, label_cls: Any) -> list[FaceButton]:
    """Fill ``container`` with one face (and its caption) per level, best first."""
    from kivy.uix.boxlayout import BoxLayout

    container.clear_widgets()
    buttons = []
    for lv in levels:
        box = BoxLayout(orientation="vertical", spacing="6dp")
        btn = FaceButton(face=lv.get("face", "neutral"), color=hex_color(lv.get("color", "")),
                         label=lv["label"], value=lv["value"])
        btn.bind(on_release=lambda b: on_press(b.value))
        cap = label_cls(text=lv["label"], color=readable_on(hex_color(lv.get("color", ""))))
        box.add_widget(btn)
        box.add_widget(cap)
        container.add_widget(box)
        buttons.append(btn)
    return buttons


__all__ = ["FACES", "REASONS", "THANKS", "RatingFlow", "face_widgets", "load_kv", "tr"]
