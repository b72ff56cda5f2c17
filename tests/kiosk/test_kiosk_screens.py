"""What the lobby kiosk says when something is missing or closed (real widgets, real server).

Each scenario runs ``kiosk_driver.py`` in its own process (see test_kiosk_app.py).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from kiosk import strings
from tests.conftest import LiveServer, free_port
from tests.kiosk.test_kiosk_app import SHOTS, _edit, _query, run_driver

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ICT = ZoneInfo("Asia/Ho_Chi_Minh")


def _kiosk_args(server_url: str, token: str, size: str) -> list[str]:
    return ["--server", server_url, "--token", token, "--windowed", "--size", size,
            "--printer", "dummy", "--priority-step", "off", "--refresh-seconds", "0.5"]


def _week(today: int, spans_by_offset: dict[int, list[list[str]]]) -> dict[str, list]:
    return {DAYS[(today + off) % 7]: spans for off, spans in spans_by_offset.items()} | {
        d: [] for i, d in enumerate(DAYS) if (i - today) % 7 not in spans_by_offset}


@pytest.mark.slow
@pytest.mark.parametrize("size", ["1024x600", "1080x1920"])
def test_home_states(live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     size: str) -> None:
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path / "kiosk-data"))
    monkeypatch.setenv("TZ", "UTC")  # the PC's own clock, as on a fresh Windows install
    services = _query(live_server, lambda s, m: {
        sv.code: sv.id for sv in s.scalars(select(m.Service))})
    hidden, hours_id = services["BHYT"], services["CT"]

    def notice_and_reorder() -> None:
        def fn(s: Any, m: Any) -> None:
            office = s.scalar(select(m.Office))
            office.settings = {**(office.settings or {}), "notice": "Chiều thứ Sáu nghỉ họp.",
                               "public_url": "http://192.168.1.10:8080",
                               "wifi_hint": "Wi-Fi: MotCua-Khach"}
            s.execute(delete(m.CounterService).where(m.CounterService.service_id == hidden))
            first, second = (s.get(m.Service, services[c]) for c in ("HT", "CT"))
            first.sort_order, second.sort_order = 50, -50
        _edit(live_server, fn)

    def service_hours() -> None:
        today = dt.datetime.now(ICT).weekday()

        def fn(s: Any, m: Any) -> None:
            office = s.scalar(select(m.Office))
            office.settings = {**(office.settings or {}), "enforce_hours": True}
            s.get(m.Service, hours_id).hours = _week(today, {1: [["07:00", "09:00"]]})
        _edit(live_server, fn)

    def no_counters() -> None:
        _edit(live_server, lambda s, m: s.execute(delete(m.CounterService)))

    def day_off() -> None:
        def fn(s: Any, m: Any) -> None:
            office = s.scalar(select(m.Office))
            office.timezone = "Asia/Tokyo"
            today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).weekday()
            office.opening_hours = _week(today, {1: [["07:00", "11:30"]]})
        _edit(live_server, fn)

    data = run_driver(tmp_path, "home_states", _kiosk_args(
        live_server.url, live_server.token("kiosk"), size),
        steps={"notice-and-reorder": notice_and_reorder, "service-hours": service_hours,
               "no-counters": no_counters, "day-off": day_off},
        extra={"expected_buttons": len(services) - 1})

    notice = data["notice"]
    # The instruction stays when a notice is set; the notice has its own line.
    assert notice["hint"] == "Chạm vào lĩnh vực cần giải quyết để lấy số thứ tự"
    assert notice["notice"] == "Chiều thứ Sáu nghỉ họp."
    assert notice["hint_visible"] and notice["notice_visible"]
    # The ticket's QR and Wi-Fi line follow the office settings, not the kiosk's own address.
    assert notice["phones"] == ["http://192.168.1.10:8080", "Wi-Fi: MotCua-Khach"]
    # A service no counter serves is not offered; the others keep their colours in a new order.
    assert str(hidden) not in notice["buttons"]
    assert notice["order"] != [i for i in data["order_before"] if i != hidden]
    for sid, colour in notice["buttons"].items():
        assert data["colours_before"][sid] == colour
    # A service closed by its own hours gives them, and when it takes tickets again.
    tomorrow = strings.day_name(DAYS[(dt.datetime.now(ICT).weekday() + 1) % 7])
    assert data["service_hours"] == {
        str(hours_id): f"Giờ cấp số: {tomorrow}: 07:00–09:00\nMở cửa lúc 07:00 ngày mai."}
    # No service with a counter: the kiosk says what is missing.
    assert data["no_services"] == {"title": "Máy lấy số chưa có lĩnh vực nào để cấp số.",
                                   "opacity": 1, "buttons": 0}
    # The office's day off: why, and when it opens.
    assert data["closed"] == {"title": "Hôm nay không làm việc.",
                              "next": "Mở cửa lúc 07:00 ngày mai."}
    # The zone the server gave is remembered in the data folder.
    assert json.loads(Path(data["zone_file"]).read_text())["timezone"] == "Asia/Tokyo"
    for name in ("home-notice", "home-service-hours", "home-no-services", "office-day-off"):
        assert (SHOTS / f"{name}-{size}.png").stat().st_size > 1000

    # Started again with no server: the clock is the office's (Tokyo), not the PC's UTC.
    offline = run_driver(tmp_path, "offline_start", _kiosk_args(
        f"http://127.0.0.1:{free_port()}", "any", size), steps={},
        extra={"zone": "Asia/Tokyo"})
    assert offline["clock"] in offline["expected"], offline
    utc = dt.datetime.now(dt.timezone.utc).strftime("%H:%M")
    assert offline["clock"] != utc
    ov = offline["overlay"]
    assert ov["opacity"] == 1 and ov["background_alpha"] == 1
    assert ov["title"] == "Máy lấy số tạm thời chưa hoạt động"
    assert "vui lòng đến quầy" in ov["text"]


def test_wrong_token_says_not_registered(live_server: LiveServer, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path / "kiosk-data"))
    data = run_driver(tmp_path, "bad_token", _kiosk_args(
        live_server.url, "not-a-token", "1024x600"), steps={})
    ov = data["overlay"]
    assert ov["opacity"] == 1 and ov["background_alpha"] == 1
    assert ov["title"] == "Máy lấy số này chưa được đăng ký"
    assert "mã thiết bị" in ov["text"] and ov["reconnect"] == ""


@pytest.mark.parametrize("local, title, again", [
    (dt.datetime(2026, 12, 7, 6, 30, tzinfo=ICT), "Chưa đến giờ làm việc.", "Mở cửa lúc 07:00."),
    (dt.datetime(2026, 12, 7, 12, 0, tzinfo=ICT), "Đang nghỉ trưa.", "Mở cửa lúc 13:30."),
    (dt.datetime(2026, 12, 7, 17, 30, tzinfo=ICT), "Đã hết giờ làm việc hôm nay.",
     "Mở cửa lúc 07:00 ngày mai."),
    (dt.datetime(2026, 12, 11, 18, 0, tzinfo=ICT), "Đã hết giờ làm việc hôm nay.",
     "Mở cửa lúc 07:00 Thứ Hai 14/12."),
    (dt.datetime(2026, 12, 12, 9, 0, tzinfo=ICT), "Hôm nay không làm việc.",
     "Mở cửa lúc 07:00 Thứ Hai 14/12."),
])
def test_closed_texts_say_why_and_when(local: dt.datetime, title: str, again: str) -> None:
    from counter_server.defaults import DEFAULT_HOURS

    assert strings.closed_texts(DEFAULT_HOURS, local) == (title, again)


def test_wait_text_never_says_zero_minutes() -> None:
    assert strings.wait_text(0) == "Không phải chờ"
    assert "0 phút" not in strings.wait_text(0)
