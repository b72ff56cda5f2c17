"""Ticket rendering and the ESC/POS bytes: drawn tickets, every Vietnamese letter, the
raster the printer gets (decoded back)."""
from __future__ import annotations

import pytest
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont, ImageOps

from kiosk.printing import (
    PAPER_DOTS,
    VIETNAMESE_LETTERS,
    PrinterError,
    TicketPrinter,
    _,
    encode_ticket,
    make_printer,
    missing_glyphs,
    render_ticket,
    ticket_fonts,
    wrap_text,
)
from tests.kiosk.escpos_decoder import UnknownCommand, decode
from tests.kiosk.printing_support import (  # noqa: F401  (vietnamese: a fixture)
    assert_raster_only,
    make_ticket,
    qr_texts,
    save_artifact,
    vietnamese,
)


# --- rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_ticket_is_one_bit_at_the_paper_dot_width(paper_mm: int) -> None:
    image = render_ticket(make_ticket(priority_label="Người cao tuổi"), PAPER_DOTS[paper_mm])
    save_artifact(image, f"ticket-{paper_mm}mm.png")
    assert image.mode == "1"
    assert image.width == PAPER_DOTS[paper_mm]
    assert qr_texts(image) == ["http://192.168.1.10:8080/t/AbC123"]


def test_long_names_wrap_and_nothing_touches_the_edges_at_58mm() -> None:
    ticket = make_ticket(
        office_name="Ủy ban nhân dân xã Quảng Ngãi Nghĩa Hành – Bộ phận Một cửa liên thông hiện đại",
        service_name="Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp",
        counters=["Quầy 1", "Quầy 2", "Quầy 3", "Quầy 4", "Quầy 5", "Quầy 6"],
        display_number="A1234",
        priority_label="Người có công với cách mạng – Thương binh",
        status_url="http://192.168.1.10:8080/t/" + "Xy" * 20,
    )
    image = render_ticket(ticket, 384)
    save_artifact(image, "ticket-58mm-long.png")
    short = render_ticket(make_ticket(), 384)
    assert image.height > short.height
    ink = image.convert("L")
    margin = 6
    for x in [*range(margin), *range(image.width - margin, image.width)]:
        column = ink.crop((x, 0, x + 1, image.height))
        assert column.getextrema() == (255, 255), f"ink in the margin at x={x}: text was clipped"
    assert qr_texts(image) == [ticket.status_url]


def test_wrap_text_keeps_every_word_within_the_width() -> None:
    font = ImageFont.truetype(str(ticket_fonts().regular), 24)
    text = "Đăng ký khai sinh, kết hôn, khai tử " + "Siêudàikhôngcókhoảngtrắng" * 4
    lines = wrap_text(text, font, 300)
    assert len(lines) > 2
    assert all(font.getlength(line) <= 300 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_the_chosen_font_has_every_vietnamese_letter() -> None:
    fonts = ticket_fonts()
    assert len(VIETNAMESE_LETTERS) == 146
    assert missing_glyphs(fonts.regular, VIETNAMESE_LETTERS) == ""
    assert missing_glyphs(fonts.bold, VIETNAMESE_LETTERS) == ""
    # The check itself can fail: Roboto/DejaVu have no Han or Devanagari glyphs.
    assert missing_glyphs(fonts.regular, "漢字") == "漢字"


def test_the_chosen_font_maps_every_vietnamese_letter_in_its_cmap() -> None:
    ttlib = pytest.importorskip("fontTools.ttLib")
    for path in {ticket_fonts().regular, ticket_fonts().bold}:
        cmap = ttlib.TTFont(str(path)).getBestCmap()
        assert [c for c in VIETNAMESE_LETTERS if ord(c) not in cmap] == []


def test_tone_marks_really_render() -> None:
    font = ImageFont.truetype(str(ticket_fonts().bold), 48)

    def draw(text: str) -> Image.Image:
        image = Image.new("1", (400, 100), 1)
        ImageDraw.Draw(image).text((10, 80), text, font=font, fill=0, anchor="ls")
        return image

    accented, plain = draw("Ứ"), draw("U")
    assert accented.tobytes() != plain.tobytes()
    top = lambda im: im.convert("L").point(lambda v: 255 - v).getbbox()[1]  # noqa: E731
    assert top(accented) < top(plain)  # the horn and acute sit above the capital
    viet = render_ticket(make_ticket(service_name="Ứng Ữ Ỹ ặ ẫ đ"))
    ascii_ = render_ticket(make_ticket(service_name="Ung U Y a a d"))
    assert viet.tobytes() != ascii_.tobytes()
    save_artifact(viet, "ticket-80mm-diacritics.png")


def test_ticket_wording_comes_from_the_vietnamese_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _("QUEUE NUMBER") == "SỐ THỨ TỰ"
    assert _("Printed at: {when}").format(when="26/11/2025 14:05") == "Thời gian in vé: 26/11/2025 14:05"
    assert _("People waiting ahead: {count}") == "Số người đang chờ trước: {count}"
    assert _("Estimated wait: about {minutes} min") == "Thời gian chờ dự kiến: khoảng {minutes} phút"
    assert _("Thank you!") == "Cảm ơn ông/bà!"
    assert PrinterError("paper_out").message == "Máy in vé đã hết giấy. Ông/bà vui lòng báo cán bộ hỗ trợ."
    monkeypatch.setenv("MOTCUA_LANG", "en")
    assert _("QUEUE NUMBER") == "QUEUE NUMBER"


def test_missing_wait_estimate_and_counters_are_left_out() -> None:
    full = render_ticket(make_ticket())
    bare = render_ticket(make_ticket(estimated_wait_minutes=None, counters=[]))
    assert bare.height < full.height
    assert qr_texts(bare) == ["http://192.168.1.10:8080/t/AbC123"]


# --- ESC/POS output ----------------------------------------------------------------------


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_dummy_print_is_one_raster_image_and_one_cut(paper_mm: int) -> None:
    result = make_printer({"kind": "dummy", "paper_mm": paper_mm}).print_ticket(make_ticket())
    assert result.width_dots == PAPER_DOTS[paper_mm] and result.data
    job = decode(result.data)
    assert_raster_only(job, PAPER_DOTS[paper_mm])
    assert job.inits == 1
    image = job.stitched()
    save_artifact(image, f"decoded-{paper_mm}mm.png")
    assert qr_texts(image) == ["http://192.168.1.10:8080/t/AbC123"]


def test_print_to_a_python_escpos_dummy_supplied_by_the_caller() -> None:
    dummy = Dummy()
    printer = TicketPrinter({"kind": "dummy", "paper_mm": 58}, escpos_factory=lambda: dummy)
    printer.print_ticket(make_ticket(display_number="A001"))
    job = decode(dummy.output)
    assert_raster_only(job, 384)
    assert qr_texts(job.stitched()) == ["http://192.168.1.10:8080/t/AbC123"]


def test_a_tall_ticket_is_split_into_fragments_that_stitch_back() -> None:
    ticket = make_ticket(service_name="Chứng thực chữ ký, hợp đồng, giao dịch " * 12)
    job = decode(encode_ticket(ticket, 576))
    assert len(job.rasters) >= 2  # python-escpos sends at most 960 rows per GS v 0
    assert_raster_only(job, 576)
    assert qr_texts(job.stitched()) == [ticket.status_url]


def test_decoder_catches_text_sent_through_a_code_page() -> None:
    printer = Dummy()
    printer.text("Số thứ tự 1005\n")
    job = decode(printer.output)
    assert job.text and job.codepages
    assert all(run.codepage in job.codepages for run in job.text)


def test_decoder_fails_loudly_on_unknown_or_truncated_commands() -> None:
    with pytest.raises(UnknownCommand):
        decode(b"\x1b@\x1b\x99")
    with pytest.raises(UnknownCommand):
        decode(b"\x1dv0\x00\x48\x00\x10\x00" + b"\x00" * 10)
    with pytest.raises(UnknownCommand):
        decode(b"\x07")


def _line_rows(image: Image.Image, text: str, size: int) -> tuple[Image.Image, tuple[int, int]]:
    """``text`` drawn alone as the ticket draws a bold line (centred, same font), cropped
    to its ink; with the columns it spans."""
    from kiosk.printing import _font, ticket_fonts

    fonts = ticket_fonts()
    canvas = Image.new("1", (image.width, size * 3), 1)
    ImageDraw.Draw(canvas).text((image.width // 2, size * 2), text, font=_font(fonts.bold, size),
                                fill=0, anchor="ms", stroke_width=1 if fonts.fake_bold else 0,
                                stroke_fill=0)
    left, top, right, bottom = ImageOps.invert(canvas.convert("L")).getbbox()
    return canvas.crop((left, top, right, bottom)), (left, right)


def _contains_line(image: Image.Image, text: str, size: int) -> bool:
    template, (left, right) = _line_rows(image, text, size)
    want, h = template.tobytes(), template.height
    return any(image.crop((left, y, right, y + h)).tobytes() == want
               for y in range(image.height - h + 1))


def test_the_check_code_is_printed_legibly_in_the_escpos_bytes() -> None:
    """Issue #15: the lobby keypad needs proof of holding the ticket; the check code
    is printed on it.  The ESC/POS bytes are decoded back and the line is found there,
    pixel for pixel, in bold at 36 px (4.5 mm at 203 dpi)."""
    from kiosk.printing import CHECK_CODE_SIZE, check_code_line

    ticket = make_ticket(check_code="4821")
    job = decode(encode_ticket(ticket, 576))
    printed = job.stitched().convert("1")
    save_artifact(printed, "decoded-check-code.png")
    assert _contains_line(printed, check_code_line("4821"), CHECK_CODE_SIZE)
    assert "4821" in check_code_line("4821") and "Mã kiểm tra" in check_code_line("4821")
    assert not _contains_line(printed, check_code_line("4822"), CHECK_CODE_SIZE)
    bare = decode(encode_ticket(make_ticket(), 576)).stitched().convert("1")
    assert not _contains_line(bare, check_code_line("4821"), CHECK_CODE_SIZE)
