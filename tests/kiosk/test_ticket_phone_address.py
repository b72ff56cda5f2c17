"""The ticket tells phones where to go: the office's public address in the QR and,
when set, a short Wi-Fi line, checked in the ESC/POS bytes a printer receives."""
from __future__ import annotations

from PIL import Image

from kiosk.printing import _Column, make_printer, render_ticket, ticket_fonts
from tests.kiosk.escpos_decoder import decode
from tests.kiosk.printing_support import make_ticket, qr_texts, save_artifact

HINT = "Wi-Fi: MotCua-Khach (mật khẩu: motcua2025)"


def _ink_rows(image: Image.Image) -> list[bytes]:
    """The rows of ``image`` that carry ink, top to bottom."""
    rows = [image.crop((0, y, image.width, y + 1)).tobytes() for y in range(image.height)]
    blank = Image.new("1", (image.width, 1), 1).tobytes()
    return [r for r in rows if r != blank]


def _contains_rows(image: Image.Image, rows: list[bytes]) -> bool:
    lines = [image.crop((0, y, image.width, y + 1)).tobytes() for y in range(image.height)]
    return any(lines[y:y + len(rows)] == rows for y in range(len(lines) - len(rows) + 1))


def test_wifi_hint_is_printed_under_the_qr() -> None:
    ticket = make_ticket(status_url="http://motcua.xa-quangkhe.vn/t/AbC123", wifi_hint=HINT)
    job = decode(make_printer({"kind": "dummy", "paper_mm": 80}).print_ticket(ticket).data)
    printed = job.stitched()
    save_artifact(printed, "decoded-80mm-wifi.png")
    assert qr_texts(printed) == ["http://motcua.xa-quangkhe.vn/t/AbC123"]
    # The hint line, drawn alone the way the ticket draws it, is found row for row in
    # what the printer received, below the QR code.
    alone = _Column(576, 12, ticket_fonts())
    alone.text(HINT, 22, bold=True)
    hint_rows = _ink_rows(alone.render())
    assert hint_rows and _contains_rows(printed, hint_rows)
    plain = render_ticket(make_ticket(status_url=ticket.status_url))
    assert not _contains_rows(plain, hint_rows)
    assert printed.height > plain.height
