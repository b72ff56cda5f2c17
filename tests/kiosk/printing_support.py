"""Helpers of the printing tests: a sample ticket, artifacts, QR reading and a fake
port-9100 printer on 127.0.0.1."""
from __future__ import annotations

import queue
import socket
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from kiosk.printing import TicketData
from tests.kiosk.escpos_decoder import Decoded

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "printing"
ICT = timezone(timedelta(hours=7))
PAPER_OK, PAPER_LOW, PAPER_OUT = 0x12, 0x1E, 0x72  # DLE EOT 4 answers (python-escpos masks)


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


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def vietnamese(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tickets print in Vietnamese whatever the machine's MOTCUA_LANG (autouse where imported)."""
    monkeypatch.setenv("MOTCUA_LANG", "vi")
