"""Vietnamese tone marks for the on-screen keyboard (no Kivy in here).

The keyboard has keys for the letters with their own marks (ă â đ ê ô ơ ư)
and five tone keys.  A tone key puts its tone on the right vowel of the word
before the cursor, as people write by hand and as Unikey's default ("kiểu
cũ") does: ``hòa``, ``khỏe``, ``thúy``, ``toán``, ``người``, ``quá``, ``già``.
Pressing the tone the word already has takes it off again.
"""
from __future__ import annotations

import unicodedata

TONES = {"acute": "\u0301", "grave": "\u0300", "hook": "\u0309", "tilde": "\u0303",
         "dot": "\u0323"}
_TONE_MARKS = set(TONES.values())
_VOWELS = set("aăâeêioôơuưy")
_MARKED = set("ăâêôơư")  # vowels that carry a shape mark: they take the tone first


def _split(word: str) -> list[tuple[str, str]]:
    """Each letter as (base letter in lower case with its shape mark, tone mark)."""
    out = []
    for ch in word:
        parts = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in parts if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        out.append((base, tone))
    return out


def tone_position(word: str) -> int | None:
    """Index of the letter of ``word`` that carries the tone (None: no vowel)."""
    letters = [base.lower() for base, _tone in _split(word)]
    vowels = [i for i, c in enumerate(letters) if c in _VOWELS]
    if not vowels:
        return None
    # The vowels of the syllable: the last run of vowels ("qu" and "gi" before
    # another vowel are consonants).
    run = [vowels[-1]]
    for i in reversed(vowels[:-1]):
        if i == run[0] - 1:
            run.insert(0, i)
    if len(run) > 1 and run[0] == 1 and (letters[0], letters[1]) in (("q", "u"), ("g", "i")):
        run = run[1:]
    marked = [i for i in run if letters[i] in _MARKED]
    if marked:
        return marked[-1]  # ươ: on ơ
    if len(run) == 3:
        return run[1]
    if len(run) == 2:
        closed = run[-1] < len(letters) - 1  # a final consonant follows
        return run[1] if closed else run[0]
    return run[0]


def add_tone(word: str, tone: str) -> str:
    """``word`` with ``tone`` (a key of TONES) on its tone-bearing vowel; any
    other tone it had goes.  The same tone again takes it off."""
    pos = tone_position(word)
    if pos is None:
        return word
    letters = _split(word)
    had = next((t for _b, t in letters if t), "")
    mark = "" if had == TONES[tone] else TONES[tone]
    out = [base for base, _t in letters]
    out[pos] = unicodedata.normalize("NFC", out[pos] + mark)
    return "".join(out)


def tone_last_word(text: str, tone: str) -> str:
    """``text`` with ``tone`` on its last word (what a tone key does)."""
    head, sep, last = text.rpartition(" ")
    return f"{head}{sep}{add_tone(last, tone)}"
