"""Printer transports and failures: network, file, USB and python-escpos configs;
out of paper, offline, stuck and timed-out printers."""
from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Usb
from PIL import Image

from kiosk.printer_errors import classify
from kiosk.printing import PrinterError, TicketPrinter, make_printer
from tests.kiosk.escpos_decoder import decode
from tests.kiosk.printing_support import (  # noqa: F401  (vietnamese: a fixture)
    FakeNetworkPrinter,
    PAPER_LOW,
    PAPER_OUT,
    assert_raster_only,
    closed_port,
    make_ticket,
    qr_texts,
    vietnamese,
)


@pytest.fixture
def fake_printer() -> Iterator[FakeNetworkPrinter]:
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()


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
