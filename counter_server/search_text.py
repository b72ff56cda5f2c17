"""Search text without diacritics or case, for the procedure guide.

The server stores each procedure's folded text and the kiosk searches a
fetched list with the same function, so "dang ky tam tru" finds "Đăng ký
tạm trú" on both sides.  Standard library only: the kiosk imports this.
"""
from __future__ import annotations

import re
import unicodedata

# đ/Đ are letters of their own, not d + a mark: NFD leaves them whole.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: marks and punctuation dropped."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", bare.casefold()).strip()


def terms(query: str) -> list[str]:
    """The words of a query, folded (empty: no filter)."""
    return fold(query).split()


def matches(folded_text: str, query_terms: list[str]) -> bool:
    """Every word of the query appears in the text (as the start of one of its words)."""
    padded = " " + folded_text
    return all(" " + t in padded for t in query_terms)
