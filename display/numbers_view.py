"""Numerals (and short labels such as "Quầy 3") drawn from cached glyph textures.

A counter card's number is several hundred pixels tall; rasterising it as a
new Label texture on every call costs tens of milliseconds (more at 4K) on
an office PC's integrated or software GPU, right when the new number should
appear.  Ticket numbers use a handful of characters, so each character is
rendered once per size and a new number is only a few rectangles.
"""
from __future__ import annotations

from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle
from kivy.properties import ColorProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.widget import Widget

_glyphs: dict[int, dict[str, Any]] = {}  # font size -> char -> texture
_MAX_SIZES = 12  # card number, label and band, side lists, clock, plus a few while resized


def glyph(ch: str, size: int) -> Any:
    """The texture of ``ch`` at ``size`` px (bold), rendered once."""
    per_size = _glyphs.get(size)
    if per_size is None:
        while len(_glyphs) >= _MAX_SIZES:
            _glyphs.pop(next(iter(_glyphs)))
        per_size = _glyphs[size] = {}
    tex = per_size.get(ch)
    if tex is None:
        label = CoreLabel(text=ch, font_size=size, bold=True)
        label.refresh()
        tex = per_size[ch] = label.texture
    return tex


class NumberView(Widget):
    """``text`` centred in the widget, each character from :func:`glyph`."""

    text = StringProperty("")
    font_size = NumericProperty(100)
    color = ColorProperty([1, 1, 1, 1])
    halign = OptionProperty("center", options=("center", "right"))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(text=self._redraw, font_size=self._redraw, pos=self._redraw,
                  size=self._redraw, color=self._redraw, halign=self._redraw)

    def _redraw(self, *_args: Any) -> None:
        size = max(8, int(self.font_size))
        textures = [glyph(ch, size) for ch in self.text]
        width = sum(t.width for t in textures)
        x = self.right - width if self.halign == "right" else self.center_x - width / 2
        self.canvas.clear()
        with self.canvas:
            Color(*self.color)
            for tex in textures:
                Rectangle(texture=tex, size=tex.size, pos=(x, self.center_y - tex.height / 2))
                x += tex.width
