"""Vietnamese number reading for spoken announcements.

Speech engines read digits badly in Vietnamese (espeak-ng says "1005" as a
string of digits or with the wrong connective words, and recorded clips have
no idea what a number is), so the announcement text is always built from
words here.  The rules are the ones a Vietnamese speaker expects:

* ``linh`` (or ``lẻ``, configurable) for a zero in the tens place: 105 "một
  trăm linh năm";
* ``mười`` for the tens digit one, ``mươi`` for two to nine;
* ``mốt`` for a one after ``mươi`` (21 "hai mươi mốt", but 11 "mười một");
* ``tư`` for a four after ``mươi`` (24 "hai mươi tư", but 14 "mười bốn");
* ``lăm`` for a five after ``mười``/``mươi`` (15 "mười lăm", 25 "hai mươi
  lăm", but 105 "một trăm linh năm");
* ``không trăm`` when an inner group of three digits has no hundreds (1005
  "một nghìn không trăm linh năm");
* ``nghìn`` (or ``ngàn``), ``triệu``, ``tỷ``.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = [
    "DIGIT_WORDS",
    "LETTER_NAMES",
    "MAX_NUMBER",
    "NUMBER_WORDS",
    "read_digits",
    "read_letters",
    "read_number",
    "read_ticket_number",
]

DIGIT_WORDS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

#: Every word :func:`read_number` and :func:`read_digits` can produce; the
#: clips engine uses it to tell an office which recordings it needs.
NUMBER_WORDS: tuple[str, ...] = DIGIT_WORDS + (
    "mười", "mươi", "mốt", "tư", "lăm", "linh", "lẻ", "trăm", "nghìn", "ngàn", "triệu", "tỷ",
)

#: How Vietnamese speakers name the letters of a ticket prefix ("A001").
#: Multi-syllable names are written with spaces so that each syllable can be
#: one recorded clip.
LETTER_NAMES: dict[str, str] = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê",
    "E": "e", "Ê": "ê", "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi",
    "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "Ô": "ô",
    "Ơ": "ơ", "P": "pê", "Q": "quy", "R": "e rờ", "S": "ét xì", "T": "tê",
    "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài",
    "Z": "dét",
}

#: Largest number :func:`read_number` accepts (just under "một triệu tỷ").
MAX_NUMBER = 10**15 - 1

_ZERO_TENS = ("linh", "lẻ")
_THOUSANDS = ("nghìn", "ngàn")
# Separators tolerated inside a display number ("A-001", "HT 1005", "1.005").
_SEPARATORS = re.compile(r"[\s\-_./·:]+")
_RUNS = re.compile(r"\d+|\D+")


def _check_options(zero_tens: str, thousand: str) -> None:
    if zero_tens not in _ZERO_TENS:
        raise ValueError(f"zero_tens must be one of {_ZERO_TENS}, not {zero_tens!r}")
    if thousand not in _THOUSANDS:
        raise ValueError(f"thousand must be one of {_THOUSANDS}, not {thousand!r}")


def _read_group(n: int, full: bool, zero_tens: str) -> list[str]:
    """Words for 0 < n < 1000.

    ``full`` is true when a higher group was already spoken, so the hundreds
    must be said even when zero ("không trăm") and a lone unit gets "linh".
    """
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGIT_WORDS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append(zero_tens)
            words.append(DIGIT_WORDS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [DIGIT_WORDS[tens], "mươi"]
    if units == 1:
        words.append("một" if tens == 1 else "mốt")
    elif units == 4:
        words.append("bốn" if tens == 1 else "tư")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGIT_WORDS[units])
    return words


def _read(n: int, full: bool, zero_tens: str, thousand: str) -> list[str]:
    """Words for 0 < n, split in groups of three digits; empty groups are skipped."""
    if n >= 10**9:
        high, rest = divmod(n, 10**9)
        words = _read(high, full, zero_tens, thousand) + ["tỷ"]
        if rest:
            words += _read(rest, True, zero_tens, thousand)
        return words
    words = []
    for value, scale in ((n // 10**6, "triệu"), (n // 1000 % 1000, thousand), (n % 1000, "")):
        if not value:
            continue
        words += _read_group(value, full, zero_tens)
        if scale:
            words.append(scale)
        full = True
    return words


def read_number(n: int, *, zero_tens: str = "linh", thousand: str = "nghìn") -> str:
    """Read a whole number in Vietnamese words: 1005 -> "một nghìn không trăm linh năm".

    ``zero_tens`` picks "linh" (northern, the default) or "lẻ" (southern) for
    a zero in the tens place; ``thousand`` picks "nghìn" or "ngàn".  Numbers
    up to :data:`MAX_NUMBER` are read; negative or larger numbers raise
    ``ValueError`` because a ticket never carries one.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"read_number() needs an int, not {type(n).__name__}")
    if n < 0 or n > MAX_NUMBER:
        raise ValueError(f"read_number() reads 0..{MAX_NUMBER}, not {n}")
    _check_options(zero_tens, thousand)
    if n == 0:
        return DIGIT_WORDS[0]
    return " ".join(_read(n, False, zero_tens, thousand))


def read_digits(s: str | int) -> str:
    """Read a number digit by digit: "1005" -> "một không không năm".

    Offices that announce numbers this way find it clearer in a noisy lobby;
    leading zeros are kept because they are printed on the ticket.
    Whitespace is ignored; any other non-digit raises ``ValueError``.
    """
    text = "".join(str(s).split())
    if not text or not text.isascii() or not text.isdigit():
        raise ValueError(f"read_digits() needs digits, not {s!r}")
    return " ".join(DIGIT_WORDS[int(c)] for c in text)


def read_letters(s: str) -> str:
    """Name each letter of a ticket prefix: "HT" -> "hát tê".

    Letters outside the Vietnamese/Latin alphabet raise ``ValueError``.
    """
    names = []
    for ch in unicodedata.normalize("NFC", s).upper():
        if ch.isspace():
            continue
        if ch not in LETTER_NAMES:
            raise ValueError(f"no Vietnamese name for the letter {ch!r}")
        names.append(LETTER_NAMES[ch])
    if not names:
        raise ValueError(f"read_letters() needs letters, not {s!r}")
    return " ".join(names)


def read_ticket_number(
    display_number: str | int,
    mode: str = "words",
    *,
    zero_tens: str = "linh",
    thousand: str = "nghìn",
) -> str:
    """Read a ticket's display number as it should be announced.

    A display number is plain digits ("1005") or letters and digits
    ("A001", "HT-12").  Letters are named one by one; each run of digits is
    read as a number in ``"words"`` mode (leading zeros are not spoken:
    "A001" -> "a một") or digit by digit in ``"digits"`` mode ("A001" ->
    "a không không một").  Separators such as spaces, dashes or dots are
    skipped.
    """
    if mode not in ("words", "digits"):
        raise ValueError(f"mode must be 'words' or 'digits', not {mode!r}")
    _check_options(zero_tens, thousand)
    text = _SEPARATORS.sub("", unicodedata.normalize("NFC", str(display_number)))
    if not text:
        raise ValueError(f"empty ticket number: {display_number!r}")
    parts = []
    for run in _RUNS.findall(text):
        if run.isascii() and run.isdigit():
            if mode == "digits":
                parts.append(read_digits(run))
            else:
                parts.append(read_number(int(run), zero_tens=zero_tens, thousand=thousand))
        else:
            parts.append(read_letters(run))
    return " ".join(parts)
