"""Lobby kiosk rating end to end: keypad and QR reader, real server, real DB."""
from __future__ import annotations

import pytest

from kiosk.lobby_rating import parse_scan
from tests.conftest import artifact_path

from .rating_driver import set_office_setting
from .rating_support import ratings_rows, run_driver

pytestmark = pytest.mark.slow  # end to end (real processes, windows or a browser)


def test_parse_scan_accepts_status_urls_and_numbers():
    assert parse_scan("http://192.168.1.10:8080/t/AbC-12_xyz\n") == ("code", "AbC-12_xyz")
    assert parse_scan("1007") == ("number", "1007")
    assert parse_scan("a012") == ("number", "A012")
    assert parse_scan("") is None and parse_scan("hello world") is None


@pytest.mark.parametrize("size,host", [("1280x800", "stand-in"), ("800x1280", "real")])
def test_lobby_keypad_and_qr_ratings_are_stored_with_channel_kiosk(live_server, tmp_path, size,
                                                                   host):
    """``stand-in``: a minimal host honouring the contract; ``real``: kiosk.app's own app."""
    # Not about misuse: two ratings from one kiosk seconds apart must not be "too fast".
    set_office_setting(live_server.db_url.removeprefix("sqlite:///"),
                       "rating_min_interval_seconds", 0)
    staff = live_server.staff_token(1)
    data = run_driver("rating_lobby_driver.py", [
        "--server", live_server.url, "--token", live_server.token("kiosk"),
        "--staff-token", staff, "--shots", str(artifact_path("rating", "x").parent),
        "--data-dir", str(tmp_path / "kiosk-data"),
        "--counter-id", str(live_server.creds["counters"]["1"]),
        "--service-id", str(live_server.creds["services"]["HT"]), "--host", host],
        tmp_path, size)
    assert data.get("ok"), data.get("error")
    rows = ratings_rows(live_server)
    assert len(rows) == 3
    keypad = next(r for r in rows if r["ticket_code"] == data["keypad_code"])
    assert data["typed"] == keypad["display_number"]
    assert keypad["display_number"] in data["subtitle"]
    assert (keypad["channel"], keypad["level"], keypad["reasons"]) == ("kiosk", 1, '["resubmit"]')
    assert keypad["staff_id"] == live_server.creds["users"]["canbo1"]["id"]
    assert not keypad["misuse"]
    scanned = next(r for r in rows if r["ticket_code"] == data["scan_code"])
    assert (scanned["channel"], scanned["level"], scanned["misuse"]) == ("kiosk", 4, 0)
    typed = next(r for r in rows if r["ticket_code"] == data["keyboard_code"])
    assert (typed["channel"], typed["level"], typed["misuse"]) == ("kiosk", 3, 0)
    assert data["again"] == "Vé này đã được đánh giá. Xin cảm ơn!"
    assert data["again_screen"] == "rate_entry"
    assert data["unknown"] == ("Hôm nay không có vé nào với số và mã kiểm tra này. "
                               "Ông/bà vui lòng kiểm tra lại.")
    # Issue #15: the number alone (sequential) is no proof; the check code is asked for.
    assert data["check_prompt"].startswith(f"Vé số {keypad['display_number']}")
    assert data["wrong_check"] == data["unknown"] and data["wrong_check_screen"] == "rate_entry"
    assert data["waiting"] == "Vé này chưa được giải quyết xong."
