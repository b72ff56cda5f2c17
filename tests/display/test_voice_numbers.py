"""Vietnamese number reading for announcements, against hand-written readings."""
from __future__ import annotations

import pytest

from display.voice.numbers import (
    LETTER_NAMES,
    MAX_NUMBER,
    NUMBER_WORDS,
    read_digits,
    read_letters,
    read_number,
    read_ticket_number,
)

# Written out by hand, not generated: the point is to catch rule mistakes.
CASES = [
    (0, "không"),
    (1, "một"),
    (2, "hai"),
    (4, "bốn"),
    (5, "năm"),
    (7, "bảy"),
    (9, "chín"),
    (10, "mười"),
    (11, "mười một"),
    (12, "mười hai"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (17, "mười bảy"),
    (19, "mười chín"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (22, "hai mươi hai"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (30, "ba mươi"),
    (31, "ba mươi mốt"),
    (41, "bốn mươi mốt"),
    (44, "bốn mươi tư"),
    (45, "bốn mươi lăm"),
    (50, "năm mươi"),
    (55, "năm mươi lăm"),
    (64, "sáu mươi tư"),
    (71, "bảy mươi mốt"),
    (88, "tám mươi tám"),
    (99, "chín mươi chín"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (114, "một trăm mười bốn"),
    (115, "một trăm mười lăm"),
    (120, "một trăm hai mươi"),
    (121, "một trăm hai mươi mốt"),
    (124, "một trăm hai mươi tư"),
    (125, "một trăm hai mươi lăm"),
    (200, "hai trăm"),
    (204, "hai trăm linh bốn"),
    (215, "hai trăm mười lăm"),
    (305, "ba trăm linh năm"),
    (999, "chín trăm chín mươi chín"),
    (1000, "một nghìn"),
    (1001, "một nghìn không trăm linh một"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (1011, "một nghìn không trăm mười một"),
    (1015, "một nghìn không trăm mười lăm"),
    (1021, "một nghìn không trăm hai mươi mốt"),
    (1050, "một nghìn không trăm năm mươi"),
    (1100, "một nghìn một trăm"),
    (1105, "một nghìn một trăm linh năm"),
    (1234, "một nghìn hai trăm ba mươi tư"),
    (1999, "một nghìn chín trăm chín mươi chín"),
    (2001, "hai nghìn không trăm linh một"),
    (2005, "hai nghìn không trăm linh năm"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (2025, "hai nghìn không trăm hai mươi lăm"),
    (3015, "ba nghìn không trăm mười lăm"),
    (5555, "năm nghìn năm trăm năm mươi lăm"),
    (9999, "chín nghìn chín trăm chín mươi chín"),
    (10000, "mười nghìn"),
    (10005, "mười nghìn không trăm linh năm"),
    (10010, "mười nghìn không trăm mười"),
    (10100, "mười nghìn một trăm"),
    (11000, "mười một nghìn"),
    (12345, "mười hai nghìn ba trăm bốn mươi lăm"),
    (15000, "mười lăm nghìn"),
    (20000, "hai mươi nghìn"),
    (21000, "hai mươi mốt nghìn"),
    (24000, "hai mươi tư nghìn"),
    (25025, "hai mươi lăm nghìn không trăm hai mươi lăm"),
    (50505, "năm mươi nghìn năm trăm linh năm"),
    (99999, "chín mươi chín nghìn chín trăm chín mươi chín"),
    (100000, "một trăm nghìn"),
    (105000, "một trăm linh năm nghìn"),
    (1000000, "một triệu"),
    (1000005, "một triệu không trăm linh năm"),
    (2015000, "hai triệu không trăm mười lăm nghìn"),
    (1000000000, "một tỷ"),
]


@pytest.mark.parametrize(("n", "words"), CASES)
def test_read_number(n: int, words: str) -> None:
    assert read_number(n) == words


def test_table_is_big_and_has_no_duplicates() -> None:
    numbers = [n for n, _ in CASES]
    assert len(CASES) >= 60
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (105, "một trăm lẻ năm"),
        (1005, "một nghìn không trăm lẻ năm"),
        (1001, "một nghìn không trăm lẻ một"),
        (204, "hai trăm lẻ bốn"),
        (1010, "một nghìn không trăm mười"),  # no zero tens: no "lẻ"
    ],
)
def test_zero_tens_le(n: int, words: str) -> None:
    assert read_number(n, zero_tens="lẻ") == words


def test_thousand_ngan() -> None:
    assert read_number(1005, thousand="ngàn") == "một ngàn không trăm linh năm"
    assert read_number(21000, thousand="ngàn", zero_tens="lẻ") == "hai mươi mốt ngàn"


def test_every_word_is_a_known_number_word() -> None:
    """The clips engine relies on NUMBER_WORDS covering every reading."""
    for n in list(range(0, 2200)) + [n for n, _ in CASES]:
        assert set(read_number(n).split()) <= set(NUMBER_WORDS), n


@pytest.mark.parametrize("bad", [-1, MAX_NUMBER + 1])
def test_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        read_number(bad)


@pytest.mark.parametrize("bad", ["12", 1.5, True, None])
def test_not_an_int(bad: object) -> None:
    with pytest.raises(TypeError):
        read_number(bad)  # type: ignore[arg-type]


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        read_number(5, zero_tens="lẽ")
    with pytest.raises(ValueError):
        read_number(5, thousand="ngan")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0", "không"),
        ("5", "năm"),
        ("1005", "một không không năm"),
        ("0042", "không không bốn hai"),
        ("1 234", "một hai ba bốn"),
        (2024, "hai không hai bốn"),
        ("15", "một năm"),  # digit by digit: never "lăm"
        ("21", "hai một"),  # never "mốt"
    ],
)
def test_read_digits(text: str | int, words: str) -> None:
    assert read_digits(text) == words


@pytest.mark.parametrize("bad", ["", " ", "A1", "1.5", "-3", "١٢"])
def test_read_digits_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        read_digits(bad)


@pytest.mark.parametrize(
    ("display", "mode", "words"),
    [
        ("1005", "words", "một nghìn không trăm linh năm"),
        ("1005", "digits", "một không không năm"),
        (2015, "words", "hai nghìn không trăm mười lăm"),
        ("A001", "words", "a một"),
        ("A001", "digits", "a không không một"),
        ("a015", "words", "a mười lăm"),
        ("B-125", "words", "bê một trăm hai mươi lăm"),
        ("C 24", "words", "xê hai mươi tư"),
        ("HT1021", "words", "hát tê một nghìn không trăm hai mươi mốt"),
        ("Đ5", "words", "đê năm"),
        ("L10", "digits", "e lờ một không"),
        ("000", "words", "không"),
    ],
)
def test_read_ticket_number(display: str | int, mode: str, words: str) -> None:
    assert read_ticket_number(display, mode) == words


def test_read_ticket_number_options() -> None:
    assert read_ticket_number("A105", zero_tens="lẻ") == "a một trăm lẻ năm"
    assert read_ticket_number("1005", thousand="ngàn") == "một ngàn không trăm linh năm"


@pytest.mark.parametrize(("display", "mode"), [("", "words"), ("--", "words"), ("A#1", "words"), ("1005", "spell")])
def test_read_ticket_number_rejects(display: str, mode: str) -> None:
    with pytest.raises(ValueError):
        read_ticket_number(display, mode)


def test_letters() -> None:
    assert read_letters("ab") == "a bê"
    assert read_letters("Ư") == "ư"
    assert set(LETTER_NAMES) >= set("ABCDEFGHIJKLMNOPQRSTUVWXYZĐ")
    with pytest.raises(ValueError):
        read_letters("1")
