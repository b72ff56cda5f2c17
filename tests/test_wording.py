"""Wording the office agreed on (STYLE.md, issue 15): a ticket is "vé" everywhere
(the rating screens, the phone page and the server's messages once said
"phiếu"), and citizens are addressed "ông/bà", never "bạn"."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
#: Catalogs only citizens read (the kiosk, the rating screens, the phone page, the TV).
CITIZEN_CATALOGS = ("kiosk/locale/vi/LC_MESSAGES/kiosk.po", "kiosk/locale/vi/LC_MESSAGES/rating.po",
                    "kiosk/locale/vi/LC_MESSAGES/printing.po",
                    "counter_server/locale/vi/LC_MESSAGES/phone.po")
#: A "phiếu" that is not a ticket: the printed checklist of papers.
CHECKLIST = re.compile(r"phiếu (?:danh mục|kiểm tra)", re.IGNORECASE)


def vietnamese(path: Path) -> list[tuple[str, str]]:
    with path.open("rb") as fh:
        return [(m.id if isinstance(m.id, str) else m.id[0],
                 m.string if isinstance(m.string, str) else m.string[0])
                for m in read_po(fh) if m.id and m.string]


def test_a_ticket_is_ve_everywhere():
    catalogs = sorted(ROOT.glob("*/locale/vi/LC_MESSAGES/*.po"))
    assert len(catalogs) >= 8
    wrong = [(po.relative_to(ROOT).as_posix(), text) for po in catalogs
             for _msgid, text in vietnamese(po)
             if re.search(r"\bphiếu\b", CHECKLIST.sub("", text), re.IGNORECASE)]
    assert not wrong, wrong


def test_citizens_are_addressed_ong_ba():
    wrong = [(name, text) for name in CITIZEN_CATALOGS for _msgid, text in vietnamese(ROOT / name)
             if re.search(r"\bbạn\b", text, re.IGNORECASE)]
    assert not wrong, wrong
    templates = [p for p in (ROOT / "counter_server" / "templates" / "phone").glob("*.html")]
    assert templates and not [p.name for p in templates
                              if re.search(r"\bbạn\b", p.read_text(encoding="utf-8"), re.I)]
