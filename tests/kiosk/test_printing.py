"""Ticket rendering and printing: drawn tickets, the ESC/POS bytes, transports and failures."""
from __future__ import annotations

import queue
import socket
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import zxingcpp
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, Usb
from PIL import Image, ImageDraw, ImageFont

from kiosk.printers import classify
from kiosk.printing import (
    PAPER_DOTS,
    VIETNAMESE_LETTERS,
    PrinterError,
    TicketData,
    TicketPrinter,
    _,
    encode_ticket,
    make_printer,
    missing_glyphs,
    render_ticket,
    ticket_fonts,
    wrap_text,
)
from tests.kiosk.escpos_decoder import Decoded, UnknownCommand, decode

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "printing"
ICT = timezone(timedelta(hours=7))
PAPER_OK, PAPER_LOW, PAPER_OUT = 0x12, 0x1E, 0x72  # DLE EOT 4 answers (python-escpos masks)


@pytest.fixture(autouse=True)
def vietnamese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_LANG", "vi")


def make_ticket(**changes: object) -> TicketData:
    fields: dict[str, object] = dict(
        office_name="UBND xã An Bình – Bộ phận Tiếp nhận và Trả kết quả",
        display_number="1005",
        service_name="Tư pháp – Hộ tịch",
        counters=["Quầy 1", "Quầy 3"],
        issued_at=datetime(2025, 11, 26, 14, 5, tzinfo=ICT),
        waiting_before=3,
        estimated_wait_minutes=15,
        status_url="http://192.168.1.10:8080/t/AbC123",
        priority_label=None,
    )
    fields.update(changes)
    return TicketData(**fields)  # type: ignore[arg-type]


def save_artifact(image: Image.Image, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    image.save(path)
    return path


def qr_texts(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image.convert("L"))]


def assert_raster_only(job: Decoded, width: int) -> None:
    assert job.rasters, "no raster image sent"
    assert {r.width for r in job.rasters} == {width}
    assert job.cuts == ["full"]
    assert job.text == [] and job.codepages == []


class FakeNetworkPrinter:
    """A port-9100 printer on 127.0.0.1: keeps each connection's bytes, answers DLE EOT 4."""

    def __init__(self, paper: int | None = PAPER_OK, port: int = 0) -> None:
        self.paper = paper
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(1)
        self.server.settimeout(0.05)  # closing a socket does not wake accept() on every OS
        self.stopping = threading.Event()
        self.port = self.server.getsockname()[1]
        self.jobs: queue.Queue[bytes] = queue.Queue()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _addr = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with conn:
                received, answered = bytearray(), False
                while chunk := conn.recv(65536):
                    received += chunk
                    if not answered and self.paper is not None and received[:3] == b"\x10\x04\x04":
                        conn.sendall(bytes([self.paper]))
                        answered = True
                self.jobs.put(bytes(received))

    def settings(self, **extra: object) -> dict[str, object]:
        return {"kind": "network", "host": "127.0.0.1", "port": self.port, "timeout": 5, **extra}

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.server.close()


@pytest.fixture
def fake_printer() -> Iterator[FakeNetworkPrinter]:
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


# --- transports --------------------------------------------------------------------------


def test_network_printer_receives_a_decodable_ticket(fake_printer: FakeNetworkPrinter) -> None:
    result = make_printer(fake_printer.settings(paper_mm=58)).print_ticket(make_ticket())
    assert result.paper == "ok"
    job = decode(fake_printer.jobs.get(timeout=10))
    assert job.status_queries == [4]
    assert_raster_only(job, 384)
    assert qr_texts(job.stitched()) == ["http://192.168.1.10:8080/t/AbC123"]


def test_out_of_paper_is_reported_before_anything_is_printed() -> None:
    fake = FakeNetworkPrinter(paper=PAPER_OUT)
    try:
        printer = make_printer(fake.settings())
        with pytest.raises(PrinterError) as err:
            printer.print_ticket(make_ticket())
        assert err.value.code == "paper_out"
        assert "hết giấy" in err.value.message
        assert decode(fake.jobs.get(timeout=10)).rasters == []
        assert printer.check().code == "paper_out"
    finally:
        fake.close()


def test_low_paper_still_prints_and_shows_in_the_probe() -> None:
    fake = FakeNetworkPrinter(paper=PAPER_LOW)
    try:
        printer = make_printer(fake.settings())
        assert printer.print_ticket(make_ticket()).paper == "low"
        assert decode(fake.jobs.get(timeout=10)).rasters
        status = printer.check()
        assert status.ok and status.code == "paper_low" and status.paper == "low"
    finally:
        fake.close()


def test_a_printer_that_never_answers_status_still_prints() -> None:
    fake = FakeNetworkPrinter(paper=None)
    try:
        result = make_printer(fake.settings(status_timeout=0.2)).print_ticket(make_ticket())
        assert result.paper == "unknown"
        assert_raster_only(decode(fake.jobs.get(timeout=10)), 576)
    finally:
        fake.close()


def test_closed_port_is_offline_and_the_probe_sees_it_come_back() -> None:
    port = closed_port()
    printer = make_printer({"kind": "network", "host": "127.0.0.1", "port": port, "timeout": 5})
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(make_ticket())
    assert err.value.code == "printer_offline"
    assert "mất kết nối" in err.value.message
    assert printer.check().code == "printer_offline"
    fake = FakeNetworkPrinter(port=port)
    try:
        status = printer.check()
        assert status.ok and status.code == "ok" and status.message == "Máy in vé sẵn sàng."
        assert printer.print_ticket(make_ticket()).paper == "ok"
    finally:
        fake.close()


@pytest.mark.skipif(sys.platform != "linux", reason="a full accept queue drops SYNs on Linux only")
def test_connect_that_never_completes_is_a_timeout() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers: list[socket.socket] = []
    try:
        for _i in range(8):  # fill the accept queue until connecting hangs
            filler = socket.socket()
            filler.settimeout(0.3)
            fillers.append(filler)
            try:
                filler.connect(server.getsockname())
            except TimeoutError:
                break
        else:
            pytest.skip("this kernel never stalled a connect")
        printer = make_printer({"kind": "network", "host": "127.0.0.1",
                                "port": server.getsockname()[1], "timeout": 0.5})
        with pytest.raises(PrinterError) as err:
            printer.print_ticket(make_ticket())
        assert err.value.code == "printer_timeout"
    finally:
        for filler in fillers:
            filler.close()
        server.close()


class StuckPrinter(Escpos):
    """A transport whose writes block until it is closed, like a printer that stopped reading."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = threading.Event()

    def _raw(self, msg: bytes) -> None:
        self.closed.wait(30)

    def close(self) -> None:
        self.closed.set()


def test_a_stuck_transport_gives_a_timeout_and_is_closed() -> None:
    stuck = StuckPrinter()
    printer = TicketPrinter({"kind": "dummy", "timeout": 0.3}, escpos_factory=lambda: stuck)
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(make_ticket())
    assert err.value.code == "printer_timeout"
    assert stuck.closed.wait(10)  # the abandoned job was closed, which unblocks its thread


def test_preview_writes_readable_pngs(tmp_path: Path) -> None:
    printer = make_printer({"kind": "preview", "folder": str(tmp_path / "tickets"), "paper_mm": 58})
    first = printer.print_ticket(make_ticket())
    second = printer.print_ticket(make_ticket())
    assert first.path and second.path and first.path != second.path
    assert "1005" in first.path.name and "20251126-140500" in first.path.name
    with Image.open(first.path) as image:
        assert image.width == 384
        assert qr_texts(image) == ["http://192.168.1.10:8080/t/AbC123"]
    assert printer.check().ok


def test_file_printer_writes_the_same_bytes(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    device.touch()
    printer = make_printer({"kind": "file", "devfile": str(device)})
    assert printer.check().ok
    printer.print_ticket(make_ticket())
    assert_raster_only(decode(device.read_bytes()), 576)


def test_python_escpos_yaml_config_is_accepted(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    config = tmp_path / "escpos.yaml"
    config.write_text(f"printer:\n  type: File\n  devfile: '{device.as_posix()}'\n", encoding="utf-8")
    make_printer({"kind": "escpos_config", "path": str(config), "paper_mm": 58}).print_ticket(
        make_ticket())
    assert_raster_only(decode(device.read_bytes()), 384)


def test_missing_device_file_is_printer_missing(tmp_path: Path) -> None:
    printer = make_printer({"kind": "file", "devfile": str(tmp_path / "nope" / "lp0")})
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(make_ticket())
    assert err.value.code == "printer_missing"
    assert printer.check().code == "printer_missing"


@pytest.mark.skipif(Usb.is_usable(), reason="pyusb is installed here")
def test_usb_without_pyusb_is_printer_missing() -> None:
    printer = make_printer({"kind": "usb", "vendor_id": "0x0416", "product_id": 0x5011})
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(make_ticket())
    assert err.value.code == "printer_missing"
    assert "python-escpos[usb]" in err.value.detail


# --- settings and errors -----------------------------------------------------------------


def test_settings_choose_the_dot_width_and_reject_typos() -> None:
    assert make_printer().kind == "preview"
    assert make_printer({"kind": "dummy", "paper_mm": 58}).width_dots == 384
    assert make_printer({"kind": "dummy", "width_dots": 512}).width_dots == 512
    assert make_printer({"kind": "dummy", "profile": "TM-T88V"}).width_dots == 512
    for bad in ({"kind": "laser"}, {"kind": "network"}, {"kind": "network", "host": "h", "hots": 1},
                {"kind": "dummy", "paper_mm": 110}, {"kind": "dummy", "timeout": 0},
                {"kind": "dummy", "profile": "TM-T88V", "width_dots": 576}):
        with pytest.raises(ValueError):
            make_printer(bad)


def test_failures_are_classified_by_their_cause() -> None:
    def wrapped(cause: BaseException) -> BaseException:
        try:
            try:
                raise cause
            except OSError as exc:
                raise DeviceNotFoundError(str(exc))
        except DeviceNotFoundError as outer:
            return outer

    assert classify(wrapped(ConnectionRefusedError())).code == "printer_offline"
    assert classify(wrapped(TimeoutError())).code == "printer_timeout"
    assert classify(wrapped(FileNotFoundError())).code == "printer_missing"
    assert classify(BrokenPipeError()).code == "printer_offline"
    assert classify(type("USBTimeoutError", (Exception,), {})()).code == "printer_timeout"
    assert classify(RuntimeError("boom")).code == "printer_error"


def test_printing_raises_nothing_but_printer_error() -> None:
    def broken() -> Escpos:
        raise RuntimeError("driver exploded")

    with pytest.raises(PrinterError) as err:
        TicketPrinter({"kind": "dummy"}, escpos_factory=broken).print_ticket(make_ticket())
    assert err.value.code == "printer_error"
    with pytest.raises(PrinterError):
        make_printer({"kind": "dummy"}).print_ticket(make_ticket(issued_at=None))
