"""The kiosk's optional SMS/Zalo offer in a real Kivy window against a real running server
with a loopback gateway: take a ticket, type a mobile number on the number pad, and the
server's own thread posts the "near" message for it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.counter_server.test_sms_gateway import Gateway, admin_settings
from tests.kiosk import test_kiosk_app as kiosk_tests

pytestmark = pytest.mark.slow
DRIVER = Path(__file__).with_name("sms_driver.py")


@pytest.fixture
def sms_server(sqlite_url, tmp_path):
    from tests.conftest import _live

    gateway = Gateway()
    try:
        for server in _live(sqlite_url, tmp_path, env={"MOTCUA_SMS_CHECK_SECONDS": "0.2"}):
            yield server, gateway
    finally:
        gateway.close()


def test_kiosk_takes_a_number_for_the_message(sms_server, tmp_path: Path, monkeypatch) -> None:
    server, gateway = sms_server
    assert "Đã lưu cài đặt." in admin_settings(server)(sms_enabled="on",
                                                      sms_webhook_url=gateway.url)
    monkeypatch.setattr(kiosk_tests, "DRIVER", DRIVER)
    data = kiosk_tests.run_driver(tmp_path, "sms", [
        "--server", server.url, "--token", server.token("kiosk"), "--windowed",
        "--size", "1280x800", "--priority-step", "off", "--printer", "preview",
        "--preview-dir", str(tmp_path / "tickets")], steps={})
    assert data["short"] == "Vui lòng nhập số điện thoại di động 10 chữ số."
    assert data["done"] == ("Đã đăng ký. Tin nhắn sẽ được gửi đến số 091****678 "
                            "khi sắp đến lượt ông/bà.")
    [(_path, _ctype, body)] = gateway.wait_for(1)
    assert body == {"to": "0912345678", "text": f"Vé {data['ticket']['display_number']}: "
                    "ông/bà là người tiếp theo. Xin ông/bà đến gần quầy."}
