"""An on-screen Vietnamese keyboard for the rating comment.

Counter tablets and the lobby kiosk are touch screens, often with no
keyboard, and Kivy's own on-screen keyboard has no Vietnamese layout.  This
one has the Latin letters, the letters with their own marks (ă â đ ê ô ơ ư)
and five tone keys that put the tone on the right vowel of the word being
typed (kiosk/vi_typing.py); a physical keyboard keeps working beside it.
"""
from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button

from .rating_widgets import Fold, hex_color, min_touch, tr
from .vi_typing import tone_last_word

LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm,.", "ăâđêôơư")
TONE_KEYS = {"acute": "á", "grave": "à", "hook": "ả", "tilde": "ã", "dot": "ạ"}  # key: label


class KeyButton(Button):
    """One key; ``key`` is what it types or does (a letter, a tone name,
    "shift", "back", "space", "done")."""

    def __init__(self, key: str, label: str, **kw: Any) -> None:
        super().__init__(text=label, font_size="22sp", background_normal="",
                         background_color=hex_color("#eceff1" if len(key) == 1 else "#cfd8dc"),
                         color=hex_color("#0d2b52"), **kw)
        self.key = key


class VietKeyboard(Fold):
    """The keys, typing into ``target`` (a TextInput) at its cursor; folded
    (height 0) while the comment is not being typed."""

    target = ObjectProperty(None, allownone=True)
    shift = BooleanProperty(False)  # the next letter in capitals
    full_height = NumericProperty(0)  # the height it needs when shown

    def __init__(self, **kw: Any) -> None:
        super().__init__(orientation="vertical", spacing=dp(6), **kw)
        key_height = max(min_touch(), dp(48))
        self.keys: list[KeyButton] = []
        rows: list[list[tuple[str, str]]] = [[(c, c) for c in r] for r in LETTER_ROWS]
        rows[0].append(("back", tr("Delete")))
        rows[2].insert(0, ("shift", "ABC"))
        rows[3] += list(TONE_KEYS.items())
        rows.append([("space", tr("Space")), ("done", tr("Done"))])
        for row in rows:
            line = BoxLayout(spacing=dp(6), size_hint_y=None, height=key_height)
            for key, label in row:
                button = KeyButton(key, label, size_hint_x=4 if key == "space" else
                                   1.6 if len(key) > 1 and key not in TONE_KEYS else 1)
                button.bind(on_release=lambda b: self.press(b.key))
                line.add_widget(button)
                self.keys.append(button)
            self.add_widget(line)
        self.full_height = len(rows) * key_height + (len(rows) - 1) * dp(6)

    def on_shift(self, _kb: Any, shift: bool) -> None:
        for button in self.keys:
            if len(button.key) == 1:
                button.text = button.key.upper() if shift else button.key

    def press(self, key: str) -> None:
        t = self.target
        if t is None:
            return
        if key == "back":
            t.do_backspace()
        elif key == "space":
            t.insert_text(" ")
        elif key == "done":
            t.focus = False
        elif key == "shift":
            self.shift = not self.shift
        elif key in TONE_KEYS:
            at = t.cursor_index()
            before = tone_last_word(t.text[:at], key)
            t.text = before + t.text[at:]
            t.cursor = t.get_cursor_from_index(len(before))
        else:
            t.insert_text(key.upper() if self.shift else key)
            self.shift = False
