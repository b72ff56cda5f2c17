"""Widget classes of the lobby kiosk; their look lives in ``kiosk.kv``.

The classes only carry state (Kivy properties) and touch handling, so the
layout can be changed in the .kv file without touching Python.
"""
from __future__ import annotations

import time

from kivy.factory import Factory
from kivy.properties import (BooleanProperty, ColorProperty, NumericProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import Screen

# The ticket number is drawn from glyph textures cached per size (the display's
# widget): rasterising a new 300-px label costs tens of milliseconds per ticket.
Factory.register("NumberView", module="display.numbers_view")


class BigButton(ButtonBehavior, BoxLayout):
    """A large coloured touch target with a pictogram and a label."""

    text = StringProperty("")
    subtext = StringProperty("")
    icon = StringProperty("")
    colour = ColorProperty("#1565c0")
    text_colour = ColorProperty("#ffffff")
    value = StringProperty("")
    #: Read aloud by a first touch, waiting for the second (speech on): outlined.
    armed = BooleanProperty(False)


class ServiceButton(ButtonBehavior, BoxLayout):
    """One service (lĩnh vực): icon, name, people waiting, estimated wait, or why it is closed."""

    service_id = NumericProperty(0)
    name = StringProperty("")
    icon = StringProperty("")
    colour = ColorProperty("#1565c0")
    is_open = BooleanProperty(True)
    waiting_text = StringProperty("")
    wait_text = StringProperty("")
    closed_text = StringProperty("")
    #: Read aloud by a first touch, waiting for the second (speech on): outlined.
    armed = BooleanProperty(False)


class GuardedScreen(Screen):
    """A screen that ignores touches for a moment after it appears.

    The second half of a double tap on the previous screen would otherwise
    land on whatever button this screen has at the same place.
    """

    guard_seconds = NumericProperty(0.6)
    entered_at = NumericProperty(0.0)
    app = ObjectProperty(None, allownone=True)

    def on_pre_enter(self, *args: object) -> None:
        self.entered_at = time.monotonic()

    def on_touch_down(self, touch: object) -> bool:
        if time.monotonic() - self.entered_at < self.guard_seconds:
            return True
        return super().on_touch_down(touch)


class HomeScreen(Screen):
    pass


class PriorityScreen(GuardedScreen):
    pass


class TicketScreen(GuardedScreen):
    def on_touch_up(self, touch: object) -> bool:
        """A tap anywhere on the ticket goes back home (after the guard time)."""
        if super().on_touch_up(touch):
            return True
        if self.collide_point(*touch.pos) and time.monotonic() - self.entered_at >= self.guard_seconds:
            from kivy.app import App

            App.get_running_app().go_home()
            return True
        return False


class ClosedScreen(Screen):
    pass


class ReconnectOverlay(FloatLayout):
    """Covers a screen while the server is away; swallows taps so nothing is half-issued."""

    def on_touch_down(self, touch: object) -> bool:
        return self.opacity > 0 or super().on_touch_down(touch)

    def on_touch_up(self, touch: object) -> bool:
        return self.opacity > 0 or super().on_touch_up(touch)
