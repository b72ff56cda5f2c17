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


def patterns(query_terms: list[str]) -> list[str]:
    """What each query word must be found as in ``" " + folded text + " "``: a whole word,
    except the last one, which may be the start of a word (the citizen is still typing)."""
    last = len(query_terms) - 1
    return [f" {t} " if i < last else f" {t}" for i, t in enumerate(query_terms)]


def matches(folded_text: str, query_terms: list[str]) -> bool:
    """Every word of the query is in the text (see :func:`patterns`)."""
    padded = f" {folded_text} "
    return all(p in padded for p in patterns(query_terms))
