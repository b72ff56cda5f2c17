"""Tone marks of the on-screen Vietnamese keyboard (kiosk/vi_typing.py)."""
from __future__ import annotations

import pytest

from kiosk.vi_typing import add_tone, tone_last_word


@pytest.mark.parametrize("word,tone,expected", [
    ("a", "acute", "á"), ("A", "grave", "À"), ("me", "dot", "mẹ"),
    # two vowels, nothing after: the first; a consonant after: the second
    ("mua", "grave", "mùa"), ("hoi", "hook", "hỏi"), ("tai", "acute", "tái"),
    ("hoa", "grave", "hòa"), ("khoe", "hook", "khỏe"), ("thuy", "acute", "thúy"),
    ("toan", "acute", "toán"), ("hoang", "grave", "hoàng"), ("oanh", "acute", "oánh"),
    # a vowel with its own mark takes the tone; ươ on ơ
    ("chơ", "grave", "chờ"), ("lâu", "dot", "lậu"), ("tiên", "acute", "tiến"),
    ("thuân", "dot", "thuận"), ("ngươi", "grave", "người"), ("cưu", "acute", "cứu"),
    ("yêu", "acute", "yếu"), ("quyên", "grave", "quyền"), ("giương", "acute", "giướng"),
    # three vowels: the middle one
    ("ngoai", "acute", "ngoái"), ("xoay", "acute", "xoáy"), ("khuyu", "hook", "khuỷu"),
    # qu and gi before a vowel are consonants
    ("qua", "acute", "quá"), ("quy", "acute", "quý"), ("gia", "grave", "già"),
    ("gi", "grave", "gì"), ("gin", "grave", "gìn"),
    # a new tone replaces the old; the same one again takes it off
    ("chờ", "acute", "chớ"), ("chờ", "grave", "chơ"), ("Người", "tilde", "Ngưỡi"),
    # no vowel: nothing to mark
    ("bc", "acute", "bc"), ("", "acute", ""),
])
def test_the_tone_goes_on_the_right_vowel(word, tone, expected):
    assert add_tone(word, tone) == expected


def test_a_tone_key_marks_the_last_word_only():
    assert tone_last_word("Chờ lâu qua", "acute") == "Chờ lâu quá"
    assert tone_last_word("Cán bô", "dot") == "Cán bộ"
    assert tone_last_word("xong ", "acute") == "xong "  # nothing typed after the space yet
