"""The lobby kiosk (ticket mode), headless, real widgets against a real running server.

Each test starts ``tests/kiosk/kiosk_driver.py`` (one Kivy window per process)
and answers its ``STEP`` requests: changing the database, stopping and
restarting the server, bringing a printer back.  Screens are saved under
test-artifacts/kiosk/.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import select

from tests.conftest import ARTIFACTS, LiveServer, free_port

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)

DRIVER = Path(__file__).with_name("kiosk_driver.py")
SHOTS = ARTIFACTS / "kiosk"
CLOSED_DAYS = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _db(server: LiveServer):
    from counter_server.db import Database

    return Database(server.db_url, pool_size=1)


def _edit(server: LiveServer, fn: Callable[[Any, Any], None]) -> None:
    """Change the office's set-up as an administrator would: like every admin
    page and CLI write, the change is recorded as an ``admin.*`` event (the
    screens' snapshot tags key on the office's newest event)."""
    from sqlalchemy import select

    from counter_server import models as m
    from counter_server.engine import append_event

    db = _db(server)
    try:
        with db.write() as s:
            fn(s, m)
            for office_id in s.scalars(select(m.Office.id)):
                append_event(s, office_id, "admin.settings_updated",
                             payload={"admin": {"via": "test"}})
    finally:
        db.dispose()


def _query(server: LiveServer, fn: Callable[[Any, Any], Any]) -> Any:
    from counter_server import models as m

    db = _db(server)
    try:
        with db.read() as s:
            return fn(s, m)
    finally:
        db.dispose()


def run_driver(tmp_path: Path, scenario: str, kiosk_args: list[str],
               steps: dict[str, Callable[[], None]], extra: dict[str, Any] | None = None,
               timeout: float = 180) -> dict[str, Any]:
    result = tmp_path / f"{scenario}.json"
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
           "KIVY_NO_ARGS": "1", "KIVY_HOME": str(tmp_path / "kivy-home"),
           "KIOSK_DRIVER_EXTRA": json.dumps(extra or {})}
    proc = subprocess.Popen([sys.executable, str(DRIVER), scenario, str(result), str(SHOTS), "--",
                             *kiosk_args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=open(tmp_path / f"{scenario}.log", "wb"), text=True, env=env)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for line in proc.stdout:
            if line.startswith("STEP "):
                steps[line.split()[1]]()
                proc.stdin.write("go\n")
                proc.stdin.flush()
            elif line.startswith("DONE"):
                break
        proc.wait(30)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / f"{scenario}.log").read_text(errors="replace")
    assert result.exists(), f"driver wrote no result:\n{log[-4000:]}"
    data = json.loads(result.read_text(encoding="utf-8"))
    assert data.get("ok"), data.get("error", "") + "\n" + log[-3000:]
    return data


def tickets(server: LiveServer) -> list[dict[str, Any]]:
    return _query(server, lambda s, m: [
        {"id": t.id, "service_id": t.service_id, "display_number": t.display_number,
         "priority_class": t.priority_class, "key": t.idempotency_key}
        for t in s.scalars(select(m.Ticket).order_by(m.Ticket.id))])


@pytest.mark.parametrize("size", ["1024x600", "1080x1920"])
def test_kiosk_flow(live_server: LiveServer, tmp_path: Path, size: str) -> None:
    """Double taps give one ticket; the screen shows the server's number; closed and capped
    services cannot be tapped; closed office; reconnect state while the server is down."""
    services = _query(live_server, lambda s, m: [
        (sv.id, sv.code) for sv in s.scalars(select(m.Service).order_by(m.Service.sort_order, m.Service.id))])
    first_id, capped_id, hours_id = services[0][0], services[1][0], services[2][0]

    def close_services() -> None:
        def fn(s: Any, m: Any) -> None:
            office = s.scalar(select(m.Office))
            office.settings = {**(office.settings or {}), "enforce_hours": True}
            s.get(m.Service, capped_id).daily_cap = 0
            s.get(m.Service, hours_id).hours = CLOSED_DAYS
        _edit(live_server, fn)

    saved_hours: dict[str, Any] = {}

    def close_office() -> None:
        def fn(s: Any, m: Any) -> None:
            office = s.scalar(select(m.Office))
            saved_hours["hours"] = office.opening_hours
            office.opening_hours = {**CLOSED_DAYS, "mon": [["07:00", "07:01"]],
                                    "tue": [["07:00", "07:01"]]}
        _edit(live_server, fn)

    def open_office() -> None:
        _edit(live_server, lambda s, m: setattr(s.scalar(select(m.Office)), "opening_hours",
                                                saved_hours["hours"]))

    data = run_driver(tmp_path, "flow", [
        "--server", live_server.url, "--token", live_server.token("kiosk"), "--windowed",
        "--size", size, "--printer", "preview", "--preview-dir", str(tmp_path / "tickets"),
        "--priority-step", "on", "--refresh-seconds", "0.5"],
        steps={"close-services": close_services, "close-office": close_office,
               "open-office": open_office, "stop-server": live_server.stop,
               "start-server": live_server.start},
        extra={"capped_id": capped_id, "hours_id": hours_id})

    issued = tickets(live_server)
    # Two quick taps on the service, then two on "elderly": exactly one ticket.
    first, second = data["first"], data["second"]
    assert issued[0]["service_id"] == first_id and issued[0]["priority_class"] == "elderly"
    assert first["label"] == first["ticket"]["display_number"] == issued[0]["display_number"]
    assert first["ticket"]["code"] and first["priority_text"]
    assert "Đang in" not in first["print_text"]
    # Closed and capped services could not be tapped and issued nothing.
    assert data["after_closed_taps"] == {"screen": "home", "issuing": False}
    assert data["closed_texts"] == {str(capped_id): "Hôm nay lĩnh vực này đã hết số.",
                                    str(hours_id): "Lĩnh vực này không cấp số vào giờ này."}
    assert not [t for t in issued if t["service_id"] in (capped_id, hours_id)]
    assert "07:00–07:01" in data["hours_text"]
    # Server away: reconnect state, disabled buttons; then back, and one more ticket.
    assert data["offline"]["overlay"] == 1 and all(data["offline"]["disabled"])
    assert data["offline"]["text"] == "Đang kết nối lại..."
    assert data["offline_tap_screen"] == "home"
    assert data["online_again_overlay"] == 0
    assert len(issued) == 2, issued
    assert second["label"] == issued[1]["display_number"] != issued[0]["display_number"]
    assert len(list((tmp_path / "tickets").glob("*.png"))) == 2
    for name in ("home", "priority", "ticket", "home-closed-services", "office-closed",
                 "reconnecting"):
        assert (SHOTS / f"{name}-{size}.png").stat().st_size > 1000
    # The QR on the ticket screen, read back from the real screenshot, leads to the
    # status page of the ticket the server issued.
    import zxingcpp
    from PIL import Image

    with Image.open(SHOTS / f"ticket-{size}.png") as shot:
        codes = [r.text for r in zxingcpp.read_barcodes(shot)]
    assert codes == [live_server.url + first["ticket"]["status_path"]]


@pytest.fixture
def closed_port() -> Iterator[int]:
    yield free_port()


def test_printer_fault_and_recovery(live_server: LiveServer, tmp_path: Path, closed_port: int) -> None:
    """A network printer that refuses connections: the ticket stays on screen with the fault
    message, the server gets device.status; a listener appears and the kiosk recovers."""
    listener: list[socket.socket] = []
    received = bytearray()

    def printer_back() -> None:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", closed_port))
        srv.listen(5)
        listener.append(srv)

        def serve() -> None:
            while True:
                try:
                    conn, _addr = srv.accept()
                except OSError:
                    return
                with conn:
                    conn.settimeout(5)
                    try:
                        while chunk := conn.recv(65536):
                            received.extend(chunk)
                    except OSError:
                        pass

        threading.Thread(target=serve, daemon=True).start()

    printer = json.dumps({"kind": "network", "host": "127.0.0.1", "port": closed_port,
                          "timeout": 2})
    try:
        data = run_driver(tmp_path, "printer_fault", [
            "--server", live_server.url, "--token", live_server.token("kiosk"), "--windowed",
            "--size", "1280x800", "--printer", printer, "--priority-step", "off",
            "--printer-check-seconds", "0.5"], steps={"printer-back": printer_back})
    finally:
        for srv in listener:
            srv.close()
    fault = data["fault"]
    issued = tickets(live_server)
    assert len(issued) == 1
    assert fault["label"] == issued[0]["display_number"] == fault["ticket"]["display_number"]
    assert fault["print_text"] == "Máy in gặp sự cố, vui lòng ghi nhớ số thứ tự"
    assert data["home_hint"].startswith("Máy in vé")  # the home screen warns before anyone taps
    assert data["recovered"] is True
    events = _query(live_server, lambda s, m: [
        ev.payload["device"] for ev in s.scalars(
            select(m.Event).where(m.Event.type == "device.status").order_by(m.Event.id))])
    statuses = [(e["status"], e["code"]) for e in events]
    assert ("error", "printer_offline") in statuses, statuses
    assert statuses[-1] == ("ok", ""), statuses
    device = _query(live_server, lambda s, m: s.scalar(select(m.Device).where(m.Device.kind == "kiosk")))
    assert device.status == "ok"


class LosingProxy:
    """A TCP proxy to the server that swallows the answer to the next ``drops`` ticket POSTs,
    then closes the connection: the ticket is made, the kiosk never hears about it."""

    def __init__(self, upstream_port: int, drops: int = 1) -> None:
        self.upstream, self.drops = ("127.0.0.1", upstream_port), drops
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        seen_post = threading.Event()

        def forward() -> None:
            try:
                while data := client.recv(65536):
                    if b"POST /api/v1/tickets" in data:
                        seen_post.set()
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                if seen_post.is_set() and self.drops > 0:
                    self.drops -= 1
                    break  # the answer is lost on the way back
                client.sendall(data)
        except OSError:
            pass
        for s in (client, upstream):
            s.close()

    def close(self) -> None:
        self.sock.close()


def test_lost_response_is_retried_with_the_same_key(live_server: LiveServer) -> None:
    """The kiosk's issuing worker against a real server through a proxy that loses the first
    answer: it retries with the tap's idempotency key and gets the same single ticket."""
    from counter_server.client import ApiClient
    from kiosk.live import TicketIssuer

    proxy = LosingProxy(live_server.port, drops=1)
    try:
        issuer = TicketIssuer(ApiClient(proxy.url, live_server.token("kiosk")), retry_seconds=0.2)
        done, outcome, retrying = threading.Event(), {}, []
        service_id = _query(live_server, lambda s, m: s.scalar(select(m.Service.id).order_by(m.Service.id)))
        assert issuer.issue(service_id, "", on_done=lambda t: (outcome.update(ticket=t), done.set()),
                            on_error=lambda e: (outcome.update(error=e), done.set()),
                            on_retrying=retrying.append)
        assert not issuer.issue(service_id, "", lambda t: None, lambda e: None)  # tap in flight
        assert done.wait(30)
    finally:
        proxy.close()
    assert "error" not in outcome, outcome
    assert proxy.drops == 0 and retrying == [True, False]
    issued = tickets(live_server)
    assert len(issued) == 1
    assert outcome["ticket"]["id"] == issued[0]["id"] and issued[0]["key"]
