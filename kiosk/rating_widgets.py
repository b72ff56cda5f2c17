"""Widgets of the rating screens: faces drawn on the canvas, the officer's avatar.

Faces are drawn with Kivy canvas instructions in each level's own colour
(from the office settings) rather than shipped as images, so an office that
changes a colour or adds a fifth level needs no new artwork.  Everything
a citizen presses is at least 15 mm on the glass (:func:`min_touch`).
"""
from __future__ import annotations

import colorsys
from pathlib import Path
from typing import Any

from kivy.graphics import Color, Ellipse, Line
from kivy.metrics import mm
from kivy.properties import (BooleanProperty, ColorProperty, ListProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget
from kivy.utils import get_color_from_hex

from counter_server.i18n import translator

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
tr = translator(LOCALE_DIR, "rating")

def min_touch() -> float:
    """Smallest side, in pixels, of anything a citizen presses (15 mm: elderly
    fingers).  A function, not a constant: asking for the screen's dpi opens
    Kivy's window, which must wait until the window size is configured."""
    return mm(15)

#: Mouth curvature by face name: +1 a broad smile, -1 a frown.
FACE_CURVES = {"very_happy": 1.0, "happy": 0.55, "neutral": 0.0, "unhappy": -0.6,
               "very_unhappy": -1.0}


def hex_color(value: str, default: str = "#607d8b") -> list[float]:
    """An office colour such as ``#1b9e3e`` as RGBA; bad input falls back to grey."""
    try:
        return list(get_color_from_hex(value or default))
    except (ValueError, TypeError):
        return list(get_color_from_hex(default))


#: Background of every rating screen; captions are made readable against it.
BACKGROUND = "#f4f7fb"
#: WCAG AA for normal text: captions are read by elderly citizens at arm's length.
MIN_CONTRAST = 4.5


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: list[float], b: list[float]) -> float:
    """WCAG contrast ratio of two RGB(A) colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(colour: list[float], background: str = BACKGROUND,
                ratio: float = MIN_CONTRAST) -> list[float]:
    """``colour`` darkened just enough (same hue) to reach ``ratio`` on ``background``:
    a caption keeps its face's colour family, a light yellow becomes a dark amber."""
    back = hex_color(background)
    h, l, s = colorsys.rgb_to_hls(*colour[:3])
    while contrast(list(colorsys.hls_to_rgb(h, l, s)), back) < ratio and l > 0:
        l = max(0.0, l - 0.01)
    return [*colorsys.hls_to_rgb(h, l, s), 1.0]


def initials(full_name: str) -> str:
    """Vietnamese names: the family name and the given (last) name, e.g. "NH"."""
    parts = [p for p in (full_name or "").split() if p]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper()
    return (parts[0][0] + parts[-1][0]).upper()


class Fold(BoxLayout):
    """A box that folds to nothing (height 0, opacity 0) while something else
    needs its room.  Folded, its contents stick out of it unseen: they must
    not catch touches either, so it passes on only the touches inside it."""

    def on_touch_down(self, touch: Any) -> bool:
        return bool(self.collide_point(*touch.pos) and super().on_touch_down(touch))


class FaceButton(ButtonBehavior, Widget):
    """One satisfaction level: a coloured face that grows dark while pressed."""

    face = StringProperty("neutral")
    color = ColorProperty([0.5, 0.5, 0.5, 1])
    label = StringProperty("")
    value = ObjectProperty(None)
    selected = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self.redraw, size=self.redraw, face=self.redraw, color=self.redraw,
                  state=self.redraw, selected=self.redraw)
        self.redraw()

    def face_box(self) -> tuple[float, float, float]:
        """Centre x, centre y and diameter of the face inside the widget."""
        d = max(min(self.width, self.height) * 0.92, 1)
        # Sit on the caption below rather than float in the middle of a tall cell.
        return self.center_x, self.y + d / 2 + self.height * 0.02, d

    def redraw(self, *_args) -> None:
        cx, cy, d = self.face_box()
        r = d / 2
        fill = list(self.color)
        if self.state == "down" or self.selected:
            fill = [c * 0.75 for c in fill[:3]] + [1]
        stroke = max(d * 0.045, 2)
        self.canvas.clear()
        with self.canvas:
            Color(*fill)
            Ellipse(pos=(cx - r, cy - r), size=(d, d))
            if self.selected:
                Color(1, 1, 1, 1)
                Line(circle=(cx, cy, r - stroke), width=stroke * 0.6)
            Color(1, 1, 1, 1)
            eye = d * 0.11
            for ex in (cx - r * 0.36, cx + r * 0.36):
                Ellipse(pos=(ex - eye / 2, cy + r * 0.18), size=(eye, eye * 1.25))
            self._mouth(cx, cy, r, stroke)

    def _mouth(self, cx: float, cy: float, r: float, width: float) -> None:
        curve = FACE_CURVES.get(self.face, 0.0)
        half = r * 0.46
        base = cy - r * 0.32
        if abs(curve) < 0.05:
            Line(points=[cx - half, base, cx + half, base], width=width, cap="round")
            return
        # A parabola through both mouth corners, bowed by the level's curvature.
        depth = r * 0.32 * curve
        pts = []
        for i in range(17):
            t = -1 + i / 8
            pts += [cx + half * t, base - depth * (1 - t * t) + (depth if curve < 0 else 0) * 0.4]
        Line(points=pts, width=width, cap="round", joint="round")
        if self.face == "very_happy":  # an open smile
            Line(points=[pts[0], pts[1], pts[-2], pts[-1]], width=width, cap="round")


class OfficerAvatar(Widget):
    """The officer's photo, or their initials on a coloured disc when there is none."""

    texture = ObjectProperty(None, allownone=True)
    full_name = StringProperty("")
    text = StringProperty("?")
    color = ListProperty([0.09, 0.4, 0.75, 1])

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bind(full_name=self._update_text)
        self._update_text()

    def _update_text(self, *_args) -> None:
        self.text = initials(self.full_name)
        # The same officer always gets the same colour.
        hue = (sum(map(ord, self.full_name)) % 360) / 360 if self.full_name else 0.58
        r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.7)
        self.color = [r, g, b, 1]


__all__ = ["OfficerAvatar", "FaceButton", "BACKGROUND", "contrast", "min_touch", "hex_color",
           "initials", "readable_on", "tr"]
