"""The procedure checklist on the ticket printer: ESC/POS bytes decoded back to the
picture, and its Vietnamese lines found in it.

Nothing is printed as text, so "reading" the checklist means finding each
expected line, drawn alone with the ticket fonts, inside the decoded raster;
the same line with a wrong or missing diacritic must not be found."""
from __future__ import annotations

from datetime import datetime

import pytest
from PIL import Image

from kiosk.checklist import ChecklistData, _paper_item, checklist_stem, render_checklist
from kiosk.printing import PAPER_DOTS, _Column, make_printer, ticket_fonts
from tests.kiosk.escpos_decoder import decode
from tests.kiosk.printing_support import ICT, assert_raster_only, save_artifact

BIRTH = {
    "id": 7, "service_id": 1, "service_code": "HT", "service_name": "Tư pháp – Hộ tịch",
    "code": "", "name": "Đăng ký khai sinh",
    "papers": [{"name": "Tờ khai đăng ký khai sinh", "copies": 1, "kind": "original"},
               {"name": "Giấy chứng sinh", "copies": 1, "kind": "original"},
               {"name": "Căn cước công dân của người đi đăng ký", "copies": 2, "kind": "copy"}],
    "fee_vnd": 0, "free": True, "fee_note": "", "time_limit": "Ngay trong ngày tiếp nhận",
    "result_place": "Bộ phận một cửa", "legal_basis": "Luật Hộ tịch 2014",
    "checked_on": None, "sample": True,
}
HOURS = ["Thứ Hai – Thứ Sáu: 07:00–11:30, 13:30–17:00"]
SIZES = (18, 20, 22, 24, 26, 30)


def _ink_rows(image: Image.Image) -> list[bytes]:
    data, stride = image.tobytes(), (image.width + 7) // 8
    rows = [data[y * stride:(y + 1) * stride] for y in range(image.height)]
    white = bytes([0xFF]) * stride
    inked = [i for i, r in enumerate(rows) if r != white]
    return rows[inked[0]:inked[-1] + 1] if inked else []


def _found(page: list[bytes], index: dict[bytes, list[int]], band: list[bytes]) -> bool:
    for y in index.get(band[0], []):
        if page[y:y + len(band)] == band:
            return True
    return False


def printed_lines(image: Image.Image, lines: list[str], items: list[str]) -> set[str]:
    """Which of ``lines`` (centred text, any size, regular or bold) and ``items`` (papers
    with their tick box) the printed picture holds."""
    stride = (image.width + 7) // 8
    data = image.tobytes()
    page = [data[y * stride:(y + 1) * stride] for y in range(image.height)]
    index: dict[bytes, list[int]] = {}
    for y, row in enumerate(page):
        index.setdefault(row, []).append(y)
    fonts, margin = ticket_fonts(), max(6, round(12 * image.width / 576))
    t = image.width / 576
    t = 0.5 + 0.5 * t if t < 1 else t
    found = set()
    for text in lines + items:
        for size in SIZES:
            for bold in (False, True):
                col = _Column(image.width, margin, fonts)
                if text in items:
                    if bold:
                        continue
                    col.image(_paper_item(col, text, size * t))
                else:
                    col.text(text, size * t, bold=bold)
                if _found(page, index, _ink_rows(col.render())):
                    found.add(text)
    return found


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_printed_checklist_decodes_to_its_vietnamese_text(paper_mm: int) -> None:
    data = ChecklistData("UBND xã Quảng Khê", BIRTH, datetime(2025, 11, 26, 9, 41, tzinfo=ICT),
                         HOURS)
    printer = make_printer({"kind": "dummy", "paper_mm": paper_mm})
    result = printer.print_picture(lambda w: render_checklist(data, w), checklist_stem(data))
    job = decode(result.data)
    assert_raster_only(job, PAPER_DOTS[paper_mm])
    image = job.stitched()
    save_artifact(image, f"checklist-decoded-{paper_mm}mm.png")
    assert image.tobytes() == render_checklist(data, PAPER_DOTS[paper_mm]).tobytes()
    lines = ["GIẤY TỜ CẦN MANG", "Đăng ký khai sinh", "Lĩnh vực: Tư pháp – Hộ tịch",
             "Lệ phí: miễn phí", "Thời hạn giải quyết: Ngay trong ngày tiếp nhận",
             "Nơi trả kết quả: Bộ phận một cửa", "Giờ làm việc", HOURS[0],
             "In lúc: 26/11/2025 09:41", "Cảm ơn ông/bà!"]
    items = ["Tờ khai đăng ký khai sinh: 1 bản chính", "Giấy chứng sinh: 1 bản chính",
             "Căn cước công dân của người đi đăng ký: 2 bản sao"]
    wrong = ["Dang ky khai sinh", "Đăng kí khai sinh", "Lệ phí: miễn phi",
             "Giấy chứng sinh: 1 bản sao"]
    found = printed_lines(image, lines + wrong, items + ["Tờ khai đăng ký khai sinh: 2 bản chính"])
    assert set(lines) | set(items) <= found, set(lines) | set(items) - found
    assert not found & set(wrong + ["Tờ khai đăng ký khai sinh: 2 bản chính"])


def test_fee_sample_warning_and_missing_papers() -> None:
    paid = {**BIRTH, "fee_vnd": 15000, "free": False, "fee_note": "7.000 đồng khi nộp trực tuyến",
            "sample": False, "papers": []}
    when = datetime(2025, 11, 26, 9, 41, tzinfo=ICT)
    image = render_checklist(ChecklistData("UBND xã Quảng Khê", paid, when, []))
    found = printed_lines(image, ["Lệ phí: 15.000 đồng", "7.000 đồng khi nộp trực tuyến",
                                  "Chưa có danh mục giấy tờ: ông/bà vui lòng hỏi tại quầy.",
                                  "Giờ làm việc"], [])
    assert found == {"Lệ phí: 15.000 đồng", "7.000 đồng khi nộp trực tuyến",
                     "Chưa có danh mục giấy tờ: ông/bà vui lòng hỏi tại quầy."}
    sample = render_checklist(ChecklistData("UBND xã Quảng Khê", BIRTH, when, HOURS))
    assert sample.height > render_checklist(
        ChecklistData("UBND xã Quảng Khê", {**BIRTH, "sample": False}, when, HOURS)).height


def test_preview_printer_writes_the_checklist_as_a_png(tmp_path) -> None:
    data = ChecklistData("UBND xã Quảng Khê", BIRTH, datetime(2025, 11, 26, 9, 41, tzinfo=ICT),
                         HOURS)
    result = make_printer({"kind": "preview", "folder": str(tmp_path)}).print_picture(
        lambda w: render_checklist(data, w), checklist_stem(data))
    assert result.path == tmp_path / "checklist-7-20251126-094100.png"
    assert Image.open(result.path).size[0] == 576
